"""One SQL text, two engines: DuckDB and Spark (local mode) give the same candidate pairs, levels and weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from onthemove.demo.registrations import SPEC, registrations
from onthemove.respond.link import bloom, cluster
from onthemove.respond.link import spec as link_spec
from onthemove.respond.link.engine import DuckDBRunner, java_available
from onthemove.respond.link.pipeline import Result, run


def _pairs(result: Result) -> pd.DataFrame:
    frame = result.pairs.to_pandas()
    cols = ["rid_l", "rid_r", "status", "match_weight", *(c.gamma for c in result.comparisons)]
    return frame[cols].sort_values(["rid_l", "rid_r"]).reset_index(drop=True)


def test_sql_components_match_scipy() -> None:
    rng = np.random.default_rng(3)
    n = 400
    left = rng.integers(0, n, 300)
    right = rng.integers(0, n, 300)
    expected = cluster.components(n, left, right)
    runner = DuckDBRunner()
    runner.load("recs", pa.table({"rid": np.arange(n, dtype=np.int64)}))
    runner.load("links", pa.table({"rid_l": left, "rid_r": right}))
    rounds = cluster.components_sql(runner, "links")
    got = runner.fetch("SELECT rid, cluster FROM clusters ORDER BY rid").column("cluster").to_numpy()
    np.testing.assert_array_equal(got, expected)
    assert rounds >= 2


def test_link_mode_compares_only_across_lists() -> None:
    table = registrations(1500, seed=11).to_pandas()
    spec = link_spec.from_dict(SPEC)
    result = run({"a": table[table.agency == "A"], "b": table[table.agency != "A"]}, spec)
    pairs = result.pairs.to_pandas()
    assert (pairs.src_l != pairs.src_r).all()
    truth = dict(zip(table.record_id, table.person_id, strict=True))
    links = result.links.to_pandas()
    right = sum(truth[a] == truth[b] for a, b in zip(links.id_l, links.id_r, strict=True))
    assert right / len(links) > 0.95


@pytest.fixture(scope="module")
def spark_runner():  # type: ignore[no-untyped-def]
    if not java_available():
        pytest.skip("no Java runtime: Spark needs a JRE (.ci/run installs default-jre-headless)")
    pytest.importorskip("pyspark")
    from onthemove.respond.link.engine import SparkRunner, local_spark

    runner = SparkRunner(local_spark(cores=2, memory="2g"))
    yield runner
    runner.close()


@pytest.mark.slow
def test_same_pairs_and_weights_on_duckdb_and_spark(spark_runner) -> None:  # type: ignore[no-untyped-def]
    table = registrations(1200, seed=5)
    spec = link_spec.from_dict(SPEC)
    on_duckdb = run({"reg": table}, spec, DuckDBRunner())
    on_spark = run({"reg": table}, spec, spark_runner)
    a, b = _pairs(on_duckdb), _pairs(on_spark)
    assert len(a) > 100
    pd.testing.assert_frame_equal(a, b, check_dtype=False, atol=1e-9)
    assert on_duckdb.stats["candidate_pairs"] == on_spark.stats["candidate_pairs"]
    assert on_duckdb.model.lam == pytest.approx(on_spark.model.lam, rel=1e-12)
    # clusters: scipy on DuckDB, label propagation in Spark SQL
    assert on_duckdb.clusters.column("cluster_id").to_pylist() == on_spark.clusters.column("cluster_id").to_pylist()


@pytest.mark.slow
def test_encoded_linkage_on_spark_matches_duckdb(spark_runner) -> None:  # type: ignore[no-untyped-def]
    table = registrations(800, seed=9).to_pandas()
    enc = bloom.encoding_from_dict(
        {
            "id": "record_id",
            "fields": {"first_name": "name", "father_name": "name", "dob": {"type": "date", "order": "dmy"}},
            "filters": {"names": ["first_name", "father_name"], "dob": {"fields": ["dob"], "bits": 256}},
        }
    )
    key = bytes(range(32))
    sources = {s: bloom.encode(table[table.agency == s], enc, key) for s in ("A", "B")}
    spec = link_spec.encoded_spec(sources["A"].column_names, "record_id")
    a = _pairs(run(sources, spec, DuckDBRunner()))
    b = _pairs(run(sources, spec, spark_runner))
    assert len(a) > 20
    pd.testing.assert_frame_equal(a, b, check_dtype=False, atol=1e-9)
