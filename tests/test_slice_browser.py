"""SliceBrowser in the kernel: its clauses, crossfilter, sorting, paging, metrics and rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope.slicing import default_min_support, slice_table


@pytest.fixture
def ev() -> es.Evaluation:
    df = es.datasets.load_adult()
    rng = np.random.default_rng(0)
    score = np.clip(0.2 + 0.5 * (df["education-num"] > 12) + rng.normal(0, 0.15, len(df)), 0, 1)
    return es.Evaluation(df, "income", y_score=score, labels=["<=50K", ">50K"], sensitive=["sex", "race"])


def key_of(view: es.SliceBrowser, description: str) -> int:
    return int(view.table.set_index("description").loc[description, "key"])


def test_click_selects_adds_and_toggles(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev, discover=False)
    female, male = key_of(view, "sex = Female"), key_of(view, "sex = Male")
    view.select_slice(female)
    assert len(ev.selected()) == (ev.data["sex"] == "Female").sum()
    assert view.selected_slices == [female] and view.clause_text == "sex == 'Female'"
    view.select_slice(male, additive=True)
    assert len(ev.selected()) == ev.n_rows and sorted(view.selected_slices) == sorted([female, male])
    view.select_slice(male, additive=True)  # modifier-click again removes it
    assert view.selected_slices == [female]
    view.select_slice(female)  # clicking the only selected slice clears
    assert view.clause is None and len(ev.selection) == 0
    with pytest.raises(ValueError, match="no slice has key"):
        view.select_slice(10_000)


def test_crossfilter_recomputes_on_other_clauses_only(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev, discover=False)
    cm = es.ConfusionMatrix(ev)
    cm.select_cells(cells=[(1, 0)])
    mask = ev.selection.mask()
    assert view.n_rows == mask.sum()
    pd.testing.assert_frame_equal(
        view.table.sort_values("key").reset_index(drop=True).drop(columns="predicate"),
        slice_table(ev, mask).sort_values("key").reset_index(drop=True).drop(columns="predicate"),
    )
    view.select_slice(key_of(view, "sex = Male"))
    assert view.n_rows == mask.sum()  # its own clause does not filter it
    assert cm.n_rows == (ev.data["sex"] == "Male").sum()


def test_sort_filter_page_and_metric(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev, discover=False, page_size=5)
    features = view.table[view.table["group"] == "feature"]
    assert features.loc[features["supported"], "error_rate"].is_monotonic_decreasing
    view.sort_by, view.descending = "size", False
    assert all(part["size"].is_monotonic_increasing for _, part in view.table.groupby("group"))
    view.feature_filter = "RAC"
    assert set(view.table["feature"]) == {"race"} and view.n_slices == ev.data["race"].nunique()
    view.page = 99
    assert view.page == 0  # clamped to the last page
    assert len(view.slice_page["feature"]) == 5 and view.slice_page["feature"] == ["race"] * 5
    view.metric = "fnr"
    assert "fnr" in view.table.columns
    view.metric = "log_loss"
    assert view.table["log_loss"].notna().all()
    assert [m for m, _ in view.metrics] == ["error_rate", "fpr", "fnr", "log_loss"]


def test_rows_worst_first_paged_and_comparison(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev, discover=False)
    ev.select("age > 60", source="code")
    assert view.n_selected == (ev.data["age"] > 60).sum()
    first = view.inspected_rows(0)
    assert len(first) == 10 and first["loss"].is_monotonic_decreasing
    assert first["loss"].iloc[-1] >= view.inspected_rows(1)["loss"].iloc[0]
    assert view.rows["cells"][0][0] == str(first["id"].iloc[0])
    view.rows_page = 1
    assert view.rows["start"] == 10
    view.row_order = "id"
    assert view.inspected_rows()["id"].is_monotonic_increasing
    view.tab = "compare"
    assert view.comparison["features"][0] == view.feature_comparison["feature"].iloc[0]
    assert view.comparison["feature"] == view.comparison["features"][0]
    view.compare_feature = "sex"
    assert view.comparison["feature"] == "sex"


def test_discovery_runs_in_the_background_and_selects(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev)
    view.wait_for_discovery()
    assert view.discovery_status == "done" and view.discovery_progress == 1.0
    found = view.discovered_slices
    assert len(found) > 0
    view.select_discovered(0)
    rows = np.ones(ev.n_rows, dtype=bool)
    for p in found["predicates"].iloc[0]:
        rows &= ev.engine.predicate_mask(p)
    assert len(ev.selected()) == rows.sum() and view.selected_discovered == [0]
    cm = es.ConfusionMatrix(ev)
    assert cm.n_rows == rows.sum()


def test_feature_slices_first_then_outcome_slices_and_small_ones_last(ev: es.Evaluation) -> None:
    """The score, the classes and 1-row slices at 100% error topped the ranking."""
    view = es.SliceBrowser(ev, discover=False)
    table = view.table
    groups = table["group"].tolist()
    assert groups == sorted(groups, key=["feature", "outcome"].index) and groups[0] == "feature"
    assert set(table.loc[table["group"] == "outcome", "feature"]) == {"actual", "predicted", "score"}
    assert table.loc[table["group"] == "outcome", "error_rate"].max() > table["error_rate"].iloc[0]
    for _, part in table.groupby("group"):
        supported = part["supported"].to_numpy()
        assert (np.diff(supported.astype(int)) <= 0).all()  # the supported ones first
    assert view.min_rows == max(10, int(np.ceil(0.005 * ev.n_rows)))
    np.testing.assert_array_equal(table["supported"], table["size"] >= view.min_rows)
    page = view.slice_page
    assert list(np.frombuffer(page["outcome"], "u1")) == [int(g == "outcome") for g in groups[:15]]


def test_an_outcome_selection_ranks_slices_by_lift(ev: es.Evaluation) -> None:
    view = es.SliceBrowser(ev, discover=False)
    cm = es.ConfusionMatrix(ev)
    assert not view.outcome_selection and view.sort_by == "value"
    cm.select_cells(cells=[(1, 0)])  # every row of a cell is an error: the error rate says 100% everywhere
    assert view.outcome_selection and view.sort_by == "lift"
    features = view.table[(view.table["group"] == "feature") & view.table["supported"]]
    assert (features["error_rate"] == 1).all()
    assert features["lift"].is_monotonic_decreasing and features["lift"].iloc[0] > 1.5
    top = features.iloc[0]
    in_slice = ev.engine.predicate_mask(top["predicate"])
    selected = ev.selection.mask()
    expected = ((in_slice & selected).sum() / selected.sum()) / (in_slice.sum() / ev.n_rows)
    assert top["lift"] == pytest.approx(expected)
    cm.clear()
    assert not view.outcome_selection and view.sort_by == "value"
    ev.select("age > 60", source="code")  # a data query: the error rate ranks
    assert not view.outcome_selection and view.sort_by == "value"


def test_the_reports_worst_slices_are_supported_feature_slices(ev: es.Evaluation, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from errorscope.report import write_report

    html = write_report(ev, tmp_path / "report.html").read_text(encoding="utf-8")
    worst = html.split("<h2>Worst slices</h2>", 1)[1].split("<h2>", 1)[0]
    rows = re.findall(r"<tr><th scope='row'>(.*?)</th><td>(.*?)</td><td class='num'>([\d,]+)</td>", worst)
    expected = slice_table(ev)
    expected = expected[(expected["group"] == "feature") & expected["supported"]].head(15)
    assert len(rows) == 15 and [f for f, _, _ in rows] == list(expected["feature"])  # feature, slice, rows
    assert [int(n.replace(",", "")) for _, _, n in rows] == list(expected["size"])
    assert not {feature for feature, _, _ in rows} & {"actual", "predicted", "score", "tag"}
    assert min(expected["size"]) >= default_min_support(ev.n_rows)  # no slice under the minimum support


def test_bad_arguments_are_explained(ev: es.Evaluation) -> None:
    with pytest.raises(ValueError, match="metric must be one of"):
        es.SliceBrowser(ev, metric="accuracy", discover=False)
    labels_only = es.Evaluation(ev.data, "income", y_pred=ev.data["income"])
    with pytest.raises(ValueError, match="needs scores"):
        es.SliceBrowser(labels_only, metric="log_loss", discover=False)
    with pytest.raises(TypeError, match="needs an errorscope Evaluation"):
        es.SliceBrowser(ev.data)
    with pytest.raises(ValueError, match="not a column"):
        es.SliceBrowser(ev, bins={"agee": [30, 40]}, discover=False)
