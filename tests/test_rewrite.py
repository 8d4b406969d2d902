"""Follow-up questions rewritten into standalone queries (rule and chat model)."""

import pytest

from core.errors import GeneratorUnavailable
from rag.rewrite import is_follow_up, key_phrases, rewrite_query, rule_rewrite

HISTORY = [("How does a diffusion model generate images?", "It removes noise step by step [1].")]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How is it trained?", True),
        ("What about GANs?", True),
        ("And the decoder?", True),
        ("Why?", True),
        ("Which loss do they use?", True),
        ("What is a variational autoencoder?", False),
        ("How does a GAN discriminator learn to spot fakes?", False),
        ("它是如何训练的？", True),
        ("那生成对抗网络呢？", True),
        ("扩散模型如何生成图像？", False),
    ],
)
def test_is_follow_up(question, expected):
    assert is_follow_up(question) is expected


def test_key_phrases_are_runs_of_content_words():
    assert key_phrases("How does a diffusion model generate images?") == ["diffusion model generate images"]
    assert key_phrases("What is the difference between a VAE and a GAN?") == ["VAE", "GAN"]
    assert key_phrases("扩散模型如何生成图像？") == ["扩散模型", "生成图像"]
    assert key_phrases("Who introduced the variational autoencoder?") == ["variational autoencoder"]
    assert key_phrases("Who proposed WaveNet?") == ["WaveNet"]


def test_rule_appends_previous_key_phrases_to_a_follow_up():
    assert (
        rule_rewrite("How is it trained?", HISTORY) == "How is it trained? (diffusion model generate images)"
    )
    assert (
        rewrite_query("What is a variational autoencoder?", HISTORY) == "What is a variational autoencoder?"
    )
    assert rewrite_query("How is it trained?", []) == "How is it trained?"


def test_rule_walks_back_through_chained_follow_ups_to_the_last_standalone_question():
    history = HISTORY + [("What about GANs?", "GANs use a discriminator [2].")]
    assert rule_rewrite("How are they trained?", history) == (
        "How are they trained? (GANs, diffusion model generate images)"
    )


def test_chinese_follow_up():
    history = [("扩散模型如何生成图像？", "扩散模型逐步去噪[1]。")]
    assert rewrite_query("它是如何训练的？", history) == "它是如何训练的？ (扩散模型，生成图像)"


class FakeChat:
    def __init__(self, reply=None, error=None):
        self.reply, self.error, self.seen = reply, error, []

    def chat(self, messages, max_new_tokens=None):
        self.seen.append(messages)
        if self.error:
            raise self.error
        yield from self.reply


def test_chat_model_rewrites_when_configured():
    chat = FakeChat(reply=["Standalone question: ", "How is a diffusion model trained?\n", "extra line"])
    assert rewrite_query("How is it trained?", HISTORY, chat) == "How is a diffusion model trained?"
    prompt = chat.seen[0][-1]["content"]
    assert "How does a diffusion model generate images?" in prompt and "[1]" not in prompt


def test_falls_back_to_the_rule_when_the_chat_model_fails_or_says_nothing():
    down = FakeChat(error=GeneratorUnavailable("cannot reach the LLM server"))
    assert rewrite_query("How is it trained?", HISTORY, down) == rule_rewrite("How is it trained?", HISTORY)
    assert rewrite_query("How is it trained?", HISTORY, FakeChat(reply=["  \n"])) == rule_rewrite(
        "How is it trained?", HISTORY
    )
