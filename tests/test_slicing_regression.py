"""Slice statistics on a regression (Wage, a fitted regressor): MAE, RMSE and mean residual per slice against
sklearn.metrics on the slice's rows, t intervals against scipy, Welch's test against scipy.stats.ttest_ind and
the Benjamini-Hochberg adjustment against statsmodels, on every engine (numpy, DuckDB over Parquet, Spark)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import mean_absolute_error, mean_squared_error
from statsmodels.stats.multitest import multipletests

import errorscope as es
from engines import where
from errorscope.slicing import slice_table

WAGE = {"y_true": "wage", "y_pred": "pred", "sensitive": "race", "task": "regression"}


@pytest.fixture(scope="module")
def ev(wage_model_and_frame: tuple[object, pd.DataFrame]) -> es.Evaluation:
    return es.Evaluation(wage_model_and_frame[1].copy(), **WAGE)


@pytest.fixture
def wage_ev(on_engine, wage_model_and_frame) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return on_engine("wage", wage_model_and_frame[1], **WAGE)


def rows_of(ev: es.Evaluation, predicate: object, mask: np.ndarray | None = None) -> np.ndarray:
    rows = ev.engine.predicate_mask(predicate)
    return rows if mask is None else rows & mask


def per_row(ev: es.Evaluation, metric: str) -> np.ndarray:
    e = ev.residual
    return {"mae": np.abs(e), "rmse": e**2, "mean_error": e}[metric]


@pytest.mark.parametrize("metric", ["mae", "rmse", "mean_error"])
@pytest.mark.parametrize("kept", ["", "age > 40"])
def test_metric_per_slice_equals_sklearn_scipy_and_statsmodels(
    wage_ev: es.Evaluation, ev: es.Evaluation, metric: str, kept: str
) -> None:
    """On each engine; the oracle's rows of a slice are the numpy engine's mask of its predicate."""
    table = slice_table(wage_ev, where(wage_ev, kept), metric=metric)
    mask = ev.data["age"].to_numpy() > 40 if kept else None
    y, p = ev.y_true, ev.y_pred
    kept_rows = np.ones(ev.n_rows, dtype=bool) if mask is None else mask
    x = per_row(ev, metric)
    assert {"errors", "error_rate", "lift"}.isdisjoint(table.columns)
    assert list(table.columns[:13]) == [
        "feature", "group", "slice", "size", "share", metric, f"rest_{metric}", "difference", "ratio",
        "ci_low", "ci_high", "p_value", "p_adjusted",
    ]  # fmt: skip
    for _, row in table.iterrows():
        inside = rows_of(ev, row["predicate"], kept_rows)
        rest = kept_rows & ~inside
        assert row["size"] == inside.sum()
        assert row["share"] == pytest.approx(inside.sum() / kept_rows.sum())
        if metric == "mae":
            value, other = mean_absolute_error(y[inside], p[inside]), mean_absolute_error(y[rest], p[rest])
        elif metric == "rmse":
            value = np.sqrt(mean_squared_error(y[inside], p[inside]))
            other = np.sqrt(mean_squared_error(y[rest], p[rest]))
        else:
            value, other = np.mean(p[inside] - y[inside]), np.mean(p[rest] - y[rest])
        assert row[metric] == pytest.approx(value, rel=1e-9, abs=1e-9)
        assert row[f"rest_{metric}"] == pytest.approx(other, rel=1e-9, abs=1e-9)
        assert row["difference"] == pytest.approx(value - other, rel=1e-9, abs=1e-9)
        if inside.sum() > 1:
            low, high = stats.t.interval(0.95, inside.sum() - 1, x[inside].mean(), stats.sem(x[inside]))
            if metric == "rmse":  # the roots of the mean squared error's interval
                low, high = np.sqrt(max(low, 0)), np.sqrt(high)
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-9, abs=1e-9)
        if inside.sum() > 1 and rest.sum() > 1:
            expected = stats.ttest_ind(x[inside], x[rest], equal_var=False).pvalue
            assert row["p_value"] == pytest.approx(expected, rel=1e-6, abs=1e-300)
    tested = table["p_value"].notna().to_numpy()
    expected = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(table.loc[tested, "p_adjusted"], expected, rtol=1e-12)


def test_families_worst_first_and_groups(ev: es.Evaluation) -> None:
    table = slice_table(ev)  # the default metric on a regression: MAE
    assert "mae" in table.columns
    features = set(table["feature"])
    assert {"actual", "predicted", "residual", "age", "education", "race"} <= features
    assert "wage" not in features and "pred" not in features  # the roles, not their columns
    assert set(table.loc[table["feature"].isin(["actual", "predicted", "residual"]), "group"]) == {"outcome"}
    assert set(table.loc[table["feature"].isin(["age", "education", "race"]), "group"]) == {"feature"}
    supported = table[table["supported"]]
    assert supported["mae"].is_monotonic_decreasing
    assert supported["mae"].iloc[0] > supported["rest_mae"].iloc[0]
    bias = slice_table(ev, metric="mean_error")
    shown = bias[bias["supported"]]["mean_error"].abs()
    assert shown.is_monotonic_decreasing  # over- and under-prediction alike
    signs = np.sign(bias[bias["supported"]]["mean_error"].head(10))
    assert (signs > 0).any() and (signs < 0).any()


def test_mean_error_ratio_is_signed(ev: es.Evaluation) -> None:
    table = slice_table(ev, metric="mean_error")
    finite = table["rest_mean_error"] != 0
    np.testing.assert_allclose(
        table.loc[finite, "ratio"], table.loc[finite, "mean_error"] / table.loc[finite, "rest_mean_error"]
    )


def test_tags_are_a_family(wage_model_and_frame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tagged = es.Evaluation(wage_model_and_frame[1].copy(), **WAGE)
    tagger = es.ErrorTagger(tagged, store=str(tmp_path / "tags.sqlite"), tags=["outlier"])
    ids = tagged.ids[np.argsort(-np.abs(tagged.residual))[:25]]
    tagger.tag(list(ids), "outlier")
    table = slice_table(tagged, metric="mae")
    row = table[table["feature"] == "tag"].iloc[0]
    assert row["slice"] == "outlier" and row["size"] == 25 and row["group"] == "outcome"
    worst = np.sort(np.abs(tagged.residual))[::-1][:25]
    assert row["mae"] == pytest.approx(worst.mean())


@pytest.mark.parametrize("metric", ["error_rate", "fpr", "log_loss"])
def test_classification_metrics_are_refused_with_the_regression_ones(ev: es.Evaluation, metric: str) -> None:
    with pytest.raises(ValueError, match=r"classification metric.*regression.*'mae', 'rmse', 'mean_error'"):
        slice_table(ev, metric=metric)
    with pytest.raises(ValueError, match=r"metric must be one of \('mae', 'rmse', 'mean_error'\)"):
        slice_table(ev, metric="mse")


def test_regression_metric_on_a_classification_is_explained() -> None:
    df = es.datasets.load_adult().iloc[:500]
    clf = es.Evaluation(df, "income", y_pred=np.where(df["age"] > 40, ">50K", "<=50K"))
    with pytest.raises(ValueError, match=r"got 'mae' \(a regression metric"):
        slice_table(clf, metric="mae")
