"""ConfusionMatrix: actual vs predicted, counts or normalised, per-class metrics; click to select."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import traitlets

from ..evaluation import Evaluation
from ..metrics import ClassMetrics
from ..plans import CONFUSION, Filter
from ..selection import Clause, cells_clause
from .base import LinkedView, as_buffer

NORMALIZE = ("none", "recall", "precision")


class ConfusionMatrix(LinkedView):
    """Explorer of actual vs predicted classes, linked to every other view of the Evaluation.

    Click a cell to select actual=a AND predicted=p, a row or column header to select a class,
    modifier-click to add (OR); Escape clears. For binary scores, a threshold slider moves the
    decision threshold of the whole Evaluation.

    ``normalize``: "none" (counts), "recall" (row %) or "precision" (column %).
    ``order``: "class" or "errors" (classes with most misclassified rows first).
    """

    _bundle = "confusion_matrix"
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    counts = traitlets.Bytes(b"").tag(sync=True)
    precision = traitlets.Bytes(b"").tag(sync=True)
    recall = traitlets.Bytes(b"").tag(sync=True)
    f1 = traitlets.Bytes(b"").tag(sync=True)
    support = traitlets.Bytes(b"").tag(sync=True)
    accuracy = traitlets.Float(None, allow_none=True).tag(sync=True)
    positive_label = traitlets.Unicode("").tag(sync=True)  # the Evaluation's positive class, shown
    selected = traitlets.Dict({"cells": [], "actual": [], "predicted": []}).tag(sync=True)
    normalize = traitlets.Enum(NORMALIZE, "none").tag(sync=True)
    order = traitlets.Enum(("class", "errors"), "class").tag(sync=True)
    threshold = traitlets.Float(None, allow_none=True).tag(sync=True)
    show_threshold = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self, evaluation: Evaluation, normalize: str = "none", order: str = "class", **kwargs: Any
    ) -> None:
        if normalize not in NORMALIZE:
            raise ValueError(f"normalize must be one of {NORMALIZE}, got {normalize!r}.")
        if order not in ("class", "errors"):
            raise ValueError(f"order must be 'class' or 'errors', got {order!r}.")
        if getattr(evaluation, "is_regression", False):
            raise ValueError(
                "ConfusionMatrix needs classes; this Evaluation is a regression (a numeric target): use "
                "es.ResidualPlot(ev) for predicted against actual and the residuals."
            )
        self._counts = np.zeros((0, 0), dtype=np.int64)
        super().__init__(
            evaluation,
            normalize=normalize,
            order=order,
            classes=list(getattr(evaluation, "class_names", [])),
            positive_label=getattr(evaluation, "positive_name", None) or "",
            show_threshold=getattr(evaluation, "is_binary", False)
            and getattr(evaluation, "pred_from_scores", False),
            **kwargs,
        )

    # -- what the view shows -------------------------------------------------------------------
    @property
    def matrix(self) -> pd.DataFrame:
        """The counts as a k x k DataFrame (index: actual, columns: predicted), as shown."""
        names = pd.Index(self.evaluation.class_names)
        return pd.DataFrame(self._counts, index=names.rename("actual"), columns=names.rename("predicted"))

    @property
    def class_metrics(self) -> pd.DataFrame:
        """Per-class precision, recall, F1 and support on the rows the view is computed on."""
        m = ClassMetrics.from_counts(self._counts)
        return pd.DataFrame(
            {"precision": m.precision, "recall": m.recall, "f1": m.f1, "support": m.support},
            index=pd.Index(self.evaluation.class_names, name="class"),
        )

    @property
    def table(self) -> pd.DataFrame:
        """One row per cell: counts, row share (recall), column share (precision), selected."""
        k = len(self.evaluation.classes)
        counts = self._counts
        with np.errstate(divide="ignore", invalid="ignore"):
            row_share = counts / counts.sum(axis=1, keepdims=True)
            col_share = counts / counts.sum(axis=0, keepdims=True)
        actual, predicted = np.divmod(np.arange(k * k), k)
        names = np.asarray(self.evaluation.class_names, dtype=object)
        clause_mask = self._selected_cells()
        return pd.DataFrame(
            {
                "actual": names[actual],
                "predicted": names[predicted],
                "count": counts.ravel(),
                "share_of_actual": row_share.ravel(),
                "share_of_predicted": col_share.ravel(),
                "selected": clause_mask.ravel(),
            }
        )

    @property
    def accuracy_value(self) -> float:
        return ClassMetrics.from_counts(self._counts).accuracy

    def to_figure(self) -> Any:
        """The matrix as a matplotlib heatmap (counts on the rows the view is computed on)."""
        from ..figures import confusion_figure

        title = f"Confusion matrix ({self.n_rows:,} of {self.n_total:,} rows)"
        return confusion_figure(self._counts, self.evaluation.class_names, title)

    def summary(self) -> str:
        counts = self._counts.copy()
        np.fill_diagonal(counts, 0)
        lines = [
            f"Confusion matrix: accuracy {self.accuracy_value:.1%} on {self.n_rows:,} of {self.n_total:,} rows"
            + (f"; positive class {self.positive_label}" if self.positive_label else "")
        ]
        if counts.sum():
            a, p = np.unravel_index(np.argmax(counts), counts.shape)
            names = self.evaluation.class_names
            lines.append(
                f"most frequent error: actual {names[a]}, predicted {names[p]} ({counts[a, p]:,} rows)"
            )
        if self.filter_text:
            lines.append(f"filtered by: {self.filter_text}")
        return "\n".join(lines)

    # -- selecting from code (the UI sends the same) -------------------------------------------
    def select_cells(
        self,
        cells: list[tuple[int, int]] | None = None,
        actual: list[int] | None = None,
        predicted: list[int] | None = None,
    ) -> None:
        """Select cells (actual, predicted) and/or whole actual rows and predicted columns, by index."""
        k = len(self.evaluation.classes)
        cells = [(int(a), int(p)) for a, p in (cells or [])]
        actual, predicted = [int(a) for a in actual or []], [int(p) for p in predicted or []]
        for i in [*actual, *predicted, *(x for c in cells for x in c)]:
            if not 0 <= i < k:
                raise ValueError(f"class index {i} is out of range for {k} classes.")
        ev = self.evaluation
        self._set_clause(cells_clause(self.source, ev.classes, cells, actual, predicted, ev.role_names()))

    def _handle_message(self, content: dict[str, Any]) -> None:
        if content.get("type") == "select":
            self.select_cells(
                cells=[tuple(c) for c in content.get("cells", [])],
                actual=content.get("actual", []),
                predicted=content.get("predicted", []),
            )

    # -- recompute -----------------------------------------------------------------------------
    def _compute(self, where: Filter) -> None:
        ev = self.evaluation
        self._counts = ev.engine.count(CONFUSION, where).counts
        m = ClassMetrics.from_counts(self._counts)
        self.counts = as_buffer(self._counts, "u4")
        self.precision = as_buffer(m.precision, "f8")
        self.recall = as_buffer(m.recall, "f8")
        self.f1 = as_buffer(m.f1, "f8")
        self.support = as_buffer(m.support, "u4")
        self.accuracy = None if np.isnan(m.accuracy) else m.accuracy
        if ev.is_binary and ev.pred_from_scores:
            self.threshold = ev.threshold

    def _highlight(self, clause: Clause | None) -> None:
        selected: dict[str, list[Any]] = {"cells": [], "actual": [], "predicted": []}
        index = {c: i for i, c in enumerate(self.evaluation.classes)}
        for term in clause.terms if clause else ():
            roles = {p.role: index.get(p.values[0]) for p in term if p.op == "in" and not p.negated}
            if None in roles.values() or not roles.keys() <= {"actual", "predicted"}:
                continue  # a clause set from code under this view's name: nothing to highlight
            if len(roles) == 2:
                selected["cells"].append([roles["actual"], roles["predicted"]])
            elif "actual" in roles:
                selected["actual"].append(roles["actual"])
            else:
                selected["predicted"].append(roles["predicted"])
        self.selected = selected

    def _selected_cells(self) -> np.ndarray:
        k = len(self.evaluation.classes)
        out = np.zeros((k, k), dtype=bool)
        for a, p in self.selected.get("cells", []):
            out[a, p] = True
        out[self.selected.get("actual", []), :] = True
        out[:, self.selected.get("predicted", [])] = True
        return out

    @traitlets.observe("threshold")
    def _threshold_from_ui(self, change: dict[str, Any]) -> None:
        ev = getattr(self, "evaluation", None)
        value = change["new"]
        if ev is not None and value is not None and value != ev.threshold and self.show_threshold:
            try:
                ev.threshold = value
            except (TypeError, ValueError):
                self.threshold = ev.threshold  # keep the view consistent with the Evaluation
                raise
