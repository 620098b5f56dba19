"""A regression's metrics per sensitive group, with intervals, disparities and distributions, from sums.

Per group (the intersections of :func:`errorscope.fairness.make_groups`): rows, MAE, RMSE, R², mean
residual (bias: prediction - actual, positive means over-prediction), mean prediction and mean actual,
each with a 95% interval; differences and ratios against a reference group; histograms of the
predictions and of the residuals on shared edges; the mean residual within bins of the actual value (who
is predicted lower at the same actual); Welch's test of each group's mean residual against the other
rows, Benjamini-Hochberg adjusted.

**Why analytic intervals, not a bootstrap.** Every number here comes from grouped counts and sums
(:class:`~errorscope.plans.GroupCounts`), so it is the same on every engine. A row bootstrap needs each
resample's sums, i.e. per-row replicate weights summed per group: no plan computes them, and resampling
binned cells instead would treat every row as its cell's mean (exact on cells, not on rows). The
intervals are therefore computed from the sums, exactly on the data:

- MAE, mean residual, mean prediction, mean actual: Student t intervals of a mean from Σx and Σx²
  (|e| and e², e and e², ŷ and ŷ², y and y²);
- RMSE: the roots of the t interval of the mean squared error (Σe², Σe⁴), clipped at 0: the RMSE is in
  its interval exactly when the MSE is in the MSE's, so the coverage is the MSE interval's;
- R² = 1 - Σe² / Σ(y - ȳ)²: the delta method (the ratio's influence function), a t interval of
  ± t·se. Its variance needs Σ(y - ȳ)⁴ and Σe²(y - ȳ)², expanded exactly from the sums of y, y², y³, y⁴,
  e², e²y and e²y² (:func:`central_moments`).

``tests/test_group_regression.py`` checks their coverage by simulation on the Wage data (resampling it as
a population), the t intervals against scipy, and the R² interval against a numpy bootstrap of the rows.
Wage's squared errors are heavy-tailed, and so the RMSE and R² intervals of small groups cover less than
95% (measured, 2,000 samples: at 150 rows RMSE 89%, R² 91%; at 300 rows 92% and 93%; at 1,000 rows 93-95%;
the means' t intervals 93-95% from 150 rows); a percentile bootstrap of the rows does no better (RMSE at
150 rows: 87%, 300 samples).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from .evaluation import Evaluation
from .fairness import Groups, _by_group, reference_group
from .plans import Counted, Filter, GroupCounts, Key, Measure
from .regression import REGRESSION_SUMS, RegressionMetrics, mean_stats, require_regression
from .residuals import residual_bins

METRICS = ("mae", "rmse", "r2", "mean_error", "mean_prediction", "mean_actual")
METRIC_NAMES = {
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
    "mean_error": "mean residual",
    "mean_prediction": "mean prediction",
    "mean_actual": "mean actual",
}
LOWER_IS_BETTER = {"mae": True, "rmse": True, "r2": False}  # "best" / "worst" reference groups
LEVEL = 0.95
_SUM = {m.kind: i for i, m in enumerate(REGRESSION_SUMS)}
MOMENT_SUMS = tuple(Measure(kind) for kind in ("actual3", "actual4", "sq_error_actual", "sq_error_actual2"))  # type: ignore[arg-type]
"""Beside :data:`REGRESSION_SUMS`: what R²'s variance needs (:func:`central_moments`)."""
_SUM |= {m.kind: len(REGRESSION_SUMS) + i for i, m in enumerate(MOMENT_SUMS)}


@dataclass(frozen=True)
class RegressionGroupCounts:
    """Per group: rows (k,) and the sums of :data:`REGRESSION_SUMS` then :data:`MOMENT_SUMS` (m, k)."""

    counts: np.ndarray
    sums: np.ndarray

    def sum(self, kind: str) -> np.ndarray:
        return self.sums[_SUM[kind]]


def count_regression_groups(
    ev: Evaluation, groups: Groups, where: Filter | np.ndarray | None, model: str = ""
) -> RegressionGroupCounts:
    """One grouped count: the regression sums and R²'s moment sums per group, of model ``model`` (""
    : the active one)."""
    require_regression(ev)
    engine = ev.engine
    where = engine.as_filter(where)
    measures = tuple(Measure(m.kind, model=model) for m in (*REGRESSION_SUMS, *MOMENT_SUMS))
    counted = engine.count(GroupCounts(groups.keys, measures), where)
    counts = _by_group(groups, counted.counts, 1)[:, 0]
    sums = np.stack([_by_group(groups, s, 1)[:, 0] for s in counted.sums])
    return RegressionGroupCounts(counts, sums)


def central_moments(n: np.ndarray, sums: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per group, Σ(y - ȳ)⁴ and Σe²(y - ȳ)² from the sums of y, y², y³, y⁴, e², e²y and e²y² (the binomial
    expansions; exact up to rounding)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        m = sums["actual"] / n
        fourth = sums["actual4"] - 4 * m * sums["actual3"] + 6 * m**2 * sums["actual2"] - 3 * n * m**4
        cross = sums["sq_error_actual2"] - 2 * m * sums["sq_error_actual"] + m**2 * sums["sq_error"]
    return np.maximum(fourth, 0.0), np.maximum(cross, 0.0)


def _t_interval(s: np.ndarray, sq: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Student t interval of a mean from Σx, Σx² over n rows (NaN under two rows)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / n
        sd = np.sqrt(np.maximum(sq - n * mean**2, 0.0) / (n - 1))
        half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * sd / np.sqrt(n)
    ok = n > 1
    return np.where(ok, mean - half, np.nan), np.where(ok, mean + half, np.nan)


def r2_interval(
    n: np.ndarray, sse: np.ndarray, se2: np.ndarray, sst: np.ndarray, fourth: np.ndarray, cross: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The delta-method t interval of R² = 1 - a/b (a = mean e², b = mean (y - ȳ)²) from Σe², Σe⁴,
    Σ(y - ȳ)², Σ(y - ȳ)⁴ and Σe²(y - ȳ)²: Var(R²) ≈ Var(φ)/n with the influence
    φ = -(e² - a)/b + a/b²·((y - ȳ)² - b) (ȳ's own estimate adds nothing to first order)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = sse / n, sst / n
        var_a = se2 / n - a**2
        var_b = fourth / n - b**2
        cov = cross / n - a * b
        var_phi = np.maximum(var_a / b**2 - 2 * a * cov / b**3 + a**2 * var_b / b**4, 0.0)
        se = np.sqrt(var_phi / (n - 1))  # n - 1: the sample variance of φ
        r2 = 1 - a / b
        half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * se
    ok = (n > 2) & (b > 0)
    return np.where(ok, r2 - half, np.nan), np.where(ok, r2 + half, np.nan)


def intervals(
    n: np.ndarray, sums: dict[str, np.ndarray], fourth: np.ndarray, cross: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The 95% interval of each of :data:`METRICS` from per-group sums (named as the measures) and R²'s
    fourth moments (:func:`central_moments`)."""
    n = np.asarray(n, dtype=np.float64)
    out = {
        "mae": _t_interval(sums["abs_error"], sums["sq_error"], n),
        "mean_error": _t_interval(sums["residual"], sums["sq_error"], n),
        "mean_prediction": _t_interval(sums["prediction"], sums["prediction2"], n),
        "mean_actual": _t_interval(sums["actual"], sums["actual2"], n),
    }
    low, high = _t_interval(sums["sq_error"], sums["sq_error2"], n)
    with np.errstate(invalid="ignore"):
        out["rmse"] = (np.sqrt(np.maximum(low, 0.0)), np.sqrt(high))
    with np.errstate(divide="ignore", invalid="ignore"):
        sst = np.maximum(sums["actual2"] - sums["actual"] ** 2 / n, 0.0)
    out["r2"] = r2_interval(n, sums["sq_error"], sums["sq_error2"], sst, fourth, cross)
    return out


def regression_group_metrics(
    ev: Evaluation,
    groups: Groups,
    where: Filter | np.ndarray | None = None,
    min_size: int = 30,
    counted: RegressionGroupCounts | None = None,
    model: str = "",
) -> pd.DataFrame:
    """One row per group: ``count``, ``share``, each of :data:`METRICS` with ``<metric>_low/_high`` (95%
    intervals, see the module docstring), Welch's test of the mean residual against the other kept rows
    (``mean_error_p_value``, BH-adjusted ``mean_error_p_adjusted``) and ``small`` (count < min_size).
    ``model``: whose predictions (default: the active model's); ``counted``: its counts, when at hand."""
    counted = counted or count_regression_groups(ev, groups, where, model)
    n = counted.counts
    m = RegressionMetrics.from_counted(_as_counted(counted))
    sums = {kind: counted.sum(kind) for kind in _SUM}
    fourth, cross = central_moments(np.asarray(n, dtype=np.float64), sums)
    found = intervals(n, sums, fourth, cross)
    total = int(n.sum())
    columns: dict[str, Any] = {
        "group": list(groups.labels),
        "count": n,
        "share": n / total if total else np.full(len(n), np.nan),
    }
    for name in METRICS:
        columns[name] = np.asarray(getattr(m, name), dtype=np.float64)
        columns[f"{name}_low"], columns[f"{name}_high"] = found[name]
    welch = mean_stats(
        sums["residual"],
        sums["sq_error"],
        n,
        float(sums["residual"].sum()),
        float(sums["sq_error"].sum()),
        total,
    )
    p = welch["p_value"]
    adjusted = np.full(len(p), np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        adjusted[tested] = multipletests(p[tested], method="fdr_bh")[1]
    columns["mean_error_rest"] = welch["rest_value"]
    columns["mean_error_p_value"] = p
    columns["mean_error_p_adjusted"] = adjusted
    columns["small"] = n < min_size
    columns["term"] = list(groups.terms)
    return pd.DataFrame(columns)


def regression_summary(table: pd.DataFrame) -> dict[str, float]:
    """Between groups with rows: the range (max - min) of MAE, RMSE and mean residual, and the ratio of
    the lowest MAE to the highest."""
    rows = table[table["count"] > 0]
    names = ("mae_range", "mae_ratio", "rmse_range", "mean_error_range")
    if rows.empty:
        return dict.fromkeys(names, float("nan"))
    mae, rmse, bias = (rows[c].to_numpy(dtype=float) for c in ("mae", "rmse", "mean_error"))
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "mae_range": float(np.nanmax(mae) - np.nanmin(mae)),
            "mae_ratio": float(np.nanmin(mae) / np.nanmax(mae)),
            "rmse_range": float(np.nanmax(rmse) - np.nanmin(rmse)),
            "mean_error_range": float(np.nanmax(bias) - np.nanmin(bias)),
        }


def _as_counted(counted: RegressionGroupCounts) -> Counted:
    return Counted(counted.counts, counted.sums[: len(REGRESSION_SUMS)])


def reference_index(table: pd.DataFrame, reference: str | int | None, metric: str = "mae") -> int:
    """The reference group's position in ``table`` (the metrics of all rows): the largest (None), the
    best or worst by ``metric`` ("best" / "worst"), a group's name, or a position."""
    if reference in ("best", "worst") and metric not in LOWER_IS_BETTER:
        raise ValueError(
            f"reference={reference!r} needs a metric with a better direction: {list(LOWER_IS_BETTER)}."
        )
    return reference_group(table, reference, metric, LOWER_IS_BETTER.get(metric))


def regression_disparities(table: pd.DataFrame, ref: int) -> pd.DataFrame:
    """Per group and metric, the difference from the reference group's value and the ratio to it (NaN
    where the reference's value is 0 or missing)."""
    columns: dict[str, Any] = {"group": table["group"], "count": table["count"]}
    for name in METRICS:
        values = table[name].to_numpy(dtype=float)
        base = values[ref]
        columns[f"{name}_difference"] = values - base
        with np.errstate(divide="ignore", invalid="ignore"):
            columns[f"{name}_ratio"] = (
                values / base if base != 0 and np.isfinite(base) else np.full(len(values), np.nan)
            )
    columns["reference"] = np.arange(len(table)) == ref
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class Histograms:
    """Per group, rows per bin of the prediction and of the residual, on the residual plot's bins
    (:func:`~errorscope.residuals.residual_bins`: every row's range, so the views' bins line up and a
    bin's rows select exactly), and the keys that count them."""

    prediction: np.ndarray
    residual: np.ndarray
    prediction_key: Key
    residual_key: Key


def histograms(ev: Evaluation, groups: Groups, where: Filter | np.ndarray | None) -> Histograms:
    """Rows per group and bin of the prediction, and of the residual (two grouped counts, answered on
    DuckDB from the residual plot's pre-aggregated families: its keys are the same)."""
    engine = ev.engine
    where = engine.as_filter(where)
    bins = residual_bins(ev)
    out = []
    for key in (bins.predicted, bins.residual):
        counted = engine.count(GroupCounts((*groups.keys, key)), where)
        out.append(_by_group(groups, counted.counts, key.bins + 1)[:, : key.bins])
    return Histograms(out[0], out[1], bins.predicted, bins.residual)


@dataclass(frozen=True)
class ByActual:
    """Per group and bin of the actual value (the column's quantile bins): rows and mean residual, and
    every group's together: who is predicted lower than others at the same actual value."""

    labels: tuple[str, ...]
    counts: np.ndarray  # (k, bins)
    mean_error: np.ndarray  # (k, bins), NaN where a cell is empty
    overall: np.ndarray  # (bins,) every kept row's mean residual per bin


def residual_by_actual(ev: Evaluation, groups: Groups, where: Filter | np.ndarray | None) -> ByActual:
    """Mean residual per group within quantile bins of the actual value (``ev.codes`` of the actual
    column: its bins follow ``ev.set_bins``), with the rows behind each mean."""
    engine = ev.engine
    where = engine.as_filter(where)
    name = ev.role_names()["actual"]
    coded = ev.codes(name)
    counted = engine.count(GroupCounts((*groups.keys, Key.column(name)), (Measure("residual"),)), where)
    b = coded.n_codes
    counts = _by_group(groups, counted.counts, b)
    sums = _by_group(groups, counted.sums[0], b)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(counts > 0, sums / counts, np.nan)
        overall = np.where(counts.sum(0) > 0, sums.sum(0) / counts.sum(0), np.nan)
    used = counts.sum(axis=0) > 0  # leave out bins no kept row has (e.g. "missing")
    return ByActual(
        tuple(str(label) for label, u in zip(coded.labels, used, strict=True) if u),
        counts[:, used],
        mean[:, used],
        overall[used],
    )


def by_actual_table(groups: Groups, found: ByActual) -> pd.DataFrame:
    """:class:`ByActual` as a long table: group, actual_bin, count, mean_error."""
    k, b = found.counts.shape
    return pd.DataFrame(
        {
            "group": np.repeat(list(groups.labels), b),
            "actual_bin": np.tile(list(found.labels), k),
            "count": found.counts.reshape(-1),
            "mean_error": found.mean_error.reshape(-1),
        }
    )


def group_regression(
    ev: Evaluation,
    groups: Groups,
    where: Filter | np.ndarray | None = None,
    reference: str | int | None = None,
    min_size: int = 30,
    reference_metric: str = "mae",
    overall: pd.DataFrame | None = None,
    model: str = "",
    counted: RegressionGroupCounts | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The per-group metrics and the disparities against the reference, with its position. The largest,
    best and worst groups are found on all rows (``overall``: their metrics, when the caller has them),
    so a selection never swaps the reference. ``model``: whose predictions (default: the active
    model's); ``counted``: their :func:`count_regression_groups` on ``where``, when at hand."""
    table = regression_group_metrics(ev, groups, where, min_size, counted, model)
    if (isinstance(reference, str) and reference not in ("best", "worst")) or isinstance(reference, int):
        ref = reference_index(table, reference)
    else:
        if overall is None:
            everything = where is None or (isinstance(where, Filter) and where.everything)
            overall = (
                table if everything else regression_group_metrics(ev, groups, None, min_size, model=model)
            )
        ref = reference_index(overall, reference, reference_metric)
    return table, regression_disparities(table, ref), ref
