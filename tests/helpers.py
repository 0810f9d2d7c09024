"""Small hand-made fixtures written on the fly (the real data stays in ../shared)."""

from __future__ import annotations

from pathlib import Path

PCODES = """Location,Admin Level,P-Code,Name,Parent P-Code,Valid from date
#country+code,#geo+admin_level,#adm+code,#adm+name,#adm+code+parent,#date+start
XTL,1,XT01,Northern,XTL,2020-01-01
XTL,1,XT02,Southern,XTL,2020-01-01
XTL,2,XT0101,Kismaayo Town,XT01,2020-01-01
XTL,2,XT0102,Belet Weyne,XT01,2020-01-01
XTL,2,XT0201,Ceel Barde,XT02,2020-01-01
XTL,2,XT0202,Baydhaba,XT02,2020-01-01
"""

# arrivals by district, month and reason; one bad row kept for the tests that want one
MOVEMENTS = """Monthly arrivals,,,,
Date,Region,District,Reason,People
#date+reported,#adm1+code,#adm2+code,#cause+type,#affected+idps
2024-01-31,XT01,XT0101,conflict,100
2024-01-31,XT01,XT0102,drought,50
2024-01-31,XT02,XT0201,drought,30
2024-02-29,XT01,XT0101,conflict,120
2024-02-29,XT02,XT0202,flood,7
2024-03-31,XT02,XT0202,conflict,11
"""

STOCKS = """Date,District,IDPs,IDP women,IDP men,Round
#date+reported,#adm2+code,#affected+idps,#affected+idps+f,#affected+idps+m,#round+code
2024-01-10,XT0101,1000,600,400,1
2024-01-25,XT0101,1100,650,450,2
2024-01-25,XT0201,500,,,2
2024-02-20,XT0101,900,500,400,3
"""

PLAIN = """When,Where,Province,Why,How many
15/01/2024,Kismayo town,Northern,Conflict/Insecurity,40
15/01/2024,Beletweyne,Northern,Drought related,25
15/02/2024,Baidoa,Southern,Flood,9
15/02/2024,Nowhere Special,Southern,Flood,3
"""

PLAIN_MAPPING = """kind: movements
columns:
  When: date
  Where: to_place.name
  Province: to_place.parent
  Why: reason
  How many: count
date_formats: ["%d/%m/%Y"]
places:
  to_place: {level: 2}
values:
  reason: {Conflict/Insecurity: conflict, Drought related: drought, Flood: flood}
constants:
  population_group: idps
attribution: test fixture
licence: CC0
"""

# South Sudan, for the recorded DTM API responses in tests/fixtures/dtm
SSD_PCODES = """Location,Admin Level,P-Code,Name,Parent P-Code,Valid from date
#country+code,#geo+admin_level,#adm+code,#adm+name,#adm+code+parent,#date+start
SSD,1,SS01,Central Equatoria,SSD,2020-01-01
SSD,1,SS04,Jonglei,SSD,2020-01-01
SSD,1,SS07,Upper Nile,SSD,2020-01-01
SSD,2,SS0101,Juba,SS01,2020-01-01
SSD,2,SS0102,Kajo-Keji,SS01,2020-01-01
SSD,2,SS0401,Bor South,SS04,2020-01-01
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path
