"""Model overview metrics against scikit-learn on the selection; data checks against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

import errorscope as es
from errorscope.overview import class_balance, data_checks, key_metrics


@pytest.fixture
def ev(adult_test, adult_model) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return es.Evaluation(adult_test, "income", model=adult_model, sensitive=["sex"])


def test_key_metrics_equal_sklearn_on_all_rows_and_a_selection(ev: es.Evaluation) -> None:
    female = (ev.data["sex"] == "Female").to_numpy()
    for mask in (None, female, ~female):  # all rows, under half (counted), over half (the rest subtracted)
        rows = np.ones(ev.n_rows, dtype=bool) if mask is None else mask
        y, p, s = ev.true_codes[rows], ev.pred_codes[rows], ev.scores[rows]
        got = key_metrics(ev, mask)
        assert got["rows"] == rows.sum()
        assert got["accuracy"] == pytest.approx(metrics.accuracy_score(y, p))
        assert got["F1"] == pytest.approx(metrics.f1_score(y, p))
        assert got["ROC AUC"] == pytest.approx(metrics.roc_auc_score(y, s[:, 1]))
        assert got["log loss"] == pytest.approx(metrics.log_loss(y, s))
        assert got["Brier"] == pytest.approx(metrics.brier_score_loss(y, s[:, 1]))
        assert got["balanced accuracy"] == pytest.approx(metrics.balanced_accuracy_score(y, p))
        assert got["precision"] == pytest.approx(metrics.precision_score(y, p))
        assert got["recall"] == pytest.approx(metrics.recall_score(y, p))


def test_multiclass_metrics_and_class_balance() -> None:
    letters = es.datasets.load_letter().head(3000)
    rng = np.random.default_rng(0)
    scores = rng.dirichlet(np.ones(26), size=len(letters))
    ev = es.Evaluation(letters, "letter", y_score=scores)
    got = key_metrics(ev)
    assert got["macro F1"] == pytest.approx(metrics.f1_score(ev.true_codes, ev.pred_codes, average="macro"))
    balance = class_balance(ev)
    assert balance["actual"].to_dict() == letters["letter"].value_counts().reindex(ev.class_names).to_dict()
    assert balance["predicted"].sum() == len(letters)


def test_data_checks_find_missing_duplicates_and_a_leak(adult_test) -> None:  # type: ignore[no-untyped-def]
    df = adult_test.copy()
    df["leak"] = df["income"].map({"<=50K": "no", ">50K": "yes"})
    ev = es.Evaluation(df, "income", y_pred=df["income"])
    checks = data_checks(ev)
    missing = checks[checks["check"] == "missing values"].set_index("column")["rows"]
    expected = df.isna().sum()
    assert missing.to_dict() == expected[expected > 0].to_dict()
    dupes = checks.loc[checks["check"] == "duplicate rows", "rows"]
    assert dupes.iloc[0] == ev.X.duplicated().sum() > 0
    leaks = set(checks.loc[checks["check"] == "possible leak", "column"])
    assert leaks == {"leak"}


def test_selection_bar_lists_clauses_and_removes_them(ev: es.Evaluation) -> None:
    bar = es.SelectionBar(ev)
    cm = es.ConfusionMatrix(ev)
    cm.select_cells(cells=[(1, 0)])
    ev.select("age > 60")
    assert [c["source"] for c in bar.clauses] == ["ConfusionMatrix", "code"]
    assert bar.n_selected == len(ev.selected())
    assert bar.clauses[1]["rows"] == (ev.data["age"] > 60).sum()
    bar._handle_message({"type": "remove", "source": "code"})
    assert [c["source"] for c in bar.clauses] == ["ConfusionMatrix"]
    bar._handle_message({"type": "clear_all"})
    assert bar.clauses == [] and bar.n_selected == ev.n_rows


def test_overview_follows_the_selection(ev: es.Evaluation) -> None:
    view = es.ModelOverview(ev)
    ev.select("sex == 'Female'")
    table = view.table
    female = (ev.data["sex"] == "Female").to_numpy()
    assert table.loc["accuracy", "selection"] == pytest.approx(
        metrics.accuracy_score(ev.true_codes[female], ev.pred_codes[female])
    )
    shown = np.frombuffer(view.selected_metrics, dtype="<f8")
    assert shown[view.metric_names.index("accuracy")] == pytest.approx(table.loc["accuracy", "selection"])


def test_roc_auc_with_ties_and_masks_equals_sklearn() -> None:
    from errorscope.plans import RocAuc

    rng = np.random.default_rng(5)
    n = 3000
    y = rng.integers(0, 2, n)
    score = np.round(np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1), 1)  # many ties
    ev = es.Evaluation(pd.DataFrame({"x": np.arange(n)}), y, y_score=score)
    for mask in (np.ones(n, dtype=bool), rng.random(n) < 0.3):
        assert ev.engine.roc_auc(RocAuc(1), ev.engine.as_filter(mask)) == pytest.approx(
            metrics.roc_auc_score(y[mask], score[mask]), abs=1e-12
        )
