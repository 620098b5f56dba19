"""The slice browser's counts on Spark: one grouped query per column against one unpivoted query.

Every single-column slice table (each column's codes x the outcome) of the Adult test split's first n rows
on a local[2] Spark session: ``LazyEngine._unpivoted_marginals`` (one job: the rows unpivoted to (column, code,
outcome), then one grouped count) against one ``GroupCounts`` query per column, as the DuckDB engine does.
Both give the same tables (checked); the variants run interleaved, median of ``ROUNDS``.

Run: python benchmarks/spark_marginals.py [n_rows]   (default 3000; needs Java 17 and pyspark)
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

ROUNDS = 3


def main(n: int) -> None:
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    import errorscope as es
    from errorscope.plans import ALL_ROWS, GroupCounts, Key, Marginals
    from errorscope.slicing import slice_columns, slice_key

    spark = (
        SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1").getOrCreate()
    )  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    df = es.datasets.load_adult("test").iloc[:n].reset_index(drop=True)
    df["p"] = np.random.default_rng(0).random(len(df))
    rows = df.astype(object).where(df.notna(), None)
    ev = es.Evaluation(spark.createDataFrame(rows).localCheckpoint(), y_true="income", y_score="p")
    engine = ev.engine
    plan = Marginals(tuple(slice_key(c) for c in slice_columns(ev)), (Key.outcome(1),))
    variants = {
        # the private methods: the public ones answer a repeated plan from the engine's cache
        "one unpivoted query": lambda: engine._unpivoted_marginals(plan, ALL_ROWS),
        "one query per column": lambda: [
            engine.scan_count(GroupCounts((c, *plan.by)), ALL_ROWS).counts for c in plan.columns
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    results = {}
    for _ in range(ROUNDS):
        for name, run in variants.items():
            start = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - start)
    for a, b in zip(*results.values(), strict=True):
        np.testing.assert_array_equal(a, b)
    print(f"{len(plan.columns)} slice columns x outcome, {n:,} rows, Spark local[2]; s, median of {ROUNDS}")
    for name, values in times.items():
        print(
            f"{name:<24} {statistics.median(values):7.2f}   (runs: {', '.join(f'{v:.2f}' for v in values)})"
        )
    spark.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
