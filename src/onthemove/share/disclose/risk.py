"""Re-identification risk of microdata, per record and for the whole file.

Individual risk of a record whose key (its combination of quasi-identifier values) is shared by ``f`` records
of the sample:

- without weights, ``r = 1 / f``: the intruder who knows the key picks one of the ``f`` records at random
  (the sample is taken to be the population, which overstates the risk of a sample survey);
- with a sampling-weight column, the estimate of Benedetti and Franconi that sdcMicro's ``measure_risk`` and
  mu-Argus use (Franconi and Polettini 2004), in sdcMicro's default "approx" form. With ``F`` the sum of the
  weights of the records sharing the key (the estimated population frequency) and ``p = f / F``:

  - ``f = 1``: ``r = p / (1 - p) * ln(1 / p)``
  - ``f = 2``: ``r = p / (1 - p) - (p / (1 - p))**2 * ln(1 / p)``
  - ``f >= 3``: ``r = p / (f - (1 - p))``
  - ``p = 1`` (``F = f``: the key is its own population): ``r = 1 / f``

Global risk: the expected number of re-identifications ``sum(r)`` divided by the number of records, as a share
(sdcMicro's "global risk"); the Humanitarian Data Exchange asks survey microdata to stay under 3%.

Written here rather than taken from a library: sdcMicro is R, and the few lines of the formula do not justify
an R runtime; pycanon reports k and l but not these risks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def key_risk(f: np.ndarray, F: np.ndarray | None = None) -> np.ndarray:
    """The individual risk of a record in each key with sample frequency ``f`` (and weight sum ``F``)."""
    f = np.asarray(f, dtype=float)
    if F is None:
        return np.where(f > 0, 1.0 / np.maximum(f, 1.0), 0.0)
    F = np.maximum(np.asarray(F, dtype=float), f)  # weights below 1 would put p above 1
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(F > 0, f / F, 1.0)
        q = 1.0 - p
        odds = p / q
        log_inv = np.log(1.0 / p)
        r = np.where(
            f <= 1,
            odds * log_inv,
            np.where(f == 2, odds - odds**2 * log_inv, p / (f - q)),
        )
    r = np.where(p >= 1.0, 1.0 / np.maximum(f, 1.0), r)
    return np.clip(np.nan_to_num(r, nan=0.0), 0.0, 1.0)


@dataclass(frozen=True)
class Risk:
    records: int
    expected_reidentifications: float
    global_risk: float  # expected re-identifications / records
    max_individual: float
    mean_individual: float
    high_risk_records: int  # individual risk above 1/k_target... see ``threshold``
    threshold: float
    ceiling: float | None
    weighted: bool

    @property
    def passed(self) -> bool:
        return self.ceiling is None or self.global_risk <= self.ceiling

    def to_dict(self) -> dict[str, object]:
        return {
            "records": self.records,
            "expected_reidentifications": round(self.expected_reidentifications, 3),
            "global_risk": round(self.global_risk, 6),
            "ceiling": self.ceiling,
            "passed": self.passed,
            "max_individual": round(self.max_individual, 6),
            "mean_individual": round(self.mean_individual, 6),
            "high_risk_threshold": round(self.threshold, 6),
            "high_risk_records": self.high_risk_records,
            "weighted": self.weighted,
        }


def summarise(r: np.ndarray, ceiling: float | None, threshold: float, weighted: bool) -> Risk:
    """The file's risk from each record's individual risk ``r``."""
    n = len(r)
    total = float(r.sum()) if n else 0.0
    return Risk(
        records=n,
        expected_reidentifications=total,
        global_risk=total / n if n else 0.0,
        max_individual=float(r.max()) if n else 0.0,
        mean_individual=total / n if n else 0.0,
        high_risk_records=int((r > threshold).sum()),
        threshold=threshold,
        ceiling=ceiling,
        weighted=weighted,
    )
