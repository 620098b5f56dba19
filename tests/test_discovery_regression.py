"""Slice discovery on a regression: Sliceline's score on |residual|, pruning exact against brute force,
held-out Welch tests (scipy) valid when no slice is worse, on the Wage data with a fitted regressor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

import errorscope as es
from errorscope.discovery import discover_slices, sliceline_score, split_rows
from sliceline_oracle import brute_force_top_k


@pytest.fixture(scope="module")
def ev(wage_model_and_frame: tuple[object, pd.DataFrame]) -> es.Evaluation:
    frame = wage_model_and_frame[1].copy()
    return es.Evaluation(frame, y_true="wage", y_pred="pred", sensitive="race", task="regression")


def test_counts_scores_intervals_and_p_values_equal_the_rows_the_predicates_select(ev: es.Evaluation) -> None:
    mask = ev.data["age"].to_numpy() >= 25
    found = discover_slices(ev, mask, max_level=3, min_support=40)
    assert len(found) >= 3
    assert list(found.columns) == [
        "slice", "level", "size", "share", "mae", "rest_mae", "score", "holdout_size", "holdout_mae",
        "ci_low", "ci_high", "p_value", "p_adjusted", "predicates",
    ]  # fmt: skip
    error = np.abs(ev.y_pred - ev.y_true)
    held = split_rows(np.arange(ev.n_rows), 0.5, 0)
    search = mask & ~held
    n, mean = search.sum(), error[search].mean()
    for _, row in found.iterrows():
        rows = mask.copy()
        for p in row["predicates"]:
            rows &= ev.engine.predicate_mask(p)
        assert row["size"] == rows.sum()
        assert row["mae"] == pytest.approx(error[rows].mean(), rel=1e-9)
        assert row["rest_mae"] == pytest.approx(error[mask & ~rows].mean(), rel=1e-9)
        inside, rest = rows & held, mask & held & ~rows
        assert row["holdout_size"] == inside.sum()
        assert row["holdout_mae"] == pytest.approx(error[inside].mean(), rel=1e-9)
        in_search = rows & search
        expected = sliceline_score(error[in_search].sum(), in_search.sum(), mean, n, 0.95)
        assert row["score"] == pytest.approx(expected, rel=1e-9)
        low, high = stats.t.interval(0.95, inside.sum() - 1, error[inside].mean(), stats.sem(error[inside]))
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-9)
        p = stats.ttest_ind(error[inside], error[rest], equal_var=False, alternative="greater").pvalue
        assert row["p_value"] == pytest.approx(p, rel=1e-6)
    np.testing.assert_allclose(found["p_adjusted"], multipletests(found["p_value"], method="fdr_bh")[1])
    assert found["score"].is_monotonic_decreasing


def test_pruned_search_equals_brute_force_top_k(ev: es.Evaluation) -> None:
    min_support, alpha, k, gain = 20, 0.995, 15, 0.1
    found = discover_slices(
        ev, max_level=3, min_support=min_support, alpha=alpha, k=k, holdout=0, min_gain=gain, max_overlap=1
    )
    assert found["p_adjusted"].isna().all()  # no held-out rows: no valid test
    coded = [ev.codes(c) for c in dict.fromkeys([*ev.features, *ev.sensitive])]
    expected = brute_force_top_k(coded, np.abs(ev.residual), alpha, min_support, gain, k)
    assert len(expected) == k
    np.testing.assert_allclose(found["score"].to_numpy(), expected, rtol=1e-12)


def null_regression(wage: pd.DataFrame, seed: int, n: int = 3000) -> es.Evaluation:
    """Wage's features with residuals independent of them (no slice is worse)."""
    rng = np.random.default_rng(seed)
    data = wage.drop(columns=["pred"]).sample(n, replace=True, random_state=seed).reset_index(drop=True)
    return es.Evaluation(
        data, y_true="wage", y_pred=data["wage"] + rng.normal(0, 20, n), sensitive="race", task="regression"
    )


def test_p_values_are_valid_when_no_slice_is_worse(wage: pd.DataFrame) -> None:
    significant = listed = 0
    for seed in range(20):
        found = discover_slices(null_regression(wage, seed), alpha=0.99, min_support=20)
        significant += int((found["p_adjusted"] < 0.05).sum())
        listed += len(found)
    assert listed >= 100  # the search does list slices: chance makes some look worse
    assert significant / listed <= 0.05


def test_a_planted_failure_is_found_first(wage: pd.DataFrame) -> None:
    data = wage.drop(columns=["pred"])
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 10, len(data))
    planted = (data["jobclass"].str.startswith("2") & (data["age"] >= 50)).to_numpy()
    pred = data["wage"] + np.where(planted, 60, 0) + noise
    ev = es.Evaluation(data, y_true="wage", y_pred=pred, task="regression")
    top = discover_slices(ev).iloc[0]
    assert {p.column for p in top["predicates"]} == {"jobclass", "age"}
    assert top["mae"] > 50 and top["p_adjusted"] < 1e-10


def test_the_same_table_on_every_engine(on_engine, wage_model_and_frame, ev: es.Evaluation) -> None:  # type: ignore[no-untyped-def]
    """DuckDB and Spark find the same slices with the same numbers (GroupingSets sums of |e|, the largest |e|
    from Quantiles, the held-out cells from GroupCounts by Key.split)."""
    other = on_engine("wage", wage_model_and_frame[1], y_true="wage", y_pred="pred", sensitive="race")
    expected = discover_slices(ev, min_support=30)
    found = discover_slices(other, min_support=30)
    assert list(found["slice"]) == list(expected["slice"]) and len(found) >= 3
    numbers = ["size", "share", "mae", "rest_mae", "score", "holdout_size", "holdout_mae", "ci_low", "ci_high",
               "p_value", "p_adjusted"]  # fmt: skip
    np.testing.assert_allclose(found[numbers].to_numpy(float), expected[numbers].to_numpy(float), rtol=1e-9)
