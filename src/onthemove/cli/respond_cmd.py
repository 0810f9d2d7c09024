"""``onthemove needs`` and ``onthemove allocate``: severity per site, area and sector from declared rules, and
the distribution plan that covers the most severe needs for the money (docs/needs.md)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from onthemove.cli.main import app, emit, fail, state, steps, user_errors
from onthemove.cli.output import errors

if TYPE_CHECKING:
    from onthemove.respond.allocate import Allocation
    from onthemove.respond.needs import Needs

FORMATS = ("table", "csv", "json")
Format = Annotated[str, typer.Option("--format", help="table, csv or json")]
RulesFile = Annotated[
    Path | None, typer.Option("--rules", help="needs rules (YAML, docs/needs.md); default: 1-5 `severity` indicators")
]


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows with plain Python values (no NaN, no numpy scalars) for CSV and JSON."""
    import pandas as pd

    out = frame.astype(object).where(pd.notna(frame), None).to_dict("records")
    return [{str(k): (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in out]


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        errors.print(f"note: {note}", highlight=False, style="dim")


@app.command("needs")
def needs_command(
    rules: RulesFile = None,
    level: Annotated[str, typer.Option(help="site, adm1 or adm2")] = "site",
    place: Annotated[str | None, typer.Option(help="only sites at or inside this P-code")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="latest assessments up to this date, YYYY-MM-DD")] = None,
    limit: Annotated[int | None, typer.Option(help="rows to show (default: 20 in a table, all in CSV/JSON)")] = None,
    fmt: Format = "table",
) -> None:
    """Severity per site (or area) and sector on the 1-5 scale, overall severity (max over sectors, as the MSNI),
    sectors in need and people in need (phases 3-5), ranked, with why each ranks where it does."""
    from onthemove.respond.needs import area_names, assess, load_rules

    _check_format(fmt)
    if level not in ("site", "adm1", "adm2"):
        fail(f"--level must be site, adm1 or adm2, not {level!r}")
    with user_errors():
        when = _date(as_of)
        needs = assess(state.store(), load_rules(rules), as_of=when, place=place)
        if level == "site":
            table = needs.sites
        else:
            codes = sorted({c for col in ("adm1", "adm2", "place") for c in needs.sites[col].dropna()})
            table = needs.areas(level, area_names(state.store(), codes))
    shown = table.head(limit if limit is not None else (20 if fmt == "table" else len(table)))
    if fmt != "table":
        emit(_records(shown), fmt)
        _print_notes(needs.notes)
        return
    _print_needs(needs, shown, level, len(table))


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--as-of must be a date like 2021-08-31, not {text!r}") from None


def _print_needs(needs: Needs, shown: Any, level: str, total: int) -> None:
    rules = needs.rules
    counts = needs.severity_counts()
    heads = {str(c): str(c) if c == "overall" else rules.label(str(c)) for c in counts.columns}
    emit(
        [
            {"severity": phase, **{heads[str(c)]: int(n) for c, n in zip(counts.columns, row, strict=True)}}
            for phase, row in zip(counts.index, counts.to_numpy().tolist(), strict=True)
        ],
        "table",
        title=f"sites per severity phase ({rules.name}; in need from phase {rules.in_need})",
    )
    key = "site_id" if level == "site" else "area"
    rows = []
    for r in shown.to_dict("records"):
        row: dict[str, Any] = {"rank": int(r["rank"]), key: r[key], "name": str(r.get("name") or "")[:28]}
        if level == "site":
            row["area"] = r.get("adm2") or r.get("adm1") or r.get("place") or ""
        row.update(
            {
                "severity": r["severity"],
                "sectors in need": int(r["sectors_in_need"]),
                "people in need": int(r["people_in_need"]),
                "why": r["why"],
            }
        )
        rows.append(row)
    unit = "sites" if level == "site" else f"{level} areas"
    emit(rows, "table", title=f"ranking: {len(shown):,} of {total:,} {unit}")
    pin = int(needs.sites["people_in_need"].sum())
    pop = int(needs.sites["population"].fillna(0).sum())
    errors.print(f"{len(needs.sites):,} sites assessed, {pin:,} of {pop:,} people in need", highlight=False)
    _print_notes(needs.notes)


@app.command("allocate")
def allocate_command(
    plan: Annotated[Path, typer.Argument(help="plan spec (YAML, docs/needs.md): budget, packages, stock, rules")],
    rules: RulesFile = None,
    out: Annotated[
        Path | None,
        typer.Option(help="write the plan: .csv, .xlsx (with summary and sensitivity), .geojson, .html map"),
    ] = None,
    sensitivity: Annotated[bool, typer.Option(help="also re-solve with the budget -20%, -10%, +10%, +20%")] = False,
    lp: Annotated[bool, typer.Option("--lp", help="solve the LP (fractional units) instead of the MIP")] = False,
    budget: Annotated[float | None, typer.Option(help="override the plan's budget")] = None,
    gap: Annotated[
        float | None, typer.Option(help="override the plan's relative MIP gap (0.001 = stop within 0.1% of optimal)")
    ] = None,
    limit: Annotated[int, typer.Option(help="plan rows to show in a table")] = 20,
    fmt: Format = "table",
) -> None:
    """The plan that maximises severity-weighted people covered for the budget (HiGHS, exact), with the gain
    over greedy plans and, with --sensitivity, what changes when the budget moves by 10% and 20%."""
    from dataclasses import replace

    from onthemove.respond.allocate import allocate
    from onthemove.respond.needs import assess, load_rules
    from onthemove.respond.plan_output import write_plan
    from onthemove.respond.plan_spec import load_plan

    _check_format(fmt)
    with user_errors():
        spec = load_plan(plan)
        if budget is not None:
            if budget < 0:
                raise ValueError(f"--budget must be 0 or more, not {budget:g}")
            spec = replace(spec, budget=budget)
        if gap is not None:
            if not 0 <= gap < 1:
                raise ValueError(f"--gap must be at least 0 and below 1, not {gap:g}")
            spec = replace(spec, mip_gap=gap)
        needs = assess(state.store(), load_rules(rules or spec.needs_rules))
        with steps("solving", quiet=fmt != "table") as step:
            step("the plan and its greedy baselines" + (", then the budget sensitivity" if sensitivity else ""))
            result = allocate(needs, spec, integer=False if lp else None, with_sensitivity=sensitivity)
        written = write_plan(result, out, state.store()) if out is not None else None
    if fmt == "json":
        body = {
            **result.summary(),
            "packages": _records(result.by_package()),
            "sensitivity": result.sensitivity,
            "plan": _records(result.plan()),
        }
        sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")
    elif fmt == "csv":
        emit(_records(result.plan()), "csv")
    else:
        _print_allocation(result, limit)
    if written is not None:
        errors.print(f"plan written to {written}", highlight=False)


def _print_allocation(result: Allocation, limit: int) -> None:
    s = result.summary()
    cur = result.spec.currency
    gap = "" if s["gap"] is None else f", gap {s['gap']:.4%}"
    print(
        f"{s['plan']}: {s['method'].upper()} {s['status']}{gap} in {s['seconds']:.2f} s; "
        f"{cur} {s['cost']:,.0f} of {cur} {s['budget']:,.0f} spent; {s['sites_served']:,} of "
        f"{s['sites_eligible']:,} eligible sites served; {s['people_covered']:,.0f} people covered (per package); "
        f"severity-weighted people covered {s['objective']:,.0f}"
    )
    emit(_records(result.by_package()), "table", title="by package")
    emit(
        [
            {
                "plan": g["baseline"],
                "objective": g["baseline_objective"],
                "people covered": b["people_covered"],
                "cost": b["cost"],
                "optimum's gain": "-" if g["gain"] is None else f"{g['gain']:+.2%}",
                "extra people": g["extra_people"],
            }
            for g, b in zip(s["gains"], s["baselines"], strict=True)
        ],
        "table",
        title="against greedy plans (objective: severity-weighted people covered)",
    )
    plan = result.plan()
    cols = ["rank", "site_id", "name", "package", "severity", "units", "people_covered", "coverage", "cost"]
    emit(
        _records(plan.head(limit)[cols]), "table", title=f"plan: first {min(limit, len(plan)):,} of {len(plan):,} rows"
    )
    if result.sensitivity:
        emit(
            [
                {
                    "budget change": f"{r['change']:+.0%}",
                    "budget": r["budget"],
                    "objective": r.get("objective"),
                    "people covered": r.get("people_covered"),
                    "sites": r.get("sites"),
                    "enter": len(r.get("enter", [])),
                    "leave": len(r.get("leave", [])),
                    "marginal": r.get("marginal"),
                    "greedy": r.get("greedy_objective"),
                }
                for r in result.sensitivity
            ],
            "table",
            title="budget sensitivity (marginal: severity-weighted people per unit of money)",
        )
    _print_notes(result.notes)
