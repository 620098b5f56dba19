"""Brute force over every slice of up to three columns: the oracle of slice discovery's pruned search."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from errorscope.coding import ColumnCodes
from errorscope.discovery import sliceline_score


def brute_force_top_k(
    coded: list[ColumnCodes], error: np.ndarray, alpha: float, min_support: int, gain: float, k: int
) -> list[float]:
    """The ``k`` best Sliceline scores (per-row ``error``: 0/1 or |e|) of the conjunctions of up to three
    of ``coded`` that have ``min_support`` rows and beat their best parent by ``gain``, by groupby."""
    n, mean = len(error), float(np.mean(error))
    brute, scores = [], {}
    for level in (1, 2, 3):
        for combo in itertools.combinations(range(len(coded)), level):
            frame = pd.DataFrame({i: coded[i].codes for i in combo})
            frame["error"] = error
            agg = frame.groupby(list(combo))["error"].agg(["size", "sum"])
            agg["score"] = sliceline_score(agg["sum"], agg["size"], mean, n, alpha)
            scores[combo] = agg["score"].to_dict()
            for key, row in agg.iterrows():
                key = key if isinstance(key, tuple) else (key,)
                parents = [scores[combo[:d] + combo[d + 1 :]] for d in range(level)] if level > 1 else []
                best_parent = max(
                    (p[_key(key[:d] + key[d + 1 :])] for d, p in enumerate(parents)), default=0.0
                )
                if row["size"] >= min_support and row["score"] > max(0.0, (1 + gain) * best_parent):
                    brute.append(row["score"])
    return sorted(brute, reverse=True)[:k]


def _key(digits: tuple[int, ...]) -> int | tuple[int, ...]:
    return digits[0] if len(digits) == 1 else digits
