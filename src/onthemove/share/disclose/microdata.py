"""``check`` and ``apply`` on microdata: what the disclosure risk is, and what it costs to bring it down.

``check`` looks at the file as it is (values as recorded, ``*`` for a suppressed cell): k achieved, records
that violate k-anonymity for several k, l-diversity of each sensitive attribute, individual and global
re-identification risk, and whether all of that passes the spec's thresholds. Records whose every
quasi-identifier is suppressed cannot be told apart by them and are left out of k and l (as ARX does).

``apply`` searches the generalisation lattice (``lattice.py``) for the node of least loss that is feasible,
then suppresses the records of the unsafe classes (``suppression: records``, they are dropped) or blanks
their quasi-identifiers to ``*`` one at a time, the one with most distinct values first, until each of them
is in a safe class or fully suppressed (``suppression: cells``). It reports the levels chosen, what was
suppressed, the loss (``loss.py``) and the risk before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from onthemove.share.disclose.groups import combine, diversity, unsafe_classes
from onthemove.share.disclose.hierarchy import TOP, DisclosureError
from onthemove.share.disclose.lattice import Encoded, Search, search
from onthemove.share.disclose.loss import Loss, release_loss
from onthemove.share.disclose.risk import Risk, key_risk, summarise
from onthemove.share.disclose.spec import Spec


@dataclass(frozen=True)
class Diversity:
    attribute: str
    l: int  # noqa: E741  # distinct l achieved (smallest number of distinct values in a class)
    entropy_l: float | None  # smallest exp(entropy) over the classes, when asked for
    violating_classes: int
    violating_records: int

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attribute": self.attribute,
            "l": self.l,
            "violating_classes": self.violating_classes,
            "violating_records": self.violating_records,
        }
        if self.entropy_l is not None:
            out["entropy_l"] = round(self.entropy_l, 4)
        return out


@dataclass(frozen=True)
class CheckReport:
    records: int
    quasi_identifiers: list[str]
    k_target: int
    k: int  # achieved: the smallest class (records fully suppressed left out)
    classes: int
    fully_suppressed: int
    violators: dict[int, int]  # k -> records in classes smaller than k
    l_target: int
    diversity: list[Diversity]
    risk: Risk
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "problems": self.problems,
            "records": self.records,
            "quasi_identifiers": self.quasi_identifiers,
            "k_target": self.k_target,
            "k": self.k,
            "classes": self.classes,
            "fully_suppressed": self.fully_suppressed,
            "violators": {str(k): v for k, v in self.violators.items()},
            "l_target": self.l_target,
            "l_diversity": [d.to_dict() for d in self.diversity],
            "risk": self.risk.to_dict(),
        }


def check(df: pd.DataFrame, spec: Spec, ks: tuple[int, ...] = (2, 3, 5)) -> CheckReport:
    """k-anonymity, l-diversity and re-identification risk of the data as they are."""
    qis = spec.qi_names
    n = len(df)
    codes, cards = [], []
    for c in qis:
        values = df[c].astype(str)
        cc, uniques = pd.factorize(values, sort=False)
        cc = np.where(values.to_numpy() == TOP, -1, cc)
        codes.append(cc)
        cards.append(len(uniques))
    if n == 0:
        ids, n_classes = np.zeros(0, dtype=np.int64), 0
    else:
        ids, n_classes = combine(codes, cards)
    whole = np.all(np.stack(codes, axis=1) == -1, axis=1) if n else np.zeros(0, dtype=bool)
    counted = ~whole
    ones = counted.astype(float)
    sizes = np.bincount(ids, weights=ones, minlength=n_classes)
    in_data = sizes > 0
    k_achieved = int(sizes[in_data].min()) if in_data.any() else 0
    violators = {k: int((sizes[ids][counted] < k).sum()) for k in sorted({*ks, spec.k})}
    # l-diversity of each sensitive attribute, within the classes
    div = []
    for s in spec.sensitive:
        sc, su = pd.factorize(df[s].astype(str), sort=False)
        sc = np.where(counted, sc, 0)
        distinct, ent = diversity(ids, n_classes, ones, sc.astype(np.int64), len(su), sizes, spec.entropy_l)
        distinct = np.where(in_data, distinct, np.iinfo(np.int64).max)
        bad = in_data & ((distinct < spec.l) | (spec.entropy_l & (ent < spec.l - 1e-9)))
        div.append(
            Diversity(
                attribute=s,
                l=int(distinct[in_data].min()) if in_data.any() else 0,
                entropy_l=float(ent[in_data].min()) if spec.entropy_l and in_data.any() else None,
                violating_classes=int(bad.sum()),
                violating_records=int(sizes[bad].sum()),
            )
        )
    # risk: every record, the fully suppressed ones as one class of their own
    all_sizes = np.bincount(ids, minlength=n_classes).astype(float)
    weights = None
    if spec.weight:
        w = pd.to_numeric(df[spec.weight], errors="coerce")
        if w.isna().any():
            raise DisclosureError(f"weight column {spec.weight!r}: expected numbers in every row")
        weights = np.bincount(ids, weights=w.to_numpy(dtype=float), minlength=n_classes)
    r = key_risk(all_sizes, weights)[ids] if n else np.zeros(0)
    risk = summarise(r, spec.risk_ceiling, 1.0 / spec.k, weighted=weights is not None)
    problems = []
    if k_achieved < spec.k and in_data.any():
        problems.append(f"k = {k_achieved} < {spec.k}: {violators[spec.k]:,} records in classes smaller than {spec.k}")
    for d in div:
        if d.violating_classes:
            problems.append(
                f"l-diversity of {d.attribute!r}: {d.violating_classes:,} classes ({d.violating_records:,} records) "
                f"with fewer than l = {spec.l}"
            )
    if not risk.passed:
        problems.append(f"global risk {risk.global_risk:.2%} is above the ceiling {spec.risk_ceiling:.2%}")
    return CheckReport(
        records=n,
        quasi_identifiers=qis,
        k_target=spec.k,
        k=k_achieved,
        classes=int(in_data.sum()),
        fully_suppressed=int(whole.sum()),
        violators=violators,
        l_target=spec.l,
        diversity=div,
        risk=risk,
        problems=problems,
    )


@dataclass
class ApplyResult:
    data: pd.DataFrame
    levels: dict[str, tuple[int, int]]  # quasi-identifier -> (level chosen, height)
    suppression: str
    loss: Loss
    before: CheckReport
    after: CheckReport
    search: Search

    def to_dict(self) -> dict[str, Any]:
        best = self.search.best
        return {
            "levels": {q: {"level": lv, "height": h} for q, (lv, h) in self.levels.items()},
            "suppression": self.suppression,
            "suppressed_records": self.loss.suppressed_records,
            "suppressed_cells": self.loss.suppressed_cells,
            "records_out": len(self.data),
            "loss": self.loss.to_dict(self.before.records),
            "search": {
                "metric": self.search.metric,
                "nodes": self.search.nodes,
                "evaluated": self.search.evaluated,
                "seconds": round(self.search.seconds, 3),
                "suppression_cap_records": self.search.cap,
                "node_loss": None if best is None else round(best.loss, 6),
            },
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
        }


def apply(df: pd.DataFrame, spec: Spec) -> ApplyResult:
    """Generalise and suppress until the data meet k, l and the risk ceiling with the least loss."""
    before = check(df, spec)
    enc = Encoded(df, spec)
    found = search(enc)
    if found.best is None:
        near = found.closest
        hint = (
            f"; the closest node ({_levels_text(enc, near.levels)}) would suppress {near.suppressed:,} records"
            f" with a global risk of {near.global_risk:.2%}"
            if near is not None
            else ""
        )
        raise DisclosureError(
            f"no generalisation of {', '.join(enc.names)} meets k = {spec.k}, l = {spec.l}"
            + (f", global risk <= {spec.risk_ceiling:.2%}" if spec.risk_ceiling is not None else "")
            + f" with at most {found.cap:,} suppressed records ({spec.suppression_cap:.1%}){hint}"
        )
    node = found.best
    unsafe = node.unsafe_rows[enc.row_of]  # per record
    q = len(enc.hierarchies)
    if spec.suppression == "cells":
        cells = _suppress_cells(enc, node.levels, unsafe)
    else:
        cells = np.repeat(unsafe[:, None], q, axis=1)
    loss = release_loss(enc, node.levels, cells, spec.k)
    out = df.copy()
    for j, (h, lv) in enumerate(zip(enc.hierarchies, node.levels, strict=True)):
        labels = h.generalise(enc.codes[j], lv)
        out[h.column] = np.where(cells[:, j], TOP, labels)
    if spec.suppression == "records":
        out = out.loc[~unsafe].reset_index(drop=True)
    after = check(out, spec)
    levels = {h.column: (lv, h.height) for h, lv in zip(enc.hierarchies, node.levels, strict=True)}
    return ApplyResult(out, levels, spec.suppression, loss, before, after, found)


def _suppress_cells(enc: Encoded, levels: tuple[int, ...], unsafe: np.ndarray) -> np.ndarray:
    """Blank the quasi-identifiers of unsafe records to ``*``, most distinct values first, until each of them
    is in a safe class or fully suppressed. Returns the suppressed cells (records x quasi-identifiers)."""
    spec = enc.spec
    q = len(enc.hierarchies)
    g = np.stack([h.maps[lv][c] for h, lv, c in zip(enc.hierarchies, levels, enc.codes, strict=True)], axis=1)
    cards = [len(h.labels[lv]) for h, lv in zip(enc.hierarchies, levels, strict=True)]
    for j, (h, lv) in enumerate(zip(enc.hierarchies, levels, strict=True)):
        if lv == h.height:  # '*' already: the same as a suppressed cell
            g[:, j] = -1
    order = np.argsort([-c for c in cards], kind="stable")
    ones = np.ones(enc.n)
    cells = np.zeros((enc.n, q), dtype=bool)
    todo = unsafe.copy()
    for j in order:
        if not todo.any():
            break
        cells[todo, j] = True
        g[todo, j] = -1
        ids, n_classes = combine([g[:, i] for i in range(q)], cards)
        _, bad = unsafe_classes(
            ids, n_classes, ones, spec.k, enc.sensitive, enc.sensitive_cards, spec.l, spec.entropy_l
        )
        todo = bad[ids] & ~(g == -1).all(axis=1)
    return cells


def _levels_text(enc: Encoded, levels: tuple[int, ...]) -> str:
    return ", ".join(f"{n} {lv}/{h.height}" for n, h, lv in zip(enc.names, enc.hierarchies, levels, strict=True))
