"""The team knowledge-base server: REST (`rest.py`) and OpenAI-compatible (`openai_api.py`),
built by `app.create_app` on FastAPI; access rules live in `service.py` and `rag.access`."""
