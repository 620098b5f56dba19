"""ForceViewer: SHAP force plots (and LIME) for the selection's rows, computed on demand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import traitlets

from ..evaluation import Evaluation
from ..explain import OUTPUT_LABELS, OUTPUTS, Explainer, RowExplanation, explain_in_chunks
from ..jobs import Job
from ..plans import ALL_ROWS, Filter, RowPage
from ..selection import Clause
from .base import LinkedView, as_buffer, display_text, is_regression, outcome_rows, regression_rows


class ForceViewer(LinkedView):
    """Why the model decided as it did on the selected rows.

    Lists the selection's rows (highest loss first); click one for its force plot (our own SVG: base value
    to output, features pushing up and down) with LIME beside it and their rank agreement. Below, for a
    seeded sample of the selection (``sample`` rows; fewer for slow model-agnostic explainers), a stacked
    force plot and the cohort comparison (mean |SHAP| in the selection against the rest); global
    importance on demand. Clicking a feature selects the slice where it pushes predictions most.

    Rows come from the engine (``page`` in loss order for the list, the seeded ``random`` order for the
    samples, ``fetch`` by id), so the viewer works alike in memory and on DuckDB or Spark.

    ``explainer``: "shap" (default) or "lime" (LIME for the clicked row first). ``values`` and
    ``base_values``: precomputed SHAP values instead of a model (``values_output``: the space they are in).
    ``output``: "log_odds" or "probability"; default: the space the model's exact explainer works in
    (probability for random forests, log-odds for boosting and logistic regression).

    On a regression the one output is the prediction, in the target's units (base value + contributions
    = ``model.predict``); the rows are listed by |residual| (largest first) with their actual, predicted
    and residual values; LIME runs in regression mode.

    With several models the viewer explains the active model, and ``compare_model`` (default: the next
    model with an estimator) side by side for the same row and class (``compare_table``).
    """

    _bundle = "force_viewer"
    primary = traitlets.Enum(("shap", "lime"), "shap")  # the explainer asked for (the kernel side only)
    output = traitlets.Enum(OUTPUTS, "log_odds").tag(sync=True)
    task = traitlets.Unicode("classification").tag(sync=True)
    outputs = traitlets.List(traitlets.Unicode()).tag(sync=True)  # the spaces this model can be explained in
    class_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    explain_class = traitlets.Unicode("").tag(sync=True)  # "" = each row's predicted class
    algorithm = traitlets.Unicode("").tag(sync=True)
    n_selected = traitlets.Int(0).tag(sync=True)
    rows_page = traitlets.Int(0).tag(sync=True)
    rows_page_size = traitlets.Int(8).tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    current = traitlets.Unicode("").tag(sync=True)  # the clicked row's id
    force = traitlets.Dict().tag(sync=True)
    lime = traitlets.Dict().tag(sync=True)
    stacked = traitlets.Dict().tag(sync=True)
    stacked_order = traitlets.Enum(("output", "similarity"), "output").tag(sync=True)
    cohort = traitlets.Dict().tag(sync=True)
    importance = traitlets.Dict().tag(sync=True)
    job_status = traitlets.Unicode("idle").tag(sync=True)
    job_progress = traitlets.Float(0.0).tag(sync=True)
    sampling = traitlets.Unicode("").tag(sync=True)
    selected_feature = traitlets.Unicode("").tag(sync=True)
    compare_model = traitlets.Unicode("").tag(sync=True)  # several models: explained beside the active one
    compare_models = traitlets.List(traitlets.Unicode()).tag(sync=True)  # the models that can be
    compare_force = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        evaluation: Evaluation,
        explainer: str = "shap",
        output: str | None = None,
        sample: int = 100,
        values: Any = None,
        base_values: Any = None,
        background: int = 50,
        seed: int = 0,
        values_output: str = "log_odds",
        **kwargs: Any,
    ) -> None:
        if explainer not in ("shap", "lime"):
            raise ValueError(f"explainer must be 'shap' or 'lime', got {explainer!r}.")
        if output is not None and output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}.")
        self._explainer_options = {"background": background, "seed": seed}
        if isinstance(evaluation, Evaluation):
            self.explainer = Explainer(
                evaluation, values, base_values, background=background, seed=seed, values_output=values_output
            )
            self._explainers = {evaluation.active_model: self.explainer}  # one per model, built when shown
            if output is not None and output not in self.explainer.outputs:
                raise ValueError(
                    f"output must be one of {self.explainer.outputs} for these precomputed values, got "
                    f"{output!r} (pass values_output= to say which space the values are in)."
                )
        self.seed = seed
        self._sample_cap = sample
        self._job: Job[RowExplanation] | None = None
        self._lime_job: Job[dict[str, Any]] | None = None
        self._lime_asked = 0
        self._explained: RowExplanation | None = None
        self._rest_rows = np.zeros(0, dtype=np.int64)
        self._where: Filter | None = None  # the selection the viewer shows (set on the first highlight)
        output = self.explainer.native_output if output is None else output
        super().__init__(
            evaluation,
            primary=explainer,
            output=output,
            task="regression" if is_regression(evaluation) else "classification",
            **kwargs,
        )
        self.class_names = list(self.evaluation.class_names)
        self.outputs = list(self.explainer.outputs)
        self.algorithm = self.explainer.algorithm_for(self.output)
        self.compare_models = [m for m in self.evaluation.models if self._can_explain(m)]
        others = [m for m in self.compare_models if m != self.evaluation.active_model]
        self.compare_model = others[0] if others else ""

    # -- what the view shows -------------------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        """The clicked row's explanation (feature, value, contribution), or empty."""
        if not self.current:
            return pd.DataFrame(columns=["feature", "value", "contribution"])
        row = self._row_of(self.current)
        return self.explainer.explain(row, self._class_index(), self.output).frame(0, self._data())

    def to_figure(self) -> Any:
        """The clicked row's contributions, or else global mean |SHAP| of the first rows, as bars."""
        from ..figures import bars_figure

        if self.current:
            frame = self.table.head(15)
            labels = [
                f"{f} = {display_text(v)}" for f, v in zip(frame["feature"], frame["value"], strict=True)
            ]
            title = f"Row {self.current}: base {frame.attrs['base_value']:.3g} -> output {frame.attrs['output']:.3g}"
            return bars_figure(
                labels,
                frame["contribution"],
                title,
                f"contribution ({OUTPUT_LABELS[self.output]})",
                signed=True,
            )
        rows = self._page("loss", 20) if self._where is not None else []
        if not len(rows):
            return bars_figure([], [], "No rows selected", "")
        explained = self.explainer.explain(rows, None, self.output)
        importance = np.abs(explained.values).mean(axis=0)
        order = np.argsort(-importance)[:15]
        labels = [explained.features[i] for i in order]
        return bars_figure(
            labels, importance[order], f"Mean |SHAP| over {len(rows)} selected rows", "mean |SHAP|"
        )

    def summary(self) -> str:
        lines = [f"Force viewer ({self.algorithm} explainer): {self.n_selected:,} selected rows"]
        if self.current:
            frame = self.table.head(5)
            pushes = ", ".join(
                f"{f} {c:+.3g}" for f, c in zip(frame["feature"], frame["contribution"], strict=True)
            )
            lines.append(f"row {self.current}: {pushes}")
        return "\n".join(lines)

    @property
    def compare_table(self) -> pd.DataFrame:
        """The clicked row's explanation by ``compare_model`` (for the class the active model's is about),
        or empty."""
        explainer = self._compare_explainer()
        if not self.current or explainer is None:
            return pd.DataFrame(columns=["feature", "value", "contribution"])
        row = self._row_of(self.current)
        return explainer.explain(row, self._shown_class(), self._output_of(explainer)).frame(0, self._data())

    def _output_of(self, explainer: Explainer) -> str:
        """The viewer's output when ``explainer`` has it, else its own."""
        return self.output if self.output in explainer.outputs else explainer.native_output

    def _can_explain(self, model: str) -> bool:
        """Whether ``model`` can be explained here: its estimator is known, on the viewer's features."""
        ev = self.evaluation
        if model == ev.active_model:
            return True
        found = ev.predictions(model)
        return found.model is not None and list(found.features) == list(self.explainer.features)

    def _explainer_of(self, model: str) -> Explainer:
        """The explainer of ``model`` (built once; the same background rows and seed as the first)."""
        if model not in self._explainers:
            estimator = self.evaluation.predictions(model).model
            self._explainers[model] = Explainer(self.evaluation, model=estimator, **self._explainer_options)
        return self._explainers[model]

    def _compare_explainer(self) -> Explainer | None:
        model = self.compare_model
        if not model or model == self.evaluation.active_model or model not in self.compare_models:
            return None
        return self._explainer_of(model)

    def _follow_active_model(self) -> None:
        """The active model changed: explain it (its explainer: built once), and compare with another."""
        ev = self.evaluation
        if self._explainers.get(ev.active_model) is self.explainer:
            return
        if not self._can_explain(ev.active_model) and ev.active_model not in self._explainers:
            raise ValueError(
                f"model {ev.active_model!r} cannot be explained: pass its fitted estimator in models= "
                "(on the same features as the others)."
            )
        self.explainer = self._explainer_of(ev.active_model)
        self.outputs = list(self.explainer.outputs)
        if self.output not in self.outputs:
            self.output = self.explainer.native_output
        self.algorithm = self.explainer.algorithm_for(self.output)
        if self.compare_model == ev.active_model:
            others = [m for m in self.compare_models if m != ev.active_model]
            self.compare_model = others[0] if others else ""

    def explain_row(self, row_id: Any) -> pd.DataFrame:
        """Show and return the explanation of the row with id ``row_id``."""
        self.current = str(row_id)
        return self.table

    def wait(self, timeout: float = 120) -> None:
        """Block until the background explanations finish (for scripts and tests)."""
        if self._job is not None:
            self._job.wait(timeout, raise_error=False)  # a failure shows in the view's status

    # -- messages ------------------------------------------------------------------------------
    def _handle_message(self, content: dict[str, Any]) -> None:
        kind = content.get("type")
        if kind == "select_feature":
            self.select_feature(str(content["feature"]))
        elif kind == "importance":
            self.compute_importance()
        elif kind == "cancel":
            self.cancel()

    def select_feature(self, feature: str) -> None:
        """Select the slice of ``feature`` where it pushes the explained class most (from the sample)."""
        explained = self._explained
        if explained is None or not len(explained.rows):
            explained = self.explainer.explain(
                self._sample_rows(self.evaluation.selection.filter()), self._class_index(), self.output
            )
        predicate = self.explainer.pushing_slice(feature, explained)
        self.selected_feature = feature
        self._set_clause(Clause.where(self.source, predicate))

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.job_status = "cancelled"

    def compute_importance(self, rows: int = 500) -> None:
        """Global importance in the background: mean |SHAP| over a seeded sample and permutation importance."""
        ev = self.evaluation
        sample = self._sample_rows(ALL_ROWS, min(rows, self._cap() * 2))
        c = self._class_index() if self._class_index() is not None else (1 if ev.is_binary else 0)

        def done(_: RowExplanation) -> None:
            frame = self.explainer.importance(
                sample, c, permutation=self.explainer.model is not None, output=self.output
            )
            self.importance = {
                "features": frame["feature"].tolist(),
                "mean_abs_shap": as_buffer(frame["mean_abs_shap"].to_numpy(), "f8"),
                "permutation": as_buffer(frame["permutation"].to_numpy(), "f8")
                if "permutation" in frame
                else b"",
                "rows": len(sample),
                "class": self._class_name(c),
            }
            self.job_status = "done"

        self._start(sample, c, done)

    # -- recompute -----------------------------------------------------------------------------
    def _compute(self, where: Filter) -> None:
        pass  # the viewer follows the whole selection: see _highlight

    def _highlight(self, clause: Clause | None) -> None:
        if not hasattr(self, "explainer"):
            return
        if clause is None:
            self.selected_feature = ""
        self._follow_active_model()
        ev = self.evaluation
        self._where = ev.selection.filter()
        self.n_selected = ev.engine.n_kept(self._where)
        self._show_rows()
        self._explain_sample(self._where)

    def _page(self, order: str, limit: int, offset: int = 0) -> np.ndarray:
        """Keys of the selection's rows in ``order`` (ids from the engine, as the explainer's keys)."""
        assert self._where is not None
        ids = self.evaluation.engine.page(RowPage(order, limit=limit, offset=offset), self._where)  # type: ignore[arg-type]
        return self.explainer.rows.of_ids(ids) if len(ids) else np.zeros(0, dtype=np.int64)

    def _show_rows(self) -> None:
        ev = self.evaluation
        size = max(1, self.rows_page_size)
        pages = max(1, -(-self.n_selected // size))
        if self.rows_page >= pages:
            self.rows_page = pages - 1
        ids = ev.engine.page(RowPage("loss", limit=size, offset=self.rows_page * size), self._where)
        rows = regression_rows if is_regression(ev) else outcome_rows
        self.rows = rows(ev, ev.engine.fetch(ids)) if len(ids) else []

    def _cap(self) -> int:
        slow = self.explainer.algorithm_for(self.output) == "permutation"
        return min(self._sample_cap, 20) if slow else self._sample_cap

    def _sample_rows(self, where: Filter, n: int | None = None) -> np.ndarray:
        """Keys of a seeded sample of the rows ``where`` keeps (the first rows of the ``random`` order, the
        same rows on every engine), in the data's order."""
        plan = RowPage("random", limit=self._cap() if n is None else n, seed=self.seed)
        ids = self.evaluation.engine.page(plan, where)
        return self.explainer.rows.of_ids(ids) if len(ids) else np.zeros(0, dtype=np.int64)

    def _rest(self, where: Filter) -> Filter | None:
        """The rows ``where`` leaves out (None when it keeps every row)."""
        engine = self.evaluation.engine
        if where.everything:
            return None
        if self.evaluation.in_memory:
            return engine.as_filter(~engine.mask(where))
        return engine.complement(where)

    def _explain_sample(self, where: Filter) -> None:
        """Explain a sample of the selection and of the rest in the background, then show the stacked
        force plot and the cohort comparison."""
        ev = self.evaluation
        selected = self._sample_rows(where)
        rest = self._rest(where)
        self._rest_rows = self._sample_rows(rest) if rest is not None else np.zeros(0, dtype=np.int64)
        n_kept = self.n_selected
        shown = f"{len(selected):,} of {n_kept:,} selected rows"
        self.sampling = (
            f"explained a seeded sample of {shown}" if len(selected) < n_kept else f"explained all {shown}"
        )
        c = self._class_index()

        def done(result: RowExplanation) -> None:
            explained = self.explainer.explain(selected, c, self.output)
            self._explained = explained
            self.stacked = self._stacked_payload(explained)
            cohort_class = (
                c
                if c is not None
                else (
                    1
                    if ev.is_binary
                    else 0
                    if is_regression(ev)
                    else int(np.bincount(self.explainer.rows.predicted(selected)).argmax())
                    if len(selected)
                    else 0
                )
            )
            frame = self.explainer.cohort_comparison(selected, self._rest_rows, cohort_class, self.output)
            self.cohort = {
                "showing": frame.attrs["showing"],
                "features": frame["feature"].tolist(),
                "selection": as_buffer(frame["selection"].to_numpy(), "f8"),
                "rest": as_buffer(frame["rest"].to_numpy(), "f8"),
                "difference": as_buffer(frame["difference"].to_numpy(), "f8"),
                "class": self._class_name(cohort_class),
            }
            self.job_status = "done"

        self._start(_joined(selected, self._rest_rows), c, done)

    def _start(self, rows: np.ndarray, c: int | None, done: Any) -> None:
        if self._job is not None:
            self._job.cancel()
        self.job_status, self.job_progress = "running", 0.0

        def progress(fraction: float) -> None:
            self.job_progress = round(fraction, 3)

        def finished(result: RowExplanation) -> None:
            try:
                done(result)
            except Exception as err:  # shown in the view rather than lost in a thread
                self.job_status = f"failed: {type(err).__name__}: {err}"

        def failed(err: BaseException) -> None:
            self.job_status = f"failed: {type(err).__name__}: {err}"

        explainer, output = self.explainer, self.output
        explainer.prefetch(rows)  # the rows are read here; the job only computes
        self._job = self.evaluation.jobs.submit(
            "explain",
            lambda job: explain_in_chunks(explainer, rows, c, output, job),
            owner=self, done=finished, failed=failed, progress=progress,
        )  # fmt: skip

    def _stacked_payload(self, explained: RowExplanation) -> dict[str, Any]:
        values = explained.values
        if self.stacked_order == "output":
            order = np.argsort(explained.outputs, kind="stable")
        else:  # similarity: rows next to rows with similar explanations (hierarchical clustering, scipy)
            from scipy.cluster.hierarchy import leaves_list, linkage

            order = leaves_list(linkage(values, "average")) if len(values) > 2 else np.arange(len(values))
        return {
            "features": explained.features,
            "ids": self.explainer.rows.id_text(explained.rows[order]),
            "values": as_buffer(values[order], "f8"),
            "outputs": as_buffer(explained.outputs[order], "f8"),
            "bases": as_buffer(explained.base_values[order], "f8"),
            "space": self.output,
            "classes": [self._class_name(c) for c in np.unique(explained.class_index)],
        }

    def _class_name(self, c: int) -> str:
        """Class ``c``'s name (a regression's one output: "prediction")."""
        return "prediction" if is_regression(self.evaluation) else self.evaluation.class_names[int(c)]

    def _class_index(self) -> int | None:
        if not self.explain_class:
            return None
        return list(self.evaluation.class_names).index(self.explain_class)

    def _data(self) -> pd.DataFrame | None:
        return self.evaluation.data if self.evaluation.in_memory else None

    def _row_of(self, row_id: str) -> np.ndarray:
        """The explainer's key of the row with id ``row_id`` (one key, as an array)."""
        try:
            return self.explainer.rows.of_ids([row_id])
        except ValueError:
            raise ValueError(f"{row_id!r} is not a row id of this Evaluation.") from None

    def _show_force_only(self, row_id: str) -> None:
        """What a click does before LIME: explain the row and send its force plot (for the benchmark)."""
        self._force_payload(self._row_of(row_id), row_id)

    def _force_payload(self, row: np.ndarray, row_id: str) -> RowExplanation:
        ev = self.evaluation
        explained = self.explainer.explain(row, self._class_index(), self.output)
        payload = self._plot_payload(explained, row_id, self.output)
        if is_regression(ev):
            actual = float(self.explainer.rows.actual(row)[0])
            predicted = float(self.explainer.rows.predicted_value(row)[0])
            payload.update(actual=f"{actual:.6g}", predicted=f"{predicted:.6g}", residual=predicted - actual)
        else:
            payload.update(
                actual=ev.class_names[int(self.explainer.rows.actual_codes(row)[0])],
                predicted=ev.class_names[int(self.explainer.rows.predicted(row)[0])],
            )
        self.force = payload
        self._compare_payload(row, row_id, int(explained.class_index[0]))
        return explained

    def _plot_payload(self, explained: RowExplanation, row_id: str, output: str) -> dict[str, Any]:
        """A force plot's payload: one explained row's contributions, base value and output."""
        frame = explained.frame(0, self._data())
        return {
            "id": row_id,
            "features": frame["feature"].tolist(),
            "values": [display_text(v) for v in frame["value"]],
            "contributions": as_buffer(frame["contribution"].to_numpy(), "f8"),
            "base": frame.attrs["base_value"],
            "output": frame.attrs["output"],
            "class": self._class_name(int(explained.class_index[0])),
            "space": output,
        }

    def _compare_payload(self, row: np.ndarray, row_id: str, class_index: int) -> None:
        """The compare model's force plot of the same row and class (in the viewer's output when it has
        it, else in its own)."""
        explainer = self._compare_explainer()
        if explainer is None:
            self.compare_force = {}
            return
        output = self._output_of(explainer)
        payload = {
            "model": self.compare_model,
            **self._plot_payload(explainer.explain(row, class_index, output), row_id, output),
        }
        ev = self.evaluation
        if ev.in_memory and not is_regression(ev):  # its prediction of the row (in memory: by position)
            codes = ev.predictions(self.compare_model).pred_codes
            payload["predicted"] = ev.class_names[int(codes[int(row[0])])]  # type: ignore[index]
        elif ev.in_memory:
            predicted = ev.predictions(self.compare_model).predicted_values
            payload["predicted"] = f"{float(predicted[int(row[0])]):.6g}"  # type: ignore[index]
        self.compare_force = payload

    def _show_current(self) -> None:
        if not self.current:
            self.force, self.lime = {}, {}
            return
        row = self._row_of(self.current)
        explained = self._force_payload(row, self.current)
        self._lime_asked += 1
        if self.primary != "lime" and self.explainer.model is None:
            self.lime = {}
            return
        self.lime = {"status": "Computing LIME…"}
        asked, class_index = self._lime_asked, int(explained.class_index[0])
        self.explainer.prefetch(row, lime=True)

        def work(_job: Job[dict[str, Any]]) -> dict[str, Any]:  # LIME takes 0.1-1 s: in the background
            weights = self.explainer.lime(row[0], class_index)
            return {
                "features": weights["feature"].tolist(),
                "weights": as_buffer(weights["weight"].to_numpy(), "f8"),
                "agreement": weights.attrs["agreement"],
            }

        def shown(payload: dict[str, Any]) -> None:
            if asked == self._lime_asked:  # the newest click wins
                self.lime = payload

        def failed(err: BaseException) -> None:
            shown({"status": f"LIME failed: {type(err).__name__}: {err}"})

        self._lime_job = self.evaluation.jobs.submit("lime", work, owner=self, done=shown, failed=failed)

    def wait_for_lime(self, timeout: float | None = None) -> None:
        """Block until the clicked row's LIME weights (computed in the background) are in ``lime``."""
        if self._lime_job is not None:
            self._lime_job.wait(timeout, raise_error=False)  # a failure shows in the view's status

    # -- UI-driven changes ---------------------------------------------------------------------
    @traitlets.observe("compare_model")
    def _compare_changed(self, _change: dict[str, Any]) -> None:
        if getattr(self, "_where", None) is not None and self.current:
            self._compare_payload(self._row_of(self.current), self.current, self._shown_class())

    def _shown_class(self) -> int:
        return int(
            self.explainer.explain(self._row_of(self.current), self._class_index(), self.output).class_index[
                0
            ]
        )

    @traitlets.observe("current", "output", "explain_class")
    def _current_changed(self, change: dict[str, Any]) -> None:
        if not hasattr(self, "explainer") or getattr(self, "_where", None) is None:
            return
        self.algorithm = self.explainer.algorithm_for(self.output)
        self._show_current()
        if change["name"] != "current":
            self._explain_sample(self.evaluation.selection.filter())

    @traitlets.observe("rows_page")
    def _turn_page(self, _change: dict[str, Any]) -> None:
        if getattr(self, "_where", None) is not None:
            self._show_rows()

    @traitlets.observe("stacked_order")
    def _restack(self, _change: dict[str, Any]) -> None:
        if self._explained is not None:
            self.stacked = self._stacked_payload(self._explained)

    def close(self) -> None:
        if hasattr(self, "_job"):  # absent when __init__ failed early
            self.evaluation.jobs.cancel(owner=self)
        super().close()


def _joined(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two arrays of keys as one (ids of mixed types stay objects)."""
    if not len(b):
        return a
    return (
        np.concatenate([a.astype(object), b.astype(object)]) if a.dtype != b.dtype else np.concatenate([a, b])
    )
