"""The benchmark file writer: shape, determinism, and a clean load."""

from __future__ import annotations

from pathlib import Path

import pytest

from onthemove.demo.scale import write_hxl_csv, write_pcodes
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.store import open_store


def test_rows_header_and_hashtags(tmp_path: Path) -> None:
    path = write_hxl_csv(tmp_path / "m.csv", rows=10_000)
    lines = path.read_text().splitlines()
    assert len(lines) == 10_002
    assert lines[0] == "Month end,Region,District,Reason,IDPs"
    assert lines[1] == "#date+reported,#adm1+code,#adm2+code,#cause+type,#affected+idps"
    _date, region, district, reason, count = lines[2].split(",")
    assert district.startswith(region) and reason in {"conflict", "drought", "flood", "other"} and int(count) > 0
    assert lines[2] < lines[-1]  # month order
    assert len({line.split(",")[0] for line in lines[2:]}) == 120  # ten years of month ends


def test_deterministic(tmp_path: Path) -> None:
    a = write_hxl_csv(tmp_path / "a.csv", rows=10_000, seed=3).read_bytes()
    b = write_hxl_csv(tmp_path / "b.csv", rows=10_000, seed=3).read_bytes()
    c = write_hxl_csv(tmp_path / "c.csv", rows=10_000, seed=4).read_bytes()
    assert a == b != c


def test_chunked_writing_keeps_month_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import onthemove.demo.scale as scale

    whole = write_hxl_csv(tmp_path / "whole.csv", rows=2_500).read_text().splitlines()
    monkeypatch.setattr(scale, "CHUNK", 1_000)
    seen: list[str] = []
    chunked = write_hxl_csv(tmp_path / "chunked.csv", rows=2_500, progress=seen.append).read_text().splitlines()
    assert len(chunked) == len(whole) == 2_502 and len(seen) == 3
    assert [r.split(",")[0] for r in chunked] == [r.split(",")[0] for r in whole]


@pytest.mark.duckdb
def test_loads_without_rejections(tmp_path: Path) -> None:
    with open_store(tmp_path / "store") as store:
        load_pcodes(store, write_pcodes(tmp_path / "pcodes.csv"))
        report = ingest(store, write_hxl_csv(tmp_path / "m.csv", rows=10_000), kind="movements")
        assert (report.rows_read, report.rows_rejected, report.records_loaded) == (10_000, 0, 10_000)
        (places,) = store.fetch_one("SELECT count(*) FROM places") or (0,)
        assert places == 1 + 20 + 20 * 15
