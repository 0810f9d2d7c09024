"""The ``onthemove`` command line: one Typer app over the Python API."""

from __future__ import annotations

import datetime as dt
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from onthemove.cli.output import FORMATS, console, emit, errors
from onthemove.ingest.mapping import MappingError
from onthemove.ingest.pipeline import IngestError, StrictRefusal
from onthemove.ingest.raw import ReadError
from onthemove.settings import SettingsError, load
from onthemove.store import Store, StoreError, open_store
from onthemove.store.batches import BatchError

app = typer.Typer(
    help="onthemove: data on people on the move. Load, check, total, flag and share displacement data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
places_app = typer.Typer(help="The gazetteer: P-codes, boundaries, aliases and name matching.", no_args_is_help=True)
app.add_typer(places_app, name="places")
users_app = typer.Typer(help="Users, roles, place scopes and API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
audit_app = typer.Typer(
    help="The audit log: every login, upload, rollback, export and row-level read.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")
dtm_app = typer.Typer(help="IOM DTM API v3: fetch IDP records, save them as a file, load them.", no_args_is_help=True)
app.add_typer(dtm_app, name="dtm")

USER_ERRORS = (IngestError, MappingError, ReadError, StoreError, BatchError, SettingsError, ValueError)


class State:
    def __init__(self) -> None:
        self.settings: dict[str, Any] = {}
        self._store: Store | None = None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings["store"])
        return self._store


state = State()


@app.callback()
def main(
    store: Annotated[
        str | None,
        typer.Option(
            "--store", help="store directory or postgresql:// URL [env ONTHEMOVE_STORE; default ./onthemove-data/]"
        ),
    ] = None,
) -> None:
    state.close()
    state.settings = load({"store": store})


def fail(message: str, code: int = 1) -> None:
    errors.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Any:
    try:
        yield
    except StrictRefusal:
        raise
    except USER_ERRORS as exc:
        fail(str(exc))


@contextmanager
def steps(label: str, quiet: bool = False) -> Any:
    """A spinner with the current step and elapsed time on stderr (long loads take minutes)."""
    if quiet:
        yield lambda _msg: None
        return
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=errors, transient=True
    ) as progress:
        task = progress.add_task(label)
        yield lambda msg: progress.update(task, description=f"{label}: {msg}")


@app.command()
def init() -> None:
    """Create the store, or upgrade its schema with the numbered migrations."""
    from onthemove.store.migrate import applied

    with user_errors():
        store = state.store()
        console.print(f"store {store.location} ({store.engine}) at schema version {max(applied(store))}")


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, HXL, Kobo export or DTM JSON")],
    kind: Annotated[
        str | None, typer.Option(help="displacement, movements, sites, site_assessments, driver_events")
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping file (column -> field)")] = None,
    strict: Annotated[bool, typer.Option(help="refuse the whole file if any row is rejected")] = False,
    replace: Annotated[bool, typer.Option(help="supersede an earlier batch of the same file")] = False,
    attribution: Annotated[str | None, typer.Option(help="who to credit for the data")] = None,
    licence: Annotated[str | None, typer.Option(help="the data's licence")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the batch report as JSON")] = False,
) -> None:
    """Load a file as one batch: all rows loaded or rejected with a reason; the same file twice changes nothing."""
    from onthemove.ingest.sources import ingest_file

    with user_errors():
        store = state.store()
        try:
            with steps(f"loading {file.name}", quiet=as_json) as step:
                report = ingest_file(
                    store,
                    file,
                    kind=kind,
                    mapping=mapping,
                    strict=strict,
                    replace=replace,
                    attribution=attribution,
                    licence=licence,
                    user=state.settings["user"] or None,
                    progress=step,
                )
        except StrictRefusal as refusal:
            if as_json:
                sys.stdout.write(json.dumps(refusal.report.to_dict(), indent=2, default=str) + "\n")
            else:
                _print_report(refusal.report)
            fail(str(refusal), code=2)
            return
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
    else:
        _print_report(report)


def _print_report(report: Any) -> None:
    colour = {"loaded": "green", "unchanged": "yellow", "refused": "red"}.get(report.status, "white")
    console.print(
        f"[bold {colour}]{report.status}[/bold {colour}] batch {report.batch_id} ({report.kind}) from "
        f"{report.source_file}: {report.rows_read:,} rows read, {report.rows_loaded:,} loaded, "
        f"{report.rows_rejected:,} rejected ({report.records_loaded:,} records)"
    )
    for note in report.notes:
        console.print(f"  note: {note}")
    if report.rejection_summary:
        emit(report.rejection_summary, title="rejections by reason")
    if report.rejections:
        emit(
            [{k: v for k, v in r.items() if k != "file"} for r in report.rejections[:20]],
            title=f"first rejected rows (all are stored: onthemove batch {report.batch_id})",
        )


@app.command()
def batches(
    all_: Annotated[bool, typer.Option("--all", help="also rolled back and superseded batches")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """List the batches in the store: source, checksum, licence, when, row counts."""
    from onthemove.store.batches import list_batches

    with user_errors():
        rows = list_batches(state.store(), include_all=all_)
    emit(rows if fmt != "table" else [_short(r) for r in rows], fmt, title="batches")


def _short(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "batch": r["batch_id"],
        "kind": r["kind"],
        "source": Path(r["source_file"]).name,
        "sha256": r["sha256"][:12],
        "loaded_at": str(r["loaded_at"])[:19],
        "read": r["rows_read"],
        "loaded": r["rows_loaded"],
        "rejected": r["rows_rejected"],
        "status": r["status"],
    }


@app.command()
def batch(
    batch_id: str,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    limit: Annotated[int, typer.Option(help="rejections to show")] = 50,
) -> None:
    """Show one batch and its rejected rows."""
    from onthemove.store.batches import get_batch, rejections

    with user_errors():
        info = get_batch(state.store(), batch_id)
        rows = rejections(state.store(), batch_id, limit=limit)
    if fmt == "json":
        emit([{**{k: v for k, v in info.items() if k != "report"}, "rejections": rows}], "json")
        return
    emit([_short(info)], fmt, title=f"batch {batch_id}")
    emit(rows, fmt, title="rejected rows")


@app.command()
def rollback(batch_id: str) -> None:
    """Remove exactly the rows one batch loaded (the batch stays listed as rolled back)."""
    from onthemove.store.batches import rollback as do_rollback

    with user_errors():
        done = do_rollback(state.store(), batch_id)
    detail = ", ".join(f"{n:,} from {t}" for t, n in done.removed.items()) or "no rows"
    console.print(f"rolled back {batch_id}: removed {detail}")


@app.command()
def query(
    kind: Annotated[str, typer.Argument(help="movements or displacement")] = "movements",
    by: Annotated[
        list[str] | None,
        typer.Option(
            help="month|quarter|year|date, adm0..adm3, reason, population_group, sex, age_group, origin (repeat)"
        ),
    ] = None,
    place: Annotated[str | None, typer.Option(help="only this P-code and what lies inside it")] = None,
    start: Annotated[str | None, typer.Option("--from", help="first date (YYYY-MM-DD)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last date (YYYY-MM-DD)")] = None,
    reason: Annotated[list[str] | None, typer.Option(help="keep these reasons (repeat)")] = None,
    group: Annotated[list[str] | None, typer.Option(help="keep these population groups (repeat)")] = None,
    side: Annotated[str, typer.Option(help="movements: total by destination (to) or origin (from)")] = "to",
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or hxl")] = "table",
) -> None:
    """Totals by admin level, period, reason, population group and disaggregation."""
    from onthemove.analyse.query import Query, run
    from onthemove.share.hxl_export import hxl_tags_for

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    with user_errors():
        q = Query(
            kind=kind,
            by=list(by or []),
            place=place,
            start=_date(start, "--from"),
            end=_date(end, "--to"),
            reason=reason,
            population_group=group,
            side=side,
        )
        table = run(state.store(), q)
    emit(
        table.to_pylist(),
        fmt,
        title=f"{kind} by {', '.join(q.by) or 'total'}",
        tags=hxl_tags_for(table.column_names, kind) if fmt == "hxl" else None,
    )


def _date(text: str | None, flag: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{flag}: {text!r} is not a date like 2021-06-30") from None


@app.command()
def alerts(
    kind: Annotated[str, typer.Option(help="movements or displacement")] = "movements",
    level: Annotated[str, typer.Option(help="adm1 or adm2")] = "adm2",
    period: Annotated[str | None, typer.Option(help="month to test (YYYY-MM); default the latest")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Areas whose latest month is far above their own history, with the figures behind each flag."""
    from onthemove.analyse.alerts import alerts as find

    s = state.settings
    with user_errors():
        found = find(
            state.store(),
            kind=kind,
            level=level,
            period=period,
            z=s["alert_z"],
            ratio=s["alert_ratio"],
            floor=s["alert_floor"],
        )
    rows = [a.to_dict() for a in found]
    if fmt == "table":  # the sentence behind each flag is in --format json/csv
        rows = [
            {
                "area": a.area,
                "name": a.name,
                "period": a.period,
                "value": a.value,
                "median": round(a.median),
                "ratio": a.ratio,
                "robust z": a.robust_z,
                "months": a.history_months,
            }
            for a in found
        ]
    emit(rows, fmt, title=f"alerts: {kind} by {level}")


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="output file (hxl/csv) or directory (frictionless)")],
    kind: Annotated[str, typer.Option(help="canonical table to export")] = "movements",
    fmt: Annotated[str, typer.Option("--format", help="hxl, csv or frictionless")] = "hxl",
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="for anyone: aggregates only, through disclosure control (small cells and their complements "
            "blanked) [setting: suppression_threshold]",
        ),
    ] = False,
) -> None:
    """Write HXL-tagged CSV or a Frictionless data package that partners can use."""
    from onthemove.share import export_package, export_records

    with user_errors():
        threshold = int(state.settings["suppression_threshold"])
        if fmt == "frictionless":
            path = export_package(state.store(), out, public=public, threshold=threshold)
        elif fmt in ("hxl", "csv"):
            path = export_records(state.store(), kind, out, fmt=fmt, public=public)
        else:
            raise ValueError("--format must be hxl, csv or frictionless")
    console.print(f"wrote {path}" + (" (public: aggregates through disclosure control)" if public else ""))


@app.command()
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="only when the store holds no batch")] = False,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same country")] = 7,
) -> None:
    """Fill the store with a deterministic synthetic country (Demoland) through the real ingest path."""
    from onthemove.demo import is_empty, load_demo

    with user_errors():
        store = state.store()
        if if_empty and not is_empty(store):
            console.print(f"store {store.location} already holds data; demo not loaded")
            return
        with steps("loading the demo") as step:
            reports = load_demo(store, seed=seed, progress=step)
    for r in reports:
        console.print(
            f"  {r.kind:17} {Path(r.source_file).name:32} {r.rows_loaded:>8,} rows, {r.rows_rejected} rejected"
        )


@app.command()
def summary(fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table") -> None:
    """What the store holds: rows per table, batches, period covered, latest month's totals."""
    from onthemove.demo import summary as summarise

    with user_errors():
        info = summarise(state.store())
    if fmt == "json":
        sys.stdout.write(json.dumps(info, indent=2, default=str) + "\n")
        return
    console.print_json(json.dumps(info, default=str))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on [setting: host]")] = None,
    port: Annotated[int | None, typer.Option(help="port [setting: port]")] = None,
    workers: Annotated[int | None, typer.Option(help="processes; >1 needs PostgreSQL [setting: workers]")] = None,
    triggers: Annotated[
        str | None, typer.Option(help="YAML file of early-warning triggers to show [setting: triggers]")
    ] = None,
    results_framework: Annotated[
        str | None,
        typer.Option(help="framework files extending the default results framework [setting: results_framework]"),
    ] = None,
) -> None:
    """Serve the REST API (and the dashboard) on the store; stops with Ctrl-C."""
    from onthemove.api.server import serve as run_server
    from onthemove.store.postgres_engine import redact

    s = load(
        {
            "store": state.settings["store"],
            "host": host,
            "port": port,
            "workers": workers,
            "triggers": triggers,
            "results_framework": results_framework,
        }
    )
    console.print(f"serving {redact(s['store'])} on http://{s['host']}:{s['port']}/ (API docs at /docs)")
    with user_errors():
        run_server(
            s["store"],
            host=s["host"],
            port=s["port"],
            workers=s["workers"],
            log_level=s["log_level"],
            suppression_threshold=s["suppression_threshold"],
            result_cache=s["result_cache"],
            triggers_file=s["triggers"],
            results_framework=s["results_framework"],
        )


@app.command()
def settings(fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table") -> None:
    """Every setting with its current value: flags, then ONTHEMOVE_* variables, then onthemove.toml."""
    from onthemove.settings import SETTINGS

    current = state.settings
    rows = [
        {
            "name": s.name,
            "value": "(set)" if s.name == "dtm_key" and current[s.name] else current[s.name],
            "default": s.default,
            "environment": f"ONTHEMOVE_{s.name.upper()}",
            "help": s.help,
        }
        for s in SETTINGS
    ]
    emit(rows, fmt, title="settings")


@places_app.command("load-pcodes")
def load_pcodes(file: Path, country: Annotated[str | None, typer.Option(help="ISO3 code to keep")] = None) -> None:
    """Load an HXL-tagged P-code list (OCHA global P-codes shape)."""
    from onthemove.ingest.gazetteer import load_pcodes as load

    with user_errors():
        r = load(state.store(), file, country=country)
    console.print(
        f"{r.status} batch {r.batch_id}: {r.rows_read:,} rows, {r.records_loaded:,} new places, "
        f"{r.rows_rejected} rejected"
    )
    for note in r.notes:
        console.print(f"  note: {note}")


@places_app.command("load-boundaries")
def load_boundaries(path: Path, level: Annotated[int | None, typer.Option(help="admin level")] = None) -> None:
    """Load COD-AB boundaries (shapefile, folder with one, or GeoJSON)."""
    from onthemove.ingest.gazetteer import load_boundaries as load

    with user_errors(), steps(f"reading {path.name}") as _step:
        r = load(state.store(), path, level=level)
    console.print(f"{r.status} batch {r.batch_id}: {r.rows_read:,} boundaries")
    for note in r.notes:
        console.print(f"  note: {note}")


@places_app.command("load-aliases")
def load_aliases(file: Path) -> None:
    """Load a CSV of alias,pcode[,source]: the names people use that the gazetteer lacks."""
    from onthemove.ingest.gazetteer import load_aliases as load

    with user_errors():
        r = load(state.store(), file)
    console.print(f"{r.status} batch {r.batch_id}: {r.records_loaded} aliases, {r.rows_rejected} rejected")
    for rej in r.rejections:
        console.print(f"  row {rej['row']}: {rej['value']!r}: expected {rej['expected']}")


@places_app.command("alias")
def add_alias(name: str, pcode: str) -> None:
    """Teach the gazetteer one more name for a P-code."""
    from onthemove.ingest.gazetteer import add_alias as add

    with user_errors():
        store = state.store()
        if not store.fetch_one("SELECT 1 FROM places WHERE pcode = $p", {"p": pcode.upper()}):
            raise ValueError(f"{pcode} is not in the gazetteer")
        with store.transaction():
            add(store, name, pcode, "onthemove places alias")
    console.print(f"{name!r} now means {pcode.upper()}")


@places_app.command("match")
def match(
    names: list[str],
    parent: Annotated[str | None, typer.Option(help="parent area name or P-code, as context")] = None,
    level: Annotated[int | None, typer.Option(help="admin level of the names")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Match place names to P-codes; unmatched names come with their best candidates."""
    from onthemove.ingest.gazetteer import load_matcher

    with user_errors():
        matcher = load_matcher(state.store())
    rows = []
    for n in names:
        m = matcher.match(n, level=level, parent=parent)
        rows.append(
            {
                "name": n,
                "pcode": m.pcode,
                "method": m.method,
                "score": round(m.score, 1),
                "candidates": "; ".join(f"{c.name} ({c.pcode}, {c.score:.0f})" for c in m.candidates),
            }
        )
    emit(rows, fmt, title="place matches")


@places_app.command("list")
def list_places(
    level: Annotated[int | None, typer.Option(help="admin level")] = None,
    parent: Annotated[str | None, typer.Option(help="children of this P-code")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """List places in the gazetteer."""
    from onthemove.ingest.gazetteer import list_places as find

    with user_errors():
        rows = [{k: v for k, v in r.items() if k != "geometry"} for r in find(state.store(), level, parent)]
    emit(rows, fmt, title="places")


def dtm_client() -> Any:
    """The DTM client (a seam for tests, which serve recorded responses)."""
    from onthemove.ingest.dtm import DTMClient

    return DTMClient(key=state.settings["dtm_key"] or None)


@dtm_app.command("fetch")
def dtm_fetch(
    out: Annotated[Path, typer.Argument(help="JSON file to write: the response is kept as the batch's source")],
    country: Annotated[str | None, typer.Option(help="country name as DTM writes it")] = None,
    admin0: Annotated[str | None, typer.Option(help="admin0 P-code, e.g. SSD")] = None,
    level: Annotated[str, typer.Option(help="admin0, admin1 or admin2")] = "admin2",
    start: Annotated[str | None, typer.Option("--from", help="first reporting date (YYYY-MM-DD)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last reporting date (YYYY-MM-DD)")] = None,
    load: Annotated[bool, typer.Option("--ingest", help="load the saved file as a batch")] = False,
) -> None:
    """Fetch DTM records (key from ONTHEMOVE_DTM_KEY), save them, and optionally load them."""
    from onthemove.ingest.dtm import DTMError
    from onthemove.ingest.sources import ingest_file

    with user_errors():
        try:
            records = dtm_client().fetch(
                level, CountryName=country, Admin0Pcode=admin0, FromReportingDate=start, ToReportingDate=end
            )
        except DTMError as exc:
            raise ValueError(str(exc)) from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"isSuccess": True, "result": records}, indent=1), encoding="utf-8")
        console.print(f"saved {len(records):,} DTM {level} records to {out}")
        if load:
            _print_report(ingest_file(state.store(), out, level=level, user=state.settings["user"] or None))


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="viewer, analyst, data_manager, dpo or admin")],
    scope: Annotated[
        str | None, typer.Option(help="P-codes the user may see (comma-separated), e.g. SO22,SO24")
    ] = None,
    password: Annotated[bool, typer.Option("--password", help="ask for a password (dashboard login)")] = False,
) -> None:
    """Add a user with a role and an optional place scope (a partner limited to some regions)."""
    from onthemove.access.users import UserError, add_user

    secret = typer.prompt("password", hide_input=True, confirmation_prompt=True) if password else None
    with user_errors():
        try:
            add_user(state.store(), username, role, scope=scope, password=secret, actor=_actor())
        except UserError as exc:
            raise ValueError(str(exc)) from exc
    console.print(f"added {username} ({role}{', scope ' + scope if scope else ''})")


@users_app.command("list")
def users_list(fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table") -> None:
    """List users, their roles, scopes and how many live tokens they hold."""
    from onthemove.access.users import list_users

    with user_errors():
        emit(list_users(state.store()), fmt, title="users")


@users_app.command("token")
def users_token(username: str, label: Annotated[str | None, typer.Option(help="what the token is for")] = None) -> None:
    """Issue an API token: it is printed once, and only its hash is stored."""
    from onthemove.access.users import UserError, new_token

    with user_errors():
        try:
            token = new_token(state.store(), username, label=label, actor=_actor())
        except UserError as exc:
            raise ValueError(str(exc)) from exc
    sys.stdout.write(token + "\n")


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user and revoke all their tokens."""
    from onthemove.access.users import UserError, disable_user

    with user_errors():
        try:
            disable_user(state.store(), username, actor=_actor())
        except UserError as exc:
            raise ValueError(str(exc)) from exc
    console.print(f"disabled {username}; their tokens are revoked")


def _actor() -> str:
    from onthemove.ingest.pipeline import whoami

    return f"cli:{state.settings['user'] or whoami()}"


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit log; exit code 1 names the first entry that was tampered with."""
    from onthemove.access.audit import verify

    with user_errors():
        verdict = verify(state.store())
    if not verdict.ok:
        fail(f"the audit log was tampered with: {verdict.reason} ({verdict.entries} entries)")
    console.print(f"audit log intact: {verdict.entries} entries, each chained to the one before")


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(help="newest entries to show")] = 50,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """The newest entries of the audit log."""
    from onthemove.access.audit import entries

    with user_errors():
        emit(entries(state.store(), limit=limit), fmt, title="audit log")


# the foresight commands live in modules of their own and add themselves to ``app``
# the results framework (account)
from onthemove.cli import (  # noqa: E402, F401
    backtest_cmd,
    disclose_cmd,
    forecast_cmd,
    iati_cmd,
    index_cmd,
    link_cmd,
    registry_cmd,
    respond_cmd,
    results_cmd,
    simulate_cmd,
    triggers_cmd,
)

if __name__ == "__main__":  # pragma: no cover
    app()
