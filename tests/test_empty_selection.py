"""Every view renders a selection that keeps no row, and one view's failure never leaves the others stale."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

import errorscope as es


@pytest.fixture(scope="module")
def board(adult_test, adult_model, tmp_path_factory) -> es.widgets.dashboard.Dashboard:  # type: ignore[no-untyped-def]
    df = adult_test.head(2000)
    ev = es.Evaluation(df, "income", model=adult_model, sensitive=["sex", "race"])
    return es.dashboard(ev, store=tmp_path_factory.mktemp("tags") / "t.sqlite")


@pytest.mark.parametrize(
    "how", ["query", "mask", "empty cell", "empty group and a cell"], ids=lambda s: s.replace(" ", "-")
)
def test_every_view_renders_an_empty_selection(board, how: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ev = board.evaluation
    with np.errstate(all="raise"):  # no hidden division by zero either
        if how == "query":
            ev.select("age > 200")
        elif how == "mask":
            ev.select(np.zeros(ev.n_rows, dtype=bool))
        else:
            ev.select("age < 18")  # no row: every cell of the matrix is empty
            if how != "empty cell":
                board.group_comparer.select_groups([0])
            board.confusion_matrix.select_cells(cells=[(1, 1)])
    assert len(ev.selected()) == 0
    for view in board.views:
        assert view.error == "", f"{type(view).__name__}: {view.error}"
        if view is not board.selection_bar:
            assert view.n_rows == 0 or view.clause is not None or how != "query", type(view).__name__
        view.summary()
        if hasattr(view, "table"):
            view.table  # noqa: B018 -- the table of an empty selection is a table
        if type(view).to_figure is not es.widgets.base.LinkedView.to_figure:
            plt.close(view.to_figure())
    if how == "query":
        assert board.confusion_matrix.table["count"].sum() == 0
    assert ev.report(tmp_path / "empty.html").read_text(encoding="utf-8").count("<table") >= 1
    ev.selection.clear()
    assert all(v.n_rows == ev.n_rows or v.clause is not None for v in board.views)


def test_a_failing_view_shows_its_error_and_the_others_follow(board, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ev = board.evaluation
    ev.selection.clear()

    def broken(where: object) -> None:
        raise ValueError("broken on purpose")

    # background jobs call scikit-learn, whose warnings.catch_warnings() is not thread-safe: one that
    # exits while pytest.warns records restores the old warning hooks, and the warning is lost
    board.force_viewer.wait()
    board.slice_browser.wait_for_discovery()
    monkeypatch.setattr(board.force_viewer, "_start", lambda *args, **kwargs: None)
    monkeypatch.setattr(board.slice_browser, "_auto_discover", False)
    monkeypatch.setattr(board.group_comparer, "_compute", broken)
    with pytest.warns(RuntimeWarning, match=r"GroupComparer could not recompute .*broken on purpose"):
        ev.select("age > 60")
    assert board.group_comparer.error == "ValueError: broken on purpose"
    kept = int((ev.data["age"] > 60).sum())
    for view in (board.tagger, board.force_viewer, board.slice_browser, board.overview):
        assert view.n_rows == kept and view.error == "", type(view).__name__  # notified after the failure
    monkeypatch.undo()
    ev.select("age > 50")
    assert board.group_comparer.error == "" and board.group_comparer.n_rows == int(
        (ev.data["age"] > 50).sum()
    )
    ev.selection.clear()


def test_an_observer_that_fails_does_not_stop_the_others(adult_test) -> None:  # type: ignore[no-untyped-def]
    ev = es.Evaluation(adult_test.head(100), "income", y_pred=adult_test["income"].head(100))
    seen: list[str] = []

    def failing(change: object) -> None:
        raise KeyError("observer")

    ev.selection.observe(failing)
    ev.selection.observe(lambda change: seen.append(change.kind))
    with pytest.raises(KeyError, match="observer"):
        ev.select("age > 30")
    assert seen == ["clause"]
