"""ConfusionMatrix counts, per-class metrics and shares against scikit-learn, on real data and at random,
on every engine (numpy, DuckDB over Parquet, Spark: tests/engines.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

import errorscope as es
from engines import ENGINES, evaluation_on
from errorscope.metrics import ClassMetrics, confusion_counts

TOL = {"rtol": 1e-12, "atol": 0}
N_ADULT = 3000  # the same rows on every engine (a Spark query costs 0.3-1 s whatever the size)


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
@pytest.fixture(scope="module")
def adult_scored(adult_test: pd.DataFrame, adult_model) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The first test rows with the model's P(>50K) as a column (a SQL source's scores are columns)."""
    df = adult_test.iloc[:N_ADULT].reset_index(drop=True)
    df["p_high"] = adult_model.predict_proba(df.drop(columns="income"))[:, 1]
    return df


@pytest.fixture
def adult_ev(on_engine, adult_scored: pd.DataFrame) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return on_engine("adult", adult_scored, y_true="income", y_score="p_high", sensitive="sex")


def model_predictions(adult_scored: pd.DataFrame, adult_model, threshold: float = 0.5) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The oracle's predictions from the score column; at 0.5 they are the model's own ``predict``."""
    y_pred = np.where(adult_scored["p_high"] >= threshold, ">50K", "<=50K")
    if threshold == 0.5:
        np.testing.assert_array_equal(
            y_pred, adult_model.predict(adult_scored.drop(columns=["income", "p_high"]))
        )
    return y_pred


def test_adult_unfiltered(adult_ev, adult_scored, adult_model):
    y_pred = model_predictions(adult_scored, adult_model)
    cm = es.ConfusionMatrix(adult_ev)
    assert_view_matches_sklearn(cm, adult_scored["income"], y_pred)
    assert_shares_match_sklearn(cm, adult_scored["income"], y_pred)
    assert 0.8 < cm.accuracy_value < 0.95  # a sane model, so the oracle compares meaningful numbers


def test_adult_after_a_selection_from_code(adult_ev, adult_scored, adult_model):
    y_pred = model_predictions(adult_scored, adult_model)
    cm = es.ConfusionMatrix(adult_ev)
    adult_ev.select("sex == 'Female' and age < 30")
    keep = ((adult_scored["sex"] == "Female") & (adult_scored["age"] < 30)).to_numpy()
    assert 0 < keep.sum() < len(adult_scored)
    assert_view_matches_sklearn(cm, adult_scored["income"][keep], y_pred[keep])
    assert_shares_match_sklearn(cm, adult_scored["income"][keep], y_pred[keep])


def test_adult_after_a_selection_from_another_view(adult_ev, adult_scored, adult_model):
    y_pred = model_predictions(adult_scored, adult_model)
    cm1, cm2 = es.ConfusionMatrix(adult_ev), es.ConfusionMatrix(adult_ev)
    cm2.select_cells(predicted=[1])  # everything predicted >50K
    keep = y_pred == ">50K"
    assert_view_matches_sklearn(cm1, adult_scored["income"][keep], y_pred[keep])
    assert_view_matches_sklearn(cm2, adult_scored["income"], y_pred)  # not filtered by its own clause
    # a single predicted class: recall is defined, precision of the other class is not
    assert np.isnan(cm1.class_metrics.loc["<=50K", "precision"])


def test_adult_after_threshold_change(adult_ev, adult_scored, adult_model):
    cm = es.ConfusionMatrix(adult_ev)
    cm.select_cells(cells=[(1, 0)])  # the clause on the predictions is re-evaluated at the new threshold
    other = es.ConfusionMatrix(adult_ev)
    try:
        cm.threshold = 0.25
        y_pred = model_predictions(adult_scored, adult_model, 0.25)
        assert_view_matches_sklearn(cm, adult_scored["income"], y_pred)
        assert_shares_match_sklearn(cm, adult_scored["income"], y_pred)
        keep = ((adult_scored["income"] == ">50K") & (y_pred == "<=50K")).to_numpy()
        assert_view_matches_sklearn(other, adult_scored["income"][keep], y_pred[keep])
    finally:
        adult_ev.threshold = 0.5


# -- Letter: 26 classes, a decision tree on the first 16,000 rows, evaluated on the last 4,000 --------
@pytest.fixture(scope="module")
def letter_predicted(letter_test: pd.DataFrame, letter_model) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    df = letter_test.copy()
    df["predicted_letter"] = letter_model.predict(letter_test.drop(columns="letter"))
    return df


@pytest.fixture
def letter_ev(on_engine, letter_predicted: pd.DataFrame) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return on_engine("letter", letter_predicted, y_true="letter", y_pred="predicted_letter")


def test_letter_unfiltered(letter_ev, letter_predicted):
    y_pred = letter_predicted["predicted_letter"].to_numpy()
    assert letter_ev.n_classes == 26 and letter_ev.classes == sorted(letter_ev.classes)
    cm = es.ConfusionMatrix(letter_ev)
    assert cm.matrix.shape == (26, 26)
    assert_view_matches_sklearn(cm, letter_predicted["letter"], y_pred)
    assert_shares_match_sklearn(cm, letter_predicted["letter"], y_pred)
    assert cm.accuracy_value > 0.8


def test_letter_with_classes_absent_from_the_subset(letter_ev, letter_predicted):
    """After selecting actual A, B or C in another view, most classes have no support: NaN as in sklearn."""
    y_pred = letter_predicted["predicted_letter"].to_numpy()
    cm1, cm2 = es.ConfusionMatrix(letter_ev), es.ConfusionMatrix(letter_ev)
    cm2.select_cells(actual=[0, 1, 2])
    keep = letter_predicted["letter"].isin(["A", "B", "C"]).to_numpy()
    assert_view_matches_sklearn(cm1, letter_predicted["letter"][keep], y_pred[keep])
    assert_shares_match_sklearn(cm1, letter_predicted["letter"][keep], y_pred[keep])
    metrics = cm1.class_metrics
    assert metrics["recall"].isna().sum() == 23
    predicted = cm1.matrix.sum(axis=0)
    absent = [c for c in metrics.index if c not in ("A", "B", "C")]
    never = [c for c in absent if predicted[c] == 0]
    wrongly = [c for c in absent if predicted[c] > 0]
    assert never and wrongly  # both kinds occur, so both rules are checked
    assert metrics.loc[never, ["precision", "recall", "f1"]].isna().all().all()  # 0/0 everywhere
    assert (metrics.loc[wrongly, ["precision", "f1"]] == 0).all().all()  # predicted, never right


def test_letter_after_code_and_cell_selection(letter_ev, letter_predicted):
    y_pred = letter_predicted["predicted_letter"].to_numpy()
    cm1, cm2 = es.ConfusionMatrix(letter_ev), es.ConfusionMatrix(letter_ev)
    letter_ev.select("`x-box` >= 5")
    ci = letter_ev.classes.index
    cm2.select_cells(cells=[(ci("O"), ci("Q")), (ci("Q"), ci("O")), (ci("H"), ci("K"))])
    box = (letter_predicted["x-box"] >= 5).to_numpy()
    y = letter_predicted["letter"].to_numpy()
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


RANDOM_EXAMPLES = {"numpy": 40, "duckdb": 20, "spark": 3}  # a Spark example builds a DataFrame: ~3 s


@pytest.mark.parametrize("engine_name", ENGINES)
def test_view_metrics_match_sklearn_on_random_labels(
    request: pytest.FixtureRequest, engine_name: str
) -> None:
    """Random labels (some classes absent) and a random selection of rows, chosen by query text."""

    @settings(max_examples=RANDOM_EXAMPLES[engine_name], deadline=None)
    @given(codes())
    def check(case):  # type: ignore[no-untyped-def]
        k, y, p, mask = case
        names = [f"c{i}" for i in range(k)]
        yt, yp = np.array(names)[y], np.array(names)[p]
        frame = pd.DataFrame({"x": np.arange(len(y)), "y": yt, "p": yp})
        ev = evaluation_on(engine_name, request, frame, y_true="y", y_pred="p", labels=names)
        cm = es.ConfusionMatrix(ev)
        ev.select(f"x in {np.flatnonzero(mask).tolist()}")
        if mask.any():
            assert_view_matches_sklearn(cm, yt[mask], yp[mask])
            assert_shares_match_sklearn(cm, yt[mask], yp[mask])
        else:
            assert cm.n_rows == 0 and cm.matrix.to_numpy().sum() == 0
            assert cm.accuracy is None and np.isnan(cm.accuracy_value)
        cm.close()

    check()
