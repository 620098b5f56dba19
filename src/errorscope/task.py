"""Which task an Evaluation is: a classifier's or a regressor's, given or inferred, with clear errors.

``task="classification"`` or ``"regression"``; when omitted it is inferred: a scikit-learn regressor (or a
model whose ``_estimator_type`` is "regressor") means regression, a classifier classification; without a
model, ``y_score`` means classification, and a float target with fractional values (or more than
:data:`MAX_FLOAT_CLASSES` distinct values) and no scores means regression. An integer target with more
than that many distinct values could be either (counts, or many classes): the error asks for ``task=``.

The residual of a regression is **prediction minus actual** (positive: the model over-predicts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

TASKS = ("classification", "regression")
MAX_FLOAT_CLASSES = 50  # more distinct float labels than this reads as a regression target
CLASSIFICATION_ONLY = ("y_score", "labels", "positive_class", "threshold")


def is_regressor(model: Any) -> bool:
    """scikit-learn's ``is_regressor`` for estimators that declare tags (other objects: their
    ``_estimator_type``), without raising on objects that are not scikit-learn estimators."""
    return _estimator_type(model) == "regressor"


def is_classifier(model: Any) -> bool:
    """Like :func:`is_regressor`, for classifiers."""
    return _estimator_type(model) == "classifier"


def _estimator_type(model: Any) -> str | None:
    if model is None:
        return None
    if hasattr(model, "__sklearn_tags__"):
        try:
            return getattr(model.__sklearn_tags__(), "estimator_type", None)
        except (AttributeError, TypeError):  # a half-implemented estimator
            pass
    return getattr(model, "_estimator_type", None)


def looks_continuous(values: Any) -> bool:
    """Float values with a fraction, or more than :data:`MAX_FLOAT_CLASSES` distinct ones."""
    array = np.asarray(values)
    if array.dtype.kind != "f":
        return False
    finite = array[np.isfinite(array)]
    distinct = pd.unique(finite)
    return len(distinct) > MAX_FLOAT_CLASSES or bool(np.any(distinct % 1 != 0))


def many_integers(values: Any) -> bool:
    """Integer values (not bool) with more than :data:`MAX_FLOAT_CLASSES` distinct ones."""
    array = np.asarray(values)
    return array.dtype.kind in "iu" and len(pd.unique(array)) > MAX_FLOAT_CLASSES


def resolve_task(
    task: str | None, model: Any, y_true: np.ndarray, y_pred: np.ndarray | None, given: dict[str, bool]
) -> str:
    """The task: ``task`` checked against the arguments, or inferred (see the module docstring).

    ``given``: which classification-only arguments (:data:`CLASSIFICATION_ONLY`) were passed.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f'task must be "classification" or "regression", got {task!r}.')
    if task == "regression" or (task is None and is_regressor(model)):
        check_regression(model, given, y_true)
        return "regression"
    if task == "classification":
        if is_regressor(model):
            raise ValueError(
                f'task="classification" but model is a regressor ({type(model).__name__}): pass '
                'task="regression", or a fitted classifier.'
            )
        return "classification"
    if is_classifier(model) or given.get("y_score") or given.get("labels"):
        return "classification"
    if looks_continuous(y_true) and not any(given.values()):
        return "regression"  # a continuous y_pred with class labels: the classification path says y_score=
    if many_integers(y_true) and (y_pred is None or many_integers(y_pred) or looks_continuous(y_pred)):
        n = len(pd.unique(np.asarray(y_true)))
        raise ValueError(
            f"y_true holds {n:,} distinct integers: a count to predict, or that many classes? Pass "
            'task="regression" for a numeric target, or task="classification" for class labels.'
        )
    return "classification"


def check_regression(model: Any, given: dict[str, bool], y_true: np.ndarray | None) -> None:
    """A regression takes no class arguments, no classifier, and a numeric target."""
    passed = [name for name in CLASSIFICATION_ONLY if given.get(name)]
    if passed:
        raise ValueError(
            f"{', '.join(passed)} only apply to a classifier; this Evaluation is a regression: omit "
            f'{" and ".join(passed)}, or pass task="classification".'
        )
    if is_classifier(model):
        raise ValueError(
            f'task="regression" but model is a classifier ({type(model).__name__}): pass a fitted '
            'regressor, or task="classification" (omit task= to infer it).'
        )
    if y_true is not None:
        as_target(y_true, "y_true")


def as_target(values: Any, name: str) -> np.ndarray:
    """Numbers of a regression target or prediction as float64: finite, not text, not missing."""
    array = np.asarray(values)
    if array.dtype.kind == "b":
        raise TypeError(
            f"{name} holds booleans, not numbers: a regression predicts a number; for a yes/no target "
            'pass task="classification" (or omit task=).'
        )
    if array.dtype.kind not in "iuf":
        try:
            array = pd.to_numeric(pd.Series(array.ravel()), errors="raise").to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            example = next((v for v in array.ravel()[:100] if isinstance(v, str)), array.ravel()[0])
            raise TypeError(
                f"{name} holds {array.dtype} values (e.g. {example!r}), not numbers: a regression needs "
                f'a numeric {name}; for class labels pass task="classification" (or omit task=).'
            ) from None
    out = np.asarray(array, dtype=np.float64)
    if out.ndim != 1:
        raise ValueError(f"{name} must be one number per row (1-D), got shape {out.shape}.")
    bad = ~np.isfinite(out)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} has {int(bad.sum()):,} NaN or infinite values (first at row {first}, {out[first]}): "
            "every row needs a finite number; drop or fill those rows before building the Evaluation."
        )
    out.flags.writeable = False
    return out


def given_arguments(
    y_score: Any, labels: Any, positive_class: Any, threshold: Any, extra: Sequence[str] = ()
) -> dict[str, bool]:
    """Which classification-only arguments were passed (a threshold other than 0.5 counts)."""
    return {
        "y_score": y_score is not None,
        "labels": labels is not None,
        "positive_class": positive_class is not None,
        "threshold": not (isinstance(threshold, int | float) and threshold == 0.5),
        **dict.fromkeys(extra, True),
    }
