"""Single-feature slices ranked by how badly the model does there, from cached codes and bincounts.

Each slice is one code of one column (a value, a quantile bin, "other" or "missing"; or an actual or
predicted class). Per slice: size, share, error rate, the difference and ratio against the rest of the
rows, a 95% Wilson interval (statsmodels), a two-sided pooled two-proportion z-test against the rest and
Benjamini-Hochberg adjusted p-values across all slices listed (statsmodels).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from .evaluation import Evaluation
from .selection import Predicate

COLUMNS = [
    "feature", "slice", "size", "share", "errors", "error_rate", "rest_error_rate",
    "difference", "ratio", "ci_low", "ci_high", "p_value", "p_adjusted",
]  # fmt: skip


def slice_table(
    ev: Evaluation, mask: np.ndarray | None = None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Every single-feature slice of the rows ``mask`` keeps, worst (highest error rate) first.

    ``columns``: the data columns to slice (default: the features, sensitive and text-free columns).
    The ``predicate`` column holds the :class:`Predicate` that selects each slice.
    """
    keep = np.ones(ev.n_rows, dtype=bool) if mask is None else mask
    wrong = (ev.true_codes != ev.pred_codes)[keep]
    n, total_errors = int(keep.sum()), int(wrong.sum())
    names = list(columns) if columns is not None else _default_columns(ev)
    parts = []
    for name in names:
        coded = ev.codes(name)
        parts.append(_column_slices(name, coded.codes[keep], coded.labels, coded.predicates, wrong))
    for role, codes in (("actual", ev.true_codes), ("predicted", ev.pred_codes)):
        predicates = tuple(Predicate(role, "in", (c,)) for c in ev.classes)
        parts.append(_column_slices(role, codes[keep], tuple(ev.class_names), predicates, wrong))
    table = pd.concat(parts, ignore_index=True)
    table = table[table["size"] > 0].reset_index(drop=True)
    size, errors = table["size"].to_numpy(), table["errors"].to_numpy()
    rest_n, rest_errors = n - size, total_errors - errors
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = errors / size
        rest_rate = np.where(rest_n > 0, rest_errors / rest_n, np.nan)
        table["share"] = size / n if n else np.nan
        table["error_rate"] = rate
        table["rest_error_rate"] = rest_rate
        table["difference"] = rate - rest_rate
        table["ratio"] = rate / rest_rate
        table["p_value"] = two_proportion_p_value(errors, size, rest_errors, rest_n)
    low, high = proportion_confint(errors, size, alpha=0.05, method="wilson")
    table["ci_low"], table["ci_high"] = low, high
    tested = table["p_value"].notna().to_numpy()
    adjusted = np.full(len(table), np.nan)
    if tested.any():
        adjusted[tested] = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    table["p_adjusted"] = adjusted
    table = table.sort_values(["error_rate", "size"], ascending=[False, False], kind="stable")
    return table[[*COLUMNS, "predicate"]].reset_index(drop=True)


def two_proportion_p_value(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-sided pooled z-test of x1/n1 against x2/n2, vectorised (statsmodels' proportions_ztest)."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=np.float64) for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    p = 2 * norm.sf(np.abs(z))
    return np.where((n1 > 0) & (n2 > 0) & (se > 0), p, np.nan)


def _default_columns(ev: Evaluation) -> list[str]:
    wanted = [*ev.features, *ev.sensitive]
    return [c for c in dict.fromkeys(wanted) if c != ev.text_column]


def _column_slices(
    column: str,
    codes: np.ndarray,
    labels: Sequence[str],
    predicates: Sequence[Predicate],
    wrong: np.ndarray,
) -> pd.DataFrame:
    k = len(labels)
    return pd.DataFrame(
        {
            "feature": column,
            "slice": list(labels),
            "size": np.bincount(codes, minlength=k),
            "errors": np.bincount(codes, weights=wrong, minlength=k).astype(np.int64),
            "predicate": list(predicates),
        }
    )
