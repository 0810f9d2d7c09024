"""Run every benchmark: small (1M rows) by default, the full 10M rows with --full.

    .venv/bin/python bench/run_all.py [--full] [--rows N] [--serve] [--overview]

Each benchmark runs as its own process and prints its own table; see bench/README.md.
--serve adds serve_concurrency.py (wrk against onthemove serve and Datasette: a few minutes) and
--overview adds overview_draw.py (the overview page in Chromium, on the Somalia store); both are off
by default so that `make bench` stays short.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("ingest_hxl.py", "monthly_totals.py")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="10,000,000 rows, as the goals are stated")
    ap.add_argument("--rows", type=int, help="rows in the benchmark file (default 1,000,000; 10,000,000 with --full)")
    ap.add_argument("--serve", action="store_true", help="also serve_concurrency.py (50 clients over HTTP, minutes)")
    ap.add_argument("--overview", action="store_true", help="also overview_draw.py (Chromium, Somalia store)")
    args = ap.parse_args(argv)
    rows = args.rows or (10_000_000 if args.full else 1_000_000)
    commands = [(script, ["--rows", str(rows)]) for script in BENCHMARKS]
    if args.serve:
        commands.append(("serve_concurrency.py", ["--rows", str(rows)]))
    if args.overview:
        commands.append(("overview_draw.py", []))
    failed = 0
    for script, extra in commands:
        print(f"\n=== {script} {' '.join(extra)}".rstrip(), flush=True)
        failed += subprocess.run([sys.executable, str(HERE / script), *extra], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
