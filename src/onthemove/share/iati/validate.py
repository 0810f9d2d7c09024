"""Validate IATI files against the official 2.03 XSD with lxml, and optionally their codes against the codelists.

The schemas are not part of onthemove: ``find_schemas`` looks for a folder holding ``iati-activities-schema.xsd``
(the ``iati_schemas`` setting, else ``../shared/standards/iati`` next to the working directory or the repository).
Without one, ``validate_file`` says "not validated" and why, rather than guessing.

The verdict is the XSD's alone (the same as ``xmllint --schema``); the codelist check is reported beside it as
``code_issues``: codes of closed codelists that are not on the list, or withdrawn. Which attribute takes which
codelist comes from the codelists' own ``codelist-mapping.xml`` (``mapping.xml`` in IATI-Codelists).

Activity files, organisation files and registry records are told apart by their root element.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

ACTIVITY_XSD = "iati-activities-schema.xsd"
SCHEMA_FILES = {
    "activities": ACTIVITY_XSD,
    "organisations": "iati-organisations-schema.xsd",
    "registry-record": "iati-registry-record-schema.xsd",
}
ROOTS = {
    "iati-activities": "activities",
    "iati-activity": "activities",
    "iati-organisations": "organisations",
    "iati-organisation": "organisations",
    "{http://iatiregistry.org/ns/record#}registry-record": "registry-record",
}
SHARED = Path("..") / "shared" / "standards" / "iati"
HOW_TO_GET = (
    "Get the IATI 2.03 schemas from the IATI-Schemas repository, branch version-2.03 "
    "(git clone --branch version-2.03 https://github.com/IATI/IATI-Schemas) and point the iati_schemas setting at "
    "that folder (--schemas, ONTHEMOVE_IATI_SCHEMAS or iati_schemas in onthemove.toml). Without the setting, "
    f"{SHARED} next to the working directory or the repository is used when it exists. "
    "The schemas are not shipped with onthemove (see docs/iati.md)."
)
_REPO = Path(__file__).resolve().parents[4]
_ELEMENT = re.compile(r"^Element '([^']+)'(?:, attribute '([^']+)')?")


class SchemasMissing(ValueError):
    """No folder with the IATI 2.03 XSD was found; the message says how to get one."""


@dataclass(frozen=True)
class Problem:
    """One error or codelist issue: where (line, element) and what."""

    line: int | None
    element: str | None
    message: str
    source: str = "schema"  # "xml" (not well-formed or unreadable), "schema" (XSD) or "codelist"
    path: str | None = None  # XPath of the element, where known


@dataclass(frozen=True)
class Verdict:
    """The outcome for one file. ``status`` is "valid", "invalid" or "not validated" (no schemas: see ``reason``)."""

    path: str
    document: str | None
    checked: bool
    errors: tuple[Problem, ...] = ()
    code_issues: tuple[Problem, ...] = ()
    codelists_checked: bool = False
    reason: str | None = None
    schemas: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool | None:
        """True or False by the XSD; None when it could not be checked (and the file is well-formed)."""
        if self.errors:
            return False
        return True if self.checked else None

    @property
    def status(self) -> str:
        return {True: "valid", False: "invalid", None: "not validated"}[self.valid]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["valid"], out["status"] = self.valid, self.status
        return out


def find_schemas(configured: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding ``iati-activities-schema.xsd``; raises ``SchemasMissing`` saying how to get one.

    ``configured`` is the ``iati_schemas`` setting: a folder, or empty/None to look for ``../shared/standards/iati``
    relative to the working directory, then to the repository.
    """
    if configured not in (None, ""):
        folder = Path(os.fspath(configured)).expanduser()
        if not (folder / ACTIVITY_XSD).is_file():
            raise SchemasMissing(f"the IATI schema folder {folder} has no {ACTIVITY_XSD}. {HOW_TO_GET}")
        return folder
    bases = [Path.cwd()]
    if (_REPO / "pyproject.toml").is_file():
        bases.append(_REPO)
    for base in bases:
        candidate = (base / SHARED).resolve()
        if (candidate / ACTIVITY_XSD).is_file():
            return candidate
    raise SchemasMissing(f"the IATI schema folder is missing: no {ACTIVITY_XSD} was found. {HOW_TO_GET}")


def find_codelists(schemas: Path | None, configured: str | os.PathLike[str] | None = None) -> Path | None:
    """The codelists folder: ``configured``, else ``codelists-2.03`` or ``codelists`` beside the schemas."""
    if configured not in (None, ""):
        folder = Path(os.fspath(configured)).expanduser()
        if not folder.is_dir():
            raise ValueError(f"the IATI codelists folder {folder} does not exist")
        return folder
    if schemas is None:
        return None
    for name in ("codelists-2.03", "codelists"):
        if (schemas / name).is_dir():
            return schemas / name
    return None


@lru_cache(maxsize=8)
def load_schema(folder: str, document: str = "activities") -> Any:
    """The compiled ``etree.XMLSchema`` for a document kind, from the schema folder (cached)."""
    path = Path(folder) / SCHEMA_FILES[document]
    if not path.is_file():
        raise SchemasMissing(f"the IATI schema folder {folder} has no {path.name}. {HOW_TO_GET}")
    return etree.XMLSchema(etree.parse(str(path), _parser()))


def _parser() -> Any:
    # no network, no external entities or DTDs: files to validate come from anywhere
    return etree.XMLParser(no_network=True, load_dtd=False, resolve_entities="internal", huge_tree=False)


def document_kind(root: Any) -> str:
    """``activities``, ``organisations`` or ``registry-record`` from the root element (unknown roots: activities,
    so that the XSD itself reports them)."""
    return ROOTS.get(root.tag, "activities") if isinstance(root.tag, str) else "activities"


def validate_file(
    path: str | os.PathLike[str],
    schemas: str | os.PathLike[str] | None = None,
    *,
    document: str = "auto",
    codelists: str | os.PathLike[str] | None = None,
    check_codelists: bool = True,
) -> Verdict:
    """Validate one IATI XML file against the 2.03 XSD and return its ``Verdict``.

    ``schemas`` is the schema folder or the ``iati_schemas`` setting (empty/None: look for
    ``../shared/standards/iati``). ``document`` is ``auto`` (from the root element), ``activities``,
    ``organisations`` or ``registry-record``. When ``check_codelists`` is on and a codelists folder is found
    (``codelists``, else beside the schemas) the codes are checked too; they never change the XSD verdict.
    """
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        return Verdict(name, None, True, (Problem(None, None, f"cannot read the file: {exc.strerror}", "xml"),))
    return validate_bytes(data, name, schemas, document=document, codelists=codelists, check_codelists=check_codelists)


def validate_bytes(
    data: bytes,
    name: str = "<bytes>",
    schemas: str | os.PathLike[str] | None = None,
    *,
    document: str = "auto",
    codelists: str | os.PathLike[str] | None = None,
    check_codelists: bool = True,
) -> Verdict:
    """``validate_file`` for a document in memory (``name`` labels the verdict)."""
    if document != "auto" and document not in SCHEMA_FILES:
        raise ValueError(f"document must be auto or one of {', '.join(SCHEMA_FILES)}, not {document!r}")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        problems = tuple(
            Problem(e.line or None, None, e.message, "xml") for e in exc.error_log if e.level_name == "FATAL"
        ) or (Problem(exc.lineno, None, str(exc), "xml"),)
        return Verdict(name, None, True, problems)
    kind = document_kind(tree.getroot()) if document == "auto" else document
    try:
        folder = find_schemas(schemas)
        schema = load_schema(str(folder), kind)
    except SchemasMissing as exc:
        return Verdict(name, kind, False, reason=str(exc))
    schema.validate(tree)
    errors = tuple(_problem(e) for e in schema.error_log)
    issues: tuple[Problem, ...] = ()
    checked_codes = False
    notes: list[str] = []
    if check_codelists:
        lists = find_codelists(folder, codelists)
        if lists is None:
            notes.append("codes not checked: no codelists folder (IATI-Codelists, branch version-2.03)")
        else:
            issues = check_codes(tree, lists)
            checked_codes = True
    return Verdict(name, kind, True, errors, issues, checked_codes, None, str(folder), tuple(notes))


def _problem(entry: Any) -> Problem:
    match = _ELEMENT.match(entry.message)
    element = None
    if match:
        element = _local(match.group(1)) + (f"/@{match.group(2)}" if match.group(2) else "")
    elif entry.path:
        element = re.sub(r"\[\d+\]$", "", entry.path.rsplit("/", 1)[-1])
    return Problem(entry.line or None, element, entry.message, "schema", entry.path or None)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# -- codelists ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Codelist:
    name: str
    codes: frozenset[str]
    withdrawn: frozenset[str]
    complete: bool  # closed list: a code not on it is an error


@dataclass(frozen=True)
class CodelistMapping:
    path: str  # XPath to attributes or text, e.g. //iati-activity/sector/@code
    codelist: str
    condition: str | None  # XPath predicate on the element, e.g. @vocabulary = '1' or not(@vocabulary)

    def xpath(self) -> str:
        head, last = self.path.rsplit("/", 1)
        if head in ("", "/"):
            head = "//*"
        return f"{head}[{self.condition}]/{last}" if self.condition else f"{head}/{last}"


@dataclass(frozen=True)
class Codelists:
    folder: str
    lists: dict[str, Codelist]
    mappings: tuple[CodelistMapping, ...]

    def get(self, name: str) -> Codelist | None:
        return self.lists.get(name)


@lru_cache(maxsize=4)
def load_codelists(folder: str | os.PathLike[str]) -> Codelists:
    """The codelists of a folder laid out like ``codelists-2.03`` (``codelists/*.xml`` and
    ``codelist-mapping.xml``) or like IATI-Codelists (``xml/*.xml`` and ``mapping.xml``)."""
    base = Path(os.fspath(folder))
    lists: dict[str, Codelist] = {}
    files = sorted(base.glob("iati-codelist-*.xml"))  # loose files first: the full lists below win
    for sub in ("xml", "codelists"):
        files += sorted((base / sub).glob("*.xml"))
    files += sorted(p for p in base.glob("*.xml") if "mapping" not in p.name and not p.name.startswith("iati-"))
    for file in files:
        cl = _read_codelist(file)
        if cl is not None:
            lists[cl.name] = cl
    mappings: list[CodelistMapping] = []
    for name in ("codelist-mapping.xml", "mapping.xml"):
        if (base / name).is_file():
            root = etree.parse(str(base / name), _parser()).getroot()
            for m in root.iter("mapping"):
                path, ref = m.findtext("path"), m.find("codelist")
                if path and ref is not None and ref.get("ref"):
                    cond = (m.findtext("condition") or "").strip() or None
                    mappings.append(CodelistMapping(path.strip(), ref.get("ref"), cond))
            break
    return Codelists(str(base), lists, tuple(mappings))


def _read_codelist(file: Path) -> Codelist | None:
    try:
        root = etree.parse(str(file), _parser()).getroot()
    except etree.XMLSyntaxError:
        return None
    if root.tag != "codelist" or not root.get("name"):
        return None
    codes, withdrawn = set(), set()
    for item in root.iter("codelist-item"):
        code = (item.findtext("code") or "").strip()
        if code:
            codes.add(code)
            if item.get("status") == "withdrawn":
                withdrawn.add(code)
    return Codelist(root.get("name"), frozenset(codes), frozenset(withdrawn), root.get("complete") != "0")


def check_codes(tree: Any, codelists: str | os.PathLike[str] | Codelists) -> tuple[Problem, ...]:
    """Codes in ``tree`` (an lxml tree or element) that their codelist does not have, or has withdrawn."""
    lists = codelists if isinstance(codelists, Codelists) else load_codelists(os.fspath(codelists))
    problems: list[Problem] = []
    for m in lists.mappings:
        cl = lists.get(m.codelist)
        if cl is None:
            continue
        try:
            found = tree.xpath(m.xpath())
        except etree.XPathError:
            continue
        for value in found:
            code = str(value).strip()
            if code in cl.codes and code not in cl.withdrawn:
                continue
            if code not in cl.codes and not cl.complete:
                continue
            parent = value.getparent() if hasattr(value, "getparent") else None
            element = _local(parent.tag) if parent is not None and isinstance(parent.tag, str) else None
            if element and getattr(value, "is_attribute", False):
                element += f"/@{value.attrname.replace('{http://www.w3.org/XML/1998/namespace}', 'xml:')}"
            what = "withdrawn from" if code in cl.withdrawn else "not in"
            line = parent.sourceline if parent is not None else None
            xpath = parent.getroottree().getpath(parent) if parent is not None else None
            problems.append(Problem(line, element, f"code {code!r} is {what} codelist {cl.name}", "codelist", xpath))
    problems.sort(key=lambda p: (p.line or 0, p.element or "", p.message))
    return tuple(problems)
