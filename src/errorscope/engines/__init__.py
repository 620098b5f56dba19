"""Engines answer query plans (:mod:`errorscope.plans`) for the rows a filter keeps.

- :class:`~errorscope.engines.numpy.NumpyEngine`: pandas/polars frames in memory; integer codes per
  column, bincounts over the smaller of the kept and the left-out rows, a two-thread prefetch.
- ``DuckDBEngine`` (``pip install 'errorscope[duckdb]'``): Parquet/CSV paths and globs, DuckDB relations,
  Arrow tables and Ibis tables, beyond memory.
- ``SparkEngine`` (``pip install 'errorscope[spark]'``): PySpark DataFrames, local or on a cluster.

Every engine implements :class:`Engine`; nothing outside an engine holds a per-row mask or array of the
kept rows. See docs/architecture.md.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ..coding import ColumnCodes
from ..plans import (
    ALL_ROWS,
    Counted,
    Coverage,
    Filter,
    GroupCounts,
    GroupingSets,
    Key,
    Marginals,
    Patterns,
    Quantiles,
    RocAuc,
    RowPage,
)  # fmt: skip
from ..selection import Clause

T = TypeVar("T")
Plan = GroupCounts | Marginals | RocAuc
ANSWERS_KEPT = 512  # plan answers kept per engine (small arrays: a few MB at most)
_consumer: contextvars.ContextVar[str | None] = contextvars.ContextVar("errorscope_consumer", default=None)


class Engine(ABC):
    """What every engine answers. ``where`` is a :class:`Filter` (``ALL_ROWS`` for every row)."""

    name: str  # "numpy", "duckdb" or "spark"

    def __eq__(self, other: object) -> bool:
        """An engine equals its name: ``ev.engine == "duckdb"``."""
        return self.name == other if isinstance(other, str) else self is other

    def __hash__(self) -> int:
        return id(self)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<{self.name} engine>"

    @property
    @abstractmethod
    def n_rows(self) -> int:
        """Rows in the evaluation set."""

    def listen_progress(self, listener: Callable[[float | None], None]) -> Callable[[], None]:
        """Tell ``listener`` the percent done of each long query, then None (see
        :mod:`errorscope.engines.progress`); returns what stops it. In memory nothing takes that long."""
        return lambda: None

    def cached(self, key: tuple[Any, ...], build: Callable[[], T], keep: int = 1) -> T:
        """A structure built once per ``key`` (its first item names the kind, the rest is what it depends
        on); the last ``keep`` of each kind are kept."""
        memo: dict[tuple[Any, ...], Any] = self.__dict__.setdefault("_memo", {})
        if key not in memo:
            same_kind = [k for k in memo if k[0] == key[0]]
            for old in same_kind[: max(0, len(same_kind) - keep + 1)]:
                del memo[old]
            memo[key] = build()
        return memo[key]

    # -- clauses -------------------------------------------------------------------------------
    @abstractmethod
    def resolve(self, clause: Clause) -> Any:
        """``clause`` evaluated (or compiled) once, for :class:`Filter`; a clause that does not apply to
        the data (an unknown column, a comparison of text with a number) raises ValueError here."""

    def as_filter(self, rows: Filter | np.ndarray | None) -> Filter:
        """``rows`` as a Filter: a Filter as it is, None for every row; a boolean mask only in memory."""
        if rows is None:
            return ALL_ROWS
        if isinstance(rows, Filter):
            return rows
        raise TypeError(
            f"the {self.name} engine takes selections as clauses, not as a {type(rows).__name__}: pass "
            'ev.selection.filter() or a query, e.g. ev.select("age > 60").'
        )

    def n_kept(self, where: Filter) -> int:
        """How many rows ``where`` keeps."""
        return self._answer("n_kept", where, lambda: self._n_kept(where))

    @abstractmethod
    def _n_kept(self, where: Filter) -> int: ...

    def forget(self, columns: set[str] | None) -> None:
        """The data of ``columns`` (all when None) changed: drop what was derived from it (engines add
        their own structures; the answers cached here are keyed by :meth:`data_version`)."""
        self.__dict__["_forgotten"] = self.__dict__.get("_forgotten", 0) + 1

    def data_version(self) -> Any:
        """Changes whenever the data the plans read changes (a cache key of their answers)."""
        return self.__dict__.get("_forgotten", 0)

    def prefetch(self, where: Filter) -> None:  # noqa: B027  # optional for engines
        """A selection changed to ``where``: start counting what the views asked for last time."""

    def expect(self, keys: Sequence[Key]) -> None:  # noqa: B027  # optional for engines
        """A view will group and filter by ``keys`` together (a plot's bins): an engine may prepare for
        all of them at once (DuckDB's pre-aggregation crosses every family it builds with each)."""

    # -- profiles (build time) -----------------------------------------------------------------
    @abstractmethod
    def coding(self, column: str) -> ColumnCodes:
        """How ``column`` is coded (values, bins or periods, each with its predicate); computed once."""

    @property
    @abstractmethod
    def n_classes(self) -> int:
        """Classes of the task."""

    def key_size(self, key: Key) -> int:
        """How many values ``key`` takes (see :class:`~errorscope.plans.Key`)."""
        if key.kind == "column":
            return self.coding(key.name).n_codes
        if key.kind in ("actual", "predicted"):
            return self.n_classes if key.positive is None else 2
        if key.kind == "outcome":
            return 2 if key.positive is None else 8
        if key.kind == "score_bin":
            return key.bins
        if key.kind == "value_bin":
            return key.bins + 1  # the last: missing
        if key.kind in ("tag", "split"):
            return 2
        if key.kind == "better":
            return 3
        raise ValueError(f"unknown key kind {key.kind!r}")

    # -- plans ---------------------------------------------------------------------------------
    def count(self, plan: GroupCounts, where: Filter = ALL_ROWS) -> Counted:
        """Rows (and the measures' sums) per combination of the plan's keys, among the kept rows."""
        return self._answer(plan, where, lambda: self._count(plan, where))

    def quantiles(self, plan: Quantiles, where: Filter = ALL_ROWS) -> np.ndarray:
        """The plan's quantiles of its measure among the kept rows (empty when none is kept)."""
        return self._answer(plan, where, lambda: self._quantiles(plan, where))

    def _quantiles(self, plan: Quantiles, where: Filter) -> np.ndarray:
        raise NotImplementedError(f"the {self.name} engine does not answer Quantiles")

    def marginals(self, plan: Marginals, where: Filter = ALL_ROWS) -> list[np.ndarray]:
        """Per column of the plan, rows per (column code, *by keys) among the kept rows."""
        return self._answer(plan, where, lambda: self._marginals(plan, where))

    def roc_auc(self, plan: RocAuc, where: Filter = ALL_ROWS) -> float:
        """ROC AUC of the plan's class among the kept rows (NaN with one class only)."""
        return self._answer(plan, where, lambda: self._roc_auc(plan, where))

    @abstractmethod
    def _count(self, plan: GroupCounts, where: Filter) -> Counted: ...

    @abstractmethod
    def _marginals(self, plan: Marginals, where: Filter) -> list[np.ndarray]: ...

    @abstractmethod
    def _roc_auc(self, plan: RocAuc, where: Filter) -> float: ...

    @abstractmethod
    def page(self, plan: RowPage, where: Filter) -> np.ndarray:
        """The ids of the kept rows in the plan's order, ``limit`` from ``offset``."""

    @abstractmethod
    def fetch(self, ids: np.ndarray, loss: bool = False) -> pd.DataFrame:
        """The rows of ``ids``, in that order: the data's columns with ``id``, ``actual``, ``predicted``,
        ``score`` (with scores; ``loss`` too when asked), named as :meth:`Evaluation.frame` names them."""

    def grouping_sets(self, plan: GroupingSets, where: Filter) -> list[Counted]:
        """Per set of the plan, rows (and sums) per combination of its keys; cells under ``min_count``
        rows as 0. This default asks one :class:`GroupCounts` per set; engines answer it in one scan."""
        out = []
        for keys in plan.sets:
            counted = self.count(GroupCounts(keys, plan.sums), where)
            small = counted.counts < plan.min_count
            out.append(Counted(np.where(small, 0, counted.counts), np.where(small, 0.0, counted.sums)))
        return out

    @abstractmethod
    def coverage(self, plan: Coverage, where: Filter) -> Patterns:
        """Rows per pattern of membership in the plan's terms (and per ``by`` keys) among the kept rows."""

    @abstractmethod
    def key_filter(self, where: Filter, key: Key, value: int) -> Filter:
        """The rows ``where`` keeps whose ``key`` is ``value`` (the search rows of discovery, say)."""

    def for_thread(self) -> Engine | None:
        """An engine to answer plans from a background thread while this one serves the kernel's (self
        when it is safe), or None when there is none: the work then runs on the kernel's thread."""
        return self

    def shape(self, keys: Iterable[Key]) -> tuple[int, ...]:
        """The sizes of ``keys``: the shape of a :class:`Counted` over them."""
        return tuple(self.key_size(k) for k in keys)

    # -- answers: cached, recorded per view, prefetched as one batch ---------------------------
    @contextlib.contextmanager
    def serving(self, consumer: str) -> Iterator[None]:
        """Record the plans asked inside this block as ``consumer``'s (a view's source name): on the
        next selection change :meth:`prefetch_views` answers them again, as one batch."""
        self._answers_state().asked[consumer] = {}  # what it asks now replaces what it asked before
        token = _consumer.set(consumer)
        try:
            yield
        finally:
            _consumer.reset(token)

    def _answer(self, plan: Plan | str, where: Filter, compute: Callable[[], T]) -> T:
        """The answer to ``plan`` under ``where``: from the cache when the same plan was answered for the
        same clauses and data, else computed (and kept). Answers are shared: do not modify them."""
        if not where.cacheable:
            return _read_only(compute())
        state = self._answers_state()
        key = (plan, where.stamp, self.data_version())
        consumer = _consumer.get()
        if consumer is not None:
            state.asked.setdefault(consumer, {})[plan] = None
        with state.lock:
            if key in state.answers:
                state.answers.move_to_end(key)
                state.hits += 1
                return state.answers[key]
        value = _read_only(compute())
        with state.lock:
            state.answers[key] = value
            while len(state.answers) > ANSWERS_KEPT:
                state.answers.popitem(last=False)
        return value

    def _answers_state(self) -> _Answers:
        state = self.__dict__.get("_answers")
        if state is None:
            state = self.__dict__.setdefault("_answers", _Answers())
        return state

    def consumers(self) -> list[str]:
        """The views (source names) whose plans are recorded."""
        return list(self._answers_state().asked)

    def drop_consumer(self, consumer: str) -> None:
        """Stop prefetching for a view (it was closed)."""
        self._answers_state().asked.pop(consumer, None)

    def prefetch_views(self, filters: dict[str, Filter]) -> None:
        """A selection changed: answer, as one batch, every plan each view asked last time, under the
        filter that view now sees (``filters``: a view's source name to its filter)."""
        state = self._answers_state()
        version = self.data_version()
        requests = [
            (plan, where)
            for consumer, where in filters.items()
            for plan in state.asked.get(consumer, ())
            if where.cacheable and (plan, where.stamp, version) not in state.answers
        ]
        unique = list({(plan, where.stamp): (plan, where) for plan, where in requests}.values())
        if unique:
            self._answer_batch(unique)

    def _answer_batch(self, requests: Sequence[tuple[Plan | str, Filter]]) -> None:
        """Answer ``requests`` into the cache. Engines override it to run them together (one scan, one
        job); this default answers them one by one."""
        for plan, where in requests:
            self._ask(plan, where)

    def _ask(self, plan: Plan | str, where: Filter) -> Any:
        """The cached answer of any plan (``"n_kept"`` for the row count)."""
        if plan == "n_kept":
            return self.n_kept(where)
        if isinstance(plan, GroupCounts):
            return self.count(plan, where)
        if isinstance(plan, Marginals):
            return self.marginals(plan, where)
        if isinstance(plan, Quantiles):
            return self.quantiles(plan, where)
        return self.roc_auc(plan, where)

    @property
    def cache_hits(self) -> int:
        """How many plans were answered from the cache (for tests and benchmarks)."""
        return self._answers_state().hits


def _read_only(value: T) -> T:
    """An answer's arrays made read-only: answers are shared by every view that asks the same plan."""
    arrays = (
        [value.counts, value.sums]
        if isinstance(value, Counted)
        else value
        if isinstance(value, list)
        else [value]
    )
    for array in arrays:
        if isinstance(array, np.ndarray):
            array.setflags(write=False)
    return value


class _Answers:
    """An engine's cached answers (most recent last) and the plans each view asked."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.asked: dict[str, dict[Plan | str, None]] = {}
        self.hits = 0
