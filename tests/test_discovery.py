"""Slice discovery: a planted failure is found first; pruning loses nothing against brute force."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope.discovery import DiscoveryCancelled, discover_slices, sliceline_score


def planted(n: int = 20_000, seed: int = 0) -> es.Evaluation:
    """Six features, 10% noise errors, and most rows of `color = red AND size >= ~1.0` wrong."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue", "black"], n),
            "size": rng.normal(size=n),
            "shape": rng.choice(["round", "square", "flat"], n),
            "weight": rng.exponential(size=n),
            "city": rng.choice(list("ABCDEFG"), n),
            "age": rng.integers(18, 90, n),
        }
    )
    y = rng.integers(0, 2, n)
    wrong = rng.random(n) < 0.1
    wrong |= ((data["color"] == "red") & (data["size"] > 1.0)).to_numpy() & (rng.random(n) < 0.7)
    return es.Evaluation(data, y, y_pred=np.where(wrong, 1 - y, y))


@pytest.fixture(scope="module")
def ev() -> es.Evaluation:
    return planted()


def test_planted_two_feature_slice_is_ranked_first(ev: es.Evaluation) -> None:
    found = discover_slices(ev)
    top = found.iloc[0]
    assert top["level"] == 2
    columns = {p.column for p in top["predicates"]}
    assert columns == {"color", "size"}
    color = next(p for p in top["predicates"] if p.column == "color")
    assert color.values == ("red",)
    assert top["error_rate"] > 0.6 and top["p_adjusted"] < 1e-10
    assert found["score"].is_monotonic_decreasing


def test_counts_and_scores_equal_the_rows_the_predicates_select(ev: es.Evaluation) -> None:
    mask = ev.data["shape"].to_numpy() != "flat"
    found = discover_slices(ev, mask, max_level=3, min_support=50)
    wrong = ev.true_codes != ev.pred_codes
    n, mean = mask.sum(), wrong[mask].mean()
    for _, row in found.iterrows():
        rows = mask.copy()
        for p in row["predicates"]:
            rows &= ev._resolve(p)
        assert row["size"] == rows.sum() and row["errors"] == wrong[rows].sum()
        assert row["score"] == pytest.approx(sliceline_score(wrong[rows].sum(), rows.sum(), mean, n, 0.95))
        assert row["slice"] == ", ".join(p.label for p in row["predicates"])


def test_pruned_search_equals_brute_force_top_k() -> None:
    ev = planted(n=4000, seed=3)
    min_support, alpha, k = 40, 0.9, 15
    found = discover_slices(ev, max_level=3, min_support=min_support, alpha=alpha, k=k)
    coded = [ev.codes(c) for c in ev.features]
    wrong = ev.true_codes != ev.pred_codes
    n, mean = ev.n_rows, wrong.mean()
    brute, sizes = [], {}
    for level in (1, 2, 3):
        for combo in itertools.combinations(range(len(coded)), level):
            frame = pd.DataFrame({i: coded[i].codes for i in combo})
            frame["wrong"] = wrong
            stats = frame.groupby(list(combo))["wrong"].agg(["size", "sum"])
            sizes[combo] = stats["size"].to_dict()
            for key, row in stats.iterrows():
                key = key if isinstance(key, tuple) else (key,)
                redundant = level > 1 and any(
                    sizes[combo[:d] + combo[d + 1 :]][_key(key[:d] + key[d + 1 :])] == row["size"]
                    for d in range(level)
                )
                if row["size"] >= min_support and not redundant:
                    score = sliceline_score(row["sum"], row["size"], mean, n, alpha)
                    if score > 0:
                        brute.append(score)
    expected = sorted(brute, reverse=True)[:k]
    np.testing.assert_allclose(found["score"].to_numpy(), expected, rtol=1e-12)


def _key(digits: tuple[int, ...]) -> int | tuple[int, ...]:
    return digits[0] if len(digits) == 1 else digits


def test_redundant_conjunctions_are_not_listed() -> None:
    df = es.datasets.load_adult()
    ev = es.Evaluation(df, "income", y_pred=np.where(df["relationship"] == "Husband", "<=50K", df["income"]))
    found = discover_slices(ev, columns=["relationship", "sex", "age"])
    texts = list(found["slice"])
    assert "relationship = Husband" in texts
    assert not any(
        "relationship = Husband" in t and "sex = Male" in t for t in texts
    )  # every husband is male


def test_progress_reaches_one_and_cancel_stops(ev: es.Evaluation) -> None:
    seen: list[float] = []
    discover_slices(ev, progress=lambda f, _m: seen.append(f))
    assert seen[-1] == 1.0 and seen == sorted(seen)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DiscoveryCancelled):
        discover_slices(ev, cancel=cancel)


def test_no_errors_and_bad_arguments() -> None:
    data = pd.DataFrame({"a": ["x", "y"] * 50})
    y = np.array([0, 1] * 50)
    perfect = es.Evaluation(data, y, y_pred=y)
    assert discover_slices(perfect).empty
    with pytest.raises(ValueError, match="max_level"):
        discover_slices(perfect, max_level=7)
    with pytest.raises(ValueError, match="alpha"):
        discover_slices(perfect, alpha=0)
    with pytest.raises(ValueError, match="min_support"):
        discover_slices(perfect, min_support=0)
