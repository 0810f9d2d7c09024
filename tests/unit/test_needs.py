"""Needs rules: parsing and their errors, value maps and thresholds, combining, the MSNI, people in need, the
ranking and its explanations, areas. No store: ``apply_rules`` takes the latest values as frames."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from tests.conftest import ROOT

from onthemove.respond.needs import (
    IndicatorRule,
    NeedsError,
    apply_rules,
    load_rules,
    parse_rules,
)


def values(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"site_id": s, "sector": sec, "indicator": ind, "value": v, "date": None} for s, sec, ind, v in rows]
    )


def sites(*rows: tuple[str, str | None, int | None]) -> pd.DataFrame:
    """(site_id, adm2, individuals); adm2 XT0101 lies in XT01 and so on."""
    return pd.DataFrame(
        [
            {
                "site_id": s,
                "name": f"Site {s}",
                "place": adm2,
                "adm1": adm2[:4] if adm2 else None,
                "adm2": adm2,
                "site_type": "camp",
                "households": None if ind is None else ind // 5,
                "individuals": ind,
                "latitude": 1.0,
                "longitude": 2.0,
            }
            for s, adm2, ind in rows
        ]
    )


SITES = sites(("S1", "XT0101", 100), ("S2", "XT0102", 200), ("S3", "XT0201", 300), ("S4", "XT0202", 400))


def test_default_rules_read_severity_of_every_sector() -> None:
    rules = load_rules()
    assert rules.in_need == 3 and rules.area_severity == "max" and rules.indicator_names() == ["severity"]
    got = apply_rules(
        values(
            ("S1", "wash", "severity", 4.4),
            ("S1", "shelter", "severity", 2),
            ("S2", "wash", "severity", 2.5),  # rounds half up to 3
            ("S3", "wash", "severity", 7),  # clipped to 5
            ("S4", "wash", "severity", 0),  # clipped to 1
        ),
        SITES,
        rules,
    )
    by = got.sites.set_index("site_id")
    assert by["wash"].to_dict() == {"S3": 5, "S1": 4, "S2": 3, "S4": 1}
    assert by.loc["S1", "shelter"] == 2 and pd.isna(by.loc["S2", "shelter"])
    assert by["severity"].to_dict() == {"S3": 5, "S1": 4, "S2": 3, "S4": 1}
    assert got.sectors == ["shelter", "wash"]


def test_overall_is_the_max_and_people_in_need_count_from_phase_3() -> None:
    got = apply_rules(
        values(
            ("S1", "wash", "severity", 4),
            ("S1", "shelter", "severity", 3),
            ("S1", "health", "severity", 2),
            ("S2", "wash", "severity", 2),
            ("S2", "shelter", "severity", 1),
        ),
        SITES,
        load_rules(),
    )
    s1, s2 = (got.sites.set_index("site_id").loc[x] for x in ("S1", "S2"))
    assert (s1["severity"], s1["sectors_in_need"], s1["people_in_need"]) == (4, 2, 100)
    assert (s1["pin_wash"], s1["pin_shelter"], s1["pin_health"]) == (100, 100, 0)
    assert (s2["severity"], s2["sectors_in_need"], s2["people_in_need"]) == (2, 0, 0)
    ss = got.site_sector.set_index(["site_id", "sector"])
    assert ss.loc[("S1", "wash"), "people_in_need"] == 100 and ss.loc[("S1", "health"), "people_in_need"] == 0


def test_ranking_orders_by_severity_then_sectors_then_people_and_says_why() -> None:
    got = apply_rules(
        values(
            ("S1", "wash", "severity", 4),
            ("S1", "shelter", "severity", 3),  # 4, two sectors, 100 people
            ("S2", "wash", "severity", 4),  # 4, one sector, 200 people
            ("S3", "wash", "severity", 4),
            ("S3", "shelter", "severity", 4),  # 4, two sectors, 300 people: first
            ("S4", "wash", "severity", 5),  # 5 beats everything
        ),
        SITES,
        load_rules(),
    )
    assert got.sites["site_id"].tolist() == ["S4", "S3", "S1", "S2"]
    assert got.sites["rank"].tolist() == [1, 2, 3, 4]
    why = got.sites.set_index("site_id")["why"]
    assert why["S1"] == "severity 4 (WASH 4, shelter 3); 2 sectors in need; 100 people in need"
    assert why["S2"] == "severity 4 (WASH 4); 1 sector in need; 200 people in need"
    assert why["S4"] == "severity 5 (WASH 5); 1 sector in need; 400 people in need"


def test_why_when_no_sector_is_in_need() -> None:
    got = apply_rules(values(("S1", "wash", "severity", 2), ("S1", "health", "severity", 1)), SITES, load_rules())
    assert got.sites["why"][0] == "severity 2 (no sector in need; highest WASH 2); 0 sectors in need; 0 people in need"


RULES = """
name: test
in_need: 3
area_severity: weighted
sectors:
  wash:
    label: Water
    combine: mean
    indicators:
      water_lpd: {thresholds: {2: 15, 3: 10, 4: 7.5, 5: 5}, direction: lower}
      latrine_ratio: {thresholds: {3: 50, 4: 100}}
  shelter:
    combine: min
    indicators:
      need: {map: {0: 1, 1: 3, 2: 4}}
      damage: {map: {0: 2, 1: 5}}
"""


def test_thresholds_value_maps_and_combining() -> None:
    rules = parse_rules(yaml.safe_load(RULES), "test.yaml")
    got = apply_rules(
        values(
            ("S1", "wash", "water_lpd", 8),  # <= 10: 3
            ("S1", "wash", "latrine_ratio", 120),  # >= 100: 4 -> mean 3.5 rounds to 4
            ("S2", "wash", "water_lpd", 20),  # above every threshold: 1
            ("S2", "wash", "latrine_ratio", 49),  # below 50: 1
            ("S1", "shelter", "need", 2),  # 4
            ("S1", "shelter", "damage", 1),  # 5 -> min 4
            ("S2", "shelter", "need", 7),  # not in the map: not scored
            ("S2", "shelter", "damage", 0),  # 2
            ("S3", "food", "fcs", 1),  # a sector without a rule
        ),
        SITES,
        rules,
    )
    by = got.sites.set_index("site_id")
    assert by.loc["S1", "wash"] == 4 and by.loc["S2", "wash"] == 1
    assert by.loc["S1", "shelter"] == 4 and by.loc["S2", "shelter"] == 2
    assert "S3" not in by.index
    assert any("shelter/need: 1 values not in the map (7)" in n for n in got.notes)
    assert by.loc["S1", "why"].startswith("severity 4 (Water 4, shelter 4)")


def test_indicator_rule_directions() -> None:
    higher = IndicatorRule("x", thresholds=((2, 10.0), (3, 20.0), (4, 40.0), (5, 80.0)))
    lower = IndicatorRule("x", thresholds=((2, 15.0), (3, 10.0), (4, 7.5), (5, 5.0)), direction="lower")
    assert higher.phases(np.array([0, 10, 39.9, 40, 1000])).tolist() == [1, 2, 3, 4, 5]
    assert lower.phases(np.array([20, 15, 9, 7.5, 1])).tolist() == [1, 2, 3, 4, 5]


def test_areas_sum_people_and_take_max_or_weighted_severity() -> None:
    vals = values(
        ("S1", "wash", "severity", 5),
        ("S2", "wash", "severity", 3),
        ("S3", "wash", "severity", 2),
        ("S4", "wash", "severity", 4),
    )
    got = apply_rules(vals, SITES, load_rules())
    adm1 = got.areas("adm1", {"XT01": "North"}).set_index("area")
    assert adm1.loc["XT01", "severity"] == 5 and adm1.loc["XT01", "people_in_need"] == 300
    assert adm1.loc["XT02", "severity"] == 4 and adm1.loc["XT02", "people_in_need"] == 400
    assert adm1.loc["XT01", "name"] == "North" and adm1.loc["XT01", "rank"] == 1
    rules = replace(load_rules(), area_severity="weighted")
    adm1w = apply_rules(vals, SITES, rules).areas("adm1").set_index("area")
    assert adm1w.loc["XT01", "severity"] == pytest.approx((5 * 100 + 3 * 200) / 300, abs=0.01)
    assert adm1w.loc["XT02", "severity"] == pytest.approx((2 * 300 + 4 * 400) / 700, abs=0.01)
    assert adm1w.loc["XT02", "sectors_in_need"] == 1  # 3.14 >= 3: in need
    adm2 = got.areas("adm2").set_index("area")
    assert set(adm2.index) == {"XT0101", "XT0102", "XT0201", "XT0202"}


def test_sites_missing_from_the_registry_or_without_population() -> None:
    got = apply_rules(
        values(("S1", "wash", "severity", 4), ("S9", "wash", "severity", 4)),
        sites(("S1", "XT0101", None)),
        load_rules(),
    )
    assert any("not in the site registry" in n and "S9" in n for n in got.notes)
    assert any("no individuals figure" in n for n in got.notes)
    assert got.sites["people_in_need"].tolist() == [0, 0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sectors: {}", "sectors: expected a mapping sector -> rule"),
        (
            "sectors: {wash: {indicators: {x: {map: {0: 7}}}}}",
            "sectors.wash.indicators.x.map.0: expected a severity phase",
        ),
        ("sectors: {wash: {indicators: {x: {map: {0: 1}, thresholds: {3: 1}}}}}", "give either map or thresholds"),
        ("sectors: {wash: {indicators: {x: {thresholds: {3: 10, 4: 5}}}}}", "thresholds must increase with the phase"),
        ("sectors: {wash: {indicators: {x: {direction: lower}}}}", "direction: only goes with thresholds"),
        ("sectors: {wash: {combine: median, indicators: {x: {}}}}", "combine: expected one of max, mean, min"),
        ("sectors: {wash: {indicators: {}}}", "sectors.wash.indicators: expected a mapping"),
        ("sectors: {wash: {indicators: {x: {}}}}\nin_need: 6", "in_need: expected a severity phase 1-5"),
        ("sectors: {wash: {indicators: {x: {}}}}\nfoo: 1", "foo: unknown key"),
        ("sectors: {wash: {indicators: {x: {}}}}\narea_severity: mean", "area_severity: expected one of max, weighted"),
        ("- 1", "expected a mapping"),
    ],
)
def test_rule_errors_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(NeedsError, match=r"bad\.yaml") as info:
        load_rules(path)
    assert message in str(info.value)


def test_unreadable_rules_files(tmp_path: Path) -> None:
    with pytest.raises(NeedsError, match="cannot read rules file"):
        load_rules(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("sectors: [")
    with pytest.raises(NeedsError, match=r"broken\.yaml: not valid YAML"):
        load_rules(tmp_path / "broken.yaml")


def test_somalia_rules_map_the_dsa_scores() -> None:
    rules = load_rules(ROOT / "examples/somalia/needs.yaml")
    assert len(rules.sectors) == 8 and rules.in_need == 3
    wash = rules.rule_for("wash")
    assert wash is not None and wash.indicators[0].phases(np.array([0, 1, 2])).tolist() == [2, 3, 4]
    nutrition = rules.rule_for("nutrition")
    assert nutrition is not None and nutrition.indicators[0].phases(np.array([0, 1])).tolist() == [1, 3]
    assert rules.label("shelter_nfi") == "shelter/NFI"
