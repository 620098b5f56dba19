"""The Wage data with a fitted scikit-learn regressor's predictions, for the regression tests."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

import errorscope as es


@functools.cache
def wage_frame() -> pd.DataFrame:
    """Wage (3,000 rows, target ``wage``; ``logwage`` and ``region`` dropped) with ``pred``: a gradient
    boosting regressor's predictions, fitted on the first half (so the second half has honest errors)."""
    data = es.datasets.load_wage().drop(columns=["logwage", "region"], errors="ignore")
    features = data.drop(columns="wage")
    coded = features.copy()
    for column in coded.select_dtypes(exclude="number"):
        coded[column] = coded[column].astype("category")
    half = len(data) // 2
    model = HistGradientBoostingRegressor(max_iter=60, random_state=0, categorical_features="from_dtype")
    model.fit(coded.iloc[:half], data["wage"].iloc[:half])
    return data.assign(pred=model.predict(coded))


def wage_evaluation(**kwargs: object) -> es.Evaluation:
    """A regression Evaluation of :func:`wage_frame` (``race`` sensitive)."""
    return es.Evaluation(
        wage_frame().copy(), y_true="wage", y_pred="pred", sensitive="race", task="regression", **kwargs
    )


def absolute_errors(ev: es.Evaluation) -> np.ndarray:
    return np.abs(ev.residual)
