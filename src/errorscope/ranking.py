"""Orders in which to review rows: the worst first.

- ``loss``: log loss of the actual class, highest first (scores needed; without scores, errors first).
- ``confident_wrong``: wrong rows by the confidence of their (wrong) prediction, highest first, then the
  right rows from the least confident.
- ``least_confident``: smallest margin first (binary: |score - threshold|; multiclass: top-two gap).
- ``id``: by row id.
- ``stratified_random``: a seeded shuffle that interleaves the actual classes (or the codes of a
  ``strata`` column) in proportion to their size, so any prefix of the order is a stratified sample.
Ties keep the data's order (stable sorts), so every order is deterministic.
"""

from __future__ import annotations

import numpy as np

from .evaluation import Evaluation
from .slicing import row_log_loss

ORDERS = ("loss", "confident_wrong", "least_confident", "id", "stratified_random")


def row_order(
    ev: Evaluation,
    mask: np.ndarray | None = None,
    by: str = "loss",
    seed: int = 0,
    strata: str | None = None,
) -> np.ndarray:
    """Positions of the rows ``mask`` keeps, in review order ``by`` (see the module docstring)."""
    if by not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {by!r}.")
    rows = np.arange(ev.n_rows) if mask is None else np.flatnonzero(mask)
    wrong = (ev.true_codes != ev.pred_codes)[rows]
    if by == "stratified_random":
        return rows[
            _stratified(ev.true_codes[rows] if strata is None else ev.codes(strata).codes[rows], seed)
        ]
    if by == "id":
        return rows[np.argsort(ev.ids[rows], kind="stable")]
    if ev.scores is None:  # no scores: errors first, then the rest, each in data order
        return rows[np.argsort(~wrong, kind="stable")]
    if by == "loss":
        return rows[np.argsort(-row_log_loss(ev)[rows], kind="stable")]
    confidence = ev.scores[rows, ev.pred_codes[rows]]
    if by == "confident_wrong":
        key = np.where(wrong, -confidence, 1 + confidence)  # wrong: most confident first; right: least
        return rows[np.lexsort((key, ~wrong))]
    return rows[np.argsort(margin(ev)[rows], kind="stable")]


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
