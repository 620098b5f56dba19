"""Automatic discovery of the conjunctions of up to three predicates where the model fails most.

The score is Sliceline's (Sagadeeva and Boehm, SIGMOD 2021), for a slice S of the n kept rows with mean
error ē over them::

    score(S) = alpha * (error_rate(S) / ē - 1) - (1 - alpha) * (n / |S| - 1)

It trades how much worse the slice is than average (first term) against how small it is (second term);
``alpha`` near 1 favours error, lower values favour size. Only slices with at least ``min_support`` rows
and a positive score are reported. The search is level-wise over the lattice of column combinations (one
code per column: the same values, bins and periods the slice table shows). A slice is extended only when
it has ``min_support`` rows, some errors and an upper bound on any sub-slice's score (Sliceline's bound,
from its size and errors) above the k-th best score found so far; a conjunction is counted only if all of
its parents survived. Each level is one :class:`~errorscope.plans.GroupingSets` plan over the
combinations whose parents survived (numpy: a bincount per combination; DuckDB and Spark: one
``GROUPING SETS`` query, cells under ``min_support`` left out), so the top-k is exact for the lattice,
found without enumerating it, and the same on every engine.

**Valid p-values (sample splitting).** A test run on the rows the search optimised over is not valid:
the search picks, among ~10^5 candidates, the slices whose error rate came out high by chance too, so
every listed slice would read "p < 0.001" even where the labels are independent of the features. So the
kept rows are split (seeded, by a hash of each row's position that numpy, DuckDB and Spark compute
alike: :func:`errorscope.plans.holdout_hash`): the search runs on one part, and each discovered slice is tested
on the ``holdout`` part it never saw (one-sided pooled z-test: is its error rate above the rest's?),
with Benjamini-Hochberg over the discovered slices. This is the sample-splitting remedy of the
selective-inference literature (Cox 1975; Wasserman and Roeder 2009; DiCiccio et al. 2020): conditional
on the search half, the held-out p-values are valid, so the FDR among the listed slices is controlled.
``holdout=0`` searches every row and reports no p-value.

**Redundancy.** A conjunction is listed only if its score beats its best parent's (the slice with one
predicate fewer) by ``min_gain`` (relative: score > (1 + min_gain) * best parent's, when that is
positive); an extra predicate that buys little is noise ("relationship = Husband, age >= 40" repeated
for every second predicate). Then, best first, a slice is dropped when more than ``max_overlap`` of its
rows are already in the slices listed above it (one :class:`~errorscope.plans.Coverage` plan: rows per
pattern of membership in the candidates). The counts, error rates and selection use every kept row;
``score`` is the search part's (what the ranking used).

**Regression.** Sliceline's score works on any non-negative error per row; on a regression it is the
absolute residual |e| (``Measure("abs_error")`` summed per cell of each ``GroupingSets`` plan): the
"error rate" above becomes the slice's MAE and ē the search rows' MAE. The bound on a sub-slice's score
takes each row's error at most the largest |e| among the search rows (one ``Quantiles`` plan at q = 1)
instead of 1, so pruning stays exact. Each listed slice is tested on the held-out rows with Welch's
t-test of |e| (one-sided: is its MAE above the rest's?) and gets a Student t interval of its held-out
MAE, from the sums of |e| and e² per (held out, slice) cell (one ``GroupCounts`` per listed slice);
Benjamini-Hochberg as above. The table's columns are then ``mae``, ``rest_mae``, ``holdout_mae`` in
place of errors, error_rate, rest_error_rate and holdout_error_rate.

**Where model B is worse than model A** (``compare=(a, b)``). The error indicator becomes "B wrong where
A is right" (a classification: the cell (A right, B wrong) of ``Key.outcome(None, model=a)`` ×
``Key.outcome(None, model=b)``) or "B's |e| larger than A's" (a regression: ``Key.better(a, b) == 0``): a
0/1 indicator, so the search, its bound and the held-out z-test are the classification's, on rows counted
per (slice, A's outcome, B's outcome) cell (``min_count`` 0: a cell under the support may belong to a
supported slice). Each listed slice also gets, on its held-out rows, the discordant counts ``holdout_b_worse``
(only A right; a regression's: A's |e| smaller) and ``holdout_b_better`` and the one-sided exact McNemar
(sign) test that B is worse there (``p_b_worse``: P(X >= b_worse), X ~ Binomial(discordant, 1/2)), with
Benjamini-Hochberg over the listed slices (``q_b_worse``).
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from .coding import ColumnCodes
from .engines import Engine
from .evaluation import Evaluation
from .models import check_model_name
from .plans import (
    Counted,
    Coverage,
    Filter,
    GroupCounts,
    GroupingSets,
    Key,
    Measure,
    Patterns,
    Quantiles,
    holdout_hash,
    holdout_threshold,
)  # fmt: skip
from .regression import mean_stats
from .slicing import feature_family, slice_key, two_proportion_p_value

Progress = Callable[[float, str], None]
WRONG = (Measure("wrong"),)
ABS_ERROR = (Measure("abs_error"),)
ABS_ERROR_SUMS = (Measure("abs_error"), Measure("sq_error"))  # |e| and |e|² = e²
SETS_IN_MEMORY = 16  # combinations per plan on the numpy engine: cancel and progress stay fine-grained


class DiscoveryCancelled(Exception):
    """Raised by :func:`discover_slices` when its ``cancel`` event was set."""


@dataclass
class _Level:
    """The counted slices of one combination of columns: flat code -> size, errors (a regression's: the
    sum of |e|)."""

    columns: tuple[int, ...]
    size: np.ndarray
    errors: np.ndarray
    score: np.ndarray | None = None
    alive: np.ndarray | None = None  # may be extended


def sliceline_score(
    errors: np.ndarray, size: np.ndarray, mean_error: float, n: int, alpha: float
) -> np.ndarray:
    """Sliceline's score of slices with ``errors`` among ``size`` rows (see the module docstring)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return alpha * (errors / size / mean_error - 1) - (1 - alpha) * (n / size - 1)


def _upper_bound(
    errors: np.ndarray,
    size: np.ndarray,
    mean_error: float,
    n: int,
    alpha: float,
    min_support: int,
    max_error: float = 1.0,
) -> np.ndarray:
    """Sliceline's bound on the score of any sub-slice (at most ``size`` rows, ``errors`` summed error,
    each row's error at most ``max_error``): the score is checked at the sizes where its maximum can lie
    (a sub-slice of s rows has at most min(s * max_error, errors); the score is constant in s below
    errors / max_error rows and monotone above, so its maximum is at min_support, errors / max_error or
    size)."""
    size = np.asarray(size, dtype=np.float64)
    candidates = np.stack(
        [np.full_like(size, min_support), np.maximum(errors / max_error, min_support), size]
    )
    candidates = np.minimum(candidates, np.maximum(size, 1))
    bounded_errors = np.minimum(candidates * max_error, errors)
    return np.max(sliceline_score(bounded_errors, candidates, mean_error, n, alpha), axis=0)


def split_rows(positions: np.ndarray, holdout: float, seed: int) -> np.ndarray:
    """True for the rows at ``positions`` (in the data's order, from 0) held out to test discovered slices:
    about ``holdout`` of any set of rows, seeded, and the same rows on every engine (the hash of
    :func:`errorscope.plans.holdout_hash`, which ``Key.split`` counts by)."""
    return holdout_hash(np.asarray(positions, dtype=np.int64), seed) < holdout_threshold(holdout)


def discover_slices(
    ev: Evaluation,
    where: Filter | np.ndarray | None = None,
    columns: Sequence[str] | None = None,
    max_level: int = 3,
    min_support: int | None = None,
    alpha: float = 0.95,
    k: int = 20,
    holdout: float = 0.5,
    seed: int = 0,
    min_gain: float = 0.1,
    max_overlap: float = 0.8,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    engine: Engine | None = None,
    compare: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """The ``k`` best-scoring conjunctions of up to ``max_level`` predicates among the rows ``where`` keeps
    (a Filter, e.g. ``ev.selection.filter()``; a boolean mask on the numpy engine; None: every row).

    The search runs on the rows not in the seeded ``holdout`` share; the rest test what it found (see the
    module docstring, also for ``min_gain`` and ``max_overlap``). ``min_support``: the fewest search rows
    a slice may have (default: 1% of them, at least 10). ``engine``: the engine to ask (default
    ``ev.engine``; background work passes its ``for_thread()``).
    Columns: slice (readable), level, size, share, errors, error_rate, rest_error_rate (all kept rows),
    score (search rows), holdout_size, holdout_error_rate, ci_low, ci_high (Wilson), p_value (one-sided
    z-test against the rest) and p_adjusted (Benjamini-Hochberg over the listed slices), all on the
    held-out rows, and predicates (the AND-term that selects the slice). On a regression (the score on
    |e|): slice, level, size, share, mae, rest_mae, score, holdout_size, holdout_mae, ci_low, ci_high
    (Student t), p_value (one-sided Welch t-test of |e|), p_adjusted, predicates.

    ``compare=(a, b)``: the slices where model ``b`` is worse than model ``a`` (see the module docstring):
    the classification's columns, ``errors`` counting the rows where B is worse, then holdout_b_worse,
    holdout_b_better, p_b_worse and q_b_worse before predicates.
    """
    if not 1 <= max_level <= 4:
        raise ValueError(f"max_level must be 1 to 4, got {max_level!r}.")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}: near 1 favours error, lower favours size.")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}.")
    if not 0 <= holdout < 1:
        raise ValueError(
            f"holdout must be in [0, 1), got {holdout!r}: the share of rows kept to test slices."
        )
    if min_gain < 0:
        raise ValueError(f"min_gain must be at least 0, got {min_gain!r}: 0.1 asks 10% above the parent.")
    if not 0 < max_overlap <= 1:
        raise ValueError(f"max_overlap must be in (0, 1], got {max_overlap!r}: 1 keeps overlapping slices.")
    pair = _check_pair(ev, compare)
    engine = engine or ev.engine
    where = engine.as_filter(where)
    coded = [ev.codes(c) for c in columns] if columns is not None else feature_family(ev)
    keys = [slice_key(c) for c in coded]
    split = Key.split(holdout, seed)
    regression = ev.is_regression
    tested = holdout > 0
    extra: tuple[Key, ...] = ()  # the keys whose cells the error indicator is (compare=)
    worse, better = 1, None  # the indicator's cell, and the reverse's, among the outcome's cells
    if pair is not None:  # rows per [held out, cell of the pair's outcomes]
        a, b = pair
        extra = (Key.better(a, b),) if regression else (Key.outcome(None, a), Key.outcome(None, b))
        # the cells: A better / B better (Key.better); (A right, B wrong) / (A wrong, B right)
        worse, better = (0, 2) if regression else (1, 2)
        outcome = (split, *extra)
        totals = engine.grouping_sets(GroupingSets((outcome,)), where)[0].counts.reshape(2, -1)
        n, total_errors = int(totals.sum()), int(totals[:, worse].sum())
        measures: tuple[Measure, ...] = ()
        regression = False  # a 0/1 indicator: the classification's search and tests
    elif regression:  # rows and sums of |e|, |e|² per [held out]
        outcome: tuple[Key, ...] = (split,)
        totals_counted = engine.count(GroupCounts(outcome, ABS_ERROR_SUMS), where)
        totals = totals_counted.counts
        n, total_errors = int(totals[0]), float(totals_counted.sums[0][0])
        measures = ABS_ERROR
    else:
        outcome = (split, Key.outcome(None))  # rows per [held out, wrong]
        totals = engine.grouping_sets(GroupingSets((outcome,)), where)[0].counts
        n, total_errors = int(totals[0].sum()), int(totals[0, 1])
        measures = WRONG
    if min_support is None:
        min_support = max(10, math.ceil(0.01 * n))
    if min_support < 1:
        raise ValueError(f"min_support must be at least 1 row, got {min_support!r}.")
    if n == 0 or total_errors == 0:
        if regression:
            return _regression_result([], coded, [], totals_counted, tested)
        return _result([], coded, [], None, totals, tested, worse, better)
    search_rows = engine.key_filter(where, split, 0) if tested else where
    max_error = 1.0
    if regression:  # each row's error is at most the largest |e| among the search rows
        max_error = float(engine.quantiles(Quantiles(Measure("abs_error"), (1.0,)), search_rows)[0])
    search = _Search(
        [c.n_codes for c in coded],
        n,
        total_errors / n,
        alpha,
        min_support,
        k,
        min_gain,
        max_error,
        regression,
    )
    per_plan = SETS_IN_MEMORY if engine.name == "numpy" else None  # a SQL engine scans once per plan
    levels: list[dict[tuple[int, ...], _Level]] = []
    for level in range(1, max_level + 1):
        parents = levels[-1] if levels else None
        candidates = [
            combo
            for combo in itertools.combinations(range(len(coded)), level)
            if search.extends(combo, parents)
        ]
        current: dict[tuple[int, ...], _Level] = {}
        step = per_plan or max(1, len(candidates))
        for start in range(0, len(candidates), step):
            if cancel is not None and cancel.is_set():
                raise DiscoveryCancelled()
            chunk = candidates[start : start + step]
            plan = GroupingSets(
                tuple((*(keys[c] for c in combo), *extra) for combo in chunk),
                measures,
                0 if extra else min_support,
            )
            for combo, counted in zip(chunk, engine.grouping_sets(plan, search_rows), strict=True):
                if extra:
                    counted = _indicator_cells(counted, len(extra), worse)
                current[combo] = search.level(combo, counted, parents)
            if progress is not None:
                progress(
                    (level - 1 + (start + len(chunk)) / len(candidates)) / max_level,
                    f"level {level} of {max_level}",
                )
        search.prune(current, parents)
        levels.append(current)
        if not any(lv.alive is not None and lv.alive.any() for lv in current.values()):
            break
    if cancel is not None and cancel.is_set():
        raise DiscoveryCancelled()
    candidates = search.found if max_overlap < 1 else search.found[:k]  # at 1 none is dropped
    terms = tuple(tuple((keys[c], d) for c, d in _term(f, coded)) for f in candidates)
    patterns = engine.coverage(Coverage(terms, outcome), where) if terms else None
    listed = _drop_overlapping(len(candidates), patterns, k, max_overlap)
    if progress is not None:
        progress(1.0, "done")
    found = [search.found[j] for j in listed]
    if regression:
        cells = [_held_out_cell(engine, where, split, keys, coded, f) for f in found]
        return _regression_result(found, coded, cells, totals_counted, tested)
    return _result(found, coded, listed, patterns, totals, tested, worse, better)


def _check_pair(ev: Evaluation, compare: tuple[str, str] | None) -> tuple[str, str] | None:
    """``compare`` as (a, b), two different models of the Evaluation, or a ValueError saying what to pass."""
    if compare is None:
        return None
    if not (isinstance(compare, tuple | list) and len(compare) == 2):
        raise ValueError(f"compare must be a pair of model names (a, b), got {compare!r}.")
    a = check_model_name(compare[0], ev.models, "compare[0]")
    b = check_model_name(compare[1], ev.models, "compare[1]")
    if a == b:
        raise ValueError(f"compare names {a!r} twice: pass two different models of {ev.models}.")
    return a, b


def _indicator_cells(counted: Counted, n_extra: int, worse: int) -> Counted:
    """Rows and indicator rows per slice from rows per (slice, outcome cells): the outcome keys summed out,
    the ``worse`` cell (of the flattened outcome cells) as the one sum."""
    cells = counted.counts.reshape(*counted.counts.shape[: counted.counts.ndim - n_extra], -1)
    return Counted(cells.sum(axis=-1), cells[..., worse][np.newaxis].astype(np.float64))


Found = tuple[float, tuple[int, ...], int, int, float]  # score, combo, flat code, search size, search error


def _term(found: Found, coded: list[ColumnCodes]) -> list[tuple[int, int]]:
    """(column, code) of each predicate of a found slice."""
    _score, combo, code, _size, _errors = found
    digits = np.unravel_index(code, [coded[c].n_codes for c in combo])
    return [(c, int(d)) for c, d in zip(combo, digits, strict=True)]


def _drop_overlapping(n_found: int, patterns: Patterns | None, k: int, max_overlap: float) -> list[int]:
    """The positions of the best ``k`` found slices (best first) once each slice with more than
    ``max_overlap`` of its kept rows in the slices listed above it is dropped."""
    if patterns is None:
        return []
    rows = patterns.counts.reshape(len(patterns.counts), -1).sum(axis=1)
    listed: list[int] = []
    covered = np.zeros(len(rows), dtype=bool)
    for j in range(n_found):
        inside = patterns.members[:, j]
        size = int(rows[inside].sum())
        if size == 0 or int(rows[inside & covered].sum()) > max_overlap * size:
            continue
        listed.append(j)
        covered |= inside
        if len(listed) == k:
            break
    return listed


class _Search:
    def __init__(
        self,
        n_codes: list[int],
        n: int,
        mean_error: float,
        alpha: float,
        min_support: int,
        k: int,
        min_gain: float,
        max_error: float = 1.0,
        continuous: bool = False,
    ) -> None:
        self.n_codes = n_codes
        self.n, self.mean_error, self.alpha, self.min_support, self.k = n, mean_error, alpha, min_support, k
        self.min_gain = min_gain
        self.max_error, self.continuous = max_error, continuous  # a regression's |e|: summed as floats
        self.found: list[Found] = []
        self.threshold = 0.0  # the k-th best score so far (0 until k slices are found)

    @staticmethod
    def extends(combo: tuple[int, ...], parents: dict[tuple[int, ...], _Level] | None) -> bool:
        """Whether every parent of ``combo`` (one column dropped) has a slice worth extending."""
        if parents is None:
            return True
        for drop in range(len(combo)):
            level = parents.get(combo[:drop] + combo[drop + 1 :])
            if level is None or level.alive is None or not level.alive.any():
                return False
        return True

    def level(
        self, combo: tuple[int, ...], counted: Counted, parents: dict[tuple[int, ...], _Level] | None
    ) -> _Level:
        """The counted slices of ``combo``, those with a parent not worth extending left out (0 rows)."""
        size = counted.counts.astype(np.int64)
        errors = counted.sums[0] if self.continuous else np.rint(counted.sums[0]).astype(np.int64)
        if parents is not None:
            keep = np.ones(size.shape, dtype=bool)
            for drop in range(len(combo)):
                parent = parents[combo[:drop] + combo[drop + 1 :]]
                shape = [self.n_codes[c] for c in parent.columns]
                keep &= np.expand_dims(parent.alive.reshape(shape), drop)  # type: ignore[union-attr]
            size, errors = np.where(keep, size, 0), np.where(keep, errors, 0)
        return _Level(combo, size.ravel(), errors.ravel())

    def prune(
        self, level: dict[tuple[int, ...], _Level], parents: dict[tuple[int, ...], _Level] | None
    ) -> None:
        """Record valid slices, raise the top-k threshold, then mark the slices worth extending.

        A conjunction is recorded only if its score beats its best parent's by ``min_gain`` (see the
        module docstring): one with as many rows as a parent ("relationship = Husband, sex = Male" is
        "relationship = Husband") scores the same and never is.
        """
        for combo, counted in level.items():
            score = sliceline_score(counted.errors, counted.size, self.mean_error, self.n, self.alpha)
            counted.score = score
            valid = np.flatnonzero((counted.size >= self.min_support) & (score > 0))
            if parents is not None and len(valid):
                best_parent = self._best_parent_score(combo, valid, parents)
                valid = valid[score[valid] > (1 + self.min_gain) * np.maximum(best_parent, 0)]
            for code in valid:
                error = counted.errors[code]
                self.found.append(
                    (float(score[code]), combo, int(code), int(counted.size[code]),
                     float(error) if self.continuous else int(error))
                )  # fmt: skip
        self.found.sort(key=lambda f: (-f[0], -f[3]))
        del self.found[self.k * 4 :]  # keep a margin for the overlap filter
        if len(self.found) >= self.k:
            self.threshold = max(self.threshold, self.found[self.k - 1][0])
        for counted in level.values():
            bound = _upper_bound(
                counted.errors, counted.size, self.mean_error, self.n, self.alpha, self.min_support,
                self.max_error,
            )  # fmt: skip
            counted.alive = (
                (counted.size >= self.min_support) & (counted.errors > 0) & (bound > self.threshold)
            )

    def _best_parent_score(
        self, combo: tuple[int, ...], codes: np.ndarray, parents: dict[tuple[int, ...], _Level]
    ) -> np.ndarray:
        """The highest score among the parents (one predicate dropped) of each slice ``codes`` of ``combo``."""
        dims = [self.n_codes[c] for c in combo]
        digits = np.unravel_index(codes, dims)
        best = np.full(len(codes), -np.inf)
        for drop in range(len(combo)):
            parent = parents[combo[:drop] + combo[drop + 1 :]]
            keep = [d for i, d in enumerate(digits) if i != drop]
            flat = np.ravel_multi_index(keep, [n for i, n in enumerate(dims) if i != drop])
            best = np.maximum(best, parent.score[flat])  # type: ignore[index]  # scored by prune
        return best


def _result(
    found: list[Found],
    coded: list[ColumnCodes],
    listed: list[int],
    patterns: Patterns | None,
    totals: np.ndarray,
    tested: bool,
    worse: int = 1,
    better: int | None = None,
) -> pd.DataFrame:
    """The table of the listed slices; ``totals`` and each slice's patterns are rows per (held out, outcome
    cell), the error indicator's cell ``worse`` (a pair's: ``better`` the reverse's, see the module
    docstring)."""
    rows = []
    for candidate in found:
        predicates = tuple(coded[c].predicates[d] for c, d in _term(candidate, coded))
        text = ", ".join(p.label for p in predicates)
        rows.append((text, len(candidate[1]), candidate[0], predicates))
    table = pd.DataFrame(rows, columns=["slice", "level", "score", "predicates"])
    totals = totals.reshape(2, -1)
    n, total_errors = int(totals.sum()), int(totals[:, worse].sum())
    held_n, held_errors = int(totals[1].sum()), int(totals[1, worse])
    cells = totals.shape[1]
    counts = (
        np.array([patterns.rows(patterns.members[:, j]) for j in listed], dtype=np.int64).reshape(
            len(listed), 2, cells
        )
        if patterns is not None
        else np.zeros((0, 2, cells), dtype=np.int64)
    )
    size, errors = counts.sum(axis=(1, 2)), counts[:, :, worse].sum(axis=1)
    held_size, held_err = counts[:, 1].sum(axis=1), counts[:, 1, worse]
    rest_n, rest_errors = n - size, total_errors - errors
    with np.errstate(divide="ignore", invalid="ignore"):
        table["size"], table["errors"] = size, errors
        table["share"] = size / n if n else np.nan
        table["error_rate"] = errors / size
        table["rest_error_rate"] = np.where(rest_n > 0, rest_errors / rest_n, np.nan)
        table["holdout_size"] = held_size
        table["holdout_error_rate"] = held_err / held_size
    table["ci_low"], table["ci_high"] = np.nan, np.nan
    table["p_value"], table["p_adjusted"] = np.nan, np.nan
    if tested and len(table):
        low, high = proportion_confint(held_err, held_size, method="wilson")
        table["ci_low"] = np.where(held_size > 0, low, np.nan)
        table["ci_high"] = np.where(held_size > 0, high, np.nan)
        table["p_value"] = two_proportion_p_value(
            held_err, held_size, held_errors - held_err, held_n - held_size, alternative="larger"
        )
        table["p_adjusted"] = bh_adjusted(table["p_value"].to_numpy(dtype=np.float64))
    order = ["slice", "level", "size", "share", "errors", "error_rate", "rest_error_rate", "score",
             "holdout_size", "holdout_error_rate", "ci_low", "ci_high", "p_value", "p_adjusted"]  # fmt: skip
    if better is not None:  # a pair: the held-out discordant rows and the one-sided McNemar (sign) test
        b_worse, b_better = counts[:, 1, worse], counts[:, 1, better]
        table["holdout_b_worse"], table["holdout_b_better"] = b_worse, b_better
        p = mcnemar_greater(b_worse, b_better)
        table["p_b_worse"] = p if tested else np.nan
        table["q_b_worse"] = bh_adjusted(table["p_b_worse"].to_numpy(dtype=np.float64))
        order += ["holdout_b_worse", "holdout_b_better", "p_b_worse", "q_b_worse"]
    return table[[*order, "predicates"]]


def mcnemar_greater(worse: np.ndarray, better: np.ndarray) -> np.ndarray:
    """One-sided exact McNemar (sign) test that the first count is the larger, vectorised: P(X >= worse),
    X ~ Binomial(worse + better, 1/2); 1.0 with no discordant rows."""
    worse, better = np.asarray(worse, dtype=np.int64), np.asarray(better, dtype=np.int64)
    return np.where(worse + better > 0, stats.binom.sf(worse - 1, worse + better, 0.5), 1.0)


def bh_adjusted(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (statsmodels' fdr_bh) over the finite ones; NaN stays NaN."""
    p_values = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(len(p_values), np.nan)
    tested = np.isfinite(p_values)
    if tested.any():
        adjusted[tested] = multipletests(p_values[tested], method="fdr_bh")[1]
    return adjusted


def _held_out_cell(
    engine: Engine, where: Filter, split: Key, keys: list[Key], coded: list[ColumnCodes], found: Found
) -> np.ndarray:
    """A found slice's rows and sums of |e| and e², per [search, held out]: (3, 2)."""
    term = _term(found, coded)
    counted = engine.count(GroupCounts((split, *(keys[c] for c, _ in term)), ABS_ERROR_SUMS), where)
    at = (slice(None), *(d for _, d in term))
    return np.stack([counted.counts[at].astype(np.float64), counted.sums[0][at], counted.sums[1][at]])


def _regression_result(
    found: list[Found],
    coded: list[ColumnCodes],
    cells: list[np.ndarray],
    totals: Counted,
    tested: bool,
) -> pd.DataFrame:
    """The table of the listed slices of a regression (the score on |e|); ``cells`` are each slice's
    rows and sums of |e| and e² per [search, held out], ``totals`` the kept rows' per [held out]."""
    rows = []
    for candidate in found:
        predicates = tuple(coded[c].predicates[d] for c, d in _term(candidate, coded))
        rows.append((", ".join(p.label for p in predicates), len(candidate[1]), candidate[0], predicates))
    table = pd.DataFrame(rows, columns=["slice", "level", "score", "predicates"])
    all_n, all_s, all_q = totals.counts.astype(np.float64), totals.sums[0], totals.sums[1]
    cell = np.array(cells, dtype=np.float64).reshape(-1, 3, 2)
    size, s = cell[:, 0].sum(axis=1), cell[:, 1].sum(axis=1)
    held_n, held_s, held_q = cell[:, 0, 1], cell[:, 1, 1], cell[:, 2, 1]
    n, total = float(all_n.sum()), float(all_s.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        table["size"] = size.astype(np.int64)
        table["share"] = size / n if n else np.nan
        table["mae"] = s / size
        table["rest_mae"] = np.where(n - size > 0, (total - s) / (n - size), np.nan)
        table["holdout_size"] = held_n.astype(np.int64)
        table["holdout_mae"] = held_s / held_n
    table["ci_low"], table["ci_high"] = np.nan, np.nan
    table["p_value"], table["p_adjusted"] = np.nan, np.nan
    if tested and len(table):
        held = mean_stats(held_s, held_q, held_n, float(all_s[1]), float(all_q[1]), int(all_n[1]))
        table["ci_low"], table["ci_high"] = held["ci_low"], held["ci_high"]
        table["p_value"] = welch_greater_p_value(
            held_s, held_q, held_n, all_s[1] - held_s, all_q[1] - held_q, all_n[1] - held_n
        )
        table["p_adjusted"] = bh_adjusted(table["p_value"].to_numpy(dtype=np.float64))
    order = ["slice", "level", "size", "share", "mae", "rest_mae", "score", "holdout_size", "holdout_mae",
             "ci_low", "ci_high", "p_value", "p_adjusted", "predicates"]  # fmt: skip
    return table[order]


def welch_greater_p_value(
    s1: np.ndarray, q1: np.ndarray, n1: np.ndarray, s2: np.ndarray, q2: np.ndarray, n2: np.ndarray
) -> np.ndarray:
    """Welch's t-test that the mean of group 1 is above group 2's, from sums of x (``s``) and x² (``q``)
    over ``n`` rows (``scipy.stats.ttest_ind(..., equal_var=False, alternative="greater")``); NaN with
    fewer than two rows on a side."""
    n1, n2 = np.asarray(n1, dtype=np.float64), np.asarray(n2, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m2 = s1 / n1, s2 / n2
        sd1 = np.sqrt(np.maximum(q1 - n1 * m1**2, 0) / (n1 - 1))
        sd2 = np.sqrt(np.maximum(q2 - n2 * m2**2, 0) / (n2 - 1))
        test = stats.ttest_ind_from_stats(m1, sd1, n1, m2, sd2, n2, equal_var=False, alternative="greater")
    return np.where((n1 > 1) & (n2 > 1), test.pvalue, np.nan)
