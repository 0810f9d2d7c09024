"""Monthly series per admin area, their summing hierarchy, and driver features, all cut at an origin month.

Everything here reads only records dated on or before the last day of the origin month, so a forecast made
"at" an origin sees exactly what was known then (the leakage test changes later data and expects the same
forecast bit for bit).

* ``monthly_panel``: one series per area at every admin level present (adm0, adm1, adm2). The bottom of the
  hierarchy is built from the records: a record at a district (or deeper) counts for its district; a record
  kept at a region or the country (names that could not be matched further down, say) counts for a
  *remainder* leaf ``<P-code>/unassigned`` under that area, so that the districts plus the remainder add up to
  the region exactly. An area without children in the data is a leaf itself. Aggregates are the sums of their
  leaves, month by month, so the history is coherent by construction.
* Movements are flows: the people arriving in an area (the destination) in the month, zero-filled from the
  leaf's first observed month to the origin. Displacement figures are stocks: the latest report per area and
  month (as ``analyse.query`` does), carried forward over months without a report.
* ``hierarchy``: the summing matrix S (rows: every series, aggregates first; columns: the leaves) and the
  level tags, the shape ``hierarchicalforecast`` reconcilers take.
* ``driver_features``: monthly driver values per series (see its docstring for the alignment rules).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from onthemove.store.base import Store

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("movements", "displacement")
LEVELS = ("adm0", "adm1", "adm2")
REMAINDER = "/unassigned"
ANOMALY = "_anom"
# driver indicators that add up over places and days (counts); every other indicator is averaged
ADDITIVE = ("events", "fatalities", "count", "deaths", "people", "affected", "incidents")


class SeriesError(ValueError):
    """The store cannot give the series asked for (unknown kind, no data up to the origin...)."""


def parse_month(month: str | dt.date) -> dt.date:
    """``YYYY-MM`` (or a date) as the first day of that month."""
    if isinstance(month, dt.date):
        return month.replace(day=1)
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", str(month))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise SeriesError(f"month {month!r} is not in the form YYYY-MM")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def is_remainder(uid: str) -> bool:
    """True for the leaves that hold what was recorded at an area itself rather than inside one of its children."""
    return uid.endswith(REMAINDER)


def _leaf_sql(kind: str) -> str:
    """Per place and month: the count (flows summed; stocks: the latest report in the month), with ancestors."""
    if kind == "movements":
        source = (
            "SELECT t.to_place AS place, CAST(date_trunc('month', t.date) AS DATE) AS month, sum(t.count) AS value "
            "FROM movements t WHERE t.sex = 'total' AND t.age_group = 'total' AND t.to_place IS NOT NULL "
            "AND t.date <= $end GROUP BY 1, 2"
        )
    else:
        source = (
            "SELECT s.place, s.month, sum(s.count) AS value FROM ("
            "SELECT d.place, d.date, d.count, CAST(date_trunc('month', d.date) AS DATE) AS month, "
            "max(d.date) OVER (PARTITION BY d.place, date_trunc('month', d.date)) AS latest "
            "FROM displacement d WHERE d.sex = 'total' AND d.age_group = 'total' AND d.date <= $end) s "
            "WHERE s.date = s.latest GROUP BY 1, 2"
        )
    return (
        f"SELECT a.place, p.admin_level, p.adm0, p.adm1, p.adm2, a.month, a.value FROM ({source}) a "
        "JOIN places p ON p.pcode = a.place ORDER BY 1, 6"
    )


@dataclass
class _Tree:
    """Nodes (areas) and their parents, built from the places records fall in."""

    parent: dict[str, str | None] = field(default_factory=dict)
    level: dict[str, int] = field(default_factory=dict)

    def add_path(self, path: Sequence[str]) -> None:
        for depth, node in enumerate(path):
            self.parent.setdefault(node, path[depth - 1] if depth else None)
            self.level.setdefault(node, depth)

    def children(self) -> dict[str, list[str]]:
        kids: dict[str, list[str]] = {n: [] for n in self.parent}
        for node, up in self.parent.items():
            if up is not None:
                kids[up].append(node)
        return kids


def _path(adm0: str | None, adm1: str | None, adm2: str | None, level: int) -> list[str]:
    """The chain of ancestors of a place, from the country down to (at most) its district."""
    chain = [c for c in (adm0, adm1, adm2)[: min(level, 2) + 1]]
    if any(c is None for c in chain):
        chain = [c for c in chain if c is not None]
    return [str(c) for c in chain]


def monthly_panel(store: Store, kind: str, end_month: str | dt.date) -> pd.DataFrame:
    """Every area's monthly series up to ``end_month``: columns ``unique_id, ds, y, level``.

    ``ds`` is the first day of the month (pandas timestamp), ``level`` one of adm0/adm1/adm2. Leaves named
    ``<P-code>/unassigned`` hold records kept at an area that also has children in the data (see the module
    docstring). Sorted by ``unique_id`` and ``ds``; raises ``SeriesError`` when nothing is dated by then.
    """
    import pandas as pd

    if kind not in KINDS:
        raise SeriesError(f"cannot forecast {kind!r}; expected one of {', '.join(KINDS)}")
    end = parse_month(end_month)
    rows = store.fetch(_leaf_sql(kind), {"end": month_end(end)})
    if not rows:
        raise SeriesError(f"no {kind} recorded up to {end:%Y-%m}")
    tree = _Tree()
    records = []
    for place, level, adm0, adm1, adm2, month, value in rows:
        path = _path(adm0, adm1, adm2, int(level)) or [str(place)]
        tree.add_path(path)
        records.append((path[-1], month, float(value)))
    kids = tree.children()
    # a record at a node that has children in the data goes to that node's remainder leaf
    leaf_of: dict[str, str] = {}
    for node in tree.parent:
        leaf_of[node] = node + REMAINDER if kids[node] else node
    raw = pd.DataFrame(records, columns=["node", "ds", "y"])
    raw["unique_id"] = raw["node"].map(leaf_of)
    raw["ds"] = pd.to_datetime(raw["ds"]).dt.to_period("M").dt.to_timestamp()
    summed = raw.groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    months = pd.date_range(summed["ds"].min(), pd.Timestamp(end), freq="MS")
    wide = summed.pivot(index="ds", columns="unique_id", values="y").reindex(months)
    first = wide.notna().idxmax()
    if kind == "displacement":
        wide = wide.ffill()
    wide = wide.fillna(0.0)
    started = pd.DataFrame({c: wide.index >= first[c] for c in wide.columns}, index=wide.index)
    # aggregates: sums of their leaves (a leaf counts from its own first month, zero before)
    leaves = list(wide.columns)
    ancestors: dict[str, list[str]] = {}
    for leaf in leaves:
        up: str | None = leaf.removesuffix(REMAINDER) if is_remainder(leaf) else tree.parent[leaf]
        chain = []
        while up is not None:
            chain.append(up)
            up = tree.parent[up]
        ancestors[leaf] = chain
    columns: dict[str, pd.Series] = {}
    active: dict[str, pd.Series] = {}
    for leaf in leaves:
        columns[leaf] = wide[leaf]
        active[leaf] = started[leaf]
        for node in ancestors[leaf]:
            if node in columns:
                columns[node] = columns[node] + wide[leaf]
                active[node] = active[node] | started[leaf]
            else:
                columns[node] = wide[leaf].copy()
                active[node] = started[leaf].copy()
    level_of = {}
    for uid in columns:
        base = uid.removesuffix(REMAINDER)
        depth = tree.level[base] + (1 if is_remainder(uid) else 0)
        level_of[uid] = LEVELS[min(depth, 2)]
    frames = []
    for uid in sorted(columns):
        mask = active[uid].to_numpy()
        frames.append(
            pd.DataFrame(
                {"unique_id": uid, "ds": months[mask], "y": columns[uid].to_numpy()[mask], "level": level_of[uid]}
            )
        )
    panel = pd.concat(frames, ignore_index=True)
    panel["y"] = panel["y"].astype("float64")
    return panel


@dataclass
class Hierarchy:
    """The summing structure of a panel: ``S @ leaves == every series`` (rows in ``ids`` order).

    ``ids`` lists aggregates first (country, regions, districts with a remainder), then the ``bottom`` leaves,
    the order ``hierarchicalforecast`` expects. ``tags`` maps each level (adm0, adm1, adm2) to its series;
    ``parent`` gives each series' parent (None at the top).
    """

    ids: list[str]
    bottom: list[str]
    S: np.ndarray
    tags: dict[str, list[str]]
    parent: dict[str, str | None]
    level: dict[str, str]

    def restrict(self, ids: Iterable[str]) -> Hierarchy:
        """The hierarchy of only these series (those with data at an earlier origin, say)."""
        keep = [u for u in self.ids if u in set(ids)]
        return _build(keep, self.level, {u: self.parent.get(u) for u in keep})

    def S_df(self) -> pd.DataFrame:
        """S as the DataFrame ``hierarchicalforecast.HierarchicalReconciliation`` takes."""
        import pandas as pd

        frame = pd.DataFrame(self.S, columns=self.bottom)
        frame.insert(0, "unique_id", self.ids)
        return frame

    def check(self, values: pd.DataFrame, column: str = "y") -> float:
        """Largest relative gap between a series and the sum of its leaves in ``values`` (long, by unique_id, ds)."""
        wide = values.pivot(index="unique_id", columns="ds", values=column).reindex(self.ids).fillna(0.0)
        summed = self.S @ wide.loc[self.bottom].to_numpy()
        actual = wide.to_numpy()
        gap = np.abs(summed - actual) / np.maximum(np.abs(actual), 1.0)
        return float(gap.max()) if gap.size else 0.0


def hierarchy(store: Store, panel: pd.DataFrame) -> Hierarchy:
    """The summing structure of ``panel``'s series (from ``monthly_panel``): parents from the gazetteer."""
    ids = list(dict.fromkeys(panel["unique_id"].astype(str)))
    level = dict(zip(panel["unique_id"].astype(str), panel["level"], strict=False))
    pcodes = [u for u in ids if not is_remainder(u)]
    known: dict[str, tuple[int, str | None, str | None]] = {}
    if pcodes:
        for pcode, lvl, adm0, adm1 in store.fetch(
            "SELECT pcode, admin_level, adm0, adm1 FROM places WHERE list_contains($codes, pcode)", {"codes": pcodes}
        ):
            known[str(pcode)] = (int(lvl), adm0, adm1)
    present = set(ids)
    parent: dict[str, str | None] = {}
    for uid in ids:
        if is_remainder(uid):
            parent[uid] = uid.removesuffix(REMAINDER)
            continue
        lvl, adm0, adm1 = known.get(uid, (0, None, None))
        candidates = [adm1, adm0] if lvl >= 2 else [adm0] if lvl == 1 else []
        parent[uid] = next((c for c in candidates if c in present and c != uid), None)
    return _build(ids, level, parent)


def _build(ids: Sequence[str], level: dict[str, str], parent: dict[str, str | None]) -> Hierarchy:
    has_children = {p for u, p in parent.items() if p is not None and u in set(ids)}
    bottom = sorted(u for u in ids if u not in has_children)
    depth = {lv: i for i, lv in enumerate(LEVELS)}
    aggregates = sorted((u for u in ids if u in has_children), key=lambda u: (depth[level[u]], u))
    all_ids = aggregates + bottom
    col = {leaf: j for j, leaf in enumerate(bottom)}
    row = {uid: i for i, uid in enumerate(all_ids)}
    S = np.zeros((len(all_ids), len(bottom)))
    for leaf in bottom:
        node: str | None = leaf
        while node is not None:
            if node in row:
                S[row[node], col[leaf]] = 1.0
            node = parent.get(node)
    tags = {lv: [u for u in all_ids if level[u] == lv] for lv in LEVELS if any(level[u] == lv for u in all_ids)}
    return Hierarchy(ids=all_ids, bottom=bottom, S=S, tags=tags, parent=dict(parent), level=dict(level))


def _feature_name(driver: str, indicator: str) -> str:
    name = indicator if indicator.startswith(driver) else f"{driver}_{indicator}"
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def _additive(driver: str, indicator: str) -> bool:
    return driver == "conflict" or any(word in indicator.lower() for word in ADDITIVE)


def _anomaly(wide: pd.DataFrame) -> pd.DataFrame:
    """Each value minus the mean of the same calendar month over all the rows given (rows: months)."""
    import pandas as pd

    return wide - wide.groupby(pd.DatetimeIndex(wide.index).month).transform("mean")


def recompute_anomalies(drivers: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """``drivers`` cut at ``origin`` with every ``*_anom`` feature recomputed from data up to ``origin`` only.

    ``driver_features(store, end)`` computes the climatology from data up to ``end``; a backtest that builds
    the features once, at its last month, and forecasts from earlier origins calls this so that no anomaly
    is measured against a climatology that includes later years.
    """
    out = drivers[drivers["ds"] <= origin].copy()
    for col in [c for c in out.columns if c.endswith(ANOMALY)]:
        source = col.removesuffix(ANOMALY)
        if source not in out.columns:
            continue
        wide = out.pivot(index="ds", columns="unique_id", values=source).sort_index()
        anom = _anomaly(wide)
        long = anom.rolling(3, min_periods=1).mean()
        for name, frame in ((col, anom), (f"{col}_3m", long)):
            if name in out.columns:
                values = (
                    frame.rename_axis(index="ds", columns="unique_id").reset_index().melt(id_vars="ds", value_name=name)
                )
                out = out.drop(columns=name).merge(values, on=["ds", "unique_id"], how="left")
    return out.sort_values(["unique_id", "ds"], ignore_index=True)


def driver_features(store: Store, end_month: str | dt.date, ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Monthly driver features per series up to ``end_month``: columns ``unique_id, ds`` and one per feature.

    One feature per (driver, indicator), named ``<driver>_<indicator>`` (``rainfall_mm``, ``conflict_events``,
    ``conflict_fatalities``), plus ``_anom`` for averaged indicators (the value minus the mean of the same
    calendar month over the years up to the origin: only data up to ``end_month`` is read, so the climatology
    never sees the future) and ``_3m`` (mean of the last three months, this one included).

    Alignment by place: for an area, the records at the area or inside it are combined (counts such as events
    and fatalities are summed, other indicators such as rainfall averaged); an area with no record of that
    indicator inside it takes its nearest ancestor's value (rainfall recorded for the country applies to every
    region and district; recorded for a region, to its districts). Remainder leaves take their area's values.
    Counted indicators are zero in months without a record (from their first record on); averaged ones are
    missing then (LightGBM takes missing values). The values are those *of* each month: the model lags them.
    ``ids`` restricts the output to these series (default: every adm0-adm2 place of the gazetteer).
    """
    import pandas as pd

    end = parse_month(end_month)
    rows = store.fetch(
        "SELECT e.driver, e.indicator, p.pcode, p.admin_level, p.adm0, p.adm1, p.adm2, "
        "CAST(date_trunc('month', e.date) AS DATE) AS month, sum(e.value) AS total, count(*) AS n "
        "FROM driver_events e JOIN places p ON p.pcode = e.place WHERE e.date <= $end GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
        {"end": month_end(end)},
    )
    places = store.fetch("SELECT pcode, admin_level, adm0, adm1, adm2 FROM places WHERE admin_level <= 2")
    path_of = {str(pc): _path(a0, a1, a2, int(lv)) for pc, lv, a0, a1, a2 in places}
    wanted = list(dict.fromkeys(ids)) if ids is not None else sorted(path_of)
    base_of = {u: u.removesuffix(REMAINDER) for u in wanted}
    for b in base_of.values():
        path_of.setdefault(b, [b])
    if not rows:
        return pd.DataFrame({"unique_id": pd.Series([], dtype=str), "ds": pd.Series([], dtype="datetime64[ns]")})
    raw = pd.DataFrame(
        rows, columns=["driver", "indicator", "pcode", "level", "adm0", "adm1", "adm2", "ds", "total", "n"]
    )
    raw["ds"] = pd.to_datetime(raw["ds"]).dt.to_period("M").dt.to_timestamp()
    raw["node"] = [
        (_path(a0, a1, a2, int(lv)) or [pc])[-1]
        for pc, lv, a0, a1, a2 in raw[["pcode", "level", "adm0", "adm1", "adm2"]].itertuples(index=False)
    ]
    out: dict[str, pd.DataFrame] = {}
    for (driver, indicator), group in raw.groupby(["driver", "indicator"], sort=True):
        name = _feature_name(str(driver), str(indicator))
        additive = _additive(str(driver), str(indicator))
        months = pd.date_range(group["ds"].min(), pd.Timestamp(end), freq="MS")
        # per node (area at or above district level that holds records): monthly total and record count
        total = group.pivot_table(index="ds", columns="node", values="total", aggfunc="sum").reindex(months)
        count = group.pivot_table(index="ds", columns="node", values="n", aggfunc="sum").reindex(months)
        # subtree sums: every node's records count for each of its ancestors too
        sub_total: dict[str, pd.Series] = {}
        sub_count: dict[str, pd.Series] = {}
        for node in total.columns:
            for anc in path_of.get(node, [node]):
                t, c = total[node].fillna(0.0), count[node].fillna(0.0)
                sub_total[anc] = sub_total[anc] + t if anc in sub_total else t
                sub_count[anc] = sub_count[anc] + c if anc in sub_count else c
        values: dict[str, pd.Series] = {}
        for node in sub_total:
            if additive:
                values[node] = sub_total[node]
            else:
                values[node] = (sub_total[node] / sub_count[node]).where(sub_count[node] > 0)
        # counts recorded at this area's level or finer are zero where none fell inside the area; otherwise
        # (averages, or counts recorded only for larger areas) the nearest area up the chain gives the value
        finest = max(len(path_of.get(node, [node])) for node in total.columns)
        zeros = pd.Series(0.0, index=months)
        columns = {}
        for uid in wanted:
            chain = path_of.get(base_of[uid], [base_of[uid]])
            if chain[-1] in values:
                columns[uid] = values[chain[-1]]
            elif additive and len(chain) <= finest:
                columns[uid] = zeros
            else:
                src = next((n for n in reversed(chain) if n in values), None)
                columns[uid] = values[src] if src is not None else pd.Series(np.nan, index=months)
        wide = pd.DataFrame(columns, index=months)
        feats = {name: wide, f"{name}_3m": wide.rolling(3, min_periods=1).mean()}
        if not additive:
            anom = _anomaly(wide)
            feats[f"{name}{ANOMALY}"] = anom
            feats[f"{name}{ANOMALY}_3m"] = anom.rolling(3, min_periods=1).mean()
        for fname, frame in feats.items():
            out[fname] = frame
    long = None
    for fname, frame in out.items():
        stacked = frame.rename_axis("ds").reset_index().melt(id_vars="ds", var_name="unique_id", value_name=fname)
        long = stacked if long is None else long.merge(stacked, on=["unique_id", "ds"], how="outer")
    assert long is not None
    long = long[["unique_id", "ds", *out]].sort_values(["unique_id", "ds"], ignore_index=True)
    return long
