"""Multi-user engine: a PostgreSQL server reached with psycopg 3.

Credentials come from libpq's usual places (PGPASSWORD, ~/.pgpass, PGSERVICE), not from the URL.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from onthemove.store.base import Params, Store, StoreError

try:  # psycopg is a declared dependency, but say exactly what to do if a slim install lacks it
    import psycopg
except ImportError as exc:  # pragma: no cover
    raise StoreError("the PostgreSQL engine needs psycopg: uv pip install 'psycopg[binary]'") from exc


class PostgresStore(Store):
    engine = "postgres"
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        self.location = redact(url)
        try:
            self.con = psycopg.connect(url, autocommit=True)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {self.location}: {exc}".strip()) from exc

    def _params(self, params: Params) -> Any:
        if params is None:
            return None
        return dict(params) if hasattr(params, "keys") else list(params)

    def execute(self, text: str, params: Params = None) -> None:
        self.con.execute(self.sql(text).encode(), self._params(params))

    def fetch(self, text: str, params: Params = None) -> list[tuple[Any, ...]]:
        cur = self.con.execute(self.sql(text).encode(), self._params(params))
        return cur.fetchall() if cur.description else []

    def fetch_arrow(self, text: str, params: Params = None) -> pa.Table:
        cur = self.con.execute(self.sql(text).encode(), self._params(params))
        names = [d.name for d in cur.description or []]
        rows = cur.fetchall()
        return (
            pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows])
            if rows
            else (pa.table({n: pa.array([], pa.null()) for n in names}))
        )

    def load_arrow(self, table_name: str, data: pa.Table | pa.RecordBatchReader) -> int:
        """COPY in CSV form, written by Arrow in C: nulls are empty, empty strings are quoted."""
        names = data.schema.names
        cols = ", ".join(f'"{n}"' for n in names)
        batches = data.to_batches() if isinstance(data, pa.Table) else data
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        count = 0
        with self.con.cursor() as cur, cur.copy(f'COPY "{table_name}" ({cols}) FROM STDIN WITH (FORMAT csv)') as copy:
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, options)
                copy.write(buffer.getvalue())
                count += batch.num_rows
        return count

    def _begin(self) -> None:
        self.con.execute("BEGIN")

    def _commit(self) -> None:
        self.con.execute("COMMIT")

    def _rollback(self) -> None:
        self.con.execute("ROLLBACK")

    def close(self) -> None:
        self.con.close()


def redact(url: str) -> str:
    """Never show a password that someone put in the URL anyway."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url
