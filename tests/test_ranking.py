"""Review orders and the feature comparison, against hand-computed expectations and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency

import errorscope as es
from errorscope.comparison import differing_features, feature_distribution
from errorscope.ranking import margin, row_order

# Six rows: actual, positive-class score (threshold 0.5).
#   id   actual  score  predicted  wrong  p(actual)  margin
#   a    1       0.95   1          no     0.95       0.45
#   b    0       0.90   1          yes    0.10       0.40
#   c    1       0.20   0          yes    0.20       0.30
#   d    0       0.45   0          no     0.55       0.05
#   e    1       0.55   1          no     0.55       0.05
#   f    0       0.65   1          yes    0.35       0.15
SMALL = pd.DataFrame({"id": list("abcdef"), "x": [1, 2, 3, 4, 5, 6]})
ACTUAL = np.array([1, 0, 1, 0, 1, 0])
SCORE = np.array([0.95, 0.90, 0.20, 0.45, 0.55, 0.65])


@pytest.fixture
def small() -> es.Evaluation:
    return es.Evaluation(SMALL, ACTUAL, y_score=SCORE, ids="id")


def ids(ev: es.Evaluation, order: np.ndarray) -> str:
    return "".join(ev.ids[order])


def test_orders_match_hand_computed(small: es.Evaluation) -> None:
    assert ids(small, row_order(small, by="loss")) == "bcfdea"  # -log p(actual): .10 .20 .35 .55 .55 .95
    # wrong rows by the confidence of their prediction (b .90, c .80, f .65), then right rows from the least
    assert ids(small, row_order(small, by="confident_wrong")) == "bcf" + "dea"
    assert ids(small, row_order(small, by="least_confident")) == "defcba"
    assert ids(small, row_order(small, by="id")) == "abcdef"
    np.testing.assert_allclose(margin(small), [0.45, 0.40, 0.30, 0.05, 0.05, 0.15])


def test_orders_respect_the_mask_and_errors_first_without_scores(small: es.Evaluation) -> None:
    mask = np.array([True, True, False, True, False, True])
    assert ids(small, row_order(small, mask, by="loss")) == "bfda"
    labels_only = es.Evaluation(SMALL, ACTUAL, y_pred=(SCORE >= 0.5).astype(int), ids="id")
    assert ids(labels_only, row_order(labels_only, by="loss")) == "bcfade"
    with pytest.raises(ValueError, match="order must be one of"):
        row_order(small, by="shuffled")


def test_random_order_is_a_seeded_permutation_without_ties() -> None:
    """The ``random`` order's key is a bijection of the row numbers (no ties), differs by seed, and the
    order of the kept rows is the order of every row with the others left out (a prefix is a sample)."""
    from errorscope.ranking import RANDOM_PRIME, random_key

    rows = np.arange(200_000)
    key = random_key(rows, 0)
    assert len(np.unique(key)) == len(rows) and key.min() >= 0 and key.max() < RANDOM_PRIME
    assert not np.array_equal(key, random_key(rows, 1))
    assert random_key(np.array([RANDOM_PRIME - 1]), 3)[0] < RANDOM_PRIME  # no int64 overflow at the top
    df = pd.DataFrame({"x": np.arange(500) % 7, "y": np.arange(500) % 2})
    ev = es.Evaluation(df, "y", y_pred=df["x"] % 2, features=["x"])
    mask = (df["x"] > 2).to_numpy()
    everything = row_order(ev, by="random", seed=4)
    kept = row_order(ev, mask, by="random", seed=4)
    np.testing.assert_array_equal(kept, everything[mask[everything]])
    np.testing.assert_array_equal(row_order(ev, mask, by="random", seed=4, limit=10), kept[:10])
    first = row_order(ev, by="random", seed=4, limit=100)  # a sample spread over the data, not a block
    assert first.min() < 50 and first.max() > 450 and 0.3 < (first < 250).mean() < 0.7


def test_feature_comparison_equals_scipy() -> None:
    df = es.datasets.load_adult()
    ev = es.Evaluation(
        df, "income", y_pred=df["income"], features=["sex", "race", "age", "education"], metadata=[]
    )
    selected = (df["relationship"] == "Wife").to_numpy()
    ranked = differing_features(ev, selected)
    assert ranked.iloc[0]["feature"] == "sex"  # wives are women
    for _, row in ranked.iterrows():
        codes = ev.codes(row["feature"]).codes
        inside = np.bincount(codes[selected], minlength=ev.codes(row["feature"]).n_codes)
        outside = np.bincount(codes[~selected], minlength=ev.codes(row["feature"]).n_codes)
        assert row["distance"] == pytest.approx(jensenshannon(inside, outside, base=2), rel=1e-12)
        used = (inside + outside) > 0
        assert row["p_value"] == pytest.approx(chi2_contingency(np.vstack([inside[used], outside[used]]))[1])
    dist = feature_distribution(ev, "sex", selected)
    shares = df.loc[selected, "sex"].value_counts(normalize=True)
    assert dict(zip(dist["value"], dist["selected_share"], strict=True))["Female"] == pytest.approx(
        shares["Female"]
    )


def test_limited_orders_equal_the_head_of_the_full_stable_sort() -> None:
    from errorscope.ranking import _smallest_first

    rng = np.random.default_rng(0)
    for _ in range(300):  # many ties, to exercise the boundary
        key = rng.integers(0, 5, size=rng.integers(1, 60)).astype(float)
        limit = int(rng.integers(0, 70))
        np.testing.assert_array_equal(_smallest_first(key, limit), np.argsort(key, kind="stable")[:limit])
