"""core.models: the one device choice and the one local-path test every model loader uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import RagError
from core.models import choose_device, looks_like_path


def test_device_choice():
    import torch

    assert choose_device("cpu") == "cpu"
    assert choose_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if torch.cuda.is_available():
        assert choose_device("cuda") == "cuda"
    else:
        with pytest.raises(RagError, match="no CUDA GPU"):
            choose_device("cuda")
    with pytest.raises(RagError, match="unknown device") as err:
        choose_device("tpu")
    assert "--device auto, cpu or cuda" in err.value.hint


def test_choosing_the_cpu_does_not_import_torch():
    import subprocess
    import sys

    script = "import sys; from core.models import choose_device; choose_device('cpu'); print('torch' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("spec", ["./model", "/abs/model", "~/model", "C:\\models\\x", "a/b/c"])
def test_paths(spec):
    assert looks_like_path(spec)


@pytest.mark.parametrize("spec", ["gpt2", "BAAI/bge-small-en-v1.5", "Qwen/Qwen2.5-0.5B-Instruct"])
def test_hub_ids(spec):
    assert not looks_like_path(spec)
