"""Record linkage on real benchmark data from ../shared/data/linkage: FEBRL4 (two lists, 5,000 true links) in
plaintext and as privacy-preserving encodings, FEBRL3 (deduplication) and Splink's fake_1000 against its labels."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from tests.conftest import DATA, ROOT

from onthemove.respond.link import bloom, metrics
from onthemove.respond.link import spec as link_spec
from onthemove.respond.link.pipeline import Result, run

pytestmark = [pytest.mark.acceptance, pytest.mark.slow]

FEBRL = DATA / "linkage" / "febrl"
SPLINK = DATA / "linkage" / "splink"
EXAMPLES = ROOT / "examples" / "linkage"


def _read(path: object) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)  # type: ignore[call-overload]
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def _febrl(name: str) -> pd.DataFrame:
    path = FEBRL / name
    if not path.exists():
        pytest.skip(f"FEBRL data not present at {path}")
    return _read(path)


def _entity(rec_id: str) -> str:
    return rec_id.split("-")[1]  # rec-<entity>-org / rec-<entity>-dup-<k>


def _febrl4_scores(result: Result) -> dict[str, float | int]:
    links = result.links.to_pandas()
    left = links.id_l.map(_entity).to_numpy()
    right = links.id_r.map(_entity).to_numpy()
    return metrics.pair_scores(left, right, 5000)


def test_febrl4_plaintext_f1_at_least_0_99() -> None:
    a, b = _febrl("dataset4a.csv"), _febrl("dataset4b.csv")
    result = run({"a": a, "b": b}, link_spec.load(EXAMPLES / "febrl.yaml"))
    scores = _febrl4_scores(result)
    print("FEBRL4 plaintext:", scores, result.stats["candidate_pairs"], "candidate pairs")
    assert scores["f1"] >= 0.99
    assert scores["precision"] >= 0.99


def test_febrl4_privacy_preserving_f1_at_least_0_99() -> None:
    """Each side encodes its own list with the shared key; the linkage sees only ids and encodings."""
    a, b = _febrl("dataset4a.csv"), _febrl("dataset4b.csv")
    enc_spec = bloom.load_encoding_spec(EXAMPLES / "febrl_encoding.yaml")
    key = bytes.fromhex("5d1c" * 16)
    encoded = {"a": bloom.encode(a, enc_spec, key), "b": bloom.encode(b, enc_spec, key)}
    assert set(encoded["a"].column_names) == {"rec_id", "names", "address", "dob", "ssn"}
    spec = link_spec.encoded_spec(encoded["a"].column_names, "rec_id")
    result = run(encoded, spec)
    scores = _febrl4_scores(result)
    print("FEBRL4 privacy-preserving:", scores, result.stats["candidate_pairs"], "candidate pairs")
    assert scores["f1"] >= 0.99


def test_febrl3_deduplication() -> None:
    frame = _febrl("dataset3.csv")
    result = run({"febrl3": frame}, link_spec.load(EXAMPLES / "febrl.yaml"))
    entity = dict(zip(frame.rec_id, frame.rec_id.map(_entity), strict=True))
    links = result.links.to_pandas()
    actual = metrics.true_pair_count(frame.rec_id.map(_entity))
    pairs = metrics.pair_scores(links.id_l.map(entity).to_numpy(), links.id_r.map(entity).to_numpy(), actual)
    clusters = result.clusters.to_pandas()
    clustered = metrics.cluster_scores(clusters.cluster_id, clusters.id.map(entity))
    print("FEBRL3 pairs:", pairs, "clusters:", clustered)
    assert pairs["precision"] >= 0.99 and pairs["recall"] >= 0.98
    assert clustered["f1"] >= 0.99


def test_fake_1000_against_its_labels() -> None:
    path, labels_path = SPLINK / "fake_1000.csv", SPLINK / "fake_1000_labels.csv"
    if not path.exists() or not labels_path.exists():
        pytest.skip(f"Splink's fake_1000 not present at {SPLINK}")
    frame = _read(path)
    labels = pd.read_csv(labels_path)
    true_pairs = {
        tuple(sorted((str(a), str(b))))
        for a, b, s in zip(labels.unique_id_l, labels.unique_id_r, labels.clerical_match_score, strict=True)
        if s > 0.5
    }
    # the labels are the pairs inside the data set's clusters
    cluster_pairs = {
        tuple(sorted(p)) for _, g in frame.groupby("cluster") for p in itertools.combinations(g.unique_id, 2)
    }
    assert true_pairs == cluster_pairs
    result = run({"fake_1000": frame}, link_spec.load(EXAMPLES / "fake_1000.yaml"))
    links = result.links.to_pandas()
    predicted = {tuple(sorted((a, b))) for a, b in zip(links.id_l, links.id_r, strict=True)}
    pairs = metrics.scores(len(predicted & true_pairs), len(predicted), len(true_pairs))
    clusters = result.clusters.to_pandas()
    cluster_of = dict(zip(frame.unique_id, frame.cluster, strict=True))
    clustered = metrics.cluster_scores(clusters.cluster_id, clusters.id.map(cluster_of))
    print("fake_1000 pairs vs labels:", pairs, "clusters:", clustered)
    assert pairs["precision"] >= 0.97 and pairs["recall"] >= 0.7
    assert clustered["f1"] >= 0.9
