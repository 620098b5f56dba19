"""The views over Parquet on DuckDB from 1M to 100M rows x 20 columns, and over Spark local[2] at 10M.

Per size, in a child process (its peak RSS is its own): time to build the Evaluation and the views
(``es.dashboard(ev)`` when it runs on a lazy engine, else the views that do: overview, selection bar,
confusion matrix, slice browser, group comparer), then clicks with every view recomputed, median of
``CLICKS`` after one warm-up: a matrix cell, a slice (cycling over the columns), a group; then a free-text
query filter (a scan). Reported per click: how many plans the pre-aggregated tables answered and how many
scanned, and the time spent in scans (the slice browser's row page is always one).
The data: :mod:`_parquet_data`, written once by DuckDB under $ERRORSCOPE_BENCH_DIR (/tmp/errorscope-bench).

A regression (``--regression``): the same files with a numeric target and prediction computed in the query
(``REGRESSION_SQL``: a DuckDB relation over the Parquet file), the dashboard with the residual plot in the
matrix's place; clicks are residual-histogram brushes, slices and groups.

Run: python benchmarks/duckdb_scale.py [n_rows ...]   (default: 1000000 10000000 30000000 100000000)
     python benchmarks/duckdb_scale.py --regression [n_rows ...]
     python benchmarks/duckdb_scale.py --spark [n_rows]   (default 10000000: one click, bytes to the driver)
     python benchmarks/duckdb_scale.py --scan [n_rows ...]   (the same without pre-aggregation)
DuckDB runs with threads=2 and memory_limit=1GB, set on the engine's own connection. Each phase's figures
go to stderr as they come (a run at 100M on a busy machine takes long).
"""

from __future__ import annotations

import itertools
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _parquet_data import parquet_path

CLICKS = 10
QUERY = "x0 > 0.25 and c2 != 'b1'"
ARGS = {"y_true": "label", "y_score": "score", "ids": "id", "sensitive": "sex"}
REGRESSION_ARGS = {"y_true": "y", "y_pred": "pred", "ids": "id", "sensitive": "sex", "task": "regression"}
REGRESSION_SQL = """
    SELECT * EXCLUDE (label, score),
           50 + 3 * x0 + x1 + 2 * (c1 = 'a0')::INTEGER + (hash(id * 7 + 1) % 1000003) / 1000003.0 * 4 - 2 AS y,
           50 + 3 * x0 + x1 + 2 * (c1 = 'a0')::INTEGER + 0.4 * (c2 = 'b1')::INTEGER AS pred
    FROM read_parquet('{path}')
"""


class ScanClock:
    """Time spent in the lazy engine's scans (its queries over the rows), by wrapping them."""

    def __init__(self) -> None:
        from errorscope.engines.lazy import LazyEngine

        self.seconds = 0.0
        self.depth = 0
        for name in ("scan_count", "page", "fetch", "_scalar", "roc_auc"):
            original = getattr(LazyEngine, name)
            setattr(LazyEngine, name, self._timed(original))

    def _timed(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.seconds += time.perf_counter() - t0

        return timed


def build(ev: Any) -> tuple[list[Any], str]:
    """The dashboard's views, and what was built."""
    import errorscope as es
    from errorscope.widgets.overview import ModelOverview, SelectionBar

    try:
        board = es.dashboard(ev, store=Path(f"/tmp/errorscope-bench/tags-{ev.task}-{ev.n_rows}.sqlite"))
        board.slice_browser._auto_discover = False
        return [board], "es.dashboard(ev)"
    except Exception as err:  # a view that does not run on a lazy engine yet
        why = f"{type(err).__name__}: {str(err)[:120]}"
    views = [
        ModelOverview(ev), SelectionBar(ev), es.ConfusionMatrix(ev), es.SliceBrowser(ev, discover=False),
        es.GroupComparer(ev, groups="sex"),
    ]  # fmt: skip
    return views, f"overview, selection bar, matrix, slices, groups (es.dashboard failed: {why})"


def view_of(views: list[Any], attribute: str) -> Any:
    """The dashboard's view (``board.<attribute>``), or that view among the views built one by one."""
    if type(views[0]).__name__ == "Dashboard":
        return getattr(views[0], attribute)
    wanted = "".join(part.title() for part in attribute.split("_"))
    return next(v for v in views if type(v).__name__ == wanted)


def clicks(action: Callable[[int], None], clock: ScanClock, cube: Any) -> dict[str, float]:
    """Median and max of CLICKS clicks after one warm-up; scans and plans per click."""
    action(0)
    times, scans = [], []
    answered, scanned = (cube.answered, cube.scanned) if cube is not None else (0, 0)
    for i in range(1, CLICKS + 1):
        before = clock.seconds
        t0 = time.perf_counter()
        action(i)
        times.append((time.perf_counter() - t0) * 1e3)
        scans.append((clock.seconds - before) * 1e3)
    out = {"median_ms": statistics.median(times), "max_ms": max(times), "scan_ms": statistics.median(scans)}
    if cube is not None:
        out["cube_plans"] = (cube.answered - answered) / CLICKS
        out["scan_plans"] = (cube.scanned - scanned) / CLICKS
    return out


def settings(path: Path) -> list[str]:
    """DuckDB settings of every measurement: 2 threads, 1 GB, spill beside the data."""
    spill = path.parent / "duckdb-spill"
    return ["SET threads = 2", "SET memory_limit = '1GB'", f"SET temp_directory = '{spill}'"]


def measure(n_rows: int, preaggregate: bool, regression: bool = False) -> dict[str, Any]:
    import errorscope as es

    clock = ScanClock()
    path = parquet_path(n_rows)
    t0 = time.perf_counter()
    if regression:  # a relation over the file with a numeric target and prediction
        import duckdb

        con = duckdb.connect()
        for statement in settings(path):
            con.execute(statement)
        ev = es.Evaluation(con.sql(REGRESSION_SQL.format(path=path)), **REGRESSION_ARGS)
    else:
        ev = es.Evaluation(str(path), **ARGS)
        native = ev.engine.frame.to_native()
        for statement in settings(path):
            native.query("t", statement)
    engine = ev.engine
    engine.preaggregate = preaggregate
    views, built = build(ev)
    ready = time.perf_counter() - t0
    slices, groups = (view_of(views, name) for name in ("slice_browser", "group_comparer"))
    cube = engine.preagg
    out: dict[str, Any] = {"rows": n_rows, "task": ev.task, "built": built, "ready_s": ready}
    if cube is not None:
        out["families"] = [(f.base, round(f.seconds, 1)) for f in cube.families]
    progress(out)
    if regression:
        plot = view_of(views, "residual_plot")
        n_bins = len(plot.histogram_table)
        ranges = itertools.cycle([(0, n_bins // 3), (n_bins // 2, n_bins - 1), (n_bins // 4, n_bins // 2)])
        out["brush"] = clicks(lambda _: plot.select_bins("histogram", next(ranges)), clock, cube)
        plot.clear()
    else:
        matrix = view_of(views, "confusion_matrix")
        cells = itertools.cycle([(1, 0), (0, 1), (1, 1), (0, 0)])
        out["cell"] = clicks(lambda _: matrix.select_cells(cells=[next(cells)]), clock, cube)
        matrix.clear()
    progress(out)
    table = slices.table
    by_feature = [
        g["key"].tolist() for _, g in table[table["feature"] != "sex"].groupby("feature", sort=False)
    ]
    keys = [
        int(k) for k in itertools.chain.from_iterable(itertools.zip_longest(*by_feature)) if k is not None
    ]
    out["slice"] = clicks(lambda i: slices.select_slice(keys[i % len(keys)]), clock, cube)
    slices.clear()
    progress(out)
    out["group"] = clicks(lambda i: groups.select_groups([i % 2]), clock, cube)
    groups.clear()
    progress(out)
    t0 = time.perf_counter()
    ev.select(QUERY)
    out["query_s"] = time.perf_counter() - t0
    out["query_rows"] = ev.selection.n_kept()
    ev.selection.clear()
    if cube is not None:
        out["families"] = [(f.base, round(f.seconds, 1)) for f in cube.families]
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    return out


def progress(out: dict[str, Any]) -> None:
    """The figures so far, with the peak RSS, to stderr."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps({**out, "peak_rss_gb_so_far": rss}, default=str), file=sys.stderr, flush=True)


def measure_spark(n_rows: int) -> dict[str, Any]:
    """Spark local[2]: build the views, then one matrix click; bytes the engine collected to the driver."""
    from pyspark.sql import SparkSession

    import errorscope as es

    spark = (
        SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4").config("spark.driver.memory", "2g").getOrCreate()
    )  # fmt: skip
    frame = spark.read.parquet(str(parquet_path(n_rows)))
    t0 = time.perf_counter()
    ev = es.Evaluation(frame, **ARGS)
    views, built = build(ev)
    ready = time.perf_counter() - t0
    matrix = view_of(views, "confusion_matrix")
    engine = ev.engine
    built_bytes = engine.collected_bytes
    progress({"rows": n_rows, "built": built, "ready_s": ready, "build_bytes": built_bytes})
    t0 = time.perf_counter()
    matrix.select_cells(cells=[(1, 0)])
    click = time.perf_counter() - t0
    out = {
        "rows": n_rows, "built": built, "ready_s": ready, "click_s": click, "build_bytes": built_bytes,
        "click_bytes": engine.collected_bytes - built_bytes,
        "driver_peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    }  # fmt: skip
    spark.stop()
    return out


def child(args: list[str]) -> dict[str, Any]:
    """Run one measurement in a fresh process (its peak RSS is its own)."""
    done = subprocess.run([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        return {"args": args, "error": f"exit status {done.returncode} (its stderr is above)"}
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["--child"]:
        mode, n = argv[1], int(argv[2])
        if mode == "spark":
            result = measure_spark(n)
        else:
            result = measure(n, preaggregate=mode != "scan", regression=mode == "regression")
        print(json.dumps(result, default=str), flush=True)
        sys.exit(0)
    mode = "cube"
    if argv[:1] in (["--spark"], ["--scan"], ["--regression"]):
        mode, argv = argv[0][2:], argv[1:]
    default = [10_000_000] if mode == "spark" else [1_000_000, 10_000_000, 30_000_000, 100_000_000]
    for size in [int(a) for a in argv] or default:
        print(json.dumps(child([mode, str(size)]), default=str), flush=True)
