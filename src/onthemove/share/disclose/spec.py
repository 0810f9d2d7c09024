"""The disclosure spec: a YAML file that says, for one dataset, what identifies people and how much may go.

.. code-block:: yaml

    identifiers: [name, phone]          # direct identifiers: dropped before anything else
    quasi_identifiers:                  # what an intruder could know; each with its hierarchy
      age: {intervals: [5, 10, 20]}     # numbers: interval widths
      education: {hierarchy: hierarchies/education.csv}   # ARX/anjana CSV, relative to this file
      adm2: {prefix: [4, 2]}            # codes: leading characters kept
      sex: {}                           # kept or suppressed
    sensitive: [salary-class]           # checked for l-diversity within each group
    weight: household_weights           # sampling weight, for the risk (optional)
    k: 10                               # defaults: the disclosure_* settings
    l: 2
    entropy_l: false                    # also entropy l-diversity
    suppression_cap: 0.05               # share of records that may be suppressed
    suppression: records                # records (drop them) or cells (blank quasi-identifiers to '*')
    risk_ceiling: 0.03                  # global risk (expected re-identifications / records); null: not checked
    loss: lm                            # lm, precision, entropy or discernibility: what `apply` minimises
    read: {delimiter: ",", skipinitialspace: true}   # how to read the CSV (pandas.read_csv options)

Every key but ``quasi_identifiers`` is optional; k, l, the cap and the ceiling default to the settings
``disclosure_k``, ``disclosure_l``, ``disclosure_suppression_cap`` and ``disclosure_risk_ceiling``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from onthemove.share.disclose.hierarchy import (
    MISSING,
    DisclosureError,
    Hierarchy,
    interval_hierarchy,
    prefix_hierarchy,
    read_csv_hierarchy,
    suppression_hierarchy,
)

LOSSES = ("lm", "precision", "entropy", "discernibility")
SUPPRESSION = ("records", "cells")
DEFAULTS = {"k": 5, "l": 2, "suppression_cap": 0.05, "risk_ceiling": 0.03}
_KEYS = {
    "identifiers",
    "quasi_identifiers",
    "sensitive",
    "weight",
    "k",
    "l",
    "entropy_l",
    "suppression_cap",
    "suppression",
    "risk_ceiling",
    "loss",
    "read",
}
_QI_KEYS = {"hierarchy", "intervals", "start", "prefix"}


@dataclass
class QuasiIdentifier:
    column: str
    hierarchy: str | None = None  # CSV path (resolved)
    intervals: list[float] | None = None
    start: float = 0
    prefix: list[int] | None = None

    def build(self, values: pd.Series) -> Hierarchy:
        """The hierarchy over this column's values (interval and prefix hierarchies are built from the data)."""
        if self.hierarchy:
            h = read_csv_hierarchy(self.hierarchy, self.column)
        elif self.intervals:
            h = interval_hierarchy(self.column, values, self.intervals, self.start)
        elif self.prefix:
            h = prefix_hierarchy(self.column, values, self.prefix)
        else:
            h = suppression_hierarchy(self.column, values)
        if (values.astype(str) == MISSING).any():
            h = h.with_missing()
        return h


@dataclass
class Spec:
    quasi_identifiers: list[QuasiIdentifier]
    identifiers: list[str] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)
    weight: str | None = None
    k: int = DEFAULTS["k"]  # type: ignore[assignment]
    l: int = DEFAULTS["l"]  # type: ignore[assignment]  # noqa: E741
    entropy_l: bool = False
    suppression_cap: float = DEFAULTS["suppression_cap"]
    suppression: str = "records"
    risk_ceiling: float | None = DEFAULTS["risk_ceiling"]
    loss: str = "lm"
    read: dict[str, Any] = field(default_factory=dict)
    source: str = "spec"

    @property
    def qi_names(self) -> list[str]:
        return [q.column for q in self.quasi_identifiers]

    def check(self) -> None:
        where = self.source
        if not self.quasi_identifiers:
            raise DisclosureError(f"{where}: declare at least one quasi-identifier")
        if self.k < 1:
            raise DisclosureError(f"{where}: k must be at least 1, got {self.k}")
        if self.l < 1:
            raise DisclosureError(f"{where}: l must be at least 1, got {self.l}")
        if not 0 <= self.suppression_cap <= 1:
            raise DisclosureError(f"{where}: suppression_cap is a share of records, 0 to 1; got {self.suppression_cap}")
        if self.risk_ceiling is not None and not 0 < self.risk_ceiling <= 1:
            raise DisclosureError(f"{where}: risk_ceiling is a share, above 0 and at most 1; got {self.risk_ceiling}")
        if self.suppression not in SUPPRESSION:
            raise DisclosureError(f"{where}: suppression is one of {', '.join(SUPPRESSION)}, not {self.suppression!r}")
        if self.loss not in LOSSES:
            raise DisclosureError(f"{where}: loss is one of {', '.join(LOSSES)}, not {self.loss!r}")
        names = self.qi_names
        if len(set(names)) != len(names):
            raise DisclosureError(f"{where}: a quasi-identifier is declared twice")
        both = set(names) & set(self.sensitive)
        if both:
            raise DisclosureError(f"{where}: {sorted(both)} cannot be both quasi-identifier and sensitive")

    def check_columns(self, columns: list[str], file: str) -> None:
        """Every declared column must be in the data; the message lists what the file has."""
        wanted = [*self.qi_names, *self.sensitive, *([self.weight] if self.weight else [])]
        missing = [c for c in wanted if c not in columns]
        if missing:
            raise DisclosureError(
                f"{file}: column(s) {', '.join(map(repr, missing))} declared in {self.source} are not in the file; "
                f"it has {', '.join(map(repr, columns))}"
            )


def spec_from_dict(
    data: Mapping[str, Any], base: Path | None = None, defaults: Mapping[str, Any] | None = None
) -> Spec:
    """A spec from parsed YAML; relative hierarchy paths are resolved against ``base``."""
    source = str(data.get("__source__", "spec"))
    unknown = set(data) - _KEYS - {"__source__"}
    if unknown:
        raise DisclosureError(f"{source}: unknown key(s) {sorted(unknown)}; expected some of {sorted(_KEYS)}")
    qis_raw = data.get("quasi_identifiers")
    if isinstance(qis_raw, list):  # a plain list: kept or suppressed
        qis_raw = {str(c): {} for c in qis_raw}
    if not isinstance(qis_raw, Mapping) or not qis_raw:
        raise DisclosureError(f"{source}: quasi_identifiers must map each column to its hierarchy (or {{}})")
    qis = []
    for column, decl in qis_raw.items():
        decl = decl or {}
        if not isinstance(decl, Mapping):
            raise DisclosureError(
                f"{source}: quasi-identifier {column!r}: expected a mapping like {{intervals: [5, 10]}}"
            )
        bad = set(decl) - _QI_KEYS
        if bad:
            raise DisclosureError(
                f"{source}: quasi-identifier {column!r}: unknown key(s) {sorted(bad)}; "
                f"expected one of {sorted(_QI_KEYS)}"
            )
        if sum(k in decl for k in ("hierarchy", "intervals", "prefix")) > 1:
            raise DisclosureError(f"{source}: quasi-identifier {column!r}: give one of hierarchy, intervals or prefix")
        path = decl.get("hierarchy")
        if path is not None:
            p = Path(str(path))
            path = str(p if p.is_absolute() or base is None else base / p)
        qis.append(
            QuasiIdentifier(
                str(column),
                hierarchy=path,
                intervals=[float(w) for w in decl["intervals"]] if "intervals" in decl else None,
                start=float(decl.get("start", 0)),
                prefix=[int(n) for n in decl["prefix"]] if "prefix" in decl else None,
            )
        )
    merged = {**DEFAULTS, **(defaults or {})}
    try:
        spec = Spec(
            quasi_identifiers=qis,
            identifiers=[str(c) for c in data.get("identifiers") or []],
            sensitive=[str(c) for c in data.get("sensitive") or []],
            weight=str(data["weight"]) if data.get("weight") else None,
            k=int(data.get("k", merged["k"])),
            l=int(data.get("l", merged["l"])),
            entropy_l=bool(data.get("entropy_l", False)),
            suppression_cap=float(data.get("suppression_cap", merged["suppression_cap"])),
            suppression=str(data.get("suppression", "records")),
            risk_ceiling=_optional_float(data["risk_ceiling"] if "risk_ceiling" in data else merged["risk_ceiling"]),
            loss=str(data.get("loss", "lm")),
            read=dict(data.get("read") or {}),
            source=source,
        )
    except (TypeError, ValueError) as exc:
        raise DisclosureError(f"{source}: {exc}") from None
    spec.check()
    return spec


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def load_spec(path: str | Path, defaults: Mapping[str, Any] | None = None) -> Spec:
    """Read a spec file; ``defaults`` (k, l, suppression_cap, risk_ceiling) usually come from the settings."""
    p = Path(path)
    if not p.is_file():
        raise DisclosureError(f"spec file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DisclosureError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise DisclosureError(f"{p}: expected a mapping with quasi_identifiers, k, l, ...")
    return spec_from_dict({**data, "__source__": str(p)}, base=p.parent, defaults=defaults)


def settings_defaults(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The spec defaults from the ``disclosure_*`` settings (when they are declared)."""
    out: dict[str, Any] = {}
    for key in DEFAULTS:
        name = f"disclosure_{key}"
        if name in settings:
            value = settings[name]
            out[key] = None if key == "risk_ceiling" and value in (0, None) else value
    return out


def read_data(path: str | Path, spec: Spec) -> pd.DataFrame:
    """The file as text cells (empty for missing), with direct identifiers dropped; CSV or Parquet."""
    p = Path(path)
    if not p.is_file():
        raise DisclosureError(f"data file not found: {p}")
    try:
        if p.suffix.lower() == ".parquet":
            df = pd.read_parquet(p).astype("string").fillna(MISSING).astype(object)
        else:
            options = {"skipinitialspace": True, **spec.read}
            df = pd.read_csv(p, dtype=str, keep_default_na=False, **options)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DisclosureError(
            f"{p}: cannot read it as {'Parquet' if p.suffix == '.parquet' else 'CSV'}: {exc}"
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    absent = [c for c in spec.identifiers if c not in df.columns]
    if absent:
        raise DisclosureError(f"{p}: identifier column(s) {absent} declared in {spec.source} are not in the file")
    df = df.drop(columns=spec.identifiers)
    spec.check_columns(list(df.columns), str(p))
    for c in [*spec.qi_names, *spec.sensitive]:
        df[c] = df[c].astype(str).str.strip()
    return df
