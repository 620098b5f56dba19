"""Bincounts over the rows a selection keeps, at the cost of the smaller side.

A view recomputes by counting a per-row key (a slice code, a group and outcome, a score cell) over the
kept rows. When more than half of the rows are kept it is cheaper to count the rows left out and subtract
them from the all-rows counts, which are computed once: so no selection costs more than half a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Rows:
    """The rows a mask keeps: their positions, or (``complement``) the positions of the rows left out."""

    n_total: int
    index: np.ndarray
    complement: bool

    @classmethod
    def of(cls, mask: np.ndarray | None, n_total: int) -> Rows:
        if mask is None:
            return cls(n_total, np.zeros(0, dtype=np.intp), complement=True)
        kept = int(np.count_nonzero(mask))
        if kept > n_total // 2:
            return cls(n_total, np.flatnonzero(~mask), complement=True)
        return cls(n_total, np.flatnonzero(mask), complement=False)

    @property
    def n_kept(self) -> int:
        return self.n_total - len(self.index) if self.complement else len(self.index)


@dataclass
class KeyCounter:
    """Counts of ``key`` per value (``key`` is one per row, or an (n_rows, m) array whose entries are all
    counted) and, for a 1-D key, sums of each of ``weights`` per value, over any :class:`Rows`."""

    key: np.ndarray
    minlength: int
    weights: Sequence[np.ndarray] = ()
    _totals: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def count(self, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        """(counts: int64 (minlength,), sums: float64 (len(weights), minlength)) over the kept rows."""
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
