"""GroupComparer in the kernel: selection, crossfilter, reference, what-if thresholds, bad input, on every
engine (numpy, DuckDB over Parquet, Spark: tests/engines.py); pandas is the oracle of the numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from engines import evaluation_on
from errorscope.fairness import group_metrics, make_groups

COMPAS = {"y_true": "two_year_recid", "y_score": "risk", "sensitive": ["race", "sex"]}


@pytest.fixture(scope="module")
def compas() -> pd.DataFrame:
    df = es.datasets.load_compas()[["sex", "race", "age", "decile_score", "two_year_recid"]].copy()
    df["risk"] = (df["decile_score"] - 0.5) / 10
    return df


@pytest.fixture
def ev(on_engine, compas: pd.DataFrame) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return on_engine("compas", compas, **COMPAS)


def test_click_selects_groups_and_crossfilter_recomputes(ev: es.Evaluation, compas: pd.DataFrame) -> None:
    view = es.GroupComparer(ev, groups=["race", "sex"], n_boot=50)
    cm = es.ConfusionMatrix(ev)
    first = view.table.iloc[0]
    view._handle_message({"type": "select_group", "index": 0})
    assert cm.n_rows == first["count"] and view.selected_groups == [0]
    view._handle_message({"type": "select_group", "index": 1, "additive": True})
    assert cm.n_rows == first["count"] + view.table.iloc[1]["count"]
    view.clear()
    cm.select_cells(cells=[(1, 0)])
    expected = group_metrics(ev, make_groups(ev, ["race", "sex"]), ev.selection.filter(), n_boot=0)
    np.testing.assert_array_equal(view.table["count"], expected["count"])
    np.testing.assert_allclose(view.table["selection_rate"], expected["selection_rate"], equal_nan=True)
    cell = (compas["two_year_recid"] == 1) & (compas["risk"] < 0.5)  # actual 1, predicted 0
    assert view.n_rows == cell.sum()
    sizes = compas[cell].groupby(["race", "sex"]).size()
    for _, row in view.table[view.table["count"] > 0].iterrows():
        race, sex = (part.split("=")[1] for part in row["group"].split(", "))
        assert row["count"] == sizes[(race, sex)]


def test_reference_positive_class_and_what_if(ev: es.Evaluation, compas: pd.DataFrame) -> None:
    view = es.GroupComparer(ev, groups="race", n_boot=0)
    assert (
        view.disparities_table.loc[view.disparities_table["reference"], "group"].iloc[0] == "African-American"
    )
    view.reference = "Caucasian"
    assert view.disparities_table.loc[view.disparities_table["reference"], "group"].iloc[0] == "Caucasian"
    with pytest.raises(ValueError, match="not a group"):
        view.reference = "Martian"
    assert view.reference == "Caucasian"
    view.thresholds = {"Caucasian": 0.2}
    table = view.what_if_table({"Caucasian": 0.2})
    got = np.frombuffer(view.what_if["selection_rate"], dtype="<f8")
    np.testing.assert_allclose(got, table["selection_rate"])
    caucasian = list(view.table["group"]).index("Caucasian")
    assert got[caucasian] > view.table["selection_rate"].iloc[caucasian]
    others = np.arange(len(got)) != caucasian
    np.testing.assert_allclose(got[others], view.table["selection_rate"].to_numpy()[others])
    cut = np.where(compas["race"] == "Caucasian", 0.2, 0.5)
    expected = (compas["risk"] >= cut).groupby(compas["race"]).mean()
    np.testing.assert_allclose(got, expected[list(view.table["group"])].to_numpy(), rtol=1e-12)
    assert ev.threshold == 0.5


def test_multiclass_is_one_vs_rest_and_bad_input_is_explained(
    request: pytest.FixtureRequest, engine: str
) -> None:
    letters = es.datasets.load_letter().head(3000)
    rng = np.random.default_rng(0)
    letters["site"] = rng.choice(["north", "south"], len(letters))
    scores = rng.dirichlet(np.ones(26), len(letters))
    ev = evaluation_on(engine, request, letters, y_true="letter", y_score=scores, sensitive="site")
    with pytest.raises(ValueError, match="positive_class"):
        es.GroupComparer(ev)
    view = es.GroupComparer(ev, positive_class="A", n_boot=0)
    predicted = np.array(sorted(letters["letter"].unique()))[scores.argmax(axis=1)]
    north = (letters["site"] == "north").to_numpy()
    rate = (predicted[north] == "A").mean()
    assert view.table.set_index("group").loc["north", "selection_rate"] == pytest.approx(rate, rel=1e-12)
    view.positive = "B"
    assert view.table.set_index("group").loc["north", "selection_rate"] == pytest.approx(
        (predicted[north] == "B").mean(), rel=1e-12
    )
    with pytest.raises(ValueError, match="not a column"):
        es.GroupComparer(ev, groups="region", positive_class="A")
    with pytest.raises(ValueError, match="min_size"):
        es.GroupComparer(ev, positive_class="A", min_size=0)


def test_reference_is_fixed_on_the_whole_set_whatever_the_selection(ev: es.Evaluation) -> None:
    """A slice where another group is larger must not swap the reference (and flip every sign)."""
    view = es.GroupComparer(ev, groups="sex", n_boot=0)
    assert view.reference_label == "Male (largest group overall)"
    # the rows with a low decile score and female: females are the largest group inside that filter
    ev.select("sex == 'Female' or decile_score > 9")
    counts = view.table.set_index("group")["count"]
    assert counts["Female"] > counts["Male"]  # the filter's largest group is Female...
    table = view.disparities_table.set_index("group")
    assert table.loc["Male", "reference"] and not table.loc["Female", "reference"]  # ...the reference stays
    assert table.loc["Male", "demographic_parity_difference"] == 0
    rates = view.table.set_index("group")["selection_rate"]
    assert table.loc["Female", "demographic_parity_difference"] == pytest.approx(
        rates["Female"] - rates["Male"]
    )
    assert view.reference_label == "Male (largest group overall)"
    view.reference = "best"
    assert view.reference_label.endswith("(best group overall)")


def test_set_bins_reaches_a_group_comparer_already_built(ev: es.Evaluation, compas: pd.DataFrame) -> None:
    view = es.GroupComparer(ev, groups="age", n_boot=0)
    before = list(view.table["group"])
    ev.set_bins("age", [25, 40, 60])
    assert list(view.table["group"]) == ["< 25", "in [25, 40)", "in [40, 60)", "≥ 60"] != before
    assert view.groups["labels"] == list(view.table["group"])
    expected = np.histogram(compas["age"], [-np.inf, 25, 40, 60, np.inf])[0]
    np.testing.assert_array_equal(view.table["count"], expected)
    view.select_groups([0])  # the new groups select their rows
    assert len(ev.selected()) == (compas["age"] < 25).sum()


def test_lift_ranks_groups_by_their_share_of_an_outcome_selection(
    ev: es.Evaluation, compas: pd.DataFrame
) -> None:
    """After a click on an error cell every group's error rate is 100%: lift (share of the selected rows
    against share of all rows) is what tells them apart. Oracle: pandas value_counts."""
    view = es.GroupComparer(ev, groups="race", n_boot=0)
    assert view.outcome_filter == ""
    cm = es.ConfusionMatrix(ev)
    cm.select_cells(cells=[(0, 1)])  # actual 0, predicted 1: false positives
    assert "actual" in view.outcome_filter and "predicted" in view.outcome_filter
    false_positive = (compas["two_year_recid"] == 0) & (compas["risk"] >= 0.5)
    selected = compas.loc[false_positive, "race"].value_counts(normalize=True)
    overall = compas["race"].value_counts(normalize=True)
    expected = (selected / overall).fillna(0)
    got = view.lift_rows.set_index("group")
    for group, value in expected.items():
        assert got.loc[group, "lift"] == pytest.approx(value)
        assert got.loc[group, "lift_low"] <= value <= got.loc[group, "lift_high"]
    assert list(got["lift"]) == sorted(got["lift"], reverse=True)
    shares = np.frombuffer(view.lift_table["lift"], dtype="<f8")
    np.testing.assert_allclose(np.sort(shares)[::-1], got["lift"].to_numpy())
    cm.clear()
    assert view.outcome_filter == ""
