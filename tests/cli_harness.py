"""Running ``onthemove`` in-process with Typer's CliRunner, for the CLI tests of every command.

The CLI keeps the open store in a module-level ``state`` object (one process, one command in real use); the
harness closes and clears it after every invocation, so no store stays open (or locked, for DuckDB) between
calls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from onthemove.cli import main as cli_main
from onthemove.cli.main import app


def reset_state() -> None:
    store = cli_main.state._store
    cli_main.state._store = None
    if store is not None:
        store.close()


class Cli:
    """``cli("query", ...)`` runs ``onthemove --store STORE query ...``; ``ok`` also asserts exit code 0."""

    def __init__(self, store: str, tmp: Path | None = None) -> None:
        self.store, self.runner = store, CliRunner()
        self.tmp = tmp if tmp is not None else Path(".")

    def __call__(self, *args: str | Path) -> Any:
        try:
            return self.runner.invoke(app, ["--store", self.store, *[str(a) for a in args]])
        finally:
            reset_state()

    def ok(self, *args: str | Path) -> Any:
        result = self(*args)
        assert result.exit_code == 0, (args, result.exit_code, result.stdout, result.stderr, result.exception)
        return result

    def json(self, *args: str | Path) -> Any:
        return json.loads(self.ok(*args).stdout)
