"""A regression's numbers on every engine (numpy, DuckDB over Parquet, Spark) against scikit-learn,
Fairlearn and numpy: metrics whole and under a selection, per group, value bins and the ranges they
select, quantiles, review orders and rows; and the regression's input errors on the SQL engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    median_absolute_error,
    r2_score,
)

import errorscope as es
from engines import ENGINES, evaluation_on, where
from errorscope.plans import ALL_ROWS, GroupCounts, Key, Measure, Quantiles, RowPage
from errorscope.regression import RegressionMetrics, regression_counts, regression_metrics
from errorscope.regression import median_absolute_error as es_median_ae
from errorscope.selection import Clause, Predicate

TOL = {"rtol": 1e-9, "atol": 1e-9}


@pytest.fixture
def wage_ev(on_engine, wage_model_and_frame) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return on_engine("wage", wage_model_and_frame[1], y_true="wage", y_pred="pred", sensitive="race")


def sklearn_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "mae": mean_absolute_error(y, p),
        "rmse": np.sqrt(mean_squared_error(y, p)),
        "r2": r2_score(y, p),
        "mean_error": float(np.mean(p - y)),
        "mean_prediction": float(np.mean(p)),
        "mean_actual": float(np.mean(y)),
        "mape": mean_absolute_percentage_error(y, p),
    }


@pytest.mark.parametrize("query", ["", "race == '2. Black'", "age >= 50 and residual < 0", "predicted > 120"])
def test_metrics_match_sklearn(wage_ev, wage, query):  # type: ignore[no-untyped-def]
    rows = (
        wage.query(query.replace("residual", "(pred - wage)").replace("predicted", "pred")) if query else wage
    )
    expected = sklearn_metrics(rows["wage"].to_numpy(), rows["pred"].to_numpy())
    got = regression_metrics(wage_ev, where(wage_ev, query))
    assert int(got.count) == len(rows)
    for name, value in expected.items():
        np.testing.assert_allclose(float(getattr(got, name)), value, **TOL, err_msg=name)
    median = es_median_ae(wage_ev, where(wage_ev, query))
    assert median == pytest.approx(median_absolute_error(rows["wage"], rows["pred"]), rel=1e-12)


def test_group_metrics_match_fairlearn(wage_ev, wage):  # type: ignore[no-untyped-def]
    from fairlearn.metrics import MetricFrame

    def rmse(y, p):  # type: ignore[no-untyped-def]
        return np.sqrt(mean_squared_error(y, p))

    frame = MetricFrame(
        metrics={"mae": mean_absolute_error, "rmse": rmse, "r2": r2_score},
        y_true=wage["wage"], y_pred=wage["pred"], sensitive_features=wage["race"],
    )  # fmt: skip
    coded = wage_ev.codes("race")
    got = RegressionMetrics.from_counted(regression_counts(wage_ev, (Key.column("race"),), ALL_ROWS))
    for i, label in enumerate(coded.labels):
        for name in ("mae", "rmse", "r2"):
            np.testing.assert_allclose(got.__dict__[name][i], frame.by_group.loc[label, name], **TOL)


def test_mape_is_nan_when_an_actual_is_zero() -> None:
    y = np.array([0.0, 2.0, 4.0, 5.0])
    p = np.array([1.0, 2.5, 3.0, 5.0])
    ev = es.Evaluation(pd.DataFrame({"x": [1, 2, 3, 4]}), y, y_pred=p, task="regression")
    metrics = regression_metrics(ev)
    assert np.isnan(metrics.mape)
    assert float(metrics.mae) == pytest.approx(mean_absolute_error(y, p))


def test_r2_of_a_constant_target_follows_sklearn() -> None:
    y = np.full(5, 3.0)
    for p in (np.full(5, 3.0), np.array([3.0, 3, 3, 3, 4])):
        ev = es.Evaluation(pd.DataFrame({"x": range(5)}), y, y_pred=p, task="regression")
        assert float(regression_metrics(ev).r2) == r2_score(y, p)


@pytest.mark.parametrize("name", ["actual", "predicted", "residual", "age"])
def test_value_bins_count_and_a_brushed_range_selects_those_rows(wage_ev, wage, name):  # type: ignore[no-untyped-def]
    values = {"actual": wage["wage"], "predicted": wage["pred"], "residual": wage["pred"] - wage["wage"]}
    x = values.get(name, wage.get(name)).to_numpy(dtype=np.float64)
    key = Key.value_bin(name, 25, float(np.quantile(x, 0.05)), float(np.quantile(x, 0.95)))
    counts = wage_ev.engine.count(GroupCounts((key,), (Measure("residual"),)), ALL_ROWS)
    edges = key.bin_edges()
    expected = np.searchsorted(edges[1:-1], x, side="right")  # bin i: edges[i] <= x < edges[i + 1]
    np.testing.assert_array_equal(counts.counts[:-1], np.bincount(expected, minlength=25))
    assert counts.counts[-1] == 0  # no missing values
    residual = (wage["pred"] - wage["wage"]).to_numpy()
    np.testing.assert_allclose(counts.sums[0][:-1], np.bincount(expected, residual, minlength=25), **TOL)
    for first, last in ((0, 3), (7, 12), (20, 24)):
        lo = None if first == 0 else float(edges[first])
        hi = None if last == key.bins - 1 else float(edges[last + 1])
        clause = Clause.where("brush", Predicate(name, "between", (lo, hi)))
        assert wage_ev.engine.n_kept(where(wage_ev, clause)) == counts.counts[first : last + 1].sum()


def test_value_bins_put_edge_values_in_the_bin_they_open() -> None:
    x = np.arange(0.0, 101.0)  # integers on many edges of bins of width 0.1 * 25
    ev = es.Evaluation(pd.DataFrame({"v": x}), x, y_pred=x + 1, task="regression")
    key = Key.value_bin("v", 40, 0.0, 100.0)
    got = ev.engine.count(GroupCounts((key,)), ALL_ROWS).counts[:-1]
    np.testing.assert_array_equal(
        got, np.bincount(np.searchsorted(key.bin_edges()[1:-1], x, "right"), minlength=40)
    )


def test_quantiles_match_numpy(wage_ev, wage):  # type: ignore[no-untyped-def]
    qs = (0.0, 0.1, 0.25, 0.5, 0.9, 1.0)
    rows = wage[wage["race"] == "1. White"]
    for measure, values in (("residual", rows["pred"] - rows["wage"]), ("actual", rows["wage"])):
        got = wage_ev.engine.quantiles(Quantiles(Measure(measure), qs), where(wage_ev, "race == '1. White'"))
        np.testing.assert_allclose(got, np.quantile(values.to_numpy(), qs), rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("order", "key"),
    [("loss", lambda e: -np.abs(e)), ("over_prediction", lambda e: -e), ("under_prediction", lambda e: e)],
)
def test_review_orders_by_residual(wage_ev, wage, order, key):  # type: ignore[no-untyped-def]
    residual = (wage["pred"] - wage["wage"]).to_numpy()
    expected = wage.index.to_numpy()[np.argsort(key(residual), kind="stable")[:7]]
    ids = wage_ev.engine.page(RowPage(order, 7), ALL_ROWS)
    np.testing.assert_array_equal(np.asarray(ids, dtype=np.int64), expected)
    rows = wage_ev.engine.fetch(ids, loss=True)
    np.testing.assert_allclose(rows["residual"], residual[expected], **TOL)
    np.testing.assert_allclose(rows["loss"], np.abs(residual[expected]), **TOL)
    np.testing.assert_allclose(rows["actual"], wage["wage"].to_numpy()[expected], **TOL)


def test_selected_rows_carry_the_residual(wage_ev, wage):  # type: ignore[no-untyped-def]
    wage_ev.select("residual > 40")
    selected = wage_ev.selected()
    expected = wage[wage["pred"] - wage["wage"] > 40]
    assert len(selected) == len(expected)
    np.testing.assert_allclose(
        np.sort(selected["residual"]), np.sort(expected["pred"] - expected["wage"]), **TOL
    )
    assert wage_ev.task == "regression"


@pytest.mark.parametrize("engine_name", ENGINES)
def test_bad_regression_input_is_refused_on_every_engine(request, engine_name, wage):  # type: ignore[no-untyped-def]
    bad_pred = wage.assign(pred=wage["pred"].where(wage.index != 5, np.nan))
    with pytest.raises(ValueError, match=r"y_pred.* (NaN|missing)"):
        evaluation_on(engine_name, request, bad_pred, y_true="wage", y_pred="pred")
    with pytest.raises(TypeError, match=r"y_true.*not numbers.*task=\"classification\""):
        evaluation_on(engine_name, request, wage, y_true="race", y_pred="pred", task="regression")
    with pytest.raises(
        ValueError, match=r"y_score only apply to a classifier; this Evaluation is a regression"
    ):
        evaluation_on(
            engine_name,
            request,
            wage.assign(s=0.5),
            y_true="wage",
            y_pred="pred",
            y_score="s",
            task="regression",
        )
    counts = wage.assign(n=np.arange(len(wage)) % 97, m=(np.arange(len(wage)) * 7) % 97)
    with pytest.raises(
        ValueError,
        match=r'distinct integers: a count to predict, or that many classes\? Pass task="regression"',
    ):
        evaluation_on(engine_name, request, counts, y_true="n", y_pred="m")
    ev = evaluation_on(engine_name, request, counts, y_true="n", y_pred="m", task="regression")
    assert ev.task == "regression"
    assert float(regression_metrics(ev).mae) == pytest.approx(mean_absolute_error(counts["n"], counts["m"]))


def test_a_classifier_passed_as_a_regressor_is_refused(wage) -> None:  # type: ignore[no-untyped-def]
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier().fit(wage[["age"]], wage["race"])
    with pytest.raises(
        ValueError, match=r'task="regression" but model is a classifier \(DecisionTreeClassifier\)'
    ):
        es.Evaluation(wage, y_true="wage", model=model, features=["age"], task="regression")
    with pytest.raises(ValueError, match=r"No predictions: pass y_pred \(numbers\) or a fitted regressor"):
        es.Evaluation(wage.drop(columns="pred"), y_true="wage", task="regression")


def test_group_metrics_intervals_and_tests_are_the_same_on_every_engine(wage_ev, wage):  # type: ignore[no-untyped-def]
    """The group comparer's statistics (group_regression) on this engine equal the numpy engine's, and
    the metrics Fairlearn's MetricFrame, for race crossed with an age split."""
    from fairlearn.metrics import MetricFrame

    from errorscope import group_regression as gr
    from errorscope.fairness import make_groups

    reference = es.Evaluation(wage, y_true="wage", y_pred="pred", sensitive="race")
    got = gr.regression_group_metrics(wage_ev, make_groups(wage_ev, "race"))
    want = gr.regression_group_metrics(reference, make_groups(reference, "race"))
    numbers = [c for c in want.columns if c not in ("group", "term", "small")]
    assert got["group"].tolist() == want["group"].tolist()
    np.testing.assert_allclose(
        got[numbers].to_numpy(float), want[numbers].to_numpy(float), equal_nan=True, **TOL
    )
    frame = MetricFrame(
        metrics={"mae": mean_absolute_error, "r2": r2_score}, y_true=wage["wage"], y_pred=wage["pred"],
        sensitive_features=wage["race"],
    )  # fmt: skip
    by_group = frame.by_group.loc[got["group"]]
    np.testing.assert_allclose(got["mae"], by_group["mae"], **TOL)
    np.testing.assert_allclose(got["r2"], by_group["r2"], **TOL)
