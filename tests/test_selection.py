"""The crossfilter algebra (clauses, masks, observers, stamps) and ConfusionMatrix linking, no browser."""

from __future__ import annotations

import collections

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope import Clause, Predicate, Selection
from errorscope.selection import Ref, SelectionChange, cells_clause

ADULT = ["<=50K", ">50K"]


# -- clause and predicate text ---------------------------------------------------------------------
def test_cell_clause_text():
    clause = cells_clause("ConfusionMatrix", ADULT, cells=[(1, 0)])
    assert clause.text == "actual == '>50K' and predicted == '<=50K'"
    assert str(clause) == clause.text
    assert clause.columns == frozenset({"actual", "predicted"})
    assert clause.source == "ConfusionMatrix"


def test_or_of_cells_text():
    clause = cells_clause("cm", ADULT, cells=[(1, 0), (0, 1)])
    assert clause.text == (
        "(actual == '<=50K' and predicted == '>50K') or (actual == '>50K' and predicted == '<=50K')"
    )
    assert " or " in clause.text


def test_row_and_column_clause_text():
    assert cells_clause("cm", ADULT, actual=[1]).text == "actual == '>50K'"
    assert cells_clause("cm", ADULT, predicted=[0]).text == "predicted == '<=50K'"
    both = cells_clause("cm", ADULT, actual=[1], predicted=[0])
    assert both.text == "actual == '>50K' or predicted == '<=50K'"
    assert both.columns == frozenset({"actual", "predicted"})


def test_cells_clause_dedupes_and_sorts():
    a = cells_clause("cm", ["a", "b", "c"], cells=[(2, 1), (0, 1), (2, 1)])
    b = cells_clause("cm", ["a", "b", "c"], cells=[(0, 1), (2, 1)])
    assert a == b
    assert len(a.terms) == 2


def test_empty_cells_clause_has_no_terms():
    assert cells_clause("cm", ADULT).terms == ()


@pytest.mark.parametrize(
    ("predicate", "text"),
    [
        (Predicate("sex", "in", ("Female",)), "sex == 'Female'"),
        (Predicate("sex", "in", ("Female",), negated=True), "sex != 'Female'"),
        (Predicate("race", "in", ("Black", "White")), "race in ['Black', 'White']"),
        (Predicate("race", "in", ("Black", "White"), negated=True), "race not in ['Black', 'White']"),
        (Predicate("race", "not in", ("Black",)), "(race not in ['Black'] and race.notna())"),
        (Predicate("es_tag", "not in", ("ok",), role="tag"), "es_tag not in ['ok']"),
        (Predicate("age", "between", (30, 40)), "30 <= age < 40"),
        (Predicate("age", "between", (None, 22.0)), "age < 22.0"),
        (Predicate("age", "between", (58.0, None)), "age >= 58.0"),
        (Predicate("x", "between", (1 / 3, 2.5)), "0.3333333333333333 <= x < 2.5"),
        (Predicate("x-box", "between", (1, None), negated=True), "not (`x-box` >= 1)"),
        (Predicate("workclass", "isna"), "workclass.isna()"),
        (Predicate("workclass", "isna", negated=True), "workclass.notna()"),
        (Predicate("age", ">", (60,)), "age > 60"),
        (Predicate("actual", "==", (Ref("predicted"),), negated=True), "actual != predicted"),
        (Predicate("id", "ids", (3, 4, 5)), "3 chosen ids"),
        (Predicate("row", "mask", mask=np.array([True, False, True])), "mask (2 rows)"),
    ],
)
def test_predicate_text(predicate, text):
    assert predicate.text == text


def test_multi_predicate_term_text():
    clause = Clause.where(
        "slices", Predicate("sex", "in", ("Female",)), Predicate("age", "between", (60, None))
    )
    assert clause.text == "sex == 'Female' and age >= 60"
    assert clause.columns == frozenset({"sex", "age"})


# -- Selection over a small Evaluation -------------------------------------------------------------
@pytest.fixture
def ev() -> es.Evaluation:
    df = pd.DataFrame(
        {
            "a": [0, 1, 2, 0, 1, 2, 0, 1, 2, 0],
            "b": [5.0, 1.0, 3.0, 8.0, 2.0, 9.0, 4.0, 7.0, 6.0, 0.0],
            "y": [0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
            "p": [0, 1, 1, 1, 0, 0, 0, 1, 1, 1],
        }
    )
    return es.Evaluation(df, "y", y_pred="p")


def where(source: str, *predicates: Predicate) -> Clause:
    return Clause.where(source, *predicates)


A_IS_0 = Predicate("a", "in", (0,))
A_IS_1 = Predicate("a", "in", (1,))
B_LOW = Predicate("b", "between", (None, 5.0))


def mask_of(ev: es.Evaluation, predicate: Predicate) -> np.ndarray:
    return ev.engine.predicate_mask(predicate)


def test_empty_selection_keeps_all_rows(ev):
    sel = ev.selection
    assert isinstance(sel, Selection)
    assert len(sel) == 0 and bool(sel) is True
    assert sel.mask().all() and sel.mask().shape == (10,)
    assert sel.mask(exclude="anything").all()
    assert sel.text() == "" and sel.stamp() == ()
    assert repr(sel) == "Selection(all rows)"


def test_replace_semantics_one_clause_per_source(ev):
    sel = ev.selection
    sel.set(where("A", A_IS_0))
    sel.set(where("A", A_IS_1))
    assert len(sel) == 1
    assert sel.clause("A") == where("A", A_IS_1)
    np.testing.assert_array_equal(sel.mask(), ev.data["a"].to_numpy() == 1)


def test_intersection_and_exclude_own(ev):
    sel = ev.selection
    sel.set(where("A", A_IS_0))
    sel.set(where("B", B_LOW))
    a, b = mask_of(ev, A_IS_0), mask_of(ev, B_LOW)
    np.testing.assert_array_equal(sel.mask(), a & b)
    np.testing.assert_array_equal(sel.mask(exclude="A"), b)
    np.testing.assert_array_equal(sel.mask(exclude="B"), a)
    np.testing.assert_array_equal(sel.mask(exclude="C"), a & b)
    np.testing.assert_array_equal(sel.clause_mask("A"), a)
    assert sel.clause_mask("C") is None
    assert sel.text() == "a == 0 and b < 5.0"
    assert sel.text(exclude="A") == "b < 5.0"
    assert repr(sel) == "Selection(2 of 10 rows\n  A: a == 0\n  B: b < 5.0\n)"


def test_selection_that_keeps_zero_rows(ev):
    ev.selection.set(where("A", A_IS_0))
    ev.selection.set(where("B", A_IS_1))
    assert not ev.selection.mask().any()
    out = ev.selected()
    assert len(out) == 0
    assert {"actual", "predicted", "id"} <= set(out.columns)


def test_or_of_terms_and_within_term(ev):
    term1 = (A_IS_0, B_LOW)
    term2 = (Predicate("a", "in", (2,)),)
    ev.selection.set(Clause("S", (term1, term2)))
    a, b = ev.data["a"].to_numpy(), ev.data["b"].to_numpy()
    np.testing.assert_array_equal(ev.selection.mask(), ((a == 0) & (b < 5)) | (a == 2))


def test_empty_clause_removes(ev):
    changes = []
    ev.selection.observe(changes.append)
    ev.selection.set(Clause("A", ()))  # nothing to remove: no-op
    assert changes == []
    ev.selection.set(where("A", A_IS_0))
    ev.selection.set(Clause("A", ()))
    assert len(ev.selection) == 0
    assert changes == [SelectionChange("A", "clause")] * 2


def test_clear(ev):
    changes = []
    ev.selection.set(where("A", A_IS_0))
    ev.selection.set(where("B", B_LOW))
    ev.selection.observe(changes.append)
    ev.selection.clear()
    assert len(ev.selection) == 0 and ev.selection.mask().all()
    assert changes == [SelectionChange(None, "clear")]
    ev.selection.clear()  # already empty: no notification
    assert len(changes) == 1


def test_observers_fire_once_per_effective_change(ev):
    sel = ev.selection
    changes = []
    seen_masks = []
    sel.observe(changes.append)
    sel.observe(changes.append)  # registering twice is a no-op
    sel.observe(lambda change: seen_masks.append(sel.mask().copy()))  # state is consistent when called
    sel.set(where("A", A_IS_0))
    sel.set(where("A", A_IS_0))  # the same clause again: no change
    sel.remove("B")  # nothing to remove: no change
    sel.set(where("B", B_LOW))
    sel.remove("A")
    assert changes == [
        SelectionChange("A", "clause"),
        SelectionChange("B", "clause"),
        SelectionChange("A", "clause"),
    ]
    np.testing.assert_array_equal(seen_masks[0], mask_of(ev, A_IS_0))
    np.testing.assert_array_equal(seen_masks[1], mask_of(ev, A_IS_0) & mask_of(ev, B_LOW))
    np.testing.assert_array_equal(seen_masks[2], mask_of(ev, B_LOW))
    sel.unobserve(changes.append)
    sel.unobserve(changes.append)  # unobserving twice is harmless
    sel.set(where("A", A_IS_1))
    assert len(changes) == 3


def test_refresh_notifies_once_even_without_clauses(ev):
    changes = []
    ev.selection.observe(changes.append)
    ev.selection.refresh()
    assert changes == [SelectionChange(None, "data")]


def test_stamp_changes_iff_other_clauses_change(ev):
    sel = ev.selection
    s0 = sel.stamp(exclude="A")
    sel.set(where("A", A_IS_0))
    assert sel.stamp(exclude="A") == s0  # own clause only
    sel.set(where("B", B_LOW))
    s1 = sel.stamp(exclude="A")
    assert s1 != s0
    sel.set(where("B", B_LOW))  # same clause: no change
    sel.remove("C")
    assert sel.stamp(exclude="A") == s1
    sel.refresh({"a"})  # re-evaluates A only
    assert sel.stamp(exclude="A") == s1
    sel.refresh({"b"})  # re-evaluates B
    s2 = sel.stamp(exclude="A")
    assert s2 != s1
    sel.set(where("B", A_IS_1))  # replace B
    assert sel.stamp(exclude="A") != s2
    sel.remove("B")
    assert sel.stamp(exclude="A") == ()


def test_refresh_reevaluates_only_clauses_on_the_columns(ev):
    sel = ev.selection
    sel.set(where("A", A_IS_0))
    sel.set(where("B", B_LOW))
    stamps = dict(sel.stamp())
    old = ev.data["a"].to_numpy() == 0
    ev.data.loc[:, "a"] = np.ones(10, dtype=int)  # the data behind clause A changes
    sel.refresh({"b"})
    np.testing.assert_array_equal(sel.clause_mask("A"), old)  # not re-evaluated: it does not read b
    assert dict(sel.stamp())["A"] == stamps["A"]
    sel.refresh({"a"})
    assert not sel.clause_mask("A").any()
    new = dict(sel.stamp())
    assert new["A"] != stamps["A"] and new["B"] != stamps["B"]


def test_select_from_code_replaces_code_clause(ev):
    ev.select("a == 0")
    ev.select("b > 4")
    assert list(ev.selection.clauses) == ["code"]
    np.testing.assert_array_equal(ev.selection.mask(), ev.data["b"].to_numpy() > 4)
    ev.select("a == 1", source="other")
    assert set(ev.selection.clauses) == {"code", "other"}
    assert ev.selection.clause("code").text == "b > 4"


def test_role_predicates_select_actual_and_predicted(ev):
    ev.select(Clause.where("cm", Predicate("actual", "in", (1,)), Predicate("predicted", "in", (0,))))
    np.testing.assert_array_equal(ev.selection.mask(), (ev.y_true == 1) & (ev.y_pred == 0))
    ev.select(Clause.where("cm", Predicate("predicted", "not in", (0,))))
    np.testing.assert_array_equal(ev.selection.mask(), ev.y_pred == 1)


# -- ConfusionMatrix linking at the Python level (needs the built front-end bundle) ----------------
@pytest.fixture
def scored(adult_test, adult_proba) -> es.Evaluation:
    return es.Evaluation(adult_test, "income", y_score=adult_proba)


def counts_of(ev: es.Evaluation, mask: np.ndarray | None = None) -> np.ndarray:
    t, p = ev.true_codes, ev.pred_codes
    if mask is not None:
        t, p = t[mask], p[mask]
    k = ev.n_classes
    out = np.zeros((k, k), dtype=np.int64)
    np.add.at(out, (t, p), 1)
    return out


@pytest.fixture
def compute_calls(monkeypatch) -> collections.Counter:
    """Counts ConfusionMatrix._compute calls per view source."""
    calls: collections.Counter = collections.Counter()
    original = es.ConfusionMatrix._compute

    def counting(self, mask):
        calls[self.source] += 1
        return original(self, mask)

    monkeypatch.setattr(es.ConfusionMatrix, "_compute", counting)
    return calls


def test_views_get_distinct_sources(scored):
    cm1, cm2 = es.ConfusionMatrix(scored), es.ConfusionMatrix(scored)
    assert (cm1.source, cm2.source) == ("ConfusionMatrix", "ConfusionMatrix 2")
    assert cm1.n_rows == cm1.n_total == cm2.n_rows == scored.n_rows
    assert cm1.classes == ADULT
    assert cm1.show_threshold and cm1.threshold == 0.5
    full = counts_of(scored)
    np.testing.assert_array_equal(cm1.matrix.to_numpy(), full)
    np.testing.assert_array_equal(np.frombuffer(cm1.counts, "<u4").reshape(2, 2), full)
    assert list(cm1.matrix.index) == ADULT and cm1.matrix.index.name == "actual"
    assert cm1.matrix.columns.name == "predicted"


def test_cell_selection_filters_the_other_view(scored):
    cm1, cm2 = es.ConfusionMatrix(scored), es.ConfusionMatrix(scored)
    full = counts_of(scored)
    cm1.select_cells(cells=[(1, 0)])
    count = full[1, 0]
    assert count > 0
    assert cm2.n_rows == count
    expected = np.zeros((2, 2), dtype=np.int64)
    expected[1, 0] = count
    np.testing.assert_array_equal(cm2.matrix.to_numpy(), expected)
    np.testing.assert_array_equal(cm1.matrix.to_numpy(), full)  # crossfilter: not filtered by its own clause
    assert cm1.n_rows == scored.n_rows
    assert len(scored.selected()) == count
    assert (scored.selected()["actual"] == ">50K").all() and (scored.selected()["predicted"] == "<=50K").all()
    assert cm1.clause_text == "actual == '>50K' and predicted == '<=50K'"
    assert cm1.selected == {"cells": [[1, 0]], "actual": [], "predicted": []}
    assert cm2.filter_text == "actual == '>50K' and predicted == '<=50K'"
    assert cm2.selected == {"cells": [], "actual": [], "predicted": []}
    assert cm1.table["selected"].tolist() == [False, False, True, False]


@pytest.mark.parametrize("entry", ["_on_message", "_handle_message"])
def test_select_message_does_the_same(scored, entry):
    cm1, cm2 = es.ConfusionMatrix(scored), es.ConfusionMatrix(scored)
    message = {"type": "select", "cells": [[1, 0]], "actual": [], "predicted": []}
    if entry == "_on_message":
        cm1._on_message(cm1, message, [])
    else:
        cm1._handle_message(message)
    count = counts_of(scored)[1, 0]
    assert cm2.n_rows == count == len(scored.selected())
    assert cm2.matrix.to_numpy()[1, 0] == count and cm2.matrix.to_numpy().sum() == count
    cm1._on_message(cm1, {"type": "clear"}, [])
    assert cm1.clause is None and len(scored.selection) == 0
    assert cm2.n_rows == scored.n_rows
    np.testing.assert_array_equal(cm2.matrix.to_numpy(), counts_of(scored))
    assert cm1.selected == {"cells": [], "actual": [], "predicted": []} and cm1.clause_text == ""


def test_unknown_messages_are_ignored(scored):
    cm = es.ConfusionMatrix(scored)
    cm._on_message(cm, {"type": "hover", "cell": [0, 0]}, [])
    cm._on_message(cm, "not a dict", [])
    assert len(scored.selection) == 0


def test_or_of_two_cells(scored):
    cm1, cm2 = es.ConfusionMatrix(scored), es.ConfusionMatrix(scored)
    full = counts_of(scored)
    cm1.select_cells(cells=[(1, 0), (0, 1)])
    assert cm2.n_rows == full[1, 0] + full[0, 1]
    np.testing.assert_array_equal(cm2.matrix.to_numpy(), [[0, full[0, 1]], [full[1, 0], 0]])
    assert (scored.selected()["actual"] != scored.selected()["predicted"]).all()
    assert cm1.selected["cells"] == [[0, 1], [1, 0]]


def test_row_and_column_selection(scored):
    cm1, cm2 = es.ConfusionMatrix(scored), es.ConfusionMatrix(scored)
    full = counts_of(scored)
    cm1.select_cells(actual=[1])
    np.testing.assert_array_equal(cm2.matrix.to_numpy(), [[0, 0], full[1]])
    assert cm1.selected == {"cells": [], "actual": [1], "predicted": []}
    cm1._on_message(cm1, {"type": "select", "predicted": [0]}, [])
    np.testing.assert_array_equal(cm2.matrix.to_numpy(), [[full[0, 0], 0], [full[1, 0], 0]])
    assert cm1.selected == {"cells": [], "actual": [], "predicted": [0]}
    assert cm1.table["selected"].tolist() == [True, False, True, False]
    np.testing.assert_array_equal(cm1.matrix.to_numpy(), full)


def test_selections_from_two_views_intersect(scored):
    cm1, cm2 = es.ConfusionMatrix(scored), es.ConfusionMatrix(scored)
    full = counts_of(scored)
    cm1.select_cells(actual=[1])
    cm2.select_cells(predicted=[0])
    # each view sees the other's clause only
    np.testing.assert_array_equal(cm1.matrix.to_numpy(), [[full[0, 0], 0], [full[1, 0], 0]])
    np.testing.assert_array_equal(cm2.matrix.to_numpy(), [[0, 0], full[1]])
    assert len(scored.selected()) == full[1, 0]


def test_code_selection_filters_every_view(scored):
    cm1, cm2 = es.ConfusionMatrix(scored), es.ConfusionMatrix(scored)
    old = scored.data["age"].to_numpy() > 60
    scored.select("age > 60")
    for cm in (cm1, cm2):
        assert cm.n_rows == old.sum()
        np.testing.assert_array_equal(cm.matrix.to_numpy(), counts_of(scored, old))
        assert cm.filter_text == "age > 60"
    cm1.select_cells(cells=[(0, 0)])
    np.testing.assert_array_equal(cm1.matrix.to_numpy(), counts_of(scored, old))
    assert cm2.n_rows == counts_of(scored, old)[0, 0]
    assert cm2.filter_text == "age > 60 and actual == '<=50K' and predicted == '<=50K'"


def test_threshold_from_a_view_moves_the_evaluation_and_every_view(scored, adult_proba):
    cm1, cm2 = es.ConfusionMatrix(scored), es.ConfusionMatrix(scored)
    cm1.select_cells(cells=[(1, 0)])
    cm1.threshold = 0.3
    assert scored.threshold == 0.3 and cm2.threshold == 0.3
    pred = (adult_proba[:, 1] >= 0.3).astype(int)
    np.testing.assert_array_equal(scored.pred_codes, pred)
    full = counts_of(scored)
    np.testing.assert_array_equal(cm1.matrix.to_numpy(), full)
    # cm1's clause (actual >50K, predicted <=50K) is re-evaluated on the new predictions
    assert cm2.n_rows == full[1, 0] == len(scored.selected())
    np.testing.assert_array_equal(cm2.matrix.to_numpy(), [[0, 0], [full[1, 0], 0]])
    scored.threshold = 0.7  # and from code, back to every view
    assert cm1.threshold == cm2.threshold == 0.7
    np.testing.assert_array_equal(cm1.matrix.to_numpy(), counts_of(scored))


def test_threshold_hidden_when_it_does_not_apply(scored, letter_test, letter_model):
    cm = es.ConfusionMatrix(es.Evaluation(scored.data, "income", y_pred=scored.y_pred))
    assert not cm.show_threshold and cm.threshold is None
    cm3 = es.ConfusionMatrix(es.Evaluation(letter_test, "letter", model=letter_model))
    assert not cm3.show_threshold


def test_each_view_recomputes_at_most_once_per_change(scored, compute_calls):
    cm1, cm2 = es.ConfusionMatrix(scored), es.ConfusionMatrix(scored)
    assert compute_calls == {cm1.source: 1, cm2.source: 1}  # the initial computation
    compute_calls.clear()

    cm1.select_cells(cells=[(1, 0)])  # no echo: cm1 does not recompute for its own clause
    assert compute_calls == {cm2.source: 1}
    compute_calls.clear()

    cm1.select_cells(cells=[(1, 0)])  # the same selection again: nothing to do
    assert compute_calls == {}

    scored.select("age > 40")  # a clause from code: both views
    assert compute_calls == {cm1.source: 1, cm2.source: 1}
    compute_calls.clear()

    cm1.threshold = 0.3  # a data change: both views, once each
    assert compute_calls == {cm1.source: 1, cm2.source: 1}
    compute_calls.clear()

    cm2._on_message(cm2, {"type": "select", "actual": [0]}, [])
    assert compute_calls == {cm1.source: 1}
    compute_calls.clear()

    cm1.clear()  # removing cm1's clause changes only what cm2 sees
    assert compute_calls == {cm2.source: 1}
    compute_calls.clear()

    cm1.clear()  # nothing left to clear
    cm1._on_message(cm1, {"type": "clear"}, [])
    assert compute_calls == {}

    scored.selection.clear()
    assert compute_calls == {cm1.source: 1, cm2.source: 1}


def test_closed_view_stops_listening(scored, compute_calls):
    cm1, cm2 = es.ConfusionMatrix(scored), es.ConfusionMatrix(scored)
    compute_calls.clear()
    cm2.close()
    cm1.select_cells(cells=[(0, 0)])
    assert compute_calls == {}


def test_display_names_in_view(adult_test, adult_proba):
    ev = es.Evaluation(adult_test, "income", y_score=adult_proba, labels={"<=50K": "low", ">50K": "high"})
    cm1, cm2 = es.ConfusionMatrix(ev), es.ConfusionMatrix(ev)
    assert cm1.classes == ["low", "high"]
    assert list(cm1.matrix.index) == ["low", "high"]
    cm1.select_cells(cells=[(1, 1)])
    assert cm2.n_rows == counts_of(ev)[1, 1]
    assert cm1.selected["cells"] == [[1, 1]]


def test_cell_selection_ignores_data_columns_named_like_roles(adult_test, adult_proba):
    """Data may hold a column called "predicted" (another model's output): a matrix cell selects the
    Evaluation's own actual/predicted classes, not that column."""
    other_model = np.where(adult_test["age"] > 50, ">50K", "<=50K")
    data = adult_test.assign(predicted=other_model)
    ev = es.Evaluation(data, "income", y_score=adult_proba)
    cm1, cm2 = es.ConfusionMatrix(ev), es.ConfusionMatrix(ev)
    cm1.select_cells(cells=[(1, 0)])
    expected = (ev.true_codes == 1) & (ev.pred_codes == 0)
    np.testing.assert_array_equal(ev.selection.mask(), expected)
    assert cm2.n_rows == cm1.matrix.to_numpy()[1, 0]
    assert (ev.selected()["es_predicted"] == "<=50K").all()


def test_view_created_after_a_selection_starts_filtered(scored):
    scored.select("age < 25")
    keep = scored.data["age"].to_numpy() < 25
    cm = es.ConfusionMatrix(scored)
    assert cm.n_rows == keep.sum()
    np.testing.assert_array_equal(cm.matrix.to_numpy(), counts_of(scored, keep))
    assert cm.filter_text == "age < 25"


def test_polars_evaluation_links(adult_test, adult_proba):
    import polars as pl

    ev = es.Evaluation(pl.from_pandas(adult_test), "income", y_score=adult_proba)
    cm1, cm2 = es.ConfusionMatrix(ev), es.ConfusionMatrix(ev)
    cm1.select_cells(cells=[(0, 1)])
    assert cm2.n_rows == counts_of(ev)[0, 1] == len(ev.selected())
