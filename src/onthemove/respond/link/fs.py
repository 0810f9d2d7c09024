"""Fellegi–Sunter: m and u per comparison level, the prior, match weights, and EM to estimate them.

Everything here works on *pattern counts* (each distinct comparison vector and how many pairs have it), a table of
a few hundred or thousand rows however many pairs there are: the engines count, numpy fits.

- ``u`` (how often non-matches agree at each level) from random pairs: nearly all random pairs are non-matches.
- ``m`` (how often matches agree) by EM with ``u`` fixed, once per training rule (Splink's sessions): the pairs a
  rule yields agree on its keys by construction, so the comparisons of the rule's fields are left out of that
  session and keep their value; each comparison's ``m`` is the mean over the sessions that estimated it.
- the prior ``lambda`` (probability that two random records match) from all candidate pairs: the expected number
  of matches among them (sum of posteriors) over the number of all pairs, iterated to its fixed point.

A pair's match weight is ``log2(lambda / (1 - lambda)) + sum_k log2(m_k[level] / u_k[level])`` (a missing value
adds 0), its match probability ``1 / (1 + 2^-weight)``. Term-frequency adjustment (exact agreement on a rare
name is stronger evidence than on Mohamed) replaces ``u`` of the exact level by the value's frequency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_PROB = 1e-6


@dataclass
class Model:
    names: list[str]
    labels: list[list[str]]
    m: list[np.ndarray]
    u: list[np.ndarray]
    lam: float = 1e-4
    tf_levels: dict[str, int] = field(default_factory=dict)  # comparison -> its exact level, adjusted by TF
    sessions: list[dict[str, Any]] = field(default_factory=list)

    def weights(self) -> list[np.ndarray]:
        return [np.log2(m / u) for m, u in zip(self.m, self.u, strict=True)]

    @property
    def prior_weight(self) -> float:
        return math.log2(self.lam / (1 - self.lam))

    def score(self, patterns: np.ndarray) -> np.ndarray:
        """Match weights (without term-frequency adjustment) of a pattern matrix (levels, -1 = missing)."""
        total = np.full(len(patterns), self.prior_weight)
        for k, w in enumerate(self.weights()):
            g = patterns[:, k]
            total += np.where(g >= 0, w[np.clip(g, 0, None)], 0.0)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "lambda": self.lam,
            "comparisons": [
                {
                    "name": n,
                    "levels": [
                        {"label": lab, "m": float(mm), "u": float(uu), "weight": float(math.log2(mm / uu))}
                        for lab, mm, uu in zip(labels, m, u, strict=True)
                    ],
                    "tf_level": self.tf_levels.get(n),
                }
                for n, labels, m, u in zip(self.names, self.labels, self.m, self.u, strict=True)
            ],
            "sessions": self.sessions,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        comps = data["comparisons"]
        return cls(
            names=[c["name"] for c in comps],
            labels=[[lv["label"] for lv in c["levels"]] for c in comps],
            m=[np.array([lv["m"] for lv in c["levels"]]) for c in comps],
            u=[np.array([lv["u"] for lv in c["levels"]]) for c in comps],
            lam=float(data["lambda"]),
            tf_levels={c["name"]: c["tf_level"] for c in comps if c.get("tf_level") is not None},
            sessions=list(data.get("sessions", [])),
        )


def _normalise(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, MIN_PROB, None)
    return p / p.sum()


def marginals(patterns: np.ndarray, counts: np.ndarray, n_levels: list[int], pseudo: float = 0.5) -> list[np.ndarray]:
    """Per comparison, the share of pairs at each level among pairs with both values present."""
    out = []
    for k, n in enumerate(n_levels):
        g = patterns[:, k]
        ok = g >= 0
        tally = np.bincount(g[ok], weights=counts[ok], minlength=n)[:n] + pseudo
        out.append(_normalise(tally / tally.sum()))
    return out


def default_m(n_levels: list[int]) -> list[np.ndarray]:
    """A starting point: the best level holds most matches, each level below a fifth as many."""
    return [_normalise(np.array([0.2 ** (n - 1 - i) for i in range(n)])) for n in n_levels]


def _log_likelihoods(
    patterns: np.ndarray, m: list[np.ndarray], u: list[np.ndarray], active: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    lm = np.zeros(len(patterns))
    lu = np.zeros(len(patterns))
    for k in np.flatnonzero(active):
        g = patterns[:, k]
        present = g >= 0
        idx = np.clip(g, 0, None)
        lm += np.where(present, np.log(m[k][idx]), 0.0)
        lu += np.where(present, np.log(u[k][idx]), 0.0)
    return lm, lu


def posterior(patterns: np.ndarray, m: list[np.ndarray], u: list[np.ndarray], lam: float, active: np.ndarray) -> Any:
    lm, lu = _log_likelihoods(patterns, m, u, active)
    log_odds = math.log(lam) - math.log1p(-lam) + lm - lu
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))


@dataclass
class EMResult:
    m: list[np.ndarray]
    u: list[np.ndarray]
    lam: float
    iterations: int
    converged: bool


def em(
    patterns: np.ndarray,
    counts: np.ndarray,
    m: list[np.ndarray],
    u: list[np.ndarray],
    lam: float,
    *,
    active: np.ndarray | None = None,
    fix_u: bool = True,
    fix_m: bool = False,
    max_iter: int = 500,
    tol: float = 1e-7,
) -> EMResult:
    """Expectation–maximisation for the two-class mixture over pattern counts.

    ``active`` marks the comparisons that take part (the others neither add evidence nor change); ``fix_u``
    keeps u (from random pairs); with ``fix_u=False`` and ``fix_m=False`` it is the classic free EM."""
    k_all = patterns.shape[1]
    active = np.ones(k_all, dtype=bool) if active is None else active
    m = [x.copy() for x in m]
    u = [x.copy() for x in u]
    counts = counts.astype(float)
    total = counts.sum()
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        p = posterior(patterns, m, u, lam, active)
        wm = counts * p
        wu = counts * (1 - p)
        new_lam = float(np.clip(wm.sum() / total, 1e-12, 1 - 1e-12))
        delta = abs(new_lam - lam)
        for k in np.flatnonzero(active):
            g = patterns[:, k]
            ok = g >= 0
            n = len(m[k])
            if not fix_m:
                new_m = _normalise(np.bincount(g[ok], weights=wm[ok], minlength=n)[:n] / max(wm[ok].sum(), 1e-300))
                delta = max(delta, float(np.abs(new_m - m[k]).max()))
                m[k] = new_m
            if not fix_u:
                new_u = _normalise(np.bincount(g[ok], weights=wu[ok], minlength=n)[:n] / max(wu[ok].sum(), 1e-300))
                delta = max(delta, float(np.abs(new_u - u[k]).max()))
                u[k] = new_u
        lam = new_lam
        if delta < tol:
            converged = True
            break
    return EMResult(m, u, lam, it, converged)


def estimate_lambda(
    patterns: np.ndarray, counts: np.ndarray, m: list[np.ndarray], u: list[np.ndarray], total_pairs: float
) -> float:
    """The prior: expected matches among the candidate pairs (the rest are taken as non-matches) over all pairs."""
    active = np.ones(patterns.shape[1], dtype=bool)
    lam = max(float(counts.sum()) / total_pairs * 0.1, 1e-12)
    for _ in range(1000):
        new = float((counts * posterior(patterns, m, u, lam, active)).sum()) / total_pairs
        new = min(max(new, 1e-15), 0.5)
        if abs(new - lam) <= 1e-9 * lam:
            return new
        lam = new
    return lam
