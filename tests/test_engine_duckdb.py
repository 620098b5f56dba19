"""The DuckDB engine answers every plan as the numpy code does on the same rows (counts exactly, sums to
1e-9), under filters made from matrix cells, slice predicates and query text; scikit-learn is the oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

import errorscope as es
from errorscope import ranking, slicing
from errorscope.datasets import load_adult
from errorscope.engines.lazy import LazyEngine, Roles, Task, numpy_quantiles
from errorscope.engines.sources import open_source
from errorscope.metrics import confusion_counts
from errorscope.plans import ALL_ROWS, Filter, GroupCounts, Key, Marginals, Measure, RocAuc, RowPage
from errorscope.query import parse
from errorscope.selection import Clause, Predicate, cells_clause

duckdb = pytest.importorskip("duckdb")


def lazy_twin(ev: es.Evaluation, source, roles: Roles) -> LazyEngine:
    """A LazyEngine over ``source`` with the numpy Evaluation's task."""
    engine = LazyEngine(open_source(source), roles)
    order = None
    if len(roles.y_score) > 1:
        order = tuple(list(roles.y_score).index(c) for c in roles.y_score)
    engine.set_task(Task(tuple(ev.classes), ev.positive_code, ev.threshold, order))
    return engine


@pytest.fixture(scope="module")
def adult_pair(tmp_path_factory):
    df = load_adult("test")
    rng = np.random.default_rng(0)
    df["score"] = np.clip(0.35 * (df["income"] == ">50K") + 0.65 * rng.random(len(df)), 0, 1).round(3)
    df["id"] = np.arange(len(df)) * 7 + 3
    path = tmp_path_factory.mktemp("adult") / "adult.parquet"
    df.to_parquet(path, index=False)
    ev = es.Evaluation(df, y_true="income", y_score="score", ids="id")
    return ev, lazy_twin(ev, str(path), Roles("income", None, ("score",), "id"))


def filters(ev: es.Evaluation, engine: LazyEngine) -> list[tuple[str, np.ndarray | None, Filter]]:
    """(what, numpy mask, engine filter) for every rows, a matrix cell, a slice and query text."""
    clauses = [
        cells_clause("matrix", ev.classes, cells=[(1, 0)], names=ev.role_names()),
        Clause.where("slices", engine.coding("age").predicates[3]),
        Clause.where("slices", engine.coding("workclass").predicates[-1]),  # missing
        Clause.where("slices", engine.coding("native-country").predicates[-2]),  # other
        parse("age > 40 and (sex == 'Female' or `capital-gain` >= 5000)", "code", ev.query_name),
        parse("not (education in ['Bachelors', 'Masters']) and score < 0.7", "code", ev.query_name),
        parse("actual != predicted and occupation.notna()", "code", ev.query_name),
    ]
    out: list[tuple[str, np.ndarray | None, Filter]] = [("all rows", None, ALL_ROWS)]
    for clause in clauses:
        mask = ev.engine.resolve(clause)
        out.append((clause.text, mask, Filter((clause.text,), (engine.resolve(clause),))))
    both = (clauses[2], clauses[5])
    mask = ev.engine.resolve(both[0]) & ev.engine.resolve(both[1])
    out.append(("two clauses", mask, Filter(("two",), tuple(engine.resolve(c) for c in both))))
    return out


def test_codings_are_identical_to_encode_column(adult_pair):
    ev, engine = adult_pair
    for column in ev.data.columns:
        coded, lazy = ev.codes(column), engine.coding(column)
        assert (lazy.kind, lazy.labels, lazy.predicates) == (coded.kind, coded.labels, coded.predicates), (
            column
        )
        counts = engine.count(GroupCounts((Key.column(column),)), ALL_ROWS).counts
        np.testing.assert_array_equal(
            counts, np.bincount(coded.codes, minlength=coded.n_codes), err_msg=column
        )


def test_set_bins_edges_and_counts(adult_pair):
    ev, engine = adult_pair
    frame = ev.data.copy()
    twin = es.Evaluation(frame, y_true="income", y_score="score", ids="id")
    twin.set_bins("age", [-np.inf, 25, 45, 65, 1000])
    engine.set_bins("age", [-np.inf, 25, 45, 65, 1000])
    try:
        assert engine.coding("age").predicates == twin.codes("age").predicates
        counts = engine.count(GroupCounts((Key.column("age"),)), ALL_ROWS).counts
        np.testing.assert_array_equal(counts, twin.codes("age").counts())
    finally:
        engine.set_bins("age", None)


def test_matrix_counts_equal_numpy_and_sklearn_under_every_filter(adult_pair):
    ev, engine = adult_pair
    plan = GroupCounts((Key.actual(), Key.predicted()))
    for what, mask, where in filters(ev, engine):
        got = engine.count(plan, where).counts
        np.testing.assert_array_equal(
            got, confusion_counts(ev.true_codes, ev.pred_codes, 2, mask), err_msg=what
        )
        keep = slice(None) if mask is None else mask
        oracle = confusion_matrix(ev.true_codes[keep], ev.pred_codes[keep], labels=[0, 1])
        np.testing.assert_array_equal(got, oracle, err_msg=what)
        assert engine.n_kept(where) == (ev.n_rows if mask is None else int(mask.sum()))


def test_slice_marginals_equal_slice_counts(adult_pair):
    ev, engine = adult_pair
    columns = [*ev.features, *ev.metadata]
    coded = [ev.codes(c) for c in columns]
    plan = Marginals(tuple(Key.column(c) for c in columns), by=(Key.outcome(1),))
    for what, mask, where in filters(ev, engine)[:5]:
        expected = slicing.slice_counts(ev, coded, 1, mask)
        for column, got, want in zip(columns, engine.marginals(plan, where), expected, strict=True):
            np.testing.assert_array_equal(got, want, err_msg=f"{what}: {column}")
    without = engine.marginals(Marginals((Key.column("sex"),), by=(Key.outcome(None),)), ALL_ROWS)[0]
    wrong_bit = slicing.slice_counts(ev, [ev.codes("sex")], None, None)[0]  # (n_codes, 8): 2 used
    np.testing.assert_array_equal(without, wrong_bit[:, :2])


def test_group_sums_equal_numpy(adult_pair):
    ev, engine = adult_pair
    plan = GroupCounts(
        (Key.column("race"), Key.outcome(1)),
        sums=(
            Measure("score", 1),
            Measure("score2", 1),
            Measure("brier", 1),
            Measure("log_loss"),
            Measure("log_loss2"),
        ),
    )
    loss = slicing.row_log_loss(ev)
    outcome = 4 * (ev.true_codes == 1) + 2 * (ev.pred_codes == 1) + (ev.true_codes != ev.pred_codes)
    key = ev.codes("race").codes * 8 + outcome
    size = ev.codes("race").n_codes * 8
    for what, mask, where in filters(ev, engine):
        keep = np.ones(ev.n_rows, bool) if mask is None else mask
        got = engine.count(plan, where)
        np.testing.assert_array_equal(
            got.counts.ravel(), np.bincount(key[keep], minlength=size), err_msg=what
        )
        s = ev.scores[:, 1]
        weights = [s, s * s, (s - (ev.true_codes == 1)) ** 2, loss, loss**2]
        for j, w in enumerate(weights):
            want = np.bincount(key[keep], weights=w[keep], minlength=size)
            np.testing.assert_allclose(got.sums[j].ravel(), want, rtol=1e-9, atol=1e-9, err_msg=what)


def test_every_plan_equals_the_numpy_engine(adult_pair):
    """The lead's NumpyEngine is the reference: the same plan and the same clauses give the same answer."""
    ev, engine = adult_pair
    keys = (Key.column("education"), Key.outcome(1))
    plans = [
        GroupCounts((Key.actual(), Key.predicted()), sums=(Measure("log_loss"), Measure("brier", 1))),
        GroupCounts(keys, sums=(Measure("score", 1), Measure("log_loss2"))),
        GroupCounts((Key.score_bin(5, 1), Key.actual(1), Key.predicted(0))),
    ]
    marginal = Marginals(
        tuple(Key.column(c) for c in ("age", "sex", "occupation", "score")), by=(Key.outcome(1),)
    )
    for what, mask, where in filters(ev, engine):
        numpy_where = ev.engine.as_filter(mask)
        for plan in plans:
            want, got = ev.engine.count(plan, numpy_where), engine.count(plan, where)
            np.testing.assert_array_equal(got.counts, want.counts, err_msg=what)
            np.testing.assert_allclose(got.sums, want.sums, rtol=1e-9, atol=1e-9, err_msg=what)
        for got, want in zip(
            engine.marginals(marginal, where), ev.engine.marginals(marginal, numpy_where), strict=True
        ):
            np.testing.assert_array_equal(got, want, err_msg=what)
        for order in ("loss", "confident_wrong", "least_confident", "id", "stratified_random"):
            plan = RowPage(order, limit=20, offset=5, seed=1)
            np.testing.assert_array_equal(
                engine.page(plan, where), ev.engine.page(plan, numpy_where), err_msg=what
            )
        assert engine.n_kept(where) == ev.engine.n_kept(numpy_where)
        auc = (engine.roc_auc(RocAuc(1), where), ev.engine.roc_auc(RocAuc(1), numpy_where))
        np.testing.assert_allclose(*auc, atol=1e-12, err_msg=what)  # NaN for both with one class


def test_score_bins_and_tags_keys(adult_pair):
    ev, engine = adult_pair
    got = engine.count(GroupCounts((Key.score_bin(10, 1),)), ALL_ROWS).counts
    tenths = np.minimum(np.floor(ev.scores[:, 1] * 10), 9).astype(int)  # as the plan defines the bins
    np.testing.assert_array_equal(got, np.bincount(tenths, minlength=10))
    np.testing.assert_array_equal(got, ev.engine.count(GroupCounts((Key.score_bin(10, 1),)), ALL_ROWS).counts)
    engine.tag_ids = lambda names: [3, 10, 17] if "ok" in names else []
    try:
        tags = engine.count(GroupCounts((Key.tag("ok"),)), ALL_ROWS).counts
        assert tags.tolist() == [3, ev.n_rows - 3]
        where = Filter(
            ("t",), (engine.resolve(Clause.where("t", Predicate("tag", "in", ("ok",), role="tag"))),)
        )
        assert engine.n_kept(where) == 3
    finally:
        engine.tag_ids = None


@pytest.mark.parametrize("order", ["loss", "confident_wrong", "least_confident", "id", "stratified_random"])
def test_pages_equal_row_order(adult_pair, order):
    ev, engine = adult_pair
    for what, mask, where in filters(ev, engine)[:4]:
        positions = ranking.row_order(ev, mask, by=order, seed=3)
        for offset, limit in ((0, 50), (37, 25)):
            got = engine.page(RowPage(order, limit=limit, offset=offset, seed=3), where)
            np.testing.assert_array_equal(got, ev.ids[positions[offset : offset + limit]], err_msg=what)
    wrong = engine.page(RowPage(order, limit=30, wrong_only=True, seed=3), ALL_ROWS)
    positions = ranking.row_order(ev, ev.wrong, by=order, seed=3)[:30]
    np.testing.assert_array_equal(wrong, ev.ids[positions])


def test_roc_auc_equals_numpy_and_sklearn(adult_pair):
    ev, engine = adult_pair
    for what, mask, where in filters(ev, engine):
        keep = np.ones(ev.n_rows, bool) if mask is None else mask
        for positive in (0, 1):
            got = engine.roc_auc(RocAuc(positive), where)
            actual = ev.true_codes[keep] == positive
            if actual.all() or not actual.any():
                assert np.isnan(got)
                continue
            assert got == pytest.approx(
                ev.engine.roc_auc(RocAuc(positive), ev.engine.as_filter(keep)), abs=1e-12
            ), what
            assert got == pytest.approx(roc_auc_score(actual, ev.scores[keep, positive]), abs=1e-9), what


def test_rows_by_id_and_selected(adult_pair):
    ev, engine = adult_pair
    ids = [ev.ids[5], ev.ids[0], ev.ids[1000]]
    got = engine.rows(ids)
    frame = ev.frame().set_index("id", drop=False)
    want = frame.loc[ids].reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    with pytest.raises(ValueError, match="not ids"):
        engine.rows([-1])
    clause = parse("age > 70 and sex == 'Female'", "code", ev.query_name)
    mask = ev.engine.resolve(clause)
    selected = engine.selected(Filter(("c",), (engine.resolve(clause),)))
    pd.testing.assert_frame_equal(selected, ev.frame()[mask].reset_index(drop=True), check_dtype=False)


def test_numpy_quantiles_from_order_statistics_equal_np_quantile():
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 10, 1001, 16281):
        x = rng.normal(size=n) * 10.0 ** rng.integers(-3, 6)
        s = np.sort(x)
        q = np.linspace(0, 1, 11)
        np.testing.assert_array_equal(
            numpy_quantiles(lambda ks, s=s: s[ks].tolist(), n, q), np.quantile(x, q)
        )


def random_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n).round(1)),
            "k": rng.integers(0, 6, n),
            "big": rng.integers(0, 10_000, n),
            "s": pd.Series(rng.choice(["a", "b", "c", "d"], n), dtype=object).where(
                rng.random(n) > 0.1, None
            ),
            "t": pd.Series(
                pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
            ).where(rng.random(n) > 0.1),
            "flag": rng.random(n) < 0.3,
            "y": rng.choice(["cat", "dog", "emu"], n),
        }
    )
    p = rng.dirichlet(np.ones(3), n)
    frame[["p_cat", "p_dog", "p_emu"]] = p
    frame["id"] = [f"r{i}" for i in rng.permutation(n)]
    return frame


@pytest.fixture(scope="module")
def multiclass_pair():
    import pyarrow as pa

    frame = random_frame(3000, 1)
    ev = es.Evaluation(frame, y_true="y", y_score=["p_cat", "p_dog", "p_emu"], ids="id")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return ev, lazy_twin(ev, table, Roles("y", None, ("p_cat", "p_dog", "p_emu"), "id"))


def test_multiclass_argmax_predictions_codings_pages(multiclass_pair):
    ev, engine = multiclass_pair
    got = engine.count(GroupCounts((Key.actual(), Key.predicted())), ALL_ROWS).counts
    np.testing.assert_array_equal(got, confusion_counts(ev.true_codes, ev.pred_codes, 3))
    for column in ["x", "k", "big", "s", "t", "flag", "confidence"]:
        coded, lazy = ev.codes(column), engine.coding(column)
        assert (lazy.labels, lazy.predicates) == (coded.labels, coded.predicates), column
        counts = engine.count(GroupCounts((Key.column(column),)), ALL_ROWS).counts
        np.testing.assert_array_equal(counts, coded.counts(), err_msg=column)
    for order in ("loss", "confident_wrong", "least_confident", "id"):
        page = engine.page(RowPage(order, limit=40, offset=10), ALL_ROWS)
        np.testing.assert_array_equal(page, ev.ids[ranking.row_order(ev, by=order)[10:50]], err_msg=order)
    for positive in range(3):
        want = roc_auc_score(ev.true_codes == positive, ev.scores[:, positive])
        assert engine.roc_auc(RocAuc(positive), ALL_ROWS) == pytest.approx(want, abs=1e-9)


QUERIES = [
    "x > 0.3",
    "x != 0.5",
    "not (x <= -0.2) and k in [1, 3]",
    "s == 'a' or s.isna()",
    "s not in ['a', 'b']",
    "t >= '2021-06-01' and t < '2021-09-01'",
    "t.notna() and flag == True",
    "big.between(100, 4000) and actual == 'dog'",
    "actual != predicted",
    "predicted in ['cat', 'emu'] and score > 0.5",
    "k == x",
    "s > 'b'",
]


@pytest.mark.parametrize("query", QUERIES)
def test_query_text_keeps_the_numpy_rows(multiclass_pair, query):
    ev, engine = multiclass_pair
    clause = parse(query, "code", ev.query_name)
    where = Filter(("q",), (engine.resolve(clause),))
    mask = ev.engine.resolve(clause)
    assert engine.n_kept(where) == int(mask.sum())
    page = engine.page(RowPage("data", limit=10**6), where)
    np.testing.assert_array_equal(page, ev.ids[mask])


@pytest.mark.parametrize(
    ("query", "message"),
    [("x > 'a'", "holds numbers"), ("s < 3", "cannot be compared"), ("actual > 'cat'", "takes ==")],
)
def test_clauses_that_do_not_apply_are_value_errors(multiclass_pair, query, message):
    ev, engine = multiclass_pair
    with pytest.raises(ValueError, match=message):
        engine.resolve(parse(query, "code", ev.query_name))


# -- property: compiled filters keep the numpy resolver's rows ------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NUMBERS = st.one_of(st.integers(-3, 12), st.sampled_from([-0.5, 0.0, 0.3, 1.5, 2.0, 4000.5]))
COMPARISONS = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
DATES = st.sampled_from(["2021-01-01", "2021-03-15", "2021-07-01 12:00", "2022-01-31"])


@st.composite
def atoms(draw) -> str:
    kind = draw(st.sampled_from(["num", "text", "time", "missing", "member", "ref", "role", "range"]))
    if kind == "num":
        return f"{draw(st.sampled_from(['x', 'k', 'big', 'score']))} {draw(COMPARISONS)} {draw(NUMBERS)}"
    if kind == "text":
        return f"s {draw(COMPARISONS)} {draw(st.sampled_from(['a', 'b', 'bb', 'z', '']))!r}"
    if kind == "time":
        return f"t {draw(COMPARISONS)} {draw(DATES)!r}"
    if kind == "missing":
        return f"{draw(st.sampled_from(['x', 's', 't', 'k']))}.{draw(st.sampled_from(['isna', 'notna']))}()"
    if kind == "member":
        column, values = draw(
            st.sampled_from(
                [("k", "[0, 2, 5]"), ("x", "[0.3, -0.5, 7]"), ("s", "['a', 'c']"), ("flag", "[True]")]
            )
        )
        return f"{column} {draw(st.sampled_from(['in', 'not in']))} {values}"
    if kind == "ref":
        pair = draw(st.sampled_from(["k", "x", "big"])), draw(st.sampled_from(["k", "x", "score"]))
        return f"{pair[0]} {draw(COMPARISONS)} {pair[1]}"
    if kind == "role":
        role = draw(st.sampled_from(["actual", "predicted"]))
        other = draw(st.sampled_from(["'cat'", "'emu'", "predicted" if role == "actual" else "actual"]))
        return f"{role} {draw(st.sampled_from(['==', '!=']))} {other}"
    lo, hi = sorted(draw(st.lists(NUMBERS, min_size=2, max_size=2)))
    return f"{draw(st.sampled_from(['x', 'big']))}.between({lo}, {hi})"


QUERY = st.recursive(
    atoms(),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
        inner.map(lambda q: f"not ({q})"),
    ),
    max_leaves=4,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), query=QUERY)
def test_compiled_filters_keep_exactly_the_numpy_rows(seed, query):
    import pyarrow as pa

    frame = random_frame(60, seed)
    ev = es.Evaluation(frame, y_true="y", y_score=["p_cat", "p_dog", "p_emu"], ids="id")
    clause = parse(query, "code", ev.query_name)
    mask = ev.engine.resolve(clause)
    engine = lazy_twin(
        ev,
        pa.Table.from_pandas(frame, preserve_index=False),
        Roles("y", None, ("p_cat", "p_dog", "p_emu"), "id"),
    )
    where = Filter(("q",), (engine.resolve(clause),))
    np.testing.assert_array_equal(
        engine.page(RowPage("data", limit=10**6), where), ev.ids[mask], err_msg=query
    )


# -- sources: what opens, and clear errors ------------------------------------------------------
def test_globs_number_rows_across_files_in_name_order(tmp_path):
    frame = random_frame(90, 2)
    for i, part in enumerate((frame.iloc[:40], frame.iloc[40:41], frame.iloc[41:])):
        part.to_parquet(tmp_path / f"part-{i}.parquet", index=False)
    source = open_source(str(tmp_path / "part-*.parquet"))
    out = source.frame.collect().to_pandas().sort_values("__es_row")
    assert out["__es_row"].tolist() == list(range(90))
    assert out["id"].tolist() == frame["id"].tolist()
    frame.to_csv(tmp_path / "all.csv", index=False)
    assert (
        open_source(str(tmp_path / "all.csv")).frame.collect().to_pandas()["id"].tolist()
        == frame["id"].tolist()
    )


def test_nan_in_arrow_floats_is_missing_like_in_pandas():
    import pyarrow as pa

    frame = pd.DataFrame({"v": [np.nan, 1.0, 2.0, np.nan, 5.0], "y": ["a", "b", "a", "b", "a"]})
    table = pa.table({"v": pa.array(frame["v"], from_pandas=False), "y": frame["y"]})  # NaN, not null
    assert table["v"].null_count == 0
    ev = es.Evaluation(frame, y_true="y", y_pred="y")
    engine = lazy_twin(ev, table, Roles("y", "y"))
    assert engine.coding("v").labels == ev.codes("v").labels
    for query in ("v.isna()", "v < 3", "v != 1", "v not in [1.0]"):
        clause = parse(query, "code", ev.query_name)
        assert engine.n_kept(Filter(("q",), (engine.resolve(clause),))) == ev.engine.resolve(clause).sum()


def write_mismatched(tmp_path):
    pd.DataFrame({"a": [1, 2], "y": ["p", "q"]}).to_parquet(tmp_path / "m-0.parquet", index=False)
    pd.DataFrame({"a": ["1", "2"], "y": ["p", "q"]}).to_parquet(tmp_path / "m-1.parquet", index=False)
    return str(tmp_path / "m-*.parquet")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: str(tmp / "absent.parquet"), r"data='.*absent.parquet': no such file"),
        (lambda tmp: str(tmp / "none-*.parquet"), r"data='.*none-\*.parquet' matches no file"),
        (lambda tmp: str(tmp), r"data='.*' is a folder: pass a glob"),
        (
            write_mismatched,
            r"data='.*m-\*.parquet': the files do not share one schema \(column 'a' is BIGINT",
        ),
    ],
    ids=["missing file", "glob matching nothing", "folder", "mismatched types"],
)
def test_bad_sources_are_clear_errors(tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        open_source(make(tmp_path))


def test_missing_duckdb_names_the_extra(monkeypatch, tmp_path):
    import sys

    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "a.parquet")
    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(ImportError, match=r"pip install 'errorscope\[duckdb\]'"):
        open_source(str(tmp_path / "a.parquet"))


# -- Evaluation over a lazy source ----------------------------------------------------------------
def test_evaluation_over_parquet_has_the_numpy_spec(adult_pair, tmp_path):
    ev, _ = adult_pair
    ev.data.to_parquet(tmp_path / "a.parquet", index=False)
    lazy = es.Evaluation(
        str(tmp_path / "a.parquet"), y_true="income", y_score="score", ids="id", sensitive="sex"
    )
    assert lazy.engine.name == "duckdb" and lazy.engine.n_rows == ev.n_rows
    assert (lazy.classes, lazy.class_names, lazy.positive_code) == (
        ev.classes,
        ev.class_names,
        ev.positive_code,
    )
    assert (lazy.features, lazy.metadata, lazy.sensitive) == (ev.features, ev.metadata, ["sex"])
    assert lazy.pred_from_scores and lazy.threshold == 0.5 and list(lazy.derived) == list(ev.derived)
    plan = GroupCounts((Key.actual(), Key.predicted()))
    np.testing.assert_array_equal(
        lazy.engine.count(plan, ALL_ROWS).counts, confusion_counts(ev.true_codes, ev.pred_codes, 2)
    )
    clause = parse("age > 50 and actual == '>50K'", "matrix", ev.query_name)
    lazy.selection.set(clause)
    mask = ev.engine.resolve(clause)
    assert lazy.selection.n_kept() == int(mask.sum()) and lazy.selection.n_kept("matrix") == ev.n_rows
    got = lazy.engine.count(plan, lazy.selection.filter())
    np.testing.assert_array_equal(got.counts, confusion_counts(ev.true_codes, ev.pred_codes, 2, mask))
    with pytest.raises(TypeError, match=r"selection.mask\(\) needs the rows in memory"):
        lazy.selection.mask()
    moved = es.Evaluation(
        str(tmp_path / "a.parquet"), y_true="income", y_score="score", threshold=0.7, positive_class=">50K"
    )
    twin = es.Evaluation(ev.data, y_true="income", y_score="score", threshold=0.7, positive_class=">50K")
    np.testing.assert_array_equal(
        moved.engine.count(plan, ALL_ROWS).counts, confusion_counts(twin.true_codes, twin.pred_codes, 2)
    )
    with pytest.warns(UserWarning, match=r"ranks the rows in reverse of it \(ROC AUC 0.11\)"):
        flipped = es.Evaluation(
            pd.DataFrame(ev.data), y_true="income", y_score="score", positive_class="<=50K", engine="duckdb"
        )
    with pytest.warns(UserWarning, match=r"ranks the rows in reverse of it \(ROC AUC 0.11\)"):
        numpy_flipped = es.Evaluation(ev.data, y_true="income", y_score="score", positive_class="<=50K")
    assert flipped.classes == numpy_flipped.classes
    np.testing.assert_array_equal(
        flipped.engine.count(plan, ALL_ROWS).counts,
        confusion_counts(numpy_flipped.true_codes, numpy_flipped.pred_codes, 2),
    )


def test_evaluation_with_labels_text_and_multiclass_columns(tmp_path):
    frame = random_frame(500, 4)
    frame["review"] = pd.Series(np.where(frame["k"] > 2, "long words here", "short"), dtype=object).where(
        frame["k"] != 0
    )
    frame.to_parquet(tmp_path / "m.parquet", index=False)
    kwargs = dict(
        y_true="y", y_score=["p_cat", "p_dog", "p_emu"], ids="id", text="review", metadata=["s", "t"]
    )
    lazy = es.Evaluation(str(tmp_path / "m.parquet"), **kwargs)
    ev = es.Evaluation(frame, **kwargs)
    assert (lazy.features, lazy.metadata, list(lazy.derived)) == (ev.features, ev.metadata, list(ev.derived))
    for column in ev.derived:
        assert lazy.engine.coding(column).predicates == ev.codes(column).predicates, column
        np.testing.assert_array_equal(
            lazy.engine.count(GroupCounts((Key.column(column),)), ALL_ROWS).counts, ev.codes(column).counts()
        )


def bad_frame(**changes) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"y": ["a", "b", "a", "b"], "p": [0.1, 0.9, 0.4, 0.6], "i": [1, 2, 3, 4], "f": [1.0, 2.0, 3.0, 4.0]}
    )
    return frame.assign(**changes)


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (
            bad_frame(),
            dict(y_true="label", y_score="p"),
            r"y_true='label' is not a column of data.*Columns are: y, p, i, f",
        ),
        (bad_frame(), dict(y_true="y", y_pred="pred"), r"y_pred='pred' is not a column of data"),
        (bad_frame(), dict(y_true="y", y_score="prob"), r"y_score='prob' is not a column of data"),
        (bad_frame(), dict(y_true="y", y_score="p", ids="key"), r"ids='key' is not a column of data"),
        (bad_frame(), dict(y_true="y", y_score="p", features=["g"]), r"features='g' is not a column of data"),
        (
            bad_frame(),
            dict(y_true="y", y_score="p", sensitive="sex"),
            r"sensitive='sex' is not a column of data",
        ),
        (bad_frame(), dict(y_true=np.array(["a", "b", "a", "b"]), y_score="p"), r"y_true must name a column"),
        (bad_frame(), dict(y_true="y"), r"No predictions: on a SQL engine pass y_pred"),
        (
            bad_frame(y=["a", None, "a", "b"]),
            dict(y_true="y", y_score="p"),
            r"y_true has 1 missing values \(first at row 1\)",
        ),
        (
            bad_frame(i=[1, 2, 2, 4]),
            dict(y_true="y", y_score="p", ids="i"),
            r"ids must be unique, but 1 are repeated \(e.g. 2\)",
        ),
        (
            bad_frame(p=[0.1, 1.9, 0.4, 0.6]),
            dict(y_true="y", y_score="p"),
            r"y_score has values outside \[0, 1\]",
        ),
        (
            bad_frame(p=[0.1, np.nan, 0.4, 0.6]),
            dict(y_true="y", y_score="p"),
            r"y_score has NaN or infinite values",
        ),
        (bad_frame(), dict(y_true="y", y_score=["p", "f"]), r"y_score has values outside|rows must sum to 1"),
        (bad_frame(), dict(y_true="y", y_pred="y", threshold=0.3), r"threshold=0.3 has no effect"),
        (bad_frame(y=["a"] * 4), dict(y_true="y", y_score="p"), r"y has a single class"),
        (bad_frame(), dict(y_true="y", y_score="p", engine="fast"), r"engine must be one of"),
        (
            bad_frame(),
            dict(y_true="y", y_score="p", engine="spark"),
            r"engine='spark' needs data as a PySpark DataFrame",
        ),
    ],
    ids=[
        "y_true absent",
        "y_pred absent",
        "y_score absent",
        "ids absent",
        "features absent",
        "sensitive absent",
        "array role",
        "no predictions",
        "missing labels",
        "repeated ids",
        "scores outside",
        "scores nan",
        "scores columns",
        "threshold with y_pred",
        "one class",
        "unknown engine",
        "spark on pandas",
    ],
)
def test_bad_lazy_inputs_name_the_argument(tmp_path, frame, kwargs, message):
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    source = kwargs.pop("engine", None)
    data = frame if source == "spark" else str(tmp_path / "d.parquet")
    with pytest.raises((ValueError, TypeError), match=message):
        es.Evaluation(data, engine=source, **kwargs)


@pytest.mark.filterwarnings("ignore::DeprecationWarning:ibis.*")  # Ibis 12 calls a duckdb 2 deprecated name
def test_sources_of_every_kind_give_the_numpy_counts(adult_pair, tmp_path):
    import pyarrow as pa
    import pyarrow.dataset as ds

    ev, _ = adult_pair
    path = tmp_path / "adult.parquet"
    ev.data.to_parquet(path, index=False)
    ev.data.to_csv(tmp_path / "adult.csv", index=False)
    con = duckdb.connect()
    sources = {
        "parquet": str(path),
        "csv": str(tmp_path / "adult.csv"),
        "relation": con.read_parquet(str(path)),
        "arrow table": pa.Table.from_pandas(ev.data, preserve_index=False),
        "arrow dataset": ds.dataset(str(path)),
    }
    ibis = pytest.importorskip("ibis")
    sources["ibis"] = ibis.duckdb.connect().read_parquet(str(path))
    want = confusion_counts(ev.true_codes, ev.pred_codes, 2)
    clause = parse("age >= 50 and sex == 'Male'", "code", ev.query_name)
    mask = ev.engine.resolve(clause)
    for name, data in sources.items():
        lazy = es.Evaluation(data, y_true="income", y_score="score", ids="id")
        assert lazy.engine.name == "duckdb", name
        plan = GroupCounts((Key.actual(), Key.predicted()))
        np.testing.assert_array_equal(lazy.engine.count(plan, ALL_ROWS).counts, want, err_msg=name)
        where = Filter(("q",), (lazy.engine.resolve(clause),))
        np.testing.assert_array_equal(
            lazy.engine.page(RowPage("data", limit=10**6), where), ev.ids[mask], err_msg=name
        )


def test_a_column_the_engine_cannot_slice_names_the_fix():
    import pyarrow as pa

    frame = pd.DataFrame({"wait": pd.to_timedelta(["1h", "2h", "3h"]), "y": ["a", "b", "a"]})
    ev = es.Evaluation(frame, y_true="y", y_pred="y")
    engine = lazy_twin(ev, pa.Table.from_pandas(frame, preserve_index=False), Roles("y", "y"))
    with pytest.raises(
        TypeError, match=r"column 'wait' holds Duration.*store it as numbers \(a duration as seconds"
    ):
        engine.coding("wait")


def test_background_work_gets_a_connection_with_the_same_limits(tmp_path):
    """Discovery and SHAP jobs run on a connection of their own (a DuckDB connection takes one caller at
    a time) over the same files, with the threads, memory limit and spill folder set on the engine's."""
    frame = random_frame(200, 4)
    frame.to_parquet(tmp_path / "r.parquet", index=False)
    engine = es.Evaluation(
        str(tmp_path / "r.parquet"), y_true="y", y_score=["p_cat", "p_dog", "p_emu"]
    ).engine
    native = engine.frame.to_native()
    for statement in ("SET threads = 1", "SET memory_limit = '700MB'", f"SET temp_directory = '{tmp_path}'"):
        native.query("t", statement)
    worker = engine.for_thread()
    settings = (
        "current_setting('threads'), current_setting('memory_limit'), current_setting('temp_directory')"
    )
    assert worker.frame.to_native().query("t", f"SELECT {settings}").fetchall()[0] == (
        1,
        "667.5 MiB",
        str(tmp_path),
    )
    assert worker.n_rows == 200 and worker.frame.to_native() is not native
