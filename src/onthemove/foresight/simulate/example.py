"""A tiny hand-made case in Flee's format (made up, for tests and the documentation's examples).

Homeland: a conflict zone from day 0 (Alpha), one from day 5 (Charlie, a town until then), two towns, a
forwarding hub and two camps across the border in Neighbourland. Validation data cover the camps and the total.
"""

from __future__ import annotations

from pathlib import Path

LOCATIONS = """\
#name,region,country,latitude,longitude,location_type,conflict_date,population
Alpha,North,Homeland,10.0,10.0,conflict_zone,0,50000
Bravo,North,Homeland,10.5,10.5,town,,20000
Charlie,South,Homeland,9.5,10.5,conflict_zone,5,30000
Delta,South,Homeland,9.0,11.0,town,,
Hub,East,Homeland,10.0,11.5,forwarding_hub,,
Camp_East,Far,Neighbourland,10.0,12.0,camp,,3000
Camp_South,Far,Neighbourland,8.5,11.5,camp,,1500
"""

ROUTES = """\
#name1,name2,distance,forced_redirection
Alpha,Bravo,60,
Bravo,Hub,120,
Hub,Camp_East,40,
Alpha,Charlie,90,
Charlie,Delta,70,
Delta,Camp_South,150,
Bravo,Delta,200,0
"""

CLOSURES = """\
#closure_type,name1,name2,closure_start,closure_end
country,Homeland,Neighbourland,0,3
"""

SIM_PERIOD = "StartDate,2020-01-01\nLength,20\n"

CORRECTIONS = "Camp_East,2020-01-11,normalize\n"

LAYOUT = "total,refugees.csv\nCamp_East,camp-east.csv\nCamp_South,camp-south.csv\n"

TOTAL = "2020-01-01,100\n2020-01-06,600\n2020-01-11,1500\n2020-01-16,2600\n2020-01-21,3000\n"
CAMP_EAST = "Date,Count\n2020-01-01,80\n2020-01-06,400\n2020-01-11,1100\n2020-01-21,2100\n"
CAMP_SOUTH = "2020-01-01,20\n2020-01-06,100\n2020-01-16,500\n2020-01-21,900\n"


def conflicts(days: int = 20) -> str:
    lines = ["#Day,Alpha,Bravo,Charlie,Delta,Hub,Camp_East,Camp_South"]
    for t in range(days):
        lines.append(f"{t},1,0,{1 if t >= 5 else 0},0,0,0,0")
    return "\n".join(lines) + "\n"


def write_example_case(root: Path | str) -> Path:
    """Write the example case under ``root`` (input_csv/ and source_data/); returns ``root``."""
    root = Path(root)
    inputs = root / "input_csv"
    source = root / "source_data"
    inputs.mkdir(parents=True, exist_ok=True)
    source.mkdir(parents=True, exist_ok=True)
    (inputs / "locations.csv").write_text(LOCATIONS, encoding="utf-8")
    (inputs / "routes.csv").write_text(ROUTES, encoding="utf-8")
    (inputs / "closures.csv").write_text(CLOSURES, encoding="utf-8")
    (inputs / "conflicts.csv").write_text(conflicts(), encoding="utf-8")
    (inputs / "sim_period.csv").write_text(SIM_PERIOD, encoding="utf-8")
    (inputs / "registration_corrections.csv").write_text(CORRECTIONS, encoding="utf-8")
    (source / "data_layout.csv").write_text(LAYOUT, encoding="utf-8")
    (source / "refugees.csv").write_text(TOTAL, encoding="utf-8")
    (source / "camp-east.csv").write_text(CAMP_EAST, encoding="utf-8")
    (source / "camp-south.csv").write_text(CAMP_SOUTH, encoding="utf-8")
    return root
