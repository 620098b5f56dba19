"""ModelOverview on a regression (Wage): MAE, RMSE, R², median AE, mean residual and MAPE against
scikit-learn on all rows and under selections; the distributions against numpy; the data checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.ensemble import GradientBoostingRegressor

import errorscope as es
from errorscope.overview import data_checks, key_metrics


@pytest.fixture(scope="module")
def wage() -> pd.DataFrame:
    return es.datasets.load_wage().drop(columns=["region"])


@pytest.fixture(scope="module")
def ev_model(wage: pd.DataFrame) -> es.Evaluation:
    X = pd.get_dummies(wage[["age", "year", "education", "jobclass", "health_ins"]], dtype=float)
    model = GradientBoostingRegressor(n_estimators=60, max_depth=3, random_state=0).fit(X, wage["wage"])
    data = pd.concat([X, wage[["race", "wage"]]], axis=1)
    return es.Evaluation(data, "wage", model=model, metadata=["race"], sensitive=["race"])


def test_key_metrics_equal_sklearn_on_all_rows_and_under_selections(ev_model: es.Evaluation) -> None:
    ev = ev_model
    black = (ev.data["race"] == "2. Black").to_numpy()
    young = (ev.data["age"] < 30).to_numpy()
    for mask in (None, black, ~black, young & ~black):
        rows = np.ones(ev.n_rows, dtype=bool) if mask is None else mask
        y, p = ev.actual_values[rows], ev.predicted_values[rows]
        got = key_metrics(ev, mask)
        assert got["rows"] == rows.sum()
        assert got["MAE"] == pytest.approx(metrics.mean_absolute_error(y, p), rel=1e-12)
        assert got["RMSE"] == pytest.approx(np.sqrt(metrics.mean_squared_error(y, p)), rel=1e-9)
        assert got["R²"] == pytest.approx(metrics.r2_score(y, p), rel=1e-9)
        assert got["median AE"] == pytest.approx(metrics.median_absolute_error(y, p), rel=1e-12)
        assert got["mean residual"] == pytest.approx(np.mean(p - y), abs=1e-9)
        assert got["MAPE"] == pytest.approx(metrics.mean_absolute_percentage_error(y, p), rel=1e-12)


def test_the_widget_follows_the_selection(ev_model: es.Evaluation) -> None:
    ev = ev_model
    view = es.ModelOverview(ev)
    assert list(view.table.index) == ["rows", "MAE", "RMSE", "R²", "median AE", "mean residual", "MAPE"]
    assert view.task == "regression" and view.metric_names == list(view.table.index[1:])
    ev.select("race == '2. Black'")
    black = (ev.data["race"] == "2. Black").to_numpy()
    y, p = ev.actual_values[black], ev.predicted_values[black]
    table = view.table
    assert table.loc["rows", "selection"] == view.n_rows == black.sum()
    assert table.loc["MAE", "selection"] == pytest.approx(metrics.mean_absolute_error(y, p))
    assert table.loc["MAE", "all rows"] == pytest.approx(metrics.mean_absolute_error(ev.y_true, ev.y_pred))
    selected = np.frombuffer(view.selected_metrics, dtype="<f8")
    assert selected[view.metric_names.index("R²")] == pytest.approx(metrics.r2_score(y, p))
    dist = view.distributions
    edges = np.r_[dist["low"], dist["high"].iloc[-1]]
    np.testing.assert_array_equal(dist["actual"], np.histogram(ev.actual_values, edges)[0])
    np.testing.assert_array_equal(dist["predicted"], np.histogram(ev.predicted_values, edges)[0])
    np.testing.assert_array_equal(dist["selected_actual"], np.histogram(y, edges)[0])
    np.testing.assert_array_equal(dist["selected_predicted"], np.histogram(p, edges)[0])
    ev.selection.clear()


def test_mape_is_left_out_when_an_actual_is_zero() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(10, 3, 500)
    y[:5] = 0.0
    df = pd.DataFrame({"x": rng.normal(size=500), "y": y})
    ev = es.Evaluation(df, "y", y_pred=y + rng.normal(0, 1, 500), task="regression")
    assert "MAPE" not in key_metrics(ev)
    assert "MAPE" not in es.ModelOverview(ev).table.index


def test_data_checks_on_a_regression_find_missing_values_duplicates_and_a_leak(wage: pd.DataFrame) -> None:
    df = wage.copy()
    df.loc[[3, 7, 11], "age"] = np.nan
    ev = es.Evaluation(df, "wage", y_pred=df["wage"].mean() + 0 * df["wage"], task="regression")
    checks = data_checks(ev)
    missing = checks[checks["check"] == "missing values"].set_index("column")["rows"]
    assert missing.to_dict() == {"age": 3}
    dupes = checks.loc[checks["check"] == "duplicate rows", "rows"]
    assert dupes.iloc[0] == ev.X.duplicated().sum() > 0
    leaks = checks[checks["check"] == "possible leak"]
    assert list(leaks["column"]) == ["logwage"]  # wage = exp(logwage): its values give the target away
    assert leaks["detail"].iloc[0].startswith("its values alone explain 100.0% of the target's variance")
