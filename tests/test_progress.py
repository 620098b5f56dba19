"""A long query's progress reaches the views while it runs (engines/progress.py), and only then."""

from __future__ import annotations

import threading
import time

import pytest

import errorscope as es
from errorscope.engines import progress
from errorscope.engines.progress import QueryProgress

duckdb = pytest.importorskip("duckdb")


def eventually(condition, timeout: float = 5.0) -> bool:
    """Whether ``condition()`` holds within ``timeout`` seconds (the watcher reports from its thread)."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.005)
    return True


def watchers() -> int:
    return sum(t.name == "errorscope-progress" for t in threading.enumerate())


@pytest.fixture
def quick(monkeypatch):
    """Report from the first moment, often (a test's query takes well under a second)."""
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "EVERY", 0.002)


def test_a_long_query_reports_percents_then_none(quick):
    values = iter([-1.0, 5.0, 40.0, 250.0])
    watched = QueryProgress(lambda: next(values, 99.0))
    told: list[float | None] = []
    stop = watched.listen(told.append)
    with watched.watching():
        time.sleep(0.1)
    assert eventually(lambda: told[-1:] == [None])
    assert told[:3] == [5.0, 40.0, 100.0]  # -1 (nothing running) skipped, capped at 100
    assert all(0 <= t <= 100 for t in told[:-1])
    with watched.watching():  # a second query: the same watcher
        time.sleep(0.05)
    assert eventually(lambda: told[-1:] == [None] and told.count(None) == 2)
    stop()
    told.clear()
    with watched.watching():
        time.sleep(0.02)
    time.sleep(0.05)
    assert told == []  # no listener: nothing watched


def test_a_short_query_reports_nothing_and_failures_never_fail_the_query(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 5.0)
    told: list[float | None] = []
    watched = QueryProgress(lambda: 50.0)
    watched.listen(told.append)
    with watched.watching():
        pass
    time.sleep(0.05)
    assert told == []

    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "EVERY", 0.002)

    def broken_probe() -> float:
        raise RuntimeError("session gone")

    def broken_listener(_: float | None) -> None:
        raise RuntimeError("view closed")

    failing = QueryProgress(broken_probe)
    failing.listen(broken_listener)
    with failing.watching():
        time.sleep(0.02)
    flaky = QueryProgress(lambda: 10.0)
    flaky.listen(broken_listener)
    flaky.listen(told.append)
    with flaky.watching():
        time.sleep(0.02)
    assert eventually(lambda: told[-1:] == [None]) and told[0] == 10.0  # the other listener still told


@pytest.fixture(scope="module")
def big_parquet(tmp_path_factory):
    """3M rows of Parquet: a scan long enough (a few hundred ms) for DuckDB to report its progress."""
    path = tmp_path_factory.mktemp("progress") / "big.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT r AS id, (hash(r) % 2)::INTEGER AS y, (hash(r * 7) % 1000) / 1000.0 AS s, "
        f"(hash(r * 13) % 100000) / 1000.0 AS x, chr(97 + (hash(r * 3) % 20)::INTEGER) AS c "
        f"FROM range(3000000) t(r)) TO '{path}' (FORMAT parquet)"
    )
    return path


def test_a_scan_on_duckdb_tells_every_view_how_far_it_got(quick, big_parquet, capfd):
    before = watchers()
    ev = es.Evaluation(str(big_parquet), y_true="y", y_score="s", ids="id")
    told: list[float | None] = []
    ev.engine.listen_progress(told.append)
    matrix = es.ConfusionMatrix(ev)
    sent: list[dict] = []
    matrix.send = sent.append  # what would go to the browser
    ev.select("x > 41.5 and c != 'b'")  # free text: not in the pre-aggregated tables, a scan
    assert eventually(lambda: told[-1:] == [None])
    percents = [t for t in told if t is not None]
    assert percents and all(0 <= p <= 100 for p in percents)
    messages = [m for m in sent if m.get("type") == "progress"]
    assert messages and messages[-1] == {"type": "progress", "percent": None}
    assert any(m["percent"] is not None for m in messages)
    assert all(0 <= m["percent"] <= 100 for m in messages if m["percent"] is not None)
    assert watchers() == before + 1  # one watcher for the engine's every query
    assert "%" not in capfd.readouterr().out  # DuckDB's own progress bar never printed to the notebook
    matrix.close()
    sent.clear()
    ev.select("x < 3.5")
    time.sleep(0.05)
    assert sent == []  # a closed view is no longer told
