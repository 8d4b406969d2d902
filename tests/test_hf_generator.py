"""The transformers generator with a tiny random Llama and a tokenizer trained in the test."""

import pytest
from helpers_llm import build_tiny_llm

from core.config import Settings
from core.errors import ModelNotFound
from core.types import Chunk, Source
from rag.citations import clean_markers
from rag.generators import load_generator
from rag.generators.hf import HFGenerator, pick_device


def make_source(n: int, text: str) -> Source:
    return Source(n, Chunk(f"c{n}", f"/docs/d{n}.md", f"/docs/d{n}.md", n, 0, len(text), text), 1.0 / n)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_llm(tmp_path_factory.mktemp("tiny-llm"), window=1024)


@pytest.fixture(scope="module")
def plain_model_dir(tmp_path_factory):
    return build_tiny_llm(tmp_path_factory.mktemp("tiny-llm-plain"), chat_template=False, window=1024)


def test_missing_model_directory_raises_model_not_found(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFound, match="no-such-model"):
        HFGenerator(str(missing)).load()


def test_unknown_hub_id_offline_raises_model_not_found(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound, match="nobody-org/no-such-model-xyz"):
        HFGenerator("nobody-org/no-such-model-xyz").load()


@pytest.mark.slow  # builds and loads a tiny model (~10 s on 2 cores)
def test_load_generator_parses_hf_spec(model_dir):
    generator = load_generator(f"hf:{model_dir}", Settings(max_new_tokens=7, temperature=0.0))
    assert isinstance(generator, HFGenerator)
    assert generator.name == f"hf:{model_dir}" and generator.max_new_tokens == 7


def test_cpu_without_gpu_uses_float32():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert pick_device("auto") == ("cpu", torch.float32)


@pytest.mark.slow  # builds and loads a tiny model (~10 s on 2 cores)
def test_chat_template_is_used_when_the_tokenizer_has_one(model_dir):
    generator = HFGenerator(str(model_dir), temperature=0.0, max_new_tokens=8)
    prompt = generator.render(
        generator.prepare("What is diffusion?", [make_source(1, "Diffusion adds noise.")]).messages
    )
    assert prompt.startswith("<s><|system|>") and prompt.endswith("<|assistant|>\n")
    assert "[1] d1.md, page 1\nDiffusion adds noise." in prompt


@pytest.mark.slow  # builds and loads a tiny model (~10 s on 2 cores)
def test_plain_prompt_without_a_chat_template(plain_model_dir):
    generator = HFGenerator(str(plain_model_dir), temperature=0.0, max_new_tokens=8)
    prompt = generator.render(
        generator.prepare("What is diffusion?", [make_source(1, "Diffusion adds noise.")]).messages
    )
    assert prompt.startswith("System: ") and prompt.endswith("Question: What is diffusion?\n\nAssistant:")
    assert "".join(generator.generate("What is diffusion?", [make_source(1, "Diffusion adds noise.")]))


@pytest.mark.slow  # builds and loads a tiny model (~10 s on 2 cores)
def test_streamed_deltas_match_greedy_generation(model_dir):
    import torch

    generator = HFGenerator(str(model_dir), temperature=0.0, max_new_tokens=40)
    sources = [make_source(1, "Diffusion models add Gaussian noise and learn to reverse it.")]
    deltas = list(generator.generate("How do diffusion models work?", sources))
    prompt = generator.render(generator.prepare("How do diffusion models work?", sources).messages)
    inputs = generator.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        output = generator.model.generate(**inputs, max_new_tokens=40, do_sample=False, pad_token_id=3)
    expected = generator.tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    assert len(deltas) >= 2
    assert "".join(deltas) == expected


@pytest.mark.slow  # builds and loads a tiny model (~10 s on 2 cores)
def test_context_budget_drops_lowest_ranked_sources_so_the_prompt_fits(model_dir):
    generator = HFGenerator(str(model_dir), temperature=0.0, max_new_tokens=64, context_tokens=700)
    long_text = "Diffusion models add Gaussian noise to images and learn to reverse the process. " * 2
    sources = [make_source(n, f"Source {n}. {long_text}") for n in range(1, 6)]
    history = [("Earlier question?", "Earlier answer.")]
    assert generator.count_tokens(generator.prepare("q", sources[:1], history).messages) < 700 - 64
    fitted = generator.prepare("How do diffusion models work?", sources, history)
    assert fitted.tokens <= 700 - 64
    kept = [s.n for s in fitted.sources]
    assert 1 <= len(kept) < 5 and kept == list(range(1, len(kept) + 1))
    assert fitted.history == history
    assert generator.count_tokens(fitted.messages) == fitted.tokens
    assert isinstance("".join(generator.generate("How do diffusion models work?", sources)), str)


@pytest.mark.slow  # builds and loads a tiny model (~10 s on 2 cores)
def test_prompt_that_cannot_fit_is_a_clear_error(model_dir):
    from core.errors import GeneratorUnavailable

    generator = HFGenerator(str(model_dir), temperature=0.0, max_new_tokens=8, context_tokens=40)
    with pytest.raises(GeneratorUnavailable, match="does not fit"):
        list(generator.generate("How do diffusion models work?", [make_source(1, "Diffusion adds noise.")]))


@pytest.mark.slow  # builds and loads a tiny model (~10 s on 2 cores)
def test_context_tokens_setting_overrides_the_model_window(model_dir):
    generator = HFGenerator(str(model_dir), temperature=0.0, max_new_tokens=500, context_tokens=200)
    assert generator.window() == 200 and generator.new_tokens() == 100
    assert HFGenerator(str(model_dir)).window() == 1024


@pytest.mark.slow  # builds and loads a tiny model (~10 s on 2 cores)
def test_engine_streams_a_tiny_llm_answer_and_checks_it(model_dir):
    from helpers_llm import make_fake_engine

    generator = load_generator(f"hf:{model_dir}", Settings(max_new_tokens=24, temperature=0.0))
    engine = make_fake_engine(generator)
    stream = engine.stream("How do solar panels convert sunlight into electricity?")
    deltas = list(stream)
    answer = stream.answer
    assert answer.generator == f"hf:{model_dir}"
    assert answer.text == clean_markers("".join(deltas).strip(), len(answer.sources))
    assert [s.n for s in answer.sources] == [1, 2] and answer.query == answer.question
