"""Drift statistics from counts against scipy on Adult's training and test files, and a hand-checked PSI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp

from errorscope.drift import chi_square, drift_table, js_distance, ks_from_counts, psi, psi_verdict


def value_counts(train: pd.Series, test: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Rows per distinct value (in value order) of each set, on the union of their values."""
    values = np.union1d(train.dropna().unique(), test.dropna().unique())
    count = lambda s: s.value_counts().reindex(values, fill_value=0).to_numpy()  # noqa: E731
    return count(train), count(test)


@pytest.mark.parametrize("column", ["age", "hours-per-week", "capital-gain", "fnlwgt"])
def test_ks_from_counts_is_scipys(adult_train, adult_test, column):  # type: ignore[no-untyped-def]
    t, e = value_counts(adult_train[column], adult_test[column])
    d, p = ks_from_counts(t, e)
    expected = ks_2samp(adult_train[column].dropna(), adult_test[column].dropna(), method="asymp")
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_ks_finds_a_shift() -> None:
    rng = np.random.default_rng(0)
    a, b = pd.Series(rng.normal(size=3000).round(2)), pd.Series(rng.normal(0.2, size=2000).round(2))
    t, e = value_counts(a, b)
    d, p = ks_from_counts(t, e)
    expected = ks_2samp(a, b, method="asymp")
    assert (d, p) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-9)
    assert p < 1e-6


@pytest.mark.parametrize("column", ["workclass", "education", "race", "native-country"])
def test_chi_square_and_js_are_scipys(adult_train, adult_test, column):  # type: ignore[no-untyped-def]
    t, e = value_counts(adult_train[column].astype(object), adult_test[column].astype(object))
    statistic, p = chi_square(t, e)
    used = (t + e) > 0
    expected = chi2_contingency(np.vstack([t[used], e[used]]), correction=False)
    assert statistic == pytest.approx(expected[0], rel=1e-12) and p == pytest.approx(expected[1], rel=1e-9)
    assert js_distance(t, e) == pytest.approx(jensenshannon(t, e, base=2), abs=1e-12)


def test_psi_by_hand() -> None:
    # shares 0.5 / 0.3 / 0.2 against 0.4 / 0.4 / 0.2: (0.4-0.5) ln(0.4/0.5) + (0.4-0.3) ln(0.4/0.3) + 0
    expected = -0.1 * np.log(0.8) + 0.1 * np.log(4 / 3)
    assert psi([50, 30, 20], [40, 40, 20]) == pytest.approx(expected, rel=1e-12)
    assert psi([50, 30, 20], [100, 60, 40]) == pytest.approx(0.0, abs=1e-15)  # same shares
    floored = (1e-4 - 0.5) * np.log(1e-4 / 0.5) + (1.0 - 0.5) * np.log(1.0 / 0.5)  # an empty bin at 1e-4
    assert psi([50, 50], [0, 10]) == pytest.approx(floored, rel=1e-12)
    assert [psi_verdict(v) for v in (0.05, 0.1, 0.2, 0.25, np.nan)] == [
        "stable", "moderate shift", "moderate shift", "major shift", ""
    ]  # fmt: skip


def bin_counts(edges: np.ndarray, values: pd.Series) -> np.ndarray:
    """Rows per bin of ``edges`` (values outside in the end bins)."""
    bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    return np.bincount(bins, minlength=len(edges) - 1)


def test_drift_table_adjusts_over_features_and_flags(adult_train, adult_test):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    shifted = adult_test.assign(
        age=adult_test["age"] + rng.integers(3, 8, len(adult_test))
    )  # a planted shift
    features, kinds, binned, by_value = (
        ["age", "hours-per-week", "race"],
        ["numeric", "numeric", "categorical"],
        [],
        [],
    )
    for column, kind in zip(features, kinds, strict=True):
        train, test = adult_train[column], shifted[column]
        if kind == "numeric":
            edges = np.unique(np.quantile(train, np.linspace(0, 1, 11)))
            binned.append((bin_counts(edges, train), bin_counts(edges, test)))
        else:
            binned.append(value_counts(train.astype(object), test.astype(object)))
        by_value.append(
            value_counts(
                train.astype(object) if kind != "numeric" else train,
                test.astype(object) if kind != "numeric" else test,
            )
        )
    table = drift_table(features, kinds, binned, by_value).set_index("feature")
    from statsmodels.stats.multitest import multipletests

    assert table["drift_q"].tolist() == pytest.approx(
        multipletests(table["drift_p"], method="fdr_bh")[1].tolist()
    )
    assert table.loc["age", "drifted"] and table.loc["age", "psi_verdict"] != "stable"
    assert (
        table.loc["age", "drift_test"] == "Kolmogorov-Smirnov"
        and table.loc["race", "drift_test"] == "chi-square"
    )


def test_bad_counts_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="two vectors over the same cells"):
        psi([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        ks_from_counts([1, -1], [1, 1])
