"""Training curves and their warning signs: is the model under- or over-fitting, or is something leaking?

:func:`training_curves` reads the ways libraries report a training run into one long DataFrame
(``step``, ``split`` "train" / "validation", ``metric``, ``run``, ``value``):

- a dict of lists, ``{"train_loss": [...], "val_loss": [...]}`` (prefixes ``train_`` / ``training_`` and
  ``val_`` / ``valid_`` / ``validation_`` / ``test_``; Keras's ``loss`` / ``val_loss`` names too);
- a Keras ``History`` (its ``.history`` dict);
- LightGBM's ``evals_result_`` and XGBoost's ``evals_result()``: ``{set name: {metric: [...]}}`` (the
  training set is the one named as in :data:`TRAIN_NAMES`, the others are validation sets);
- scikit-learn's ``learning_curve`` output ``(train_sizes, train_scores, test_scores)``: one step per
  size, one run per cross-validation fold (scores: higher is better).

:func:`warning_signs` states the signs (each with its evidence and the rule that found it): ``overfitting``
(validation gets worse for :data:`PATIENCE` steps after its best while training keeps improving: the step
it starts), ``underfitting`` (the last training value is no better than :data:`STALL` of the first),
``validation better than training`` (by more than :data:`LEAK_MARGIN` of the training value on most of
the last half of the steps: leakage or a mislabeled validation set), ``instability`` (runs end with a
spread above :data:`SPREAD` of their mean).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

TRAIN_PREFIXES = ("train_", "training_")
VALIDATION_PREFIXES = ("val_", "valid_", "validation_", "test_", "eval_")
TRAIN_NAMES = ("train", "training", "learn", "validation_0")
"""Names LightGBM and XGBoost give the training set among their evaluation sets (XGBoost calls the first
``eval_set`` entry ``validation_0``; pass the training set first, as the libraries' examples do)."""
HIGHER_IS_BETTER = ("acc", "accuracy", "auc", "f1", "score", "r2", "precision", "recall", "map", "ndcg")
PATIENCE = 3  # steps validation must keep getting worse after its best for "overfitting"
STALL = 0.98  # "underfitting": the last training value is at least this share of the first (a loss)
LEAK_MARGIN = 0.05  # "validation better than training" by more than this share of the training value
SPREAD = 0.1  # "instability": runs' final values spread (max - min) above this share of their mean


def training_curves(history: Any) -> pd.DataFrame:
    """The training run(s) in ``history`` as columns step, split, metric, run, value (see the module
    docstring for what it reads); a clear error for anything else."""
    if hasattr(history, "history") and isinstance(history.history, Mapping):  # Keras History
        history = history.history
    if isinstance(history, tuple) and len(history) in (3, 5):  # learning_curve (sizes, train, test[, ...])
        return _learning_curve(*history[:3])
    if not isinstance(history, Mapping) or not history:
        raise TypeError(
            "history= takes a dict of lists ({'train_loss': [...], 'val_loss': [...]}), a Keras History, "
            "LightGBM's evals_result_, XGBoost's evals_result() or scikit-learn's learning_curve output, "
            f"not {type(history).__name__}."
        )
    values = list(history.values())
    if all(isinstance(v, Mapping) for v in values):  # {set: {metric: [...]}}
        return _eval_sets(history)
    rows = []
    for name, series in history.items():
        split, metric = _split_of(str(name))
        rows.append(_series(series, split, metric, 0, str(name)))
    return pd.concat(rows, ignore_index=True)


def _split_of(name: str) -> tuple[str, str]:
    """(split, metric) of a dict key: train_loss -> (train, loss); val_loss -> (validation, loss); loss ->
    (train, loss), as Keras names them."""
    for prefix in VALIDATION_PREFIXES:
        if name.startswith(prefix):
            return "validation", name[len(prefix) :]
    for prefix in TRAIN_PREFIXES:
        if name.startswith(prefix):
            return "train", name[len(prefix) :]
    return "train", name


def _series(values: Any, split: str, metric: str, run: int, name: str) -> pd.DataFrame:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or not len(array):
        raise ValueError(f"history[{name!r}] must be a non-empty list of numbers, one per step.")
    return pd.DataFrame({"step": np.arange(1, len(array) + 1), "split": split, "metric": metric, "run": run,
                         "value": array})  # fmt: skip


def _eval_sets(history: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    names = list(history)
    train = next((n for n in names if n.lower() in TRAIN_NAMES), None)
    rows = []
    for name, metrics in history.items():
        split = "train" if name == train else "validation"
        for metric, series in metrics.items():
            rows.append(_series(series, split, str(metric), 0, f"{name}.{metric}"))
    return pd.concat(rows, ignore_index=True)


def _learning_curve(sizes: Any, train_scores: Any, test_scores: Any) -> pd.DataFrame:
    sizes = np.asarray(sizes)
    rows = []
    for split, scores in (("train", train_scores), ("validation", test_scores)):
        scores = np.asarray(scores, dtype=np.float64)
        if scores.ndim != 2 or scores.shape[0] != len(sizes):
            raise ValueError("learning_curve scores must be (sizes, folds) arrays: pass its output as it is.")
        for run in range(scores.shape[1]):
            rows.append(pd.DataFrame({"step": sizes, "split": split, "metric": "score", "run": run,
                                      "value": scores[:, run]}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better (accuracy, AUC, scores) rather than worse (losses)."""
    name = metric.lower()
    return any(name == h or name.endswith(h) or name.startswith(h) for h in HIGHER_IS_BETTER)


def warning_signs(curves: pd.DataFrame) -> pd.DataFrame:
    """The warning signs in ``curves`` (:func:`training_curves`): columns sign, metric, evidence, rule."""
    found: list[dict[str, str]] = []
    for metric, rows in curves.groupby("metric", sort=False):
        sign = 1.0 if higher_is_better(str(metric)) else -1.0  # "better" = larger after multiplying
        mean = rows.groupby(["split", "step"])["value"].mean()
        train = mean.get("train")
        validation = mean.get("validation")
        found += _overfitting(str(metric), train, validation, sign)
        found += _underfitting(str(metric), train, sign)
        found += _validation_better(str(metric), train, validation, sign)
        found += _instability(str(metric), rows)
    return pd.DataFrame(found, columns=["sign", "metric", "evidence", "rule"])


def _overfitting(
    metric: str, train: pd.Series | None, validation: pd.Series | None, sign: float
) -> list[dict[str, str]]:
    if train is None or validation is None or len(validation) <= PATIENCE:
        return []
    v = sign * validation.to_numpy()
    best = int(np.argmax(v))
    after = v[best + 1 :]
    if len(after) < PATIENCE or not np.all(np.diff(np.r_[v[best], after[:PATIENCE]]) < 0):
        return []
    t = sign * train.reindex(validation.index).to_numpy()
    if not t[-1] > t[best]:
        return []
    step = int(validation.index[best])
    return [{
        "sign": "overfitting", "metric": metric,
        "evidence": f"validation {metric} is best at step {step} ({validation.iloc[best]:.4g}) and worse for the "
                    f"{len(after)} steps after (last {validation.iloc[-1]:.4g}), while training keeps improving "
                    f"({train.reindex(validation.index).iloc[best]:.4g} -> {train.reindex(validation.index).iloc[-1]:.4g})",
        "rule": f"validation worse for {PATIENCE} steps in a row after its best, training better than at that step",
    }]  # fmt: skip


def _underfitting(metric: str, train: pd.Series | None, sign: float) -> list[dict[str, str]]:
    if train is None or len(train) < 2 or sign > 0:  # losses only: a score's scale has no "no better"
        return []
    first, last = float(train.iloc[0]), float(train.iloc[-1])
    if not (first > 0 and last >= STALL * first):
        return []
    return [{
        "sign": "underfitting", "metric": metric,
        "evidence": f"training {metric} went from {first:.4g} to {last:.4g} over {len(train)} steps",
        "rule": f"the last training loss is at least {STALL:.0%} of the first",
    }]  # fmt: skip


def _validation_better(
    metric: str, train: pd.Series | None, validation: pd.Series | None, sign: float
) -> list[dict[str, str]]:
    if train is None or validation is None:
        return []
    both = pd.concat([train, validation], axis=1, keys=["t", "v"]).dropna()
    tail = both.iloc[len(both) // 2 :]
    if not len(tail):
        return []
    margin = LEAK_MARGIN * tail["t"].abs()
    better = sign * (tail["v"] - tail["t"]) > margin
    if better.mean() <= 0.5:
        return []
    return [{
        "sign": "validation better than training", "metric": metric,
        "evidence": f"validation {metric} beats training by more than {LEAK_MARGIN:.0%} on {better.mean():.0%} of "
                    f"the last {len(tail)} steps (last: validation {tail['v'].iloc[-1]:.4g}, training "
                    f"{tail['t'].iloc[-1]:.4g}): leakage, or a mislabeled or easier validation set",
        "rule": f"validation better than training by more than {LEAK_MARGIN:.0%} on most of the last half",
    }]  # fmt: skip


def _instability(metric: str, rows: pd.DataFrame) -> list[dict[str, str]]:
    validation = rows[rows["split"] == "validation"]
    if validation["run"].nunique() < 2:
        return []
    last = validation[validation["step"] == validation["step"].max()]["value"]
    mean = float(last.mean())
    spread = float(last.max() - last.min())
    if not (mean != 0 and spread > SPREAD * abs(mean)):
        return []
    return [{
        "sign": "instability", "metric": metric,
        "evidence": f"{len(last)} runs end with validation {metric} from {last.min():.4g} to {last.max():.4g} "
                    f"(spread {spread:.4g}, mean {mean:.4g})",
        "rule": f"the runs' last validation values spread more than {SPREAD:.0%} of their mean",
    }]  # fmt: skip


def curves_of(history: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(curves, warning signs) of ``history``."""
    curves = training_curves(history)
    return curves, warning_signs(curves)
