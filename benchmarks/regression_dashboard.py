"""The regression dashboard in the kernel: every view recomputed after one brush on the residual plot.

Run: python benchmarks/regression_dashboard.py [n_rows ...]   (default: 100000 1000000; 20 features)
A brush is a range of residuals (as the residual histogram sends it), alternating among four; its
recompute is the Selection's change and every other view's (crossfilter) recompute, as one click in the
browser costs in the kernel. Background work (slice discovery, SHAP) is not waited for. Also the bytes
one brush sends to the browser (JSON state plus binary buffers).
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import ipywidgets
import numpy as np
from _synthetic import regression_data
from selection_recompute import timed_ms

import errorscope as es

SENT: list[int] = []


def _count_send(self: ipywidgets.Widget, msg: dict, buffers: list | None = None) -> None:  # type: ignore[type-arg]
    SENT.append(len(json.dumps(msg, default=str)) + sum(len(memoryview(b).cast("B")) for b in buffers or []))


def measure(n: int) -> str:
    ipywidgets.Widget._send = _count_send
    data, y_true, y_pred = regression_data(n)
    data["group"] = np.random.default_rng(3).choice(np.array(["F", "M"]), n)
    t0 = time.perf_counter()
    ev = es.Evaluation(data, y_true, y_pred=y_pred, sensitive="group", task="regression")
    board = es.dashboard(ev, store=Path(tempfile.mkdtemp()) / "tags.sqlite")
    ready = time.perf_counter() - t0
    plot = board.residual_plot
    if board.slice_browser is not None:
        board.slice_browser._auto_discover = (
            False  # time the recompute itself; discovery runs in the background
        )
    n_bins = len(plot.histogram_table)
    ranges = itertools.cycle(
        [(0, n_bins // 3), (n_bins // 2, n_bins - 1), (n_bins // 4, n_bins // 2), (1, 2)]
    )

    def brush() -> None:  # a range of the residual histogram's bins, as the browser sends it
        plot.select_bins("histogram", next(ranges))

    recompute = timed_ms(brush, 31)
    SENT.clear()
    brush()
    per_change = sum(SENT)
    board.close()
    return f"{n:>10,} {ready:>8.1f} {recompute[0]:>10.1f} {recompute[1]:>8.1f} {per_change / 1e3:>10.1f}"


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [100_000, 1_000_000]
    print(f"{'rows':>10} {'ready s':>8} {'brush ms':>10} {'p90':>8} {'sent kB':>10}")
    for n in sizes:
        print(measure(n), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
