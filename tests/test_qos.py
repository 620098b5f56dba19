"""Quality of service (issue 18, section 4): latency and peak memory of the model, per slice.

Exact figures come from a fake clock (``perf_counter`` replaced by one that a fake model advances by each
row's cost), checked against ``np.percentile``; real timings are only compared with each other (a slice
whose rows sleep 20 ms each against all rows) with a wide margin, and against no fixed time but the lower
bound the sleep guarantees. Peak memory is checked on a predict that allocates a known array
(``np.ones(10_000_000)``: 76.3 MiB). ``evaluation_qos`` runs on an in-memory Evaluation and on DuckDB (tests/engines.py; Spark left out: building its Evaluation
costs ~25 s), checked against the rows pandas selects.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from engines import evaluation_on
from errorscope import qos
from errorscope.qos import COLUMNS, evaluation_qos, measure_qos

SLEEP = 0.02  # seconds per slow row


class FakeClock:
    """A perf_counter that moves only when a fake model says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(qos, "perf_counter", fake)
    return fake


def costed(clock: FakeClock, calls: list[pd.DataFrame] | None = None):  # type: ignore[no-untyped-def]
    """A predict that takes the sum of its rows' ``cost`` (milliseconds) on the fake clock."""

    def predict(X: pd.DataFrame) -> np.ndarray:
        clock.now += float(X["cost"].sum()) / 1000.0
        if calls is not None:
            calls.append(X)
        return np.zeros(len(X))

    return predict


def test_exact_figures_on_a_fake_clock(clock: FakeClock) -> None:
    costs = np.arange(1.0, 11.0)  # ms: rows cost 1..10
    small = pd.DataFrame({"cost": [2.0, 4.0, 9.0]}, index=[100, 101, 102])
    calls: list[pd.DataFrame] = []
    frames = {"ten": pd.DataFrame({"cost": costs}), "three": small}
    table = measure_qos(costed(clock, calls), frames, repeats=3, single_rows=10)
    ten, three = table.iloc[0], table.iloc[1]
    # single_rows == rows: each row drawn once, timed once per repeat
    expected = np.tile(costs, 3)
    assert ten["per_row_p50_ms"] == pytest.approx(np.percentile(expected, 50))
    assert ten["per_row_p95_ms"] == pytest.approx(np.percentile(expected, 95))
    # fewer rows than batch: the whole frame is the batch, its time scaled to 1,000 rows
    assert (ten["n_rows"], ten["batch_rows"], three["n_rows"], three["batch_rows"]) == (10, 10, 3, 3)
    assert ten["per_1000_p50_ms"] == pytest.approx(costs.sum() * 1000 / 10)
    assert ten["per_1000_p95_ms"] == pytest.approx(costs.sum() * 1000 / 10)
    assert three["per_1000_p50_ms"] == pytest.approx(small["cost"].sum() * 1000 / 3)
    # fewer rows than single_rows: 10 drawn with replacement; the timings are what those rows cost
    singles = [float(X["cost"].iloc[0]) for X in calls if len(X) == 1 and X.index[0] >= 100]
    timed = singles[1:]  # after the warm-up
    assert len(timed) == 3 * 10 and set(timed) <= {2.0, 4.0, 9.0}
    assert three["per_row_p50_ms"] == pytest.approx(np.percentile(timed, 50))
    assert three["per_row_p95_ms"] == pytest.approx(np.percentile(timed, 95))


def test_draws_are_seeded_and_a_batch_has_distinct_rows(clock: FakeClock) -> None:
    frame = pd.DataFrame({"cost": np.ones(200)})

    def drawn(seed: int) -> tuple[list[int], list[pd.DataFrame]]:
        calls: list[pd.DataFrame] = []
        table = measure_qos(costed(clock, calls), {"f": frame}, repeats=2, single_rows=5, batch=40, seed=seed)
        assert table["batch_rows"].iloc[0] == 40
        assert table["per_1000_p50_ms"].iloc[0] == pytest.approx(1000.0)  # 40 rows of 1 ms, per 1,000
        singles = [int(X.index[0]) for X in calls if len(X) == 1]
        return singles, [X for X in calls if len(X) == 40]

    singles, batches = drawn(0)
    assert len(singles) == 1 + 2 * 5  # the warm-up, then 5 rows twice
    assert singles[1:6] == singles[6:11]  # each repeat times the same rows
    assert len(set(singles[1:6])) == 5  # drawn without replacement from 200 rows
    assert len(batches) == 2 + 1  # each repeat, and the memory run
    assert all(X.index.is_unique for X in batches)
    assert drawn(0)[0] == singles
    assert drawn(1)[0] != singles


def test_a_slow_slice_shows_up(adult_model: Any, adult: pd.DataFrame) -> None:
    """A model that sleeps 20 ms per row with a missing workclass: the slice of those rows is slower per
    row and per 1,000 rows than all rows (a wide margin: the sleep alone is 20 ms a row)."""
    X = adult.drop(columns="income")

    def slow(rows: pd.DataFrame) -> np.ndarray:
        time.sleep(SLEEP * int(rows["workclass"].isna().sum()))
        return adult_model.predict_proba(rows)

    frames = {"all rows": X, "missing workclass": X[X["workclass"].isna()]}
    table = measure_qos(slow, frames, repeats=3, single_rows=8, batch=10).set_index("rows")
    everything, missing = table.loc["all rows"], table.loc["missing workclass"]
    assert missing["per_row_p50_ms"] >= SLEEP * 1000  # every row of the slice sleeps
    assert missing["per_row_p50_ms"] > everything["per_row_p50_ms"]
    assert missing["per_1000_p50_ms"] >= SLEEP * 1000 * 1000  # 1,000 rows sleep 20 s
    assert missing["per_1000_p50_ms"] > 2 * everything["per_1000_p50_ms"]
    assert table["n_rows"].tolist() == [len(X), int(X["workclass"].isna().sum())]
    assert table["batch_rows"].tolist() == [10, 10]
    for figures in (everything, missing):
        assert 0 < figures["per_row_p50_ms"] <= figures["per_row_p95_ms"]
        assert 0 < figures["per_1000_p50_ms"] <= figures["per_1000_p95_ms"]


def test_peak_memory_of_a_known_allocation(adult_model: Any, adult: pd.DataFrame) -> None:
    X = adult.drop(columns="income").iloc[:500]

    def allocates(rows: pd.DataFrame) -> float:
        return float(np.ones(10_000_000).sum())  # 80,000,000 bytes: 76.3 MiB

    big = measure_qos(allocates, {"rows": X}, repeats=1, single_rows=1)["peak_memory_mb"].iloc[0]
    assert 60 < big < 200
    small = measure_qos(len, {"rows": X}, repeats=1, single_rows=1)["peak_memory_mb"].iloc[0]
    assert 0 <= small < 1
    model = measure_qos(adult_model.predict_proba, {"rows": X}, repeats=1, single_rows=1)
    assert 0 < model["peak_memory_mb"].iloc[0] < big


def test_tracemalloc_is_left_as_found() -> None:
    frame = pd.DataFrame({"x": np.arange(10.0)})
    assert not tracemalloc.is_tracing()
    measure_qos(len, {"f": frame}, repeats=1)
    assert not tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        np.ones(10_000_000).sum()  # a traced peak of 76 MiB before: not the model's
        assert tracemalloc.get_traced_memory()[1] > 60 * qos.MIB
        peak = measure_qos(len, {"f": frame}, repeats=1)["peak_memory_mb"].iloc[0]
        assert 0 <= peak < 1
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()


def test_columns_and_dtypes() -> None:
    frames = {"a": pd.DataFrame({"x": np.arange(30.0)}), "b": pd.DataFrame({"x": [1.0]})}
    table = measure_qos(len, frames, repeats=2, single_rows=3, batch=20)
    assert list(table.columns) == list(COLUMNS) == [
        "rows", "n_rows", "per_row_p50_ms", "per_row_p95_ms", "per_1000_p50_ms", "per_1000_p95_ms",
        "batch_rows", "peak_memory_mb",
    ]  # fmt: skip
    assert table["rows"].tolist() == ["a", "b"]
    assert pd.api.types.is_string_dtype(table["rows"])
    assert table["n_rows"].dtype == np.int64 and table["batch_rows"].dtype == np.int64
    for column in qos.FIGURES:
        assert table[column].dtype == np.float64, column
    assert table[["n_rows", "batch_rows"]].to_numpy().tolist() == [[30, 20], [1, 1]]
    assert table.drop(columns=["rows"]).notna().all().all()


def test_an_empty_frame_gives_nan_figures() -> None:
    seen: list[int] = []

    def predict(X: pd.DataFrame) -> int:
        seen.append(len(X))
        return len(X)

    frames = {"none": pd.DataFrame({"x": pd.Series([], dtype=float)}), "one": pd.DataFrame({"x": [1.0]})}
    table = measure_qos(predict, frames, repeats=2)
    empty = table.iloc[0]
    assert (empty["rows"], empty["n_rows"], empty["batch_rows"]) == ("none", 0, 0)
    assert empty[list(qos.FIGURES)].isna().all()
    assert table.iloc[1][list(qos.FIGURES)].notna().all()
    assert 0 not in seen  # predict never sees an empty frame
    assert list(measure_qos(len, {}).columns) == list(COLUMNS)


def test_progress_rises_to_one() -> None:
    calls: list[tuple[float, str]] = []
    frames = {
        "a": pd.DataFrame({"x": np.arange(5.0)}),
        "empty": pd.DataFrame({"x": []}),
        "b": pd.DataFrame({"x": [1.0]}),
    }
    measure_qos(len, frames, repeats=3, single_rows=2, progress=lambda f, m: calls.append((f, m)))
    fractions = [f for f, _ in calls]
    assert len(calls) >= 2 * (2 * 3 + 1)
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(isinstance(m, str) and m for _, m in calls)
    assert any("b:" in m for _, m in calls)


@pytest.mark.parametrize("argument", ["repeats", "single_rows", "batch"])
@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_bad_counts_name_the_argument(argument: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"^{argument} must be a whole number of at least 1"):
        measure_qos(len, {"f": pd.DataFrame({"x": [1.0]})}, **{argument: value})


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="predict must be a function"):
        measure_qos("model", {"f": pd.DataFrame({"x": [1.0]})})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"frames\['f'\] must be a pandas DataFrame"):
        measure_qos(len, {"f": np.ones((3, 2))})  # type: ignore[dict-item]


# -- evaluation_qos -----------------------------------------------------------------------------------------


class Recorder:
    """A classifier that records the rows it is asked to predict (as a copy) and counts its calls."""

    _estimator_type = "classifier"

    def __init__(self, model: Any, slow: bool = False) -> None:
        self.model, self.slow = model, slow
        self.classes_ = model.classes_
        self.feature_names_in_ = model.feature_names_in_
        self.seen: list[pd.DataFrame] = []

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        assert isinstance(X, pd.DataFrame)
        self.seen.append(X.copy())
        if self.slow:
            time.sleep(SLEEP * int(X["workclass"].isna().sum()))
        return self.model.predict_proba(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        raise AssertionError("a classifier with predict_proba is timed on predict_proba")


N = 3000


@pytest.fixture(scope="module")
def scored(adult_model: Any, adult_test: pd.DataFrame) -> pd.DataFrame:
    """The first Adult test rows with the model's P(>50K) as a column (a SQL source's scores are columns)."""
    frame = adult_test.iloc[:N].reset_index(drop=True)
    frame["workclass"] = frame["workclass"].astype(object)  # text with NaN, as every engine gives it
    return frame.assign(p=adult_model.predict_proba(frame.drop(columns="income"))[:, 1])


def arguments(model: Any, frame: pd.DataFrame) -> dict[str, Any]:
    features = [c for c in frame.columns if c not in ("income", "p")]
    return {"y_true": "income", "y_score": "p", "model": model, "features": features}


def test_evaluation_needs_a_model(adult: pd.DataFrame) -> None:
    ev = es.Evaluation(adult, y_true="income", y_pred=adult["income"])
    with pytest.raises(ValueError, match=r"^ev.qos\(\) times the model: pass model= to Evaluation"):
        evaluation_qos(ev)


def test_evaluation_on_memory_times_the_slow_slice(adult_model: Any, scored: pd.DataFrame) -> None:
    model = Recorder(adult_model, slow=True)
    ev = es.Evaluation(scored, **arguments(model, scored))
    assert model.seen == []  # building the Evaluation (given scores) never calls the model
    table = evaluation_qos(ev, repeats=2, single_rows=6, batch=10)
    assert table["rows"].tolist() == ["all rows"]  # no selection: all rows only
    ev.select("workclass.isna()")
    progress: list[float] = []
    table = evaluation_qos(ev, repeats=2, single_rows=6, batch=10, progress=lambda f, m: progress.append(f))
    assert progress[-1] == 1.0 and progress == sorted(progress)
    table = table.set_index("rows")
    assert table.index.tolist() == ["all rows", "selection"]
    assert table["n_rows"].tolist() == [N, int(scored["workclass"].isna().sum())]
    assert table.loc["selection", "per_row_p50_ms"] >= SLEEP * 1000
    assert table.loc["selection", "per_row_p50_ms"] > table.loc["all rows", "per_row_p50_ms"]
    assert evaluation_qos(ev, selection=False, repeats=1, single_rows=1, batch=5)["rows"].tolist() == [
        "all rows"
    ]
    ev.select("age > 0")  # every row: no second frame
    assert evaluation_qos(ev, repeats=1, single_rows=1, batch=5)["rows"].tolist() == ["all rows"]
    with pytest.raises(ValueError, match=r"^max_rows must be a whole number of at least 1"):
        evaluation_qos(ev, max_rows=0)
    with pytest.raises(ValueError, match=r"^repeats must be a whole number of at least 1"):
        evaluation_qos(ev, repeats=0)


class Regressor:
    """A regressor that records which of its methods is called."""

    def __init__(self, model: Any) -> None:
        self.model, self.called = model, []
        self.feature_names_in_ = model.feature_names_in_

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        self.called.append("predict")
        return self.model.predict(X)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        raise AssertionError("a regression is timed on predict")


def test_a_regression_is_timed_on_predict(wage_model_and_frame: tuple[Any, pd.DataFrame]) -> None:
    model, wage = wage_model_and_frame
    recorder = Regressor(model)
    ev = es.Evaluation(wage, y_true="wage", y_pred="pred", model=recorder, task="regression")
    ev.select("age > 50")
    table = evaluation_qos(ev, repeats=1, single_rows=2, batch=100)
    assert table["n_rows"].tolist() == [len(wage), int((wage["age"] > 50).sum())]
    assert set(recorder.called) == {"predict"}


def test_a_model_without_feature_names_gets_arrays(adult_train: pd.DataFrame, adult: pd.DataFrame) -> None:
    """As the Evaluation gives rows to a model fitted on an array (no ``feature_names_in_``)."""
    from sklearn.linear_model import LogisticRegression

    numeric = ["age", "education-num", "hours-per-week"]
    fitted = LogisticRegression().fit(adult_train[numeric].to_numpy(), adult_train["income"])
    given: list[type] = []

    class OnArrays:
        classes_ = fitted.classes_

        def predict_proba(self, X: Any) -> np.ndarray:
            given.append(type(X))
            return fitted.predict_proba(X)

    frame = adult[[*numeric, "income"]].iloc[:500]
    ev = es.Evaluation(frame, y_true="income", model=OnArrays(), features=numeric)
    given.clear()  # the Evaluation's own call, at construction
    table = evaluation_qos(ev, repeats=1, single_rows=2, batch=100)
    assert table["n_rows"].tolist() == [500] and table["batch_rows"].tolist() == [100]
    assert given and set(given) == {np.ndarray}


@pytest.mark.parametrize("engine", ["numpy", "duckdb"])  # Spark passes too, but builds in ~25 s
def test_evaluation_on_every_engine_times_the_selected_rows(
    engine: str, request: pytest.FixtureRequest, adult_model: Any, scored: pd.DataFrame
) -> None:
    """The rows the model is given: the selection's rows as pandas selects them, and a max_rows sample
    that is the same rows in the same order on every engine (the in-memory Evaluation's)."""
    model = Recorder(adult_model)
    ev = evaluation_on(engine, request, scored, **arguments(model, scored))
    ev.select("workclass.isna()")
    expected = scored[scored["workclass"].isna()]
    table = evaluation_qos(ev, max_rows=400, repeats=1, single_rows=4, batch=1000).set_index("rows")
    assert table["n_rows"].tolist() == [400, len(expected)]
    assert table["batch_rows"].tolist() == [400, len(expected)]
    batches = [X for X in model.seen if len(X) > 4]  # all rows' (timed, memory), then the selection's
    assert [len(X) for X in batches] == [400, 400, len(expected), len(expected)]
    selected = batches[-1]
    assert selected["workclass"].isna().all()
    for column in ("fnlwgt", "age"):
        assert np.sort(selected[column].to_numpy(np.int64)).tolist() == np.sort(expected[column]).tolist()
    reference = Recorder(adult_model)
    in_memory = es.Evaluation(scored, **arguments(reference, scored))
    evaluation_qos(in_memory, max_rows=400, repeats=1, single_rows=4, batch=1000)
    assert [X["fnlwgt"].astype(np.int64).tolist() for X in model.seen[:6]] == [
        X["fnlwgt"].tolist() for X in reference.seen[:6]
    ]  # the warm-up, the 4 single rows and the 400-row batch: the same rows, in the same order
