"""An API over a small store (places, one batch of movements, a user per role) on every engine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onthemove.access.users import add_user, new_token
from onthemove.api import create_app
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.sources import ingest_file
from onthemove.store import open_store
from tests.helpers import MOVEMENTS, PCODES, write

ROLES = ("viewer", "analyst", "data_manager", "dpo", "admin")
PRINCIPALS = ("anonymous", *ROLES, "partner")


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    batch_id: str
    tmp: Path

    def headers(self, who: str) -> dict[str, str]:
        return {} if who == "anonymous" else {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, url: str, who: str = "anonymous", **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.headers(who), **kwargs)

    def post(self, url: str, who: str = "anonymous", **kwargs: Any) -> Any:
        return self.client.post(url, headers=self.headers(who), **kwargs)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Read through the app's own connection (DuckDB allows one per process)."""
        with self.client.app.state.store_context.store() as store:  # type: ignore[attr-defined]
            return store.fetch(sql)

    def audit_actions(self) -> list[tuple[str, str, str | None]]:
        return [(r[0], r[1], r[2]) for r in self.fetch("SELECT actor, action, target FROM audit_log ORDER BY seq")]


@pytest.fixture
def api(store_location: str, tmp_path: Path) -> Iterator[Api]:
    tokens = {}
    with open_store(store_location) as store:
        load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
        batch_id = ingest_file(store, write(tmp_path, "movements.csv", MOVEMENTS), kind="movements").batch_id
        for role in ROLES:
            add_user(store, role, role)
            tokens[role] = new_token(store, role)
        add_user(store, "partner", "viewer", scope="XT01")
        tokens["partner"] = new_token(store, "partner")
    app = create_app(store_location, suppression_threshold=10)
    with TestClient(app) as client:
        yield Api(client, tokens, batch_id, tmp_path)
