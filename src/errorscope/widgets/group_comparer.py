"""GroupComparer: metrics with intervals, disparities and score distributions per sensitive group; on a
regression, MAE, RMSE, R², mean residual, mean prediction and actual per group, with the prediction and
residual distributions and the mean residual per group within bins of the actual value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import traitlets

from .. import group_regression as gr
from .. import model_groups as mg
from ..evaluation import Evaluation
from ..fairness import (
    RATES,
    GroupCounts,
    Groups,
    count_groups,
    disparities,
    group_metrics,
    lift,
    make_groups,
    positive_code,
    representation,
    score_distributions,
    summary,
)
from ..plans import ALL_ROWS, Filter
from ..selection import Clause
from .base import LinkedView, as_buffer, is_regression

SHOWN = (*RATES, "mean_score", "ece")
REGRESSION_SHOWN = gr.METRICS
DISPARITIES = (
    "demographic_parity_difference",
    "disparate_impact",
    "equal_opportunity_difference",
    "equalized_odds_difference",
)


class GroupComparer(LinkedView):
    """Per-group metrics, fairness disparities and score distributions, linked to every other view.

    ``groups``: one or several sensitive columns (their intersections; numeric ones binned, following
    ``ev.set_bins``). Click a group to select it (modifier-click adds). ``reference``: the group
    disparities are measured against (None: the largest; "best" / "worst"; or a group's name), found on
    the whole evaluation set so that a selection never changes it. When the other views' selection is
    defined by the outcome (a matrix cell, a score bin, a tag), ``lift_table`` ranks the groups by their
    share of those rows against their share of all rows. ``positive_class``: the class rates are about
    (binary: the second class; multiclass: one-vs-rest, required). ``representation``: expected shares
    {group: share} to compare the data with. ``min_size``: groups smaller than this are flagged.

    On a regression (``ev.is_regression``) the table has ``count``, ``mae``, ``rmse``, ``r2``,
    ``mean_error`` (mean residual, prediction - actual), ``mean_prediction`` and ``mean_actual``, each
    with ``_low``/``_high`` 95% intervals computed from sums (see :mod:`errorscope.group_regression`
    for why they are analytic), ``<metric>_difference`` and ``<metric>_ratio`` against the reference
    (the largest group, "best" / "worst" by MAE, or a name), and Welch's test of each group's mean
    residual against the other rows (``mean_error_p_value``, BH-adjusted ``mean_error_p_adjusted``).
    The view adds the prediction and residual histograms per group and the mean residual per group
    within quantile bins of the actual value. ``positive_class`` does not apply.

    With several models (``ev.models``), ``model_table`` has every model's metrics and disparities per
    group, each model counted by its own plan, and ``tradeoff_table`` each model's overall metric (the
    view's ``metric`` when it rates a model, else accuracy; a regression: MAE) against its largest
    disparity (``disparity_metric``: "demographic_parity_difference" by default, or
    "equalized_odds_difference" / "equal_opportunity_difference"; a regression: "mae_range", the largest
    MAE gap, or "rmse_range" / "mean_error_range"); the view draws it as a chart whose points make a
    model active.
    """

    _bundle = "group_comparer"
    group_columns = traitlets.List(traitlets.Unicode()).tag(sync=True)
    metric = traitlets.Enum((*SHOWN, *REGRESSION_SHOWN), "selection_rate").tag(sync=True)
    task = traitlets.Unicode("classification").tag(sync=True)
    regression = traitlets.Dict().tag(sync=True)  # histograms and mean residual by actual (regression)
    positive = traitlets.Unicode("").tag(sync=True)
    class_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    reference = traitlets.Unicode("").tag(sync=True)  # "" = largest, "best", "worst" or a group name
    reference_label = traitlets.Unicode("").tag(sync=True)  # the reference in use, and why
    lift_table = traitlets.Dict().tag(sync=True)  # share of the filter against share of all rows
    groups = traitlets.Dict().tag(sync=True)
    disparity = traitlets.Dict().tag(sync=True)
    summary_values = traitlets.Dict().tag(sync=True)
    distributions = traitlets.Dict().tag(sync=True)
    representation_table = traitlets.Dict().tag(sync=True)
    selected_groups = traitlets.List(traitlets.Int()).tag(sync=True)
    thresholds = traitlets.Dict().tag(sync=True)
    what_if = traitlets.Dict().tag(sync=True)
    can_threshold = traitlets.Bool(False).tag(sync=True)
    min_size = traitlets.Int(30).tag(sync=True)
    disparity_metric = traitlets.Unicode("").tag(sync=True)  # the trade-off's largest disparity
    model_groups = traitlets.Dict().tag(sync=True)  # several models: each one's metric per group
    tradeoff = traitlets.Dict().tag(sync=True)  # several models: overall metric against largest disparity

    def __init__(
        self,
        evaluation: Evaluation,
        groups: str | Sequence[str] | None = None,
        positive_class: Any = None,
        reference: str | None = None,
        representation: Mapping[str, float] | None = None,
        min_size: int = 30,
        n_boot: int = 200,
        seed: int = 0,
        disparity_metric: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._lift = pd.DataFrame()
        self._models = mg.ModelGroups(pd.DataFrame(), pd.DataFrame())
        regression = isinstance(evaluation, Evaluation) and is_regression(evaluation)
        if isinstance(evaluation, Evaluation):
            self._set_groups(evaluation, make_groups(evaluation, groups))
            if regression and positive_class is not None:
                raise ValueError(
                    "positive_class= is a classification's: this Evaluation is a regression (omit it)."
                )
            self._positive = 0 if regression else positive_code(evaluation, positive_class)
            if reference not in (None, "", "best", "worst") and reference not in self._groups.labels:
                raise ValueError(
                    f"reference={reference!r} is not a group; groups are {list(self._groups.labels)[:8]}."
                )
            if min_size < 1:
                raise ValueError(f"min_size must be at least 1, got {min_size}.")
            default = "mae_range" if regression else "demographic_parity_difference"
            disparity_metric = mg.check_disparity_metric(disparity_metric or default, regression)
        self.n_boot, self.seed = n_boot, seed
        self._expected_shares = representation
        self._metrics = pd.DataFrame()
        self._disparities = pd.DataFrame()
        self._where: Filter = ALL_ROWS
        self._score_hist: np.ndarray | None = None
        self._counted: GroupCounts | None = None  # the active model's counts on the view's rows
        super().__init__(
            evaluation,
            group_columns=list(self._groups.columns),
            positive="" if regression else evaluation.class_names[self._positive],
            class_names=[] if regression else list(evaluation.class_names),
            reference=reference or "",
            min_size=min_size,
            can_threshold=not regression and evaluation.is_binary and evaluation.has_scores,
            task="regression" if is_regression(evaluation) else "classification",
            disparity_metric=disparity_metric or "",
            **({"metric": "mae"} if regression and "metric" not in kwargs else {}),
            **kwargs,
        )
        if regression and self.metric not in REGRESSION_SHOWN:
            raise ValueError(f"metric={self.metric!r}: on a regression choose one of {REGRESSION_SHOWN}.")

    # -- what the view shows -------------------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        """Per-group metrics with their 95% bootstrap intervals, on the rows the view is computed on."""
        return self._metrics.drop(columns="term").copy()

    @property
    def disparities_table(self) -> pd.DataFrame:
        return self._disparities.copy()

    @property
    def model_table(self) -> pd.DataFrame:
        """With several models: one row per model and group, on the rows the view is computed on: count,
        share, every rate with its 95% bootstrap interval (and the mean score with its t interval) and
        the disparities against the reference group (difference, ratio, four-fifths flag); a regression:
        MAE, RMSE, R², mean residual, ... with intervals, ``<metric>_difference`` and ``_ratio``. One
        model: empty."""
        return self._models.table.copy()

    @property
    def tradeoff_table(self) -> pd.DataFrame:
        """With several models: each model's overall metric (``metric``, ``value``) against its largest
        disparity between groups (``disparity_metric``, ``disparity``), and which one is ``active``."""
        if self._models.overall.empty:
            return pd.DataFrame(columns=list(mg.TRADEOFF_COLUMNS))
        ev = self.evaluation
        metric = mg.tradeoff_metric(self.metric, self.task == "regression")
        return mg.tradeoff(self._models.overall, metric, self.disparity_metric, ev.active_model)

    @property
    def lift_rows(self) -> pd.DataFrame:
        """Per group, its share of the rows the view is computed on against its share of all rows (lift),
        highest lift first: where an outcome-defined selection (errors, a tag) is over-represented."""
        return self._lift.sort_values("lift", ascending=False, kind="stable").reset_index(drop=True)

    def to_figure(self) -> Any:
        """The chosen metric per group with intervals, and the score distributions, as a matplotlib figure."""
        from ..figures import groups_figure

        name = gr.METRIC_NAMES.get(self.metric, self.metric.replace("_", " "))
        return groups_figure(self._metrics, self.metric, self._score_hist, f"{name} by group", name)

    def summary(self) -> str:
        if self.task == "regression":
            lines = [f"Group comparer ({', '.join(self.group_columns)}; regression), {self.n_rows:,} rows:"]
            for name, value in self.summary_values.items():
                lines.append(f"  {name.replace('_', ' ')}: {value:.3f}")
            flagged = self._metrics.loc[self._metrics["mean_error_p_adjusted"] < 0.05, "group"].tolist()
            if flagged:
                lines.append(
                    f"  mean residual differs from the other rows (BH-adjusted p < 0.05): {', '.join(flagged)}"
                )
            return "\n".join([*lines, *self._tradeoff_lines()])
        lines = [
            f"Group comparer ({', '.join(self.group_columns)}; positive class {self.positive}), {self.n_rows:,} rows:"
        ]
        for name, value in self.summary_values.items():
            lines.append(f"  {name.replace('_', ' ')}: {value:.3f}")
        flagged = self._disparities.loc[self._disparities["four_fifths_violation"], "group"].tolist()
        if flagged:
            lines.append(f"  below four-fifths of the reference's selection rate: {', '.join(flagged)}")
        return "\n".join([*lines, *self._tradeoff_lines()])

    def _tradeoff_lines(self) -> list[str]:
        """With several models: each one's overall metric and largest disparity (the active one marked)."""
        points = self.tradeoff_table
        if points.empty:
            return []
        metric, disparity = points["metric"].iloc[0], points["disparity_metric"].iloc[0].replace("_", " ")
        return [f"  models, {metric} against the largest {disparity}:"] + [
            f"    {r.model}{' (active)' if r.active else ''}: {r.value:.3f}, {r.disparity:.3f}"
            for r in points.itertuples()
        ]

    def _overall_counts(self, positive: str) -> GroupCounts:
        """The counts of all rows (reference group, lift): they change only with the predictions."""
        ev, groups = self.evaluation, self._groups
        key = ("group_overall", id(groups), positive, ev.predictions_version)
        return ev.cached(key, lambda: (groups, count_groups(ev, groups, None, positive)), keep=4)[1]

    def _set_groups(self, ev: Evaluation, groups: Groups) -> None:
        """Use ``groups``, remembering the column codes they were built from (to notice new bins)."""
        self._groups = groups
        self._coded = tuple(ev.codes(c) for c in groups.columns)

    # -- selecting -----------------------------------------------------------------------------
    def select_groups(self, indices: Sequence[int]) -> None:
        """Select the groups at ``indices`` (positions in ``table``); empty clears."""
        terms = []
        for i in indices:
            if not 0 <= int(i) < self._groups.n_groups:
                raise ValueError(f"group {i} does not exist; there are {self._groups.n_groups}.")
            terms.append(self._groups.terms[int(i)])
        if terms:
            self._set_clause(Clause(self.source, tuple(terms)))
        else:
            self.clear()

    def _handle_message(self, content: dict[str, Any]) -> None:
        if content.get("type") == "select_group":
            index = int(content["index"])
            current = list(self.selected_groups)
            if content.get("additive"):
                wanted = [i for i in current if i != index] if index in current else [*current, index]
            else:
                wanted = [] if current == [index] else [index]
            self.select_groups(wanted)

    # -- recompute -----------------------------------------------------------------------------
    def _compute(self, where: Filter) -> None:
        if not hasattr(self, "_groups") or not hasattr(self, "evaluation"):
            return
        ev = self.evaluation
        if any(ev.codes(c) is not coded for c, coded in zip(self._groups.columns, self._coded, strict=True)):
            self._set_groups(ev, make_groups(ev, list(self._groups.columns)))  # new bins (ev.set_bins)
        self._where = where
        if is_regression(ev):
            self._compute_regression(where)
            return
        positive = ev.class_names[self._positive]
        counted = count_groups(ev, self._groups, self._where, positive)
        self._counted = counted
        overall = counted if where.everything else self._overall_counts(positive)
        self._metrics = group_metrics(
            ev, self._groups, self._where, positive, self.min_size, self.n_boot, self.seed, counted=counted
        )
        reference = self.reference or None
        self._disparities = disparities(
            ev, self._groups, self._where, positive, reference, self.n_boot, self.seed, counted=counted,
            overall=overall.counts,
        )  # fmt: skip
        ref = int(np.flatnonzero(self._disparities["reference"])[0])
        why = {"": "largest group overall", "best": "best group overall", "worst": "worst group overall"}
        self.reference_label = f"{self._groups.labels[ref]} ({why.get(self.reference, 'chosen')})"
        self._lift = pd.concat(
            [
                pd.DataFrame({"group": list(self._groups.labels)}),
                lift(counted.counts.sum(axis=1), overall.counts.sum(axis=1)),
            ],
            axis=1,
        )
        self.lift_table = {
            name: as_buffer(self._lift[name].to_numpy(dtype=float), "f8")
            for name in ("share_of_filter", "share_of_all", "lift", "lift_low", "lift_high")
        }
        self.summary_values = summary(self._metrics)
        self.groups = self._groups_payload()
        self.disparity = {
            "reference": ref,
            "four_fifths": as_buffer(self._disparities["four_fifths_violation"].to_numpy(), "u1"),
            **{
                f"{name}{suffix}": as_buffer(self._disparities[f"{name}{suffix}"].to_numpy(dtype=float), "f8")
                for name in DISPARITIES
                for suffix in ("", "_low", "_high")
                if f"{name}{suffix}" in self._disparities
            },
        }
        self._score_hist = None
        if counted.cells is not None:
            _edges, hist, quantiles = score_distributions(
                ev, self._groups, self._where, positive, counted=counted
            )
            self._score_hist = hist
            self.distributions = {
                "hist": as_buffer(hist, "u4"),
                "bins": int(hist.shape[1]),
                "median": as_buffer(quantiles["median"].to_numpy(), "f8"),
                "q25": as_buffer(quantiles["q25"].to_numpy(), "f8"),
                "q75": as_buffer(quantiles["q75"].to_numpy(), "f8"),
            }
        if self._expected_shares is None:  # the view shows representation only against given shares
            self.representation_table = {"given": False}
        else:
            shares, p_value = representation(
                ev, self._groups, self._expected_shares, self._where, counted=counted
            )
            self.representation_table = {
                "share": as_buffer(shares["share"].to_numpy(dtype=float), "f8"),
                "reference_share": as_buffer(shares["reference_share"].to_numpy(dtype=float), "f8"),
                "p_value": None if np.isnan(p_value) else p_value,
                "given": True,
            }
        self._compute_models()
        self._show_what_if()

    def _compute_regression(self, where: Filter) -> None:
        """The regression's numbers: metrics, disparities, distributions, mean residual by actual."""
        ev, groups = self.evaluation, self._groups
        reference = self.reference or None
        overall = None  # all rows' metrics: the largest / best / worst group, and the lift's shares
        if not where.everything:
            key = ("group_regression_overall", id(groups), ev.predictions_version)
            overall = ev.cached(key, lambda: (groups, gr.regression_group_metrics(ev, groups)), keep=4)[1]
        table, self._disparities, ref = gr.group_regression(
            ev, groups, where, reference, self.min_size, overall=overall
        )
        self._metrics = table.merge(
            self._disparities.drop(columns=["count", "reference"]), on="group", sort=False
        )
        why = {"": "largest group overall", "best": "lowest MAE overall", "worst": "highest MAE overall"}
        self.reference_label = f"{groups.labels[ref]} ({why.get(self.reference, 'chosen')})"
        counts = table["count"].to_numpy()
        all_counts = counts if overall is None else overall["count"].to_numpy()
        self._lift = pd.concat(
            [pd.DataFrame({"group": list(groups.labels)}), lift(counts, all_counts)], axis=1
        )
        self.lift_table = {
            name: as_buffer(self._lift[name].to_numpy(dtype=float), "f8")
            for name in ("share_of_filter", "share_of_all", "lift", "lift_low", "lift_high")
        }
        self.summary_values = gr.regression_summary(table)
        self.groups = self._groups_payload()
        self.disparity = {
            "reference": ref,
            **{
                f"{name}_{kind}": as_buffer(self._disparities[f"{name}_{kind}"].to_numpy(dtype=float), "f8")
                for name in gr.METRICS
                for kind in ("difference", "ratio")
            },
        }
        hist = gr.histograms(ev, groups, where)
        by_actual = gr.residual_by_actual(ev, groups, where)
        self._by_actual = gr.by_actual_table(groups, by_actual)
        self.regression = {
            "prediction": as_buffer(hist.prediction, "u4"),
            "residual": as_buffer(hist.residual, "u4"),
            "prediction_edges": as_buffer(hist.prediction_key.bin_edges(), "f8"),
            "residual_edges": as_buffer(hist.residual_key.bin_edges(), "f8"),
            "actual_bins": list(by_actual.labels),
            "actual_counts": as_buffer(by_actual.counts, "u4"),
            "actual_mean_error": as_buffer(by_actual.mean_error, "f8"),
            "actual_overall": as_buffer(by_actual.overall, "f8"),
        }
        if self._expected_shares is None:
            self.representation_table = {"given": False}
        else:
            shares, p_value = representation(
                ev, groups, self._expected_shares, where, counted=GroupCounts(counts[:, None], None)
            )
            self.representation_table = {
                "share": as_buffer(shares["share"].to_numpy(dtype=float), "f8"),
                "reference_share": as_buffer(shares["reference_share"].to_numpy(dtype=float), "f8"),
                "p_value": None if np.isnan(p_value) else p_value,
                "given": True,
            }
        self._compute_models()
        self.what_if = {}

    def _compute_models(self) -> None:
        """Every model's metrics and disparities per group, and the trade-off (several models only)."""
        ev, groups, where = self.evaluation, self._groups, self._where
        models = ev.models
        if len(models) < 2:
            self._models = mg.ModelGroups(pd.DataFrame(), pd.DataFrame())
            self.model_groups, self.tradeoff = {}, {}
            return
        reference = self.reference or None
        keep = 2 * len(models) + 2
        if self.task == "regression":

            def all_metrics(model: str) -> pd.DataFrame:
                key = ("group_regression_overall_model", id(groups), model, ev.predictions_version)
                metrics = lambda: gr.regression_group_metrics(ev, groups, model=model)  # noqa: E731
                return ev.cached(key, lambda: (groups, metrics()), keep=keep)[1]

            self._models = mg.regression_model_groups(
                ev, groups, where, models, all_metrics, reference, self.min_size
            )
        else:
            positive = self._positive

            def all_counts(model: str) -> np.ndarray:
                if model == ev.active_model:  # the view's own counts of all rows
                    return self._overall_counts(ev.class_names[positive]).counts
                key = ("group_overall_model", id(groups), positive, model, ev.predictions_version)
                everything = ev.engine.as_filter(None)
                count = lambda: mg.count_model(ev, groups, everything, positive, model, False)[0]  # noqa: E731
                return ev.cached(key, lambda: (groups, count()), keep=keep)[1]

            self._models = mg.classification_model_groups(
                ev,
                groups,
                where,
                positive,
                models,
                all_counts,
                reference,
                self.min_size,
                self.n_boot,
                self.seed,
                active=self._counted,
            )
        self._send_models()

    def _send_models(self) -> None:
        """The per-model payloads: the view's metric per model and group, with the disparity column the
        trade-off's disparity summarises; the trade-off's points."""
        if self._models.table.empty:
            return
        regression = self.task == "regression"
        table = self._models.table
        gap = (mg.REGRESSION_DISPARITY_METRICS if regression else mg.DISPARITY_METRICS)[self.disparity_metric]
        columns = []
        for model, rows in table.groupby("model", sort=False):
            column = {"model": str(model)}
            for name, source in (("value", self.metric), ("low", f"{self.metric}_low"),
                                 ("high", f"{self.metric}_high"), ("gap", gap)):  # fmt: skip
                values = rows[source].to_numpy(dtype=float) if source in rows else np.full(len(rows), np.nan)
                column[name] = as_buffer(values, "f8")
            column["reference"] = int(np.flatnonzero(rows["reference"].to_numpy())[0])
            columns.append(column)
        self.model_groups = {"metric": self.metric, "gap": gap, "models": columns}
        points = self.tradeoff_table
        self.tradeoff = {
            "metric": str(points["metric"].iloc[0]),
            "disparity_metric": self.disparity_metric,
            "points": [
                {"model": str(r.model), "value": _finite(r.value), "disparity": _finite(r.disparity),
                 "active": bool(r.active)}
                for r in points.itertuples()
            ],
        }  # fmt: skip

    @property
    def residual_by_actual(self) -> pd.DataFrame:
        """Regression: the mean residual per group within quantile bins of the actual value (group,
        actual_bin, count, mean_error): who is predicted lower than others at the same actual value."""
        if self.task != "regression":
            raise ValueError("residual_by_actual is a regression's; this Evaluation is a classification.")
        return self._by_actual.copy()

    def _groups_payload(self) -> dict[str, Any]:
        m = self._metrics
        out: dict[str, Any] = {
            "labels": list(self._groups.labels),
            "count": as_buffer(m["count"].to_numpy(), "u4"),
            "share": as_buffer(m["share"].to_numpy(dtype=float), "f8"),
            "small": as_buffer(m["small"].to_numpy(), "u1"),
        }
        for name in (*SHOWN, *REGRESSION_SHOWN):
            for suffix in ("", "_low", "_high"):
                if f"{name}{suffix}" in m:
                    out[f"{name}{suffix}"] = as_buffer(m[f"{name}{suffix}"].to_numpy(dtype=float), "f8")
        for name in ("mean_error_rest", "mean_error_p_value", "mean_error_p_adjusted"):
            if name in m:
                out[name] = as_buffer(m[name].to_numpy(dtype=float), "f8")
        return out

    def _show_what_if(self) -> None:
        if not self.can_threshold or not self.thresholds:
            self.what_if = {}
            return
        ev = self.evaluation
        table = group_metrics(ev, self._groups, self._where, n_boot=0, thresholds=self.thresholds)
        self.what_if = {
            "selection_rate": as_buffer(table["selection_rate"].to_numpy(dtype=float), "f8"),
            "recall": as_buffer(table["recall"].to_numpy(dtype=float), "f8"),
            "fpr": as_buffer(table["fpr"].to_numpy(dtype=float), "f8"),
            "accuracy": as_buffer(table["accuracy"].to_numpy(dtype=float), "f8"),
            "summary": summary(table),
        }

    def what_if_table(self, thresholds: Mapping[str, float]) -> pd.DataFrame:
        """Group metrics if each named group had its own threshold (nothing else changes)."""
        return group_metrics(
            self.evaluation, self._groups, self._where, n_boot=0, thresholds=thresholds
        ).drop(columns="term")

    def _highlight(self, clause: Clause | None) -> None:
        terms = set(clause.terms) if clause else set()
        self.selected_groups = (
            [i for i, t in enumerate(self._groups.terms) if t in terms] if hasattr(self, "_groups") else []
        )

    # -- UI-driven changes ---------------------------------------------------------------------
    @traitlets.observe("positive", "reference")
    def _options_changed(self, change: dict[str, Any]) -> None:
        if not hasattr(self, "evaluation") or not hasattr(self, "_groups"):
            return
        ev = self.evaluation
        if change["name"] == "positive" and is_regression(ev):
            if change["new"]:
                self.positive = ""
                raise ValueError("a regression has no positive class.")
            return
        if change["name"] == "positive":
            self._positive = positive_code(ev, change["new"])
        elif change["new"] not in ("", "best", "worst") and change["new"] not in self._groups.labels:
            self.reference = change["old"]
            raise ValueError(f"reference={change['new']!r} is not a group.")
        self._compute(self._where)

    @traitlets.observe("metric", "disparity_metric")
    def _tradeoff_changed(self, change: dict[str, Any]) -> None:
        if not hasattr(self, "evaluation") or not hasattr(self, "_groups"):
            return
        if change["name"] == "disparity_metric":
            try:
                mg.check_disparity_metric(change["new"], self.task == "regression")
            except ValueError:
                self.disparity_metric = change["old"]
                raise
        self._send_models()

    @traitlets.observe("thresholds")
    def _thresholds_changed(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "evaluation") and hasattr(self, "_groups"):
            self._show_what_if()


def _finite(x: float) -> float | None:
    """A number for JSON: None for NaN and infinities."""
    return float(x) if np.isfinite(x) else None
