"""GroupComparer on a regression: its table (metrics with intervals and disparities), the selection it
makes, what it sends the browser, and what it refuses; the numbers are group_regression's (oracle tests in
tests/test_group_regression.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingRegressor

import errorscope as es
from errorscope import group_regression as gr
from errorscope.datasets import load_wage
from errorscope.fairness import make_groups
from errorscope.residuals import residual_bins

COLUMNS = ["group", "count", *(f"{m}{s}" for m in gr.METRICS for s in ("", "_low", "_high"))]


@pytest.fixture(scope="module")
def wage() -> pd.DataFrame:
    data = load_wage().drop(columns=["logwage", "region"])
    X = pd.get_dummies(data.drop(columns=["wage"]), dtype=float)
    model = GradientBoostingRegressor(n_estimators=40, random_state=0).fit(
        X.iloc[::2], data["wage"].iloc[::2]
    )
    return data.assign(pred=model.predict(X))


@pytest.fixture
def ev(wage: pd.DataFrame) -> es.Evaluation:
    return es.Evaluation(wage, y_true="wage", y_pred="pred", sensitive="race", task="regression")


def test_table_has_the_regression_columns_and_disparities(ev: es.Evaluation, wage: pd.DataFrame) -> None:
    gc = es.GroupComparer(ev, groups="race")
    table = gc.table
    assert set(COLUMNS) <= set(table.columns)
    for m in gr.METRICS:
        assert {f"{m}_difference", f"{m}_ratio"} <= set(table.columns)
    assert {"mean_error_p_value", "mean_error_p_adjusted"} <= set(table.columns)
    assert "term" not in table.columns and "selection_rate" not in table.columns
    expected = wage.assign(e=wage["pred"] - wage["wage"]).groupby("race")["e"].agg(["size", "mean"])
    assert table.set_index("group")["count"].to_dict() == expected["size"].to_dict()
    np.testing.assert_allclose(table.set_index("group")["mean_error"], expected["mean"].loc[table["group"]])
    assert (table["mae_low"] <= table["mae"]).all() and (table["mae"] <= table["mae_high"]).all()
    ref = gc.disparity["reference"]
    assert table["group"][ref] == "1. White" and gc.reference_label == "1. White (largest group overall)"
    assert table["mae_difference"][ref] == 0 and table["mae_ratio"][ref] == 1
    assert gc.task == "regression" and gc.metric == "mae" and gc.class_names == [] and not gc.can_threshold
    assert gc.what_if == {} and gc.positive == ""


def test_clicking_a_group_selects_exactly_its_rows(ev: es.Evaluation, wage: pd.DataFrame) -> None:
    gc = es.GroupComparer(ev, groups="race")
    gc._handle_message({"type": "select_group", "index": 1})
    assert gc.selected_groups == [1]
    assert len(ev.selected()) == int(gc.table["count"][1]) == int((wage["race"] == "2. Black").sum())
    ev.select("age > 50", source="code")  # another view's clause: the comparer follows it
    assert gc.n_rows == int((wage["age"] > 50).sum())
    assert gc.table["count"].sum() == gc.n_rows
    assert gc.reference_label.startswith("1. White")
    gc._handle_message({"type": "select_group", "index": 1})  # the same click again clears
    assert gc.selected_groups == []


def test_the_browser_gets_histograms_and_mean_residual_by_actual(ev: es.Evaluation) -> None:
    gc = es.GroupComparer(ev, groups="race")
    r = gc.regression
    k = len(gc.table)
    edges = {key: np.frombuffer(r[f"{key}_edges"], dtype="<f8") for key in ("prediction", "residual")}
    prediction = np.frombuffer(r["prediction"], dtype="<u4").reshape(k, len(edges["prediction"]) - 1)
    residual = np.frombuffer(r["residual"], dtype="<u4").reshape(k, len(edges["residual"]) - 1)
    assert (prediction.sum(axis=1) == gc.table["count"]).all() and (
        residual.sum(axis=1) == gc.table["count"]
    ).all()
    bins = residual_bins(ev)  # the residual plot's bins: the views line up
    np.testing.assert_array_equal(edges["prediction"], bins.predicted.bin_edges())
    np.testing.assert_array_equal(edges["residual"], bins.residual.bin_edges())
    b = len(r["actual_bins"])
    means = np.frombuffer(r["actual_mean_error"], dtype="<f8").reshape(k, b)
    by_actual = gc.residual_by_actual
    np.testing.assert_allclose(means.reshape(-1), by_actual["mean_error"], equal_nan=True)
    assert by_actual["count"].sum() == len(ev.actual_values)
    for name in ("mae", "mae_low", "r2_high", "mean_error_p_adjusted"):
        np.testing.assert_allclose(
            np.frombuffer(gc.groups[name], dtype="<f8"), gc.table[name], equal_nan=True
        )
    assert gc.distributions == {}


def test_intersections_reference_and_errors(ev: es.Evaluation) -> None:
    ev.set_bins("age", [35, 50])
    gc = es.GroupComparer(ev, groups=["race", "age"], reference="race=2. Black, age=in [35, 50)")
    assert len(gc.table) == len(make_groups(ev, ["race", "age"]).labels)
    ref = gc.disparity["reference"]
    assert gc.table["group"][ref] == "race=2. Black, age=in [35, 50)"
    gc.reference = "best"
    assert gc.table["mae"][gc.disparity["reference"]] == gc.table["mae"].min()
    assert "lowest MAE" in gc.reference_label
    gc.reference = "race=2. Black, age=in [35, 50)"
    ev.select("age > 50", source="code")  # a named reference, and the lift against all rows' shares
    lift = gc.lift_rows.set_index("group")
    everything = make_groups(ev, ["race", "age"])
    assert lift["share_of_all"].sum() == pytest.approx(1.0) and lift[
        "share_of_filter"
    ].sum() == pytest.approx(1.0)
    assert not np.allclose(lift["lift"].fillna(1.0), 1.0)  # the age bins of the filter are over-represented
    assert len(lift) == everything.n_groups
    ev.selection.clear()
    shares = es.GroupComparer(
        ev, groups="race", representation={"1. White": 0.6, "2. Black": 0.2, "3. Asian": 0.1, "4. Other": 0.1}
    )
    assert shares.representation_table["given"] and shares.representation_table["p_value"] < 0.05
    with pytest.raises(ValueError, match="positive_class= is a classification's"):
        es.GroupComparer(ev, groups="race", positive_class=">50K")
    with pytest.raises(ValueError, match="on a regression choose one of"):
        es.GroupComparer(ev, groups="race", metric="selection_rate")


def test_summary_and_figure(ev: es.Evaluation) -> None:
    gc = es.GroupComparer(ev, groups="race")
    text = gc.summary()
    assert "regression" in text and "mae range" in text
    flagged = gc.table.loc[gc.table["mean_error_p_adjusted"] < 0.05, "group"].tolist()
    assert all(g in text for g in flagged)
    assert gc.summary_values["mae_range"] == pytest.approx(gc.table["mae"].max() - gc.table["mae"].min())
    assert gc.to_figure() is not None
