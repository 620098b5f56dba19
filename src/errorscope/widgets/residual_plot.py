"""ResidualPlot: a regression's predicted against actual (2-D bins), residual histogram and residual
against a feature; brush any of them to select those rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import traitlets

from ..evaluation import Evaluation
from ..plans import Counted, Filter
from ..residuals import (
    FeatureAxis,
    bins_of,
    density_table,
    feature_axis,
    feature_names,
    feature_table,
    histogram_table,
    range_predicate,
    residual_bins,
)
from ..selection import Clause, Predicate
from .base import LinkedView, as_buffer, is_regression

PLOTS = ("density", "histogram", "feature")
NO_BRUSH: dict[str, Any] = {"plot": "", "x": [], "y": [], "categories": []}


class ResidualPlot(LinkedView):
    """A regressor's errors, linked to every other view of the Evaluation.

    Three plots, on the rows every other view's selection keeps: predicted against actual as a 2-D
    density (colour: rows, log scale; the diagonal is the perfect prediction), the histogram of the
    residual (prediction minus actual: right of 0 over-predicted, left under-predicted) and the residual
    against ``feature`` (numeric: a 2-D density with the mean residual per bin; categorical: the mean
    residual per value with its 95% interval). Drag a rectangle or a range (or click a value) to select
    those rows; arrow keys move a plot's cursor, Shift+arrows extend it, Enter selects; Escape clears.
    The view holds one brush (a new one replaces it): the plot it is on highlights it over all its rows,
    the other two show only the brushed rows.
    """

    _bundle = "residual_plot"
    value_edges = traitlets.Bytes(b"").tag(sync=True)  # actual and predicted share these bins
    density = traitlets.Bytes(b"").tag(sync=True)  # u4, actual bin * n + predicted bin
    density_mean = traitlets.Bytes(b"").tag(sync=True)  # f8 mean residual per 2-D bin (NaN: empty)
    residual_edges = traitlets.Bytes(b"").tag(sync=True)
    histogram = traitlets.Bytes(b"").tag(sync=True)  # u4 rows per residual bin
    features = traitlets.List(traitlets.Dict()).tag(sync=True)  # {name, kind} for the picker
    feature = traitlets.Unicode("").tag(sync=True)
    feature_kind = traitlets.Unicode("").tag(sync=True)  # "numeric" or "categorical"
    feature_edges = traitlets.Bytes(b"").tag(sync=True)  # numeric: the feature's bins
    feature_density = traitlets.Bytes(b"").tag(sync=True)  # numeric: u4, feature bin * r + residual bin
    feature_counts = traitlets.Bytes(b"").tag(sync=True)  # u4 rows per feature bin / shown category
    feature_mean = traitlets.Bytes(b"").tag(sync=True)  # f8 mean residual per feature bin / category
    feature_low = traitlets.Bytes(b"").tag(sync=True)  # f8 categorical: 95% interval of the mean
    feature_high = traitlets.Bytes(b"").tag(sync=True)
    feature_labels = traitlets.List(traitlets.Unicode()).tag(sync=True)  # categorical: values shown
    feature_missing = traitlets.Int(0).tag(sync=True)  # rows whose feature value is missing
    brush = traitlets.Dict(NO_BRUSH).tag(sync=True)  # this view's own selection, in bins

    def __init__(self, evaluation: Evaluation, feature: str | None = None, **kwargs: Any) -> None:
        if isinstance(evaluation, Evaluation) and not is_regression(evaluation):
            raise ValueError(
                "ResidualPlot shows a regression's residuals; this Evaluation is a classification: use "
                'es.ConfusionMatrix(ev), or build the Evaluation with task="regression" for a numeric target.'
            )
        if isinstance(evaluation, Evaluation):
            if not evaluation.features:
                raise ValueError("ResidualPlot needs at least one feature to plot the residual against.")
            feature = evaluation.features[0] if feature is None else feature
            self._axis = feature_axis(evaluation, feature)  # raises, naming the features, if unknown
            self._bins = residual_bins(evaluation)
            kwargs.update(
                features=feature_names(evaluation),
                feature=feature,
                value_edges=as_buffer(self._bins.actual.bin_edges(), "f8"),
                residual_edges=as_buffer(self._bins.residual.bin_edges(), "f8"),
            )
        self._density: Counted | None = None
        self._histogram = np.zeros(0, dtype=np.int64)
        self._feature: Counted | None = None
        super().__init__(evaluation, **kwargs)

    # -- what the view shows -------------------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        """One row per non-empty 2-D bin: actual_low/high, predicted_low/high (bin i holds low <= x <
        high), count, mean_residual, and whether the view's own brush holds it (``selected``)."""
        assert self._density is not None
        table = density_table(self._bins, self._density)
        brush = self.brush
        if brush.get("plot") == "density":
            (x0, x1), (y0, y1) = brush["x"], brush["y"]
            a, p = table["actual_bin"], table["predicted_bin"]
            table["selected"] = a.between(x0, x1) & p.between(y0, y1)
        else:
            table["selected"] = False
        return table

    @property
    def histogram_table(self) -> pd.DataFrame:
        """One row per residual bin: residual_low, residual_high, count."""
        return histogram_table(self._bins, self._histogram)

    @property
    def feature_table(self) -> pd.DataFrame:
        """The residual against the chosen feature: per bin (numeric) or value (categorical), rows and
        the mean residual (categorical: with its 95% t interval)."""
        assert self._feature is not None
        return feature_table(self._axis, self._feature)

    def to_figure(self) -> Any:
        from ..figures import residual_figure

        ev = self.evaluation
        counts = self._density.counts[: self._bins.actual.bins, : self._bins.predicted.bins]  # type: ignore[union-attr]
        return residual_figure(
            counts, self._bins.actual.bin_edges(), self._histogram[: self._bins.residual.bins],
            self._bins.residual.bin_edges(), self.feature_table, self._axis.name, self._axis.kind,
            f"Residual plot ({self.n_rows:,} of {ev.n_rows:,} rows)",
        )  # fmt: skip

    def summary(self) -> str:
        hist = self.histogram_table
        counts = hist["count"].to_numpy()
        n = int(counts.sum())
        over = int(counts[hist["residual_low"].to_numpy() >= 0].sum())
        lines = [
            f"Residual plot: {self.n_rows:,} of {self.n_total:,} rows; residual = prediction - actual",
            f"over-predicted (residual >= 0): {over:,} rows ({over / max(n, 1):.1%}), "
            f"under-predicted: {n - over:,} rows",
        ]
        table = self.feature_table.dropna(subset=["mean_residual"])
        if len(table):
            worst = table.loc[table["mean_residual"].abs().idxmax()]
            where = (
                f"{self._axis.name} = {worst[self._axis.name]}"
                if self._axis.kind == "categorical"
                else f"{self._axis.name} in [{worst.iloc[0]:.4g}, {worst.iloc[1]:.4g})"
            )
            lines.append(
                f"largest mean residual by {self._axis.name}: {where}, {worst['mean_residual']:+.4g}"
            )
        if self.filter_text:
            lines.append(f"filtered by: {self.filter_text}")
        return "\n".join(lines)

    # -- selecting from code (the UI sends the same) -------------------------------------------
    def select_bins(self, plot: str, x: tuple[int, int], y: tuple[int, int] | None = None) -> None:
        """Select the rows in bins ``x`` (first, last) of a plot: ``density`` (x: actual bins, y: predicted
        bins), ``histogram`` (residual bins) or ``feature`` (a numeric feature's bins)."""
        if plot not in PLOTS:
            raise ValueError(f"plot must be one of {PLOTS}, got {plot!r}.")
        bins = self._bins
        if plot == "density":
            if y is None:
                raise ValueError("a density brush needs y=(first, last) predicted bins as well as x.")
            parts = [_full_or(bins.actual, x), _full_or(bins.predicted, y)]
        elif plot == "histogram":
            parts = [_full_or(bins.residual, x)]
        else:
            if self._axis.kind != "numeric":
                raise ValueError(
                    f"{self._axis.name} is categorical: select its values with select_categories()."
                )
            parts = [_full_or(self._axis.key, x)]
        predicates = [p for p in parts if p is not None]
        if not predicates:  # every bin: no restriction
            self.clear()
            return
        self._set_clause(Clause.where(self.source, *predicates))

    def select_categories(self, values: list[str]) -> None:
        """Select the rows whose (categorical) feature has any of ``values`` (labels as shown)."""
        axis = self._axis
        if axis.kind != "categorical":
            raise ValueError(
                f"{axis.name} is numeric: select a range of its bins with select_bins('feature', ...)."
            )
        unknown = [v for v in values if v not in axis.labels]
        if unknown:
            raise ValueError(f"{unknown} are not values of {axis.name}; its values are {list(axis.labels)}.")
        if not values:
            self.clear()
            return
        terms = tuple((axis.predicates[axis.labels.index(v)],) for v in dict.fromkeys(values))
        self._set_clause(Clause(self.source, terms))

    def _handle_message(self, content: dict[str, Any]) -> None:
        if content.get("type") != "brush":
            return
        plot = str(content.get("plot", ""))
        if plot == "feature" and "categories" in content:
            shown = [
                self.feature_labels[int(i)]
                for i in content["categories"]
                if 0 <= int(i) < len(self.feature_labels)
            ]
            self.select_categories(shown)
            return
        x = content.get("x") or []
        y = content.get("y") or None
        self.select_bins(plot, (int(x[0]), int(x[1])), (int(y[0]), int(y[1])) if y else None)

    @traitlets.observe("feature")
    def _feature_changed(self, change: dict[str, Any]) -> None:
        ev = getattr(self, "evaluation", None)
        if ev is None or change["new"] == change["old"]:
            return
        try:
            self._axis = feature_axis(ev, change["new"])
        except ValueError:
            self.feature = change["old"]  # not a feature: keep showing the one in force
            raise
        where = ev.selection.filter(exclude=self.source)
        with self.hold_sync(), ev.engine.serving(self.source):
            self._compute_feature(self._where_for("feature", where))
            self._highlight(self.clause)

    # -- recompute -----------------------------------------------------------------------------
    def _refresh(self, data_changed: bool = False, raise_errors: bool = False) -> None:
        clause = self.clause  # a new brush moves the two plots it is not on
        changed, self._own_clause = clause != getattr(self, "_own_clause", None), clause
        super()._refresh(data_changed or changed, raise_errors)

    def _where_for(self, plot: str, where: Filter) -> Filter:
        """The rows ``plot`` shows: every other view's selection (``where``), and this view's brush when
        another of its plots holds it (a plot shows its own brush as a highlight over all its rows)."""
        clause = self.clause
        if clause is None or self._brush_of(clause)["plot"] in ("", plot):
            return where
        return self.evaluation.selection.filter()

    def _compute(self, where: Filter) -> None:
        engine = self.evaluation.engine
        bins = self._bins
        self._density = engine.count(bins.density, self._where_for("density", where))
        n = bins.actual.bins
        counts = self._density.counts[:n, :n]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(counts > 0, self._density.sums[0][:n, :n] / counts, np.nan)
        self.density = as_buffer(counts, "u4")
        self.density_mean = as_buffer(mean, "f8")
        self._histogram = engine.count(bins.histogram, self._where_for("histogram", where)).counts
        self.histogram = as_buffer(self._histogram[: bins.residual.bins], "u4")
        self._compute_feature(self._where_for("feature", where))

    def _compute_feature(self, where: Filter) -> None:
        axis: FeatureAxis = self._axis
        self._feature = self.evaluation.engine.count(axis.plan(self._bins), where)
        table = feature_table(axis, self._feature)
        self.feature_kind = axis.kind
        if axis.kind == "numeric":
            b, r = axis.key.bins, self._bins.residual.bins
            self.feature_edges = as_buffer(axis.key.bin_edges(), "f8")
            self.feature_density = as_buffer(self._feature.counts[:b, :r], "u4")
            self.feature_missing = int(self._feature.counts[b].sum())
            self.feature_labels, self.feature_low, self.feature_high = [], b"", b""
        else:
            self.feature_edges, self.feature_density = b"", b""
            self.feature_missing = 0
            self.feature_labels = list(table[axis.name])
            self.feature_low = as_buffer(table["ci_low"].to_numpy(), "f8")
            self.feature_high = as_buffer(table["ci_high"].to_numpy(), "f8")
        self.feature_counts = as_buffer(table["count"].to_numpy(), "u4")
        self.feature_mean = as_buffer(table["mean_residual"].to_numpy(), "f8")

    def _highlight(self, clause: Clause | None) -> None:
        self.brush = self._brush_of(clause) if clause else dict(NO_BRUSH)

    def _brush_of(self, clause: Clause) -> dict[str, Any]:
        """The bins (or shown categories) the view's clause selects, if one of its plots made it."""
        bins, axis = self._bins, self._axis
        if len(clause.terms) > 1 or any(p.column == axis.name and p.op == "in" for p in clause.terms[0]):
            if axis.kind != "categorical" or not all(
                len(t) == 1 and t[0] in axis.predicates for t in clause.terms
            ):
                return dict(NO_BRUSH)
            codes = [axis.predicates.index(t[0]) for t in clause.terms]
            return {
                **NO_BRUSH,
                "plot": "feature",
                "categories": [axis.shown.index(c) for c in codes if c in axis.shown],
            }
        term = {p.column: p for p in clause.terms[0]}
        keys = {"density": (bins.actual, bins.predicted), "histogram": (bins.residual,)}
        if axis.kind == "numeric":
            keys["feature"] = (axis.key,)
        for plot, plot_keys in keys.items():
            if not set(term) <= {k.name for k in plot_keys}:
                continue
            ranges = [bins_of(k, term[k.name]) if k.name in term else (0, k.bins - 1) for k in plot_keys]
            if None not in ranges:
                brush = {**NO_BRUSH, "plot": plot, "x": list(ranges[0])}  # type: ignore[index]
                if plot == "density":
                    brush["y"] = list(ranges[1])  # type: ignore[index]
                return brush
        return dict(NO_BRUSH)


def _full_or(key: Any, bins: tuple[int, int]) -> Predicate | None:
    """A range of ``key``'s bins as a predicate; None when it covers every bin."""
    predicate = range_predicate(key, *bins)  # checks the bins are in range
    return None if predicate.values == (None, None) else predicate
