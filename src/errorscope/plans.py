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
``Key.split(h, seed)``  1 for the rows held out (a share ``h``, seeded: :func:`holdout_hash` of the row's
                        position), 0 for the others: the same rows on every engine
``Key.value_bin(c, ...)`` a numeric column's (or a regression's ``actual``, ``predicted``, ``residual``)
                        ``bins`` equal bins of [lo, hi] (values outside in the end bins), missing ``bins``
``Key.better(a, b)``    a regression's paired comparison: 0 where model ``a``'s absolute error is smaller,
                        1 where they are equal, 2 where model ``b``'s is smaller
======================  ============================================================================

With several models (:mod:`errorscope.models`), ``predicted`` and ``outcome`` keys and every measure may
name a ``model``; without one they read the active model.

Measures are per-row numbers summed per group: ``score`` (``pos``'s probability), ``score2`` (its square),
``brier`` ((score - actual is ``pos``) squared), ``log_loss`` (-log p(actual class), clipped like
scikit-learn's), ``log_loss2`` (its square) and ``wrong`` (1 where the prediction is wrong). A
regression's (the residual e = prediction - actual): ``residual`` (e), ``abs_error`` (|e|), ``sq_error``
(e²), ``sq_error2`` (e⁴), ``actual`` (y), ``actual2`` (y²), ``prediction`` (ŷ), ``prediction2`` (ŷ²),
``abs_pct_error`` (|e| / max(|y|, eps), scikit-learn's MAPE term), ``zero_actual`` (1 where y == 0), and
for R²'s variance ``actual3`` (y³), ``actual4`` (y⁴), ``sq_error_actual`` (e²y), ``sq_error_actual2`` (e²y²).
Paired differences of two models (``model`` minus ``other``): ``abs_error_diff`` (|e| - |e'|) and
``abs_error_diff2`` (its square), ``sq_error_diff`` (e² - e'²) and ``sq_error_diff2`` (its square).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

KeyKind = Literal[
    "column", "actual", "predicted", "outcome", "score_bin", "tag", "split", "value_bin", "better"
]
MeasureKind = Literal[
    "score", "score2", "brier", "log_loss", "log_loss2", "wrong",
    "residual", "abs_error", "sq_error", "sq_error2", "actual", "actual2", "prediction", "prediction2",
    "abs_pct_error", "zero_actual", "actual3", "actual4", "sq_error_actual", "sq_error_actual2",
    "abs_error_diff", "abs_error_diff2", "sq_error_diff", "sq_error_diff2",
]  # fmt: skip
PAIRED_MEASURES = frozenset({"abs_error_diff", "abs_error_diff2", "sq_error_diff", "sq_error_diff2"})
REGRESSION_MEASURES = frozenset(
    {"residual", "abs_error", "sq_error", "sq_error2", "actual", "actual2", "prediction", "prediction2",
     "abs_pct_error", "zero_actual", "actual3", "actual4", "sq_error_actual", "sq_error_actual2"}
) | PAIRED_MEASURES  # fmt: skip
OrderKind = Literal[
    "loss", "confident_wrong", "least_confident", "id", "stratified_random", "random", "data",
    "over_prediction", "under_prediction",
]  # fmt: skip


@dataclass(frozen=True)
class Key:
    """A per-row integer key to group by (see the module docstring for the kinds)."""

    kind: KeyKind
    name: str = ""  # column: its name; tag: the tag's name
    positive: int | None = None  # actual / predicted / outcome / score_bin: the class they are about
    bins: int = 0  # score_bin: how many equal bins of [0, 1]
    share: float = 0.0  # split: the share of rows held out
    seed: int = 0  # split: which rows (see holdout_hash)
    lo: float = 0.0  # value_bin: the range [lo, hi] cut into ``bins`` equal bins
    hi: float = 1.0
    model: str = ""  # predicted / outcome / better: the model it reads ("": the active one)
    other: str = ""  # better: the model compared with

    @classmethod
    def column(cls, name: str) -> Key:
        return cls("column", name)

    @classmethod
    def actual(cls, positive: int | None = None) -> Key:
        return cls("actual", positive=positive)

    @classmethod
    def predicted(cls, positive: int | None = None, model: str = "") -> Key:
        return cls("predicted", positive=positive, model=model)

    @classmethod
    def outcome(cls, positive: int | None, model: str = "") -> Key:
        return cls("outcome", positive=positive, model=model)

    @classmethod
    def better(cls, a: str, b: str) -> Key:
        """A regression: 0 where model ``a``'s absolute error is the smaller, 1 a tie, 2 where ``b``'s is."""
        return cls("better", model=a, other=b)

    @classmethod
    def score_bin(cls, bins: int, positive: int) -> Key:
        return cls("score_bin", positive=positive, bins=bins)

    @classmethod
    def tag(cls, name: str) -> Key:
        return cls("tag", name)

    @classmethod
    def split(cls, share: float, seed: int = 0) -> Key:
        return cls("split", share=share, seed=seed)

    @classmethod
    def value_bin(cls, name: str, bins: int, lo: float, hi: float) -> Key:
        if not (hi > lo and bins >= 1):
            raise ValueError(f"value_bin({name!r}): need hi > lo and bins >= 1, got [{lo}, {hi}], {bins}.")
        return cls("value_bin", name, bins=int(bins), lo=float(lo), hi=float(hi))

    @property
    def bin_scale(self) -> float:
        """value_bin: bins per unit (see :func:`value_bins`)."""
        return self.bins / (self.hi - self.lo)

    def bin_edges(self) -> np.ndarray:
        """value_bin: the ``bins + 1`` edges ``lo + i / scale``; bin i holds lo + i / scale <= x < lo +
        (i + 1) / scale (the end bins also what lies outside)."""
        return self.lo + np.arange(self.bins + 1, dtype=np.float64) / self.bin_scale

    def reads(self) -> frozenset[str]:
        """What the key's values depend on: a column's name, or "actual", "predicted", "score", "tag"."""
        if self.kind in ("column", "value_bin"):
            return frozenset({self.name})
        if self.kind == "outcome":
            return frozenset({"actual", "predicted"})
        if self.kind == "score_bin":
            return frozenset({"score"})
        if self.kind == "split":
            return frozenset()
        if self.kind == "better":
            return frozenset({"predicted"})
        return frozenset({self.kind})


@dataclass(frozen=True)
class Measure:
    """A per-row number summed per group (see the module docstring)."""

    kind: MeasureKind
    positive: int | None = None  # score / score2 / brier: the class whose probability it is
    model: str = ""  # the model it reads ("": the active one)
    other: str = ""  # a paired difference: the model subtracted


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
class GroupingSets:
    """``GROUP BY GROUPING SETS (sets[0], sets[1], ...) -> COUNT(*), SUM(measure) ...``: one
    :class:`Counted` per set of keys (a combination of columns, say), in one scan where the engine can.

    Cells with fewer than ``min_count`` rows are answered as 0 rows and 0 sums (``HAVING COUNT(*) >=
    min_count``: the engine may leave them out of its result). Slice discovery counts each level of its
    lattice this way.
    """

    sets: tuple[tuple[Key, ...], ...]
    sums: tuple[Measure, ...] = ()
    min_count: int = 0


Term = tuple[tuple[Key, int], ...]  # an AND of "key == code"


@dataclass(frozen=True)
class Coverage:
    """Which of the ``terms`` each kept row is in: rows per membership pattern and ``by`` keys.

    Answered as :class:`Patterns`: the distinct patterns present (a boolean row per pattern, a column per
    term) and their rows per combination of ``by``. Any union or overlap of the terms is a sum over
    patterns (slice discovery's overlap filter), in one query whatever the number of terms.
    """

    terms: tuple[Term, ...]
    by: tuple[Key, ...] = ()


@dataclass(frozen=True)
class Patterns:
    """The answer to :class:`Coverage`: ``members`` (patterns x terms, bool) and ``counts`` (patterns x
    *sizes of by, int64), patterns in no particular order."""

    members: np.ndarray
    counts: np.ndarray

    def rows(self, pattern: np.ndarray) -> np.ndarray:
        """Rows per combination of the by keys among the patterns ``pattern`` (a boolean per pattern)."""
        return self.counts[pattern].sum(axis=0)


HOLDOUT_PRIME = 2_147_483_647  # 2**31 - 1: every product below stays under 2**62 (int64, no overflow)
HOLDOUT_STEPS = ((48_271, 1_013_904_223), (69_621, 12_345), (40_692, 2_654_435))  # (multiplier, addend)


def holdout_threshold(share: float) -> int:
    """A row is held out when its :func:`holdout_hash` is below this."""
    return round(share * HOLDOUT_PRIME)


def holdout_hash(position: Any, seed: int, mod: Any = None) -> Any:
    """A well-mixed number in [0, 2**31 - 1) for each row position: affine steps and squarings modulo a
    prime, in int64 arithmetic that never overflows, written once for numpy arrays and for SQL
    expressions (``mod(x, m)``: the engine's modulo; default ``x % m``). Numpy, DuckDB and Spark compute
    the same numbers, so the same rows are held out on every engine."""
    p = HOLDOUT_PRIME
    mod = mod or (lambda x, m: x % m)
    x = mod(position, p)
    for i, (mul, add) in enumerate(HOLDOUT_STEPS):
        shift = (add + (seed * 1_000_003 if i == 0 else 0)) % p  # Python ints: the seed is folded in exactly
        x = mod(x * mul + shift, p)
        x = mod(x * x + (i + 1) * 7_919, p)  # the squaring makes it non-linear in the position
    return x


def value_bins(x: Any, key: Key, floor: Any, where: Any) -> Any:
    """Each value's bin of ``key`` (a value_bin), exactly as its :meth:`Key.bin_edges` bound it: the bin
    floor((x - lo) * scale), clipped, then moved by one where rounding put it across an edge. Written once
    for numpy arrays and SQL expressions (``floor(e)``, ``where(cond, a, b)``): the same IEEE arithmetic
    gives the same bins on every engine, and a brushed range selects exactly the rows its bins counted."""
    lo, scale, last = key.lo, key.bin_scale, key.bins - 1
    f = floor((x - lo) * scale)
    f = where(f < 0, 0.0, where(f > last, float(last), f))
    f = where((x < lo + f / scale) & (f > 0), f - 1.0, f)
    return where((x >= lo + (f + 1.0) / scale) & (f < last), f + 1.0, f)


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


@dataclass(frozen=True)
class Quantiles:
    """``np.quantile`` (linear, as numpy's default and ``np.median``) of a measure among the kept rows, at
    each of ``qs``: answered as a float64 array (empty when no row is kept)."""

    measure: Measure
    qs: tuple[float, ...] = (0.5,)


CONFUSION = GroupCounts((Key.actual(), Key.predicted()))
"""Rows per (actual, predicted) class: the confusion matrix."""

Plan = GroupCounts | Marginals | GroupingSets | Coverage | RowPage | RocAuc | Quantiles


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
