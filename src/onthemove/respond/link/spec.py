"""Linkage specs: which columns, how each is compared, how pairs are blocked, and the thresholds (YAML).

```yaml
id: record_id                 # the column that names a record (default: the row number)
fields:                       # column: type (name, date, text, digits, phone, category, email)
  first_name: name
  father_name: name
  dob: {type: date, order: dmy}
  phone: phone
  sex: category
swap: [[first_name, father_name]]   # name parts that lists write in either order
comparisons:                  # default: one per field, kind = its type
  - first_name                # a field name, or {field:, kind:, tf:, levels:}
  - {field: dob, kind: date}
  - {name: family, joint: [father_name, phone, site]}   # fields that agree together (siblings share them)
blocking:                     # a pair is compared when it agrees on every key of at least one rule
  - [first_name.key, father_name.key]
  - [dob, sex]
  - [phone]
training: [...]               # rules for the EM sessions (default: the blocking rules)
threshold: 0.9                # match probability at which a pair is a link
review: 0.5                   # pairs from here up to the threshold go to clerical review
```

A key is ``field`` (its cleaned value) or ``field.part``: ``key`` and ``ph`` (names), ``year``, ``month``, ``day``
(dates), ``first2``, ``first3``, ``last4`` (any text); ``a = b`` compares ``a`` on one side with ``b`` on the
other (a rule with such an item also runs mirrored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TYPES = ("name", "date", "text", "digits", "phone", "category", "email", "bloom")
KINDS = ("name", "date", "text", "digits", "phone", "category", "email", "dice", "joint")
PARTS = {
    "name": ("key", "ph", "first2", "first3", "last4"),
    "date": ("year", "month", "day", "ym"),
    "text": ("first2", "first3", "last4"),
    "digits": ("first2", "first3", "last4"),
    "phone": ("last4",),
    "category": (),
    "email": ("user",),
    "bloom": (),
}
# blocking keys that become a column of their own (``f__<suffix>``); the others are SQL on the cleaned value
PART_COLUMNS = {"key": "key", "ph": "ph", "year": "y", "month": "m", "day": "d", "ym": "ym", "user": "user"}


class SpecError(ValueError):
    """A linkage spec that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    order: str = "ymd"  # dates written d/m/y or m/d/y


@dataclass(frozen=True)
class Comparison:
    name: str
    field: str
    kind: str
    tf: bool = False
    others: tuple[str, ...] = ()  # name parts the field may be swapped with
    levels: tuple[float, ...] = ()  # similarity thresholds (Jaro-Winkler or Dice), best first
    members: tuple[str, ...] = ()  # a joint comparison: the fields whose agreement pattern is its level

    @property
    def fields(self) -> tuple[str, ...]:
        return self.members or (self.field,)


@dataclass(frozen=True)
class Key:
    left: str  # SQL on the left record: ``{t}`` stands for the table alias with its dot
    right: str  # SQL on the right record
    fields: tuple[str, ...]  # the fields it reads (an EM session keeps their comparisons fixed)


@dataclass(frozen=True)
class Rule:
    keys: tuple[Key, ...]
    text: str

    @property
    def fields(self) -> set[str]:
        return {f for k in self.keys for f in k.fields}


@dataclass
class Spec:
    fields: list[Field]
    comparisons: list[Comparison]
    blocking: list[Rule]
    training: list[Rule]
    id: str | None = None
    threshold: float = 0.9
    review: float = 0.5
    swap: list[tuple[str, ...]] = field(default_factory=list)
    u_pairs: int = 1_000_000
    training_sample: float = 1.0
    max_pairs: int = 500_000_000
    seed: int = 42
    lsh: dict[str, tuple[int, int]] = field(default_factory=dict)  # bloom field -> (bands, rows; 0 = auto)
    source: str = "spec"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise SpecError(f"{self.source}: no field {name!r}")

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


_DEFAULT_KIND = {"bloom": "dice"}
_DEFAULT_TF = {"name": True}


def _err(source: str, message: str) -> SpecError:
    return SpecError(f"{source}: {message}")


def _key(item: str, fields: dict[str, Field], source: str) -> Key:
    if "=" in item:
        left, right = (s.strip() for s in item.split("=", 1))
        a, b = _key(left, fields, source), _key(right, fields, source)
        return Key(a.left, b.right, a.fields + b.fields)
    name, _, part = item.strip().partition(".")
    if name not in fields:
        raise _err(source, f"blocking key {item!r}: no field {name!r} (fields: {', '.join(fields)})")
    kind = fields[name].type
    if part and part not in PARTS[kind]:
        allowed = ", ".join(PARTS[kind]) or "none"
        raise _err(source, f"blocking key {item!r}: a {kind} field has no part {part!r} (parts: {allowed})")
    if kind == "bloom":
        raise _err(source, f"blocking key {item!r}: encodings are blocked by LSH bands, not by value")
    if not part:
        col = "{t}" + (name if kind != "date" else f"{name}__iso")
        return Key(col, col, (name,))
    if part in PART_COLUMNS:
        col = "{t}" + f"{name}__{PART_COLUMNS[part]}"
        return Key(col, col, (name,))
    expr = {"first2": "substr({t}%s, 1, 2)", "first3": "substr({t}%s, 1, 3)", "last4": "right({t}%s, 4)"}[part]
    return Key(expr % name, expr % name, (name,))


def parse_rule(entry: Any, fields: dict[str, Field], source: str) -> Rule:
    items = [entry] if isinstance(entry, str) else entry
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise _err(source, f"a blocking rule is a key or a list of keys, not {entry!r}")
    return Rule(tuple(_key(i, fields, source) for i in items), " & ".join(items))


def _field(name: str, value: Any, source: str) -> Field:
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, dict) or "type" not in value:
        raise _err(source, f"field {name!r}: give a type ({', '.join(TYPES)})")
    kind = value["type"]
    if kind not in TYPES:
        raise _err(source, f"field {name!r}: unknown type {kind!r} (types: {', '.join(TYPES)})")
    order = str(value.get("order", "ymd"))
    if order not in ("ymd", "dmy", "mdy"):
        raise _err(source, f"field {name!r}: order is ymd, dmy or mdy, not {order!r}")
    return Field(name, kind, order)


def _comparison(entry: Any, fields: dict[str, Field], swap: list[tuple[str, ...]], source: str) -> Comparison:
    if isinstance(entry, str):
        entry = {"field": entry}
    if isinstance(entry, dict) and "joint" in entry:
        members = entry["joint"]
        if not isinstance(members, list) or len(members) < 2 or len(members) > 6:
            raise _err(source, f"joint comparison {entry.get('name')!r}: list two to six fields")
        for name in members:
            if name not in fields or fields[name].type == "bloom":
                raise _err(source, f"joint comparison {entry.get('name')!r}: no plain field {name!r}")
        label = str(entry.get("name", "_".join(members)))
        return Comparison(label, members[0], "joint", members=tuple(members))
    if not isinstance(entry, dict) or "field" not in entry:
        raise _err(source, f"a comparison is a field name or {{field: ..., kind: ...}}, not {entry!r}")
    name = entry["field"]
    if name not in fields:
        raise _err(source, f"comparison on {name!r}: no such field (fields: {', '.join(fields)})")
    ftype = fields[name].type
    kind = entry.get("kind", _DEFAULT_KIND.get(ftype, ftype))
    if kind not in KINDS:
        raise _err(source, f"comparison on {name!r}: unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
    others = tuple(o for group in swap if name in group for o in group if o != name)
    levels = tuple(float(x) for x in entry.get("levels", ()))
    if any(not 0 < x <= 1 for x in levels) or list(levels) != sorted(levels, reverse=True):
        raise _err(source, f"comparison on {name!r}: levels are similarities in (0, 1], best first")
    return Comparison(
        str(entry.get("name", name)), name, kind, bool(entry.get("tf", _DEFAULT_TF.get(kind, False))), others, levels
    )


def from_dict(data: dict[str, Any], source: str = "spec") -> Spec:
    if not isinstance(data, dict):
        raise _err(source, "a linkage spec is a mapping (id, fields, comparisons, blocking, threshold, review)")
    unknown = set(data) - {
        "id",
        "fields",
        "comparisons",
        "blocking",
        "training",
        "threshold",
        "review",
        "swap",
        "u_pairs",
        "training_sample",
        "max_pairs",
        "seed",
        "lsh",
    }
    if unknown:
        raise _err(source, f"unknown entries {', '.join(sorted(unknown))}")
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise _err(source, "fields: map each column to its type, e.g. {first_name: name, dob: date}")
    fields = {str(k): _field(str(k), v, source) for k, v in raw_fields.items()}
    swap = [tuple(g) for g in data.get("swap", [])]
    for group in swap:
        for name in group:
            if name not in fields or fields[name].type != "name":
                raise _err(source, f"swap: {name!r} is not a name field")
    comparisons = [_comparison(c, fields, swap, source) for c in data.get("comparisons", list(fields))]
    if not comparisons:
        raise _err(source, "comparisons: at least one")
    blocking = [parse_rule(r, fields, source) for r in data.get("blocking", [])]
    blooms = [f for f in fields.values() if f.type == "bloom"]
    raw_lsh = data.get("lsh", {} if blocking else {f.name: "auto" for f in blooms})
    if not isinstance(raw_lsh, dict):
        raise _err(source, "lsh: map each encoding field to {bands: 16, rows: auto}")
    lsh: dict[str, tuple[int, int]] = {}
    for name, value in raw_lsh.items():
        if name not in fields or fields[name].type != "bloom":
            raise _err(source, f"lsh: {name!r} is not a bloom field")
        value = {} if value in (None, "auto") else value
        bands, rows = int(value.get("bands", 16)), value.get("rows", "auto")
        rows = 0 if rows == "auto" else int(rows)
        if not 1 <= bands <= 256 or not 0 <= rows <= 62:
            raise _err(source, f"lsh: {name!r}: bands 1..256 and rows 1..62 (or auto)")
        lsh[name] = (bands, rows)
    lsh_rules = {
        name: [
            Rule((Key("{t}" + f"{name}__b{b}", "{t}" + f"{name}__b{b}", (name,)),), f"{name} band {b}")
            for b in range(bands)
        ]
        for name, (bands, _) in lsh.items()
    }
    if not blocking and not lsh:
        raise _err(source, "blocking: at least one rule (a list of keys), e.g. [[surname.ph, dob.year]]")
    if "training" in data:
        training = [parse_rule(r, fields, source) for r in data["training"]]
    else:
        training = list(blocking) + [r for rules in lsh_rules.values() for r in rules[:2]]
    blocking += [r for rules in lsh_rules.values() for r in rules]
    threshold = float(data.get("threshold", 0.9))
    review = float(data.get("review", min(0.5, threshold)))
    if not 0 < review <= threshold < 1:
        raise _err(source, f"need 0 < review ({review}) <= threshold ({threshold}) < 1")
    return Spec(
        fields=list(fields.values()),
        comparisons=comparisons,
        blocking=blocking,
        training=training,
        id=data.get("id"),
        threshold=threshold,
        review=review,
        swap=swap,
        u_pairs=int(data.get("u_pairs", 1_000_000)),
        training_sample=float(data.get("training_sample", 1.0)),
        max_pairs=int(data.get("max_pairs", 500_000_000)),
        seed=int(data.get("seed", 42)),
        lsh=lsh,
        source=source,
    )


def encoded_spec(columns: list[str], id_column: str | None, **options: Any) -> Spec:
    """The spec for lists of encodings: every column but the id is a filter, compared by Dice, blocked by LSH."""
    fields = {c: "bloom" for c in columns if c != id_column}
    if not fields:
        raise SpecError("the encodings file has no encoding column besides the id")
    return from_dict({"id": id_column, "fields": fields, **options}, "encodings")


def load(path: str | Path) -> Spec:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{p}: cannot read the spec ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{p}: not valid YAML ({exc})") from exc
    return from_dict(data, str(p))
