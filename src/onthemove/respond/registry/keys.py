"""The registry's two keys, kept outside the store: one encrypts identifying fields, one makes pseudonyms.

Each key is 32 random bytes, written as one line of URL-safe base64 in a file of its own (``keygen``), or
given in an environment variable. Where they come from, in order:

* the encryption key: the file named by the setting ``registry_key_file``, else the variable
  ``ONTHEMOVE_REGISTRY_KEY`` (the key itself);
* the pseudonymisation key: the file named by ``registry_pseudonym_key_file``, else
  ``ONTHEMOVE_REGISTRY_PSEUDONYM_KEY``.

The variables holding keys are deliberately not settings: a setting can be written into ``onthemove.toml``
and is printed by ``onthemove settings``; a key must be neither. A key file must be readable by its owner
only (mode 0600 or stricter) and must not lie inside a DuckDB store's directory (a copy of the store would
carry its key along). The two keys must differ. ``key_id`` is a fingerprint of a key (an HMAC of a fixed
text under it) that says which key is in use without revealing it; the store records the fingerprints so
that a wrong key is refused with a clear message instead of silently making new pseudonyms.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

KEY_BYTES = 32
ENV_KEY = "ONTHEMOVE_REGISTRY_KEY"
ENV_PSEUDONYM_KEY = "ONTHEMOVE_REGISTRY_PSEUDONYM_KEY"
HEADER = (
    "# onthemove registry key ({what}). Keep it outside the store, readable by its owner only (chmod 600),\n"
    "# backed up apart from the store's backups. Losing it {loss}. Never commit it, never mail it.\n"
)
_LOSS = {
    "encryption": "makes every identifying field in the store unreadable",
    "pseudonymisation": "means a household registered again gets a new pseudonymous ID",
}


class RegistryKeyError(ValueError):
    """A key is missing, unreadable, too open or wrong; the message says what to do."""


@dataclass(frozen=True)
class RegistryKeys:
    """The encryption key and the pseudonymisation key (never printed: see ``__repr__``)."""

    encryption: bytes
    pseudonym: bytes

    def __post_init__(self) -> None:
        for name, key in (("encryption", self.encryption), ("pseudonymisation", self.pseudonym)):
            if len(key) != KEY_BYTES:
                raise RegistryKeyError(f"the {name} key must be {KEY_BYTES} bytes, not {len(key)}")
        if hmac.compare_digest(self.encryption, self.pseudonym):
            raise RegistryKeyError(
                "the encryption key and the pseudonymisation key are the same: make two keys with "
                "`onthemove registry keygen`"
            )

    def __repr__(self) -> str:
        return f"RegistryKeys(encryption={key_id(self.encryption)}, pseudonym={key_id(self.pseudonym)})"

    __str__ = __repr__


def key_id(key: bytes) -> str:
    """A short fingerprint that names a key without revealing it."""
    return "k" + hmac.new(key, b"onthemove registry key id", hashlib.sha256).hexdigest()[:12]


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str, where: str) -> bytes:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if len(lines) != 1:
        raise RegistryKeyError(f"{where}: expected one line with the key (URL-safe base64), found {len(lines)}")
    try:
        key = base64.urlsafe_b64decode(lines[0].encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise RegistryKeyError(
            f"{where}: the key is not URL-safe base64; make one with `onthemove registry keygen`"
        ) from None
    if len(key) != KEY_BYTES:
        raise RegistryKeyError(f"{where}: the key must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


def write_key_file(path: str | Path, what: str = "encryption", key: bytes | None = None) -> Path:
    """Write a new key to ``path`` (mode 0600, created exclusively: an existing file is never overwritten)."""
    path = Path(path)
    if what not in _LOSS:
        raise ValueError(f"what is 'encryption' or 'pseudonymisation', not {what!r}")
    if path.exists():
        raise RegistryKeyError(f"{path} exists already; a key file is never overwritten (move it away first)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(HEADER.format(what=what, loss=_LOSS[what]))
        f.write(encode_key(key or new_key()) + "\n")
    return path


def check_outside_store(path: str | Path, store_location: str | None) -> None:
    """Refuse a key file inside a DuckDB store's directory: a copy of the store would carry its key."""
    if not store_location or store_location.startswith(("postgresql://", "postgres://")):
        return
    store_dir = Path(store_location).expanduser().resolve()
    if store_dir.suffix == ".duckdb":
        store_dir = store_dir.parent
    if Path(path).expanduser().resolve().is_relative_to(store_dir):
        raise RegistryKeyError(
            f"registry key file {path} lies inside the store's directory {store_dir}: keep keys outside the "
            "store, so that a copy of the store does not carry its key"
        )


def read_key_file(path: str | Path, store_location: str | None = None) -> bytes:
    path = Path(path).expanduser()
    if not path.is_file():
        raise RegistryKeyError(f"registry key file {path} not found; make one with `onthemove registry keygen {path}`")
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise RegistryKeyError(
            f"registry key file {path} can be read by other users (mode {stat.S_IMODE(mode):04o}): run chmod 600 {path}"
        )
    check_outside_store(path, store_location)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryKeyError(f"cannot read registry key file {path}: {exc}") from exc
    return decode_key(text, str(path))


def load_keys(
    settings: Mapping[str, object], environ: Mapping[str, str] | None = None, store_location: str | None = None
) -> RegistryKeys:
    """Both keys, from the files the settings name or else from the environment; a clear error when missing."""
    env = os.environ if environ is None else environ

    def one(setting: str, variable: str, what: str) -> bytes:
        path = str(settings.get(setting) or "")
        if path:
            return read_key_file(path, store_location)
        if env.get(variable):
            return decode_key(env[variable], variable)
        raise RegistryKeyError(
            f"no registry {what} key: set {setting} (ONTHEMOVE_{setting.upper()}) to a key file made with "
            f"`onthemove registry keygen`, or put the key in {variable}"
        )

    return RegistryKeys(
        one("registry_key_file", ENV_KEY, "encryption"),
        one("registry_pseudonym_key_file", ENV_PSEUDONYM_KEY, "pseudonymisation"),
    )
