"""The model overview: the task's key metrics, class balance and data checks (missing values, duplicate
rows, features that give the label away).

Metrics are computed from bincounts and equal scikit-learn's (tested). The leakage hint flags a feature whose values alone predict the label
almost perfectly: the accuracy of predicting each code's majority class (on the feature's cached codes)
is at least ``leak_accuracy`` while the majority-class rate is below it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .evaluation import Evaluation
from .metrics import ClassMetrics
from .plans import CONFUSION, Filter, GroupCounts, Key, Measure, RocAuc
from .slicing import feature_family


def key_metrics(ev: Evaluation, where: Filter | np.ndarray | None = None) -> dict[str, float]:
    """The task's key metrics on the rows ``where`` keeps (a Filter or a mask; NaN where undefined, e.g.
    one class only).

    Computed from grouped counts and sums (and the engine's ROC AUC), so they follow every selection
    change at 1M rows; each equals scikit-learn's (tested): accuracy, balanced accuracy, precision /
    recall / F1 (binary) or macro F1, log loss, ROC AUC (binary; one-vs-rest macro for multiclass) and
    Brier (binary).
    """
    engine = ev.engine
    where = engine.as_filter(where)
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


def outcome_plan(ev: Evaluation) -> GroupCounts:
    """Rows per (actual, predicted), with the sums of the log loss and (binary) the squared error."""
    if not ev.has_scores:
        return CONFUSION
    sums = (Measure("log_loss"), Measure("brier", 1)) if ev.is_binary else (Measure("log_loss"),)
    return GroupCounts(CONFUSION.keys, sums)


def class_balance(ev: Evaluation) -> pd.DataFrame:
    """Rows per actual and per predicted class."""
    counts = ev.engine.count(CONFUSION, ev.engine.as_filter(None)).counts
    actual, predicted = counts.sum(axis=1), counts.sum(axis=0)
    return pd.DataFrame(
        {"actual": actual, "actual_share": actual / ev.n_rows, "predicted": predicted},
        index=pd.Index(ev.class_names, name="class"),
    )


def data_checks(ev: Evaluation, leak_accuracy: float = 0.98) -> pd.DataFrame:
    """One row per finding: missing values per column, duplicate feature rows, likely label leaks."""
    rows: list[tuple[str, str, int, str]] = []
    if ev.in_memory:
        missing = ev.data.isna().sum()
        duplicated = int(ev.X.duplicated().sum()) if ev.features else 0
    else:  # counted by the SQL engine
        missing = pd.Series(ev.engine.missing_counts(ev.columns))
        duplicated = ev.engine.duplicate_rows(ev.features)
    for column, count in missing[missing > 0].items():
        rows.append(("missing values", str(column), int(count), f"{count / ev.n_rows:.1%} of rows"))
    if duplicated:
        rows.append(("duplicate rows", "features", duplicated, "rows whose features repeat an earlier row"))
    everything = ev.engine.as_filter(None)
    majority = ev.engine.count(GroupCounts((Key.actual(),)), everything).counts.max() / ev.n_rows
    for coded in feature_family(ev):
        table = ev.engine.count(GroupCounts((Key.column(coded.column), Key.actual())), everything).counts
        accuracy = table.max(axis=1).sum() / ev.n_rows
        if accuracy >= leak_accuracy > majority:
            rows.append(
                ("possible leak", coded.column, int(ev.n_rows),
                 f"its values alone predict the label with {accuracy:.1%} accuracy (majority class: {majority:.1%})")
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["check", "column", "rows", "detail"])
