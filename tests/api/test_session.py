"""Password login for the web pages: the ``otm_session`` cookie, on every engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onthemove.access.users import add_user, disable_user
from onthemove.api import create_app
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.sources import ingest_file
from onthemove.store import open_store
from tests.helpers import MOVEMENTS, PCODES, write

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(store_location: str, tmp_path: Path) -> Iterator[TestClient]:
    with open_store(store_location) as store:
        load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
        ingest_file(store, write(tmp_path, "movements.csv", MOVEMENTS), kind="movements")
        add_user(store, "dm", "data_manager", password=PASSWORD)
        add_user(store, "vic", "viewer", password=PASSWORD)
        add_user(store, "gone", "analyst", password=PASSWORD)
        disable_user(store, "gone")
    with TestClient(create_app(store_location)) as c:
        yield c


def _audit(client: TestClient) -> list[tuple[Any, ...]]:
    with client.app.state.store_context.store() as store:  # type: ignore[attr-defined]
        return store.fetch(
            "SELECT actor, action, target, detail FROM audit_log WHERE action LIKE 'login%' ORDER BY seq"
        )


def _error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_login_sets_a_strict_httponly_cookie_that_authorises_the_api(client: TestClient) -> None:
    _error(client.get("/api/v1/batches"), 403, "forbidden")  # anonymous
    r = client.post("/api/v1/session", data={"username": "dm", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "username": "dm",
        "role": "data_manager",
        "scope": None,
        "can": {"upload": True, "rollback": True, "reports": True},
    }
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("otm_session=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
    assert r.cookies["otm_session"] not in ("", "dm")
    batches = client.get("/api/v1/batches")
    assert batches.status_code == 200
    assert "movements" in {b["kind"] for b in batches.json()}
    assert client.get("/api/v1/session").json()["username"] == "dm"


def test_login_accepts_json_and_tells_a_viewer_it_may_not_upload(client: TestClient) -> None:
    r = client.post("/api/v1/session", json={"username": "vic", "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["can"] == {"upload": False, "rollback": False, "reports": False}
    assert client.get("/api/v1/session").json()["can"] == {"upload": False, "rollback": False, "reports": False}
    _error(client.get("/api/v1/batches"), 403, "forbidden")  # the cookie carries the viewer's role, no more


def test_wrong_password_is_401_with_the_error_shape_and_both_attempts_are_audited(client: TestClient) -> None:
    bad = client.post("/api/v1/session", data={"username": "dm", "password": "wrong"})
    _error(bad, 401, "unauthorized")
    assert "otm_session" not in bad.headers.get("set-cookie", "")
    _error(client.post("/api/v1/session", data={"username": "gone", "password": PASSWORD}), 401, "unauthorized")
    _error(client.post("/api/v1/session", data={"username": "nobody", "password": PASSWORD}), 401, "unauthorized")
    _error(client.get("/api/v1/session"), 401, "unauthorized")
    assert client.post("/api/v1/session", data={"username": "dm", "password": PASSWORD}).status_code == 200
    assert _audit(client) == [
        ("dm", "login.failed", None, "{}"),
        ("gone", "login.failed", None, "{}"),
        ("nobody", "login.failed", None, "{}"),
        ("dm", "login", None, "{}"),
    ]


def test_missing_fields_are_refused(client: TestClient) -> None:
    _error(client.post("/api/v1/session", data={"username": "dm"}), 422, "invalid_request")
    _error(client.post("/api/v1/session", json=["dm", PASSWORD]), 422, "invalid_request")
    _error(
        client.post("/api/v1/session", content=b"x", headers={"content-type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    assert _audit(client) == []


def test_logout_ends_the_session(client: TestClient) -> None:
    client.post("/api/v1/session", data={"username": "dm", "password": PASSWORD})
    sid = client.cookies["otm_session"]
    out = client.delete("/api/v1/session")
    assert out.status_code == 204
    assert "otm_session" not in client.cookies
    _error(client.get("/api/v1/session"), 401, "unauthorized")
    _error(client.get("/api/v1/batches"), 403, "forbidden")
    # the old id is dead on the server too, not only forgotten by this client
    client.cookies.set("otm_session", sid)
    _error(client.get("/api/v1/batches"), 403, "forbidden")
    _error(client.get("/api/v1/session"), 401, "unauthorized")
    client.cookies.clear()
    assert client.delete("/api/v1/session").status_code == 204  # logging out twice is fine


def test_a_bearer_token_wins_over_the_cookie_and_a_bad_header_is_still_401(client: TestClient) -> None:
    client.post("/api/v1/session", data={"username": "dm", "password": PASSWORD})
    _error(client.get("/api/v1/batches", headers={"Authorization": "Basic abc"}), 401, "unauthorized")
    _error(client.get("/api/v1/batches", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")


def test_a_cross_site_upload_with_the_cookie_is_refused(client: TestClient) -> None:
    client.post("/api/v1/session", data={"username": "dm", "password": PASSWORD})
    files = {"file": ("m.csv", MOVEMENTS.encode(), "text/csv")}
    r = client.post(
        "/api/v1/batches", files=files, data={"kind": "movements"}, headers={"Origin": "https://evil.example"}
    )
    _error(r, 403, "forbidden")
    same = client.post(
        "/api/v1/batches", files=files, data={"kind": "movements"}, headers={"Origin": "http://testserver"}
    )
    assert same.status_code == 201, same.text


def test_a_session_outlives_a_restart_but_not_its_user_being_disabled(client: TestClient, store_location: str) -> None:
    client.post("/api/v1/session", data={"username": "dm", "password": PASSWORD})
    sid = client.cookies["otm_session"]
    client.app.state.store_context.close()  # type: ignore[attr-defined]
    with TestClient(create_app(store_location)) as restarted:  # a new process would see the same store
        restarted.cookies.set("otm_session", sid)
        assert restarted.get("/api/v1/session").json()["username"] == "dm"
        with restarted.app.state.store_context.store() as store:  # type: ignore[attr-defined]
            stored = [r[0] for r in store.fetch("SELECT session_hash FROM web_sessions")]
            assert sid not in stored and len(stored) == 1  # only a hash of the id is kept
            disable_user(store, "dm")
        _error(restarted.get("/api/v1/session"), 401, "unauthorized")
        _error(restarted.get("/api/v1/batches"), 403, "forbidden")


def test_an_expired_session_is_refused_and_logout_is_audited(client: TestClient) -> None:
    client.post("/api/v1/session", data={"username": "vic", "password": PASSWORD})
    assert client.delete("/api/v1/session").status_code == 204
    with client.app.state.store_context.store() as store:  # type: ignore[attr-defined]
        assert store.fetch("SELECT actor FROM audit_log WHERE action = 'logout'") == [("vic",)]
    client.post("/api/v1/session", data={"username": "vic", "password": PASSWORD})
    with client.app.state.store_context.store() as store:  # type: ignore[attr-defined]
        store.execute("UPDATE web_sessions SET expires_at = started_at - INTERVAL 1 SECOND")
    _error(client.get("/api/v1/session"), 401, "unauthorized")
