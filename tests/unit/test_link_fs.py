"""Fellegi–Sunter: EM recovers known m, u and the share of matches from simulated comparison vectors."""

from __future__ import annotations

import numpy as np

from onthemove.respond.link import fs

TRUE_M = [np.array([0.05, 0.15, 0.8]), np.array([0.1, 0.9]), np.array([0.02, 0.08, 0.2, 0.7]), np.array([0.2, 0.8])]
TRUE_U = [np.array([0.9, 0.08, 0.02]), np.array([0.7, 0.3]), np.array([0.85, 0.1, 0.04, 0.01]), np.array([0.6, 0.4])]
LAMBDA = 0.08


def simulate(
    n: int, seed: int = 1, missing: float = 0.05, m_u: tuple[list[np.ndarray], list[np.ndarray]] = (TRUE_M, TRUE_U)
) -> tuple[np.ndarray, np.ndarray]:
    """Pattern counts of ``n`` pairs drawn from the two-class model (conditionally independent comparisons)."""
    rng = np.random.default_rng(seed)
    match = rng.random(n) < LAMBDA
    cols = []
    for m, u in zip(*m_u, strict=True):
        gm = rng.choice(len(m), size=n, p=m)
        gu = rng.choice(len(u), size=n, p=u)
        g = np.where(match, gm, gu)
        cols.append(np.where(rng.random(n) < missing, -1, g))
    patterns, counts = np.unique(np.column_stack(cols), axis=0, return_counts=True)
    return patterns, counts.astype(float)


def test_em_recovers_m_u_and_lambda() -> None:
    patterns, counts = simulate(400_000)
    levels = [len(m) for m in TRUE_M]
    start_u = [np.full(k, 1 / k) for k in levels]
    fit = fs.em(patterns, counts, fs.default_m(levels), start_u, 0.3, fix_u=False)
    assert fit.converged
    assert abs(fit.lam - LAMBDA) < 0.005
    for k in range(len(levels)):
        assert np.abs(fit.m[k] - TRUE_M[k]).max() < 0.02, (k, fit.m[k])
        assert np.abs(fit.u[k] - TRUE_U[k]).max() < 0.01, (k, fit.u[k])


def test_em_with_u_fixed_recovers_m_and_leaves_inactive_comparisons_alone() -> None:
    patterns, counts = simulate(200_000, seed=2)
    levels = [len(m) for m in TRUE_M]
    start = fs.default_m(levels)
    active = np.array([True, True, True, False])
    fit = fs.em(patterns, counts, start, TRUE_U, 0.01, active=active)
    for k in range(3):
        assert np.abs(fit.m[k] - TRUE_M[k]).max() < 0.02
    np.testing.assert_array_equal(fit.m[3], start[3])
    np.testing.assert_array_equal(fit.u[0], TRUE_U[0])


def test_marginals_are_u_from_random_pairs() -> None:
    rng = np.random.default_rng(3)
    cols = [rng.choice(len(u), size=300_000, p=u) for u in TRUE_U]
    patterns, counts = np.unique(np.column_stack(cols), axis=0, return_counts=True)
    u = fs.marginals(patterns, counts.astype(float), [len(u) for u in TRUE_U])
    for est, true in zip(u, TRUE_U, strict=True):
        assert np.abs(est - true).max() < 0.005


def test_lambda_from_candidate_pairs_counts_the_expected_matches() -> None:
    """All matches are among the candidates; the prior is expected matches over all pairs (comparisons as
    telling as names and dates of birth are)."""
    m = [np.array([0.02, 0.08, 0.9]), np.array([0.05, 0.95]), np.array([0.03, 0.07, 0.9])]
    u = [np.array([0.97, 0.025, 0.005]), np.array([0.99, 0.01]), np.array([0.95, 0.04, 0.01])]
    patterns, counts = simulate(100_000, seed=4, missing=0, m_u=(m, u))
    total = 10 * counts.sum()  # ten times as many pairs were never compared (all non-matches)
    lam = fs.estimate_lambda(patterns, counts, m, u, total)
    assert abs(lam * total - LAMBDA * counts.sum()) / (LAMBDA * counts.sum()) < 0.05


def test_weights_and_round_trip() -> None:
    model = fs.Model(["a", "b"], [["else", "exact"], ["else", "exact"]], TRUE_M[1:2] * 2, TRUE_U[1:2] * 2, 0.01)
    w = model.score(np.array([[1, 1], [1, 0], [0, 0], [-1, 1]]))
    assert w[0] > w[1] > w[2]
    assert w[3] == model.prior_weight + np.log2(0.9 / 0.3)
    again = fs.Model.from_dict(model.to_dict())
    np.testing.assert_allclose(again.score(np.array([[1, 0]])), model.score(np.array([[1, 0]])))
