"""The documentation names every canonical field and every setting (Datasette's habit)."""

from __future__ import annotations

from pathlib import Path

from onthemove.ingest.kinds import KINDS
from onthemove.settings import SETTINGS, SettingsError, load

ROOT = Path(__file__).resolve().parents[2]


def test_mapping_doc_lists_every_field() -> None:
    text = (ROOT / "docs/mapping.md").read_text(encoding="utf-8")
    for kind in KINDS.values():
        assert f"### `{kind.name}`" in text
        for f in kind.fields:
            assert f"| `{f.name}` |" in text, (kind.name, f.name)


def test_settings_have_help_and_fail_fast(tmp_path: Path) -> None:
    assert all(s.help for s in SETTINGS)
    values = load({}, environ={"ONTHEMOVE_ALERT_Z": "2.5", "ONTHEMOVE_CONFIG": str(tmp_path / "none.toml")})
    assert values["alert_z"] == 2.5
    bad = tmp_path / "bad.toml"
    bad.write_text("alert_floor = 'many'\n")
    try:
        load({}, environ={"ONTHEMOVE_CONFIG": str(bad)})
    except SettingsError as exc:
        assert "alert_floor" in str(exc)
    else:
        raise AssertionError("a wrong setting must fail")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'red'\n")
    try:
        load({}, environ={"ONTHEMOVE_CONFIG": str(unknown)})
    except SettingsError as exc:
        assert "colour" in str(exc)
    else:
        raise AssertionError("an unknown setting must fail")
