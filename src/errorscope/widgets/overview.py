"""ModelOverview and SelectionBar: the dashboard's header (key metrics, class balance, data checks) and
its chips (every active clause, removable, with the count of selected rows)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import traitlets

from ..evaluation import Evaluation
from ..overview import class_balance, data_checks, key_metrics, warning_signs
from ..plans import Filter
from ..selection import Clause
from .base import LinkedView, as_buffer, is_regression


class ModelOverview(LinkedView):
    """The task's key metrics on all rows and on the current selection, class balance and data checks.

    On a regression (``task == "regression"``) the metrics are MAE, RMSE, R², median absolute error, mean
    residual (and MAPE when no actual value is 0), and instead of the class balance it draws the
    distributions of the actual and the predicted values over one range (``actual_counts`` and
    ``predicted_counts`` per bin of ``value_edges``, and the same for the selection).
    """

    _bundle = "overview"
    metric_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    overall = traitlets.Bytes(b"").tag(sync=True)
    selected_metrics = traitlets.Bytes(b"").tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    actual_counts = traitlets.Bytes(b"").tag(sync=True)
    predicted_counts = traitlets.Bytes(b"").tag(sync=True)
    checks = traitlets.List(traitlets.Dict()).tag(sync=True)
    n_features = traitlets.Int(0).tag(sync=True)
    positive_label = traitlets.Unicode("").tag(sync=True)  # the class precision and recall are about
    task = traitlets.Unicode("classification").tag(sync=True)
    value_edges = traitlets.Bytes(b"").tag(sync=True)  # a regression: the bins of its distributions
    selected_actual_counts = traitlets.Bytes(b"").tag(sync=True)  # a regression: the selection's, per bin
    selected_predicted_counts = traitlets.Bytes(b"").tag(sync=True)
    warning_signs = traitlets.List(traitlets.Dict()).tag(sync=True)  # sign, evidence, rule
    curves = traitlets.List(traitlets.Dict()).tag(sync=True)  # per metric and split: steps, values (run mean)
    model_info = traitlets.Dict().tag(sync=True)  # the model summary (estimator, steps, size), {} without one
    split_sizes = traitlets.Dict().tag(sync=True)  # rows of the evaluation and (train=) training sets
    qos = traitlets.List(traitlets.Dict()).tag(sync=True)  # the latest measured quality of service
    qos_status = traitlets.Unicode("").tag(sync=True)  # "", "running", "done" or why it failed
    qos_progress = traitlets.Float(0.0).tag(sync=True)

    def __init__(self, evaluation: Evaluation, **kwargs: Any) -> None:
        super().__init__(evaluation, **kwargs)
        ev = self.evaluation
        self._overall = key_metrics(ev)
        self._checks = data_checks(ev)
        balance = class_balance(ev)
        with self.hold_sync():
            self.metric_names = [k for k in self._overall if k != "rows"]
            self.overall = as_buffer(np.array([self._overall[k] for k in self.metric_names]), "f8")
            self.classes = list(ev.class_names)
            self.task = ev.task
            if is_regression(ev):
                self.value_edges = as_buffer(np.r_[balance["low"], balance["high"].iloc[-1:]], "f8")
            self.actual_counts = as_buffer(balance["actual"].to_numpy(), "u4")
            self.predicted_counts = as_buffer(balance["predicted"].to_numpy(), "u4")
            self.checks = self._checks.astype({"rows": int}).to_dict("records")
            self.n_features = len(ev.features)
            self.positive_label = ev.positive_name or ""
            self._warnings = warning_signs(ev)
            self.warning_signs = self._warnings.to_dict("records")
            self.curves = _curve_payload(getattr(ev, "training_curves", None))
            self.model_info = _model_info(ev)
            train = getattr(ev, "train", None)
            self.split_sizes = {
                "evaluation": ev.n_rows,
                **({"train": _rows_of(train)} if train is not None else {}),
            }
            self._compute(ev.selection.filter())

    @property
    def table(self) -> pd.DataFrame:
        """Key metrics on all rows and on the selection."""
        selection = key_metrics(self.evaluation, self.evaluation.selection.filter())
        return pd.DataFrame({"all rows": self._overall, "selection": selection})

    @property
    def distributions(self) -> pd.DataFrame:
        """A regression's rows per bin of the actual and the predicted values, on all rows and on the
        selection (``selected_actual``, ``selected_predicted``)."""
        from ..overview import value_distributions

        table = value_distributions(self.evaluation)
        for name in ("actual", "predicted"):
            raw = getattr(self, f"selected_{name}_counts")
            table[f"selected_{name}"] = np.frombuffer(raw, dtype="<u4").astype(np.int64)
        return table

    @property
    def checks_table(self) -> pd.DataFrame:
        return self._checks.copy()

    @property
    def warnings(self) -> pd.DataFrame:
        """The warning signs found (sign, evidence, rule): see :func:`errorscope.overview.warning_signs`."""
        return self._warnings.copy()

    @property
    def qos_table(self) -> pd.DataFrame:
        """The latest :meth:`measure_qos` result (empty before one ran)."""
        return pd.DataFrame(self.qos)

    def measure_qos(self, block: bool = False) -> Any:
        """Time the model (latency per row and per 1,000 rows, peak memory) on all rows and the selection
        in the background, its progress shown (``ev.qos()`` measures the same, blocking)."""
        from ..qos import evaluation_qos

        ev = self.evaluation
        if ev.model is None:
            raise ValueError("the quality of service times the model: pass model= to Evaluation.")
        self.qos_status, self.qos_progress = "running", 0.0

        def work(job: Any) -> pd.DataFrame:
            return evaluation_qos(ev, progress=lambda fraction, _message: job.report(fraction))

        def done(table: pd.DataFrame) -> None:
            with self.hold_sync():
                self.qos = [{k: _plain(v) for k, v in row.items()} for row in table.to_dict("records")]
                self.qos_status, self.qos_progress = "done", 1.0

        def failed(err: BaseException) -> None:
            self.qos_status = f"failed: {type(err).__name__}: {err}"

        def progress(fraction: float) -> None:
            self.qos_progress = round(fraction, 3)

        engine_ok = ev.engine.for_thread() is ev.engine
        return ev.jobs.submit("qos", work, owner=self, done=done, failed=failed, progress=progress,
                              block=block or not engine_ok)  # fmt: skip

    # -- static fallback -----------------------------------------------------------------------
    def to_figure(self) -> Any:
        """The distributions of the actual and predicted values (a regression) or rows per actual and
        predicted class, on all rows."""
        from ..figures import balance_figure

        ev = self.evaluation
        if is_regression(ev):
            table = self.distributions
            edges = np.r_[table["low"], table["high"].iloc[-1:]]
            return balance_figure(
                table["actual"], table["predicted"], f"Actual and predicted values ({ev.n_rows:,} rows; filled: the {table['selected_actual'].sum():,} selected)",
                edges=edges, selected=(table["selected_actual"], table["selected_predicted"]),
            )  # fmt: skip
        balance = class_balance(ev)
        return balance_figure(
            balance["actual"], balance["predicted"], f"Rows per class ({ev.n_rows:,} rows)",
            labels=list(balance.index),
        )  # fmt: skip

    def summary(self) -> str:
        """The key metrics on all rows and on the selection (as the report writes them), and the checks."""
        from ..report import count, key_metric_text

        ev = self.evaluation
        table = self.table
        lines = [f"Model overview ({ev.task}): {count(ev.n_rows)} rows"]
        lines.append("  all rows: " + key_metric_text(table["all rows"]))
        selected = ev.selection.filter()
        if not selected.everything:
            lines.append(
                f"  selection ({count(ev.engine.n_kept(selected))} rows): "
                + key_metric_text(table["selection"])
            )
        if len(self._checks):
            found = ", ".join(f"{r.check} ({r.column})" for r in self._checks.itertuples(index=False))
            lines.append(f"  data checks: {found}")
        return "\n".join(lines)

    def _compute(self, where: Filter) -> None:
        if not hasattr(self, "_overall"):
            return  # the first compute runs at the end of __init__
        ev = self.evaluation
        found = key_metrics(ev, where)
        self.selected_metrics = as_buffer(np.array([found.get(k, np.nan) for k in self.metric_names]), "f8")
        if is_regression(ev):
            from ..residuals import residual_bins

            bins = residual_bins(ev)
            n = bins.actual.bins
            counts = ev.engine.count(bins.density, where).counts[:n, :n]
            self.selected_actual_counts = as_buffer(counts.sum(axis=1), "u4")
            self.selected_predicted_counts = as_buffer(counts.sum(axis=0), "u4")

    def _highlight(self, clause: Clause | None) -> None:
        pass  # selects nothing

    def _handle_message(self, content: dict[str, Any]) -> None:
        if content.get("type") == "qos":
            self.measure_qos()


def _rows_of(frame: Any) -> int | None:
    try:
        return len(frame)
    except TypeError:  # a lazy frame: counted where it is
        import narwhals as nw

        counted = nw.from_native(frame).select(nw.len()).lazy().collect()
        return int(counted.item())


def _plain(value: Any) -> Any:
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _curve_payload(curves: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Per metric and split, the steps and the value (the mean over runs) at each."""
    if curves is None or not len(curves):
        return []
    mean = curves.groupby(["metric", "split", "step"], sort=False)["value"].mean().reset_index()
    return [
        {"metric": str(metric), "split": str(split), "steps": [_plain(v) for v in rows["step"]],
         "values": [_plain(v) for v in rows["value"]]}
        for (metric, split), rows in mean.groupby(["metric", "split"], sort=False)
    ]  # fmt: skip


def _model_info(ev: Evaluation) -> dict[str, Any]:
    from ..model_summary import model_summary

    if ev.model is None:
        return {}
    summary = model_summary(ev.model).to_dict()
    return {"estimator": summary["estimator"], "library": summary["library"], "size": summary["size"],
            "changed": [p for p in summary["params"] if p.get("changed")]}  # fmt: skip


class SelectionBar(LinkedView):
    """Every active clause as a chip (remove one by its button), a clear-all button and the row count."""

    _bundle = "selection_bar"
    clauses = traitlets.List(traitlets.Dict()).tag(sync=True)
    n_selected = traitlets.Int(0).tag(sync=True)

    def _compute(self, where: Filter) -> None:
        selection = self.evaluation.selection
        self.n_selected = self.n_rows
        self.clauses = [
            {"source": source, "text": clause.text, "rows": selection.clause_rows(source)}
            for source, clause in selection.clauses.items()
        ]

    def _highlight(self, clause: Clause | None) -> None:
        pass

    def _handle_message(self, content: dict[str, Any]) -> None:
        if content.get("type") == "remove" and content.get("source") in self.evaluation.selection.clauses:
            self.evaluation.selection.remove(str(content["source"]))
        elif content.get("type") == "clear_all":
            self.evaluation.selection.clear()
