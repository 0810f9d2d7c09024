"""The server's result cache answers repeated aggregates, and never after the data changed."""

from __future__ import annotations

from onthemove.api.context import ResultCache
from tests.api.conftest import Api
from tests.helpers import MOVEMENTS


def _total(api: Api, who: str = "analyst") -> int:
    body = api.get("/api/v1/totals/movements", who).json()
    return sum(r["count"] or 0 for r in body["rows"])


def test_repeats_are_cached_and_every_change_of_the_data_is_seen(api: Api) -> None:
    cache = api.client.app.state.store_context.cache  # type: ignore[attr-defined]
    assert _total(api) == 318
    hits = cache.hits
    assert _total(api) == 318
    assert cache.hits == hits + 1  # the second ask did not touch the data
    assert api.post(f"/api/v1/batches/{api.batch_id}/rollback", "data_manager").status_code == 200
    assert _total(api) == 0  # a rollback is seen at once
    files = {"file": ("again.csv", MOVEMENTS.encode(), "text/csv")}
    assert api.post("/api/v1/batches", "data_manager", files=files, data={"kind": "movements"}).status_code == 201
    assert _total(api) == 318  # and so is loading the same file again
    more = MOVEMENTS.replace("2024-", "2023-")
    files = {"file": ("older.csv", more.encode(), "text/csv")}
    assert api.post("/api/v1/batches", "data_manager", files=files, data={"kind": "movements"}).status_code == 201
    stored = api.fetch("SELECT sum(count) FROM movements")[0][0]
    assert stored > 318 and _total(api) == stored


def test_redacted_and_full_answers_are_cached_apart(api: Api) -> None:
    full = api.get("/api/v1/totals/movements?by=adm2", "analyst").json()
    redacted = api.get("/api/v1/totals/movements?by=adm2").json()
    again = api.get("/api/v1/totals/movements?by=adm2", "analyst").json()
    assert full == again and not full["redacted"]
    assert redacted["redacted"] and not full["redacted"]
    assert api.get("/api/v1/totals/movements?by=adm2").json() == redacted


def test_a_cache_of_size_zero_computes_every_time_and_the_oldest_entry_goes_first() -> None:
    calls: list[int] = []
    off = ResultCache(0)
    assert [off.get(1, "k", lambda: calls.append(1) or len(calls)) for _ in range(3)] == [1, 2, 3]
    small = ResultCache(2)
    small.get(1, "a", lambda: "A")
    small.get(1, "b", lambda: "B")
    small.get(1, "c", lambda: "C")  # evicts a
    assert small.get(1, "a", lambda: "A2") == "A2"
    assert small.get(2, "c", lambda: "C2") == "C2"  # a new data version drops everything
