"""The one store interface. Each engine is a thin adapter; engine differences live here as hooks.

Callers write SQL once (DuckDB dialect, ``$name`` parameters) and call ``fetch``/``execute``;
bulk loads go through ``load_arrow``. Every write happens inside ``transaction()``, so a batch is
all-or-nothing on both engines.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa

from onthemove.store.sql import transpile

Params = Mapping[str, Any] | Sequence[Any] | None


class StoreError(RuntimeError):
    """A store could not be opened or used; the message says what to do."""


class Store(ABC):
    """A connection to one onthemove store."""

    engine: str
    dialect: str
    location: str

    def sql(self, text: str) -> str:
        return transpile(text, self.dialect)

    @abstractmethod
    def execute(self, text: str, params: Params = None) -> None: ...

    @abstractmethod
    def fetch(self, text: str, params: Params = None) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def fetch_arrow(self, text: str, params: Params = None) -> pa.Table: ...

    @abstractmethod
    def load_arrow(self, table_name: str, data: pa.Table | pa.RecordBatchReader) -> int:
        """Append rows (columns named as in the table) and return how many went in."""

    @abstractmethod
    def _begin(self) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def validation_connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection that stages and checks incoming files (in memory for servers)."""
        return duckdb.connect()

    def load_query(self, table_name: str, con: duckdb.DuckDBPyConnection, query: str, params: Params = None) -> int:
        """Append the result of a query run in a validation connection; return rows appended."""
        reader = con.sql(query, params=params).to_arrow_reader(100_000)
        return self.load_arrow(table_name, reader)

    def skip_statement(self, statement: str) -> bool:
        """Hook for a migration statement an engine does not need (DuckDB skips secondary indexes)."""
        return False

    _depth = 0

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Run the block in one transaction; nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._begin()
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        self._commit()

    def fetch_one(self, text: str, params: Params = None) -> tuple[Any, ...] | None:
        rows = self.fetch(text, params)
        return rows[0] if rows else None

    def fetch_dicts(self, text: str, params: Params = None) -> list[dict[str, Any]]:
        return self.fetch_arrow(text, params).to_pylist()

    def table_exists(self, name: str) -> bool:
        row = self.fetch_one(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_name = $name AND table_schema = current_schema()",
            {"name": name},
        )
        return bool(row and row[0])

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
