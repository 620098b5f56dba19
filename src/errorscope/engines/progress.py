"""How far a long query has got, told to the views while it runs (a scan of 100M rows takes seconds).

:class:`QueryProgress` watches the engine's outermost query from a thread of its own: past ``DELAY``
seconds it asks the engine's ``probe`` (DuckDB's ``query_progress()``, Spark's status tracker) every
``EVERY`` seconds and tells each listener the percent done, then ``None`` when the query ends. Queries
shorter than ``DELAY`` (every pre-aggregated click) report nothing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

DELAY = 0.5  # seconds a query runs before its progress is shown
EVERY = 0.25  # seconds between two reports

Listener = Callable[[float | None], None]
logger = logging.getLogger("errorscope")


class QueryProgress:
    """Listeners of a running query's percent done (``None``: it ended), fed by ``probe`` (the percent
    of the query running now, or None when it cannot say). One watcher thread per engine, started with
    the first watched query, sleeps while no query runs (a thread per query cost milliseconds to start
    while a background job held the interpreter)."""

    def __init__(self, probe: Callable[[], float | None]) -> None:
        self.probe = probe
        self._listeners: list[Listener] = []
        self._wake = threading.Condition()
        self._since: float | None = None  # when the query running now started (None: none runs)
        self._watcher: threading.Thread | None = None

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(percent)`` while a long query runs; returns what stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Report the progress of what runs inside (nothing when no one listens)."""
        if not self._listeners:
            yield
            return
        with self._wake:
            self._since = time.monotonic()
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="errorscope-progress", daemon=True)
                self._watcher.start()
            self._wake.notify()
        try:
            yield
        finally:
            with self._wake:
                self._since = None
                self._wake.notify()

    def _watch(self) -> None:
        """Past DELAY into a query, report every EVERY seconds; once it ends, report None (when something
        was reported: a query that follows at once goes on with the bar shown)."""
        reported = False
        while True:
            with self._wake:
                if self._since is None and not reported:
                    self._wake.wait()
                    continue
                due = None if self._since is None else self._since + DELAY - time.monotonic()
                if due is not None and due > 0 and not reported:
                    self._wake.wait(due)
                    continue
            if due is None:  # the query ended
                reported = False
                self._tell(None)
                continue
            percent = self._probe() if due <= 0 else None
            if percent is not None:
                reported = True
                self._tell(percent)
            with self._wake:
                if self._since is not None:
                    self._wake.wait(EVERY)

    def _probe(self) -> float | None:
        try:
            percent = self.probe()
        except Exception:  # a probe that fails (a session gone) must not fail the query
            logger.debug("query progress probe failed", exc_info=True)
            return None
        return None if percent is None or percent < 0 else min(float(percent), 100.0)

    def _tell(self, percent: float | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(percent)
            except Exception:  # a view that is gone must not fail the query
                logger.debug("query progress listener failed", exc_info=True)


def duckdb_probe(connection: Any, own: bool) -> Callable[[], float | None]:
    """The percent done of the query running on ``connection`` (DuckDB's progress bar; on a connection
    errorscope opened (``own``), turned on with its printing off, so nothing is written to the notebook's
    output; a user's connection keeps its settings)."""
    if own:
        connection.execute("SET enable_progress_bar = true")
        connection.execute("SET enable_progress_bar_print = false")
    return connection.query_progress


def spark_probe(session: Any) -> Callable[[], float | None] | None:
    """The share of finished tasks in the session's active stages, or None without a SparkContext
    (Spark Connect has no status tracker: no progress is shown)."""
    try:
        tracker = session.sparkContext.statusTracker()
    except Exception:
        return None

    def probe() -> float | None:
        stages = [tracker.getStageInfo(s) for s in tracker.getActiveStageIds()]
        total = sum(s.numTasks for s in stages if s is not None)
        done = sum(s.numCompletedTasks for s in stages if s is not None)
        return 100.0 * done / total if total else None

    return probe
