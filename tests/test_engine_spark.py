"""The Spark engine (local[2]) answers the plans as the numpy code does on the same rows; only aggregates
and the visible page come back to the driver."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

import errorscope as es
from engines import order_statistics_frame
from errorscope import ranking, slicing
from errorscope.datasets import load_adult
from errorscope.metrics import confusion_counts
from errorscope.plans import ALL_ROWS, Filter, GroupCounts, Key, Marginals, Measure, RocAuc, RowPage
from errorscope.query import parse
from test_engine_duckdb import filters, random_frame

pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def adult_pair(spark, tmp_path_factory):
    df = load_adult("test").iloc[:4000].copy()
    rng = np.random.default_rng(0)
    df["score"] = np.clip(0.35 * (df["income"] == ">50K") + 0.65 * rng.random(len(df)), 0, 1).round(3)
    df["id"] = np.arange(len(df)) * 7 + 3
    path = tmp_path_factory.mktemp("adult") / "adult.parquet"
    df.to_parquet(path, index=False)
    lazy = es.Evaluation(spark.read.parquet(str(path)), y_true="income", y_score="score", ids="id")
    ev = es.Evaluation(df, y_true="income", y_score="score", ids="id")
    return ev, lazy.engine


def test_spark_spec_and_codings(adult_pair):
    ev, engine = adult_pair
    assert engine.name == "spark" and engine.n_rows == ev.n_rows
    for column in ("age", "workclass", "fnlwgt", "native-country", "score"):
        coded, lazy = ev.codes(column), engine.coding(column)
        assert (lazy.labels, lazy.predicates) == (coded.labels, coded.predicates), column


def test_spark_counts_sums_and_marginals_equal_numpy(adult_pair):
    ev, engine = adult_pair
    plan = GroupCounts((Key.actual(), Key.predicted()), sums=(Measure("log_loss"), Measure("brier", 1)))
    loss = slicing.row_log_loss(ev)
    brier = (ev.scores[:, 1] - (ev.true_codes == 1)) ** 2
    flat = ev.true_codes * 2 + ev.pred_codes
    for what, mask, where in filters(ev, engine)[:4]:
        keep = np.ones(ev.n_rows, bool) if mask is None else mask
        got = engine.count(plan, where)
        np.testing.assert_array_equal(
            got.counts, confusion_counts(ev.true_codes, ev.pred_codes, 2, mask), err_msg=what
        )
        oracle = confusion_matrix(ev.true_codes[keep], ev.pred_codes[keep], labels=[0, 1])
        np.testing.assert_array_equal(got.counts, oracle, err_msg=what)
        for j, w in enumerate((loss, brier)):
            want = np.bincount(flat[keep], weights=w[keep], minlength=4).reshape(2, 2)
            np.testing.assert_allclose(got.sums[j], want, rtol=1e-9, atol=1e-9, err_msg=what)
    columns = ["age", "sex", "workclass"]
    tables = engine.marginals(
        Marginals(tuple(Key.column(c) for c in columns), by=(Key.outcome(1),)), ALL_ROWS
    )
    expected = slicing.slice_counts(ev, [ev.codes(c) for c in columns], 1, None)
    for column, got, want in zip(columns, tables, expected, strict=True):
        np.testing.assert_array_equal(got, want, err_msg=column)


def test_spark_pages_roc_and_rows(adult_pair):
    ev, engine = adult_pair
    clause = parse("age > 40 and (sex == 'Female' or `capital-gain` >= 5000)", "code", ev.query_name)
    mask = ev.engine.resolve(clause)
    where = Filter(("q",), (engine.resolve(clause),))
    assert engine.n_kept(where) == int(mask.sum())
    for order in ("loss", "confident_wrong", "least_confident", "id"):
        got = engine.page(RowPage(order, limit=25, offset=10), where)
        np.testing.assert_array_equal(
            got, ev.ids[ranking.row_order(ev, mask, by=order)[10:35]], err_msg=order
        )
    auc = engine.roc_auc(RocAuc(1), where)
    assert auc == pytest.approx(roc_auc_score(ev.true_codes[mask] == 1, ev.scores[mask, 1]), abs=1e-9)
    rows = engine.rows([ev.ids[9], ev.ids[2]])
    assert rows["id"].tolist() == [ev.ids[9], ev.ids[2]]
    assert rows["age"].tolist() == ev.data["age"].iloc[[9, 2]].tolist()


def test_spark_query_text_on_random_frames(spark, tmp_path):
    frame = random_frame(400, 9)
    frame.astype({"t": "datetime64[us]"}).to_parquet(tmp_path / "r.parquet", index=False)
    kwargs = dict(y_true="y", y_score=["p_cat", "p_dog", "p_emu"], ids="id")
    lazy = es.Evaluation(spark.read.parquet(str(tmp_path / "r.parquet")), **kwargs).engine
    ev = es.Evaluation(frame, **kwargs)
    for query in (
        "x > 0.3 or s.isna()",
        "s not in ['a', 'b'] and k != 2",
        "t >= '2021-06-01'",
        "actual != predicted",
    ):
        clause = parse(query, "code", ev.query_name)
        got = lazy.page(RowPage("data", limit=10**6), Filter(("q",), (lazy.resolve(clause),)))
        np.testing.assert_array_equal(got, ev.ids[ev.engine.resolve(clause)], err_msg=query)


def test_rows_without_ids_are_numbered_like_numpy(spark, tmp_path):
    frame = random_frame(300, 3).drop(columns="id")
    for i, part in enumerate((frame.iloc[:120], frame.iloc[120:])):
        part.to_parquet(tmp_path / f"p-{i}.parquet", index=False)
    kwargs = dict(y_true="y", y_score=["p_cat", "p_dog", "p_emu"])
    shuffled = es.Evaluation(
        spark.read.parquet(str(tmp_path / "p-*.parquet")).repartition(3), **kwargs
    ).engine
    page = shuffled.page(RowPage("data", limit=10**6), ALL_ROWS)
    assert page.tolist() == list(range(300))  # 0..n-1 across the partitions, in their order
    frame.to_parquet(tmp_path / "one.parquet", index=False)
    lazy = es.Evaluation(spark.read.parquet(str(tmp_path / "one.parquet")), **kwargs).engine
    ev = es.Evaluation(frame, **kwargs)  # one file keeps its rows' order: numpy's default ids 0..n-1
    plan = RowPage("loss", limit=30)
    got = lazy.rows(lazy.page(plan, ALL_ROWS).tolist())
    want = ev.frame().iloc[ranking.row_order(ev, by="loss")[:30]]
    np.testing.assert_allclose(got["x"].to_numpy(dtype=float), want["x"].to_numpy(dtype=float))


def test_only_aggregates_reach_the_driver(adult_pair, monkeypatch):
    import narwhals as nw

    ev, engine = adult_pair
    frame_class = type(nw.to_native(engine.frame))  # pyspark's classic (or Connect) DataFrame
    collected: list[int] = []
    depth = [0]  # toArrow calls _collect_as_arrow: count the outermost call only
    for method in ("toArrow", "toPandas", "collect", "_collect_as_arrow"):
        original = getattr(frame_class, method)

        def counting(self, *args, _original=original, **kwargs):
            depth[0] += 1
            try:
                out = _original(self, *args, **kwargs)
            finally:
                depth[0] -= 1
            if depth[0] == 0:
                batches = out if isinstance(out, list) and out and hasattr(out[0], "num_rows") else [out]
                collected.append(sum(b.num_rows if hasattr(b, "num_rows") else len(b) for b in batches))
            return out

        monkeypatch.setattr(frame_class, method, counting)
    counts = engine.count(GroupCounts((Key.actual(), Key.predicted())), ALL_ROWS).counts
    assert counts.sum() == ev.n_rows
    assert collected and sum(collected) <= 4  # one row per (actual, predicted) group, never the rows


def test_a_stopped_session_is_a_clear_error() -> None:
    """In a process of its own: stopping a session would stop the test run's shared one."""
    script = textwrap.dedent(
        """
        import os, sys
        os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
        from pyspark.sql import SparkSession
        import errorscope as es
        spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
                 .config("spark.driver.host", "127.0.0.1").getOrCreate())
        frame = spark.createDataFrame([("a", 0.2, "1"), ("b", 0.7, "2")], ["y", "p", "id"])
        spark.stop()
        try:
            es.Evaluation(frame, y_true="y", y_score="p", ids="id")
        except ValueError as err:
            print(err)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "data is a PySpark DataFrame whose SparkSession was stopped" in done.stdout, done.stderr[-2000:]


def test_order_statistics_in_bounded_memory_equal_numpy(spark, tmp_path, monkeypatch):
    """Above SPARK_IN_MEMORY_ORDER_STATS rows Spark's quantile bins come from windows of approximate
    quantiles (percentile_disc holds every value: out of a 2 GB heap at 10M rows): the same bins as
    numpy's exact quantiles, on skewed, tied and missing values."""
    import errorscope.engines.lazy as lazy

    n = 20_000
    frame = order_statistics_frame(n)
    frame.to_parquet(tmp_path / "skew.parquet", index=False)
    monkeypatch.setattr(lazy, "SPARK_IN_MEMORY_ORDER_STATS", 1000)
    engine = es.Evaluation(spark.read.parquet(str(tmp_path / "skew.parquet")), y_true="y", y_score="s").engine
    ev = es.Evaluation(frame, y_true="y", y_score="s")
    for column in ("skewed", "ties", "wide"):
        assert engine.coding(column).predicates == ev.codes(column).predicates, column
    ks = [0, 1, 17, n // 3, n - 2, n - 1]
    native = spark.read.parquet(str(tmp_path / "skew.parquet")).selectExpr("skewed AS x")
    assert lazy._windowed_order_stats(native, ks, n, 1e-4) == np.sort(frame["skewed"].to_numpy())[ks].tolist()
