"""Evaluation arguments: the positive class, class order, regression refusal, model columns, metadata.

Numbers are checked against scikit-learn (precision, recall, accuracy with ``pos_label``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, precision_score, recall_score

import errorscope as es
from errorscope.explain import Explainer
from errorscope.fairness import group_metrics, make_groups
from errorscope.overview import data_checks, key_metrics
from errorscope.slicing import slice_table

NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


def credit(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A credit-like frame: "bad" is the rare class; ``p_bad`` is a calibrated-ish P('bad')."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p_bad = 1 / (1 + np.exp(-(2.5 * x - 1.2)))
    y = np.where(rng.random(n) < p_bad, "bad", "good")
    frame = pd.DataFrame(
        {"x": x, "region": rng.choice(["north", "south", "east"], n), "risk": y, "p_bad": p_bad}
    )
    return frame, p_bad


# -- 1. positive_class ----------------------------------------------------------------------------
def test_positive_class_makes_a_1d_score_its_probability():
    df, p_bad = credit()
    ev = es.Evaluation(df, "risk", y_score="p_bad", positive_class="bad")
    assert ev.classes == ["good", "bad"] and ev.positive_class == "bad" and ev.positive_code == 1
    np.testing.assert_array_equal(ev.positive_score, p_bad)
    expected = np.where(p_bad >= 0.5, "bad", "good")
    np.testing.assert_array_equal(ev.y_pred, expected)
    metrics = key_metrics(ev)
    y = df["risk"].to_numpy()
    assert metrics["precision"] == pytest.approx(precision_score(y, expected, pos_label="bad"))
    assert metrics["recall"] == pytest.approx(recall_score(y, expected, pos_label="bad"))
    assert metrics["accuracy"] == pytest.approx(accuracy_score(y, expected))
    assert "positive class 'bad' (score = P('bad'))" in repr(ev)


def test_without_positive_class_the_second_sorted_class_is_positive():
    df, _ = credit()
    ev = es.Evaluation(df, "risk", y_pred=df["risk"].to_numpy())
    assert ev.classes == ["bad", "good"] and ev.positive_class == "good"


def test_positive_class_by_display_name_and_with_labels():
    df, p_bad = credit()
    y = (df["risk"] == "bad").astype(int)
    ev = es.Evaluation(df, y, y_score=1 - p_bad, labels={0: "good", 1: "bad"}, positive_class="good")
    assert ev.classes == [1, 0] and ev.class_names == ["bad", "good"] and ev.positive_class == 0
    np.testing.assert_allclose(ev.positive_score, 1 - p_bad)


def test_positive_class_reorders_2d_scores_given_in_class_order():
    """(n, 2) y_score columns follow the class order before positive_class moves the positive second."""
    df, p_bad = credit()
    proba = np.column_stack([p_bad, 1 - p_bad])  # sorted order: bad, good
    ev = es.Evaluation(df, "risk", y_score=proba, positive_class="bad")
    np.testing.assert_allclose(ev.scores, proba[:, ::-1])
    np.testing.assert_allclose(ev.positive_score, p_bad)
    named = es.Evaluation(
        df.assign(p_good=1 - p_bad), "risk", y_score=["p_bad", "p_good"], positive_class="bad"
    )
    np.testing.assert_allclose(named.positive_score, p_bad)


def test_positive_class_with_a_model(adult_train, adult_test):
    model = LogisticRegression(max_iter=500).fit(adult_train[NUMERIC], adult_train["income"])
    data = adult_test[[*NUMERIC, "income"]]
    ev = es.Evaluation(data, "income", model=model, positive_class="<=50K")
    proba = model.predict_proba(adult_test[NUMERIC])
    assert ev.classes == [">50K", "<=50K"]
    np.testing.assert_allclose(ev.positive_score, proba[:, list(model.classes_).index("<=50K")])
    y = adult_test["income"].to_numpy()
    pred = np.where(ev.positive_score >= 0.5, "<=50K", ">50K")
    assert key_metrics(ev)["recall"] == pytest.approx(recall_score(y, pred, pos_label="<=50K"))


def test_views_measure_rates_for_the_positive_class():
    df, _ = credit()
    ev = es.Evaluation(df, "risk", y_score="p_bad", positive_class="bad")
    y, pred, region = df["risk"].to_numpy(), ev.y_pred, df["region"].to_numpy()
    for metric, negative_recall_of in (("fnr", "bad"), ("fpr", "good")):
        table = slice_table(ev, metric=metric, columns=["region"])
        expected = [1 - recall_score(y[region == r], pred[region == r], pos_label=negative_recall_of)
                    for r in table["slice"]]  # fmt: skip
        np.testing.assert_allclose(table[metric], expected)
    by_group = group_metrics(ev, make_groups(ev, ["region"]), n_boot=0)
    expected = [recall_score(y[region == g], pred[region == g], pos_label="bad") for g in by_group["group"]]
    np.testing.assert_allclose(by_group["recall"], expected)


def test_multiclass_positive_class_is_the_default_one_vs_rest_class():
    rng = np.random.default_rng(1)
    y = rng.choice(["cat", "dog", "emu"], 300)
    pred = np.where(rng.random(300) < 0.7, y, rng.choice(["cat", "dog", "emu"], 300))
    df = pd.DataFrame({"f": rng.normal(size=300), "y": y})
    ev = es.Evaluation(df, "y", y_pred=pred, positive_class="dog")
    assert ev.classes == ["cat", "dog", "emu"] and ev.positive_class == "dog"
    table = slice_table(ev, metric="fnr")
    row = table[(table["feature"] == "actual") & (table["slice"] == "dog")].iloc[0]
    assert row["fnr"] == pytest.approx(1 - recall_score(y, pred, labels=["dog"], average=None)[0])
    assert "positive class 'dog'" in repr(ev)
    board = es.dashboard(es.Evaluation(df.assign(g=y), "y", y_pred=pred, positive_class="dog", sensitive="g"))
    assert board.group_comparer is not None and board.group_comparer.positive == "dog"
    board.close()


def test_widgets_send_the_positive_class():
    df, _ = credit()
    ev = es.Evaluation(df, "risk", y_score="p_bad", positive_class="bad", sensitive="region")
    cm = es.ConfusionMatrix(ev)
    assert cm.positive_label == "bad" and "; positive class bad" in cm.summary()
    assert es.ModelOverview(ev).positive_label == "bad"
    sb = es.SliceBrowser(ev, metric="fnr", discover=False)
    assert sb.positive_label == "bad" and "worst by false negative rate (positive class bad):" in sb.summary()
    assert es.GroupComparer(ev, groups="region").positive == "bad"


def test_tree_explanations_follow_a_positive_class_the_model_has_first(adult_train, adult_test):
    """A binary tree model's one margin is for classes_[1]; with positive_class= classes_[0] the positive
    class's log-odds are its opposite."""
    model = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(
        adult_train[NUMERIC], adult_train["income"]
    )
    data = adult_test[[*NUMERIC, "income"]].iloc[:300]
    ev = es.Evaluation(data, "income", model=model, positive_class="<=50K")
    ex = Explainer(ev)
    assert ex.algorithm == "tree"
    rows = np.arange(0, 300, 11)
    got = ex.explain(rows, class_index=1)
    np.testing.assert_allclose(got.outputs, ex.model_output(rows, 1, "log_odds"), atol=1e-6)
    margin = model.decision_function(data[NUMERIC].iloc[rows])  # log-odds of '>50K'
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), -margin, atol=1e-6)


# -- 2. regression is refused -------------------------------------------------------------------
@pytest.fixture(scope="module")
def diabetes() -> tuple[pd.DataFrame, LinearRegression]:
    bunch = load_diabetes(as_frame=True)
    frame = bunch.frame
    model = LinearRegression().fit(frame.drop(columns="target"), frame["target"])
    return frame, model


def test_regressor_predictions_make_a_regression(diabetes):
    frame, model = diabetes
    predictions = model.predict(frame.drop(columns="target"))
    assert es.Evaluation(frame, "target", y_pred=predictions).task == "regression"
    with pytest.raises(ValueError, match=r'y_true looks like a regression target .*task="regression"'):
        es.Evaluation(frame, "target", y_pred=predictions, task="classification")


def test_regressor_model_makes_a_regression_and_refuses_class_arguments(diabetes):
    frame, model = diabetes
    y = (frame["target"] > 140).astype(int)
    assert es.Evaluation(frame.drop(columns="target"), y, model=model).task == "regression"
    with pytest.raises(
        ValueError, match=r'task="classification" but model is a regressor \(LinearRegression\)'
    ):
        es.Evaluation(frame.drop(columns="target"), y, model=model, task="classification")
    with pytest.raises(
        ValueError, match=r"y_score only apply to a classifier; this Evaluation is a regression"
    ):
        es.Evaluation(frame.drop(columns="target"), y, model=model, y_score=np.full(len(y), 0.5))


def test_continuous_y_pred_is_refused_with_a_y_score_hint():
    df, p_bad = credit()
    with pytest.raises(ValueError, match=r"y_pred looks like a regression target.*pass them as y_score="):
        es.Evaluation(df, (df["risk"] == "bad").astype(int), y_pred=p_bad)


def test_integral_float_labels_and_declared_float_classes_are_classes():
    df, _ = credit()
    y = (df["risk"] == "bad").astype(float)
    assert es.Evaluation(df, y, y_pred=y.to_numpy()).classes == [0.0, 1.0]
    halves = np.resize([0.5, 1.5, 2.5], len(df))
    assert es.Evaluation(df, halves, y_pred=halves, labels=[0.5, 1.5, 2.5]).n_classes == 3


# -- 3. the model's columns ----------------------------------------------------------------------
def test_model_fitted_on_dummies_given_the_raw_frame(adult_train, adult_test):
    raw = ["age", "hours-per-week", "sex", "race"]
    encoded = pd.get_dummies(adult_train[raw], dtype=float)
    model = LogisticRegression(max_iter=500).fit(encoded, adult_train["income"])
    with pytest.raises(ValueError) as err:
        es.Evaluation(adult_test[[*raw, "income"]], "income", model=model)
    message = str(err.value)
    assert "model was fitted on columns that data lacks: ['sex_Female', 'sex_Male'" in message
    assert "data has instead ['sex', 'race']" in message
    for way_out in ("encoded frame", "Pipeline", "y_score="):
        assert way_out in message
    test_encoded = pd.get_dummies(adult_test[raw], dtype=float).reindex(columns=encoded.columns, fill_value=0)
    ev = es.Evaluation(test_encoded.assign(income=adult_test["income"].to_numpy()), "income", model=model)
    np.testing.assert_allclose(ev.scores, model.predict_proba(test_encoded))


def test_model_fitted_on_numpy_with_a_different_number_of_columns(adult_train, adult_test):
    model = LogisticRegression(max_iter=500).fit(adult_train[NUMERIC].to_numpy(), adult_train["income"])
    with pytest.raises(ValueError, match=r"model was fitted on 5 features but 6 columns would be passed"):
        es.Evaluation(adult_test[[*NUMERIC, "sex", "income"]], "income", model=model)
    ev = es.Evaluation(adult_test[[*NUMERIC, "sex", "income"]], "income", model=model, metadata=["sex"])
    assert ev.features == NUMERIC and ev.metadata == ["sex"]


# -- 4. metadata ---------------------------------------------------------------------------------
def test_columns_the_model_does_not_use_become_metadata(adult_train, adult_test):
    model = LogisticRegression(max_iter=500).fit(adult_train[NUMERIC], adult_train["income"])
    data = adult_test[[*NUMERIC, "income", "sex", "native-country"]]
    ev = es.Evaluation(data, "income", model=model)
    assert ev.features == NUMERIC and ev.metadata == ["sex", "native-country"]
    assert list(ev.X.columns) == NUMERIC
    table = slice_table(ev)
    roles = dict(zip(table["feature"], table["role"], strict=False))
    assert roles["sex"] == roles["native-country"] == "metadata" and roles["age"] == "feature"
    assert roles["actual"] == "class" and roles["score"] == "derived"
    assert "+ 2 metadata" in repr(ev)
    picked = slice_table(ev, columns=["sex"])
    female = data["sex"] == "Female"
    row = picked[picked["slice"] == "Female"].iloc[0]
    assert row["error_rate"] == pytest.approx(np.mean(ev.wrong[female.to_numpy()]))


def test_explicit_metadata_and_features():
    df, _ = credit()
    ev = es.Evaluation(df, "risk", y_score="p_bad", positive_class="bad", metadata=["region"])
    assert ev.features == ["x"] and ev.metadata == ["region"]
    only = es.Evaluation(df, "risk", y_score="p_bad", positive_class="bad", features=["x"])
    assert only.metadata == ["region"]
    default = es.Evaluation(df, "risk", y_score="p_bad", positive_class="bad")
    assert default.features == ["x", "region"] and default.metadata == []


def test_metadata_joins_the_data_checks():
    df, _ = credit()
    leak = df.assign(source=np.where(df["risk"] == "bad", "vendor A", "vendor B"))
    ev = es.Evaluation(leak, "risk", y_score="p_bad", positive_class="bad", features=["x", "region"])
    assert ev.metadata == ["source"]
    checks = data_checks(ev)
    assert ((checks["check"] == "possible leak") & (checks["column"] == "source")).any()


# -- 5. class order and the meaning of a 1-D score -------------------------------------------------
def test_categorical_order_decides_the_positive_class_and_repr_says_so():
    df, p_bad = credit()
    yes = np.where(df["risk"] == "bad", "yes", "no")
    data = df.assign(y=pd.Categorical(yes, categories=["yes", "no"]))
    with pytest.warns(UserWarning, match=r"ranks the rows in reverse .* pass positive_class='yes'"):
        ev = es.Evaluation(data, "y", y_score=p_bad)  # categories say 'no' is the second class
    assert ev.classes == ["yes", "no"] and ev.positive_class == "no"
    assert "score = P('no')" in repr(ev)
    fixed = es.Evaluation(data, "y", y_score=p_bad, positive_class="yes")
    assert fixed.classes == ["no", "yes"]
    expected = np.where(p_bad >= 0.5, "yes", "no")
    assert np.mean(fixed.y_pred == yes) == pytest.approx(accuracy_score(yes, expected))
    assert np.mean(fixed.y_pred == yes) > 0.7 > np.mean(ev.y_pred == yes)


def test_unused_category_does_not_make_a_third_class():
    df, p_bad = credit()
    y = pd.Categorical(df["risk"], categories=["good", "unknown", "bad"])
    ev = es.Evaluation(df.assign(risk=y), "risk", y_score=p_bad)
    assert ev.is_binary and ev.classes == ["good", "bad"] and ev.positive_class == "bad"
    np.testing.assert_allclose(ev.positive_score, p_bad)


def test_a_score_read_in_reverse_is_warned_about() -> None:
    """Categories ['yes', 'no'] make 'no' the positive class: a y_score that is P('yes') ranks in reverse."""
    rng = np.random.default_rng(0)
    p_yes = rng.random(2000)
    y = pd.Categorical(np.where(rng.random(2000) < p_yes, "yes", "no"), categories=["yes", "no"])
    with pytest.warns(UserWarning, match=r"y_score is read as P\('no'\).*positive_class='yes'"):
        es.Evaluation(pd.DataFrame({"x": p_yes}), y, y_score=p_yes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ev = es.Evaluation(pd.DataFrame({"x": p_yes}), y, y_score=p_yes, positive_class="yes")
    assert ev.positive_class == "yes" and (ev.y_pred == np.where(p_yes >= 0.5, "yes", "no")).all()
