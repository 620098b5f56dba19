"""Several models: the model comparer alone, and the whole dashboard with it, recomputed after one click,
with three models over the same rows (in memory; ``--parquet``: on DuckDB over a Parquet file of them).

Run: python benchmarks/model_comparison.py [n_rows ...] [--models K] [--parquet]
     (default: 100000 1000000 rows, 3 models; 20 features and a sensitive column)
Each change is a new selection (``num0 > t``, a new t each time: no answer is cached, as after a click on
something not clicked before; two changes first warm the counters); the time is the kernel's, from the
change to every view's new traits (background work such as slice discovery started by it is not waited
for).
Each model's scores are the synthetic scores with their own seeded noise, so the models disagree on
about a tenth of the rows.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from _synthetic import binary_data
from selection_recompute import timed_ms

import errorscope as es


def models_frame(n: int, k: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """The synthetic data with ``k`` models' P(1) as columns ``p0``, ``p1``... and the label ``y``."""
    data, y_true, score = binary_data(n)
    rng = np.random.default_rng(11)
    logit = np.log(score / (1 - score))
    columns = {
        f"p{i}": 1 / (1 + np.exp(-(logit + rng.normal(scale=0.4 + 0.2 * i, size=n)))) for i in range(k)
    }
    frame = data.assign(y=y_true, sex=rng.choice(np.array(["F", "M"]), n), **columns)
    return frame, {f"model{i}": f"p{i}" for i in range(k)}


def _new_selections(ev: es.Evaluation) -> Callable[[], object]:
    """A change to a selection not made before, each call (after two that warm the counters)."""
    thresholds = itertools.count()

    def change() -> object:
        return ev.select(f"num0 > {-1.5 + 0.01 * next(thresholds)}")

    change()
    change()
    return change


def measure(n: int, k: int, parquet: bool) -> str:
    frame, scores = models_frame(n, k)
    source: object = frame
    if parquet:
        path = Path(tempfile.mkdtemp()) / "models.parquet"
        frame.to_parquet(path, index=False)
        source = str(path)
    t0 = time.perf_counter()
    ev = es.Evaluation(source, "y", y_score=scores, sensitive="sex")
    matrix, comparer = es.ConfusionMatrix(ev), es.ModelComparer(ev)
    ready = time.perf_counter() - t0
    alone = timed_ms(_new_selections(ev), 21)
    matrix.close()
    comparer.close()
    board = es.dashboard(ev, store=Path(tempfile.mkdtemp()) / "tags.sqlite")
    board.slice_browser._auto_discover = False  # the recompute itself; discovery runs in the background
    whole = timed_ms(_new_selections(ev), 21)
    board.close()
    engine = "duckdb" if parquet else "numpy"
    return f"{n:>10,} {k:>6} {engine:>7} {ready:>8.1f} {alone[0]:>12.1f} {alone[1]:>8.1f} {whole[0]:>14.1f} {whole[1]:>8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--parquet", action="store_true")
    args = parser.parse_args()
    print(
        f"{'rows':>10} {'models':>6} {'engine':>7} {'ready s':>8} {'comparer ms':>12} {'p90':>8} "
        f"{'dashboard ms':>14} {'p90':>8}"
    )
    for n in args.rows:
        print(measure(n, args.models, args.parquet), flush=True)


if __name__ == "__main__":
    main()
