"""Seeded synthetic evaluation sets for the benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

import errorscope as es


def binary_evaluation(n_rows: int, n_features: int = 20, seed: int = 0) -> es.Evaluation:
    """n_rows x n_features (half numeric, half categorical), binary labels, calibrated-ish scores."""
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
    return es.Evaluation(data, y_true, y_score=score)
