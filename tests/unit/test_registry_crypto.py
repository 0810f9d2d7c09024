"""Encryption of identifying fields, keys kept outside the store, pseudonyms and the normalisation under them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onthemove.respond.registry import crypto
from onthemove.respond.registry.crypto import Cipher, DecryptionError
from onthemove.respond.registry.keys import (
    ENV_KEY,
    ENV_PSEUDONYM_KEY,
    RegistryKeyError,
    RegistryKeys,
    encode_key,
    key_id,
    load_keys,
    new_key,
    read_key_file,
    write_key_file,
)

K1, K2, K3 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def test_round_trip_and_fresh_nonces() -> None:
    c = Cipher(K1)
    for text in ("Faadumo Cali Xasan", "", "Ma'alin Cismaan", "محمد علي", "x" * 500):
        token = c.encrypt(text, "members.name_enc.M-1")
        assert token is not None and token.startswith(f"v1.{key_id(K1)}.")
        assert not text or text.encode() not in token.encode()
        assert c.decrypt(token, "members.name_enc.M-1") == text
    assert c.encrypt(None, "x") is None and c.decrypt(None, "x") is None
    assert c.encrypt("Amina", "x") != c.encrypt("Amina", "x")  # a fresh nonce each time


def test_length_is_padded() -> None:
    c = Cipher(K1)
    short, longer = c.encrypt("Ali", "x"), c.encrypt("Abdirahman Mohamud Ali", "x")
    assert short is not None and longer is not None and len(short) == len(longer)


def test_wrong_key_fails_clearly() -> None:
    token = Cipher(K1).encrypt("Hodan Ali Jama", "members.name_enc.M-1")
    with pytest.raises(DecryptionError, match=f"encrypted with key {key_id(K1)}, but the key given is {key_id(K2)}"):
        Cipher(K2).decrypt(token, "members.name_enc.M-1")


def test_ciphertext_is_bound_to_its_record_and_cannot_be_altered() -> None:
    c = Cipher(K1)
    token = c.encrypt("Hodan Ali Jama", "members.name_enc.M-1")
    assert token is not None
    with pytest.raises(DecryptionError, match="belongs to another record"):
        c.decrypt(token, "members.name_enc.M-2")  # copied into another row
    body = token.split(".", 2)[2]
    flipped = body[:-5] + ("A" if body[-5] != "A" else "B") + body[-4:]
    with pytest.raises(DecryptionError):
        c.decrypt(f"v1.{key_id(K1)}.{flipped}", "members.name_enc.M-1")
    with pytest.raises(DecryptionError, match="not an onthemove ciphertext"):
        c.decrypt("Hodan Ali Jama", "members.name_enc.M-1")


def test_pseudonyms_are_stable_and_depend_on_the_key() -> None:
    a = crypto.member_identity("Faadumo Cali Xasan", 1985, "f", None)
    b = crypto.member_identity("  FAADUMO  cali-xasan ", 1985, "f", None)
    assert a == b == "name|faadumo cali xasan|1985|f"
    assert crypto.pseudonym(K1, "member", a) == crypto.pseudonym(K1, "member", b)
    assert crypto.pseudonym(K1, "member", a) != crypto.pseudonym(K2, "member", a)
    assert crypto.pseudonym(K1, "member", a) != crypto.household_pseudonym(K1, a)  # kinds do not collide
    pid = crypto.household_pseudonym(K1, a)
    assert pid.startswith("HH-") and len(pid) == 19 and pid[3:].isalnum() and pid[3:].isupper()
    # a document wins over the name: spelling of the name no longer matters, the number does
    assert crypto.member_identity("Fadumo Ali", 1985, "f", "so 1234-5678") == "doc|SO12345678"
    assert crypto.member_identity("Faadumo Cali", 1986, "f", "SO-1234/5678") == "doc|SO12345678"
    # the birth year, the sex and the word order are part of a name identity
    assert crypto.member_identity("Ali Ahmed Hassan", 1980, "m", None) != crypto.member_identity(
        "Ahmed Ali Hassan", 1980, "m", None
    )
    assert crypto.member_identity("Ali Ahmed", 1980, "m", None) != crypto.member_identity("Ali Ahmed", 1981, "m", None)
    # the mother's name tells apart two people of one name, age and sex; it changes nothing when absent
    assert crypto.member_identity("Ali Ahmed", 1980, "m", None, "Hawa  Nur") == "name|ali ahmed|1980|m|mother|hawa nur"
    assert crypto.member_identity("Ali Ahmed", 1980, "m", None, " ") == crypto.member_identity(
        "Ali Ahmed", 1980, "m", None
    )


def test_blind_index_and_recipient_pseudonyms() -> None:
    assert crypto.blind_index(K1, "phone", "") is None
    i = crypto.blind_index(K1, "phone", crypto.normalise_phone("+252 61-555 0101"))
    assert i == crypto.blind_index(K1, "phone", crypto.normalise_phone("00252615550101"))
    assert i != crypto.blind_index(K1, "document", "252615550101")  # fields do not share an index
    assert i != crypto.blind_index(K2, "phone", "252615550101")
    pid = crypto.household_pseudonym(K1, "doc|X1234")
    a, b = crypto.recipient_pseudonym(K1, "NGO A", pid), crypto.recipient_pseudonym(K1, "NGO B", pid)
    assert a != b and a.startswith("HH-X") and a == crypto.recipient_pseudonym(K1, " ngo a ", pid)


NAME = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(NAME)
def test_name_normalisation_is_idempotent_and_plain(text: str) -> None:
    norm = crypto.normalise_name(text)
    assert crypto.normalise_name(norm) == norm
    assert norm == norm.strip() and "  " not in norm
    assert all(ch.isascii() and (ch.isalnum() or ch == " ") for ch in norm)
    assert norm == norm.lower()


WORDS = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8),
                 min_size=1, max_size=4)  # fmt: skip
SEPARATORS = st.sampled_from([" ", "  ", "-", " - ", ".", "\t", ", "])


@given(WORDS, SEPARATORS, st.sampled_from(["", " ", "  "]))
def test_case_spacing_and_punctuation_do_not_change_a_pseudonym(words: list[str], sep: str, pad: str) -> None:
    plain = " ".join(words)
    variant = pad + sep.join(w.upper() if i % 2 else w.lower() for i, w in enumerate(words)) + pad
    assert crypto.normalise_name(variant) == crypto.normalise_name(plain)
    ids = [crypto.pseudonym(K1, "member", crypto.member_identity(t, 1990, "f", None)) for t in (plain, variant)]
    assert ids[0] == ids[1]


@given(st.text(alphabet="ABCDEFGHJK0123456789", min_size=4, max_size=12), st.sampled_from(["", " ", "-", "/", "."]))
def test_document_separators_do_not_count(number: str, sep: str) -> None:
    spaced = sep.join(number[i : i + 3] for i in range(0, len(number), 3))
    assert crypto.normalise_document(spaced.lower()) == crypto.normalise_document(number) == number


@given(st.text(max_size=30))
def test_accents_fold_to_ascii(text: str) -> None:
    assert crypto.normalise_name(text) == crypto.normalise_name(crypto.normalise_name(text).upper())


def test_transliteration_and_apostrophes() -> None:
    assert crypto.normalise_name("Ma'alin  ʻOsmán") == "maalin osman"
    assert crypto.normalise_name("Cabdi-Raxmaan") == "cabdi raxmaan"


# --- keys ----------------------------------------------------------------------------------------------------------


def test_key_files_are_private_outside_the_store_and_never_overwritten(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "keys" / "enc.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = read_key_file(path)
    assert len(key) == 32
    with pytest.raises(RegistryKeyError, match="never overwritten"):
        write_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(RegistryKeyError, match="chmod 600"):
        read_key_file(path)
    os.chmod(path, 0o600)
    inside = write_key_file(tmp_path / "store" / "enc.key")
    with pytest.raises(RegistryKeyError, match="inside the store"):
        read_key_file(inside, str(tmp_path / "store"))
    with pytest.raises(RegistryKeyError, match="not found; make one with `onthemove registry keygen"):
        read_key_file(tmp_path / "missing.key")
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    bad.chmod(0o600)
    with pytest.raises(RegistryKeyError, match=r"base64|bytes"):
        read_key_file(bad)


def test_keys_from_settings_or_environment(tmp_path: Path) -> None:
    enc, pse = write_key_file(tmp_path / "e.key"), write_key_file(tmp_path / "p.key", "pseudonymisation")
    keys = load_keys({"registry_key_file": str(enc), "registry_pseudonym_key_file": str(pse)}, environ={})
    assert keys.encryption == read_key_file(enc)
    assert encode_key(keys.encryption) not in repr(keys) and key_id(keys.encryption) in repr(keys)
    env = {ENV_KEY: encode_key(K1), ENV_PSEUDONYM_KEY: encode_key(K2)}
    assert load_keys({}, environ=env) == RegistryKeys(K1, K2)
    with pytest.raises(RegistryKeyError, match="no registry encryption key: set registry_key_file"):
        load_keys({}, environ={})
    with pytest.raises(RegistryKeyError, match="the same"):
        load_keys({}, environ={ENV_KEY: encode_key(K3), ENV_PSEUDONYM_KEY: encode_key(K3)})
    assert len({new_key() for _ in range(3)}) == 3
