"""Needs per site, area and sector on the 1–5 severity scale, from declared rules over site assessments.

A rules file (YAML; ``docs/needs.md`` has the long version, ``rules/default.yaml`` the default) says, per
sector, which assessment indicators to read, how each value maps to a severity phase and how a sector's
indicators combine::

    name: somalia-dsa-2021
    in_need: 3                    # phases 3-5 are in need (JIAF): people in need count from here
    population: individuals       # or households: what a site's people in need are counted in
    area_severity: max            # or weighted: an area's severity (max of its sites, or population-weighted)
    sectors:
      wash:                       # the sector as recorded in site_assessments.sector; "*" = any other sector
        label: WASH
        combine: max              # max | mean | min of the indicators' severities (mean rounds half up)
        indicators:
          wash_need: {map: {0: 2, 1: 3, 2: 4}}          # value -> severity
          water_lpd: {thresholds: {2: 15, 3: 10, 4: 7.5, 5: 5}, direction: lower}
          severity: {}                                  # the value is already a phase: rounded, clipped

Per site: each sector's severity, the overall severity (the maximum over sectors, as the MSNI), the count of
sectors in need and the people in need (the site's population when the overall severity is in need; per
sector likewise). Sites are ranked by overall severity, then sectors in need, then people in need, each with
a sentence that says why. Per area (adm1, adm2): people in need add up; severity is the rule's
``area_severity``. The latest assessment of each site, sector and indicator counts (optionally as of a date).
One SQL text reads the store on both engines; the rules apply in vectorised pandas.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from onthemove.analyse.query import within_sql
from onthemove.store.base import Store

PHASES = (1, 2, 3, 4, 5)
COMBINE = ("max", "mean", "min")
AREA_SEVERITY = ("max", "weighted")
POPULATION = ("individuals", "households")
LEVELS = ("site", "adm1", "adm2")
ANY = "*"
LABELS = {
    "wash": "WASH",
    "hlp": "HLP",
    "nfi": "NFI",
    "shelter_nfi": "shelter/NFI",
    "snfi": "shelter/NFI",
    "food_security": "food security",
    "cccm": "CCCM",
}


class NeedsError(ValueError):
    """A rules file, or the data it is applied to, is not usable; the message says where and why."""


@dataclass(frozen=True)
class IndicatorRule:
    """How one indicator's values become phases: a value map, thresholds, or the value itself (rounded)."""

    indicator: str
    value_map: tuple[tuple[float, int], ...] = ()
    thresholds: tuple[tuple[int, float], ...] = ()  # (phase, threshold), phases increasing
    direction: str = "higher"  # higher: value >= threshold is that phase; lower: value <= threshold

    def describe(self) -> str:
        if self.value_map:
            return "map " + ", ".join(f"{_num(v)} -> {s}" for v, s in self.value_map)
        if self.thresholds:
            op = ">=" if self.direction == "higher" else "<="
            return "thresholds " + ", ".join(f"{s} if {op} {_num(t)}" for s, t in self.thresholds)
        return "value is the phase (rounded, clipped to 1-5)"

    def phases(self, values: np.ndarray) -> np.ndarray:
        """Phase per value (float array; NaN where the value map has no entry)."""
        values = np.asarray(values, dtype=float)
        if self.value_map:
            out = np.full(values.shape, np.nan)
            for value, phase in self.value_map:
                out[np.isclose(values, value)] = phase
            return out
        if self.thresholds:
            out = np.ones(values.shape)
            for phase, threshold in self.thresholds:
                hit = values >= threshold if self.direction == "higher" else values <= threshold
                out[hit] = phase
            return out
        return np.clip(np.floor(values + 0.5), 1, 5)


@dataclass(frozen=True)
class SectorRule:
    sector: str  # "*": every sector that no other rule names
    indicators: tuple[IndicatorRule, ...]
    combine: str = "max"
    label: str | None = None


@dataclass(frozen=True)
class Rules:
    name: str
    sectors: tuple[SectorRule, ...]
    description: str = ""
    in_need: int = 3
    population: str = "individuals"
    area_severity: str = "max"
    source: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    def indicator_names(self) -> list[str]:
        return sorted({i.indicator for s in self.sectors for i in s.indicators})

    def rule_for(self, sector: str) -> SectorRule | None:
        named = {s.sector: s for s in self.sectors}
        return named.get(sector) or named.get(ANY)

    def label(self, sector: str) -> str:
        rule = {s.sector: s for s in self.sectors}.get(sector)
        if rule is not None and rule.label:
            return rule.label
        return self.labels.get(sector) or LABELS.get(sector) or sector.replace("_", " ")


# ---------------------------------------------------------------------------------------------------- rules files


def _num(x: float) -> str:
    return f"{x:g}"


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, expected: str) -> NeedsError:
        where = f"{self.source}: " if self.source else ""
        return NeedsError(f"{where}{key}: {expected}")

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__} {value!r}")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise self.fail(
                f"{key}.{unknown[0]}" if key else str(unknown[0]), f"unknown key; expected one of {', '.join(allowed)}"
            )
        return dict(value)

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(key, f"expected a number, got {value!r}")
        return float(value)

    def phase(self, value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value not in PHASES:
            raise self.fail(key, f"expected a severity phase 1-5, got {value!r}")
        return int(value)

    def choice(self, value: Any, key: str, options: tuple[str, ...]) -> str:
        if value not in options:
            raise self.fail(key, f"expected one of {', '.join(options)}, got {value!r}")
        return str(value)

    def indicator(self, name: Any, body: Any, key: str) -> IndicatorRule:
        if not isinstance(name, str) or not name:
            raise self.fail(key, f"expected an indicator name, got {name!r}")
        spec = self.mapping(body, key, ("map", "thresholds", "direction"))
        if "map" in spec and "thresholds" in spec:
            raise self.fail(key, "give either map or thresholds, not both")
        if "map" in spec:
            raw = spec["map"]
            if not isinstance(raw, Mapping) or not raw:
                raise self.fail(f"{key}.map", "expected a mapping value -> severity phase, e.g. {0: 1, 1: 3}")
            pairs = tuple(
                sorted((self.number(v, f"{key}.map"), self.phase(s, f"{key}.map.{v}")) for v, s in raw.items())
            )
            return IndicatorRule(name, value_map=pairs)
        if "thresholds" in spec:
            raw = spec["thresholds"]
            if not isinstance(raw, Mapping) or not raw:
                raise self.fail(
                    f"{key}.thresholds", "expected a mapping severity phase -> threshold, e.g. {3: 20, 4: 40}"
                )
            direction = self.choice(spec.get("direction", "higher"), f"{key}.direction", ("higher", "lower"))
            pairs_t = tuple(
                sorted(
                    (self.phase(s, f"{key}.thresholds"), self.number(t, f"{key}.thresholds.{s}"))
                    for s, t in raw.items()
                )
            )
            limits = [t for _, t in pairs_t]
            ordered = limits == sorted(limits) if direction == "higher" else limits == sorted(limits, reverse=True)
            if not ordered or len(set(limits)) < len(limits):
                how = "increase" if direction == "higher" else "decrease"
                raise self.fail(
                    f"{key}.thresholds", f"with direction {direction}, thresholds must {how} with the phase"
                )
            return IndicatorRule(name, thresholds=pairs_t, direction=direction)
        if "direction" in spec:
            raise self.fail(f"{key}.direction", "only goes with thresholds")
        return IndicatorRule(name)

    def sector(self, name: Any, body: Any) -> SectorRule:
        key = f"sectors.{name}"
        if not isinstance(name, str) or not name:
            raise self.fail("sectors", f"expected sector names as keys, got {name!r}")
        spec = self.mapping(body, key, ("label", "combine", "indicators"))
        raw = spec.get("indicators")
        if not isinstance(raw, Mapping) or not raw:
            raise self.fail(f"{key}.indicators", "expected a mapping indicator -> rule (at least one)")
        indicators = tuple(self.indicator(n, b, f"{key}.indicators.{n}") for n, b in raw.items())
        label = spec.get("label")
        if label is not None and not isinstance(label, str):
            raise self.fail(f"{key}.label", f"expected text, got {label!r}")
        combine = self.choice(spec.get("combine", "max"), f"{key}.combine", COMBINE)
        return SectorRule(name, indicators, combine, label)


def parse_rules(data: Any, source: str = "") -> Rules:
    """Rules from parsed YAML; errors name the file and the key."""
    p = _Parser(source)
    top = ("name", "description", "in_need", "population", "area_severity", "labels", "sectors")
    if not isinstance(data, Mapping):
        raise p.fail("(top)", f"expected a mapping with {', '.join(top)}")
    spec = p.mapping(data, "", top)
    sectors = spec.get("sectors")
    if not isinstance(sectors, Mapping) or not sectors:
        raise p.fail("sectors", "expected a mapping sector -> rule (at least one)")
    labels = spec.get("labels") or {}
    if not isinstance(labels, Mapping) or not all(isinstance(v, str) for v in labels.values()):
        raise p.fail("labels", "expected a mapping sector -> label text")
    name = spec.get("name") or (Path(source).stem if source else "rules")
    return Rules(
        name=str(name),
        description=str(spec.get("description") or "").strip(),
        sectors=tuple(p.sector(n, b) for n, b in sectors.items()),
        in_need=p.phase(spec.get("in_need", 3), "in_need"),
        population=p.choice(spec.get("population", "individuals"), "population", POPULATION),
        area_severity=p.choice(spec.get("area_severity", "max"), "area_severity", AREA_SEVERITY),
        source=source,
        labels={str(k): str(v) for k, v in labels.items()},
    )


def default_rules_path() -> Path:
    return Path(str(resources.files("onthemove.respond").joinpath("rules", "default.yaml")))


def load_rules(path: str | Path | None = None) -> Rules:
    """Read a rules file (the packaged default when ``path`` is None)."""
    path = Path(path) if path is not None else default_rules_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NeedsError(f"cannot read rules file {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise NeedsError(f"{path.name}: not valid YAML: {exc}") from None
    return parse_rules(data, source=path.name)


# ------------------------------------------------------------------------------------------------------ the store

_VALUES_SQL = (
    "SELECT site_id, sector, indicator, value, date FROM (SELECT a.site_id, a.sector, a.indicator, a.value, "
    "a.date, row_number() OVER (PARTITION BY a.site_id, a.sector, a.indicator ORDER BY a.date DESC, "
    "a.batch_id DESC) AS rn FROM site_assessments a WHERE list_contains($indicators, a.indicator){when}) latest "
    "WHERE rn = 1"
)

_SITES_SQL = (
    "SELECT s.site_id, s.name, s.place, p.adm1, p.adm2, s.site_type, s.households, s.individuals, s.latitude, "
    "s.longitude FROM (SELECT * FROM (SELECT x.*, row_number() OVER (PARTITION BY x.site_id ORDER BY x.date DESC "
    "NULLS LAST, x.batch_id DESC) AS rn FROM sites x{when}) l WHERE rn = 1) s LEFT JOIN places p ON p.pcode = "
    "s.place WHERE s.site_id IN (SELECT DISTINCT a.site_id FROM site_assessments a WHERE "
    "list_contains($indicators, a.indicator)){where}"
)


def read_assessments(
    store: Store, rules: Rules, *, as_of: dt.date | None = None, place: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the latest value per site, sector and indicator the rules read; the registry's latest record of those
    sites, with their adm1 and adm2). ``as_of``: only assessments and registry records dated up to then;
    ``place``: only sites at or inside that P-code."""
    params: dict[str, Any] = {"indicators": rules.indicator_names()}
    when = ""
    site_when = ""
    if as_of is not None:
        params["as_of"] = as_of
        when = " AND a.date <= $as_of"
        site_when = " WHERE x.date IS NULL OR x.date <= $as_of"
    where = ""
    site_params = dict(params)
    if place:
        site_params["place"] = [place.upper()]
        where = " AND " + within_sql("place")
    values = store.fetch_arrow(_VALUES_SQL.format(when=when), params).to_pandas()
    sites = store.fetch_arrow(_SITES_SQL.format(when=site_when, where=where), site_params).to_pandas()
    if place:
        values = values[values["site_id"].isin(sites["site_id"])]
    return values, sites


# ------------------------------------------------------------------------------------------------------- the rules


@dataclass
class Needs:
    """Severity per site and sector, per site (ranked) and, on demand, per area."""

    rules: Rules
    site_sector: pd.DataFrame  # site_id, sector, severity, in_need, people_in_need
    sites: pd.DataFrame  # ranked: rank, site_id, name, ..., severity, sectors_in_need, people_in_need, why, <sector>
    sectors: list[str]
    notes: list[str] = field(default_factory=list)

    def severity_counts(self) -> pd.DataFrame:
        """Sites per phase, overall and per sector (rows: phase 1-5)."""
        table = {"overall": self.sites["severity"].value_counts()}
        for s in self.sectors:
            table[s] = self.sites[s].value_counts()
        return pd.DataFrame(table).reindex(PHASES).fillna(0).astype(int).rename_axis("severity")

    def areas(self, level: str, names: Mapping[str, str] | None = None) -> pd.DataFrame:
        """Per admin area (adm1 or adm2): sites, population, people in need (total and per sector, sums),
        severity per the rules' ``area_severity``, sectors in need; ranked like sites. Sites known only at
        a coarser level than ``level`` are kept under that coarser area (``area_level`` says which)."""
        if level not in ("adm1", "adm2"):
            raise NeedsError(f"level must be adm1 or adm2, not {level!r}")
        s = self.sites.copy()
        s["area"] = s[level] if level == "adm1" else s["adm2"].fillna(s["adm1"])
        s["area"] = s["area"].fillna(s["place"]).fillna("(no place)")
        s["area_level"] = np.where(s[level].notna(), level, np.where(s["adm1"].notna(), "adm1", "unknown"))
        pop = s["population"].fillna(0)
        frames: dict[str, Any] = {
            "area_level": s.groupby("area")["area_level"].first(),
            "sites": s.groupby("area").size(),
            "population": pop.groupby(s["area"]).sum(),
            "people_in_need": s["people_in_need"].groupby(s["area"]).sum(),
        }
        for sector in self.sectors:
            frames[f"pin_{sector}"] = s[f"pin_{sector}"].groupby(s["area"]).sum()
        out = pd.DataFrame(frames)
        for col, sev in [("severity", "severity")] + [(sector, sector) for sector in self.sectors]:
            if self.rules.area_severity == "max":
                out[col] = s.groupby("area")[sev].max()
            else:
                ok = s[sev].notna() & (pop > 0)
                weighted = (s[sev].where(ok) * pop.where(ok)).groupby(s["area"]).sum()
                total = pop.where(ok).groupby(s["area"]).sum()
                out[col] = (weighted / total.replace(0, np.nan)).round(2)
        in_need = [(out[x] >= self.rules.in_need).fillna(False).astype(int) for x in self.sectors]
        out["sectors_in_need"] = sum(in_need) if in_need else 0
        out["share_in_need"] = (out["people_in_need"] / out["population"].replace(0, np.nan)).round(3)
        out = out.reset_index()
        out.insert(1, "name", out["area"].map(dict(names or {})))
        out = out.sort_values(
            ["severity", "sectors_in_need", "people_in_need", "area"], ascending=[False, False, False, True]
        )
        out.insert(0, "rank", range(1, len(out) + 1))
        out["why"] = [
            _why(r, self.sectors, self.rules, lambda v: f"{v:.2f}".rstrip("0").rstrip("."))
            for r in out.to_dict("records")
        ]
        return out.reset_index(drop=True)


def _why(row: Mapping[Any, Any], sectors: list[str], rules: Rules, fmt: Any = str) -> str:
    scored = [(row[s], s) for s in sectors if row.get(s) is not None and not pd.isna(row[s])]
    in_need = sorted([x for x in scored if x[0] >= rules.in_need], key=lambda x: (-x[0], sectors.index(x[1])))
    if in_need:
        detail = ", ".join(f"{rules.label(s)} {fmt(v)}" for v, s in in_need)
    elif scored:
        v, s = max(scored, key=lambda x: (x[0], -sectors.index(x[1])))
        detail = f"no sector in need; highest {rules.label(s)} {fmt(v)}"
    else:
        detail = "no sector scored"
    k = int(row["sectors_in_need"])
    unit = "people" if rules.population == "individuals" else "households"
    pin = row["people_in_need"]
    people = "population unknown" if pin is None or pd.isna(pin) else f"{int(pin):,} {unit} in need"
    return f"severity {fmt(row['severity'])} ({detail}); {k} sector{'s' if k != 1 else ''} in need; {people}"


def apply_rules(values: pd.DataFrame, sites: pd.DataFrame, rules: Rules) -> Needs:
    """The rules over the latest values (``read_assessments``): vectorised, no store needed."""
    notes: list[str] = []
    values = values.copy()
    no_sector = values["sector"].isna() | (values["sector"] == "")
    if no_sector.any():
        notes.append(f"{int(no_sector.sum()):,} assessment values have no sector and are not scored")
        values = values[~no_sector]
    parts: list[pd.DataFrame] = []
    named = {s.sector for s in rules.sectors if s.sector != ANY}
    for sector in sorted(values["sector"].unique()):
        rule = rules.rule_for(sector)
        if rule is None:
            continue
        rows = values[values["sector"] == sector]
        for ind in rule.indicators:
            sel = rows[rows["indicator"] == ind.indicator]
            if sel.empty:
                continue
            phase = ind.phases(sel["value"].to_numpy())
            unmapped = np.isnan(phase)
            if unmapped.any():
                odd = sorted({_num(v) for v in sel["value"].to_numpy()[unmapped]})[:5]
                notes.append(
                    f"{sector}/{ind.indicator}: {int(unmapped.sum()):,} values not in the map ({', '.join(odd)}) "
                    "are not scored"
                )
            parts.append(
                pd.DataFrame(
                    {"site_id": sel["site_id"].to_numpy(), "sector": sector, "phase": phase, "combine": rule.combine}
                )
            )
    unclaimed = sorted(set(values["sector"]) - named) if ANY not in {s.sector for s in rules.sectors} else []
    if unclaimed:
        notes.append(f"sectors without a rule, not scored: {', '.join(unclaimed)}")
    scored = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["site_id", "sector", "phase", "combine"])
    )
    scored = scored.dropna(subset=["phase"])
    grouped = scored.groupby(["site_id", "sector"], sort=True)
    how = scored.groupby("sector")["combine"].first().to_dict()
    agg = pd.DataFrame({"max": grouped["phase"].max(), "mean": grouped["phase"].mean(), "min": grouped["phase"].min()})
    agg = agg.reset_index()
    pick = agg["sector"].map(how).fillna("max")
    sev = np.select(
        [pick == "max", pick == "mean", pick == "min"], [agg["max"], np.floor(agg["mean"] + 0.5), agg["min"]]
    )
    site_sector = pd.DataFrame({"site_id": agg["site_id"], "sector": agg["sector"], "severity": sev.astype(int)})
    sectors = sorted(site_sector["sector"].unique().tolist(), key=lambda s: _sector_order(rules, s))

    sites = sites.drop_duplicates("site_id").set_index("site_id")
    missing = sorted(set(site_sector["site_id"]) - set(sites.index))
    if missing:
        notes.append(
            f"{len(missing):,} assessed sites are not in the site registry (no population, no place): "
            f"{', '.join(missing[:5])}{'...' if len(missing) > 5 else ''}"
        )
    wide = site_sector.pivot(index="site_id", columns="sector", values="severity").reindex(columns=sectors)
    base_cols = ["name", "place", "adm1", "adm2", "site_type", "households", "individuals", "latitude", "longitude"]
    out = sites.reindex(wide.index)[base_cols].copy()
    out["population"] = pd.to_numeric(out[rules.population], errors="coerce")
    no_pop = out["population"].isna()
    if no_pop.any():
        notes.append(
            f"{int(no_pop.sum()):,} assessed sites have no {rules.population} figure: their people in need count as 0"
        )
    pop = out["population"].fillna(0)
    for sector in sectors:
        out[sector] = wide[sector].astype("Int64")
    out["severity"] = wide.max(axis=1).astype(int)
    in_need = wide >= rules.in_need
    out["sectors_in_need"] = in_need.sum(axis=1).astype(int)
    out["people_in_need"] = np.where(out["severity"] >= rules.in_need, pop, 0).astype(np.int64)
    for sector in sectors:
        out[f"pin_{sector}"] = np.where(in_need[sector], pop, 0).astype(np.int64)
    out = out.reset_index()
    out = out.sort_values(
        ["severity", "sectors_in_need", "people_in_need", "site_id"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["why"] = [_why(r, sectors, rules) for r in out.to_dict("records")]
    out = out.reset_index(drop=True)
    pin_by = out.set_index("site_id")
    site_sector["in_need"] = site_sector["severity"] >= rules.in_need
    site_sector["people_in_need"] = np.where(
        site_sector["in_need"], site_sector["site_id"].map(pin_by["population"]).fillna(0), 0
    ).astype(np.int64)
    return Needs(rules=rules, site_sector=site_sector, sites=out, sectors=sectors, notes=notes)


def _sector_order(rules: Rules, sector: str) -> tuple[int, str]:
    order = [s.sector for s in rules.sectors]
    return (order.index(sector) if sector in order else len(order), sector)


def assess(
    store: Store,
    rules: Rules | None = None,
    *,
    as_of: dt.date | None = None,
    place: str | None = None,
) -> Needs:
    """Needs from the store's site assessments under ``rules`` (the packaged default when None)."""
    rules = rules or load_rules()
    values, sites = read_assessments(store, rules, as_of=as_of, place=place)
    if values.empty:
        wanted = ", ".join(rules.indicator_names())
        raise NeedsError(f"the store holds no site assessments with the indicators the rules read ({wanted})")
    return apply_rules(values, sites, rules)


def area_names(store: Store, codes: list[str]) -> dict[str, str]:
    rows = store.fetch("SELECT pcode, name FROM places WHERE list_contains($codes, pcode)", {"codes": codes})
    return {code: name for code, name in rows}
