"""SHAP against shap's own explainers on every engine: the same rows (by id) give the same numbers (1e-9)
in memory, on DuckDB over Parquet and on Spark, and the force viewer shows the same rows and values.

``evaluation_on`` (tests/engines.py) builds the same Evaluation from one frame on each engine. Spark
cases are few (a Spark query costs 0.3-1 s).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.compose import make_column_transformer
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import errorscope as es
from engines import ENGINES, evaluation_on
from errorscope.explain import Explainer

pytest.importorskip("duckdb")

NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = ["workclass", "relationship", "sex"]
N = 2000


@pytest.fixture(scope="module")
def scored(adult_train: pd.DataFrame, adult_test: pd.DataFrame) -> dict[str, Any]:
    """The first test rows with each model's P(>50K) as a column (a SQL source's scores are columns)
    and an id column that is not the row number."""
    gbm = GradientBoostingClassifier(n_estimators=30, random_state=0).fit(
        adult_train[NUMERIC], adult_train["income"]
    )
    pipeline = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL), (StandardScaler(), NUMERIC)
        ),
        LogisticRegression(max_iter=1000),
    ).fit(adult_train[CATEGORICAL + NUMERIC], adult_train["income"])
    boosted = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL), ("passthrough", NUMERIC)
        ),
        HistGradientBoostingClassifier(max_iter=15, random_state=0),
    ).fit(adult_train[CATEGORICAL + NUMERIC], adult_train["income"])
    df = adult_test.iloc[:N][CATEGORICAL + NUMERIC + ["income"]].reset_index(drop=True)
    for c in CATEGORICAL:  # text columns (missing: NaN), as every engine gives them to the model
        df[c] = df[c].astype(object)
    df["uid"] = np.arange(N) * 5 + 11
    for name, model in (("gbm", gbm), ("pipeline", pipeline), ("boosted", boosted)):
        features = NUMERIC if name == "gbm" else CATEGORICAL + NUMERIC
        df[f"p_{name}"] = model.predict_proba(df[features])[:, 1]
    return {"frame": df, "gbm": gbm, "pipeline": pipeline, "boosted": boosted}


def build(request: pytest.FixtureRequest, engine: str, scored: dict[str, Any], name: str) -> es.Evaluation:
    features = NUMERIC if name == "gbm" else CATEGORICAL + NUMERIC
    return evaluation_on(
        engine, request, scored["frame"], y_true="income", y_score=f"p_{name}", ids="uid",
        model=scored[name], features=features, metadata=[],
    )  # fmt: skip


IDS = np.arange(0, 400, 9) * 5 + 11  # the same rows on every engine, by id


def rows_of(ev: es.Evaluation) -> np.ndarray:
    """The explainer's keys of :data:`IDS`: positions in memory, the ids themselves on a SQL engine."""
    return ev.row_keys.positions(IDS.tolist()) if ev.in_memory else IDS


def X_of(scored: dict[str, Any], features: list[str]) -> pd.DataFrame:
    frame = scored["frame"]
    return frame.set_index("uid").loc[IDS, features].reset_index(drop=True)


@pytest.mark.parametrize("engine", ENGINES)
def test_tree_values_equal_shap_tree_explainer_on_every_engine(
    request: pytest.FixtureRequest, engine: str, scored: dict[str, Any]
) -> None:
    ev = build(request, engine, scored, "gbm")
    ex = Explainer(ev, background=20)
    assert ex.algorithm == "tree"
    got = ex.explain(rows_of(ev), class_index=1)
    background = ex._codec.decode(ex._background)
    direct = shap.TreeExplainer(scored["gbm"], data=background, feature_perturbation="interventional")
    np.testing.assert_allclose(got.values, direct.shap_values(X_of(scored, NUMERIC)), atol=1e-9, rtol=0)
    margin = scored["gbm"].decision_function(X_of(scored, NUMERIC))
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), margin, atol=1e-6)
    reference = Explainer(build(request, "numpy", scored, "gbm"), background=20)  # the same background rows
    np.testing.assert_array_equal(ex._background, reference._background)
    expected = reference.explain(rows_of(reference.ev), class_index=1)
    np.testing.assert_allclose(got.values, expected.values, atol=1e-9, rtol=0)
    predicted = reference.explain(rows_of(reference.ev)).class_index  # each row's predicted class
    np.testing.assert_array_equal(ex.explain(rows_of(ev)).class_index, predicted)
    frame = got.frame(0)  # the values come from the fetched rows, not from data in memory
    row = X_of(scored, NUMERIC).iloc[0]
    assert dict(zip(frame["feature"], frame["value"], strict=True)) == row.to_dict()


@pytest.mark.parametrize("engine", ["numpy", "duckdb"])
def test_categorical_pipeline_equals_shap_permutation_on_every_engine(
    request: pytest.FixtureRequest, engine: str, scored: dict[str, Any]
) -> None:
    ev = build(request, engine, scored, "boosted")
    ex = Explainer(ev, background=20)
    assert ex.algorithm == "permutation" and set(ex._codec.categories) == set(CATEGORICAL)
    rows = rows_of(ev)[:4]
    got = ex.explain(rows, class_index=1, output="log_odds")
    f = lambda A: ex._output(A, 1, "log_odds")  # noqa: E731
    direct = shap.explainers.Permutation(f, shap.maskers.Independent(ex._background, max_samples=20), seed=0)
    encoded = ex._codec.encode(X_of(scored, CATEGORICAL + NUMERIC).iloc[:4])
    expected = []
    for point in encoded:
        np.random.seed(0)
        expected.append(direct(point[None, :], max_evals=ex.max_evals, silent=True).values[0])
    np.testing.assert_allclose(got.values, np.array(expected), atol=1e-9, rtol=0)
    reference = Explainer(build(request, "numpy", scored, "boosted"), background=20)
    np.testing.assert_allclose(
        got.values, reference.explain(rows_of(reference.ev)[:4], 1, "log_odds").values, atol=1e-9, rtol=0
    )


@pytest.mark.parametrize("engine", ["numpy", "duckdb"])
def test_logistic_pipeline_equals_shap_linear_explainer_on_every_engine(
    request: pytest.FixtureRequest, engine: str, scored: dict[str, Any]
) -> None:
    ev = build(request, engine, scored, "pipeline")
    ex = Explainer(ev, background=20)
    assert ex.algorithm == "linear"
    got = ex.explain(rows_of(ev), class_index=1)
    transform, lr = scored["pipeline"][0], scored["pipeline"][-1]
    T_background = transform.transform(ex._codec.decode(ex._background))
    T_background = T_background.toarray() if hasattr(T_background, "toarray") else T_background
    direct = shap.LinearExplainer(lr, shap.maskers.Independent(T_background, max_samples=len(T_background)))
    T = transform.transform(X_of(scored, CATEGORICAL + NUMERIC))
    per_column = np.asarray(direct.shap_values(T.toarray() if hasattr(T, "toarray") else T))
    margin = scored["pipeline"].decision_function(X_of(scored, CATEGORICAL + NUMERIC))
    np.testing.assert_allclose(got.base_values + got.values.sum(axis=1), margin, atol=1e-9)
    np.testing.assert_allclose(got.values.sum(axis=1), per_column.sum(axis=1), atol=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_force_viewer_shows_the_same_rows_and_values_on_every_engine(
    request: pytest.FixtureRequest, engine: str, scored: dict[str, Any]
) -> None:
    def shown(ev: es.Evaluation) -> dict[str, Any]:
        fv = es.ForceViewer(ev, sample=15, background=20)
        fv.wait()
        ev.select("age > 45")
        fv.wait()
        first = fv.rows[0]["id"]
        table = fv.explain_row(first)
        out = {
            "n": fv.n_selected, "rows": fv.rows, "sampling": fv.sampling, "status": fv.job_status,
            "stacked": fv.stacked["ids"], "values": np.frombuffer(fv.stacked["values"], "<f8"),
            "cohort": fv.cohort["features"], "table": table, "force": fv.force["contributions"],
        }  # fmt: skip
        fv.select_feature("age")
        out["clause"] = ev.selection.text()
        fv.close()
        ev.selection.clear()
        return out

    got = shown(build(request, engine, scored, "gbm"))
    expected = shown(build(request, "numpy", scored, "gbm"))
    assert got["status"] == "done" and got["n"] == int((scored["frame"]["age"] > 45).sum())
    for key in ("n", "rows", "sampling", "stacked", "cohort", "clause", "force"):
        assert got[key] == expected[key], key
    np.testing.assert_allclose(got["values"], expected["values"], atol=1e-9, rtol=0)
    pd.testing.assert_frame_equal(got["table"], expected["table"], check_dtype=False, atol=1e-9)
    assert len(got["stacked"]) == 15


def test_precomputed_values_are_refused_on_a_sql_engine(
    request: pytest.FixtureRequest, scored: dict[str, Any]
) -> None:
    ev = build(request, "duckdb", scored, "gbm")
    with pytest.raises(ValueError, match=r"precomputed values= .* duckdb engine: omit values="):
        Explainer(ev, values=np.zeros((N, len(NUMERIC))), base_values=0.0)
    with pytest.raises(ValueError, match=r"ids \[12\] are not ids of the data"):
        Explainer(ev, background=20).explain([12])  # 12 is not an id (ids are 11, 16, ...)
