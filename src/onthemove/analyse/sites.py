"""Sites with their latest needs: the registry's latest record of each site and, per indicator, its
latest assessment value (sector needs, severity), ready for a table or a map."""

from __future__ import annotations

from typing import Any

from onthemove.analyse.query import within_sql
from onthemove.store.base import Store

_LATEST_SITES = (
    "SELECT * FROM (SELECT s.*, row_number() OVER (PARTITION BY s.site_id ORDER BY s.date DESC NULLS LAST, "
    "s.batch_id DESC) AS rn FROM sites s) latest WHERE rn = 1"
)


def need_key(sector: str | None, indicator: str) -> str:
    """``sector.indicator`` (``wash.severity``), or the indicator alone when no sector was recorded: one key
    per sector, so that several sectors assessed with the same indicator do not overwrite each other."""
    return f"{sector}.{indicator}" if sector else indicator


def sites_with_needs(
    store: Store,
    *,
    place: str | None = None,
    scope: tuple[str, ...] | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """(one page of sites with a ``needs`` mapping indicator -> latest value, how many sites match)."""
    where: list[str] = ["1 = 1"]
    params: dict[str, Any] = {}
    if place:
        params["place"] = [place.upper()]
        where.append(within_sql("place"))
    if scope is not None:
        params["scope"] = list(scope)
        where.append(within_sql("scope"))
    body = f"FROM ({_LATEST_SITES}) s LEFT JOIN places p ON p.pcode = s.place WHERE {' AND '.join(where)}"
    total = store.fetch_one(f"SELECT count(*) {body}", params)
    rows = store.fetch_dicts(
        "SELECT s.site_id, s.name, s.place, p.adm1, p.adm2, s.site_type, s.households, s.individuals, "
        f"s.latitude, s.longitude {body} ORDER BY s.site_id LIMIT {int(limit)} OFFSET {int(offset)}",
        params,
    )
    ids = [r["site_id"] for r in rows]
    needs: dict[str, dict[str, float]] = {i: {} for i in ids}
    assessed: dict[str, Any] = {}
    if ids:
        latest = store.fetch(
            "SELECT site_id, sector, indicator, value, date FROM (SELECT a.*, row_number() OVER "
            "(PARTITION BY a.site_id, a.sector, a.indicator ORDER BY a.date DESC, a.batch_id DESC) AS rn "
            "FROM site_assessments a WHERE list_contains($ids, a.site_id)) latest WHERE rn = 1",
            {"ids": ids},
        )
        for site_id, sector, indicator, value, date in latest:
            needs[site_id][need_key(sector, indicator)] = float(value)
            assessed[site_id] = max(assessed.get(site_id, date), date)
    for r in rows:
        r["needs"] = needs[r["site_id"]]
        r["assessed"] = assessed.get(r["site_id"])
    return rows, int(total[0]) if total else 0
