"""Counting over the kept rows, directly or through the rows left out, equals a plain bincount."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from errorscope.counting import KeyCounter, Rows


@pytest.mark.parametrize("share", [0.0, 0.01, 0.5, 0.51, 0.99, 1.0])
def test_counts_and_sums_equal_a_bincount_of_the_kept_rows(share: float) -> None:
    rng = np.random.default_rng(1)
    n = 10_001
    key = rng.integers(0, 37, n).astype(np.int32)
    weight = rng.random(n)
    mask = rng.random(n) < share
    rows = Rows.of(mask, n)
    assert rows.n_kept == mask.sum()
    assert rows.complement == (mask.sum() > n // 2)
    counter = KeyCounter(key, 40, weights=(weight, weight**2))
    for _ in range(2):  # the second time from the cached totals
        counts, sums = counter.count(rows)
        assert_array_equal(counts, np.bincount(key[mask], minlength=40))
        assert_allclose(sums[0], np.bincount(key[mask], weights=weight[mask], minlength=40), atol=1e-9)
        assert_allclose(sums[1], np.bincount(key[mask], weights=weight[mask] ** 2, minlength=40), atol=1e-9)


def test_two_dimensional_keys_count_every_entry_and_all_rows() -> None:
    rng = np.random.default_rng(2)
    key = rng.integers(0, 50, (1000, 3))
    mask = rng.random(1000) < 0.7
    counter = KeyCounter(key, 50)
    assert_array_equal(counter.count(Rows.of(mask, 1000))[0], np.bincount(key[mask].ravel(), minlength=50))
    assert_array_equal(counter.count(Rows.of(None, 1000))[0], np.bincount(key.ravel(), minlength=50))
