"""Big synthetic files for benchmarks: a movements HXL CSV of any length and its P-code list.

"Scaleland" (ISO3 ``XSL``, P-codes ``XS``, ``XS01``, ``XS0101``) has 20 regions of 15 districts.
Rows are monthly arrivals by district and reason over ten years, in date order like a real
monthly series. Everything is vectorised with numpy and written by pyarrow's CSV writer one
chunk at a time, so ten million rows take seconds and little memory; the same seed gives the
same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from onthemove.demo.simulate import END, month_ends

ISO3 = "XSL"
ADM0 = "XS"
REGIONS, DISTRICTS = 20, 15
YEARS = 10
CHUNK = 1_000_000
REASONS = ("conflict", "drought", "flood", "other")
REASON_SHARE = np.cumsum([0.45, 0.3, 0.15, 0.1])
HEADER = "Month end,Region,District,Reason,IDPs\n#date+reported,#adm1+code,#adm2+code,#cause+type,#affected+idps\n"


def district_codes() -> list[str]:
    return [f"{ADM0}{r:02d}{d:02d}" for r in range(1, REGIONS + 1) for d in range(1, DISTRICTS + 1)]


def write_pcodes(path: str | Path) -> Path:
    """The gazetteer of Scaleland as an OCHA-style HXL P-code list."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "Location,Admin Level,P-Code,Name,Parent P-Code,Valid from date",
        "#country+code,#geo+admin_level,#adm+code,#adm+name,#adm+code+parent,#date+start",
        f"{ISO3},0,{ADM0},Scaleland,,2016-01-01",
    ]
    for r in range(1, REGIONS + 1):
        lines.append(f"{ISO3},1,{ADM0}{r:02d},Region {r:02d},{ADM0},2016-01-01")
    for code in district_codes():
        lines.append(f"{ISO3},2,{code},District {code[2:]},{code[:4]},2016-01-01")
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def write_hxl_csv(
    path: str | Path,
    rows: int = 10_000_000,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """``rows`` movements (arrivals of IDPs by month end, region, district and reason) as HXL CSV."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    months = pa.array([m.isoformat() for m in month_ends(END, 12 * YEARS)])
    districts = district_codes()
    district_arr = pa.array(districts)
    region_arr = pa.array([c[:4] for c in districts])
    reason_arr = pa.array(REASONS)
    schema = pa.schema([("date", pa.string()), ("adm1", pa.string()), ("adm2", pa.string())])
    schema = schema.append(pa.field("reason", pa.string())).append(pa.field("count", pa.int64()))
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with pa.OSFile(str(p), "wb") as sink:
        sink.write(HEADER.encode())
        with pacsv.CSVWriter(sink, schema, write_options=options) as writer:
            for start in range(0, rows, CHUNK):
                n = min(CHUNK, rows - start)
                # the date follows the row position, so the file runs month by month
                month = pa.array((np.arange(start, start + n, dtype=np.int64) * len(months)) // rows)
                district = pa.array(rng.integers(0, len(districts), n))
                reason = pa.array(np.searchsorted(REASON_SHARE, rng.random(n) * REASON_SHARE[-1], side="right"))
                count = rng.geometric(1 / 40, n).astype(np.int64)
                places = [region_arr.take(district), district_arr.take(district)]
                chunk = pa.table([months.take(month), *places, reason_arr.take(reason), pa.array(count)], schema=schema)
                writer.write_table(chunk)
                if progress:
                    progress(f"{start + n:,} of {rows:,} rows written")
    return p
