"""A regression's metrics from sums: MAE, RMSE, R², mean residual, MAPE, per group or overall.

Every number comes from the rows and the sums of a few per-row measures (:data:`REGRESSION_SUMS`, see
:mod:`errorscope.plans`), so it is the same on every engine; the median absolute error is an order
statistic (:class:`~errorscope.plans.Quantiles`). The residual is prediction minus actual (positive:
over-prediction). Definitions follow ``sklearn.metrics``: R² is 1 - SSE / SST with SST = Σ(y - ȳ)², and
1.0 (a perfect fit) or 0.0 when SST is 0 (``force_finite``); MAPE is mean(|e| / max(|y|, eps)), shown
only when no actual value is 0 (else NaN).

Intervals and tests of a mean (of |e| for MAE, e for the mean residual, e² for the MSE, whose root is
the RMSE) are Student t intervals and Welch's t-test from sums of x and x² (:func:`mean_stats`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .evaluation import Evaluation
from .plans import Counted, Filter, GroupCounts, Key, Measure, Quantiles

REGRESSION_SUMS = tuple(
    Measure(kind)  # type: ignore[arg-type]
    for kind in (
        "residual", "abs_error", "sq_error", "sq_error2", "actual", "actual2", "prediction",
        "prediction2", "abs_pct_error", "zero_actual",
    )
)  # fmt: skip
"""The measures :meth:`RegressionMetrics.from_counted` reads, in this order."""

METRICS = ("mae", "rmse", "mean_error")
METRIC_NAMES = {
    "mae": "mean absolute error",
    "rmse": "root mean squared error",
    "mean_error": "mean residual",
}
METRIC_MEASURES = {  # the measure whose mean the metric is, and that measure's square
    "mae": (Measure("abs_error"), Measure("sq_error")),
    "rmse": (Measure("sq_error"), Measure("sq_error2")),
    "mean_error": (Measure("residual"), Measure("sq_error")),
}


@dataclass(frozen=True)
class RegressionMetrics:
    """Per group (arrays shaped like the counts) or overall (0-d arrays): NaN where a group is empty."""

    count: np.ndarray
    mae: np.ndarray
    rmse: np.ndarray
    r2: np.ndarray
    mean_error: np.ndarray
    mean_prediction: np.ndarray
    mean_actual: np.ndarray
    mape: np.ndarray
    sd_actual: np.ndarray
    sd_prediction: np.ndarray

    @classmethod
    def from_counted(cls, counted: Counted) -> RegressionMetrics:
        """From a :class:`Counted` whose sums are :data:`REGRESSION_SUMS`."""
        n = counted.counts.astype(np.float64)
        e, ae, se, _, y, y2, p, p2, ape, zero = counted.sums
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_actual = y / n
            sst = np.maximum(y2 - y * mean_actual, 0.0)
            sst = np.where(sst <= 1e-12 * np.maximum(y2, 1e-300), 0.0, sst)  # constant targets: exactly 0
            r2 = np.where(sst > 0, 1 - se / sst, np.where(se == 0, 1.0, 0.0))
            mean_prediction = p / n
            return cls(
                count=counted.counts,
                mae=ae / n,
                rmse=np.sqrt(se / n),
                r2=np.where(n >= 2, r2, np.nan),
                mean_error=e / n,
                mean_prediction=mean_prediction,
                mean_actual=mean_actual,
                mape=np.where(zero == 0, ape / n, np.nan),
                sd_actual=np.sqrt(sst / (n - 1)),
                sd_prediction=np.sqrt(np.maximum(p2 - p * mean_prediction, 0.0) / (n - 1)),
            )


def regression_counts(ev: Evaluation, keys: tuple[Key, ...], where: Filter | np.ndarray | None) -> Counted:
    """Rows and :data:`REGRESSION_SUMS` per combination of ``keys`` among the kept rows."""
    require_regression(ev)
    return ev.engine.count(GroupCounts(keys, REGRESSION_SUMS), ev.engine.as_filter(where))


def regression_metrics(ev: Evaluation, where: Filter | np.ndarray | None = None) -> RegressionMetrics:
    """The metrics of the rows ``where`` keeps (a Filter, a mask, or every row)."""
    return RegressionMetrics.from_counted(regression_counts(ev, (), where))


def median_absolute_error(ev: Evaluation, where: Filter | np.ndarray | None = None) -> float:
    """The median of |residual| among the kept rows (``sklearn.metrics.median_absolute_error``)."""
    require_regression(ev)
    values = ev.engine.quantiles(Quantiles(Measure("abs_error"), (0.5,)), ev.engine.as_filter(where))
    return float(values[0]) if len(values) else float("nan")


def require_regression(ev: Evaluation) -> None:
    if not ev.is_regression:
        raise ValueError(
            'this is a regression metric; the Evaluation is a classification (pass task="regression" for '
            "a numeric target)."
        )


def mean_stats(
    s: np.ndarray, sq: np.ndarray, size: np.ndarray, total: float, total_sq: float, n_kept: int
) -> dict[str, np.ndarray]:
    """Per group (``s``, ``sq``: sums of x and x² over ``size`` rows) among ``n_kept`` rows summing to
    ``total`` and ``total_sq``: the mean, the rest's mean, difference, ratio, a 95% Student t interval
    and Welch's t-test against the rest (two-sided; NaN with fewer than two rows on a side)."""
    size = np.asarray(size, dtype=np.float64)
    rest_n = n_kept - size
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / size
        rest = (total - s) / rest_n
        sd = np.sqrt(np.maximum(sq - size * mean**2, 0) / (size - 1))
        rest_sd = np.sqrt(np.maximum((total_sq - sq) - rest_n * rest**2, 0) / (rest_n - 1))
        half = stats.t.ppf(0.975, size - 1) * sd / np.sqrt(size)
        test = stats.ttest_ind_from_stats(mean, sd, size, rest, rest_sd, rest_n, equal_var=False)
    valid = (size > 1) & (rest_n > 1)
    return {
        "value": mean,
        "rest_value": np.where(rest_n > 0, rest, np.nan),
        "difference": mean - rest,
        "ratio": ratio(mean, rest),
        "ci_low": np.where(size > 1, mean - half, np.nan),
        "ci_high": np.where(size > 1, mean + half, np.nan),
        "p_value": np.where(valid, test.pvalue, np.nan),
    }


def metric_stats(
    metric: str, s: np.ndarray, sq: np.ndarray, size: np.ndarray, total: float, total_sq: float, n_kept: int
) -> dict[str, np.ndarray]:
    """:func:`mean_stats` of a regression ``metric`` (see :data:`METRIC_MEASURES`): the RMSE is the root
    of the mean squared error, its interval the roots of the MSE's (clipped at 0) and its test the MSE's."""
    out = mean_stats(s, sq, size, total, total_sq, n_kept)
    if metric != "rmse":
        return out
    with np.errstate(invalid="ignore"):
        value, rest = np.sqrt(out["value"]), np.sqrt(out["rest_value"])
        return {
            **out,
            "value": value,
            "rest_value": rest,
            "difference": value - rest,
            "ratio": ratio(value, rest),
            "ci_low": np.sqrt(np.maximum(out["ci_low"], 0)),
            "ci_high": np.sqrt(out["ci_high"]),
        }


def ratio(value: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """value / rest; inf where the rest is 0 and the value not, NaN where both are."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rest > 0, value / rest, np.where(value > 0, np.inf, np.nan))


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS} for a regression, got {metric!r}.")
