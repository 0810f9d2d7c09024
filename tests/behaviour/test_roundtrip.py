"""An HXL export of our own records loads back into another store with the same totals."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import MOVEMENTS, PCODES, STOCKS, write

from onthemove.analyse.query import totals
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.share import export_records
from onthemove.store import Store, open_store


def test_hxl_records_round_trip(store: Store, tmp_path: Path) -> None:
    pcodes = write(tmp_path, "pcodes.csv", PCODES)
    load_pcodes(store, pcodes)
    ingest(store, write(tmp_path, "m.csv", MOVEMENTS), kind="movements")
    ingest(store, write(tmp_path, "s.csv", STOCKS), kind="displacement")
    with open_store(tmp_path / "copy") as copy:
        load_pcodes(copy, pcodes)
        for kind in ("movements", "displacement"):
            out = export_records(store, kind, tmp_path / f"{kind}.hxl.csv")
            report = ingest(copy, out, kind=kind)
            assert report.rows_rejected == 0, report.rejections[:3]
            for by in (["month", "adm1", "reason"], ["month", "adm2", "sex"]):
                assert totals(copy, kind, by=by) == totals(store, kind, by=by), (kind, by)
