"""The model overview: the task's key metrics, class balance (a regression: the target's and the
predictions' distributions) and data checks (missing values, duplicate rows, features that give the label
away).

Metrics are computed from bincounts and equal scikit-learn's (tested). The leakage hint flags a feature whose values alone predict the label
almost perfectly: the accuracy of predicting each code's majority class (on the feature's cached codes)
is at least ``leak_accuracy`` while the majority-class rate is below it. Its (code, actual class) counts
over all rows are the slice browser's single-column counts (one plan, counted once for both views) on a
binary task. On a regression a leak is a feature whose values (numbers: in 256 equal bins) alone explain at least ``leak_r2`` of the
target's variance (R² of predicting each code's mean, from per-code sums of y and y²). Duplicate rows are found without a full ``DataFrame.duplicated``: see :func:`duplicate_rows`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .evaluation import Evaluation
from .metrics import ClassMetrics
from .plans import CONFUSION, Filter, GroupCounts, GroupingSets, Key, Marginals, Measure, RocAuc
from .regression import median_absolute_error, regression_metrics
from .slicing import feature_family, slice_columns, slice_counts, slice_key


def key_metrics(ev: Evaluation, where: Filter | np.ndarray | None = None) -> dict[str, float]:
    """The task's key metrics on the rows ``where`` keeps (a Filter or a mask; NaN where undefined, e.g.
    one class only).

    Computed from grouped counts and sums (and the engine's ROC AUC), so they follow every selection
    change at 1M rows; each equals scikit-learn's (tested): accuracy, balanced accuracy, precision /
    recall / F1 (binary) or macro F1, log loss, ROC AUC (binary; one-vs-rest macro for multiclass) and
    Brier (binary). A regression's: MAE, RMSE, R², median absolute error, mean residual (prediction minus
    actual: the bias) and MAPE when no actual value is 0 (see :mod:`errorscope.regression`).
    """
    where = ev.engine.as_filter(where)
    if where.everything and ev.in_memory:  # the overview's "all rows" and its first selection: once
        return dict(ev.cached(("overall_metrics", ev.predictions_version), lambda: _key_metrics(ev, where)))
    return _key_metrics(ev, where)


def _key_metrics(ev: Evaluation, where: Filter) -> dict[str, float]:
    if _regression(ev):
        return _regression_key_metrics(ev, where)
    engine = ev.engine
    k = ev.n_classes
    n = engine.n_kept(where)
    out: dict[str, float] = {"rows": float(n)}
    if n == 0:
        return out
    counted = engine.count(outcome_plan(ev), where)
    m = ClassMetrics.from_counts(counted.counts)
    present = m.support > 0
    out["accuracy"] = m.accuracy
    out["balanced accuracy"] = float(np.mean(m.recall[present])) if present.sum() > 1 else np.nan
    if ev.is_binary:
        out["precision"], out["recall"], out["F1"] = float(m.precision[1]), float(m.recall[1]), float(m.f1[1])
    else:
        out["macro F1"] = float(np.nanmean(m.f1))  # classes with no rows and no predictions have no F1
    if ev.has_scores:
        out["log loss"] = float(counted.sums[0].sum() / n)
        if present.all():
            if ev.is_binary:
                out["ROC AUC"] = engine.roc_auc(RocAuc(1), where)
                out["Brier"] = float(counted.sums[1].sum() / n)
            else:
                out["ROC AUC (ovr)"] = float(np.mean([engine.roc_auc(RocAuc(c), where) for c in range(k)]))
    return out


def _regression(ev: Evaluation) -> bool:
    """Whether ``ev`` is a regression (a SQL engine's Evaluation may not name its task yet)."""
    return getattr(ev, "task", "classification") == "regression"


def _regression_key_metrics(ev: Evaluation, where: Filter) -> dict[str, float]:
    n = ev.engine.n_kept(where)
    out: dict[str, float] = {"rows": float(n)}
    if n == 0:
        return out
    m = regression_metrics(ev, where)
    out.update(
        {"MAE": float(m.mae), "RMSE": float(m.rmse), "R²": float(m.r2),
         "median AE": median_absolute_error(ev, where), "mean residual": float(m.mean_error)}
    )  # fmt: skip
    if not np.isnan(regression_metrics(ev, ev.engine.as_filter(None)).mape):  # no actual value is 0
        out["MAPE"] = float(m.mape)
    return out


def value_distributions(ev: Evaluation) -> pd.DataFrame:
    """A regression's rows per bin of the actual and of the predicted values (one shared range: the
    residual plot's bins), over all rows."""
    from .residuals import residual_bins

    bins = residual_bins(ev)
    n = bins.actual.bins
    counts = ev.engine.count(bins.density, ev.engine.as_filter(None)).counts[:n, :n]
    edges = bins.actual.bin_edges()
    return pd.DataFrame(
        {"low": edges[:-1], "high": edges[1:], "actual": counts.sum(axis=1), "predicted": counts.sum(axis=0)}
    )


def outcome_plan(ev: Evaluation) -> GroupCounts:
    """Rows per (actual, predicted), with the sums of the log loss and (binary) the squared error."""
    if not ev.has_scores:
        return CONFUSION
    sums = (Measure("log_loss"), Measure("brier", 1)) if ev.is_binary else (Measure("log_loss"),)
    return GroupCounts(CONFUSION.keys, sums)


def class_balance(ev: Evaluation) -> pd.DataFrame:
    """Rows per actual and per predicted class (a regression: per bin of the values, see
    :func:`value_distributions`)."""
    if _regression(ev):
        return value_distributions(ev)
    counts = ev.engine.count(CONFUSION, ev.engine.as_filter(None)).counts
    actual, predicted = counts.sum(axis=1), counts.sum(axis=0)
    return pd.DataFrame(
        {"actual": actual, "actual_share": actual / ev.n_rows, "predicted": predicted},
        index=pd.Index(ev.class_names, name="class"),
    )


def data_checks(ev: Evaluation, leak_accuracy: float = 0.98, leak_r2: float = 0.98) -> pd.DataFrame:
    """One row per finding: missing values per column, duplicate feature rows, likely label leaks
    (a classification: ``leak_accuracy``; a regression: ``leak_r2``)."""
    rows: list[tuple[str, str, int, str]] = []
    if ev.in_memory:
        missing = pd.Series({c: int(ev.data[c].isna().sum()) for c in ev.data.columns}, dtype=np.int64)
        duplicated = duplicate_rows(ev.data, ev.features)
    else:  # counted by the SQL engine
        missing = pd.Series(ev.engine.missing_counts(ev.columns))
        duplicated = ev.engine.duplicate_rows(ev.features)
    for column, count in missing[missing > 0].items():
        rows.append(("missing values", str(column), int(count), f"{count / ev.n_rows:.1%} of rows"))
    if duplicated:
        rows.append(("duplicate rows", "features", duplicated, "rows whose features repeat an earlier row"))
    if _regression(ev):
        for column, r2 in _explained_variance(ev).items():
            if r2 >= leak_r2:
                rows.append(
                    ("possible leak", column, int(ev.n_rows),
                     f"its values alone explain {r2:.1%} of the target's variance (R² of each value's mean)")
                )  # fmt: skip
        return pd.DataFrame(rows, columns=["check", "column", "rows", "detail"])
    everything = ev.engine.as_filter(None)
    majority = ev.engine.count(CONFUSION, everything).counts.sum(axis=1).max() / ev.n_rows
    for column, table in _by_actual(ev).items():
        accuracy = table.max(axis=1).sum() / ev.n_rows
        if accuracy >= leak_accuracy > majority:
            rows.append(
                ("possible leak", column, int(ev.n_rows),
                 f"its values alone predict the label with {accuracy:.1%} accuracy (majority class: {majority:.1%})")
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["check", "column", "rows", "detail"])


LEAK_BINS = 256


def _explained_variance(ev: Evaluation) -> dict[str, float]:
    """Per feature-family column, the share of the target's variance its codes (a numeric column: its
    value in :data:`LEAK_BINS` equal bins) explain: 1 - (within-code sum of squares) / (total sum of
    squares), from rows and sums of y and y² per code (one plan for every column)."""
    from .residuals import finite_range

    features = feature_family(ev)
    keys = []
    for coded in features:  # a numeric column: fine equal bins (its deciles would hide a leak's precision)
        extent = finite_range(ev, coded.column) if coded.kind == "numeric" else None
        fine = extent is not None and extent[1] > extent[0]
        keys.append(
            Key.value_bin(coded.column, LEAK_BINS, extent[0], extent[1]) if fine else slice_key(coded)
        )  # type: ignore[index]
    plan = GroupingSets(tuple((k,) for k in keys), (Measure("actual"), Measure("actual2")))
    out: dict[str, float] = {}
    for coded, counted in zip(
        features, ev.engine.grouping_sets(plan, ev.engine.as_filter(None)), strict=True
    ):
        n, (y, y2) = counted.counts.astype(np.float64), counted.sums
        total = float(y2.sum() - y.sum() ** 2 / max(n.sum(), 1.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            within = float(np.sum(np.where(n > 0, y2 - y**2 / n, 0.0)))
        out[coded.column] = 1 - max(within, 0.0) / total if total > 0 else 0.0
    return out


def _by_actual(ev: Evaluation) -> dict[str, np.ndarray]:
    """Per feature-family column, its (code, actual class) counts over all rows. On a binary task these
    are the slice browser's single-column outcome tables (the same plan, so the engine counts it once):
    the outcome's 4s bit is the actual class."""
    features = feature_family(ev)
    everything = ev.engine.as_filter(None)
    if ev.is_binary and ev.positive_code is not None:
        coded = slice_columns(ev)
        tables = dict(
            zip([c.column for c in coded], slice_counts(ev, coded, ev.positive_code, everything), strict=True)
        )
        return {
            c.column: np.stack(
                [tables[c.column][:, :4].sum(axis=1), tables[c.column][:, 4:].sum(axis=1)], axis=1
            )
            for c in features
        }
    plan = Marginals(tuple(slice_key(c) for c in features), (Key.actual(),))
    return dict(zip([c.column for c in features], ev.engine.marginals(plan, everything), strict=True))


def duplicate_rows(data: pd.DataFrame, columns: list[str]) -> int:
    """Rows whose ``columns`` repeat an earlier row's, as ``data[columns].duplicated().sum()`` counts them.

    A row can only repeat another if each of its values repeats in that column, so the candidates are
    narrowed a column at a time (numbers first: a column of continuous values usually leaves none) by
    whether the value repeats among the candidates left, found by a sort (numbers: their bits, with -0.0
    as 0.0 and one NaN) or by the column's factorized codes; only the rows left are compared in full.
    """
    if not columns or len(data) < 2:
        return 0
    numeric = [c for c in columns if _real(data[c].dtype)]
    candidates = np.arange(len(data))
    for column in [*numeric, *(c for c in columns if c not in numeric)]:
        values = data[column].iloc[candidates] if len(candidates) < len(data) else data[column]
        candidates = candidates[_repeats(values, column in numeric)]
        if len(candidates) < 2:
            return 0
    return int(data.iloc[candidates][columns].duplicated().sum())


def _real(dtype: object) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)


def _repeats(values: pd.Series, numeric: bool) -> np.ndarray:
    """Per value, whether an equal value occurs elsewhere in ``values`` (NaN equals NaN, -0.0 equals 0.0;
    equal values always say True, other values may too: bits of wide integers as floats)."""
    if numeric:
        x = values.to_numpy(dtype=np.float64, na_value=np.nan) + 0.0  # -0.0 + 0.0 is 0.0
        bits = np.where(np.isnan(x), np.nan, x).view(np.uint64)  # one NaN
        ordered = np.sort(bits)
        same = ordered[1:] == ordered[:-1]
        if not same.any():
            return np.zeros(len(bits), dtype=bool)
        return np.isin(bits, ordered[1:][same])
    codes, _ = pd.factorize(values, use_na_sentinel=False)  # missing values are one value, as duplicated
    return np.bincount(codes)[codes] > 1


OVERLAP_RULE = "every feature equal to a training row's (missing matches missing)"
BALANCE_ALPHA = 0.001  # class balance train against evaluation: chi-square p below this is a sign


def warning_signs(ev: Evaluation) -> pd.DataFrame:
    """The warning signs found before looking at single errors, each with its evidence and the rule that
    found it (columns sign, evidence, rule): the training curves' (``history=``, see
    :func:`errorscope.history.warning_signs`), drifted features and evaluation rows repeating training
    rows (``train=``), a class balance unlike the training rows', and features that alone predict the
    label (:func:`data_checks`)."""
    rows: list[dict[str, str]] = []
    curves = getattr(ev, "training_warnings", None)
    if curves is not None:
        rows += [
            {"sign": r.sign, "evidence": f"{r.metric}: {r.evidence}", "rule": r.rule}
            for r in curves.itertuples(index=False)
        ]
    if getattr(ev, "train", None) is not None:
        rows += _train_signs(ev)
    for r in data_checks(ev).itertuples(index=False):
        if r.check == "possible leak":
            rows.append({"sign": "possible leak", "evidence": f"{r.column}: {r.detail}",
                         "rule": "one feature alone predicts the label (accuracy or R² of 98% or more)"})  # fmt: skip
    return pd.DataFrame(rows, columns=["sign", "evidence", "rule"])


def _train_signs(ev: Evaluation) -> list[dict[str, str]]:
    from .leakage import class_balance, overlap_summary
    from .profile import train_drift

    rows = []
    drift = train_drift(ev)
    for r in drift[drift["drifted"]].itertuples(index=False):
        rows.append({
            "sign": "drift", "evidence": f"{r.feature}: PSI {r.drift_psi:.3f} ({r.psi_verdict}), "
            f"{r.drift_test} {r.drift_statistic:.4g}, p = {r.drift_p:.2g}, q = {r.drift_q:.2g}",
            "rule": "the evaluation rows differ from the training rows: Benjamini-Hochberg q < 0.05 over the "
            "features, or PSI >= 0.1 over the training deciles",
        })  # fmt: skip
    try:
        overlap = ev.train_overlap()
    except ValueError:  # a SQL Evaluation with a pandas training frame: not joined here
        overlap = None
    if overlap is not None and len(overlap):
        found = overlap_summary(overlap, ev.n_rows)
        agree = found["label_agreement"]
        labels = "" if np.isnan(agree) else f"; their labels agree with the training copies' in {agree:.0%}"
        rows.append({"sign": "train/evaluation overlap",
                     "evidence": f"{found['rows']:,} evaluation rows ({found['share']:.2%}) repeat a training row{labels}",
                     "rule": OVERLAP_RULE})  # fmt: skip
    labels = _train_label_values(ev)
    if labels is not None and not ev.is_regression:
        balance = class_balance(labels, ev.y_true if ev.in_memory else _eval_labels(ev))
        if balance.attrs["p"] < BALANCE_ALPHA:
            worst = balance.iloc[int(np.argmax(np.abs(balance["difference"].to_numpy())))]
            rows.append({"sign": "class balance differs",
                         "evidence": f"{worst['class']}: {worst['train_share']:.1%} of training rows, "
                         f"{worst['eval_share']:.1%} of evaluation rows (chi-square p = {balance.attrs['p']:.2g})",
                         "rule": f"chi-square test of homogeneity, p < {BALANCE_ALPHA}"})  # fmt: skip
    return rows


def _train_label_values(ev: Evaluation) -> np.ndarray | None:
    from .training import train_label_values

    return train_label_values(ev)


def _eval_labels(ev: Evaluation) -> np.ndarray:
    counts = ev.engine.count(CONFUSION, ev.engine.as_filter(None)).counts.sum(axis=1)
    return np.repeat(np.asarray(ev.class_names, dtype=object), counts)
