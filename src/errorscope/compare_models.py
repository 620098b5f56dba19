"""An Evaluation's models compared on the rows of a filter: the plans go to the engine, the paired
statistics (:mod:`errorscope.model_comparison`) turn their counts into tables.

Model A is the reference; every other model is compared with it on the same rows: classification from
rows per (actual, A's predicted class, the other's), a regression from sums of each model's errors and of
their per-row differences. The model comparer and the report show these tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .evaluation import Evaluation
from .model_comparison import ERROR_CELLS, agreement_counts, paired_class_metrics, paired_error_metrics
from .plans import PAIRED_MEASURES, Filter, GroupCounts, Key, Measure
from .selection import Selection

METRICS_COLUMNS = ("model", "metric", "value", "diff", "diff_lo", "diff_hi", "p_mcnemar", "p_value", "n")


PREDICTION_CLAUSES = frozenset({"predicted", "score", "confidence", "residual", "tag"})
"""What a clause reads that makes a paired test on its rows invalid: the models' predictions (a slice of one
model's errors is not a random sample of rows), their scores, residuals, and tags written while reviewing
errors."""


def prediction_clauses(selection: Selection, exclude: str) -> str:
    """The text of the clauses (but view ``exclude``'s) that read predictions, scores, residuals or tags,
    or whose rows a search of the errors found: "" when the rows they keep are a sample a paired test
    applies to."""
    return " and ".join(
        c.text + (" (found by searching the errors)" if c.searched else "")
        for s, c in selection.clauses.items()
        if s != exclude and (c.searched or {n.removeprefix("es_") for n in c.columns} & PREDICTION_CLAUSES)
    )  # fmt: skip


@dataclass
class Comparison:
    """Every model against model ``a`` on one filter's rows.

    ``metrics``: one row per model and metric (:data:`METRICS_COLUMNS`; ``diff`` is the model's value
    minus A's); ``agreement``: per other model, its cells with A (classification: both right, only A
    right, only B right, both wrong; a regression: A better, tie, B better); ``pairs``: per other model,
    classification rows per (actual, A's predicted, its predicted), shaped (k, k, k).
    """

    a: str
    metrics: pd.DataFrame
    agreement: dict[str, dict[str, int]] = field(default_factory=dict)
    pairs: dict[str, np.ndarray] = field(default_factory=dict)


def compare_models(
    ev: Evaluation, a: str, where: Filter, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> Comparison:
    """Every model of ``ev`` against model ``a`` on the rows ``where`` keeps."""
    others = [m for m in ev.models if m != a]
    found = Comparison(a, pd.DataFrame(columns=METRICS_COLUMNS))
    parts: list[dict[str, np.ndarray]] = []
    for model in others:
        if ev.is_regression:
            rows, found.agreement[model] = _regression_pair(ev, a, model, where, level)
        else:
            plan = GroupCounts((Key.actual(), Key.predicted(model=a), Key.predicted(model=model)))
            counts = ev.engine.count(plan, where).counts
            found.pairs[model], found.agreement[model] = counts, agreement_counts(counts)
            rows = paired_class_metrics(counts, ev.positive_code, n_boot, level, seed)
            rows["p_value"] = np.nan
        if not parts:  # model A's own values, once
            parts.append(_model_rows(rows, a, "a", reference=True))
        parts.append(_model_rows(rows, model, "b"))
        if not ev.is_regression and ev.positive_code is not None:  # precision: over the model's positives
            precision = parts[-1]["metric"] == "precision"
            parts[-1]["n"][precision] = float(counts[:, :, ev.positive_code].sum())
    found.metrics = pd.DataFrame({c: np.concatenate([p[c] for p in parts]) for c in METRICS_COLUMNS})
    return found


def _regression_pair(
    ev: Evaluation, a: str, b: str, where: Filter, level: float
) -> tuple[pd.DataFrame, dict[str, int]]:
    """A regression's paired errors of ``b`` against ``a``: one plan of the three cells and the sums."""
    measures = {
        "abs_error_a": Measure("abs_error", model=a), "abs_error_b": Measure("abs_error", model=b),
        "sq_error_a": Measure("sq_error", model=a), "sq_error_b": Measure("sq_error", model=b),
        "sq_error2_a": Measure("sq_error2", model=a), "sq_error2_b": Measure("sq_error2", model=b),
        **{kind: Measure(kind, model=b, other=a) for kind in sorted(PAIRED_MEASURES)},  # type: ignore[arg-type]
    }  # fmt: skip
    counted = ev.engine.count(GroupCounts((Key.better(a, b),), tuple(measures.values())), where)
    n = int(counted.counts.sum())
    rows = paired_error_metrics(n, dict(zip(measures, counted.sums.sum(axis=1).tolist(), strict=True)), level)
    rows["p_mcnemar"], rows["n"] = np.nan, n
    return rows, dict(zip(ERROR_CELLS, (int(c) for c in counted.counts), strict=True))


def _model_rows(found: pd.DataFrame, model: str, side: str, reference: bool = False) -> dict[str, np.ndarray]:
    """One model's rows of the metrics table, as columns, from a paired comparison's (``side``: its
    column there)."""
    n = len(found)
    out = {"model": np.full(n, model, dtype=object), "metric": found["metric"].to_numpy(dtype=object),
           "value": found[side].to_numpy(dtype=np.float64)}  # fmt: skip
    for column in ("diff", "diff_lo", "diff_hi", "p_mcnemar", "p_value"):
        out[column] = np.full(n, np.nan) if reference else found[column].to_numpy(dtype=np.float64)
    out["n"] = found["n"].to_numpy(dtype=np.float64).copy() if "n" in found else np.full(n, np.nan)
    return out


def withheld_note(invalid: str) -> str:
    """Why a view shows no p-values (``invalid``: :func:`prediction_clauses`' text), or ""."""
    if not invalid:
        return ""
    return (
        f"No p-values: the rows are chosen by {invalid}, from the models' predictions or errors (or tags "
        "written while reviewing them), so they are not a sample the tests apply to."
    )
