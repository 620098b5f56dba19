"""One pandas frame as an Evaluation on each engine, so an oracle test runs the same assertion on each.

``ENGINES`` parametrises a test or a fixture over "numpy" (the frame in memory), "duckdb" (the frame
written to a Parquet file) and "spark" (a local Spark DataFrame, from the session ``spark`` fixture; the
param carries the ``spark`` marker, so ``-m "not spark"`` skips it). :func:`evaluation_on` builds the
Evaluation; :func:`where` turns query text or a clause into the Filter the library functions take, and
:func:`pandas_rows` is the oracle of which rows a predicate keeps. The ``engine`` and ``on_engine`` fixtures
(tests/conftest.py) build each dataset's Evaluation once per module and engine (a Spark query costs
0.3-1 s) and :func:`reset` it after each test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope.plans import ALL_ROWS, Filter
from errorscope.query import parse
from errorscope.selection import Clause, Predicate

ENGINES = ("numpy", "duckdb", pytest.param("spark", marks=pytest.mark.spark))
ROLE_ARGUMENTS = ("y_true", "y_pred", "y_score", "ids")


def order_statistics_frame(n: int) -> pd.DataFrame:
    """Columns that make quantile bins hard: ``skewed`` (log-normal), ``ties`` (40 values), ``wide``
    (normal, every 50th missing); ``y`` and ``s`` a label and a score."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "skewed": np.exp(rng.normal(0, 3, n)), "ties": rng.integers(0, 40, n) * 0.5,
        "wide": rng.normal(size=n), "y": rng.integers(0, 2, n), "s": rng.random(n),
    })  # fmt: skip
    frame.loc[::50, "wide"] = np.nan
    return frame


def spark_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with missing values as None (pandas' NaN in a text column would reach Spark as "NaN") and
    datetimes as Python datetimes (Spark reads a pandas Timestamp object as an empty struct)."""
    rows = frame.astype(object).where(frame.notna(), None)
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            rows[column] = [None if pd.isna(v) else v.to_pydatetime() for v in frame[column]]
    return rows


def role_columns(frame: pd.DataFrame, arguments: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Role arguments given as arrays (``y_pred=``, an (n,) or (n, k) ``y_score=``) as columns of the frame
    named by the arguments: a SQL source's roles are columns, and every engine then reads the same data."""
    frame, arguments = frame.reset_index(drop=True), dict(arguments)
    for role in ROLE_ARGUMENTS:
        value = arguments.get(role)
        named = isinstance(value, str) or (isinstance(value, list) and isinstance(value[0], str))
        if value is None or named or isinstance(value, dict):  # columns already (a dict: per model)
            continue
        values = np.asarray(value)
        if values.ndim == 1:
            frame[f"es_{role}"] = values
            arguments[role] = f"es_{role}"
        else:
            names = [f"es_{role}_{i}" for i in range(values.shape[1])]
            frame = frame.assign(**dict(zip(names, values.T, strict=True)))
            arguments[role] = names
    return frame, arguments


def evaluation_on(
    engine: str, request: pytest.FixtureRequest, frame: pd.DataFrame, **arguments: Any
) -> es.Evaluation:
    """``es.Evaluation(frame, **arguments)`` on ``engine``: the frame itself ("numpy"), a Parquet file of it
    read by DuckDB, or a Spark DataFrame of it (``request`` gives ``tmp_path_factory`` and ``spark``).
    Array role arguments become columns first (:func:`role_columns`), on every engine alike."""
    frame, arguments = role_columns(frame, arguments)
    if engine == "numpy":
        return es.Evaluation(frame, **arguments)
    if engine == "duckdb":
        path = request.getfixturevalue("tmp_path_factory").mktemp("parquet") / "data.parquet"
        frame.to_parquet(path, index=False)
        source: Any = str(path)
    elif engine == "spark":
        source = request.getfixturevalue("spark").createDataFrame(spark_rows(frame))
        for column in frame.columns:  # naive datetimes stay naive (Spark's TIMESTAMP has the session's zone)
            if pd.api.types.is_datetime64_any_dtype(frame[column]) and frame[column].dt.tz is None:
                source = source.withColumn(column, source[column].cast("timestamp_ntz"))
    else:
        raise ValueError(f"engine must be one of numpy, duckdb, spark; got {engine!r}")
    ev = es.Evaluation(source, **arguments)
    assert ev.engine == engine
    return ev


def reset(ev: es.Evaluation) -> None:
    """Close every view still linked to ``ev`` and clear its selection: the next test starts afresh (and a
    forgotten view does not recompute on every later click, a Spark query each)."""
    from errorscope.widgets.base import LinkedView

    for callback in list(ev.selection._observers):
        view = getattr(callback, "__self__", None)
        if isinstance(view, LinkedView):
            view.close()
    ev.selection.clear()


def where(ev: es.Evaluation, rows: str | Clause | Predicate) -> Filter:
    """Query text, a clause or a predicate as the Filter ``slice_table`` and ``group_metrics`` take (the
    selection is left alone); empty text keeps every row."""
    if isinstance(rows, str) and not rows.strip():
        return ALL_ROWS
    if isinstance(rows, Predicate):
        rows = Clause.where("test", rows)
    clause = parse(rows, "test", ev.query_name) if isinstance(rows, str) else rows
    return Filter((("test", clause.text),), (ev.engine.resolve(clause),))


def pandas_rows(values: pd.Series, predicate: Predicate) -> np.ndarray:
    """The rows of ``values`` that ``predicate`` keeps, by pandas (the oracle of what a slice selects)."""
    present = values.notna().to_numpy()
    if predicate.op == "isna":
        keep = ~present
    elif predicate.op == "in":
        keep = values.isin(predicate.values).to_numpy()
    elif predicate.op == "not in":
        keep = ~values.isin(predicate.values).to_numpy() & present
    elif predicate.op == "between":
        lo, hi = predicate.values
        keep = present.copy()
        if lo is not None:
            keep &= (values >= lo).fillna(False).to_numpy(dtype=bool)
        if hi is not None:
            keep &= (values < hi).fillna(False).to_numpy(dtype=bool)
    elif predicate.op in ("<", "<=", ">", ">=", "=="):
        compare = {"<": values.lt, "<=": values.le, ">": values.gt, ">=": values.ge, "==": values.eq}
        keep = compare[predicate.op](predicate.values[0]).fillna(False).to_numpy(dtype=bool) & present
    else:
        raise ValueError(f"pandas_rows: predicates of op {predicate.op!r} are not sliced")
    return ~keep if predicate.negated else keep
