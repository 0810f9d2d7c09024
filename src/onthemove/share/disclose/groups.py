"""Equivalence classes (records that share every quasi-identifier value) and what makes a class unsafe.

Classes are found by combining integer codes column by column into one int64 key and hashing it
(``pandas.factorize``), never by a Python loop over records. A class is unsafe when it holds fewer than
``k`` records, or fewer than ``l`` distinct values of a sensitive attribute (distinct l-diversity), or, with
``entropy``, when ``exp(entropy)`` of its sensitive values is below ``l`` (entropy l-diversity, with natural
logarithms, after Machanavajjhala et al. 2007).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_LIMIT = 2**62


def combine(columns: Sequence[np.ndarray], cards: Sequence[int]) -> tuple[np.ndarray, int]:
    """One class id per row for the combination of integer columns (each in ``0..card-1``, or -1)."""
    if not columns:
        raise ValueError("no columns to combine")
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for col, card in zip(columns, cards, strict=True):
        width = card + 1  # room for -1 (a suppressed cell)
        if span * width >= _LIMIT:
            codes, uniques = pd.factorize(key, sort=False)
            key, span = codes.astype(np.int64), max(len(uniques), 1)
        key = key * width + (col.astype(np.int64) + 1)
        span *= width
    ids, uniques = pd.factorize(key, sort=False)
    return ids.astype(np.int64), len(uniques)


def unsafe_classes(
    ids: np.ndarray,
    n_classes: int,
    counts: np.ndarray,
    k: int,
    sensitive: Sequence[np.ndarray] = (),
    sensitive_cards: Sequence[int] = (),
    l: int = 1,  # noqa: E741
    entropy: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(class sizes, mask of unsafe classes) for rows with class ``ids`` each standing for ``counts`` records."""
    sizes = np.bincount(ids, weights=counts, minlength=n_classes)
    bad = sizes < k
    if l > 1:
        for s, card in zip(sensitive, sensitive_cards, strict=True):
            distinct, ent = diversity(ids, n_classes, counts, s, card, sizes, entropy)
            bad |= distinct < l
            if entropy:
                bad |= ent < l - 1e-9
    return sizes, bad


def diversity(
    ids: np.ndarray,
    n_classes: int,
    counts: np.ndarray,
    s: np.ndarray,
    card: int,
    sizes: np.ndarray,
    entropy: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Per class: distinct sensitive values, and exp(entropy) of their distribution (when ``entropy``)."""
    pair = ids * max(card, 1) + s.astype(np.int64)
    pair_ids, pairs = pd.factorize(pair, sort=False)
    pair_class = np.asarray(pairs) // max(card, 1)
    distinct = np.bincount(pair_class, minlength=n_classes)
    if not entropy:
        return distinct, np.full(n_classes, np.inf)
    pair_counts = np.bincount(pair_ids, weights=counts, minlength=len(pairs))
    p = pair_counts / np.maximum(sizes[pair_class], 1e-12)
    h = np.bincount(pair_class, weights=-p * np.log(np.where(p > 0, p, 1.0)), minlength=n_classes)
    return distinct, np.exp(h)
