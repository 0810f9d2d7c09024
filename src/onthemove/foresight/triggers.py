"""Early-warning triggers: thresholds on observed drivers and on forecasts, scored on history.

A trigger says *when to act* (its condition, tested month by month for each of its areas) and *what it is meant
to anticipate* (its event: for example high arrivals in the area within the next three months). ``evaluate``
replays the condition over past months, using only what was known at the end of each month, and compares the
decisions with what happened afterwards: a contingency table of hits, false alarms, misses and correct
negatives, and the usual verification scores. ``status`` says which triggers fire in the latest month.

The file format (YAML; docs/triggers.md has the long version)::

    triggers:
      - name: drought-rainfall-deficit        # unique; letters, digits, - _ . (used on the command line)
        description: free text
        areas: {level: adm1}                  # every area at a level (adm0..adm3), optionally {within: SO}
                                              # or one P-code (SO22) or a list ([SO22, SO24])
        when:                                 # the condition: exactly one of driver, forecast, all, any
          driver:
            driver: rainfall                  # driver_events.driver
            indicator: rainfall_mm            # driver_events.indicator
            statistic: percent_of_normal      # value | anomaly | percent_of_normal | standardised_anomaly
            window: 1                         # months summed, ending at the month (a 3-month total: 3)
            below: 75                         # or above: (strict comparison); exactly one of them
            consecutive: 2                    # the comparison holds in N months in a row, ending at the month
            months: [4, 5, 6, 10, 11, 12]     # optional: calendar months in which it can hold (a season)
            place: SO                         # optional: read this place's records for every area
            aggregate: mean                   # optional: mean (default) or sum of the records in an area/month
            min_years: 10                     # climatology needs this many earlier years (default 10)
            baseline_years: 30                # optional: climatology from at most the latest N earlier years
        # or
        #   forecast: {kind: movements, horizon: 3, above: 20000, probability: 0.5, interval: 80}
        #   forecast: {kind: movements, horizon: 3, above_percentile: 75, probability: 0.5}
        # or
        #   all: [{driver: {...}}, {forecast: {...}}]      any: [...]    (nest freely)
        event:                                # what the trigger should anticipate, per area
          kind: movements                     # movements (arrivals; side: from for departures) or displacement
          reason: drought                     # optional: one reason or a list
          above_percentile: 75                # of the area's own monthly series, or above: 5000 (people)
          reference: {from: 2016-01, to: 2021-12}   # optional: months for the percentile (default: all)
          lead: 3                             # months after the trigger month: 1..3; or [0, 3] to include it

Rules, in short (each is spelt out where it is implemented):

* Driver values for an area: the records at the area or inside it (averaged per month, or summed with
  ``aggregate: sum``; conflict events and other counts default to ``sum``), else the records of its nearest
  ancestor (rainfall recorded for the country applies to every region). ``place:`` picks one place for all.
* Statistics compare the month (or the ``window``-month total ending at it) with the *same calendar month in
  earlier years only*: ``anomaly`` = value − mean, ``percent_of_normal`` = 100 · value / mean,
  ``standardised_anomaly`` = (value − mean) / standard deviation (sample). The month itself and anything later
  never enter its own normal, so a decision at month t reads data dated up to the end of month t only.
* Forecast conditions ask the injected forecaster at origin t (the last observed month) for ``horizon`` months
  and fire when, for any of the months t+1..t+horizon, P(value > X) ≥ ``probability``. P comes from the
  forecast's mean and central ``interval``% interval [lo, hi], taken as a normal distribution centred on the mean
  with σ = (hi − lo) / (2 z), z the standard-normal quantile at 0.5 + interval/200. When the forecast also gives
  quantile columns ``q<percent>`` (q10, q50, q90...), and with lo/hi at least three levels, the distribution is
  the linear interpolation of those quantiles instead, with half-normal tails beyond the outermost ones.
  ``above_percentile`` sets X to that percentile of the area's own monthly series up to the origin (at least
  12 months of it, else the decision is undetermined).
* Missing data make a condition *undetermined* (None), not false: ``all`` is false when any part is false,
  ``any`` is true when any part is true, else undetermined ones stay undetermined (Kleene's logic). Outside
  ``months`` a driver comparison is false.
* The event at month t: the area's monthly value (movements: people arriving, summed; displacement: the latest
  report per place and month, carried forward) is above the threshold in at least one month of the lead
  window. Months with no movement recorded count as zero within the span of the data; a lead window that runs
  past the data is *censored* and the case left out. The percentile threshold is a definition of "a high month"
  for the area, fixed once over the reference period: it describes the outcome and is not known to the trigger.

Scores, with a = hits, b = false alarms, c = misses, d = correct negatives: POD = a/(a+c), FAR (false-alarm
ratio) = b/(a+b), POFD = b/(b+d), CSI = a/(a+b+c), HK (Hanssen–Kuipers) = POD − POFD, frequency bias =
(a+b)/(a+c), base rate = (a+c)/n. A ratio with a zero denominator is None.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import yaml

from onthemove.store.base import Store

if TYPE_CHECKING:
    import pandas as pd

STATISTICS = ("value", "anomaly", "percent_of_normal", "standardised_anomaly")
_STATISTIC_ALIASES = {"standardized_anomaly": "standardised_anomaly", "percent": "percent_of_normal"}
LEVELS = {"adm0": 0, "adm1": 1, "adm2": 2, "adm3": 3}
EVENT_KINDS = ("movements", "displacement")
FORECAST_KINDS = ("movements", "displacement")
MIN_HISTORY_MONTHS = 12  # months of an area's own history a percentile threshold of a forecast condition needs
_ADDITIVE_WORDS = ("events", "fatalities", "count", "deaths", "people", "affected", "incidents")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class TriggerError(ValueError):
    """A triggers file that cannot be used, or a trigger that cannot be evaluated on this store."""


# --------------------------------------------------------------------------------------------------------------
# months: an integer index (year * 12 + month - 1) keeps the arithmetic of lead windows and calendars trivial


def month_index(value: Any) -> int:
    """``YYYY-MM`` (or a date, or ``YYYY-MM-DD``) as year * 12 + month - 1."""
    if hasattr(value, "year") and hasattr(value, "month"):
        return int(value.year) * 12 + int(value.month) - 1
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})(?:-\d{1,2})?\s*", str(value))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise TriggerError(f"{value!r} is not a month like 2021-06")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# --------------------------------------------------------------------------------------------------------------
# the file format


@dataclass(frozen=True)
class Areas:
    """The areas a trigger is tested in: listed P-codes, or every area at a level (optionally inside one)."""

    pcodes: tuple[str, ...] = ()
    level: int | None = None
    within: str | None = None

    def describe(self) -> str:
        if self.level is None:
            return ", ".join(self.pcodes)
        return f"every adm{self.level} area" + (f" in {self.within}" if self.within else "")


@dataclass(frozen=True)
class DriverCondition:
    driver: str
    indicator: str
    statistic: str
    op: str  # below | above
    threshold: float
    consecutive: int = 1
    window: int = 1
    months: tuple[int, ...] | None = None
    place: str | None = None
    aggregate: str | None = None  # mean | sum; None: sum for counts, mean otherwise
    min_years: int = 10
    baseline_years: int | None = None

    @property
    def additive(self) -> bool:
        if self.aggregate is not None:
            return self.aggregate == "sum"
        return self.driver == "conflict" or any(w in self.indicator.lower() for w in _ADDITIVE_WORDS)

    def describe(self) -> str:
        what = f"{self.driver}/{self.indicator}"
        if self.window > 1:
            what += f" {self.window}-month total"
        if self.place:
            what += f" at {self.place}"
        text = f"{what} {self.statistic} {self.op} {_num(self.threshold)}"
        if self.consecutive > 1:
            text += f" for {self.consecutive} consecutive months"
        if self.months:
            text += f" (in months {','.join(str(m) for m in self.months)})"
        return text


@dataclass(frozen=True)
class ForecastCondition:
    kind: str
    horizon: int
    probability: float
    threshold: float | None = None
    percentile: float | None = None
    interval: float = 80.0

    def describe(self) -> str:
        x = _num(self.threshold) if self.threshold is not None else f"the area's {_num(self.percentile)}th percentile"
        return (
            f"forecast {self.kind} above {x} with probability >= {_num(self.probability)} "
            f"within {self.horizon} month(s)"
        )


@dataclass(frozen=True)
class Combination:
    op: str  # all | any
    parts: tuple[Condition, ...]

    def describe(self) -> str:
        joiner = " AND " if self.op == "all" else " OR "
        return "(" + joiner.join(p.describe() for p in self.parts) + ")"


Condition = DriverCondition | ForecastCondition | Combination


@dataclass(frozen=True)
class Event:
    kind: str
    lead: tuple[int, int] = (1, 3)
    threshold: float | None = None
    percentile: float | None = None
    reasons: tuple[str, ...] | None = None
    side: str = "to"
    reference: tuple[int | None, int | None] = (None, None)

    def describe(self) -> str:
        what = "arrivals" if self.kind == "movements" and self.side == "to" else self.kind
        if self.kind == "movements" and self.side == "from":
            what = "departures"
        if self.reasons:
            what = f"{'/'.join(self.reasons)} {what}"
        x = _num(self.threshold) if self.threshold is not None else f"the area's {_num(self.percentile)}th percentile"
        start, end = self.lead
        window = f"months {start}-{end} after" if start != end else f"month {start} after"
        return f"{what} above {x} in {window} the trigger month"


@dataclass(frozen=True)
class Trigger:
    name: str
    areas: Areas
    when: Condition
    event: Event
    description: str = ""

    def conditions(self) -> list[DriverCondition | ForecastCondition]:
        return list(_leaves(self.when))

    @property
    def uses_forecasts(self) -> bool:
        return _uses_forecasts(self.when)


def _leaves(cond: Condition) -> Iterable[DriverCondition | ForecastCondition]:
    if isinstance(cond, Combination):
        for part in cond.parts:
            yield from _leaves(part)
    else:
        yield cond


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class _Parser:
    """Reads one trigger's mapping; every error names the file, the trigger and the field."""

    def __init__(self, source: str, name: str) -> None:
        self.source = source
        self.name = name

    def fail(self, path: str, message: str) -> TriggerError:
        where = f"{self.source}: " if self.source else ""
        return TriggerError(f"{where}trigger {self.name!r}: {path}: {message}")

    def mapping(self, value: Any, path: str, allowed: Sequence[str], required: Sequence[str] = ()) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping with {', '.join(allowed)}, got {_show(value)}")
        unknown = [str(k) for k in value if k not in allowed]
        if unknown:
            raise self.fail(f"{path}.{unknown[0]}", f"unknown field; expected one of {', '.join(allowed)}")
        for key in required:
            if value.get(key) is None:
                raise self.fail(f"{path}.{key}", "missing")
        return dict(value)

    def text(self, data: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if value is None:
            raise self.fail(f"{path}.{key}", "missing")
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise self.fail(f"{path}.{key}", f"expected text, got {_show(value)}")
        return str(value).strip()

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        lo: float | None = None,
        hi: float | None = None,
        integer: bool = False,
    ) -> float:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(f"{path}.{key}", f"expected a number, got {_show(value)}")
        if integer and not float(value).is_integer():
            raise self.fail(f"{path}.{key}", f"expected a whole number, got {_show(value)}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = f"between {_num(lo)} and {_num(hi)}" if lo is not None and hi is not None else ""
            bounds = bounds or (f"at least {_num(lo)}" if lo is not None else f"at most {_num(hi)}")
            raise self.fail(f"{path}.{key}", f"must be {bounds}, got {_show(value)}")
        return float(value)

    def month(self, data: Mapping[str, Any], key: str, path: str) -> int | None:
        if data.get(key) is None:
            return None
        try:
            return month_index(data[key])
        except TriggerError:
            raise self.fail(f"{path}.{key}", f"expected a month like 2016-01, got {_show(data[key])}") from None

    def threshold(self, data: Mapping[str, Any], path: str) -> tuple[float | None, float | None]:
        """``above: X`` or ``above_percentile: P``, exactly one."""
        given = [k for k in ("above", "above_percentile") if data.get(k) is not None]
        if len(given) != 1:
            raise self.fail(f"{path}.above", "give exactly one of above (a number) or above_percentile (0-100)")
        if given[0] == "above":
            return self.number(data, "above", path), None
        return None, self.number(data, "above_percentile", path, 0, 100)

    def areas(self, value: Any) -> Areas:
        if isinstance(value, str) and value.strip():
            return Areas(pcodes=(value.strip().upper(),))
        if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
            return Areas(pcodes=tuple(dict.fromkeys(v.strip().upper() for v in value)))
        if isinstance(value, Mapping):
            data = self.mapping(value, "areas", ("level", "within"), ("level",))
            level = str(data["level"]).lower()
            if level not in LEVELS:
                raise self.fail("areas.level", f"expected one of {', '.join(LEVELS)}, got {_show(data['level'])}")
            within = data.get("within")
            if within is not None and not (isinstance(within, str) and within.strip()):
                raise self.fail("areas.within", f"expected a P-code, got {_show(within)}")
            return Areas(level=LEVELS[level], within=within.strip().upper() if within else None)
        raise self.fail("areas", f"expected a P-code, a list of P-codes or {{level: adm1}}, got {_show(value)}")

    def condition(self, value: Any, path: str) -> Condition:
        data = self.mapping(value, path, ("driver", "forecast", "all", "any"))
        if len(data) != 1:
            raise self.fail(path, "give exactly one of driver, forecast, all or any")
        [(key, body)] = data.items()
        if key == "driver":
            return self.driver(body, f"{path}.driver")
        if key == "forecast":
            return self.forecast(body, f"{path}.forecast")
        if not isinstance(body, list) or not body:
            raise self.fail(f"{path}.{key}", f"expected a list of conditions, got {_show(body)}")
        parts = tuple(self.condition(part, f"{path}.{key}[{i}]") for i, part in enumerate(body))
        return Combination(op=key, parts=parts)

    def driver(self, value: Any, path: str) -> DriverCondition:
        allowed = (
            "driver",
            "indicator",
            "statistic",
            "below",
            "above",
            "consecutive",
            "window",
            "months",
            "place",
            "aggregate",
            "min_years",
            "baseline_years",
        )
        data = self.mapping(value, path, allowed, ("driver", "indicator"))
        statistic = str(data.get("statistic", "value")).strip().lower()
        statistic = _STATISTIC_ALIASES.get(statistic, statistic)
        if statistic not in STATISTICS:
            raise self.fail(
                f"{path}.statistic", f"expected one of {', '.join(STATISTICS)}, got {_show(data['statistic'])}"
            )
        given = [k for k in ("below", "above") if data.get(k) is not None]
        if len(given) != 1:
            raise self.fail(f"{path}.below", "give exactly one of below or above (the threshold)")
        op = given[0]
        months = data.get("months")
        if months is not None:
            if (
                not isinstance(months, list)
                or not months
                or not all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in months)
            ):
                raise self.fail(f"{path}.months", f"expected a list of calendar months 1-12, got {_show(months)}")
            months = tuple(sorted(set(months)))
        aggregate = data.get("aggregate")
        if aggregate is not None and aggregate not in ("mean", "sum"):
            raise self.fail(f"{path}.aggregate", f"expected mean or sum, got {_show(aggregate)}")
        min_years = int(self.number(data, "min_years", path, 2, integer=True)) if "min_years" in data else 10
        baseline = None
        if data.get("baseline_years") is not None:
            baseline = int(self.number(data, "baseline_years", path, min_years, integer=True))
        place = data.get("place")
        if place is not None and not (isinstance(place, str) and place.strip()):
            raise self.fail(f"{path}.place", f"expected a P-code, got {_show(place)}")
        return DriverCondition(
            driver=self.text(data, "driver", path),
            indicator=self.text(data, "indicator", path),
            statistic=statistic,
            op=op,
            threshold=self.number(data, op, path),
            consecutive=int(self.number(data, "consecutive", path, 1, 120, True)) if "consecutive" in data else 1,
            window=int(self.number(data, "window", path, 1, 36, True)) if "window" in data else 1,
            months=months,
            place=place.strip().upper() if place else None,
            aggregate=aggregate,
            min_years=min_years,
            baseline_years=baseline,
        )

    def forecast(self, value: Any, path: str) -> ForecastCondition:
        allowed = ("kind", "horizon", "above", "above_percentile", "probability", "interval")
        data = self.mapping(value, path, allowed, ("horizon", "probability"))
        kind = self.text(data, "kind", path, default="movements")
        if kind not in FORECAST_KINDS:
            raise self.fail(f"{path}.kind", f"expected one of {', '.join(FORECAST_KINDS)}, got {_show(kind)}")
        threshold, percentile = self.threshold(data, path)
        return ForecastCondition(
            kind=kind,
            horizon=int(self.number(data, "horizon", path, 1, 36, True)),
            probability=self.number(data, "probability", path, 0, 1),
            threshold=threshold,
            percentile=percentile,
            interval=self.number(data, "interval", path, 1, 99.9) if "interval" in data else 80.0,
        )

    def event(self, value: Any) -> Event:
        allowed = ("kind", "reason", "side", "above", "above_percentile", "lead", "reference")
        data = self.mapping(value, "event", allowed, ("kind", "lead"))
        kind = self.text(data, "kind", "event")
        if kind not in EVENT_KINDS:
            raise self.fail("event.kind", f"expected one of {', '.join(EVENT_KINDS)}, got {_show(kind)}")
        threshold, percentile = self.threshold(data, "event")
        lead = data["lead"]
        if isinstance(lead, int) and not isinstance(lead, bool) and lead >= 1:
            window = (1, int(lead))
        elif (
            isinstance(lead, list)
            and len(lead) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in lead)
            and 0 <= lead[0] <= lead[1]
        ):
            window = (int(lead[0]), int(lead[1]))
        else:
            raise self.fail(
                "event.lead", f"expected months ahead (3) or a window [first, last] like [1, 3], got {lead!r}"
            )
        reasons = data.get("reason")
        if reasons is not None:
            items = reasons if isinstance(reasons, list) else [reasons]
            if not items or not all(isinstance(r, str) and r.strip() for r in items):
                raise self.fail("event.reason", f"expected a reason or a list of them, got {_show(reasons)}")
            reasons = tuple(r.strip().lower() for r in items)
        side = str(data.get("side", "to"))
        if side not in ("to", "from"):
            raise self.fail("event.side", f"expected to (arrivals) or from (departures), got {_show(side)}")
        reference: tuple[int | None, int | None] = (None, None)
        if data.get("reference") is not None:
            ref = self.mapping(data["reference"], "event.reference", ("from", "to"))
            ref_from, ref_to = self.month(ref, "from", "event.reference"), self.month(ref, "to", "event.reference")
            if ref_from is not None and ref_to is not None and ref_from > ref_to:
                raise self.fail("event.reference", "from is after to")
            reference = (ref_from, ref_to)
        return Event(
            kind=kind,
            lead=window,
            threshold=threshold,
            percentile=percentile,
            reasons=reasons,
            side=side,
            reference=reference,
        )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_triggers(data: Any, source: str = "") -> list[Trigger]:
    """Triggers from the parsed YAML (a mapping with ``triggers:``, or the list itself)."""
    where = f"{source}: " if source else ""
    if isinstance(data, Mapping):
        unknown = [k for k in data if k != "triggers"]
        if unknown:
            raise TriggerError(f"{where}unknown top-level field {unknown[0]!r}; expected triggers")
        data = data.get("triggers")
    if not isinstance(data, list) or not data:
        raise TriggerError(f"{where}expected a list of triggers under 'triggers:'")
    out: list[Trigger] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        raw_name = item.get("name") if isinstance(item, Mapping) else None
        name = str(raw_name) if raw_name is not None else f"#{i + 1}"
        p = _Parser(source, name)
        body = p.mapping(item, "trigger", ("name", "description", "areas", "when", "event"), ("name",))
        if not isinstance(raw_name, str) or not _NAME.fullmatch(raw_name):
            raise p.fail("name", "expected a name of letters, digits, '-', '_' or '.'")
        if name in seen:
            raise p.fail("name", "another trigger has the same name")
        seen.add(name)
        for key in ("areas", "when", "event"):
            if body.get(key) is None:
                raise p.fail(key, "missing")
        description = body.get("description") or ""
        if not isinstance(description, str):
            raise p.fail("description", f"expected text, got {_show(description)}")
        out.append(
            Trigger(
                name=name,
                areas=p.areas(body["areas"]),
                when=p.condition(body["when"], "when"),
                event=p.event(body["event"]),
                description=description.strip(),
            )
        )
    return out


def load_triggers(path: str | Path) -> list[Trigger]:
    """Read and check a triggers file; errors name the trigger and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TriggerError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TriggerError(f"{path.name}: not valid YAML: {exc}") from None
    return parse_triggers(data, source=path.name)


def select(triggers: Sequence[Trigger], names: Sequence[str] | None) -> list[Trigger]:
    """The triggers named (all when ``names`` is empty); an unknown name is an error listing the known ones."""
    if not names:
        return list(triggers)
    known = {t.name: t for t in triggers}
    missing = [n for n in names if n not in known]
    if missing:
        raise TriggerError(f"no trigger named {missing[0]!r}; the file has {', '.join(known)}")
    return [known[n] for n in dict.fromkeys(names)]


# --------------------------------------------------------------------------------------------------------------
# scores


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


@dataclass(frozen=True)
class Contingency:
    """A 2×2 table of trigger decisions against events, and the scores read from it."""

    hits: int = 0
    false_alarms: int = 0
    misses: int = 0
    correct_negatives: int = 0

    @property
    def n(self) -> int:
        return self.hits + self.false_alarms + self.misses + self.correct_negatives

    @property
    def pod(self) -> float | None:
        """Probability of detection (hit rate): a / (a + c)."""
        return _ratio(self.hits, self.hits + self.misses)

    @property
    def far(self) -> float | None:
        """False-alarm ratio: b / (a + b), the share of the alarms that were wrong."""
        return _ratio(self.false_alarms, self.hits + self.false_alarms)

    @property
    def pofd(self) -> float | None:
        """Probability of false detection (false-alarm rate): b / (b + d)."""
        return _ratio(self.false_alarms, self.false_alarms + self.correct_negatives)

    @property
    def csi(self) -> float | None:
        """Critical success index (threat score): a / (a + b + c)."""
        return _ratio(self.hits, self.hits + self.false_alarms + self.misses)

    @property
    def hk(self) -> float | None:
        """Hanssen–Kuipers score (true skill statistic, Peirce): POD − POFD."""
        pod, pofd = self.pod, self.pofd
        return None if pod is None or pofd is None else pod - pofd

    @property
    def bias(self) -> float | None:
        """Frequency bias: (a + b) / (a + c), alarms per event."""
        return _ratio(self.hits + self.false_alarms, self.hits + self.misses)

    @property
    def base_rate(self) -> float | None:
        """Share of the cases with an event: (a + c) / n."""
        return _ratio(self.hits + self.misses, self.n)

    def __add__(self, other: Contingency) -> Contingency:
        return Contingency(
            self.hits + other.hits,
            self.false_alarms + other.false_alarms,
            self.misses + other.misses,
            self.correct_negatives + other.correct_negatives,
        )

    @classmethod
    def from_decisions(cls, fired: Iterable[bool], event: Iterable[bool]) -> Contingency:
        a = b = c = d = 0
        for f, e in zip(fired, event, strict=True):
            if f and e:
                a += 1
            elif f:
                b += 1
            elif e:
                c += 1
            else:
                d += 1
        return cls(a, b, c, d)

    def scores(self, digits: int | None = None) -> dict[str, float | None]:
        values = {
            "pod": self.pod,
            "far": self.far,
            "pofd": self.pofd,
            "csi": self.csi,
            "hk": self.hk,
            "bias": self.bias,
            "base_rate": self.base_rate,
        }
        if digits is None:
            return values
        return {k: None if v is None else round(v, digits) for k, v in values.items()}

    def to_dict(self, digits: int | None = 3) -> dict[str, Any]:
        return {
            "cases": self.n,
            "hits": self.hits,
            "false_alarms": self.false_alarms,
            "misses": self.misses,
            "correct_negatives": self.correct_negatives,
            **self.scores(digits),
        }


# --------------------------------------------------------------------------------------------------------------
# probabilities from a forecast


def probability_above(mean: float, lo: float, hi: float, threshold: float, interval: float = 80.0) -> float:
    """P(value > threshold) for a normal predictive distribution with this mean and central interval.

    σ = (hi − lo) / (2 z) with z = Φ⁻¹(0.5 + interval / 200) (1.2816 for an 80% interval). A zero-width interval
    is a point forecast: 1 when the mean is above the threshold, else 0.
    """
    if not all(math.isfinite(x) for x in (mean, lo, hi, threshold)):
        return math.nan
    z = NormalDist().inv_cdf(0.5 + interval / 200.0)
    sigma = (hi - lo) / (2.0 * z)
    if sigma <= 0:
        return 1.0 if mean > threshold else 0.0
    return 1.0 - NormalDist(mean, sigma).cdf(threshold)


def probability_above_quantiles(levels: Sequence[float], values: Sequence[float], threshold: float) -> float:
    """P(value > threshold) from predictive quantiles (levels in (0, 1)), interpolated linearly between them.

    Beyond the outermost quantiles the tails are half-normal, scaled so that the distribution function is
    continuous there, with σ from the outermost pair: (q_hi − q_lo) / (z_hi − z_lo).
    """
    pairs = sorted((float(v), float(lv)) for lv, v in zip(levels, values, strict=True) if math.isfinite(v))
    if len(pairs) < 2 or not math.isfinite(threshold):
        return math.nan
    xs = np.array([p[0] for p in pairs])
    taus = np.maximum.accumulate(np.array([p[1] for p in pairs]))  # quantile crossing: keep F non-decreasing
    std = NormalDist()
    if threshold < xs[0] or threshold > xs[-1]:
        span = std.inv_cdf(taus[-1]) - std.inv_cdf(taus[0])
        sigma = (xs[-1] - xs[0]) / span if span > 0 else 0.0
        if threshold < xs[0]:
            cdf = 0.0 if sigma <= 0 else taus[0] * 2.0 * std.cdf((threshold - xs[0]) / sigma)
        else:
            tail = 0.0 if sigma <= 0 else (1.0 - taus[-1]) * 2.0 * (1.0 - std.cdf((threshold - xs[-1]) / sigma))
            cdf = 1.0 - tail
        return float(1.0 - cdf)
    # the right-most matching knot: P(value > q) where several quantiles share a value takes the highest level
    cdf = float(np.interp(threshold, xs, taus)) if threshold not in xs else float(taus[xs == threshold].max())
    return 1.0 - cdf


_QUANTILE_COLUMN = re.compile(r"q(\d+(?:[._]\d+)?)")


def forecast_probability(row: Mapping[str, Any], threshold: float, interval: float) -> float:
    """P(value > threshold) for one forecast row: from its quantiles when it has more than lo and hi, else normal."""
    levels: dict[float, float] = {}
    for key, value in row.items():
        m = _QUANTILE_COLUMN.fullmatch(str(key))
        if m and value is not None:
            level = float(m.group(1).replace("_", ".")) / 100.0
            if 0 < level < 1:
                levels[level] = float(value)
    if levels:
        half = interval / 200.0
        levels.setdefault(round(0.5 - half, 6), float(row["lo"]))
        levels.setdefault(round(0.5 + half, 6), float(row["hi"]))
    if len(levels) >= 3:
        return probability_above_quantiles(list(levels), list(levels.values()), threshold)
    return probability_above(float(row["mean"]), float(row["lo"]), float(row["hi"]), threshold, interval)


# --------------------------------------------------------------------------------------------------------------
# reading the store


class Forecaster(Protocol):
    """Forecasts of ``kind`` for every area at ``level`` made at ``origin`` (YYYY-MM, the last observed month).

    Returns a DataFrame with columns place, period (YYYY-MM or a date), mean, lo, hi (the central ``interval``%
    interval) and optionally quantile columns q<percent>, for the ``horizon`` months after the origin. It must
    read only data dated up to the end of the origin month.
    """

    def __call__(self, kind: str, level: str, origin: str, horizon: int, interval: float) -> pd.DataFrame: ...


def store_forecaster(store: Store) -> Forecaster:
    """The platform's own forecaster (``onthemove.foresight.forecast.forecast``) on ``store``."""

    def run(kind: str, level: str, origin: str, horizon: int, interval: float) -> pd.DataFrame:
        try:
            from onthemove.foresight.forecast import forecast
        except ImportError as exc:  # pragma: no cover - while the forecasting core is not installed
            raise TriggerError(f"forecast triggers need onthemove.foresight.forecast: {exc}") from None
        interval_arg: Any = int(interval) if float(interval).is_integer() else interval
        return forecast(store, kind, level, origin, horizon, interval=interval_arg)

    return run


@dataclass
class _Place:
    name: str
    level: int
    chain: tuple[str, ...]  # the place's ancestors from the country down, then the place itself


class _Data:
    """What the triggers read from the store, read once per evaluation and kept."""

    def __init__(
        self,
        store: Store,
        forecaster: Forecaster | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.forecaster = forecaster
        self.progress = progress or (lambda _msg: None)
        self.notes: list[str] = []
        self._places: dict[str, _Place] | None = None
        self._cache: dict[Any, Any] = {}

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # places ----------------------------------------------------------------------------------------------
    @property
    def places(self) -> dict[str, _Place]:
        if self._places is None:
            rows = self.store.fetch("SELECT pcode, name, admin_level, adm0, adm1, adm2, adm3 FROM places")
            out = {}
            for pcode, name, level, *adms in rows:
                chain = [str(a) for a in adms[: max(int(level), 0)] if a is not None and a != pcode]
                out[str(pcode)] = _Place(str(name), int(level), (*chain, str(pcode)))
            self._places = out
        return self._places

    def areas(self, trigger: Trigger) -> list[str]:
        spec = trigger.areas
        if spec.level is None:
            missing = [p for p in spec.pcodes if p not in self.places]
            if missing:
                raise TriggerError(f"trigger {trigger.name!r}: areas: {missing[0]} is not in the gazetteer")
            return list(spec.pcodes)
        if spec.within and spec.within not in self.places:
            raise TriggerError(f"trigger {trigger.name!r}: areas.within: {spec.within} is not in the gazetteer")
        found = sorted(
            p
            for p, info in self.places.items()
            if info.level == spec.level and (spec.within is None or spec.within in info.chain)
        )
        if not found:
            raise TriggerError(f"trigger {trigger.name!r}: areas: the gazetteer has no {spec.describe()}")
        return found

    def _members(self, codes: Iterable[str]) -> dict[str, list[str]]:
        """For each area, the places with records (``codes``) that are the area or lie inside it."""
        out: dict[str, list[str]] = {}
        for code in codes:
            info = self.places.get(code)
            for node in info.chain if info else (code,):
                out.setdefault(node, []).append(code)
        return out

    # observed counts -------------------------------------------------------------------------------------
    def observed(self, kind: str, reasons: tuple[str, ...] | None, side: str = "to") -> tuple[pd.DataFrame, int, int]:
        """Monthly totals per place with records (months × places, full span) and the span (first, last month).

        The span is that of all records of the kind (whatever the reason), so a month without a drought
        arrival in it is a zero, not a gap.
        """
        import pandas as pd

        key = ("observed", kind, reasons, side)
        if key in self._cache:
            return self._cache[key]
        params: dict[str, Any] = {}
        reason_sql = ""
        if reasons:
            params["reasons"] = list(reasons)
            reason_sql = " AND list_contains($reasons, lower(t.reason))"
        totals = "t.sex = 'total' AND t.age_group = 'total'"
        if kind == "movements":
            column = "t.to_place" if side == "to" else "t.from_place"
            span = self.store.fetch(f"SELECT min(t.date), max(t.date) FROM movements t WHERE {totals}")
            rows = self.store.fetch(
                f"SELECT {column}, date_trunc('month', t.date), sum(t.count) FROM movements t "
                f"WHERE {totals} AND {column} IS NOT NULL{reason_sql} GROUP BY 1, 2",
                params,
            )
        else:
            span = self.store.fetch(f"SELECT min(t.date), max(t.date) FROM displacement t WHERE {totals}")
            rows = self.store.fetch(
                "SELECT s.place, s.month, sum(s.count) FROM (SELECT t.place, t.date, t.count, "
                "date_trunc('month', t.date) AS month, max(t.date) OVER (PARTITION BY t.place, "
                f"date_trunc('month', t.date)) AS latest FROM displacement t WHERE {totals}{reason_sql}) s "
                "WHERE s.date = s.latest GROUP BY 1, 2",
                params,
            )
        if not span or span[0][0] is None:
            raise TriggerError(f"the store holds no {kind}")
        first, last = month_index(span[0][0]), month_index(span[0][1])
        months = range(first, last + 1)
        frame = pd.DataFrame([(str(p), month_index(m), float(v)) for p, m, v in rows], columns=["place", "t", "v"])
        wide = frame.pivot_table(index="t", columns="place", values="v", aggfunc="sum").reindex(months)
        wide = wide.fillna(0.0) if kind == "movements" else wide.ffill()  # a stock holds until the next report
        result = (wide, first, last)
        self._cache[key] = result
        return result

    def observed_areas(
        self, kind: str, reasons: tuple[str, ...] | None, side: str, areas: Sequence[str]
    ) -> pd.DataFrame:
        """Monthly totals per area (months × areas) over the span of the kind's records."""
        import pandas as pd

        key = ("observed-areas", kind, reasons, side, tuple(areas))
        if key in self._cache:
            return self._cache[key]
        wide, _, _ = self.observed(kind, reasons, side)
        members = self._members(wide.columns)
        columns = {}
        for area in areas:
            inside = members.get(area, [])
            if not inside:
                columns[area] = pd.Series(0.0 if kind == "movements" else math.nan, index=wide.index)
            else:
                columns[area] = wide[inside].sum(axis=1, min_count=1)
        result = pd.DataFrame(columns, index=wide.index)
        self._cache[key] = result
        return result

    # drivers ---------------------------------------------------------------------------------------------
    def _driver_records(self, driver: str, indicator: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per place with records and month: the sum of the values and the number of records."""
        import pandas as pd

        key = ("driver", driver, indicator)
        if key not in self._cache:
            rows = self.store.fetch(
                "SELECT e.place, date_trunc('month', e.date), sum(e.value), count(*) FROM driver_events e "
                "WHERE e.driver = $driver AND e.indicator = $indicator AND e.place IS NOT NULL GROUP BY 1, 2",
                {"driver": driver, "indicator": indicator},
            )
            if not rows:
                raise TriggerError(f"the store holds no driver events {driver}/{indicator}")
            frame = pd.DataFrame(
                [(str(p), month_index(m), float(v), int(n)) for p, m, v, n in rows], columns=["place", "t", "v", "n"]
            )
            months = range(int(frame["t"].min()), int(frame["t"].max()) + 1)
            total = frame.pivot_table(index="t", columns="place", values="v", aggfunc="sum").reindex(months)
            count = frame.pivot_table(index="t", columns="place", values="n", aggfunc="sum").reindex(months)
            self._cache[key] = (total, count)
        return self._cache[key]

    def driver_series(self, cond: DriverCondition, areas: Sequence[str]) -> pd.DataFrame:
        """The monthly driver value for each area (months × areas), by the alignment rules of the docstring."""
        import pandas as pd

        total, count = self._driver_records(cond.driver, cond.indicator)
        members = self._members(total.columns)
        levels = [self.places[c].level for c in total.columns if c in self.places]
        finest = max(levels) if levels else 0

        def combined(node: str) -> pd.Series:
            inside = members[node]
            t = total[inside].sum(axis=1, min_count=1)
            if cond.additive:
                return t.fillna(0.0)
            n = count[inside].sum(axis=1)
            return (t / n).where(n > 0)

        columns = {}
        for area in areas:
            if cond.place is not None:
                if cond.place not in members:
                    raise TriggerError(f"no {cond.driver}/{cond.indicator} records at or inside {cond.place}")
                columns[area] = combined(cond.place)
                continue
            info = self.places.get(area)
            if area in members:
                columns[area] = combined(area)
            elif cond.additive and info is not None and info.level <= finest:
                columns[area] = pd.Series(0.0, index=total.index)  # counted at this level or finer: none here
            else:
                chain = info.chain if info else (area,)
                source = next((n for n in reversed(chain) if n in members), None)
                if source is None:
                    self.note(f"no {cond.driver}/{cond.indicator} records for {area} or any area containing it")
                    columns[area] = pd.Series(math.nan, index=total.index)
                else:
                    columns[area] = combined(source)
        return pd.DataFrame(columns, index=total.index)

    # forecasts -------------------------------------------------------------------------------------------
    def forecast(self, kind: str, level: str, origin: int, horizon: int, interval: float) -> pd.DataFrame | None:
        key = ("forecast", kind, level, origin, horizon, interval)
        if key in self._cache:
            return self._cache[key]
        if self.forecaster is None:
            raise TriggerError("forecast triggers need a forecaster")
        self.progress(f"forecast of {kind} by {level} at {month_label(origin)}")
        try:
            frame: pd.DataFrame | None = self.forecaster(kind, level, month_label(origin), horizon, interval)
        except TriggerError:
            raise
        except ValueError as exc:  # e.g. too little history at an early origin: undetermined, noted
            self.note(f"no forecast of {kind} by {level} at {month_label(origin)}: {exc}")
            frame = None
        if frame is not None:
            missing = {"place", "period", "mean", "lo", "hi"} - set(frame.columns)
            if missing:
                raise TriggerError(f"the forecaster's table lacks {', '.join(sorted(missing))}")
            frame = frame.copy()
            frame["place"] = frame["place"].astype(str)
            frame["t"] = [month_index(p) for p in frame["period"]]
        self._cache[key] = frame
        return frame


# --------------------------------------------------------------------------------------------------------------
# conditions, month by month (1 fired, 0 not, NaN undetermined)


def _climatology(w: pd.Series, min_years: int, baseline_years: int | None) -> tuple[pd.Series, pd.Series]:
    """Mean and standard deviation of the same calendar month in *earlier* years only, month by month."""
    import pandas as pd

    mean = pd.Series(math.nan, index=w.index)
    std = pd.Series(math.nan, index=w.index)
    months = np.asarray(w.index) % 12
    for m in range(12):
        col = w[months == m]  # one value per year; the index is contiguous, so so are the years
        past = col.shift(1)
        roll = (
            past.rolling(baseline_years, min_periods=min_years)
            if baseline_years
            else past.expanding(min_periods=min_years)
        )
        mean[col.index] = roll.mean()
        std[col.index] = roll.std(ddof=1)
    return mean, std


@dataclass
class _DriverResult:
    stat: pd.DataFrame
    holds: pd.DataFrame
    fired: pd.DataFrame
    normal: pd.DataFrame


def _driver_result(data: _Data, cond: DriverCondition, areas: Sequence[str]) -> _DriverResult:
    import pandas as pd

    key = ("driver-result", cond, tuple(areas))
    if key in data._cache:
        return data._cache[key]
    values = data.driver_series(cond, areas)
    stats, holds, fired, normals = {}, {}, {}, {}
    calendar = np.asarray(values.index) % 12 + 1
    for area in areas:
        v = values[area]
        # a window needs every one of its months (min_periods = window): a gap makes the total unknown
        w = v.rolling(cond.window, min_periods=cond.window).sum() if cond.window > 1 else v
        mean, std = _climatology(w, cond.min_years, cond.baseline_years)
        if cond.statistic == "value":
            stat = w
        elif cond.statistic == "anomaly":
            stat = w - mean
        elif cond.statistic == "percent_of_normal":
            stat = 100.0 * w / mean.where(mean > 0)
        else:
            stat = (w - mean) / std.where(std > 0)
        test = stat < cond.threshold if cond.op == "below" else stat > cond.threshold
        h = test.astype(float).where(stat.notna())
        if cond.months:
            h = h.where(np.isin(calendar, cond.months), 0.0)
        n = cond.consecutive
        if n > 1:
            falses = (h == 0).astype(float).rolling(n, min_periods=1).sum() > 0
            unknown = h.isna().astype(float).rolling(n, min_periods=1).sum() > 0
            short = pd.Series(np.arange(len(h)) < n - 1, index=h.index)  # the months before lack history
            f = pd.Series(1.0, index=h.index).where(~(unknown | short), math.nan).where(~falses, 0.0)
        else:
            f = h
        stats[area], holds[area], fired[area], normals[area] = stat, h, f, mean
    result = _DriverResult(
        stat=pd.DataFrame(stats, index=values.index),
        holds=pd.DataFrame(holds, index=values.index),
        fired=pd.DataFrame(fired, index=values.index),
        normal=pd.DataFrame(normals, index=values.index),
    )
    data._cache[key] = result
    return result


def _level_name(data: _Data, area: str) -> str:
    info = data.places.get(area)
    return f"adm{info.level}" if info else "adm1"


def _forecast_decision(data: _Data, cond: ForecastCondition, area: str, origin: int) -> tuple[float, dict[str, Any]]:
    """Fired (1/0/NaN) at ``origin`` for one area, with the figures behind it."""
    frame = data.forecast(cond.kind, _level_name(data, area), origin, cond.horizon, cond.interval)
    info: dict[str, Any] = {"condition": cond.describe(), "origin": month_label(origin)}
    if cond.threshold is not None:
        threshold = cond.threshold
    else:
        history = data.observed_areas(cond.kind, None, "to", [area])[area]
        past = history[history.index <= origin].dropna()
        if len(past) < MIN_HISTORY_MONTHS:
            info["why"] = f"{len(past)} months of history up to the origin; the percentile needs {MIN_HISTORY_MONTHS}"
            return math.nan, info
        threshold = float(np.percentile(past.to_numpy(), float(cond.percentile or 0)))
    info["threshold"] = round(threshold, 3)
    if frame is None:
        info["why"] = "no forecast at this origin"
        return math.nan, info
    rows = frame[(frame["place"] == area) & (frame["t"] > origin) & (frame["t"] <= origin + cond.horizon)]
    if rows.empty:
        info["why"] = f"the forecast has no months after {month_label(origin)} for {area}"
        return math.nan, info
    best: tuple[float, dict[str, Any]] | None = None
    for record in rows.to_dict(orient="records"):
        row = {str(k): v for k, v in record.items()}
        p = forecast_probability(row, threshold, cond.interval)
        if not math.isnan(p) and (best is None or p > best[0]):
            best = (p, row)
    if best is None:
        info["why"] = "the forecast has no usable values"
        return math.nan, info
    p, row = best
    info.update(
        probability=round(p, 3),
        period=month_label(int(row["t"])),
        mean=round(float(row["mean"]), 1),
        lo=round(float(row["lo"]), 1),
        hi=round(float(row["hi"]), 1),
    )
    return (1.0 if p >= cond.probability else 0.0), info


def _kleene(op: str, parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    stack = np.stack([p.to_numpy(dtype=float) for p in parts])
    unknown = np.isnan(stack).any(axis=0)
    if op == "all":
        out = np.where((stack == 0).any(axis=0), 0.0, np.where(unknown, np.nan, 1.0))
    else:
        out = np.where((stack == 1).any(axis=0), 1.0, np.where(unknown, np.nan, 0.0))
    return pd.DataFrame(out, index=parts[0].index, columns=parts[0].columns)


def _fired(data: _Data, cond: Condition, areas: Sequence[str], months: Sequence[int]) -> pd.DataFrame:
    """Decisions (months × areas): 1 fired, 0 not, NaN undetermined, each from data up to its month."""
    import pandas as pd

    if isinstance(cond, DriverCondition):
        return _driver_result(data, cond, areas).fired.reindex(list(months))
    if isinstance(cond, ForecastCondition):
        out = pd.DataFrame(math.nan, index=list(months), columns=list(areas))
        for t in months:
            for area in areas:
                out.loc[t, area] = _forecast_decision(data, cond, area, t)[0]
        return out
    # cheap parts first; the forecaster is not asked in months the others already decide for every area
    ordered = sorted(cond.parts, key=_uses_forecasts)
    decided = pd.Series(False, index=list(months))
    frames = []
    for part in ordered:
        todo = [t for t in months if not decided[t]]
        frame = _fired(data, part, areas, todo).reindex(list(months)) if todo else None
        if frame is None:
            frame = pd.DataFrame(math.nan, index=list(months), columns=list(areas))
        frames.append(frame)
        decided |= (frame == (0.0 if cond.op == "all" else 1.0)).all(axis=1)
    return _kleene(cond.op, frames)


def _uses_forecasts(cond: Condition) -> bool:
    return any(isinstance(c, ForecastCondition) for c in _leaves(cond))


def _yes(value: float) -> bool | None:
    return None if math.isnan(value) else bool(value)


def _explain(data: _Data, cond: Condition, area: str, month: int) -> dict[str, Any]:
    """The figures behind one decision."""
    if isinstance(cond, DriverCondition):
        res = _driver_result(data, cond, [area])
        first = month - cond.consecutive + 1
        shown = [t for t in range(first, month + 1) if t in res.stat.index]
        decision = float(res.fired[area].get(month, math.nan))
        return {
            "condition": cond.describe(),
            "fires": _yes(decision),
            "values": {month_label(t): _round(res.stat[area][t]) for t in shown},
            "normal": {month_label(t): _round(res.normal[area][t]) for t in shown},
            "threshold": cond.threshold,
        }
    if isinstance(cond, ForecastCondition):
        value, info = _forecast_decision(data, cond, area, month)
        return {"fires": _yes(value), **info}
    parts = [_explain(data, p, area, month) for p in cond.parts]
    combined = _kleene(cond.op, [_fired(data, p, [area], [month]) for p in cond.parts]).to_numpy(dtype=float)
    return {"condition": f"{cond.op} of", "fires": _yes(float(combined[0, 0])), "parts": parts}


def _round(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else round(float(value), 3)


def explain_text(info: Mapping[str, Any]) -> str:
    """One line from ``_explain``'s figures, for tables."""
    verdict = {True: "yes", False: "no", None: "undetermined"}[info.get("fires")]
    if "parts" in info:
        inner = "; ".join(explain_text(p) for p in info["parts"])
        return f"{info['condition']} [{inner}] -> {verdict}"
    if "values" in info:
        shown = ", ".join(f"{m} {'n/a' if v is None else _num(round(v, 2))}" for m, v in info["values"].items())
        return f"{info['condition']}: {shown or 'no data'} -> {verdict}"
    if "probability" in info:
        return (
            f"{info['condition']}: P(> {_num(info['threshold'])}) = {info['probability']:.2f} in {info['period']} "
            f"(mean {_num(info['mean'])}, {_num(info['lo'])}-{_num(info['hi'])}) -> {verdict}"
        )
    return f"{info['condition']}: {info.get('why', 'no data')} -> {verdict}"


# --------------------------------------------------------------------------------------------------------------
# the event


def _event(
    data: _Data, ev: Event, areas: Sequence[str], months: Sequence[int]
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Whether the event happened in each (month, area)'s lead window (1/0, NaN when censored), and thresholds."""
    import pandas as pd

    series = data.observed_areas(ev.kind, ev.reasons, ev.side, areas)
    _, first, last = data.observed(ev.kind, ev.reasons, ev.side)
    thresholds: dict[str, float] = {}
    lo, hi = ev.reference
    ref = series[
        (series.index >= (lo if lo is not None else first)) & (series.index <= (hi if hi is not None else last))
    ]
    for area in areas:
        if ev.threshold is not None:
            thresholds[area] = ev.threshold
        else:
            values = ref[area].dropna().to_numpy()
            thresholds[area] = float(np.percentile(values, float(ev.percentile or 0))) if len(values) else math.nan
    out = pd.DataFrame(math.nan, index=list(months), columns=list(areas))
    limits = pd.Series(thresholds)
    above = series.gt(limits).astype(float).where(series.notna() & limits.notna())
    start, end = ev.lead
    for t in months:
        if t + start < first or t + end > last:
            continue  # the lead window runs past the data: censored
        window = above.loc[t + start : t + end]
        hit = (window == 1).any(axis=0)
        unknown = window.isna().any(axis=0)
        out.loc[t] = np.where(hit, 1.0, np.where(unknown, np.nan, 0.0))
    return out, thresholds


# --------------------------------------------------------------------------------------------------------------
# evaluation and status


@dataclass
class Evaluation:
    """One trigger scored over past months."""

    trigger: str
    description: str
    start: str
    end: str
    every: int
    table: Contingency
    by_area: dict[str, Contingency]
    area_names: dict[str, str]
    cases: pd.DataFrame  # area, month, fired, event (None: undetermined / censored)
    undetermined: int
    censored: int
    thresholds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self, by_area: bool = False, digits: int = 3) -> dict[str, Any]:
        out: dict[str, Any] = {
            "trigger": self.trigger,
            "from": self.start,
            "to": self.end,
            "every": self.every,
            **self.table.to_dict(digits),
            "undetermined": self.undetermined,
            "censored": self.censored,
        }
        if by_area:
            out["by_area"] = [
                {
                    "area": a,
                    "name": self.area_names.get(a, ""),
                    "event_threshold": _round(self.thresholds.get(a)),
                    **c.to_dict(digits),
                }
                for a, c in self.by_area.items()
            ]
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _months(start: int, end: int, every: int) -> list[int]:
    return list(range(start, end + 1, max(every, 1)))


def evaluate(
    store: Store,
    triggers: Sequence[Trigger],
    start: str | None = None,
    end: str | None = None,
    every: int = 1,
    forecaster: Forecaster | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Evaluation]:
    """Score each trigger on history: one case per area and month from ``start`` to ``end`` (YYYY-MM).

    The default period runs from the first month of the event's data to the last month whose lead window the
    data cover. ``every``: score every n-th month only (forecast triggers run the forecaster once per month
    and admin level). A trigger with a forecast condition needs ``forecaster`` (``store_forecaster(store)`` is the
    platform's own). Undetermined decisions and censored outcomes are counted apart, not scored.
    """
    if every < 1:
        raise TriggerError("every must be at least 1")
    if any(t.uses_forecasts for t in triggers) and forecaster is None:
        names = ", ".join(t.name for t in triggers if t.uses_forecasts)
        raise TriggerError(f"{names}: forecast triggers need a forecaster")
    data = _Data(store, forecaster, progress)
    out = []
    for trig in triggers:
        data.notes = []
        areas = data.areas(trig)
        ev = trig.event
        _, first, last = data.observed(ev.kind, ev.reasons, ev.side)
        lo = month_index(start) if start else first
        hi = month_index(end) if end else last - ev.lead[1]
        if hi < lo:
            raise TriggerError(
                f"trigger {trig.name!r}: no months to score between {month_label(lo)} and {month_label(hi)} "
                f"(the {ev.kind} data run from {month_label(first)} to {month_label(last)})"
            )
        months = _months(lo, hi, every)
        data.progress(f"{trig.name}: {len(months)} months x {len(areas)} areas")
        fired = _fired(data, trig.when, areas, months)
        event, thresholds = _event(data, ev, areas, months)
        cases = (
            fired.rename_axis("t")
            .reset_index()
            .melt(id_vars="t", var_name="area", value_name="fired")
            .merge(
                event.rename_axis("t").reset_index().melt(id_vars="t", var_name="area", value_name="event"),
                on=["t", "area"],
            )
        )
        cases["month"] = [month_label(int(t)) for t in cases["t"]]
        scored = cases.dropna(subset=["fired", "event"])
        by_area = {}
        for area in areas:
            part = scored[scored["area"] == area]
            by_area[area] = Contingency.from_decisions(part["fired"] == 1, part["event"] == 1)
        total = sum(by_area.values(), Contingency())
        censored = int(cases["event"].isna().sum())
        undetermined = int((cases["fired"].isna() & cases["event"].notna()).sum())
        if undetermined:
            data.note(f"{undetermined} cases left out: the trigger could not be decided (missing data)")
        if censored:
            data.note(f"{censored} cases left out: their lead window runs past the {ev.kind} data")
        frame = cases[["area", "month", "fired", "event"]].copy()
        frame["fired"] = [_yes(float(v)) for v in frame["fired"]]
        frame["event"] = [_yes(float(v)) for v in frame["event"]]
        out.append(
            Evaluation(
                trigger=trig.name,
                description=trig.description,
                start=month_label(lo),
                end=month_label(hi),
                every=every,
                table=total,
                by_area=by_area,
                area_names={a: data.places[a].name for a in areas if a in data.places},
                cases=frame.sort_values(["area", "month"], ignore_index=True),
                undetermined=undetermined,
                censored=censored,
                thresholds=thresholds,
                notes=list(data.notes),
            )
        )
    return out


@dataclass
class Status:
    """Whether a trigger fires in one area at one month, with the figures behind the decision."""

    trigger: str
    area: str
    name: str
    month: str
    fires: bool | None
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "area": self.area,
            "name": self.name,
            "month": self.month,
            "fires": self.fires,
            "evidence": self.evidence,
        }


def _latest(data: _Data, cond: Condition, areas: Sequence[str]) -> int:
    """The latest month for which the condition has its data (all parts of a combination)."""
    if isinstance(cond, DriverCondition):
        series = data.driver_series(cond, areas).dropna(how="all")
        if series.empty:
            raise TriggerError(f"no {cond.driver}/{cond.indicator} data for these areas")
        return int(series.index.max())
    if isinstance(cond, ForecastCondition):
        return data.observed(cond.kind, None, "to")[2]
    return min(_latest(data, p, areas) for p in cond.parts)


def status(
    store: Store,
    triggers: Sequence[Trigger],
    as_of: str | None = None,
    forecaster: Forecaster | None = None,
) -> list[Status]:
    """Which triggers fire in ``as_of`` (YYYY-MM; default: each trigger's latest month with data), per area."""
    if any(t.uses_forecasts for t in triggers) and forecaster is None:
        names = ", ".join(t.name for t in triggers if t.uses_forecasts)
        raise TriggerError(f"{names}: forecast triggers need a forecaster")
    data = _Data(store, forecaster)
    out = []
    for trig in triggers:
        areas = data.areas(trig)
        month = month_index(as_of) if as_of else _latest(data, trig.when, areas)
        fired = _fired(data, trig.when, areas, [month])
        for area in areas:
            out.append(
                Status(
                    trigger=trig.name,
                    area=area,
                    name=data.places[area].name if area in data.places else "",
                    month=month_label(month),
                    fires=_yes(float(fired.loc[month, area])),  # type: ignore[arg-type]
                    evidence=_explain(data, trig.when, area, month),
                )
            )
    return out
