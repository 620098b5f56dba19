"""Pre-aggregated counts for the DuckDB engine: Mosaic's data cube index, answered exactly.

A click on a matrix cell, a slice or a group is a clause whose predicates each select whole codes of one
*dimension*: ``a`` / ``p`` (the actual and the predicted class), a coded column ``c:<name>`` (its values,
bins or periods), ``s:<bins>:<class>`` (a score bin). Such a filter is a boolean array over the codes of
its dimensions (:func:`clause_cells`). A :class:`Family` is one scan of the data, at its first use, into
small dense tables: rows (and sums of measures) per combination of a *base* (the dimensions a view groups
by, with ``a`` and ``p``) crossed with the codes of each filterable column, the tables of ``GROUPING
SETS ((base, c1), (base, c2), ...)``. A plan over a mappable filter is then answered in numpy from the
smallest table holding its dimensions and the filter's (sum of the kept cells, then the keys computed
from the codes). A clause of no whole codes (free text over raw values, tags, row ids) becomes a
dimension of its own, ``f:<n>`` (kept or not): the families over it take one scan each, which answers
every view's plans for it instead of a scan per plan. Plans the tables cannot hold (four columns at once,
tag keys) return None and the engine scans. Counts are the scan's exactly; sums agree to rounding (another
summation order).

A regression has no classes: its bases hold no ``a`` and ``p`` and every family keeps the regression sums
(:data:`~errorscope.regression.REGRESSION_SUMS`). Its equal-width value bins (``Key.value_bin``, the
residual plot's) are dimensions ``v:<n>`` too, registered when a plan first uses them: a brushed range, a
``between`` predicate whose ends are bin edges (or open), keeps whole bins of one, so brushing the residual
histogram is answered from a family over ``v:<n>`` built at the first brush.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import numpy as np

from ..plans import (
    PAIRED_MEASURES,
    REGRESSION_MEASURES,
    Counted,
    Filter,
    GroupCounts,
    Key,
    Marginals,
    Measure,
    RowPage,
)
from ..selection import Clause, Predicate, Ref
from .sources import ROW

MAX_CELLS = 4_000_000  # the largest table a family keeps (cells of its dense arrays)
MAX_NUMBERS = 25_000_000  # the most numbers (rows and sums over every table) a family keeps: 200 MB
MAX_FILTERS = 4  # clauses of no whole codes whose families are kept
BATCH_ROWS = 1 << 20
TOP_ROWS = 50  # rows kept per cell for the row page (pages of 10: the first five answered)  # rows per Arrow batch streamed from DuckDB while a family is built
A, P = "a", "p"


@dataclass(frozen=True)
class Compiled:
    """A clause as the lazy engine resolved it: the boolean expression it scans with, and the clause
    itself (what the pre-aggregation maps to codes)."""

    expr: Any
    clause: Clause


@dataclass(frozen=True)
class Cells:
    """Rows kept, as a boolean array over the codes of ``dims`` (one axis each, in that order)."""

    dims: tuple[str, ...]
    keep: np.ndarray

    def over(self, dims: Sequence[str]) -> np.ndarray:
        """``keep`` with one axis per dimension of ``dims`` (a superset), broadcastable to a table."""
        order = sorted(range(len(self.dims)), key=lambda i: list(dims).index(self.dims[i]))
        sizes = dict(zip(self.dims, self.keep.shape, strict=True))
        return np.transpose(self.keep, order).reshape([sizes.get(d, 1) for d in dims])


def combine(parts: Sequence[Cells], op: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Cells:
    """``op`` (``&`` or ``|``) of several :class:`Cells`, over the union of their dimensions."""
    dims: list[str] = []
    for part in parts:
        dims += [d for d in part.dims if d not in dims]
    sizes = {d: n for part in parts for d, n in zip(part.dims, part.keep.shape, strict=True)}
    out = parts[0].over(dims)
    for part in parts[1:]:
        out = op(out, part.over(dims))
    return Cells(tuple(dims), np.broadcast_to(out, [sizes[d] for d in dims]).copy())


@dataclass(frozen=True)
class Table:
    """Rows per cell of ``dims`` (``counts``) and the sums of ``measures`` (``sums``, measure first)."""

    dims: tuple[str, ...]
    counts: np.ndarray
    sums: np.ndarray
    measures: tuple[Measure, ...]


class TopRows:
    """Per cell of each table ``(a, p, c)``, its first ``k`` rows in the row page's loss order (smallest
    key, then row): a page of up to ``k`` rows of any union of cells is among them (exactly: each cell
    contributes its own first rows). Kept while a family streams; a key that is NaN or missing disables it."""

    def __init__(self, cells: dict[str, int], k: int) -> None:
        self.k = k
        self.usable = True
        self.cell: dict[str, np.ndarray] = {c: np.zeros(0, dtype=np.intp) for c in cells}
        self.key: dict[str, np.ndarray] = {c: np.zeros(0) for c in cells}
        self.row: dict[str, np.ndarray] = {c: np.zeros(0, dtype=np.int64) for c in cells}
        self.limit = {c: np.full(n, np.inf) for c, n in cells.items()}  # per cell: its k-th key, once full

    def add(
        self, column: str, cells: np.ndarray, order: np.ndarray, keys: np.ndarray, rows: np.ndarray
    ) -> None:
        """A batch's rows (``order``: the batch in key, then row order, shared by the columns)."""
        if not self.usable:
            return
        ranked = order[keys[order] <= self.limit[column][cells[order]]]  # candidates, in key order
        by_cell = ranked[np.argsort(cells[ranked].astype(np.uint16), kind="stable")]  # radix: small ints
        cell = cells[by_cell]
        first = np.arange(len(cell)) - np.searchsorted(cell, cell, side="left") < self.k
        cell = np.concatenate([self.cell[column], cell[first]])  # the batch's first k per cell, and ours
        key = np.concatenate([self.key[column], keys[by_cell[first]]])
        row = np.concatenate([self.row[column], rows[by_cell[first]]])
        merged = np.lexsort((row, key, cell))
        cell, key, row = cell[merged], key[merged], row[merged]
        keep = np.arange(len(cell)) - np.searchsorted(cell, cell, side="left") < self.k
        self.cell[column], self.key[column], self.row[column] = cell[keep], key[keep], row[keep]
        full = np.nonzero(np.bincount(self.cell[column], minlength=len(self.limit[column])) >= self.k)[0]
        last = np.searchsorted(self.cell[column], full, side="right") - 1
        self.limit[column][full] = self.key[column][last]

    def order(self, keys: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
        """A batch's rows in key, then row order (None, and the pages disabled, on a NaN key)."""
        if not self.usable or np.isnan(keys).any():
            self.usable = False
            return None
        return np.lexsort((rows, keys))

    def page(self, column: str, kept: np.ndarray, offset: int, limit: int) -> np.ndarray | None:
        """Rows ``offset .. offset + limit`` of the kept cells (a flat mask over the table's cells)."""
        if not self.usable or offset + limit > self.k:
            return None
        inside = kept[self.cell[column]]
        key, row = self.key[column][inside], self.row[column][inside]
        order = np.lexsort((row, key))
        return row[order][offset : offset + limit]

    def rows(self) -> np.ndarray:
        """Every row kept, once."""
        return np.unique(np.concatenate(list(self.row.values()) or [np.zeros(0, dtype=np.int64)]))


TOP_ORDERS = ("loss", "confident_wrong")  # the review orders whose first rows per cell are kept
REGRESSION_TOP_ORDERS = ("loss", "over_prediction", "under_prediction")  # a regression's


class FirstRows:
    """A :class:`TopRows` per review order of :data:`TOP_ORDERS` (the slice browser's and force viewer's
    loss order, the error tagger's confident-wrong queue), and the kept rows' data (``frame``, fetched once
    by the engine)."""

    def __init__(self, cells: dict[str, int], k: int, orders: Sequence[str] = TOP_ORDERS) -> None:
        self.orders = {order: TopRows(cells, k) for order in orders}
        self.frame: Any = None
        self.ids: Any = None  # the frame's ids as plain values (a pandas Index), set with it

    def rows(self) -> np.ndarray:
        """Every row kept for any order, once."""
        return np.unique(np.concatenate([top.rows() for top in self.orders.values()]))


@dataclass
class Family:
    """Tables ``base + (column,)`` for each filterable column, plus ``base`` alone, with rows per cell
    (``counts``) and the sums of ``measures`` (``sums``, the measure first)."""

    base: tuple[str, ...]
    measures: tuple[Measure, ...]
    counts: dict[str, np.ndarray] = field(default_factory=dict)  # column dim -> (*base sizes, codes)
    sums: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0
    top: FirstRows | None = None  # the (a, p) family: each cell's first rows in each review order

    def table(self, dims: frozenset[str]) -> Table | None:
        """The smallest table holding ``dims``, or None."""
        if dims <= set(self.base):
            column = min(self.counts, key=lambda c: self.counts[c].size, default=None)
            if column is None:
                return None
            counts, sums = self.counts[column].sum(axis=-1), self.sums[column].sum(axis=-1)
            return Table(self.base, counts, sums, self.measures)
        extra = dims - set(self.base)
        if len(extra) != 1 or next(iter(extra)) not in self.counts:
            return None
        (column,) = extra
        return Table((*self.base, column), self.counts[column], self.sums[column], self.measures)


class PreAggregate:
    """The cube index of one :class:`~errorscope.engines.lazy.LazyEngine` on DuckDB (see the module
    docstring). ``columns``: the filterable columns (codes of each are crossed with every family's base)."""

    def __init__(
        self, engine: Any, columns: Sequence[str], max_cells: int = MAX_CELLS, scan_filters: bool = True
    ) -> None:
        self.engine = engine
        self.columns = list(columns)
        self.max_cells = max_cells
        self.families: list[Family] = []
        self._refused: set[tuple[tuple[str, ...], tuple[Measure, ...]]] = set()
        self._cells: dict[Clause, Cells | None] = {}
        self.scan_filters = scan_filters
        self._filters: dict[int, tuple[Any, str]] = {}  # id of a resolved clause -> (it, its dimension)
        self._numbers = itertools.count()
        self.answered = 0  # plans answered from the tables (for benchmarks and tests)
        self.scanned = 0  # plans left to the engine's scan
        self.regression = bool(getattr(engine, "is_regression", False))
        self.value_keys: dict[str, Key] = {}  # v:<n> -> its value_bin key, in the order first used
        self.page_top: FirstRows | None = None  # the first rows the last page came from

    def value_dim(self, key: Key) -> str:
        """The dimension of a value_bin key, registered at its first use (clauses are mapped again)."""
        for dim, known in self.value_keys.items():
            if known == key:
                return dim
        dim = f"v:{len(self.value_keys)}"
        self.value_keys[dim] = key
        self._cells.clear()  # a range that mapped to no codes may now keep whole bins of this one
        return dim

    # -- dimensions ----------------------------------------------------------------------------
    def size(self, dim: str) -> int:
        if dim in (A, P):
            return self.engine.n_classes
        if dim.startswith("v:"):
            return self.value_keys[dim].bins + 1
        if dim.startswith("s:"):
            return int(dim.split(":")[1])
        if dim.startswith("f:"):
            return 2
        return self.engine.coding(dim[2:]).n_codes

    def key_dims(self, key: Key) -> tuple[str, ...] | None:
        """The dimensions a key's value is computed from (None: a tag, or another model's predictions,
        which no table holds)."""
        if key.model or key.kind == "better":
            return None
        if key.kind == "column":
            return (f"c:{key.name}",)
        if key.kind == "actual":
            return (A,)
        if key.kind == "predicted":
            return (P,)
        if key.kind == "outcome":
            return (A, P)
        if key.kind == "score_bin":
            return (f"s:{key.bins}:{key.positive}",)
        if key.kind == "value_bin":
            return (self.value_dim(key),)
        return None

    def key_values(self, key: Key, dims: tuple[str, ...], shape: tuple[int, ...]) -> np.ndarray:
        """Each cell's value of ``key``, over a table of ``dims`` (shaped ``shape``)."""
        grid = {d: np.arange(n).reshape([n if i == j else 1 for j in range(len(dims))])
                for i, (d, n) in enumerate(zip(dims, shape, strict=True))}  # fmt: skip
        if key.kind in ("column", "score_bin", "value_bin"):
            return grid[self.key_dims(key)[0]]  # type: ignore[index]
        a, p, pos = grid.get(A), grid.get(P), key.positive
        if key.kind == "actual":
            return a if pos is None else (a == pos).astype(np.int64)
        if key.kind == "predicted":
            return p if pos is None else (p == pos).astype(np.int64)
        wrong = (a != p).astype(np.int64)
        return wrong if pos is None else (a == pos) * 4 + (p == pos) * 2 + wrong

    # -- filters as cells -----------------------------------------------------------------------
    def cells(self, where: Filter) -> Cells | None:
        """The filter's kept rows as cells of some dimensions (None: a clause maps to no codes)."""
        if where.everything:
            return Cells((), np.ones((), dtype=bool))
        parts, free = [], []
        for resolved in where.resolved:
            found = self._cached_cells(resolved.clause) if isinstance(resolved, Compiled) else None
            if found is None and not self.scan_filters:
                return None
            if found is None:
                found = self._filter_cells(resolved)
                free.append(id(resolved))
            parts.append(found)
        self._keep_filters(set(free))
        return combine(parts, np.logical_and)

    def _filter_cells(self, resolved: Any) -> Cells:
        """A clause of no whole codes as a dimension of its own, ``f:<n>`` (1: kept): the families built
        over it take one scan, and answer every view's plans for it."""
        key = id(resolved)
        entry = self._filters.pop(key, None)  # re-inserted: the most recently used is last
        if entry is None or entry[0] is not resolved:  # new, or an id reused by a new clause
            entry = (resolved, f"f:{next(self._numbers)}")
        self._filters[key] = entry
        return Cells((entry[1],), np.array([False, True]))

    def _keep_filters(self, current: set[int]) -> None:
        """Keep the ``MAX_FILTERS`` most recently used filter dimensions (and every one of the filter being
        answered) and the families over them; drop the rest."""
        for key in list(self._filters):
            if len(self._filters) <= max(MAX_FILTERS, len(current)):
                break
            if key not in current:
                _, dropped = self._filters.pop(key)
                self.families = [f for f in self.families if dropped not in f.base]

    def _cached_cells(self, clause: Clause) -> Cells | None:
        try:
            if clause not in self._cells:
                self._cells[clause] = self._clause_cells(clause)
            return self._cells[clause]
        except TypeError:  # a value that cannot be hashed: map it each time
            return self._clause_cells(clause)

    def _clause_cells(self, clause: Clause) -> Cells | None:
        terms = []
        for term in clause.terms:
            predicates = [self.predicate_cells(p) for p in term]
            if any(p is None for p in predicates):
                return None
            terms.append(combine(predicates, np.logical_and))  # type: ignore[arg-type]
        return combine(terms, np.logical_or) if terms else None

    def predicate_cells(self, predicate: Predicate) -> Cells | None:
        """The codes a predicate keeps, when it keeps whole codes of one dimension (else None)."""
        found = self._predicate_cells(predicate)
        if found is None or not predicate.negated:
            return found
        return Cells(found.dims, ~found.keep)

    def _predicate_cells(self, predicate: Predicate) -> Cells | None:
        p = predicate
        if p.op in ("mask", "ids") or p.model or any(isinstance(v, Ref) and v.model for v in p.values):
            return None  # another model's predictions: no table holds them (a scan, or a filter dimension)
        column, role = p.column, p.role
        if role is None:
            try:
                column, role = self.engine.query_name(column)
            except ValueError:
                return None
        classes = list(self.engine.task.classes)
        if role in ("actual", "predicted"):
            dim = A if role == "actual" else P
            if p.op == "==" and len(p.values) == 1 and isinstance(p.values[0], Ref):
                ref = p.values[0]
                other = ref.role or self.engine.query_name(ref.column)[1]
                if {role, other} != {"actual", "predicted"}:
                    return None
                return Cells((A, P), np.eye(len(classes), dtype=bool))
            if p.op == "isna":
                return Cells((dim,), np.zeros(len(classes), dtype=bool))
            if p.op not in ("in", "not in", "=="):
                return None
            if not all(_plain(v) for v in p.values):
                return None
            inside = np.array([any(_same(c, v) for v in p.values) for c in classes])
            return Cells((dim,), inside if p.op != "not in" else ~inside)
        if role is None and p.op == "between":
            found = self._range_cells(column, p)
            if found is not None:
                return found
        if role is not None or column not in self.columns:
            return None
        coding = self.engine.coding(column)
        for code, own in enumerate(coding.predicates):  # a slice's own predicate: one code
            if own == Predicate(column, p.op, p.values):
                keep = np.zeros(coding.n_codes, dtype=bool)
                keep[code] = True
                return Cells((f"c:{column}",), keep)
        return self._values_cells(column, coding, p)

    def _range_cells(self, column: str, p: Predicate) -> Cells | None:
        """A ``between`` range whose ends are edges of a value_bin dimension of ``column`` (or open): the
        whole bins it keeps (missing values are in no range)."""
        lo, hi = p.values
        for dim, key in self.value_keys.items():
            if key.name != column:
                continue
            edges = key.bin_edges()
            first = 0 if lo is None else _edge_index(edges, lo)
            stop = key.bins if hi is None else _edge_index(edges, hi)
            if first is None or stop is None or stop <= first:
                continue
            keep = np.zeros(key.bins + 1, dtype=bool)
            keep[first:stop] = True
            return Cells((dim,), keep)
        return None

    def _values_cells(self, column: str, coding: Any, p: Predicate) -> Cells | None:
        """``==`` / ``in`` / ``not in`` over kept category values (each is one code), and ``isna``."""
        if coding.kind != "categorical":
            return None
        singles = {own.values[0]: code for code, own in enumerate(coding.predicates)
                   if own.op == "in" and len(own.values) == 1}  # fmt: skip
        missing = [code for code, own in enumerate(coding.predicates) if own.op == "isna"]
        keep = np.zeros(coding.n_codes, dtype=bool)
        if p.op == "isna":
            keep[missing] = True
            return Cells((f"c:{column}",), keep)
        if p.op not in ("==", "in", "not in") or not p.values:
            return None
        for v in p.values:
            if not _plain(v):
                return None
            code = next((c for value, c in singles.items() if _same(value, v)), None)
            if code is None:
                return None  # a value pooled in "other", or absent: not whole codes
            keep[code] = True
        if p.op == "not in":  # present values outside the list
            keep = ~keep
            keep[missing] = False
        return Cells((f"c:{column}",), keep)

    # -- plans ---------------------------------------------------------------------------------
    def count(self, plan: GroupCounts, where: Filter) -> Counted | None:
        """The plan's answer from a table, or None (the engine scans)."""
        cells = self.cells(where)
        if cells is None:
            self.scanned += 1
            return None
        dims = [self.key_dims(k) for k in plan.keys]
        if any(d is None for d in dims) or any(m.model or m.other for m in plan.sums):
            self.scanned += 1
            return None
        needed = {d for ds in dims for d in ds} | set(cells.dims)  # type: ignore[union-attr]
        free = [d for d in cells.dims if d.startswith("c:")]
        found = self._table(frozenset(needed), plan.sums, free[0] if len(free) == 1 else None)
        if found is None:
            self.scanned += 1
            return None
        self.answered += 1
        return self._reduce(found, cells, plan)

    def marginals(self, plan: Marginals, where: Filter) -> list[np.ndarray | None] | None:
        """Each column's table from one family (built over ``by`` and the filter), None for a column the
        tables do not hold (a tag: the engine counts those); None when the filter or ``by`` is not in them."""
        cells = self.cells(where)
        by = [self.key_dims(k) for k in plan.by]
        if cells is None or any(d is None for d in by):
            self.scanned += 1
            return None
        base = {d for ds in by for d in ds} | set(cells.dims)  # type: ignore[union-attr]
        out: list[np.ndarray | None] = []
        for key in plan.columns:
            dims = self.key_dims(key)
            free = next((d for d in dims if d.startswith("c:")), None) if dims is not None else None
            found = self._table(frozenset(base | set(dims)), (), free) if dims is not None else None
            out.append(
                None if found is None else self._reduce(found, cells, GroupCounts((key, *plan.by))).counts
            )
        if all(t is None for t in out):
            self.scanned += 1
            return None
        self.answered += 1
        return out

    def page(self, plan: RowPage, where: Filter) -> np.ndarray | None:
        """Row numbers of a page of the kept rows in a review order of :data:`TOP_ORDERS` (of the wrong
        ones: the cells off the diagonal), from the (a, p) family's first rows per cell, when the filter's
        cells lie in one of its tables; else None (the engine scans)."""
        if plan.order not in (REGRESSION_TOP_ORDERS if self.regression else TOP_ORDERS):
            return None
        cells = self.cells(where)
        if cells is None:
            return None
        free = [d for d in cells.dims if d not in (A, P)]
        for family in (f for f in self.families if f.top is not None):
            outside = [d for d in free if d not in family.base]
            if len(outside) <= 1 and all(d in family.counts for d in outside):
                break
        else:
            return None
        column = outside[0] if outside else next(iter(family.counts))
        dims = (*family.base, column)
        shape = family.counts[column].shape
        kept = np.broadcast_to(cells.over(dims), shape)
        if (
            plan.wrong_only and not self.regression
        ):  # a row is wrong exactly when its cell is off the diagonal
            kept = kept & np.not_equal.outer(np.arange(shape[0]), np.arange(shape[1]))[:, :, None]
        self.page_top = family.top  # whose kept rows the page's are (their data fetched once)
        top = family.top.orders[plan.order]  # type: ignore[union-attr]
        return top.page(column, kept.ravel(), plan.offset, plan.limit)

    def top_rows(self) -> list[FirstRows]:
        """Every family's first rows (classification: the (a, p) family's; a regression: also the family
        over the residual histogram's bins)."""
        return [f.top for f in self.families if f.top is not None]

    def n_kept(self, where: Filter) -> int | None:
        cells = self.cells(where)
        if cells is None:
            return None
        free = [d for d in cells.dims if d.startswith("c:")]
        found = self._table(frozenset(cells.dims), (), free[0] if len(free) == 1 else None)
        if found is None:
            return None
        return int((found.counts * cells.over(found.dims)).sum())

    def _reduce(self, table: Table, cells: Cells, plan: GroupCounts) -> Counted:
        """Sum the kept cells of a table into the plan's keys."""
        keep = cells.over(table.dims)
        shape = self.engine.shape(plan.keys)
        index = np.zeros(table.counts.shape, dtype=np.int64)
        for key, n in zip(plan.keys, shape, strict=True):
            values = self.key_values(key, table.dims, table.counts.shape)
            index = index * n + np.broadcast_to(values, table.counts.shape)
        size, flat = int(np.prod(shape, dtype=np.int64)), index.ravel()
        kept = (table.counts * keep).ravel()
        counts = np.bincount(flat, weights=kept, minlength=size)
        sums = np.zeros((len(plan.sums), *shape), dtype=np.float64)
        for j, m in enumerate(plan.sums):
            s = self._measure_sums(table, m) * keep
            sums[j] = np.bincount(flat, weights=s.ravel(), minlength=size).reshape(shape)
        return Counted(np.rint(counts).astype(np.int64).reshape(shape), sums)

    def _measure_sums(self, table: Table, measure: Measure) -> np.ndarray:
        """The measure's sums per cell of ``table``; with two classes, class 0's score sums and both
        Brier sums from class 1's: sum(1 - s) = n - sum(s), sum((1 - s)^2) = n - 2 sum(s) + sum(s^2),
        and sum((s - y)^2) = sum(s^2) - 2 y sum(s) + y n within a cell of actual class y."""
        if measure in table.measures:
            return table.sums[table.measures.index(measure)]
        s, s2 = (table.sums[table.measures.index(Measure(kind, 1))] for kind in ("score", "score2"))
        n = table.counts.astype(np.float64)
        if measure.kind == "score":
            return n - s
        if measure.kind == "score2":
            return n - 2 * s + s2
        y = self.key_values(Key.actual(1), table.dims, table.counts.shape)
        return s2 - 2 * y * s + y * n

    def _covers(self, base: tuple[str, ...], have: Sequence[Measure], wanted: Sequence[Measure]) -> bool:
        """Whether sums of ``have`` over ``base`` give every measure of ``wanted``."""
        known = set(have)
        if self.engine.n_classes == 2 and {Measure("score", 1), Measure("score2", 1)} <= known and A in base:
            known |= {Measure(kind, c) for c in (0, 1) for kind in ("score", "score2", "brier")}
        return set(wanted) <= known

    # -- tables --------------------------------------------------------------------------------
    def _table(self, dims: frozenset[str], measures: Sequence[Measure], free: str | None) -> Table | None:
        """A table holding ``dims`` with ``measures``: from a family built before, or from a new family
        whose base is ``dims`` with ``a`` and ``p`` less the ``free`` column (crossed with every column)."""
        found = [
            table
            for family in self.families
            if self._covers(family.base, family.measures, measures)
            and (table := family.table(dims)) is not None
        ]
        own = tuple(dims)  # the residual histogram's first plan builds its own family (first rows kept)
        if found and not (self._keeps_first_rows(own) and len(own) == 1 and own not in self._bases()):
            return min(found, key=lambda t: t.counts.size)
        columns = sorted(d for d in dims if d.startswith("c:"))
        alone = len(columns) == 1 and (self.regression or dims - {columns[0]} <= {A, P})
        if free is None and (len(columns) > 1 or alone):
            free = columns[-1]  # one column with classes only: the (a, p) family; two: cross the last
        family = self._family(
            tuple(sorted((dims - {free}) | (set() if self.regression else {A, P}))), measures
        )
        return None if family is None else family.table(dims)

    def _family(self, base: tuple[str, ...], measures: Sequence[Measure]) -> Family | None:
        """A new family over ``base`` keeping ``measures`` (its default ones when they cover them), or None
        when it would be too large (remembered: not tried again)."""
        if len([d for d in base if d.startswith("c:")]) > 2:
            return None  # three columns besides the crossed one: no family crosses four
        defaults = self.default_measures(base)
        kept = defaults if self._covers(base, defaults, measures) else tuple(measures)
        if (base, kept) in self._refused:
            return None
        family = self._build(base, kept)
        if family is None:
            self._refused.add((base, kept))
            return None
        self.families.append(family)
        return family

    def prepare(self, requests: Sequence[tuple[Any, Filter]]) -> None:
        """Before a batch of plans (a click's): a filter under which plans group by two or more different
        columns, none of them answered yet, gets one family over the filter's dimensions, crossed with
        every column, which answers them all, where :meth:`_table` would build a family per column (the
        slice browser's per-column metrics, one plan each, under a group click)."""
        wanted: dict[tuple[str, ...], tuple[set[str], set[Measure]]] = {}
        for plan, where in requests:
            if not isinstance(plan, GroupCounts) or where.everything:
                continue
            cells = self.cells(where)
            dims = [self.key_dims(k) for k in plan.keys]
            if cells is None or any(d is None for d in dims) or any(m.model or m.other for m in plan.sums):
                continue
            keyed = {d for ds in dims for d in ds}  # type: ignore[union-attr]
            columns = [d for d in keyed if d.startswith("c:") and d not in cells.dims]
            if len(columns) != 1 or keyed - {columns[0], A, P}:
                continue  # not one column (with the classes) under a filter of other dimensions
            needed = frozenset(keyed | set(cells.dims))
            if any(self._covers(f.base, f.measures, plan.sums) and f.table(needed) for f in self.families):
                continue
            base = tuple(sorted(set(cells.dims) | (set() if self.regression else {A, P})))
            found = wanted.setdefault(base, (set(), set()))
            found[0].add(columns[0])
            found[1].update(plan.sums)
        for base, (columns, measures) in wanted.items():
            if len(columns) > 1:
                self._family(base, tuple(sorted(measures, key=repr)))

    def default_measures(self, base: tuple[str, ...]) -> tuple[Measure, ...]:
        """The measures a family over (actual, predicted) keeps: every one the views sum, with scores; a
        regression's family, every regression measure."""
        if self.regression:
            return tuple(Measure(kind) for kind in sorted(REGRESSION_MEASURES - PAIRED_MEASURES))  # type: ignore[arg-type]
        if tuple(d for d in base if not d.startswith("f:")) != (A, P) or self.engine.scores is None:
            return ()
        k = self.engine.n_classes
        if k == 2:  # the other class's measures follow from these (see _measure_sums)
            return (Measure("score", 1), Measure("score2", 1), Measure("log_loss"), Measure("log_loss2"))
        per_class = [Measure(kind, c) for c in range(k) for kind in ("score", "score2", "brier")]
        return (*per_class, Measure("log_loss"), Measure("log_loss2"))

    def _build(self, base: tuple[str, ...], measures: tuple[Measure, ...]) -> Family | None:
        """One scan: DuckDB computes every row's codes (the engine's own expressions) and measures, and
        streams them in Arrow batches; numpy counts each batch into the dense tables ``base + (c,)``."""
        base_sizes = [self.size(d) for d in base]
        columns = [f"c:{c}" for c in self.columns if f"c:{c}" not in base]
        columns += [d for d in self.value_keys if d not in base]  # the value bins known so far
        sizes = {c: self.size(c) for c in columns}
        n_base = int(np.prod(base_sizes, dtype=np.int64))
        columns = [c for c in columns if n_base * sizes[c] <= self.max_cells]
        numbers = n_base * sum(sizes[c] for c in columns) * (1 + len(measures))
        if n_base > self.max_cells or not columns or numbers > MAX_NUMBERS:
            return None  # too large to keep (three value bins crossed, say): the plan scans
        t0 = time.perf_counter()
        dims = [*base, *columns]
        native = {d: self._native_code(d) for d in dims}
        fast = {d: how for d, how in native.items() if how is not None}
        names = {d: f"d{i}" for i, d in enumerate(dims)}
        exprs = [self._dim_expr(d).cast(nw.Int16).alias(names[d]) for d in dims if d not in fast]
        raw = sorted({how[0] for how in fast.values()})
        sums = [self.engine.measure_expr(m).cast(nw.Float64).fill_null(0.0).alias(f"m{j}")
                for j, m in enumerate(measures)]  # fmt: skip
        top = None
        orders = REGRESSION_TOP_ORDERS if self.regression else TOP_ORDERS
        small = max(sizes.values()) * n_base < 1 << 16
        if small and ((base == (A, P) and self.engine.scores is not None) or self._keeps_first_rows(base)):
            top = FirstRows({c: n_base * sizes[c] for c in columns}, TOP_ROWS, orders)
        keys = {order: f"key_{order}" for order in orders}
        if top is not None:  # each row page order: smallest key, then row (LazyEngine._order_key)
            sums += [self.engine._order_key(order).alias(keys[order]) for order in orders]
            sums.append(nw.col(ROW).alias("row"))
        inner = nw.to_native(self.engine.frame.select(*exprs, *[nw.col(c) for c in raw], *sums))
        outer = [names[d] for d in dims if d not in fast] + [f"m{j}" for j in range(len(measures))]
        outer += [*keys.values(), "row"] if top is not None else []
        outer += [f"{how[1]} AS {names[d]}" for d, how in fast.items()]
        relation = inner.query("coded", f"SELECT {', '.join(outer)} FROM coded")
        cuts = {d: how[2] for d, how in fast.items()}
        counts = {c: np.zeros(n_base * sizes[c], dtype=np.int64) for c in columns}
        totals = {c: np.zeros((len(measures), n_base * sizes[c]), dtype=np.float64) for c in columns}
        for batch in relation.to_arrow_reader(BATCH_ROWS):
            code = {d: self._codes(batch.column(names[d]), cuts.get(d)) for d in dims}
            at = np.zeros(batch.num_rows, dtype=np.intp)
            for d, n in zip(base, base_sizes, strict=True):
                at = at * n + code[d]
            weights = [batch.column(f"m{j}").to_numpy() for j in range(len(measures))]
            ranked = {}  # per order: the batch's keys and its rows in that order
            if top is not None:
                rows = batch.column("row").to_numpy()
                for order, first in top.orders.items():
                    key = batch.column(keys[order]).to_numpy(zero_copy_only=False)
                    ordered = first.order(key, rows)
                    if ordered is not None:
                        ranked[order] = (key, ordered)
            for c in columns:
                index = at * sizes[c] + code[c]
                counts[c] += np.bincount(index, minlength=counts[c].size)
                for j, w in enumerate(weights):
                    totals[c][j] += np.bincount(index, weights=w, minlength=counts[c].size)
                for order, (key, ordered) in ranked.items():
                    top.orders[order].add(c, index, ordered, key, rows)  # type: ignore[union-attr]
        family = Family(base, measures, top=top)
        for c in columns:
            shape = (*base_sizes, sizes[c])
            family.counts[c] = counts[c].reshape(shape)
            family.sums[c] = totals[c].reshape((len(measures), *shape))
        family.seconds = time.perf_counter() - t0
        return family

    def _bases(self) -> set[tuple[str, ...]]:
        return {f.base for f in self.families}

    def _keeps_first_rows(self, base: tuple[str, ...]) -> bool:
        """A regression keeps first rows on its family of no dimension, and on the first family over one
        value bin of the residual (the residual histogram's: its brushes' pages then need no scan)."""
        if not self.regression:
            return False
        if not base:
            return True
        residual = next((n for n in self.engine.derived if n.endswith("residual")), None)
        over_bins = any(f.top is not None and f.base for f in self.families)
        return (
            len(base) == 1 and self.value_keys.get(base[0], Key("column")).name == residual and not over_bins
        )

    def _native_code(self, dim: str) -> tuple[str, str, np.ndarray | None] | None:
        """(the column read, DuckDB SQL of its code or of its value, the bins' cut points) for the codings
        DuckDB computes much faster in its own SQL than in the engine's expressions: text categories
        (``list_position``) and numeric bins (cut in numpy, ``searchsorted``); None for the others."""
        if not dim.startswith("c:") or dim[2:] not in self.engine.schema:
            return None
        name = dim[2:]
        coding, col = self.engine.coding(name), self.engine.column(name)
        quoted = '"' + name.replace('"', '""') + '"'
        missing = next((i for i, p in enumerate(coding.predicates) if p.op == "isna"), None)
        if coding.kind == "numeric" and col.kind == "number":
            bins = [p for p in coding.predicates if p.op == "between"]
            cuts = np.array([p.values[1] for p in bins[:-1]], dtype=np.float64)
            return name, f"CAST({quoted} AS DOUBLE)", cuts
        if coding.kind != "categorical" or col.kind != "text":
            return None
        kept = [p.values[0] for p in coding.predicates if p.op == "in"]
        other = next((i for i, p in enumerate(coding.predicates) if p.op == "not in"), missing)
        listed = "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in kept) + "]::VARCHAR[]"
        code = f"coalesce(list_position({listed}, {quoted}) - 1, {other if other is not None else -1})"
        if missing is not None:
            code = f"CASE WHEN {quoted} IS NULL THEN {missing} ELSE {code} END"
        return name, f"CAST({code} AS SMALLINT)", None

    def _codes(self, values: Any, cuts: np.ndarray | None) -> np.ndarray:
        """A batch's codes: as computed, or the bins of the values at ``cuts`` (the engine's
        ``sum(x >= cut)``; missing values, null or NaN, get the code after the last bin)."""
        if cuts is None:
            return values.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
        x = values.to_numpy(zero_copy_only=False)
        code = np.searchsorted(cuts, x, side="right")
        code[np.isnan(x)] = len(cuts) + 1
        return code

    def _dim_expr(self, dim: str) -> Any:
        if dim == A:
            return self.engine.actual
        if dim == P:
            return self.engine.predicted
        if dim.startswith("f:"):
            resolved = next(r for r, d in self._filters.values() if d == dim)
            return resolved.expr if isinstance(resolved, Compiled) else resolved
        if dim.startswith("s:"):
            _, bins, positive = dim.split(":")
            return self.engine.key_expr(Key.score_bin(int(bins), int(positive)))
        if dim.startswith("v:"):
            return self.engine.key_expr(self.value_keys[dim])
        return self.engine.code_expr(dim[2:])


def _edge_index(edges: np.ndarray, value: Any) -> int | None:
    """The index of an inner edge equal to ``value`` (as a float, exactly), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    found = np.flatnonzero(edges[1:-1] == float(value))
    return int(found[0]) + 1 if len(found) else None


def _plain(value: Any) -> bool:
    """A literal the cells can compare without the engine: a number, a string or a boolean."""
    return isinstance(value, str | int | float | bool) and not isinstance(value, Ref)


def _same(a: Any, b: Any) -> bool:
    """Whether SQL equality would hold: numbers with numbers (True is 1), text with text."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return bool(a == b)
