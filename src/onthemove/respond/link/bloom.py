"""Privacy-preserving record linkage: keyed Bloom-filter encodings, hardened, compared by Dice similarity.

Each agency encodes its own list on its own machine with a secret key that the agencies share among themselves
(never with the linkage unit); only the encodings travel. The linkage unit computes Dice similarities of the
encodings (vectorised: 64-bit words, ``bit_count`` in SQL) and feeds them as comparison levels into the same
Fellegi–Sunter model as plaintext linkage. The threat model is in ``docs/linkage.md``.

Encoding (CLK-style, several fields per filter):

- **Tokens.** Names: padded bigrams of every name part *and* of its spelling skeleton (``normalise.name_key``),
  as one bag per filter, so the order of name parts does not matter and transliteration variants share bits.
  Dates: year, month, day, the unordered (month, day) pair (day/month swaps keep most bits) and bigrams of
  YYYYMMDD. Text and numbers: padded bigrams. Categories: the value.
- **Keyed random hashing.** Each token sets ``k`` positions drawn from HMAC-SHA256 under a per-filter key derived
  from the shared secret (not double hashing, whose linear structure has been exploited). Without the key nobody
  can encode a dictionary of names and compare.
- **Hardening** against frequency and pattern-mining attacks (Christen et al. 2017-2019, Franke et al. 2019):
  *record-level filters* (several fields in one filter, so no filter carries one low-entropy attribute's
  frequency distribution), *salting* (optional, per filter: the value of a stable field such as the year of birth
  enters every token's hash, so a frequent name sets different bits in different records; costs the pairs whose
  salt field differs), and *BLIP* (each bit replaced by a coin toss with probability ``f``, seeded by the key and the
  record's own filter, so that equal records still encode equally; randomised response with
  eps = ln((2 - f) / f) per bit). Balancing and XOR-folding are not used: balancing only hides the number of
  tokens and doubles the length; XOR-folding costs more accuracy than BLIP for less protection in Franke et al.

Encodings travel as CSV: the id column, then one column per filter holding base64 of its bits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from onthemove.respond.link import normalise as nz
from onthemove.respond.link.spec import TYPES, SpecError

VERSION = b"onthemove-pprl/v1"
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class FilterSpec:
    name: str
    fields: tuple[str, ...]
    bits: int = 1024
    k: int = 15  # positions per token
    salt: tuple[str, ...] = ()  # fields whose values salt every token of this filter


@dataclass
class EncodingSpec:
    id: str | None
    types: dict[str, str]  # field -> type (name, date, text, digits, phone, category, email)
    filters: list[FilterSpec]
    blip: float = 0.02
    orders: dict[str, str] = field(default_factory=dict)  # date field -> ymd/dmy/mdy
    source: str = "encoding spec"


def encoding_from_dict(data: dict[str, Any], source: str = "encoding spec") -> EncodingSpec:
    """``id``, ``fields`` (as in a linkage spec), ``filters: {name: {fields: [...], bits, k, salt}}``, ``blip``."""
    if not isinstance(data, dict) or "fields" not in data or "filters" not in data:
        raise SpecError(f"{source}: an encoding spec has fields and filters")
    types: dict[str, str] = {}
    orders: dict[str, str] = {}
    for name, value in data["fields"].items():
        entry = {"type": value} if isinstance(value, str) else dict(value)
        if entry.get("type") not in TYPES or entry["type"] == "bloom":
            raise SpecError(f"{source}: field {name!r}: type is one of {', '.join(t for t in TYPES if t != 'bloom')}")
        types[str(name)] = entry["type"]
        orders[str(name)] = str(entry.get("order", "ymd"))
    filters = []
    for fname, value in data["filters"].items():
        entry = {"fields": value} if isinstance(value, list) else dict(value)
        fields = tuple(entry.get("fields", ()))
        salt = tuple(entry.get("salt", ()))
        for f in (*fields, *salt):
            if f not in types:
                raise SpecError(f"{source}: filter {fname!r}: no field {f!r} (fields: {', '.join(types)})")
        bits = int(entry.get("bits", 1024))
        if bits % 64 or bits < 64:
            raise SpecError(f"{source}: filter {fname!r}: bits must be a multiple of 64, not {bits}")
        filters.append(FilterSpec(str(fname), fields, bits, int(entry.get("k", 15)), salt))
    blip = float(data.get("blip", 0.02))
    if not 0 <= blip < 0.5:
        raise SpecError(f"{source}: blip is a probability below 0.5, not {blip}")
    return EncodingSpec(data.get("id"), types, filters, blip, orders, source)


def load_encoding_spec(path: str | Path) -> EncodingSpec:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{p}: cannot read the encoding spec ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{p}: not valid YAML ({exc})") from exc
    return encoding_from_dict(data, str(p))


# --- keys -----------------------------------------------------------------------------------------------------


def new_key() -> bytes:
    return secrets.token_bytes(32)


def write_key(path: str | Path) -> Path:
    p = Path(path)
    p.write_text(new_key().hex() + "\n", encoding="ascii")
    p.chmod(0o600)
    return p


def read_key(path: str | Path) -> bytes:
    p = Path(path)
    try:
        text = p.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise SpecError(f"{p}: cannot read the key file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{p}: a key file holds the key as hexadecimal text") from exc
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise SpecError(f"{p}: a key file holds the key as hexadecimal text") from exc
    if len(key) < MIN_KEY_BYTES:
        raise SpecError(f"{p}: the key has {len(key)} bytes; use at least {MIN_KEY_BYTES} (onthemove link keygen)")
    return key


def filter_key(secret: bytes, name: str) -> bytes:
    return hmac.new(secret, VERSION + b"/filter/" + name.encode(), hashlib.sha256).digest()


# --- tokens ---------------------------------------------------------------------------------------------------


def bigrams(text: str, tag: str) -> list[str]:
    padded = f"_{text}_"
    return [f"{tag}:{padded[i : i + 2]}" for i in range(len(padded) - 1)]


def tokens(value: Any, ftype: str, order: str = "ymd") -> list[str]:
    """The tokens one field's value adds to a filter (empty when the value is missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip():
        return []
    text = str(value)
    if ftype == "name":
        out = []
        for part in nz.name_parts(text):
            out += bigrams(part, "n")
            key = nz.name_key(part)
            if key:
                out += bigrams(key, "k")
        return out
    if ftype == "date":
        parsed = nz.parse_date(text, order)
        if parsed is None:
            return []
        y, m, d = parsed
        out = [f"y:{y}"]
        if m is not None:
            out.append(f"m:{m}")
        if d is not None and m is not None:
            out += [f"d:{d}", f"md:{min(m, d)}-{max(m, d)}"]
            out += bigrams(f"{y:04d}{m:02d}{d:02d}", "s")
        return out
    if ftype in ("text", "email"):
        clean = nz.clean_text(text)
        return bigrams(clean, "t") if clean else []
    if ftype in ("digits", "phone"):
        digits = nz.phone(text) if ftype == "phone" else nz.digits(text)
        return bigrams(digits, "d") if digits else []
    clean = nz.clean_text(text)
    return [f"c:{clean}"] if clean else []


class _Positions:
    """Token -> its k bit positions under one filter key (cached: names repeat)."""

    def __init__(self, key: bytes, bits: int, k: int) -> None:
        self.key, self.bits, self.k = key, bits, k
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, token: str) -> np.ndarray:
        found = self.cache.get(token)
        if found is None:
            stream = b""
            counter = 0
            while len(stream) < 4 * self.k:
                stream += hmac.new(self.key, f"{counter}|{token}".encode(), hashlib.sha256).digest()
                counter += 1
            found = np.frombuffer(stream[: 4 * self.k], dtype="<u4") % self.bits
            self.cache[token] = found
        return found


# --- encoding -------------------------------------------------------------------------------------------------


def _blip(matrix: np.ndarray, key: bytes, f: float) -> np.ndarray:
    """Randomised response per bit, seeded by the key and the record's own bits (equal records stay equal)."""
    if f <= 0:
        return matrix
    out = matrix.copy()
    packed = np.packbits(matrix, axis=1)
    for i in range(len(matrix)):
        seed = hmac.new(key, b"blip" + packed[i].tobytes(), hashlib.sha256).digest()
        rng = np.random.default_rng(int.from_bytes(seed[:16], "little"))
        touch = np.asarray(rng.random(matrix.shape[1]) < f)
        out[i, touch] = rng.random(int(np.count_nonzero(touch))) < 0.5
    return out


def encode_filter(
    frame: pd.DataFrame, spec: EncodingSpec, flt: FilterSpec, secret: bytes, *, harden: bool = True
) -> np.ndarray:
    """The filter of every record as a boolean matrix (records x bits)."""
    key = filter_key(secret, flt.name)
    positions = _Positions(key, flt.bits, flt.k)
    n = len(frame)
    columns = {f: frame[f].tolist() for f in {*flt.fields, *flt.salt}}
    salts = [""] * n
    if harden and flt.salt:
        salts = [
            "|".join(
                str(t) for f in flt.salt for t in tokens(columns[f][i], spec.types[f], spec.orders.get(f, "ymd"))[:1]
            )
            for i in range(n)
        ]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for i in range(n):
        toks: list[str] = []
        for f in flt.fields:
            toks += tokens(columns[f][i], spec.types[f], spec.orders.get(f, "ymd"))
        if not toks:
            continue
        pos = np.concatenate([positions(f"{salts[i]}#{t}") for t in toks])
        rows.append(np.full(len(pos), i))
        cols.append(pos)
    matrix = np.zeros((n, flt.bits), dtype=bool)
    if rows:
        matrix[np.concatenate(rows), np.concatenate(cols)] = True
    empty = ~matrix.any(axis=1)
    if harden:
        matrix = _blip(matrix, key, spec.blip)
        matrix[empty] = False  # a missing value stays missing
    return matrix


def to_base64(matrix: np.ndarray) -> list[str]:
    packed = np.packbits(matrix, axis=1, bitorder="little")
    return [base64.b64encode(row.tobytes()).decode("ascii") if row.any() else "" for row in packed]


def encode(frame: pd.DataFrame, spec: EncodingSpec, secret: bytes, *, harden: bool = True) -> pa.Table:
    """An agency's list as encodings: the id column and one base64 column per filter (no names, no dates)."""
    missing = [f for f in spec.types if f not in frame.columns]
    if spec.id and spec.id not in frame.columns:
        missing.insert(0, spec.id)
    if missing:
        raise SpecError(f"{spec.source}: the list has no column {', '.join(repr(m) for m in missing)}")
    frame = frame.reset_index(drop=True)
    ids = frame[spec.id].astype(str).tolist() if spec.id else [str(i + 1) for i in range(len(frame))]
    out: dict[str, Any] = {spec.id or "id": ids}
    for flt in spec.filters:
        out[flt.name] = to_base64(encode_filter(frame, spec, flt, secret, harden=harden))
    return pa.table(out)


def decode_words(values: Iterable[Any], name: str = "encoding") -> tuple[np.ndarray, np.ndarray]:
    """Base64 encodings -> (records x words) signed 64-bit words and each record's popcount (0 when missing)."""
    raw = [None if v is None or v == "" else v for v in values]
    width = None
    blobs: list[bytes | None] = []
    for i, v in enumerate(raw):
        if v is None:
            blobs.append(None)
            continue
        try:
            b = base64.b64decode(str(v), validate=True)
        except ValueError as exc:
            raise SpecError(f"{name}: row {i + 2}: not a base64 encoding") from exc
        if width is None:
            width = len(b)
        if len(b) != width or width % 8:
            raise SpecError(f"{name}: row {i + 2}: {len(b) * 8} bits where the others have {width * 8}")
        blobs.append(b)
    width = width or 8
    buf = np.zeros((len(blobs), width), dtype=np.uint8)
    for i, blob in enumerate(blobs):
        if blob is not None:
            buf[i] = np.frombuffer(blob, dtype=np.uint8)
    words = buf.view("<u8")
    counts = np.bitwise_count(words).sum(axis=1).astype(np.int64)
    return words.view(np.int64), counts


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice similarity of two boolean bit arrays."""
    total = int(a.sum()) + int(b.sum())
    return 2.0 * int((a & b).sum()) / total if total else 0.0


# --- blocking by locality-sensitive hashing --------------------------------------------------------------------


def lsh_bands(words: np.ndarray, bands: int, rows: int, seed: int) -> np.ndarray:
    """Hamming LSH: each band is ``rows`` bit positions (public, seeded) read as one integer; records that agree
    on every bit of a band are candidates. (records x bands) int64; -1 for records without an encoding."""
    bits = words.shape[1] * 64
    unpacked = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little").astype(np.int64)
    rng = np.random.default_rng(seed)
    out = np.empty((len(words), bands), dtype=np.int64)
    weights = np.int64(1) << np.arange(rows, dtype=np.int64)
    for b in range(bands):
        pick = rng.choice(bits, size=rows, replace=False)
        out[:, b] = unpacked[:, pick] @ weights
    out[~words.any(axis=1)] = -1
    return out


def auto_rows(words: np.ndarray, target: float = 1e-5) -> int:
    """Bits per band such that two random records share a band with probability about ``target``."""
    present = words.any(axis=1)
    if not present.any():
        return 16
    unpacked = np.unpackbits(words[present].view(np.uint8), axis=1, bitorder="little")
    p = unpacked.mean(axis=0)
    agree = float(np.mean(p * p + (1 - p) * (1 - p)))
    return int(min(62, max(8, math.ceil(math.log(target) / math.log(max(agree, 1e-9))))))
