# The two commands a newcomer needs: `make run` (set up, index the sample corpus, answer, open the app)
# and `make test` (set up and run the whole test suite). CI runs `make test`.
PY := .venv/bin/python
RAG := .venv/bin/rag

.PHONY: setup setup-dev run demo test test-fast lint bench

setup:
	bash scripts/setup.sh
	bash scripts/install_tesseract.sh

setup-dev:
	bash scripts/setup.sh dev
	bash scripts/install_chromium.sh
	bash scripts/install_tesseract.sh

run: setup
	$(RAG) ingest data/sample
	$(RAG) ask "How does a diffusion model generate an image?"
	$(RAG) ui

demo: setup
	$(RAG) ingest data/sample
	$(RAG) ask "How does a diffusion model generate an image?"

test: setup-dev
	$(PY) -m pytest

test-fast: 
	$(PY) -m pytest -m "not slow and not browser"

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	bash scripts/setup.sh bench
	$(PY) bench/ingest.py
	$(PY) bench/retrieval.py
