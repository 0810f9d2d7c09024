"""Plan specs for ``onthemove allocate``: budget, packages, stock, site capacity, access and minimum rules.

The YAML format is in ``allocate.py``'s docstring and, at length, in ``docs/needs.md``. Every error names the file
and the key, and says what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

PHASES = (1, 2, 3, 4, 5)


class PlanError(ValueError):
    """A plan spec is not usable, or the plan cannot be made; the message says where and why."""


# ------------------------------------------------------------------------------------------------------ the spec


@dataclass(frozen=True)
class Package:
    name: str
    sector: str
    unit_cost: float
    people_per_unit: float = 1.0
    stock: float | None = None  # units available (None: no limit)
    max_per_site: float | None = None  # units one site can receive of this package
    unit: str = "unit"


@dataclass(frozen=True)
class CoverageRule:
    """Every reachable (site, package) whose sector is at ``severity`` or worse gets ``share`` of its need."""

    severity: int
    share: float
    packages: tuple[str, ...] = ()  # empty: all packages

    def describe(self) -> str:
        which = ", ".join(self.packages) if self.packages else "every package"
        return f"min_coverage: {self.share:.0%} of the need at severity >= {self.severity} ({which})"


@dataclass(frozen=True)
class BudgetRule:
    """At least ``share`` of the budget goes to each area at ``per`` level, or to ``place`` (and inside it),
    or the cost of all the need there when that is less."""

    share: float
    per: str | None = None  # adm1 | adm2
    place: str | None = None

    def describe(self) -> str:
        where = f"each {self.per} area" if self.per else self.place
        return f"min_budget: {self.share:.0%} of the budget in {where}"


@dataclass(frozen=True)
class PlanSpec:
    name: str
    budget: float
    packages: tuple[Package, ...]
    currency: str = "USD"
    integer: bool = True
    mip_gap: float = 1e-4
    time_limit: float = 60.0
    weights: Mapping[int, float] = field(default_factory=dict)  # phase -> weight per person; empty: the phase
    capacity_default: float | None = None
    capacity_sites: Mapping[str, float] = field(default_factory=dict)
    unreachable_sites: tuple[str, ...] = ()
    unreachable_places: tuple[str, ...] = ()
    coverage_rules: tuple[CoverageRule, ...] = ()
    budget_rules: tuple[BudgetRule, ...] = ()
    needs_rules: Path | None = None
    source: str = ""

    def weight(self, phase: np.ndarray) -> np.ndarray:
        phase = np.asarray(phase, dtype=float)
        if not self.weights:
            return phase
        out = np.zeros(phase.shape)
        for p, w in self.weights.items():
            out[phase == p] = w
        return out


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, expected: str) -> PlanError:
        where = f"{self.source}: " if self.source else ""
        return PlanError(f"{where}{key}: {expected}")

    def mapping(self, value: Any, key: str, allowed: Sequence[Any], required: Sequence[str] = ()) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a mapping with {', '.join(map(str, allowed))}, got {value!r}")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise self.fail(
                f"{key}.{unknown[0]}".lstrip("."), f"unknown key; expected one of {', '.join(map(str, allowed))}"
            )
        for k in required:
            if value.get(k) is None:
                raise self.fail(f"{key}.{k}".lstrip("."), "missing")
        return dict(value)

    def number(self, value: Any, key: str, *, positive: bool = False, minimum: float = 0.0) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(key, f"expected a number, got {value!r}")
        if positive and value <= 0:
            raise self.fail(key, f"expected a number above 0, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"expected a number of at least {minimum:g}, got {value!r}")
        return float(value)

    def optional(self, value: Any, key: str) -> float | None:
        return None if value is None else self.number(value, key)

    def share(self, value: Any, key: str) -> float:
        x = self.number(value, key)
        if not 0 <= x <= 1:
            raise self.fail(key, f"expected a share between 0 and 1 (0.1 = 10%), got {value!r}")
        return x

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise self.fail(key, f"expected a list of codes, got {value!r}")
        return tuple(str(v) for v in value)


def parse_plan(data: Any, source: str = "", base: Path | None = None) -> PlanSpec:
    """A plan spec from parsed YAML; errors name the file and the key."""
    p = _Parser(source)
    top = (
        "name",
        "description",
        "currency",
        "budget",
        "needs_rules",
        "solver",
        "weights",
        "packages",
        "site_capacity",
        "unreachable",
        "rules",
    )
    spec = p.mapping(data, "", top, ("budget", "packages"))
    budget = p.number(spec["budget"], "budget")
    raw_packages = spec["packages"]
    if not isinstance(raw_packages, list) or not raw_packages:
        raise p.fail("packages", "expected a list of packages (name, sector, unit_cost, ...)")
    packages: list[Package] = []
    for i, item in enumerate(raw_packages):
        key = f"packages[{i}]"
        body = p.mapping(
            item,
            key,
            ("name", "sector", "unit_cost", "people_per_unit", "stock", "max_per_site", "unit", "description"),
            ("name", "sector", "unit_cost"),
        )
        name = str(body["name"])
        if name in {x.name for x in packages}:
            raise p.fail(f"{key}.name", f"another package is named {name!r}")
        packages.append(
            Package(
                name=name,
                sector=str(body["sector"]),
                unit_cost=p.number(body["unit_cost"], f"{key}.unit_cost", positive=True),
                people_per_unit=p.number(body.get("people_per_unit", 1), f"{key}.people_per_unit", positive=True),
                stock=p.optional(body.get("stock"), f"{key}.stock"),
                max_per_site=p.optional(body.get("max_per_site"), f"{key}.max_per_site"),
                unit=str(body.get("unit") or "unit"),
            )
        )
    names = {x.name for x in packages}
    solver = p.mapping(spec.get("solver") or {}, "solver", ("integer", "mip_gap", "time_limit"))
    integer = solver.get("integer", True)
    if not isinstance(integer, bool):
        raise p.fail("solver.integer", f"expected true (MIP, whole units) or false (LP), got {integer!r}")
    weights: dict[int, float] = {}
    for phase, w in (p.mapping(spec.get("weights") or {}, "weights", [*map(str, PHASES), *PHASES])).items():
        weights[int(phase)] = p.number(w, f"weights.{phase}")
    cap = p.mapping(spec.get("site_capacity") or {}, "site_capacity", ("default", "sites"))
    cap_sites = p.mapping(cap.get("sites") or {}, "site_capacity.sites", [str(k) for k in (cap.get("sites") or {})])
    unreachable = p.mapping(spec.get("unreachable") or {}, "unreachable", ("sites", "places"))
    coverage: list[CoverageRule] = []
    budget_rules: list[BudgetRule] = []
    raw_rules = spec.get("rules") or []
    if not isinstance(raw_rules, list):
        raise p.fail("rules", "expected a list of rules (min_coverage: {...} or min_budget: {...})")
    for i, item in enumerate(raw_rules):
        key = f"rules[{i}]"
        if not isinstance(item, Mapping) or len(item) != 1:
            raise p.fail(
                key, "expected one of min_coverage: {severity, share, packages} or min_budget: {share, per|place}"
            )
        kind, body = next(iter(item.items()))
        if kind == "min_coverage":
            b = p.mapping(body, f"{key}.min_coverage", ("severity", "share", "packages"), ("severity", "share"))
            sev = b["severity"]
            if sev not in PHASES:
                raise p.fail(f"{key}.min_coverage.severity", f"expected a severity phase 1-5, got {sev!r}")
            which = p.names(b.get("packages"), f"{key}.min_coverage.packages")
            unknown = [x for x in which if x not in names]
            if unknown:
                raise p.fail(
                    f"{key}.min_coverage.packages",
                    f"no package named {unknown[0]!r}; the plan has {', '.join(sorted(names))}",
                )
            coverage.append(CoverageRule(int(sev), p.share(b["share"], f"{key}.min_coverage.share"), which))
        elif kind == "min_budget":
            b = p.mapping(body, f"{key}.min_budget", ("share", "per", "place"), ("share",))
            if (b.get("per") is None) == (b.get("place") is None):
                raise p.fail(f"{key}.min_budget", "give exactly one of per: adm1|adm2 or place: P-code")
            if b.get("per") is not None and b["per"] not in ("adm1", "adm2"):
                raise p.fail(f"{key}.min_budget.per", f"expected adm1 or adm2, got {b['per']!r}")
            budget_rules.append(
                BudgetRule(
                    p.share(b["share"], f"{key}.min_budget.share"),
                    per=b.get("per"),
                    place=str(b["place"]).upper() if b.get("place") is not None else None,
                )
            )
        else:
            raise p.fail(key, f"unknown rule {kind!r}; expected min_coverage or min_budget")
    rules_path = spec.get("needs_rules")
    if rules_path is not None and not isinstance(rules_path, str):
        raise p.fail("needs_rules", f"expected a file name, got {rules_path!r}")
    return PlanSpec(
        name=str(spec.get("name") or (Path(source).stem if source else "plan")),
        budget=budget,
        packages=tuple(packages),
        currency=str(spec.get("currency") or "USD"),
        integer=integer,
        mip_gap=p.number(solver.get("mip_gap", 1e-4), "solver.mip_gap"),
        time_limit=p.number(solver.get("time_limit", 60), "solver.time_limit", positive=True),
        weights=weights,
        capacity_default=p.optional(cap.get("default"), "site_capacity.default"),
        capacity_sites={str(k): p.number(v, f"site_capacity.sites.{k}") for k, v in cap_sites.items()},
        unreachable_sites=p.names(unreachable.get("sites"), "unreachable.sites"),
        unreachable_places=tuple(x.upper() for x in p.names(unreachable.get("places"), "unreachable.places")),
        coverage_rules=tuple(coverage),
        budget_rules=tuple(budget_rules),
        needs_rules=((base or Path(".")) / rules_path) if rules_path else None,
        source=source,
    )


def load_plan(path: str | Path) -> PlanSpec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read plan file {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"{path.name}: not valid YAML: {exc}") from None
    return parse_plan(data, source=path.name, base=path.parent)
