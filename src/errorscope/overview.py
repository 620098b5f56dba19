"""The model overview: the task's key metrics, class balance and data checks (missing values, duplicate
rows, features that give the label away).

Metrics come from scikit-learn. The leakage hint flags a feature whose values alone predict the label
almost perfectly: the accuracy of predicting each code's majority class (on the feature's cached codes)
is at least ``leak_accuracy`` while the majority-class rate is below it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics

from .evaluation import Evaluation
from .slicing import feature_family


def key_metrics(ev: Evaluation, mask: np.ndarray | None = None) -> dict[str, float]:
    """The task's key metrics on the rows ``mask`` keeps (NaN where undefined, e.g. one class only)."""
    keep = slice(None) if mask is None else np.asarray(mask, dtype=bool)
    y, p = ev.true_codes[keep], ev.pred_codes[keep]
    labels = list(range(ev.n_classes))
    out: dict[str, float] = {"rows": float(len(y))}
    if len(y) == 0:
        return out
    out["accuracy"] = metrics.accuracy_score(y, p)
    present = np.unique(y)
    out["balanced accuracy"] = metrics.balanced_accuracy_score(y, p) if len(present) > 1 else np.nan
    if ev.is_binary:
        out["precision"] = metrics.precision_score(y, p, zero_division=np.nan)
        out["recall"] = metrics.recall_score(y, p, zero_division=np.nan)
        out["F1"] = metrics.f1_score(y, p, zero_division=np.nan)
    else:
        out["macro F1"] = metrics.f1_score(y, p, labels=labels, average="macro", zero_division=np.nan)
    if ev.scores is not None:
        scores = ev.scores[keep]
        out["log loss"] = metrics.log_loss(y, scores, labels=labels)
        if len(present) == ev.n_classes:
            if ev.is_binary:
                out["ROC AUC"] = metrics.roc_auc_score(y, scores[:, 1])
                out["Brier"] = metrics.brier_score_loss(y, scores[:, 1])
            else:
                out["ROC AUC (ovr)"] = metrics.roc_auc_score(y, scores, multi_class="ovr", labels=labels)
    return {k: float(v) for k, v in out.items()}


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
