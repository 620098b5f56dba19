"""Shared fixtures: the bundled real datasets and small, deterministic models fitted on them once.

Models are fitted once per session (about a second in all, single-threaded) so every module can compare
errorscope against scikit-learn on real data without refitting.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterator

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from engines import ENGINES, evaluation_on, reset

ADULT_CLASSES = ["<=50K", ">50K"]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the ``spark`` fixture carries the ``spark`` marker (``-m "not spark"`` skips it).

    For ``pytest -n 2 --dist loadgroup`` (scripts/test.sh): a file's tests run in one process, so its
    module fixtures are built once, and every real-browser test in one process (one JupyterLab and
    Chromium), scheduled first: the longest group, with the other files spread over the other process."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)
        item.add_marker(pytest.mark.xdist_group("browser" if _in_browser(item) else item.path.stem))
    items.sort(key=lambda item: not _in_browser(item))  # stable: each file keeps its order


def _in_browser(item: pytest.Item) -> bool:
    return item.path.parent.name == "ui"


@pytest.fixture(scope="session", autouse=True)
def _own_working_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test process works in a directory of its own: the default tag stores
    (``errorscope-tags/`` in the working directory) are never shared by two processes, nor left in the
    clone."""
    before = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(before)


@pytest.fixture(scope="session")
def spark() -> Iterator:
    """One local PySpark session (2 cores, no web UI, one shuffle partition, interpreted) per test process.

    Created on first use only, so tests that do not ask for it do not pay its start (about 6 s); stopped
    when the session ends. Needs Java (scripts/test.sh installs openjdk-17-jre-headless when missing).
    """
    from errorscope.engines.extras import require

    SparkSession = require("pyspark.sql", "spark", "the spark test fixture").SparkSession
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise RuntimeError("the spark test fixture needs Java 17: apt-get install openjdk-17-jre-headless")
    # Python workers run on this interpreter (with numpy and pyarrow), not on whatever `python3` is on PATH.
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("errorscope-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")  # test data is small: one partition, no codegen
        .config("spark.sql.codegen.wholeStage", "false")  # (compiling each query cost more than running it:
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")  # a quarter of the spark tests' time)
        .config("spark.driver.memory", "2g")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine an oracle test runs on: a test asking for it runs on numpy, DuckDB and Spark (marked
    ``spark``), module by module, so each module builds its Spark Evaluations once (tests/engines.py)."""
    return request.param


@pytest.fixture(scope="module")
def _built_on_engine(engine: str) -> dict[str, es.Evaluation]:
    return {}


@pytest.fixture
def on_engine(request: pytest.FixtureRequest, engine: str, _built_on_engine: dict):  # type: ignore[no-untyped-def]
    """``on_engine(name, frame, **arguments)``: the Evaluation of ``frame`` on this test's engine, built once
    per module and ``name`` (see tests/engines.py), its views closed and its selection cleared after the
    test."""

    def build(name: str, frame: pd.DataFrame, **arguments: object) -> es.Evaluation:
        if name not in _built_on_engine:
            _built_on_engine[name] = evaluation_on(engine, request, frame, **arguments)
        ev = _built_on_engine[name]
        request.addfinalizer(lambda: reset(ev))
        return ev

    return build


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
        if thread.name.startswith("errorscope-") and not thread.name.startswith(
            ("errorscope-count", "errorscope-progress")  # an engine's: they wait for its next query
        ):
            thread.join(timeout=60)


@pytest.fixture(scope="session")
def wage_model_and_frame() -> tuple[object, pd.DataFrame]:
    """ISLR's Wage (3,000 rows; ``logwage`` and the one-valued ``region`` dropped) and a gradient-boosted
    regressor of ``wage`` fitted on half of it (seeded), with its predictions as the column ``pred``."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    frame = es.datasets.load_wage().drop(columns=["logwage", "region"])
    X = frame.drop(columns="wage")
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    model = make_pipeline(
        make_column_transformer((OrdinalEncoder(), categorical), remainder="passthrough"),
        HistGradientBoostingRegressor(max_iter=60, random_state=0),
    )
    train = frame.sample(frac=0.5, random_state=0).index
    model.fit(X.loc[train], frame.loc[train, "wage"])
    frame["pred"] = model.predict(X)
    return model, frame


@pytest.fixture
def wage(wage_model_and_frame: tuple[object, pd.DataFrame]) -> pd.DataFrame:
    """A private copy of the Wage frame with the regressor's predictions in ``pred``."""
    return wage_model_and_frame[1].copy()


@pytest.fixture(scope="session")
def adult_baseline(adult_train: pd.DataFrame):
    """A weaker model of Adult to compare with ``adult_model``: a logistic regression on the numeric
    columns only (scaled), fitted on the train split."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = adult_train.drop(columns="income")
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    model = make_pipeline(
        make_column_transformer((StandardScaler(), numeric), remainder="drop"), LogisticRegression()
    )
    return model.fit(X, adult_train["income"])


@pytest.fixture(scope="session")
def adult_two_models(adult_test: pd.DataFrame, adult_baseline, adult_model) -> pd.DataFrame:
    """The Adult test split with each model's P(>50K) as a column: ``p_baseline``, ``p_candidate``."""
    X = adult_test.drop(columns="income")
    return adult_test.assign(
        p_baseline=adult_baseline.predict_proba(X)[:, 1], p_candidate=adult_model.predict_proba(X)[:, 1]
    )


@pytest.fixture(scope="session")
def wage_two_models(wage_model_and_frame: tuple[object, pd.DataFrame]) -> pd.DataFrame:
    """Wage with a second regressor's predictions, ``pred_linear`` (least squares on the numeric columns,
    fitted on the same half as ``pred``)."""
    from sklearn.linear_model import LinearRegression

    frame = wage_model_and_frame[1]
    numeric = ["year", "age"]
    train = frame.sample(frac=0.5, random_state=0).index
    linear = LinearRegression().fit(frame.loc[train, numeric], frame.loc[train, "wage"])
    return frame.assign(pred_linear=linear.predict(frame[numeric]))
