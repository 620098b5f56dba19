"""DuckDB's pre-aggregated tables answer exactly what a scan answers, and what the numpy engine answers:
counts exactly, sums to 1e-9, for matrix cells, slices, groups, query text of whole codes and their
combinations; any other filter falls back to the scan (and says so in the counters)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import errorscope as es
import test_engine_duckdb as duck
from engines import order_statistics_frame
from errorscope.engines.lazy import Roles
from errorscope.engines.preagg import Compiled
from errorscope.fairness import make_groups
from errorscope.plans import Filter, GroupCounts, Key, Marginals, Measure, RocAuc, RowPage
from errorscope.query import parse
from errorscope.selection import Clause, Predicate, cells_clause

pytest.importorskip("duckdb")
adult_pair = duck.adult_pair  # the Adult test split as pandas and as Parquet (a module fixture)

MEASURES = tuple(
    [Measure(kind, c) for c in (0, 1) for kind in ("score", "score2", "brier")]
    + [Measure("log_loss"), Measure("log_loss2")]
)


def where(engine, *clauses: Clause) -> Filter:
    return Filter(tuple(c.text for c in clauses), tuple(engine.resolve(c) for c in clauses))


def mapped_clauses(ev, engine) -> dict[str, list[Clause]]:
    """Clicks and queries whose predicates keep whole codes, alone and combined."""
    names = ev.role_names()
    cell = cells_clause("matrix", ev.classes, cells=[(1, 0)], names=names)
    column = cells_clause("matrix2", ev.classes, predicted=[1], actual=[0], names=names)
    age = Clause.where("slices", engine.coding("age").predicates[3])
    work_missing = Clause.where("slices", engine.coding("workclass").predicates[-1])
    country_other = Clause.where("slices", engine.coding("native-country").predicates[-2])
    score_bin = Clause.where("slices", engine.coding("es_score").predicates[6])
    groups = make_groups(ev, "sex")
    group = Clause("groups", (groups.terms[0],))
    text = parse("sex == 'Female' and predicted != actual", "bar", ev.query_name)
    listed = parse("occupation in ['Sales', 'Tech-support'] or occupation.isna()", "bar", ev.query_name)
    negated = Clause("neg", ((engine.coding("education").predicates[0].negate(),),))
    return {
        "cell": [cell], "actual row or predicted column": [column], "numeric bin": [age],
        "missing": [work_missing], "other": [country_other], "score bin": [score_bin], "group": [group],
        "query of codes": [text], "in list or missing": [listed], "negated": [negated],
        "cell and slice": [cell, age], "cell and group": [cell, group], "slice and group": [age, group],
        "column, cell, group": [column, cell, group], "two columns one clause": [listed, group],
    }  # fmt: skip


def plans(ev) -> list[GroupCounts]:
    return [
        GroupCounts((Key.actual(), Key.predicted()), MEASURES),
        GroupCounts((Key.column("education"), Key.outcome(1))),
        GroupCounts((Key.column("sex"), Key.score_bin(1000, 1), Key.actual(1))),
        GroupCounts((Key.column("race"), Key.actual(1), Key.predicted(1))),
        GroupCounts((Key.actual(0), Key.outcome(None)), (Measure("score", 0), Measure("brier", 0))),
    ]


def assert_same(got, want, what: str) -> None:
    np.testing.assert_array_equal(got.counts, want.counts, err_msg=what)
    np.testing.assert_allclose(got.sums, want.sums, rtol=1e-9, atol=1e-9, err_msg=what)


def test_answers_equal_the_scan_and_the_numpy_engine(adult_pair):
    ev, engine = adult_pair
    columns = ("age", "sex", "workclass", "occupation", "native-country", "es_score")
    marginal = Marginals(tuple(Key.column(c) for c in columns), by=(Key.outcome(1),))
    for what, clauses in mapped_clauses(ev, engine).items():
        lazy, numpy = where(engine, *clauses), where(ev.engine, *clauses)
        cube = engine.preagg
        before = cube.answered
        for plan in plans(ev):
            got = engine.count(plan, lazy)
            assert_same(got, engine.scan_count(plan, lazy), f"{what}: scan")
            assert_same(got, ev.engine.count(plan, numpy), f"{what}: numpy")
        tables = engine.marginals(marginal, lazy)
        for column, got, want in zip(columns, tables, ev.engine.marginals(marginal, numpy), strict=True):
            np.testing.assert_array_equal(got, want, err_msg=f"{what}: {column}")
        mask = np.logical_and.reduce([ev.engine.resolve(c) for c in clauses])
        assert engine.n_kept(lazy) == int(mask.sum()) == ev.engine.n_kept(numpy), what
        answered = cube.answered - before  # two filter columns and a third: a family over the two
        assert answered == len(plans(ev)) + 1, f"{what}: not answered from the tables"


def test_filters_of_no_whole_codes_are_a_dimension_or_a_scan(adult_pair):
    ev, engine = adult_pair
    cube = engine.preagg
    queries = [
        "age > 40",  # not a cut point
        "education == 'Doctorate'",  # pooled in "other"? either way: compare the numbers
        "`hours-per-week` >= 40 and sex == 'Male'",
        "score < 0.3",  # the score column itself (a role), not its derived bins
    ]
    for query in queries:
        clause = parse(query, "bar", ev.query_name)
        lazy, numpy = where(engine, clause), where(ev.engine, clause)
        for plan in plans(ev):
            assert_same(engine.count(plan, lazy), ev.engine.count(plan, numpy), query)
    clause = parse("age > 40", "bar", ev.query_name)
    families = len(cube.families)
    engine.count(plans(ev)[0], where(engine, clause))
    assert any(d.startswith("f:") for f in cube.families[families:] for d in f.base)  # one scan for it
    ids = Clause.where("ids", Predicate("id", "ids", (2, 7, 12)))
    lazy, numpy = where(engine, ids), where(ev.engine, ids)
    assert_same(engine.count(plans(ev)[1], lazy), ev.engine.count(plans(ev)[1], numpy), "ids")
    cube.scan_filters = False
    try:
        assert cube.cells(where(engine, ids)) is None
        scanned = cube.scanned
        engine.count(plans(ev)[0], where(engine, clause))
        assert cube.scanned == scanned + 1
    finally:
        cube.scan_filters = True


def test_resolve_keeps_the_clause_and_every_filter_still_scans(adult_pair):
    ev, engine = adult_pair
    clause = parse("sex == 'Female'", "bar", ev.query_name)
    resolved = engine.resolve(clause)
    assert isinstance(resolved, Compiled) and resolved.clause == clause
    engine.preaggregate = False
    try:
        plan = plans(ev)[0]
        assert_same(
            engine.count(plan, where(engine, clause)), ev.engine.count(plan, where(ev.engine, clause)), ""
        )
    finally:
        engine.preaggregate = True


def test_new_bins_drop_the_tables(adult_pair):
    ev, engine = adult_pair
    engine.count(plans(ev)[1], where(engine, Clause.where("s", engine.coding("age").predicates[0])))
    assert engine.preagg.families
    engine.set_bins("age", [-np.inf, 30, 50, 1000])
    try:
        clause = Clause.where("s", engine.coding("age").predicates[1])
        twin = es.Evaluation(ev.data.copy(), y_true="income", y_score="score", ids="id")
        twin.set_bins("age", [-np.inf, 30, 50, 1000])
        for plan in plans(ev):
            assert_same(
                engine.count(plan, where(engine, clause)),
                twin.engine.count(plan, where(twin.engine, clause)),
                "",
            )
    finally:
        engine.set_bins("age", None)


@pytest.fixture(scope="module")
def multiclass_pair(tmp_path_factory):
    frame = duck.random_frame(4000, 3)
    frame["x"] = frame["x"].where(np.random.default_rng(4).random(len(frame)) > 0.1)  # NaN: missing bins
    ev = es.Evaluation(frame, y_true="y", y_score=["p_cat", "p_dog", "p_emu"], ids="id")
    path = tmp_path_factory.mktemp("multi") / "multi.parquet"
    frame.to_parquet(path, index=False)
    return ev, duck.lazy_twin(ev, str(path), Roles("y", None, ("p_cat", "p_dog", "p_emu"), "id"))


def test_multiclass_missing_values_datetimes_and_booleans(multiclass_pair):
    ev, engine = multiclass_pair
    measures = tuple(Measure(kind, c) for c in range(3) for kind in ("score", "score2", "brier"))
    names = ev.role_names()
    clauses = {
        "cell": [cells_clause("m", ev.classes, cells=[(2, 1)], names=names)],
        "missing x": [Clause.where("s", engine.coding("x").predicates[-1])],
        "text missing": [Clause.where("s", engine.coding("s").predicates[-1])],
        "period": [Clause.where("s", engine.coding("t").predicates[2])],
        "flag": [parse("flag == True", "q", ev.query_name)],
        "class and text": [
            parse("actual in ['dog', 'emu']", "q", ev.query_name),
            parse("s not in ['a']", "q2", ev.query_name),
        ],
    }
    plan_list = [
        GroupCounts((Key.actual(), Key.predicted()), (*measures, Measure("log_loss"), Measure("log_loss2"))),
        GroupCounts((Key.column("k"), Key.outcome(None))),
        GroupCounts((Key.column("t"), Key.actual(2))),
    ]
    cube = engine.preagg
    for what, cs in clauses.items():
        lazy, numpy = where(engine, *cs), where(ev.engine, *cs)
        before = cube.answered
        for plan in plan_list:
            assert_same(engine.count(plan, lazy), ev.engine.count(plan, numpy), what)
            assert_same(engine.count(plan, lazy), engine.scan_count(plan, lazy), what)
        assert engine.n_kept(lazy) == ev.engine.n_kept(numpy), what
        assert cube.answered - before == 2 * len(plan_list), what  # engine.count ran twice per plan


def test_the_views_show_the_numbers_of_pandas_through_the_tables(adult_pair):
    ev, engine = adult_pair
    lazy_ev = es.Evaluation(
        engine.source.what.split("'")[1], y_true="income", y_score="score", ids="id", sensitive="sex"
    )
    for e in (ev, lazy_ev):
        e.selection.clear()
    frames = []
    for e in (ev, lazy_ev):
        matrix, slices = es.ConfusionMatrix(e), es.SliceBrowser(e, discover=False)
        groups = es.GroupComparer(e, groups="sex", n_boot=0)
        matrix.select_cells(cells=[(0, 1)])
        key = int(slices.table.loc[slices.table["description"] == "sex = Female", "key"].iloc[0])
        slices.select_slice(key)
        frames.append({"slices": slices.table, "groups": groups.table, "matrix": matrix.table})
        for view in (matrix, slices, groups):
            view.close()
        e.selection.clear()
    assert lazy_ev.engine.preagg.answered > 0
    for name, table in frames[0].items():
        other = frames[1][name]
        numbers = table.select_dtypes("number").columns
        pd.testing.assert_frame_equal(
            table[numbers].reset_index(drop=True), other[numbers].reset_index(drop=True),
            check_dtype=False, rtol=1e-9, atol=1e-12, obj=name,
        )  # fmt: skip


def test_order_statistics_in_bounded_memory_equal_numpy(monkeypatch, tmp_path):
    """Above IN_MEMORY_ORDER_STATS rows DuckDB's quantiles come from windows of approximate ones: the
    same bins as numpy's exact quantiles, on skewed, tied and narrow windows alike."""
    import errorscope.engines.lazy as lazy

    n = 60_000
    frame = order_statistics_frame(n)
    path = tmp_path / "skew.parquet"
    frame.to_parquet(path, index=False)
    ev = es.Evaluation(frame, y_true="y", y_score="s")
    monkeypatch.setattr(lazy, "IN_MEMORY_ORDER_STATS", 1000)
    engine = duck.lazy_twin(ev, str(path), Roles("y", None, ("s",)))
    for column in ("skewed", "ties", "wide"):
        assert engine.coding(column).predicates == ev.codes(column).predicates, column
    x = frame["skewed"].to_numpy()
    ks = [0, 1, 17, n // 3, n - 2, n - 1]
    got = lazy._windowed_order_stats(engine.source.frame.to_native().project("skewed AS x"), ks, n, 1e-5)
    assert got == np.sort(x)[ks].tolist()


@pytest.mark.parametrize(
    ("order", "wrong_only"),
    [("loss", False), ("loss", True), ("confident_wrong", True), ("confident_wrong", False)],
)
def test_review_pages_from_the_first_rows_of_each_cell_equal_the_scan(adult_pair, order, wrong_only):
    """The slice browser's loss pages and the error tagger's confident-wrong queue (of the wrong rows:
    the cells off the diagonal) come from each cell's first rows: the same ids and rows as the scan."""
    ev, engine = adult_pair
    engine.count(plans(ev)[0], where(engine, Clause.where("s", engine.coding("age").predicates[2])))
    cube = engine.preagg
    assert cube.top_rows()
    right = cells_clause("matrix", ev.classes, cells=[(0, 0), (1, 1)], names=ev.role_names())
    few_wrong = cells_clause("matrix", ev.classes, cells=[(0, 0), (1, 1), (1, 0)], names=ev.role_names())
    age = Clause.where("slices", engine.coding("age").predicates[1])
    cases = {
        **dict(list(mapped_clauses(ev, engine).items())[:9]),
        "right cells (no wrong row)": [right], "right cells and a young slice": [few_wrong, age],
    }  # fmt: skip
    for what, clauses in cases.items():
        lazy = where(engine, *clauses)
        for offset, limit in ((0, 10), (10, 10), (40, 10), (45, 10), (0, 50)):
            plan = RowPage(order, limit=limit, offset=offset, wrong_only=wrong_only)
            rows = cube.page(plan, lazy)
            assert (rows is None) == (offset + limit > 50), (what, offset)
            got_ids = engine.page(plan, lazy)
            got = engine.fetch(got_ids, loss=True)
            engine.preaggregate = False
            try:
                want_ids = engine.page(plan, lazy)
                want = engine.rows(want_ids, loss=True)
            finally:
                engine.preaggregate = True
            np.testing.assert_array_equal(got_ids, want_ids, err_msg=f"{what} {offset}")
            pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=f"{what} {offset}")
    assert engine.fetch(got_ids, loss=False).columns.tolist() == engine.rows(got_ids).columns.tolist()


def test_a_filter_of_many_free_clauses_keeps_each_its_dimension(adult_pair):
    """Free clauses (no whole codes) beyond MAX_FILTERS, one filter after another and several in one
    filter, each resolved anew (as a loop over thresholds does: ids of dropped clauses are reused): every
    count still equals the numpy engine's."""
    ev, engine = adult_pair
    age = parse("age > 33", "bar", ev.query_name)
    for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        score = Clause.where("t", Predicate("score", ">=", (t,)))
        for clauses in [(age, score), (age, score, parse(f"age < {60 + 10 * t}", "q", ev.query_name))]:
            got = engine.count(plans(ev)[0], where(engine, *clauses))
            assert_same(got, ev.engine.count(plans(ev)[0], where(ev.engine, *clauses)), f"t={t}")
    many = [parse(f"age > {20 + i}", f"c{i}", ev.query_name) for i in range(6)]  # six in one filter
    assert_same(
        engine.count(plans(ev)[0], where(engine, *many)),
        ev.engine.count(plans(ev)[0], where(ev.engine, *many)),
        "6",
    )


def test_slice_tables_with_tags_count_only_the_tags(adult_pair, monkeypatch):
    """A slice table of columns and tags (the slice browser's, once a store is attached): the columns come
    from the pre-aggregated tables, a tag no row carries is counted from them too, a tag with rows scans
    only its own table; every table equals the numpy engine's."""
    ev, engine = adult_pair
    cell = where(engine, cells_clause("matrix", ev.classes, cells=[(1, 0)], names=ev.role_names()))
    columns = (Key.column("education"), Key.tag("mislabeled"), Key.column("sex"))
    plan = Marginals(columns, by=(Key.outcome(1),))
    numpy = ev.engine.marginals(
        plan, where(ev.engine, cells_clause("matrix", ev.classes, cells=[(1, 0)], names=ev.role_names()))
    )
    scanned: list[Key] = []
    scan = engine.scan_count
    monkeypatch.setattr(engine, "scan_count", lambda p, w: scanned.append(p.keys[0]) or scan(p, w))
    for got, want in zip(engine._marginals(plan, cell), numpy, strict=True):
        np.testing.assert_array_equal(got, want)
    assert scanned == []  # the untagged tag from the tables too
    tagged_ids = engine.page(RowPage("loss", limit=7), cell).tolist()
    monkeypatch.setattr(engine, "tag_ids", lambda names: tagged_ids)
    tables = engine._marginals(plan, cell)
    assert scanned == [Key.tag("mislabeled")]
    np.testing.assert_array_equal(tables[0], numpy[0])
    assert tables[1][0].sum() == 7 and tables[1].sum() == numpy[1].sum()  # the 7 tagged rows of the cell


def test_cards_of_a_review_page_are_fetched_without_a_query(adult_pair, monkeypatch):
    """The error tagger fetches its queue page and then one card: both come from the rows the
    pre-aggregated first rows brought (no scan by id), equal to the rows the scan gives."""
    ev, engine = adult_pair
    cell = where(engine, cells_clause("matrix", ev.classes, cells=[(1, 0)], names=ev.role_names()))
    queue = engine.page(RowPage("confident_wrong", limit=10, wrong_only=True), cell)
    engine.page(RowPage("loss", limit=10), cell)  # another view's page in between
    want = engine.rows(queue, loss=True)
    monkeypatch.setattr(engine, "rows", lambda *a, **k: pytest.fail("fetched by a query"))
    pd.testing.assert_frame_equal(engine.fetch(queue, loss=True), want, check_dtype=False)
    pd.testing.assert_frame_equal(
        engine.fetch(queue[3:4]),
        want.iloc[3:4].drop(columns="loss").reset_index(drop=True),
        check_dtype=False,
    )


def test_roc_auc_from_the_score_bins_only_when_each_bin_is_one_score(adult_pair, tmp_path):
    """The overview's ROC AUC of a click comes from the pre-aggregated score bins when every bin holds one
    distinct score (scores of three decimals below 1: 0.999 and 1.0 share the last bin), exactly; else it
    is counted by a query. Both equal scikit-learn's on the kept rows."""
    from sklearn.metrics import roc_auc_score

    ev = adult_pair[0]
    frame = ev.frame()[["actual", "score", "sex"]]
    cells = cells_clause("m", ev.classes, cells=[(1, 0), (0, 0)], names=ev.role_names())
    female = Clause.where("s", Predicate("sex", "in", ("Female",)))
    for name, score, from_bins in (
        ("three decimals", np.minimum(frame["score"], 0.999), True),
        ("with 1.0", frame["score"], False),
        ("finer", np.clip(frame["score"] + 1e-4 * np.sin(np.arange(len(frame))), 0, 1), False),
    ):
        data = frame.assign(score=score)
        data.to_parquet(tmp_path / "s.parquet", index=False)
        engine = es.Evaluation(str(tmp_path / "s.parquet"), y_true="actual", y_score="score").engine
        assert engine._single_valued_bins(1, 1000) == from_bins, name
        for clauses in ([cells], [female], [cells, female]):
            kept = where(engine, *clauses)
            assert (engine._binned_roc_counts(RocAuc(1), kept) is not None) == from_bins, name
            mask = np.ones(len(data), dtype=bool)
            if cells in clauses:
                mask &= (data["score"] < 0.5).to_numpy()
            if female in clauses:
                mask &= (data["sex"] == "Female").to_numpy()
            want = roc_auc_score(data["actual"][mask] == ">50K", data["score"][mask])
            assert engine._roc_auc(RocAuc(1), kept) == pytest.approx(want, abs=1e-12), name


# -- a regression -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wage_pair(tmp_path_factory, wage_model_and_frame):  # type: ignore[no-untyped-def]
    """The Wage frame with a regressor's predictions, as pandas and as Parquet (ids given)."""
    frame = wage_model_and_frame[1].assign(id=np.arange(3000) * 3 + 1)
    path = tmp_path_factory.mktemp("wage") / "wage.parquet"
    frame.to_parquet(path, index=False)
    ev = es.Evaluation(frame, y_true="wage", y_pred="pred", ids="id", sensitive="race")
    lazy = es.Evaluation(str(path), y_true="wage", y_pred="pred", ids="id", sensitive="race")
    return ev, lazy


def regression_keys(ev) -> dict[str, Key]:
    residual = ev.residual
    return {
        "actual": Key.value_bin("actual", 40, 20.0, 320.0),
        "predicted": Key.value_bin("predicted", 40, 20.0, 320.0),
        "residual": Key.value_bin("residual", 40, float(residual.min()), float(residual.max())),
    }


def test_a_regression_is_answered_from_the_tables_as_the_scan_and_numpy_do(wage_pair):
    """Overview, slices, groups, the residual plot's bins and its brushes: counts exactly and the
    regression sums to 1e-9, from the tables (counted) after each family's first scan."""
    from errorscope.regression import REGRESSION_SUMS

    ev, lazy = wage_pair
    engine, keys = lazy.engine, regression_keys(ev)
    edges = keys["residual"].bin_edges()
    brush = Clause.where("plot", Predicate("residual", "between", (float(edges[5]), float(edges[22]))))
    open_brush = Clause.where("plot", Predicate("residual", "between", (None, float(edges[9]))))
    rectangle = Clause(
        "plot",
        ((Predicate("actual", "between", (float(keys["actual"].bin_edges()[8]), None)),
          Predicate("predicted", "between", (None, float(keys["predicted"].bin_edges()[12])))),),
    )  # fmt: skip
    age = Clause.where("slices", engine.coding("age").predicates[2])
    race = Clause.where("groups", Predicate("race", "in", ("2. Black",)))
    cases = {"everything": [], "brush": [brush], "open brush": [open_brush], "rectangle": [rectangle],
             "slice": [age], "group": [race], "brush and slice": [brush, age], "slice and group": [age, race]}  # fmt: skip
    plans_ = [
        GroupCounts((), REGRESSION_SUMS),
        GroupCounts((Key.column("education"),), REGRESSION_SUMS),
        GroupCounts((Key.column("race"),), REGRESSION_SUMS),
        GroupCounts((keys["actual"], keys["predicted"]), (Measure("residual"),)),
        GroupCounts((keys["residual"],)),
        GroupCounts((Key.column("actual"), Key.column("race")), (Measure("residual"),)),
    ]
    for plan in plans_:  # the value bins are registered, as the residual plot's first draw does
        engine.count(plan, Filter())
    cube = engine.preagg
    for what, clauses in cases.items():
        got_filter, want_filter = where(engine, *clauses), where(ev.engine, *clauses)
        for plan in plans_:
            before = cube.answered
            got = engine.count(plan, got_filter)
            assert_same(got, ev.engine.count(plan, want_filter), f"{what}: {plan}")
            assert_same(got, engine.scan_count(plan, got_filter), f"{what} scan: {plan}")
            columns = {k.name for k in plan.keys if k.kind == "column"}
            columns |= {p.column for c in clauses for t in c.terms for p in t if c.source != "plot"}
            bins = {k.name for k in plan.keys if k.kind == "value_bin"}
            bins |= {p.column for c in clauses for t in c.terms for p in t if c.source == "plot"}
            if len(columns) <= 2 and len(bins) <= 2:  # no family crosses three columns or value bins
                assert cube.answered == before + 1, f"{what} was scanned: {plan}"


@pytest.mark.parametrize("order", ["loss", "over_prediction", "under_prediction"])
def test_regression_pages_come_from_the_first_rows_and_equal_the_scan(wage_pair, order):
    ev, lazy = wage_pair
    engine, keys = lazy.engine, regression_keys(ev)
    engine.count(GroupCounts((keys["residual"],)), Filter())
    edges = keys["residual"].bin_edges()
    cases = {
        "everything": [], "slice": [Clause.where("slices", engine.coding("education").predicates[1])],
        "brush": [Clause.where("plot", Predicate("residual", "between", (None, float(edges[15]))))],
    }  # fmt: skip
    for what, clauses in cases.items():
        got_filter, want_filter = where(engine, *clauses), where(ev.engine, *clauses)
        for offset, limit in ((0, 10), (40, 10)):
            plan = RowPage(order, limit=limit, offset=offset)
            assert engine.preagg.page(plan, got_filter) is not None, what
            got_ids = engine.page(plan, got_filter)
            np.testing.assert_array_equal(got_ids, ev.engine.page(plan, want_filter), err_msg=what)
            got = engine.fetch(got_ids, loss=True)
            np.testing.assert_allclose(got["residual"], ev.engine.fetch(got_ids, loss=True)["residual"])


def test_a_clicks_plans_by_many_columns_share_one_family_over_its_filter(wage_model_and_frame, tmp_path):
    """A group click's batch asks a plan per column (the slice browser's metrics): one family over the
    group's column, crossed with every column, is built before the batch and answers them all (a family
    per column had taken a scan each), with the numbers of numpy."""
    from errorscope.regression import REGRESSION_SUMS

    frame = wage_model_and_frame[1].assign(id=np.arange(3000) * 3 + 1)
    frame.to_parquet(tmp_path / "wage.parquet", index=False)
    roles = {"y_true": "wage", "y_pred": "pred", "ids": "id", "sensitive": "race"}
    ev, lazy = es.Evaluation(frame, **roles), es.Evaluation(str(tmp_path / "wage.parquet"), **roles)
    race = Clause.where("groups", Predicate("race", "in", ("2. Black",)))
    got_filter, want_filter = where(lazy.engine, race), where(ev.engine, race)
    plans_ = [
        GroupCounts((Key.column(c),), REGRESSION_SUMS) for c in ("age", "education", "year", "jobclass")
    ]
    lazy.engine.prefetch_views({})  # nothing asked yet: nothing built
    lazy.engine._answer_batch([(plan, got_filter) for plan in plans_])
    cube = lazy.engine.preagg
    assert [f.base for f in cube.families] == [("c:race",)]
    for plan in plans_:
        assert_same(lazy.engine.count(plan, got_filter), ev.engine.count(plan, want_filter), str(plan))
    assert [f.base for f in cube.families] == [("c:race",)] and cube.scanned == 0
