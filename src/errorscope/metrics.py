"""Classification metrics from integer codes: bincounts on masks, checked against scikit-learn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def confusion_counts(
    true_codes: np.ndarray, pred_codes: np.ndarray, n_classes: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """(k, k) counts, rows = actual class, columns = predicted class (as sklearn's confusion_matrix)."""
    if mask is not None:
        true_codes, pred_codes = true_codes[mask], pred_codes[mask]
    flat = true_codes.astype(np.int64) * n_classes + pred_codes
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


@dataclass(frozen=True)
class ClassMetrics:
    """Per-class precision, recall, F1 and support from a confusion matrix; NaN where undefined."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    predicted: np.ndarray
    accuracy: float

    @classmethod
    def from_counts(cls, counts: np.ndarray) -> ClassMetrics:
        tp = np.diag(counts).astype(np.float64)
        support = counts.sum(axis=1)
        predicted = counts.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(predicted > 0, tp / predicted, np.nan)
            recall = np.where(support > 0, tp / support, np.nan)
            denom = support + predicted  # F1 = 2 tp / (2 tp + fp + fn), as sklearn computes it
            f1 = np.where(denom > 0, 2 * tp / denom, np.nan)
        total = counts.sum()
        accuracy = float(tp.sum() / total) if total else float("nan")
        return cls(precision, recall, f1, support, predicted, accuracy)
