"""Precision, recall and F1 against known truth, for pairs and for clusters (vectorised: a million records in
well under a second).

Pairwise: a predicted link is right when both records belong to the same true entity; recall counts the true
pairs (every pair inside a true cluster) that were linked. Cluster-wise: the same, over every pair of records that
the predicted clusters put together (connected components can join pairs that were never linked directly).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _pairs(sizes: np.ndarray) -> int:
    s = sizes.astype(np.int64)
    return int((s * (s - 1) // 2).sum())


def true_pair_count(truth: Any) -> int:
    return _pairs(pd.Series(truth).value_counts().to_numpy())


def scores(tp: int, predicted: int, actual: int) -> dict[str, float | int]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(f1, 5),
        "tp": tp,
        "predicted": predicted,
        "actual": actual,
    }


def pair_scores(truth_left: Any, truth_right: Any, actual: int) -> dict[str, float | int]:
    """``truth_left[i]``, ``truth_right[i]``: the true entities of the two records of predicted link i."""
    left = np.asarray(truth_left)
    right = np.asarray(truth_right)
    tp = int((left == right).sum())
    return scores(tp, len(left), actual)


def cluster_scores(predicted: Any, truth: Any) -> dict[str, float | int]:
    frame = pd.DataFrame({"p": np.asarray(predicted), "t": np.asarray(truth)})
    both = _pairs(frame.groupby(["p", "t"], sort=False).size().to_numpy())
    pred = _pairs(frame.groupby("p", sort=False).size().to_numpy())
    actual = _pairs(frame.groupby("t", sort=False).size().to_numpy())
    return scores(both, pred, actual)
