"""ErrorTagger: review the selection's rows (errors first) and tag them, durably, keyboard first."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import traitlets

from ..evaluation import Evaluation
from ..plans import Filter, GroupCounts, Key, RowPage
from ..selection import Clause
from ..tags import TagStoreError, id_texts, relabel_number, shown_path, tag_names
from .base import LinkedView, display_text, outcome_rows, regression_rows, value_text

CLASSIFICATION_QUEUE_ORDERS = ("confident_wrong", "loss", "least_confident", "stratified_random", "id")
REGRESSION_QUEUE_ORDERS = ("loss", "over_prediction", "under_prediction", "stratified_random", "id")
"""A regression's queue: |residual| largest first (the default), the largest over-predictions (residual =
prediction - actual, most positive first), the largest under-predictions, stratified random (by quantile
bins of the actual value), by id."""
QUEUE_ORDERS = tuple(dict.fromkeys((*CLASSIFICATION_QUEUE_ORDERS, *REGRESSION_QUEUE_ORDERS)))


class ErrorTagger(LinkedView):
    """A review queue over the current selection's rows with tags, notes and relabel suggestions.

    ``store``: the SQLite file that keeps the tags (see :mod:`errorscope.tags`), shared by every tagger of
    the Evaluation. ``tags``: the starting vocabulary (it can grow from the UI). ``who``: the name in the
    audit trail (default: the OS user). ``model_name``: recorded with every change. ``strata``: a column
    the "stratified_random" order balances (default: the actual class).

    On a regression the queue holds every selected row (``errors_only`` does not apply), ordered by
    |residual| (default), over- or under-prediction first, stratified random or id
    (:data:`REGRESSION_QUEUE_ORDERS`); cards show the actual and predicted values and the residual, and a
    relabel is the corrected target value, a number (``tagger.relabel(ids, 73.5)``).

    Keys (card view): 1-9 toggle a tag on the row (or on the checked rows), j / → next, k / ← previous,
    u undo, n write a note, r relabel (on a regression: type the corrected value, Enter saves); the
    counts select their rows when clicked. Every message from the browser names the rows it acts on (the
    kernel keeps no "current row" for them) and is acknowledged by its ``seq``, so the browser applies
    keys in order to the row it shows.

    The queue is a row page of the engine (``RowPage`` in the tagger's order) and its cards are rows fetched
    by id, so the tagger works alike in memory and on DuckDB or Spark; tags stay in the SQLite store.
    """

    _bundle = "error_tagger"
    _reads_tags = True
    vocabulary = traitlets.List(traitlets.Unicode()).tag(sync=True)
    counts = traitlets.List(traitlets.Int()).tag(sync=True)
    selected_tags = traitlets.List(traitlets.Unicode()).tag(sync=True)
    order = traitlets.Enum(QUEUE_ORDERS, "confident_wrong").tag(sync=True)
    errors_only = traitlets.Bool(True).tag(sync=True)
    mode = traitlets.Enum(("card", "list"), "card").tag(sync=True)
    n_queue = traitlets.Int(0).tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    card = traitlets.Dict().tag(sync=True)
    list_page = traitlets.Int(0).tag(sync=True)
    list_page_size = traitlets.Int(10).tag(sync=True)
    list_rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    checked = traitlets.List(traitlets.Unicode()).tag(sync=True)
    class_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    task = traitlets.Unicode("classification").tag(sync=True)  # "regression": numbers, not classes
    status = traitlets.Unicode("").tag(sync=True)
    store_path = traitlets.Unicode("").tag(sync=True)
    can_undo = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        evaluation: Evaluation,
        store: str | os.PathLike[str] | None = None,
        tags: str | list[str] | tuple[str, ...] = ("mislabeled", "ambiguous", "needs data"),
        who: str | None = None,
        model_name: str | None = None,
        seed: int = 0,
        strata: str | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(evaluation, Evaluation):
            if strata is not None:
                evaluation.codes(strata)  # a clear error now if it is not a column
            self.store = evaluation.attach_tags(
                store, who=who, model=model_name, vocabulary=tag_names(tags, "tags")
            )
        self.seed, self.strata = seed, strata
        self._regression = isinstance(evaluation, Evaluation) and evaluation.is_regression
        if self._regression:
            kwargs.setdefault("order", "loss")
            kwargs["errors_only"] = False  # no row of a regression is "an error"
        if "order" in kwargs and isinstance(evaluation, Evaluation):
            _check_queue_order(self._regression, kwargs["order"])
        self._explainer = _fast_explainer(evaluation) if isinstance(evaluation, Evaluation) else None
        self._queue = np.zeros(0, dtype=np.int64)  # ids of the queue's first rows, in review order
        self._queue_rows: Any = None  # what the queue's rows are (a mask in memory, a stamp on a SQL engine)
        self._queue_where: Filter | None = None
        self._queue_key: tuple[str, bool] | None = None
        super().__init__(evaluation, **kwargs)
        self.class_names = list(self.evaluation.class_names)
        self.task = "regression" if self._regression else "classification"
        self.store_path = shown_path(self.store.path)
        self._show_tags()

    # -- tagging from code (the UI calls the same) ---------------------------------------------
    def tag(self, ids: Any, tag: str, note: str | None = None, relabel: Any = None) -> int:
        """Add ``tag`` (and optionally a ``note`` and a ``relabel``: the correct class, or on a regression
        the corrected number) to the rows ``ids``; committed before it returns."""
        ids = self._check_ids(ids)
        if relabel is not None:
            label = self._relabel_value(relabel)  # checked before anything is written
        added = self.store.tag(ids, tag, clause=self.evaluation.selection.text())
        if note:
            self.store.set_note(ids, note, clause=self.evaluation.selection.text())
        if relabel is not None:
            self.store.set_relabel(ids, label, clause=self.evaluation.selection.text())
        self._saved(f"tagged {len(ids):,} row(s) {tag!r}")
        return added

    def untag(self, ids: Any, tag: str) -> int:
        """Remove ``tag`` from the rows ``ids``."""
        removed = self.store.untag(self._check_ids(ids), tag, clause=self.evaluation.selection.text())
        self._saved(f"removed {tag!r} from {removed:,} row(s)")
        return removed

    def note(self, ids: Any, note: str | None) -> None:
        """Set the free-text note of the rows ``ids`` (empty clears it)."""
        self.store.set_note(self._check_ids(ids), note, clause=self.evaluation.selection.text())
        self._saved("note saved")

    def relabel(self, ids: Any, label: Any) -> None:
        """Record that the correct label of the rows ``ids`` is ``label`` (a class or its display name; on
        a regression the corrected target value, a number); ``None`` clears the suggestion. The data and
        the model are not changed."""
        ev = self.evaluation
        if label is not None:
            label = self._relabel_value(label)
        self.store.set_relabel(self._check_ids(ids), label, clause=ev.selection.text())
        self._saved("relabel saved" if label is not None else "relabel cleared")

    def _relabel_value(self, label: Any) -> Any:
        """A relabel as stored: the class's display name, or a regression's number (see
        :func:`errorscope.tags.relabel_number`)."""
        ev = self.evaluation
        if self._regression:
            return relabel_number(label)
        names = [str(c) for c in ev.classes] + list(ev.class_names)
        if str(label) not in names:
            raise ValueError(f"relabel: {label!r} is not a class; classes are {ev.class_names}.")
        if str(label) in map(str, ev.classes):
            return ev.class_names[[str(c) for c in ev.classes].index(str(label))]
        return label

    def undo(self) -> int:
        """Undo this tagger's last action (every row it touched)."""
        try:
            reverted = self.store.undo()
        except TagStoreError as err:  # someone changed those rows since: say why, keep their values
            self.status, self.can_undo = str(err), bool(self.store._undo)
            return 0
        self._saved(f"undid {reverted:,} change(s)" if reverted else "nothing to undo")
        return reverted

    def select_tag(self, tag: str, additive: bool = False) -> None:
        """Select the rows carrying ``tag`` (modifier: add to the tags already selected)."""
        wanted = [*self.selected_tags, tag] if additive else [tag]
        if additive and tag in self.selected_tags:
            wanted = [t for t in self.selected_tags if t != tag]
        if wanted:
            tag = self.evaluation.role_predicate
            self._set_clause(Clause(self.source, tuple((tag("tag", "in", (t,)),) for t in wanted)))
        else:
            self.clear()

    def to_figure(self) -> Any:
        """Rows per tag, as bars."""
        from ..figures import bars_figure

        counts = self.store.counts()
        return bars_figure(list(counts), list(counts.values()), f"Tags in {self.store.path.name}", "rows")

    def summary(self) -> str:
        counts = ", ".join(f"{k}: {v:,}" for k, v in self.store.counts().items())
        return (
            f"Error tagger: {self.n_queue:,} rows to review; tags ({self.store_path}): {counts or 'none yet'}"
        )

    @property
    def table(self) -> pd.DataFrame:
        """The current tags (``ev.tags``)."""
        return self.evaluation.tags

    @property
    def queue(self) -> pd.DataFrame:
        """The review queue, in order."""
        return self.evaluation.engine.fetch(self._ordered(None))

    # -- messages from the UI ------------------------------------------------------------------
    def _handle_message(self, content: dict[str, Any]) -> None:
        """Act on one UI message, then acknowledge its ``seq`` to the ``view`` that sent it (after the
        state it caused is sent)."""
        try:
            with self.hold_sync():
                self._act(content)
        finally:
            if "seq" in content:
                self.send({"type": "ack", **{k: content[k] for k in ("seq", "view") if k in content}})

    def _act(self, content: dict[str, Any]) -> None:
        kind = content.get("type")
        ids = [str(i) for i in content.get("ids") or []]  # the rows the user sees: never a kernel guess
        if kind in ("tag", "untag", "toggle_tag", "note", "relabel") and not ids:
            self.status = f"Ignored {kind!r}: the message named no rows."
        elif kind == "tag":
            self.tag(ids, str(content["tag"]))
        elif kind == "untag":
            self.untag(ids, str(content["tag"]))
        elif kind == "toggle_tag":  # checked rows: remove when all carry it, else add it to the rest
            tag = str(content["tag"])
            tagged = set(self.store.tagged_ids(tag))
            if all(i in tagged for i in ids):
                self.untag(ids, tag)
            else:
                self.tag([i for i in ids if i not in tagged], tag)
        elif kind == "note":
            self.note(ids, str(content.get("note", "")))
        elif kind == "relabel":
            label = content.get("label")
            try:
                self.relabel(ids, None if label is None or label == "" else label)
            except ValueError as err:  # a typed value that is not a number: say so, write nothing
                self.status = str(err)
        elif kind == "goto":
            self.position = int(content.get("position", 0))
        elif kind == "undo":
            self.undo()
        elif kind == "add_tag_name":
            self.store.add_tag_names([str(content.get("name", ""))])
            self._saved(f"added tag {content.get('name')!r}")
        elif kind == "select_tag":
            self.select_tag(str(content["tag"]), bool(content.get("additive")))

    # -- recompute -----------------------------------------------------------------------------
    def _compute(self, where: Filter) -> None:
        pass  # the queue follows the whole selection, its own clause included: rebuilt in _highlight

    def _highlight(self, clause: Clause | None) -> None:
        self.selected_tags = [
            str(p.values[0]) for term in (clause.terms if clause else ()) for p in term if p.role == "tag"
        ]
        self._rebuild_queue()
        self._show_tags()

    def _rebuild_queue(self) -> None:
        """Rebuild the queue; when its rows or order changed, review starts again at its top."""
        ev = self.evaluation
        if not hasattr(self, "store"):
            return
        where = ev.selection.filter()
        rows = self._rows_of(where)
        key = (self.order, self.errors_only)
        changed = self._queue_rows is None or key != self._queue_key or not _same_rows(rows, self._queue_rows)
        self._queue_rows, self._queue_key, self._queue_where = rows, key, where
        self.n_queue = self._count(where)
        position = 0 if changed else min(max(self.position, 0), max(self.n_queue - 1, 0))
        page = 0 if changed else self.list_page
        if self.checked:
            self.checked = self._still_queued(self.checked)
        self._queue = self._ordered(max(position + 1, (page + 1) * self.list_page_size))
        moved, paged = position != self.position, page != self.list_page
        self.position, self.list_page = position, page  # their observers show the card and the list
        if not moved:
            self._show_card()
        if not paged:
            self._show_list()

    def _rows_of(self, where: Filter) -> Any:
        """What the queue's rows are: their mask in memory (same rows, same queue), else the filter's stamp."""
        ev = self.evaluation
        if not ev.in_memory:
            return (where.stamp, self.errors_only)
        mask = ev.engine.mask(where)
        return mask & ev.wrong if self.errors_only and not self._regression else mask

    def _count(self, where: Filter) -> int:
        """Rows in the queue: the kept rows (their errors only, with ``errors_only``)."""
        engine = self.evaluation.engine
        if isinstance(self._queue_rows, np.ndarray):
            return int(np.count_nonzero(self._queue_rows))
        if not self.errors_only:
            return engine.n_kept(where)
        return int(engine.count(GroupCounts((Key.outcome(None),)), where).counts[1])

    def _still_queued(self, ids: list[str]) -> list[str]:
        """The ids (text) among ``ids`` that are still in the queue."""
        ev = self.evaluation
        if isinstance(self._queue_rows, np.ndarray):
            positions = ev._id_positions(ids)
            return [c for c, p in zip(ids, positions, strict=True) if p >= 0 and self._queue_rows[p]]
        assert self._queue_where is not None
        values = ev.row_keys.typed(ids)
        kept = ev.engine.kept_ids(self._queue_where, [v for v in values if v is not None])
        if self.errors_only and kept:
            wrong = ev.engine.fetch(np.asarray(list(kept), dtype=object))
            kept = {r["id"] for r in outcome_rows(ev, wrong) if r["wrong"]}
            return [c for c in ids if c in kept]
        return [c for c, v in zip(ids, values, strict=True) if v in kept]

    def _ordered(self, limit: int | None) -> np.ndarray:
        """The ids of the first ``limit`` rows of the queue in review order (all of them when None)."""
        ev = self.evaluation
        if self._queue_where is None:
            return np.zeros(0, dtype=np.int64)
        by = self.order if self.order != "confident_wrong" or ev.has_scores else "loss"
        limit = self.n_queue if limit is None else limit
        plan = RowPage(by, limit=limit, wrong_only=self.errors_only, seed=self.seed, strata=self.strata)  # type: ignore[arg-type]
        return ev.engine.page(plan, self._queue_where) if limit > 0 else np.zeros(0, dtype=np.int64)

    def _show_card(self) -> None:
        if not len(self._queue):
            self.card = {}
            return
        card = self._describe(self._queue[self.position : self.position + 1], with_features=True)[0]
        self.card = {**card, "position": self.position}

    def _show_list(self) -> None:
        size = max(1, self.list_page_size)
        pages = max(1, -(-self.n_queue // size))
        if self.list_page >= pages:
            self.list_page = pages - 1
        rows = self._queue[self.list_page * size : (self.list_page + 1) * size]
        self.list_rows = self._describe(rows, with_features=False) if len(rows) else []

    def _describe(self, ids: np.ndarray, with_features: bool) -> list[dict[str, Any]]:
        """The rows ``ids`` (fetched from the engine in one call) as the card's or the list's records."""
        ev = self.evaluation
        frame = ev.engine.fetch(ids)
        if not ev.in_memory:
            ev.row_keys.remember(ids.tolist())  # read from the data: tagging them needs no lookup
        out = []
        records = _regression_records(ev, frame) if self._regression else outcome_rows(ev, frame)
        for i, record in enumerate(records):
            tags = self.store.row_tags(record["id"])
            text = "" if ev.text_column is None else display_text(frame[ev.text_column].iloc[i])
            record |= {
                "tags": tags.get("tags", []), "note": tags.get("note") or "",
                "relabel": tags.get("relabel") or "", "text": text,
            }  # fmt: skip
            if with_features:
                record["shap"] = self._top_contributions(ids[i : i + 1])
                record["fields"] = [
                    [c, display_text(frame[c].iloc[i]), c in ev.sensitive]
                    for c in self._field_order([f for f, _v, _c in record["shap"]])
                ]
            out.append(record)
        return out

    def _field_order(self, important: list[str]) -> list[str]:
        """The card's columns: sensitive ones first, then the row's top contributions, then the other
        features in data order (the text column is shown apart)."""
        ev = self.evaluation
        columns = [*ev.sensitive, *important, *ev.features]
        return [c for c in dict.fromkeys(columns) if c != ev.text_column]

    def _top_contributions(self, ids: np.ndarray, top: int = 5) -> list[list[Any]]:
        """The row's largest SHAP contributions to its predicted class, when the model has a fast exact
        explainer (trees) or the Evaluation carries precomputed values; else nothing (no waiting)."""
        if self._explainer is None:
            return []
        ev = self.evaluation
        explained = self._explainer.explain(self._explainer.rows.of_ids(ids))
        frame = explained.frame(0, ev.data if ev.in_memory else None).head(top)
        return [
            [f, display_text(v), float(c)]
            for f, v, c in zip(frame["feature"], frame["value"], frame["contribution"], strict=True)
        ]

    def _show_tags(self) -> None:
        counts = self.store.counts()
        self.vocabulary = list(counts)
        self.counts = list(counts.values())
        self.can_undo = bool(self.store._undo)

    def _saved(self, what: str) -> None:
        """After a committed write: say so, and let every view (and the tag clauses) recompute."""
        with self.hold_sync():
            self.status = f"Saved {datetime.now():%H:%M:%S}: {what}"
            self.evaluation.tags_changed()
            self._show_tags()
            self._show_card()
            self._show_list()

    def _check_ids(self, ids: Any) -> list[str]:
        texts = id_texts(ids)
        if not self.evaluation.in_memory:
            bad = self.evaluation.row_keys.unknown(texts)[:5]
            if bad:
                raise ValueError(f"ids {bad} are not row ids of this Evaluation (values of its id column).")
            return texts
        unknown = self.evaluation._id_positions(texts) < 0
        if unknown.any():
            bad = [t for t, u in zip(texts, unknown, strict=True) if u][:5]
            raise ValueError(f"ids {bad} are not row ids of this Evaluation (see ev.ids).")
        return texts

    # -- UI-driven changes ---------------------------------------------------------------------
    @traitlets.validate("order")
    def _valid_order(self, proposal: dict[str, Any]) -> str:
        _check_queue_order(getattr(self, "_regression", False), proposal["value"], traitlets.TraitError)
        return str(proposal["value"])

    @traitlets.validate("errors_only")
    def _valid_errors_only(self, proposal: dict[str, Any]) -> bool:
        return bool(proposal["value"]) and not getattr(self, "_regression", False)

    @traitlets.observe("order", "errors_only")
    def _requeue(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "evaluation"):
            self._rebuild_queue()

    @traitlets.observe("position")
    def _move(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "evaluation") and self.n_queue:
            self.position = min(max(self.position, 0), self.n_queue - 1)
            if self.position >= len(self._queue):
                self._queue = self._ordered(self.position + 1 + self.list_page_size)
            self._show_card()

    @traitlets.observe("list_page", "list_page_size")
    def _page(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "evaluation") and self._queue_rows is not None:
            needed = (self.list_page + 1) * self.list_page_size
            if needed > len(self._queue):
                self._queue = self._ordered(max(needed, self.position + 1))
            self._show_list()


def _regression_records(ev: Evaluation, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A regression's rows as the card's records: actual, predicted and residual as text in the target's
    units (:func:`~errorscope.widgets.base.value_text`) and ``residual_value``; never "wrong", no score."""
    return [
        {**row, "actual": value_text(row["actual"]), "predicted": value_text(row["predicted"]),
         "residual": value_text(row["residual"], signed=True), "residual_value": row["residual"],
         "wrong": False, "score": None}
        for row in regression_rows(ev, frame)
    ]  # fmt: skip


def _check_queue_order(regression: bool, order: Any, error: type[Exception] = ValueError) -> None:
    """An order the task's queue has, or ``error`` listing them."""
    orders = REGRESSION_QUEUE_ORDERS if regression else CLASSIFICATION_QUEUE_ORDERS
    if order not in orders:
        kind = "a regression" if regression else "a classification"
        raise error(f"order must be one of {orders} for {kind}, got {order!r}.")


def _fast_explainer(ev: Evaluation) -> Any:
    """An Explainer when explaining one row is instant (tree models); None otherwise."""
    if ev.model is None or not hasattr(ev.model, "predict_proba"):
        return None
    from ..explain import Explainer

    try:
        explainer = Explainer(ev, background=10)
    except Exception:  # a model shap cannot explain: the card simply shows no contributions
        return None
    return explainer if explainer.algorithm == "tree" else None


def _same_rows(a: Any, b: Any) -> bool:
    """Whether two queue row states (masks, or stamps) are the same rows."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    return bool(a == b)
