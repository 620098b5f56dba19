"""Slice discovery against the `sliceline` package on the same coded data (100k rows x 10 features, depth 3).

Run: python benchmarks/discovery_vs_sliceline.py [n_rows ...]   (default: 100000)
Each size runs twice: with the default codes, and with 4 codes per feature (where sliceline fits in memory).
Both search the same lattice (our cached codes, given to sliceline as categorical columns) with the same
score (alpha), minimum support and k; the script prints both times, the ratio, and whether the top slices
agree.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time

import numpy as np
import pandas as pd
from sliceline.slicefinder import Slicefinder

import errorscope as es
from errorscope.discovery import discover_slices


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
    t0 = time.perf_counter()
    ours = discover_slices(  # the search alone, on every row, as sliceline does
        ev, max_level=max_level, min_support=min_support, alpha=alpha, k=k, holdout=0, max_overlap=1
    )
    ours_s = time.perf_counter() - t0
    coded = np.column_stack([ev.codes(c).codes for c in ev.features])
    errors = (ev.true_codes != ev.pred_codes).astype(float)
    print(
        f"rows {n:,}, {len(ev.features)} features, depth {max_level}, alpha {alpha}, "
        f"min_support {min_support}, k {k}"
    )
    print(f"errorscope discover_slices: {ours_s * 1e3:9.1f} ms")
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
    cap = MEMORY_CAP_GB * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    t0 = time.perf_counter()
    try:
        finder = Slicefinder(alpha=alpha, k=k, max_l=max_level, min_sup=min_support, verbose=False)
        finder.fit(coded, errors)
    except MemoryError:
        return "out of memory"
    return time.perf_counter() - t0, [list(row) for row in finder.top_slices_]


if __name__ == "__main__":
    for n_rows in [int(a) for a in sys.argv[1:]] or [100_000]:
        main(n_rows, coarse=False)
        main(n_rows, coarse=True)
    responsiveness(1_000_000)
