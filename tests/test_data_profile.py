"""DataProfile on every engine: its charts' counts against numpy and pandas, the crossfilter (the
brushed chart follows the other views, the others follow the brush), outliers and drift as slices, the
matrix on the kept rows, and its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from engines import pandas_rows
from errorscope import profile

FEATURES = ["age", "hours-per-week", "capital-gain", "workclass", "race", "native-country"]


@pytest.fixture(scope="module")
def frame(adult_test: pd.DataFrame, adult_proba: np.ndarray) -> pd.DataFrame:
    classes = np.array(sorted(adult_test["income"].unique()))
    return adult_test.assign(predicted=classes[np.argmax(adult_proba, axis=1)]).reset_index(drop=True)


@pytest.fixture
def ev(on_engine, frame: pd.DataFrame, adult_train: pd.DataFrame):  # type: ignore[no-untyped-def]
    return on_engine(
        "profiled", frame, y_true="income", y_pred="predicted", features=FEATURES, train=adult_train
    )


def kept_rows(frame: pd.DataFrame, clause: es.Clause | None) -> np.ndarray:
    """The rows a clause keeps, by pandas (an OR of AND-ed predicates)."""
    if clause is None:
        return np.ones(len(frame), dtype=bool)
    keep = np.zeros(len(frame), dtype=bool)
    for term in clause.terms:
        inside = np.ones(len(frame), dtype=bool)
        for predicate in term:
            inside &= pandas_rows(frame[predicate.column], predicate)
        keep |= inside
    return keep


def expected_chart(view: es.DataProfile, frame: pd.DataFrame, feature: str, rows: np.ndarray) -> pd.DataFrame:
    """A chart's cells by pandas: each cell's rows (its own terms), the kept ones and their error rate."""
    chart = view._charts[feature]
    wrong = (frame["income"] != frame["predicted"]).to_numpy()
    out = []
    for label, terms in zip(chart.labels, chart.terms, strict=True):
        inside = kept_rows(frame, es.Clause("x", terms))
        kept = inside & rows
        out.append({"cell": label, "rows": inside.sum(), "kept": kept.sum(),
                    "error": wrong[kept].mean() if kept.any() else np.nan})  # fmt: skip
    return pd.DataFrame(out)


def test_charts_count_every_row_as_numpy_and_pandas_do(ev, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    view = es.DataProfile(ev)
    assert list(view.table["feature"]) == [c["feature"] for c in view.charts]
    assert set(view.table.columns) >= {"feature", "type", "missing_share", "distinct", "mean", "std", "outliers_iqr",
                                       "outliers_z", "assoc_target", "assoc_error", "drift_psi", "drift_statistic",
                                       "drift_p"}  # fmt: skip
    age = view.chart_table("age")
    edges = view._charts["age"].axis.key.bin_edges()
    np.testing.assert_array_equal(age["rows"].to_numpy()[:-1], np.histogram(frame["age"], bins=edges)[0])
    assert age["rows"].iloc[-1] == 0 and age["cell"].iloc[-1] == "missing"
    country = view.chart_table("native-country")
    counts = frame["native-country"].value_counts()
    top = country.iloc[:-2]
    assert list(top["cell"]) == [str(v) for v in counts.index[: len(top)]]  # the 12 most frequent, then other
    np.testing.assert_array_equal(top["rows"], counts.to_numpy()[: len(top)])
    assert (
        country["cell"].iloc[-2] == "other"
        and country["rows"].iloc[-2] == counts.to_numpy()[len(top) :].sum()
    )
    assert country["rows"].iloc[-1] == frame["native-country"].isna().sum()
    for feature in FEATURES:  # all rows kept: the kept counts are all rows, the error each cell's
        pd.testing.assert_frame_equal(
            view.chart_table(feature), expected_chart(view, frame, feature, np.ones(len(frame), bool)),
            check_dtype=False, rtol=1e-12,
        )  # fmt: skip


def test_a_brush_moves_the_other_charts_and_the_brushed_one_follows_the_other_views(ev, frame) -> None:  # type: ignore[no-untyped-def]
    view = es.DataProfile(ev)
    view.select_cells("age", [5, 12])  # a range of bins
    clause = ev.selection.clause(view.source)
    assert view.brush == {"feature": "age", "kind": "cells", "cells": list(range(5, 13))}
    brushed = kept_rows(frame, clause)
    assert 0 < brushed.sum() < len(frame) and len(ev.selected()) == brushed.sum()
    for feature in ("workclass", "capital-gain"):
        pd.testing.assert_frame_equal(
            view.chart_table(feature),
            expected_chart(view, frame, feature, brushed),
            check_dtype=False,
            rtol=1e-12,
        )
    everything = np.ones(len(frame), dtype=bool)
    pd.testing.assert_frame_equal(
        view.chart_table("age"), expected_chart(view, frame, "age", everything), check_dtype=False
    )
    # another view's clause: the brushed chart shows its rows, the others both clauses'
    other = es.Clause.where("other", es.Predicate("race", "in", ("White",)))
    ev.selection.set(other)
    white = kept_rows(frame, other)
    pd.testing.assert_frame_equal(
        view.chart_table("age"), expected_chart(view, frame, "age", white), check_dtype=False
    )
    pd.testing.assert_frame_equal(
        view.chart_table("workclass"),
        expected_chart(view, frame, "workclass", white & brushed),
        check_dtype=False,
    )
    assert view.n_rows == white.sum()
    view.select_cells("workclass", [0, 2])  # bars: any of them; the new brush replaces the old
    assert view.brush["feature"] == "workclass" and view.brush["cells"] == [0, 2]
    chosen = kept_rows(frame, ev.selection.clause(view.source))
    assert (
        chosen.sum() == frame["workclass"].isin([view._charts["workclass"].labels[i] for i in (0, 2)]).sum()
    )
    pd.testing.assert_frame_equal(
        view.chart_table("age"), expected_chart(view, frame, "age", white & chosen), check_dtype=False
    )
    view.select_cells("workclass", [])
    assert ev.selection.clause(view.source) is None and view.brush["feature"] == ""


def test_the_other_values_and_missing_are_selectable(ev, frame) -> None:  # type: ignore[no-untyped-def]
    view = es.DataProfile(ev)
    chart = view._charts["native-country"]
    view.select_cells("native-country", [chart.size - 2])  # "other"
    other = kept_rows(frame, ev.selection.clause(view.source))
    top = [chart.labels[i] for i in range(chart.size - 2)]
    assert other.sum() == (frame["native-country"].notna() & ~frame["native-country"].isin(top)).sum() > 0
    view.select_cells("native-country", [chart.size - 1])  # missing
    assert len(ev.selected()) == frame["native-country"].isna().sum()


def test_outliers_and_drift_are_slices(ev, frame, adult_train) -> None:  # type: ignore[no-untyped-def]
    view = es.DataProfile(ev)
    view.select_outliers("hours-per-week", "iqr")
    assert view.brush == {"feature": "hours-per-week", "kind": "outliers_iqr", "cells": []}
    table = view.table.set_index("feature")
    assert len(ev.selected()) == table.loc["hours-per-week", "outliers_iqr"] > 0
    view.select_outliers("capital-gain", "z")
    assert len(ev.selected()) == table.loc["capital-gain", "outliers_z"] > 0
    view.select_drift("workclass")
    assert view.brush["kind"] == "drift"
    assert ev.selection.clause(view.source) == profile.shifted_clause(ev, view.source, "workclass")
    with pytest.raises(ValueError, match="categorical"):
        view.select_outliers("race")
    with pytest.raises(ValueError, match="rule must be"):
        view.select_outliers("age", "mad")


def test_the_matrix_is_measured_on_the_kept_rows(ev, frame) -> None:  # type: ignore[no-untyped-def]
    view = es.DataProfile(ev)
    everything = view.association_matrix
    assert everything.loc["age", "hours-per-week"] == pytest.approx(
        abs(frame["age"].corr(frame["hours-per-week"], method="spearman")), rel=1e-9
    )
    assert view.matrix_rows == len(frame) and np.allclose(np.diag(everything), 1.0)
    view.select_cells("race", [0])
    kept = frame[kept_rows(frame, ev.selection.clause(view.source))]
    matrix = view.association_matrix
    assert view.matrix_rows == len(kept)
    assert matrix.loc["age", "hours-per-week"] == pytest.approx(
        abs(kept["age"].corr(kept["hours-per-week"], method="spearman")), rel=1e-9
    )
    view.focus_pair("race", "age")
    assert view.focus == ["race", "age"]


def test_regression_charts_show_the_mean_absolute_error(on_engine, frame) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    rows = frame.assign(target=frame["age"] * 1.5, guess=frame["age"] * 1.5 + rng.normal(0, 3, len(frame)))
    ev = on_engine(
        "regression",
        rows,
        y_true="target",
        y_pred="guess",
        features=["race", "hours-per-week"],
        task="regression",
    )
    view = es.DataProfile(ev)
    assert view.error_measure == "mean absolute error"
    race = view.chart_table("race")
    error = (rows["guess"] - rows["target"]).abs()
    expected = error.groupby(rows["race"]).mean()
    for cell, value in zip(race["cell"], race["error"], strict=True):
        if cell in expected:
            assert value == pytest.approx(expected[cell], rel=1e-9)


def test_bad_requests_name_the_fix(ev) -> None:  # type: ignore[no-untyped-def]
    view = es.DataProfile(ev)
    with pytest.raises(ValueError, match="feature must be one of"):
        view.select_cells("salary", [0])
    with pytest.raises(ValueError, match="cells of age run from 0"):
        view.select_cells("age", [0, 999])
    with pytest.raises(ValueError, match="feature must be one of"):
        view.focus_pair("age", "nope")
    view._handle_message({"type": "cells", "feature": "race", "cells": [1]})
    assert view.brush["feature"] == "race"
    assert "Data profile" in view.summary()
    view.to_figure()


def test_without_training_rows_drift_is_not_offered(on_engine, frame) -> None:  # type: ignore[no-untyped-def]
    ev = on_engine("untrained", frame, y_true="income", y_pred="predicted", features=["age", "race"])
    view = es.DataProfile(ev)
    assert not view.has_train and "drift_psi" not in view.table
    with pytest.raises(ValueError, match="train="):
        view.select_drift("age")
