"""Encryption of identifying fields, keyed pseudonyms and blind indexes, and the normalisation they rest on.

* **Fields** are encrypted with AES-256-GCM (``cryptography``), a fresh 96-bit nonce each time, the plaintext
  padded to a multiple of 32 bytes (so a ciphertext's length does not give away a name's length), and the
  field's place in the store as associated data (``households.phone_enc.HH-...``): a ciphertext copied into
  another row or column fails to decrypt instead of showing one person's data as another's. A token reads
  ``v1.<key id>.<base64url(nonce | ciphertext | tag)>``, so a wrong key is named, not guessed at.
* **Pseudonyms** are HMAC-SHA256 under the pseudonymisation key of a normalised identity (``identity``
  says which), cut to 80 bits and written in base32: ``HH-`` for households, ``M-`` for members. The same
  identity gives the same pseudonym in every import, and nobody without the key can compute or test one.
* **Blind indexes** are HMAC-SHA256 of one normalised field (a document number, a phone number, a name with
  birth year) under the same key with a different label: an exact lookup without decrypting anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from unidecode import unidecode

from onthemove.respond.registry.keys import key_id

VERSION = "v1"
NONCE_BYTES = 12
PAD_TO = 32
PSEUDONYM_BYTES = 10  # 80 bits: a clash is unlikely below ~10^11 records


class DecryptionError(ValueError):
    """A ciphertext could not be decrypted: wrong key, altered, or moved from another record."""


def _pad(data: bytes) -> bytes:
    n = PAD_TO - (len(data) + 1) % PAD_TO
    return data + b"\x80" + b"\x00" * (n % PAD_TO)


def _unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise DecryptionError("bad padding")
    return end[:-1]


class Cipher:
    """AES-256-GCM over text fields, bound to where each field is stored."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.key_id = key_id(key)

    def __repr__(self) -> str:
        return f"Cipher({self.key_id})"

    def encrypt(self, plaintext: str | None, context: str) -> str | None:
        if plaintext is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, _pad(plaintext.encode("utf-8")), context.encode("utf-8"))
        return f"{VERSION}.{self.key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str | None, context: str) -> str | None:
        if token is None:
            return None
        _, kid, body = _split(token)
        if kid != self.key_id:
            raise DecryptionError(
                f"{context} was encrypted with key {kid}, but the key given is {self.key_id}: use the key file "
                "this store was encrypted with (or the new one, if a key rotation finished)"
            )
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            padded = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode("utf-8"))
        except (InvalidTag, binascii.Error, ValueError):
            raise DecryptionError(
                f"{context} does not decrypt: the ciphertext was altered or belongs to another record"
            ) from None
        return _unpad(padded).decode("utf-8")


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(".", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise DecryptionError(f"not an onthemove ciphertext ({VERSION}.<key id>.<data>)")
    return parts[0], parts[1], parts[2]


def token_key_id(token: str) -> str:
    """The fingerprint of the key a ciphertext was made with."""
    return _split(token)[1]


# --- normalisation -------------------------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"['’‘`ʼʻ´]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_name(text: str) -> str:
    """A name as it enters a pseudonym or an index: transliterated to ASCII (unidecode), case-folded,
    apostrophes dropped, every other run of non-alphanumerics one space, trimmed. Word order is kept
    (``Ali Ahmed Hassan`` and ``Ahmed Ali Hassan`` are son and father in a patronymic naming system)."""
    t = unidecode(unicodedata.normalize("NFKC", text))
    t = _APOSTROPHES.sub("", t).casefold()
    return _NOT_ALNUM.sub(" ", t).strip()


def normalise_document(text: str) -> str:
    """An identity-document number: ASCII letters and digits only, upper case (spaces, dashes, dots and
    slashes that clerks add or leave out do not count)."""
    return re.sub(r"[^A-Z0-9]", "", unidecode(unicodedata.normalize("NFKC", text)).upper())


def normalise_phone(text: str) -> str:
    """Digits only, an international ``00`` prefix dropped (``+252 61-555 0101`` -> ``252615550101``)."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
    return digits[2:] if digits.startswith("00") else digits


def member_identity(
    name: str, birth_year: int | None, sex: str, document: str | None, mother: str | None = None
) -> str:
    """The text a member's pseudonym is derived from.

    With an identity document: ``doc|<number>`` (the type is not part of it, so a clerk choosing another
    type for the same card does not split the person). Without: ``name|<name>|<birth year>|<sex>``, followed
    by ``|mother|<mother's name>`` when the form asks for it (the usual way to tell apart two people of the
    same name and age). A change of any of these (a document issued later, a corrected name or birth year)
    gives a new pseudonym.
    """
    doc = normalise_document(document) if document else ""
    if doc:
        return f"doc|{doc}"
    identity = f"name|{normalise_name(name)}|{'' if birth_year is None else int(birth_year)}|{sex}"
    mother_name = normalise_name(mother) if mother else ""
    return f"{identity}|mother|{mother_name}" if mother_name else identity


def pseudonym(key: bytes, kind: str, identity: str) -> str:
    """``HH-`` (kind ``household``) or ``M-`` (``member``) and 16 base32 characters of an HMAC-SHA256."""
    prefix = {"household": "HH-", "member": "M-"}[kind]
    mac = hmac.new(key, f"onthemove/{kind}/{VERSION}|{identity}".encode(), hashlib.sha256).digest()
    return prefix + base64.b32encode(mac[:PSEUDONYM_BYTES]).decode("ascii")


def household_pseudonym(key: bytes, head_identity: str) -> str:
    """A household is named after its head's identity: a new head is a new household ID (docs/registry.md)."""
    return pseudonym(key, "household", head_identity)


def blind_index(key: bytes, field: str, normalised: str) -> str | None:
    """A keyed hash of one normalised field, for exact lookups; None for an empty value."""
    if not normalised:
        return None
    return hmac.new(key, f"onthemove/index/{field}/{VERSION}|{normalised}".encode(), hashlib.sha256).hexdigest()[:32]


def recipient_pseudonym(key: bytes, recipient: str, pid: str) -> str:
    """The ID a household or member gets in an export for one recipient: two partners' files cannot be
    joined on it, and only the registry (with the key) can map it back."""
    mac = hmac.new(key, f"onthemove/export/{VERSION}|{recipient.strip().casefold()}|{pid}".encode(), hashlib.sha256)
    return pid.split("-", 1)[0] + "-X" + base64.b32encode(mac.digest()[:PSEUDONYM_BYTES]).decode("ascii")
