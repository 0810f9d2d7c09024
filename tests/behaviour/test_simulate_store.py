"""A country simulated from the store's places and sites, on every store engine (the SQL is written once)."""

from __future__ import annotations

import pytest

from onthemove.demo import load_demo
from onthemove.foresight.simulate.store_run import run_store, store_graph
from onthemove.store import Store


@pytest.mark.slow
def test_store_graph_and_run_on_every_engine(store: Store) -> None:
    load_demo(store)
    base = store_graph(store)
    assert base.graph.n_nodes == 30 + 150  # Demoland's districts and its sites
    run = run_store(base, days=10)
    assert run.displaced_per_day > 0 and run.origins
    nodes = run.result.nodes
    assert nodes is not None and nodes.shape == (10, base.graph.n_nodes)
    assert nodes[-1].sum() > nodes[0].sum() > 0  # people keep arriving from the conflict zones
