"""ModelComparer: two models on the same rows; where one is right and the other wrong; paired tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import traitlets

from ..compare_models import METRICS_COLUMNS, compare_models, prediction_clauses, withheld_note
from ..evaluation import Evaluation
from ..model_comparison import AGREEMENT_CELLS, ERROR_CELLS
from ..models import check_model_name
from ..plans import Filter
from ..selection import Clause, Predicate, Ref
from .base import LinkedView, as_buffer, is_regression


class ModelComparer(LinkedView):
    """Two models of one Evaluation compared on the same rows, linked to every other view.

    Classification: the agreement matrix (both right, only A right, only B right, both wrong; for
    multiclass also A's predicted class against B's), each cell clickable: "only A right" are the rows
    where B fails and A did not. Regression: the rows where A's absolute error is smaller, equal, or B's is.
    The metrics of every model side by side, each model's paired difference from A with a paired
    bootstrap interval (classification) or a paired t interval (regression), McNemar's exact test for
    the rates that are paired proportions, and a paired t-test of the errors.

    ``a`` and ``b`` name the pair (default: the first two models; the view's pickers change them).
    """

    _bundle = "model_comparer"
    model_a = traitlets.Unicode("").tag(sync=True)
    model_b = traitlets.Unicode("").tag(sync=True)
    task = traitlets.Unicode("binary").tag(sync=True)
    cells = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected_cells = traitlets.List(traitlets.Unicode()).tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    pred_counts = traitlets.Bytes(b"").tag(sync=True)
    selected_pred = traitlets.List(traitlets.List(traitlets.Int())).tag(sync=True)
    metrics = traitlets.List(traitlets.Dict()).tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        evaluation: Evaluation,
        a: str | None = None,
        b: str | None = None,
        n_boot: int = 2000,
        level: float = 0.95,
        **kwargs: Any,
    ) -> None:
        names = list(getattr(evaluation, "models", []))
        if len(names) < 2:
            raise ValueError(
                "ModelComparer compares two or more models, and this Evaluation has one: build it with "
                "models={'baseline': m1, 'candidate': m2} (or y_pred= / y_score= dicts by model name)."
            )
        a = check_model_name(names[0] if a is None else a, names, "a")
        b = check_model_name(next(n for n in names if n != a) if b is None else b, names, "b")
        if a == b:
            raise ValueError(f"a and b are both {a!r}: compare two different models of {names}.")
        if not (isinstance(n_boot, int) and n_boot >= 100):
            raise ValueError(f"n_boot must be an int of at least 100 bootstrap replicates, got {n_boot!r}.")
        if not 0.5 <= level < 1:
            raise ValueError(f"level must be in [0.5, 1), e.g. 0.95, got {level!r}.")
        self.n_boot, self.level = n_boot, level
        self._agreement: dict[str, int] = {}
        self._pairs: dict[str, np.ndarray] = {}
        self._metrics = pd.DataFrame(columns=METRICS_COLUMNS)
        regression = is_regression(evaluation)
        task = "regression" if regression else "binary" if evaluation.n_classes == 2 else "multiclass"
        classes = [] if regression else list(evaluation.class_names)
        super().__init__(evaluation, model_a=a, model_b=b, task=task, classes=classes, **kwargs)

    # -- what the view shows -------------------------------------------------------------------
    @property
    def table(self) -> pd.DataFrame:
        """The agreement cells of the pair: ``a`` and ``b`` (each model's outcome: right / wrong, or for a
        regression better / equal / worse), ``cell`` (its label), ``count`` and ``selected``."""
        regression = self.task == "regression"
        outcomes = (
            {"a_better": ("better", "worse"), "tie": ("equal", "equal"), "b_better": ("worse", "better")}
            if regression
            else {"both_right": ("right", "right"), "only_a_right": ("right", "wrong"),
                  "only_b_right": ("wrong", "right"), "both_wrong": ("wrong", "wrong")}
        )  # fmt: skip
        labels = {c["key"]: c["label"] for c in self.cells}
        return pd.DataFrame(
            [
                {"a": outcomes[key][0], "b": outcomes[key][1], "cell": labels[key], "count": count,
                 "key": key, "selected": key in self.selected_cells}
                for key, count in self._agreement.items()
            ],
            columns=["a", "b", "cell", "count", "key", "selected"],
        )  # fmt: skip

    @property
    def metrics_table(self) -> pd.DataFrame:
        """One row per model and metric: its value, the paired difference from model A (``diff``, with
        ``diff_lo`` / ``diff_hi`` at ``level``), McNemar's exact p-value for rates that are paired
        proportions (``p_mcnemar``), the paired t-test's for a regression's errors (``p_value``)."""
        return self._metrics.copy()

    @property
    def prediction_table(self) -> pd.DataFrame:
        """Classification: rows per (A's predicted class, B's predicted class) on the view's rows."""
        counts = self._pairs.get(self.model_b)
        if counts is None or self.task == "regression":
            return pd.DataFrame(columns=["a_predicted", "b_predicted", "count"])
        pairs = counts.sum(axis=0)
        names = np.asarray(self.evaluation.class_names, dtype=object)
        a, b = np.divmod(np.arange(pairs.size), pairs.shape[0])
        return pd.DataFrame({"a_predicted": names[a], "b_predicted": names[b], "count": pairs.ravel()})

    def to_figure(self) -> Any:
        """Model B's paired difference from A on each metric, with its interval."""
        from ..figures import differences_figure

        rows = self._metrics[self._metrics["model"] == self.model_b]
        return differences_figure(
            list(rows["metric"]), rows["diff"], rows["diff_lo"], rows["diff_hi"],
            f"{self.model_b} minus {self.model_a} on {self.n_rows:,} rows", f"difference ({int(100 * self.level)}% interval)",
        )  # fmt: skip

    def summary(self) -> str:
        lines = [
            f"Model comparer: {self.model_a} (A) and {self.model_b} (B) on {self.n_rows:,} of {self.n_total:,} rows"
        ]
        lines += [f"{c['label']}: {c['count']:,}" for c in self.cells]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    # -- choosing and selecting ------------------------------------------------------------------
    def compare(self, a: str, b: str) -> None:
        """Compare models ``a`` and ``b`` (the pickers call this)."""
        names = self.evaluation.models
        a, b = check_model_name(a, names, "a"), check_model_name(b, names, "b")
        if a == b:
            raise ValueError(f"a and b are both {a!r}: compare two different models of {names}.")
        with self.hold_sync():
            self.model_a, self.model_b = a, b
            self._refresh(data_changed=True)

    def select_cells(self, keys: list[str]) -> None:
        """Select agreement cells by key (see :data:`AGREEMENT_CELLS`, :data:`ERROR_CELLS`): their rows,
        OR-ed; ``[]`` clears."""
        known = ERROR_CELLS if self.task == "regression" else AGREEMENT_CELLS
        bad = [k for k in keys if k not in known]
        if bad:
            raise ValueError(f"cells {bad} are not agreement cells: choose from {known}.")
        if not keys:
            return self.clear()
        self._set_clause(Clause(self.source, tuple(self._cell_term(k) for k in dict.fromkeys(keys))))

    def select_predictions(self, cells: list[tuple[int, int]]) -> None:
        """Select rows where A predicted class i and B class j, for each (i, j) (by class index)."""
        ev = self.evaluation
        k = len(ev.classes)
        pairs = [(int(i), int(j)) for i, j in cells]
        if any(not (0 <= x < k) for pair in pairs for x in pair):
            raise ValueError(f"class indices must be in 0..{k - 1}, got {pairs}.")
        if not pairs:
            return self.clear()
        name = ev.role_names()["predicted"]
        terms = tuple(
            (Predicate(name, "in", (ev.classes[i],), role="predicted", model=self.model_a),
             Predicate(name, "in", (ev.classes[j],), role="predicted", model=self.model_b))
            for i, j in dict.fromkeys(pairs)
        )  # fmt: skip
        self._set_clause(Clause(self.source, terms))

    def _cell_term(self, key: str) -> tuple[Predicate, ...]:
        """The AND-term of a cell: ``predicted[a] == actual and predicted[b] != actual``; a regression's
        ``abs_error[a] < abs_error[b]``."""
        a, b, ev = self.model_a, self.model_b, self.evaluation
        if self.task == "regression":
            if key == "tie":
                return (Predicate("abs_error", "==", (Ref("abs_error", None, b),), model=a),)
            first, second = (a, b) if key == "a_better" else (b, a)
            return (Predicate("abs_error", "<", (Ref("abs_error", None, second),), model=first),)
        names = ev.role_names()
        actual = Ref(names["actual"], "actual")

        def right(model: str, is_right: bool) -> Predicate:
            return Predicate(
                names["predicted"], "==", (actual,), role="predicted", model=model, negated=not is_right
            )

        a_right, b_right = key in ("both_right", "only_a_right"), key in ("both_right", "only_b_right")
        return (right(a, a_right), right(b, b_right))

    def _handle_message(self, content: dict[str, Any]) -> None:
        kind = content.get("type")
        if kind == "select":
            self.select_cells([str(k) for k in content.get("cells", [])])
        elif kind == "select_pred":
            self.select_predictions([tuple(c) for c in content.get("cells", [])])
        elif kind == "pair":
            self.compare(str(content.get("a")), str(content.get("b")))

    # -- recompute -----------------------------------------------------------------------------
    def _compute(self, where: Filter) -> None:
        ev, a, b = self.evaluation, self.model_a, self.model_b
        found = compare_models(ev, a, where, self.n_boot, self.level)
        self._metrics, self._agreement, self._pairs = found.metrics, found.agreement[b], found.pairs
        self.pred_counts = as_buffer(self._pairs[b].sum(axis=0), "u4") if self.task == "multiclass" else b""
        invalid = prediction_clauses(self.evaluation.selection, self.source)
        self.note = withheld_note(invalid)
        if invalid:
            self._metrics[["p_mcnemar", "p_value"]] = np.nan
        self.metrics = [
            {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
            for row in self._metrics.to_dict("records")
        ]
        labels = (
            {"a_better": f"{a} better", "tie": "equal errors", "b_better": f"{b} better"}
            if self.task == "regression"
            else {"both_right": "both right", "only_a_right": f"only {a} right",
                  "only_b_right": f"only {b} right", "both_wrong": "both wrong"}
        )  # fmt: skip
        self.cells = [{"key": k, "label": labels[k], "count": int(n)} for k, n in self._agreement.items()]

    def _highlight(self, clause: Clause | None) -> None:
        terms = set(clause.terms) if clause else set()
        known = ERROR_CELLS if self.task == "regression" else AGREEMENT_CELLS
        self.selected_cells = [k for k in known if self._cell_term(k) in terms]
        ev = self.evaluation
        selected = []
        if self.task == "multiclass":
            index = {c: i for i, c in enumerate(ev.classes)}
            for term in terms:
                by_model = {
                    p.model: p.values[0]
                    for p in term
                    if p.role == "predicted" and p.op == "in" and len(p.values) == 1
                }
                if len(term) == 2 and by_model.keys() == {self.model_a, self.model_b}:
                    selected.append([index[by_model[self.model_a]], index[by_model[self.model_b]]])
        self.selected_pred = sorted(selected)
