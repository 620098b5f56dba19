"""The report's comparison of several models: each model against the first on every row, with the paired
differences, their intervals and tests (:mod:`errorscope.compare_models`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .compare_models import compare_models
from .evaluation import Evaluation
from .model_slices import model_slice_table
from .plans import ALL_ROWS
from .report import _e, html_table, number, p_value, percent, points, signed, with_interval

METRIC_NAMES = {
    "accuracy": "accuracy", "balanced_accuracy": "balanced accuracy", "macro_f1": "macro F1",
    "precision": "precision", "recall": "recall", "fpr": "false positive rate", "f1": "F1",
    "mae": "MAE", "mse": "MSE", "rmse": "RMSE",
}  # fmt: skip
LOWER_IS_BETTER = frozenset({"fpr", "mae", "mse", "rmse"})
CELL_NAMES = {
    "both_right": "both right", "only_a_right": "only {a} right", "only_b_right": "only {b} right",
    "both_wrong": "both wrong", "a_better": "{a} better", "tie": "equal errors", "b_better": "{b} better",
}  # fmt: skip


def comparison_section(ev: Evaluation, n_boot: int = 2000, top: int = 10) -> str:
    """``<h2>Model comparison</h2>``: the agreement of every model with the first, a table per model of
    each metric's value, the paired difference (95% interval) and its test, and the ``top`` slices where
    it is significantly worse than the first (:func:`errorscope.model_slices.model_slice_table`)."""
    a = ev.models[0]
    found = compare_models(ev, a, ALL_ROWS, n_boot=n_boot)
    tests = "a paired t-test of the errors" if ev.is_regression else "McNemar's exact test (rates)"
    parts = [
        "<h2>Model comparison</h2>",
        f"<p>Every model against {_e(a)} on all {ev.n_rows:,} rows: differences are the model's value minus "
        f"{_e(a)}'s, with a 95% paired {'t' if ev.is_regression else 'bootstrap'} interval; p: {tests}. "
        f"The active model (the one the other sections show) is {_e(ev.active_model)}.</p>",
    ]
    cells = list(next(iter(found.agreement.values())))
    header = ["Model", *(CELL_NAMES[c].format(a=a, b="it") for c in cells)]
    rows = [[m, *(f"{cells_of[c]:,}" for c in cells)] for m, cells_of in found.agreement.items()]
    parts.append(html_table(f"Agreement with {a}: rows", header, rows))
    metrics = found.metrics.set_index(["model", "metric"])
    for model in found.agreement:
        table = []
        for metric in metrics.loc[model].index:
            mine, theirs = metrics.loc[(a, metric)], metrics.loc[(model, metric)]
            p = theirs["p_value"] if ev.is_regression else theirs["p_mcnemar"]
            table.append([
                METRIC_NAMES.get(metric, metric), number(mine["value"]), number(theirs["value"]),
                with_interval(theirs["diff"], theirs["diff_lo"], theirs["diff_hi"], signed),
                _verdict(metric, theirs), p_value(p),
            ])  # fmt: skip
        header = ["Metric", a, model, "Difference (95% interval)", "Verdict", "p"]
        parts.append(html_table(f"{model} against {a}", header, table))
        parts.append(_worse_slices(ev, a, model, top))
    return "".join(parts)


def _worse_slices(ev: Evaluation, a: str, b: str, top: int) -> str:
    """The slices where ``b`` is significantly worse than ``a`` (BH q < 0.05), worst first."""
    table = model_slice_table(ev, a, b, ALL_ROWS)
    worse = table[table["tested"] & (table["q"] < 0.05) & (table["diff"] > 0)].head(top)
    metric = "MAE" if ev.is_regression else "error rate"
    caption = f"Slices where {b} is worse than {a} ({metric}; {'paired t' if ev.is_regression else 'McNemar'}, BH q < 0.05)"
    if not len(worse):
        return f"<p>{_e(caption)}: none.</p>"
    fmt = number if ev.is_regression else percent
    rows = [
        [row["description"], f"{int(row['rows']):,}", fmt(row["a"]), fmt(row["b"]),
         signed(row["diff"]) if ev.is_regression else points(row["diff"]), p_value(row["p_value"]), p_value(row["q"])]
        for _, row in worse.iterrows()
    ]  # fmt: skip
    return html_table(caption, ["Slice", "Rows", a, b, "Difference", "p", "q (BH)"], rows)


def _verdict(metric: str, row: pd.Series) -> str:
    """ "better" or "worse" when the interval excludes 0 (lower is better for rates of errors), else "–"."""
    lo, hi = row["diff_lo"], row["diff_hi"]
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 <= hi:
        return "–"
    higher = lo > 0
    return "worse" if higher == (metric in LOWER_IS_BETTER) else "better"
