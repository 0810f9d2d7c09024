"""Benchmark: deduplicating synthetic assistance registrations, ours (DuckDB, Spark) against Splink 5 on DuckDB.

    .venv/bin/python bench/dedupe_scale.py [--sizes 100000 1000000] [--seed 7] [--spark-size 50000]
                                           [--no-splink] [--no-spark] [--threads 2]

The data: ``onthemove.demo.registrations`` (households named the Somali way, Somali/Arabic/East-African names with
transliteration variants and some in Arabic script, typos, swapped name parts, partial and swapped dates of
birth, missing and mistyped phones; 1-5 registrations per person, truth = ``person_id``), written once per size to
``bench/out/registrations_<n>_s<seed>.parquet``.

The contenders, each in a process of its own (its peak memory is its own), on the same file, in the same run:

  ours (DuckDB)   ``respond.link.pipeline.run`` with ``demo.registrations.SPEC``: preparation (normalisation,
                  transliteration, keys), the blocking rules, u from 1,000,000 random pairs, EM sessions,
                  scoring, clustering (timed from the file read to the clusters)
  Splink 5        Splink on DuckDB, given *our prepared columns* (it cannot read Arabic script or fold Somali
                  spellings itself; the preparation time is reported apart), the *same blocking rules* and the
                  same EM training rules, u from 1,000,000 random pairs, the prior from a deterministic rule
                  (first name, father's name and full date of birth, recall 0.5), and Splink's own library
                  comparisons: NameComparison on the three name parts (first name with term frequencies),
                  DateOfBirthComparison, LevenshteinAtThresholds on the phone, ExactMatch on the site
  ours (Spark)    the same SQL on Spark in local mode (``--spark-size`` records: a few minutes on 2 cores)

Both predict at match probability 0.9 and cluster the links by connected components. Scores: pairwise
precision/recall/F1 of the links, and of the pairs inside the predicted clusters, against ``person_id``.
Peak memory: the largest sum of resident memory of the worker's process tree (the JVM included for Spark),
sampled every 0.2 s. Results go to ``bench/out/dedupe_scale.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forecast_scale import TreeSampler
from ingest_hxl import OUT

THRESHOLD = 0.9


def data_path(n: int, seed: int) -> Path:
    return OUT / f"registrations_{n}_s{seed}.parquet"


def ensure_data(n: int, seed: int) -> Path:
    import pyarrow.parquet as pq

    from onthemove.demo.registrations import registrations

    p = data_path(n, seed)
    if not p.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        pq.write_table(registrations(n, seed), p)
    return p


def _scores(truth: np.ndarray, left: np.ndarray, right: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    from onthemove.respond.link import metrics

    actual = metrics.true_pair_count(truth)
    return {
        "pairs": metrics.pair_scores(truth[left], truth[right], actual),
        "clusters": metrics.cluster_scores(labels, truth),
    }


# --- workers ---------------------------------------------------------------------------------------------------


def worker_ours(path: Path, engine: str, threads: int) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from onthemove.demo.registrations import SPEC
    from onthemove.respond.link import spec as link_spec
    from onthemove.respond.link.engine import DuckDBRunner, SparkRunner, local_spark
    from onthemove.respond.link.pipeline import run

    table = pq.read_table(path)
    truth = table["person_id"].to_numpy(zero_copy_only=False)
    spec = link_spec.from_dict(SPEC, "demo.registrations.SPEC")
    extra: dict[str, Any] = {}
    if engine == "spark":
        t0 = time.perf_counter()
        runner: Any = SparkRunner(local_spark(cores=threads, memory="6g"))
        extra["spark_start_seconds"] = round(time.perf_counter() - t0, 2)
    else:
        runner = DuckDBRunner(threads=threads, temp_directory=str(OUT / "duckdb_tmp"))
    started = time.perf_counter()
    with TreeSampler() as tree:
        result = run({"registrations": table}, spec, runner)
    seconds = time.perf_counter() - started
    links = result.links
    labels = result.clusters["cluster_id"].to_numpy(zero_copy_only=False)
    return {
        "contender": f"ours ({engine})",
        "records": table.num_rows,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(tree.peak / 2**20),
        "pairs_compared": result.stats["candidate_pairs"],
        "links": links.num_rows,
        "steps": result.stats["seconds"],
        **extra,
        **_scores(truth, links["rid_l"].to_numpy(), links["rid_r"].to_numpy(), labels),
    }


def worker_splink(path: Path, threads: int) -> dict[str, Any]:
    import pyarrow.parquet as pq
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from onthemove.demo.registrations import SPEC
    from onthemove.respond.link import spec as link_spec
    from onthemove.respond.link.prepare import prepare

    table = pq.read_table(path)
    truth = table["person_id"].to_numpy(zero_copy_only=False)
    spec = link_spec.from_dict(SPEC, "demo.registrations.SPEC")
    with TreeSampler() as tree:
        t0 = time.perf_counter()
        prepared = prepare({"registrations": table}, spec).to_pandas()
        prep_seconds = time.perf_counter() - t0
        started = time.perf_counter()
        import duckdb

        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        db_api = DuckDBAPI(connection=con)
        swapped = "l.first_name__key = r.father_name__key AND l.father_name__key = r.first_name__key"
        rules = [  # the same rules as SPEC (a rule with a cross key runs mirrored there too)
            block_on("first_name__key", "father_name__key", "grandfather_name__key"),
            block_on("first_name__key", "father_name__key", "dob__y"),
            f"{swapped} AND l.dob__y = r.dob__y",
            block_on("phone", "first_name__ph"),
            block_on("father_name__key", "grandfather_name__key", "dob__ym"),
            block_on("first_name__key", "dob__iso", "sex"),
            block_on("first_name__key", "father_name__key", "district"),
        ]
        settings = SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="rid",
            blocking_rules_to_generate_predictions=rules,
            comparisons=[
                cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
                cl.NameComparison("father_name"),
                cl.NameComparison("grandfather_name"),
                cl.DateOfBirthComparison("dob__iso", input_is_string=True),
                cl.LevenshteinAtThresholds("phone", 1),
                cl.ExactMatch("site"),
            ],
            retain_intermediate_calculation_columns=False,
            retain_matching_columns=False,
        )
        frame = prepared[
            ["rid", "first_name", "father_name", "grandfather_name", "first_name__key", "father_name__key",
             "grandfather_name__key", "first_name__ph", "sex", "dob__iso", "dob__y", "dob__ym", "phone", "site",
             "district"]
        ]  # fmt: skip
        linker = Linker(db_api.register(frame), settings, log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "father_name", "dob__iso")], recall=0.5
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
        for rule in (block_on("dob__iso"), block_on("phone")):
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
        pred = predictions.as_pandas_dataframe()[["rid_l", "rid_r"]]
        clus = clusters.as_pandas_dataframe()[["rid", "cluster_id"]]
        seconds = time.perf_counter() - started
    labels = np.empty(table.num_rows, dtype=object)
    labels[clus["rid"].to_numpy(np.int64)] = clus["cluster_id"].astype(str).to_numpy()
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    api = DuckDBAPI()
    counts = count_comparisons_from_blocking_rules(
        api.register(frame), blocking_rules=rules, link_type="dedupe_only", unique_id_column_name="rid",
        record_sample_proportion=1.0,
    )  # fmt: skip
    return {
        "contender": "Splink 5 (DuckDB)",
        "records": table.num_rows,
        "seconds": round(seconds, 2),
        "prepare_seconds": round(prep_seconds, 2),
        "peak_rss_mb": round(tree.peak / 2**20),
        "pairs_compared": int(counts[-1]["cumulative_comparison_count"]) if counts else 0,
        "links": len(pred),
        **_scores(truth, pred["rid_l"].to_numpy(np.int64), pred["rid_r"].to_numpy(np.int64), labels),
    }


def run_worker(kind: str, path: Path, threads: int, timeout: int) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--worker", kind, "--data", str(path), "--threads", str(threads)],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"contender": kind, "error": f"did not finish in {timeout} s"}
    if done.returncode != 0:
        return {"contender": kind, "error": done.stderr[-3000:]}
    info: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    info["process_seconds"] = round(time.perf_counter() - started, 1)
    info["load_average"] = os.getloadavg()[0]
    return info


def print_table(rows: list[dict[str, Any]]) -> None:
    head = f"{'contender':22} {'records':>9} {'seconds':>8} {'peak MB':>8} {'pairs':>11} {'P':>7} {'R':>7} {'F1':>7}"
    head += f" {'cl. P':>7} {'cl. R':>7} {'cl. F1':>7}"
    print(head)
    for r in rows:
        if "error" in r:
            print(f"{r['contender']:22} error: {r['error'][-300:]}")
            continue
        p, c = r["pairs"], r["clusters"]
        print(
            f"{r['contender']:22} {r['records']:>9,} {r['seconds']:>8.1f} {r['peak_rss_mb']:>8,} "
            f"{r['pairs_compared']:>11,} {p['precision']:>7.4f} {p['recall']:>7.4f} {p['f1']:>7.4f} "
            f"{c['precision']:>7.4f} {c['recall']:>7.4f} {c['f1']:>7.4f}"
        )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--spark-size", type=int, default=50_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-splink", action="store_true")
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--timeout", type=int, default=7200, help="seconds one contender may take")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        path = Path(args.data)
        if args.worker == "splink":
            info = worker_splink(path, args.threads)
        else:
            info = worker_ours(path, "spark" if args.worker == "spark" else "duckdb", args.threads)
        print(json.dumps(info, default=str))
        return info

    results: dict[str, Any] = {"seed": args.seed, "threshold": THRESHOLD, "runs": []}
    for n in args.sizes:
        t0 = time.perf_counter()
        path = ensure_data(n, args.seed)
        print(f"\n{n:,} registrations ({path.name}, {time.perf_counter() - t0:.1f} s to generate or find)", flush=True)
        rows = [run_worker("ours", path, args.threads, args.timeout)]
        if not args.no_splink:
            rows.append(run_worker("splink", path, args.threads, args.timeout))
        print_table(rows)
        ok = [r for r in rows if "error" not in r]
        if len(ok) == 2:
            ratio = ok[1]["seconds"] / ok[0]["seconds"]
            print(f"Splink / ours wall time: {ratio:.2f}x; cluster F1 {ok[0]['clusters']['f1']:.4f} vs "
                  f"{ok[1]['clusters']['f1']:.4f}; pair F1 {ok[0]['pairs']['f1']:.4f} "
                  f"vs {ok[1]['pairs']['f1']:.4f}")  # fmt: skip
        results["runs"].append({"records": n, "contenders": rows})
        (OUT / "dedupe_scale.json").write_text(json.dumps(results, indent=2, default=str))
    if not args.no_spark:
        path = ensure_data(args.spark_size, args.seed)
        print(f"\nSpark (local mode, {args.threads} cores), {args.spark_size:,} registrations", flush=True)
        rows = [
            run_worker("ours", path, args.threads, args.timeout),
            run_worker("spark", path, args.threads, args.timeout),
        ]
        print_table(rows)
        results["spark"] = rows
        (OUT / "dedupe_scale.json").write_text(json.dumps(results, indent=2, default=str))
    return results


if __name__ == "__main__":
    main()
