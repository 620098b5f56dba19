"""Time to explain one clicked row of a tree model (target <= 200 ms), and one LIME explanation.

Run: python benchmarks/explain_latency.py
Adult, HistGradientBoosting on the numeric features (tree path, shap.TreeExplainer) and a one-hot +
logistic-regression pipeline (model-agnostic path on the original features, shap's Permutation explainer).
"""

from __future__ import annotations

import numpy as np
from selection_recompute import timed_ms
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import errorscope as es
from errorscope.explain import Explainer

NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


def main() -> None:
    train, test = es.datasets.load_adult("train"), es.datasets.load_adult("test")
    tree = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(train[NUMERIC], train["income"])
    ev = es.Evaluation(test, "income", model=tree, features=NUMERIC)
    explainer = Explainer(ev)
    rows = iter(np.random.default_rng(0).permutation(ev.n_rows))
    fv = es.ForceViewer(ev, explainer="shap")
    fv.wait()
    ids = iter(ev.ids[np.random.default_rng(1).permutation(ev.n_rows)])
    shap_row = timed_ms(lambda: explainer.explain([next(rows)]))
    click = timed_ms(lambda: fv._show_force_only(str(next(ids))))
    lime_row = timed_ms(lambda: explainer.lime(int(next(rows))), repeat=5)
    categorical = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex"]
    pipe = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), NUMERIC)
        ),
        LogisticRegression(max_iter=1000),
    ).fit(train[categorical + NUMERIC], train["income"])
    ev2 = es.Evaluation(test[categorical + NUMERIC + ["income"]], "income", model=pipe)
    explainer2 = Explainer(ev2)
    permutation_row = timed_ms(lambda: explainer2.explain([next(rows)]), repeat=5)
    print(
        f"tree model, one new row, SHAP values:              {shap_row[0]:7.1f} ms median (p90 {shap_row[1]:.1f})"
    )
    print(
        f"tree model, one clicked row, force plot state:     {click[0]:7.1f} ms median (p90 {click[1]:.1f})"
    )
    print(f"tree model, one row, LIME (2,000 samples):         {lime_row[0]:7.1f} ms median")
    print(
        f"pipeline (12 original features), one row, SHAP:    {permutation_row[0]:7.1f} ms median (permutation)"
    )


if __name__ == "__main__":
    main()
