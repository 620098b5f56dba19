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

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ..coding import ColumnCodes
from ..plans import ALL_ROWS, Counted, Filter, GroupCounts, Key, Marginals, RocAuc, RowPage
from ..selection import Clause

T = TypeVar("T")


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

    @abstractmethod
    def n_kept(self, where: Filter) -> int:
        """How many rows ``where`` keeps."""

    def forget(self, columns: set[str] | None) -> None:  # noqa: B027  # optional for engines
        """The data of ``columns`` (all when None) changed: drop what was derived from it."""

    def prefetch(self, where: Filter) -> None:  # noqa: B027  # optional for engines
        """A selection changed to ``where``: start counting what the views asked for last time."""

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
        if key.kind == "tag":
            return 2
        raise ValueError(f"unknown key kind {key.kind!r}")

    # -- plans ---------------------------------------------------------------------------------
    @abstractmethod
    def count(self, plan: GroupCounts, where: Filter) -> Counted:
        """Rows (and the measures' sums) per combination of the plan's keys, among the kept rows."""

    @abstractmethod
    def marginals(self, plan: Marginals, where: Filter) -> list[np.ndarray]:
        """Per column of the plan, rows per (column code, *by keys) among the kept rows."""

    @abstractmethod
    def page(self, plan: RowPage, where: Filter) -> np.ndarray:
        """The ids of the kept rows in the plan's order, ``limit`` from ``offset``."""

    @abstractmethod
    def fetch(self, ids: np.ndarray, loss: bool = False) -> pd.DataFrame:
        """The rows of ``ids``, in that order: the data's columns with ``id``, ``actual``, ``predicted``,
        ``score`` (with scores; ``loss`` too when asked), named as :meth:`Evaluation.frame` names them."""

    @abstractmethod
    def roc_auc(self, plan: RocAuc, where: Filter) -> float:
        """ROC AUC of the plan's class among the kept rows (NaN with one class only)."""

    def shape(self, keys: Iterable[Key]) -> tuple[int, ...]:
        """The sizes of ``keys``: the shape of a :class:`Counted` over them."""
        return tuple(self.key_size(k) for k in keys)
