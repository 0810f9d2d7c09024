"""The rule parameters: Flee 3's names and defaults, read from Flee's simsetting.yml, and onthemove's rule sets.

``Rules()`` holds Flee 3.1's built-in defaults (``flee/SimulationSettings.py``); ``Rules.from_flee_yaml`` reads a
simsetting.yml the way Flee does (keys it does not read, such as ``sum_from_camps`` or ``capacity_scaling``,
are listed in ``ignored`` and have no effect, as in Flee 3.1). ``FLEE3`` is Flee's default Flee 3 rule set
(``rulesets/simsetting.yml``). ``ONTHEMOVE`` is onthemove's rule set (docs/simulate.md says how it was chosen).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SQRT_TEN = 3.16227766017  # Flee's constant

FLEE_MOVE_KEYS = {
    "max_move_speed": "max_move_speed",
    "max_walk_speed": "max_walk_speed",
    "foreign_weight": "foreign_weight",
    "camp_weight": "camp_weight",
    "conflict_weight": "conflict_weight",
    "conflict_movechance": "conflict_movechance",
    "camp_movechance": "camp_movechance",
    "idpcamp_movechance": "idpcamp_movechance",
    "default_movechance": "default_movechance",
    "awareness_level": "awareness_level",
    "capacity_buffer": "capacity_buffer",
    "avoid_short_stints": "avoid_short_stints",
    "start_on_foot": "start_on_foot",
    "softening": "softening",
    "weight_softening": "weight_softening",
    "weight_power": "weight_power",
    "distance_power": "distance_power",
    "movechance_pop_base": "movechance_pop_base",
    "movechance_pop_scale_factor": "movechance_pop_scale_factor",
}


@dataclass(frozen=True)
class Rules:
    """Movement and spawning rules. Defaults are Flee 3.1's when no simsetting.yml says otherwise."""

    # move rules (Flee names)
    max_move_speed: float = 360.0
    max_walk_speed: float = 35.0
    foreign_weight: float = 1.0
    camp_weight: float = 1.0
    conflict_weight: float = 1.0 / SQRT_TEN
    conflict_movechance: float = 1.0
    camp_movechance: float = 0.001
    idpcamp_movechance: float = 0.1
    default_movechance: float = 0.3
    awareness_level: int = 1
    capacity_buffer: float = 0.9
    avoid_short_stints: bool = False
    start_on_foot: bool = False
    softening: float = 10.0
    weight_softening: float = 0.0
    weight_power: float = 1.0
    distance_power: float = 1.0
    movechance_pop_base: float = 10000.0
    movechance_pop_scale_factor: float = 0.0
    # spawn rules
    conflict_spawn_decay: tuple[float, ...] | None = None
    conflict_spawn_decay_interval: int = 30  # Flee 3.1 hard-codes 30 days whatever the file says
    take_from_population: bool = False
    insert_day0: bool = True
    conflict_driven_spawning: bool = False
    conflict_spawn_mode: str = "constant"  # constant, pop_ratio, poisson
    displaced_per_conflict_day: float = 500.0
    # onthemove extensions; the defaults are Flee's behaviour
    spawn_from: str = "total"  # total (Flee 3.1: refugees.csv) or camps (sum of the camp series)
    spawn_around_closed: bool = False  # new people of a location nobody can leave start at its neighbours
    spawn_lead: int = 0  # days between leaving and being counted: day t adds the increase of day t + lead
    # where the values came from (a file, a rule set, a calibration); saved with every run
    source: str = "flee 3.1 defaults"
    ignored: tuple[str, ...] = field(default=())

    def replace(self, **changes: Any) -> Rules:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["conflict_spawn_decay"] = list(self.conflict_spawn_decay) if self.conflict_spawn_decay else None
        d["ignored"] = list(self.ignored)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rules:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown rule parameters: {', '.join(unknown)}")
        values = dict(data)
        if values.get("conflict_spawn_decay") is not None:
            values["conflict_spawn_decay"] = tuple(float(x) for x in values["conflict_spawn_decay"])
        if "ignored" in values:
            values["ignored"] = tuple(values["ignored"])
        return cls(**values).checked()

    def checked(self) -> Rules:
        for name in (
            "max_move_speed",
            "max_walk_speed",
            "softening",
        ):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"rule {name} must be a positive number, not {v!r}")
        for name in (
            "foreign_weight",
            "camp_weight",
            "conflict_weight",
            "weight_softening",
            "weight_power",
            "distance_power",
            "movechance_pop_base",
        ):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise ValueError(f"rule {name} must be a number >= 0, not {v!r}")
        for name in ("conflict_movechance", "camp_movechance", "idpcamp_movechance", "default_movechance"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and 0 <= v <= 1):
                raise ValueError(f"rule {name} must be a probability (0 to 1), not {v!r}")
        if not 0 <= self.capacity_buffer < 1:
            raise ValueError(f"rule capacity_buffer must be in [0, 1), not {self.capacity_buffer!r}")
        if self.awareness_level not in (0, 1, 2, 3, 4):
            raise ValueError(f"rule awareness_level must be 0 to 4, not {self.awareness_level!r}")
        if not (isinstance(self.spawn_lead, int) and 0 <= self.spawn_lead <= 365):
            raise ValueError(f"rule spawn_lead must be 0 to 365 days, not {self.spawn_lead!r}")
        if self.spawn_from not in ("total", "camps"):
            raise ValueError(f"rule spawn_from must be total or camps, not {self.spawn_from!r}")
        if self.conflict_spawn_mode.lower() not in ("constant", "pop_ratio", "poisson"):
            raise ValueError(f"spawn mode must be constant, pop_ratio or poisson, not {self.conflict_spawn_mode!r}")
        return self

    @classmethod
    def from_flee_yaml(cls, path: Path | str) -> Rules:
        """Read Flee's simsetting.yml as Flee 3.1's ``SimulationSettings.ReadFromYML`` does."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a mapping of sections (move_rules, spawn_rules, ...) is expected")
        values: dict[str, Any] = {}
        ignored: list[str] = []
        move = data.get("move_rules") or {}
        for key, val in move.items():
            if key in FLEE_MOVE_KEYS:
                values[FLEE_MOVE_KEYS[key]] = val
            else:
                ignored.append(f"move_rules.{key}")
        spawn = data.get("spawn_rules") or {}
        for key, val in spawn.items():
            if key == "conflict_spawn_decay":
                values["conflict_spawn_decay"] = tuple(float(x) for x in val) if val else None
            elif key == "take_from_population":
                values["take_from_population"] = bool(val)
            elif key == "insert_day0":
                values["insert_day0"] = bool(val)
            elif key == "conflict_driven_spawning" and val is not None:
                values["conflict_driven_spawning"] = True
                mode = str(val.get("spawn_mode", "constant"))
                values["conflict_spawn_mode"] = mode
                default = 0.01 if mode == "pop_ratio" else 500
                values["displaced_per_conflict_day"] = float(val.get("displaced_per_conflict_day", default))
            else:
                ignored.append(f"spawn_rules.{key}")
        for section in data:
            if section not in ("move_rules", "spawn_rules", "log_levels", "optimisations"):
                ignored.append(str(section))
        hasten = (data.get("optimisations") or {}).get("hasten", 1)
        if int(hasten) != 1:
            ignored.append("optimisations.hasten (populations are never scaled down here)")
        if move.get("use_v1_rules"):
            values.update(
                max_move_speed=200.0,
                start_on_foot=False,
                avoid_short_stints=False,
                camp_weight=2.0,
                conflict_weight=0.25,
            )
        for key in ("avoid_short_stints", "start_on_foot"):
            if key in values:
                values[key] = bool(values[key])
        if "awareness_level" in values:
            values["awareness_level"] = int(values["awareness_level"])
        for key, val in list(values.items()):
            numeric = isinstance(val, int | float) and not isinstance(val, bool)
            if numeric and key not in ("avoid_short_stints", "start_on_foot", "awareness_level"):
                values[key] = float(val)
        values["source"] = str(path)
        values["ignored"] = tuple(ignored)
        return cls.from_dict(values)


# Flee's default Flee 3 rule set, rulesets/simsetting.yml (as read by Flee 3.1)
FLEE3 = Rules(
    max_move_speed=200.0,
    camp_weight=2.0,
    softening=10.0,
    default_movechance=0.5,
    start_on_foot=True,
    avoid_short_stints=True,
    distance_power=1.0,
    camp_movechance=0.001,
    conflict_spawn_decay=(1.0, 1.0, 1.0, 0.5, 0.1),
    source="flee 3 rule set (rulesets/simsetting.yml)",
    ignored=("spawn_rules.sum_from_camps", "spawn_rules.conflict_spawn_decay_interval",
             "spawn_rules.empty_camps_on_day0", "move_rules.capacity_scaling"),
)  # fmt: skip

# onthemove's rule set, one for every conflict (docs/simulate.md): Flee 3's, plus three changes
#  - max_move_speed 360 km/day, Flee's own built-in default (30 km/h for 12 hours) instead of the rule set's 200;
#  - spawn_lead 30: a person counted in a camp on day t + 30 left on day t (the totals count registrations);
#  - spawn_around_closed: the new people of a location nobody can leave start at its neighbours.
ONTHEMOVE = FLEE3.replace(
    max_move_speed=360.0,
    spawn_lead=30,
    spawn_around_closed=True,
    source="onthemove rule set 1 (Flee 3 + max_move_speed 360, spawn_lead 30, spawn_around_closed)",
)


RULESETS = {"flee3": FLEE3, "onthemove": ONTHEMOVE, "flee-defaults": Rules()}


def load_rules(spec: str | Path | None) -> Rules:
    """A rule set by name (flee3, onthemove, flee-defaults), or a file: Flee's simsetting.yml, or onthemove's
    YAML (``rules: {camp_weight: 2.0, ...}`` plus an optional ``base:`` rule set name)."""
    if spec is None:
        return ONTHEMOVE
    if str(spec) in RULESETS:
        return RULESETS[str(spec)]
    path = Path(spec)
    if not path.exists():
        raise ValueError(f"{spec}: no such rule set ({', '.join(RULESETS)}) or file")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if isinstance(data, dict) and "rules" in data:
        base = RULESETS.get(str(data.get("base", "onthemove")))
        if base is None:
            raise ValueError(f"{path}: base must be one of {', '.join(RULESETS)}")
        params = dict(data["rules"] or {})
        merged = {**base.to_dict(), **params, "source": str(path)}
        return Rules.from_dict(merged)
    return Rules.from_flee_yaml(path)
