"""A process killed in the middle of an ingest leaves the store as it was (a real SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.helpers import MOVEMENTS, PCODES, write

from onthemove.ingest.gazetteer import load_pcodes
from onthemove.store import open_store

CHILD = textwrap.dedent(
    """
    import sys, time
    from onthemove.store import open_store
    from onthemove.ingest.pipeline import ingest

    def hook(step):
        if step == sys.argv[3]:
            print("READY", flush=True)
            time.sleep(120)

    ingest(open_store(sys.argv[1]), sys.argv[2], kind="movements", progress=hook)
    print("FINISHED", flush=True)
    """
)


def big_file(tmp: Path, rows: int = 200_000) -> Path:
    head, body = MOVEMENTS.split("#affected+idps\n")
    lines = body.strip().splitlines()
    path = tmp / "big.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(head + "#affected+idps\n")
        for i in range(rows):
            fh.write(lines[i % len(lines)] + "\n")
    return path


@pytest.mark.parametrize("moment", ["validating", "recording the batch"])
def test_killed_ingest_leaves_store_unchanged(store_location: str, tmp_path: Path, moment: str) -> None:
    with open_store(store_location) as s:
        load_pcodes(s, write(tmp_path, "pcodes.csv", PCODES))
        places_before = s.fetch("SELECT count(*) FROM places")[0][0]
    path = big_file(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, store_location, str(path), moment],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "READY", child.stderr.read() if child.stderr else line
        # at "recording the batch" every row is already inserted, inside the open transaction
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    with open_store(store_location) as s:
        assert s.fetch("SELECT count(*) FROM movements")[0][0] == 0
        assert s.fetch("SELECT count(*) FROM rejections")[0][0] == 0
        assert s.fetch("SELECT count(*) FROM batches WHERE kind = 'movements'")[0][0] == 0
        assert s.fetch("SELECT count(*) FROM places")[0][0] == places_before
        # and the store still works: the same file loads completely afterwards
        from onthemove.ingest.pipeline import ingest

        report = ingest(s, path, kind="movements")
        assert report.rows_loaded == 200_000
        assert s.fetch("SELECT count(*) FROM movements")[0][0] == 200_000
