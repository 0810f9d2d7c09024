"""Embedded engine: one DuckDB file in the store directory."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from onthemove.store.base import Params, Store, StoreError

DB_FILE = "onthemove.duckdb"


class DuckDBStore(Store):
    engine = "duckdb"
    dialect = "duckdb"

    def __init__(self, directory: str | Path, read_only: bool = False) -> None:
        path = Path(directory)
        if path.suffix == ".duckdb":
            db_file = path
        else:
            path.mkdir(parents=True, exist_ok=True)
            db_file = path / DB_FILE
        self.location = str(db_file)
        try:
            self.con = duckdb.connect(str(db_file), read_only=read_only)
        except duckdb.IOException as exc:
            raise StoreError(
                f"cannot open the DuckDB store {db_file}: {exc}. Is another onthemove process using it?"
            ) from exc

    def execute(self, text: str, params: Params = None) -> None:
        self.con.execute(text, params)

    def fetch(self, text: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self.con.execute(text, params).fetchall()

    def fetch_arrow(self, text: str, params: Params = None) -> pa.Table:
        return self.con.sql(text, params=params).to_arrow_table()

    def load_arrow(self, table_name: str, data: pa.Table | pa.RecordBatchReader) -> int:
        view = f"_load_{table_name}"
        self.con.register(view, data)
        try:
            names = data.schema.names
            cols = ", ".join(f'"{n}"' for n in names)
            row = self.con.execute(f'INSERT INTO "{table_name}" ({cols}) SELECT {cols} FROM "{view}"').fetchall()[0]
        finally:
            with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses even this
                self.con.unregister(view)
        return int(row[0]) if row else 0

    def validation_connection(self) -> duckdb.DuckDBPyConnection:
        # Same connection: files are staged and checked inside the store's own transaction, zero copies.
        return self.con

    def load_query(self, table_name: str, con: duckdb.DuckDBPyConnection, query: str, params: Params = None) -> int:
        if con is not self.con:
            return super().load_query(table_name, con, query, params)
        cur = self.con.execute(f'INSERT INTO "{table_name}" BY NAME {query}', params)
        row = cur.fetchall()[0]
        return int(row[0]) if row else 0

    def skip_statement(self, statement: str) -> bool:
        # DuckDB keeps min/max zone maps per row group; secondary ART indexes only slow bulk loads.
        return statement.lstrip().upper().startswith("CREATE INDEX")

    def _begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def _commit(self) -> None:
        self.con.execute("COMMIT")

    def _rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):  # the failure may already have ended the transaction
            self.con.execute("ROLLBACK")

    def close(self) -> None:
        self.con.close()


def ensure_writable(path: Path) -> None:
    if path.exists() and not path.is_dir() and path.suffix != ".duckdb":
        raise StoreError(f"{path} is a file, not a store directory")
