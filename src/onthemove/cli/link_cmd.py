"""``onthemove dedupe``, ``onthemove link`` and ``onthemove review``: record linkage of assistance lists.

    onthemove dedupe FILE [--spec SPEC.yaml] --out clusters.csv     one list: who is registered twice
    onthemove link A.csv B.csv [--spec SPEC.yaml] --out clusters.csv  across agencies' lists
    onthemove link keygen --out agencies.key                         the agencies' shared secret
    onthemove link encode FILE --key-file K --spec ENC.yaml --out enc.csv   what an agency runs locally
    onthemove link encoded A.enc.csv B.enc.csv --out clusters.csv   the linkage unit: encodings only
    onthemove review list | decide ITEM match|non_match|unsure --reason ... | runs

docs/linkage.md describes the specs, the model and the privacy-preserving mode.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from onthemove.cli.main import app, emit, fail, state, steps, user_errors
from onthemove.cli.output import console

if TYPE_CHECKING:
    import pandas as pd

    from onthemove.respond.link.pipeline import Result
    from onthemove.respond.link.spec import Spec


class _FilesByDefault(TyperGroup):
    """``onthemove link A B`` runs the ``files`` command; ``link encode ...`` and the others stay commands."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["files", *args]
        return super().parse_args(ctx, args)


link_app = typer.Typer(
    cls=_FilesByDefault,
    help="Link assistance lists across agencies (plain or as keyed Bloom-filter encodings): docs/linkage.md.",
    no_args_is_help=True,
)
app.add_typer(link_app, name="link")
review_app = typer.Typer(help="The clerical-review queue of record linkage: list pairs, record decisions.")
app.add_typer(review_app, name="review")

SpecOpt = Annotated[
    Path | None, typer.Option("--spec", help="linkage spec (YAML); default: the demo registrations spec")
]
Out = Annotated[Path, typer.Option("--out", help="where to write the clusters (CSV)")]
PairsOut = Annotated[Path | None, typer.Option("--pairs", help="also write the linked and uncertain pairs (CSV)")]
Engine = Annotated[str, typer.Option(help="duckdb (this machine) or spark (local mode, or the session's cluster)")]
Review = Annotated[
    bool, typer.Option("--review/--no-review", help="store the uncertain pairs for clerical review, apply decisions")
]
By = Annotated[str | None, typer.Option("--by", help="who runs this (default: the login name)")]


# --- reading lists ----------------------------------------------------------------------------------------------


def read_table(path: Path) -> pd.DataFrame:
    """A list as text columns: CSV (spaces after commas tolerated), XLSX or Parquet."""
    import pandas as pd

    if not path.exists():
        raise ValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
            frame = frame.astype(object).where(frame.notna(), None)
        elif suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(path, dtype=str, engine="calamine", keep_default_na=False)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, OSError) as exc:
        raise ValueError(f"{path}: cannot read it as {suffix.lstrip('.') or 'CSV'} ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _spec(path: Path | None) -> Spec:
    from onthemove.respond.link import spec as link_spec

    if path is None:
        from onthemove.demo.registrations import SPEC

        return link_spec.from_dict(SPEC, "the demo registrations spec (give --spec SPEC.yaml for other lists)")
    return link_spec.load(path)


def _who(by: str | None) -> str:
    who = by or os.environ.get("USER") or os.environ.get("USERNAME") or state.settings.get("user")
    if not who:
        fail("say who you are with --by NAME")
    return str(who)


def _runner(engine: str) -> Any:
    from onthemove.respond.link.engine import make_runner

    return make_runner(engine)


def _run(
    frames: dict[str, Any], spec: Spec, engine: str, review: bool, by: str | None, mode: str | None = None
) -> Result:
    from onthemove.respond.link.pipeline import run

    decided = {}
    if review:
        from onthemove.respond.link.review import decisions

        decided = decisions(state.store())
    runner = _runner(engine)
    try:
        with steps("linking") as step:
            result = run(frames, spec, runner, mode=mode, decisions=decided, progress=step)
    finally:
        runner.close()
    if review:
        from onthemove.respond.link.review import save_run

        result.stats["run_id"] = save_run(state.store(), result, _who(by))
    return result


def _write(result: Result, out: Path, pairs: Path | None, with_source: bool) -> None:
    clusters = result.clusters.to_pandas()
    cols = ["src", "id", "cluster_id", "cluster_size"] if with_source else ["id", "cluster_id", "cluster_size"]
    frame = clusters[cols].rename(columns={"src": "list"})
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    if pairs is not None:
        p = result.pairs.to_pandas()
        keep = ["src_l", "id_l", "src_r", "id_r", "match_probability", "match_weight", "status"]
        for k, c in enumerate(result.comparisons):
            p[c.name] = [c.labels[g] if g >= 0 else "missing" for g in p[c.gamma].to_numpy()]
            keep.append(c.name)
            del k
        pairs.parent.mkdir(parents=True, exist_ok=True)
        p[keep].to_csv(pairs, index=False)


def _summary(result: Result, out: Path) -> None:
    s = result.stats
    rows = [
        {"what": "records", "value": s["records"]},
        {"what": "candidate pairs compared", "value": s["candidate_pairs"]},
        {"what": "links (match probability >= threshold)", "value": s["links"]},
        {"what": "pairs for clerical review", "value": s["review"]},
        {"what": "clusters", "value": s["clusters"]},
        {"what": "records that share a cluster", "value": s["records_in_duplicate_clusters"]},
        {"what": "seconds", "value": s["seconds"]["total"]},
    ]
    emit(rows, "table", title=f"{result.mode} ({s['engine']})")
    if "run_id" in s:
        console.print(f"review run {s['run_id']}: onthemove review list --run {s['run_id']}")
    console.print(f"clusters written to {out}")


# --- commands ---------------------------------------------------------------------------------------------------


@app.command("dedupe")
def dedupe(
    file: Annotated[Path, typer.Argument(help="the list: CSV, XLSX or Parquet")],
    out: Out,
    spec: SpecOpt = None,
    pairs: PairsOut = None,
    engine: Engine = "duckdb",
    review: Review = True,
    by: By = None,
) -> None:
    """Find the records of one list that are the same person: clusters of records, uncertain pairs for review."""
    with user_errors():
        the_spec = _spec(spec)
        result = _run({file.stem: read_table(file)}, the_spec, engine, review, by, mode="dedupe")
        _write(result, out, pairs, with_source=False)
    _summary(result, out)


@link_app.command("files")
def link_files(
    files: Annotated[list[Path], typer.Argument(help="two or more lists: CSV, XLSX or Parquet")],
    out: Out,
    spec: SpecOpt = None,
    pairs: PairsOut = None,
    engine: Engine = "duckdb",
    dedupe_too: Annotated[bool, typer.Option("--dedupe-too", help="also link records within each list")] = False,
    review: Review = True,
    by: By = None,
) -> None:
    """Link two or more lists (the default command: ``onthemove link A.csv B.csv --out clusters.csv``)."""
    if len(files) < 2:
        fail("give two or more lists to link (onthemove dedupe FILE for one list)")
    names = [f.stem for f in files]
    if len(set(names)) < len(names):
        fail("the lists need different file names: the name says which list a record is from")
    with user_errors():
        the_spec = _spec(spec)
        frames = {f.stem: read_table(f) for f in files}
        result = _run(frames, the_spec, engine, review, by, mode="link_and_dedupe" if dedupe_too else "link")
        _write(result, out, pairs, with_source=True)
    _summary(result, out)


@link_app.command("keygen")
def link_keygen(
    out: Annotated[Path, typer.Option("--out", help="the key file to write (readable by its owner only)")],
) -> None:
    """A new secret key for the agencies to share (never with the linkage unit)."""
    from onthemove.respond.link.bloom import write_key

    if out.exists():
        fail(f"{out} exists: a new key would make earlier encodings unlinkable; remove it first if you mean it")
    write_key(out)
    console.print(f"key written to {out}: give it to each agency over a channel the linkage unit cannot read")


@link_app.command("encode")
def link_encode(
    file: Annotated[Path, typer.Argument(help="this agency's list: CSV, XLSX or Parquet")],
    key_file: Annotated[Path, typer.Option("--key-file", help="the agencies' shared secret (link keygen)")],
    spec: Annotated[Path, typer.Option("--spec", help="encoding spec (YAML): fields and filters")],
    out: Out,
) -> None:
    """Encode a list locally as keyed Bloom filters: the file written holds ids and encodings, no names."""
    from onthemove.respond.link.bloom import encode, load_encoding_spec, read_key

    with user_errors():
        enc_spec = load_encoding_spec(spec)
        table = encode(read_table(file), enc_spec, read_key(key_file))
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_pandas().to_csv(out, index=False)
    console.print(f"{table.num_rows:,} records encoded into {len(enc_spec.filters)} filters: {out}")


@link_app.command("encoded")
def link_encoded(
    files: Annotated[list[Path], typer.Argument(help="two or more encoding files (link encode)")],
    out: Out,
    id_column: Annotated[str | None, typer.Option("--id", help="the id column (default: the first)")] = None,
    spec: Annotated[
        Path | None, typer.Option("--spec", help="linkage spec over the filters (default: Dice levels, LSH blocking)")
    ] = None,
    pairs: PairsOut = None,
    engine: Engine = "duckdb",
    review: Review = True,
    by: By = None,
) -> None:
    """Link lists of encodings (the linkage unit's job: it never sees a name)."""
    from onthemove.respond.link import spec as link_spec

    if len(files) < 2:
        fail("give two or more encoding files")
    with user_errors():
        frames = {f.stem: read_table(f) for f in files}
        first = next(iter(frames.values()))
        id_col = id_column or str(first.columns[0])
        for name, frame in frames.items():
            if list(frame.columns) != list(first.columns):
                raise ValueError(f"{name}: its columns differ from the first file's: were they encoded with one spec?")
        the_spec = link_spec.load(spec) if spec else link_spec.encoded_spec(list(first.columns), id_col)
        result = _run(frames, the_spec, engine, review, by, mode="link")
        _write(result, out, pairs, with_source=True)
    _summary(result, out)


# --- review -----------------------------------------------------------------------------------------------------


def _values(records: list[Path] | None) -> dict[tuple[str, str], dict[str, Any]]:
    """Records of the lists given with --records, by (list name, id): the id is the first column."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in records or []:
        frame = read_table(path)
        id_col = frame.columns[0]
        for row in frame.to_dict("records"):
            found[(path.stem, str(row[id_col]))] = {str(k): v for k, v in row.items()}
    return found


@review_app.command("list")
def review_list(
    run: Annotated[str | None, typer.Option(help="run id (default: the latest)")] = None,
    status: Annotated[str, typer.Option(help="open, decided or all")] = "open",
    records: Annotated[
        list[Path] | None, typer.Option("--records", help="a list (its first column the id) to show values from")
    ] = None,
    limit: Annotated[int, typer.Option(help="items to show")] = 20,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """The uncertain pairs of a run, most uncertain first, with each comparison's level and weight."""
    from onthemove.respond.link.review import items

    with user_errors():
        rows = items(state.store(), run, status, limit)
        values = _values(records)
    out = []
    for r in rows:
        row = {
            "item": r["item"],
            "left": f"{r['src_l']}:{r['id_l']}",
            "right": f"{r['src_r']}:{r['id_r']}",
            "probability": round(float(r["match_probability"]), 3),
            "evidence": "; ".join(
                f"{c['comparison']} {c['level']} ({c['weight']:+.1f})" for c in r["details"]["comparisons"]
            ),
            "decision": r["decision"] or "",
        }
        left, right = values.get((r["src_l"], r["id_l"])), values.get((r["src_r"], r["id_r"]))
        if left and right:
            shown = [k for k in left if k in right][1:]
            row["values"] = " | ".join(f"{k}: {left[k]} / {right[k]}" for k in shown)
        out.append(row)
    emit(out, fmt, title=f"review ({status})")


@review_app.command("decide")
def review_decide(
    item: Annotated[int, typer.Argument(help="the item number (review list)")],
    decision: Annotated[str, typer.Argument(help="match, non_match or unsure")],
    reason: Annotated[str, typer.Option(help="why (kept with the decision)")],
    run: Annotated[str | None, typer.Option(help="run id (default: the latest)")] = None,
    by: By = None,
) -> None:
    """Record a decision on a pair: the next run links a match and never links a non-match."""
    from onthemove.respond.link.review import decide

    with user_errors():
        done = decide(state.store(), run, item, decision, _who(by), reason)
    console.print(f"item {item} of run {done['run_id']}: {decision} (decision {done['decision_id']})")


@review_app.command("runs")
def review_runs(
    limit: Annotated[int, typer.Option(help="runs to show")] = 20,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """The latest linkage runs and their numbers."""
    from onthemove.respond.link.review import runs

    with user_errors():
        emit(runs(state.store(), limit), fmt, title="linkage runs")
