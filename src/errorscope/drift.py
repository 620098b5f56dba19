"""How the evaluation rows differ from the training rows, feature by feature: counts in, figures out.

Every statistic takes two count vectors over the same cells (a feature's bins or values: the training
rows' and the evaluation rows'), so an engine's grouped counts are all it needs:

- **PSI** (population stability index) over the training set's quantile bins: sum over bins of
  (e - t) * ln(e / t), the shares t (training) and e (evaluation); an empty bin's share is floored at
  :data:`PSI_FLOOR` (otherwise one empty bin makes it infinite). Rule of thumb (:data:`PSI_RULES`): below
  0.1 stable, 0.1 to 0.25 a moderate shift, 0.25 and above a major shift.
- **Kolmogorov-Smirnov** (numeric features), from counts per distinct value (sorted): the largest gap
  between the two empirical distribution functions, and its asymptotic p-value as scipy's
  ``ks_2samp(method="asymp")`` computes it (Kolmogorov's distribution at the effective size m n / (m + n)).
- **Chi-square** (categorical features): the test of independence of set (training / evaluation) and
  value on the 2 x k table (scipy's ``chi2_contingency``, values present in neither set left out).
- **Jensen-Shannon distance** (base 2, in [0, 1]; scipy) of the two distributions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, distributions
from statsmodels.stats.multitest import multipletests

PSI_FLOOR = 1e-4  # the share an empty bin counts as in the PSI
PSI_RULES = ((0.25, "major shift"), (0.1, "moderate shift"), (0.0, "stable"))
"""(lowest PSI, verdict), highest first: the common rule of thumb for a population stability index."""
ALPHA = 0.05  # drift tests: a feature is flagged when its Benjamini-Hochberg adjusted p is below this


def _pair(train: Sequence[float], evaluation: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    t, e = (np.asarray(c, dtype=np.float64) for c in (train, evaluation))
    if t.ndim != 1 or t.shape != e.shape:
        raise ValueError(
            f"train and evaluation counts must be two vectors over the same cells, got shapes {t.shape} and "
            f"{e.shape}: count both sets on one set of bins or values."
        )
    if (t < 0).any() or (e < 0).any() or not (np.isfinite(t).all() and np.isfinite(e).all()):
        raise ValueError("counts must be finite and non-negative (rows per bin or value).")
    return t, e


def psi(train: Sequence[float], evaluation: Sequence[float], floor: float = PSI_FLOOR) -> float:
    """The population stability index of the evaluation's shares against the training's (NaN when a set
    has no rows)."""
    t, e = _pair(train, evaluation)
    if t.sum() == 0 or e.sum() == 0:
        return float("nan")
    p, q = np.maximum(t / t.sum(), floor), np.maximum(e / e.sum(), floor)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_verdict(value: float) -> str:
    """ "stable", "moderate shift" or "major shift" (:data:`PSI_RULES`); "" for NaN."""
    if not np.isfinite(value):
        return ""
    return next(verdict for lowest, verdict in PSI_RULES if value >= lowest)


def ks_from_counts(train: Sequence[float], evaluation: Sequence[float]) -> tuple[float, float]:
    """(D, p): the two-sample Kolmogorov-Smirnov statistic from rows per distinct value (the cells in value
    order), and its asymptotic two-sided p-value (scipy's ``ks_2samp(method="asymp")``)."""
    t, e = _pair(train, evaluation)
    m, n = t.sum(), e.sum()
    if m == 0 or n == 0:
        return float("nan"), float("nan")
    gap = np.abs(np.cumsum(t) / m - np.cumsum(e) / n)
    d = float(gap.max()) if len(gap) else 0.0
    effective = m * n / (m + n)
    p = float(np.clip(distributions.kstwo.sf(d, np.round(effective)), 0, 1))
    return d, p


def chi_square(train: Sequence[float], evaluation: Sequence[float]) -> tuple[float, float]:
    """(statistic, p) of the chi-square test of independence of set and value (values in neither set left
    out; one value left: no test, (0, 1))."""
    t, e = _pair(train, evaluation)
    used = (t + e) > 0
    if used.sum() < 2 or t.sum() == 0 or e.sum() == 0:
        return 0.0, 1.0
    statistic, p, _, _ = chi2_contingency(np.vstack([t[used], e[used]]), correction=False)
    return float(statistic), float(p)


def js_distance(train: Sequence[float], evaluation: Sequence[float]) -> float:
    """The Jensen-Shannon distance (base 2) of the two distributions (NaN when a set has no rows)."""
    t, e = _pair(train, evaluation)
    if t.sum() == 0 or e.sum() == 0:
        return float("nan")
    return float(jensenshannon(t, e, base=2))


def drift_table(
    features: Sequence[str],
    kinds: Sequence[str],
    binned: Sequence[tuple[Sequence[float], Sequence[float]]],
    by_value: Sequence[tuple[Sequence[float], Sequence[float]]],
) -> pd.DataFrame:
    """One row per feature: PSI (and its verdict) over ``binned`` counts (the training set's quantile bins,
    or a categorical feature's values), the KS (``kinds`` "numeric": ``by_value`` counts per distinct value
    in value order) or chi-square test (otherwise: over ``by_value``), the Jensen-Shannon distance,
    Benjamini-Hochberg over the features, and ``drifted`` (q < :data:`ALPHA` or PSI >= 0.1).

    Columns: feature, type, drift_psi, psi_verdict, drift_test, drift_statistic, drift_p, drift_q,
    js_distance, drifted.
    """
    if not len(features) == len(kinds) == len(binned) == len(by_value):
        raise ValueError("features, kinds, binned and by_value must have one entry per feature.")
    rows = []
    for feature, kind, (t_bins, e_bins), (t_values, e_values) in zip(
        features, kinds, binned, by_value, strict=True
    ):
        numeric = kind == "numeric"
        statistic, p = ks_from_counts(t_values, e_values) if numeric else chi_square(t_values, e_values)
        value = psi(t_bins, e_bins)
        rows.append({
            "feature": feature, "type": kind, "drift_psi": value, "psi_verdict": psi_verdict(value),
            "drift_test": "Kolmogorov-Smirnov" if numeric else "chi-square",
            "drift_statistic": statistic, "drift_p": p, "js_distance": js_distance(t_bins, e_bins),
        })  # fmt: skip
    table = pd.DataFrame(rows, columns=["feature", "type", "drift_psi", "psi_verdict", "drift_test",
                                        "drift_statistic", "drift_p", "js_distance"])  # fmt: skip
    tested = table["drift_p"].notna().to_numpy()
    q = np.full(len(table), np.nan)
    if tested.any():
        q[tested] = multipletests(table.loc[tested, "drift_p"], method="fdr_bh")[1]
    table.insert(table.columns.get_loc("drift_p") + 1, "drift_q", q)
    table["drifted"] = (table["drift_q"] < ALPHA) | (table["drift_psi"] >= PSI_RULES[1][0])
    return table
