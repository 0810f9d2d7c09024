"""IOM Displacement Tracking Matrix (DTM) public API v3: fetch IDP figures as raw tables.

Why a connector rather than a file reader: DTM publishes its baseline/site figures through a keyed
JSON API, not downloadable files. Records come back in an envelope (``isSuccess``, ``result``,
``errorMessages``, ``statusCode``) that may report failure with HTTP 200, so the envelope is checked
on every call and failures raise :class:`DTMError` carrying the API's own messages.

DTM data may be used for non-commercial purposes and must not be redistributed: keep fetched
records local and cite "IOM Displacement Tracking Matrix" (see ``DTM_MAPPING``).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx

from onthemove.ingest.raw import RawTable, ReadError

BASE_URL = "https://dtmapi.iom.int/v3/displacement/"
KEY_ENV = "ONTHEMOVE_DTM_KEY"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
LEVELS = ("admin0", "admin1", "admin2")

#: v3 record fields, in the order of the API documentation; the column order of ``records_to_raw``.
FIELDS = [
    "id", "operation", "admin0Name", "admin0Pcode", "admin1Name", "admin1Pcode", "admin2Name", "admin2Pcode",
    "numPresentIdpInd", "reportingDate", "yearReportingDate", "monthReportingDate", "roundNumber",
    "displacementReason", "numberMales", "numberFemales", "idpOriginAdmin1Name", "idpOriginAdmin1Pcode",
    "assessmentType",
]  # fmt: skip

#: The HXL tags OCHA uses for these fields on HDX (the month number is deliberately left untagged:
#: HDX's ``#date+month+reported`` fails HXL date validation).
HXL_TAGS = {
    "operation": "#operation+name", "admin0Pcode": "#country+code", "admin1Pcode": "#adm1+code",
    "admin2Pcode": "#adm2+code", "numPresentIdpInd": "#affected+idps", "reportingDate": "#date+reported",
    "roundNumber": "#round+code", "displacementReason": "#cause+type", "numberMales": "#affected+idps+m",
    "numberFemales": "#affected+idps+f", "idpOriginAdmin1Pcode": "#adm1+code+origin",
    "assessmentType": "#assessment+type",
}  # fmt: skip

#: Query parameters the API accepts; anything else is refused before a request is made (typos
#: would otherwise be silently ignored by the API and return a whole country).
PARAMS = (
    "Operation", "CountryName", "Admin0Pcode", "Admin1Name", "Admin1Pcode", "Admin2Name", "Admin2Pcode",
    "FromReportingDate", "ToReportingDate", "FromRoundNumber", "ToRoundNumber",
)  # fmt: skip

#: Mapping of admin2 records to the canonical "displacement" kind (a plain dict, dumped as YAML by the
#: mapping module). ``numPresentIdpInd`` gives the total; ``numberMales``/``numberFemales``, when
#: not null, give extra rows by sex. Use :func:`dtm_mapping` for admin0/admin1 records.
DTM_MAPPING: dict[str, Any] = {
    "kind": "displacement",
    "columns": {
        "admin2Pcode": "place",
        "reportingDate": "date",
        "roundNumber": "round",
        "displacementReason": "reason",
        "idpOriginAdmin1Pcode": "origin",
        "numPresentIdpInd": "count",
    },
    "date_formats": ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
    "values": {
        "reason": {
            "Conflict": "conflict",
            "Insecurity": "conflict",
            "Natural disaster": "disaster",
            "Other reason": "other",
        },
        "origin": {"Not available": None},
    },
    "constants": {"population_group": "idps", "sex": "total", "age_group": "total"},
    "unpivot": [
        {"column": "numberMales", "field": "count", "set": {"sex": "m"}},
        {"column": "numberFemales", "field": "count", "set": {"sex": "f"}},
    ],
    "attribution": "IOM Displacement Tracking Matrix",
    "licence": "DTM data: non-commercial use, no redistribution",
}


class DTMError(RuntimeError):
    """The DTM API refused or failed a request; ``messages`` are the API's ``errorMessages``."""

    def __init__(self, message: str, status_code: int | None = None, messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.messages = messages or []


def dtm_mapping(level: str = "admin2") -> dict[str, Any]:
    """``DTM_MAPPING`` for records of ``level``: the place is that level's P-code column."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    mapping = copy.deepcopy(DTM_MAPPING)
    mapping["columns"] = {(f"{level}Pcode" if v == "place" else k): v for k, v in DTM_MAPPING["columns"].items()}
    return mapping


def _unwrap(body: object, where: str, status: int | None = None) -> list[dict[str, Any]]:
    """Records from an API envelope (or a bare list); DTMError when the envelope reports failure."""
    if isinstance(body, dict) and ("isSuccess" in body or "result" in body):
        code = body.get("statusCode")
        messages = [str(m) for m in body.get("errorMessages") or []]
        if body.get("isSuccess") is False or (isinstance(code, int) and code >= 400):
            detail = "; ".join(messages) or "no error message given"
            raise DTMError(f"{where}: DTM API error (status {code or status}): {detail}", code or status, messages)
        body = body.get("result")
    if body is None:
        return []
    if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        raise DTMError(f"{where}: expected a list of records, got {type(body).__name__}", status)
    return body


def _param(name: str, value: object) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    text = str(value)
    if name.endswith("ReportingDate") and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"{name} must be a date written YYYY-MM-DD, not {text!r}")
    if name.endswith("RoundNumber") and not text.isdigit():
        raise ValueError(f"{name} must be a whole number, not {text!r}")
    return text


class DTMClient:
    """A small client for the DTM v3 displacement endpoints (admin0/1/2, country and operation lists).

    The key comes from ``key`` or the ``ONTHEMOVE_DTM_KEY`` environment variable and is sent in the
    ``Ocp-Apim-Subscription-Key`` header. ``transport`` lets tests serve recorded responses.
    """

    def __init__(
        self,
        key: str | None = None,
        base_url: str = BASE_URL,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60,
    ) -> None:
        key = key or os.environ.get(KEY_ENV)
        if not key:
            raise ValueError(
                f"no DTM API key: pass key=... or set {KEY_ENV} (register for a key on the DTM API portal)"
            )
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, headers={KEY_HEADER: key}, transport=transport, timeout=timeout)

    def __enter__(self) -> DTMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _get(self, endpoint: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        where = f"DTM {endpoint}"
        try:
            response = self._http.get(endpoint, params=params)
        except httpx.HTTPError as e:
            raise DTMError(f"{where}: cannot reach {self.base_url} ({e}); check the network or use a saved file") from e
        if response.status_code in (401, 403):
            raise DTMError(f"{where}: the API key was refused (HTTP {response.status_code})", response.status_code)
        try:
            body = response.json()
        except ValueError as e:
            raise DTMError(f"{where}: HTTP {response.status_code}, not JSON: {response.text[:200]!r}") from e
        records = _unwrap(body, where, response.status_code)
        if response.status_code >= 400:
            raise DTMError(f"{where}: HTTP {response.status_code}", response.status_code)
        return records

    def fetch(self, level: str = "admin2", **params: object) -> list[dict[str, Any]]:
        """IDP records at ``level``; needs ``CountryName`` or ``Admin0Pcode``, other filters optional.

        Dates may be ``datetime.date`` or ``"YYYY-MM-DD"``; ``None`` values are dropped.
        """
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
        unknown = sorted(set(params) - set(PARAMS))
        if unknown:
            raise ValueError(f"unknown DTM parameter(s) {', '.join(unknown)}; allowed: {', '.join(PARAMS)}")
        query = {k: _param(k, v) for k, v in params.items() if v is not None}
        if not (query.get("CountryName") or query.get("Admin0Pcode")):
            raise ValueError("the DTM API needs CountryName=... or Admin0Pcode=... (e.g. Admin0Pcode='SSD')")
        return self._get(level, query)

    def countries(self) -> list[dict[str, Any]]:
        """Countries with DTM data (``country-list``)."""
        return self._get("country-list")

    def operations(self) -> list[dict[str, Any]]:
        """DTM operations, each with its country (``operation-list``)."""
        return self._get("operation-list")


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def records_to_raw(records: list[dict[str, Any]], source: str) -> RawTable:
    """Records as a RawTable: the v3 fields in ``FIELDS`` order (absent ones null, as in v2 records),
    then any other field in order of appearance; HXL tags as OCHA uses them; ``_row`` = record 1..n.
    """
    headers = list(FIELDS)
    for record in records:
        headers.extend(k for k in record if k not in headers)
    rows = [[_cell(record.get(h)) for h in headers] for record in records]
    tags = [HXL_TAGS.get(h) for h in headers]
    table = RawTable.from_rows(source, headers, rows, list(range(1, len(rows) + 1)), tags=tags)
    table.notes.append(f"{DTM_MAPPING['attribution']}; {DTM_MAPPING['licence']}")
    return table


def read_dtm_json(path: str | Path) -> RawTable:
    """A saved API response (the envelope) or a plain JSON list of records."""
    path = Path(path)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ReadError(path.name, f"cannot read DTM JSON: {e}") from e
    try:
        records = _unwrap(body, "saved response")
    except DTMError as e:
        raise ReadError(path.name, f"the saved response is not a usable DTM result: {e}") from e
    return records_to_raw(records, path.name)
