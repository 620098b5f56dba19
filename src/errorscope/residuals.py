"""A regression's residual plots as counts: predicted against actual in 2-D bins, the residual histogram,
and the residual against one feature, each from one grouped-count plan, so they run on every engine.

Bins are :meth:`Key.value_bin` keys over ranges computed once from all rows (the engine's min and max:
``Quantiles(..., (0.0, 1.0))``), rounded out to a "nice" step (1, 2, 2.5 or 5 times a power of ten), so
bins stay put while the selection changes and their edges read as round numbers. Actual and predicted
share one range (the diagonal y = x is the perfect prediction); the residual's range is symmetric about 0
(0 is an edge: the bins left of it are under-predictions, right of it over-predictions). A brushed range
of bins becomes ``between`` predicates on the bins' own edges (:func:`range_predicate`), so it selects
exactly the rows the bins counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .evaluation import Evaluation
from .plans import Counted, GroupCounts, Key, Measure, Quantiles
from .regression import mean_stats, require_regression
from .selection import Predicate

VALUE_BINS = 40  # about this many bins of actual and predicted (a nice step gives 20 to 40)
RESIDUAL_BINS = 40
FEATURE_BINS = 30
STEPS = (1.0, 2.0, 2.5, 5.0)


def nice_step(width: float, integer: bool = False) -> float:
    """The one of 1, 2, 2.5, 5 times a power of ten nearest ``width`` (by ratio), so a range cut at it
    has about as many bins as asked; ``integer``: a whole number (at least 1)."""
    if not width > 0 or not math.isfinite(width):
        return 1.0
    power = math.floor(math.log10(width))
    candidates = [m * 10.0**k for k in (power - 1, power, power + 1) for m in STEPS]
    if integer:
        candidates = [c for c in candidates if c >= 1 and c == round(c)] or [1.0]
    return min(candidates, key=lambda c: abs(math.log(c / width)))


def nice_bins(name: str, lo: float, hi: float, target: int, integer: bool = False) -> Key:
    """Equal bins of about ``target`` covering [lo, hi], edges on multiples of a nice step."""
    step = nice_step((hi - lo) / target, integer)
    start = math.floor(lo / step) * step
    bins = max(1, math.ceil((hi - start) / step - 1e-9))
    if start + bins * step <= hi:  # hi on the last edge: the last bin holds it (end bins are open anyway)
        bins += 1
    return Key.value_bin(name, bins, start, start + bins * step)


def symmetric_bins(name: str, extent: float, target: int) -> Key:
    """Equal bins of about ``target`` covering [-extent, extent], 0 on an edge."""
    step = nice_step(2 * extent / target) if extent > 0 else 1.0
    half = max(1, math.ceil(extent / step - 1e-9))
    return Key.value_bin(name, 2 * half, -half * step, half * step)


def _extremes(ev: Evaluation, kind: str) -> tuple[float, float]:
    low, high = ev.engine.quantiles(Quantiles(Measure(kind), (0.0, 1.0)))  # type: ignore[arg-type]
    return float(low), float(high)


@dataclass(frozen=True)
class ResidualBins:
    """The keys of the three plots: actual and predicted over one shared range, and the residual."""

    actual: Key
    predicted: Key
    residual: Key

    @property
    def density(self) -> GroupCounts:
        """Rows and the residual's sum per (actual bin, predicted bin)."""
        return GroupCounts((self.actual, self.predicted), (Measure("residual"),))

    @property
    def histogram(self) -> GroupCounts:
        return GroupCounts((self.residual,))


def residual_bins(ev: Evaluation) -> ResidualBins:
    """The bins of every row's actual and predicted values (one range) and of its residual (symmetric)."""
    require_regression(ev)

    def build() -> ResidualBins:
        a_lo, a_hi = _extremes(ev, "actual")
        p_lo, p_hi = _extremes(ev, "prediction")
        e_lo, e_hi = _extremes(ev, "residual")
        lo, hi = min(a_lo, p_lo), max(a_hi, p_hi)
        n = ev.regression_names()
        value = nice_bins(n["actual"], lo, hi if hi > lo else lo + 1, VALUE_BINS)
        predicted = Key.value_bin(n["predicted"], value.bins, value.lo, value.hi)
        residual = symmetric_bins(n["residual"], max(abs(e_lo), abs(e_hi)), RESIDUAL_BINS)
        ev.engine.expect((residual, value, predicted))  # brushed and counted together
        return ResidualBins(value, predicted, residual)

    return ev.cached(("residual_bins", ev.predictions_version), build)


@dataclass(frozen=True)
class FeatureAxis:
    """How the residual is shown against one feature: ``numeric`` (equal bins, ``key`` a value_bin) or
    ``categorical`` (the column's codes, ``key`` a column key, with their labels and predicates)."""

    name: str
    kind: str
    key: Key
    labels: tuple[str, ...] = ()
    predicates: tuple[Predicate, ...] = ()
    shown: tuple[int, ...] = ()  # categorical: the codes shown, in order (those with rows, by value)

    def plan(self, bins: ResidualBins) -> GroupCounts:
        """Numeric: rows and residual sums per (feature bin, residual bin); categorical: rows and sums of
        the residual and its square per code."""
        if self.kind == "numeric":
            return GroupCounts((self.key, bins.residual), (Measure("residual"),))
        return GroupCounts((self.key,), (Measure("residual"), Measure("sq_error")))


def feature_axis(ev: Evaluation, name: str) -> FeatureAxis:
    """The axis of feature ``name``: equal bins of a numeric feature's range (whole numbers for an
    integer column), else its codes (values, or a numeric column's few values)."""
    if name not in ev.features:
        raise ValueError(f"feature must be one of the Evaluation's features {ev.features}, got {name!r}.")

    def build() -> FeatureAxis:
        coded = ev.codes(name)
        extent = finite_range(ev, name) if coded.kind == "numeric" else None
        if extent is not None:
            lo, hi, integer = extent
            return FeatureAxis(
                name, "numeric", nice_bins(name, lo, hi if hi > lo else lo + 1, FEATURE_BINS, integer)
            )
        counts = ev.engine.count(GroupCounts((Key.column(name),))).counts
        shown = [int(c) for c in np.flatnonzero(counts)]
        values = [p.values[0] if p.op == "in" and len(p.values) == 1 else None for p in coded.predicates]
        if all(isinstance(values[c], int | float | np.number) for c in shown):  # numbers: in value order
            shown.sort(key=lambda c: float(values[c]))  # type: ignore[arg-type]
        return FeatureAxis(
            name, "categorical", Key.column(name), coded.labels, coded.predicates, tuple(shown)
        )

    return ev.cached(("feature_axis", name), build, keep=4)


def finite_range(ev: Evaluation, name: str) -> tuple[float, float, bool] | None:
    """A numeric column's smallest and largest finite values and whether it holds whole numbers (None
    when it is not numeric or has no finite value): a profile, read once."""
    if ev.in_memory:
        from .coding import as_numbers

        numbers = as_numbers(ev.column_values(name))
        if numbers is None:
            return None
        x = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        x = x[np.isfinite(x)]
        integer = pd.api.types.is_integer_dtype(numbers.dtype)
    else:
        found = ev.engine.finite_values(name)
        if found is None:
            return None
        x = found.to_numpy(dtype=np.float64)
        integer = bool(getattr(ev.engine.dtype_of(name), "is_integer", lambda: False)())
    if not len(x):
        return None
    return float(x.min()), float(x.max()), integer


def range_predicate(key: Key, first: int, last: int) -> Predicate:
    """The rows in bins ``first..last`` of a value_bin ``key``: ``between`` the bins' own edges, open at
    the end bins (which also hold what lies outside the range)."""
    first, last = sorted((int(first), int(last)))
    if not 0 <= first <= last < key.bins:
        raise ValueError(f"bins {first}..{last} are out of range for {key.bins} bins of {key.name}.")
    edges = key.bin_edges()
    lo = None if first == 0 else float(edges[first])
    hi = None if last == key.bins - 1 else float(edges[last + 1])
    return Predicate(key.name, "between", (lo, hi))


def bins_of(key: Key, predicate: Predicate) -> tuple[int, int] | None:
    """The bin range a :func:`range_predicate` of ``key`` selects (None if it is not one)."""
    if predicate.column != key.name or predicate.op != "between" or predicate.negated:
        return None
    lo, hi = predicate.values
    edges = key.bin_edges()
    first = 0 if lo is None else int(np.searchsorted(edges, lo))
    last = key.bins - 1 if hi is None else int(np.searchsorted(edges, hi)) - 1
    if not 0 <= first <= last < key.bins or range_predicate(key, first, last) != predicate:
        return None
    return first, last


def density_table(bins: ResidualBins, counted: Counted) -> pd.DataFrame:
    """One row per non-empty 2-D bin: its actual and predicted ranges, rows and mean residual."""
    counts = counted.counts[: bins.actual.bins, : bins.predicted.bins]
    sums = counted.sums[0][: bins.actual.bins, : bins.predicted.bins]
    a, p = np.nonzero(counts)
    edges = bins.actual.bin_edges()
    return pd.DataFrame(
        {
            "actual_bin": a, "predicted_bin": p,
            "actual_low": edges[a], "actual_high": edges[a + 1],
            "predicted_low": edges[p], "predicted_high": edges[p + 1],
            "count": counts[a, p], "mean_residual": sums[a, p] / counts[a, p],
        }
    )  # fmt: skip


def histogram_table(bins: ResidualBins, counts: np.ndarray) -> pd.DataFrame:
    """One row per residual bin: its range and rows."""
    edges = bins.residual.bin_edges()
    return pd.DataFrame(
        {"residual_low": edges[:-1], "residual_high": edges[1:], "count": counts[: bins.residual.bins]}
    )


def feature_table(axis: FeatureAxis, counted: Counted) -> pd.DataFrame:
    """Per feature bin (numeric) or shown category: rows and the mean residual (categories: with a 95% t
    interval)."""
    if axis.kind == "numeric":
        n = counted.counts[: axis.key.bins].sum(axis=1)
        s = counted.sums[0][: axis.key.bins].sum(axis=1)
        edges = axis.key.bin_edges()
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(n > 0, s / n, np.nan)
        return pd.DataFrame(
            {
                f"{axis.name}_low": edges[:-1],
                f"{axis.name}_high": edges[1:],
                "count": n,
                "mean_residual": mean,
            }
        )
    codes = list(axis.shown)
    n, s, sq = counted.counts[codes], counted.sums[0][codes], counted.sums[1][codes]
    stats = mean_stats(s, sq, n, float(counted.sums[0].sum()), float(counted.sums[1].sum()), counted.total)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, s / n, np.nan)
    return pd.DataFrame(
        {
            axis.name: [axis.labels[c] for c in codes], "code": codes, "count": n, "mean_residual": mean,
            "ci_low": stats["ci_low"], "ci_high": stats["ci_high"],
        }
    )  # fmt: skip


def feature_names(ev: Evaluation) -> list[dict[str, str]]:
    """Every feature with the kind of plot it gets (``numeric`` or ``categorical``)."""
    return [{"name": f, "kind": feature_axis(ev, f).kind} for f in ev.features]
