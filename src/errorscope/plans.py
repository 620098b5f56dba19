"""Query plans: what a view asks an engine for, in the few shapes every view needs.

A plan names *what* to compute (grouped counts and sums, one table per column, an ordered page of rows,
rows by id, a rank statistic); an engine (:mod:`errorscope.engines`) answers it for a :class:`Filter`, the
rows kept by some clauses of the selection. Plans are frozen and hashable: a session caches answers by
(plan, filter, data version). Engines give the same numbers (the statistics take counts, never rows).

Keys are small integers per row, so an answer is a dense array with one axis per key:

======================  ============================================================================
``Key.column(name)``    the column's codes (:class:`errorscope.coding.ColumnCodes`: values, bins or periods)
``Key.actual()``        the actual class's index (``n_classes`` values); with ``positive``: 0/1, is it that class
``Key.predicted()``     the predicted class's index; with ``positive``: 0/1
``Key.outcome(pos)``    4 * (actual is ``pos``) + 2 * (predicted is ``pos``) + (prediction wrong): 8 values;
                        ``pos=None``: only the wrong bit (2 values)
``Key.score_bin(b)``    the positive class's score (``pos``'s probability) in ``b`` equal bins of [0, 1]
``Key.tag(name)``       0 when the row carries tag ``name``, else 1
======================  ============================================================================

Measures are per-row numbers summed per group: ``score`` (``pos``'s probability), ``score2`` (its square),
``brier`` ((score - actual is ``pos``) squared), ``log_loss`` (-log p(actual class), clipped like
scikit-learn's) and ``log_loss2`` (its square).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

KeyKind = Literal["column", "actual", "predicted", "outcome", "score_bin", "tag"]
MeasureKind = Literal["score", "score2", "brier", "log_loss", "log_loss2"]
OrderKind = Literal["loss", "confident_wrong", "least_confident", "id", "stratified_random", "data"]


@dataclass(frozen=True)
class Key:
    """A per-row integer key to group by (see the module docstring for the kinds)."""

    kind: KeyKind
    name: str = ""  # column: its name; tag: the tag's name
    positive: int | None = None  # actual / predicted / outcome / score_bin: the class they are about
    bins: int = 0  # score_bin: how many equal bins of [0, 1]

    @classmethod
    def column(cls, name: str) -> Key:
        return cls("column", name)

    @classmethod
    def actual(cls, positive: int | None = None) -> Key:
        return cls("actual", positive=positive)

    @classmethod
    def predicted(cls, positive: int | None = None) -> Key:
        return cls("predicted", positive=positive)

    @classmethod
    def outcome(cls, positive: int | None) -> Key:
        return cls("outcome", positive=positive)

    @classmethod
    def score_bin(cls, bins: int, positive: int) -> Key:
        return cls("score_bin", positive=positive, bins=bins)

    @classmethod
    def tag(cls, name: str) -> Key:
        return cls("tag", name)

    def reads(self) -> frozenset[str]:
        """What the key's values depend on: a column's name, or "actual", "predicted", "score", "tag"."""
        if self.kind == "column":
            return frozenset({self.name})
        if self.kind == "outcome":
            return frozenset({"actual", "predicted"})
        if self.kind == "score_bin":
            return frozenset({"score"})
        return frozenset({self.kind})


@dataclass(frozen=True)
class Measure:
    """A per-row number summed per group (see the module docstring)."""

    kind: MeasureKind
    positive: int | None = None  # score / score2 / brier: the class whose probability it is


@dataclass(frozen=True)
class GroupCounts:
    """``GROUP BY keys -> COUNT(*), SUM(measure) ...``: answered as :class:`Counted`."""

    keys: tuple[Key, ...]
    sums: tuple[Measure, ...] = ()


@dataclass(frozen=True)
class Marginals:
    """One :class:`GroupCounts` per column, sharing the keys ``by``: ``GROUPING SETS ((c, by...), ...)``.

    Answered as a list of int64 arrays, one per column, shaped ``(size of column, *sizes of by)``.
    """

    columns: tuple[Key, ...]
    by: tuple[Key, ...] = ()


@dataclass(frozen=True)
class RowPage:
    """The kept rows in review ``order`` (see :mod:`errorscope.ranking`), ``limit`` of them from ``offset``.

    ``wrong_only`` keeps only misclassified rows; ``strata`` (stratified_random) names the column whose
    codes are interleaved (default: the actual class). Answered as row positions (numpy) or as a
    :class:`Rows` frame (engines that keep no positions), in order.
    """

    order: OrderKind = "loss"
    limit: int = 50
    offset: int = 0
    wrong_only: bool = False
    seed: int = 0
    strata: str | None = None


@dataclass(frozen=True)
class RocAuc:
    """ROC AUC of class ``positive``'s score among the kept rows (ties count half)."""

    positive: int


CONFUSION = GroupCounts((Key.actual(), Key.predicted()))
"""Rows per (actual, predicted) class: the confusion matrix."""

Plan = GroupCounts | Marginals | RowPage | RocAuc


@dataclass(frozen=True)
class Counted:
    """Rows per key combination (``counts``, shaped by the keys' sizes) and the measures' sums
    (``sums[j]`` shaped alike, one per measure of the plan)."""

    counts: np.ndarray
    sums: np.ndarray

    @property
    def total(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True, eq=False)
class Filter:
    """The rows kept by some clauses of the selection: what a view is computed on.

    ``stamp`` identifies the clauses' state; ``resolved`` is each clause as the engine evaluated it (a
    mask for numpy, an expression for SQL engines). ``cacheable``: the stamp alone identifies the rows
    (equal stamps, equal rows), so engines cache answers by it; true for the Selection's filters and
    ``ALL_ROWS``, false for a Filter made by hand.
    """

    stamp: tuple[Any, ...] = ()
    resolved: tuple[Any, ...] = field(default=(), repr=False)
    cacheable: bool = False

    @property
    def everything(self) -> bool:
        """Whether no clause restricts the rows."""
        return not self.resolved


ALL_ROWS = Filter(cacheable=True)
