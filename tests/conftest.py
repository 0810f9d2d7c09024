"""Shared fixtures: a store on every engine, and the path to ../shared when it is there.

A plain ``pytest`` needs no services: PostgreSQL tests run when ONTHEMOVE_TEST_PG holds a
server URL (``eval "$(.ci/pg-start)"`` starts one) and are skipped otherwise, unless
ONTHEMOVE_REQUIRE_PG is set (CI), where a missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from onthemove.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"

ENGINES = [pytest.param("duckdb", marks=pytest.mark.duckdb), pytest.param("postgres", marks=pytest.mark.postgres)]


def pg_url() -> str:
    url = os.environ.get("ONTHEMOVE_TEST_PG")
    if not url:
        if os.environ.get("ONTHEMOVE_REQUIRE_PG"):
            pytest.fail("ONTHEMOVE_REQUIRE_PG is set but ONTHEMOVE_TEST_PG is empty: start a server with .ci/pg-start")
        pytest.skip('no PostgreSQL server: run eval "$(.ci/pg-start)" to start one')
    return url


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards: the URL of a store that sees only it."""
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


def engine_location(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str
) -> Iterator[str]:
    """For a module-scoped fixture parametrised with ENGINES: a DuckDB directory or a PostgreSQL schema."""
    if request.param == "duckdb":
        yield str(tmp_path_factory.mktemp(name) / "store")
        return
    with pg_schema(pg_url()) as url:
        yield url


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards: each test sees an empty store."""
    with pg_schema(pg_url()) as url:
        yield url


@pytest.fixture(params=ENGINES)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "duckdb":
        yield str(tmp_path / "store")
    else:
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    s = open_store(store_location)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def shared_data() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"real data not present at {DATA}")
    return DATA
