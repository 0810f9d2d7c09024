"""Change alerts: areas whose latest month is far above their own history.

The test is robust to the heavy tails of displacement series: the latest value is compared with
the median and the median absolute deviation (MAD) of the area's earlier months, and must also be
a large multiple of the median and above a floor, so a jump from 3 to 12 people is not an alert.
The figures behind each flag are returned with it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from onthemove.analyse.query import Query, run
from onthemove.store.base import Store


@dataclass
class Alert:
    area: str
    name: str
    period: str
    value: int
    history_months: int
    median: float
    mad: float
    p90: float
    maximum: int
    robust_z: float
    ratio: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def alerts(
    store: Store,
    kind: str = "movements",
    level: str = "adm2",
    *,
    min_history: int = 6,
    window: int = 24,
    z: float = 3.5,
    ratio: float = 2.0,
    floor: int = 100,
    period: str | None = None,
) -> list[Alert]:
    """Flag areas whose value in ``period`` (default: the latest month in the data) is exceptional."""
    table = run(store, Query(kind=kind, by=["month", level])).to_pylist()
    if not table:
        return []
    months = sorted({r["month"] for r in table})
    latest = period or months[-1]
    if latest not in months:
        return []
    earlier = [m for m in months if m < latest][-window:]
    series: dict[str, dict[str, int]] = {}
    names: dict[str, str] = {}
    for r in table:
        series.setdefault(r[level], {})[r["month"]] = int(r["count"])
        names[r[level]] = r.get(f"{level}_name") or ""
    found = []
    for area, values in series.items():
        current = values.get(latest)
        if current is None:
            continue
        # months with no record count as zero once the area has started reporting
        first = min(values)
        history = np.array([values.get(m, 0) for m in earlier if m >= first], dtype=float)
        if len(history) < min_history:
            continue
        med = float(np.median(history))
        mad = float(np.median(np.abs(history - med)))
        scale = 1.4826 * mad if mad > 0 else max(1.0, 0.1 * med)
        rz = (current - med) / scale
        rt = current / med if med > 0 else float("inf")
        if current >= floor and rz >= z and rt >= ratio:
            found.append(
                Alert(
                    area=area,
                    name=names.get(area, ""),
                    period=latest,
                    value=current,
                    history_months=len(history),
                    median=med,
                    mad=mad,
                    p90=float(np.percentile(history, 90)),
                    maximum=int(history.max()),
                    robust_z=round(rz, 2),
                    ratio=round(rt, 2) if np.isfinite(rt) else None,
                    reason=_explain(current, latest, len(history), med, rt, rz),
                )
            )
    return sorted(found, key=lambda a: -a.robust_z)


def _explain(value: int, period: str, months: int, median: float, ratio: float, z: float) -> str:
    if median == 0:
        return f"{value:,} in {period}, where the median of the previous {months} months was 0"
    return (
        f"{value:,} in {period} is {ratio:.1f}x the median of the previous {months} months "
        f"({median:,.0f}) and {z:.1f} robust standard deviations above it"
    )
