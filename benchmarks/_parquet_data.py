"""Seeded Parquet evaluation sets of n rows x 20 columns, written by DuckDB outside the repository.

Columns: ``id`` (BIGINT), ``label`` (0/1), ``score`` (the positive class's probability, 3 decimals as a
scored log stores it), ``sex`` ('F'/'M'), ``x0..x7`` (floats) and ``c1..c8`` (text of 3 to 50 values).
Every value is a hash of the row number, so a file is the same whatever the thread count.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

CACHE = Path(os.environ.get("ERRORSCOPE_BENCH_DIR", "/tmp/errorscope-bench"))
CARDINALITIES = [8, 25, 5, 3, 50, 7, 12, 4]  # c1..c8


def _uniform(i: int) -> str:
    """A uniform float in [0, 1) per row, the ``i``-th stream."""
    return f"(hash(r * 31 + {i}) % 1000003) / 1000003.0"


def parquet_path(n_rows: int) -> Path:
    """The file of ``n_rows`` rows, generated with DuckDB the first time (reused after)."""
    path = CACHE / f"eval_{n_rows}.parquet"
    if path.exists():
        return path
    import duckdb

    CACHE.mkdir(parents=True, exist_ok=True)
    numbers = [f"{_uniform(i)} * 4 - 2 AS x{i}" for i in range(8)]
    texts = [
        f"chr(97 + CAST(floor(pow({_uniform(10 + i)}, 1.5) * {k}) AS INTEGER) % 26)"
        f" || CAST(CAST(floor(pow({_uniform(10 + i)}, 1.5) * {k}) AS INTEGER) AS VARCHAR) AS c{i + 1}"
        for i, k in enumerate(CARDINALITIES)
    ]
    logit = "x0 + 0.5 * x1 - 0.8 * (c1 = 'a0')::INTEGER + 0.6 * (x2 > 1)::INTEGER"
    sql = f"""
        COPY (
          SELECT r AS id,
                 ({_uniform(30)} < 1 / (1 + exp(-({logit}) * 1.3)))::INTEGER AS label,
                 round(1 / (1 + exp(-({logit}))), 3) AS score,
                 CASE WHEN {_uniform(31)} < 0.48 THEN 'F' ELSE 'M' END AS sex,
                 {", ".join(f"x{i}" for i in range(8))}, {", ".join(f"c{i + 1}" for i in range(8))}
          FROM (SELECT r, {", ".join(numbers)}, {", ".join(texts)} FROM range({n_rows}) t(r))
        ) TO '{path}.tmp' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
    """
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET memory_limit = '2GB'")
    con.execute("SET preserve_insertion_order = true")
    t0 = time.perf_counter()
    con.execute(sql)
    os.replace(f"{path}.tmp", path)
    print(
        f"generated {path} ({path.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    return path


if __name__ == "__main__":
    import sys

    for size in [int(a) for a in sys.argv[1:]] or [1_000_000, 10_000_000, 30_000_000, 100_000_000]:
        parquet_path(size)
