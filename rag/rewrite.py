"""Follow-up questions become standalone retrieval queries.

A question that leans on the conversation (a pronoun, "what about ...", an ellipsis such as "Why?") is
rewritten: by the chat model when the generator has one, otherwise by a rule that appends the key noun phrases
(runs of content words) of the earlier questions it refers back to.
"""

from __future__ import annotations

import re

from core.cjk import is_chinese
from core.errors import RagError
from rag.generators.base import ChatModel, History
from rag.prompt import build_rewrite_messages

_PRONOUNS = frozenset(
    "it its it's itself they them their theirs themselves this that these those he him his she her such one ones"
    " former latter".split()
)
_FOLLOW_UP_OPENERS = ("and ", "what about", "how about", "also ", "but ", "so ", "then ", "why not", "same ")
_ZH_PRONOUNS = ("它", "其", "这", "那", "他", "她", "该", "此", "上述", "前者", "后者")
_ZH_OPENERS = ("那", "还有", "另外", "那么", "而", "为什么")
_QUESTION_WORDS = frozenset(
    """a an the and or but of to in on at by for with from as is are was were be been being do does did can could
    may might must should will would what which who whom whose when where why how not no about than then that this
    these those it its they them their there here please tell me explain describe give list show mean means
    work works happen happens used use uses difference between compare versus vs also more some any many much
    i you we your our my he she his her such one ones same other introduce introduced propose proposed invent
    invented create created develop developed publish published describe described mentioned""".split()
)
_ZH_FUNCTION_RE = re.compile(
    r"什么|怎么样|怎么|如何|为什么|哪些|哪个|哪里|是否|能否|请问|请|介绍一下|介绍|一下|解释|说明|"
    r"它们|它|其|这个|那个|这些|那些|还有|另外|那么|是|的|吗|呢|了|和|与|及|有|在|[？?。！!，,、\s]"
)
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")


def is_follow_up(question: str) -> bool:
    """True when the question cannot stand alone: a pronoun, a follow-up opener, or a bare ellipsis."""
    text = question.strip().lower()
    if is_chinese(question):
        return text.startswith(_ZH_OPENERS) or any(p in text for p in _ZH_PRONOUNS) or len(text) <= 4
    words = _WORD_RE.findall(text)
    return len(words) <= 2 or text.startswith(_FOLLOW_UP_OPENERS) or any(w in _PRONOUNS for w in words)


def key_phrases(question: str) -> list[str]:
    """Runs of content words in a question: "How is a diffusion model trained?" -> ["diffusion model trained"]."""
    if is_chinese(question):
        return [part for part in _ZH_FUNCTION_RE.split(question) if len(part) >= 2]
    phrases, run = [], []
    for word in [*_WORD_RE.findall(question), "?"]:  # "?" closes the last run
        if word.lower().strip("'’") in _QUESTION_WORDS or word == "?":
            if run and not (len(run) == 1 and run[0].lower().endswith("ed")):  # a lone past-tense verb
                phrases.append(" ".join(run))
            run = []
        else:
            run.append(word)
    return phrases


def rule_rewrite(question: str, history: History) -> str:
    """Append the key phrases of the questions the follow-up refers back to (up to the last standalone one)."""
    phrases: list[str] = []
    for asked, _ in reversed(list(history)):
        phrases.extend(
            p for p in key_phrases(asked) if p.lower() not in question.lower() and p not in phrases
        )
        if not is_follow_up(asked):
            break
    if not phrases:
        return question
    joiner = "，" if is_chinese(question) else ", "
    return f"{question.strip()} ({joiner.join(phrases[:4])})"


def rewrite_query(question: str, history: History, chat_model=None) -> str:
    """The standalone query to retrieve with; the question itself when it needs no rewriting."""
    if not history or not is_follow_up(question):
        return question
    if isinstance(chat_model, ChatModel):
        rewritten = _llm_rewrite(question, history, chat_model)
        if rewritten:
            return rewritten
    return rule_rewrite(question, history)


def _llm_rewrite(question: str, history: History, chat_model) -> str:
    try:
        reply = "".join(chat_model.chat(build_rewrite_messages(question, list(history)), max_new_tokens=64))
    except RagError:
        return ""  # the rule still gives a usable query; the answer step will report a dead server
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    candidate = re.sub(r"^(standalone question|question)\s*[:：]\s*", "", lines[0], flags=re.I).strip(
        " \"'“”"
    )
    return candidate if 3 <= len(candidate) <= 300 else ""
