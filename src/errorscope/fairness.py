"""Metrics, disparities, score distributions and representation across sensitive groups.

Groups are the intersections of one or more sensitive columns' cached codes (values, quantile or user
bins, "missing" as its own group). Every metric is one-vs-rest for a ``positive`` class (binary: the
second class), computed from per-group counts of (actual positive, predicted positive) by one
grouped count (:mod:`errorscope.plans`), so they follow any selection at the engine's speed.

Confidence intervals are percentile intervals of a stratified bootstrap (rows resampled within each group,
group sizes fixed, seeded). Because these metrics depend only on each group's four outcome counts, a
resample of a group's rows is drawn exactly as a multinomial draw of its counts, vectorised over
resamples; calibration resamples (outcome, score-bin) cells, treating each cell's mean score as fixed.
Nothing reads a row: the same counts and seed give the same intervals on every engine. What-if thresholds
per group are counted too (:func:`threshold_counts`).

Disparities are measured against a reference group (the largest by default; "best" or "worst" per
metric; or a named group). The largest, best and worst groups are found on the whole evaluation set, never
inside a filter, so a selection cannot swap the reference and flip every disparity's sign. Disparities, like Fairlearn's ``between_groups`` summaries, as max - min (and min / max)
across groups. The four-fifths rule flags a group whose selection rate is under 0.8 of the reference's.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .evaluation import Evaluation
from .inputs import column_list
from .plans import Filter, Key, Measure
from .plans import GroupCounts as PlanCounts
from .selection import Clause, Predicate

RATES = ("selection_rate", "base_rate", "accuracy", "precision", "recall", "fpr", "fnr", "f1")
CALIBRATION_BINS = 10
SCORE_BINS = 20
FINE_BINS = 1000  # score resolution of the per-group cells: quantiles are exact to 0.001


@dataclass(frozen=True)
class GroupCounts:
    """What every group view derives from: (k, 4) outcome counts TN, FP, FN, TP and, with scores,
    (k, FINE_BINS, 3) cells of rows, positives and score sums per fine score bin."""

    counts: np.ndarray
    cells: np.ndarray | None
    squares: np.ndarray | None = None  # per group, the sum of squared scores (for the mean's interval)
    _resamples: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def resampled(self, n_boot: int, seed: int) -> np.ndarray:
        """:func:`bootstrap_counts` of these counts, drawn once: metrics and disparities share them."""
        if (n_boot, seed) not in self._resamples:
            self._resamples[(n_boot, seed)] = bootstrap_counts(self.counts, n_boot, seed)
        return self._resamples[(n_boot, seed)]


def count_groups(
    ev: Evaluation,
    groups: Groups,
    where: Filter | np.ndarray | None = None,
    positive_class: object | None = None,
    predictions: np.ndarray | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> GroupCounts:
    """Count once: rows per group and outcome (actual and predicted positive) and, with scores, per group,
    fine score bin and actual class with the scores' sums; metrics, disparities and distributions follow.
    ``thresholds`` ({group: threshold}, see :func:`threshold_counts`) or ``predictions`` (predicted
    positive per row, e.g. :func:`predictions_at_thresholds`; in memory only) replace the model's."""
    positive = positive_code(ev, positive_class)
    engine = ev.engine
    where = engine.as_filter(where)
    k = groups.n_groups
    if thresholds is not None:
        counts = threshold_counts(ev, groups, thresholds, where, positive)
    elif predictions is None:
        plan = PlanCounts((*groups.keys, Key.actual(positive), Key.predicted(positive)))
        counts = _by_group(groups, engine.count(plan, where).counts, 4)
    else:
        rows = np.ones(ev.n_rows, dtype=bool) if where.everything else engine.mask(where)
        predicted = np.asarray(predictions, dtype=bool)
        actual = ev.true_codes == positive
        key = groups.row_codes(ev)[rows] * 4 + 2 * actual[rows] + predicted[rows]
        counts = np.bincount(key, minlength=k * 4).reshape(k, 4)
    if not ev.has_scores:
        return GroupCounts(counts, None, None)
    plan = PlanCounts(
        (*groups.keys, Key.score_bin(FINE_BINS, positive), Key.actual(positive)),
        (Measure("score", positive), Measure("score2", positive)),
    )
    counted = engine.count(plan, where)
    n = _by_group(groups, counted.counts, FINE_BINS * 2).reshape(k, FINE_BINS, 2)
    sums = _by_group(groups, counted.sums[0], FINE_BINS * 2).reshape(k, FINE_BINS, 2)
    squares = _by_group(groups, counted.sums[1], FINE_BINS * 2)
    cells = np.stack([n.sum(axis=-1), n[..., 1], sums.sum(axis=-1)], axis=-1).astype(np.float64)
    return GroupCounts(counts, cells, squares.sum(axis=1))


def threshold_counts(
    ev: Evaluation, groups: Groups, thresholds: Mapping[str, float], where: Filter, positive: int
) -> np.ndarray:
    """(k, 4) outcome counts TN, FP, FN, TP if each group named in ``thresholds`` had its own threshold on
    the positive score (the others keep the Evaluation's). Count-based, so the same on every engine: rows
    per (group, actual) among the kept rows, then, per distinct threshold t, the same count among the kept
    rows scoring at least t (one grouped count more per threshold): a group's predicted positives are
    its rows at or above its own threshold."""
    if positive != ev.positive_code:
        raise ValueError(
            f"per-group thresholds move the positive class's score (P({ev.positive_name!r})): omit "
            "positive_class=, or build the Evaluation with that class as positive_class."
        )
    per_group = group_thresholds(ev, groups, thresholds)
    engine = ev.engine
    plan = PlanCounts((*groups.keys, Key.actual(positive)))
    rows = _by_group(groups, engine.count(plan, where).counts, 2)
    above = np.zeros_like(rows)
    score = ev.query_name("score")[0]  # the positive class's score ("es_score" if the data has "score")
    for t in np.unique(per_group):
        clause = Clause.where("thresholds", Predicate(score, ">=", (float(t),)))
        kept = Filter((*where.stamp, ("thresholds", float(t))), (*where.resolved, engine.resolve(clause)))
        counted = _by_group(groups, engine.count(plan, kept).counts, 2)
        above[per_group == t] = counted[per_group == t]
    negatives, positives = rows[:, 0], rows[:, 1]
    return np.stack([negatives - above[:, 0], above[:, 0], positives - above[:, 1], above[:, 1]], axis=1)


def _all_rows(where: Filter | np.ndarray | None) -> bool:
    return where is None or (isinstance(where, Filter) and where.everything)


def _by_group(groups: Groups, table: np.ndarray, per_group: int) -> np.ndarray:
    """A table over every combination of the groups' column codes, as (n_groups, per_group) rows of the
    combinations that are groups."""
    return table.reshape(-1, per_group)[groups.present]


@dataclass(frozen=True)
class Groups:
    """Each row's group code, and per group its label and the AND-term of predicates that selects it."""

    columns: tuple[str, ...]
    present: np.ndarray  # per group, its combination of the columns' codes (row-major index)
    labels: tuple[str, ...]
    terms: tuple[tuple[Predicate, ...], ...]

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    @property
    def keys(self) -> tuple[Key, ...]:
        """The plan keys of the groups' columns."""
        return tuple(Key.column(c) for c in self.columns)

    def row_codes(self, ev: Evaluation) -> np.ndarray:
        """Each row's group (0..n_groups-1), for the numpy engine."""
        combined = np.zeros(ev.n_rows, dtype=np.int64)
        for c in self.columns:
            coded = ev.codes(c)
            combined = combined * coded.n_codes + coded.codes
        return np.searchsorted(self.present, combined)


def make_groups(ev: Evaluation, columns: str | Sequence[str] | None = None) -> Groups:
    """The groups of ``columns`` (default: the Evaluation's sensitive columns) and their intersections.

    Combinations that no row has are left out; numeric columns use their bins (see ``ev.set_bins``).
    """
    names = column_list(columns, "groups", ev.columns) if columns is not None else list(ev.sensitive)
    if not names:
        raise ValueError(
            "no groups: pass groups= one or more sensitive columns, e.g. groups=['sex', 'race'], "
            "or build the Evaluation with sensitive=."
        )
    coded = [ev.codes(c) for c in names]
    everything = ev.engine.as_filter(None)
    present = np.flatnonzero(
        ev.engine.count(PlanCounts(tuple(Key.column(c) for c in names)), everything).counts
    )
    labels, terms = [], []
    for value in present:
        digits = []
        for c in reversed(coded):
            value, digit = divmod(int(value), c.n_codes)
            digits.append(digit)
        parts = [(c, d) for c, d in zip(coded, reversed(digits), strict=True)]
        labels.append(
            ", ".join(c.labels[d] if len(coded) == 1 else f"{c.column}={c.labels[d]}" for c, d in parts)
        )
        terms.append(tuple(c.predicates[d] for c, d in parts))
    return Groups(tuple(names), present, tuple(labels), tuple(terms))


def positive_code(ev: Evaluation, positive_class: object | None) -> int:
    """The class treated as positive (default: the Evaluation's positive class)."""
    if positive_class is None:
        if ev.positive_code is not None:
            return ev.positive_code
        raise ValueError(
            f"group metrics on {ev.n_classes} classes are one-vs-rest: pass positive_class= (here or to "
            "the Evaluation) one of "
            f"{ev.class_names[:6]}{'...' if ev.n_classes > 6 else ''}."
        )
    for names in (ev.classes, ev.class_names):
        if positive_class in names:
            return list(names).index(positive_class)
    raise ValueError(f"positive_class={positive_class!r} is not a class; classes are {ev.class_names}.")


def rates_from_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Rates per row of (..., 4) counts TN, FP, FN, TP; NaN where a denominator is zero."""
    tn, fp, fn, tp = (counts[..., i].astype(np.float64) for i in range(4))
    n = tn + fp + fn + tp
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "selection_rate": (tp + fp) / n,
            "base_rate": (tp + fn) / n,
            "accuracy": (tp + tn) / n,
            "precision": tp / (tp + fp),
            "recall": tp / (tp + fn),
            "fpr": fp / (fp + tn),
            "fnr": fn / (fn + tp),
            "f1": 2 * tp / (2 * tp + fp + fn),
        }


def _positive_score(ev: Evaluation, positive: int) -> np.ndarray | None:
    return None if ev.scores is None else ev.scores[:, positive]


def group_metrics(
    ev: Evaluation,
    groups: Groups,
    where: Filter | np.ndarray | None = None,
    positive_class: object | None = None,
    min_size: int = 30,
    n_boot: int = 200,
    seed: int = 0,
    predictions: np.ndarray | None = None,
    counted: GroupCounts | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per group: count, share, every rate in :data:`RATES` with ``<rate>_low/_high`` bootstrap
    intervals (``n_boot`` 0 skips them), mean score (t interval), ECE, and ``small`` (count < min_size).

    ``thresholds``: {group: threshold} on the positive score instead of the Evaluation's (what-if, on
    every engine); ``predictions``: boolean "predicted positive" per row instead of the model's (in
    memory). ``counted``: the :func:`count_groups` of the same arguments, when the caller has it already.
    """
    counted = counted or count_groups(ev, groups, where, positive_class, predictions, thresholds)
    counts = counted.counts
    size = counts.sum(axis=1)
    total = size.sum()
    columns: dict[str, Any] = {
        "group": list(groups.labels),
        "count": size,
        "share": size / total if total else np.full(len(size), np.nan),
        **rates_from_counts(counts),
    }
    if n_boot:
        samples = counted.resampled(n_boot, seed)
        for name, values in rates_from_counts(samples).items():
            columns[f"{name}_low"], columns[f"{name}_high"] = _percentile_interval(values)
    if counted.cells is not None:
        rows, sums = counted.cells[..., 0].sum(axis=1), counted.cells[..., 2].sum(axis=1)
        squares = counted.squares
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = sums / rows
            sd = np.sqrt(np.maximum(squares - rows * mean**2, 0) / (rows - 1))
            half = stats.t.ppf(0.975, rows - 1) * sd / np.sqrt(rows)
        columns.update(mean_score=mean, mean_score_low=mean - half, mean_score_high=mean + half)
        cells = calibration_cells(counted.cells)
        columns["ece"] = expected_calibration_error(cells)
        if n_boot:
            columns["ece_low"], columns["ece_high"] = _percentile_interval(bootstrap_ece(cells, n_boot, seed))
    columns["small"] = size < min_size
    columns["term"] = list(groups.terms)
    return pd.DataFrame(columns)


def lift(counts: np.ndarray, overall: np.ndarray) -> pd.DataFrame:
    """Each group's share of the filtered rows against its share of all rows: ``lift`` > 1 means the group
    is over-represented in the filter. For filters defined by the outcome (an error cell, a tag, a score
    bin), where every group's error rate is 100% by construction, this is what tells groups apart.

    ``counts`` and ``overall``: rows per group in the filter and in the whole set. ``share_low/_high`` is
    the Wilson 95% interval of the filter share (statsmodels), and ``lift_low/_high`` follow from it.
    """
    from statsmodels.stats.proportion import proportion_confint

    n, total = counts.sum(), overall.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = counts / n if n else np.full(len(counts), np.nan)
        overall_share = overall / total
        low, high = proportion_confint(counts, n, method="wilson") if n else (share, share)
        return pd.DataFrame(
            {
                "count": counts,
                "share_of_filter": share,
                "share_of_all": overall_share,
                "lift": share / overall_share,
                "lift_low": np.asarray(low) / overall_share,
                "lift_high": np.asarray(high) / overall_share,
            }
        )


def bootstrap_counts(counts: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_groups, 4) resampled outcome counts: each group's rows resampled with replacement."""
    rng = np.random.default_rng(seed)
    size = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(size[:, None] > 0, counts / size[:, None], 0.25)
    out = np.empty((n_boot, len(counts), 4), dtype=np.int64)
    for g in range(len(counts)):  # one vectorised draw of n_boot resamples per group
        out[:, g, :] = rng.multinomial(size[g], p[g], size=n_boot)
    return out


def calibration_cells(fine: np.ndarray) -> np.ndarray:
    """(k, CALIBRATION_BINS, 3) rows, score sums and positives per group and equal-width score bin."""
    k = fine.shape[0]
    coarse = fine.reshape(k, CALIBRATION_BINS, FINE_BINS // CALIBRATION_BINS, 3).sum(axis=2)
    return coarse[..., [0, 2, 1]]


def expected_calibration_error(cells: np.ndarray) -> np.ndarray:
    """ECE per group: the row-weighted mean over score bins of |mean score - fraction positive|."""
    rows, sums, positives = cells[..., 0], cells[..., 1], cells[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(rows > 0, np.abs(sums - positives) / np.maximum(rows, 1), 0.0)
        return (gap * rows).sum(axis=-1) / rows.sum(axis=-1)


def reliability_curve(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group and score bin: mean score, fraction positive, rows (NaN where a bin is empty)."""
    rows, sums, positives = cells[..., 0], cells[..., 1], cells[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        return sums / rows, positives / rows, rows


def bootstrap_ece(cells: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, k) ECE of resamples of each group's (score bin, outcome) cells (see the module docstring)."""
    rng = np.random.default_rng(seed + 1)
    rows, sums, positives = cells[..., 0], cells[..., 1], cells[..., 2]
    k, bins = rows.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_score = np.where(rows > 0, sums / np.maximum(rows, 1), 0.0)
        pos_share = np.where(rows > 0, positives / np.maximum(rows, 1), 0.0)
    out = np.full((n_boot, k), np.nan)
    for g in range(k):
        n = int(rows[g].sum())
        if n == 0:
            continue
        p = np.concatenate([rows[g] * pos_share[g], rows[g] * (1 - pos_share[g])]) / n
        draws = rng.multinomial(n, p / p.sum(), size=n_boot)
        pos, neg = draws[:, :bins], draws[:, bins:]
        cell_rows = pos + neg
        resampled = np.stack([cell_rows, cell_rows * mean_score[g], pos], axis=-1)
        out[:, g] = expected_calibration_error(resampled)
    return out


def _percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentiles over the resamples (axis 0), ignoring NaN: numpy's ``nanpercentile`` (linear method),
    vectorised over the other axes. NaN where every resample is NaN (a group without rows)."""
    ordered = np.sort(samples, axis=0)  # NaN sort last
    valid = np.count_nonzero(~np.isnan(ordered), axis=0)
    tail = (1 - level) / 2

    def at(q: float) -> np.ndarray:
        position = q * np.maximum(valid - 1, 0)
        below = np.floor(position).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(valid - 1, 0))
        low = np.take_along_axis(ordered, below[None], axis=0)[0]
        high = np.take_along_axis(ordered, above[None], axis=0)[0]
        with np.errstate(invalid="ignore"):  # infinite samples (a ratio over zero): inf - inf is NaN
            value = low + (high - low) * (position - below)
        return np.where(valid > 0, value, np.nan)

    return at(tail), at(1 - tail)


# -- disparities ---------------------------------------------------------------------------------
def reference_group(
    table: pd.DataFrame,
    reference: str | int | None,
    metric: str = "selection_rate",
    lower_is_better: bool | None = None,
) -> int:
    """The reference group's position: the largest (None), "best" / "worst" by ``metric`` (``lower_is_better``:
    its direction; default: lower is better for FPR, FNR and ECE), a group's name, or a position."""
    if reference is None:
        return int(table["count"].to_numpy().argmax())
    if reference in ("best", "worst"):
        values = table[metric].to_numpy(dtype=float)
        if np.isnan(values).all():
            raise ValueError(f"reference={reference!r}: no group has a {metric}.")
        if lower_is_better is None:
            lower_is_better = metric in ("fpr", "fnr", "ece")
        pick = np.nanargmin if (reference == "best") == lower_is_better else np.nanargmax
        return int(pick(values))
    if isinstance(reference, int | np.integer) and not isinstance(reference, bool):
        if not 0 <= reference < len(table):
            raise ValueError(f"reference={reference} is out of range for {len(table)} groups.")
        return int(reference)
    names = list(table["group"])
    if reference not in names:
        raise ValueError(f"reference={reference!r} is not a group; groups are {names[:8]}.")
    return names.index(reference)


def disparities(
    ev: Evaluation,
    groups: Groups,
    where: Filter | np.ndarray | None = None,
    positive_class: object | None = None,
    reference: str | int | None = None,
    n_boot: int = 200,
    seed: int = 0,
    predictions: np.ndarray | None = None,
    counted: GroupCounts | None = None,
    overall: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per group against the reference: demographic parity difference and ratio (disparate impact) with
    the four-fifths flag, equal opportunity difference, equalized odds difference; each with a bootstrap
    interval from the same resamples as :func:`group_metrics`. ``overall``: the (k, 4) counts of all rows,
    when the caller has them (the largest, best and worst groups are found on all rows)."""
    counted = counted or count_groups(ev, groups, where, positive_class, predictions)
    counts = counted.counts
    metrics = pd.DataFrame(
        {"group": list(groups.labels), "count": counts.sum(axis=1), **rates_from_counts(counts)}
    )
    if isinstance(reference, str) and reference not in ("best", "worst"):
        ref = reference_group(metrics, reference)
    else:  # largest, best and worst are properties of the whole evaluation set, not of a filter
        if overall is None:
            overall = (
                counts
                if _all_rows(where)
                else count_groups(ev, groups, None, positive_class, predictions).counts
            )
        overall_rates = {
            "group": list(groups.labels),
            "count": overall.sum(axis=1),
            **rates_from_counts(overall),
        }
        ref = reference_group(pd.DataFrame(overall_rates), reference)

    def measures(rates: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        sel, tpr, fpr = rates["selection_rate"], rates["recall"], rates["fpr"]
        r = (slice(None),) * (sel.ndim - 1) + (slice(ref, ref + 1),)
        with np.errstate(divide="ignore", invalid="ignore"):
            return {
                "demographic_parity_difference": sel - sel[r],
                "disparate_impact": sel / sel[r],
                "equal_opportunity_difference": tpr - tpr[r],
                "equalized_odds_difference": np.maximum(np.abs(tpr - tpr[r]), np.abs(fpr - fpr[r])),
            }

    columns: dict[str, Any] = {"group": metrics["group"], "count": metrics["count"]}
    point = measures(rates_from_counts(counts))
    boot = measures(rates_from_counts(counted.resampled(n_boot, seed))) if n_boot else {}
    for name, values in point.items():
        columns[name] = values
        if n_boot:
            columns[f"{name}_low"], columns[f"{name}_high"] = _percentile_interval(boot[name])
    columns["four_fifths_violation"] = point["disparate_impact"] < 0.8
    columns["reference"] = np.arange(len(counts)) == ref
    return pd.DataFrame(columns)


def summary(table: pd.DataFrame) -> dict[str, float]:
    """Between-groups summaries over groups with rows (Fairlearn's ``method="between_groups"``)."""
    rows = table[table["count"] > 0]
    if rows.empty:  # an empty selection: no group to compare
        names = ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference")
        return dict.fromkeys((*names, "equal_opportunity_difference"), float("nan"))
    sel, tpr, fpr = (rows[c].to_numpy(dtype=float) for c in ("selection_rate", "recall", "fpr"))
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a rate no group has is NaN
        return {
            "demographic_parity_difference": float(np.nanmax(sel) - np.nanmin(sel)),
            "demographic_parity_ratio": float(np.nanmin(sel) / np.nanmax(sel)),
            "equalized_odds_difference": float(
                max(np.nanmax(tpr) - np.nanmin(tpr), np.nanmax(fpr) - np.nanmin(fpr))
            ),
            "equal_opportunity_difference": float(np.nanmax(tpr) - np.nanmin(tpr)),
        }


# -- distributions and representation ------------------------------------------------------------
def score_distributions(
    ev: Evaluation,
    groups: Groups,
    where: Filter | np.ndarray | None = None,
    positive_class: object | None = None,
    counted: GroupCounts | None = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Histogram counts of the positive class's score per group on shared edges (0, 0.05, ..., 1), and
    per group the score's quartiles (to within 0.001: the mean score of the 0.001-wide bin holding the
    quantile) and mean: who gets systematically lower scores."""
    counted = counted or count_groups(ev, groups, where, positive_class)
    if counted.cells is None:
        raise ValueError("score distributions need scores: build the Evaluation with y_score= or a model.")
    rows = counted.cells[..., 0]
    k = rows.shape[0]
    edges = np.linspace(0, 1, SCORE_BINS + 1)
    hist = rows.reshape(k, SCORE_BINS, FINE_BINS // SCORE_BINS).sum(axis=2)
    cumulative = np.cumsum(rows, axis=1)
    total = cumulative[:, -1:]
    quantiles = np.full((k, 3), np.nan)
    sums = counted.cells[..., 2]
    for j, q in enumerate((0.25, 0.5, 0.75)):
        # the fine bin holding the q-th row; its rows' mean score (exact for discrete scores)
        index = np.minimum((cumulative < q * total).sum(axis=1), FINE_BINS - 1)
        picked = np.arange(k), index
        with np.errstate(divide="ignore", invalid="ignore"):
            quantiles[:, j] = np.where(total[:, 0] > 0, sums[picked] / rows[picked], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = counted.cells[..., 2].sum(axis=1) / rows.sum(axis=1)
    table = pd.DataFrame(quantiles, columns=["q25", "median", "q75"])
    table.insert(0, "group", list(groups.labels))
    table["mean"] = mean
    return edges, hist, table


def representation(
    ev: Evaluation,
    groups: Groups,
    reference: Mapping[str, float] | None = None,
    where: Filter | np.ndarray | None = None,
    counted: GroupCounts | None = None,
) -> tuple[pd.DataFrame, float]:
    """Each group's share of the rows against a reference distribution (default: equal shares), and the
    p-value of a chi-square goodness-of-fit test (scipy) of the counts against it. ``counted``: the
    :func:`count_groups` of the same rows, when the caller has it already."""
    if counted is not None:
        counts = counted.counts.sum(axis=1)
    else:
        counts = count_groups(ev, groups, where).counts.sum(axis=1)
    labels = list(groups.labels)
    if reference is None:
        expected_share = np.full(len(labels), 1 / len(labels))
    else:
        unknown = set(reference) - set(labels)
        if unknown:
            raise ValueError(
                f"representation reference names unknown groups {sorted(unknown)}; groups are {labels}."
            )
        expected_share = np.array([float(reference.get(g, 0.0)) for g in labels])
        if (expected_share < 0).any() or expected_share.sum() <= 0:
            raise ValueError("representation reference shares must be non-negative and not all zero.")
        expected_share = expected_share / expected_share.sum()
    total = counts.sum()
    share = counts / total if total else np.full(len(labels), np.nan)
    table = pd.DataFrame(
        {"group": labels, "count": counts, "share": share, "reference_share": expected_share}
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        table["ratio"] = share / expected_share
    used = expected_share > 0
    p = (
        float(stats.chisquare(counts[used], expected_share[used] * total).pvalue)
        if total and used.sum() > 1
        else np.nan
    )
    return table, p


def predictions_at_thresholds(
    ev: Evaluation, groups: Groups, thresholds: Mapping[str, float], positive_class: object | None = None
) -> np.ndarray:
    """Predicted positive per row if each group had its own threshold on the positive score (groups not
    named keep the Evaluation's threshold). Nothing in the Evaluation changes."""
    positive = positive_code(ev, positive_class)
    per_group = group_thresholds(ev, groups, thresholds)
    score = _positive_score(ev, positive)
    assert score is not None
    return score >= per_group[groups.row_codes(ev)]


def group_thresholds(ev: Evaluation, groups: Groups, thresholds: Mapping[str, float]) -> np.ndarray:
    """Each group's threshold: its own from ``thresholds`` ({group: probability}), else the Evaluation's."""
    if not ev.has_scores or not ev.is_binary:
        raise ValueError("per-group thresholds need binary scores (y_score= or a model with predict_proba).")
    labels = list(groups.labels)
    per_group = np.full(groups.n_groups, float(ev.threshold))
    for name, value in thresholds.items():
        if name not in labels:
            raise ValueError(f"thresholds: {name!r} is not a group; groups are {labels[:8]}.")
        if not 0 <= float(value) <= 1:
            raise ValueError(f"thresholds[{name!r}] = {value!r}: a threshold is a probability in [0, 1].")
        per_group[labels.index(name)] = float(value)
    return per_group
