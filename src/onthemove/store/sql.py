"""Queries are written once, in DuckDB's dialect, and transpiled per engine with SQLGlot.

Parameters are bound, never formatted in: write ``$name`` placeholders and pass a dict.
Transpiled text is cached, so a query pays for SQLGlot once per process.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot

SOURCE_DIALECT = "duckdb"


@lru_cache(maxsize=1024)
def transpile(text: str, dialect: str) -> str:
    """Translate one or more statements from DuckDB SQL into ``dialect``."""
    if dialect == SOURCE_DIALECT:
        return text
    statements = sqlglot.transpile(text, read=SOURCE_DIALECT, write=dialect)
    return ";\n".join(statements)


def split_statements(script: str) -> list[str]:
    """Split a migration script into statements (SQLGlot knows about quotes and comments)."""
    return [s.sql(dialect=SOURCE_DIALECT) for s in sqlglot.parse(script, read=SOURCE_DIALECT) if s is not None]
