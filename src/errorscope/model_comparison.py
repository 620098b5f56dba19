"""Two models compared on the same rows (paired data): counts in, DataFrames out.

Classification takes a ``(k, k, k)`` table of rows per (actual class, A's predicted class, B's predicted
class). A row is fully described by its cell, so the paired bootstrap (resample the ``n`` rows with
replacement, both models' predictions travelling with their row) is exactly one multinomial draw of ``n``
over the nonzero cells with probabilities ``counts / n``; each replicate's confusion matrices of A and of B
are sums over cells, and every metric is computed for all replicates at once. Intervals are percentile
intervals of the replicates' differences B - A; McNemar's exact test compares the discordant pairs of a
paired proportion (accuracy, recall, false positive rate).

Regression takes sums over the same rows of per-row errors and of the per-row differences of errors:
paired t intervals and tests of the mean difference (MAE, MSE), and for the RMSE a delta-method interval
when the sums of fourth powers are given (see :func:`paired_error_metrics`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

AGREEMENT_CELLS: tuple[str, ...] = ("both_right", "only_a_right", "only_b_right", "both_wrong")
ERROR_CELLS: tuple[str, ...] = ("a_better", "tie", "b_better")
"""Regression rows by which model's absolute error is smaller: |e_A| < |e_B|, equal, |e_B| < |e_A|."""

CLASS_COLUMNS: tuple[str, ...] = ("metric", "a", "b", "diff", "diff_lo", "diff_hi", "p_mcnemar", "n")
ERROR_COLUMNS: tuple[str, ...] = ("metric", "a", "b", "diff", "diff_lo", "diff_hi", "p_value")
ERROR_SUMS: tuple[str, ...] = (
    "abs_error_a", "abs_error_b", "sq_error_a", "sq_error_b",
    "abs_error_diff", "abs_error_diff2", "sq_error_diff", "sq_error_diff2",
)  # fmt: skip
"""The keys :func:`paired_error_metrics` needs; ``sq_error2_a`` and ``sq_error2_b`` (sums of e^4) are optional."""

_BOOT_BYTES = 64 * 2**20  # working memory per chunk of bootstrap replicates


def mcnemar_exact(only_a_right: int, only_b_right: int) -> float:
    """Two-sided exact McNemar p-value: binomial test of the discordant pairs at 1/2 (scipy.stats.binomtest);
    1.0 when there are none.

    At 1/2 the binomial is symmetric, so binomtest's two-sided p is min(1, 2 P(X <= min(b, c))): computed
    so (``scipy.stats.binom.cdf``, a tenth of binomtest's time), as statsmodels' ``mcnemar(exact=True)``."""
    b, c = int(only_a_right), int(only_b_right)
    if b < 0 or c < 0:
        raise ValueError(f"mcnemar_exact needs non-negative counts of discordant pairs; got {b} and {c}.")
    if b + c == 0:
        return 1.0
    return float(min(1.0, 2 * stats.binom.cdf(min(b, c), b + c, 0.5)))


def _check_counts(counts: np.ndarray) -> np.ndarray:
    array = np.asarray(counts)
    if array.ndim != 3 or len(set(array.shape)) != 1 or array.shape[0] < 2:
        raise ValueError(
            f"counts must be a (k, k, k) array of rows per (actual class, A's predicted class, B's predicted "
            f"class) with k >= 2 classes; got shape {array.shape}."
        )
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"counts must hold row counts (integers); got dtype {array.dtype}.")
    if np.issubdtype(array.dtype, np.floating) and not (
        np.isfinite(array).all() and (array == np.round(array)).all()
    ):
        raise ValueError("counts must hold whole numbers of rows; pass integer counts (no NaN or fractions).")
    if (array < 0).any():
        raise ValueError("counts must be non-negative row counts; pass the number of rows in each cell.")
    return array.astype(np.int64)


def agreement_counts(counts: np.ndarray) -> dict[str, int]:
    """From counts shaped (k, k, k) = rows per (actual class, A's predicted class, B's predicted class):
    rows in each of AGREEMENT_CELLS."""
    counts = _check_counts(counts)
    k = counts.shape[0]
    idx = np.arange(k)
    both_right = int(counts[idx, idx, idx].sum())
    a_right = int(counts[idx, idx, :].sum())
    b_right = int(counts[idx, :, idx].sum())
    total = int(counts.sum())
    return {
        "both_right": both_right,
        "only_a_right": a_right - both_right,
        "only_b_right": b_right - both_right,
        "both_wrong": total - a_right - b_right + both_right,
    }


def _metric_names(k: int, positive: int | None) -> list[str]:
    names = ["accuracy", "balanced_accuracy"]
    if k > 2:
        names.append("macro_f1")
    if positive is not None:
        names += ["precision", "recall", "fpr", "f1"]
    return names


def _ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    """num / den, ``empty`` where den is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), empty)


def _metrics(conf: np.ndarray, names: list[str], positive: int | None, empty: float) -> np.ndarray:
    """(..., len(names)) metrics of confusion matrices conf (..., k, k) (rows actual, columns predicted).

    A rate over an empty denominator is ``empty``: 0.0 as sklearn's ``zero_division=0`` for the point
    estimates, NaN in bootstrap replicates (left out of the interval). No rows at all: NaN."""
    conf = conf.astype(np.float64)
    tp = np.diagonal(conf, axis1=-2, axis2=-1)
    support = conf.sum(axis=-1)
    predicted = conf.sum(axis=-2)
    total = support.sum(axis=-1)
    out = {}
    out["accuracy"] = _ratio(tp.sum(axis=-1), total, np.nan)
    present = support > 0  # balanced accuracy: mean recall over the classes present in actual
    recall_c = _ratio(tp, support, 0.0)
    out["balanced_accuracy"] = _ratio((recall_c * present).sum(axis=-1), present.sum(axis=-1), np.nan)
    if "macro_f1" in names:  # over the classes in actual or predicted, F1 = 2 tp / (support + predicted)
        seen = support + predicted
        f1_c = _ratio(2 * tp, seen, 0.0)
        out["macro_f1"] = _ratio(f1_c.sum(axis=-1), (seen > 0).sum(axis=-1), np.nan)
    if positive is not None:
        tp_p, pred_p, sup_p = tp[..., positive], predicted[..., positive], support[..., positive]
        fp = pred_p - tp_p
        out["precision"] = _ratio(tp_p, pred_p, empty)
        out["recall"] = _ratio(tp_p, sup_p, empty)
        out["fpr"] = _ratio(fp, total - sup_p, empty)
        out["f1"] = _ratio(2 * tp_p, sup_p + pred_p, empty)
        for name in ("precision", "recall", "fpr", "f1"):
            out[name] = np.where(total > 0, out[name], np.nan)
    return np.stack([out[name] for name in names], axis=-1)


def _percentile_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0 ignoring NaN (``np.nanpercentile``, linear); NaN where fewer than half
    of the replicates are defined."""
    defined = np.count_nonzero(~np.isnan(samples), axis=0)
    tail = 100 * (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        lo, hi = np.nanpercentile(samples, [tail, 100 - tail], axis=0)
    enough = 2 * defined >= len(samples)
    return np.where(enough, lo, np.nan), np.where(enough, hi, np.nan)


def _bootstrap_diffs(
    counts: np.ndarray, names: list[str], positive: int | None, n_boot: int, seed: int
) -> np.ndarray:
    """(n_boot, len(names)) metric of B minus metric of A in paired bootstrap replicates of the rows."""
    k = counts.shape[0]
    flat = counts.ravel()
    cells = np.flatnonzero(flat)
    n = int(flat.sum())
    p = flat[cells] / n
    actual, pred_a, pred_b = np.unravel_index(cells, counts.shape)
    rng = np.random.default_rng(seed)
    # per cell, the confusion cell it adds to; cells sorted by target so each confusion cell is a reduceat
    # segment (the sum a 0/1 cell -> confusion-cell indicator matrix would compute, without the zeros)
    sums = []
    for target in (actual * k + pred_a, actual * k + pred_b):
        order = np.argsort(target, kind="stable")
        keys, starts = np.unique(target[order], return_index=True)
        sums.append((order, keys, starts))
    per_replicate = 8 * (len(cells) * 2 + k * k * 12)
    chunk = max(1, min(n_boot, _BOOT_BYTES // per_replicate))
    out = np.empty((n_boot, len(names)))
    for start in range(0, n_boot, chunk):  # chunks of replicates; the draws equal one draw of n_boot
        size = min(chunk, n_boot - start)
        draws = rng.multinomial(n, p, size=size)
        metrics = []
        for order, keys, starts in sums:
            conf = np.zeros((size, k * k), dtype=np.int64)
            conf[:, keys] = np.add.reduceat(draws[:, order], starts, axis=1)
            metrics.append(_metrics(conf.reshape(size, k, k), names, positive, np.nan))
        out[start : start + size] = metrics[1] - metrics[0]
    return out


def paired_class_metrics(
    counts: np.ndarray, positive: int | None = None, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Each metric for A and B on the same rows, the paired difference B - A, its paired bootstrap interval and,
    for rates that are paired proportions, McNemar's exact p-value.

    counts: int array (k, k, k) of rows per (actual class, A's predicted class, B's predicted class), k >= 2.
    positive: the class precision/recall/FPR/F1 are about (binary: 1; None for multiclass without one).
    Columns: metric, a, b, diff, diff_lo, diff_hi, p_mcnemar, n (rows the metric is a rate over, for A; NaN
    where not one denominator). Metrics in this order: accuracy, balanced_accuracy (mean recall over the
    classes present in actual), macro_f1 (k > 2; sklearn's ``f1_score(average='macro')`` over the classes in
    actual or that model's predictions), and with ``positive``: precision, recall, fpr, f1 (0 over an empty
    denominator, as sklearn's ``zero_division=0``). p_mcnemar: accuracy (right/wrong over all rows), recall
    (among actual == positive rows), fpr (among actual != positive rows); NaN for the others.

    The interval is the percentile interval at ``level`` of ``n_boot`` paired bootstrap replicates
    (``np.random.default_rng(seed)``); replicates where a metric is undefined (e.g. no positives drawn) are
    left out, and the interval is NaN when fewer than half are defined. No rows: every value NaN (n is 0).
    """
    counts = _check_counts(counts)
    k = counts.shape[0]
    if positive is not None and not (isinstance(positive, (int, np.integer)) and 0 <= positive < k):
        raise ValueError(
            f"positive must be a class code in 0..{k - 1} (binary: 1) or None; got {positive!r}."
        )
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(
            f"n_boot must be a positive number of bootstrap replicates (e.g. 2000); got {n_boot!r}."
        )
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}.")
    names = _metric_names(k, positive)
    n = int(counts.sum())
    conf_a, conf_b = counts.sum(axis=2), counts.sum(axis=1)
    a = _metrics(conf_a, names, positive, 0.0)
    b = _metrics(conf_b, names, positive, 0.0)
    rate_n = {"accuracy": float(n)}
    p_values = dict.fromkeys(names, np.nan)
    if positive is not None:
        rate_n["precision"] = float(conf_a[:, positive].sum())
        rate_n["recall"] = float(conf_a[positive].sum())
        rate_n["fpr"] = float(n - conf_a[positive].sum())
    if n == 0:
        nan = np.full(len(names), np.nan)
        a, b, lo, hi = nan, nan, nan, nan
    else:
        lo, hi = _percentile_interval(_bootstrap_diffs(counts, names, positive, n_boot, seed), level)
        agree = agreement_counts(counts)
        p_values["accuracy"] = mcnemar_exact(agree["only_a_right"], agree["only_b_right"])
        if positive is not None:
            pos = counts[positive]  # actual == positive: right = predicted positive
            p_values["recall"] = mcnemar_exact(
                pos[positive].sum() - pos[positive, positive],
                pos[:, positive].sum() - pos[positive, positive],
            )
            neg = counts.sum(axis=0) - pos  # actual != positive: right = predicted not positive
            p_values["fpr"] = mcnemar_exact(
                neg[:, positive].sum() - neg[positive, positive],
                neg[positive].sum() - neg[positive, positive],
            )
    return pd.DataFrame(
        {
            "metric": names,
            "a": a,
            "b": b,
            "diff": b - a,
            "diff_lo": lo,
            "diff_hi": hi,
            "p_mcnemar": [p_values[name] for name in names],
            "n": [rate_n.get(name, np.nan) for name in names],
        },
        columns=list(CLASS_COLUMNS),
    )


def paired_mean_difference(
    n: int, sum_d: float, sum_d2: float, level: float = 0.95
) -> tuple[float, float, float, float]:
    """(mean difference, lo, hi, two-sided p) of per-row differences d from their count, sum and sum of squares:
    Student t interval and paired t-test (scipy.stats.t). n < 2: the mean (NaN without rows) and NaN for the
    rest. No variance: a zero-width interval and p = 1.0 when the mean is 0, p = 0.0 otherwise.

    The sum of squared deviations ``sum_d2 - sum_d**2 / n`` is clipped at 0, and taken as 0 when it is within
    the rounding of the sums (below 64 ulp of ``sum_d2``)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}.")
    n = int(n)
    if n < 1:
        return (np.nan, np.nan, np.nan, np.nan)
    mean = float(sum_d) / n
    if n < 2:
        return (mean, np.nan, np.nan, np.nan)
    ss = float(sum_d2) - float(sum_d) ** 2 / n
    if ss <= 64 * np.finfo(np.float64).eps * abs(float(sum_d2)):
        ss = 0.0
    se = np.sqrt(ss / (n - 1) / n)
    if se == 0:
        return (mean, mean, mean, 1.0 if mean == 0 else 0.0)
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * se
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    return (mean, mean - half, mean + half, p)


def _rmse_delta_interval(n: int, sums: Mapping[str, float], level: float) -> tuple[float, float]:
    """Delta-method interval of rmse_B - rmse_A from per-row u = e_A^2, v = e_B^2.

    g(mu_u, mu_v) = sqrt(mu_v) - sqrt(mu_u); Var(g_hat) ~ (Var u / (4 mu_u) + Var v / (4 mu_v)
    - Cov(u, v) / (2 sqrt(mu_u mu_v))) / n, with sample (co)variances from sum u^2, sum v^2 and
    sum (v - u)^2 = sum u^2 - 2 sum uv + sum v^2; a Student t quantile on n - 1 degrees of freedom."""
    su, sv = float(sums["sq_error_a"]), float(sums["sq_error_b"])
    suu, svv = float(sums["sq_error2_a"]), float(sums["sq_error2_b"])
    suv = (suu + svv - float(sums["sq_error_diff2"])) / 2
    mu_u, mu_v = su / n, sv / n
    if n < 2 or mu_u <= 0 or mu_v <= 0:
        return (np.nan, np.nan)
    var_u = max(0.0, suu - su * su / n) / (n - 1)
    var_v = max(0.0, svv - sv * sv / n) / (n - 1)
    cov = (suv - su * sv / n) / (n - 1)
    var_g = (var_u / (4 * mu_u) + var_v / (4 * mu_v) - cov / (2 * np.sqrt(mu_u * mu_v))) / n
    diff = np.sqrt(mu_v) - np.sqrt(mu_u)
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * np.sqrt(max(0.0, var_g))
    return (diff - half, diff + half)


def paired_error_metrics(n: int, sums: Mapping[str, float], level: float = 0.95) -> pd.DataFrame:
    """A regression's paired comparison from sums over the same n rows.

    sums keys (:data:`ERROR_SUMS`): 'abs_error_a', 'abs_error_b', 'sq_error_a', 'sq_error_b',
    'abs_error_diff' (sum of |e_B| - |e_A|), 'abs_error_diff2' (sum of its square), 'sq_error_diff' (sum of
    e_B^2 - e_A^2), 'sq_error_diff2' (sum of its square); optional 'sq_error2_a', 'sq_error2_b' (sums of
    e_A^4 and e_B^4) for the RMSE interval.
    Rows: mae, mse, rmse; columns metric, a, b, diff (B - A), diff_lo, diff_hi, p_value. MAE and MSE: paired
    t interval and test of the mean per-row difference (:func:`paired_mean_difference`). RMSE: diff is
    rmse_b - rmse_a; p_value is the MSE's (rmse_a = rmse_b exactly when mse_a = mse_b); the interval is the
    delta-method interval of the difference of the two correlated roots when the fourth-power sums are given,
    else NaN.
    """
    missing = [key for key in ERROR_SUMS if key not in sums]
    if missing:
        raise ValueError(
            f"sums is missing {missing}; pass the sums over the rows of every key in {ERROR_SUMS}."
        )
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be the number of rows (>= 0); got {n}.")
    nan4 = (np.nan, np.nan, np.nan, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        mae_a, mae_b = np.float64(sums["abs_error_a"]) / n, np.float64(sums["abs_error_b"]) / n
        mse_a, mse_b = np.float64(sums["sq_error_a"]) / n, np.float64(sums["sq_error_b"]) / n
    mae = paired_mean_difference(n, sums["abs_error_diff"], sums["abs_error_diff2"], level) if n else nan4
    mse = paired_mean_difference(n, sums["sq_error_diff"], sums["sq_error_diff2"], level) if n else nan4
    rmse_a, rmse_b = np.sqrt(mse_a), np.sqrt(mse_b)
    rmse_lo = rmse_hi = np.nan
    if n and "sq_error2_a" in sums and "sq_error2_b" in sums:
        rmse_lo, rmse_hi = _rmse_delta_interval(n, sums, level)
    return pd.DataFrame(
        {
            "metric": ["mae", "mse", "rmse"],
            "a": [mae_a, mse_a, rmse_a],
            "b": [mae_b, mse_b, rmse_b],
            "diff": [mae[0], mse[0], rmse_b - rmse_a],
            "diff_lo": [mae[1], mse[1], rmse_lo],
            "diff_hi": [mae[2], mse[2], rmse_hi],
            "p_value": [mae[3], mse[3], mse[3]],
        },
        columns=list(ERROR_COLUMNS),
    ).astype({name: np.float64 for name in ERROR_COLUMNS[1:]})
