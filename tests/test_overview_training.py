"""The overview as the seed of debugging: warning signs from the training curves, drift, overlap and class
balance against ``train=``; the model summary; ev.train_overlap() against a pandas merge; ev.qos()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import errorscope as es

NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


@pytest.fixture(scope="module")
def boosted(adult_train: pd.DataFrame):  # type: ignore[no-untyped-def]
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(early_stopping=True, max_iter=200, random_state=0)
    return model.fit(adult_train[NUMERIC], adult_train["income"])


def test_overfitting_curves_overlap_and_the_model_are_in_the_overview(
    boosted, adult_train, adult_test
) -> None:  # type: ignore[no-untyped-def]
    steps = np.arange(30)
    history = {"train_loss": list(1.0 / (1 + steps)), "val_loss": list(0.5 + 0.01 * (steps - 10) ** 2 / 10)}
    ev = es.Evaluation(adult_test, y_true="income", model=boosted, features=NUMERIC, train=adult_train,
                       history=history)  # fmt: skip
    view = es.ModelOverview(ev)
    signs = view.warnings
    assert list(signs.columns) == ["sign", "evidence", "rule"]
    assert "overfitting" in set(signs["sign"]) and signs["rule"].str.len().min() > 10
    overlap = ev.train_overlap()
    merged = (
        adult_test[NUMERIC]
        .reset_index()
        .merge(adult_train.groupby(NUMERIC, dropna=False).size().rename("n").reset_index(), on=NUMERIC)
    )
    assert sorted(overlap["id"]) == sorted(merged["index"]) and len(overlap) > 0
    np.testing.assert_array_equal(overlap.sort_values("id")["train_copies"], merged.sort_values("index")["n"])
    evidence = signs.set_index("sign").loc["train/evaluation overlap", "evidence"]
    assert f"{len(overlap):,} evaluation rows" in evidence
    assert view.model_info["estimator"] == "HistGradientBoostingClassifier"
    sizes = {r["measure"]: r["value"] for r in view.model_info["size"]}
    assert sizes["trees"] == boosted.n_iter_
    assert view.split_sizes == {"evaluation": len(adult_test), "train": len(adult_train)}
    assert {c["split"] for c in view.curves} == {"train", "validation"}


def test_a_healthy_run_on_the_same_distribution_has_no_warning_sign(boosted, adult_train) -> None:  # type: ignore[no-untyped-def]
    steps = np.arange(20)
    history = {"train_loss": list(0.3 + 0.7 / (1 + steps)), "val_loss": list(0.35 + 0.7 / (1 + steps))}
    ev = es.Evaluation(adult_train, y_true="income", model=boosted, features=NUMERIC, history=history)
    assert len(es.ModelOverview(ev).warnings) == 0
    halves = np.random.default_rng(0).random(len(adult_train)) < 0.5  # one distribution, split at random
    first, second = adult_train[halves].reset_index(drop=True), adult_train[~halves].reset_index(drop=True)
    ev = es.Evaluation(second, y_true="income", model=boosted, features=NUMERIC, train=first, history=history)
    signs = set(es.ModelOverview(ev).warnings["sign"])
    assert signs <= {"train/evaluation overlap"}  # no drift, no class balance shift, no curve sign


def test_drift_and_class_balance_are_signs(boosted, adult_train, adult_test) -> None:  # type: ignore[no-untyped-def]
    rich = adult_test[adult_test["income"] == ">50K"]
    shifted = pd.concat([adult_test, rich, rich]).reset_index(drop=True)  # more of one class, and older
    ev = es.Evaluation(shifted, y_true="income", model=boosted, features=NUMERIC, train=adult_train)
    signs = es.ModelOverview(ev).warnings
    assert "class balance differs" in set(signs["sign"])
    assert "drift" in set(signs["sign"])


def test_qos_times_the_model_on_the_selection(boosted, adult_test) -> None:  # type: ignore[no-untyped-def]
    ev = es.Evaluation(adult_test, y_true="income", model=boosted, features=NUMERIC)
    ev.selection.set(es.Clause.where("x", es.Predicate("age", ">", (60,))))
    table = ev.qos(repeats=2)
    assert list(table["rows"]) == ["all rows", "selection"]
    assert table.loc[1, "n_rows"] == (adult_test["age"] > 60).sum()
    view = es.ModelOverview(ev)
    view.measure_qos(block=True)
    assert view.qos_status == "done" and len(view.qos_table) == 2
    assert (view.qos_table["per_1000_p50_ms"] > 0).all()


def test_overlap_needs_training_rows(adult_test) -> None:  # type: ignore[no-untyped-def]
    ev = es.Evaluation(adult_test, y_true="income", y_pred=adult_test["income"].to_numpy(), features=NUMERIC)
    with pytest.raises(ValueError, match="train="):
        ev.train_overlap()
    with pytest.raises(ValueError, match="model="):
        ev.qos()
