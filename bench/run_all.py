"""Run every benchmark: small (1M rows) by default, the full 10M rows with --full.

    .venv/bin/python bench/run_all.py [--full] [--rows N]

Each benchmark runs as its own process and prints its own table; see bench/README.md.
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
    args = ap.parse_args(argv)
    rows = args.rows or (10_000_000 if args.full else 1_000_000)
    failed = 0
    for script in BENCHMARKS:
        print(f"\n=== {script} --rows {rows:,}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / script), "--rows", str(rows)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
