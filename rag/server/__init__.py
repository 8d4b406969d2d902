"""The team knowledge-base server: REST (`rest.py`), OpenAI-compatible (`openai_api.py`) and MCP over HTTP,
built by `app.create_app` on FastAPI; access rules live in `service.py` and `rag.access`."""
