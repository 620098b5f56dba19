"""Single-feature slices ranked by how badly the model does there, from cached codes and bincounts.

A slice is one code of one *family* column: a feature's value, quantile bin, user bin, period, "other" or
"missing"; a score or confidence bin; a text-length bin; the actual or predicted class; a tag. Families are
listed in :data:`SLICE_FAMILIES` (name -> function returning :class:`ColumnCodes`); adding one is adding a
function there.

Per slice: size, share, errors, the chosen metric (error rate, false positive rate, false negative rate
or mean log loss), its value on the rest of the rows, difference and ratio, a 95% interval (Wilson for
rates, Student t for log loss), a two-sided test against the rest (pooled two-proportion z-test for rates,
Welch's t-test for log loss) and Benjamini-Hochberg adjusted p-values across all slices listed
(statsmodels). Counts come from one ``np.bincount`` over pairs of columns packed into one code with the
row's outcome (:class:`SliceIndex`), so a recompute is one pass over the kept rows.

**Lift.** When the kept rows are chosen by the outcome (a confusion-matrix cell, a score bin, a tag),
every slice of them can read "100% error": true by construction and useless. What the user wants is
where those errors are over-represented: a slice's lift is its share of the kept rows' errors over its
share of all the Evaluation's rows (1: as common among these errors as in the data). Columns that read
the outcome are :data:`errorscope.evaluation.OUTCOME_COLUMNS`.

**Groups and support.** Each slice's ``group`` is "feature" (a data column: what the model sees) or
"outcome" (the actual and predicted class, the score or confidence, a tag): slices of the model's own
output trivially top an error ranking, so views show the feature group first. Slices with fewer than
``min_support`` kept rows (default :func:`default_min_support`: max(10, 0.5% of the kept rows)) are
ranked after every supported one (``supported`` is False): a 1-row slice at 100% error tells nothing,
but it stays listed, so a small tag can still be found and selected.

**Regression.** On a regression Evaluation the metric is a mean of a per-row measure (see
:mod:`errorscope.regression`): ``mae`` (the default: mean |residual|), ``rmse`` (the root of the mean
squared residual) or ``mean_error`` (the mean residual, prediction - actual: positive is
over-prediction). Each slice gets the metric and the rest's, difference, ratio, a 95% Student t interval
and Welch's t-test against the rest, all from sums of the measure and its square per code (one
``GroupCounts`` per column), the same path as log loss. There are no ``errors``, ``error_rate`` or
``lift`` columns (no row is "an error"). The mean residual's ``ratio`` is signed (value / rest's, NaN
when the rest's is 0): -2 reads "twice as biased, the other way". The families are the features,
metadata and sensitive columns, the derived ``actual``, ``predicted`` and ``residual`` bins (group
"outcome") and tags; there is no class family. Worst first is the largest MAE or RMSE, and for the mean
residual the largest |mean residual|: a slice over-predicted by 20 ranks with one under-predicted by 20.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from .coding import ColumnCodes
from .evaluation import OUTCOME_COLUMNS, Evaluation
from .plans import Filter, GroupCounts, Key, Marginals, Measure
from .regression import METRIC_MEASURES as REGRESSION_MEASURES
from .regression import METRIC_NAMES as REGRESSION_METRIC_NAMES
from .regression import METRICS as REGRESSION_METRICS
from .regression import check_metric, metric_stats, ratio

METRICS = ("error_rate", "fpr", "fnr", "log_loss")
METRIC_NAMES = {
    "error_rate": "error rate",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "log_loss": "log loss",
    **REGRESSION_METRIC_NAMES,
}


def default_metric(ev: Evaluation) -> str:
    """The metric a slice table ranks by when none is named: the error rate, or a regression's MAE."""
    return "mae" if ev.is_regression else "error_rate"


def check_slice_metric(ev: Evaluation, metric: str) -> None:
    """A metric this Evaluation's task has, or a ValueError naming the task's metrics."""
    if ev.is_regression:
        if metric in METRICS:
            raise ValueError(
                f"metric={metric!r} is a classification metric; this Evaluation is a regression: use "
                f"one of {REGRESSION_METRICS}."
            )
        check_metric(metric)
    elif metric not in METRICS:
        hint = (
            " (a regression metric: the Evaluation is a classification)"
            if metric in REGRESSION_METRICS
            else ""
        )
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}{hint}.")


# -- slice families ------------------------------------------------------------------------------
def feature_family(ev: Evaluation) -> list[ColumnCodes]:
    """Every feature, metadata and sensitive column (not the text column): values, bins or periods."""
    wanted = [*ev.features, *ev.metadata, *ev.sensitive]
    return [ev.codes(c) for c in dict.fromkeys(wanted) if c != ev.text_column]


def column_role(ev: Evaluation, coded: ColumnCodes) -> str:
    """What a sliced column is: "feature" (the model consumes it), "metadata", "sensitive", "derived"
    (score, confidence, text length), "class" (actual / predicted) or "tag"."""
    if coded.kind == "class" or coded.kind == "tag":
        return coded.kind
    for role, columns in (("feature", ev.features), ("metadata", ev.metadata), ("sensitive", ev.sensitive)):
        if coded.column in columns:
            return role
    return "derived" if coded.column in ev.derived else "feature"


def derived_family(ev: Evaluation) -> list[ColumnCodes]:
    """Score (binary) or confidence (multiclass) bins, a regression's actual, predicted and residual
    bins, and text-length bins."""
    return [ev.codes(c) for c in ev.derived]


def class_family(ev: Evaluation) -> list[ColumnCodes]:
    """The actual and the predicted class (none on a regression: its actual and predicted values are
    derived numeric columns, binned by :func:`derived_family`)."""
    if ev.is_regression:
        return []

    def build() -> list[ColumnCodes]:
        out = []
        for role in ("actual", "predicted"):  # counted by the engine (Key.actual / Key.predicted)
            predicates = tuple(ev.role_predicate(role, "in", (c,)) for c in ev.classes)
            name = predicates[0].column  # es_actual when the data has a column "actual": shown as selected
            out.append(ColumnCodes(name, "class", NO_CODES, tuple(ev.class_names), predicates))
        return out

    return ev.cached(("class_family", ev.predictions_version), build)


def tag_family(ev: Evaluation) -> list[ColumnCodes]:
    """One two-way split per tag name once a tag store is attached; only the tagged side is listed."""
    store = ev.tag_store
    if store is None:
        return []

    def build() -> list[ColumnCodes]:
        out = []
        for name in store.vocabulary:
            # on a SQL engine the engine computes the codes (Key.tag: the tagged ids)
            codes = np.where(ev.tag_mask([name]), 0, 1).astype(np.int32) if ev.in_memory else NO_CODES
            predicates = (
                ev.role_predicate("tag", "in", (name,)),
                ev.role_predicate("tag", "not in", (name,)),
            )
            column = predicates[0].column  # es_tag when the data has a column "tag"
            out.append(
                ColumnCodes(column, "tag", codes, (name, f"not {name}"), predicates, listed=(True, False))
            )
        return out

    return ev.cached(("tag_family", id(store), store.version), build)


def default_min_support(n_kept: int) -> int:
    """The fewest rows a listed slice has by default: 0.5% of the kept rows, at least 10."""
    return max(10, math.ceil(0.005 * n_kept))


SLICE_FAMILIES: dict[str, Callable[[Evaluation], list[ColumnCodes]]] = {
    "features": feature_family,
    "derived": derived_family,
    "classes": class_family,
    "tags": tag_family,
}


def slice_columns(ev: Evaluation, columns: Sequence[str] | None = None) -> list[ColumnCodes]:
    """The coded columns to slice: ``columns`` (data or derived names) or every family's."""
    if columns is not None:
        return [ev.codes(c) for c in columns]
    found: dict[tuple[str, tuple[str, ...]], ColumnCodes] = {}
    for family in SLICE_FAMILIES.values():
        for coded in family(ev):
            found.setdefault((coded.column, coded.labels), coded)
    return list(found.values())


# -- counting ------------------------------------------------------------------------------------
NO_CODES = np.zeros(0, dtype=np.int32)  # the class columns' codes are the engine's (see slice_key)
OUTCOMES = 8  # 4 * (actual is positive) + 2 * (predicted is positive) + (prediction is wrong)


def slice_key(coded: ColumnCodes) -> Key:
    """The plan key of a sliced column: its codes, the actual or predicted class, or a tag."""
    if coded.kind == "class":
        return Key.actual() if coded.predicates[0].role == "actual" else Key.predicted()
    if coded.kind == "tag":
        return Key.tag(coded.labels[0])
    return Key.column(coded.column)


def slice_counts(
    ev: Evaluation, columns: list[ColumnCodes], positive: int | None, where: Filter | np.ndarray | None
) -> list[np.ndarray]:
    """Per column, its (n_codes, 8) outcome table (see :data:`OUTCOMES`) among the rows ``where`` keeps;
    without a positive class only the wrong bit is counted (the other columns are 0)."""
    plan = Marginals(tuple(slice_key(c) for c in columns), (Key.outcome(positive),))
    tables = ev.engine.marginals(plan, ev.engine.as_filter(where))
    if positive is None:
        tables = [np.pad(t, ((0, 0), (0, OUTCOMES - t.shape[1]))) for t in tables]
    return tables


def positive_class_code(ev: Evaluation, metric: str, positive_class: object | None) -> int | None:
    """The class code FPR / FNR are measured for (default: the Evaluation's positive class), validated."""
    if positive_class is None:
        if ev.positive_code is not None:
            return ev.positive_code
        if metric in ("fpr", "fnr"):
            raise ValueError(
                f"metric={metric!r} on {ev.n_classes} classes needs positive_class= (one of "
                f"{ev.classes[:5]}{'...' if ev.n_classes > 5 else ''}): rates are one-vs-rest."
            )
        return None
    if positive_class not in ev.classes:
        raise ValueError(f"positive_class={positive_class!r} is not a class; classes are {ev.classes}.")
    return ev.classes.index(positive_class)


def row_log_loss(ev: Evaluation) -> np.ndarray:
    """Each row's log loss, -log p(actual class), with scikit-learn's clipping (numpy engine)."""
    if not ev.has_scores:
        raise ValueError("metric='log_loss' needs scores: build the Evaluation with y_score= or a model.")
    return ev.engine.measure(Measure("log_loss"))


# -- the table -----------------------------------------------------------------------------------
COLUMNS = ["feature", "group", "slice", "size", "share", "errors", "error_rate"]
STAT_COLUMNS = ["difference", "ratio", "lift", "ci_low", "ci_high", "p_value", "p_adjusted"]


def slice_table(
    ev: Evaluation,
    where: Filter | np.ndarray | None = None,
    columns: Sequence[str] | None = None,
    metric: str | None = None,
    positive_class: object | None = None,
    min_support: int | None = None,
) -> pd.DataFrame:
    """Every single-column slice of the rows ``where`` keeps (a Filter or a mask), worst first (by ``metric``, then size).

    Columns: feature, group ("feature" or "outcome"), slice, size, share, errors, error_rate, then
    ``metric`` (if not the error rate) with ``rest_<metric>``, difference, ratio, lift (share of the kept
    errors over share of all rows), ci_low, ci_high, p_value, p_adjusted; ``role`` (see
    :func:`column_role`: features are marked apart from metadata); ``key`` (the slice's position
    among all the columns' codes: stable while the columns are), ``predicate`` (the :class:`Predicate`
    that selects it) and ``supported`` (at least ``min_support`` kept rows, default
    :func:`default_min_support`: the unsupported rank last; see the module docstring). Empty slices are
    left out.

    ``metric`` defaults to "error_rate" (a classification) or "mae" (a regression, whose table has
    ``<metric>`` and ``rest_<metric>`` instead of errors, error_rate and lift: see the module docstring).
    """
    metric = default_metric(ev) if metric is None else metric
    check_slice_metric(ev, metric)
    if min_support is not None and (isinstance(min_support, bool) or not isinstance(min_support, int)):
        raise TypeError(f"min_support must be a whole number of rows, got {min_support!r}.")
    if min_support is not None and min_support < 1:
        raise ValueError(f"min_support must be at least 1 row, got {min_support!r}.")
    positive = None if ev.is_regression else positive_class_code(ev, metric, positive_class)
    coded = slice_columns(ev, columns)
    where = ev.engine.as_filter(where)
    n_codes = [c.n_codes for c in coded]
    if ev.is_regression:
        size, value_cols = _regression_stats(ev, coded, where, metric)
        n = ev.engine.n_kept(where)
        columns: dict[str, np.ndarray] = {}
        order = [*COLUMNS[:5], metric, f"rest_{metric}", *(c for c in STAT_COLUMNS if c != "lift")]
    else:
        tables = slice_counts(ev, coded, positive, where)
        counts = np.concatenate(tables)  # (n_slices, 8)
        size = counts.sum(axis=1)
        errors = counts[:, 1::2].sum(axis=1)
        n = int(tables[0].sum()) if tables else 0
        with np.errstate(divide="ignore", invalid="ignore"):
            columns = {"errors": errors, "error_rate": errors / size}
        if metric == "log_loss":
            value_cols = _mean_measure_stats(ev, coded, where, metric, _log_loss_measures(ev))[1]
        else:
            hits, trials = _rate_counts(counts, metric)
            total_hits, total_trials = _rate_counts(tables[0].sum(axis=0, keepdims=True), metric)
            value_cols = _rate_stats(hits, trials, total_hits[0], total_trials[0])
        total_errors = int(tables[0][:, 1::2].sum()) if tables else 0
        columns["lift"] = _lift(ev, coded, positive, errors, total_errors)
        order = [*COLUMNS, *([metric] if metric != "error_rate" else []), f"rest_{metric}", *STAT_COLUMNS]
    feature = np.repeat(np.array([c.column for c in coded], dtype=object), n_codes)
    labels = np.array([label for c in coded for label in c.labels], dtype=object)
    predicates = np.empty(len(labels), dtype=object)
    predicates[:] = [p for c in coded for p in c.predicates]
    binned = [c.kind == "numeric" and label != "missing" for c in coded for label in c.labels]
    kinds = np.repeat(np.array([_reads_outcome(ev, c) for c in coded], dtype=bool), n_codes)
    columns["feature"] = feature
    columns["group"] = np.where(kinds, "outcome", "feature").astype(object)
    columns["slice"] = labels
    columns["size"] = size
    with np.errstate(divide="ignore", invalid="ignore"):
        columns["share"] = size / n if n else np.full(len(size), np.nan)
    renamed = {"value": metric, "rest_value": f"rest_{metric}"}
    columns.update({renamed.get(name, name): values for name, values in value_cols.items()})
    columns["description"] = np.array(
        [
            f"{f} {label}" if is_bin else f"{f} = {label}"
            for f, label, is_bin in zip(feature, labels, binned, strict=True)
        ],
        dtype=object,
    )
    columns["role"] = np.repeat(np.array([column_role(ev, c) for c in coded], dtype=object), n_codes)
    columns["key"] = np.arange(len(size))
    columns["predicate"] = predicates
    listed = np.array([shown for c in coded for shown in (c.listed or (True,) * c.n_codes)], dtype=bool)
    support = default_min_support(n) if min_support is None else min_support
    columns["supported"] = size >= support
    kept = np.flatnonzero((size > 0) & listed)
    value = columns[metric][kept]
    if metric == "mean_error":  # over- and under-prediction alike: the largest |mean residual| first
        value = np.abs(value)
    worst = np.where(np.isnan(value), np.inf, -value)  # NaN last
    worst_first = np.lexsort((-size[kept], worst, ~columns["supported"][kept]))  # stable
    rows = kept[worst_first]
    p_value = columns["p_value"][rows]
    tested = ~np.isnan(p_value)
    adjusted = np.full(len(rows), np.nan)
    if tested.any():
        adjusted[tested] = multipletests(p_value[tested], method="fdr_bh")[1]
    shown = {name: adjusted if name == "p_adjusted" else columns[name][rows] for name in order}
    for name in ("description", "role", "key", "predicate", "supported"):
        shown[name] = columns[name][rows]
    return pd.DataFrame(shown)


def _reads_outcome(ev: Evaluation, coded: ColumnCodes) -> bool:
    """Whether a sliced column reads the model's outcome: the classes, a tag, the score or confidence, a
    regression's actual, predicted or residual (``es_`` prefixed when the data has that name)."""
    if coded.kind in ("class", "tag") or coded.column in OUTCOME_COLUMNS:
        return True
    return coded.column in ev.derived and coded.column.removeprefix("es_") in OUTCOME_COLUMNS


def _lift(
    ev: Evaluation, coded: list[ColumnCodes], positive: int | None, errors: np.ndarray, total_errors: int
) -> np.ndarray:
    """Per slice, its share of the kept rows' ``total_errors`` over its share of all the Evaluation's rows
    (the all-rows counts are computed once, see :mod:`errorscope.counting`)."""
    all_rows = np.concatenate(slice_counts(ev, coded, positive, None)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            (all_rows > 0) & (total_errors > 0), (errors / total_errors) / (all_rows / ev.n_rows), np.nan
        )


def _rate_counts(counts: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(hits, trials) per slice: errors / rows, FP / actual negatives or FN / actual positives."""
    outcome = np.arange(OUTCOMES)
    actual_pos, pred_pos, wrong = outcome >= 4, (outcome & 2) > 0, (outcome & 1) > 0
    if metric == "error_rate":
        hit, trial = wrong, np.ones(OUTCOMES, dtype=bool)
    elif metric == "fpr":
        hit, trial = ~actual_pos & pred_pos, ~actual_pos
    else:
        hit, trial = actual_pos & ~pred_pos, actual_pos
    return counts[:, hit].sum(axis=1), counts[:, trial].sum(axis=1)


def _rate_stats(
    hits: np.ndarray, trials: np.ndarray, total_hits: float, total_trials: float
) -> dict[str, np.ndarray]:
    rest_hits, rest_trials = total_hits - hits, total_trials - trials
    with np.errstate(divide="ignore", invalid="ignore"):
        value = hits / trials
        rest = np.where(rest_trials > 0, rest_hits / rest_trials, np.nan)
        low, high = proportion_confint(hits, trials, alpha=0.05, method="wilson")
    low = np.where(trials > 0, low, np.nan)
    high = np.where(trials > 0, high, np.nan)
    return {
        "value": value,
        "rest_value": rest,
        "difference": value - rest,
        "ratio": ratio(value, rest),
        "ci_low": low,
        "ci_high": high,
        "p_value": two_proportion_p_value(hits, trials, rest_hits, rest_trials),
    }


def _log_loss_measures(ev: Evaluation) -> tuple[Measure, Measure]:
    if not ev.has_scores:
        raise ValueError("metric='log_loss' needs scores: build the Evaluation with y_score= or a model.")
    return Measure("log_loss"), Measure("log_loss2")


def _regression_stats(
    ev: Evaluation, coded: list[ColumnCodes], where: Filter, metric: str
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return _mean_measure_stats(ev, coded, where, metric, REGRESSION_MEASURES[metric])


def _mean_measure_stats(
    ev: Evaluation,
    coded: list[ColumnCodes],
    where: Filter,
    metric: str,
    measures: tuple[Measure, Measure],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per slice, its rows and the statistics of a mean of a per-row measure (log loss, |e|, e², e)
    against the rest: :func:`errorscope.regression.metric_stats` from the sums of the measure and its
    square per code (one ``GroupCounts`` per column)."""
    counted = [ev.engine.count(GroupCounts((slice_key(c),), measures), where) for c in coded]
    if not counted:
        empty = np.zeros(0)
        return empty.astype(np.int64), metric_stats(metric, empty, empty, empty, 0.0, 0.0, 0)
    size = np.concatenate([c.counts for c in counted]).astype(np.int64)
    s = np.concatenate([c.sums[0] for c in counted])
    sq = np.concatenate([c.sums[1] for c in counted])
    total, total_sq = float(counted[0].sums[0].sum()), float(counted[0].sums[1].sum())
    n_kept = int(counted[0].counts.sum())
    out = metric_stats(metric, s, sq, size, total, total_sq, n_kept)
    if metric == "mean_error":  # a signed mean: the signed ratio, NaN where the rest's mean is 0
        with np.errstate(divide="ignore", invalid="ignore"):
            out["ratio"] = np.where(out["rest_value"] != 0, out["value"] / out["rest_value"], np.nan)
    return size, out


def two_proportion_p_value(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray, alternative: str = "two-sided"
) -> np.ndarray:
    """Pooled z-test of x1/n1 against x2/n2, vectorised (statsmodels' proportions_ztest):
    ``alternative`` "two-sided", or "larger" (x1/n1 above x2/n2)."""
    if alternative not in ("two-sided", "larger"):
        raise ValueError(f"alternative must be 'two-sided' or 'larger', got {alternative!r}.")
    x1, n1, x2, n2 = (np.asarray(a, dtype=np.float64) for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    p = 2 * stats.norm.sf(np.abs(z)) if alternative == "two-sided" else stats.norm.sf(z)
    return np.where((n1 > 0) & (n2 > 0) & (se > 0), p, np.nan)
