"""One linkage run: prepare, block, compare, estimate (u, m by EM, the prior), score, decide, cluster.

The heavy steps are SQL run by a ``Runner`` (DuckDB here, Spark for lists that outgrow one machine); numpy only
sees pattern counts, the pairs above the review threshold and, for clustering on DuckDB, the linked pairs.

    result = run({"agency_a": table}, spec)                      # deduplicate one list
    result = run({"a": table_a, "b": table_b}, spec)              # link two lists (pairs across them only)
    result.pairs     # Arrow: each pair at or above the review threshold, its weight, probability, levels, status
    result.clusters  # Arrow: src, id, cluster_id (the first record of its cluster), cluster_size
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from onthemove.respond.link import block, fs
from onthemove.respond.link.compare import ComparisonSQL, build_all, inner_columns
from onthemove.respond.link.engine import DuckDBRunner, Runner
from onthemove.respond.link.prepare import prepare
from onthemove.respond.link.spec import Spec, SpecError

Decision = str  # "match" | "non_match"
PairKey = tuple[str, str, str, str]  # src_l, id_l, src_r, id_r


@dataclass
class Result:
    mode: str
    spec: Spec
    model: fs.Model
    comparisons: list[ComparisonSQL]
    pairs: pa.Table
    clusters: pa.Table
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def links(self) -> pa.Table:
        return self.pairs.filter(pc.equal(self.pairs["status"], "link"))

    @property
    def review(self) -> pa.Table:
        return self.pairs.filter(pc.equal(self.pairs["status"], "review"))


def probability_to_weight(p: float) -> float:
    return math.log2(p / (1 - p))


def _patterns(table: pa.Table, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    if table.num_rows == 0:
        return np.zeros((0, len(names)), dtype=np.int64), np.zeros(0)
    pats = np.column_stack([table[f"g_{n}"].to_numpy(zero_copy_only=False).astype(np.int64) for n in names])
    return pats, table["n"].to_numpy(zero_copy_only=False).astype(float)


def _count_sql(source: str, comps: list[ComparisonSQL]) -> str:
    g = ", ".join(c.gamma for c in comps)
    return f"SELECT {g}, count(*) AS n FROM ({source}) AS v GROUP BY {g}"


def _gamma_sql(inner_from: str, comps: list[ComparisonSQL], extra: list[str]) -> str:
    outer = [f"CAST({c.case} AS TINYINT) AS {c.gamma}" for c in comps]
    return f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(extra + inner_columns(comps))} {inner_from}) AS x"


def weight_sql(model: fs.Model, comps: list[ComparisonSQL], n_records: int) -> str:
    terms = [repr(model.prior_weight)]
    for c, w in zip(comps, model.weights(), strict=True):
        whens = " ".join(f"WHEN {lvl} THEN {float(x)!r}" for lvl, x in enumerate(w))
        terms.append(f"CASE {c.gamma} {whens} ELSE 0.0 END")
        if c.tf_column and c.tf_level is not None:
            u_exact = float(model.u[comps.index(c)][c.tf_level])
            floor = 1.0 / max(n_records, 1)
            terms.append(
                f"CASE WHEN {c.gamma} = {c.tf_level} AND tf_{c.name} IS NOT NULL "
                f"THEN {math.log2(u_exact)!r} - log2(greatest(tf_{c.name}, {floor!r})) ELSE 0.0 END"
            )
    return " + ".join(terms)


def _display_sql(spec: Spec, side: str) -> list[str]:
    cols = []
    for f in spec.fields:
        if f.type == "bloom":
            continue
        if f.type == "date":
            expr = f"coalesce({side}.{f.name}__iso, {side}.{f.name}__ym, CAST({side}.{f.name}__y AS VARCHAR))"
        else:
            expr = f"{side}.{f.name}"
        cols.append(f"{expr} AS {f.name}_{side}")
    return cols


def _random_pairs(src: np.ndarray, n_pairs: int, mode: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = len(src)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    left = rng.integers(0, n, n_pairs * 3)
    right = rng.integers(0, n, n_pairs * 3)
    keep = src[left] != src[right] if mode == "link" else left != right
    left, right = left[keep][:n_pairs], right[keep][:n_pairs]
    return np.minimum(left, right), np.maximum(left, right)


def total_pairs(src: np.ndarray, mode: str) -> float:
    n = float(len(src))
    all_pairs = n * (n - 1) / 2
    if mode == "link":
        _, sizes = np.unique(src, return_counts=True)
        return all_pairs - float((sizes.astype(float) * (sizes - 1) / 2).sum())
    return all_pairs


def run(
    sources: Mapping[str, pd.DataFrame | pa.Table],
    spec: Spec,
    runner: Runner | None = None,
    *,
    mode: str | None = None,
    decisions: Mapping[PairKey, Decision] | None = None,
    progress: Callable[[str], None] | None = None,
    prepared: pa.Table | None = None,
) -> Result:
    """Link or deduplicate ``sources`` (list name -> records) by ``spec``; see the module docstring."""
    say = progress or (lambda _msg: None)
    mode = mode or ("dedupe" if len(sources) == 1 else "link")
    if mode not in block.MODES:
        raise SpecError(f"mode is one of {', '.join(block.MODES)}, not {mode!r}")
    own_runner = runner is None
    run_on: Runner = runner if runner is not None else DuckDBRunner()
    stats: dict[str, Any] = {"engine": run_on.name, "mode": mode, "seconds": {}}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stats["seconds"][step] = round(now - clock, 3)
        clock = now

    try:
        say("preparing records")
        records = prepared if prepared is not None else prepare(sources, spec)
        n = records.num_rows
        src = records["src"].to_numpy(zero_copy_only=False)
        stats["records"] = n
        widths = {
            f.name: sum(1 for c in records.column_names if c.startswith(f"{f.name}__w"))
            for f in spec.fields
            if f.type == "bloom"
        }
        comps = build_all(spec, widths)
        names = [c.name for c in comps]
        tf_cols = sorted({c.tf_column for c in comps if c.tf_column})
        lap("prepare")

        run_on.load("recs_in", records)
        tf_sql = ", ".join(f"CAST(count(*) OVER (PARTITION BY {c}) AS DOUBLE) / {n} AS {c}__tf" for c in tf_cols)
        run_on.create("recs", f"SELECT *{', ' + tf_sql if tf_sql else ''} FROM recs_in")
        run_on.drop("recs_in")
        lap("load")

        all_pairs = total_pairs(src, mode)
        stats["all_pairs"] = all_pairs
        estimates = []
        for rule in spec.blocking:
            value = run_on.fetch(block.count_sql(rule, mode)).column(0).to_pylist()
            estimates.append(float(sum(v or 0 for v in value)))
        stats["rules"] = [{"rule": r.text, "pairs_at_most": e} for r, e in zip(spec.blocking, estimates, strict=True)]
        if sum(estimates) > spec.max_pairs:
            worst = spec.blocking[int(np.argmax(estimates))].text
            raise SpecError(
                f"{spec.source}: the blocking rules would compare up to {sum(estimates):,.0f} pairs (max_pairs "
                f"{spec.max_pairs:,}); the largest is {worst!r} ({max(estimates):,.0f}): make it stricter"
            )

        say("estimating u from random pairs")
        left, right = _random_pairs(src, int(min(spec.u_pairs, all_pairs)), mode, spec.seed)
        run_on.load("upairs", pa.table({"rid_l": left, "rid_r": right}))
        u_from = "FROM upairs AS p JOIN recs AS l ON l.rid = p.rid_l JOIN recs AS r ON r.rid = p.rid_r"
        u_pats, u_counts = _patterns(run_on.fetch(_count_sql(_gamma_sql(u_from, comps, []), comps)), names)
        run_on.drop("upairs")
        n_levels = [c.levels for c in comps]
        u = fs.marginals(u_pats, u_counts, n_levels)
        stats["u_pairs"] = int(u_counts.sum())
        lap("u")

        say("estimating m by EM")
        m_sum = [np.zeros(k) for k in n_levels]
        m_n = np.zeros(len(comps))
        sessions = []
        sample = max(1, min(1000, round(spec.training_sample * 1000)))
        m_start = fs.default_m(n_levels)
        for rule in spec.training:
            inner = f"FROM ({block.pairs_sql([rule], mode, inner_columns(comps), exclusive=False, sample=sample)}) AS t"
            sql = _count_sql(
                f"SELECT {', '.join(f'CAST({c.case} AS TINYINT) AS {c.gamma}' for c in comps)} {inner}", comps
            )
            pats, counts = _patterns(run_on.fetch(sql), names)
            active = np.array([not set(c.fields) & rule.fields for c in comps])
            info: dict[str, Any] = {"rule": rule.text, "pairs": int(counts.sum())}
            if counts.sum() == 0 or active.sum() < 2:
                # with u fixed, one comparison cannot tell the share of matches from its m
                info["skipped"] = "no pairs" if counts.sum() == 0 else "fewer than two comparisons outside the rule"
                sessions.append(info)
                continue
            fit = fs.em(pats, counts, m_start, u, 0.01, active=active)
            for k in np.flatnonzero(active):
                m_sum[k] += fit.m[k]
                m_n[k] += 1
            info.update(
                match_share=fit.lam,
                iterations=fit.iterations,
                converged=fit.converged,
                estimated=[names[k] for k in np.flatnonzero(active)],
            )
            sessions.append(info)
        m = [m_sum[k] / m_n[k] if m_n[k] else m_start[k] for k in range(len(comps))]
        stats["not_estimated"] = [names[k] for k in range(len(comps)) if not m_n[k]]
        lap("m")

        say("comparing candidate pairs")
        select = ["l.rid AS rid_l", "r.rid AS rid_r", *inner_columns(comps)]
        pairs_sql = block.pairs_sql(spec.blocking, mode, select)
        run_on.create(
            "vectors",
            f"SELECT rule, rid_l, rid_r, {', '.join(_cast_outer(comps))} FROM ({pairs_sql}) AS x",
        )
        per_rule = {
            int(r["rule"]): int(r["n"])
            for r in run_on.fetch("SELECT rule, count(*) AS n FROM vectors GROUP BY rule").to_pylist()
        }
        for i, entry in enumerate(stats["rules"]):
            entry["pairs"] = per_rule.get(i, 0)
        pats, counts = _patterns(run_on.fetch(_count_sql("SELECT * FROM vectors", comps)), names)
        stats["candidate_pairs"] = int(counts.sum())
        lap("compare")

        lam = fs.estimate_lambda(pats, counts, m, u, all_pairs) if counts.sum() else 1e-6
        model = fs.Model(
            names,
            [c.labels for c in comps],
            m,
            u,
            lam,
            {c.name: c.tf_level for c in comps if c.tf_level is not None},
            sessions,
        )
        stats["expected_matches"] = lam * all_pairs

        say("scoring")
        review_w = probability_to_weight(spec.review)
        link_w = probability_to_weight(spec.threshold)
        gam = ", ".join(c.gamma for c in comps)
        run_on.create(
            "scored",
            f"SELECT rid_l, rid_r, rule, {gam}, w AS match_weight FROM "
            f"(SELECT *, {weight_sql(model, comps, n)} AS w FROM vectors) AS v WHERE w >= {review_w!r}",
        )
        run_on.drop("vectors")
        scored = run_on.fetch(
            f"SELECT l.src AS src_l, l.id AS id_l, r.src AS src_r, r.id AS id_r, s.rid_l, s.rid_r, s.rule, "
            f"s.match_weight, 1.0 / (1.0 + power(2.0, -s.match_weight)) AS match_probability, "
            f"{', '.join('s.' + c.gamma for c in comps)} "
            f"FROM scored AS s JOIN recs AS l ON l.rid = s.rid_l JOIN recs AS r ON r.rid = s.rid_r"
        ).to_pandas()
        run_on.drop("scored")
        scored["status"] = np.where(scored["match_weight"] >= link_w, "link", "review")
        scored = _apply_decisions(scored, decisions, records) if decisions else scored
        scored = scored.sort_values(["rid_l", "rid_r"], kind="stable").reset_index(drop=True)
        lap("score")

        say("clustering")
        linked = scored[scored["status"] == "link"]
        rl = linked["rid_l"].to_numpy(np.int64)
        rr = linked["rid_r"].to_numpy(np.int64)
        if run_on.name == "duckdb":
            from onthemove.respond.link.cluster import components

            labels = components(n, rl, rr)
        else:
            from onthemove.respond.link.cluster import components_sql

            run_on.load("links", pa.table({"rid_l": rl, "rid_r": rr}))
            components_sql(run_on, "links")
            got = run_on.fetch("SELECT rid, cluster FROM clusters").to_pandas()
            labels = np.empty(n, dtype=np.int64)
            labels[got["rid"].to_numpy(np.int64)] = got["cluster"].to_numpy(np.int64)
            run_on.drop("clusters")
            run_on.drop("links")
        ids = records["id"].to_numpy(zero_copy_only=False)
        size = np.bincount(labels, minlength=n)[labels]
        clusters = pa.table(
            {
                "src": records["src"],
                "id": records["id"],
                "rid": records["rid"],
                "cluster_id": pa.array(ids[labels].astype(str)),
                "cluster_size": pa.array(size.astype(np.int64)),
            }
        )
        stats.update(
            links=int((scored["status"] == "link").sum()),
            review=int((scored["status"] == "review").sum()),
            clusters=len(np.unique(labels)),
            records_in_duplicate_clusters=int((size > 1).sum()),
        )
        lap("cluster")
        stats["seconds"]["total"] = round(sum(stats["seconds"].values()), 3)
        return Result(mode, spec, model, comps, pa.Table.from_pandas(scored, preserve_index=False), clusters, stats)
    finally:
        if own_runner:
            run_on.close()


def _cast_outer(comps: list[ComparisonSQL]) -> list[str]:
    """The levels as TINYINT and the term frequency of each TF-adjusted comparison."""
    cols = [f"CAST({c.case} AS TINYINT) AS {c.gamma}" for c in comps]
    return cols + [f"{c.tf_column}__tf AS tf_{c.name}" for c in comps if c.tf_column]


def _apply_decisions(scored: pd.DataFrame, decisions: Mapping[PairKey, Decision], records: pa.Table) -> pd.DataFrame:
    """Clerical decisions override the model: a pair decided a match is a link, a non-match never is."""
    key = list(zip(scored["src_l"], scored["id_l"], scored["src_r"], scored["id_r"], strict=True))
    verdict = [decisions.get(k) or decisions.get((k[2], k[3], k[0], k[1])) for k in key]
    status = scored["status"].to_numpy(dtype=object)
    for i, v in enumerate(verdict):
        if v == "match":
            status[i] = "link"
        elif v == "non_match":
            status[i] = "rejected"
    scored = scored.assign(status=status)
    seen = {k for k, v in zip(key, verdict, strict=True) if v}
    rid = {
        (s, i): r
        for s, i, r in zip(
            records["src"].to_pylist(), records["id"].to_pylist(), records["rid"].to_pylist(), strict=True
        )
    }
    extra = []
    for (sl, il, sr, ir), v in decisions.items():
        if v != "match" or (sl, il, sr, ir) in seen or (sr, ir, sl, il) in seen:
            continue
        if (sl, il) in rid and (sr, ir) in rid:
            extra.append(
                {
                    "src_l": sl,
                    "id_l": il,
                    "src_r": sr,
                    "id_r": ir,
                    "rid_l": rid[(sl, il)],
                    "rid_r": rid[(sr, ir)],
                    "rule": -1,
                    "match_weight": np.nan,
                    "match_probability": np.nan,
                    "status": "link",
                }
            )
    if extra:
        scored = pd.concat([scored, pd.DataFrame(extra)], ignore_index=True)
    return scored
