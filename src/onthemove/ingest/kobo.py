"""Kobo / ODK exports (XLSX, CSV, API JSON) as raw tables, one per form section.

Why a dedicated reader: Kobo spreads one submission over a main sheet plus one sheet per repeat
group, links them with ``_index``/``_parent_index``, and writes each ``select_multiple`` answer
either as one space-separated column, as one 0/1 column per choice, or both. Mappings need one
stable header convention whatever export options the person ticked, so this module gives:

* **Headers are full question paths** joined with ``/``: ``grp_location/district``,
  ``hh/members/age`` (the XML names, as in Kobo's "XML values and headers" export with groups).
  Kobo metadata keeps its own names (``_id``, ``_uuid``, ``_submission_time``, ``_index``...),
  and geopoint parts keep Kobo's ``_<path>_latitude`` form.
* **select_multiple** ``q``: ``q`` holds the space-separated choice names, ``q/<choice>`` the
  split columns (values as exported: ``1``/``0``, ``True``/``False``). When only one shape is in
  the file it is added from the other (the form is needed to know the choices, or to spot a
  split-only export); derived columns are listed in ``notes``.
* **Repeats**: ``repeats[name]`` for each repeat group (the sheet name in XLSX, the repeat's own
  name in JSON), with ``_index``, ``_parent_table_name`` and ``_parent_index`` (the ``_index``
  of the parent row, in ``main`` or in the repeat named by ``_parent_table_name``).
* With ``form`` (an XLSForm or Kobo JSON form) label headers and other group separators
  (``grp-q``, ``grp.q``, ``grp:q``) are renamed to paths; cell values are never touched.

``_row`` is the spreadsheet row (header row 1, data from 2; 3 with an HXL tag row), the CSV
line, or, for JSON, the 1-based index of the submission (repeat rows share their submission's).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine as pc

from onthemove.ingest.raw import ROW, RawTable, ReadError
from onthemove.ingest.tabular import cell_text

SEPS = ("/", "-", ".", ":")
_TRUE = {"1", "true", "yes"}
Row = list[str | None]


@dataclass
class KoboExport:
    """One Kobo export: the submissions table and one table per repeat group."""

    main: RawTable
    repeats: dict[str, RawTable] = field(default_factory=dict)


@dataclass
class _Question:
    kind: str  # "text", "select_multiple", ...
    choices: list[tuple[str, str]]  # (name, label) for select questions
    label: str
    long_label: str  # group labels + label, joined with "/"
    hxl: str | None = None  # the form's hxl column, used as tags when the export has no tag row


@dataclass
class _Form:
    questions: dict[str, _Question] = field(default_factory=dict)  # path -> question
    repeats: dict[str, str] = field(default_factory=dict)  # path -> repeat name


@dataclass
class _Section:
    name: str
    headers: list[str]
    rows: list[Row]
    numbers: list[int]
    tags: list[str | None] | None = None
    notes: list[str] = field(default_factory=list)

    def insert(self, pos: int, header: str, values: Row) -> None:
        self.headers.insert(pos, header)
        if self.tags is not None:
            self.tags.insert(pos, None)
        for r, v in zip(self.rows, values, strict=True):
            r.insert(pos, v)


def _text(v: object) -> str | None:
    """A cell as the project's spreadsheet reader shows it (6.0 -> "6", ISO dates); JSON lists as JSON."""
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False) if v else None
    if isinstance(v, dt.time):
        return v.isoformat()
    return cell_text(v)


def _label(row: dict[str, Any]) -> str:
    for k, v in row.items():
        if k == "label" or k.startswith("label:"):
            if isinstance(v, list):
                v = next((x for x in v if x), None)
            elif isinstance(v, dict):
                v = next(iter(v.values()), None)
            return (_text(v) or "").strip()
    return ""


def _form_from_rows(survey: list[dict[str, Any]], choices: list[dict[str, Any]]) -> _Form:
    lists: dict[str, list[tuple[str, str]]] = {}
    for c in choices:
        lst, name = _text(c.get("list_name") or c.get("list name")), _text(c.get("name") or c.get("$autoname"))
        if lst and name:
            lists.setdefault(lst.strip(), []).append((name.strip(), _label(c)))
    form, stack = _Form(), []
    for row in survey:
        words = (_text(row.get("type")) or "").strip().split()
        name = (_text(row.get("name") or row.get("$autoname")) or "").strip()
        head = " ".join(words[:2]).replace("_", " ").lower()
        if head.startswith(("begin group", "begin repeat", "begin loop")):
            stack.append((name, _label(row)))
            if head.startswith("begin repeat"):
                form.repeats["/".join(n for n, _ in stack)] = name
            continue
        if head.startswith(("end group", "end repeat", "end loop")):
            if stack:
                stack.pop()
            continue
        if not words or not name:
            continue
        kind, lst, phrase = words[0].lower(), None, " ".join(words).lower() + " "
        if kind.startswith(("select_multiple", "select_one")):  # also *_from_file, *_external
            lst = words[1] if len(words) > 1 else _text(row.get("select_from_list_name"))
            kind = kind[:15] if kind.startswith("select_multiple") else "select_one"
        elif phrase.startswith(("select all that apply from ", "select one from ")):
            kind = "select_multiple" if words[1].lower() == "all" else "select_one"
            lst = words[5 if kind == "select_multiple" else 3] if len(words) > 3 else None
        opts = list(lists.get(lst or "", []))
        if "or_other" in words or "specify other" in " ".join(words):
            opts.append(("other", "Other"))
        label = _label(row)
        long_label = "/".join([g for _, g in stack if g] + [label]) if label else ""
        hxl = (_text(row.get("hxl")) or "").strip() or None
        form.questions["/".join([n for n, _ in stack] + [name])] = _Question(kind, opts, label, long_label, hxl)
    return form


def _load_form(path: Path) -> _Form:
    """An XLSForm (xlsx/xls/ods: sheets survey + choices) or a Kobo JSON form ({"content": ...})."""
    sheets: dict[str, Any] = {}
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            sheets = data.get("content", data) if isinstance(data, dict) else {}
        else:
            wb = pc.CalamineWorkbook.from_path(str(path))
            for name in wb.sheet_names:
                grid = wb.get_sheet_by_name(name).to_python()
                keys = [str(k).strip().lower() for k in grid[0]] if grid else []
                sheets[name.strip().lower()] = [dict(zip(keys, r, strict=False)) for r in grid[1:]]
    except (OSError, ValueError, pc.CalamineError) as e:
        raise ReadError(path.name, f"cannot read the form (XLSForm or Kobo JSON form): {e}") from e
    if not isinstance(sheets.get("survey"), list):
        raise ReadError(path.name, "no 'survey' sheet: is this an XLSForm (or a Kobo form with content.survey)?")
    return _form_from_rows(sheets["survey"], sheets.get("choices") or [])


def _section(source: str, name: str, grid: Sequence[Sequence[object]], numbers: list[int]) -> _Section:
    """Header row = first non-empty row; a following row of ``#tags`` is taken as HXL tags."""
    rows = [[_text(c) for c in r] for r in grid]
    start = next((i for i, r in enumerate(rows) if any(c is not None for c in r)), None)
    if start is None:
        raise ReadError(source, f"sheet {name!r} is empty: expected a header row of question names")
    header = rows[start]
    width = max(i for i, c in enumerate(header) if c is not None) + 1
    headers = [h.strip() if h else f"_col{i + 1}" for i, h in enumerate(header[:width])]
    body = [(r + [None] * width)[:width] for r in rows[start + 1 :]]
    nums = numbers[start + 1 :]
    tags = None
    if body and all(c.strip().startswith("#") for c in body[0] if c is not None) and any(body[0]):
        tags, body, nums = [c.strip() if c else None for c in body[0]], body[1:], nums[1:]
    keep = [i for i, r in enumerate(body) if any(c is not None for c in r)]
    return _Section(name, headers, [body[i] for i in keep], [nums[i] for i in keep], tags)


def _read_sheets(path: Path) -> list[_Section]:
    source = path.name
    if path.suffix.lower() == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise ReadError(source, f"cannot read as UTF-8 CSV: {e}") from e
        first = text.split("\n", 1)[0]  # Kobo writes ';'-separated CSV by default
        sep = ";" if first.count(";") > first.count(",") else ","
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        grid: list[list[str]] = []
        numbers, line = [], 1
        try:
            for rec in reader:
                grid.append(list(rec))
                numbers.append(line)
                line = reader.line_num + 1
        except csv.Error as e:
            raise ReadError(source, f"broken CSV: {e}", row=line) from e
        return [_section(source, path.stem, grid, numbers)]
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
        grids = [(n, wb.get_sheet_by_name(n).to_python(skip_empty_area=False)) for n in wb.sheet_names]
    except (OSError, ValueError, pc.CalamineError) as e:
        raise ReadError(source, f"not a readable Kobo XLSX export ({e}); export again as XLSX or CSV") from e
    if not grids:
        raise ReadError(source, "the workbook has no sheets")
    return [_section(source, n, g, list(range(1, len(g) + 1))) for n, g in grids if any(any(r) for r in g)]


def _read_json(path: Path, form: _Form | None) -> tuple[list[_Section], _Form | None]:
    """Kobo API data: a list of submissions, ``{"results": [...]}`` or ``{"content", "submissions"}``."""
    source = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ReadError(source, f"not valid JSON: {e}") from e
    name = path.stem
    if isinstance(data, dict):
        if form is None and isinstance(data.get("content"), dict) and "survey" in data["content"]:
            form = _form_from_rows(data["content"]["survey"], data["content"].get("choices") or [])
        name = str(data.get("id_string") or name)
        data = data.get("results", data.get("submissions"))
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ReadError(source, "expected a list of submissions, {'results': [...]} or {'submissions': [...]}")
    repeat_names = form.repeats if form else {}
    tables: dict[str, tuple[dict[str, None], list[dict[str, str | None]], list[int]]] = {}
    names: dict[str, str] = {}

    def walk(entry: dict[str, Any], sec: str, parent: dict[str, str | None] | None, n: int) -> None:
        keys, rows, numbers = tables.setdefault(sec, ({}, [], []))
        row: dict[str, str | None] = {}
        children = []
        for k, v in entry.items():
            nested = isinstance(v, list) and all(isinstance(e, dict) for e in v)
            if isinstance(v, list) and not k.startswith("_") and (k in repeat_names or nested):
                children.append((k, v))
            else:
                keys.setdefault(k)
                row[k] = _text(v)
        row["_index"] = str(len(rows) + 1)
        if parent is not None:
            row |= {"_parent_table_name": parent["_table"], "_parent_index": parent["_index"]}
            row |= {k: v for k, v in parent.items() if k.startswith("_submission_")}
        rows.append(row)
        numbers.append(n)
        if parent is None:  # the submission's own ids, copied into its repeat rows as Kobo does
            copied = {f"_submission_{k}": row[k] for k in ("_id", "_uuid") if k in row}
        else:
            copied = {k: v for k, v in parent.items() if k.startswith("_submission_")}
        link = {"_table": sec, "_index": row["_index"], **copied}
        for k, items in children:
            child = names.setdefault(k, repeat_names.get(k, k.rsplit("/", 1)[-1]))
            for e in items:
                walk(e, child, link, n)

    for n, sub in enumerate(data, start=1):
        walk(sub, name, None, n)
    if not tables:
        tables[name] = ({}, [], [])
    sections = []
    for sec, (keys, rows, numbers) in tables.items():
        extra = [k for k in rows[0] if k not in keys] if rows else ["_index"]
        headers = list(keys) + extra
        sections.append(_Section(sec, headers, [[r.get(h) for h in headers] for r in rows], numbers))
    return sections, form


def _rename(sec: _Section, form: _Form) -> None:
    """Label headers and other group separators -> paths; exact paths always win."""
    exact: set[str] = set()
    alias: dict[str, str | None] = {}

    def add(key: str, path: str) -> None:
        if key and key not in exact:
            alias[key] = path if alias.get(key, path) == path else None  # None = ambiguous

    for path, q in form.questions.items():
        parts = path.split("/")
        exact |= {path} | {f"{path}/{n}" for n, _ in q.choices if q.kind == "select_multiple"}
        bases = [s.join(parts) for s in SEPS] + [q.label, q.long_label]
        for base in bases:
            add(base, path)
            for n, lab in q.choices if q.kind == "select_multiple" else []:
                for s in SEPS:
                    add(f"{base}{s}{n}", f"{path}/{n}")
                    add(f"{base}{s}{lab}", f"{path}/{n}")
    renamed = 0
    for i, h in enumerate(sec.headers):
        new = alias.get(h) if h not in exact else None
        if new and new not in sec.headers:
            sec.headers[i], renamed = new, renamed + 1
    if renamed:
        sec.notes.append(f"{renamed} header(s) renamed to question paths using the form")
    hxl = [form.questions[h].hxl if h in form.questions else None for h in sec.headers]
    if sec.tags is None and any(hxl):
        sec.tags = hxl


def _split(headers: list[str], q: str) -> list[tuple[int, str]]:
    """(position, choice) of the split columns ``q/<choice>`` of a select_multiple ``q``."""
    n = len(q) + 1
    return [(j, h[n:]) for j, h in enumerate(headers) if h.startswith(q + "/") and "/" not in h[n:]]


def _chosen(row: Row, split: list[tuple[int, str]]) -> list[str] | None:
    """Choices ticked in the split columns (1/True/yes); None when every split cell is empty."""
    if all(row[j] is None for j, _ in split):
        return None
    return [c for j, c in split if (row[j] or "").strip().lower() in _TRUE]


def _complete_selects(sec: _Section, form: _Form | None) -> None:
    """Give every select_multiple both shapes: ``q`` ("a b") and ``q/a`` (1/0)."""
    heads = sec.headers
    wanted: dict[str, list[str]] = {}
    for path, question in (form.questions if form else {}).items():
        if question.kind == "select_multiple" and (path in heads or _split(heads, path)):
            wanted[path] = [n for n, _ in question.choices]
    for h in heads:
        if _split(heads, h):
            wanted.setdefault(h, [])
    for q, options in wanted.items():
        split = _split(heads, q)
        if q not in heads:
            values = [_chosen(r, split) for r in sec.rows]
            sec.insert(split[0][0], q, [" ".join(v) if v else None for v in values])
            sec.notes.append(f"select_multiple {q!r}: column {q!r} built from its split columns")
            split = _split(heads, q)
        i = heads.index(q)
        tokens = [(r[i] or "").split() for r in sec.rows]
        missing = [o for o in options if f"{q}/{o}" not in heads]
        if not missing or any(t not in options for ts in tokens for t in ts):
            continue  # nothing to add, or the column holds labels rather than choice names
        pos = max([j for j, _ in split] + [i]) + 1
        for o in reversed(missing):
            sec.insert(
                pos,
                f"{q}/{o}",
                [None if r[i] is None else str(int(o in t)) for r, t in zip(sec.rows, tokens, strict=True)],
            )
        sec.notes.append(f"select_multiple {q!r}: split columns added from the form's choices: {', '.join(missing)}")


def _table(source: str, sec: _Section, sheet: str | None) -> RawTable:
    t = RawTable.from_rows(source, sec.headers, sec.rows, sec.numbers, tags=sec.tags, sheet=sheet)
    t.notes.extend(sec.notes)
    return t


def read_kobo(path: str | Path, form: str | Path | None = None) -> KoboExport:
    """Read a Kobo XLSX/CSV export or API JSON; see the module docstring for the header rules."""
    path = Path(path)
    if not path.is_file():
        raise ReadError(path.name, f"file not found: {path}")
    the_form = _load_form(Path(form)) if form is not None else None
    kind = path.suffix.lower().lstrip(".")
    if kind == "json":
        sections, the_form = _read_json(path, the_form)
    else:
        sections = _read_sheets(path)
    main_sec = next((s for s in sections if "_parent_index" not in s.headers), None)
    if main_sec is None:
        raise ReadError(path.name, "no main sheet: every sheet has '_parent_index' (is this a Kobo export?)")
    for s in sections:
        if the_form:
            _rename(s, the_form)
        _complete_selects(s, the_form)
    if "_index" not in main_sec.headers:
        main_sec.insert(len(main_sec.headers), "_index", [str(i) for i in range(1, len(main_sec.rows) + 1)])
        if len(sections) > 1:
            main_sec.notes.append("no '_index' column: numbered the submissions 1.. in file order")
    main_sec.notes.insert(0, f"Kobo {kind.upper()} export" + (", read with its form" if the_form else ""))
    sheet = None if kind in ("csv", "json") else main_sec.name
    export = KoboExport(main=_table(path.name, main_sec, sheet))
    short = {n[:31]: n for n in the_form.repeats.values()} if the_form else {}
    for s in sections:
        if s is main_sec:
            continue
        if "_parent_index" not in s.headers:
            export.main.notes.append(f"sheet {s.name!r} ignored: no '_parent_index' column")
            continue
        export.repeats[short.get(s.name, s.name)] = _table(path.name, s, sheet and s.name)
    return export


def short_names(headers: list[str]) -> list[str]:
    """Last path component (``grp/district`` -> ``district``); colliding names keep the full path.

    Split select_multiple columns keep their question (``grp/q/a`` -> ``q/a`` when ``grp/q`` is
    also a header) and geopoint parts keep Kobo's form (``_grp/pt_latitude`` -> ``_pt_latitude``).
    """
    present = set(headers)

    def short(h: str) -> str:
        head, _, last = h.rpartition("/")
        if not head:
            return h
        if head in present:
            return f"{short(head)}/{last}"
        return f"_{last}" if h.startswith("_") else last

    shorts = [short(h) for h in headers]
    counts: dict[str, int] = {}
    for s in shorts:
        counts[s] = counts.get(s, 0) + 1
    return [s if counts[s] == 1 else h for s, h in zip(shorts, headers, strict=True)]


def _records(t: RawTable) -> list[Row]:
    cols = [t.table.column(c).to_pylist() for c in t.columns]
    return [list(r) for r in zip(*cols, strict=True)] if cols else [[] for _ in range(t.table.num_rows)]


def flatten_repeat(export: KoboExport, repeat: str) -> RawTable:
    """One row per repeat instance: its own columns, then its parent's (and ancestors').

    Ancestor question columns keep their full path; ancestor metadata columns (``_...``) and any
    name already taken get a prefix: ``_submission_`` for the main table (``_submission__uuid``,
    as Kobo names copied fields), ``_<repeat>_`` for a parent repeat. Rows with no parent get
    nulls (counted in ``notes``). ``_row`` is the repeat sheet's row.
    """
    if repeat not in export.repeats:
        raise ValueError(f"no repeat {repeat!r}; the export has: {', '.join(export.repeats) or 'none'}")
    t = export.repeats[repeat]
    recs = _records(t)
    parents: set[str | None] = set()
    if "_parent_table_name" in t.headers:
        parents = {r[t.headers.index("_parent_table_name")] for r in recs}
    # parent named by its sheet: the repeat's name, cut to Excel's 31 characters when long
    pname = next((k for p in parents if p for k in export.repeats if k != repeat and p in (k, k[:31])), None)
    parent = flatten_repeat(export, pname) if pname else export.main
    own = len(export.repeats[pname].headers) if pname else len(parent.headers)
    prefix = f"_{pname}_" if pname else "_submission_"
    headers, tags = list(t.headers), list(t.tags or [None] * len(t.headers))
    picks = []
    for j, h in enumerate(parent.headers):
        name = prefix + h if j < own and (h.startswith("_") or h in headers) else h
        if name not in headers:
            headers.append(name)
            tags.append(parent.tags[j] if parent.tags else None)
            picks.append(j)
    pidx = parent.headers.index("_index") if "_index" in parent.headers else None
    by_index = {r[pidx]: r for r in _records(parent)} if pidx is not None else {}
    link = t.headers.index("_parent_index")
    rows, orphans = [], 0
    for r in recs:
        p = by_index.get(r[link])
        orphans += p is None
        rows.append(r + [p[j] if p else None for j in picks])
    out = RawTable.from_rows(
        t.source, headers, rows, t.table.column(ROW).to_pylist(), tags if t.tags or parent.tags else None, t.sheet
    )
    out.notes = [*t.notes, f"joined with {pname or 'the main table'} on _parent_index = _index"]
    if orphans:
        out.notes.append(f"{orphans} repeat row(s) have no parent row with that _index")
    return out


def explode_select_multiple(table: RawTable, column: str) -> RawTable:
    """One row per selected choice, ``column`` then holding that one choice name; ``_row`` kept.

    Choices come from the split columns ``column/<choice>`` when present (safe with label
    exports), else from splitting ``column`` on spaces. Rows with nothing selected stay, as null.
    """
    split = _split(table.headers, column)
    if column not in table.headers and not split:
        raise ValueError(f"{table.source}: no column {column!r} or {column + '/<choice>'!r} to explode")
    headers, tags = list(table.headers), list(table.tags) if table.tags else None
    recs = _records(table)
    if column not in headers:
        headers.insert(split[0][0], column)
        if tags is not None:
            tags.insert(split[0][0], None)
        for r in recs:
            r.insert(split[0][0], None)
        split = _split(headers, column)
    i = headers.index(column)
    rows: list[Row] = []
    numbers: list[int] = []
    for r, n in zip(recs, table.table.column(ROW).to_pylist(), strict=True):
        chosen = (_chosen(r, split) if split else None) or (r[i] or "").split()
        cells: list[str | None] = [*chosen] or [None]
        for c in cells:
            rows.append([*r[:i], c, *r[i + 1 :]])
            numbers.append(n)
    out = RawTable.from_rows(table.source, headers, rows, numbers, tags, table.sheet)
    out.notes = [*table.notes, f"{column!r} exploded: one row per selected choice"]
    return out
