"""Every setting declared once: name, default, help. Read from flags, then environment, then a file.

The environment name is ``ONTHEMOVE_`` + the upper-case name; the file is TOML (``onthemove.toml``
in the working directory, or the path in ``ONTHEMOVE_CONFIG``). A wrong value fails at start-up
with a message that says which setting and what it should be.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


SETTINGS: tuple[Setting, ...] = (
    Setting("store", "./onthemove-data/", "store location: a directory (DuckDB) or a postgresql:// URL"),
    Setting("user", "", "who is working, recorded on every batch (default: the login name)"),
    Setting("alert_z", 3.5, "robust z-score above which an area's latest month is flagged", float),
    Setting("alert_ratio", 2.0, "how many times its median an area's latest month must reach to be flagged", float),
    Setting("alert_floor", 100, "smallest count that can raise an alert", int),
    Setting("dtm_key", "", "subscription key for the IOM DTM API (Ocp-Apim-Subscription-Key)"),
    Setting("host", "127.0.0.1", "address `onthemove serve` listens on (0.0.0.0 for the whole network)"),
    Setting("port", 8000, "port `onthemove serve` listens on", int),
    Setting("workers", 1, "server processes (more than one needs a PostgreSQL store)", int),
    Setting("suppression_threshold", 10, "counts below this are blanked for anonymous users and partners", int),
    Setting("disclosure_k", 5, "k-anonymity microdata must reach before release (onthemove disclose)", int),
    Setting("disclosure_l", 2, "distinct l-diversity of each sensitive attribute within a group of records", int),
    Setting(
        "disclosure_risk_ceiling", 0.03, "highest global re-identification risk of released microdata (0: off)", float
    ),
    Setting("disclosure_suppression_cap", 0.05, "largest share of records local suppression may remove", float),
    Setting("result_cache", 256, "query results the server keeps until the data change (0: off)", int),
    Setting("triggers", "", "YAML file of early-warning triggers shown by the server (empty: none)"),
    Setting("log_level", "info", "debug, info, warning or error"),
    Setting(
        "results_framework",
        "",
        "framework files extending the default results framework, comma-separated (empty: the default only)",
    ),
    Setting(
        "iati_schemas",
        "",
        "folder with the IATI 2.03 XSD (IATI-Schemas, branch version-2.03; empty: ../shared/standards/iati if there)",
    ),
    Setting(
        "registry_key_file",
        "",
        "file with the key that encrypts the registry's identifying fields, outside the store, mode 0600 "
        "(empty: the key itself in ONTHEMOVE_REGISTRY_KEY)",
    ),
    Setting(
        "registry_pseudonym_key_file",
        "",
        "file with the key the registry's pseudonymous IDs are made with, a second key, mode 0600 "
        "(empty: ONTHEMOVE_REGISTRY_PSEUDONYM_KEY)",
    ),
    Setting("registry_retention_days", 730, "days a registration is kept when the file gives no retention date", int),
)
BY_NAME = {s.name: s for s in SETTINGS}


class SettingsError(ValueError):
    pass


def load(flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    path = Path(env.get("ONTHEMOVE_CONFIG", "onthemove.toml"))
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
        for key, raw in data.items():
            if key not in BY_NAME:
                raise SettingsError(f"{path}: unknown setting {key!r}; known: {', '.join(BY_NAME)}")
            values[key] = _parse(BY_NAME[key], raw, str(path))
    for s in SETTINGS:
        raw = env.get(f"ONTHEMOVE_{s.name.upper()}")
        if raw not in (None, ""):
            values[s.name] = _parse(s, raw, f"ONTHEMOVE_{s.name.upper()}")
    for key, raw in (flags or {}).items():
        if raw is not None:
            values[key] = _parse(BY_NAME[key], raw, f"--{key.replace('_', '-')}")
    return values


def _parse(s: Setting, raw: Any, where: str) -> Any:
    try:
        return s.parse(raw) if isinstance(raw, str) else type(s.default)(raw)
    except (TypeError, ValueError):
        kind = type(s.default).__name__
        raise SettingsError(f"{where}: {raw!r} is not a valid {kind} for {s.name} ({s.help})") from None
