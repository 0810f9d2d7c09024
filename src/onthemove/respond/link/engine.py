"""Runners: the same SQL text (DuckDB dialect) on DuckDB in this process or on Apache Spark.

A runner loads Arrow tables as named tables, creates tables from SELECTs, and fetches results as Arrow. The
linkage writes its SQL once; ``SparkRunner`` transpiles it with SQLGlot (as ``store/sql.py`` does for
PostgreSQL) and registers the one function Spark SQL lacks, ``jaro_winkler_similarity``, as a vectorised pandas
UDF over rapidfuzz (DuckDB's own implementation follows rapidfuzz: the two agree to the last bit on non-empty
strings). Tables on Spark are temporary views, materialised with ``localCheckpoint`` so that iterative steps do
not grow their lineage.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any, Protocol

import pandas as pd  # at module level: pyspark resolves the UDF's type hints in this module's namespace
import pyarrow as pa

from onthemove.store.sql import transpile


class Runner(Protocol):
    name: str

    def load(self, name: str, table: pa.Table) -> None: ...

    def create(self, name: str, sql: str) -> None: ...

    def fetch(self, sql: str) -> pa.Table: ...

    def drop(self, name: str) -> None: ...

    def close(self) -> None: ...


class DuckDBRunner:
    """DuckDB in this process: in memory, spilling to ``temp_directory`` when the pairs outgrow memory."""

    name = "duckdb"

    def __init__(
        self,
        con: Any = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | None = None,
    ) -> None:
        import duckdb

        self._own = con is None
        self.con = con if con is not None else duckdb.connect()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if temp_directory:
            self.con.execute(f"SET temp_directory = '{temp_directory}'")
        self.con.execute("SET preserve_insertion_order = false")

    def load(self, name: str, table: pa.Table) -> None:
        self.con.register("__arrow_in", table)
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM __arrow_in")
        finally:
            self.con.unregister("__arrow_in")

    def create(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def fetch(self, sql: str) -> pa.Table:
        result: pa.Table = self.con.sql(sql).to_arrow_table()
        return result

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def close(self) -> None:
        if self._own:
            self.con.close()


def java_available() -> bool:
    return bool(os.environ.get("JAVA_HOME") or shutil.which("java"))


def local_spark(cores: int = 2, memory: str = "4g") -> Any:
    """A local-mode SparkSession for tests and benchmarks (no UI, few shuffle partitions, Arrow on)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers need this environment's rapidfuzz
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("onthemove-link")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", str(max(cores * 4, 8)))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _register_udfs(spark: Any) -> None:
    from pyspark.sql.functions import pandas_udf
    from rapidfuzz.distance import JaroWinkler

    @pandas_udf("double")  # type: ignore[call-overload]
    def jaro_winkler(a: pd.Series, b: pd.Series) -> pd.Series:
        sim = JaroWinkler.normalized_similarity
        return pd.Series(
            [None if x is None or y is None else sim(x, y) for x, y in zip(a, b, strict=True)], dtype="float64"
        )

    spark.udf.register("JAROWINKLER_SIMILARITY", jaro_winkler)
    spark.udf.register("jaro_winkler_similarity", jaro_winkler)


class SparkRunner:
    """Apache Spark (local mode in tests; any cluster's SparkSession otherwise)."""

    name = "spark"

    def __init__(self, spark: Any = None) -> None:
        self.spark = spark if spark is not None else local_spark()
        _register_udfs(self.spark)
        self._views: set[str] = set()

    def sql(self, text: str) -> str:
        return transpile(text, "spark")

    def load(self, name: str, table: pa.Table) -> None:
        df = self.spark.createDataFrame(table.to_pandas())
        df = df.localCheckpoint()
        df.createOrReplaceTempView(name)
        self._views.add(name)

    def create(self, name: str, sql: str) -> None:
        df = self.spark.sql(self.sql(sql)).localCheckpoint()
        df.createOrReplaceTempView(name)
        self._views.add(name)

    def fetch(self, sql: str) -> pa.Table:
        df = self.spark.sql(self.sql(sql))
        if hasattr(df, "toArrow"):
            result: pa.Table = df.toArrow()
            return result
        return pa.Table.from_pandas(df.toPandas(), preserve_index=False)  # pragma: no cover - pyspark < 4

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)

    def close(self) -> None:
        for name in list(self._views):
            self.drop(name)


def make_runner(engine: str = "duckdb", **kwargs: Any) -> Runner:
    if engine == "duckdb":
        return DuckDBRunner(**kwargs)
    if engine == "spark":
        if not java_available():
            raise ValueError("the Spark engine needs Java (a JRE): install default-jre-headless")
        return SparkRunner(**kwargs)
    raise ValueError(f"engine is duckdb or spark, not {engine!r}")
