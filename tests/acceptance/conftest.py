"""The Somalia case study loaded once per test session (examples/somalia/load.sh into a DuckDB store), shared by
the acceptance tests that only read it; skipped, with the reason, when ../shared/data is not there."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import DATA, ROOT

from onthemove.store import Store, open_store


@pytest.fixture(scope="session")
def somalia_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Read only: a test that writes must load its own (see test_somalia.py, which runs on every engine)."""
    if not DATA.is_dir():
        pytest.skip(f"real data not present at {DATA}")
    location = tmp_path_factory.mktemp("somalia") / "store"
    env = {**os.environ, "ONTHEMOVE": str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin/onthemove")}
    done = subprocess.run(
        ["bash", str(ROOT / "examples/somalia/load.sh"), str(location)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    store = open_store(location)
    yield store
    store.close()
