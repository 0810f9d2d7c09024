"""Records made ready to compare: one row per record with the cleaned values and derived keys of each field.

Each distinct value is normalised once (``normalise.py``), so a million records with a few hundred thousand
distinct names take seconds. Columns, by field type (``f`` is the field):

name      ``f`` (clean_name), ``f__key`` (spelling skeleton), ``f__ph`` (phonetic classes)
date      ``f__y``, ``f__m``, ``f__d`` (month and day NULL when unknown), ``f__iso`` (YYYY-MM-DD, full dates
          only), ``f__s`` (YYYYMMDD, full dates only, for digit typos), ``f__ym`` (YYYY-MM when the month is known)
text      ``f`` (clean_text); category the same
digits    ``f`` (digits only); phone: the last nine digits
email     ``f`` (lower case), ``f__user`` (before the @)
bloom     ``f__w0`` .. ``f__w{W-1}`` (the encoding as signed 64-bit words) and ``f__n`` (its popcount)

Every record also gets ``rid`` (0..n-1 across all sources, in input order), ``src`` (its list), ``id`` (its
identifier as text) and ``trn`` (0..999, seeded, for sampling the EM sessions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from onthemove.respond.link import normalise as nz
from onthemove.respond.link.spec import Spec, SpecError


def _codes(series: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Distinct values and each row's index into them (-1 for missing: None, NaN, empty or blank text)."""
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    values = list(uniques)
    blank = np.array([isinstance(v, str) and not v.strip() for v in values] + [True])
    codes = np.where(blank[codes], -1, codes)
    return codes, values


def _take(codes: np.ndarray, mapped: list[Any], dtype: str = "object") -> Any:
    table = np.array([*mapped, None], dtype=object)
    taken = table[codes]  # code -1 picks the trailing None
    if dtype == "object":
        return pd.Series(taken, dtype=object)
    return pd.array(taken, dtype=dtype)


def _values(series: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``fn`` applied once per distinct value; missing values stay None."""
    codes, values = _codes(series)
    return _take(codes, [fn(v) for v in values])


def _text(series: pd.Series) -> pd.Series:
    codes, values = _codes(series)
    return _take(codes, [str(v) for v in values])


def prepare_field(frame: pd.DataFrame, name: str, ftype: str, order: str, out: dict[str, Any]) -> None:
    col = frame[name].reset_index(drop=True)
    if ftype == "name":
        codes, values = _codes(col)
        clean = [nz.clean_name(str(v)) for v in values]
        out[name] = _take(codes, clean)
        out[f"{name}__key"] = _take(codes, [nz.name_key(c) for c in clean])
        out[f"{name}__ph"] = _take(codes, [nz.phonetic(c) for c in clean])
    elif ftype == "date":
        codes, values = _codes(col)
        parsed = [nz.parse_date(str(v), order) for v in values]
        out[f"{name}__y"] = _take(codes, [p and p[0] for p in parsed], "Int32")
        out[f"{name}__m"] = _take(codes, [p and p[1] for p in parsed], "Int32")
        out[f"{name}__d"] = _take(codes, [p and p[2] for p in parsed], "Int32")
        full = [p if p is not None and p[1] is not None and p[2] is not None else None for p in parsed]
        out[f"{name}__iso"] = _take(codes, [p and f"{p[0]:04d}-{p[1]:02d}-{p[2]:02d}" for p in full])
        out[f"{name}__s"] = _take(codes, [p and f"{p[0]:04d}{p[1]:02d}{p[2]:02d}" for p in full])
        out[f"{name}__ym"] = _take(codes, [p and p[1] and f"{p[0]:04d}-{p[1]:02d}" for p in parsed])
    elif ftype in ("text", "category"):
        out[name] = _values(col, lambda v: nz.clean_text(str(v)))
    elif ftype == "digits":
        out[name] = _values(col, lambda v: nz.digits(str(v)))
    elif ftype == "phone":
        out[name] = _values(col, lambda v: nz.phone(str(v)))
    elif ftype == "email":
        codes, values = _codes(col)
        mail = [nz.email(str(v)) for v in values]
        out[name] = _take(codes, mail)
        out[f"{name}__user"] = _take(codes, [m and m.split("@", 1)[0] for m in mail])
    elif ftype == "bloom":
        from onthemove.respond.link.bloom import decode_words

        words, counts = decode_words(_text(col), name)
        for w in range(words.shape[1]):
            out[f"{name}__w{w}"] = words[:, w]
        out[f"{name}__n"] = counts
    else:  # pragma: no cover - spec.py refuses other types
        raise SpecError(f"unknown field type {ftype!r}")


def prepare_frame(frame: pd.DataFrame, spec: Spec, source: str) -> pd.DataFrame:
    missing = [f.name for f in spec.fields if f.name not in frame.columns]
    if spec.id and spec.id not in frame.columns:
        missing.insert(0, spec.id)
    if missing:
        raise SpecError(
            f"{source}: no column {', '.join(repr(m) for m in missing)} (columns: {', '.join(map(str, frame.columns))})"
        )
    out: dict[str, Any] = {
        "src": source,
        "id": _text(frame[spec.id]) if spec.id else pd.Series(np.arange(len(frame)) + 1).astype(str),
    }
    for f in spec.fields:
        prepare_field(frame, f.name, f.type, f.order, out)
    out["id"] = out["id"].reset_index(drop=True)
    result = pd.DataFrame(out)
    if spec.id and result["id"].isna().any():
        row = int(result["id"].isna().to_numpy().argmax()) + 2
        raise SpecError(f"{source}: row {row}: column {spec.id!r} is empty (every record needs an id)")
    return result


def prepare(sources: Mapping[str, pd.DataFrame | pa.Table], spec: Spec) -> pa.Table:
    """All sources' records, prepared, numbered and marked with their source."""
    frames = []
    for name, data in sources.items():
        frame = data.to_pandas() if isinstance(data, pa.Table) else data
        frames.append(prepare_frame(frame, spec, name))
    all_records = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    dupes = all_records.duplicated(["src", "id"])
    if dupes.any():
        first = all_records[dupes].iloc[0]
        raise SpecError(f"{first['src']}: id {first['id']!r} names more than one record (ids must be unique)")
    n = len(all_records)
    for name, (bands, rows) in spec.lsh.items():
        from onthemove.respond.link.bloom import auto_rows, lsh_bands

        words = np.column_stack(
            [all_records[c].to_numpy(np.int64) for c in all_records.columns if c.startswith(f"{name}__w")]
        )
        band_keys = lsh_bands(words, bands, rows or auto_rows(words), seed=spec.seed + sum(name.encode()))
        for b in range(bands):
            column = pd.array(band_keys[:, b], dtype="Int64")
            column[band_keys[:, b] < 0] = pd.NA  # a record without an encoding is in no band
            all_records[f"{name}__b{b}"] = column
    all_records.insert(0, "rid", np.arange(n, dtype=np.int64))
    rng = np.random.default_rng(spec.seed)
    all_records["trn"] = rng.integers(0, 1000, n).astype(np.int32)
    return pa.Table.from_pandas(all_records, preserve_index=False)
