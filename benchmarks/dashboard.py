"""The dashboard end to end, in the kernel: recompute time of every view after one selection change,
bytes sent to the browser (first render and per change), and memory against the input DataFrame's:
the Evaluation's peak while it is built, and what the Evaluation and the views keep (and their peak).

Run: python benchmarks/dashboard.py [n_rows ...]   (default: 10000 100000 1000000; 20 features)
Background work (slice discovery, SHAP samples) is started by a change but not waited for: it is not part
of the recompute time. Bytes are the widget state messages (JSON) plus their binary buffers.
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
import tracemalloc
from pathlib import Path

import ipywidgets
import numpy as np
from _synthetic import binary_evaluation
from selection_recompute import timed_ms

import errorscope as es

SENT: list[int] = []


def _count_send(self: ipywidgets.Widget, msg: dict, buffers: list | None = None) -> None:  # type: ignore[type-arg]
    SENT.append(len(json.dumps(msg, default=str)) + sum(len(memoryview(b).cast("B")) for b in buffers or []))


def measure(n: int) -> str:
    ipywidgets.Widget._send = _count_send  # count what would go to the browser
    source = binary_evaluation(n)
    data = source.data.assign(sex=np.random.default_rng(3).choice(["F", "M"], n))
    input_bytes = data.memory_usage(deep=True).sum()
    tracemalloc.start()  # the Evaluation alone, then with the views' caches and state, beyond the input
    ev = es.Evaluation(data, source.y_true, y_score=source.scores[:, 1], sensitive="sex")
    ev_peak = tracemalloc.get_traced_memory()[1]
    SENT.clear()
    board = es.dashboard(ev, store=Path(tempfile.mkdtemp()) / "tags.sqlite")
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    for view in board.views:
        view.send_state()  # what the first render sends
    first_render = sum(SENT)
    board.slice_browser._auto_discover = False  # time the recompute itself; discovery runs in the background
    cells = itertools.cycle([(1, 0), (0, 1), (1, 1), (0, 0)])
    recompute = timed_ms(lambda: board.confusion_matrix.select_cells(cells=[next(cells)]), 31)
    SENT.clear()
    board.confusion_matrix.select_cells(cells=[next(cells)])
    per_change = sum(SENT)
    board.close()
    return (
        f"{n:>10,} {recompute[0]:>12.1f} {recompute[1]:>8.1f} {first_render / 1e3:>14.1f} {per_change / 1e3:>12.1f} "
        f"{ev_peak / input_bytes:>10.2f} {retained / input_bytes:>10.2f} {peak / input_bytes:>8.2f}"
    )


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
    print(
        f"{'rows':>10} {'recompute ms':>12} {'p90':>8} {'first render kB':>14} {'per change kB':>12} "
        f"{'memory / input: Evaluation peak, dashboard retained, dashboard peak':>30}"
    )
    for size in sizes:
        print(measure(size), flush=True)
