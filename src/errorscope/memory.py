"""How much memory a dashboard needs, and how much this process may still use: say so before building.

The dashboard's views keep per-row keys and codes beside the data: one byte per row and column for the
codes (uint8, see :func:`errorscope.coding.code_dtype`) and the slice index packing them (int32 per block of
about three columns), then per row the scores and their measures, the ROC order, the counters' keys and the
review orders. Measured on seeded synthetic sets (``benchmarks/dashboard.py --rows 10000000``: 20 features,
the process peaks 2.1 GB above the frame at 10M rows, about 215 bytes per row; tracemalloc at 60k rows in
tests/test_memory.py), the estimate is ``BYTES_PER_ROW`` + ``BYTES_PER_CELL`` x columns per row, with a
margin, plus room for the libraries the views import (shap, matplotlib: ``FIXED_BYTES``).

What the process may use is the smallest of the memory the system has available, the cgroup's limit
(containers, notebooks servers with a memory cap) and the address-space limit (``ulimit -v``).
"""

from __future__ import annotations

import resource
from pathlib import Path

import psutil

BYTES_PER_ROW = 160
BYTES_PER_CELL = 4  # per row and per column (features, roles and derived columns)
FIXED_BYTES = 400 * 2**20


def dashboard_bytes(n_rows: int, n_columns: int) -> int:
    """The memory a dashboard over ``n_rows`` x ``n_columns`` adds to its Evaluation's, at its peak."""
    return FIXED_BYTES + n_rows * (BYTES_PER_ROW + BYTES_PER_CELL * n_columns)


def available_bytes() -> tuple[int, str]:
    """What this process can still allocate, and which limit says so."""
    limits = [(psutil.virtual_memory().available, "the memory available on this machine")]
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append((soft - psutil.Process().memory_info().vms, "the address-space limit (ulimit -v)"))
    cgroup = _cgroup_room()
    if cgroup is not None:
        limits.append((cgroup, "the memory limit of this container (cgroup)"))
    room, why = min(limits)
    return max(int(room), 0), why


def _cgroup_room() -> int | None:
    """The cgroup v2 (or v1) limit minus what the cgroup uses now; None without a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:
            return int(limit) - usage
    return None


def check_dashboard_memory(n_rows: int, n_columns: int, what: str = "es.dashboard(ev)") -> None:
    """Raise a MemoryError that says what is needed and what to do, when the dashboard would not fit."""
    need = dashboard_bytes(n_rows, n_columns)
    room, why = available_bytes()
    if need <= room:
        return
    gb = 2**30
    raise MemoryError(
        f"{what} needs about {need / gb:.1f} GB more memory for {n_rows:,} rows x {n_columns} columns, and "
        f"{why} leaves about {room / gb:.1f} GB. Give the process more memory, build the Evaluation on a "
        "sample of rows or on fewer columns (features=, metadata=), or keep the data on disk with an "
        "engine that reads it in place (the DuckDB engine: write it to Parquet and pass "
        "`es.Evaluation('preds/*.parquet', ...)`). "
        "To build anyway, pass check_memory=False."
    )
