"""One pandas frame as an Evaluation on each engine (in memory, DuckDB over Parquet, Spark).

A local builder for the lazy views' tests until the shared engine fixture (tests/engines.py, from the
"oracles" work) lands on main: the lead unifies the two.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import errorscope as es

ENGINES = ("numpy", "duckdb", pytest.param("spark", marks=pytest.mark.spark))


def evaluation_on(
    engine: str, request: pytest.FixtureRequest, frame: pd.DataFrame, **arguments: Any
) -> es.Evaluation:
    """``es.Evaluation(frame, **arguments)`` on ``engine``: the frame, a Parquet file of it (DuckDB), or a
    Spark DataFrame of it."""
    if engine == "numpy":
        return es.Evaluation(frame, **arguments)
    if engine == "duckdb":
        path = request.getfixturevalue("tmp_path_factory").mktemp("parquet") / "data.parquet"
        frame.to_parquet(path, index=False)
        source: Any = str(path)
    else:
        rows = frame.astype(object).where(frame.notna(), None)  # NaN in a text column would be "NaN"
        source = request.getfixturevalue("spark").createDataFrame(rows)
    ev = es.Evaluation(source, **arguments)
    assert ev.engine == engine
    return ev
