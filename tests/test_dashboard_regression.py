"""es.dashboard on a regression: the residual plot in the confusion matrix's place, linked to the others."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import errorscope as es


def wage_evaluation(with_model: bool = False) -> es.Evaluation:
    df = es.datasets.load_wage().drop(columns=["region", "logwage"])
    model = LinearRegression().fit(df[["age", "year"]], df["wage"])
    if with_model:  # the model's columns are the features; the others are metadata to slice by
        return es.Evaluation(df, "wage", model=model, metadata=["education", "race"], sensitive=["race"])
    return es.Evaluation(df, "wage", y_pred=model.predict(df[["age", "year"]]), sensitive=["race"])


@pytest.fixture
def ev() -> es.Evaluation:
    return wage_evaluation()


def test_the_residual_plot_takes_the_matrix_place(ev: es.Evaluation, tmp_path: Path) -> None:
    board = es.dashboard(ev, store=tmp_path / "tags.sqlite")
    assert board.confusion_matrix is None and isinstance(board.residual_plot, es.ResidualPlot)
    grid = board.children[2]
    assert grid.children[0] is board.residual_plot
    assert {type(v).__name__ for v in board.views} == {
        "ModelOverview", "SelectionBar", "ResidualPlot", "SliceBrowser", "GroupComparer", "ErrorTagger",
    }  # fmt: skip
    assert board.force_viewer is None  # no model: a note says so
    notes = [c.value for c in grid.children if hasattr(c, "value")]
    assert any(
        "No explanations: the Evaluation has no model (pass model= to the Evaluation)." in n for n in notes
    )
    board.residual_plot.select_bins("histogram", (0, 9))
    n = len(ev.selected())
    assert 0 < n == board.residual_plot.histogram_table["count"].iloc[:10].sum()
    assert board.overview.n_rows == n and board.selection_bar.n_selected == n
    assert board.slice_browser.n_rows == board.group_comparer.n_rows == board.tagger.n_rows == n  # type: ignore[union-attr]
    mae = np.abs(ev.residual[ev.selection.mask()]).mean()
    assert board.overview.table.loc["MAE", "selection"] == pytest.approx(mae)
    data = board._repr_mimebundle_()
    data = data[0] if isinstance(data, tuple) else data
    assert "image/png" in data and "Residual plot:" in data["text/plain"]
    board.close()


def test_confusion_matrix_on_a_regression_names_the_residual_plot(ev: es.Evaluation) -> None:
    with pytest.raises(ValueError, match=r"use es\.ResidualPlot\(ev\)"):
        es.ConfusionMatrix(ev)


def test_with_a_model_the_force_viewer_explains_the_regressor(tmp_path: Path) -> None:
    ev = wage_evaluation(with_model=True)
    board = es.dashboard(ev, store=tmp_path / "tags.sqlite")
    assert isinstance(board.force_viewer, es.ForceViewer) and isinstance(board.residual_plot, es.ResidualPlot)
    board.residual_plot.select_bins("density", (5, 10), (6, 9))
    assert (
        board.force_viewer.n_rows
        == len(ev.selected())
        == board.residual_plot.table.query("selected")["count"].sum()
    )
    board.close()


@pytest.mark.parametrize("engine_name", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_the_dashboard_on_a_sql_engine_follows_brushes_as_in_memory(
    request, engine_name, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Every view of the regression dashboard over Parquet (or Spark) after brushes and a slice click: the
    same numbers as in memory (the click's plans answered ahead as one batch, quantiles included)."""
    from engines import evaluation_on

    df = es.datasets.load_wage().drop(columns=["region", "logwage"])
    df["pred"] = LinearRegression().fit(df[["age", "year"]], df["wage"]).predict(df[["age", "year"]])
    memory = es.Evaluation(df, "wage", y_pred="pred", sensitive=["race"])
    lazy = evaluation_on(engine_name, request, df, y_true="wage", y_pred="pred", sensitive=["race"])
    boards = [es.dashboard(e, store=tmp_path / f"{i}.sqlite") for i, e in enumerate((memory, lazy))]
    for board in boards:
        board.slice_browser._auto_discover = False
    for bins in ((0, 9), (12, 20)):
        for board in boards:
            board.residual_plot.select_bins("histogram", bins)
        a, b = boards
        assert len(a.evaluation.selected()) == len(b.evaluation.selected())
        np.testing.assert_allclose(
            b.overview.table.to_numpy(float),
            a.overview.table.to_numpy(float),
            rtol=1e-9,
            atol=1e-9 * a.overview.table.loc["MAE"].max(),  # a least-squares fit's mean residual: about 1e-13
        )
        cols = ["size", "mae", "rest_mae", "p_value"]
        np.testing.assert_allclose(
            b.slice_browser.table[cols].to_numpy(float),
            a.slice_browser.table[cols].to_numpy(float),
            rtol=1e-9,
        )
        np.testing.assert_allclose(
            b.group_comparer.table[["count", "mae", "r2_low"]].to_numpy(float),
            a.group_comparer.table[["count", "mae", "r2_low"]].to_numpy(float), rtol=1e-9,
        )  # fmt: skip
        assert b.tagger.n_rows == a.tagger.n_rows
    for board in boards:
        board.close()
