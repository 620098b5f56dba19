"""ConfusionMatrix counts, per-class metrics and shares against scikit-learn, on real data and at random."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

import errorscope as es
from errorscope.metrics import ClassMetrics, confusion_counts

TOL = {"rtol": 1e-12, "atol": 0}


def sklearn_report(y_true, y_pred, classes) -> tuple[np.ndarray, pd.DataFrame, float]:
    """sklearn's confusion matrix, per-class metrics (NaN where undefined) and accuracy."""
    counts = confusion_matrix(y_true, y_pred, labels=classes)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=np.nan)
    metrics = pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s})
    return counts, metrics, accuracy_score(y_true, y_pred)


def assert_view_matches_sklearn(cm: es.ConfusionMatrix, y_true, y_pred) -> None:
    classes = cm.evaluation.classes
    counts, metrics, accuracy = sklearn_report(y_true, y_pred, classes)
    np.testing.assert_array_equal(cm.matrix.to_numpy(), counts)
    got = cm.class_metrics
    assert list(got.index) == cm.evaluation.class_names
    for name in ["precision", "recall", "f1"]:
        np.testing.assert_allclose(got[name].to_numpy(), metrics[name].to_numpy(), equal_nan=True, **TOL)
    np.testing.assert_array_equal(got["support"].to_numpy(), metrics["support"].to_numpy())
    assert cm.accuracy_value == pytest.approx(accuracy, rel=1e-12)
    assert cm.accuracy == pytest.approx(accuracy, rel=1e-12)
    assert cm.n_rows == len(y_true)
    # the bytes the browser receives carry the same numbers
    k = len(classes)
    np.testing.assert_array_equal(np.frombuffer(cm.counts, "<u4").reshape(k, k), counts)
    np.testing.assert_allclose(
        np.frombuffer(cm.precision, "<f8"), metrics["precision"], equal_nan=True, **TOL
    )
    np.testing.assert_allclose(np.frombuffer(cm.recall, "<f8"), metrics["recall"], equal_nan=True, **TOL)
    np.testing.assert_allclose(np.frombuffer(cm.f1, "<f8"), metrics["f1"], equal_nan=True, **TOL)
    np.testing.assert_array_equal(np.frombuffer(cm.support, "<u4"), metrics["support"])


def assert_shares_match_sklearn(cm: es.ConfusionMatrix, y_true, y_pred) -> None:
    classes = cm.evaluation.classes
    k = len(classes)
    table = cm.table
    assert list(table["actual"]) == [a for a in cm.evaluation.class_names for _ in range(k)]
    assert list(table["predicted"]) == cm.evaluation.class_names * k
    np.testing.assert_array_equal(
        table["count"].to_numpy().reshape(k, k), confusion_matrix(y_true, y_pred, labels=classes)
    )
    for column, norm in [("share_of_actual", "true"), ("share_of_predicted", "pred")]:
        share = table[column].to_numpy(dtype=float).reshape(k, k)
        expected = confusion_matrix(y_true, y_pred, labels=classes, normalize=norm)
        # sklearn writes 0 for an empty row/column; errorscope leaves it undefined (NaN)
        np.testing.assert_allclose(np.nan_to_num(share, nan=0.0), expected, rtol=1e-12, atol=1e-15)


# -- Adult: binary, a gradient-boosted model on the train split, evaluated on the test split ---------
@pytest.fixture
def adult_ev(adult, adult_model) -> es.Evaluation:
    return es.Evaluation(adult, "income", model=adult_model, sensitive="sex")


def test_adult_unfiltered(adult_ev, adult, adult_model):
    y_pred = adult_model.predict(adult.drop(columns="income"))
    np.testing.assert_array_equal(adult_ev.y_pred, y_pred)
    cm = es.ConfusionMatrix(adult_ev)
    assert_view_matches_sklearn(cm, adult["income"], y_pred)
    assert_shares_match_sklearn(cm, adult["income"], y_pred)
    assert 0.8 < cm.accuracy_value < 0.95  # a sane model, so the oracle compares meaningful numbers


def test_adult_after_a_selection_from_code(adult_ev, adult, adult_model):
    y_pred = adult_model.predict(adult.drop(columns="income"))
    cm = es.ConfusionMatrix(adult_ev)
    adult_ev.select("sex == 'Female' and age < 30")
    keep = ((adult["sex"] == "Female") & (adult["age"] < 30)).to_numpy()
    assert 0 < keep.sum() < len(adult)
    assert_view_matches_sklearn(cm, adult["income"][keep], y_pred[keep])
    assert_shares_match_sklearn(cm, adult["income"][keep], y_pred[keep])


def test_adult_after_a_selection_from_another_view(adult_ev, adult, adult_model):
    y_pred = adult_model.predict(adult.drop(columns="income"))
    cm1, cm2 = es.ConfusionMatrix(adult_ev), es.ConfusionMatrix(adult_ev)
    cm2.select_cells(predicted=[1])  # everything predicted >50K
    keep = y_pred == ">50K"
    assert_view_matches_sklearn(cm1, adult["income"][keep], y_pred[keep])
    assert_view_matches_sklearn(cm2, adult["income"], y_pred)  # not filtered by its own clause
    # a single predicted class: recall is defined, precision of the other class is not
    assert np.isnan(cm1.class_metrics.loc["<=50K", "precision"])


def test_adult_after_threshold_change(adult_ev, adult, adult_proba):
    cm = es.ConfusionMatrix(adult_ev)
    cm.threshold = 0.25
    y_pred = np.where(adult_proba[:, 1] >= 0.25, ">50K", "<=50K")
    assert_view_matches_sklearn(cm, adult["income"], y_pred)
    assert_shares_match_sklearn(cm, adult["income"], y_pred)


# -- Letter: 26 classes, a decision tree on the first 16,000 rows, evaluated on the last 4,000 --------
@pytest.fixture
def letter_ev(letter_test, letter_model) -> es.Evaluation:
    return es.Evaluation(letter_test, "letter", model=letter_model)


def test_letter_unfiltered(letter_ev, letter_test, letter_model):
    y_pred = letter_model.predict(letter_test.drop(columns="letter"))
    np.testing.assert_array_equal(letter_ev.y_pred, y_pred)
    assert letter_ev.n_classes == 26 and letter_ev.classes == sorted(letter_ev.classes)
    cm = es.ConfusionMatrix(letter_ev)
    assert cm.matrix.shape == (26, 26)
    assert_view_matches_sklearn(cm, letter_test["letter"], y_pred)
    assert_shares_match_sklearn(cm, letter_test["letter"], y_pred)
    assert cm.accuracy_value > 0.8


def test_letter_with_classes_absent_from_the_subset(letter_ev, letter_test, letter_model):
    """After selecting actual A, B or C in another view, most classes have no support: NaN as in sklearn."""
    y_pred = letter_model.predict(letter_test.drop(columns="letter"))
    cm1, cm2 = es.ConfusionMatrix(letter_ev), es.ConfusionMatrix(letter_ev)
    cm2.select_cells(actual=[0, 1, 2])
    keep = letter_test["letter"].isin(["A", "B", "C"]).to_numpy()
    assert_view_matches_sklearn(cm1, letter_test["letter"][keep], y_pred[keep])
    assert_shares_match_sklearn(cm1, letter_test["letter"][keep], y_pred[keep])
    metrics = cm1.class_metrics
    assert metrics["recall"].isna().sum() == 23
    predicted = cm1.matrix.sum(axis=0)
    absent = [c for c in metrics.index if c not in ("A", "B", "C")]
    never = [c for c in absent if predicted[c] == 0]
    wrongly = [c for c in absent if predicted[c] > 0]
    assert never and wrongly  # both kinds occur, so both rules are checked
    assert metrics.loc[never, ["precision", "recall", "f1"]].isna().all().all()  # 0/0 everywhere
    assert (metrics.loc[wrongly, ["precision", "f1"]] == 0).all().all()  # predicted, never right


def test_letter_after_code_and_cell_selection(letter_ev, letter_test, letter_model):
    y_pred = letter_model.predict(letter_test.drop(columns="letter"))
    cm1, cm2 = es.ConfusionMatrix(letter_ev), es.ConfusionMatrix(letter_ev)
    letter_ev.select("`x-box` >= 5")
    ci = letter_ev.classes.index
    cm2.select_cells(cells=[(ci("O"), ci("Q")), (ci("Q"), ci("O")), (ci("H"), ci("K"))])
    box = (letter_test["x-box"] >= 5).to_numpy()
    y = letter_test["letter"].to_numpy()
    cells = ((y == "O") & (y_pred == "Q")) | ((y == "Q") & (y_pred == "O")) | ((y == "H") & (y_pred == "K"))
    assert_view_matches_sklearn(cm1, y[box & cells], y_pred[box & cells])
    assert_view_matches_sklearn(cm2, y[box], y_pred[box])


# -- random labels ---------------------------------------------------------------------------------
@st.composite
def codes(draw):
    k = draw(st.integers(2, 6))
    n = draw(st.integers(1, 60))
    y = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    p = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return k, y, p, mask


@settings(max_examples=100, deadline=None)
@given(codes())
def test_confusion_counts_and_metrics_match_sklearn(case):
    k, y, p, mask = case
    labels = list(range(k))
    for m in (None, mask):
        yt, yp = (y, p) if m is None else (y[m], p[m])
        counts = confusion_counts(y, p, k, m)
        assert counts.shape == (k, k)
        if len(yt) == 0:
            assert counts.sum() == 0
            metrics = ClassMetrics.from_counts(counts)
            assert np.isnan(metrics.accuracy)
            assert np.isnan(metrics.precision).all() and np.isnan(metrics.recall).all()
            assert np.isnan(metrics.f1).all()
            continue
        np.testing.assert_array_equal(counts, confusion_matrix(yt, yp, labels=labels))
        metrics = ClassMetrics.from_counts(counts)
        pr, rc, f1, sup = precision_recall_fscore_support(yt, yp, labels=labels, zero_division=np.nan)
        np.testing.assert_allclose(metrics.precision, pr, equal_nan=True, **TOL)
        np.testing.assert_allclose(metrics.recall, rc, equal_nan=True, **TOL)
        np.testing.assert_allclose(metrics.f1, f1, equal_nan=True, **TOL)
        np.testing.assert_array_equal(metrics.support, sup)
        np.testing.assert_array_equal(metrics.predicted, np.bincount(yp, minlength=k))
        assert metrics.accuracy == pytest.approx(accuracy_score(yt, yp), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(codes())
def test_view_metrics_match_sklearn_on_random_labels(case):
    k, y, p, mask = case
    names = [f"c{i}" for i in range(k)]
    yt, yp = np.array(names)[y], np.array(names)[p]
    ev = es.Evaluation(pd.DataFrame({"x": np.arange(len(y))}), yt, y_pred=yp, labels=names)
    cm = es.ConfusionMatrix(ev)
    ev.select(mask)
    if mask.any():
        assert_view_matches_sklearn(cm, yt[mask], yp[mask])
        assert_shares_match_sklearn(cm, yt[mask], yp[mask])
    else:
        assert cm.n_rows == 0 and cm.matrix.to_numpy().sum() == 0
        assert cm.accuracy is None and np.isnan(cm.accuracy_value)
    cm.close()
