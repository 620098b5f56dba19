"""The dashboard end to end, in the kernel: recompute time of every view after one selection change,
bytes sent to the browser (first render and per change), and memory against the input DataFrame's:
the Evaluation's peak while it is built, and what the Evaluation and the views keep (and their peak).

Run: python benchmarks/dashboard.py [n_rows ...]   (default: 10000 100000 1000000; 20 features)
Background work (slice discovery, SHAP samples) is started by a change but not waited for: it is not part
of the recompute time. Bytes are the widget state messages (JSON) plus their binary buffers.

Large sets: python benchmarks/dashboard.py --rows N [--clicks K] [--profile [FILE]]
The time to build the Evaluation and ``es.dashboard(ev)`` (wall and CPU; its first background slice
discovery waited for apart), the median and p90 of K (default 11) confusion-matrix clicks, and the process's peak resident
memory (VmHWM, reset once the frame is built) as a multiple of the frame's ``memory_usage(deep=True)``.
No tracemalloc here (it slows a 10M-row build several times). ``--profile``: cProfile of the build, the
top functions by own and by cumulative CPU time printed (and the stats saved to FILE).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import itertools
import json
import pstats
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import ipywidgets
import numpy as np
from _synthetic import binary_data, binary_evaluation
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


def _status_bytes(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status (this measurement needs Linux)")


def _reset_peak() -> None:
    """Start VmHWM again from the current resident memory (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    Path("/proc/self/clear_refs").write_text("5")


def measure_large(n: int, clicks: int = 11, profile: str | None = None) -> str:
    """Build time, click time and peak memory of a dashboard over ``n`` rows x 20 features (+ sex)."""
    data, y_true, score = binary_data(n)
    data["sex"] = np.random.default_rng(3).choice(np.array(["F", "M"]), n)
    frame = data.memory_usage(deep=True).sum()
    gc.collect()
    _reset_peak()
    before = _status_bytes("VmRSS")
    profiler = cProfile.Profile(time.process_time) if profile is not None else None  # CPU: robust to load
    c0, t0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    ev = es.Evaluation(data, y_true, y_score=score, sensitive="sex")
    t_ev = time.perf_counter() - t0
    board = es.dashboard(ev, store=Path(tempfile.mkdtemp()) / "tags.sqlite")
    if profiler:
        profiler.disable()
    t_board = time.perf_counter() - t0 - t_ev
    cpu_build = time.process_time() - c0
    build_peak = _status_bytes("VmHWM")
    t1 = time.perf_counter()
    board.slice_browser.wait_for_discovery(timeout=600)
    t_discovery = time.perf_counter() - t1
    board.slice_browser._auto_discover = False  # time the recompute itself, as in measure()
    cells = itertools.cycle([(1, 0), (0, 1), (1, 1), (0, 0)])
    c1 = time.process_time()
    recompute = timed_ms(lambda: board.confusion_matrix.select_cells(cells=[next(cells)]), clicks)
    cpu_click = (time.process_time() - c1) / clicks * 1e3
    peak = _status_bytes("VmHWM")
    retained = _status_bytes("VmRSS")
    board.close()
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        if profile:
            stats.dump_stats(profile)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(45)
    gb = 2**30
    return (
        f"{n:>11,} {frame / gb:>8.2f} {t_ev:>8.1f} {t_board:>8.1f} {t_ev + t_board:>8.1f} {cpu_build:>7.1f} "
        f"{t_discovery:>9.1f} {recompute[0]:>9.0f} {recompute[1]:>7.0f} {cpu_click:>7.0f} "
        f"{before / frame:>7.2f} {build_peak / frame:>7.2f} "
        f"{peak / frame:>7.2f} {retained / frame:>8.2f} {peak / gb:>7.1f}"
    )


LARGE_HEADER = (
    f"{'rows':>11} {'frame GB':>8} {'ev s':>8} {'board s':>8} {'ready s':>8} {'cpu s':>7} {'discov. s':>9} "
    f"{'click ms':>9} {'p90':>7} {'cpu ms':>7} {'start':>7} {'build':>7} {'peak':>7} {'retained':>8} "
    f"{'peak GB':>7}"
)


def main_large(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="The dashboard over a large synthetic set.")
    parser.add_argument("--rows", type=int, nargs="+", required=True)
    parser.add_argument("--clicks", type=int, default=11)
    parser.add_argument("--profile", nargs="?", const="", default=None, metavar="FILE")
    args = parser.parse_args(argv)
    print(
        "Times: Evaluation, es.dashboard, both (ready) and the CPU time of both (all threads, which a shared "
        "machine's load does not inflate), then the first discovery; click median, p90 and mean CPU (ms)."
    )
    print("Memory as multiples of the frame (memory_usage(deep=True)): resident before the Evaluation,")
    print("peak while building, peak with the discovery and clicks, resident at the end; peak in GiB.")
    print(LARGE_HEADER)
    for n in args.rows:
        print(measure_large(n, args.clicks, args.profile), flush=True)


if __name__ == "__main__":
    if any(a.startswith("--") for a in sys.argv[1:]):
        main_large(sys.argv[1:])
        sys.exit()
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
    print(
        f"{'rows':>10} {'recompute ms':>12} {'p90':>8} {'first render kB':>14} {'per change kB':>12} "
        f"{'memory / input: Evaluation peak, dashboard retained, dashboard peak':>30}"
    )
    for size in sizes:
        print(measure(size), flush=True)
