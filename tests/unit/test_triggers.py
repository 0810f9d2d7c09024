"""Early-warning triggers: scores, the file format, driver statistics without leakage, forecast probabilities."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pandas as pd
import pytest
import yaml
from tests.helpers import PCODES, write

from onthemove.foresight.triggers import (
    Combination,
    Contingency,
    DriverCondition,
    ForecastCondition,
    TriggerError,
    evaluate,
    explain_text,
    forecast_probability,
    month_index,
    month_label,
    parse_triggers,
    probability_above,
    probability_above_quantiles,
    select,
    status,
)
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.store import Store, open_store

# --------------------------------------------------------------------------------------------------------------
# a small country: rainfall for the whole of it (XTL), arrivals in two regions


def rain_csv(overrides: dict[str, float] | None = None, last: str = "2024-06") -> str:
    """Monthly rainfall at XTL from 2010: 11 mm in even years, 9 in odd ones (a normal of about 10)."""
    overrides = overrides or {}
    lines = [
        "Place,Date,Driver,Indicator,Value",
        "#adm+code,#date+occurred,#event+type,#indicator+code,#indicator+value+num",
    ]
    for t in range(month_index("2010-01"), month_index(last) + 1):
        label = month_label(t)
        mm = overrides.get(label, 11.0 if (t // 12) % 2 == 0 else 9.0)
        lines.append(f"XTL,{label}-01,rainfall,rainfall_mm,{mm}")
    return "\n".join(lines) + "\n"


# 2023-03 and 2023-04 at half the normal (two months in a row), 2023-06 alone
DEFICITS = {"2023-03": 5.0, "2023-04": 5.0, "2023-06": 5.0}


def movements_csv(peaks: dict[tuple[str, str], int] | None = None) -> str:
    """Arrivals in XT0101 (region XT01) and XT0201 (XT02), 10 a month from 2022-01 to 2023-12, with peaks."""
    peaks = {("XT01", "2023-05"): 150, ("XT02", "2023-09"): 150} if peaks is None else peaks
    lines = ["Date,Region,District,Reason,People", "#date+reported,#adm1+code,#adm2+code,#cause+type,#affected+idps"]
    for t in range(month_index("2022-01"), month_index("2023-12") + 1):
        year, month = t // 12, t % 12 + 1
        day = dt.date(year, month, calendar.monthrange(year, month)[1])
        for region, district, reason in (("XT01", "XT0101", "drought"), ("XT02", "XT0201", "conflict")):
            lines.append(f"{day},{region},{district},{reason},{peaks.get((region, month_label(t)), 10)}")
    return "\n".join(lines) + "\n"


def make_store(
    folder: Path, rain: dict[str, float] | None = None, peaks: dict[tuple[str, str], int] | None = None
) -> Store:
    folder.mkdir(parents=True, exist_ok=True)
    store = open_store(folder / "store")
    load_pcodes(store, write(folder, "p.csv", PCODES))
    ingest(store, write(folder, "m.csv", movements_csv(peaks)), kind="movements")
    ingest(store, write(folder, "r.csv", rain_csv(DEFICITS if rain is None else rain)), kind="driver_events")
    return store


DRIVER = {
    "driver": "rainfall",
    "indicator": "rainfall_mm",
    "statistic": "percent_of_normal",
    "below": 75,
    "consecutive": 2,
}
EVENT = {"kind": "movements", "above": 100, "lead": [1, 2]}


def trigger(when: dict[str, Any] | None = None, event: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": extra.pop("name", "dry"),
        "areas": extra.pop("areas", ["XT01", "XT02"]),
        "when": when or {"driver": dict(DRIVER)},
        "event": event or dict(EVENT),
        **extra,
    }


def one(**kwargs: Any) -> list[Any]:
    return parse_triggers({"triggers": [trigger(**kwargs)]})


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Any:
    store = make_store(tmp_path_factory.mktemp("triggers"))
    yield store
    store.close()


# --------------------------------------------------------------------------------------------------------------
# scores


def test_scores_on_a_hand_made_table() -> None:
    t = Contingency(hits=10, false_alarms=5, misses=3, correct_negatives=82)
    assert t.n == 100
    assert t.pod == pytest.approx(10 / 13)
    assert t.far == pytest.approx(5 / 15)
    assert t.pofd == pytest.approx(5 / 87)
    assert t.csi == pytest.approx(10 / 18)
    assert t.hk == pytest.approx(10 / 13 - 5 / 87)
    assert t.bias == pytest.approx(15 / 13)
    assert t.base_rate == pytest.approx(0.13)
    d = t.to_dict()
    assert (d["cases"], d["hits"], d["false_alarms"], d["misses"], d["correct_negatives"]) == (100, 10, 5, 3, 82)
    assert d["hk"] == round(10 / 13 - 5 / 87, 3)
    perfect = Contingency(4, 0, 0, 6)
    assert (perfect.pod, perfect.far, perfect.pofd, perfect.csi, perfect.hk, perfect.bias) == (1, 0, 0, 1, 1, 1)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        # nothing at all: every ratio is undefined
        (Contingency(), dict(pod=None, far=None, pofd=None, csi=None, hk=None, bias=None, base_rate=None)),
        # no event and no alarm: only POFD is defined
        (Contingency(0, 0, 0, 5), dict(pod=None, far=None, pofd=0.0, csi=None, hk=None, bias=None, base_rate=0.0)),
        # alarms but never an event: POD, HK and bias undefined, every alarm false
        (Contingency(0, 3, 0, 2), dict(pod=None, far=1.0, pofd=0.6, csi=0.0, hk=None, bias=None, base_rate=0.0)),
        # events only: no non-event to falsely detect
        (Contingency(2, 0, 1, 0), dict(pod=2 / 3, far=0.0, pofd=None, csi=2 / 3, hk=None, bias=2 / 3, base_rate=1.0)),
        # never fired: FAR undefined, POD 0
        (Contingency(0, 0, 4, 6), dict(pod=0.0, far=None, pofd=0.0, csi=0.0, hk=0.0, bias=0.0, base_rate=0.4)),
    ],
)
def test_undefined_scores_are_none(table: Contingency, expected: dict[str, float | None]) -> None:
    got = table.scores()
    for name, value in expected.items():
        assert got[name] == (None if value is None else pytest.approx(value)), name
    assert table.to_dict()["pod"] == (None if expected["pod"] is None else round(expected["pod"], 3))


def test_contingency_from_decisions_and_sum() -> None:
    fired = [True, True, False, False, True]
    event = [True, False, True, False, True]
    t = Contingency.from_decisions(fired, event)
    assert (t.hits, t.false_alarms, t.misses, t.correct_negatives) == (2, 1, 1, 1)
    assert t + Contingency(1, 0, 0, 3) == Contingency(3, 1, 1, 4)


# --------------------------------------------------------------------------------------------------------------
# forecast probabilities


def test_normal_probability_from_mean_and_central_interval() -> None:
    z80 = NormalDist().inv_cdf(0.9)
    sigma = 10.0
    lo, hi = 100 - z80 * sigma, 100 + z80 * sigma
    assert probability_above(100, lo, hi, 100) == pytest.approx(0.5)
    assert probability_above(100, lo, hi, hi) == pytest.approx(0.10)  # the upper end of an 80% interval
    assert probability_above(100, lo, hi, lo) == pytest.approx(0.90)
    assert probability_above(100, lo, hi, 110) == pytest.approx(1 - NormalDist().cdf(1.0))
    # a 95% interval of the same width means a smaller sigma
    assert probability_above(100, lo, hi, 110, interval=95) == pytest.approx(
        1 - NormalDist().cdf(10 / ((hi - lo) / (2 * NormalDist().inv_cdf(0.975))))
    )
    # point forecasts, missing values
    assert probability_above(120, 120, 120, 100) == 1.0
    assert probability_above(80, 80, 80, 100) == 0.0
    assert math.isnan(probability_above(math.nan, 1, 2, 1))


def test_probability_from_quantiles() -> None:
    levels, values = [0.1, 0.5, 0.9], [80.0, 100.0, 120.0]
    assert probability_above_quantiles(levels, values, 100) == pytest.approx(0.5)
    assert probability_above_quantiles(levels, values, 90) == pytest.approx(0.7)  # linear between the knots
    assert probability_above_quantiles(levels, values, 120) == pytest.approx(0.1)
    assert probability_above_quantiles(levels, values, 80) == pytest.approx(0.9)
    # half-normal tails: continuous at the outermost quantiles, then falling towards 0 and 1
    beyond = probability_above_quantiles(levels, values, 140)
    assert 0 < beyond < 0.1
    assert probability_above_quantiles(levels, values, 120.0001) == pytest.approx(0.1, abs=1e-4)
    below = probability_above_quantiles(levels, values, 60)
    assert 0.9 < below < 1
    # a forecast row with quantile columns uses them (more than lo and hi), otherwise the normal
    skewed = {"mean": 100.0, "lo": 90.0, "hi": 150.0, "q50": 95.0}
    assert forecast_probability(skewed, 95.0, 80) == pytest.approx(0.5)
    assert forecast_probability({"mean": 100.0, "lo": 90.0, "hi": 150.0}, 95.0, 80) == pytest.approx(
        probability_above(100.0, 90.0, 150.0, 95.0, 80)
    )


# --------------------------------------------------------------------------------------------------------------
# the file format


def test_parse_the_full_format() -> None:
    doc = {
        "triggers": [
            trigger(
                name="dry-and-high",
                areas={"level": "adm1", "within": "xtl"},
                when={
                    "all": [
                        {"driver": {**DRIVER, "window": 3, "months": [12, 4, 5], "place": "xtl"}},
                        {"any": [{"forecast": {"horizon": 3, "above_percentile": 75, "probability": 0.5}}]},
                    ]
                },
                event={"kind": "movements", "reason": "Drought", "above_percentile": 75, "lead": 3},
                description="both",
            )
        ]
    }
    [t] = parse_triggers(doc)
    assert t.name == "dry-and-high" and t.description == "both"
    assert t.areas.level == 1 and t.areas.within == "XTL"
    assert isinstance(t.when, Combination) and t.when.op == "all"
    driver, inner = t.when.parts
    assert isinstance(driver, DriverCondition) and isinstance(inner, Combination)
    assert driver.window == 3 and driver.months == (4, 5, 12) and driver.place == "XTL" and driver.op == "below"
    assert not driver.additive
    [fc] = inner.parts
    assert isinstance(fc, ForecastCondition)
    assert fc.kind == "movements" and fc.percentile == 75 and fc.threshold is None and fc.interval == 80
    assert t.event.lead == (1, 3) and t.event.reasons == ("drought",) and t.event.percentile == 75
    assert t.uses_forecasts
    assert "forecast movements above the area's 75th percentile" in t.when.describe()
    assert select([t], None) == [t]
    with pytest.raises(TriggerError, match="no trigger named 'nope'"):
        select([t], ["nope"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.pop("when"), "trigger 'dry': when: missing"),
        (lambda t: t["when"]["driver"].update(statistic="median"), "trigger 'dry': when.driver.statistic: expected"),
        (lambda t: t["when"]["driver"].update(above=3), "trigger 'dry': when.driver.below: give exactly one"),
        (lambda t: t["when"]["driver"].pop("below"), "when.driver.below: give exactly one of below or above"),
        (lambda t: t["when"]["driver"].update(consecutive=0), "when.driver.consecutive: must be between 1 and 120"),
        (lambda t: t["when"]["driver"].update(consecutive=1.5), "when.driver.consecutive: expected a whole number"),
        (lambda t: t["when"]["driver"].update(months=[0, 13]), "when.driver.months: expected a list of calendar"),
        (lambda t: t["when"]["driver"].update(colour="red"), "when.driver.colour: unknown field"),
        (lambda t: t["when"]["driver"].pop("indicator"), "when.driver.indicator: missing"),
        (lambda t: t["when"]["driver"].update(below="low"), "when.driver.below: expected a number, got 'low'"),
        (lambda t: t.update(when={"driver": DRIVER, "forecast": {}}), "when: give exactly one of driver, forecast"),
        (
            lambda t: t.update(when={"forecast": {"horizon": 3, "above": 100, "probability": 1.5}}),
            "when.forecast.probability: must be between 0 and 1",
        ),
        (
            lambda t: t.update(when={"forecast": {"horizon": 3, "probability": 0.5}}),
            "when.forecast.above: give exactly one of above",
        ),
        (
            lambda t: t.update(when={"all": [{"driver": DRIVER}, {"driver": {**DRIVER, "below": None}}]}),
            "trigger 'dry': when.all[1].driver.below",
        ),
        (lambda t: t.update(when={"any": []}), "when.any: expected a list of conditions"),
        (lambda t: t["event"].update(lead=0), "trigger 'dry': event.lead: expected months ahead"),
        (lambda t: t["event"].update(kind="sites"), "event.kind: expected one of movements, displacement"),
        (lambda t: t["event"].update(above_percentile=101, above=None), "event.above_percentile: must be between"),
        (lambda t: t["event"].update(reference={"from": "2024-13"}), "event.reference.from: expected a month"),
        (lambda t: t.update(areas={"level": "province"}), "trigger 'dry': areas.level: expected one of adm0"),
        (lambda t: t.update(areas=[]), "trigger 'dry': areas: expected a P-code"),
        (lambda t: t.update(name="two words"), "trigger 'two words': name: expected a name"),
    ],
)
def test_validation_errors_name_the_trigger_and_the_field(change: Any, message: str) -> None:
    t = trigger()
    t["when"]["driver"] = dict(DRIVER)
    change(t)
    with pytest.raises(TriggerError) as caught:
        parse_triggers({"triggers": [t]}, source="t.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("t.yaml: ")


def test_file_level_errors(tmp_path: Path) -> None:
    from onthemove.foresight.triggers import load_triggers

    with pytest.raises(TriggerError, match="expected a list of triggers"):
        parse_triggers({"triggers": []})
    with pytest.raises(TriggerError, match="unknown top-level field 'trigger'"):
        parse_triggers({"trigger": []})
    with pytest.raises(TriggerError, match="trigger 'dry': name: another trigger has the same name"):
        parse_triggers({"triggers": [trigger(), trigger()]})
    with pytest.raises(TriggerError, match=r"trigger '#1': trigger\.name: missing"):
        parse_triggers([{"areas": "XT01"}])
    bad = write(tmp_path, "bad.yaml", "triggers: [unclosed\n")
    with pytest.raises(TriggerError, match=r"bad\.yaml: not valid YAML"):
        load_triggers(bad)
    with pytest.raises(TriggerError, match="cannot read"):
        load_triggers(tmp_path / "missing.yaml")
    good = write(tmp_path, "good.yaml", yaml.safe_dump({"triggers": [trigger()]}))
    assert [t.name for t in load_triggers(good)] == ["dry"]


def test_months() -> None:
    assert month_index("2023-04") == 2023 * 12 + 3
    assert month_index(dt.date(2023, 4, 30)) == month_index("2023-04") == month_index("2023-04-15")
    assert month_label(month_index("2023-12") + 1) == "2024-01"
    with pytest.raises(TriggerError, match="not a month"):
        month_index("April")


# --------------------------------------------------------------------------------------------------------------
# driver conditions on a store


def _fired(result: Any, area: str) -> dict[str, bool | None]:
    cases = result.cases[result.cases["area"] == area]
    return dict(zip(cases["month"], cases["fired"], strict=True))


def test_consecutive_months(small: Store) -> None:
    [r] = evaluate(small, one(), start="2023-01", end="2023-08")
    fired = _fired(r, "XT01")
    # 2023-03 and 2023-04 are below 75% of normal: the trigger fires in the second of the two only;
    # 2023-06 is below on its own, which is not enough
    assert [m for m, f in fired.items() if f] == ["2023-04"]
    assert fired == _fired(r, "XT02")  # the rainfall of the country applies to both regions
    [single] = evaluate(small, one(when={"driver": {**DRIVER, "consecutive": 1}}), start="2023-01", end="2023-08")
    assert [m for m, f in _fired(single, "XT01").items() if f] == ["2023-03", "2023-04", "2023-06"]
    [three] = evaluate(small, one(when={"driver": {**DRIVER, "consecutive": 3}}), start="2023-01", end="2023-08")
    assert not any(_fired(three, "XT01").values())
    # a season: the comparison can only hold in April-June, so March no longer counts
    seasonal = {"driver": {**DRIVER, "months": [4, 5, 6]}}
    [season] = evaluate(small, one(when=seasonal), start="2023-01", end="2023-08")
    assert not any(_fired(season, "XT01").values())


def test_contingency_table_by_hand(small: Store) -> None:
    [r] = evaluate(small, one(), start="2023-01", end="2023-08")
    # XT01: alarm in 2023-04, arrivals of 150 in 2023-05 -> events at 2023-03 (lead 2) and 2023-04 (lead 1):
    #       one hit (04), one miss (03), six correct negatives
    # XT02: the same alarm, arrivals of 150 in 2023-09 -> events at 2023-07 and 2023-08: a false alarm (04),
    #       two misses, five correct negatives
    assert r.by_area["XT01"] == Contingency(1, 0, 1, 6)
    assert r.by_area["XT02"] == Contingency(0, 1, 2, 5)
    assert r.table == Contingency(1, 1, 3, 11)
    assert r.table.n == 16 == len(r.cases)
    assert (r.undetermined, r.censored) == (0, 0)
    assert r.thresholds == {"XT01": 100, "XT02": 100}
    d = r.to_dict(by_area=True)
    assert d["pod"] == 0.25 and d["far"] == 0.5 and d["pofd"] == round(1 / 12, 3) and d["csi"] == 0.2
    assert d["hk"] == round(0.25 - 1 / 12, 3) and d["bias"] == 0.5
    assert [a["area"] for a in d["by_area"]] == ["XT01", "XT02"]
    # only drought arrivals count: XT02's peak (conflict) is no event any more, XT01's is
    drought = {**EVENT, "reason": "drought"}
    [rd] = evaluate(small, one(event=drought), start="2023-01", end="2023-08")
    assert rd.by_area["XT02"] == Contingency(0, 1, 0, 7)
    assert rd.by_area["XT01"] == Contingency(1, 0, 1, 6)
    # percentile events: 23 months of 10 and one of 150 have a 75th percentile of 10: the peak is the event
    pct = {"kind": "movements", "above_percentile": 75, "lead": [1, 2]}
    [rp] = evaluate(small, one(event=pct), start="2023-01", end="2023-08")
    assert rp.thresholds == {"XT01": 10.0, "XT02": 10.0}
    assert rp.table == r.table


def test_default_period_and_censoring(small: Store) -> None:
    [r] = evaluate(small, one())
    # arrivals run 2022-01 to 2023-12; a lead window of months 1-2 is fully observed up to 2023-10
    assert (r.start, r.end) == ("2022-01", "2023-10")
    assert r.table.n == 22 * 2 and r.censored == 0 and r.undetermined == 0
    [late] = evaluate(small, one(), start="2023-09", end="2023-12")
    assert late.censored == 2 * 2  # 2023-11 and 2023-12 look into 2024
    assert late.table.n == 2 * 2
    assert any("lead window runs past" in n for n in late.notes)
    # before enough earlier years of the same month exist, the normal is unknown: undetermined, not false
    # (rainfall from 2010; 13 years are there from 2023 on)
    patient = {"driver": {**DRIVER, "min_years": 13}}
    [early] = evaluate(small, one(when=patient), start="2022-06", end="2023-04")
    assert early.undetermined == 2 * 7 and early.table.n == 2 * 4
    assert any("could not be decided" in n for n in early.notes)
    with pytest.raises(TriggerError, match="no months to score"):
        evaluate(small, one(), start="2023-06", end="2023-01")
    with pytest.raises(TriggerError, match="every must be at least 1"):
        evaluate(small, one(), every=0)


def test_statistics_use_earlier_years_only(small: Store) -> None:
    def value(when: dict[str, Any], month: str) -> float:
        [s] = [s for s in status(small, one(when={"driver": when}), as_of=month) if s.area == "XT01"]
        return float(s.evidence["values"][month])

    marches = [11.0 if year % 2 == 0 else 9.0 for year in range(2010, 2023)]  # 2010-2022, not 2023 itself
    normal = sum(marches) / len(marches)
    sd = pd.Series(marches).std(ddof=1)
    base = {"driver": "rainfall", "indicator": "rainfall_mm", "below": 0}
    assert value({**base, "statistic": "value"}, "2023-03") == 5.0
    assert value({**base, "statistic": "anomaly"}, "2023-03") == pytest.approx(5 - normal, abs=1e-3)
    assert value({**base, "statistic": "percent_of_normal"}, "2023-03") == pytest.approx(100 * 5 / normal, abs=1e-3)
    assert value({**base, "statistic": "standardised_anomaly"}, "2023-03") == pytest.approx((5 - normal) / sd, abs=1e-3)
    assert value({**base, "statistic": "standardized_anomaly"}, "2023-03") == pytest.approx((5 - normal) / sd, abs=1e-3)
    # at most the latest five earlier years: 2018-2022
    recent = {**base, "statistic": "percent_of_normal", "baseline_years": 5, "min_years": 5}
    assert value(recent, "2023-03") == pytest.approx(100 * 5 / ((11 + 9 + 11 + 9 + 11) / 5), abs=1e-3)
    # three-month totals against the same three months of earlier years
    window = {**base, "statistic": "percent_of_normal", "window": 3}
    totals = [33.0 if year % 2 == 0 else 27.0 for year in range(2010, 2023)]
    assert value(window, "2023-04") == pytest.approx(100 * (9 + 5 + 5) / (sum(totals) / len(totals)), abs=1e-3)


def test_no_leakage_changing_later_data_changes_no_earlier_decision(tmp_path: Path) -> None:
    wet_later = {**DEFICITS, **{month_label(t): 80.0 for t in range(month_index("2023-05"), month_index("2024-07"))}}
    before = make_store(tmp_path / "a")
    after = make_store(tmp_path / "b", rain=wet_later)
    conditions = [
        {"driver": {**DRIVER, "statistic": s, "below": b, "window": w}}
        for s, b in (("percent_of_normal", 75), ("standardised_anomaly", -1), ("anomaly", -2))
        for w in (1, 3)
    ]
    triggers = parse_triggers({"triggers": [trigger(name=f"t{i}", when=c) for i, c in enumerate(conditions)]})
    try:
        old = evaluate(before, triggers, start="2020-01", end="2023-04")
        new = evaluate(after, triggers, start="2020-01", end="2023-04")
        for o, n in zip(old, new, strict=True):
            pd.testing.assert_frame_equal(o.cases, n.cases)
            assert o.table == n.table
        assert sum(r.table.hits + r.table.false_alarms for r in old) > 0  # some decisions were alarms
        for month in ("2021-05", "2022-12", "2023-03", "2023-04"):
            assert [s.evidence for s in status(before, triggers, as_of=month)] == [
                s.evidence for s in status(after, triggers, as_of=month)
            ]
        # the test can fail: the months that did change give other figures
        changed = [s.evidence["values"] for s in status(after, triggers[:1], as_of="2023-06")]
        assert changed != [s.evidence["values"] for s in status(before, triggers[:1], as_of="2023-06")]
    finally:
        before.close()
        after.close()


def test_status_in_the_latest_month_and_as_of(small: Store) -> None:
    now = status(small, one())
    assert {s.month for s in now} == {"2024-06"}  # the latest rainfall month
    assert {s.area for s in now} == {"XT01", "XT02"}
    assert all(s.fires is False for s in now)
    assert list(now[0].evidence["values"]) == ["2024-05", "2024-06"]
    then = status(small, one(), as_of="2023-04")
    assert all(s.fires for s in then)
    ev = then[0].evidence
    assert all(v < 75 for v in ev["values"].values()) and ev["threshold"] == 75
    assert explain_text(ev).endswith("-> yes")
    assert "2023-03 49.62" in explain_text(ev)
    assert then[0].to_dict()["name"] == "Northern"
    # every area at a level
    levels = status(small, one(areas={"level": "adm2", "within": "XT02"}), as_of="2023-04")
    assert [s.area for s in levels] == ["XT0201", "XT0202"]
    with pytest.raises(TriggerError, match="XT99 is not in the gazetteer"):
        status(small, one(areas=["XT99"]))


def test_counts_recorded_in_districts_add_up_and_are_zero_elsewhere(tmp_path: Path) -> None:
    with make_store(tmp_path) as store:
        lines = [
            "Place,Date,Driver,Indicator,Value",
            "#adm+code,#date+occurred,#event+type,#indicator+code,#indicator+value+num",
        ]
        lines += [
            "XT0101,2023-03-05,conflict,events,1",
            "XT0101,2023-03-20,conflict,events,1",
            "XT0102,2023-03-09,conflict,events,1",
        ]
        lines += ["XT0101,2023-04-02,conflict,events,1"]
        ingest(store, write(tmp_path, "c.csv", "\n".join(lines) + "\n"), kind="driver_events")
        cond = {"driver": "conflict", "indicator": "events", "statistic": "value", "above": 2}
        got = {s.area: s for s in status(store, one(when={"driver": cond}), as_of="2023-03")}
        assert got["XT01"].evidence["values"] == {"2023-03": 3.0} and got["XT01"].fires is True
        assert got["XT02"].evidence["values"] == {"2023-03": 0.0} and got["XT02"].fires is False
        assert status(store, one(when={"driver": cond}))[0].month == "2023-04"


# --------------------------------------------------------------------------------------------------------------
# forecast conditions with a fake forecaster


class FakeForecaster:
    """Forecasts 50 everywhere except where told; sigma 10 (an 80% interval of mean ± 12.8)."""

    def __init__(self, means: dict[tuple[str, str, int], float] | None = None, fail_at: tuple[str, ...] = ()) -> None:
        self.means = means or {}
        self.fail_at = fail_at
        self.calls: list[tuple[str, str, str, int, float]] = []

    def __call__(self, kind: str, level: str, origin: str, horizon: int, interval: float) -> pd.DataFrame:
        self.calls.append((kind, level, origin, horizon, interval))
        if origin in self.fail_at:
            raise ValueError("too little history")
        half = NormalDist().inv_cdf(0.5 + interval / 200) * 10
        rows = []
        for area in ("XT01", "XT02"):
            for step in range(1, horizon + 1):
                mean = self.means.get((area, origin, step), 50.0)
                period = month_label(month_index(origin) + step)
                rows.append({"place": area, "period": period, "mean": mean, "lo": mean - half, "hi": mean + half})
        return pd.DataFrame(rows)


FORECAST = {"forecast": {"kind": "movements", "horizon": 2, "above": 100, "probability": 0.5}}


def test_forecast_trigger_with_a_fake_forecaster(small: Store) -> None:
    fake = FakeForecaster({("XT01", "2023-04", 1): 150.0, ("XT02", "2023-06", 2): 105.0})
    [r] = evaluate(small, one(when=FORECAST), start="2023-01", end="2023-08", forecaster=fake)
    assert [m for m, f in _fired(r, "XT01").items() if f] == ["2023-04"]
    assert [m for m, f in _fired(r, "XT02").items() if f] == ["2023-06"]  # P(> 100) = 0.69 >= 0.5
    assert {c[2] for c in fake.calls} == {month_label(t) for t in range(month_index("2023-01"), month_index("2023-09"))}
    assert {(c[0], c[1], c[3], c[4]) for c in fake.calls} == {("movements", "adm1", 2, 80.0)}
    assert len(fake.calls) == 8  # once per origin and level, whatever the number of areas
    assert r.by_area["XT01"] == Contingency(1, 0, 1, 6)
    # the probability asked for matters: at 0.8, 105 ± sigma 10 is not enough (P = 0.69), 150 is
    strict = {"forecast": {**FORECAST["forecast"], "probability": 0.8}}
    [rs] = evaluate(small, one(when=strict), start="2023-01", end="2023-08", forecaster=fake)
    assert [m for m, f in _fired(rs, "XT02").items() if f] == []
    assert [m for m, f in _fired(rs, "XT01").items() if f] == ["2023-04"]
    # every other month only: the forecaster is asked at those origins only
    every = FakeForecaster()
    [re] = evaluate(small, one(when=FORECAST), start="2023-01", end="2023-08", every=3, forecaster=every)
    assert [c[2] for c in every.calls] == ["2023-01", "2023-04", "2023-07"]
    assert sorted(set(re.cases["month"])) == ["2023-01", "2023-04", "2023-07"]
    # a forecast trigger without a forecaster is an error, not a silent no
    with pytest.raises(TriggerError, match="need a forecaster"):
        evaluate(small, one(when=FORECAST))
    # the status says why
    [s] = [s for s in status(small, one(when=FORECAST), as_of="2023-04", forecaster=fake) if s.area == "XT01"]
    assert s.fires is True and s.evidence["probability"] == 1.0 and s.evidence["period"] == "2023-05"
    assert "P(> 100) = 1.00 in 2023-05" in explain_text(s.evidence)


def test_forecast_failures_and_short_history_are_undetermined(small: Store) -> None:
    fake = FakeForecaster(fail_at=("2023-02",))
    [r] = evaluate(small, one(when=FORECAST), start="2023-01", end="2023-03", forecaster=fake)
    assert r.undetermined == 2 and r.table.n == 4
    assert any("no forecast of movements by adm1 at 2023-02: too little history" in n for n in r.notes)
    # a percentile threshold from the area's own months up to the origin needs 12 of them (data from 2022-01)
    pct = {"forecast": {"horizon": 1, "above_percentile": 50, "probability": 0.5}}
    high = FakeForecaster({(a, m, 1): 40.0 for a in ("XT01", "XT02") for m in ("2022-11", "2022-12", "2023-01")})
    [rp] = evaluate(small, one(when=pct), start="2022-11", end="2023-01", forecaster=high)
    fired = _fired(rp, "XT01")
    assert fired == {"2022-11": None, "2022-12": True, "2023-01": True}  # 2022-11: 11 months of history
    assert rp.undetermined == 2


def test_all_and_any_follow_kleene_logic(small: Store) -> None:
    # the forecaster has nothing at 2023-04 (undetermined); the rainfall trigger fires at 2023-04 only
    fake = FakeForecaster({("XT01", "2023-05", 1): 150.0}, fail_at=("2023-04",))
    both = {"all": [{"driver": DRIVER}, FORECAST]}
    either = {"any": [{"driver": DRIVER}, FORECAST]}
    [a] = evaluate(small, one(when=both), start="2023-03", end="2023-06", forecaster=fake)
    # the rainfall condition is false everywhere in the other months: the forecaster is not asked there
    assert [c[2] for c in fake.calls] == ["2023-04"]
    fake.calls.clear()
    [o] = evaluate(small, one(when=either), start="2023-03", end="2023-06", forecaster=fake)
    assert [c[2] for c in fake.calls] == ["2023-03", "2023-05", "2023-06"]  # 2023-04 is already true
    # all: false when a part is false, undetermined when a part is and none is false
    assert _fired(a, "XT01") == {"2023-03": False, "2023-04": None, "2023-05": False, "2023-06": False}
    # any: true when a part is true, even with the other undetermined
    assert _fired(o, "XT01") == {"2023-03": False, "2023-04": True, "2023-05": True, "2023-06": False}
    [s] = [s for s in status(small, one(when=either), as_of="2023-04", forecaster=fake) if s.area == "XT01"]
    assert s.fires is True and [p["fires"] for p in s.evidence["parts"]] == [True, None]
    assert explain_text(s.evidence).startswith("any of [")
