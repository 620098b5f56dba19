"""Training curves read from each library's shape, and the warning signs on constructed histories: each sign
where it is, none on a healthy curve; scikit-learn's learning_curve on real data."""

from __future__ import annotations

import numpy as np
import pytest

from errorscope.history import curves_of, training_curves, warning_signs

STEPS = np.arange(1, 31)


def signs(history: object) -> list[str]:
    return warning_signs(training_curves(history))["sign"].tolist()


def test_a_healthy_curve_has_no_sign() -> None:
    train = 0.7 * np.exp(-STEPS / 8) + 0.2
    validation = train + 0.03
    assert signs({"train_loss": train, "val_loss": validation}) == []


def test_overfitting_is_found_with_the_step_it_starts() -> None:
    train = 0.7 * np.exp(-STEPS / 8) + 0.1  # keeps falling
    validation = np.where(
        STEPS <= 12, 0.7 * np.exp(-STEPS / 8) + 0.2, 0.7 * np.exp(-12 / 8) + 0.2 + 0.01 * (STEPS - 12)
    )
    found = warning_signs(training_curves({"loss": train, "val_loss": validation}))  # Keras's names
    assert found["sign"].tolist() == ["overfitting"]
    assert "best at step 12" in found["evidence"].iloc[0]


def test_underfitting_and_validation_better_than_training() -> None:
    flat = np.full(30, 0.69) - 0.0002 * STEPS  # 0.690 -> 0.684: barely learning
    assert signs({"train_loss": flat}) == ["underfitting"]
    train = 0.7 * np.exp(-STEPS / 8) + 0.3
    assert signs({"train_loss": train, "val_loss": 0.7 * train}) == ["validation better than training"]
    accuracy = 0.7 + 0.2 * (1 - np.exp(-STEPS / 8))  # a score: higher is better
    assert signs({"train_accuracy": accuracy, "val_accuracy": accuracy * 1.1}) == [
        "validation better than training"
    ]


def test_a_keras_history_and_eval_sets_are_read() -> None:
    class History:  # what keras.callbacks.History holds
        def __init__(self) -> None:
            self.history = {
                "loss": [0.9, 0.5, 0.4],
                "val_loss": [0.95, 0.6, 0.5],
                "accuracy": [0.6, 0.7, 0.8],
            }

    curves = training_curves(History())
    assert set(zip(curves["split"], curves["metric"], strict=True)) == {
        ("train", "loss"), ("validation", "loss"), ("train", "accuracy")
    }  # fmt: skip
    lightgbm = {"training": {"binary_logloss": [0.6, 0.5]}, "valid_1": {"binary_logloss": [0.62, 0.55]}}
    curves = training_curves(lightgbm)  # LightGBM's evals_result_ (XGBoost's evals_result() alike)
    assert curves.groupby("split")["value"].count().to_dict() == {"train": 2, "validation": 2}
    xgboost = {"validation_0": {"logloss": [0.6, 0.5]}, "validation_1": {"logloss": [0.62, 0.55]}}
    assert training_curves(xgboost).query("split == 'train'")["value"].tolist() == [0.6, 0.5]


def test_learning_curve_of_scikit_learn(adult_train) -> None:  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import learning_curve

    rows = adult_train.sample(2000, random_state=0)
    X = rows[["age", "education-num", "hours-per-week", "capital-gain"]]
    result = learning_curve(
        LogisticRegression(max_iter=500), X, rows["income"], train_sizes=[0.2, 0.5, 1.0], cv=3
    )
    curves, _ = curves_of(result)
    assert curves["run"].nunique() == 3 and sorted(curves["step"].unique()) == sorted(result[0])
    got = curves.query("split == 'validation'").pivot(index="step", columns="run", values="value").to_numpy()
    np.testing.assert_allclose(got, result[2])


def test_instability_across_runs() -> None:
    sizes = np.array([100, 200, 400])
    train = np.tile([[0.9], [0.88], [0.87]], (1, 3))
    validation = np.array([[0.7, 0.8, 0.6], [0.72, 0.82, 0.6], [0.7, 0.85, 0.6]])
    assert signs((sizes, train, validation)) == ["instability"]


def test_bad_history_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="history= takes a dict of lists"):
        training_curves([0.5, 0.4])
    with pytest.raises(ValueError, match=r"history\['val_loss'\] must be a non-empty list"):
        training_curves({"val_loss": []})
