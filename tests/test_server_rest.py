"""rag.server REST routes in-process (FastAPI TestClient): shapes, auth, access, uploads, jobs, bad input."""

import json
import time

import pytest
from helpers_server import build_collections, make_client

from rag.access import AccessStore


@pytest.fixture()
def index(tmp_path):
    build_collections(tmp_path / "index")
    return tmp_path / "index"


def _wait_job(client, job_id, headers=None, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_search_returns_hits_with_provenance_and_scores(index):
    client = make_client(index)
    body = client.post("/api/search", json={"query": "how do solar panels make electricity", "k": 2}).json()
    top = body["hits"][0]
    assert top["path"] == "/kb/solar/panels.txt" and top["collection"] == "solar" and top["rank"] == 1
    assert top["text"].startswith("Solar panels") and top["start"] == 0 and top["end"] == len(top["text"])
    assert {"score", "dense_score", "bm25_score", "chunk_id", "page", "heading", "title"} <= set(top)


def test_ask_has_the_rag_ask_json_shape(index):
    client = make_client(index)
    data = client.post(
        "/api/ask", json={"question": "How do solar panels convert sunlight into electricity?"}
    )
    data = data.json()
    assert set(data) >= {"question", "query", "answer", "found", "generator", "sentences", "sources"}
    assert data["found"] and "[1]" in data["answer"]
    assert data["sources"][0]["path"] == "/kb/solar/panels.txt"


def test_health_status_documents_without_users_are_open_on_loopback(index):
    client = make_client(index)
    assert client.get("/api/health").json() == {"status": "ok"}
    status = client.get("/api/status").json()
    assert (
        status["auth"] is False
        and status["documents"] == 3
        and set(status["collections"]) == {"solar", "tea", "rust"}
    )
    docs = client.get("/api/documents", params={"collection": "tea"}).json()["documents"]
    assert [d["path"] for d in docs] == ["/kb/tea/green.md"]
    assert client.get("/openapi.json").json()["paths"]["/api/search"]


def test_once_a_user_exists_requests_need_a_live_key(index):
    access = AccessStore(index)
    access.add_user("ann")
    access.grant("ann", "tea", write=False)
    key = access.create_key("ann")
    client = make_client(index)
    assert client.get("/api/status").status_code == 401
    wrong = client.get("/api/status", headers={"Authorization": "Bearer dqk_nope_nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["hint"]
    ok = client.get("/api/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert ok == {"user": "ann", "admin": False, "read": ["tea"], "write": []}
    access.revoke_key(key.split("_")[1])
    assert client.get("/api/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_reader_sees_only_granted_collections_and_forbidden_looks_absent(index):
    access = AccessStore(index)
    access.add_user("ann")
    access.grant("ann", "tea", write=False)
    auth = {"Authorization": f"Bearer {access.create_key('ann')}"}
    client = make_client(index)
    hits = client.post(
        "/api/search", json={"query": "solar panels sunlight electricity"}, headers=auth
    ).json()["hits"]
    assert hits and {h["collection"] for h in hits} == {"tea"}
    forbidden = client.post("/api/search", json={"query": "solar", "collections": ["solar"]}, headers=auth)
    missing = client.post("/api/search", json={"query": "solar", "collections": ["nosuch"]}, headers=auth)
    assert forbidden.status_code == missing.status_code == 200 and forbidden.json() == missing.json()
    answer = client.post("/api/ask", json={"question": "How do solar panels convert sunlight?"}, headers=auth)
    assert "solar" not in json.dumps(answer.json()["sources"]).lower()
    status = client.get("/api/status", headers=auth).json()
    assert status["collections"] == {"tea": 1} and "index" not in status
    upload = client.post(
        "/api/documents", files={"files": ("a.txt", b"text")}, data={"collection": "tea"}, headers=auth
    )
    assert upload.status_code == 403
    gone = client.post("/api/documents/remove", json={"paths": ["/kb/solar/panels.txt"]}, headers=auth)
    absent = client.post("/api/documents/remove", json={"paths": ["/kb/none.txt"]}, headers=auth)
    assert gone.status_code == absent.status_code == 404 and "solar" in gone.json()["error"]["message"]


def test_uploads_become_searchable_and_jobs_show_per_file_results(index):
    client = make_client(index)
    files = [
        ("files", ("kettles.md", b"Electric kettles boil water with a heating element.")),
        ("files", ("notes.txt", b"Copper conducts heat better than steel.")),
        ("files", ("evil.exe", b"MZ")),
    ]
    response = client.post("/api/documents", files=files, data={"collection": "kitchen"})
    assert response.status_code == 202
    body = response.json()
    assert body["rejected"][0]["name"] == "evil.exe" and "cannot be indexed" in body["rejected"][0]["error"]
    job = _wait_job(client, body["job"]["id"])
    assert job["status"] == "done" and sorted(r["status"] for r in job["results"]) == ["added", "added"]
    assert job["files_done"] == 2 and job["chunks_embedded"] == 2
    hits = client.post(
        "/api/search", json={"query": "kettle heating element", "collections": ["kitchen"]}
    ).json()
    assert hits["hits"][0]["path"].endswith("uploads/kitchen/kettles.md")
    removed = client.post("/api/documents/remove", json={"paths": [hits["hits"][0]["path"]]}).json()
    assert removed["removed"] == 1
    again = client.post(
        "/api/search", json={"query": "kettle heating element", "collections": ["kitchen"]}
    ).json()
    assert all("kettles" not in h["path"] for h in again["hits"])


def test_a_second_upload_waits_for_the_first_instead_of_failing(index):
    client = make_client(index)
    big = ("\n\n".join(f"Paragraph {i} about windmills and grain." for i in range(300))).encode()
    first = client.post(
        "/api/documents", files={"files": ("mill.txt", big)}, data={"collection": "farm"}
    ).json()
    second = client.post(
        "/api/documents", files={"files": ("barn.txt", b"Barns store hay.")}, data={"collection": "farm"}
    )
    jobs = [_wait_job(client, first["job"]["id"]), _wait_job(client, second.json()["job"]["id"])]
    assert [j["status"] for j in jobs] == ["done", "done"] and jobs[1]["started_at"] >= jobs[0]["finished_at"]


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 422),
        ({"json": {"query": 5}}, 422),
        ({"json": {"query": "x", "k": "many"}}, 422),
        ({"json": {"query": "x", "surprise": 1}}, 422),
        ({"json": {"query": "q" * 100_000}}, 422),
        ({"content": b"x" * (2 * 2**20), "headers": {"Content-Type": "application/json"}}, 413),
    ],
)
def test_bad_input_gets_a_json_error(index, kwargs, status):
    client = make_client(index)
    response = client.post("/api/search", **kwargs)
    assert response.status_code == status
    assert response.json()["error"]["message"]
    assert client.post("/api/search", json={"query": "tea"}).status_code == 200  # still serving


def test_request_log_names_caller_route_and_status_but_no_text(index):
    client = make_client(index)
    client.post("/api/search", json={"query": "secretword tea", "collections": ["tea"]})
    lines = [json.loads(line) for line in (index / "logs" / "requests.log").read_text().splitlines()]
    entry = lines[-1]
    assert entry["user"] == "local" and entry["path"] == "/api/search" and entry["status"] == 200
    assert entry["collections"] == ["tea"] and entry["ms"] >= 0
    assert "secretword" not in (index / "logs" / "requests.log").read_text()


def test_a_server_without_an_index_says_so_and_an_upload_creates_it(tmp_path):
    index = tmp_path / "fresh"
    client = make_client(index)
    response = client.post("/api/search", json={"query": "tea"})
    assert response.status_code == 503 and "rag ingest" in response.json()["error"]["hint"]
    job = client.post("/api/documents", files={"files": ("t.txt", b"Oolong tea is partly oxidised.")}).json()[
        "job"
    ]
    assert _wait_job(client, job["id"])["status"] == "done"
    assert client.post("/api/search", json={"query": "oolong"}).json()["hits"][0]["collection"] == "default"


def test_chat_completions_bad_messages_get_json_errors(index):
    client = make_client(index)
    no_user = client.post(
        "/v1/chat/completions", json={"model": "docqa", "messages": [{"role": "system", "content": "x"}]}
    )
    huge = client.post(
        "/v1/chat/completions",
        json={"model": "docqa", "messages": [{"role": "user", "content": "q" * 100_000}]},
    )
    bad_role = client.post(
        "/v1/chat/completions", json={"model": "docqa", "messages": [{"role": "wizard", "content": "x"}]}
    )
    assert [no_user.status_code, huge.status_code, bad_role.status_code] == [400, 400, 422]
    assert "4000" in huge.json()["error"]["message"]


def test_an_upload_waits_while_another_process_holds_the_writer_lock(index):
    from ingest.lock import WriterLock

    client = make_client(index)
    with WriterLock(index):
        job = client.post("/api/documents", files={"files": ("w.txt", b"Windmills grind grain.")}).json()[
            "job"
        ]
        deadline = time.monotonic() + 10
        while client.get(f"/api/jobs/{job['id']}").json()["status"] != "waiting":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.post("/api/search", json={"query": "tea"}).status_code == 200  # reads go on meanwhile
    assert _wait_job(client, job["id"])["status"] == "done"


def test_a_chunked_body_over_the_limit_is_cut_off_with_413(index):
    client = make_client(index, max_body_bytes=1000)

    def body():
        yield b'{"query": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    response = client.post("/api/search", content=body(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "limit" in response.json()["error"]["message"]
