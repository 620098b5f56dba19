"""Orders in which to review rows: the worst first.

- ``loss``: log loss of the actual class, highest first (scores needed; without scores, errors first).
- ``confident_wrong``: wrong rows by the confidence of their (wrong) prediction, highest first, then the
  right rows from the least confident.
- ``least_confident``: smallest margin first (binary: |score - threshold|; multiclass: top-two gap).
- ``id``: by row id.
- ``stratified_random``: a seeded shuffle that interleaves the actual classes (or the codes of a
  ``strata`` column) in proportion to their size, so any prefix of the order is a stratified sample.
- ``random``: a seeded pseudo-random order of the rows (:func:`random_key`: integer arithmetic on the row
  number that every engine computes alike), so any prefix is a seeded sample, found without a shuffle.

A regression's orders (residual = prediction - actual): ``loss`` is the absolute residual, largest first;
``over_prediction`` the residual, largest first; ``under_prediction`` the residual, most negative first;
``stratified_random`` interleaves the actual value's quantile bins; ``id`` and ``random`` as above.
Ties keep the data's order (stable sorts), so every order is deterministic.
"""

from __future__ import annotations

import numpy as np

from .evaluation import Evaluation
from .slicing import row_log_loss

ORDERS = ("loss", "confident_wrong", "least_confident", "id", "stratified_random", "random")
REGRESSION_ORDERS = ("loss", "over_prediction", "under_prediction", "id", "stratified_random", "random")
RANDOM_PRIME = 2_147_483_579  # the largest prime below 2**31 that is 2 mod 3: cubing is a bijection mod it
RANDOM_STEPS = ((48_271, 12_345), (69_621, 40_503))  # (multiplier, offset) of each affine step


def row_order(
    ev: Evaluation,
    mask: np.ndarray | None = None,
    by: str = "loss",
    seed: int = 0,
    strata: str | None = None,
    limit: int | None = None,
) -> np.ndarray:
    """Positions of the rows ``mask`` keeps, in review order ``by`` (see the module docstring).

    ``limit``: only the first ``limit`` rows of that order (found without sorting the rest).
    """
    check_order(ev, by)
    rows = np.arange(ev.n_rows) if mask is None else np.flatnonzero(mask)
    if by == "stratified_random":
        default = ev.codes(ev.role_names()["actual"]).codes if ev.is_regression else ev.true_codes
        groups = default[rows] if strata is None else ev.codes(strata).codes[rows]
        return rows[_stratified(groups, seed)][:limit]
    if by == "id":
        return rows[np.argsort(ev.ids[rows], kind="stable")][:limit]
    if by == "random":
        return rows[_smallest_first(random_key(rows, seed), limit)]
    if ev.is_regression:
        residual = ev.residual[rows]
        key = {"loss": -np.abs(residual), "over_prediction": -residual, "under_prediction": residual}[by]
    elif ev.scores is None:  # no scores: errors first, then the rest, each in data order
        key = (~ev.wrong[rows]).astype(np.float64)
    elif by == "loss":
        key = -row_log_loss(ev)[rows]
    elif by == "confident_wrong":
        key = ev.cached(("confident_wrong", ev.predictions_version), lambda: _confident_wrong_key(ev))[rows]
    else:
        key = margin(ev)[rows]
    return rows[_smallest_first(key, limit)]


def check_order(ev: Evaluation, order: str) -> None:
    """A review order this Evaluation's task has, or a ValueError listing them."""
    orders = REGRESSION_ORDERS if ev.is_regression else ORDERS
    if order not in orders:
        kind = "a regression" if ev.is_regression else "a classification"
        raise ValueError(f"order must be one of {orders} for {kind}, got {order!r}.")


def random_key(rows: np.ndarray, seed: int) -> np.ndarray:
    """The ``random`` order's key of row numbers ``rows``: two rounds of an affine step (seeded) and a cube,
    modulo :data:`RANDOM_PRIME`: a bijection of [0, prime), so rows below 2**31 never tie, computed in int64
    without overflow (every product is below 2**62). The SQL engines compute the same integers."""
    x = np.asarray(rows, dtype=np.int64) % RANDOM_PRIME
    for multiplier, offset in RANDOM_STEPS:
        x = (x * multiplier + random_offset(seed, offset)) % RANDOM_PRIME
        x = (x * x % RANDOM_PRIME) * x % RANDOM_PRIME
    return x


def random_offset(seed: int, offset: int) -> int:
    """A step's additive constant for ``seed`` (below :data:`RANDOM_PRIME`)."""
    return (int(seed) * 7_919 + offset) % RANDOM_PRIME


def _confident_wrong_key(ev: Evaluation) -> np.ndarray:
    """Wrong rows (keys in [-1, 0]) by the confidence of their prediction, then right rows ([1, 2]) from
    the least confident."""
    confidence = ev.scores[np.arange(ev.n_rows), ev.pred_codes]
    return np.where(ev.wrong, -confidence, 1 + confidence)


def _smallest_first(key: np.ndarray, limit: int | None) -> np.ndarray:
    """Indices sorting ``key`` ascending, ties in index order (a stable sort); with ``limit``, only the
    first ``limit`` of them, found by a partition instead of a full sort."""
    if limit is None or limit >= len(key):
        return np.argsort(key, kind="stable")
    if limit <= 0:
        return np.zeros(0, dtype=np.int64)
    boundary = np.partition(key, limit - 1)[limit - 1]
    below = np.flatnonzero(key < boundary)
    tied = np.flatnonzero(key == boundary)[: limit - len(below)]  # ties at the boundary: lowest index first
    chosen = np.concatenate([below, tied])
    return chosen[np.lexsort((chosen, key[chosen]))]


def margin(ev: Evaluation) -> np.ndarray:
    """How far each row is from changing its prediction (binary: |score - threshold|; else top-two gap)."""
    if ev.scores is None:
        raise ValueError("margins need scores: build the Evaluation with y_score= or a model.")
    if ev.is_binary and ev.pred_from_scores:
        return np.abs(ev.scores[:, 1] - ev.threshold)
    top_two = np.sort(ev.scores, axis=1)[:, -2:]
    return top_two[:, 1] - top_two[:, 0]


def _stratified(groups: np.ndarray, seed: int) -> np.ndarray:
    """An order of ``groups``' positions: shuffled within each group, groups interleaved by rank / size."""
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(len(groups))
    by_group = shuffled[np.argsort(groups[shuffled], kind="stable")]  # shuffled within each group
    sizes = np.bincount(groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(len(groups)) - starts[groups[by_group]]
    fraction = (rank + rng.random(len(groups))) / sizes[groups[by_group]]
    return by_group[np.argsort(fraction, kind="stable")]
