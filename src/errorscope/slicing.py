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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from .coding import ColumnCodes
from .evaluation import Evaluation
from .selection import Predicate

METRICS = ("error_rate", "fpr", "fnr", "log_loss")
METRIC_NAMES = {
    "error_rate": "error rate",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "log_loss": "log loss",
}
LOG_LOSS_EPS = np.finfo(np.float64).eps  # scikit-learn's log_loss clips probabilities the same way


# -- slice families ------------------------------------------------------------------------------
def feature_family(ev: Evaluation) -> list[ColumnCodes]:
    """Every feature and sensitive column (not the text column): values, bins or periods."""
    wanted = [*ev.features, *ev.sensitive]
    return [ev.codes(c) for c in dict.fromkeys(wanted) if c != ev.text_column]


def derived_family(ev: Evaluation) -> list[ColumnCodes]:
    """Score (binary) or confidence (multiclass) bins, and text-length bins."""
    return [ev.codes(c) for c in ev.derived]


def class_family(ev: Evaluation) -> list[ColumnCodes]:
    """The actual and the predicted class."""
    memo = _memo(ev)
    key = ("class_family", ev.predictions_version)
    if key not in memo:
        out = []
        for role, codes in (("actual", ev.true_codes), ("predicted", ev.pred_codes)):
            predicates = tuple(Predicate(role, "in", (c,)) for c in ev.classes)
            out.append(ColumnCodes(role, "class", codes.astype(np.int32), tuple(ev.class_names), predicates))
        _forget(memo, "class_family")
        memo[key] = out
    return memo[key]


def tag_family(ev: Evaluation) -> list[ColumnCodes]:
    """One two-way split per tag name once a tag store is attached; only the tagged side is listed."""
    store = ev.tag_store
    if store is None:
        return []
    memo = _memo(ev)
    key = ("tag_family", id(store), store.version)
    if key not in memo:
        out = []
        for name in store.vocabulary:
            codes = np.where(ev.tag_mask([name]), 0, 1).astype(np.int32)
            predicates = (Predicate("tag", "in", (name,)), Predicate("tag", "not in", (name,)))
            out.append(
                ColumnCodes("tag", "tag", codes, (name, f"not {name}"), predicates, listed=(True, False))
            )
        _forget(memo, "tag_family")
        memo[key] = out
    return memo[key]


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
OUTCOMES = 8  # 4 * (actual is positive) + 2 * (predicted is positive) + (prediction is wrong)


def outcome_codes(ev: Evaluation, positive: int | None) -> np.ndarray:
    """Each row's outcome as 0..7 (see :data:`OUTCOMES`); without a positive class only the wrong bit."""
    wrong = (ev.true_codes != ev.pred_codes).astype(np.int32)
    if positive is None:
        return wrong
    return 4 * (ev.true_codes == positive) + 2 * (ev.pred_codes == positive) + wrong


@dataclass
class SliceIndex:
    """Columns packed two by two with the outcome into one int32 code per row and pair.

    ``counts(mask)`` then costs one boolean take and one bincount over ``n_kept x ceil(F / 2)`` codes; each
    column's (n_codes, 8) outcome table is a marginal of its pair's table.
    """

    columns: list[ColumnCodes]
    packed: np.ndarray  # (n_rows, n_pairs) int32
    pairs: list[tuple[int, int | None]]
    offsets: np.ndarray  # start of each pair's block in the bincount

    @classmethod
    def build(cls, columns: list[ColumnCodes], outcome: np.ndarray) -> SliceIndex:
        order = sorted(range(len(columns)), key=lambda i: columns[i].n_codes)
        pairs: list[tuple[int, int | None]] = []
        while order:  # pair the smallest with the largest to keep blocks small
            first = order.pop(0)
            pairs.append((first, order.pop() if order else None))
        n = len(outcome)
        packed = np.empty((n, len(pairs)), dtype=np.int32)
        offsets = np.zeros(len(pairs) + 1, dtype=np.int64)
        for j, (a, b) in enumerate(pairs):
            code = columns[a].codes.astype(np.int32)
            k_b = 1
            if b is not None:
                k_b = columns[b].n_codes
                code = code * k_b + columns[b].codes
            packed[:, j] = code * OUTCOMES + outcome + offsets[j]
            offsets[j + 1] = offsets[j] + columns[a].n_codes * k_b * OUTCOMES
        if offsets[-1] >= np.iinfo(np.int32).max:
            raise ValueError("too many slice codes to count at once; slice fewer columns.")
        return cls(columns, packed, pairs, offsets)

    def counts(self, mask: np.ndarray | None) -> list[np.ndarray]:
        """Per column, a (n_codes, 8) table of rows per code and outcome among the rows ``mask`` keeps."""
        rows = self.packed if mask is None or mask.all() else self.packed[mask]
        flat = np.bincount(rows.ravel(), minlength=int(self.offsets[-1]))
        out: list[np.ndarray | None] = [None] * len(self.columns)
        for j, (a, b) in enumerate(self.pairs):
            k_a = self.columns[a].n_codes
            k_b = self.columns[b].n_codes if b is not None else 1
            block = flat[self.offsets[j] : self.offsets[j + 1]].reshape(k_a, k_b, OUTCOMES)
            out[a] = block.sum(axis=1)
            if b is not None:
                out[b] = block.sum(axis=0)
        return out  # type: ignore[return-value]  # every column is in exactly one pair


def slice_index(ev: Evaluation, columns: list[ColumnCodes], positive: int | None) -> SliceIndex:
    """The :class:`SliceIndex` of ``columns``, cached on the Evaluation until predictions change."""
    key = ("slice_index", tuple(id(c) for c in columns), positive, ev.predictions_version)
    memo = _memo(ev)
    if key not in memo:
        _forget(memo, "slice_index")
        memo[key] = SliceIndex.build(columns, outcome_codes(ev, positive))
    return memo[key]


def _memo(ev: Evaluation) -> dict[tuple[object, ...], object]:
    """Derived structures cached on the Evaluation, keyed by what they depend on."""
    return ev.__dict__.setdefault("_memo", {})


def _forget(memo: dict[tuple[object, ...], object], kind: str) -> None:
    for old in [k for k in memo if k[0] == kind]:
        del memo[old]


def positive_class_code(ev: Evaluation, metric: str, positive_class: object | None) -> int | None:
    """The class code FPR / FNR are measured for (binary: the second class), validated."""
    if positive_class is None:
        if ev.is_binary:
            return 1
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
    """Each row's log loss, -log p(actual class), with scikit-learn's clipping (computed once)."""
    if ev.scores is None:
        raise ValueError("metric='log_loss' needs scores: build the Evaluation with y_score= or a model.")
    memo = _memo(ev)
    if ("row_log_loss",) not in memo:
        p = ev.scores[np.arange(ev.n_rows), ev.true_codes]
        memo[("row_log_loss",)] = -np.log(np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS))
    return memo[("row_log_loss",)]


# -- the table -----------------------------------------------------------------------------------
COLUMNS = ["feature", "slice", "size", "share", "errors", "error_rate"]
STAT_COLUMNS = ["difference", "ratio", "ci_low", "ci_high", "p_value", "p_adjusted"]


def slice_table(
    ev: Evaluation,
    mask: np.ndarray | None = None,
    columns: Sequence[str] | None = None,
    metric: str = "error_rate",
    positive_class: object | None = None,
) -> pd.DataFrame:
    """Every single-column slice of the rows ``mask`` keeps, worst first (by ``metric``, then size).

    Columns: feature, slice, size, share, errors, error_rate, then ``metric`` (if not the error rate)
    with ``rest_<metric>``, difference, ratio, ci_low, ci_high, p_value, p_adjusted; ``key`` (the slice's
    position among all the columns' codes: stable while the columns are) and ``predicate`` (the
    :class:`Predicate` that selects it). Empty slices are left out.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}.")
    positive = positive_class_code(ev, metric, positive_class)
    coded = slice_columns(ev, columns)
    keep = None if mask is None else np.asarray(mask, dtype=bool)
    tables = slice_index(ev, coded, positive).counts(keep)
    counts = np.concatenate(tables)  # (n_slices, 8)
    feature = np.repeat([c.column for c in coded], [c.n_codes for c in coded])
    labels = [label for c in coded for label in c.labels]
    predicates = [p for c in coded for p in c.predicates]
    size = counts.sum(axis=1)
    errors = counts[:, 1::2].sum(axis=1)
    n = int(tables[0].sum()) if tables else 0
    table = pd.DataFrame({"feature": feature, "slice": labels, "size": size, "errors": errors})
    table["key"] = np.arange(len(table))
    binned = [c.kind == "numeric" and label != "missing" for c in coded for label in c.labels]
    table["description"] = [
        f"{f} {label}" if is_bin else f"{f} = {label}"
        for f, label, is_bin in zip(feature, labels, binned, strict=True)
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["share"] = size / n if n else np.nan
        table["error_rate"] = errors / size
    if metric == "log_loss":
        value_cols = _log_loss_stats(ev, coded, keep, size)
    else:
        hits, trials = _rate_counts(counts, metric)
        total_hits, total_trials = _rate_counts(tables[0].sum(axis=0, keepdims=True), metric)
        value_cols = _rate_stats(hits, trials, total_hits[0], total_trials[0])
    renamed = {"value": metric, "rest_value": f"rest_{metric}"}
    for name, values in value_cols.items():
        table[renamed.get(name, name)] = values
    table["predicate"] = predicates
    listed = np.array([shown for c in coded for shown in (c.listed or (True,) * c.n_codes)])
    table = table[(table["size"] > 0).to_numpy() & listed].reset_index(drop=True)
    tested = table["p_value"].notna().to_numpy()
    adjusted = np.full(len(table), np.nan)
    if tested.any():
        adjusted[tested] = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    table["p_adjusted"] = adjusted
    table = table.sort_values([metric, "size"], ascending=[False, False], kind="stable", na_position="last")
    order = [*COLUMNS, *([metric] if metric != "error_rate" else []), f"rest_{metric}", *STAT_COLUMNS]
    return table[[*order, "description", "key", "predicate"]].reset_index(drop=True)


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
        "ratio": _ratio(value, rest),
        "ci_low": low,
        "ci_high": high,
        "p_value": two_proportion_p_value(hits, trials, rest_hits, rest_trials),
    }


def _log_loss_stats(
    ev: Evaluation, coded: list[ColumnCodes], keep: np.ndarray | None, size: np.ndarray
) -> dict[str, np.ndarray]:
    loss = row_log_loss(ev)
    loss_kept = loss if keep is None else loss[keep]
    total, total_sq = loss_kept.sum(), np.square(loss_kept).sum()
    sums, squares = [], []
    for c in coded:
        codes = c.codes if keep is None else c.codes[keep]
        sums.append(np.bincount(codes, weights=loss_kept, minlength=c.n_codes))
        squares.append(np.bincount(codes, weights=np.square(loss_kept), minlength=c.n_codes))
    s, sq = np.concatenate(sums), np.concatenate(squares)
    rest_n = len(loss_kept) - size
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / size
        rest = (total - s) / rest_n
        sd = np.sqrt(np.maximum(sq - size * mean**2, 0) / (size - 1))
        rest_sd = np.sqrt(np.maximum((total_sq - sq) - rest_n * rest**2, 0) / (rest_n - 1))
        half = stats.t.ppf(0.975, size - 1) * sd / np.sqrt(size)
        test = stats.ttest_ind_from_stats(mean, sd, size, rest, rest_sd, rest_n, equal_var=False)
    valid = (size > 1) & (rest_n > 1)
    return {
        "value": mean,
        "rest_value": np.where(rest_n > 0, rest, np.nan),
        "difference": mean - rest,
        "ratio": _ratio(mean, rest),
        "ci_low": np.where(size > 1, mean - half, np.nan),
        "ci_high": np.where(size > 1, mean + half, np.nan),
        "p_value": np.where(valid, test.pvalue, np.nan),
    }


def _ratio(value: np.ndarray, rest: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rest > 0, value / rest, np.where(value > 0, np.inf, np.nan))


def two_proportion_p_value(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-sided pooled z-test of x1/n1 against x2/n2, vectorised (statsmodels' proportions_ztest)."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=np.float64) for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    p = 2 * stats.norm.sf(np.abs(z))
    return np.where((n1 > 0) & (n2 > 0) & (se > 0), p, np.nan)
