"""Access control through every read endpoint: random users x collections x questions leak nothing.

Each collection's passages carry a marker word of their own (and its path and title carry the collection
name), so any leaked text, path or title from a forbidden collection shows up as its marker in the response.
"""

import json
import random

import pytest
from fastapi.testclient import TestClient
from helpers_index import FakeEmbedder
from helpers_server import build_collections, make_kb

from rag.access import AccessStore
from rag.server.app import ServeOptions, create_app

TOPICS = ["solar", "tea", "rust", "jazz", "moss", "kite", "opal", "fern", "lynx", "dune"]


def _corpus():
    return {
        t: {
            f"/kb/{t}/{t}-{i}.txt": [f"{t}marker passage {i} about {t} and shared words like energy water"]
            for i in range(4)
        }
        for t in TOPICS
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    index = tmp_path_factory.mktemp("acl") / "index"
    build_collections(index, _corpus())
    access, rng, users = AccessStore(index), random.Random(12), {}
    for n in range(6):
        name, readable = f"user{n}", set(rng.sample(TOPICS, rng.randint(0, 3)))
        access.add_user(name)
        for t in readable:
            access.grant(name, t, write=rng.random() < 0.5)
        users[name] = (access.create_key(name), readable)
    kb = make_kb(index)
    client = TestClient(create_app(kb, ServeOptions(log_file=str(index / "logs" / "r.log"))))
    return client, users


def _reads(client, auth, question, scope):
    """Every read endpoint, scoped and not; their JSON bodies as one text."""
    bodies = [
        client.post("/api/search", json={"query": question, "k": 8}, headers=auth),
        client.post("/api/search", json={"query": question, "collections": [scope]}, headers=auth),
        client.post("/api/ask", json={"question": question}, headers=auth),
        client.post("/api/ask", json={"question": question, "collections": [scope]}, headers=auth),
        client.get("/api/documents", headers=auth),
        client.get("/api/documents", params={"collection": scope}, headers=auth),
        client.get("/api/status", headers=auth),
        client.get("/v1/models", headers=auth),
        client.post(
            "/v1/chat/completions",
            json={"model": "docqa", "messages": [{"role": "user", "content": question}]},
            headers=auth,
        ),
        client.post(
            "/v1/chat/completions",
            json={"model": f"docqa/{scope}", "messages": [{"role": "user", "content": question}]},
            headers=auth,
        ),
        client.post(
            "/v1/chat/completions",
            json={"model": "docqa", "stream": True, "messages": [{"role": "user", "content": question}]},
            headers=auth,
        ),
    ]
    return bodies, "\n".join(b.text for b in bodies)


def test_random_users_and_questions_never_see_a_forbidden_collection(server):
    client, users = server
    rng = random.Random(7)
    for _ in range(40):
        name = rng.choice(sorted(users))
        key, readable = users[name]
        target = rng.choice(TOPICS)  # the question's best answer lies in `target`, readable or not
        question = f"what does the {target}marker passage say about {target} energy?"
        bodies, text = _reads(client, {"Authorization": f"Bearer {key}"}, question, target)
        assert all(b.status_code in (200, 404) for b in bodies), [b.text for b in bodies]
        # the request is echoed back (`question`, `query`, the model asked for); it names the target
        text = text.replace(question, "").replace(f"docqa/{target}", "")
        for topic in set(TOPICS) - readable:
            assert topic not in text.lower(), (name, topic)
        if target in readable:
            assert f"{target}marker" in text  # a reader does get their own collection
        forbidden, missing = (
            _reads(client, {"Authorization": f"Bearer {key}"}, question, "nosuchcoll")[0],
            bodies,
        )
        if target not in readable:  # a forbidden scope answers exactly like a collection that does not exist
            assert [b.status_code for b in forbidden] == [b.status_code for b in missing]


def test_a_reader_of_one_collection_in_ten_still_gets_k_results(tmp_path):
    corpus = {
        t: {f"/kb/{t}/{t}-{i}.txt": [f"energy water passage {i} of {t}"] for i in range(12)} for t in TOPICS
    }
    index = tmp_path / "index"
    build_collections(index, corpus, FakeEmbedder())
    access = AccessStore(index)
    access.add_user("solo")
    access.grant("solo", "moss", write=False)
    auth = {"Authorization": f"Bearer {access.create_key('solo')}"}
    client = TestClient(create_app(make_kb(index), ServeOptions(log_file=str(tmp_path / "r.log"))))
    for mode in ("dense", "bm25", "hybrid"):
        hits = client.post(
            "/api/search", json={"query": "energy water passage", "k": 10, "mode": mode}, headers=auth
        )
        hits = hits.json()["hits"]
        assert len(hits) == 10 and {h["collection"] for h in hits} == {"moss"}, mode


def test_forbidden_and_unknown_models_get_the_same_404(server):
    client, users = server
    name = next(n for n, (_, r) in users.items() if set(TOPICS) - r)
    key, readable = users[name]
    forbidden = sorted(set(TOPICS) - readable)[0]
    auth = {"Authorization": f"Bearer {key}"}
    bodies = [
        client.post(
            "/v1/chat/completions",
            json={"model": m, "messages": [{"role": "user", "content": "hi"}]},
            headers=auth,
        )
        for m in (f"docqa/{forbidden}", "docqa/nosuch")
    ]
    assert [b.status_code for b in bodies] == [404, 404]
    assert json.loads(bodies[0].text.replace(forbidden, "X")) == json.loads(
        bodies[1].text.replace("nosuch", "X")
    )
