"""Kernel time to recompute every single-column slice on a crossfilter mask (target: <= 50 ms at 1M x 20).

Run: python benchmarks/slice_table.py [n_rows ...]   (default: 100000 1000000)
Columns: the bincount pass alone (the engine's Marginals plan), the whole table (stats, BH, sorting), and the same
table computed with one pandas groupby per column as a reference point.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from _synthetic import binary_evaluation
from selection_recompute import timed_ms

from errorscope.slicing import slice_columns, slice_counts, slice_table


def measure(n: int) -> str:
    ev = binary_evaluation(n, n_features=20)
    mask = np.random.default_rng(1).random(n) < 0.5
    slice_table(ev, mask)  # builds and caches codes and the packed index, as the first view does
    columns = slice_columns(ev)
    where = ev.engine.as_filter(mask)
    counts = timed_ms(lambda: slice_counts(ev, columns, 1, where))
    table = timed_ms(lambda: slice_table(ev, mask))
    unmasked = timed_ms(lambda: slice_table(ev))
    wrong = pd.Series(ev.true_codes != ev.pred_codes)[mask]
    data = ev.data[mask]
    groupby = timed_ms(
        lambda: [wrong.groupby(data[c].to_numpy()).agg(["size", "sum"]) for c in ev.features], 3
    )
    return (
        f"{n:>10,} {len(columns):>8} {counts[0]:>10.1f} {table[0]:>10.1f} {table[1]:>8.1f} "
        f"{unmasked[0]:>10.1f} {groupby[0]:>12.1f}"
    )


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]
    print(
        f"{'rows':>10} {'columns':>8} {'counts ms':>10} {'table ms':>10} {'p90':>8} {'no mask':>10} "
        f"{'groupby ms':>12}"
    )
    for n in sizes:
        print(measure(n), flush=True)
