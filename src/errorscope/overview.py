"""The model overview: the task's key metrics, class balance and data checks (missing values, duplicate
rows, features that give the label away).

Metrics are computed from bincounts and equal scikit-learn's (tested). The leakage hint flags a feature whose values alone predict the label
almost perfectly: the accuracy of predicting each code's majority class (on the feature's cached codes)
is at least ``leak_accuracy`` while the majority-class rate is below it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .counting import KeyCounter, Rows
from .evaluation import Evaluation
from .metrics import ClassMetrics
from .slicing import feature_family, row_log_loss


def key_metrics(ev: Evaluation, mask: np.ndarray | None = None) -> dict[str, float]:
    """The task's key metrics on the rows ``mask`` keeps (NaN where undefined, e.g. one class only).

    Computed from bincounts and a cached sort of the scores, so they follow every selection change at 1M
    rows; each equals scikit-learn's (tested): accuracy, balanced accuracy, precision / recall / F1
    (binary) or macro F1, log loss, ROC AUC (binary; one-vs-rest macro for multiclass) and Brier (binary).
    """
    k = ev.n_classes
    keep = None if mask is None else np.asarray(mask, dtype=bool)
    rows = Rows.of(keep, ev.n_rows)
    n = rows.n_kept
    out: dict[str, float] = {"rows": float(n)}
    if n == 0:
        return out
    counts, sums = _outcome_counter(ev).count(rows)
    m = ClassMetrics.from_counts(counts.reshape(k, k))
    present = m.support > 0
    out["accuracy"] = m.accuracy
    out["balanced accuracy"] = float(np.mean(m.recall[present])) if present.sum() > 1 else np.nan
    if ev.is_binary:
        out["precision"], out["recall"], out["F1"] = float(m.precision[1]), float(m.recall[1]), float(m.f1[1])
    else:
        out["macro F1"] = float(np.nanmean(m.f1))  # classes with no rows and no predictions have no F1
    if ev.scores is not None:
        out["log loss"] = float(sums[0].sum() / n)
        if present.all():
            kept = np.ones(ev.n_rows, dtype=bool) if keep is None else keep
            if ev.is_binary:
                out["ROC AUC"] = roc_auc(ev, 1, kept)
                out["Brier"] = float(sums[1].sum() / n)
            else:
                out["ROC AUC (ovr)"] = float(np.mean([roc_auc(ev, c, kept) for c in range(k)]))
    return out


def _outcome_counter(ev: Evaluation) -> KeyCounter:
    """Per row, (actual, predicted) as one code, weighted by its log loss and (binary) squared error."""

    def build() -> KeyCounter:
        key = (ev.true_codes * ev.n_classes + ev.pred_codes).astype(np.int32)
        if ev.scores is None:
            return KeyCounter(key, ev.n_classes**2)
        weights = [row_log_loss(ev)]
        if ev.is_binary:
            weights.append((ev.scores[:, 1] - (ev.true_codes == 1)) ** 2)
        return KeyCounter(key, ev.n_classes**2, weights=tuple(weights))

    return ev.cached(("outcome_counter", ev.predictions_version), build)


def roc_auc(ev: Evaluation, positive: int, mask: np.ndarray) -> float:
    """ROC AUC of class ``positive``'s score among the masked rows: for each positive, the share of
    negatives scored lower (ties count half), from a sort of the scores cached per class."""

    def build() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        score = ev.scores[:, positive]
        order = np.argsort(score, kind="stable")
        tie_group = np.concatenate([[0], np.cumsum(np.diff(score[order]) != 0)])
        return order, tie_group, ev.true_codes[order] == positive

    order, tie_group, positive_in_order = ev.cached(("score_order", positive), build, keep=ev.n_classes)
    kept = mask[order]
    is_pos = positive_in_order[kept]
    groups = tie_group[kept]
    size = int(groups[-1]) + 1 if len(groups) else 0
    neg, pos = np.bincount(groups * 2 + is_pos, minlength=2 * size).reshape(size, 2).T
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return np.nan
    below = np.cumsum(neg) - neg  # negatives with a strictly lower score
    return float((pos * (below + 0.5 * neg)).sum() / (n_pos * n_neg))


def class_balance(ev: Evaluation) -> pd.DataFrame:
    """Rows per actual and per predicted class."""
    k = ev.n_classes
    actual = np.bincount(ev.true_codes, minlength=k)
    predicted = np.bincount(ev.pred_codes, minlength=k)
    return pd.DataFrame(
        {"actual": actual, "actual_share": actual / ev.n_rows, "predicted": predicted},
        index=pd.Index(ev.class_names, name="class"),
    )


def data_checks(ev: Evaluation, leak_accuracy: float = 0.98) -> pd.DataFrame:
    """One row per finding: missing values per column, duplicate feature rows, likely label leaks."""
    rows: list[tuple[str, str, int, str]] = []
    missing = ev.data.isna().sum()
    for column, count in missing[missing > 0].items():
        rows.append(("missing values", str(column), int(count), f"{count / ev.n_rows:.1%} of rows"))
    duplicated = int(ev.X.duplicated().sum()) if ev.features else 0
    if duplicated:
        rows.append(("duplicate rows", "features", duplicated, "rows whose features repeat an earlier row"))
    majority = np.bincount(ev.true_codes, minlength=ev.n_classes).max() / ev.n_rows
    for coded in feature_family(ev):
        k = ev.n_classes
        table = np.bincount(coded.codes * k + ev.true_codes, minlength=coded.n_codes * k).reshape(-1, k)
        accuracy = table.max(axis=1).sum() / ev.n_rows
        if accuracy >= leak_accuracy > majority:
            rows.append(
                ("possible leak", coded.column, int(ev.n_rows),
                 f"its values alone predict the label with {accuracy:.1%} accuracy (majority class: {majority:.1%})")
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["check", "column", "rows", "detail"])
