"""Every model's metrics and disparities per sensitive group, and the trade-off of each model's overall
metric against its largest disparity (Fairlearn's old dashboard plotted models on accuracy against
disparity).

Each model is counted by its own plan (``Key.predicted(positive, model=m)``; a regression's
``Measure(kind, model=m)``), and the per-group statistics are :mod:`errorscope.fairness`'s and
:mod:`errorscope.group_regression`'s on those counts, so every engine gives the same numbers. A model's
largest disparity is the between-groups summary of :func:`errorscope.fairness.summary` (demographic
parity difference: the largest selection rate minus the smallest; equalized odds difference: the larger
of the TPR and FPR ranges, as Fairlearn defines them) or, on a regression, of
:func:`errorscope.group_regression.regression_summary` (the MAE range: the largest MAE gap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import group_regression as gr
from .evaluation import Evaluation
from .fairness import GroupCounts, Groups, _by_group, disparities, group_metrics, rates_from_counts, summary
from .plans import Counted, Filter, Key, Measure
from .plans import GroupCounts as PlanCounts
from .regression import REGRESSION_SUMS, RegressionMetrics

TRADEOFF_METRICS = ("accuracy", "precision", "recall", "f1", "fpr", "fnr")
"""A classification's overall metrics a trade-off can plot (the view's metric when it is one of them)."""
REGRESSION_TRADEOFF_METRICS = ("mae", "rmse", "r2")
DISPARITY_METRICS = {
    "demographic_parity_difference": "demographic_parity_difference",
    "equalized_odds_difference": "equalized_odds_difference",
    "equal_opportunity_difference": "equal_opportunity_difference",
}
"""A classification's largest disparities (between-groups, :func:`~errorscope.fairness.summary`) and the
per-group column against the reference each one summarises (:func:`~errorscope.fairness.disparities`)."""
REGRESSION_DISPARITY_METRICS = {
    "mae_range": "mae_difference",
    "rmse_range": "rmse_difference",
    "mean_error_range": "mean_error_difference",
}
TRADEOFF_COLUMNS = ("model", "metric", "value", "disparity_metric", "disparity", "active")


def tradeoff_metric(metric: str, regression: bool) -> str:
    """The overall metric a trade-off plots: ``metric`` (the view's) when it rates a model, else accuracy
    (a regression: MAE)."""
    choices = REGRESSION_TRADEOFF_METRICS if regression else TRADEOFF_METRICS
    return metric if metric in choices else ("mae" if regression else "accuracy")


def check_disparity_metric(name: str, regression: bool) -> str:
    """``name`` if it is a disparity of this task, else a clear error listing them."""
    choices = REGRESSION_DISPARITY_METRICS if regression else DISPARITY_METRICS
    if name not in choices:
        kind = "a regression" if regression else "a classification"
        raise ValueError(f"disparity_metric={name!r}: on {kind} choose one of {list(choices)}.")
    return name


@dataclass(frozen=True)
class ModelGroups:
    """``table``: one row per model and group (metrics with intervals, disparities against the
    reference); ``overall``: one row per model, its metrics on all the rows counted and its
    between-groups disparities."""

    table: pd.DataFrame
    overall: pd.DataFrame


def _has_scores(ev: Evaluation, model: str) -> bool:
    found = ev.predictions(model)
    return found.scores is not None or bool(found.y_score)


def count_model(
    ev: Evaluation, groups: Groups, where: Filter, positive: int, model: str, scores: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Model ``model``'s (k, 4) outcome counts TN, FP, FN, TP per group and, with ``scores``, per group
    the sum and the sum of squares of its positive score: one grouped count."""
    sums = (
        (Measure("score", positive, model=model), Measure("score2", positive, model=model)) if scores else ()
    )
    plan = PlanCounts((*groups.keys, Key.actual(positive), Key.predicted(positive, model=model)), sums)
    counted = ev.engine.count(plan, where)
    counts = _by_group(groups, counted.counts, 4)
    if not sums:
        return counts, None
    return counts, np.stack([_by_group(groups, s, 4).sum(axis=1) for s in counted.sums], axis=1)


def classification_model_groups(
    ev: Evaluation,
    groups: Groups,
    where: Filter,
    positive: int,
    models: Sequence[str],
    all_counts: Callable[[str], np.ndarray],
    reference: str | None = None,
    min_size: int = 30,
    n_boot: int = 200,
    seed: int = 0,
    active: GroupCounts | None = None,
) -> ModelGroups:
    """Per model and group: count, share, every rate of :data:`~errorscope.fairness.RATES` with its
    bootstrap interval, the mean score (t interval) when every model has scores, ``small``, and the
    disparities against the reference (:func:`~errorscope.fairness.disparities`: the largest group, "best"
    / "worst" by that model's selection rate on all rows, or a name). ``all_counts(model)``: the model's
    (k, 4) counts on all rows (where the largest, best and worst groups are found). ``active``: the active
    model's :func:`~errorscope.fairness.count_groups` on ``where`` when the caller has it (its counts and
    score sums are used, not counted again)."""
    scores = ev.has_scores and all(_has_scores(ev, m) for m in models)
    tables, overall = [], []
    for model in models:
        if model == ev.active_model and active is not None and (active.cells is not None or not scores):
            counts, score = active.counts, None
            if scores:
                assert active.cells is not None and active.squares is not None
                score = np.stack([active.cells[..., 2].sum(axis=1), active.squares], axis=1)
        else:
            counts, score = count_model(ev, groups, where, positive, model, scores)
        counted = GroupCounts(counts, None)
        metrics = group_metrics(ev, groups, where, None, min_size, n_boot, seed, counted=counted)
        if score is not None:
            n = counts.sum(axis=1).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                metrics["mean_score"] = score[:, 0] / n
            metrics["mean_score_low"], metrics["mean_score_high"] = gr._t_interval(
                score[:, 0], score[:, 1], n
            )
        every = all_counts(model) if not where.everything else counts
        gaps = disparities(
            ev, groups, where, None, reference, n_boot, seed, counted=counted, overall=every
        ).drop(columns=["group", "count"])
        table = pd.concat([metrics.drop(columns=["term", "small"]), gaps], axis=1)
        table["small"] = metrics["small"]
        table.insert(0, "model", model)
        tables.append(table)
        total = counts.sum(axis=0)
        rates = {name: float(values) for name, values in rates_from_counts(total).items()}
        overall.append({"model": model, "count": int(total.sum()), **rates, **summary(metrics)})
    return ModelGroups(pd.concat(tables, ignore_index=True), pd.DataFrame(overall))


def regression_model_groups(
    ev: Evaluation,
    groups: Groups,
    where: Filter,
    models: Sequence[str],
    all_metrics: Callable[[str], pd.DataFrame],
    reference: str | None = None,
    min_size: int = 30,
) -> ModelGroups:
    """Per model and group: a regression's group metrics with their intervals
    (:func:`~errorscope.group_regression.regression_group_metrics`: MAE, RMSE, R², mean residual, ...) and
    each metric's difference from, and ratio to, the reference group's. ``all_metrics(model)``: the
    model's group metrics on all rows (the largest, best and worst groups are found there)."""
    tables, overall = [], []
    for model in models:
        # by name, the active model too: a plan of the active model ("") with only column keys may be
        # answered from the numpy engine's counter built before the active model changed
        counted = gr.count_regression_groups(ev, groups, where, model)
        table, gaps, _ref = gr.group_regression(
            ev, groups, where, reference, min_size, model=model, counted=counted,
            overall=None if where.everything else all_metrics(model),
        )  # fmt: skip
        merged = table.drop(columns="term").merge(gaps.drop(columns="count"), on="group", sort=False)
        merged.insert(0, "model", model)
        tables.append(merged)
        whole = Counted(
            counted.counts.sum(keepdims=True), counted.sums[: len(REGRESSION_SUMS)].sum(axis=1, keepdims=True)
        )
        found = RegressionMetrics.from_counted(whole)
        overall.append(
            {
                "model": model,
                "count": int(counted.counts.sum()),
                **{m: float(np.asarray(getattr(found, m))[0]) for m in REGRESSION_TRADEOFF_METRICS},
                **gr.regression_summary(table),
            }
        )
    return ModelGroups(pd.concat(tables, ignore_index=True), pd.DataFrame(overall))


def tradeoff(overall: pd.DataFrame, metric: str, disparity_metric: str, active: str) -> pd.DataFrame:
    """Each model as a point: its overall ``metric`` against its largest ``disparity_metric`` (model,
    metric, value, disparity_metric, disparity, active)."""
    return pd.DataFrame(
        {
            "model": overall["model"].tolist(),
            "metric": metric,
            "value": overall[metric].to_numpy(dtype=float),
            "disparity_metric": disparity_metric,
            "disparity": overall[disparity_metric].to_numpy(dtype=float),
            "active": (overall["model"] == active).to_numpy(),
        },
        columns=list(TRADEOFF_COLUMNS),
    )
