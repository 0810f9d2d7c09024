"""`onthemove serve` starts a real server process that answers health and readiness."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_health_and_ready(tmp_path: Path) -> None:
    port = free_port()
    store = tmp_path / "store"
    server = subprocess.Popen(
        [sys.executable, "-m", "onthemove.cli.main", "--store", str(store), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/ready", timeout=2) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start: {server.stderr.read() if server.stderr else ''}")
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as reply:
            assert reply.status == 200 and json.loads(reply.read())
    finally:
        server.terminate()
        server.wait(timeout=30)
    logs = server.stderr.read() if server.stderr else ""
    assert any(line.startswith("{") and '"path"' in line for line in logs.splitlines()), logs[-2000:]


def test_serve_refuses_several_workers_on_duckdb(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "onthemove.cli.main", "--store", str(tmp_path / "s"), "serve", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "PostgreSQL" in done.stderr and "Traceback" not in done.stderr
