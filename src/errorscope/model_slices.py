"""Two models compared on every single-column slice: each one's metric there, the difference, a paired test.

The slices are the slice table's (:func:`errorscope.slicing.slice_columns`: the same codes, keys and
predicates). Per slice, on the rows ``where`` keeps:

- **classification**: each model's error rate, ``diff`` = B's - A's, the discordant rows ``only_a_right``
  (B worse) and ``only_b_right``, and McNemar's exact test on them (two-sided: 2 P(X <= min), X ~
  Binomial(discordant, 1/2), as statsmodels' ``mcnemar(exact=True)``), vectorised over the slices; all
  from one :class:`~errorscope.plans.Marginals` plan: rows per (slice, A's wrong bit, B's wrong bit).
- **regression**: each model's MAE, ``diff`` = B's - A's, and the paired t-test of d = |e_B| - |e_A| from
  its count, sum and sum of squares per slice (:func:`errorscope.model_comparison.paired_mean_difference`,
  vectorised), from one :class:`~errorscope.plans.GroupingSets` plan (one set per column).

Benjamini-Hochberg over the slices tested gives ``q``. A slice of a column that reads the predictions
(the predicted class, the score or confidence, the residual, a tag: :data:`PREDICTION_SLICES`) is not
tested: its rows are chosen by a model's output, so a paired test on them is not valid (``tested`` is
False); ``withhold=True`` (the caller's rows are chosen by the predictions) tests none.

Rows are sorted where B is worse most first: the significant slices (q < ``level``'s alpha) by ``diff``
descending, then the rest by ``diff`` (slices under the support after the supported ones).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .coding import ColumnCodes
from .discovery import bh_adjusted
from .evaluation import Evaluation
from .models import check_model_name
from .plans import Filter, GroupingSets, Key, Marginals, Measure
from .slicing import _reads_outcome, column_role, default_min_support, slice_columns, slice_key

PREDICTION_SLICES = frozenset({"predicted", "score", "confidence", "residual"})
"""Sliced columns that read a model's output (``es_`` prefixed when the data has the name): not tested."""
COLUMNS = ["feature", "group", "slice", "rows", "a", "b", "diff"]
CLASS_COLUMNS = ["only_a_right", "only_b_right"]
TAIL = ["p_value", "q", "tested", "description", "role", "key", "predicate", "supported"]


def check_pair(ev: Evaluation, a: str, b: str) -> tuple[str, str]:
    """(a, b), two different models of the Evaluation, or a ValueError naming the argument."""
    a, b = check_model_name(a, ev.models, "a"), check_model_name(b, ev.models, "b")
    if a == b:
        raise ValueError(f"a and b are both {a!r}: compare two different models of {ev.models}.")
    return a, b


def reads_predictions(coded: ColumnCodes) -> bool:
    """Whether a sliced column's codes come from a model's output (its slices are not tested)."""
    if coded.kind == "tag":
        return True
    if coded.kind == "class":
        return coded.predicates[0].role == "predicted"
    return coded.column.removeprefix("es_") in PREDICTION_SLICES


def mcnemar_two_sided(only_a_right: np.ndarray, only_b_right: np.ndarray) -> np.ndarray:
    """Exact McNemar p-values per slice (:func:`errorscope.model_comparison.mcnemar_exact`, vectorised)."""
    b, c = np.asarray(only_a_right, dtype=np.int64), np.asarray(only_b_right, dtype=np.int64)
    return np.where(b + c > 0, np.minimum(1.0, 2 * stats.binom.cdf(np.minimum(b, c), b + c, 0.5)), 1.0)


def paired_t_p_values(n: np.ndarray, sum_d: np.ndarray, sum_d2: np.ndarray) -> np.ndarray:
    """Two-sided paired t p-values per slice from each one's count, sum and sum of squares of d
    (:func:`errorscope.model_comparison.paired_mean_difference`, vectorised): NaN under 2 rows; with no
    variance 1.0 when the mean is 0, else 0.0."""
    n = np.asarray(n, dtype=np.float64)
    sum_d, sum_d2 = np.asarray(sum_d, dtype=np.float64), np.asarray(sum_d2, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = sum_d / n
        ss = sum_d2 - sum_d**2 / n
        ss = np.where(ss <= 64 * np.finfo(np.float64).eps * np.abs(sum_d2), 0.0, ss)
        se = np.sqrt(ss / (n - 1) / n)
        p = 2 * stats.t.sf(np.abs(mean) / se, n - 1)
    p = np.where(se == 0, np.where(mean == 0, 1.0, 0.0), p)
    return np.where(n >= 2, p, np.nan)


def model_slice_table(
    ev: Evaluation,
    a: str,
    b: str,
    where: Filter | np.ndarray | None = None,
    columns: Sequence[str] | None = None,
    withhold: bool = False,
    min_support: int | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Every single-column slice of the rows ``where`` keeps with models ``a`` and ``b`` compared there
    (see the module docstring), B worse first.

    Columns: feature, group, slice, rows, a, b (each model's error rate, a regression's MAE), diff (b - a),
    only_a_right and only_b_right (a classification's discordant rows), p_value (McNemar's exact test;
    a regression's paired t-test of |e_b| - |e_a|), q (Benjamini-Hochberg over the tested slices),
    tested, description, role, key and predicate (as :func:`errorscope.slicing.slice_table`'s: the same
    key selects the same slice), supported (at least ``min_support`` rows, default
    :func:`errorscope.slicing.default_min_support`). Empty slices are left out.
    """
    a, b = check_pair(ev, a, b)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), e.g. 0.05, got {alpha!r}.")
    coded = slice_columns(ev, columns)
    engine = ev.engine
    where = engine.as_filter(where)
    keys = tuple(slice_key(c) for c in coded)
    out: dict[str, np.ndarray] = {}
    if ev.is_regression:
        measures = (
            Measure("abs_error", model=a), Measure("abs_error", model=b),
            Measure("abs_error_diff", model=b, other=a), Measure("abs_error_diff2", model=b, other=a),
        )  # fmt: skip
        counted = engine.grouping_sets(GroupingSets(tuple((k,) for k in keys), measures), where)
        rows = np.concatenate([c.counts for c in counted]).astype(np.int64)
        sums = np.concatenate([c.sums for c in counted], axis=1) if counted else np.zeros((4, 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            out["a"], out["b"] = sums[0] / rows, sums[1] / rows
            out["diff"] = sums[2] / rows
        p_value = paired_t_p_values(rows, sums[2], sums[3])
    else:
        plan = Marginals(keys, (Key.outcome(None, model=a), Key.outcome(None, model=b)))
        tables = engine.marginals(plan, where)  # per column (codes, A wrong, B wrong)
        cells = np.concatenate(tables).reshape(-1, 4) if tables else np.zeros((0, 4), dtype=np.int64)
        rows = cells.sum(axis=1)
        wrong_a, wrong_b = cells[:, 2] + cells[:, 3], cells[:, 1] + cells[:, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            out["a"], out["b"] = wrong_a / rows, wrong_b / rows
            out["diff"] = out["b"] - out["a"]
        out["only_a_right"], out["only_b_right"] = cells[:, 1], cells[:, 2]
        p_value = mcnemar_two_sided(cells[:, 1], cells[:, 2])
    n_codes = [c.n_codes for c in coded]
    tested = np.repeat(np.array([not reads_predictions(c) for c in coded], dtype=bool), n_codes)
    tested &= (rows > 0) & (not withhold)
    out["p_value"] = np.where(tested, p_value, np.nan)
    feature = np.repeat(np.array([c.column for c in coded], dtype=object), n_codes)
    labels = np.array([label for c in coded for label in c.labels], dtype=object)
    binned = [c.kind == "numeric" and label != "missing" for c in coded for label in c.labels]
    predicates = np.empty(len(labels), dtype=object)
    predicates[:] = [p for c in coded for p in c.predicates]
    outcome = np.repeat(np.array([_reads_outcome(ev, c) for c in coded], dtype=bool), n_codes)
    n_kept = int(rows[: n_codes[0]].sum()) if coded else 0
    support = default_min_support(n_kept) if min_support is None else min_support
    out.update(
        feature=feature,
        group=np.where(outcome, "outcome", "feature").astype(object),
        slice=labels,
        rows=rows,
        tested=out["p_value"] == out["p_value"],  # not NaN
        description=np.array(
            [
                f"{f} {lab}" if is_bin else f"{f} = {lab}"
                for f, lab, is_bin in zip(feature, labels, binned, strict=True)
            ],
            dtype=object,
        ),
        role=np.repeat(np.array([column_role(ev, c) for c in coded], dtype=object), n_codes),
        key=np.arange(len(rows)),
        predicate=predicates,
        supported=rows >= support,
    )
    listed = np.array([shown for c in coded for shown in (c.listed or (True,) * c.n_codes)], dtype=bool)
    kept = np.flatnonzero((rows > 0) & listed)
    q = np.full(len(rows), np.nan)
    q[kept] = bh_adjusted(out["p_value"][kept])
    out["q"] = q
    diff = out["diff"][kept]
    significant = (q[kept] < alpha) & (diff > 0)  # where B is worse, significantly
    order = np.lexsort((np.where(np.isnan(diff), np.inf, -diff), ~out["supported"][kept], ~significant))
    chosen = kept[order]
    names = [*COLUMNS, *([] if ev.is_regression else CLASS_COLUMNS), *TAIL]
    return pd.DataFrame({name: out[name][chosen] for name in names})
