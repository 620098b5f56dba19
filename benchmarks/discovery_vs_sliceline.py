"""Slice discovery against the `sliceline` package on the same coded data (100k rows x 10 features, depth 3),
and on the DuckDB engine (Parquet) with one GROUPING SETS query per level against one query per combination.

Run: python benchmarks/discovery_vs_sliceline.py [n_rows ...]   (default: 100000)
     python benchmarks/discovery_vs_sliceline.py --duckdb [n_rows ...]   (default: 1000000)
Each size runs twice: with the default codes, and with 4 codes per feature (where sliceline fits in memory).
Both search the same lattice (our cached codes, given to sliceline as categorical columns) with the same
score (alpha), minimum support and k; the script prints both times (the median of 7 for ours), the ratio,
and whether the top slices agree. Without sliceline installed (it is not a dependency) only ours is timed.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd

import errorscope as es
from errorscope.discovery import discover_slices
from errorscope.engines import Engine


def planted_evaluation(
    n: int, n_features: int = 10, seed: int = 0, values: str = "abcdefgh"
) -> es.Evaluation:
    """Half numeric, half categorical features; 10% noise errors plus a 2-feature failure slice."""
    rng = np.random.default_rng(seed)
    cols = {f"f{i}": rng.choice(list(values), n) if i % 2 else rng.normal(size=n) for i in range(n_features)}
    data = pd.DataFrame(cols)
    y = rng.integers(0, 2, n)
    wrong = rng.random(n) < 0.1
    wrong |= ((data["f1"] == "a") & (data["f2"] > 1.0)).to_numpy() & (rng.random(n) < 0.6)
    return es.Evaluation(data, y, y_pred=np.where(wrong, 1 - y, y))


def main(n: int, coarse: bool) -> None:
    ev = planted_evaluation(n, values="abcd" if coarse else "abcdefgh")
    alpha, k, max_level, min_support = 0.95, 10, 3, max(10, n // 100)
    for c in ev.features:
        if coarse and c in ("f0", "f2", "f4", "f6", "f8"):
            ev.set_bins(c, 4)
        ev.codes(c)  # coded once per Evaluation, as in the widget; not part of either search
    print("coarse codes (4 per feature)" if coarse else "default codes (8 values, 10 quantile bins)")
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        ours = discover_slices(  # the search alone, on every row, as sliceline does
            ev, max_level=max_level, min_support=min_support, alpha=alpha, k=k, holdout=0, max_overlap=1
        )
        times.append(time.perf_counter() - t0)
    ours_s = statistics.median(times)
    coded = np.column_stack([ev.codes(c).codes for c in ev.features])
    errors = (ev.true_codes != ev.pred_codes).astype(float)
    print(
        f"rows {n:,}, {len(ev.features)} features, depth {max_level}, alpha {alpha}, "
        f"min_support {min_support}, k {k}"
    )
    print(f"errorscope discover_slices: {ours_s * 1e3:9.1f} ms (median of 7, min {min(times) * 1e3:.1f})")
    if importlib.util.find_spec("sliceline") is None:
        print("sliceline Slicefinder.fit:   not installed (pip install sliceline to compare)")
        return
    with multiprocessing.get_context("fork").Pool(1) as pool:  # a memory cap keeps an OOM contained
        result = pool.apply(_sliceline, (coded, errors, alpha, k, max_level, min_support))
    if isinstance(result, str):
        print(f"sliceline Slicefinder.fit:   failed ({result}) with {MEMORY_CAP_GB} GB of memory")
        return
    theirs_s, top = result
    theirs = [
        ", ".join(
            ev.codes(c).predicates[int(v)].text
            for c, v in zip(ev.features, row, strict=True)
            if v is not None
        )
        for row in top
    ]
    ours_top = list(ours["slice"])
    agree = sum(1 for s in theirs if s in ours_top)
    print(f"sliceline Slicefinder.fit:   {theirs_s * 1e3:9.1f} ms")
    print(f"ratio (sliceline / errorscope): {theirs_s / ours_s:.1f}x")
    print(f"top slice: ours {ours_top[0]!r}; sliceline {theirs[0] if theirs else None!r}")
    print(f"sliceline's top-{len(theirs)} slices also in ours: {agree}/{len(theirs)}")


def responsiveness(n: int) -> None:
    """Kernel work while a SliceBrowser discovers in the background: a ConfusionMatrix click's recompute."""
    from selection_recompute import timed_ms

    ev = planted_evaluation(n)
    view = es.SliceBrowser(ev, discover=False)
    cm = es.ConfusionMatrix(ev)
    cells = iter([(1, 0), (0, 1)] * 100)
    idle = timed_ms(lambda: cm.select_cells(cells=[next(cells)]))
    cm.clear()
    view.discover()
    busy = timed_ms(lambda: cm.select_cells(cells=[next(cells)]), repeat=11)
    view.cancel_discovery()
    cm.clear()
    t0 = time.perf_counter()
    view.discover()
    view.wait_for_discovery(600)
    alone = time.perf_counter() - t0
    print(
        f"responsiveness at {n:,} rows: a matrix click takes {idle[0]:.0f} ms idle, {busy[0]:.0f} ms median "
        f"(p90 {busy[1]:.0f}) while discovery runs in the background (the discovery itself: {alone:.1f} s)"
    )


MEMORY_CAP_GB = 12


def _sliceline(coded: np.ndarray, errors: np.ndarray, alpha: float, k: int, max_level: int, min_support: int):
    """Time Slicefinder.fit in this (child) process, under a memory cap; a message if it fails."""
    from sliceline.slicefinder import Slicefinder

    cap = MEMORY_CAP_GB * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    t0 = time.perf_counter()
    try:
        finder = Slicefinder(alpha=alpha, k=k, max_l=max_level, min_sup=min_support, verbose=False)
        finder.fit(coded, errors)
    except MemoryError:
        return "out of memory"
    return time.perf_counter() - t0, [list(row) for row in finder.top_slices_]


def on_duckdb(n: int) -> None:
    """Discovery (defaults: held-out half, depth 3) on a Parquet file of the planted data: one GROUPING SETS
    query per level (what the engine does) against one grouped query per combination (Engine's default)."""
    ev = planted_evaluation(n)
    frame = ev.data.assign(y=ev.y_true, pred=ev.y_pred)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "planted.parquet"
        frame.to_parquet(path, index=False)
        lazy = es.Evaluation(str(path), y_true="y", y_pred="pred")
        for c in lazy.features:
            lazy.codes(c)  # profiled (or coded) once per Evaluation, as in the widget
            ev.codes(c)
        t0 = time.perf_counter()
        in_memory = discover_slices(ev)
        memory_s = time.perf_counter() - t0
        figures = {}
        for name in ("grouping sets", "one query per combination"):
            if name != "grouping sets":
                lazy.engine.grouping_sets = types.MethodType(Engine.grouping_sets, lazy.engine)
            t0 = time.perf_counter()
            found = discover_slices(lazy)
            figures[name] = time.perf_counter() - t0
            assert list(found["slice"]) == list(in_memory["slice"]), name
        print(f"rows {n:,} x {len(ev.features)} features, Parquet on DuckDB, depth 3, held-out half:")
        print(f"  numpy engine (frame in memory)       {memory_s * 1e3:9.0f} ms")
        for name, seconds in figures.items():
            print(f"  duckdb, {name:28s} {seconds * 1e3:9.0f} ms")
        print(f"  same {len(found)} slices as in memory: yes")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--duckdb"]:
        for n_rows in [int(a) for a in arguments[1:]] or [1_000_000]:
            on_duckdb(n_rows)
        sys.exit()
    for n_rows in [int(a) for a in arguments] or [100_000]:
        main(n_rows, coarse=False)
        main(n_rows, coarse=True)
    responsiveness(1_000_000)
