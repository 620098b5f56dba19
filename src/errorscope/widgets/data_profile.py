"""DataProfile: one small chart per feature (all rows, the rows the other views keep, the error per
bin), its figures (missing values, distinct values, summary statistics, outliers, drift), and the
association of the features; brush a chart, click an outlier count or a drift flag to select rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import traitlets

from .. import profile
from ..evaluation import Evaluation
from ..jobs import Job
from ..plans import ALL_ROWS, Filter, GroupingSets, Key, Marginals, Measure
from ..residuals import FeatureAxis, feature_axis, range_predicate
from ..selection import Clause, Predicate
from .base import LinkedView, as_buffer, is_regression

TOP_VALUES = 12  # a category's bars: its most frequent values, then "other", then "missing"
MATRIX_FEATURES = 20  # the matrix shows the features most associated with the error
STRONGEST_PAIRS = 10
NO_BRUSH: dict[str, Any] = {"feature": "", "kind": "", "cells": []}
BRUSH_KINDS = ("cells", "outliers_iqr", "outliers_z", "drift")


@dataclass(frozen=True)
class Chart:
    """How one feature is drawn: its cells (a number's bins, a category's top values, "other"; then
    "missing" last), which code of its key falls in which cell, and each cell's clause terms."""

    name: str
    axis: FeatureAxis
    labels: tuple[str, ...]
    cell_of_code: np.ndarray
    terms: tuple[tuple[tuple[Predicate, ...], ...], ...]

    @property
    def size(self) -> int:
        return len(self.labels)

    def cells(self, per_code: np.ndarray) -> np.ndarray:
        """Per-code counts (or sums) added up per cell."""
        return np.bincount(self.cell_of_code, weights=per_code, minlength=self.size)


def chart_of(ev: Evaluation, name: str) -> Chart:
    """The chart of feature ``name`` (see :class:`Chart`)."""
    axis = feature_axis(ev, name)
    size = ev.engine.key_size(axis.key)
    if axis.kind == "numeric":
        edges = axis.key.bin_edges()
        labels = (*(f"[{edges[i]:.4g}, {edges[i + 1]:.4g})" for i in range(axis.key.bins)), "missing")
        terms = tuple((range_predicate(axis.key, i, i),) for i in range(axis.key.bins))
        return Chart(
            name, axis, labels, np.arange(size), (*((t,) for t in terms), ((Predicate(name, "isna"),),))
        )
    all_counts = ev.engine.count(_column_plan(axis)).counts
    missing = [c for c, p in enumerate(axis.predicates) if p.op == "isna"]
    pooled = [c for c, p in enumerate(axis.predicates) if p.op == "not in"]  # the coding's own "other"
    present = [c for c in range(size) if c not in missing and c not in pooled and all_counts[c] > 0]
    present.sort(key=lambda c: -all_counts[c])
    top = present[:TOP_VALUES]
    rest = present[TOP_VALUES:] + [c for c in pooled if all_counts[c] > 0]
    cell_of_code = np.full(size, len(top) + bool(rest), dtype=np.int64)  # missing (and empty codes) last
    for cell, code in enumerate(top):
        cell_of_code[code] = cell
    cell_of_code[rest] = len(top)
    labels = tuple(axis.labels[c] for c in top) + (("other",) if rest else ()) + ("missing",)
    terms: list[tuple[tuple[Predicate, ...], ...]] = [((axis.predicates[c],),) for c in top]
    if rest:
        terms.append(tuple((axis.predicates[c],) for c in rest))
    terms.append(((Predicate(name, "isna"),),))
    return Chart(name, axis, labels, cell_of_code, tuple(terms))


def _column_plan(axis: FeatureAxis) -> Any:
    from ..plans import GroupCounts

    return GroupCounts((axis.key,))


class DataProfile(LinkedView):
    """The evaluation data, feature by feature, linked to every other view of the Evaluation.

    Each feature's chart shows all rows (outline), the rows the other views keep (filled) and the error
    among them per bin (classification: the share of wrong predictions; regression: the mean absolute
    error). Drag over a number's bins or click a category's bars (Shift: several) to select those rows;
    the chart holding the brush keeps showing it over the rows the other views keep while the other
    charts follow it. Outlier counts (IQR, |z| > 3) and a drifted feature's flag select their rows (the
    most shifted bins). ``table`` holds every feature's figures (:func:`errorscope.profile.profile_table`);
    the matrix shows the association of the features (on a sample of the kept rows: see
    :func:`errorscope.profile.pair_table`); a click on a cell brings the pair's charts to the top.
    """

    _bundle = "data_profile"
    error_measure = traitlets.Unicode("error rate").tag(sync=True)
    charts = traitlets.List(traitlets.Dict()).tag(sync=True)  # per feature, in the table's order
    edges = traitlets.Bytes(b"").tag(sync=True)  # f8 numbers' bin edges, at each chart's edges_offset
    all_counts = traitlets.Bytes(b"").tag(sync=True)  # u4 rows per cell, at each chart's offset
    kept_counts = traitlets.Bytes(b"").tag(sync=True)  # u4 rows the other views keep, per cell
    kept_error = traitlets.Bytes(b"").tag(sync=True)  # f8 error per cell among those (NaN: none)
    matrix_features = traitlets.List(traitlets.Unicode()).tag(sync=True)
    matrix = traitlets.Bytes(b"").tag(sync=True)  # f8 k x k strengths on the kept rows' sample
    matrix_rows = traitlets.Int(0).tag(sync=True)  # sample rows the matrix was measured on
    matrix_status = traitlets.Unicode("").tag(sync=True)  # "computing", "" or why it failed
    pairs = traitlets.List(traitlets.Dict()).tag(sync=True)  # strongest pairs (all rows' sample)
    has_train = traitlets.Bool(False).tag(sync=True)
    brush = traitlets.Dict(NO_BRUSH).tag(sync=True)
    focus = traitlets.List(traitlets.Unicode()).tag(sync=True)  # the matrix cell's pair, charts first

    def __init__(self, evaluation: Evaluation, **kwargs: Any) -> None:
        if isinstance(evaluation, Evaluation):
            if not evaluation.features:
                raise ValueError("DataProfile profiles the features: build the Evaluation with features.")
            self._table = profile.profile_table(evaluation)
            order = list(self._table["feature"])
            self._charts = {f: chart_of(evaluation, f) for f in order}
            offsets = np.cumsum([0] + [c.size for c in self._charts.values()])
            self._offsets = dict(zip(order, offsets[:-1].tolist(), strict=True))
            self._all = _cells(evaluation, self._charts, ALL_ROWS, order)
            kwargs.update(
                error_measure="mean absolute error" if is_regression(evaluation) else "error rate",
                has_train=getattr(evaluation, "train", None) is not None,
                charts=self._chart_payloads(evaluation),
                edges=as_buffer(self._edges(), "f8"),
                all_counts=as_buffer(np.concatenate([self._all[f][0] for f in order]), "u4"),
                pairs=_records(profile.pair_strength(profile.pair_table(evaluation)).head(STRONGEST_PAIRS)),
                matrix_features=order[:MATRIX_FEATURES],
            )
        self._brush_clause: Clause | None = None
        self._matrix_job: Job[tuple[np.ndarray, int]] | None = None
        self._matrix_key: Any = None
        super().__init__(evaluation, **kwargs)

    # -- what the view shows -------------------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        """One row per feature (see :func:`errorscope.profile.profile_table`), in the view's order."""
        return self._table.copy()

    def chart_table(self, feature: str) -> pd.DataFrame:
        """One feature's chart: per cell its label, rows, rows the other views keep and their error."""
        chart = self._chart(feature)
        at, n = self._offsets[feature], chart.size
        kept = np.frombuffer(self.kept_counts, dtype="<u4")[at : at + n].astype(np.int64)
        error = np.frombuffer(self.kept_error, dtype="<f8")[at : at + n]
        return pd.DataFrame(
            {"cell": list(chart.labels), "rows": self._all[feature][0].astype(np.int64), "kept": kept,
             "error": error}
        )  # fmt: skip

    @property
    def association_matrix(self) -> pd.DataFrame:
        """The matrix as shown: the strength of each pair on the kept rows' sample (1 on the diagonal)."""
        if self._matrix_job is not None:
            self._matrix_job.wait()
        k = len(self.matrix_features)
        values = np.frombuffer(self.matrix, dtype="<f8").reshape(k, k)
        return pd.DataFrame(values, index=self.matrix_features, columns=self.matrix_features)

    def to_figure(self) -> Any:
        from ..figures import profile_figure

        shown = list(self._charts)[:6]
        return profile_figure(
            [self.chart_table(f) for f in shown], shown, self.error_measure,
            f"Data profile ({self.n_rows:,} of {self.n_total:,} rows)",
        )  # fmt: skip

    def summary(self) -> str:
        table = self._table
        lines = [f"Data profile: {len(table)} features, {self.n_rows:,} of {self.n_total:,} rows kept"]
        for row in table.head(5).itertuples(index=False):
            drift = f", drift PSI {row.drift_psi:.3f} ({row.psi_verdict})" if self.has_train else ""
            lines.append(
                f"  {row.feature} ({row.type}): association with the error {row.assoc_error:.3f}, "
                f"missing {row.missing_share:.1%}{drift}"
            )
        if self.filter_text:
            lines.append(f"filtered by: {self.filter_text}")
        return "\n".join(lines)

    # -- selecting from code (the UI sends the same) -------------------------------------------
    def select_cells(self, feature: str, cells: list[int]) -> None:
        """Select the rows in ``cells`` of ``feature``'s chart: a number's bins (a range: the first to the
        last given) or "missing"; a category's bars (any of them)."""
        chart = self._chart(feature)
        cells = sorted({int(c) for c in cells})
        if not cells:
            self.clear()
            return
        if cells[0] < 0 or cells[-1] >= chart.size:
            raise ValueError(f"cells of {feature} run from 0 to {chart.size - 1}, got {cells}.")
        missing = chart.size - 1
        if chart.axis.kind == "numeric" and missing not in cells:
            predicate = range_predicate(chart.axis.key, cells[0], cells[-1])
            if predicate.values == (None, None):
                self.clear()
                return
            terms: tuple[tuple[Predicate, ...], ...] = ((predicate,),)
            cells = list(range(cells[0], cells[-1] + 1))
        else:
            terms = tuple(t for c in cells for t in chart.terms[c])
        self._brush(Clause(self.source, terms), {"feature": feature, "kind": "cells", "cells": cells})

    def select_outliers(self, feature: str, rule: str = "iqr") -> None:
        """Select ``feature``'s outliers by ``rule``: ``iqr`` (beyond 1.5 IQR of the quartiles) or ``z``
        (|z| > 3)."""
        if rule not in ("iqr", "z"):
            raise ValueError(f"rule must be 'iqr' or 'z', got {rule!r}.")
        if self._chart(feature).axis.kind != "numeric":
            raise ValueError(f"{feature} is categorical: outliers are counted for numeric features only.")
        bounds = profile.outlier_bounds(profile.value_counts(self.evaluation, feature))[rule]
        if not all(math.isfinite(b) for b in bounds):
            raise ValueError(f"{feature} has no spread: no row is an outlier by {rule}.")
        clause = profile.outlier_clause(self.source, feature, bounds)
        self._brush(clause, {"feature": feature, "kind": f"outliers_{rule}", "cells": []})

    def select_drift(self, feature: str) -> None:
        """Select the rows of ``feature``'s most shifted bins against the training rows (see
        :func:`errorscope.profile.shifted_clause`)."""
        self._chart(feature)
        if not self.has_train:
            raise ValueError(
                "drift needs the training rows: build the Evaluation with train=<the training frame>."
            )
        clause = profile.shifted_clause(self.evaluation, self.source, feature)
        if clause is None:
            raise ValueError(
                f"no bin of {feature} holds a larger share of the evaluation rows than of the training rows."
            )
        self._brush(clause, {"feature": feature, "kind": "drift", "cells": []})

    def focus_pair(self, a: str, b: str) -> None:
        """Show the charts of features ``a`` and ``b`` first (a matrix cell's pair)."""
        self._chart(a), self._chart(b)
        self.focus = list(dict.fromkeys([a, b]))

    def _brush(self, clause: Clause, brush: dict[str, Any]) -> None:
        self._brush_clause, self._pending_brush = clause, brush
        self._set_clause(clause)

    def _handle_message(self, content: dict[str, Any]) -> None:
        kind, feature = content.get("type"), str(content.get("feature", ""))
        if kind == "cells":
            self.select_cells(feature, [int(c) for c in content.get("cells") or []])
        elif kind == "outliers":
            self.select_outliers(feature, str(content.get("rule", "iqr")))
        elif kind == "drift":
            self.select_drift(feature)
        elif kind == "focus":
            self.focus_pair(feature, str(content.get("other", feature)))
        elif kind == "unfocus":
            self.focus = []

    def _chart(self, feature: str) -> Chart:
        if feature not in self._charts:
            raise ValueError(f"feature must be one of {list(self._charts)}, got {feature!r}.")
        return self._charts[feature]

    # -- recompute -----------------------------------------------------------------------------
    def _refresh(self, data_changed: bool = False, raise_errors: bool = False) -> None:
        clause = self.clause  # the own brush moves every chart but the brushed one
        changed, self._own_clause = clause != getattr(self, "_own_clause", None), clause
        super()._refresh(data_changed or changed, raise_errors)

    def _brushed_feature(self) -> str:
        clause = self.clause
        if clause is None or clause != self._brush_clause:
            return ""
        return str(getattr(self, "_pending_brush", NO_BRUSH)["feature"])

    def _compute(self, where: Filter) -> None:
        ev = self.evaluation
        order = list(self._charts)
        brushed = self._brushed_feature()
        full = ev.selection.filter() if self.clause is not None else where
        cells = _cells(ev, self._charts, full, [f for f in order if f != brushed])
        if brushed:
            cells.update(_cells(ev, self._charts, where, [brushed]))
        self.kept_counts = as_buffer(np.concatenate([cells[f][0] for f in order]), "u4")
        self.kept_error = as_buffer(np.concatenate([cells[f][1] for f in order]), "f8")
        self._start_matrix(full)

    def _start_matrix(self, where: Filter) -> None:
        """Measure the matrix on the kept rows' sample in the background (the charts do not wait)."""
        key = (where.stamp, self.evaluation.predictions_version)
        if key == self._matrix_key:
            return
        self._matrix_key = key
        ev, features = self.evaluation, list(self.matrix_features)
        sample = profile.feature_sample(ev)  # the query (SQL engines) on the kernel's thread
        sample = sample[profile.kept_in_sample(ev, where)] if not where.everything else sample

        kinds = {f: profile.feature_type(ev, f) for f in ev.features}

        def work(job: Job[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
            pairs = profile.pairs_of(ev, sample, kinds)
            job.check()
            return profile.association_matrix(ev, features, pairs), len(sample)

        def done(result: tuple[np.ndarray, int]) -> None:
            matrix, rows = result
            with self.hold_sync():
                self.matrix = as_buffer(matrix, "f8")
                self.matrix_rows = rows
                self.matrix_status = ""

        def failed(err: BaseException) -> None:
            self.matrix_status = f"{type(err).__name__}: {err}"

        self.matrix_status = "computing"
        self._matrix_job = ev.jobs.submit("matrix", work, owner=self, done=done, failed=failed)

    def _highlight(self, clause: Clause | None) -> None:
        if clause is not None and clause == self._brush_clause:
            self.brush = dict(getattr(self, "_pending_brush", NO_BRUSH))
        else:
            self.brush = dict(NO_BRUSH)

    # -- payloads ------------------------------------------------------------------------------
    def _edges(self) -> np.ndarray:
        parts = [c.axis.key.bin_edges() for c in self._charts.values() if c.axis.kind == "numeric"]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _chart_payloads(self, ev: Evaluation) -> list[dict[str, Any]]:
        rows = self._table.set_index("feature")
        payloads, edges_at = [], 0
        for name, chart in self._charts.items():
            figures = {k: _json(v) for k, v in rows.loc[name].items()}
            payload = {**figures, "feature": name, "kind": chart.axis.kind, "labels": list(chart.labels),
                       "offset": self._offsets[name], "size": chart.size, "edges_offset": -1}  # fmt: skip
            if chart.axis.kind == "numeric":
                payload["edges_offset"] = edges_at
                edges_at += chart.axis.key.bins + 1
            payloads.append(payload)
        return payloads

    def close(self) -> None:
        evaluation = getattr(self, "evaluation", None)
        if evaluation is not None:
            evaluation.jobs.cancel(owner=self)
        super().close()


def _cells(
    ev: Evaluation, charts_by_name: dict[str, Chart], where: Filter, features: list[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per feature: rows per cell and the error per cell among the rows ``where`` keeps."""
    if not features:
        return {}
    charts = [charts_by_name[f] for f in features]
    keys = tuple(c.axis.key for c in charts)
    out = {}
    if is_regression(ev):
        counted = ev.engine.grouping_sets(
            GroupingSets(tuple((k,) for k in keys), (Measure("abs_error"),)), where
        )
        per_code = [(c.counts.astype(np.float64), c.sums[0]) for c in counted]
    else:
        tables = ev.engine.marginals(Marginals(keys, (Key.outcome(None),)), where)
        per_code = [(t.sum(axis=1).astype(np.float64), t[:, 1].astype(np.float64)) for t in tables]
    for chart, (rows, errors) in zip(charts, per_code, strict=True):
        n, e = chart.cells(rows), chart.cells(errors)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[chart.name] = (n.astype(np.int64), np.where(n > 0, e / n, np.nan))
    return out


def _json(value: Any) -> Any:
    """A table value as JSON takes it: NaN and missing as None, numpy scalars as Python's."""
    if value is None or (isinstance(value, float | np.floating) and not np.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _json(v) for k, v in row.items()} for row in table.to_dict("records")]
