"""Clusters: the connected components of the linked pairs (each record in exactly one cluster).

Two implementations that give the same labels (a cluster is named by its smallest record number ``rid``):
``components`` with scipy on the driver (fast; the links of a million records are a few million integers) and
``components_sql``, min-label propagation in SQL iterations for a runner (Spark, when the records do not fit
one machine): each round a record takes the smallest label among itself and its neighbours, until nothing
changes; rounds grow with the longest path in a cluster, which stays short in linkage graphs.
"""

from __future__ import annotations

import numpy as np

from onthemove.respond.link.engine import Runner


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Label of each of ``n`` records (0..n-1): the smallest record number in its component."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    smallest = np.full(comp.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, comp, np.arange(n, dtype=np.int64))
    return smallest[comp]


def components_sql(
    runner: Runner, edges: str, nodes: str = "recs", out: str = "clusters", max_rounds: int = 100
) -> int:
    """Label propagation over the ``edges`` table (``rid_l``, ``rid_r``) into ``out`` (``rid``, ``cluster``);
    returns the rounds it took."""
    runner.create("_cc_edges", f"SELECT rid_l AS a, rid_r AS b FROM {edges} UNION ALL SELECT rid_r, rid_l FROM {edges}")
    runner.create(out, f"SELECT rid, rid AS cluster FROM {nodes}")
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        runner.create(
            "_cc_next",
            f"SELECT c.rid, least(c.cluster, coalesce(n.best, c.cluster)) AS cluster FROM {out} AS c "
            f"LEFT JOIN (SELECT e.a AS rid, min(o.cluster) AS best FROM _cc_edges AS e JOIN {out} AS o ON o.rid = e.b "
            f"GROUP BY e.a) AS n ON n.rid = c.rid",
        )
        changed = (
            runner.fetch(
                f"SELECT count(*) AS n FROM _cc_next AS x JOIN {out} AS c ON c.rid = x.rid WHERE x.cluster <> c.cluster"
            )
            .column(0)[0]
            .as_py()
        )
        runner.create(out, "SELECT rid, cluster FROM _cc_next")
        if not changed:
            break
    for table in ("_cc_edges", "_cc_next"):
        runner.drop(table)
    return rounds
