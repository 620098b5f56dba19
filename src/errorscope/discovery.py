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
its parents survived. Each combination of columns costs one ``np.bincount`` over the rows its surviving
parents keep, so the top-k is exact for the lattice, found without enumerating it.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from .coding import ColumnCodes
from .evaluation import Evaluation
from .slicing import feature_family, two_proportion_p_value

Progress = Callable[[float, str], None]


class DiscoveryCancelled(Exception):
    """Raised by :func:`discover_slices` when its ``cancel`` event was set."""


@dataclass
class _Level:
    """The counted slices of one combination of columns: flat code -> size, errors."""

    columns: tuple[int, ...]
    size: np.ndarray
    errors: np.ndarray
    alive: np.ndarray | None = None  # may be extended


def sliceline_score(
    errors: np.ndarray, size: np.ndarray, mean_error: float, n: int, alpha: float
) -> np.ndarray:
    """Sliceline's score of slices with ``errors`` among ``size`` rows (see the module docstring)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return alpha * (errors / size / mean_error - 1) - (1 - alpha) * (n / size - 1)


def _upper_bound(
    errors: np.ndarray, size: np.ndarray, mean_error: float, n: int, alpha: float, min_support: int
) -> np.ndarray:
    """Sliceline's bound on the score of any sub-slice (at most ``size`` rows, ``errors`` errors, each
    row's error at most 1): the score is checked at the sizes where its maximum can lie."""
    candidates = np.stack([np.full_like(size, min_support), np.maximum(errors, min_support), size]).astype(
        float
    )
    candidates = np.minimum(candidates, np.maximum(size, 1))
    bounded_errors = np.minimum(candidates, errors)
    return np.max(sliceline_score(bounded_errors, candidates, mean_error, n, alpha), axis=0)


def discover_slices(
    ev: Evaluation,
    mask: np.ndarray | None = None,
    columns: Sequence[str] | None = None,
    max_level: int = 3,
    min_support: int | None = None,
    alpha: float = 0.95,
    k: int = 20,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """The ``k`` best-scoring conjunctions of up to ``max_level`` predicates among the rows ``mask`` keeps.

    ``min_support``: the fewest rows a slice may have (default: 1% of the kept rows, at least 10).
    Columns: slice (readable), level, size, share, errors, error_rate, rest_error_rate, score,
    ci_low, ci_high (Wilson), p_value (z-test against the rest), p_adjusted (Benjamini-Hochberg over the
    slices listed) and predicates (the AND-term that selects the slice).
    """
    if not 1 <= max_level <= 4:
        raise ValueError(f"max_level must be 1 to 4, got {max_level!r}.")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}: near 1 favours error, lower favours size.")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}.")
    coded = [ev.codes(c) for c in columns] if columns is not None else feature_family(ev)
    keep = np.ones(ev.n_rows, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    wrong = ev.wrong[keep]
    codes = [c.codes[keep] for c in coded]
    n, total_errors = int(keep.sum()), int(wrong.sum())
    if min_support is None:
        min_support = max(10, math.ceil(0.01 * n))
    if min_support < 1:
        raise ValueError(f"min_support must be at least 1 row, got {min_support!r}.")
    empty = _result([], coded, n, total_errors)
    if n == 0 or total_errors == 0:
        return empty
    mean_error = total_errors / n
    search = _Search(codes, [c.n_codes for c in coded], wrong, n, mean_error, alpha, min_support, k)
    levels: list[dict[tuple[int, ...], _Level]] = []
    n_cols = len(coded)
    work = [math.comb(n_cols, level) for level in range(1, max_level + 1)]
    done = 0
    for level in range(1, max_level + 1):
        current: dict[tuple[int, ...], _Level] = {}
        for combo in itertools.combinations(range(n_cols), level):
            if cancel is not None and cancel.is_set():
                raise DiscoveryCancelled()
            counted = search.count(combo, levels[-1] if levels else None)
            if counted is not None:
                current[combo] = counted
            done += 1
            if progress is not None and done % 8 == 0:
                progress(done / sum(work), f"level {level} of {max_level}")
        search.prune(current, levels[-1] if levels else None)
        levels.append(current)
        if not any(lv.alive is not None and lv.alive.any() for lv in current.values()):
            break
    if progress is not None:
        progress(1.0, "done")
    return _result(search.best(), coded, n, total_errors)


class _Search:
    def __init__(
        self,
        codes: list[np.ndarray],
        n_codes: list[int],
        wrong: np.ndarray,
        n: int,
        mean_error: float,
        alpha: float,
        min_support: int,
        k: int,
    ) -> None:
        self.codes, self.n_codes, self.wrong = codes, n_codes, wrong
        self.n, self.mean_error, self.alpha, self.min_support, self.k = n, mean_error, alpha, min_support, k
        self.found: list[tuple[float, tuple[int, ...], int, int, int]] = []  # score, combo, code, size, err
        self.threshold = 0.0  # the k-th best score so far (0 until k slices are found)

    def count(self, combo: tuple[int, ...], parents: dict[tuple[int, ...], _Level] | None) -> _Level | None:
        """Sizes and errors of every slice of ``combo`` whose parents all survived (None if none did)."""
        rows: np.ndarray | None = None
        if parents is not None:
            keep = np.ones(len(self.wrong), dtype=bool)
            for drop in range(len(combo)):
                parent = combo[:drop] + combo[drop + 1 :]
                level = parents.get(parent)
                if level is None or level.alive is None or not level.alive.any():
                    return None
                keep &= level.alive[self._flat(parent, rows)]
            rows = np.flatnonzero(keep)
            if not len(rows):
                return None
        flat = self._flat(combo, rows)
        wrong = self.wrong if rows is None else self.wrong[rows]
        size_k = math.prod(self.n_codes[c] for c in combo)
        size = np.bincount(flat, minlength=size_k)
        errors = np.bincount(flat, weights=wrong, minlength=size_k).astype(np.int64)
        return _Level(combo, size, errors)

    def _flat(self, combo: tuple[int, ...], rows: np.ndarray | None = None) -> np.ndarray:
        """The mixed-radix code of ``combo`` for each row (of ``rows`` when given)."""
        pick = (lambda a: a) if rows is None else (lambda a: a[rows])
        flat = pick(self.codes[combo[0]]).astype(np.int64)
        for c in combo[1:]:
            flat = flat * self.n_codes[c] + pick(self.codes[c])
        return flat

    def prune(
        self, level: dict[tuple[int, ...], _Level], parents: dict[tuple[int, ...], _Level] | None
    ) -> None:
        """Record valid slices, raise the top-k threshold, then mark the slices worth extending.

        A conjunction with as many rows as one of its parents is not recorded: its extra predicate
        selects nothing new ("relationship = Husband, sex = Male" is "relationship = Husband").
        """
        for combo, counted in level.items():
            score = sliceline_score(counted.errors, counted.size, self.mean_error, self.n, self.alpha)
            valid = np.flatnonzero((counted.size >= self.min_support) & (score > 0))
            if parents is not None and len(valid):
                valid = valid[~self._same_as_a_parent(combo, valid, counted.size[valid], parents)]
            for code in valid:
                self.found.append(
                    (float(score[code]), combo, int(code), int(counted.size[code]), int(counted.errors[code]))
                )
        self.found.sort(key=lambda f: (-f[0], -f[3]))
        del self.found[self.k * 4 :]  # keep a margin: children may tie with parents
        if len(self.found) >= self.k:
            self.threshold = max(self.threshold, self.found[self.k - 1][0])
        for counted in level.values():
            bound = _upper_bound(
                counted.errors, counted.size, self.mean_error, self.n, self.alpha, self.min_support
            )
            counted.alive = (
                (counted.size >= self.min_support) & (counted.errors > 0) & (bound > self.threshold)
            )

    def _same_as_a_parent(
        self,
        combo: tuple[int, ...],
        codes: np.ndarray,
        sizes: np.ndarray,
        parents: dict[tuple[int, ...], _Level],
    ) -> np.ndarray:
        dims = [self.n_codes[c] for c in combo]
        digits = np.unravel_index(codes, dims)
        same = np.zeros(len(codes), dtype=bool)
        for drop in range(len(combo)):
            parent = parents[combo[:drop] + combo[drop + 1 :]]
            keep = [d for i, d in enumerate(digits) if i != drop]
            flat = np.ravel_multi_index(keep, [n for i, n in enumerate(dims) if i != drop])
            same |= parent.size[flat] == sizes
        return same

    def best(self) -> list[tuple[float, tuple[int, ...], int, int, int]]:
        return self.found[: self.k]


def _result(
    found: list[tuple[float, tuple[int, ...], int, int, int]],
    coded: list[ColumnCodes],
    n: int,
    total_errors: int,
) -> pd.DataFrame:
    rows = []
    for score, combo, code, size, errors in found:
        digits = []
        for c in reversed(combo):
            code, digit = divmod(code, coded[c].n_codes)
            digits.append(digit)
        predicates = tuple(coded[c].predicates[d] for c, d in zip(combo, reversed(digits), strict=True))
        rows.append((", ".join(p.label for p in predicates), len(combo), size, errors, score, predicates))
    table = pd.DataFrame(rows, columns=["slice", "level", "size", "errors", "score", "predicates"])
    size = table["size"].to_numpy(dtype=np.int64)
    errors = table["errors"].to_numpy(dtype=np.int64)
    rest_n, rest_errors = n - size, total_errors - errors
    with np.errstate(divide="ignore", invalid="ignore"):
        table["share"] = size / n if n else np.nan
        table["error_rate"] = errors / size
        table["rest_error_rate"] = np.where(rest_n > 0, rest_errors / rest_n, np.nan)
    low, high = proportion_confint(errors, size, method="wilson") if len(table) else ([], [])
    table["ci_low"], table["ci_high"] = low, high
    table["p_value"] = two_proportion_p_value(errors, size, rest_errors, rest_n)
    tested = table["p_value"].notna().to_numpy()
    adjusted = np.full(len(table), np.nan)
    if tested.any():
        adjusted[tested] = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    table["p_adjusted"] = adjusted
    order = ["slice", "level", "size", "share", "errors", "error_rate", "rest_error_rate", "score",
             "ci_low", "ci_high", "p_value", "p_adjusted", "predicates"]  # fmt: skip
    return table[order]
