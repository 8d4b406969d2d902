"""Keyword tokens for BM25, for English and Chinese text alike.

Latin-script text: NFKC, lowercase, word tokens of letters and digits, English stopwords dropped, Snowball
stemming (PyStemmer). Chinese text: jieba words plus overlapping character bigrams, so that a query segmented
differently from the document still shares tokens with it. The token scheme is named by `TOKENIZER_VERSION`,
which the BM25 index stores so that a change of scheme forces a rebuild.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_CHINESE, STOPWORDS_EN

from core.cjk import LETTERS as _CJK

TOKENIZER_VERSION = "en-snowball+zh-jieba-bigram/1"

# CJK ideographs, kana and hangul are written without spaces; everything else splits on non-word characters.
_TOKEN_RE = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
_EN_STOP = frozenset(STOPWORDS_EN)
_ZH_STOP = frozenset(STOPWORDS_CHINESE)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: Snowball stemmers compiled to C

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it prints its dictionary loading time otherwise
    return jieba


@lru_cache(maxsize=500_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def _latin_tokens(word: str) -> list[str]:
    return [] if word in _EN_STOP else [_stem(word)]


def _cjk_tokens(run: str) -> list[str]:
    words = [w for w in _jieba().lcut(run) if w.strip() and w not in _ZH_STOP]
    bigrams = [run[i : i + 2] for i in range(len(run) - 1)]
    return words + bigrams


def tokenize(text: str) -> list[str]:
    """Keyword tokens of one text (query or passage), in reading order."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    for cjk, word in _TOKEN_RE.findall(text):
        tokens.extend(_cjk_tokens(cjk) if cjk else _latin_tokens(word))
    return tokens
