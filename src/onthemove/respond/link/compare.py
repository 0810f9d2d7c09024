"""Comparison vectors as SQL: each comparison is a CASE over the two records of a pair, giving its level.

Level -1 means "a value is missing" (the comparison then adds no evidence), 0 means "disagree", higher levels
agree more; ``labels[level]`` names each. The levels, best first:

name      exact · swapped (this part and another part of a ``swap`` group exchanged, both ways round) · variant
          (same spelling skeleton: transliteration and Somali/Arabic spelling variants) · Jaro-Winkler >= 0.92 ·
          Jaro-Winkler >= 0.80 or same phonetic code · else
date      exact · day and month swapped · partial (one side year-only or year-month, the known parts equal) ·
          one digit off · same year · else
text      exact · Jaro-Winkler >= 0.92 · >= 0.80 · else
digits    exact · one edit (Levenshtein 1) · else;  phone the same on the last nine digits
category  exact · else
email     exact · same user · user Jaro-Winkler >= 0.88 · else
dice      Bloom-filter encodings: Dice >= 0.95 · 0.90 · 0.80 · 0.70 · 0.60 · else (``levels`` changes these)
joint     fields that agree *together* for non-matches too (siblings share father's and grandfather's names, the
          household phone and site): the level is the pattern of which members agree (a bitmask, 2^k levels),
          so ``u`` from random pairs measures how often non-matches agree on that combination instead of
          multiplying the members' u as if they were independent. A member agrees at: names variant or
          Jaro-Winkler >= 0.92 or same phonetic code, dates exact, swapped or partial, numbers and phones
          within one edit, text
          Jaro-Winkler >= 0.92, categories exact.

Only functions that DuckDB and Spark SQL both have are used (``levenshtein``, ``bit_count``, ``&``), plus
``jaro_winkler_similarity``, which DuckDB has and the Spark runner registers (rapidfuzz, the same algorithm as
DuckDB's). Each comparison reads some columns of both records (``needs``) and some similarity values computed
once per pair (``sims``); the CASE refers to them as ``<column>_l``, ``<column>_r`` and ``<sim name>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from onthemove.respond.link.spec import Comparison, Spec

JW = "jaro_winkler_similarity"


@dataclass
class ComparisonSQL:
    name: str
    field: str
    kind: str
    fields: tuple[str, ...]  # the fields it reads: an EM session whose rule uses one of them leaves it out
    labels: list[str]  # labels[level], level 0 = else
    case: str  # SQL giving the level from <col>_l, <col>_r and sims
    needs: list[str] = dataclass_field(default_factory=list)  # record columns read
    sims: dict[str, str] = dataclass_field(default_factory=dict)  # name -> SQL over l. and r.
    tf_level: int | None = None  # the exact level, whose weight is adjusted by term frequency
    tf_column: str | None = None

    @property
    def gamma(self) -> str:
        return f"g_{self.name}"

    @property
    def levels(self) -> int:
        return len(self.labels)


def _case(null: str, levels: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """CASE text and labels (index = level) from (label, condition) pairs, best first."""
    top = len(levels)
    whens = [f"WHEN {null} THEN -1"] + [f"WHEN {cond} THEN {top - i}" for i, (_, cond) in enumerate(levels)]
    labels = ["else"] + [label for label, _ in reversed(levels)]
    return "CASE " + " ".join(whens) + " ELSE 0 END", labels


def _isnull(*cols: str) -> str:
    return " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols)


def _fmt(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _make(
    c: Comparison, labels: list[str], case: str, needs: list[str], sims: dict[str, str], tf: bool = False
) -> ComparisonSQL:
    return ComparisonSQL(
        c.name,
        c.field,
        c.kind,
        c.fields,
        labels,
        case,
        needs,
        sims,
        (len(labels) - 1) if tf and c.tf else None,
        c.field if tf and c.tf else None,
    )


_AGREE = {
    "name": "({f}__key_l = {f}__key_r OR {f}__ph_l = {f}__ph_r OR {f}__jw >= 0.92)",
    "date": "({f}__iso_l = {f}__iso_r OR ({f}__y_l = {f}__y_r AND ({f}__m_l IS NULL OR {f}__m_r IS NULL OR "
    "({f}__m_l = {f}__m_r AND ({f}__d_l IS NULL OR {f}__d_r IS NULL)) OR "
    "({f}__m_l = {f}__d_r AND {f}__d_l = {f}__m_r))))",
    "text": "{f}__jw >= 0.92",
    "digits": "{f}__lev <= 1",
    "phone": "{f}__lev <= 1",
    "category": "{f}_l = {f}_r",
    "email": "({f}__user_l = {f}__user_r)",
}


def build_joint(c: Comparison, spec: Spec) -> ComparisonSQL:
    needs: list[str] = []
    sims: dict[str, str] = {}
    terms = []
    for i, name in enumerate(c.members):
        f = spec.field(name)
        member = build(Comparison(name, name, f.type))
        needs += [n for n in member.needs if n not in needs]
        sims.update(member.sims)
        terms.append(f"CASE WHEN {_AGREE[f.type].format(f=name)} THEN {2**i} ELSE 0 END")
    labels = [
        "+".join(name for i, name in enumerate(c.members) if mask >> i & 1) or "none"
        for mask in range(2 ** len(c.members))
    ]
    return _make(c, labels, "(" + " + ".join(terms) + ")", needs, sims)


def build(c: Comparison) -> ComparisonSQL:
    f = c.field
    if c.kind == "name":
        jw = f"{f}__jw"
        levels = [("exact", f"{f}_l = {f}_r")]
        needs = [f, f"{f}__key", f"{f}__ph"]
        if c.others:
            # both ways round: one way only is a parent and child in Somali naming (the child's father's name
            # is the parent's first name)
            swapped = " OR ".join(f"({f}__key_l = {o}__key_r AND {o}__key_l = {f}__key_r)" for o in c.others)
            levels.append(("swapped", f"({swapped})"))
            needs += [f"{o}__key" for o in c.others]
        hi, lo = c.levels or (0.92, 0.80)
        levels += [
            ("variant", f"{f}__key_l = {f}__key_r"),
            (f"jw>={_fmt(hi)}", f"{jw} >= {_fmt(hi)}"),
            (f"jw>={_fmt(lo)} or phonetic", f"({jw} >= {_fmt(lo)} OR {f}__ph_l = {f}__ph_r)"),
        ]
        case, labels = _case(_isnull(f), levels)
        return _make(c, labels, case, needs, {jw: f"{JW}(l.{f}, r.{f})"}, tf=True)
    if c.kind == "date":
        y, m, d, iso, s = (f"{f}__{p}" for p in ("y", "m", "d", "iso", "s"))
        levels = [
            ("exact", f"{iso}_l = {iso}_r"),
            ("day-month swapped", f"{y}_l = {y}_r AND {m}_l = {d}_r AND {d}_l = {m}_r"),
            (
                "partial",
                f"{y}_l = {y}_r AND ({m}_l IS NULL OR {m}_r IS NULL OR "
                f"({m}_l = {m}_r AND ({d}_l IS NULL OR {d}_r IS NULL)))",
            ),
            ("one digit", f"{f}__lev <= 1"),
            ("same year", f"{y}_l = {y}_r"),
        ]
        case, labels = _case(_isnull(y), levels)
        return _make(c, labels, case, [y, m, d, iso, s], {f"{f}__lev": f"levenshtein(l.{s}, r.{s})"})
    if c.kind in ("text", "category", "digits", "phone"):
        if c.kind == "text":
            jw = f"{f}__jw"
            hi, lo = c.levels or (0.92, 0.80)
            levels = [
                ("exact", f"{f}_l = {f}_r"),
                (f"jw>={_fmt(hi)}", f"{jw} >= {_fmt(hi)}"),
                (f"jw>={_fmt(lo)}", f"{jw} >= {_fmt(lo)}"),
            ]
            sims = {jw: f"{JW}(l.{f}, r.{f})"}
        elif c.kind == "category":
            levels, sims = [("exact", f"{f}_l = {f}_r")], {}
        else:
            lev = f"{f}__lev"
            levels = [("exact", f"{f}_l = {f}_r"), ("one edit", f"{lev} <= 1")]
            sims = {lev: f"levenshtein(l.{f}, r.{f})"}
        case, labels = _case(_isnull(f), levels)
        return _make(c, labels, case, [f], sims, tf=True)
    if c.kind == "email":
        jw = f"{f}__jw"
        levels = [
            ("exact", f"{f}_l = {f}_r"),
            ("same user", f"{f}__user_l = {f}__user_r"),
            ("user jw>=0.88", f"{jw} >= 0.88"),
        ]
        case, labels = _case(_isnull(f), levels)
        return _make(c, labels, case, [f, f"{f}__user"], {jw: f"{JW}(l.{f}__user, r.{f}__user)"})
    if c.kind == "dice":
        raise ValueError("dice comparisons need the encoding width: use build_all(spec, widths)")
    raise ValueError(f"unknown comparison kind {c.kind!r}")


def dice_sql(f: str, words: int) -> str:
    """Dice similarity of two encodings held as ``words`` signed 64-bit words and their popcounts."""
    inter = " + ".join(f"CAST(bit_count(l.{f}__w{i} & r.{f}__w{i}) AS INTEGER)" for i in range(words))
    return f"CASE WHEN l.{f}__n + r.{f}__n = 0 THEN NULL ELSE 2.0 * ({inter}) / (l.{f}__n + r.{f}__n) END"


def build_dice(c: Comparison, words: int) -> ComparisonSQL:
    f = c.field
    sim = f"{f}__dice"
    thresholds = c.levels or (0.95, 0.90, 0.80, 0.70, 0.60)
    levels = [(f"dice>={_fmt(t)}", f"{sim} >= {_fmt(t)}") for t in thresholds]
    case, labels = _case(f"{sim} IS NULL", levels)
    return _make(c, labels, case, [], {sim: dice_sql(f, words)})


def build_all(spec: Spec, widths: dict[str, int] | None = None) -> list[ComparisonSQL]:
    widths = widths or {}
    out = []
    for c in spec.comparisons:
        if c.kind == "dice":
            if c.field not in widths:
                raise ValueError(f"comparison {c.name!r}: field {c.field!r} holds no encodings")
            out.append(build_dice(c, widths[c.field]))
        elif c.kind == "joint":
            out.append(build_joint(c, spec))
        else:
            out.append(build(c))
    return out


def inner_columns(comparisons: list[ComparisonSQL]) -> list[str]:
    """Select-list of the inner query: the columns each side needs and the similarity values, once each."""
    cols: list[str] = []
    seen: set[str] = set()
    for c in comparisons:
        for col in c.needs:
            if col not in seen:
                seen.add(col)
                cols += [f"l.{col} AS {col}_l", f"r.{col} AS {col}_r"]
        for name, sql in c.sims.items():
            if name not in seen:
                seen.add(name)
                cols.append(f"{sql} AS {name}")
        if c.tf_column and f"{c.tf_column}__tf" not in seen:
            seen.add(f"{c.tf_column}__tf")
            cols.append(f"greatest(l.{c.tf_column}__tf, r.{c.tf_column}__tf) AS {c.tf_column}__tf")
    return cols


def outer_columns(comparisons: list[ComparisonSQL], with_tf: bool = True) -> list[str]:
    cols = [f"{c.case} AS {c.gamma}" for c in comparisons]
    if with_tf:
        cols += [f"{c.tf_column}__tf AS tf_{c.name}" for c in comparisons if c.tf_column]
    return cols
