"""What every linked view shares: its selection source, crossfilter recompute, and its front-end bundle."""

from __future__ import annotations

import base64
import functools
import logging
import warnings
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import pandas as pd
import traitlets

from ..evaluation import OUTCOME_COLUMNS, TAG_ROLE, Evaluation
from ..plans import Filter
from ..selection import Clause, SelectionChange

STATIC = Path(__file__).resolve().parent.parent / "static"
logger = logging.getLogger("errorscope")
STATIC_FALLBACK = True
"""Add a PNG and a text summary to each view's display output, for front-ends without widgets (nbviewer,
GitHub, PDF). Set ``errorscope.widgets.base.STATIC_FALLBACK = False`` to skip making them."""


@functools.cache
def static_asset(name: str) -> str:
    """The text of a built front-end file, with a clear error when the bundle was never built."""
    path = STATIC / name
    if not path.is_file():
        raise FileNotFoundError(
            f"errorscope's front-end bundle {path} is missing. Install the package with "
            "`pip install .` (which builds it), or build it with `cd js && npm ci && npm run build`."
        )
    return path.read_text(encoding="utf-8")


def display_text(value: Any) -> str:
    """A data value as the text a view shows (the browser sets it with textContent, never as markup)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def value_text(value: float, signed: bool = False) -> str:
    """A number in the target's units as the browser's ``formatSignificant`` shows it: four significant
    digits (75.04, 154.7, 212, 1235, 0.01234), a true minus sign, and with ``signed`` a "+" on positives
    (residuals)."""
    value = float(value)
    if not np.isfinite(value):
        return "–"
    rounded = float(f"{value:.4g}")
    text = f"{abs(rounded):.0f}" if abs(rounded) >= 1e4 else repr(abs(rounded)).removesuffix(".0")
    return ("\u2212" if rounded < 0 else "+" if signed and rounded > 0 else "") + text


def outcome_rows(ev: Evaluation, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows fetched from the engine (``engine.fetch``) as the views' row records: id (text), actual and
    predicted class names, wrong, and score (the predicted class's probability; None without scores)."""

    def column(name: str) -> pd.Series:
        return frame[name if name not in ev.columns else f"es_{name}"]

    classes = pd.Index(ev.classes, dtype=object)
    actual = classes.get_indexer(pd.Index(column("actual").to_numpy(dtype=object)))
    predicted = classes.get_indexer(pd.Index(column("predicted").to_numpy(dtype=object)))
    score: list[Any] = [None] * len(frame)
    if ev.has_scores:
        values = column("score").to_numpy(dtype=np.float64)
        if ev.is_binary:  # the score is the positive class's probability
            values = np.where(predicted == 1, values, 1.0 - values)
        score = [float(v) for v in values]
    names = ev.class_names
    return [
        {"id": str(i), "actual": names[a], "predicted": names[p], "wrong": bool(a != p), "score": s}
        for i, a, p, s in zip(column("id").tolist(), actual, predicted, score, strict=True)
    ]


def is_regression(ev: Evaluation) -> bool:
    """Whether ``ev`` is a regression (an Evaluation on a SQL engine that does not name its task yet is a
    classification)."""
    return getattr(ev, "task", "classification") == "regression"


def regression_rows(ev: Evaluation, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A regression's rows fetched from the engine as row records: id (text), actual, predicted and
    residual (prediction - actual) as numbers."""

    def column(name: str) -> list[float]:
        return [
            float(v)
            for v in frame[name if name not in ev.columns else f"es_{name}"].to_numpy(dtype=np.float64)
        ]

    ids = frame["id" if "id" not in ev.columns else "es_id"].tolist()
    return [
        {"id": str(i), "actual": a, "predicted": p, "residual": r}
        for i, a, p, r in zip(ids, column("actual"), column("predicted"), column("residual"), strict=True)
    ]


def as_buffer(values: np.ndarray, dtype: str) -> bytes:
    """A numpy array as little-endian bytes: the binary form arrays take to the browser."""
    return np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()


class LinkedView(anywidget.AnyWidget):
    """A view over an Evaluation: computed on every clause but its own, highlighting its own.

    Subclasses set ``_bundle`` (the name of their built ES module) and implement ``_compute(where)``
    (set the traits from the rows the :class:`~errorscope.plans.Filter` ``where`` keeps) and ``_highlight(clause)``.
    """

    _bundle: str = ""
    _reads_tags: bool = False  # whether the view shows tags (then it recomputes when one is written)
    n_rows = traitlets.Int(0).tag(sync=True)
    n_total = traitlets.Int(0).tag(sync=True)
    clause_text = traitlets.Unicode("").tag(sync=True)
    filter_text = traitlets.Unicode("").tag(sync=True)
    outcome_filter = traitlets.Unicode("").tag(sync=True)  # the filter's clauses defined by the outcome
    error = traitlets.Unicode("").tag(sync=True)  # why the last recompute failed ("" when it did not)
    models = traitlets.List(traitlets.Unicode()).tag(sync=True)  # several models: the picker's choices
    active_model = traitlets.Unicode("").tag(sync=True)  # the model the view shows

    def __init__(self, evaluation: Evaluation, **kwargs: Any) -> None:
        if not isinstance(evaluation, Evaluation):
            raise TypeError(
                f"{type(self).__name__} needs an errorscope Evaluation, got "
                f"{type(evaluation).__name__}: build one with es.Evaluation(data, y_true, ...)."
            )
        self._esm = static_asset(f"{self._bundle}.js")
        css = STATIC / f"{self._bundle}.css"
        if css.is_file():
            self._css = static_asset(f"{self._bundle}.css")
        super().__init__(**kwargs)
        self.evaluation = evaluation
        self.source = evaluation._register_source(type(self).__name__)
        self._filter_key: tuple[Any, ...] | None = None
        self.n_total = evaluation.n_rows
        evaluation.selection.observe(self._on_selection)
        self._stop_progress = evaluation.engine.listen_progress(self._on_progress)
        self.on_msg(self._on_message)
        self._refresh(data_changed=True, raise_errors=True)

    # -- selection plumbing --------------------------------------------------------------------
    @property
    def clause(self) -> Clause | None:
        """This view's own clause, if it has one."""
        return self.evaluation.selection.clause(self.source)

    def clear(self) -> None:
        """Remove this view's clause."""
        self.evaluation.selection.remove(self.source)

    def _set_clause(self, clause: Clause) -> None:
        self.evaluation.selection.set(clause)

    def _on_selection(self, change: SelectionChange) -> None:
        data_changed = change.kind == "data" and (
            change.columns is None or self._reads_tags or bool(change.columns - {TAG_ROLE})
        )  # a tag written moves only views that show tags, and those whose rows a tag clause moved
        self._refresh(data_changed=data_changed)

    def _refresh(self, data_changed: bool = False, raise_errors: bool = False) -> None:
        """Recompute when the rows this view sees changed; always update its own highlight.

        A failure to recompute (after the view was built) is shown in the view and warned about; it never
        stops the other views from following the selection.
        """
        selection = self.evaluation.selection
        key = selection.stamp(exclude=self.source)
        with self.hold_sync():
            ev = self.evaluation
            self.models = ev.models if len(ev.models) > 1 else []
            self.active_model = ev.active_model
            if data_changed or key != self._filter_key:
                self._filter_key = key
                where = selection.filter(exclude=self.source)
                engine = self.evaluation.engine
                self.filter_text = selection.text(exclude=self.source)
                self.outcome_filter = " and ".join(
                    c.text
                    for s, c in selection.clauses.items()
                    if s != self.source and c.columns & OUTCOME_COLUMNS
                )
                try:
                    with engine.serving(self.source):  # its plans: answered ahead on the next change
                        self.n_rows = engine.n_kept(where)
                        self._compute(where)
                except Exception as exc:
                    if raise_errors:
                        raise
                    self._show_error(exc)
                else:
                    self.error = ""
            clause = self.clause
            self.clause_text = clause.text if clause else ""
            self._highlight(clause)

    def _on_progress(self, percent: float | None) -> None:
        """A long query's percent done (None: it ended), sent as a message (a trait would wait for the
        recompute's held sync): the view shows a progress bar over what it shows now."""
        self.send({"type": "progress", "percent": None if percent is None else round(percent, 1)})

    def _show_error(self, exc: Exception) -> None:
        """Say in the view, in a warning and in the log that it could not follow the selection."""
        self.error = f"{type(exc).__name__}: {exc}"
        logger.error("%s could not recompute", type(self).__name__, exc_info=exc)
        warnings.warn(
            f"{type(self).__name__} could not recompute for the selection ({self.error}); the other views "
            "were updated. Please report this with the selection's text.",
            RuntimeWarning,
            stacklevel=2,
        )

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "clear":
            self.clear()
        elif content.get("type") == "active_model":  # the picker: every view follows
            model = content.get("model")
            if model in self.evaluation.models:
                self.evaluation.active_model = model
        else:
            self._handle_message(content)

    def close(self) -> None:
        evaluation = getattr(self, "evaluation", None)  # absent when __init__ failed early
        if evaluation is not None:
            self._stop_progress()
            evaluation.selection.unobserve(self._on_selection)
            evaluation.engine.drop_consumer(self.source)
        super().close()

    # -- static fallback -----------------------------------------------------------------------
    def to_figure(self) -> Any:
        """The view as a matplotlib Figure (what it shows now), for reports."""
        raise NotImplementedError

    def summary(self) -> str:
        """What the view shows now, in a few lines of text."""
        return repr(self)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)  # anywidget: (data, metadata)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if not STATIC_FALLBACK or not isinstance(data, dict):
            return bundle
        from ..figures import png_bytes

        try:
            figure = self.to_figure()
        except NotImplementedError:
            return bundle
        data["image/png"] = base64.b64encode(png_bytes(figure)).decode("ascii")
        data["text/plain"] = self.summary()
        return bundle

    # -- for subclasses ------------------------------------------------------------------------
    def _compute(self, where: Filter) -> None:
        raise NotImplementedError

    def _highlight(self, clause: Clause | None) -> None:
        raise NotImplementedError

    def _handle_message(self, content: dict[str, Any]) -> None:
        raise NotImplementedError
