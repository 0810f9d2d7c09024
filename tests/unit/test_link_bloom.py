"""Keyed Bloom-filter encodings: deterministic per key, unrelated across keys, Dice of equal records 1, and the
hardening measurably flattens the frequencies an attacker would align with public name lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from onthemove.respond.link import bloom
from onthemove.respond.link.spec import SpecError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def spec(blip: float = 0.02, salt: tuple[str, ...] = ()) -> bloom.EncodingSpec:
    return bloom.encoding_from_dict(
        {
            "id": "id",
            "fields": {"first": "name", "father": "name", "dob": "date", "phone": "phone"},
            "filters": {
                "names": {"fields": ["first", "father"], "bits": 512, "k": 12, "salt": list(salt)},
                "dob": {"fields": ["dob"], "bits": 256, "k": 10},
            },
            "blip": blip,
        }
    )


def people(n: int = 2000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    firsts = np.array(["Mohamed", "Ahmed", "Fatima", "Amina", "Hassan", "Omar", "Khadija", "Ali", "Hawa", "Yusuf"])
    p = 1 / np.arange(1, len(firsts) + 1)
    return pd.DataFrame(
        {
            "id": [str(i) for i in range(n)],
            "first": firsts[rng.choice(len(firsts), n, p=p / p.sum())],
            "father": firsts[rng.choice(len(firsts), n)],
            "dob": [
                f"{y}-0{m}-1{d}"
                for y, m, d in zip(
                    rng.integers(1950, 2000, n), rng.integers(1, 9, n), rng.integers(0, 9, n), strict=True
                )
            ],
            "phone": ["0612345678"] * n,
        }
    )


def matrix(frame: pd.DataFrame, s: bloom.EncodingSpec, key: bytes = KEY, harden: bool = True) -> np.ndarray:
    return bloom.encode_filter(frame, s, s.filters[0], key, harden=harden)


def test_encoding_is_deterministic_per_key_and_unrelated_across_keys() -> None:
    frame = people(300)
    a, b = bloom.encode(frame, spec(), KEY), bloom.encode(frame, spec(), KEY)
    assert a.equals(b)
    other = bloom.encode(frame, spec(), OTHER_KEY)
    assert a.column("names").to_pylist() != other.column("names").to_pylist()
    same_key, _ = bloom.decode_words(a.column("names").to_pylist())
    other_key, _ = bloom.decode_words(other.column("names").to_pylist())

    def dice_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        inter = np.bitwise_count(x.view(np.uint64) & y.view(np.uint64)).sum(axis=1)
        total = np.bitwise_count(x.view(np.uint64)).sum(axis=1) + np.bitwise_count(y.view(np.uint64)).sum(axis=1)
        return 2 * inter / total

    across_keys = dice_rows(same_key, other_key).mean()
    unrelated = dice_rows(same_key, np.roll(same_key, 1, axis=0)).mean()
    assert across_keys < 0.5
    # the same record under another key is no closer than two different people under one key
    assert across_keys < unrelated + 0.02


def test_dice_of_equal_records_is_one_and_variants_are_close() -> None:
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3", "4"],
            "first": ["Mohamed", "Mohamed", "Maxamed", "Khadija"],
            "father": ["Ali", "Ali", "Cali", "Ali"],
            "dob": ["1990-04-03", "1990-04-03", "03/04/1990", "1990-04-03"],
            "phone": ["", "", "", ""],
        }
    )
    m = matrix(frame, spec())
    assert bloom.dice(m[0], m[1]) == 1.0
    assert bloom.dice(m[0], m[2]) > 0.6 > bloom.dice(m[0], m[3]) - 0.2
    assert bloom.dice(m[0], m[2]) > bloom.dice(m[0], m[3])
    swapped = frame.assign(first=frame["father"], father=frame["first"])
    assert bloom.dice(matrix(swapped, spec())[0], m[0]) > 0.9  # name parts are one bag: order does not matter


def test_base64_round_trip_and_popcount() -> None:
    m = matrix(people(50), spec())
    words, counts = bloom.decode_words(bloom.to_base64(m))
    np.testing.assert_array_equal(counts, m.sum(axis=1))
    back = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little").astype(bool)
    np.testing.assert_array_equal(back, m)
    with pytest.raises(SpecError, match="row 4"):  # the file's row: a header, then the values
        bloom.decode_words(["AAAAAAAAAAA=", "AAAAAAAAAAA=", "not base64!"])


def test_salting_flattens_encoding_and_bit_frequencies() -> None:
    """An attacker aligns the most frequent encodings and bit positions with the most frequent names. Salting
    with the year of birth splits each name's encoding over many years and spreads its bits."""
    frame = people(3000)
    plain = matrix(frame, spec(blip=0), harden=False)
    salted = matrix(frame, spec(blip=0, salt=("dob",)))
    _, plain_counts = np.unique(plain, axis=0, return_counts=True)
    _, salted_counts = np.unique(salted, axis=0, return_counts=True)
    assert plain_counts.max() / len(frame) > 0.05  # Mohamed + the most common father's name
    assert salted_counts.max() / len(frame) < plain_counts.max() / len(frame) / 5
    plain_bits, salted_bits = plain.mean(axis=0), salted.mean(axis=0)
    assert salted_bits.max() < 0.75 * plain_bits.max()
    assert salted_bits.std() < 0.75 * plain_bits.std()


def test_blip_moves_bit_frequencies_towards_a_half_and_keeps_equal_records_equal() -> None:
    frame = people(3000)
    plain = matrix(frame, spec(blip=0), harden=False)
    blipped = matrix(frame, spec(blip=0.1))
    assert 0.01 < (plain != blipped).mean() < 0.1  # about f/2 of the bits
    assert np.abs(blipped.mean(axis=0) - 0.5).mean() < 0.95 * np.abs(plain.mean(axis=0) - 0.5).mean()
    twice = pd.concat([frame.iloc[:1], frame.iloc[:1]])
    m = matrix(twice, spec(blip=0.1))
    assert (m[0] == m[1]).all()


def test_missing_values_stay_missing_and_keys_are_checked(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["1"], "first": [""], "father": [None], "dob": [""], "phone": [""]})
    assert bloom.encode(frame, spec(), KEY).column("names").to_pylist() == [""]
    key_file = bloom.write_key(tmp_path / "k")
    assert len(bloom.read_key(key_file)) == 32
    (tmp_path / "short").write_text("abcd")
    with pytest.raises(SpecError, match="at least 16"):
        bloom.read_key(tmp_path / "short")
    with pytest.raises(SpecError, match="no column 'first'"):
        bloom.encode(pd.DataFrame({"id": ["1"]}), spec(), KEY)
