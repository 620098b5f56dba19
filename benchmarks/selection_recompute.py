"""Kernel time for one selection change to recompute every linked view; confusion counts vs sklearn.

Run: python benchmarks/selection_recompute.py [n_rows ...]   (default: 100000 1000000)
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable

import numpy as np
from _synthetic import binary_evaluation
from sklearn.metrics import confusion_matrix

import errorscope as es
from errorscope.metrics import confusion_counts


def timed_ms(fn: Callable[[], object], repeat: int = 21) -> tuple[float, float]:
    """Median and 90th percentile of ``repeat`` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times)), float(np.percentile(times, 90))


def measure(n: int) -> str:
    """One line of figures for an n-row synthetic Evaluation shown in two linked ConfusionMatrix views."""
    ev = binary_evaluation(n)
    views = [es.ConfusionMatrix(ev), es.ConfusionMatrix(ev)]
    rng = np.random.default_rng(1)
    masks = itertools.cycle([rng.random(n) < 0.3 for _ in range(4)])
    cells = itertools.cycle([(1, 0), (0, 1)])
    thresholds = itertools.cycle([0.3, 0.6])
    click = timed_ms(lambda: views[0].select_cells(cells=[next(cells)]))
    mask = timed_ms(lambda: ev.select(next(masks), source="bench"))
    threshold = timed_ms(lambda: setattr(ev, "threshold", next(thresholds)))
    y_true, y_pred = ev.true_codes, ev.pred_codes
    ours = timed_ms(lambda: confusion_counts(y_true, y_pred, 2))
    sklearn = timed_ms(lambda: confusion_matrix(y_true, y_pred), repeat=5)
    assert (confusion_counts(y_true, y_pred, 2) == confusion_matrix(y_true, y_pred)).all()
    for view in views:
        view.close()
    return (
        f"{n:>10,} {click[0]:>10.2f} {click[1]:>8.2f} {mask[0]:>10.2f} {threshold[0]:>10.2f} "
        f"{ours[0]:>10.2f} {sklearn[0]:>10.2f} {sklearn[0] / ours[0]:>7.1f}x"
    )


def main(sizes: list[int]) -> None:
    print("Kernel time (ms) for one change to recompute both linked views (median, p90 of 21):")
    print(
        f"{'rows':>10} {'cell med':>10} {'cell p90':>8} {'mask sel':>10} {'threshold':>10} "
        f"{'counts':>10} {'sklearn':>10} {'ratio':>8}"
    )
    for n in sizes:
        print(measure(n))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
