"""Bincounts over the rows a selection keeps, at the cost of the smaller side.

A view recomputes by counting a per-row key (a slice code, a group and outcome, a score cell) over the
kept rows. When more than half of the rows are kept it is cheaper to count the rows left out and subtract
them from the all-rows counts, which are computed once: so no selection costs more than half a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

_recent_rows: tuple[tuple[np.ndarray, Rows], ...] = ()  # the last read-only masks seen, with their Rows
RECENT_ROWS = 4


@dataclass(frozen=True)
class Rows:
    """The rows a mask keeps: their positions, or (``complement``) the positions of the rows left out."""

    n_total: int
    index: np.ndarray
    complement: bool

    @classmethod
    def of(cls, mask: np.ndarray | None, n_total: int) -> Rows:
        """The rows ``mask`` keeps (all when None). A read-only mask (the selection's) is looked at once:
        the views of one change share its Rows."""
        if mask is None:
            return cls(n_total, np.zeros(0, dtype=np.intp), complement=True)
        global _recent_rows
        shared, recent = not mask.flags.writeable, _recent_rows  # one read: other threads may replace it
        if shared:
            for seen, rows in recent:
                if seen is mask:
                    return rows
        kept = int(np.count_nonzero(mask))
        if kept > n_total // 2:
            rows = cls(n_total, np.flatnonzero(~mask), complement=True)
        else:
            rows = cls(n_total, np.flatnonzero(mask), complement=False)
        if shared:
            _recent_rows = ((mask, rows), *recent[: RECENT_ROWS - 1])
        return rows

    @property
    def n_kept(self) -> int:
        return self.n_total - len(self.index) if self.complement else len(self.index)


@dataclass(eq=False)
class KeyCounter:
    """Counts of ``key`` per value (``key`` is one per row, or an (n_rows, m) array whose entries are all
    counted) and, for a 1-D key, sums of each of ``weights`` per value, over any :class:`Rows`.

    The result for the last Rows is kept (read-only), so :func:`prefetch` can count ahead of the views.
    """

    key: np.ndarray
    minlength: int
    weights: Sequence[np.ndarray] = ()
    _totals: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _last: tuple[Rows, tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False)

    def count(self, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        """(counts: int64 (minlength,), sums: float64 (len(weights), minlength)) over the kept rows."""
        last = self._last
        if last is not None and last[0] is rows:
            return last[1]
        counts, sums = self._count_rows(rows)
        counts.flags.writeable = sums.flags.writeable = False
        self._last = (rows, (counts, sums))
        return counts, sums

    def counted_last(self, rows: Rows | None) -> bool:
        """Whether the last count was of ``rows``."""
        last = self._last
        return last is not None and last[0] is rows

    def _count_rows(self, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        if not rows.complement:
            return self._count(rows.index)
        if self._totals is None:
            self._totals = self._count(None)
        counts, sums = self._totals
        if not len(rows.index):
            return counts.copy(), sums.copy()
        left_out, left_out_sums = self._count(rows.index)
        return counts - left_out, sums - left_out_sums

    def _count(self, index: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        key = (self.key if index is None else self.key.take(index, axis=0)).ravel()
        key = key.astype(np.intp, copy=False)  # bincount's own type: cast once, not once per bincount
        counts = np.bincount(key, minlength=self.minlength)
        sums = np.empty((len(self.weights), self.minlength))
        for j, weight in enumerate(self.weights):
            sums[j] = np.bincount(
                key, weights=weight if index is None else weight.take(index), minlength=self.minlength
            )
        return counts, sums


_pool: ThreadPoolExecutor | None = None


def prefetch(counters: Iterable[KeyCounter], rows: Rows) -> None:
    """Count ``rows`` with each of ``counters`` on two threads (numpy's take and bincount release the
    GIL for most of their work); the views that ask next find their counts ready."""
    global _pool
    todo = [c for c in counters if len(c.key) == rows.n_total and not c.counted_last(rows)]
    if len(todo) < 2:
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="errorscope-count")
    for _ in _pool.map(lambda counter: counter.count(rows), todo):
        pass
