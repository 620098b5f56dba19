"""Seeded synthetic evaluation sets for the benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

import errorscope as es


def binary_data(
    n_rows: int, n_features: int = 20, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """n_rows x n_features (half numeric, half categorical), binary labels and calibrated-ish scores."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(n_features):
        if i % 2 == 0:
            columns[f"num{i}"] = rng.normal(size=n_rows)
        else:
            columns[f"cat{i}"] = rng.choice(np.array(list("abcdefgh")), size=n_rows)
    data = pd.DataFrame(columns)
    logit = data["num0"] + 0.5 * data["num2"] - 0.3 * (data["cat1"] == "a")
    score = 1 / (1 + np.exp(-logit.to_numpy()))
    y_true = (rng.random(n_rows) < score).astype(int)
    return data, y_true, score


def binary_evaluation(n_rows: int, n_features: int = 20, seed: int = 0) -> es.Evaluation:
    """An Evaluation of :func:`binary_data`."""
    data, y_true, score = binary_data(n_rows, n_features, seed)
    return es.Evaluation(data, y_true, y_score=score)


def regression_data(
    n_rows: int, n_features: int = 20, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """n_rows x n_features as :func:`binary_data`, a numeric target and predictions whose errors grow in
    one category (heteroscedastic, and biased there: a slice to find)."""
    data, _, _ = binary_data(n_rows, n_features, seed)
    rng = np.random.default_rng(seed + 1)
    signal = 3 * data["num0"].to_numpy() + data["num2"].to_numpy() + 2 * (data["cat1"] == "a").to_numpy()
    noisy = np.where(data["cat3"].to_numpy() == "b", 2.5, 1.0)
    y_true = 50 + signal + rng.normal(scale=noisy)
    y_pred = 50 + signal + 0.4 * (data["cat3"].to_numpy() == "b")
    return data, y_true, y_pred
