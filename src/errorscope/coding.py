"""Integer codes for columns, computed once, so views aggregate with ``np.bincount`` on masks.

Categorical-like columns (strings, categories, booleans, low-cardinality integers) get one code per value
(the most frequent ``max_categories - 1`` values, the rest pooled as "other"); numeric columns get quantile
bins; missing values always get their own code. Each code carries the :class:`Predicate` that selects it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .selection import Predicate


@dataclass(frozen=True)
class ColumnCodes:
    """A column as ``codes`` (int32, one per row) into ``labels`` / ``predicates`` (one per code)."""

    column: str
    kind: str  # "categorical" or "numeric"
    codes: np.ndarray
    labels: tuple[str, ...]
    predicates: tuple[Predicate, ...]
    listed: tuple[bool, ...] | None = None  # which codes a slice table lists (None: all)

    @property
    def n_codes(self) -> int:
        return len(self.labels)

    def counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Rows per code, among ``mask``'s rows (all rows when None)."""
        codes = self.codes if mask is None else self.codes[mask]
        return np.bincount(codes, minlength=self.n_codes)


def encode_column(
    column: str,
    values: pd.Series,
    *,
    bins: int = 10,
    edges: np.ndarray | None = None,
    max_categories: int = 20,
) -> ColumnCodes:
    """Codes for one column, plus a missing code: periods of a datetime column, bins of a numeric one
    (the given ``edges``, else ``bins`` quantile bins) or categorical values."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _datetime_codes(column, values)
    if edges is not None:  # cut points: below the first and from the last on are open-ended bins
        cuts = np.asarray(edges, dtype=np.float64)
        return _numeric_codes(column, values, bins, edges=np.concatenate([[-np.inf], cuts, [np.inf]]))
    if _is_numeric(values) and values.nunique(dropna=True) > max(bins, 12):
        return _numeric_codes(column, values, bins)
    return _categorical_codes(column, values, max_categories)


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)


def _categorical_codes(column: str, values: pd.Series, max_categories: int) -> ColumnCodes:
    codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    order = np.argsort(-counts, kind="stable")
    keep = order[: max_categories - 1] if len(uniques) > max_categories else order
    remap = np.full(len(uniques) + 1, -1, dtype=np.int32)  # last slot: the NaN sentinel (-1)
    remap[keep] = np.arange(len(keep), dtype=np.int32)
    kept_values = [uniques[i] for i in keep]
    labels = [str(v) for v in kept_values]
    predicates = [Predicate(column, "in", (v,)) for v in kept_values]
    next_code = len(keep)
    if len(keep) < len(uniques):
        other = np.setdiff1d(np.arange(len(uniques)), keep)
        remap[other] = next_code
        labels.append("other")
        predicates.append(Predicate(column, "not in", tuple(kept_values)))
        next_code += 1
    out = remap[codes]  # codes == -1 reads remap[-1], the NaN slot
    if (codes < 0).any():
        out[codes < 0] = next_code
        labels.append("missing")
        predicates.append(Predicate(column, "isna"))
    return ColumnCodes(column, "categorical", out, tuple(labels), tuple(predicates))


def _numeric_codes(column: str, values: pd.Series, bins: int, edges: np.ndarray | None = None) -> ColumnCodes:
    x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(x)
    if edges is None:
        quantiles = np.linspace(0, 1, bins + 1)
        edges = np.unique(np.quantile(x[finite], quantiles)) if finite.any() else np.array([0.0, 1.0])
        if len(edges) < 4:  # skewed (e.g. mostly zeros): bin the distinct values instead
            edges = np.unique(np.quantile(np.unique(x[finite]), quantiles))
    inner = edges[1:-1]  # bin i is [inner[i-1], inner[i]); the first and last are open-ended
    codes = np.searchsorted(inner, x, side="right").astype(np.int32)
    labels, predicates = [], []
    for i in range(len(inner) + 1):
        lo = inner[i - 1] if i > 0 else None
        hi = inner[i] if i < len(inner) else None
        predicate = Predicate(column, "between", (lo, hi))
        labels.append(predicate.label.removeprefix(f"{column} "))
        predicates.append(predicate)
    missing = np.isnan(x)
    if missing.any():
        codes[missing] = len(labels)
        labels.append("missing")
        predicates.append(Predicate(column, "isna"))
    return ColumnCodes(column, "numeric", codes, tuple(labels), tuple(predicates))


PERIODS = (("Y", "year"), ("Q", "quarter"), ("M", "month"), ("W", "week"), ("D", "day"), ("h", "hour"))


def _datetime_codes(column: str, values: pd.Series, max_periods: int = 24) -> ColumnCodes:
    """One code per calendar period, the finest of year/quarter/month/week/day/hour with at most
    ``max_periods`` periods spanned; each selects [period start, next period start)."""
    tz = values.dt.tz
    stamps = values.dt.tz_localize(None) if tz is not None else values
    present = stamps.dropna()
    freq = "Y"
    if len(present):
        for candidate, _ in PERIODS:
            span = pd.period_range(present.min(), present.max(), freq=candidate)
            if len(span) > max_periods:
                break
            freq = candidate
    periods = stamps.dt.to_period(freq)
    codes_raw, uniques = pd.factorize(periods, sort=True, use_na_sentinel=True)
    codes = codes_raw.astype(np.int32)
    labels, predicates = [], []
    for period in uniques:
        start, end = period.start_time, (period + 1).start_time
        if tz is not None:
            start, end = start.tz_localize(tz), end.tz_localize(tz)
        labels.append(str(period))
        predicates.append(Predicate(column, "between", (start, end)))
    if (codes_raw < 0).any():
        codes[codes_raw < 0] = len(labels)
        labels.append("missing")
        predicates.append(Predicate(column, "isna"))
    return ColumnCodes(column, "datetime", codes, tuple(labels), tuple(predicates))
