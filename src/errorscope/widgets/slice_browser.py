"""SliceBrowser: where the model fails (slices ranked, discovered conjunctions), and the rows behind it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import traitlets

from ..compare_models import prediction_clauses, withheld_note
from ..comparison import differing_features, distribution, feature_counts, rank_features
from ..discovery import DiscoveryCancelled, discover_slices
from ..evaluation import Evaluation
from ..jobs import Job
from ..model_slices import check_pair, model_slice_table
from ..plans import ALL_ROWS, Filter, RowPage
from ..ranking import ORDERS, REGRESSION_ORDERS
from ..regression import METRICS as REGRESSION_METRICS
from ..selection import Clause, Predicate
from ..slicing import (
    METRIC_NAMES,
    METRICS,
    check_slice_metric,
    default_metric,
    default_min_support,
    feature_family,
    positive_class_code,
    slice_table,
)
from .base import LinkedView, as_buffer, display_text, value_text

TABS = ("slices", "discovered", "rows", "compare", "models")
SORTABLE = (
    "feature",
    "slice",
    "size",
    "share",
    "errors",
    "value",
    "rest",
    "difference",
    "ratio",
    "lift",
    "p_adjusted",
)
RANKINGS = ("value", "rest", "difference", "ratio", "lift", "p_adjusted")  # unsupported slices rank last
GROUPS = ("feature", "outcome")  # listed in this order: feature slices first
Term = tuple[Predicate, ...]
REGRESSION_SLICE_NAMES = {
    "errors": "b_worse", "error_rate": "b_worse_rate", "rest_error_rate": "rest_b_worse_rate",
    "holdout_error_rate": "holdout_b_worse_rate",
}  # fmt: skip


class SliceBrowser(LinkedView):
    """Slices of the data ranked by how badly the model does there, linked to every other view.

    Tabs: **slices** (every value, bin, period, score and class slice; sortable, filterable, paged),
    **discovered** (conjunctions of up to ``max_level`` predicates found in the background, see
    :mod:`errorscope.discovery`), **rows** (the selection's rows, worst first) and **compare** (how the
    selection differs from the rest, feature by feature), and with two or more models **models**: a pair
    (A, B) compared on every slice (:mod:`errorscope.model_slices`: each one's error rate or MAE, B - A,
    McNemar's exact test or the paired t-test, Benjamini-Hochberg), B worse first, and under it the
    conjunctions discovery finds where B is worse than A (:meth:`discover_regressions`); ``model_a`` and
    ``model_b`` name the pair (default: the first two models; :meth:`compare_models` or the pickers change
    it), and the table is computed when the tab is shown or :attr:`model_table` is read. Click a slice to
    select it, modifier-click to add it (OR); Escape clears.

    ``metric``: "error_rate", "fpr", "fnr" or "log_loss" (the last needs scores; rates need a
    ``positive_class`` when there are more than two classes); on a regression "mae" (the default),
    "rmse" or "mean_error" (the mean residual, prediction - actual; ranked by its absolute value, so
    over- and under-predicted slices both rank high). A regression's table has no errors and no lift
    (see :mod:`errorscope.slicing`), its slices include bins of the actual and predicted values and of
    the residual, and its rows tab orders by |residual|, over- or under-prediction, or stratified random
    (:data:`errorscope.ranking.REGRESSION_ORDERS`), showing actual, predicted and residual.
    ``bins``: {column: edges or a number of quantile bins}, applied to the Evaluation (every view sees
    them).

    Feature slices are listed first, slices of the model's output, the classes and tags after them in
    their own group; slices with fewer than ``min_support`` rows (default max(10, 0.5% of the rows))
    rank after the others. When the other views' selection is defined by the outcome (it reads the
    actual or predicted class, the score or a tag), every slice of it may be all errors, so the view
    ranks by lift (share of the selected errors over share of all rows) and says so
    (``outcome_selection``). See :mod:`errorscope.slicing`.
    """

    _bundle = "slice_browser"
    _reads_tags = True
    tab = traitlets.Enum(TABS, "slices").tag(sync=True)
    metric = traitlets.Enum((*METRICS, *REGRESSION_METRICS), "error_rate").tag(sync=True)
    task = traitlets.Unicode("classification").tag(sync=True)  # "regression": values in the target's units
    metrics = traitlets.List(traitlets.List(traitlets.Unicode())).tag(sync=True)
    sort_by = traitlets.Enum(SORTABLE, "value").tag(sync=True)
    descending = traitlets.Bool(True).tag(sync=True)
    feature_filter = traitlets.Unicode("").tag(sync=True)
    page = traitlets.Int(0).tag(sync=True)
    page_size = traitlets.Int(15).tag(sync=True)
    n_slices = traitlets.Int(0).tag(sync=True)
    outcome_selection = traitlets.Bool(False).tag(sync=True)
    min_rows = traitlets.Int(0).tag(sync=True)
    slice_page = traitlets.Dict().tag(sync=True)
    selected_slices = traitlets.List(traitlets.Int()).tag(sync=True)
    discovered = traitlets.Dict().tag(sync=True)
    selected_discovered = traitlets.List(traitlets.Int()).tag(sync=True)
    discovery_status = traitlets.Unicode("idle").tag(sync=True)
    discovery_progress = traitlets.Float(0.0).tag(sync=True)
    row_order = traitlets.Enum(tuple(dict.fromkeys((*ORDERS, *REGRESSION_ORDERS))), "loss").tag(sync=True)
    rows_page = traitlets.Int(0).tag(sync=True)
    rows_page_size = traitlets.Int(10).tag(sync=True)
    n_selected = traitlets.Int(0).tag(sync=True)
    rows = traitlets.Dict().tag(sync=True)
    compare_feature = traitlets.Unicode("").tag(sync=True)
    comparison = traitlets.Dict().tag(sync=True)
    positive_label = traitlets.Unicode("").tag(sync=True)  # the class FPR and FNR are about
    model_a = traitlets.Unicode("").tag(sync=True)  # the pair the models tab compares
    model_b = traitlets.Unicode("").tag(sync=True)
    model_slices = traitlets.Dict().tag(sync=True)
    model_note = traitlets.Unicode("").tag(sync=True)  # why the p-values are withheld ("" when they are not)
    regressions = traitlets.Dict().tag(sync=True)
    selected_regressions = traitlets.List(traitlets.Int()).tag(sync=True)
    regressions_status = traitlets.Unicode("idle").tag(sync=True)
    regressions_progress = traitlets.Float(0.0).tag(sync=True)

    def __init__(
        self,
        evaluation: Evaluation,
        metric: str | None = None,
        positive_class: Any = None,
        bins: dict[str, Any] | None = None,
        max_level: int = 3,
        min_support: int | None = None,
        discover: bool = True,
        **kwargs: Any,
    ) -> None:
        self._regression = isinstance(evaluation, Evaluation) and evaluation.is_regression
        if isinstance(evaluation, Evaluation):
            metric = default_metric(evaluation) if metric is None else metric
            check_slice_metric(evaluation, metric)
            if "row_order" in kwargs:
                _check_row_order(self._regression, kwargs["row_order"])
            for column, edges in (bins or {}).items():
                evaluation.set_bins(column, edges)
            if metric == "log_loss" and not evaluation.has_scores:
                raise ValueError(
                    "metric='log_loss' needs scores: build the Evaluation with y_score= or a model."
                )
        self.positive_class = positive_class
        self.max_level, self.min_support = max_level, min_support
        self._auto_discover = discover
        self._table = pd.DataFrame()
        self._shown = pd.DataFrame()
        self._discovered = pd.DataFrame()
        self._where: Filter = ALL_ROWS
        self._job: Job[pd.DataFrame] | None = None
        self._model_table = pd.DataFrame()
        self._models_fresh = False  # the model table is computed when shown or asked for
        self._regressions = pd.DataFrame()
        self._regressions_job: Job[pd.DataFrame] | None = None
        names = list(evaluation.models) if isinstance(evaluation, Evaluation) else []
        if kwargs.get("tab") == "models" and len(names) < 2:
            raise ValueError(
                "tab='models' compares two or more models, and this Evaluation has one: build it with "
                "models={'baseline': m1, 'candidate': m2} (or y_pred= / y_score= dicts by model name)."
            )
        if len(names) > 1:
            kwargs.setdefault("model_a", names[0])
            kwargs.setdefault("model_b", names[1])
            check_pair(evaluation, kwargs["model_a"], kwargs["model_b"])
        super().__init__(evaluation, metric=metric, **kwargs)
        self.task = "regression" if self._regression else "classification"
        self.metrics = [[m, METRIC_NAMES[m]] for m in self._available_metrics()]
        positive = None if self._regression else positive_class_code(evaluation, "error_rate", positive_class)
        self.positive_label = "" if positive is None else evaluation.class_names[positive]

    # -- what the view shows -------------------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        """Every slice as listed (filtered and sorted as shown, all pages), with its predicate."""
        return self._shown.copy()

    @property
    def discovered_slices(self) -> pd.DataFrame:
        """The conjunctions discovery found on the rows the view is computed on (best first)."""
        return self._discovered.copy()

    @property
    def model_table(self) -> pd.DataFrame:
        """Models A and B (``model_a``, ``model_b``) on every slice, B worse first: feature, group, slice,
        rows, a, b (error rate, or a regression's MAE), diff (b - a), only_a_right and only_b_right (a
        classification's), p_value (McNemar's exact test; a regression's paired t-test), q
        (Benjamini-Hochberg), tested, description, role, key, predicate, supported (see
        :mod:`errorscope.model_slices`). Empty with one model; p_value and q are NaN while the other
        views' rows are chosen by the predictions (``model_note`` says so)."""
        if not self._models_fresh:
            self._show_models()
        return self._model_table.copy()

    @property
    def regression_slices(self) -> pd.DataFrame:
        """The conjunctions where B is worse than A most (:meth:`discover_regressions`), best first: slice,
        level, size, share, b_worse (rows where B is wrong and A right; a regression's: where B's |e| is
        larger), b_worse_rate, rest_b_worse_rate, score, the held-out test (holdout_size,
        holdout_b_worse_rate, ci_low, ci_high, p_value, p_adjusted: is the rate above the rest's?), the
        held-out McNemar test that B is worse there (holdout_b_worse, holdout_b_better, p_b_worse,
        q_b_worse) and predicates."""
        return self._regressions.copy()

    def compare_models(self, a: str, b: str) -> None:
        """Compare models ``a`` (A) and ``b`` (B) in the models tab (the pickers call this); the
        regression slices found for another pair are dropped."""
        a, b = check_pair(self.evaluation, a, b)
        with self.hold_sync():
            self.model_a, self.model_b = a, b
            self._drop_regressions()
            self._show_models()
            self._highlight(self.clause)

    def to_figure(self) -> Any:
        """The worst slices (as listed now) as bars with 95% intervals, against the rest."""
        from ..figures import slices_figure

        name = METRIC_NAMES[self.metric]
        return slices_figure(self._shown, self.metric, title=f"Worst slices by {name}", label=name)

    def summary(self) -> str:
        name = METRIC_NAMES[self.metric]
        about = f" (positive class {self.positive_label})" if self.metric in ("fpr", "fnr") else ""
        lines = [f"Slice browser: {self.n_slices:,} slices of {self.n_rows:,} rows, worst by {name}{about}:"]
        for _, row in self._shown.head(5).iterrows():
            lines.append(
                f"  {row['description']}: {row['size']:,} rows, {name} {row[self.metric]:.3g} "
                f"(rest {row[f'rest_{self.metric}']:.3g}, p adj. {row['p_adjusted']:.2g})"
            )
        return "\n".join(lines)

    def inspected_rows(self, page: int | None = None) -> pd.DataFrame:
        """The selection's rows in the chosen order: one page (``page``) or all of them."""
        engine = self.evaluation.engine
        size = self.rows_page_size
        plan = (
            RowPage(self.row_order, limit=self.evaluation.n_rows)
            if page is None
            else RowPage(self.row_order, limit=size, offset=page * size)
        )
        return engine.fetch(engine.page(plan, self.evaluation.selection.filter()), loss=True)

    # -- selecting from code (the UI sends the same) -------------------------------------------
    def select_slice(self, key: int, additive: bool = False) -> None:
        """Select the slice with table key ``key`` (see ``table["key"]``); ``additive`` ORs it in."""
        matches = self._table.loc[self._table["key"] == key, "predicate"]
        if matches.empty:
            raise ValueError(f"no slice has key {key}; keys are in SliceBrowser.table['key'].")
        self._toggle_term((matches.iloc[0],), additive)

    def select_regression(self, index: int, additive: bool = False) -> None:
        """Select the ``index``-th slice of :attr:`regression_slices` (a conjunction)."""
        if not 0 <= index < len(self._regressions):
            raise ValueError(
                f"regression slice {index} does not exist; there are {len(self._regressions)} "
                "(run discover_regressions() first)."
            )
        self._toggle_term(tuple(self._regressions["predicates"].iloc[index]), additive, searched=True)

    def select_discovered(self, index: int, additive: bool = False) -> None:
        """Select the ``index``-th discovered slice (a conjunction)."""
        if not 0 <= index < len(self._discovered):
            raise ValueError(f"discovered slice {index} does not exist; there are {len(self._discovered)}.")
        self._toggle_term(tuple(self._discovered["predicates"].iloc[index]), additive, searched=True)

    def _toggle_term(self, term: Term, additive: bool, searched: bool = False) -> None:
        """Select ``term`` (``additive``: OR it in, or out); ``searched``: a slice found by a search of the
        errors (the clause says so: tests on its rows are post hoc)."""
        clause = self.clause
        searched = searched or (additive and clause is not None and clause.searched)
        terms = list(clause.terms) if clause else []
        if term in terms and (additive or len(terms) == 1):
            terms.remove(term)
        elif additive:
            terms.append(term)
        else:
            terms = [term]
        if terms:
            self._set_clause(Clause(self.source, tuple(terms), searched=searched))
        else:
            self.clear()

    def _handle_message(self, content: dict[str, Any]) -> None:
        kind = content.get("type")
        additive = bool(content.get("additive", False))
        if kind == "select_slice":
            self.select_slice(int(content["key"]), additive)
        elif kind == "select_discovered":
            self.select_discovered(int(content["index"]), additive)
        elif kind == "discover":
            self.discover()
        elif kind == "cancel_discovery":
            self.cancel_discovery()
        elif kind == "pair":
            self.compare_models(str(content.get("a")), str(content.get("b")))
        elif kind == "select_regression":
            self.select_regression(int(content["index"]), additive)
        elif kind == "discover_regressions":
            self.discover_regressions()

    # -- discovery in the background -----------------------------------------------------------
    def discover(self, block: bool = False) -> None:
        """(Re)start discovery on the rows the view is computed on, on any engine; in a background thread
        unless ``block`` (or the source is an Arrow table or a DuckDB relation, whose one connection the
        views need too). Progress shows in the view; the kernel stays responsive."""
        self.cancel_discovery()

        def shown(found: pd.DataFrame) -> None:
            self._discovered = found
            with self.hold_sync():
                self.discovered = self._discovered_payload(found)
                self.discovery_progress = 1.0
                self.discovery_status = "done"
                self._mark_discovered(self.clause)  # no query: outside a kernel this runs on the worker

        self._job = self._search("discovery", None, shown, block)

    def discover_regressions(self, block: bool = False) -> None:
        """Find the conjunctions where model B is worse than model A most (error indicator "B wrong and A
        right", a regression's "B's |e| larger than A's"; Sliceline's score, each slice tested on held-out
        rows: see :mod:`errorscope.discovery`), on the rows the view is computed on; in the background
        unless ``block``. The result is :attr:`regression_slices`, shown in the models tab."""
        if len(self.evaluation.models) < 2:
            raise ValueError(
                "discover_regressions compares two models, and this Evaluation has one: build it with "
                "models={'baseline': m1, 'candidate': m2} (or y_pred= / y_score= dicts by model name)."
            )
        self._cancel_regressions()
        pair = (self.model_a, self.model_b)

        def shown(found: pd.DataFrame) -> None:
            if pair != (self.model_a, self.model_b):  # the pair changed meanwhile
                return
            self._regressions = found.rename(columns=REGRESSION_SLICE_NAMES)
            with self.hold_sync():
                self.regressions = self._regressions_payload(self._regressions)
                self.regressions_progress = 1.0
                self.regressions_status = "done"
                self._mark_discovered(self.clause)

        self._regressions_job = self._search("regressions", pair, shown, block)

    def _search(self, name: str, pair: tuple[str, str] | None, shown: Any, block: bool) -> Job[pd.DataFrame]:
        """Run slice discovery (``pair``: where B is worse than A) as job ``name``, its status and progress
        in the traits ``<status>_status`` / ``<status>_progress`` (discovery_, regressions_)."""
        ev, where = self.evaluation, self._where
        engine = ev.engine.for_thread()  # DuckDB: its own connection over the same files
        if engine is None:  # the source lives in one connection only (an Arrow table): on this thread
            engine, block = ev.engine, True
        columns = [c.column for c in feature_family(ev)]  # coded (profiled) here, on the kernel's thread
        setattr(self, f"{name}_status", "running")
        setattr(self, f"{name}_progress", 0.0)

        def work(job: Job[pd.DataFrame]) -> pd.DataFrame:
            return discover_slices(
                ev, where, columns=columns, max_level=self.max_level, min_support=self.min_support,
                progress=lambda fraction, _message: job.report(fraction), cancel=job.cancel_event,
                engine=engine, compare=pair,
            )  # fmt: skip

        def failed(err: BaseException) -> None:
            if not isinstance(err, DiscoveryCancelled):
                setattr(self, f"{name}_status", f"failed: {type(err).__name__}: {err}")

        def progress(fraction: float) -> None:
            setattr(self, f"{name}_progress", round(fraction, 3))

        job = self.evaluation.jobs.submit(
            name, work, owner=self, done=shown, failed=failed, progress=progress, block=block
        )
        if block and job.error is not None and not isinstance(job.error, DiscoveryCancelled):
            raise job.error
        return job

    def _cancel_regressions(self) -> None:
        job = self._regressions_job
        if job is not None and job.running:
            job.cancel()
            job.wait(timeout=5)

    def _drop_regressions(self) -> None:
        """Forget the regression slices (another pair or other rows): the button finds them again."""
        self._cancel_regressions()
        self._regressions = pd.DataFrame()
        self.regressions, self.selected_regressions = {}, []
        self.regressions_status, self.regressions_progress = "idle", 0.0

    def cancel_discovery(self) -> None:
        """Stop a running discovery (its partial work is dropped)."""
        job = self._job
        if job is not None and job.running:
            job.cancel()
            job.wait(timeout=5)
            self.discovery_status = "cancelled"

    def wait_for_discovery(self, timeout: float = 60.0) -> None:
        """Block until the background discovery finishes and is shown (for scripts and tests)."""
        if self._job is not None:
            self._job.wait(timeout, raise_error=False)  # a failure shows in the view's status

    # -- recompute -----------------------------------------------------------------------------
    def _compute(self, where: Filter) -> None:
        if where != self._where and not self._regressions.empty:
            self._drop_regressions()
        self._where = where
        outcome = bool(self.outcome_filter) and not self._regression  # a regression has no lift
        if outcome != self.outcome_selection:
            self.outcome_selection = outcome
            if outcome and self.sort_by == "value":
                self.sort_by, self.descending = "lift", True
            elif not outcome and self.sort_by == "lift":
                self.sort_by, self.descending = "value", True
        self._table = self._slice_table(self.metric)
        self._show_slices()
        self._models_fresh = False
        if self.tab == "models":
            self._show_models()
        if self._auto_discover:
            self.discover()

    def _slice_table(self, metric: str) -> pd.DataFrame:
        table = slice_table(
            self.evaluation, self._where, metric=metric, positive_class=self.positive_class,
            min_support=self.min_support,
        )  # fmt: skip
        n_kept = self.n_rows
        self.min_rows = default_min_support(n_kept) if self.min_support is None else self.min_support
        return table

    def _show_slices(self) -> None:
        table = self._table
        if self.feature_filter.strip():
            wanted = self.feature_filter.strip().casefold()
            table = table[table["feature"].str.casefold().str.contains(wanted, regex=False)]
        column = {"value": self.metric, "rest": f"rest_{self.metric}"}.get(self.sort_by, self.sort_by)
        signed = self.metric == "mean_error" and self.sort_by in ("value", "rest", "difference")
        table = table.sort_values(  # a mean residual ranks by its size: over- and under-prediction alike
            column, ascending=not self.descending, kind="stable", na_position="last",
            key=(lambda v: v.abs()) if signed else _sort_key,
        )  # fmt: skip
        if self.sort_by in RANKINGS:  # a ranking: the slices too small to tell rank last
            table = table.sort_values("supported", ascending=False, kind="stable")
        table = table.sort_values("group", key=lambda g: g.map(GROUPS.index), kind="stable")
        self._shown = table.reset_index(drop=True)
        self.n_slices = len(table)
        pages = max(1, -(-len(table) // max(1, self.page_size)))
        if self.page >= pages:
            self.page = pages - 1
        start = self.page * self.page_size
        self.slice_page = self._slices_payload(table.iloc[start : start + self.page_size])

    def _slices_payload(self, page: pd.DataFrame) -> dict[str, Any]:
        metric = self.metric
        counts = {} if self._regression else {"errors": as_buffer(page["errors"].to_numpy(), "u4")}
        return {
            "feature": page["feature"].astype(str).tolist(),
            "slice": page["slice"].astype(str).tolist(),
            "description": page["description"].tolist(),
            "key": as_buffer(page["key"].to_numpy(), "i4"),
            "size": as_buffer(page["size"].to_numpy(), "u4"),
            **counts,
            "outcome": as_buffer(page["group"].eq("outcome").to_numpy(), "u1"),
            "supported": as_buffer(page["supported"].to_numpy(), "u1"),
            **{
                name: as_buffer(page[column].to_numpy(dtype=np.float64), "f8")
                for name, column in (
                    ("share", "share"),
                    ("value", metric),
                    ("rest", f"rest_{metric}"),
                    ("difference", "difference"),
                    ("ratio", "ratio"),
                    *(() if self._regression else (("lift", "lift"),)),
                    ("ci_low", "ci_low"),
                    ("ci_high", "ci_high"),
                    ("p_adjusted", "p_adjusted"),
                )
            },
        }

    def _show_models(self) -> None:
        """The models tab's table for the pair, on the rows the view is computed on."""
        ev = self.evaluation
        if len(ev.models) < 2:
            return
        self._models_fresh = True
        invalid = prediction_clauses(ev.selection, self.source)
        self._model_table = model_slice_table(
            ev, self.model_a, self.model_b, self._where, withhold=bool(invalid), min_support=self.min_support
        )
        self.model_note = withheld_note(invalid)
        table = self._model_table
        counts = (
            {}
            if self._regression
            else {name: as_buffer(table[name].to_numpy(), "u4") for name in ("only_a_right", "only_b_right")}
        )
        self.model_slices = {
            "feature": table["feature"].astype(str).tolist(),
            "slice": table["slice"].astype(str).tolist(),
            "description": table["description"].tolist(),
            "key": as_buffer(table["key"].to_numpy(), "i4"),
            "rows": as_buffer(table["rows"].to_numpy(), "u4"),
            **counts,
            "tested": as_buffer(table["tested"].to_numpy(), "u1"),
            "supported": as_buffer(table["supported"].to_numpy(), "u1"),
            **{
                name: as_buffer(table[name].to_numpy(dtype=np.float64), "f8")
                for name in ("a", "b", "diff", "p_value", "q")
            },
        }

    def _regressions_payload(self, found: pd.DataFrame) -> dict[str, Any]:
        """The regression slices: rows, B-worse rate of the slice and the rest, score, held-out q-values."""
        return {
            "slice": found["slice"].astype(str).tolist(),
            "level": as_buffer(found["level"].to_numpy(), "u4"),
            "size": as_buffer(found["size"].to_numpy(), "u4"),
            "b_worse": as_buffer(found["b_worse"].to_numpy(), "u4"),
            **{
                name: as_buffer(found[column].to_numpy(dtype=np.float64), "f8")
                for name, column in (
                    ("value", "b_worse_rate"),
                    ("rest", "rest_b_worse_rate"),
                    ("score", "score"),
                    ("p_adjusted", "p_adjusted"),
                    ("q_b_worse", "q_b_worse"),
                )
            },
        }

    def _discovered_payload(self, found: pd.DataFrame) -> dict[str, Any]:
        """The discovered slices; ``value`` and ``rest`` are the error rate (a regression's: the MAE) of
        the slice and of the rest, on every kept row."""
        value = "mae" if self._regression else "error_rate"
        counts = {} if self._regression else {"errors": as_buffer(found["errors"].to_numpy(), "u4")}
        return {
            "slice": found["slice"].astype(str).tolist(),
            "level": as_buffer(found["level"].to_numpy(), "u4"),
            "size": as_buffer(found["size"].to_numpy(), "u4"),
            **counts,
            **{
                name: as_buffer(found[column].to_numpy(dtype=np.float64), "f8")
                for name, column in (
                    ("share", "share"),
                    ("value", value),
                    ("rest", f"rest_{value}"),
                    ("score", "score"),
                    ("ci_low", "ci_low"),
                    ("ci_high", "ci_high"),
                    ("p_adjusted", "p_adjusted"),
                )
            },
        }

    def _highlight(self, clause: Clause | None) -> None:
        terms = set(clause.terms) if clause else set()
        keys = [
            int(k)
            for k, p in zip(self._table.get("key", []), self._table.get("predicate", []), strict=True)
            if (p,) in terms
        ]
        self.selected_slices = keys
        self._mark_discovered(clause)
        self._show_rows()
        if self.tab == "compare":
            self._show_comparison()

    def _mark_discovered(self, clause: Clause | None) -> None:
        terms = set(clause.terms) if clause else set()
        found = self._discovered.get("predicates", pd.Series(dtype=object))
        self.selected_discovered = [i for i, term in enumerate(found) if tuple(term) in terms]
        found = self._regressions.get("predicates", pd.Series(dtype=object))
        self.selected_regressions = [i for i, term in enumerate(found) if tuple(term) in terms]

    # -- rows and comparison -------------------------------------------------------------------
    def _show_rows(self) -> None:
        self.n_selected = self.evaluation.selection.n_kept()
        size = max(1, self.rows_page_size)
        pages = max(1, -(-self.n_selected // size))
        if self.rows_page >= pages:
            self.rows_page = pages - 1
        page = self.inspected_rows(self.rows_page)
        ev = self.evaluation
        if self._regression:  # the roles' columns (es_ prefixed when the data has one of their names)
            roles = {"id": "id" if "id" not in ev.columns else "es_id", **ev.regression_names()}
            shown = list(roles.values())
            signed = {roles["residual"]}
            texts = {c: [value_text(v, c in signed) for v in page[c].tolist()] for c in shown[1:]}
            texts[roles["id"]] = [display_text(v) for v in page[roles["id"]].tolist()]
            wrong = np.zeros(len(page), dtype=bool)
        else:
            shown = [c for c in ("id", "actual", "predicted", "score", "loss") if c in page.columns]
            wrong = page["actual"].to_numpy() != page["predicted"].to_numpy()
            texts = {}
        if ev.text_column:
            shown.append(ev.text_column)
        shown += [c for c in ev.features if c not in shown]
        self.rows = {
            "columns": shown,
            "cells": [
                list(row)
                for row in zip(
                    *(texts.get(c) or [display_text(v) for v in page[c].tolist()] for c in shown), strict=True
                )
            ],
            "wrong": as_buffer(wrong, "u1"),
            "start": self.rows_page * size,
        }

    def _show_comparison(self) -> None:
        ev = self.evaluation
        if not (0 < ev.selection.n_kept() < ev.n_rows):
            self.comparison = {"features": [], "distance": b"", "p_value": b"", "values": [],
                               "selected_share": b"", "rest_share": b"", "feature": ""}  # fmt: skip
            return
        counts = feature_counts(ev, ev.selection.filter())
        ranked = rank_features(counts)
        feature = (
            self.compare_feature if self.compare_feature in set(ranked["feature"]) else ranked["feature"][0]
        )
        dist = distribution(ev.codes(feature), *counts[feature])
        self.comparison = {
            "features": ranked["feature"].tolist(),
            "distance": as_buffer(ranked["distance"].to_numpy(dtype=np.float64), "f8"),
            "p_value": as_buffer(ranked["p_value"].to_numpy(dtype=np.float64), "f8"),
            "feature": feature,
            "values": dist["value"].tolist(),
            "selected_share": as_buffer(dist["selected_share"].to_numpy(dtype=np.float64), "f8"),
            "rest_share": as_buffer(dist["rest_share"].to_numpy(dtype=np.float64), "f8"),
        }

    @property
    def feature_comparison(self) -> pd.DataFrame:
        """Features ranked by how differently they are distributed in the selection and the rest."""
        return differing_features(self.evaluation, self.evaluation.selection.filter())

    def _available_metrics(self) -> list[str]:
        ev = self.evaluation
        if self._regression:
            return list(REGRESSION_METRICS)
        found = ["error_rate"]
        if ev.positive_code is not None or self.positive_class is not None:
            found += ["fpr", "fnr"]
        if ev.has_scores:
            found.append("log_loss")
        return found

    # -- UI-driven changes ---------------------------------------------------------------------
    @traitlets.observe("sort_by", "descending", "feature_filter", "page", "page_size")
    def _resort(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "evaluation") and not self._table.empty:
            self._show_slices()

    @traitlets.validate("metric")
    def _valid_metric(self, proposal: dict[str, Any]) -> str:
        if hasattr(self, "evaluation"):  # the constructor checked its argument (with a ValueError)
            try:
                check_slice_metric(self.evaluation, proposal["value"])
            except ValueError as err:
                raise traitlets.TraitError(str(err)) from None
        return str(proposal["value"])

    @traitlets.validate("sort_by")
    def _valid_sort_by(self, proposal: dict[str, Any]) -> str:
        if getattr(self, "_regression", False) and proposal["value"] in ("errors", "lift"):
            raise traitlets.TraitError(
                f"sort_by={proposal['value']!r}: a regression's slices have no errors or lift; sort by "
                "value, rest, difference, ratio, size, share, p_adjusted, feature or slice."
            )
        return str(proposal["value"])

    @traitlets.validate("tab")
    def _valid_tab(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] == "models" and hasattr(self, "evaluation") and len(self.evaluation.models) < 2:
            raise traitlets.TraitError(
                "tab='models' compares two or more models, and this Evaluation has one: build it with "
                "models={'baseline': m1, 'candidate': m2} (or y_pred= / y_score= dicts by model name)."
            )
        return str(proposal["value"])

    @traitlets.validate("row_order")
    def _valid_row_order(self, proposal: dict[str, Any]) -> str:
        _check_row_order(getattr(self, "_regression", False), proposal["value"], traitlets.TraitError)
        return str(proposal["value"])

    @traitlets.observe("metric")
    def _metric_changed(self, change: dict[str, Any]) -> None:
        if hasattr(self, "evaluation"):
            try:
                self._table = self._slice_table(change["new"])
            except ValueError:
                self.metric = change["old"]
                raise
            self._show_slices()
            self._highlight(self.clause)

    @traitlets.observe("row_order", "rows_page", "rows_page_size")
    def _reorder_rows(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "evaluation"):
            self._show_rows()

    @traitlets.observe("tab", "compare_feature")
    def _tab_changed(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "evaluation") and self.tab == "models" and not self._models_fresh:
            self._show_models()
        if hasattr(self, "evaluation") and self.tab == "compare":
            self._show_comparison()

    def close(self) -> None:
        for job in (getattr(self, "_job", None), getattr(self, "_regressions_job", None)):
            if job is not None:  # absent when __init__ failed early
                job.cancel()
        super().close()


def _check_row_order(regression: bool, order: Any, error: type[Exception] = ValueError) -> None:
    """A row order of the task (:data:`ORDERS`, :data:`REGRESSION_ORDERS`), or ``error`` listing them."""
    orders = REGRESSION_ORDERS if regression else ORDERS
    if order not in orders:
        kind = "a regression" if regression else "a classification"
        raise error(f"row_order must be one of {orders} for {kind}, got {order!r}.")


def _sort_key(values: pd.Series) -> pd.Series:
    return values.str.casefold() if values.dtype == object or pd.api.types.is_string_dtype(values) else values
