"""SliceBrowser on a regression (Wage): metrics, the table's columns, selecting a slice, residual row orders,
discovery on |e|, and the classification metrics refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import traitlets

import errorscope as es
from errorscope.slicing import slice_table
from errorscope.widgets.base import value_text


@pytest.fixture
def ev(wage: pd.DataFrame) -> es.Evaluation:
    return es.Evaluation(wage, y_true="wage", y_pred="pred", sensitive="race", task="regression")


def test_metrics_table_and_selecting_a_slice(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev, discover=False)
    assert view.metric == "mae" and view.task == "regression"
    assert [m for m, _ in view.metrics] == ["mae", "rmse", "mean_error"]
    table = view.table
    assert {"mae", "rest_mae", "difference", "ratio", "ci_low", "ci_high", "p_value", "p_adjusted"} <= set(
        table.columns
    )
    assert {"errors", "error_rate", "lift"}.isdisjoint(table.columns)
    assert "errors" not in view.slice_page and "lift" not in view.slice_page
    features = table[table["group"] == "feature"]
    assert features.loc[features["supported"], "mae"].is_monotonic_decreasing
    assert list(table["group"].drop_duplicates()) == ["feature", "outcome"]
    expected = slice_table(ev, metric="mae").set_index("key")
    np.testing.assert_allclose(table.set_index("key").loc[expected.index, "mae"], expected["mae"])
    row = features.iloc[0]
    view.select_slice(int(row["key"]))
    assert len(ev.selected()) == row["size"]
    assert view.selected_slices == [int(row["key"])]
    view.metric = "rmse"
    assert "rmse" in view.table.columns and view.table["rmse"].notna().all()


def test_mean_residual_ranks_over_and_under_prediction_alike(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev, metric="mean_error", discover=False)
    shown = view.table[view.table["supported"] & (view.table["group"] == "feature")]
    assert shown["mean_error"].abs().is_monotonic_decreasing
    outcome = view.table[view.table["feature"] == "residual"]
    assert (outcome["mean_error"] > 0).any() and (outcome["mean_error"] < 0).any()
    view.descending = False
    shown = view.table[view.table["supported"] & (view.table["group"] == "feature")]
    assert shown["mean_error"].abs().is_monotonic_increasing


def test_rows_tab_orders_by_residual(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev, discover=False)
    view.tab = "rows"
    assert view.rows["columns"][:4] == ["id", "actual", "predicted", "residual"]
    residual = ev.residual
    first = view.rows["cells"][0]
    worst = int(np.argmax(np.abs(residual)))
    assert first[0] == str(ev.ids[worst])
    assert first[3] == value_text(residual[worst], signed=True)
    view.row_order = "over_prediction"
    assert view.rows["cells"][0][0] == str(ev.ids[int(np.argmax(residual))])
    view.row_order = "under_prediction"
    assert view.rows["cells"][0][0] == str(ev.ids[int(np.argmin(residual))])
    view.row_order = "stratified_random"
    assert len(view.rows["cells"]) == view.rows_page_size
    page = view.inspected_rows(0)
    np.testing.assert_allclose(page["residual"], page["predicted"] - page["actual"])


def test_discovery_tab_on_absolute_error(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev, discover=False)
    view.discover(block=True)
    found = view.discovered_slices
    assert len(found) and "mae" in found.columns
    np.testing.assert_allclose(np.frombuffer(view.discovered["value"], "<f8"), found["mae"])
    assert "errors" not in view.discovered
    view.select_discovered(0)
    assert len(ev.selected()) == found["size"].iloc[0]


@pytest.mark.parametrize("metric", ["error_rate", "fpr", "fnr", "log_loss"])
def test_classification_metrics_are_refused(ev: es.Evaluation, metric: str) -> None:
    with pytest.raises(
        ValueError, match=rf"metric='{metric}' is a classification metric.*use one of \('mae'"
    ):
        es.SliceBrowser(ev, metric=metric, discover=False)
    view = es.SliceBrowser(ev, discover=False)
    with pytest.raises(traitlets.TraitError, match="classification metric"):
        view.metric = metric
    assert view.metric == "mae"


def test_classification_orders_and_sorts_are_refused(ev: es.Evaluation) -> None:
    with pytest.raises(ValueError, match=r"row_order must be one of \('loss', 'over_prediction'"):
        es.SliceBrowser(ev, row_order="confident_wrong", discover=False)
    view = es.SliceBrowser(ev, discover=False)
    with pytest.raises(traitlets.TraitError, match="for a regression"):
        view.row_order = "least_confident"
    with pytest.raises(traitlets.TraitError, match="no errors or lift"):
        view.sort_by = "lift"


def test_an_outcome_selection_does_not_switch_to_lift(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev, discover=False)
    ev.select("residual > 20")
    assert view.outcome_selection is False and view.sort_by == "value"
    assert view.n_rows == int((ev.residual > 20).sum())
