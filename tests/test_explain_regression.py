"""SHAP and LIME for regressors, in the target's units, on the Wage data: tree models through shap's
TreeExplainer, a linear pipeline on its original features against shap's LinearExplainer, a model-agnostic
pipeline against shap's Permutation explainer; base value + contributions = model.predict (1e-6); the
ForceViewer's rows by |residual| with actual, predicted and residual."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.compose import make_column_transformer
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import errorscope as es
from errorscope.datasets import load_wage
from errorscope.explain import _GLOBAL_RNG_LOCK, Explainer

NUMERIC = ["year", "age"]
ROWS = np.array([0, 5, 17, 300, 2999])


@pytest.fixture(scope="module")
def wage() -> pd.DataFrame:
    return load_wage().drop(columns=["logwage", "region"])


@pytest.fixture(scope="module")
def tree_ev(wage: pd.DataFrame) -> es.Evaluation:
    X = pd.get_dummies(wage.drop(columns=["wage"]), dtype=float)
    model = GradientBoostingRegressor(n_estimators=60, max_depth=3, random_state=0).fit(X, wage["wage"])
    frame = X.assign(wage=wage["wage"].to_numpy(), race=wage["race"].to_numpy())
    return es.Evaluation(frame, y_true="wage", model=model, features=list(X.columns), sensitive="race")


def _pipeline(wage: pd.DataFrame, final: object) -> es.Evaluation:
    categorical = [c for c in wage.columns if c not in [*NUMERIC, "wage"]]
    pre = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), NUMERIC)
    )
    model = make_pipeline(pre, final).fit(wage.drop(columns=["wage"]), wage["wage"])
    return es.Evaluation(wage, y_true="wage", model=model, sensitive="race", task="regression")


@pytest.fixture(scope="module")
def ridge_ev(wage: pd.DataFrame) -> es.Evaluation:
    return _pipeline(wage, Ridge(alpha=1.0))


@pytest.fixture(scope="module")
def knn_ev(wage: pd.DataFrame) -> es.Evaluation:
    return _pipeline(wage, KNeighborsRegressor(n_neighbors=15))


def _predict(ev: es.Evaluation, rows: np.ndarray) -> np.ndarray:
    return np.asarray(ev.model.predict(ev.X.iloc[rows]), dtype=np.float64)


def test_tree_regressor_equals_shap_tree_explainer_and_adds_up(tree_ev: es.Evaluation) -> None:
    assert tree_ev.is_regression
    ex = Explainer(tree_ev, background=30)
    assert (ex.algorithm, ex.native_output, ex.outputs) == ("tree", "prediction", ("prediction",))
    got = ex.explain(ROWS)
    background = ex._codec.decode(ex._background)
    direct = shap.TreeExplainer(
        tree_ev.model, data=background, feature_perturbation="interventional", model_output="raw"
    )
    np.testing.assert_allclose(got.values, direct.shap_values(tree_ev.X.iloc[ROWS]), atol=1e-9)
    assert got.base_values == pytest.approx(float(np.ravel(direct.expected_value)[0]))
    assert got.base_values[0] == pytest.approx(tree_ev.model.predict(background).mean())  # the mean over it
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), _predict(tree_ev, ROWS), atol=1e-6)
    np.testing.assert_allclose(got.outputs, tree_ev.predicted_values[ROWS], atol=1e-6)
    with pytest.raises(ValueError, match="one output"):
        ex.explain(ROWS, class_index=1)
    with pytest.raises(ValueError, match="output must be one of"):
        ex.explain(ROWS, output="log_odds")


def test_random_forest_regressor_adds_up_to_shap_precision(wage: pd.DataFrame) -> None:
    """shap's interventional tree SHAP of a forest sums to model.predict to about 1e-6 of a wage near
    100 (its own arithmetic: shap's values are compared exactly); relative 1e-7."""
    X = pd.get_dummies(wage.drop(columns=["wage"]), dtype=float)
    model = RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0).fit(X, wage["wage"])
    ev = es.Evaluation(
        X.assign(wage=wage["wage"].to_numpy()), y_true="wage", model=model, features=list(X.columns)
    )
    ex = Explainer(ev, background=30)
    assert ex.algorithm == "tree"
    got = ex.explain(ROWS)
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), _predict(ev, ROWS), rtol=1e-7)


def test_linear_pipeline_is_explained_on_original_features_like_shap_linear(ridge_ev: es.Evaluation) -> None:
    ex = Explainer(ridge_ev, background=30)
    assert ex.algorithm == "linear" and ex.features == list(ridge_ev.features)
    got = ex.explain(ROWS)
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), _predict(ridge_ev, ROWS), atol=1e-6)
    # shap's LinearExplainer on the transformed columns, summed back per original column
    model = ridge_ev.model
    pre, final = model[:-1], model[-1]
    background = pre.transform(ex._codec.decode(ex._background))
    background = background.toarray() if hasattr(background, "toarray") else background
    direct = shap.LinearExplainer(final, shap.maskers.Independent(background, max_samples=len(background)))
    T = pre.transform(ridge_ev.X.iloc[ROWS])
    values = direct(T.toarray() if hasattr(T, "toarray") else T).values
    names = pre.get_feature_names_out()
    per_column = np.zeros((len(ROWS), len(ex.features)))
    for j, name in enumerate(names):
        original = name.split("__", 1)[1]
        matching = [f for f in ex.features if original == f or original.startswith(f"{f}_")]
        owner = ex.features.index(max(matching, key=len))  # "health_ins_1. Yes" is health_ins's, not health's
        per_column[:, owner] += values[:, j]
    np.testing.assert_allclose(got.values, per_column, atol=1e-9)


def test_model_agnostic_pipeline_equals_shap_permutation(knn_ev: es.Evaluation) -> None:
    ex = Explainer(knn_ev, background=20, seed=0)
    assert ex.algorithm == "permutation"
    rows = ROWS[:3]
    got = ex.explain(rows)
    codec = ex._codec

    def f(A: np.ndarray) -> np.ndarray:
        return knn_ev.model.predict(codec.decode(A))

    direct = shap.explainers.Permutation(f, shap.maskers.Independent(ex._background, max_samples=20), seed=0)
    expected = []
    with _GLOBAL_RNG_LOCK:
        for point in codec.encode(knn_ev.X.iloc[rows]):
            np.random.seed(0)
            expected.append(direct(point[None, :], max_evals=ex.max_evals, silent=True).values[0])
    np.testing.assert_allclose(got.values, np.array(expected), atol=1e-9)
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), _predict(knn_ev, rows), atol=1e-6)


def test_lime_runs_in_regression_mode(ridge_ev: es.Evaluation) -> None:
    ex = Explainer(ridge_ev, background=20)
    first = ex.lime(5, num_samples=1000)
    assert list(first.columns) == ["feature", "weight"] and set(first["feature"]) == set(ex.features)
    assert first.equals(ex.lime(5, num_samples=1000))  # seeded
    # a linear model: LIME's weights rank the features much as SHAP does
    assert first.attrs["agreement"] > 0.5
    assert first["weight"].abs().max() > 1  # in the target's units (thousands of dollars), not a probability


def test_importance_and_cohort_for_a_regressor(tree_ev: es.Evaluation) -> None:
    ex = Explainer(tree_ev, background=20)
    frame = ex.importance(np.arange(200), 0)
    assert {"mean_abs_shap", "permutation"} <= set(frame.columns)
    direct = np.abs(ex.explain(np.arange(200)).values).mean(axis=0)
    assert frame.set_index("feature")["mean_abs_shap"].to_dict() == pytest.approx(
        dict(zip(ex.features, direct, strict=True))
    )
    cohort = ex.cohort_comparison(np.arange(50), np.arange(50, 100), 0)
    assert cohort.attrs["showing"] == "comparison"


def test_force_viewer_on_a_regression(tree_ev: es.Evaluation) -> None:
    fv = es.ForceViewer(tree_ev, background=20, sample=30)
    fv.wait()
    assert fv.task == "regression" and fv.output == "prediction" and fv.algorithm == "tree"
    assert fv.job_status == "done" and fv.cohort["class"] == "prediction"
    residual = np.abs(tree_ev.residual)
    shown = [abs(r["residual"]) for r in fv.rows]
    assert shown == sorted(shown, reverse=True) and shown[0] == pytest.approx(residual.max())
    first = fv.rows[0]
    assert first["residual"] == pytest.approx(first["predicted"] - first["actual"])
    fv.current = first["id"]
    fv.wait_for_lime(120)
    table = fv.table
    assert table.attrs["base_value"] + table["contribution"].sum() == pytest.approx(
        first["predicted"], abs=1e-6
    )
    assert fv.force["residual"] == pytest.approx(first["residual"])
    assert "weights" in fv.lime
    tree_ev.select("age > 60")
    fv.wait()
    assert fv.n_selected == int((tree_ev.data["age"] > 60).sum())
    assert fv.cohort["showing"] == "comparison"
    fv.compute_importance(rows=100)
    fv.wait()
    assert fv.importance["class"] == "prediction" and fv.importance["rows"] == 60
    tree_ev.selection.clear()
    fv.close()


def test_a_regression_without_predict_is_refused(wage: pd.DataFrame) -> None:
    ev = es.Evaluation(wage.assign(pred=wage["wage"] * 0.9), y_true="wage", y_pred="pred", task="regression")
    with pytest.raises(ValueError, match="model with predict"):
        Explainer(ev)
