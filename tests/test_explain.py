"""Explanations against shap's own explainers, additivity, LIME reproducibility, jobs and bad input."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.compose import make_column_transformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import errorscope as es
from errorscope.explain import _GLOBAL_RNG_LOCK, Explainer, ExplanationJob

NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


@pytest.fixture(scope="module")
def gbm_ev(adult_train: pd.DataFrame, adult_test: pd.DataFrame) -> es.Evaluation:
    model = GradientBoostingClassifier(n_estimators=40, random_state=0).fit(
        adult_train[NUMERIC], adult_train["income"]
    )
    return es.Evaluation(adult_test, "income", model=model, features=NUMERIC)


@pytest.fixture(scope="module")
def pipeline_ev(adult_train: pd.DataFrame, adult_test: pd.DataFrame) -> es.Evaluation:
    categorical = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex"]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), NUMERIC)
        ),
        LogisticRegression(max_iter=1000),
    ).fit(adult_train[categorical + NUMERIC], adult_train["income"])
    return es.Evaluation(adult_test[categorical + NUMERIC + ["income"]], "income", model=model)


def test_tree_values_equal_shap_tree_explainer_and_add_up(gbm_ev: es.Evaluation) -> None:
    ex = Explainer(gbm_ev)
    assert ex.algorithm == "tree"
    rows = np.arange(0, 400, 7)
    got = ex.explain(rows, class_index=1)
    direct = shap.TreeExplainer(gbm_ev.model)
    np.testing.assert_allclose(got.values, direct.shap_values(gbm_ev.X.iloc[rows]), atol=1e-9)
    margin = gbm_ev.model.decision_function(gbm_ev.X.iloc[rows])
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), margin, atol=1e-6)
    np.testing.assert_allclose(got.outputs, ex.model_output(rows, 1, "log_odds"), atol=1e-6)
    negative = ex.explain(rows, class_index=0)
    np.testing.assert_allclose(negative.values, -got.values)  # log-odds of the other class


@pytest.mark.parametrize("output", ["log_odds", "probability"])
def test_pipeline_on_original_features_equals_shap_permutation(
    pipeline_ev: es.Evaluation, output: str
) -> None:
    ex = Explainer(pipeline_ev, background=20, seed=0)
    assert ex.algorithm == "permutation" and ex.features == list(pipeline_ev.features)
    rows = np.array([0, 3, 11])
    got = ex.explain(rows, class_index=1, output=output)
    codec = ex._codec

    def f(A: np.ndarray) -> np.ndarray:
        p = pipeline_ev.model.predict_proba(codec.decode(A))[:, 1]
        return p if output == "probability" else np.log(p) - np.log1p(-p)

    direct = shap.explainers.Permutation(f, shap.maskers.Independent(ex._background, max_samples=20), seed=0)
    expected = []
    with _GLOBAL_RNG_LOCK:  # background explanation jobs of other tests draw from the same generator
        for point in codec.encode(
            pipeline_ev.X.iloc[rows]
        ):  # each row from the same seed, as errorscope does
            np.random.seed(0)
            expected.append(direct(point[None, :], max_evals=ex.max_evals, silent=True).values[0])
    np.testing.assert_allclose(got.values, np.array(expected), atol=1e-9)
    again = Explainer(pipeline_ev, background=20, seed=0).explain(rows[::-1], class_index=1, output=output)
    np.testing.assert_allclose(again.values[::-1], got.values, atol=1e-12)  # order does not matter
    truth = ex.model_output(rows, 1, output)
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), truth, atol=1e-6)


def test_lime_is_reproducible_and_compared_with_shap(pipeline_ev: es.Evaluation) -> None:
    ex = Explainer(pipeline_ev, background=20)
    first, second = ex.lime(5, num_samples=500), ex.lime(5, num_samples=500)
    pd.testing.assert_frame_equal(first, second)
    assert set(first["feature"]) == set(pipeline_ev.features)
    assert -1 <= first.attrs["agreement"] <= 1


def test_precomputed_values_and_their_errors(gbm_ev: es.Evaluation) -> None:
    direct = shap.TreeExplainer(gbm_ev.model)
    values = direct.shap_values(gbm_ev.X)
    ex = Explainer(gbm_ev, values=values, base_values=direct.expected_value)
    got = ex.explain([3, 4], class_index=1)
    np.testing.assert_allclose(got.values, values[[3, 4]])
    with pytest.raises(ValueError, match="expected \\(16281, 5\\)"):
        Explainer(gbm_ev, values=values[:10], base_values=0.0)
    with pytest.raises(ValueError, match="base_values"):
        Explainer(gbm_ev, values=values)
    labels_only = es.Evaluation(gbm_ev.data, "income", y_pred=gbm_ev.data["income"], features=NUMERIC)
    with pytest.raises(ValueError, match="predict_proba"):
        Explainer(labels_only)
    with pytest.raises(ValueError, match="out of range"):
        Explainer(gbm_ev).explain([0], class_index=5)


def test_jobs_report_progress_and_cancel(pipeline_ev: es.Evaluation) -> None:
    ex = Explainer(pipeline_ev, background=10)
    seen: list[float] = []
    job = ExplanationJob(ex, np.arange(8), 1, progress=seen.append, chunk=4).start()
    result = job.wait(120)
    assert result is not None and seen[-1] == 1.0 and len(result.rows) == 8
    gate = threading.Event()
    slow = ExplanationJob(ex, np.arange(100, 400), 1, progress=lambda _f: gate.set(), chunk=2).start()
    gate.wait(60)
    slow.cancel()
    assert slow.wait(60) is None  # stopped between chunks, no result
    assert sum(1 for key in ex._cache if 100 <= key[0] < 400) < 300


def test_pushing_slice_and_cohort(gbm_ev: es.Evaluation) -> None:
    ex = Explainer(gbm_ev)
    rows = np.arange(300)
    explained = ex.explain(rows, class_index=1)
    predicate = ex.pushing_slice("capital-gain", explained)
    coded = gbm_ev.codes("capital-gain")
    contribution = explained.values[:, NUMERIC.index("capital-gain")]
    codes = coded.codes[rows]
    means = {k: contribution[codes == k].mean() for k in np.unique(codes)}
    assert predicate == coded.predicates[max(means, key=means.get)]
    cohort = ex.cohort_comparison(rows[:100], rows[100:], 1)
    assert cohort["difference"].is_monotonic_decreasing
    np.testing.assert_allclose(
        cohort.set_index("feature").loc["age", "selection"], np.abs(explained.values[:100, 0]).mean()
    )


def test_multiclass_tree_values_equal_shap_for_the_predicted_class() -> None:
    from sklearn.ensemble import RandomForestClassifier

    letters = es.datasets.load_letter().head(3000)
    features = [c for c in letters.columns if c != "letter"]
    model = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0).fit(
        letters[features], letters["letter"]
    )
    ev = es.Evaluation(letters, "letter", model=model, features=features)
    ex = Explainer(ev)
    assert ex.algorithm == "tree"
    rows = np.arange(5)
    got = ex.explain(rows)  # each row's predicted class
    direct = np.asarray(shap.TreeExplainer(model).shap_values(ev.X.iloc[rows]))  # (rows, features, classes)
    order = [list(model.classes_).index(c) for c in ev.classes]
    expected = np.stack([direct[i, :, order[c]] for i, c in enumerate(ev.pred_codes[rows])])
    np.testing.assert_allclose(got.values, expected, atol=1e-9)
