"""The dashboard's memory estimate: conservative against a measurement, and a clear MemoryError before
building when a limit (here ``ulimit -v`` in a child process) would not hold it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope import memory
from errorscope.widgets import base


def synthetic(n_rows: int, n_features: int, seed: int = 0) -> es.Evaluation:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            f"f{i}": rng.normal(size=n_rows) if i % 2 else rng.choice(list("abcdefgh"), n_rows)
            for i in range(n_features)
        }
    )
    score = rng.random(n_rows)
    return es.Evaluation(data, (rng.random(n_rows) < score).astype(int), y_score=score)


@pytest.mark.parametrize("n_features", [4, 16])
def test_the_estimate_holds_what_a_dashboard_takes(n_features: int, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(base, "STATIC_FALLBACK", False)
    ev = synthetic(60_000, n_features)
    tracemalloc.start()
    board = es.dashboard(ev, store=tmp_path / "t.sqlite")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    board.close()
    estimate = memory.dashboard_bytes(ev.n_rows, len(ev.data.columns) + 3)
    per_row = estimate - memory.FIXED_BYTES
    assert peak <= estimate and per_row <= 3 * peak, (peak, estimate)


def test_a_dashboard_that_would_not_fit_says_so_and_how_to_go_on(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ev = synthetic(1000, 4)
    monkeypatch.setattr(
        memory, "available_bytes", lambda: (100 * 2**20, "the memory limit of this container (cgroup)")
    )
    with pytest.raises(MemoryError) as caught:
        es.dashboard(ev, store=tmp_path / "t.sqlite")
    message = str(caught.value)
    for part in (
        "es.dashboard(ev) needs about 0.4 GB",
        "1,000 rows x 7 columns",
        "cgroup",
        "sample",
        "DuckDB",
        "check_memory=False",
    ):
        assert part in message
    es.dashboard(ev, store=tmp_path / "t.sqlite", check_memory=False).close()


def test_the_limits_are_read_from_the_process() -> None:
    room, why = memory.available_bytes()
    assert room > 0 and why


CHILD = """
import resource, psutil
import numpy as np
import errorscope as es
import errorscope.widgets  # everything imported before the limit
rng = np.random.default_rng(0)
n = 2_000_000
data = {f"f{i}": rng.normal(size=n) for i in range(4)}
ev = es.Evaluation(data, (rng.random(n) < 0.5).astype(int), y_score=rng.random(n))
vms = psutil.Process().memory_info().vms
resource.setrlimit(resource.RLIMIT_AS, (vms + 600 * 2**20, resource.RLIM_INFINITY))
try:
    es.dashboard(ev, store=STORE)
except MemoryError as e:
    print("MemoryError:", e)
"""


def test_under_ulimit_v_the_dashboard_refuses_before_building(tmp_path: Path) -> None:
    code = f"STORE = {str(tmp_path / 't.sqlite')!r}\n" + textwrap.dedent(CHILD)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={"OMP_NUM_THREADS": "1", **_env()},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "MemoryError: es.dashboard(ev) needs about" in result.stdout
    assert "address-space limit (ulimit -v)" in result.stdout


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
