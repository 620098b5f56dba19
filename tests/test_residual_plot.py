"""ResidualPlot on the Wage data: its tables against numpy, brushes selecting exactly the rows their bins
counted, the keyboard's messages, crossfilter, and the confusion matrix refusing a regression."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import errorscope as es
from errorscope.plans import value_bins
from errorscope.residuals import bins_of, nice_bins, nice_step, range_predicate, symmetric_bins

MODEL_COLUMNS = [
    "age",
    "year",
    "jobclass",
    "health",
]  # a linear model on a few columns: other groups' residuals are biased


@pytest.fixture(scope="module")
def wage() -> pd.DataFrame:
    return es.datasets.load_wage().drop(columns=["logwage", "region"])


@pytest.fixture(scope="module")
def wage_model(wage: pd.DataFrame):  # type: ignore[no-untyped-def]
    encode = make_column_transformer((OneHotEncoder(), ["jobclass", "health"]), remainder="passthrough")
    return make_pipeline(encode, LinearRegression()).fit(wage[MODEL_COLUMNS], wage["wage"])


@pytest.fixture
def ev(wage: pd.DataFrame, wage_model) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return es.Evaluation(wage, "wage", y_pred=wage_model.predict(wage[MODEL_COLUMNS]), sensitive=["race"])


def test_density_table_equals_numpy_histogram2d(ev: es.Evaluation) -> None:
    rp = es.ResidualPlot(ev)
    edges = rp._bins.actual.bin_edges()
    assert edges[0] <= min(ev.actual_values.min(), ev.predicted_values.min())
    assert edges[-1] >= max(ev.actual_values.max(), ev.predicted_values.max())
    expected, _, _ = np.histogram2d(ev.actual_values, ev.predicted_values, bins=[edges, edges])
    table = rp.table
    got = np.zeros_like(expected)
    got[table["actual_bin"], table["predicted_bin"]] = table["count"]
    np.testing.assert_array_equal(got, expected)
    assert table["count"].sum() == ev.n_rows
    a = np.searchsorted(edges, ev.actual_values, side="right") - 1
    p = np.searchsorted(edges, ev.predicted_values, side="right") - 1
    means = pd.Series(ev.residual).groupby([a, p]).mean()
    for row in table.itertuples():
        assert row.actual_low == edges[row.actual_bin] and row.predicted_high == edges[row.predicted_bin + 1]
        assert row.mean_residual == pytest.approx(means[(row.actual_bin, row.predicted_bin)])
    residual = ev.predicted_values - ev.actual_values  # prediction minus actual
    np.testing.assert_allclose(ev.residual, residual)


def test_histogram_and_feature_tables_equal_numpy(ev: es.Evaluation) -> None:
    rp = es.ResidualPlot(ev, feature="age")
    hist = rp.histogram_table
    edges = np.r_[hist["residual_low"], hist["residual_high"].iloc[-1]]
    assert edges[0] == -edges[-1] and 0.0 in edges  # symmetric, 0 on an edge
    np.testing.assert_array_equal(hist["count"], np.histogram(ev.residual, bins=edges)[0])
    feature = rp.feature_table
    age = ev.data["age"].to_numpy(dtype=float)
    age_edges = np.r_[feature["age_low"], feature["age_high"].iloc[-1]]
    assert np.all(np.diff(age_edges) == np.diff(age_edges)[0]) and age_edges[0] == np.floor(age_edges[0])
    np.testing.assert_array_equal(feature["count"], np.histogram(age, bins=age_edges)[0])
    k = np.searchsorted(age_edges, age, side="right") - 1
    means = pd.Series(ev.residual).groupby(k).mean()
    filled = feature["count"] > 0
    np.testing.assert_allclose(feature.loc[filled, "mean_residual"], means.to_numpy())
    rp.feature = "education"
    table = rp.feature_table.set_index("education")
    grouped = pd.Series(ev.residual).groupby(ev.data["education"].to_numpy())
    np.testing.assert_allclose(table["mean_residual"], grouped.mean()[table.index])
    np.testing.assert_array_equal(table["count"], grouped.size()[table.index])
    from scipy import stats

    values = ev.residual[ev.data["education"].to_numpy() == table.index[0]]
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert table["ci_low"].iloc[0] == pytest.approx(low) and table["ci_high"].iloc[0] == pytest.approx(high)
    assert rp.feature_kind == "categorical" and rp.feature_labels == list(table.index)


def test_a_brush_selects_exactly_the_rows_its_bins_counted(ev: es.Evaluation) -> None:
    rp = es.ResidualPlot(ev, feature="age")
    n = rp._bins.residual.bins
    for x in [(0, 3), (n // 2, n - 1), (5, 5), (3, n // 2)]:
        rp.select_bins("histogram", x)
        assert len(ev.selected()) == rp.histogram_table["count"].iloc[x[0] : x[1] + 1].sum()
        assert rp.brush == {"plot": "histogram", "x": list(x), "y": [], "categories": []}
    rp.select_bins("density", (4, 12), (2, 9))
    table = rp.table
    assert len(ev.selected()) == table.loc[table["selected"], "count"].sum() > 0
    clause = ev.selection.clause(rp.source)
    assert clause is not None and {p.column for p in clause.terms[0]} == {"actual", "predicted"}
    rp.select_bins("feature", (3, 6))
    assert len(ev.selected()) == rp.feature_table["count"].iloc[3:7].sum()
    rp.feature = "race"
    rp.select_categories(["2. Black", "3. Asian"])
    assert len(ev.selected()) == ev.data["race"].isin(["2. Black", "3. Asian"]).sum()
    assert rp.brush["plot"] == "feature" and len(rp.brush["categories"]) == 2
    rp.clear()
    assert len(ev.selected()) == ev.n_rows and rp.brush["plot"] == ""


def test_value_edges_are_exact_so_boundary_rows_fall_on_one_side() -> None:
    """Rows exactly on a bin edge: the brush's predicate and the bin agree (end bins open)."""
    n = 200
    actual = np.repeat(np.arange(0, 100, 5.0), n // 20)  # every value on an edge of step 5
    df = pd.DataFrame({"x": np.arange(n, dtype=float), "y": actual})
    ev = es.Evaluation(df, "y", y_pred=actual + np.tile([-5.0, 0.0, 5.0, 2.5], n // 4), task="regression")
    rp = es.ResidualPlot(ev)
    counts = rp.histogram_table["count"].to_numpy()
    for first in range(len(counts)):
        for last in range(first, len(counts), 3):
            rp.select_bins("histogram", (first, last))
            assert len(ev.selected()) == counts[first : last + 1].sum()


def test_messages_from_the_browser_and_the_keyboard(ev: es.Evaluation) -> None:
    """What the TypeScript sends: a drag or Enter after arrow keys ({type: brush}), a click on a
    category, Escape ({type: clear})."""
    rp = es.ResidualPlot(ev, feature="education")
    rp._handle_message({"type": "brush", "plot": "histogram", "x": [7, 2]})  # a drag from right to left
    assert rp.brush["x"] == [2, 7]
    assert len(ev.selected()) == rp.histogram_table["count"].iloc[2:8].sum()
    rp._handle_message({"type": "brush", "plot": "density", "x": [3, 3], "y": [4, 4]})  # Enter on one cell
    assert rp.brush == {"plot": "density", "x": [3, 3], "y": [4, 4], "categories": []}
    rp._handle_message({"type": "brush", "plot": "feature", "categories": [1]})
    assert ev.selection.clause(rp.source).text == f"education == {rp.feature_labels[1]!r}"  # type: ignore[union-attr]
    rp._on_message(rp, {"type": "clear"}, [])
    assert ev.selection.clause(rp.source) is None and rp.brush["plot"] == ""
    n = rp._bins.actual.bins
    rp._handle_message({"type": "brush", "plot": "density", "x": [0, n - 1], "y": [0, n - 1]})  # everything
    assert ev.selection.clause(rp.source) is None
    rp._handle_message({"type": "brush", "plot": "density", "x": [0, n - 1], "y": [2, 5]})  # a band
    clause = ev.selection.clause(rp.source)
    assert clause is not None and [p.column for p in clause.terms[0]] == ["predicted"]
    assert rp.brush == {"plot": "density", "x": [0, n - 1], "y": [2, 5], "categories": []}


def test_crossfilter_follows_other_views_and_highlights_its_own(ev: es.Evaluation) -> None:
    rp = es.ResidualPlot(ev, feature="age")
    ev.select("race == '2. Black'")
    black = (ev.data["race"] == "2. Black").to_numpy()
    assert rp.n_rows == black.sum() == rp.table["count"].sum()
    np.testing.assert_array_equal(
        rp.histogram_table["count"],
        np.histogram(ev.residual[black], bins=rp._bins.residual.bin_edges())[0],
    )
    rp.select_bins("histogram", (0, 5))
    assert rp.n_rows == black.sum()  # its own clause does not filter it
    other = es.ResidualPlot(ev)
    assert other.n_rows == len(ev.selected()) < black.sum()
    ev.select("residual > 0", source="code")  # a clause set by code on the same column: not this view's brush
    assert rp.brush["plot"] == "histogram"


def test_the_plots_the_brush_is_not_on_show_the_brushed_rows(ev: es.Evaluation) -> None:
    rp = es.ResidualPlot(ev, feature="age")
    bins = rp._bins
    residual_bin = value_bins(ev.residual, bins.residual, np.floor, np.where).astype(int)
    rp.select_bins("histogram", (0, 5))
    brushed = residual_bin <= 5
    assert brushed.sum() == len(ev.selected()) > 0
    assert rp.histogram_table["count"].sum() == ev.n_rows  # its own plot: every row, the brush highlighted
    edges = bins.actual.bin_edges()
    expected, _, _ = np.histogram2d(ev.actual_values[brushed], ev.predicted_values[brushed], [edges, edges])
    got = np.zeros_like(expected)
    got[rp.table["actual_bin"], rp.table["predicted_bin"]] = rp.table["count"]
    np.testing.assert_array_equal(got, expected)  # the density shows only the brushed rows
    assert rp.feature_table["count"].sum() == brushed.sum()
    rp.select_bins("density", (4, 12), (2, 9))  # a new brush replaces it: now the histogram follows
    a = value_bins(ev.actual_values, bins.actual, np.floor, np.where).astype(int)
    p = value_bins(ev.predicted_values, bins.predicted, np.floor, np.where).astype(int)
    inside = (a >= 4) & (a <= 12) & (p >= 2) & (p <= 9)
    np.testing.assert_array_equal(
        rp.histogram_table["count"], np.bincount(residual_bin[inside], minlength=bins.residual.bins)
    )
    assert rp.table["count"].sum() == ev.n_rows and rp.table["selected"].any()
    rp.clear()
    assert rp.histogram_table["count"].sum() == rp.table["count"].sum() == rp.feature_table["count"].sum()


def test_clear_errors(ev: es.Evaluation, wage: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"this Evaluation is a regression .*use es\.ResidualPlot\(ev\)"):
        es.ConfusionMatrix(ev)
    with pytest.raises(ValueError, match=r"feature must be one of the Evaluation's features \['year'"):
        es.ResidualPlot(ev, feature="wage")
    rp = es.ResidualPlot(ev, feature="race")
    with pytest.raises(ValueError, match=r"race is categorical: select its values with select_categories"):
        rp.select_bins("feature", (0, 1))
    with pytest.raises(ValueError, match=r"\['5. Nobody'\] are not values of race"):
        rp.select_categories(["5. Nobody"])
    with pytest.raises(ValueError, match=r"plot must be one of \('density', 'histogram', 'feature'\)"):
        rp.select_bins("scatter", (0, 1))
    with pytest.raises(ValueError, match=r"bins 0\.\.99 are out of range"):
        rp.select_bins("histogram", (0, 99))
    classification = es.Evaluation(wage, "race", y_pred=wage["race"])
    with pytest.raises(ValueError, match=r"this Evaluation is a classification: use es\.ConfusionMatrix"):
        es.ResidualPlot(classification)


def test_nice_bins_cover_the_range_with_round_edges() -> None:
    assert [nice_step(w) for w in (7.5, 10.5, 0.013, 3.3)] == [10.0, 10.0, 0.01, 2.5]
    assert nice_step(2.07, integer=True) == 2.0 and nice_step(0.3, integer=True) == 1.0
    key = nice_bins("x", 20.09, 318.3, 40)
    assert (key.lo, key.hi, key.bins) == (20.0, 320.0, 30)
    assert list(key.bin_edges()[:3]) == [20.0, 30.0, 40.0]
    sym = symmetric_bins("r", 209.6, 40)
    assert (sym.lo, sym.hi, sym.bins) == (-210.0, 210.0, 42)
    p = range_predicate(sym, 3, 9)
    assert p.values == (-180.0, -110.0) and bins_of(sym, p) == (3, 9)
    assert range_predicate(sym, 0, 41).values == (None, None)


def test_static_fallback_and_summary(ev: es.Evaluation) -> None:
    rp = es.ResidualPlot(ev, feature="education")
    data, _ = rp._repr_mimebundle_()
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    text = data["text/plain"]
    over = int((ev.residual >= 0).sum())
    assert f"over-predicted (residual >= 0): {over:,} rows" in text
    worst = pd.Series(ev.residual).groupby(ev.data["education"].to_numpy()).mean().abs().idxmax()
    assert f"largest mean residual by education: education = {worst}" in text
    es.ResidualPlot(ev, feature="age").to_figure()


def test_the_same_numbers_and_rows_on_every_engine(on_engine, wage: pd.DataFrame, wage_model) -> None:  # type: ignore[no-untyped-def]
    frame = wage.assign(pred=wage_model.predict(wage[MODEL_COLUMNS]))
    ev = on_engine("wage", frame, y_true="wage", y_pred="pred", task="regression")
    ref = es.Evaluation(frame, "wage", y_pred="pred", task="regression")
    for feature in ("age", "education"):
        got, want = es.ResidualPlot(ev, feature=feature), es.ResidualPlot(ref, feature=feature)
        for table in ("table", "histogram_table", "feature_table"):
            pd.testing.assert_frame_equal(
                getattr(got, table), getattr(want, table), check_dtype=False, rtol=1e-9
            )
        n = got._bins.residual.bins
        for view in (got, want):
            view.select_bins("histogram", (3, n // 2))
        assert (
            len(ev.selected())
            == len(ref.selected())
            == want.histogram_table["count"].iloc[3 : n // 2 + 1].sum()
        )
        for view in (got, want):
            view.select_bins("density", (5, 12), (4, 10))
        assert len(ev.selected()) == len(ref.selected()) == want.table.query("selected")["count"].sum()
        got.clear(), want.clear()
    overview, expected = es.ModelOverview(ev), es.ModelOverview(ref)
    ev.select("age > 50"), ref.select("age > 50")
    pd.testing.assert_frame_equal(overview.table, expected.table, rtol=1e-9, atol=1e-9)
    pd.testing.assert_frame_equal(overview.distributions, expected.distributions, check_dtype=False)
    pd.testing.assert_frame_equal(overview.checks_table, expected.checks_table)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_an_empty_selection_renders(ev: es.Evaluation) -> None:
    views = [
        es.ResidualPlot(ev, feature="education"),
        es.ResidualPlot(ev, feature="age"),
        es.ModelOverview(ev),
    ]
    ev.select("age > 1000")
    for view in views:
        assert view.n_rows == 0 and view.error == ""
    plot = views[0]
    assert plot.table.empty and plot.histogram_table["count"].sum() == 0
    assert plot.feature_table["mean_residual"].isna().all()
    assert "0 of 3,000 rows" in plot.summary()
    plot.to_figure(), views[1].to_figure()
    assert np.isnan(views[2].table.loc["MAE", "selection"])
