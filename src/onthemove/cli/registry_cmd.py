"""``onthemove registry``: households that receive assistance, with consent, encrypted, audited (docs/registry.md).

Every command acts as a user of the store (the ``user`` setting, else the login name) with that user's role
and place scope: personal data is read only by the roles the policy allows, and every read lands in the
audit log under that name. The keys come from ``registry_key_file`` and ``registry_pseudonym_key_file``
(or ONTHEMOVE_REGISTRY_KEY / ONTHEMOVE_REGISTRY_PSEUDONYM_KEY), never from the store.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from onthemove.cli.main import app, emit, fail, state
from onthemove.cli.output import console, errors

if TYPE_CHECKING:
    from onthemove.access.policy import Principal
    from onthemove.respond.registry.keys import RegistryKeys
    from onthemove.respond.registry.model import Problem

registry_app = typer.Typer(
    help="The registry of households receiving assistance: consented, encrypted, pseudonymised, audited.",
    no_args_is_help=True,
)
app.add_typer(registry_app, name="registry")

Format = Annotated[str, typer.Option("--format", help="table, csv or json")]


@contextmanager
def _errors() -> Iterator[None]:
    from onthemove.access.policy import Forbidden
    from onthemove.ingest.raw import ReadError
    from onthemove.respond.registry.model import Refused
    from onthemove.settings import SettingsError
    from onthemove.store import StoreError

    try:
        yield
    except Refused as exc:
        _refused(exc.file, exc.problems)
    except (Forbidden, ReadError, StoreError, SettingsError, ValueError, OSError) as exc:
        fail(str(exc))


def _refused(file: str, problems: list[Problem]) -> None:
    errors.print(
        f"[bold red]error:[/bold red] {file} refused, nothing stored: {len(problems)} problem(s)", highlight=False
    )
    for p in problems[:100]:
        errors.print(f"  {p}", highlight=False, soft_wrap=True, markup=False)
    if len(problems) > 100:
        errors.print(f"  ... and {len(problems) - 100} more", highlight=False)
    raise typer.Exit(1)


def _principal() -> Principal:
    from onthemove.access.policy import Principal, parse_scope
    from onthemove.ingest.pipeline import whoami

    name = state.settings["user"] or whoami()
    row = state.store().fetch_one("SELECT username, role, scope, disabled FROM users WHERE username = $u", {"u": name})
    if row is None:
        fail(
            f"registry commands act as a user of the store, and there is no user {name!r}: add one with "
            f"`onthemove users add {name} --role data_manager` (or set ONTHEMOVE_USER to an existing user)"
        )
        raise AssertionError  # unreachable: fail exits
    if row[3]:
        fail(f"user {name!r} is disabled")
    return Principal(str(row[0]), str(row[1]), parse_scope(row[2]))


def _keys() -> RegistryKeys:
    from onthemove.respond.registry.keys import load_keys

    return load_keys(state.settings, store_location=state.settings["store"])


def _keys_configured() -> bool:
    import os

    from onthemove.respond.registry.keys import ENV_KEY, ENV_PSEUDONYM_KEY

    s = state.settings
    return bool(
        s["registry_key_file"]
        or s["registry_pseudonym_key_file"]
        or os.environ.get(ENV_KEY)
        or os.environ.get(ENV_PSEUDONYM_KEY)
    )


def _date(text: str | None, flag: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{flag} {text!r}: expected a date YYYY-MM-DD")
        raise AssertionError from None


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@registry_app.command("keygen")
def keygen(
    path: Annotated[Path, typer.Argument(help="key file to create (outside the store; never overwritten)")],
    pseudonym: Annotated[
        bool, typer.Option("--pseudonym", help="a pseudonymisation key (default: encryption)")
    ] = False,
) -> None:
    """Make a new random key file, readable by its owner only."""
    from onthemove.respond.registry.keys import check_outside_store, write_key_file

    with _errors():
        check_outside_store(path, state.settings["store"])
        written = write_key_file(path, "pseudonymisation" if pseudonym else "encryption")
    setting = "registry_pseudonym_key_file" if pseudonym else "registry_key_file"
    console.print(f"wrote {written} (mode 0600); set {setting} (ONTHEMOVE_{setting.upper()}) to it and back it up")


@registry_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Kobo/ODK export (XLSX, JSON) or CSV with one row per member")],
    form: Annotated[Path | None, typer.Option(help="the XLSForm, to read label headers")] = None,
    skip_registered: Annotated[
        bool, typer.Option("--skip-registered", help="leave out households registered before instead of refusing")
    ] = False,
    fmt: Format = "table",
) -> None:
    """Register households with their members: consent checked, identifying fields encrypted, all or nothing."""
    from onthemove.respond.registry import register

    with _errors():
        principal = _principal()
        result = register(
            state.store(),
            _keys(),
            principal,
            file,
            retention_days=state.settings["registry_retention_days"],
            form=form,
            skip_registered=skip_registered,
        )
    if fmt == "json":
        _json(result.to_dict())
        return
    if result.already_loaded:
        console.print(f"{file.name} was loaded already as batch {result.batch_id}: nothing to do")
        return
    console.print(
        f"registered {result.households:,} households ({result.members:,} members) from {file.name} "
        f"as batch {result.batch_id}"
    )
    if result.skipped:
        console.print(f"left out {len(result.skipped)} households registered before: {', '.join(result.skipped[:10])}")
    for note in result.notes:
        console.print(f"[dim]{note}[/dim]")


@registry_app.command("distribute")
def distribute_(
    file: Annotated[Path, typer.Argument(help="distribution list (CSV/XLSX): household, date, package, ...")],
    fmt: Format = "table",
) -> None:
    """Record a distribution list; refused as a whole if any household would be paid twice."""
    from onthemove.respond.registry import distribute

    with _errors():
        principal = _principal()
        keys = _keys() if _keys_configured() else None  # needed only to find households by identifying data
        result = distribute(state.store(), principal, file, keys)
    if fmt == "json":
        _json(result.to_dict())
        return
    if result.already_loaded:
        console.print(f"{file.name} was loaded already as batch {result.batch_id}: nothing to do")
        return
    console.print(
        f"recorded {result.rows:,} distributions to {result.households:,} households from {file.name} "
        f"as batch {result.batch_id}"
    )


@registry_app.command("show")
def show(
    household_id: Annotated[str, typer.Argument(help="pseudonymous household ID (HH-...)")],
    purpose: Annotated[
        str | None, typer.Option(help="decrypt identifying fields for this purpose (the consent must cover it)")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="why, recorded in the audit log")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """One household: pseudonymised, or with --purpose its identifying fields (audited)."""
    from onthemove.respond.registry import household, identify

    with _errors():
        principal = _principal()
        if purpose is None:
            data = household(state.store(), principal, household_id)
        else:
            data = identify(state.store(), _keys(), principal, household_id, purpose, reason)
    if fmt == "json":
        _json(data)
        return
    members = data.pop("members")
    consent = data.pop("consent")
    emit([{"field": k, "value": v} for k, v in {**data, **{f"consent.{k}": v for k, v in consent.items()}}.items()],
         "table", title=data["household_id"])  # fmt: skip
    emit([{k: _cell(k, v) for k, v in m.items()} for m in members], "table", title="members")


def _cell(key: str, value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value) if key == "birth_year" and value is not None else value


@registry_app.command("withdraw")
def withdraw_(
    household_id: Annotated[str, typer.Argument(help="pseudonymous household ID (HH-...)")],
    erase: Annotated[
        bool, typer.Option("--erase", help="delete the household instead of keeping it for counts")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="recorded in the audit log")] = None,
) -> None:
    """Record a withdrawal of consent: identifying fields erased, the pseudonymous record kept for counts."""
    from onthemove.respond.registry import withdraw

    with _errors():
        result = withdraw(state.store(), _principal(), household_id, erase=erase, reason=reason)
    what = "deleted" if erase else "identifying fields erased, pseudonymous record kept"
    console.print(f"consent of {result['household_id']} withdrawn: {what}")


@registry_app.command("purge")
def purge_(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only count what would be deleted")] = False,
) -> None:
    """Delete every household past its retention date (members and consents too; distributions kept, anonymous)."""
    from onthemove.respond.registry import purge

    with _errors():
        result = purge(state.store(), _principal(), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    console.print(f"{verb} {result.households:,} households past their retention date (before {result.on})")


@registry_app.command("export")
def export_(
    folder: Annotated[Path, typer.Argument(help="folder for households.csv, members.csv, distributions.csv")],
    recipient: Annotated[str | None, typer.Option(help="re-key the pseudonyms for this recipient")] = None,
    purpose: Annotated[str, typer.Option(help="only households whose consent covers it")] = "assistance",
) -> None:
    """Pseudonymised export for partners: no identifying field (audited)."""
    from onthemove.respond.registry import export_pseudonymised

    with _errors():
        principal = _principal()
        keys = _keys() if recipient else None
        result = export_pseudonymised(state.store(), principal, folder, purpose=purpose, recipient=recipient, keys=keys)
    counts = ", ".join(f"{v:,} {k}" for k, v in result.counts.items())
    console.print(f"wrote {counts} to {folder} ({result.left_out:,} households left out: no consent for {purpose})")


@registry_app.command("who-what-where")
def who_what_where_(
    where: Annotated[str, typer.Option(help="site, adm1 or adm2")] = "site",
    start: Annotated[str | None, typer.Option("--from", help="first distribution date")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last distribution date")] = None,
    fmt: Format = "table",
) -> None:
    """3W/4W: who (organisation) delivered what (sector, package) where (site, area) and when (month)."""
    from onthemove.respond.registry import who_what_where

    with _errors():
        table = who_what_where(
            state.store(),
            _principal(),
            where=where,
            start=_date(start, "--from"),
            end=_date(end, "--to"),
            threshold=state.settings["suppression_threshold"],
        )
    _emit_table(table, fmt, "who does what, where and when")


@registry_app.command("gap")
def gap_(
    start: Annotated[str | None, typer.Option("--from", help="first distribution date")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last distribution date")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="needs as assessed up to this date")] = None,
    rules: Annotated[Path | None, typer.Option(help="needs rules (YAML; default: severity 1-5)")] = None,
    fmt: Format = "table",
) -> None:
    """People in need against people reached, per site and sector."""
    from onthemove.respond.registry import gap

    with _errors():
        loaded = None
        if rules is not None:
            from onthemove.respond.needs import load_rules

            loaded = load_rules(rules)
        table = gap(
            state.store(),
            _principal(),
            start=_date(start, "--from"),
            end=_date(end, "--to"),
            as_of=_date(as_of, "--as-of"),
            threshold=state.settings["suppression_threshold"],
            rules=loaded,
        )
    _emit_table(table, fmt, "needs and assistance per site and sector")


def _emit_table(table: Any, fmt: str, title: str) -> None:
    if fmt == "json":
        _json({"rows": table.rows, "redacted": table.redacted, "suppressed": table.suppressed, "notes": table.notes})
        return
    emit(table.rows, fmt, title=title)
    if fmt == "table":
        if table.redacted:
            console.print(
                f"[dim]{table.suppressed} cells suppressed (fewer than {table.threshold} households, "
                f"or needed to protect one)[/dim]"
            )
        for note in table.notes:
            console.print(f"[dim]{note}[/dim]")


@registry_app.command("batches")
def batches_(
    include_all: Annotated[bool, typer.Option("--all", help="also rolled-back batches")] = False, fmt: Format = "table"
) -> None:
    """The registry's batches: registrations and distribution lists."""
    from onthemove.respond.registry.batches import list_batches

    with _errors():
        emit(list_batches(state.store(), _principal(), include_all), fmt, title="registry batches")


@registry_app.command("rollback")
def rollback_(batch_id: str) -> None:
    """Remove every row a registry batch stored."""
    from onthemove.respond.registry.batches import rollback

    with _errors():
        removed = rollback(state.store(), _principal(), batch_id)
    console.print(f"rolled back {batch_id}: " + ", ".join(f"{v:,} {k}" for k, v in removed.items()))


@registry_app.command("rotate-key")
def rotate_key_(
    new_key_file: Annotated[Path, typer.Argument(help="the new encryption key (made with `registry keygen`)")],
) -> None:
    """Re-encrypt every identifying field under a new key; then point registry_key_file at it."""
    from onthemove.respond.registry import rotate_key
    from onthemove.respond.registry.keys import read_key_file

    with _errors():
        new = read_key_file(new_key_file, state.settings["store"])
        counts = rotate_key(state.store(), _keys(), new, _principal())
    console.print(
        f"re-encrypted {sum(counts.values()):,} fields; now set registry_key_file to {new_key_file} "
        "and destroy the old key"
    )
