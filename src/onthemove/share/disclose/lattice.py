"""k-anonymity by full-domain generalisation: search the lattice of generalisation levels.

A node of the lattice gives each quasi-identifier one level of its hierarchy. At a node, the records of every
class that is unsafe (fewer than k records, or not l-diverse) would be suppressed; the node is *feasible* when
those records are at most the suppression cap and the global risk of what is left is under the ceiling. The
search returns the feasible node of least information loss (LM by default; ``loss.py``), counting the
suppressed records as fully lost, as ARX does with its suppression limit.

Why our own search and not a library: ARX (Java) is the reference but not a Python dependency; anjana and
pycanon generalise greedily, one quasi-identifier at a time, and stop at the first node within the cap, which
is not the node of least loss (``bench/disclose_adult.py`` measures the difference). Lattices of everyday
microdata are small (Adult's six quasi-identifiers: 1,512 nodes), so the search evaluates nodes in order of a
lower bound of their loss (the loss of the generalisation alone, which suppression can only raise) and stops
as soon as that bound exceeds the best feasible loss found: an exact optimum, usually after a fraction of the
nodes. A node is evaluated on the distinct combinations of quasi-identifier and sensitive values (with their
counts), not on the records.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from onthemove.share.disclose.groups import combine, unsafe_classes
from onthemove.share.disclose.hierarchy import DisclosureError, Hierarchy
from onthemove.share.disclose.risk import key_risk
from onthemove.share.disclose.spec import Spec

MAX_NODES = 2_000_000


class Encoded:
    """The data as integer codes: per quasi-identifier the value index, per sensitive attribute a code,
    and the distinct combinations with their counts (what node evaluation runs on)."""

    def __init__(self, df: pd.DataFrame, spec: Spec) -> None:
        self.spec = spec
        self.n = len(df)
        if self.n == 0:
            raise DisclosureError("the data hold no records")
        self.names = spec.qi_names
        self.hierarchies: list[Hierarchy] = [q.build(df[q.column]) for q in spec.quasi_identifiers]
        self.codes = [h.index(df[h.column]) for h in self.hierarchies]
        self.sensitive: list[np.ndarray] = []
        self.sensitive_cards: list[int] = []
        for s in spec.sensitive:
            codes, uniques = pd.factorize(df[s].astype(str), sort=False)
            self.sensitive.append(codes.astype(np.int64))
            self.sensitive_cards.append(len(uniques))
        self.weights: np.ndarray | None = None
        if spec.weight:
            w = pd.to_numeric(df[spec.weight], errors="coerce")
            if w.isna().any() or (w < 0).any():
                bad = df.loc[w.isna() | (w < 0), spec.weight].head(3).tolist()
                raise DisclosureError(f"weight column {spec.weight!r}: expected non-negative numbers, found {bad}")
            self.weights = w.to_numpy(dtype=float)
        # distinct rows: quasi-identifier value indexes and sensitive codes, with counts (and weight sums)
        cols = [*self.codes, *self.sensitive]
        cards = [len(h.values) for h in self.hierarchies] + self.sensitive_cards
        self.row_of, m = combine(cols, cards)
        first = np.full(m, -1, dtype=np.int64)
        first[self.row_of[::-1]] = np.arange(self.n - 1, -1, -1)  # the first record of each distinct row
        self.d_codes = [c[first] for c in self.codes]
        self.d_sensitive = [s[first] for s in self.sensitive]
        self.d_counts = np.bincount(self.row_of, minlength=m).astype(float)
        self.d_weights = None if self.weights is None else np.bincount(self.row_of, weights=self.weights, minlength=m)
        # loss tables: LM per label, bits per value, per level
        self.lm: list[list[np.ndarray]] = []
        self.bits: list[list[np.ndarray]] = []
        self.max_bits = 0.0
        for h, codes in zip(self.hierarchies, self.codes, strict=True):
            domain = len(h.values)
            self.lm.append([(leaves - 1) / max(domain - 1, 1) for leaves in h.leaves])
            value_freq = np.bincount(codes, minlength=domain).astype(float)
            per_level = []
            for level in range(h.height + 1):
                label_freq = np.bincount(h.maps[level], weights=value_freq, minlength=len(h.labels[level]))
                with np.errstate(divide="ignore", invalid="ignore"):
                    b = np.log2(label_freq[h.maps[level]] / value_freq)
                per_level.append(np.where(value_freq > 0, b, 0.0))
            self.bits.append(per_level)
            self.max_bits += float(per_level[-1][codes].sum())

    @property
    def heights(self) -> list[int]:
        return [h.height for h in self.hierarchies]

    def generalisation_loss(self, metric: str) -> list[np.ndarray]:
        """Per quasi-identifier and level: its share of the loss of the generalisation alone (no suppression)."""
        q = len(self.hierarchies)
        out = []
        for j, h in enumerate(self.hierarchies):
            if metric == "lm":
                per = [float((self.lm[j][lv][h.maps[lv][self.codes[j]]]).mean()) / q for lv in range(h.height + 1)]
            elif metric == "precision":
                per = [lv / h.height / q for lv in range(h.height + 1)]
            elif metric == "entropy":
                per = [
                    float(self.bits[j][lv][self.codes[j]].sum()) / (self.max_bits or 1.0) for lv in range(h.height + 1)
                ]
            else:  # discernibility: no cheap bound
                per = [0.0] * (h.height + 1)
            out.append(np.array(per))
        return out


@dataclass
class Node:
    levels: tuple[int, ...]
    suppressed: int  # records in unsafe classes
    classes: int
    min_class: int  # smallest safe class (0 when none)
    global_risk: float  # of the records left
    loss: float  # of the metric searched on, suppressed records counted as lost
    feasible: bool
    unsafe_rows: np.ndarray = field(repr=False)  # per distinct row: in an unsafe class


def evaluate(enc: Encoded, levels: tuple[int, ...], metric: str, cap: int) -> Node:
    """Classes, unsafe records, risk and loss at one node, on the distinct rows."""
    spec = enc.spec
    g = [h.maps[lv][c] for h, lv, c in zip(enc.hierarchies, levels, enc.d_codes, strict=True)]
    ids, n_classes = combine(g, [len(h.labels[lv]) for h, lv in zip(enc.hierarchies, levels, strict=True)])
    sizes, bad = unsafe_classes(
        ids, n_classes, enc.d_counts, spec.k, enc.d_sensitive, enc.sensitive_cards, spec.l, spec.entropy_l
    )
    unsafe_rows = bad[ids]
    suppressed = int(enc.d_counts[unsafe_rows].sum())
    kept = ~bad
    left = enc.n - suppressed
    if left:
        wsums = None if enc.d_weights is None else np.bincount(ids, weights=enc.d_weights, minlength=n_classes)
        r = key_risk(sizes[kept], None if wsums is None else wsums[kept])
        risk = float((r * sizes[kept]).sum()) / left
    else:
        risk = 0.0
    feasible = suppressed <= cap and (spec.risk_ceiling is None or risk <= spec.risk_ceiling + 1e-12)
    loss = _node_loss(enc, levels, g, ids, sizes, unsafe_rows, suppressed, metric)
    safe_sizes = sizes[kept]
    return Node(
        levels=levels,
        suppressed=suppressed,
        classes=int(kept.sum()),
        min_class=int(safe_sizes.min()) if len(safe_sizes) else 0,
        global_risk=risk,
        loss=loss,
        feasible=feasible,
        unsafe_rows=unsafe_rows,
    )


def _node_loss(
    enc: Encoded,
    levels: tuple[int, ...],
    g: list[np.ndarray],
    ids: np.ndarray,
    sizes: np.ndarray,
    unsafe_rows: np.ndarray,
    suppressed: int,
    metric: str,
) -> float:
    n, q = enc.n, len(enc.hierarchies)
    kept_counts = np.where(unsafe_rows, 0.0, enc.d_counts)
    if metric == "discernibility":
        kept_sizes = np.bincount(ids, weights=kept_counts, minlength=len(sizes))
        return float((kept_sizes**2).sum() + suppressed * n)
    total = 0.0
    for j, (h, lv) in enumerate(zip(enc.hierarchies, levels, strict=True)):
        if metric == "lm":
            total += float((kept_counts * enc.lm[j][lv][g[j]]).sum()) + suppressed
        elif metric == "precision":
            total += (n - suppressed) * lv / h.height + suppressed
        else:  # entropy
            values = enc.d_codes[j]
            total += float((kept_counts * enc.bits[j][lv][values]).sum())
            total += float((np.where(unsafe_rows, enc.d_counts, 0.0) * enc.bits[j][h.height][values]).sum())
    if metric == "entropy":
        return total / (enc.max_bits or 1.0)
    return total / (n * q)


@dataclass
class Search:
    best: Node | None
    nodes: int  # in the lattice
    evaluated: int
    seconds: float
    metric: str
    cap: int
    closest: Node | None = None  # the evaluated node with fewest unsafe records, when none is feasible


def search(enc: Encoded, metric: str | None = None) -> Search:
    """The feasible node of least loss (ties: fewer suppressed records, then lower levels)."""
    spec = enc.spec
    metric = metric or spec.loss
    cap = int(np.floor(spec.suppression_cap * enc.n + 1e-9))
    heights = enc.heights
    total = int(np.prod([h + 1 for h in heights]))
    if total > MAX_NODES:
        raise DisclosureError(
            f"the lattice has {total:,} nodes (levels {heights}); at most {MAX_NODES:,} are searched: "
            "use fewer quasi-identifiers or shorter hierarchies"
        )
    started = time.perf_counter()
    grid = np.array(list(itertools.product(*[range(h + 1) for h in heights])), dtype=np.int64)
    parts = enc.generalisation_loss(metric)
    bound = np.zeros(len(grid))
    for j, per in enumerate(parts):
        bound += per[grid[:, j]]
    order = np.lexsort((grid.sum(axis=1), bound))
    best: Node | None = None
    closest: Node | None = None
    evaluated = 0
    for i in order:
        if best is not None and bound[i] > best.loss + 1e-12:
            break
        node = evaluate(enc, tuple(int(x) for x in grid[i]), metric, cap)
        evaluated += 1
        if not node.feasible:
            if closest is None or node.suppressed < closest.suppressed:
                closest = node
            continue
        if best is None or _better(node, best):
            best = node
    return Search(best, total, evaluated, time.perf_counter() - started, metric, cap, closest)


def _better(a: Node, b: Node) -> bool:
    if abs(a.loss - b.loss) > 1e-12:
        return a.loss < b.loss
    return (a.suppressed, sum(a.levels)) < (b.suppressed, sum(b.levels))
