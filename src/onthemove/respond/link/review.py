"""The clerical-review queue: pairs in the uncertain band, stored with their comparison details, and the
decisions people take on them (who, when, why), kept in the store and in the audit log.

A run (``save_run``) stores its summary and model and one review item per pair whose match probability lies
between the review threshold and the link threshold: the two record ids and, per comparison, the level and
its weight. No names or dates go into the store: the reviewer sees the values from the lists themselves
(``onthemove review list --records FILE``). ``decide`` appends a decision (match, non_match or unsure);
``decisions`` returns the latest match/non_match per pair, which the next run applies over the model
(``pipeline.run(decisions=...)``): a pair decided a match is linked, a non-match never is.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from onthemove.respond.link.pipeline import PairKey, Result
from onthemove.store.base import Store

DECISIONS = ("match", "non_match", "unsure")


class ReviewError(ValueError):
    """A review command that cannot be carried out; the message says why."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def item_details(result: Result) -> list[dict[str, Any]]:
    """Per review pair: each comparison's level label and weight (from the model), best evidence first."""
    review = result.review.to_pandas()
    weights = result.model.weights()
    out = []
    for _, row in review.iterrows():
        comps = []
        for k, c in enumerate(result.comparisons):
            level = int(row[c.gamma])
            comps.append(
                {
                    "comparison": c.name,
                    "level": c.labels[level] if level >= 0 else "missing",
                    "weight": 0.0 if level < 0 else round(float(weights[k][level]), 2),
                }
            )
        out.append({"comparisons": comps, "prior_weight": round(result.model.prior_weight, 2)})
    return out


def save_run(store: Store, result: Result, created_by: str) -> str:
    """Store the run and its review items; returns the run id."""
    run_id = uuid.uuid4().hex[:12]
    review = result.review
    details = item_details(result)
    sources = sorted(set(result.clusters["src"].to_pylist()))
    with store.transaction():
        store.execute(
            "INSERT INTO linkage_runs VALUES ($run_id, $at, $by, $mode, $sources, $records, $pairs, $links, $items, "
            "$threshold, $review, $model)",
            {
                "run_id": run_id,
                "at": _now(),
                "by": created_by,
                "mode": result.mode,
                "sources": json.dumps(sources),
                "records": int(result.stats["records"]),
                "pairs": int(result.stats["candidate_pairs"]),
                "links": int(result.stats["links"]),
                "items": review.num_rows,
                "threshold": result.spec.threshold,
                "review": result.spec.review,
                "model": json.dumps(result.model.to_dict(), default=str),
            },
        )
        if review.num_rows:
            items = pa.table(
                {
                    "run_id": [run_id] * review.num_rows,
                    "item": np.arange(1, review.num_rows + 1, dtype=np.int64),
                    "src_l": review["src_l"],
                    "id_l": review["id_l"],
                    "src_r": review["src_r"],
                    "id_r": review["id_r"],
                    "match_probability": review["match_probability"],
                    "match_weight": review["match_weight"],
                    "details": [json.dumps(d) for d in details],
                }
            )
            store.load_arrow("linkage_review_items", items)
    return run_id


def runs(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    return store.fetch_dicts(
        "SELECT run_id, created_at, created_by, mode, sources, records, candidate_pairs, links, review_items "
        "FROM linkage_runs ORDER BY created_at DESC LIMIT $limit",
        {"limit": limit},
    )


def latest_run(store: Store) -> str | None:
    row = store.fetch_one("SELECT run_id FROM linkage_runs ORDER BY created_at DESC LIMIT 1")
    return None if row is None else str(row[0])


_LATEST = (
    "SELECT run_id, item, decision, decided_by, decided_at, reason FROM ("
    "SELECT *, row_number() OVER (PARTITION BY run_id, item ORDER BY decision_id DESC) AS k "
    "FROM linkage_decisions WHERE run_id IS NOT NULL) AS d WHERE k = 1"
)


def items(store: Store, run_id: str | None = None, status: str = "open", limit: int = 50) -> list[dict[str, Any]]:
    """Review items of a run (default: the latest): ``open`` (no decision yet, or unsure), ``decided`` or ``all``,
    most uncertain first (probability nearest 0.5)."""
    run_id = run_id or latest_run(store)
    if run_id is None:
        return []
    where = {"open": "(d.decision IS NULL OR d.decision = 'unsure')", "decided": "d.decision IS NOT NULL", "all": "1=1"}
    if status not in where:
        raise ReviewError(f"status is open, decided or all, not {status!r}")
    rows = store.fetch_dicts(
        "SELECT i.run_id, i.item, i.src_l, i.id_l, i.src_r, i.id_r, i.match_probability, i.match_weight, i.details, "
        "d.decision, d.decided_by, d.decided_at, d.reason FROM linkage_review_items AS i "
        f"LEFT JOIN ({_LATEST}) AS d ON d.run_id = i.run_id AND d.item = i.item "
        f"WHERE i.run_id = $run AND {where[status]} ORDER BY abs(i.match_probability - 0.5), i.item LIMIT $limit",
        {"run": run_id, "limit": limit},
    )
    for r in rows:
        r["details"] = json.loads(r["details"])
    return rows


def decide(
    store: Store, run_id: str | None, item: int, decision: str, decided_by: str, reason: str | None = None
) -> dict[str, Any]:
    """Record a decision on one review item (appended; the audit log gets an entry too)."""
    if decision not in DECISIONS:
        raise ReviewError(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    if not decided_by:
        raise ReviewError("a decision needs the name of who took it")
    run_id = run_id or latest_run(store)
    found = store.fetch_one(
        "SELECT src_l, id_l, src_r, id_r FROM linkage_review_items WHERE run_id = $run AND item = $item",
        {"run": run_id, "item": item},
    )
    if found is None:
        raise ReviewError(f"no review item {item} in run {run_id}")
    from onthemove.access.audit import record

    at = _now()
    with store.transaction():
        last = store.fetch_one("SELECT max(decision_id) FROM linkage_decisions")
        decision_id = int(last[0]) + 1 if last and last[0] is not None else 1
        store.execute(
            "INSERT INTO linkage_decisions VALUES ($id, $run, $item, $sl, $il, $sr, $ir, $decision, $by, $at, $reason)",
            {
                "id": decision_id,
                "run": run_id,
                "item": item,
                "sl": found[0],
                "il": found[1],
                "sr": found[2],
                "ir": found[3],
                "decision": decision,
                "by": decided_by,
                "at": at,
                "reason": reason,
            },
        )
        record(store, decided_by, "linkage.decide", f"{run_id}/{item}", {"decision": decision, "reason": reason})
    return {"decision_id": decision_id, "run_id": run_id, "item": item, "decision": decision, "decided_at": at}


def decisions(store: Store) -> dict[PairKey, str]:
    """The latest match / non_match decision per pair, over all runs (unsure ones do not override the model)."""
    rows = store.fetch(
        "SELECT src_l, id_l, src_r, id_r, decision FROM ("
        "SELECT *, row_number() OVER (PARTITION BY src_l, id_l, src_r, id_r ORDER BY decision_id DESC) AS k "
        "FROM linkage_decisions) AS d WHERE k = 1 AND decision <> 'unsure'"
    )
    return {(str(a), str(b), str(c), str(d)): str(e) for a, b, c, d, e in rows}
