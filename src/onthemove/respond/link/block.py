"""Blocking as SQL joins: a pair is a candidate when it agrees on every key of at least one rule.

Each rule is one equi-join of the records with themselves; rule *k* leaves out the pairs that an earlier rule
already produced (``NOT coalesce(<rule j>, false)``), so the union of all rules has each pair once without a
DISTINCT over millions of pairs. A rule with a cross key (``first_name = father_name``) also runs mirrored.

Modes: ``dedupe`` (one list: each unordered pair once, ``l.rid < r.rid``), ``link`` (pairs across lists only,
``l.src < r.src``) and ``link_and_dedupe`` (both).
"""

from __future__ import annotations

from dataclasses import dataclass

from onthemove.respond.link.spec import Key, Rule

MODES = ("dedupe", "link", "link_and_dedupe")


@dataclass(frozen=True)
class Join:
    rule: int  # index of the spec's rule this join comes from
    keys: tuple[Key, ...]
    text: str

    def on(self) -> str:
        return " AND ".join(f"{k.left.format(t='l.')} = {k.right.format(t='r.')}" for k in self.keys)

    def nonnull(self) -> str:
        return " AND ".join(f"{k.left.format(t='l.')} IS NOT NULL" for k in self.keys)


def joins(rules: list[Rule]) -> list[Join]:
    """The rules as joins, a mirrored join after each rule with cross keys."""
    out = []
    for i, rule in enumerate(rules):
        out.append(Join(i, rule.keys, rule.text))
        mirrored = tuple(Key(k.right, k.left, k.fields) for k in rule.keys)
        # a = b with b = a is its own mirror image
        if {(k.left, k.right) for k in mirrored} != {(k.left, k.right) for k in rule.keys}:
            out.append(Join(i, mirrored, rule.text + " (mirrored)"))
    return out


def pair_filter(mode: str) -> str:
    if mode == "dedupe":
        return "l.rid < r.rid"
    if mode == "link":
        return "l.src < r.src"
    if mode == "link_and_dedupe":
        return "l.rid < r.rid"
    raise ValueError(f"mode is one of {', '.join(MODES)}, not {mode!r}")


def pairs_sql(
    rules: list[Rule], mode: str, select: list[str], table: str = "recs", exclusive: bool = True, sample: int = 1000
) -> str:
    """One SELECT per join, UNION ALL. ``select`` is the inner select-list (``l.``/``r.`` columns);
    ``exclusive`` drops pairs an earlier join produced; ``sample`` < 1000 keeps left records with ``trn < sample``."""
    parts = []
    done: list[Join] = []
    for j in joins(rules):
        where = [pair_filter(mode)]
        if sample < 1000:
            where.append(f"l.trn < {sample}")
        if exclusive:
            where += [f"NOT coalesce({prev.on()}, false)" for prev in done]
        parts.append(
            f"SELECT {j.rule} AS rule, {', '.join(select)} FROM {table} AS l JOIN {table} AS r ON {j.on()} "
            f"WHERE {' AND '.join(where)}"
        )
        done.append(j)
    return "\nUNION ALL\n".join(parts)


def count_sql(rule: Rule, mode: str, table: str = "recs") -> str:
    """Ordered-pair count of one rule from the sizes of its blocks: cheap, and an upper bound for the join."""
    results = []
    for j in joins([rule]):
        lk = [k.left.format(t="") for k in j.keys]
        rk = [k.right.format(t="") for k in j.keys]
        la = ", ".join(f"{e} AS k{i}" for i, e in enumerate(lk))
        ra = ", ".join(f"{e} AS k{i}" for i, e in enumerate(rk))
        grp = ", ".join(f"k{i}" for i in range(len(lk)))
        nn = " AND ".join(f"{e} IS NOT NULL" for e in lk)
        nr = " AND ".join(f"{e} IS NOT NULL" for e in rk)
        on = " AND ".join(f"a.k{i} = b.k{i}" for i in range(len(lk)))
        if mode == "link":
            a_from = f"(SELECT src, {la} FROM {table} WHERE {nn}) AS t"
            b_from = f"(SELECT src, {ra} FROM {table} WHERE {nr}) AS t"
            results.append(
                f"SELECT CAST(sum(a.n * b.n) AS DOUBLE) AS n FROM "
                f"(SELECT src, {grp}, count(*) AS n FROM {a_from} GROUP BY src, {grp}) AS a JOIN "
                f"(SELECT src, {grp}, count(*) AS n FROM {b_from} GROUP BY src, {grp}) AS b ON {on} AND a.src < b.src"
            )
        else:
            a_from = f"(SELECT {la} FROM {table} WHERE {nn}) AS t"
            b_from = f"(SELECT {ra} FROM {table} WHERE {nr}) AS t"
            results.append(
                f"SELECT CAST(sum(a.n * b.n) AS DOUBLE) / 2 AS n FROM "
                f"(SELECT {grp}, count(*) AS n FROM {a_from} GROUP BY {grp}) AS a JOIN "
                f"(SELECT {grp}, count(*) AS n FROM {b_from} GROUP BY {grp}) AS b ON {on}"
            )
    return " UNION ALL ".join(results)
