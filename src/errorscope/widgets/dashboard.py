"""``es.dashboard(ev)``: every view of one Evaluation, linked, in one responsive layout."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from ..evaluation import Evaluation
from ..memory import check_dashboard_memory
from . import base
from .confusion_matrix import ConfusionMatrix
from .error_tagger import ErrorTagger
from .force_viewer import ForceViewer
from .group_comparer import GroupComparer
from .model_comparer import ModelComparer
from .overview import ModelOverview, SelectionBar
from .residual_plot import ResidualPlot
from .slice_browser import SliceBrowser

GRID = "repeat(auto-fit, minmax(min(100%, 600px), 1fr))"  # two columns at 1280 px, one in a narrow column


class Dashboard(widgets.VBox):
    """The model overview, the selection bar and the five views over one Evaluation, linked. On a
    regression the residual plot takes the confusion matrix's place; with several models a model
    comparer (the first two) comes after it.

    ``check_memory``: estimate the memory the views need first and raise a MemoryError that says what to
    do when it would not fit (see :mod:`errorscope.memory`).

    Its views are attributes (``overview``, ``selection_bar``, ``confusion_matrix`` or, on a regression,
    ``residual_plot``, ``model_comparer``, ``slice_browser``, ``group_comparer``, ``force_viewer``,
    ``tagger``); a view that
    does not apply (no sensitive columns, no model for explanations) is None and the dashboard says why.
    """

    def __init__(
        self,
        evaluation: Evaluation,
        groups: str | Sequence[str] | None = None,
        store: str | os.PathLike[str] | None = None,
        tags: str | Sequence[str] = ("mislabeled", "ambiguous", "needs data"),
        explainer: str = "shap",
        positive_class: Any = None,
        check_memory: bool = True,
    ) -> None:
        if not isinstance(evaluation, Evaluation):
            raise TypeError(
                f"dashboard needs an errorscope Evaluation, got {type(evaluation).__name__}: "
                "build one with es.Evaluation(data, y_true, ...)."
            )
        ev = evaluation
        if check_memory:  # say so before building, rather than dying inside pandas
            # on a SQL engine the rows stay in the engine: the views hold no per-row arrays
            rows = ev.n_rows if ev.in_memory else 0
            check_dashboard_memory(rows, len(ev.columns) + 3)
        self.evaluation = ev
        notes: list[widgets.HTML] = []
        if ev.in_memory:  # every view slices the same columns: code them first, two at a time
            wanted = [*ev.features, *ev.metadata, *ev.sensitive, *ev.derived]
            ev.engine.code_ahead([c for c in wanted if c != ev.text_column])
        # the tagger first: attaching its store refreshes every view already built on the Evaluation
        self.tagger = ErrorTagger(ev, store=store, tags=tags)
        self.overview = ModelOverview(ev)
        self.selection_bar = SelectionBar(ev)
        self.confusion_matrix: ConfusionMatrix | None = None
        self.residual_plot: ResidualPlot | None = None
        if base.is_regression(ev):
            self.residual_plot = ResidualPlot(ev)
        else:
            self.confusion_matrix = ConfusionMatrix(ev)
        self.model_comparer = ModelComparer(ev) if len(ev.models) > 1 else None
        self.slice_browser = SliceBrowser(ev)
        self.group_comparer: GroupComparer | None = None
        if groups is not None or ev.sensitive:
            positive = (
                None  # a regression has no positive class
                if base.is_regression(ev)
                else positive_class
                if positive_class is not None or ev.positive_code is not None
                else ev.class_names[0]
            )
            self.group_comparer = GroupComparer(ev, groups=groups, positive_class=positive)
        else:
            notes.append(
                _note_card(
                    "Group comparer",
                    "No group comparison: pass sensitive= to the Evaluation or groups= here.",
                )
            )
        self.force_viewer: ForceViewer | None = None
        if ev.model is not None and (base.is_regression(ev) or hasattr(ev.model, "predict_proba")):
            self.force_viewer = ForceViewer(ev, explainer=explainer)
        else:
            needs = (
                "no model (pass model= to the Evaluation)"
                if base.is_regression(ev)
                else "no model with predict_proba"
            )
            notes.append(_note_card("Force viewer", f"No explanations: the Evaluation has {needs}."))
        wide = widgets.Layout(grid_column="1 / -1")
        for view in (self.slice_browser, self.force_viewer):
            if view is not None:
                view.layout = wide
        cells = [
            v
            for v in (
                self.confusion_matrix,
                self.residual_plot,
                self.model_comparer,
                self.group_comparer,
                self.slice_browser,
                self.force_viewer,
                self.tagger,
                *notes,  # a view that does not apply says why, in a card of its own
            )
            if v is not None
        ]
        for cell in cells:  # a grid item may shrink below its content: wide tables scroll inside it
            cell.layout.min_width = "0"
        grid = widgets.GridBox(
            cells, layout=widgets.Layout(grid_template_columns=GRID, grid_gap="10px", width="100%")
        )
        children: list[widgets.Widget] = [self.overview, self.selection_bar, grid]
        super().__init__(children=children, layout=widgets.Layout(width="100%"))

    @property
    def views(self) -> list[Any]:
        """Every linked view in the dashboard (those built so far, if building it failed)."""
        names = ("overview", "selection_bar", "confusion_matrix", "residual_plot", "model_comparer",
                 "slice_browser", "group_comparer", "force_viewer", "tagger")  # fmt: skip
        return [v for v in (getattr(self, name, None) for name in names) if v is not None]

    def summary(self) -> str:
        return "\n\n".join(v.summary() for v in self.views if type(v).summary is not base.LinkedView.summary)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if base.STATIC_FALLBACK and isinstance(data, dict):
            from ..figures import png_bytes

            figure = (self.residual_plot or self.slice_browser).to_figure()  # a regression: its residuals
            data["image/png"] = base64.b64encode(png_bytes(figure)).decode("ascii")
            data["text/plain"] = self.summary()
        return bundle

    def close(self) -> None:
        for view in self.views:
            view.close()
        super().close()


def dashboard(evaluation: Evaluation, **kwargs: Any) -> Dashboard:
    """All the views of ``evaluation``, linked, in one layout (see :class:`Dashboard` for the options)."""
    return Dashboard(evaluation, **kwargs)


def _note_card(region: str, text: str) -> widgets.HTML:
    """A card in the grid, styled like the views, saying why ``region`` is not shown (fixed text, no data)."""
    style = (
        "border:1px solid var(--jp-border-color2,#ddd);border-radius:4px;padding:8px 10px;"
        "background:var(--jp-layout-color0,#fff);color:var(--jp-ui-font-color1,#333);"
        "font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:var(--jp-ui-font-size1,13px)"
    )
    return widgets.HTML(
        value=f'<div role="note" aria-label="{region}: not shown" style="{style}">'
        f'<div style="font-weight:600;margin-bottom:4px">{region}</div>{text}</div>'
    )
