"""Suite-wide settings: everything runs offline, on CPU, with no telemetry."""

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
# exported ONNX graphs go to a fresh folder per run, so the suite exercises the export and leaves $HOME alone
os.environ.setdefault("RAG_CACHE_DIR", tempfile.mkdtemp(prefix="docqa-test-cache-"))
