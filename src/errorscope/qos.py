"""Quality of service of the model under debugging: its prediction latency and peak memory, per slice.

:func:`measure_qos` times a predict function on named frames of rows (e.g. "all rows" and "selection"), so
a slice that is slow to predict (long texts, many missing values) shows up like a slice with errors:

- **per row**: ``single_rows`` rows drawn with a seeded ``numpy`` Generator (without replacement, with it
  when the frame has fewer rows), each predicted as a 1-row DataFrame, every row ``repeats`` times; p50 and
  p95 (``np.percentile``, linear) of all those timings, in milliseconds.
- **per 1,000 rows**: one batch of ``batch`` drawn rows (the whole frame, shuffled, when it has fewer:
  ``batch_rows`` says how many) predicted ``repeats`` times; p50 and p95 of the batch time scaled to
  1,000 rows (time x 1000 / batch_rows), in milliseconds.
- **peak memory**: the peak of the memory traced by :mod:`tracemalloc` during one more batch predict,
  above what was traced when it started, in MiB. tracemalloc sees the allocations made through Python's
  allocators, numpy arrays included, not native allocations made outside them (e.g. the buffers of
  LightGBM's or XGBoost's C++ threads, a GPU's memory), so it is a lower bound for such models.

Timings use ``time.perf_counter`` with the garbage collector paused (as :mod:`timeit` does), after one
warm-up call per frame; the rows are sliced before the clock starts, so only ``predict`` is timed. No
timing runs on its own: :func:`evaluation_qos` (``ev.qos()``) is called on demand.

:func:`evaluation_qos` builds the frames of an :class:`~errorscope.evaluation.Evaluation`: its feature
columns for every row and for the selected rows, each the first (at most ``max_rows``) rows of the seeded
``random`` review order, as the explainer samples them: the same rows in the same order on every engine
(on DuckDB and Spark only those rows are fetched).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from time import perf_counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .plans import ALL_ROWS, Filter, RowPage

if TYPE_CHECKING:
    from .evaluation import Evaluation

COLUMNS = (
    "rows", "n_rows", "per_row_p50_ms", "per_row_p95_ms", "per_1000_p50_ms", "per_1000_p95_ms",
    "batch_rows", "peak_memory_mb",
)  # fmt: skip
FIGURES = ("per_row_p50_ms", "per_row_p95_ms", "per_1000_p50_ms", "per_1000_p95_ms", "peak_memory_mb")
MIB = 1024 * 1024
Progress = Callable[[float, str], None]


def measure_qos(
    predict: Callable[[Any], Any],
    frames: Mapping[str, pd.DataFrame],
    repeats: int = 5,
    single_rows: int = 50,
    batch: int = 1000,
    progress: Progress | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Latency (per row and per 1,000 rows, p50 and p95 over ``repeats``) and peak memory of ``predict``
    on each named frame: one row per frame, columns :data:`COLUMNS` (see the module docstring).

    ``progress(fraction, message)`` is called between steps, the fraction rising to 1.0. An empty frame
    gives a row with ``n_rows`` 0 and NaN figures (``predict`` is not called on it).
    """
    _check_counts(repeats=repeats, single_rows=single_rows, batch=batch)
    if not callable(predict):
        raise ValueError(f"predict must be a function of a DataFrame of rows, got {type(predict).__name__}.")
    for name, frame in frames.items():
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"frames[{name!r}] must be a pandas DataFrame, got {type(frame).__name__}.")
    steps = max(len(frames), 1) * (2 * repeats + 1)  # per frame: single rows and batch per repeat, memory
    done = 0

    def step(message: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(done / steps, 1.0), message)

    if progress is not None:
        progress(0.0, "timing the model")
    out = []
    for name, frame in frames.items():
        n = len(frame)
        if n == 0:
            out.append({"rows": name, "n_rows": 0, "batch_rows": 0, **dict.fromkeys(FIGURES, np.nan)})
            done += 2 * repeats + 1
            if progress is not None:
                progress(min(done / steps, 1.0), f"{name}: no rows")
            continue
        rng = np.random.default_rng(seed)
        drawn = rng.choice(n, size=single_rows, replace=n < single_rows)
        singles = [frame.iloc[[p]] for p in drawn.tolist()]
        batch_rows = min(batch, n)
        rows = frame.iloc[rng.choice(n, size=batch_rows, replace=False)]
        predict(singles[0])  # warm-up: imports, caches, lazily built state
        per_row: list[float] = []
        per_batch: list[float] = []
        for r in range(repeats):
            per_row.extend(_timings(predict, singles))
            step(f"{name}: single rows, repeat {r + 1} of {repeats}")
        for r in range(repeats):
            per_batch.extend(_timings(predict, [rows]))
            step(f"{name}: batch of {batch_rows:,} rows, repeat {r + 1} of {repeats}")
        peak = _peak_memory(predict, rows)
        step(f"{name}: peak memory")
        row_ms = np.asarray(per_row) * 1000.0
        thousand_ms = np.asarray(per_batch) * 1000.0 * 1000.0 / batch_rows
        out.append({
            "rows": name, "n_rows": n, "batch_rows": batch_rows,
            "per_row_p50_ms": np.percentile(row_ms, 50), "per_row_p95_ms": np.percentile(row_ms, 95),
            "per_1000_p50_ms": np.percentile(thousand_ms, 50),
            "per_1000_p95_ms": np.percentile(thousand_ms, 95), "peak_memory_mb": peak / MIB,
        })  # fmt: skip
    if progress is not None:
        progress(1.0, "done")
    table = pd.DataFrame(out, columns=list(COLUMNS))
    table = table.astype({"n_rows": np.int64, "batch_rows": np.int64, **dict.fromkeys(FIGURES, np.float64)})
    return table.astype({"rows": "str"})


def _check_counts(**counts: Any) -> None:
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}.")


def _timings(predict: Callable[[Any], Any], inputs: list[pd.DataFrame]) -> list[float]:
    """Seconds of ``predict`` on each input, the garbage collector paused."""
    seconds = []
    with _gc_paused():
        for rows in inputs:
            start = perf_counter()
            predict(rows)
            seconds.append(perf_counter() - start)
    return seconds


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _peak_memory(predict: Callable[[Any], Any], rows: pd.DataFrame) -> float:
    """Bytes: tracemalloc's peak during one ``predict(rows)``, above what was traced when it started (a
    trace already running is kept running; its peak is reset)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        predict(rows)
        return float(max(tracemalloc.get_traced_memory()[1] - before, 0))
    finally:
        if started:
            tracemalloc.stop()


def evaluation_qos(
    ev: Evaluation,
    selection: bool = True,
    max_rows: int = 100_000,
    repeats: int = 5,
    progress: Progress | None = None,
    single_rows: int = 50,
    batch: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`measure_qos` of ``ev``'s model on its feature columns: "all rows", and with ``selection``
    the rows the selection keeps ("selection"; left out when it keeps no row or every row). Each frame is
    at most ``max_rows`` rows (a seeded sample), ``n_rows`` says how many.

    The model's ``predict_proba`` is timed for a classification (``predict`` when it has none), its
    ``predict`` for a regression, given rows as the Evaluation gives them (a DataFrame when the model
    has ``feature_names_in_``, else an array).
    """
    model = getattr(ev, "model", None)
    if model is None:
        raise ValueError("ev.qos() times the model: pass model= to Evaluation.")
    _check_counts(max_rows=max_rows, repeats=repeats, single_rows=single_rows, batch=batch)
    method = model.predict if ev.is_regression or not hasattr(model, "predict_proba") else model.predict_proba
    named = hasattr(model, "feature_names_in_")

    def predict(rows: pd.DataFrame) -> Any:
        return method(rows if named else rows.to_numpy())

    if progress is not None:
        progress(0.0, "reading the rows")
    frames = {"all rows": _kept_rows(ev, ALL_ROWS, ev.n_rows, max_rows, seed)}
    if selection and len(ev.selection):
        where = ev.selection.filter()
        kept = ev.selection.n_kept()
        if 0 < kept < ev.n_rows:
            frames["selection"] = _kept_rows(ev, where, kept, max_rows, seed)
    return measure_qos(predict, frames, repeats, single_rows, batch, progress, seed)


def _kept_rows(ev: Evaluation, where: Filter, kept: int, max_rows: int, seed: int) -> pd.DataFrame:
    """The feature columns of the first ``min(kept, max_rows)`` rows ``where`` keeps in the seeded ``random``
    order (as the explainer samples, :class:`~errorscope.explain.EngineRows`): the same rows in the same
    order on every engine, so the same rows are timed; on a SQL engine only those rows are fetched."""
    page = RowPage("random", limit=min(kept, max_rows), seed=seed)
    if ev.in_memory:
        return ev.X.iloc[ev.engine.positions(page, where)]
    return ev.engine.fetch(ev.engine.page(page, where))[list(ev.features)].reset_index(drop=True)
