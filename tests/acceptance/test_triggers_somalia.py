"""Early-warning triggers on the Somalia case study: rainfall droughts against PRMN arrivals (needs ../shared).

Only the driver-based triggers of examples/somalia/triggers.yaml run here (the forecast-based ones would run the
forecaster once per month; tests/unit/test_triggers.py covers them with a fake one). ``pytest -s`` shows the tables.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import ROOT

from onthemove.foresight.triggers import Evaluation, evaluate, explain_text, load_triggers, select, status
from onthemove.store import Store

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

TRIGGERS = ROOT / "examples/somalia/triggers.yaml"
DROUGHT = ["drought-rainfall-deficit", "drought-spi3"]
REGIONS = 18
MONTHS = 72  # 2016-01 to 2021-12
LEAD = 3


@pytest.fixture(scope="module")
def somalia(somalia_store: Store) -> Store:
    """The case study, loaded once per session (tests/acceptance/conftest.py)."""
    return somalia_store


def _show(r: Evaluation) -> None:
    t = r.table
    print(f"\n{r.trigger}: trigger months {r.start} to {r.end}, {t.n} cases (region x month)")
    print(f"  {'':14}{'event':>8}{'no event':>10}{'total':>8}")
    print(f"  {'fired':14}{t.hits:>8}{t.false_alarms:>10}{t.hits + t.false_alarms:>8}")
    print(f"  {'not fired':14}{t.misses:>8}{t.correct_negatives:>10}{t.misses + t.correct_negatives:>8}")
    print(f"  {'total':14}{t.hits + t.misses:>8}{t.false_alarms + t.correct_negatives:>10}{t.n:>8}")
    print("  " + ", ".join(f"{k.upper()} {'n/a' if v is None else f'{v:.3f}'}" for k, v in t.scores().items()))
    print(f"  left out: {r.undetermined} undetermined, {r.censored} censored (lead window past 2021-12)")
    fired = sorted(set(r.cases.loc[r.cases["fired"] == True, "month"]))  # noqa: E712
    print(f"  fired in: {', '.join(fired)}")


def test_drought_triggers_on_prmn(somalia: Store, shared_data: Path) -> None:
    triggers = select(load_triggers(TRIGGERS), DROUGHT)
    assert not any(t.uses_forecasts for t in triggers)
    results = evaluate(somalia, triggers, start="2016-01", end="2021-12")
    for r in results:
        _show(r)
        t = r.table
        # every (region, month) is a case: scored, undetermined or censored
        assert t.n + r.undetermined + r.censored == REGIONS * MONTHS == len(r.cases)
        assert r.censored == REGIONS * LEAD and r.undetermined == 0  # rainfall covers 1983-2022
        assert t.n == REGIONS * (MONTHS - LEAD)
        assert t == sum(r.by_area.values(), type(t)())
        assert len(r.by_area) == REGIONS
        # the scores are those of the table
        a, b, c, d = t.hits, t.false_alarms, t.misses, t.correct_negatives
        assert a + b > 0 and a + c > 0  # the trigger fired, and there were events to anticipate
        assert t.pod == pytest.approx(a / (a + c))
        assert t.far == pytest.approx(b / (a + b))
        assert t.pofd == pytest.approx(b / (b + d))
        assert t.csi == pytest.approx(a / (a + b + c))
        assert t.hk == pytest.approx(a / (a + c) - b / (b + d))
        assert t.bias == pytest.approx((a + b) / (a + c))
        # a national rainfall trigger fires for all regions at once: alarms come in multiples of 18
        assert (a + b) % REGIONS == 0
        # events: a month above the region's own 75th percentile in the next three; more than a quarter of cases
        assert t.base_rate is not None and 0.25 < t.base_rate < 0.75
    deficit = results[0]
    fired = set(deficit.cases.loc[deficit.cases["fired"] == True, "month"])  # noqa: E712
    assert "2016-11" in fired  # the failed Deyr rains of 2016, before the drought displacement of 2017


def test_drought_trigger_status(somalia: Store, shared_data: Path) -> None:
    triggers = select(load_triggers(TRIGGERS), DROUGHT[:1])
    now = status(somalia, triggers)
    assert len(now) == REGIONS and {s.month for s in now} == {"2022-12"}  # the latest rainfall month
    print(f"\nstatus {now[0].month}: {explain_text(now[0].evidence)}")
    then = status(somalia, triggers, as_of="2021-11")
    assert all(s.fires for s in then)  # the failed Deyr of 2021: October and November below 75% of normal
    print(f"status 2021-11: {explain_text(then[0].evidence)}")
