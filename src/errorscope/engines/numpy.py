"""The numpy engine: an evaluation set in memory (a pandas or polars frame), answered with bincounts.

Each column is coded once into integers (:mod:`errorscope.coding`); a plan's keys combine into one code
per row, counted with :class:`~errorscope.counting.KeyCounter` over the smaller of the kept and the
left-out rows; the single-column tables of a :class:`~errorscope.plans.Marginals` plan are packed a few
columns at a time (:class:`SliceIndex`), so all of them cost one row take; after a selection change the
counters the views used last are counted ahead on two threads (:func:`~errorscope.counting.prefetch`).
Masks live only here.
"""

from __future__ import annotations

import math
import operator
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..coding import ColumnCodes, code_dtype, encode_column, encode_many
from ..counting import KeyCounter, Rows, prefetch
from ..plans import (
    ALL_ROWS,
    PAIRED_MEASURES,
    REGRESSION_MEASURES,
    Counted,
    Coverage,
    Filter,
    GroupCounts,
    GroupingSets,
    Key,
    Marginals,
    Measure,
    Patterns,
    Quantiles,
    RocAuc,
    RowPage,
    holdout_hash,
    holdout_threshold,
    value_bins,
)  # fmt: skip
from ..selection import Clause, Predicate, Ref
from . import Engine

if TYPE_CHECKING:
    from ..evaluation import Evaluation

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
LOG_LOSS_EPS = np.finfo(np.float64).eps  # scikit-learn's log_loss clips probabilities the same way
MAPE_EPS = np.finfo(np.float64).eps  # scikit-learn's mean_absolute_percentage_error: |e| / max(|y|, eps)
MASKS_CACHED = 16
WORD_BITS = 62  # terms per int64 word of a Coverage pattern


class NumpyEngine(Engine):
    """Answers plans on the arrays of an in-memory :class:`~errorscope.evaluation.Evaluation`."""

    name = "numpy"

    def __init__(self, ev: Evaluation) -> None:
        self._ev = weakref.proxy(ev)  # the Evaluation owns its engine
        self._codes: dict[str, ColumnCodes] = {}
        self._versions: dict[str, int] = {}  # per column: bumped when its codes change (set_bins)
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._masks: dict[tuple[Any, ...], np.ndarray] = {}
        self._used: dict[
            int, KeyCounter
        ] = {}  # counters the views counted a selection with, since the last change
        self._all_rows = Rows.of(None, ev.n_rows)

    @property
    def n_rows(self) -> int:
        return self._ev.n_rows

    def forget(self, columns: set[str] | None) -> None:
        super().forget(columns)
        for column in list(self._codes) if columns is None else columns:
            if self._codes.pop(column, None) is not None:
                self._versions[column] = self._versions.get(column, 0) + 1
        for key in [k for k in self._memo if k[0] == "factorized" and (columns is None or k[1] in columns)]:
            del self._memo[key]

    # -- clauses -------------------------------------------------------------------------------
    def resolve(self, clause: Clause) -> np.ndarray:
        """The clause's mask: an OR of its terms, each an AND of predicates."""
        n = self.n_rows
        keep = np.zeros(n, dtype=bool)
        for term in clause.terms:
            term_mask = np.ones(n, dtype=bool)
            for predicate in term:
                term_mask &= self.predicate_mask(predicate)
            keep |= term_mask
        keep.flags.writeable = False
        return keep

    def as_filter(self, rows: Filter | np.ndarray | None) -> Filter:
        """``rows`` as a Filter; a boolean mask (one value per row) is taken as it is."""
        if rows is None or isinstance(rows, Filter):
            return super().as_filter(rows)
        mask = np.asarray(rows, dtype=bool)
        if mask.shape != (self.n_rows,):
            raise ValueError(f"a mask needs one value per row ({self.n_rows:,}), not shape {mask.shape}.")
        if mask.flags.writeable:
            mask = _read_only(mask.copy())
        return Filter((("mask", id(mask)),), (mask,))  # not cacheable: an id can come back for another mask

    def mask(self, where: Filter) -> np.ndarray:
        """The rows ``where`` keeps, read-only and shared (the views of one change ask for the same few)."""
        if where.everything:
            return self.cached(("all_rows",), lambda: _read_only(np.ones(self.n_rows, dtype=bool)))
        if len(where.resolved) == 1:
            return where.resolved[0]
        key = where.stamp
        if key not in self._masks:
            keep = np.logical_and.reduce(where.resolved)
            keep.flags.writeable = False
            if len(self._masks) >= MASKS_CACHED:
                del self._masks[next(iter(self._masks))]
            self._masks[key] = keep
        return self._masks[key]

    def rows(self, where: Filter, counters: Sequence[KeyCounter] = ()) -> Rows:
        """The kept rows; ``counters`` about to count them are remembered for the next prefetch."""
        if where.everything:
            return self._all_rows
        for counter in counters:
            self._used[id(counter)] = counter
        return Rows.of(self.mask(where), self.n_rows)

    def _n_kept(self, where: Filter) -> int:
        return self.rows(where).n_kept

    def _answer_batch(self, requests: Sequence[tuple[Any, Filter]]) -> None:
        """Nothing ahead of the views: :meth:`prefetch` already counted the selection with every counter
        they used, on two threads, and each view's answer is then a few bincounts (51 ms for the whole
        dashboard at 1M rows); answering here too would only move that work, not share it."""

    def prefetch(self, where: Filter) -> None:
        """Count the new rows with every counter the views used on the last ones, in parallel."""
        rows = self.rows(where)
        used, self._used = list(self._used.values()), {}
        prefetch(used, rows)

    # -- profiles ------------------------------------------------------------------------------
    def coding(self, column: str) -> ColumnCodes:
        """Integer codes of a data or derived column (bins from ``set_bins``, else quantiles; scores in
        tenths of [0, 1]), computed once."""
        if column not in self._codes:
            self._codes[column] = self._encode(column)
        return self._codes[column]

    def code_ahead(self, columns: Sequence[str]) -> None:
        """Code the ``columns`` not coded yet, two at a time (:func:`~errorscope.coding.encode_many`)."""
        todo = [c for c in dict.fromkeys(columns) if c not in self._codes]
        for column, coded in zip(todo, encode_many([partial(self._encode, c) for c in todo]), strict=True):
            self._codes.setdefault(column, coded)

    def _encode(self, column: str) -> ColumnCodes:
        ev = self._ev
        values = ev.column_values(column)
        bins = ev._bins.get(column)
        probability = column in ev.derived and column != ev._text_length_name() and not ev.is_regression
        if bins is None and probability:  # a score or confidence: tenths of [0, 1]
            bins = np.linspace(0, 1, 11)
        if isinstance(bins, int):
            return encode_column(column, values, bins=bins)
        return encode_column(column, values, edges=bins)

    @property
    def n_classes(self) -> int:
        return self._ev.n_classes

    def data_version(self) -> Any:
        store = self._ev.tag_store
        tags = None if store is None else (id(store), store.version)
        return (super().data_version(), self._ev.predictions_version, tags)

    def key_codes(self, key: Key) -> np.ndarray:
        """Each row's value of ``key``, in the smallest type that holds its codes (see
        :func:`~errorscope.coding.code_dtype`: combine keys in int64), computed once per what it depends on."""
        return self.cached(("key", key, self._key_version(key)), lambda: self._build_key(key), keep=64)

    def _key_version(self, key: Key) -> Any:
        ev = self._ev
        if key.kind in ("column", "value_bin"):
            version = self._versions.get(key.name, 0)
            return (version, ev.predictions_version) if key.name in ev.derived else version
        if key.kind == "tag":
            store = ev.tag_store
            return (id(store), None if store is None else store.version)
        return 0 if key.kind in ("actual", "split") else ev.predictions_version

    def _build_key(self, key: Key) -> np.ndarray:
        ev = self._ev
        if key.kind == "column":
            return self.coding(key.name).codes
        if key.kind == "actual":
            codes = ev.true_codes
            return codes if key.positive is None else (codes == key.positive).astype(np.uint8)
        if key.kind == "predicted":
            codes = self.pred_codes(key.model)
            return codes if key.positive is None else (codes == key.positive).astype(np.uint8)
        if key.kind == "outcome":
            predicted = self.pred_codes(key.model)
            wrong = (ev.true_codes != predicted).astype(np.uint8)
            if key.positive is None:
                return wrong
            pos = key.positive
            return (4 * (ev.true_codes == pos) + 2 * (predicted == pos) + wrong).astype(np.uint8)
        if key.kind == "better":  # 0: a's |error| smaller, 1: equal, 2: b's smaller
            a, b = (np.abs(self._residual(m)) for m in (key.model, key.other))
            return (1 + np.sign(a - b)).astype(np.uint8)
        if key.kind == "score_bin":
            score = self.measure(Measure("score", key.positive))
            return np.minimum((score * key.bins).astype(np.int64), key.bins - 1).astype(code_dtype(key.bins))
        if key.kind == "tag":
            return np.where(ev.tag_mask([key.name]), 0, 1).astype(np.uint8)
        if key.kind == "split":
            position = np.arange(self.n_rows, dtype=np.int64)
            return (holdout_hash(position, key.seed) < holdout_threshold(key.share)).astype(np.uint8)
        if key.kind == "value_bin":
            x = ev.column_values(key.name).to_numpy(dtype=np.float64, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                binned = value_bins(x, key, np.floor, np.where)
            return np.where(np.isnan(x), key.bins, binned).astype(code_dtype(key.bins + 1))
        raise ValueError(f"unknown key kind {key.kind!r}")

    def pred_codes(self, model: str = "") -> np.ndarray:
        """Model ``model``'s predicted classes (default: the active model's)."""
        ev = self._ev
        return ev.pred_codes if not model else ev.predictions(model).pred_codes  # type: ignore[return-value]

    def _scores(self, model: str = "") -> np.ndarray | None:
        ev = self._ev
        return ev.scores if not model else ev.predictions(model).scores

    def _predicted_values(self, model: str = "") -> np.ndarray:
        ev = self._ev
        return ev.predicted_values if not model else ev.predictions(model).predicted_values  # type: ignore[return-value]

    def _residual(self, model: str = "") -> np.ndarray:
        return self._predicted_values(model) - self._ev.actual_values

    def _model_numbers(self, column: str, model: str) -> np.ndarray:
        """A regression model's ``predicted``, ``residual`` or ``abs_error`` values."""
        if column == "predicted":
            return self._predicted_values(model)
        residual = self._residual(model)
        return residual if column == "residual" else np.abs(residual)

    def wrong(self) -> np.ndarray:
        """Per row, whether the prediction is wrong (read-only)."""
        ev = self._ev
        if ev.is_regression:
            raise ValueError("a regression's predictions are not right or wrong: use its residuals.")
        return self.cached(
            ("wrong", ev.predictions_version), lambda: _read_only(ev.true_codes != ev.pred_codes)
        )

    def measure(self, measure: Measure) -> np.ndarray:
        """Each row's value of ``measure`` (float64), computed once per predictions."""
        ev = self._ev
        if measure.kind in REGRESSION_MEASURES:
            return self.cached(
                ("measure", measure, ev.predictions_version), lambda: self._regression_measure(measure)
            )
        if measure.kind == "wrong":
            return self.cached(
                ("measure", measure, ev.predictions_version),
                lambda: (ev.true_codes != self.pred_codes(measure.model)).astype(np.float64),
            )
        scores = self._scores(measure.model)
        if scores is None:
            raise ValueError(f"{measure.kind} needs scores: build the Evaluation with y_score= or a model.")

        def build() -> np.ndarray:
            if measure.kind == "log_loss":
                p = scores[np.arange(ev.n_rows), ev.true_codes]
                return _read_only(-np.log(np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)))
            if measure.kind == "log_loss2":
                return np.square(self.measure(Measure("log_loss", model=measure.model)))
            score = np.ascontiguousarray(scores[:, measure.positive])
            if measure.kind == "score":
                return score
            if measure.kind == "score2":
                return score * score
            if measure.kind == "brier":
                return (score - (ev.true_codes == measure.positive)) ** 2
            raise ValueError(f"unknown measure {measure.kind!r}")

        return self.cached(("measure", measure, ev.predictions_version), build, keep=16)

    def _regression_measure(self, measure: Measure) -> np.ndarray:
        """A regression measure of the named model (a paired one: of ``model`` minus ``other``)."""
        if measure.kind not in PAIRED_MEASURES:
            return regression_measure(self._ev.actual_values, self._predicted_values(measure.model), measure)
        a, b = self._residual(measure.model), self._residual(measure.other)
        diff = np.abs(a) - np.abs(b) if measure.kind.startswith("abs") else a * a - b * b
        return _read_only(diff * diff if measure.kind.endswith("2") else diff)

    # -- plans ---------------------------------------------------------------------------------
    def _count(self, plan: GroupCounts, where: Filter) -> Counted:
        shape = self.shape(plan.keys)
        measures = self._ev.predictions_version if plan.sums else None  # sums of the predictions' measures
        counter = self.cached(
            ("counter", plan, tuple(self._key_version(k) for k in plan.keys), measures),
            lambda: self._counter(plan, shape),
            keep=16,
        )
        counts, sums = counter.count(self.rows(where, (counter,)))
        return Counted(counts.reshape(shape), sums.reshape(len(plan.sums), *shape))

    def _counter(self, plan: GroupCounts, shape: tuple[int, ...]) -> KeyCounter:
        key = np.zeros(self.n_rows, dtype=np.int64)
        for k, size in zip(plan.keys, shape, strict=True):
            key *= size
            key += self.key_codes(k)
        size = math.prod(shape)
        dtype = code_dtype(size) if size < np.iinfo(np.int32).max else np.int64  # kept: the smallest type
        return KeyCounter(key.astype(dtype), size, weights=tuple(self.measure(m) for m in plan.sums))

    def _marginals(self, plan: Marginals, where: Filter) -> list[np.ndarray]:
        tags = [i for i, k in enumerate(plan.columns) if k.kind == "tag"]
        others = [i for i, k in enumerate(plan.columns) if k.kind != "tag"]
        out: list[np.ndarray | None] = [None] * len(plan.columns)
        for part in (others, tags):  # tag columns are indexed on their own: a tag written rebuilds only them
            if not part:
                continue
            columns = tuple(plan.columns[i] for i in part)
            index = self.cached(
                ("tag_slice_index" if part is tags else "slice_index", columns, plan.by,
                 tuple(self._key_version(k) for k in (*columns, *plan.by))),
                lambda columns=columns: self._slice_index(columns, plan.by),
            )  # fmt: skip
            for i, table in zip(part, index.counts(self.rows(where, index.counters)), strict=True):
                out[i] = table
        return out  # type: ignore[return-value]  # every column is in one part

    def _slice_index(self, columns: tuple[Key, ...], by: tuple[Key, ...]) -> SliceIndex:
        by_shape = self.shape(by)
        by_code = np.zeros(self.n_rows, dtype=np.int64)
        for k, size in zip(by, by_shape, strict=True):
            by_code *= size
            by_code += self.key_codes(k)
        return SliceIndex.build([(self.key_codes(k), self.key_size(k)) for k in columns], by_code, by_shape)

    def grouping_sets(self, plan: GroupingSets, where: Filter = ALL_ROWS) -> list[Counted]:
        """One bincount per set over the kept rows (each key's codes taken once); errors alone
        (``sums=(Measure("wrong"),)``) ride in the code's last digit, so a set costs one bincount."""
        kept = self._kept_positions(where)
        taken: dict[Key, np.ndarray] = {}

        def codes(key: Key) -> np.ndarray:
            if key not in taken:
                values = self.key_codes(key)
                taken[key] = values if kept is None else values[kept]
            return taken[key]

        wrong = codes(Key.outcome(None)) if plan.sums == (Measure("wrong"),) else None
        weights = (
            []
            if wrong is not None
            else [self.measure(m)[kept] if kept is not None else self.measure(m) for m in plan.sums]
        )
        out = []
        for keys in plan.sets:
            shape = self.shape(keys)
            size = math.prod(shape)
            flat = codes(keys[0]).astype(np.intp)
            for key, n in zip(keys[1:], shape[1:], strict=True):
                flat = flat * n + codes(key)
            if wrong is not None:
                both = np.bincount(flat * 2 + wrong, minlength=2 * size).reshape(size, 2)
                counts, sums = both.sum(axis=1), both[:, 1:].T.astype(np.float64)
            else:
                counts = np.bincount(flat, minlength=size)
                sums = np.array([np.bincount(flat, weights=w, minlength=size) for w in weights]).reshape(
                    -1, size
                )
            small = counts < plan.min_count
            counts[small], sums[:, small] = 0, 0.0
            out.append(Counted(counts.reshape(shape), sums.reshape(len(plan.sums), *shape)))
        return out

    def coverage(self, plan: Coverage, where: Filter = ALL_ROWS) -> Patterns:
        """Membership bits packed 62 to an int64 word, patterns numbered by hashing, word by word."""
        kept = self._kept_positions(where)
        n = self.n_rows if kept is None else len(kept)

        def codes(key: Key) -> np.ndarray:
            values = self.key_codes(key)
            return values if kept is None else values[kept]

        words = []
        for start in range(0, len(plan.terms), WORD_BITS):
            word = np.zeros(n, dtype=np.int64)
            for bit, term in enumerate(plan.terms[start : start + WORD_BITS]):
                inside = np.ones(n, dtype=bool)
                for key, code in term:
                    inside &= codes(key) == code
                word |= inside.astype(np.int64) << bit
            words.append(word)
        pattern = np.zeros(n, dtype=np.int64)
        pattern_words = np.zeros((1 if n else 0, 0), dtype=np.int64)  # per pattern, its words so far
        for word in words:  # hash-numbered (pd.factorize: no sort), one word at a time
            word_code, word_values = pd.factorize(word)
            pattern, pairs = pd.factorize(pattern * len(word_values) + word_code)
            previous, value = np.divmod(np.asarray(pairs), len(word_values))
            pattern_words = np.column_stack([pattern_words[previous], np.asarray(word_values)[value]])
        n_patterns = len(pattern_words)
        members = np.zeros((n_patterns, len(plan.terms)), dtype=bool)
        for j in range(len(plan.terms)):
            members[:, j] = (pattern_words[:, j // WORD_BITS] >> (j % WORD_BITS)) & 1
        by_shape = self.shape(plan.by)
        by_code = np.zeros(n, dtype=np.int64)
        for key, size in zip(plan.by, by_shape, strict=True):
            by_code = by_code * size + codes(key)
        by_size = math.prod(by_shape)
        counts = np.bincount(pattern * by_size + by_code, minlength=n_patterns * by_size)
        return Patterns(members, counts.reshape(n_patterns, *by_shape))

    def _kept_positions(self, where: Filter) -> np.ndarray | None:
        """The kept rows' positions (None: every row), without the shared mask cache: background work
        (discovery) asks from its own thread."""
        if where.everything:
            return None
        keep = where.resolved[0] if len(where.resolved) == 1 else np.logical_and.reduce(where.resolved)
        return np.flatnonzero(keep)

    def key_filter(self, where: Filter, key: Key, value: int) -> Filter:
        inside = _read_only(self.key_codes(key) == value)
        return Filter((*where.stamp, ("key", key, value, self._key_version(key))), (*where.resolved, inside))

    def page(self, plan: RowPage, where: Filter = ALL_ROWS) -> np.ndarray:
        """Ids of the kept rows in review order (see :mod:`errorscope.ranking`)."""
        return self._ev.ids[self.positions(plan, where)]

    def positions(self, plan: RowPage, where: Filter = ALL_ROWS) -> np.ndarray:
        """Row positions of :meth:`page` (the numpy engine's rows have positions)."""
        from ..ranking import row_order

        mask = None if where.everything else self.mask(where)
        if plan.wrong_only and not self._ev.is_regression:  # a regression has no wrong rows: every row
            mask = self.wrong() if mask is None else mask & self.wrong()
        stop = plan.offset + plan.limit
        order = row_order(self._ev, mask, by=plan.order, seed=plan.seed, strata=plan.strata, limit=stop)
        return order[plan.offset : stop]

    def fetch(self, ids: np.ndarray, loss: bool = False) -> pd.DataFrame:
        return self.frame_at(self._ev.row_keys.positions(list(ids), "ids"), loss)

    def frame_at(self, positions: np.ndarray, loss: bool = False) -> pd.DataFrame:
        """The rows at ``positions`` with the evaluation's columns (see :meth:`fetch`)."""
        ev = self._ev
        positions = np.asarray(positions, dtype=np.intp)
        frame = ev.data.iloc[positions]
        if ev.is_regression:
            residual = self.measure(Measure("residual"))[positions]
            extra = {"id": ev.ids[positions], "actual": ev.actual_values[positions],
                     "predicted": ev.predicted_values[positions], "residual": residual}  # fmt: skip
            if loss:
                extra["loss"] = np.abs(residual)
            named = {name if name not in ev.data.columns else f"es_{name}": v for name, v in extra.items()}
            return pd.concat([frame, pd.DataFrame(named, index=frame.index)], axis=1)
        pred = ev.pred_codes[positions]
        extra: dict[str, Any] = {
            "id": ev.ids[positions],
            "actual": ev.classes_array[ev.true_codes[positions]],
            "predicted": ev.classes_array[pred],
        }
        if ev.scores is not None:
            extra["score"] = ev.scores[positions, 1] if ev.is_binary else ev.scores[positions, pred]
            if loss:
                extra["loss"] = self.measure(Measure("log_loss"))[positions]
        named = {name if name not in ev.data.columns else f"es_{name}": v for name, v in extra.items()}
        return pd.concat([frame, pd.DataFrame(named, index=frame.index)], axis=1)

    def _quantiles(self, plan: Quantiles, where: Filter) -> np.ndarray:
        values = self.measure(plan.measure)
        kept = values if where.everything else values[self.mask(where)]
        return np.quantile(kept, plan.qs) if len(kept) else np.zeros(0)

    def _roc_auc(self, plan: RocAuc, where: Filter) -> float:
        """For each positive, the share of negatives scored lower (ties count half): each row's tie group of
        the score (from one sort, cached per class) and whether it is positive, counted over the kept rows."""
        ev = self._ev
        positive = plan.positive

        def build() -> tuple[np.ndarray, int]:
            score = ev.scores[:, positive]
            order = np.argsort(score, kind="stable")
            tie_group = np.zeros(len(score), dtype=np.int64)
            np.cumsum(np.diff(score[order]) != 0, out=tie_group[1:])
            small = np.int32 if 2 * len(score) < 2**31 else np.int64
            code = np.empty(len(score), dtype=small)  # per row, in the data's order: 2 * tie group + positive
            code[order] = tie_group * 2 + (ev.true_codes[order] == positive)
            return code, int(tie_group[-1]) + 1 if len(score) else 0

        code, size = self.cached(("score_ties", positive, ev.active_model), build, keep=ev.n_classes)
        kept = code if where.everything else code[self.mask(where)]  # a mask's rows: no reordering
        neg, pos = np.bincount(kept, minlength=2 * size).reshape(size, 2).T
        n_pos, n_neg = pos.sum(), neg.sum()
        if n_pos == 0 or n_neg == 0:
            return np.nan
        below = np.cumsum(neg) - neg  # negatives with a strictly lower score
        return float((pos * (below + 0.5 * neg)).sum() / (n_pos * n_neg))

    # -- predicates ----------------------------------------------------------------------------
    def predicate_mask(self, predicate: Predicate) -> np.ndarray:
        """One predicate as a boolean mask over the rows (numpy, vectorised)."""
        mask = self._kept(predicate)
        return ~mask if predicate.negated else mask

    def _kept(self, predicate: Predicate) -> np.ndarray:
        ev = self._ev
        op = predicate.op
        if op == "mask":
            assert predicate.mask is not None
            return predicate.mask
        if op == "ids":
            inside = np.zeros(self.n_rows, dtype=bool)
            positions = ev.row_keys.lookup(predicate.values)
            inside[positions[positions >= 0]] = True
            return inside
        column, role = predicate.column, predicate.role
        if role is None and predicate.model:  # a regression model's numbers: residual[candidate] > 10
            return self._model_numbers_kept(predicate)
        if role is None:
            column, role = ev.query_name(column, "predicate column")
        if role is not None and op not in ("in", "not in", "isna", "=="):
            raise ValueError(
                f"{predicate.text}: {column} (the {role} role) takes ==, !=, in and not in, not {op}."
            )
        if op == "isna" and role is not None:
            return np.zeros(self.n_rows, dtype=bool)  # roles are never missing
        if role == "tag":
            if op == "==":
                raise ValueError(f"{predicate.text}: compare {column} with tag names, e.g. {column} == 'ok'.")
            inside = ev.tag_mask(predicate.values)
            return inside if op == "in" else ~inside
        if op == "==" or (role is None and op in ("<", "<=", ">", ">=")):
            return self._compare(predicate, column, role)
        if role is not None:
            codes = ev.true_codes if role == "actual" else self.pred_codes(predicate.model)
            wanted = [ev.classes.index(v) for v in predicate.values if v in ev.classes]
            if len(wanted) == 1:  # one class: a comparison is faster than a lookup
                return codes == wanted[0] if op == "in" else codes != wanted[0]
            lookup = np.zeros(ev.n_classes, dtype=bool)
            lookup[wanted] = True
            if op == "not in":
                lookup = ~lookup
            return lookup[codes]
        values = ev.column_values(column)
        if op == "isna":
            return values.isna().to_numpy()
        if op == "between":
            lo, hi = predicate.values
            if values.dtype.kind in ("M", "m"):  # datetimes, durations: against Timestamp/Timedelta bounds
                keep = np.ones(len(values), dtype=bool) if lo is None else (values >= lo).to_numpy()
                return keep if hi is None else keep & (values < hi).to_numpy()
            x = values.to_numpy(dtype=np.float64, na_value=np.nan)
            keep = np.ones(len(x), dtype=bool) if lo is None else x >= lo
            return keep if hi is None else keep & (x < hi)
        wanted = list(predicate.values)
        if pd.api.types.is_datetime64_any_dtype(values.dtype):  # '2020-01-31' in text is a timestamp
            wanted = [pd.Timestamp(v) if isinstance(v, str) else v for v in wanted]
        codes, uniques = self._factorized(column, values)
        lookup = np.append(uniques.isin(wanted), False)  # code -1 (missing) is never in
        inside = lookup[codes]
        return inside if op == "in" else ~inside & (codes >= 0)

    def _role_values(self, column: str, role: str | None, model: str = "") -> pd.Series:
        """A role's labels or a column's values, as a Series on the data's index."""
        ev = self._ev
        if role == "actual":
            return pd.Series(ev.y_true, index=ev.data.index)
        if role == "predicted":
            return pd.Series(ev.classes_array[self.pred_codes(model)], index=ev.data.index)
        return ev.column_values(column)

    def _model_numbers_kept(self, predicate: Predicate) -> np.ndarray:
        """A regression model's ``predicted`` / ``residual`` / ``abs_error`` compared with a number or
        another model's (``abs_error[b] < abs_error[a]``); False where a side is missing."""
        op = predicate.op
        x = self._model_numbers(predicate.column, predicate.model)
        if op == "between":
            lo, hi = predicate.values
            keep = np.ones(len(x), dtype=bool) if lo is None else x >= lo
            return keep if hi is None else keep & (x < hi)
        if op == "isna":
            return np.isnan(x)
        if op in ("in", "not in"):
            inside = np.isin(x, [float(v) for v in predicate.values])
            return inside if op == "in" else ~inside & ~np.isnan(x)
        value = predicate.values[0]
        if isinstance(value, Ref):
            if not value.model:
                raise ValueError(
                    f"{predicate.text}: compare with another model's numbers, e.g. abs_error[a]."
                )
            other = self._model_numbers(value.column, value.model)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            other = float(value)
        else:
            raise ValueError(f"{predicate.text}: {predicate.column} holds numbers; compare it with a number.")
        return COMPARISONS[op](x, other)

    def _compare(self, predicate: Predicate, column: str, role: str | None) -> np.ndarray:
        """``column <op> value`` (a literal or another column), False where either side is missing."""
        ev = self._ev
        compare = COMPARISONS[predicate.op]
        value = predicate.values[0]
        if isinstance(value, Ref):
            other_column, other_role = (
                (value.column, value.role) if value.role else ev.query_name(value.column)
            )
            if (
                role in ("actual", "predicted")
                and other_role in ("actual", "predicted")
                and predicate.op == "=="
            ):
                codes = (
                    ev.true_codes if r == "actual" else self.pred_codes(m)
                    for r, m in ((role, predicate.model), (other_role, value.model))
                )  # class codes: one comparison, no labels
                return np.equal(*codes)
            if "tag" in (role, other_role):
                raise ValueError(f"{predicate.text}: tags compare with tag names, not with a column.")
            left = self._role_values(column, role, predicate.model)
            right = self._role_values(other_column, other_role, value.model)
        else:
            left, right = self._role_values(column, role, predicate.model), value
            if pd.api.types.is_datetime64_any_dtype(left.dtype) and isinstance(value, str):
                right = pd.Timestamp(value)
            elif pd.api.types.is_numeric_dtype(left.dtype) and not pd.api.types.is_bool_dtype(left.dtype):
                if not isinstance(value, int | float):
                    raise ValueError(f"{predicate.text}: {column} holds numbers; compare it with a number.")
                x = left.to_numpy(dtype=np.float64, na_value=np.nan)
                return compare(x, float(value))
        try:
            result = compare(left, right)
        except TypeError as err:
            raise ValueError(f"{predicate.text}: {column} cannot be compared that way ({err}).") from err
        return np.asarray(result.fillna(False) if result.dtype != bool else result, dtype=bool)

    def _factorized(self, column: str, values: pd.Series) -> tuple[np.ndarray, pd.Index]:
        """``pd.factorize`` of a column, once: value predicates then cost one lookup per row."""

        def build() -> tuple[np.ndarray, pd.Index]:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            return codes.astype(np.int32), pd.Index(uniques)

        ev = self._ev
        version = ev.predictions_version if column in ev.derived else 0  # "confidence" follows them
        return self.cached(("factorized", column, version), build, keep=64)


BLOCK_BINS = 1 << 15  # most (codes x by) bins one packed block may have: its counts stay in cache


@dataclass
class SliceIndex:
    """Columns packed, a few at a time, with the ``by`` keys into one code per row and block.

    ``counts(rows)`` then costs one row take and one bincount over ``n x n_blocks`` codes (about a third
    of the columns) of the smaller of the kept and the left-out rows (see :mod:`errorscope.counting`).
    The blocks are split between two counters, so a prefetch counts them on two threads. Each column's
    (n_codes, *by) table is a marginal of its block's table.
    """

    sizes: list[int]
    by_shape: tuple[int, ...]
    blocks: list[tuple[int, ...]]
    offsets: np.ndarray  # start of each block's bins in the concatenated counts
    counters: list[KeyCounter]  # each over a run of the (n_rows, n_blocks) packed codes

    @classmethod
    def build(
        cls, columns: Sequence[tuple[np.ndarray, int]], by_code: np.ndarray, by_shape: tuple[int, ...]
    ) -> SliceIndex:
        sizes = [n for _, n in columns]
        by_size = math.prod(by_shape)
        blocks = _pack_blocks(sizes, by_size)
        offsets = np.zeros(len(blocks) + 1, dtype=np.int64)
        for j, block in enumerate(blocks):
            offsets[j + 1] = offsets[j] + math.prod(sizes[i] for i in block) * by_size
        if offsets[-1] >= np.iinfo(np.int32).max:
            raise ValueError("too many slice codes to count at once; slice fewer columns.")
        split = (len(blocks) + 1) // 2
        counters = []
        for first, stop in ((0, split), (split, len(blocks))):
            if first == stop:
                continue
            packed = np.empty((len(by_code), stop - first), dtype=np.int32)
            code, term = np.empty(len(by_code), dtype=np.int32), np.empty(len(by_code), dtype=np.int32)
            for j in range(first, stop):  # int32 throughout: every partial sum is below offsets[-1]
                np.add(by_code, offsets[j] - offsets[first], out=code, casting="unsafe")
                weight = by_size * math.prod(sizes[i] for i in blocks[j])
                for i in blocks[j]:
                    weight //= sizes[i]
                    np.multiply(columns[i][0], weight, out=term, dtype=np.int32, casting="unsafe")
                    code += term
                packed[:, j - first] = code
            counters.append(KeyCounter(packed, int(offsets[stop] - offsets[first])))
        return cls(sizes, by_shape, blocks, offsets, counters)

    def counts(self, rows: Rows) -> list[np.ndarray]:
        """Per column, a (n_codes, *by) table of rows among ``rows``."""
        if not self.counters:
            return []
        flat = np.concatenate([counter.count(rows)[0] for counter in self.counters])
        out: list[np.ndarray | None] = [None] * len(self.sizes)
        for j, block in enumerate(self.blocks):
            shape = [self.sizes[i] for i in block]
            table = flat[self.offsets[j] : self.offsets[j + 1]].reshape(*shape, *self.by_shape)
            for axis, i in enumerate(block):
                others = tuple(a for a in range(len(block)) if a != axis)
                out[i] = table.sum(axis=others) if others else table
        return out  # type: ignore[return-value]  # every column is in exactly one block


def _pack_blocks(sizes: Sequence[int], by_size: int) -> list[tuple[int, ...]]:
    """Group column positions into blocks of at most :data:`BLOCK_BINS` bins: each block starts with the
    largest column left and takes the smallest ones while they fit."""
    left = sorted(range(len(sizes)), key=lambda i: sizes[i])
    blocks: list[tuple[int, ...]] = []
    while left:
        block = [left.pop()]
        size = sizes[block[0]] * by_size
        while left and size * sizes[left[0]] <= BLOCK_BINS:
            size *= sizes[left[0]]
            block.append(left.pop(0))
        blocks.append(tuple(block))
    return blocks


def regression_measure(y: np.ndarray, p: np.ndarray, measure: Measure) -> np.ndarray:
    """A regression's per-row measure (see :mod:`errorscope.plans`) from the actual values ``y`` and the
    predictions ``p``, float64 and read-only."""
    kind = measure.kind
    e = p - y
    values = {
        "residual": lambda: e,
        "abs_error": lambda: np.abs(e),
        "sq_error": lambda: e * e,
        "sq_error2": lambda: (e * e) * (e * e),
        "actual": lambda: y.copy(),
        "actual2": lambda: y * y,
        "prediction": lambda: p.copy(),
        "prediction2": lambda: p * p,
        "abs_pct_error": lambda: np.abs(e) / np.maximum(np.abs(y), MAPE_EPS),
        "zero_actual": lambda: (y == 0).astype(np.float64),
        "actual3": lambda: y * y * y,
        "actual4": lambda: (y * y) * (y * y),
        "sq_error_actual": lambda: (e * e) * y,
        "sq_error_actual2": lambda: (e * e) * (y * y),
    }[kind]()
    return _read_only(np.ascontiguousarray(values, dtype=np.float64))


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
