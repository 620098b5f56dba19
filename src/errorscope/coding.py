"""Integer codes for columns, computed once, so views aggregate with ``np.bincount`` on masks.

Categorical-like columns (strings, categories, booleans, low-cardinality integers) get one code per value
(the most frequent ``max_categories - 1`` values, the rest pooled as "other"), in the order of a
``pd.Categorical``'s categories, else most frequent first; numeric columns (``Decimal`` values included) get
quantile bins, durations (timedelta) bins of their length; missing values always get their own code. Each
code carries the :class:`Predicate` that selects it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

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
    """Codes for one column, plus a missing code: periods of a datetime column, bins of a numeric or
    duration one (the given ``edges``, cut points outside the values left out, else ``bins`` quantile bins)
    or categorical values."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _datetime_codes(column, values)
    if values.dtype.kind == "m":  # numpy's or pyarrow's durations
        return _duration_codes(column, values, bins, edges)
    numbers = as_numbers(values)
    if edges is not None:  # cut points: below the first and from the last on are open-ended bins
        if numbers is None:
            raise TypeError(f"{column} is {values.dtype}, not numeric: only numeric columns have bin edges.")
        x = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        return _binned(column, x, np.isnan(x), inner_cuts(edges, x))
    if numbers is not None and numbers.nunique(dropna=True) > max(bins, 12):
        x = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        return _binned(column, x, np.isnan(x), _quantile_cuts(x[np.isfinite(x)], bins))
    return _categorical_codes(column, values, max_categories)


def as_numbers(values: pd.Series) -> pd.Series | None:
    """``values`` as numbers: itself if numeric (not boolean), floats for a column of ``Decimal``s, else
    None."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return None
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "decimal":
        return values.astype(np.float64)
    return None


def _categorical_codes(column: str, values: pd.Series, max_categories: int) -> ColumnCodes:
    """One code per value: a categorical's categories in their order, other values most frequent first
    (equally frequent values in value order, so every engine codes a column alike)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        try:
            codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
        except TypeError:  # values of mixed types have no order: first appearance breaks ties
            codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    keep = top_codes(counts, max_categories)
    if isinstance(values.dtype, pd.CategoricalDtype):
        keep = np.sort(keep)
    remap = np.full(len(uniques) + 1, -1, dtype=np.int32)  # last slot: the NaN sentinel (-1)
    remap[keep] = np.arange(len(keep), dtype=np.int32)
    kept_values = [uniques[i] for i in keep]
    other = len(keep) < int(np.count_nonzero(counts))
    labels, predicates = category_codes(column, kept_values, other, bool((codes < 0).any()))
    if other:
        remap[np.setdiff1d(np.arange(len(uniques)), keep)] = len(keep)
    out = remap[codes]  # codes == -1 reads remap[-1], the NaN slot
    if (codes < 0).any():
        out[codes < 0] = len(labels) - 1
    return ColumnCodes(column, "categorical", out, labels, predicates)


def top_codes(counts: np.ndarray, max_categories: int) -> np.ndarray:
    """The values (by position in ``counts``, rows per value) that get their own code: most frequent first,
    ties in position order, values no row has left out; ``max_categories - 1`` of them when there are more
    than ``max_categories`` (the rest is "other")."""
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] > 0]  # a category no row has is no slice
    return order[: max_categories - 1] if len(order) > max_categories else order


def category_codes(
    column: str, kept: list[Any], other: bool, missing: bool
) -> tuple[tuple[str, ...], tuple[Predicate, ...]]:
    """Labels and predicates of a categorical column's codes: one per ``kept`` value, then "other" (the
    values not kept) and "missing" when the column has them."""
    labels = distinct_labels(kept)
    predicates = [Predicate(column, "in", (v,)) for v in kept]
    if other:
        labels.append("other")
        predicates.append(Predicate(column, "not in", tuple(kept)))
    if missing:
        labels.append("missing")
        predicates.append(Predicate(column, "isna"))
    return tuple(labels), tuple(predicates)


def distinct_labels(values: list[Any]) -> list[str]:
    """``str`` of each value, except where two values print alike (1 and "1"): those are ``repr``s,
    with the type's name if that is not enough."""
    labels = [str(v) for v in values]
    for rendering in (repr, lambda v: f"{v!r} ({type(v).__name__})"):
        clashing = {label for label, n in Counter(labels).items() if n > 1}
        labels = [
            rendering(v) if label in clashing else label for v, label in zip(values, labels, strict=True)
        ]
    return labels


def _quantile_cuts(finite: np.ndarray, bins: int) -> np.ndarray:
    """Inner cut points of ``bins`` quantile bins of ``finite`` (the distinct values' quantiles when the
    values are too skewed, e.g. mostly zeros, to give three cuts)."""
    if not len(finite):
        return np.array([])
    quantiles = np.linspace(0, 1, bins + 1)
    edges = np.unique(np.quantile(finite, quantiles))
    if len(edges) < 4:
        edges = np.unique(np.quantile(np.unique(finite), quantiles))
    return edges[1:-1]


def inner_cuts(edges: Any, x: np.ndarray) -> np.ndarray:
    """The cut points among ``edges`` that split the values ``x``: infinities (the open ends already)
    and points at or below the smallest value or above the largest would only make empty bins."""
    cuts = np.asarray(edges, dtype=np.float64)
    present = x[~np.isnan(x)]
    if not len(present):
        return cuts[np.isfinite(cuts)]
    return cuts[np.isfinite(cuts) & (cuts > present.min()) & (cuts <= present.max())]


def _binned(
    column: str,
    x: np.ndarray,
    missing: np.ndarray,
    inner: np.ndarray,
    bound: Callable[[Any], Any] = float,
    label: Callable[[Predicate], str] | None = None,
) -> ColumnCodes:
    """Codes of ``x`` into the bins the increasing cut points ``inner`` make, bin i being
    [inner[i-1], inner[i]) with open-ended first and last bins; ``missing`` rows get their own code.
    ``bound`` turns a cut point into the predicate's bound, ``label`` a predicate into its label."""
    codes = np.searchsorted(inner, x, side="right").astype(np.int32)
    labels, predicates = bin_codes(column, inner, bool(missing.any()), bound, label)
    if missing.any():
        codes[missing] = len(labels) - 1
    return ColumnCodes(column, "numeric", codes, labels, predicates)


def bin_codes(
    column: str,
    inner: np.ndarray,
    missing: bool,
    bound: Callable[[Any], Any] = float,
    label: Callable[[Predicate], str] | None = None,
) -> tuple[tuple[str, ...], tuple[Predicate, ...]]:
    """Labels and predicates of the bins the cut points ``inner`` make (see :func:`_binned`), then
    "missing" when the column has missing values."""
    labels, predicates = [], []
    for i in range(len(inner) + 1):
        lo = bound(inner[i - 1]) if i > 0 else None
        hi = bound(inner[i]) if i < len(inner) else None
        predicate = Predicate(column, "between", (lo, hi))
        labels.append(label(predicate) if label else predicate.label.removeprefix(f"{column} "))
        predicates.append(predicate)
    if missing:
        labels.append("missing")
        predicates.append(Predicate(column, "isna"))
    return tuple(labels), tuple(predicates)


DURATION_UNITS = (("d", 86_400 * 10**9), ("h", 3_600 * 10**9), ("m", 60 * 10**9), ("s", 10**9))


def _duration_codes(column: str, values: pd.Series, bins: int, edges: Any = None) -> ColumnCodes:
    """Bins of a timedelta column by length, counted in whole nanoseconds: at ``edges`` (nanoseconds, see
    :func:`as_nanoseconds`), else quantile cuts rounded to a unit that keeps the labels short ("1h 30m").
    Each bin selects [lo, hi) with ``pd.Timedelta`` bounds."""
    missing = values.isna().to_numpy()
    ns = values.to_numpy(dtype="timedelta64[ns]").view(np.int64).copy()
    x = np.where(missing, np.nan, ns.astype(np.float64))
    if edges is not None:
        inner = inner_cuts(edges, x)
    else:
        present = ns[~missing]
        span = int(present.max() - present.min()) if len(present) else 0
        step = next((u for _, u in DURATION_UNITS if u * bins * 10 <= span), 1)
        inner = np.unique(np.round(_quantile_cuts(present.astype(np.float64), bins) / step) * step)
        inner = inner_cuts(inner, x)

    def label(predicate: Predicate) -> str:
        lo, hi = (None if v is None else duration_text(v) for v in predicate.values)
        return f"≥ {lo}" if hi is None else f"< {hi}" if lo is None else f"in [{lo}, {hi})"

    return _binned(
        column, ns, missing, np.round(inner).astype(np.int64), partial(pd.Timedelta, unit="ns"), label
    )


def as_nanoseconds(durations: Any) -> np.ndarray:
    """Durations (Timedeltas, timedelta64 or strings such as "1h30m") as float nanoseconds, NaN where
    missing."""
    ns = pd.to_timedelta(pd.Series(durations)).to_numpy(dtype="timedelta64[ns]")
    return np.where(np.isnat(ns), np.nan, ns.view(np.int64).astype(np.float64))


def duration_text(value: pd.Timedelta) -> str:
    """A short duration: "2d 3h", "1h 30m", "45s", "0.25s", "-5m"."""
    ns = int(value.value)
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    parts = []
    for name, unit in DURATION_UNITS[:-1]:
        count, ns = divmod(ns, unit)
        if count:
            parts.append(f"{count}{name}")
    if ns or not parts:
        parts.append(f"{ns / 1e9:g}s")
    return sign + " ".join(parts)


PERIODS = (("Y", "year"), ("Q", "quarter"), ("M", "month"), ("W", "week"), ("D", "day"), ("h", "hour"))


def _datetime_codes(column: str, values: pd.Series, max_periods: int = 24) -> ColumnCodes:
    """One code per calendar period, the finest of year/quarter/month/week/day/hour with at most
    ``max_periods`` periods spanned; each selects [period start, next period start)."""
    tz = values.dt.tz
    if isinstance(values.dtype, pd.ArrowDtype):  # pyarrow timestamps have no periods: numpy's have
        values = values.astype(pd.DatetimeTZDtype("ns", tz) if tz is not None else "datetime64[ns]")
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
