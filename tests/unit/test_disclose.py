"""Disclosure control: hierarchies, k-anonymity by lattice search, l-diversity, risk, loss, and tables with
complementary suppression (checked by an LP written here from the table's rows and columns, not the module's)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from onthemove.share.disclose import DisclosureError, apply, check, read_csv_hierarchy, spec_from_dict, suppress_table
from onthemove.share.disclose.groups import combine
from onthemove.share.disclose.hierarchy import interval_hierarchy, prefix_hierarchy
from onthemove.share.disclose.lattice import Encoded, evaluate, search
from onthemove.share.disclose.loss import release_loss
from onthemove.share.disclose.risk import key_risk
from onthemove.share.disclose.spec import load_spec, read_data

# --- hierarchies ------------------------------------------------------------------------------


def test_csv_hierarchy_reads_arx_and_anjana_layouts(tmp_path: Path) -> None:
    arx = tmp_path / "edu.csv"
    arx.write_text("Bachelors;Undergraduate;Higher;*\nMasters;Graduate;Higher;*\n11th;High School;Secondary;*\n")
    h = read_csv_hierarchy(arx, "education")
    assert h.height == 3
    codes = h.index(pd.Series(["Masters", "11th", "Bachelors"]))
    assert list(h.generalise(codes, 1)) == ["Graduate", "High School", "Undergraduate"]
    assert list(h.generalise(codes, 2)) == ["Higher", "Secondary", "Higher"]
    assert set(h.generalise(codes, 3)) == {"*"}
    anjana = tmp_path / "age.csv"
    anjana.write_text('17,"[15, 20[","[10, 20[",*\n23,"[20, 25[","[20, 30[",*\n')
    a = read_csv_hierarchy(anjana, "age")
    assert list(a.generalise(a.index(pd.Series(["23"])), 1)) == ["[20, 25["]
    assert list(a.leaves[1]) == [1, 1] and list(a.leaves[3]) == [2]


def test_hierarchy_errors_name_the_file_row_and_value(tmp_path: Path) -> None:
    ragged = tmp_path / "h.csv"
    ragged.write_text("a;x;*\nb;*\n")
    with pytest.raises(DisclosureError, match=r"h\.csv, row 2: 2 cells"):
        read_csv_hierarchy(ragged, "c")
    ok = tmp_path / "ok.csv"
    ok.write_text("a;*\nb;*\n")
    with pytest.raises(DisclosureError, match=r"column 'c': 1 value\(s\) not in its hierarchy .*'zz'"):
        read_csv_hierarchy(ok, "c").index(pd.Series(["a", "zz"]))
    with pytest.raises(DisclosureError, match="not found"):
        read_csv_hierarchy(tmp_path / "none.csv", "c")


def test_interval_and_prefix_hierarchies() -> None:
    h = interval_hierarchy("age", pd.Series(["3", "17", "23", "41"]), [5, 10, 20])
    codes = h.index(pd.Series(["17", "23", "41"]))
    assert list(h.generalise(codes, 1)) == ["[15, 20[", "[20, 25[", "[40, 45["]
    assert list(h.generalise(codes, 3)) == ["[0, 20[", "[20, 40[", "[40, 60["]
    assert h.height == 4
    with pytest.raises(DisclosureError, match="multiple"):
        interval_hierarchy("age", pd.Series(["1"]), [5, 7])
    with pytest.raises(DisclosureError, match="need numbers"):
        interval_hierarchy("age", pd.Series(["1", "old"]), [5])
    p = prefix_hierarchy("adm2", pd.Series(["SO1101", "SO1102", "SO2201"]), [4, 2])
    assert list(p.generalise(p.index(pd.Series(["SO1101", "SO2201"])), 1)) == ["SO11", "SO22"]
    assert set(p.generalise(p.index(pd.Series(["SO1101", "SO2201"])), 2)) == {"SO"}


# --- check: k, l, risk ------------------------------------------------------------------------


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sex": ["f", "f", "f", "m", "m", "m", "m", "f"],
            "age": ["20", "20", "20", "30", "30", "30", "40", "*"],
            "disease": ["flu", "flu", "cold", "flu", "hiv", "cold", "flu", "flu"],
            "w": ["10", "10", "10", "5", "5", "5", "50", "1"],
        }
    )


def test_check_counts_violators_l_diversity_and_leaves_fully_suppressed_records_out() -> None:
    spec = spec_from_dict(
        {
            "quasi_identifiers": ["sex", "age"],
            "sensitive": ["disease"],
            "k": 3,
            "l": 3,
            "entropy_l": True,
            "risk_ceiling": None,
        }
    )
    df = _frame()
    df.loc[7, "sex"] = "*"  # the last record is fully suppressed: out of k and l
    r = check(df, spec)
    assert r.k == 1 and r.classes == 3 and r.fully_suppressed == 1
    assert r.violators == {2: 1, 3: 1, 5: 7}
    d = r.diversity[0]
    assert d.l == 1  # (m, 40) has one value
    assert d.violating_classes == 2 and d.violating_records == 4  # (f, 20): flu, flu, cold; (m, 40)
    # exp(entropy) of (f, 20): p = 2/3, 1/3
    assert d.entropy_l == pytest.approx(1.0)  # (m, 40) has a single value: exp(0) = 1
    assert not r.passed and len(r.problems) == 2
    assert r.risk.expected_reidentifications == pytest.approx(3 / 3 + 3 / 3 + 1 + 1)  # 3 classes + the '*' one


def test_risk_without_and_with_weights() -> None:
    assert list(key_risk(np.array([1, 2, 4]))) == [1.0, 0.5, 0.25]
    # f = 1, F = 2: p = 1/2, r = p/(1-p) * ln(1/p) = ln 2
    assert key_risk(np.array([1.0]), np.array([2.0]))[0] == pytest.approx(math.log(2))
    # f = 2, F = 8: p = 1/4, r = p/(1-p) - (p/(1-p))^2 ln(1/p)
    p = 0.25
    assert key_risk(np.array([2.0]), np.array([8.0]))[0] == pytest.approx(
        p / (1 - p) - (p / (1 - p)) ** 2 * math.log(4)
    )
    # f >= 3: p / (f - (1 - p)); and F = f: 1/f
    assert key_risk(np.array([4.0]), np.array([40.0]))[0] == pytest.approx(0.1 / (4 - 0.9))
    assert key_risk(np.array([3.0]), np.array([3.0]))[0] == pytest.approx(1 / 3)
    spec = spec_from_dict({"quasi_identifiers": ["sex"], "weight": "w", "k": 2, "l": 1, "risk_ceiling": 0.03})
    r = check(_frame(), spec)
    assert r.risk.weighted and not r.risk.passed  # 2 classes of 4: heavy risk for 8 records


# --- apply ------------------------------------------------------------------------------------


def _spec(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "quasi_identifiers": {"age": {"intervals": [5, 10, 20]}, "region": {"prefix": [2]}, "sex": {}},
        "k": 3,
        "l": 1,
        "suppression_cap": 1.0,
        "risk_ceiling": None,
    }
    return {**base, **kw}


rows = st.lists(
    st.tuples(
        st.integers(0, 60),
        st.sampled_from(["AA1", "AA2", "AB1", "BB1", "BB2"]),
        st.sampled_from(["f", "m"]),
        st.sampled_from(["x", "y", "z"]),
    ),
    min_size=1,
    max_size=60,
)


def _data(r: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(r, columns=["age", "region", "sex", "s"]).astype(str)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, st.integers(2, 5), st.sampled_from(["records", "cells"]), st.sampled_from(["lm", "precision", "entropy"]))
def test_after_apply_every_combination_has_k_records_or_is_suppressed(
    r: list[tuple[int, str, str, str]], k: int, how: str, metric: str
) -> None:
    df = _data(r)
    spec = spec_from_dict(_spec(k=k, suppression=how, loss=metric))
    if len(df) < k:
        return
    out = apply(df, spec)
    released = out.data
    qi = ["age", "region", "sex"]
    whole = (released[qi] == "*").all(axis=1)
    sizes = released[~whole].groupby(qi).size()
    assert (sizes >= k).all()
    assert out.after.passed and out.after.violators[k] == 0
    if how == "records":
        assert len(released) == len(df) - out.loss.suppressed_records
    else:
        assert len(released) == len(df) and int(whole.sum()) == out.loss.suppressed_records


@settings(max_examples=25, deadline=None)
@given(rows, st.integers(2, 3))
def test_l_diversity_holds_after_apply(r: list[tuple[int, str, str, str]], l_target: int) -> None:
    df = _data(r)
    spec = spec_from_dict(_spec(k=2, l=l_target, sensitive=["s"]))
    if df["s"].nunique() < l_target or len(df) < 2:
        return
    try:
        out = apply(df, spec)
    except DisclosureError:
        return  # l cannot be met even at the top of the lattice (fewer distinct values left than l)
    released = out.data
    distinct = released.groupby(["age", "region", "sex"])["s"].nunique()
    assert (distinct >= l_target).all()


@settings(max_examples=25, deadline=None)
@given(rows, st.integers(2, 4), st.floats(0.0, 0.5))
def test_search_finds_the_feasible_node_of_least_loss(r: list[tuple[int, str, str, str]], k: int, cap: float) -> None:
    df = _data(r)
    spec = spec_from_dict(_spec(k=k, suppression_cap=cap))
    enc = Encoded(df, spec)
    found = search(enc)
    limit = int(np.floor(cap * len(df) + 1e-9))
    every = [evaluate(enc, lv, "lm", limit) for lv in itertools.product(*[range(h + 1) for h in enc.heights])]
    feasible = [n for n in every if n.feasible]
    if not feasible:
        assert found.best is None
        return
    assert found.best is not None
    assert found.best.loss == pytest.approx(min(n.loss for n in feasible))
    assert found.evaluated <= len(every)


def test_node_loss_matches_the_loss_of_the_release() -> None:
    df = _data([(a % 50, ["AA1", "AB1", "BB2"][a % 3], "fm"[a % 2], "x") for a in range(0, 300, 7)])
    spec = spec_from_dict(_spec(k=4, suppression_cap=0.3))
    enc = Encoded(df, spec)
    for metric in ("lm", "precision", "entropy", "discernibility"):
        node = evaluate(enc, (1, 0, 0), metric, 100)
        cells = np.repeat(node.unsafe_rows[enc.row_of][:, None], 3, axis=1)
        loss = release_loss(enc, (1, 0, 0), cells, 4)
        assert node.loss == pytest.approx(loss.value(metric)), metric
    none = release_loss(enc, (0, 0, 0), np.zeros((enc.n, 3), dtype=bool), 4)
    assert none.lm == 0 and none.precision == 0 and none.entropy == 0
    everything = release_loss(enc, (0, 0, 0), np.ones((enc.n, 3), dtype=bool), 4)
    assert everything.lm == 1 and everything.precision == 1 and everything.entropy == pytest.approx(1)
    assert everything.discernibility == enc.n**2


def test_apply_refuses_clearly_when_nothing_is_feasible() -> None:
    df = _data([(20, "AA1", "f", "x"), (30, "BB1", "m", "y")])
    spec = spec_from_dict(_spec(k=3, suppression_cap=0.0))
    with pytest.raises(DisclosureError, match=r"no generalisation of age, region, sex meets k = 3"):
        apply(df, spec)


def test_spec_file_errors_and_settings_defaults(tmp_path: Path) -> None:
    spec_path = tmp_path / "s.yaml"
    spec_path.write_text("quasi_identifiers:\n  age: {intervals: [5]}\nsensitive: [s]\n")
    spec = load_spec(spec_path, {"k": 7, "risk_ceiling": None})
    assert spec.k == 7 and spec.l == 2 and spec.risk_ceiling is None
    data = tmp_path / "d.csv"
    data.write_text("age,sex\n20,f\n")
    with pytest.raises(DisclosureError, match=r"d\.csv: column\(s\) 's' declared in .*s\.yaml are not in the file"):
        read_data(data, spec)
    spec_path.write_text("quasi_identifiers: {age: {bins: 5}}\n")
    with pytest.raises(DisclosureError, match="unknown key"):
        load_spec(spec_path)
    spec_path.write_text("quasi_identifiers: [age]\nk: 0\n")
    with pytest.raises(DisclosureError, match="k must be at least 1"):
        load_spec(spec_path)


def test_combine_handles_keys_wider_than_int64() -> None:
    rng = np.random.default_rng(0)
    cols = [rng.integers(0, 50_000, 1000) for _ in range(6)]  # 50,000**6 overflows int64
    ids, n = combine(cols, [50_000] * 6)
    expected = pd.DataFrame(np.stack(cols, axis=1)).groupby(list(range(6)), sort=False).ngroup().to_numpy()
    assert n == len(set(expected)) and (pd.factorize(ids)[0] == pd.factorize(expected)[0]).all()


# --- tables -----------------------------------------------------------------------------------


def _independent_bounds(
    values: np.ndarray, hidden: np.ndarray, threshold: float
) -> dict[tuple[int, int], tuple[float, float]]:
    """Min and max of each hidden cell of a 2-D table given the kept cells and every published total (row,
    column, grand total; a total below the threshold is not published), counts never negative."""
    r, c = values.shape
    cells = [(i, j) for i in range(r) for j in range(c) if hidden[i, j]]
    if not cells:
        return {}
    pos = {cell: n for n, cell in enumerate(cells)}
    eqs, rhs = [], []
    groups = [[(i, j) for j in range(c)] for i in range(r)] + [[(i, j) for i in range(r)] for j in range(c)]
    groups.append([(i, j) for i in range(r) for j in range(c)])
    for g in groups:
        total = sum(values[x] for x in g)
        if total < threshold or not any(hidden[x] for x in g):
            continue
        row = np.zeros(len(cells))
        for x in g:
            if hidden[x]:
                row[pos[x]] = 1
        eqs.append(row)
        rhs.append(sum(values[x] for x in g if hidden[x]))
    out = {}
    for cell, n in pos.items():
        cvec = np.zeros(len(cells))
        cvec[n] = 1
        lo = linprog(cvec, A_eq=np.array(eqs) if eqs else None, b_eq=rhs or None, bounds=(0, None))
        hi = linprog(-cvec, A_eq=np.array(eqs) if eqs else None, b_eq=rhs or None, bounds=(0, None))
        out[cell] = (lo.fun if lo.status == 0 else 0.0, -hi.fun if hi.status == 0 else math.inf)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 5), st.integers(2, 5), st.data())
def test_no_suppressed_cell_can_be_recovered_from_the_totals(r: int, c: int, data: st.DataObject) -> None:
    values = np.array(data.draw(st.lists(st.integers(0, 60), min_size=r * c, max_size=r * c))).reshape(r, c)
    table = pd.DataFrame(
        [(f"r{i}", f"c{j}", values[i, j]) for i in range(r) for j in range(c)], columns=["a", "b", "n"]
    )
    res = suppress_table(table, ["a", "b"], "n", threshold=10, extra=r * c)  # no budget: the full search
    hidden = res.table["suppressed"].to_numpy().reshape(r, c)
    assert (hidden[values < 10]).all()  # every small cell is hidden
    bounds = _independent_bounds(values, hidden, 10)
    unprotectable = {divmod(p, c) for p in res.unprotectable}
    for (i, j), (lo, hi) in bounds.items():
        if values[i, j] < 10 and (i, j) not in unprotectable:
            assert hi - lo >= 10 - 1e-6, (values.tolist(), hidden.tolist(), (i, j), lo, hi)
    for i, j in unprotectable:  # truly exposed: even hiding every cell leaves it narrower than the margin
        lo, hi = _independent_bounds(values, np.ones_like(hidden), 10)[(i, j)]
        assert hi - lo < 10
    # no published row or column has exactly one hidden cell
    for line, total in [(hidden[i], values[i].sum()) for i in range(r)] + [
        (hidden[:, j], values[:, j].sum()) for j in range(c)
    ]:
        if total >= 10 and line.sum() == 1:
            k = int(np.flatnonzero(line)[0])
            assert (line.size == 1) or any(
                cell in unprotectable for cell in [(i, k) for i in range(r)] + [(k, j) for j in range(c)]
            )


def test_complementary_suppression_is_the_cheapest_and_widens_a_narrow_interval() -> None:
    one_d = pd.DataFrame({"district": ["a", "b", "c", "d"], "count": [3, 4, 500, 800]})
    res = suppress_table(one_d, ["district"], threshold=10)
    # hiding 3 and 4 alone would leave each within [0, 7]: the cheapest cell that widens it is 500
    assert list(res.status) == ["primary", "primary", "secondary", ""]
    assert res.protected and res.suppressed_total == 507
    two_d = pd.DataFrame(
        [
            (r, c, v)
            for r, row in zip("xyz", [[5, 40, 60], [30, 20, 90], [70, 80, 100]], strict=True)
            for c, v in zip("abc", row, strict=True)
        ],
        columns=["r", "c", "count"],
    )
    res = suppress_table(two_d, ["r", "c"], threshold=10)
    hidden = {(r, c) for r, c, s in zip(two_d.r, two_d.c, res.table.suppressed, strict=True) if s}
    assert hidden == {("x", "a"), ("x", "b"), ("y", "a"), ("y", "b")}  # the cheapest rectangle: 5 + 40 + 30 + 20
    assert res.secondary == 3 and res.optimal and res.protected


def test_a_cell_pinned_by_the_margins_alone_is_reported_not_chased() -> None:
    # the month x district table of the API tests: XT0202's February (7) = its total (18) - its March (11),
    # and its March is the whole of XT02's March, a margin of its own
    t = pd.DataFrame(
        {
            "month": ["2024-01", "2024-01", "2024-01", "2024-02", "2024-02", "2024-03"],
            "adm2": ["XT0101", "XT0102", "XT0201", "XT0101", "XT0202", "XT0202"],
            "count": [100, 50, 30, 120, 7, 11],
        }
    )
    t["adm1"] = t.adm2.str[:4]
    res = suppress_table(t, [["adm2", "adm1"], "month"], threshold=10)
    assert res.unprotectable == [4] and res.primary == 1 and res.secondary == 0


def test_table_errors_name_the_column() -> None:
    t = pd.DataFrame({"a": ["x"], "count": [3]})
    with pytest.raises(DisclosureError, match="dimension column 'b' is not in the table"):
        suppress_table(t, ["b"])
    with pytest.raises(DisclosureError, match="count column 'n' is not in the table"):
        suppress_table(t, ["a"], "n")
    with pytest.raises(DisclosureError, match="not a number in row 1"):
        suppress_table(pd.DataFrame({"a": ["x"], "count": ["many"]}), ["a"])


def test_public_exports_pass_through_disclosure_control(tmp_path: Path) -> None:
    from onthemove.share import export_hxl
    from onthemove.share.disclose.publish import public_aggregate

    table = pa.table(
        {
            "month": ["2024-01", "2024-01", "2024-02", "2024-02"],
            "adm1": ["XT01", "XT02", "XT01", "XT02"],
            "adm1_name": ["N", "S", "N", "S"],
            "count": [4, 300, 200, 500],
        }
    )
    out, res = public_aggregate(table, 10)
    assert out.column("count").to_pylist() == [None, None, None, None] or res.secondary >= 1
    assert out.column("count").null_count == res.suppressed and res.primary == 1
    path = export_hxl(table, tmp_path / "public.csv", "movements", public=True)
    lines = path.read_text().splitlines()
    assert lines[1].startswith("#date") and sum(line.endswith(",") for line in lines[2:]) == res.suppressed
    with pytest.raises(DisclosureError, match="aggregate with a 'count' column"):
        public_aggregate(pa.table({"adm1": ["x"]}), 10)
