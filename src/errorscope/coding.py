"""Integer codes for columns, computed once, so views aggregate with ``np.bincount`` on masks.

Categorical-like columns (strings, categories, booleans, low-cardinality integers) get one code per value
(the most frequent ``max_categories - 1`` values, the rest pooled as "other"), in the order of a
``pd.Categorical``'s categories, else most frequent first; numeric columns (``Decimal`` values included) get
quantile bins, durations (timedelta) bins of their length; missing values always get their own code. Each
code carries the :class:`Predicate` that selects it. Codes are stored in the smallest unsigned type that
holds them (uint8 below 256 codes, which every binned column and most categorical ones are): whoever
combines codes into keys does it in int64.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from .selection import Predicate


@dataclass(frozen=True)
class ColumnCodes:
    """A column as ``codes`` (one per row, uint8 / uint16 / int32 by :func:`code_dtype`) into ``labels`` /
    ``predicates`` (one per code)."""

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
    if numbers is not None and _more_distinct_than(numbers, max(bins, 12)):
        x = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        return _binned(column, x, np.isnan(x), _quantile_cuts(x[np.isfinite(x)], bins))
    return _categorical_codes(column, values, max_categories)


COMPARED_CUTS = 32  # up to this many cut points, a comparison per cut beats a binary search per value
PROBE_ROWS = 4096  # rows spread over a column that decide "many distinct values" without a full unique


def _more_distinct_than(values: pd.Series, limit: int) -> bool:
    """Whether ``values`` has more than ``limit`` distinct non-missing values. A few thousand rows spread
    over the column decide it when they already have more (they are some of its values, so the answer
    is exact); only a column with few values among them is counted in full."""
    step = len(values) // PROBE_ROWS
    if step > 1 and values.iloc[::step].nunique(dropna=True) > limit:
        return True
    return bool(values.nunique(dropna=True) > limit)


def code_dtype(n_codes: int) -> np.dtype:
    """The smallest type for codes ``0 .. n_codes - 1``: uint8, uint16, else int32."""
    if n_codes <= 1 << 8:
        return np.dtype(np.uint8)
    return np.dtype(np.uint16 if n_codes <= 1 << 16 else np.int32)


def encode_many(jobs: Sequence[Callable[[], ColumnCodes]]) -> list[ColumnCodes]:
    """Run column encodings (each a call of :func:`encode_column`) two at a time: numpy's partition and
    comparisons and pyarrow's dictionary encoding release the GIL, so two columns code at once."""
    if len(jobs) < 2:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="errorscope-coding") as pool:
        return list(pool.map(lambda job: job(), jobs))


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
            codes, uniques = _sorted_factorize(values)
        except TypeError:  # values of mixed types have no order: first appearance breaks ties
            codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    keep = top_codes(counts, max_categories)
    if isinstance(values.dtype, pd.CategoricalDtype):
        keep = np.sort(keep)
    kept_values = [uniques[i] for i in keep]
    other = len(keep) < int(np.count_nonzero(counts))
    missing = int(counts.sum()) < len(codes)  # the NaN sentinel (-1) is not counted
    labels, predicates = category_codes(column, kept_values, other, bool(missing))
    # per value its code; values no row has read 0 (never used); the last slot is the NaN sentinel's (-1)
    remap = np.zeros(len(uniques) + 1, dtype=code_dtype(len(labels)))
    if other:
        remap[: len(uniques)] = len(keep)
    remap[keep] = np.arange(len(keep))
    remap[-1] = len(labels) - 1
    return ColumnCodes(column, "categorical", remap[codes], labels, predicates)


def _sorted_factorize(values: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize(values, sort=True)``: codes (-1 where missing) into the sorted distinct values. An
    Arrow string column goes through pyarrow's dictionary encoding (a third of pandas' time at 10M rows)
    and its dictionary sorted alone: the same codes, the same order (code points)."""
    array = values.array
    if isinstance(array, pd.arrays.ArrowExtensionArray):
        import pyarrow as pa
        import pyarrow.compute as pc

        chunked = array.__arrow_array__()
        if pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type):
            whole = chunked.chunk(0) if chunked.num_chunks == 1 else pa.concat_arrays(chunked.chunks)
            encoded = pc.dictionary_encode(whole)
            names = encoded.dictionary.to_pylist()
            order = sorted(range(len(names)), key=names.__getitem__)
            rank = np.empty(len(names) + 1, dtype=np.int64)  # last slot: missing (-1) stays -1
            rank[order] = np.arange(len(names))
            rank[-1] = -1
            indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            return rank[indices], [names[i] for i in order]
    return pd.factorize(values, sort=True, use_na_sentinel=True)


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
    labels, predicates = bin_codes(column, inner, bool(missing.any()), bound, label)
    dtype = code_dtype(len(labels))
    if len(inner) <= COMPARED_CUTS:  # a value's bin is how many cuts it is at or above
        codes = np.zeros(len(x), dtype=dtype)
        for cut in inner:
            codes += x >= cut
    else:
        codes = np.searchsorted(inner, x, side="right").astype(dtype)
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
    missing = bool((codes_raw < 0).any())
    codes = codes_raw.astype(code_dtype(len(uniques) + missing))
    labels, predicates = [], []
    for period in uniques:
        start, end = period.start_time, (period + 1).start_time
        if tz is not None:
            start, end = start.tz_localize(tz), end.tz_localize(tz)
        labels.append(str(period))
        predicates.append(Predicate(column, "between", (start, end)))
    if missing:
        codes[codes_raw < 0] = len(labels)
        labels.append("missing")
        predicates.append(Predicate(column, "isna"))
    return ColumnCodes(column, "datetime", codes, tuple(labels), tuple(predicates))
