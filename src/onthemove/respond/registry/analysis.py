"""Who does what, where and when (3W/4W), and the gap between needs and the assistance delivered.

* ``who_what_where``: per month (when), organisation and programme (who), sector and package (what), and site
  with its place, or an admin area (where): households reached, people in them, quantity and value. A
  household counts once per cell, however many rows it has there; its people are its size when served.
* ``gap``: per site and sector, the people in need (``onthemove.respond.needs.assess``: the site's population
  where the sector's severity is in need under the needs rules, phases 3-5 by default) against the households
  and people reached in the period, the gap (need minus reached, not below 0) and the coverage.

Viewers and partners (``Principal.redacted``) get these tables after small-cell protection: every cell with
fewer households than the threshold is blanked with the cells needed to keep it from being worked out from
the table's margins (``onthemove.share.disclose.tables.suppress_table``, as ``analyse.redact`` does), and a
blanked cell's people, quantity, value, gap and coverage are blanked with it. A partner's place scope is a
filter of the query.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from onthemove.access.policy import Principal, require
from onthemove.analyse.query import within_sql
from onthemove.analyse.redact import DEFAULT_THRESHOLD
from onthemove.respond.registry.records import scope_checker
from onthemove.store.base import Store

WHERE_LEVELS = ("site", "adm1", "adm2")


@dataclass
class ResultTable:
    rows: list[dict[str, Any]]
    redacted: bool
    threshold: int | None = None
    suppressed: int = 0
    secondary: int = 0
    unprotectable: int = 0
    notes: list[str] = field(default_factory=list)


def _word(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).strip().lower()).strip("_")


def _filters(
    principal: Principal, start: dt.date | None, end: dt.date | None, place: str | None = None
) -> tuple[str, dict[str, Any]]:
    where: list[str] = ["1 = 1"]
    params: dict[str, Any] = {}
    if place:
        where.append(within_sql("place_filter"))
        params["place_filter"] = [place.upper()]
    if start is not None:
        where.append("d.date >= $start")
        params["start"] = start
    if end is not None:
        where.append("d.date <= $end")
        params["end"] = end
    if principal.scope is not None:
        where.append(within_sql("scope"))
        params["scope"] = list(principal.scope)
    return " AND ".join(where), params


def who_what_where(
    store: Store,
    principal: Principal,
    *,
    where: str = "site",
    start: dt.date | None = None,
    end: dt.date | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    place: str | None = None,
) -> ResultTable:
    require(principal, "read_aggregates")
    if where not in WHERE_LEVELS:
        raise ValueError(f"where is one of {', '.join(WHERE_LEVELS)}, not {where!r}")
    place_cols = "d.place, d.site_id" if where == "site" else f"coalesce(p.{where}, d.place) AS area"
    keys = ["month", "organisation", "programme", "sector", "package", "unit", "currency"]
    keys += ["place", "site_id"] if where == "site" else ["area"]
    cond, params = _filters(principal, start, end, place)
    k = ", ".join(keys)
    rows = store.fetch_dicts(
        "WITH d AS (SELECT strftime(d.date, '%Y-%m') AS month, d.organisation, d.programme, d.sector, d.package, "
        f"d.unit, d.currency, {place_cols}, coalesce(d.household_id, d.distribution_id) AS hh, d.people, "
        f"d.quantity, d.value FROM distributions d LEFT JOIN places p ON p.pcode = d.place WHERE {cond}), "
        f"per_hh AS (SELECT {k}, hh, max(people) AS people, sum(quantity) AS quantity, sum(value) AS value "
        f"FROM d GROUP BY {k}, hh) "
        f"SELECT {k}, count(*) AS households, sum(people) AS people, sum(quantity) AS quantity, "
        f"sum(value) AS value FROM per_hh GROUP BY {k} ORDER BY {k}",
        params,
    )
    for r in rows:
        for c in ("households", "people"):
            r[c] = int(r[c])
        r["quantity"] = float(r["quantity"])
        r["value"] = None if r["value"] is None else float(r["value"])
    table = ResultTable(rows, principal.redacted)
    if principal.redacted and rows:
        where_dim = ["site_id", "place"] if where == "site" else ["area"]
        frame = pd.DataFrame(rows)
        frame["_who"] = frame["organisation"].astype(str) + "|" + frame["programme"].fillna("").astype(str)
        frame["_what"] = (
            frame["package"].astype(str) + "|" + frame["unit"].fillna("") + "|" + frame["currency"].fillna("")
        )
        frame["_year"] = frame["month"].str[:4]
        dims = [where_dim, ["_who", "organisation"], ["_what", "package", "sector"], ["month", "_year"]]
        _protect(table, frame, dims, threshold, ("people", "quantity", "value"))
    return table


def _protect(
    table: ResultTable, frame: pd.DataFrame, dims: list[list[str]], threshold: int, with_it: tuple[str, ...]
) -> None:
    from onthemove.share.disclose.tables import suppress_table

    frame = frame.assign(households=frame["households"].where(frame["households"] > 0))  # nobody: not a small cell
    result = suppress_table(frame, dims, "households", threshold)
    hidden = result.status != ""
    for row, hide in zip(table.rows, hidden, strict=True):
        if hide:
            row["households"] = None
            for c in with_it:
                row[c] = None
        row["suppressed"] = bool(hide)
    table.threshold = threshold
    table.suppressed = int(hidden.sum())
    table.secondary = result.secondary
    table.unprotectable = len(result.unprotectable)


def reached(
    store: Store,
    principal: Principal,
    start: dt.date | None = None,
    end: dt.date | None = None,
    place: str | None = None,
) -> dict[tuple[str, str], tuple[int, int, str | None]]:
    """(site, sector) -> (households reached, people in them, place) in the period (at or inside ``place``)."""
    cond, params = _filters(principal, start, end, place)
    rows = store.fetch(
        "WITH per_hh AS (SELECT d.site_id, d.sector, coalesce(d.household_id, d.distribution_id) AS hh, "
        "max(d.people) AS people, max(d.place) AS place FROM distributions d LEFT JOIN places p ON p.pcode = d.place "
        f"WHERE {cond} GROUP BY d.site_id, d.sector, hh) "
        "SELECT site_id, sector, count(*), sum(people), max(place) FROM per_hh GROUP BY site_id, sector",
        params,
    )
    return {(str(s), _word(sec)): (int(h), int(p), pl) for s, sec, h, p, pl in rows}


def gap(
    store: Store,
    principal: Principal,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    as_of: dt.date | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    rules: Any = None,
    place: str | None = None,
) -> ResultTable:
    """People in need against people reached, per site and sector (see the module docstring); ``place``: only
    sites and distributions at or inside that P-code."""
    from onthemove.respond.needs import NeedsError, assess

    require(principal, "read_aggregates")
    notes: list[str] = []
    in_scope = scope_checker(store, principal)
    need: dict[tuple[str, str], tuple[int, int]] = {}
    places: dict[str, str | None] = {}
    try:
        needs = assess(store, rules, as_of=as_of, place=place)
        notes += needs.notes
        for r in needs.site_sector.to_dict("records"):
            need[(str(r["site_id"]), _word(r["sector"]))] = (int(r["people_in_need"]), int(r["severity"]))
        for r in needs.sites[["site_id", "place"]].to_dict("records"):
            places[str(r["site_id"])] = None if pd.isna(r["place"]) else str(r["place"])
    except NeedsError as exc:
        notes.append(f"no needs: {exc}")
    got = reached(store, principal, start, end, place)
    rows: list[dict[str, Any]] = []
    for key in sorted(set(need) | set(got)):
        site, sector = key
        pin, severity = need.get(key, (None, None))
        households, people, place = got.get(key, (0, 0, None))
        place = places.get(site) or place
        if not in_scope(place):
            continue
        rows.append(
            {
                "site_id": site,
                "place": place,
                "sector": sector,
                "severity": severity,
                "people_in_need": pin,
                "households": households,
                "people_reached": people,
                "gap": None if pin is None else max(pin - people, 0),
                "coverage": None if not pin else round(people / pin, 3),
            }
        )
    rows.sort(key=lambda r: (-(r["gap"] or 0), r["site_id"], r["sector"]))
    table = ResultTable(rows, principal.redacted, notes=notes)
    if principal.redacted and rows:
        frame = pd.DataFrame(rows)
        frame["place"] = frame["place"].fillna("")
        _protect(table, frame, [["site_id", "place"], ["sector"]], threshold, ("people_reached", "gap", "coverage"))
    return table
