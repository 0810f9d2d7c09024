"""Benchmark: k-anonymisation of Adult, ours against anjana, in the same run, on the same input.

    .venv/bin/python bench/disclose_adult.py [--ks 2,5,10] [--cap 50]

Adult (32,561 records, ../shared/data/privacy/adult or $SHARED_DATA/privacy/adult) with anjana's own hierarchies
and the six quasi-identifiers of anjana's README example (age, education, marital-status, occupation, sex,
native-country; race dropped as an identifier), k = 2, 5 and 10, the same suppression limit for both
(--cap, percent of records; anjana's example uses 50).

  anjana 1.2.3  installed from PyPI into its own venv, bench/out/anjana-venv (made here when missing:
                python3.11 -m venv bench/out/anjana-venv && bench/out/anjana-venv/bin/pip install anjana==1.2.3);
                it pins numpy 2.0.2, typer 0.23 and pydantic 2.13, which the project cannot take, so it is
                not a project dependency. This script runs itself in that venv with --anjana-worker.
  ours          onthemove.share.disclose.apply: the lattice search for the node of least LM.

Both times are for the anonymisation alone (the data already in memory). The released data of anjana are
read back and checked against our generalisation at anjana's levels, then both releases are scored by the
same code (onthemove.share.disclose.loss.release_loss): suppressed records, LM, precision, non-uniform entropy,
discernibility, average class size. Figures go to bench/out/disclose_adult.json.
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

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
VENV = OUT / "anjana-venv"
SHARED = Path(os.environ.get("SHARED_DATA", HERE.parent.parent / "shared" / "data"))
ADULT = SHARED / "privacy" / "adult"
QIS = {
    "age": "age",
    "education": "education",
    "marital-status": "marital",
    "occupation": "occupation",
    "sex": "sex",
    "native-country": "country",
}


def anjana_worker(ks: list[int], cap: float, out: Path) -> None:
    """Runs inside the anjana venv: anonymise with anjana, write levels, time and the released rows."""
    import pandas as pd
    from anjana.anonymity import k_anonymity
    from anjana.anonymity.utils import utils

    data = pd.read_csv(ADULT / "adult.csv")
    data.columns = data.columns.str.strip()
    for col in ["workclass", "education", "marital-status", "occupation", "sex", "native-country"]:
        data[col] = data[col].str.strip()
    qi = list(QIS)
    results = []
    for k in ks:
        hierarchies = {q: dict(pd.read_csv(ADULT / "hierarchies" / f"{f}.csv", header=None)) for q, f in QIS.items()}
        started = time.perf_counter()
        anon = k_anonymity(data, ["race"], qi, k, cap, hierarchies)
        seconds = time.perf_counter() - started
        levels = utils.get_transformation(anon, qi, hierarchies)
        kept = anon["index"].tolist() if "index" in anon.columns else list(range(len(anon)))
        released = out.parent / f"anjana_k{k}.csv"
        anon.assign(_row=kept)[["_row", *qi]].to_csv(released, index=False)
        results.append({"k": k, "seconds": seconds, "levels": levels, "suppressed": len(data) - len(anon)})
        print(f"anjana k={k}: {seconds:.2f} s, {len(data) - len(anon):,} suppressed, levels {levels}", flush=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        print("installing anjana 1.2.3 from PyPI into bench/out/anjana-venv ...", flush=True)
        subprocess.run(["python3.11", "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "anjana==1.2.3"], check=True)
    return python


def run_anjana(ks: list[int], cap: float) -> list[dict[str, Any]]:
    python = ensure_venv()
    out = OUT / "anjana_results.json"
    args = [str(python), __file__, "--anjana-worker", str(out), "--ks", ",".join(map(str, ks)), "--cap", str(cap)]
    subprocess.run(args, check=True)
    return json.loads(out.read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ks", default="2,5,10")
    parser.add_argument("--cap", type=float, default=50.0, help="suppression limit, percent of records")
    parser.add_argument("--anjana-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    if args.anjana_worker:
        anjana_worker(ks, args.cap, args.anjana_worker)
        return
    if not (ADULT / "adult.csv").is_file():
        print(f"Adult not found at {ADULT}: nothing to measure")
        return

    import numpy as np

    from onthemove.share.disclose.lattice import Encoded, evaluate
    from onthemove.share.disclose.loss import release_loss
    from onthemove.share.disclose.microdata import apply
    from onthemove.share.disclose.spec import read_data, spec_from_dict

    OUT.mkdir(parents=True, exist_ok=True)
    peer = {r["k"]: r for r in run_anjana(ks, args.cap)}
    rows: list[dict[str, Any]] = []
    for k in ks:
        spec = spec_from_dict(
            {
                "identifiers": ["race"],
                "quasi_identifiers": {
                    q: {"hierarchy": str(ADULT / "hierarchies" / f"{f}.csv")} for q, f in QIS.items()
                },
                "sensitive": ["salary-class"],
                "k": k,
                "l": 1,
                "suppression_cap": args.cap / 100,
                "risk_ceiling": None,
                "loss": "lm",
            }
        )
        df = read_data(ADULT / "adult.csv", spec)
        started = time.perf_counter()
        ours = apply(df, spec)
        ours_s = time.perf_counter() - started
        enc = Encoded(df, spec)
        q = len(enc.hierarchies)
        # anjana's release, read back, checked against our generalisation at its levels, scored the same way
        a = peer[k]
        levels = tuple(int(x) for x in a["levels"])
        released = _read_released(OUT / f"anjana_k{k}.csv")
        kept = np.zeros(enc.n, dtype=bool)
        kept[released["_row"].to_numpy()] = True
        for j, h in enumerate(enc.hierarchies):
            expected = h.generalise(enc.codes[j][released["_row"].to_numpy()], levels[j])
            if not (released[h.column].astype(str).str.strip().to_numpy() == expected.astype(str)).all():
                raise SystemExit(f"k={k}: anjana's {h.column} is not our generalisation at level {levels[j]}")
        peer_loss = release_loss(enc, levels, np.repeat(~kept[:, None], q, axis=1), k)
        node = evaluate(enc, levels, "lm", int(args.cap / 100 * enc.n))
        assert node.suppressed == a["suppressed"], (node.suppressed, a["suppressed"])  # same node, same count
        for tool, seconds, lv, loss in (
            ("anjana", a["seconds"], levels, peer_loss),
            ("ours", ours_s, tuple(v for v, _ in ours.levels.values()), ours.loss),
        ):
            rows.append(
                {
                    "k": k,
                    "tool": tool,
                    "seconds": round(seconds, 3),
                    "levels": list(lv),
                    **loss.to_dict(enc.n),
                    **({"evaluated": ours.search.evaluated, "nodes": ours.search.nodes} if tool == "ours" else {}),
                }
            )
    _print(rows)
    body = {
        "data": "Adult, 32,561 records; anjana's hierarchies; QIs " + ", ".join(QIS),
        "suppression_cap_percent": args.cap,
        "anjana": "1.2.3",
        "rows": rows,
    }
    (OUT / "disclose_adult.json").write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {OUT / 'disclose_adult.json'}")


def _read_released(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path, dtype=str, keep_default_na=False).astype({"_row": int})


def _print(rows: list[dict[str, Any]]) -> None:
    head = f"{'k':>3} {'tool':<7} {'seconds':>8} {'suppressed':>10} {'levels':<20} {'LM':>7} {'prec':>7} "
    head += f"{'entropy':>7} {'discern.':>14} {'C_avg':>6}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['k']:>3} {r['tool']:<7} {r['seconds']:>8.3f} {r['suppressed_records']:>10,} "
            f"{','.join(map(str, r['levels'])):<20} {r['lm']:>7.4f} {r['precision']:>7.4f} {r['entropy']:>7.4f} "
            f"{r['discernibility']:>14,} {r['avg_class_size']:>6.2f}"
        )
    print("\nanjana / ours (above 1: ours is faster or loses less)")
    for k in sorted({r["k"] for r in rows}):
        a = next(r for r in rows if r["k"] == k and r["tool"] == "anjana")
        o = next(r for r in rows if r["k"] == k and r["tool"] == "ours")

        def ratio(key: str, a: dict[str, Any] = a, o: dict[str, Any] = o) -> str:
            return f"{a[key] / o[key]:.2f}" if o[key] else "inf"

        print(
            f"  k={k:>2}: time {ratio('seconds')}, suppressed {ratio('suppressed_records')}, LM {ratio('lm')}, "
            f"precision {ratio('precision')}, entropy {ratio('entropy')}, discernibility {ratio('discernibility')}"
        )


if __name__ == "__main__":
    sys.exit(main())
