"""Benchmark: monthly totals by district over HTTP, 50 concurrent clients, onthemove serve vs Datasette.

    .venv/bin/python bench/serve_concurrency.py [--rows 10000000] [--duration 30s] [--peer-duration 180s]
        [--connections 50] [--datasette-threads 3 2] [--anonymous] [--no-profile] [--json FILE]

  onthemove  `onthemove --store bench/out/store-monthly-N serve --port P` (one worker: a DuckDB store
             allows one process), GET /api/v1/totals/movements?by=month&by=adm2&limit=10000 with an
             analyst's API token (unredacted); --anonymous adds a run without a token (redacted)
  Datasette  `datasette serve bench/out/movements_N.sqlite` (the same rows, exported from the store,
             with a covering index on (date, to_place, count)); a canned query grouping by
             strftime('%Y-%m', date) and to_place, joined to the place names, first 10,000 groups
  load       wrk -c 50 -t 2 -d 30s --timeout 120s, with bench/wrk_report.lua printing p50/p95/p99
Both servers answer the same 10,000 rows (month, adm2, adm2_name, count), checked before timing.
Every run gets a freshly started server; two requests alone first (warm-up, then one timed alone).
Then one request is timed in-process, step by step (where its time goes). Results: bench/out/*.json.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_hxl import OUT, ensure_data
from monthly_totals import loaded_store

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
LUA = HERE / "wrk_report.lua"
WRK = "/usr/bin/wrk"
GOAL_RPS = 3.0
PAGE = 10_000  # the API's largest page
OTM_PATH = f"/api/v1/totals/movements?by=month&by=adm2&limit={PAGE}"
BENCH_USER = "bench-analyst"
INDEX = "CREATE INDEX movements_date_to_place_count ON movements (date, to_place, count)"
# the same aggregate as onthemove's query: totals per area first, then the names, ordered like the API
DATASETTE_SQL = (
    "SELECT a.month, a.adm2, coalesce(p.name, '') AS adm2_name, a.count FROM ("
    "SELECT strftime('%Y-%m', date) AS month, coalesce(to_place, '(not assigned)') AS adm2, sum(count) AS count "
    "FROM movements GROUP BY 1, 2) a LEFT JOIN places p ON p.pcode = a.adm2 ORDER BY 1, 2"
)


# --- data ---------------------------------------------------------------------------------------


def sqlite_file(store: Any, path: Path) -> tuple[int, float | None]:
    """The store's movements (the totals rows, as onthemove's query counts them) and places in SQLite.

    Reused when it is there with as many rows; otherwise exported through Arrow batches and
    ``executemany``, then indexed. Returns the row count and the seconds the export took (None: reused).
    """
    (expected,) = store.fetch_one("SELECT count(*) FROM movements WHERE sex = 'total' AND age_group = 'total'")
    if path.exists():
        with contextlib.closing(sqlite3.connect(path)) as con, contextlib.suppress(sqlite3.Error):
            if con.execute("SELECT count(*) FROM movements").fetchone()[0] == expected:
                return expected, None
        path.unlink()
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(partial)) as con:
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("CREATE TABLE places (pcode TEXT PRIMARY KEY, name TEXT, admin_level INTEGER, parent_pcode TEXT)")
        con.execute(
            "CREATE TABLE movements (date TEXT NOT NULL, from_place TEXT, to_place TEXT, reason TEXT, "
            "count INTEGER NOT NULL)"
        )
        places = store.fetch("SELECT pcode, name, admin_level, parent_pcode FROM places")
        con.executemany("INSERT INTO places VALUES (?, ?, ?, ?)", places)
        reader = store.con.sql(
            "SELECT strftime(date, '%Y-%m-%d') AS date, from_place, to_place, reason, count FROM movements "
            "WHERE sex = 'total' AND age_group = 'total'"
        ).to_arrow_reader(200_000)
        done, tty = 0, sys.stderr.isatty()
        for batch in reader:
            columns = [column.to_pylist() for column in batch.columns]
            con.executemany("INSERT INTO movements VALUES (?, ?, ?, ?, ?)", zip(*columns, strict=True))
            done += batch.num_rows
            if tty:
                print(f"  sqlite: {done:,} rows", end="\r", file=sys.stderr, flush=True)
        con.commit()
        con.execute(INDEX)
        con.execute("ANALYZE")
        con.commit()
    partial.replace(path)
    return expected, time.perf_counter() - started


# --- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 600) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def server(
    command: list[str], ready_url: str, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server, wait until ``ready_url`` answers 200, and stop it afterwards (it may still be
    working through the requests wrk left behind, so it gets a few seconds, then SIGKILL)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{command[0]} exited with {proc.returncode}; see {log}")
            try:
                with urllib.request.urlopen(ready_url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{command[0]} did not become ready; see {log}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def onthemove_server(store_dir: Path, port: int) -> tuple[list[str], str]:
    command = [str(BIN / "onthemove"), "--store", str(store_dir), "serve", "--port", str(port)]
    return command, f"http://127.0.0.1:{port}/api/v1/ready"


def datasette_server(db: Path, metadata: Path, port: int, threads: int) -> tuple[list[str], str]:
    command = [str(BIN / "datasette"), "serve", str(db), "--port", str(port), "--metadata", str(metadata)]
    for name, value in (("sql_time_limit_ms", 600_000), ("num_sql_threads", threads), ("max_returned_rows", 100_000)):
        command += ["--setting", name, str(value)]
    return command, f"http://127.0.0.1:{port}/-/versions.json"


def write_metadata(db: Path) -> Path:
    """Two canned queries: the page wrk asks for, and every group (for the check)."""
    queries = {
        "monthly_totals_page": {"sql": f"{DATASETTE_SQL} LIMIT {PAGE}", "title": "monthly totals by district"},
        "monthly_totals": {"sql": DATASETTE_SQL, "title": "monthly totals by district, every group"},
    }
    path = OUT / "serve_concurrency_datasette_metadata.json"
    path.write_text(json.dumps({"databases": {db.stem: {"queries": queries}}}, indent=2), encoding="utf-8")
    return path


def cli(store_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "onthemove"), "--store", str(store_dir), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"onthemove {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def analyst_token(store_dir: Path) -> str:
    """A token for an analyst (unredacted aggregates): the analyst reading totals over the API."""
    users = json.loads(cli(store_dir, "users", "list", "--format", "json"))
    if not any(u.get("username") == BENCH_USER for u in users):
        cli(store_dir, "users", "add", BENCH_USER, "--role", "analyst")
    return cli(store_dir, "users", "token", BENCH_USER, "--label", "bench/serve_concurrency.py").strip()


# --- the check ----------------------------------------------------------------------------------


def onthemove_groups(base: str, headers: dict[str, str]) -> list[tuple[str, str, str, int]]:
    rows: list[tuple[str, str, str, int]] = []
    offset, total = 0, None
    while total is None or offset < total:
        body = get(f"{base}{OTM_PATH}&offset={offset}", headers)
        total = body["total_rows"]
        rows += [(r["month"], r["adm2"], r["adm2_name"], r["count"]) for r in body["rows"]]
        offset += PAGE
    return rows


def datasette_groups(url: str) -> list[tuple[str, str, str, int]]:
    return [(r["month"], r["adm2"], r["adm2_name"], r["count"]) for r in get(url)]


def check(otm: list[tuple[str, str, str, int]], ds: list[tuple[str, str, str, int]]) -> dict[str, Any]:
    result = {
        "onthemove": {"groups": len(otm), "sum": sum(r[3] for r in otm)},
        "datasette": {"groups": len(ds), "sum": sum(r[3] for r in ds)},
        "identical_rows": otm == ds,
        "identical_first_page": otm[:PAGE] == ds[:PAGE],
    }
    for name in ("onthemove", "datasette"):
        print(f"  {name:<10} {result[name]['groups']:>8,} groups, counts sum to {result[name]['sum']:>14,}")
    print(f"  every row (month, adm2, adm2_name, count) identical, in the same order: {result['identical_rows']}")
    if not result["identical_rows"]:
        raise SystemExit("the two servers disagree; not timing them")
    return result


# --- load ---------------------------------------------------------------------------------------


def wrk(
    url: str, args: argparse.Namespace, headers: dict[str, str] | None = None, duration: str = ""
) -> dict[str, Any]:
    command = [WRK, "-c", str(args.connections), "-t", str(args.threads), "-d", duration or args.duration]
    command += ["--timeout", args.timeout, "-s", str(LUA)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_JSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    seconds = result["duration_us"] / 1e6
    result["seconds"] = seconds
    result["rps"] = result["requests"] / seconds
    result["error_total"] = sum(result["errors"].values())
    result["steady_latency_s"] = args.connections / result["rps"] if result["rps"] else None
    result["wrk_output"] = done.stdout
    result["load_average"] = os.getloadavg()[0]  # after the run: was anything else busy on the machine?
    return result


def timed_get(url: str, headers: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    get(url, headers)
    return time.perf_counter() - started


def run_onthemove(
    store_dir: Path, args: argparse.Namespace, label: str, headers: dict[str, str], log: Path, cache: int = 0
) -> dict[str, Any]:
    """``cache`` 0: the server's result cache is off, so every request computes the aggregate (as Datasette's
    does); otherwise repeats of the same aggregate are answered from the cache until the data change."""
    port = free_port()
    command, ready = onthemove_server(store_dir, port)
    url = f"http://127.0.0.1:{port}{OTM_PATH}"
    with server(command, ready, log, env={"ONTHEMOVE_RESULT_CACHE": str(cache)}):
        first, alone = timed_get(url, headers), timed_get(url, headers)
        print(f"  {label}: first request {first:.3f}s, second {alone:.3f}s; wrk ...", flush=True)
        result = wrk(url, args, headers)
    return {"server": label, "first_request_s": first, "alone_s": alone, **result}


def run_datasette(db: Path, metadata: Path, args: argparse.Namespace, threads: int) -> dict[str, Any]:
    port = free_port()
    command, ready = datasette_server(db, metadata, port, threads)
    url = f"http://127.0.0.1:{port}/{db.stem}/monthly_totals_page.json?_shape=array"
    label = f"Datasette ({threads} SQL threads)"
    with server(command, ready, OUT / f"serve_concurrency_datasette_{threads}.log"):
        first, alone = timed_get(url), timed_get(url)
        print(f"  {label}: first request {first:.3f}s, second {alone:.3f}s; wrk ...", flush=True)
        result = wrk(url, args, duration=args.peer_duration or args.duration)
    return {"server": label, "num_sql_threads": threads, "first_request_s": first, "alone_s": alone, **result}


# --- where one request's time goes ----------------------------------------------------------------


def profile_request(store_dir: Path, token: str, repeat: int) -> dict[str, Any]:
    """One authenticated request through the whole app in-process (Starlette's TestClient, no network),
    with timers wrapped around its steps. Median over ``repeat`` requests, after one warm-up."""
    import fastapi.routing

    with warnings.catch_warnings():  # Starlette's note that it would rather have httpx2
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from onthemove.analyse import query as query_module
    from onthemove.api import auth, routes
    from onthemove.api.app import create_app

    spans: dict[str, list[float]] = defaultdict(list)
    last: dict[str, float] = {}

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*a: Any, **k: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                last[name] = time.perf_counter()
                spans[name].append(last[name] - started)

        return timed

    original_totals = routes.Totals

    def totals_model(**fields: Any) -> Any:
        # between the query's end and this call: table.slice(offset, limit).to_pylist()
        spans["Arrow page -> Python dicts (to_pylist)"].append(time.perf_counter() - last["query"])
        return wrap("Totals(...) model (pydantic validation)", original_totals)(**fields)

    original_serialize = fastapi.routing.serialize_response

    async def serialize(**kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original_serialize(**kwargs)
        finally:
            spans["response validation + JSON (FastAPI serialize_response)"].append(time.perf_counter() - started)

    patches = [
        (auth, "principal_for_token", wrap("token lookup (auth)", auth.principal_for_token)),
        (query_module, "run", wrap("query", query_module.run)),
        (routes, "Totals", totals_model),
        (fastapi.routing, "serialize_response", serialize),
    ]
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
    for module, name, value in patches:
        setattr(module, name, value)
    try:
        app = create_app(str(store_dir))
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(app) as client:
            size = len(client.get(OTM_PATH, headers=headers).content)
            spans.clear()
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(OTM_PATH, headers=headers)
                spans["whole request, in-process"].append(time.perf_counter() - started)
                response.raise_for_status()
    finally:
        for module, name, value in saved:
            setattr(module, name, value)
    medians = {name: statistics.median(values) for name, values in spans.items()}
    aggregate = inner_aggregate(store_dir, repeat)
    medians = {("query (DuckDB SQL -> Arrow, all groups)" if k == "query" else k): v for k, v in medians.items()}
    whole = medians.pop("whole request, in-process")
    medians["the rest (routing, params, threadpool hops, middleware, log line, TestClient)"] = whole - sum(
        medians.values()
    )
    return {"whole_s": whole, "response_bytes": size, "steps_s": medians, "aggregate_s": aggregate, "repeat": repeat}


def inner_aggregate(store_dir: Path, repeat: int) -> dict[str, float] | None:
    """The query's inner GROUP BY over every row (totals per area and month) alone, without the gazetteer
    join, the labels and the ordering; None if the SQL no longer has that shape."""
    from onthemove.analyse.query import Query, build_sql
    from onthemove.store import open_store

    text, params = build_sql(Query(kind="movements", by=["month", "adm2"]))
    head, found, _ = text.partition(") a LEFT JOIN")
    inner = head.partition("FROM (")[2] if found else ""
    if not inner:
        return None
    with open_store(store_dir) as store:
        store.fetch_arrow(inner, params)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            store.fetch_arrow(inner, params)
            times.append(time.perf_counter() - started)
    return {"best": min(times), "median": statistics.median(times)}


def print_profile(profile: dict[str, Any]) -> None:
    whole = profile["whole_s"]
    print(f"\nwhere one request's time goes (in-process, median of {profile['repeat']}; {whole * 1000:.0f} ms in all,")
    print(f"{profile['response_bytes']:,} bytes of JSON)")
    for name, seconds in profile["steps_s"].items():
        print(f"  {seconds * 1000:>8.1f} ms {seconds / whole:>6.1%}  {name}")
        if name.startswith("query") and profile["aggregate_s"] is not None:
            inner = profile["aggregate_s"]
            print(
                f"  {'':>22}of which the inner GROUP BY over every row, timed apart:"
                f" best {inner['best'] * 1000:.0f} ms, median {inner['median'] * 1000:.0f} ms"
            )


# --- main ---------------------------------------------------------------------------------------


def print_table(runs: list[dict[str, Any]], connections: int) -> None:
    head = f"{'server':<32} {'secs':>4} {'requests':>8} {'req/s':>7} {'p50 s':>7} {'p95 s':>7} {'p99 s':>7}"
    print(f"\n{head} {'errors':>6} {'1 req s':>7} {'conns/(req/s)':>13} {'load':>5}")
    for r in runs:
        steady = f"{r['steady_latency_s']:.1f}" if r["steady_latency_s"] else "-"
        print(
            f"{r['server']:<32} {r['seconds']:>4.0f} {r['requests']:>8,} {r['rps']:>7.2f} {r['p50_us'] / 1e6:>7.2f}"
            f" {r['p95_us'] / 1e6:>7.2f} {r['p99_us'] / 1e6:>7.2f} {r['error_total']:>6} {r['alone_s']:>7.2f}"
            f" {steady:>13} {r['load_average']:>5.1f}"
        )
    print(
        f"(p50/p95/p99: over the requests that completed within the run; {connections} connections kept busy, so a\n"
        " server slower than the run's length has requests still queued at the end that never count. 1 req s:\n"
        " one request alone (the second after start). conns/(req/s): the steady-state latency that throughput\n"
        " implies. load: the machine's 1-minute load average after the run (other work competing for the CPUs?).)"
    )
    for r in runs:
        if r["requests"] < 10:
            print(
                f"note: {r['server']} completed {r['requests']} requests: too few for percentiles; try --peer-duration"
            )


def seconds(text: str) -> float:
    """wrk's durations: 30, 30s, 2m, 1h."""
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)


def compare(ours: dict[str, Any], peer: dict[str, Any], args: argparse.Namespace) -> tuple[float, float | None, bool]:
    """req/s ratio, p95 ratio and whether the goal is met.

    wrk opens every connection at the start, so when fewer than 95% of those first requests completed
    within the run, the peer's p95 is longer than the run (or wrk's timeout, if shorter): the ratio is
    then None and our p95 is compared with that, a lower bound of the peer's."""
    connections = args.connections
    rps_ratio = ours["rps"] / peer["rps"] if peer["rps"] else float("inf")
    ratio_text = f"{rps_ratio:.2f}x" if peer["rps"] else "unbounded (it completed none)"
    print(f"\nonthemove / {peer['server']}: req/s {ratio_text}")
    if peer["requests"] < 0.95 * connections:
        floor = min(peer["seconds"], seconds(args.timeout))
        print(
            f"{peer['server']} completed {peer['requests']} requests, fewer than 95% of the first {connections}:"
            f" its p95 is over {floor:.0f}s\n(the run's length, or wrk's timeout if shorter; the p95 in the table"
            f" covers the completed requests only); onthemove's p95 is {ours['p95_us'] / 1e6:.1f}s"
        )
        p95_ratio, lower = None, ours["p95_us"] / 1e6 < floor
    else:
        p95_ratio = ours["p95_us"] / peer["p95_us"]
        print(f"p95: onthemove / {peer['server']} {p95_ratio:.2f}x")
        lower = p95_ratio < 1
    meets = rps_ratio >= GOAL_RPS and lower
    print(f"goal: >= {GOAL_RPS:g}x the req/s at a lower p95: {'meets' if meets else 'MISSES'}")
    return rps_ratio, p95_ratio, meets


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--duration", default="30s", help="wrk -d")
    ap.add_argument("--peer-duration", help="wrk -d for Datasette (default: --duration); its requests take seconds")
    ap.add_argument("--timeout", default="120s", help="wrk --timeout")
    ap.add_argument("--datasette-threads", type=int, nargs="+", default=[3, 2], help="num_sql_threads, one run each")
    ap.add_argument("--anonymous", action="store_true", help="also time onthemove without a token (redacted)")
    ap.add_argument("--no-profile", action="store_true", help="skip the in-process profile of one request")
    ap.add_argument("--profile-repeat", type=int, default=10)
    ap.add_argument("--profile-only", action="store_true", help="only the in-process profile of one request")
    ap.add_argument("--json", type=Path, default=OUT / "serve_concurrency.json", help="where the results go")
    args = ap.parse_args(argv)
    if not Path(WRK).exists():
        raise SystemExit(f"no wrk at {WRK} (Debian package wrk)")

    csv_path, pcodes = ensure_data(args.rows, args.seed)
    store_dir = OUT / f"store-monthly-{args.rows}"
    db = OUT / f"movements_{args.rows}.sqlite"
    store, load = loaded_store(store_dir, csv_path, pcodes, args.rows)
    try:
        sqlite_rows, export = sqlite_file(store, db)
    finally:
        store.close()
    if load is not None:
        print(f"(the store was loaded first: {load:.1f}s, kept in bench/out/)")
    if export is not None:
        print(f"(exported {sqlite_rows:,} rows to {db.name} with an index in {export:.1f}s, kept in bench/out/)")
    with contextlib.closing(sqlite3.connect(db)) as con:
        plan = [row[-1] for row in con.execute(f"EXPLAIN QUERY PLAN {DATASETTE_SQL}")]
    metadata = write_metadata(db)

    settings = {s["name"]: s["value"] for s in json.loads(cli(store_dir, "settings", "--format", "json"))}
    token = analyst_token(store_dir)
    auth = {"Authorization": f"Bearer {token}"}
    print(
        f"\nonthemove settings: workers={settings['workers']} (a DuckDB store allows one process), "
        f"log_level={settings['log_level']}, suppression_threshold={settings['suppression_threshold']}"
    )
    print(f"onthemove reads as {BENCH_USER} (role analyst, API token: unredacted aggregates)")
    print(f"SQLite: {INDEX}; plan: {'; '.join(plan)}")
    if args.profile_only:
        profile = profile_request(store_dir, token, args.profile_repeat)
        print_profile(profile)
        return {"profile": profile}

    print("\ncheck: the same totals from both servers")
    port = free_port()
    command, ready = onthemove_server(store_dir, port)
    with server(command, ready, OUT / "serve_concurrency_otm_check.log"):
        otm_rows = onthemove_groups(f"http://127.0.0.1:{port}", auth)
    port = free_port()
    command, ready = datasette_server(db, metadata, port, args.datasette_threads[0])
    with server(command, ready, OUT / "serve_concurrency_datasette_check.log"):
        ds_rows = datasette_groups(f"http://127.0.0.1:{port}/{db.stem}/monthly_totals.json?_shape=array")
    checked = check(otm_rows, ds_rows)

    print(f"\nload: wrk -c {args.connections} -t {args.threads} -d {args.duration} --timeout {args.timeout}")
    runs = [run_onthemove(store_dir, args, "onthemove (analyst, no cache)", auth, OUT / "serve_concurrency_otm.log")]
    if args.anonymous:
        log = OUT / "serve_concurrency_otm_anonymous.log"
        runs.append(run_onthemove(store_dir, args, "onthemove (anonymous, no cache)", {}, log))
    log = OUT / "serve_concurrency_otm_cached.log"
    cached = run_onthemove(store_dir, args, "onthemove (analyst, result cache)", auth, log, cache=256)
    peers = [run_datasette(db, metadata, args, threads) for threads in args.datasette_threads]
    runs += [*peers, cached]

    print(f"\nmonthly totals by district over HTTP, {args.rows:,} movements, {os.cpu_count()} CPUs")
    print(f"first page of {PAGE:,} groups (of {len(otm_rows):,}) per request; one request = one aggregate")
    print_table(runs, args.connections)
    ours, peer = runs[0], max(peers, key=lambda r: r["rps"])
    rps_ratio, p95_ratio, meets = compare(ours, peer, args)  # judged without the cache: same work per request
    if peer["rps"]:
        print(f"with the result cache (the default): {cached['rps'] / peer['rps']:.0f}x the peer's req/s")
    else:
        print(f"with the result cache (the default): {cached['rps']:.1f} req/s; the peer completed none")

    profile = None
    if not args.no_profile:
        profile = profile_request(store_dir, token, args.profile_repeat)
        print_profile(profile)

    results = {
        "rows": args.rows,
        "cpus": os.cpu_count(),
        "wrk": {k: getattr(args, k) for k in ("connections", "threads", "duration", "timeout")},
        "onthemove_settings": settings,
        "onthemove_auth": f"{BENCH_USER} (analyst) API token",
        "sqlite": {"file": db.name, "rows": sqlite_rows, "index": INDEX, "plan": plan, "sql": DATASETTE_SQL},
        "check": checked,
        "runs": [{k: v for k, v in r.items() if k != "wrk_output"} for r in runs],
        "peer": peer["server"],
        "rps_ratio": rps_ratio if rps_ratio != float("inf") else None,
        "p95_ratio": p95_ratio,
        "goal_met": meets,
        "profile": profile,
    }
    args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
