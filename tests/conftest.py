"""Shared fixtures: the bundled real datasets and small, deterministic models fitted on them once.

Models are fitted once per session (about a second in all, single-threaded) so every module can compare
errorscope against scikit-learn on real data without refitting.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
import pytest

import errorscope as es

ADULT_CLASSES = ["<=50K", ">50K"]


@pytest.fixture(scope="session")
def adult_train() -> pd.DataFrame:
    return es.datasets.load_adult("train")


@pytest.fixture(scope="session")
def adult_test() -> pd.DataFrame:
    return es.datasets.load_adult("test")


@pytest.fixture
def adult(adult_test: pd.DataFrame) -> pd.DataFrame:
    """A private copy of the Adult test split, safe to modify."""
    return adult_test.copy()


@pytest.fixture(scope="session")
def adult_model(adult_train: pd.DataFrame):
    """HistGradientBoosting on the Adult train split (ordinal-encoded categoricals), fitted on a DataFrame."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X = adult_train.drop(columns="income")
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2)
    model = make_pipeline(
        make_column_transformer((encoder, categorical), remainder="passthrough"),
        HistGradientBoostingClassifier(max_iter=60, random_state=0),
    )
    return model.fit(X, adult_train["income"])


@pytest.fixture(scope="session")
def adult_proba(adult_model, adult_test: pd.DataFrame) -> np.ndarray:
    """The Adult model's predict_proba on the test split, columns in model.classes_ order."""
    return adult_model.predict_proba(adult_test.drop(columns="income"))


@pytest.fixture(scope="session")
def letter() -> pd.DataFrame:
    return es.datasets.load_letter()


@pytest.fixture(scope="session")
def letter_model(letter: pd.DataFrame):
    """A decision tree on the first 16,000 Letter rows (evaluated on the last 4,000)."""
    from sklearn.tree import DecisionTreeClassifier

    train = letter.iloc[:16000]
    return DecisionTreeClassifier(random_state=0).fit(train.drop(columns="letter"), train["letter"])


@pytest.fixture(scope="session")
def letter_test(letter: pd.DataFrame) -> pd.DataFrame:
    return letter.iloc[16000:].reset_index(drop=True)


@pytest.fixture(autouse=True)
def _background_work_finishes() -> Iterator[None]:
    """Each test's background jobs (SHAP, LIME, discovery) end with it: they call scikit-learn, whose
    ``warnings.catch_warnings()`` is not thread-safe and would disturb the next test's pytest.warns."""
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("errorscope-") and not thread.name.startswith("errorscope-count"):
            thread.join(timeout=60)
