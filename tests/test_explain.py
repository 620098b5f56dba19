"""Explanations against shap's own explainers, additivity, LIME reproducibility, jobs and bad input."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.compose import make_column_transformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler

import errorscope as es
from errorscope.explain import _GLOBAL_RNG_LOCK, Explainer, explain_in_chunks
from errorscope.jobs import JobRunner

NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


@pytest.fixture(scope="module")
def gbm_ev(adult_train: pd.DataFrame, adult_test: pd.DataFrame) -> es.Evaluation:
    model = GradientBoostingClassifier(n_estimators=40, random_state=0).fit(
        adult_train[NUMERIC], adult_train["income"]
    )
    return es.Evaluation(adult_test, "income", model=model, features=NUMERIC)


@pytest.fixture(scope="module")
def forest_ev(adult_train: pd.DataFrame, adult_test: pd.DataFrame) -> es.Evaluation:
    model = RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0).fit(
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


@pytest.fixture(scope="module")
def boosted_pipeline_ev(adult_train: pd.DataFrame, adult_test: pd.DataFrame) -> es.Evaluation:
    """A pipeline that is neither a bare tree model nor linear: explained by permutation."""
    categorical = ["workclass", "relationship", "sex"]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), ("passthrough", NUMERIC)
        ),
        HistGradientBoostingClassifier(max_iter=20, random_state=0),
    ).fit(adult_train[categorical + NUMERIC], adult_train["income"])
    return es.Evaluation(adult_test[categorical + NUMERIC + ["income"]], "income", model=model)


def _background(ex: Explainer) -> pd.DataFrame:
    return ex._codec.decode(ex._background)


def test_tree_values_equal_shap_tree_explainer_and_add_up(gbm_ev: es.Evaluation) -> None:
    ex = Explainer(gbm_ev)
    assert ex.algorithm == "tree" and ex.native_output == "log_odds"
    rows = np.arange(0, 400, 7)
    got = ex.explain(rows, class_index=1)
    direct = shap.TreeExplainer(gbm_ev.model, data=_background(ex), feature_perturbation="interventional")
    np.testing.assert_allclose(got.values, direct.shap_values(gbm_ev.X.iloc[rows]), atol=1e-9)
    margin = gbm_ev.model.decision_function(gbm_ev.X.iloc[rows])
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), margin, atol=1e-6)
    np.testing.assert_allclose(got.outputs, ex.model_output(rows, 1, "log_odds"), atol=1e-6)
    negative = ex.explain(rows, class_index=0)
    np.testing.assert_allclose(negative.values, -got.values)  # log-odds of the other class


@pytest.mark.parametrize("fixture", ["forest_ev", "gbm_ev"])
@pytest.mark.parametrize("output", ["log_odds", "probability"])
@pytest.mark.parametrize("c", [0, 1])
def test_each_output_space_adds_up_to_the_model_output_from_one_base_value(
    request: pytest.FixtureRequest, fixture: str, output: str, c: int
) -> None:
    """base + contributions is the model's output in the labelled space, and the base value is the mean
    of that output over the background (shap's expected value), whichever algorithm computes it."""
    ev: es.Evaluation = request.getfixturevalue(fixture)
    ex = Explainer(ev, background=20)
    rows = np.arange(0, 60, 20)
    got = ex.explain(rows, class_index=c, output=output)
    X, background = ev.X.iloc[rows], _background(ex)
    sign = 1 if c == 1 else -1

    def truth(rows_: pd.DataFrame) -> np.ndarray:
        """The model's output in the labelled space: its margin for log-odds where it has one."""
        p = ev.model.predict_proba(rows_)[:, c]
        if output == "probability":
            return p
        if hasattr(ev.model, "decision_function"):
            return sign * ev.model.decision_function(rows_)
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return np.log(p) - np.log1p(-p)

    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), truth(X), atol=1e-6)
    expected_base = truth(background).mean()  # shap's expected value: the mean output over the background
    np.testing.assert_allclose(got.base_values, expected_base, atol=1e-6)


def test_forest_is_explained_in_probability_and_labelled_so(forest_ev: es.Evaluation) -> None:
    ex = Explainer(forest_ev, background=20)
    assert ex.native_output == "probability"  # a forest's trees hold probabilities, not log-odds
    assert (ex.algorithm_for("probability"), ex.algorithm_for("log_odds")) == ("tree", "permutation")
    rows = np.array([0, 1])
    tree = ex.explain(rows, 1, "probability")
    # the same quantity from the model-agnostic path has the same base value
    f = lambda A: ex._proba(A)[:, 1]  # noqa: E731
    permutation = shap.explainers.Permutation(f, shap.maskers.Independent(ex._background, max_samples=20))
    direct = permutation(ex._codec.encode(forest_ev.X.iloc[rows]), max_evals=ex.max_evals, silent=True)
    np.testing.assert_allclose(tree.base_values, direct.base_values, atol=1e-9)
    fv = es.ForceViewer(forest_ev, background=20)
    assert fv.output == "probability" and fv.algorithm == "tree"
    fv.explain_row(forest_ev.ids[0])
    assert fv.force["space"] == "probability"
    proba = forest_ev.model.predict_proba(forest_ev.X.iloc[[0]])[0, forest_ev.pred_codes[0]]
    assert fv.force["output"] == pytest.approx(proba, abs=1e-6)
    fv.close()


@pytest.mark.parametrize(
    ("fixture", "output"), [("pipeline_ev", "probability"), ("boosted_pipeline_ev", "log_odds")]
)
def test_pipeline_on_original_features_equals_shap_permutation(
    request: pytest.FixtureRequest, fixture: str, output: str
) -> None:
    pipeline_ev: es.Evaluation = request.getfixturevalue(fixture)
    ex = Explainer(pipeline_ev, background=20, seed=0)
    assert ex.algorithm_for(output) == "permutation" and ex.features == list(pipeline_ev.features)
    rows = np.array([0, 3, 11])
    got = ex.explain(rows, class_index=1, output=output)
    codec = ex._codec

    def f(A: np.ndarray) -> np.ndarray:
        if output == "log_odds":
            return pipeline_ev.model.decision_function(codec.decode(A))
        return pipeline_ev.model.predict_proba(codec.decode(A))[:, 1]

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


def test_logistic_pipeline_is_explained_exactly_like_shap_linear_explainer(
    pipeline_ev: es.Evaluation,
) -> None:
    ex = Explainer(pipeline_ev, background=20)
    assert ex.algorithm == "linear" and ex.algorithm_for("log_odds") == "linear"
    rows = np.arange(0, 3000, 10)
    got = ex.explain(rows, class_index=1, output="log_odds")
    model = pipeline_ev.model
    transform, lr = model[:-1], model[-1]
    T_background = transform.transform(_background(ex))
    T_background = T_background.toarray() if hasattr(T_background, "toarray") else T_background
    direct = shap.LinearExplainer(lr, shap.maskers.Independent(T_background, max_samples=len(T_background)))
    T = transform.transform(pipeline_ev.X.iloc[rows])
    expected = direct(T.toarray() if hasattr(T, "toarray") else T)
    # the one-hot columns of a category add up to its column's contribution
    ct = transform[-1]
    owner = np.empty(T.shape[1], dtype=np.int64)
    for name, _, columns in ct.transformers_:
        if name == "remainder":
            continue
        part = ct.output_indices_[name]
        widths = (
            [len(c) for c in ct.named_transformers_[name].categories_]
            if name == "onehotencoder"
            else [1] * len(columns)
        )
        owner[part] = np.repeat([ex.features.index(c) for c in columns], widths)
    summed = np.zeros((len(rows), len(ex.features)))
    np.add.at(summed.T, owner, expected.values.T)
    np.testing.assert_allclose(got.values, summed, atol=1e-9)
    np.testing.assert_allclose(got.base_values, expected.base_values, atol=1e-9)
    margin = model.decision_function(pipeline_ev.X.iloc[rows])
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), margin, atol=1e-9)  # additive
    np.testing.assert_allclose(ex.explain(rows, class_index=0).values, -got.values)
    # the permutation explainer over the same background gives the same base value for the same quantity
    f = lambda A: model.decision_function(ex._codec.decode(A))  # noqa: E731
    permutation = shap.explainers.Permutation(f, shap.maskers.Independent(ex._background, max_samples=20))
    np.testing.assert_allclose(
        permutation(
            ex._codec.encode(pipeline_ev.X.iloc[:1]), max_evals=ex.max_evals, silent=True
        ).base_values,
        got.base_values[:1],
    )


def test_numeric_logistic_regression_takes_the_linear_path(gbm_ev: es.Evaluation) -> None:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(gbm_ev.X, gbm_ev.y_true)
    ev = es.Evaluation(gbm_ev.data, "income", model=model, features=NUMERIC)
    ex = Explainer(ev, background=20)
    assert ex.algorithm == "linear"
    got = ex.explain(np.arange(50), class_index=1)
    np.testing.assert_allclose(got.outputs, model.decision_function(ev.X.iloc[:50]), atol=1e-9)
    interacting = make_pipeline(
        PolynomialFeatures(degree=2, interaction_only=True),
        StandardScaler(),
        LogisticRegression(max_iter=2000),
    ).fit(ev.X, ev.y_true)  # products of columns: not additive, so not the linear path
    ev2 = es.Evaluation(gbm_ev.data, "income", model=interacting, features=NUMERIC)
    assert Explainer(ev2, background=10).algorithm_for("log_odds") == "permutation"


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
    runner = JobRunner()
    job = runner.submit(
        "explain", lambda j: explain_in_chunks(ex, np.arange(8), 1, "probability", j, chunk=4),
        progress=seen.append,
    )  # fmt: skip
    result = job.wait(120)
    assert result is not None and seen[-1] == 1.0 and len(result.rows) == 8 and job.status == "done"
    gate, shown = threading.Event(), []
    slow = runner.submit(
        "explain", lambda j: explain_in_chunks(ex, np.arange(100, 400), 1, "probability", j, chunk=2),
        progress=lambda _f: gate.set(), done=shown.append,
    )  # fmt: skip
    gate.wait(60)
    slow.cancel()
    assert slow.wait(60) is None and not shown and slow.status == "cancelled"  # stopped between chunks
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
    assert cohort["difference"].is_monotonic_decreasing and cohort.attrs["showing"] == "comparison"
    np.testing.assert_allclose(
        cohort.set_index("feature").loc["age", "selection"], np.abs(explained.values[:100, 0]).mean()
    )


def test_cohort_with_no_rest_is_global_importance_sorted(gbm_ev: es.Evaluation) -> None:
    """Nothing selected (the selection is every row): nothing to compare with, so global importance,
    sorted by mean |SHAP| rather than left in file order by a NaN difference."""
    ex = Explainer(gbm_ev)
    rows = np.arange(300)
    importance = np.abs(ex.explain(rows, class_index=1).values).mean(axis=0)
    expected = [NUMERIC[i] for i in np.argsort(-importance, kind="stable")]
    assert expected != NUMERIC  # file order is not the importance order here
    cohort = ex.cohort_comparison(rows, [], 1)
    assert cohort["feature"].tolist() == expected and cohort.attrs["showing"] == "global"
    rest_only = ex.cohort_comparison([], rows, 1)
    assert rest_only["feature"].tolist() == expected and rest_only.attrs["showing"] == "rest"
    fv = es.ForceViewer(gbm_ev, sample=50)
    fv.wait(120)
    assert fv.cohort["showing"] == "global"
    shown = np.frombuffer(fv.cohort["selection"], dtype="<f8")
    assert np.all(np.diff(shown) <= 0) and np.isfinite(shown).all()
    fv.close()


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
    background = _background(ex)
    direct = shap.TreeExplainer(model, data=background, feature_perturbation="interventional")
    direct = np.asarray(direct.shap_values(ev.X.iloc[rows]))  # (rows, features, classes)
    order = [list(model.classes_).index(c) for c in ev.classes]
    expected = np.stack([direct[i, :, order[c]] for i, c in enumerate(ev.pred_codes[rows])])
    np.testing.assert_allclose(got.values, expected, atol=1e-9)


def test_multiclass_boosting_is_explained_in_its_softmax_margin_and_named_so() -> None:
    letters = es.datasets.load_letter().head(2000)
    features = [c for c in letters.columns if c != "letter"]
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(
        letters[features], letters["letter"]
    )
    ev = es.Evaluation(letters, "letter", model=model, features=features)
    ex = Explainer(ev, background=20)
    assert ex.native_output == "margin" and ex.algorithm_for("margin") == "tree"
    assert ex.algorithm_for("log_odds") == "permutation"  # a class's log-odds is not its margin
    rows = np.arange(4)
    got = ex.explain(rows)
    k = [list(model.classes_).index(ev.classes[c]) for c in ev.pred_codes[rows]]
    margins = model.decision_function(ev.X.iloc[rows])[np.arange(4), k]
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), margins, atol=1e-6)
    direct = shap.TreeExplainer(model)  # only the trees compute a margin: their own expectation is the base
    expected = np.asarray(direct.shap_values(ev.X.iloc[rows]))
    np.testing.assert_allclose(got.values, expected[np.arange(4), :, k], atol=1e-9)
    np.testing.assert_allclose(got.base_values, np.asarray(direct.expected_value)[k], atol=1e-9)
