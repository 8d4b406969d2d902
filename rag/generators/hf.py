"""A local Hugging Face causal LM as generator: any model id in the local cache, or a model directory.

The model loads on first use (offline), on CUDA in bf16/fp16 when there is a GPU and on the CPU in fp32
otherwise. The prompt goes through the tokenizer's chat template when it has one, and is fitted into the
model's window minus `max_new_tokens`. Tokens stream from `model.generate` running in a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from core.config import Settings
from core.errors import GeneratorUnavailable, ModelNotFound
from core.models import choose_device, looks_like_path
from core.types import Source
from rag.generators.base import History, Message
from rag.prompt import FittedPrompt, fit_prompt

_FALLBACK_WINDOW = 2048
_WINDOW_ATTRIBUTES = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length")


def pick_device(requested: str = "auto") -> tuple[str, object]:
    """(device, dtype): CUDA with bf16 (fp16 on older GPUs) when available, else CPU with fp32."""
    import torch

    device = choose_device(requested)
    if device == "cpu":
        return device, torch.float32
    return device, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


class HFGenerator:
    """Generator backed by a transformers causal LM, loaded lazily and once."""

    def __init__(
        self,
        model_id: str,
        device: str = Settings.device,
        max_new_tokens: int = Settings.max_new_tokens,
        temperature: float = Settings.temperature,
        context_tokens: int = Settings.context_tokens,
    ):
        self.model_id = model_id
        self.name = f"hf:{model_id}"
        self.device_request = device
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.context_tokens = context_tokens  # 0 = the model's own window
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()

    # --- loading -------------------------------------------------------------------------------------
    def load(self) -> None:
        """Load tokenizer and model (once); a missing model raises ModelNotFound."""
        with self._lock:
            if self._model is None:
                self._tokenizer, self._model = self._load()

    def _load(self):
        path = Path(self.model_id).expanduser()
        if not path.is_dir() and looks_like_path(self.model_id):
            raise ModelNotFound(
                f"model directory {path} does not exist", "pass hf:PATH of a saved model or hf:MODEL_ID"
            )
        source = str(path) if path.is_dir() else self.model_id
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device, dtype = pick_device(self.device_request)
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(source, local_files_only=True, dtype=dtype)
        except (OSError, ValueError) as err:
            raise ModelNotFound(
                f"cannot load the language model {self.model_id} offline: {str(err).splitlines()[0]}",
                f"download it once (huggingface-cli download {self.model_id}) or pass a local directory",
            ) from err
        return tokenizer, model.to(device).eval()

    @property
    def tokenizer(self):
        """The model's tokenizer (loads the model on first use)."""
        self.load()
        return self._tokenizer

    @property
    def model(self):
        """The causal LM, on its device and in eval mode (loads on first use)."""
        self.load()
        return self._model

    # --- prompt ----------------------------------------------------------------------------------------
    def window(self) -> int:
        """Tokens the model can attend to: `context_tokens` when set, else the model's own limit."""
        if self.context_tokens > 0:
            return self.context_tokens
        for attribute in _WINDOW_ATTRIBUTES:
            value = getattr(self.model.config, attribute, None)
            if isinstance(value, int) and value > 0:
                return value
        limit = getattr(self.tokenizer, "model_max_length", 0)
        return limit if 0 < limit < 1_000_000 else _FALLBACK_WINDOW

    def new_tokens(self) -> int:
        """max_new_tokens, capped at half the window so that a prompt always has room."""
        return min(self.max_new_tokens, self.window() // 2)

    def render(self, messages: list[Message]) -> str:
        """The prompt text: the chat template when the tokenizer has one, a plain transcript otherwise."""
        if getattr(self.tokenizer, "chat_template", None):
            try:
                return self.tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, tokenize=False
                )
            except (
                Exception
            ):  # templates without a system role (e.g. Gemma) reject it: fold it into the user turn
                return self.tokenizer.apply_chat_template(
                    _fold_system(messages), add_generation_prompt=True, tokenize=False
                )
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
        return "\n\n".join(lines) + "\n\nAssistant:"

    def count_tokens(self, messages: list[Message]) -> int:
        """Prompt length in the model's tokens."""
        return len(self._encode(self.render(messages))["input_ids"][0])

    def prepare(self, question: str, sources: Sequence[Source], history: History = ()) -> FittedPrompt:
        """The prompt for this question, fitted into window - new tokens."""
        budget = self.window() - self.new_tokens()
        return fit_prompt(question, sources, history, self.count_tokens, budget)

    def _encode(self, prompt: str):
        templated = bool(getattr(self.tokenizer, "chat_template", None))
        return self.tokenizer(prompt, return_tensors="pt", add_special_tokens=not templated)

    # --- generation ------------------------------------------------------------------------------------
    def generate(self, question: str, sources: Sequence[Source], history: History = ()) -> Iterator[str]:
        """Stream the model's answer to the fitted prompt."""
        yield from self.chat(self.prepare(question, sources, history).messages)

    def chat(self, messages: list[Message], max_new_tokens: int | None = None) -> Iterator[str]:
        """Stream the reply to `messages`, token by token, from a worker thread."""
        from transformers import TextIteratorStreamer

        inputs = self._encode(self.render(messages)).to(self.model.device)
        room = self.window() - inputs["input_ids"].shape[1]  # tokens left for the answer
        if room < 16:
            raise GeneratorUnavailable(
                f"the prompt ({inputs['input_ids'].shape[1]} tokens) does not fit {self.name}'s window of "
                f"{self.window()} tokens",
                "use a model with a longer context or raise RAG_CONTEXT_TOKENS",
            )
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        failures: list[BaseException] = []
        sampling = self._sampling(min(max_new_tokens or self.new_tokens(), room))
        kwargs = dict(inputs, streamer=streamer, **sampling)

        def run() -> None:
            """Generate in the worker thread; a failure ends the stream and is re-raised below."""
            try:
                self.model.generate(**kwargs)
            except BaseException as err:  # surfaced in the caller's thread below
                failures.append(err)
                streamer.end()

        worker = threading.Thread(target=run, name="hf-generate", daemon=True)
        worker.start()
        yield from (delta for delta in streamer if delta)
        worker.join()
        if failures:
            raise GeneratorUnavailable(f"{self.name} failed while generating: {failures[0]}", "see the log")

    def _sampling(self, max_new_tokens: int) -> dict:
        tokenizer = self.tokenizer
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        settings = {"max_new_tokens": max_new_tokens, "pad_token_id": pad}
        if self.temperature > 0:
            settings.update(do_sample=True, temperature=self.temperature, top_p=0.95)
        else:
            settings.update(do_sample=False)
        return settings


def _fold_system(messages: list[Message]) -> list[Message]:
    """Messages with the system prompt prepended to the first user turn."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system and rest:
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    return rest
