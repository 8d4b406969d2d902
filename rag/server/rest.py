"""REST routes under /api: search, ask, documents (list, upload, remove), jobs, status, health, me.

Every route but /api/health needs the caller (rag.server.auth.caller) and reads only their collections.
Route functions are plain `def`: FastAPI runs them on its thread pool, so a slow answer never blocks others.
JSON keys are documented in README.md ("Serving a team").
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from core.errors import DocumentError, RagError
from ingest.uploads import check_upload_size, save_upload, upload_dir
from rag.access import check_name
from rag.server.auth import Caller
from rag.server.service import NotFound, hit_to_dict

MAX_QUESTION_CHARS = 4000  # a question or query; ~600 words, far beyond any real one, far below a DoS
MAX_HISTORY_TURNS = 50
MAX_FILES = 100  # per upload
REMOVE_WAIT_S = 120  # a remove answers once done (it waits behind running ingest jobs up to this long)
UPLOAD_PATH = "/api/documents"  # where the larger upload body limit applies

router = APIRouter(prefix="/api")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchRequest(_Strict):
    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int = Field(5, ge=1, le=50)
    mode: Literal["hybrid", "dense", "bm25"] | None = None
    collections: list[str] = Field(default_factory=list, max_length=100)
    path_glob: str = Field("", max_length=500)
    file_types: list[str] = Field(default_factory=list, max_length=20)


class Turn(_Strict):
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    answer: str = Field(max_length=20 * MAX_QUESTION_CHARS)


class AskRequest(_Strict):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    history: list[Turn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS)
    collections: list[str] = Field(default_factory=list, max_length=100)


class RemoveRequest(_Strict):
    paths: list[str] = Field(min_length=1, max_length=1000)


def _scope(request: Request, collections) -> None:
    request.state.collections = sorted(collections) or "readable"


@router.get("/health")
def health() -> dict:
    """Liveness: answers without a key and without touching the index."""
    return {"status": "ok"}


@router.get("/me")
def me(who: Caller) -> dict:
    """The caller and their grants."""
    return {"user": who.name, "admin": who.admin, "read": sorted(who.readable), "write": sorted(who.writable)}


@router.get("/status")
def status(request: Request, who: Caller) -> dict:
    """Counts over the caller's collections (admins also get `index`, the whole `rag status --json`)."""
    return request.app.state.kb.status(who)


@router.post("/search")
def search(body: SearchRequest, request: Request, who: Caller) -> dict:
    """The k best passages among the caller's collections, with provenance and scores."""
    _scope(request, body.collections)
    hits = request.app.state.kb.search(
        who, body.query, body.k, body.mode, body.collections, body.path_glob, body.file_types
    )
    return {"query": body.query, "hits": [hit_to_dict(i, h) for i, h in enumerate(hits, start=1)]}


@router.post("/ask")
def ask(body: AskRequest, request: Request, who: Caller) -> dict:
    """The checked answer, in the `rag ask --json` shape."""
    _scope(request, body.collections)
    history = [(t.question, t.answer) for t in body.history]
    return request.app.state.kb.ask(who, body.question, history, body.collections).to_dict()


@router.get("/documents")
def documents(request: Request, who: Caller, collection: str = "") -> dict:
    """The documents the caller may read, optionally in one collection."""
    _scope(request, [collection] if collection else [])
    return {"documents": request.app.state.kb.documents(who, collection)}


@router.post("/documents", status_code=202)
def upload(
    request: Request,
    who: Caller,
    files: Annotated[list[UploadFile], File(description="one or many files")],
    collection: Annotated[str, Form()] = "default",
):
    """Save the files and queue an ingest job into `collection` (needs write access); 202 with the job."""
    kb = request.app.state.kb
    check_name(collection, "collection name")
    _scope(request, [collection])
    kb.require_write(who, collection)
    if len(files) > MAX_FILES:
        raise RagError(
            f"{len(files)} files in one upload; the limit is {MAX_FILES}", "upload them in batches"
        )
    folder = upload_dir(kb.settings.index_dir) / collection
    saved, rejected = [], []
    for item in files:
        name = item.filename or ""
        try:
            data = item.file.read()
            check_upload_size(name, len(data), kb.settings.max_file_mb)
            saved.append(str(save_upload(folder, name, data)))
        except DocumentError as err:
            rejected.append({"name": name, "error": f"{err.problem}; {err.hint}"})
    if not saved:
        body = {"error": {"type": "no_readable_files", "message": "no file could be accepted", "hint": ""}}
        return JSONResponse(body | {"rejected": rejected}, 400)
    job = kb.jobs.submit_ingest(who.name, collection, saved)
    return {"job": job.to_dict(), "rejected": rejected}


@router.post("/documents/remove")
def remove(body: RemoveRequest, request: Request, who: Caller) -> dict:
    """Remove indexed files (write access to each one's collection); waits for the writer, then answers."""
    kb = request.app.state.kb
    targets = [str(Path(p)) for p in body.paths]
    visible = {p: kb.indexed_collection(who, p) for p in targets}
    missing = sorted(p for p, c in visible.items() if c is None)
    if missing:  # unknown and unreadable paths look alike
        raise NotFound(f"not indexed: {', '.join(missing[:5])}", "list documents with GET /api/documents")
    for collection in sorted(set(visible.values())):
        kb.require_write(who, collection)
    _scope(request, set(visible.values()))
    job = kb.jobs.submit_remove(who.name, ",".join(sorted(set(visible.values()))), targets)
    job.done.wait(REMOVE_WAIT_S)
    return {"removed": job.removed, "job": job.to_dict()}


@router.get("/jobs")
def jobs(request: Request, who: Caller) -> dict:
    """The caller's jobs (an admin's: all), newest first."""
    listed = request.app.state.kb.jobs.list()
    return {"jobs": [j.to_dict() for j in listed if who.admin or j.owner == who.name]}


@router.get("/jobs/{job_id}")
def job(job_id: str, request: Request, who: Caller) -> dict:
    """One job: status, progress, per-file results and errors."""
    found = request.app.state.kb.jobs.get(job_id)
    if found is None or not (who.admin or found.owner == who.name):
        raise NotFound(f"no job {job_id!r}", "list your jobs with GET /api/jobs")
    return found.to_dict()
