"""The SQL engines: query plans answered by DuckDB or Spark through Narwhals, never holding the rows.

A :class:`LazyEngine` wraps a :class:`~errorscope.engines.sources.Source` (a Narwhals LazyFrame with a row
number) and the roles (:class:`Roles`). At build time it profiles the data (the class set, missing values,
ids uniqueness, the score range) and codes each column exactly as :func:`errorscope.coding.encode_column`
codes the same values in memory (quantile bins from exact order statistics with numpy's interpolation,
categories most frequent first with ties in value order, periods of datetimes); each code is then a
Narwhals expression, so a plan is one grouped query whose few result rows become a dense numpy array.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from ..coding import PERIODS, ColumnCodes, bin_codes, category_codes, inner_cuts, top_codes
from ..plans import Counted, Filter, GroupCounts, Key, Marginals, Measure, RocAuc, RowPage
from ..selection import Clause
from . import Engine
from .compile import BOOL, NUMBER, TEXT, TIME, Column, Context, compile_clause, kind_of
from .sources import ROW, Source

LOG_LOSS_EPS = float(np.finfo(np.float64).eps)  # scikit-learn's clipping, as slicing.row_log_loss


@dataclass(frozen=True)
class Roles:
    """The columns holding each role. ``y_score``: one column (binary: the positive class's probability)
    or one per class in ``score_classes``' order; ``y_pred`` None: predictions come from the scores."""

    y_true: str
    y_pred: str | None = None
    y_score: tuple[str, ...] = ()
    ids: str | None = None


@dataclass(frozen=True)
class Task:
    """What the profiles decided: the class order, the positive class's code, the threshold, and, per
    class, the position of its column in ``Roles.y_score`` (k columns) or None (one column)."""

    classes: tuple[Any, ...]
    positive: int | None
    threshold: float = 0.5
    score_order: tuple[int, ...] | None = None


def numpy_quantiles(
    order_stat: Callable[[list[int]], list[float]], n: int, quantiles: np.ndarray
) -> np.ndarray:
    """``np.quantile(x, quantiles)`` (linear) of ``n`` values known only through ``order_stat(ks)``, their
    ``ks``-th smallest: the same index and interpolation arithmetic as numpy, so the same floats."""
    q = np.asarray(quantiles, dtype=np.float64)
    virtual = (n - 1) * q  # numpy's virtual index for method="linear"
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above], following[above] = n - 1, n - 1
    below = virtual < 0
    previous[below], following[below] = 0, 0
    lo, hi = previous.astype(np.int64), following.astype(np.int64)
    needed = sorted({int(k) for k in np.concatenate([lo, hi])})
    value = dict(zip(needed, order_stat(needed), strict=True))
    a = np.array([value[int(k)] for k in lo], dtype=np.float64)
    b = np.array([value[int(k)] for k in hi], dtype=np.float64)
    gamma = virtual - previous
    diff = b - a
    out = a + diff * gamma
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), out)  # numpy's _lerp


@dataclass(eq=False)
class LazyEngine(Engine):
    """An :class:`Engine` over a Narwhals LazyFrame ("duckdb" or "spark"); see the module docstring."""

    source: Source
    roles: Roles
    bins: int = 10
    max_categories: int = 20
    task: Task | None = None
    tag_ids: Callable[[Sequence[str]], list[Any]] | None = None
    derived: dict[str, Column] = field(default_factory=dict)
    _codings: dict[str, tuple[ColumnCodes, nw.Expr]] = field(default_factory=dict, repr=False)
    _edges: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.name = self.source.engine
        self.frame = self.source.frame
        self.schema = dict(self.frame.collect_schema())
        self._n_rows = self._scalar(nw.len())

    # -- profiles ------------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return self._n_rows

    def _scalar(self, expr: nw.Expr, frame: Any = None) -> Any:
        out = (self.frame if frame is None else frame).select(expr.alias("v")).collect()
        return _python(out["v"].to_list()[0])

    def column(self, name: str) -> Column:
        """A data column (or a derived one) as a :class:`Column`."""
        if name in self.derived:
            return self.derived[name]
        dtype = self.schema[name]
        return Column(nw.col(name), kind_of(dtype), dtype.is_float())

    def distinct(self, name: str) -> list[Any]:
        """The column's distinct present values, in value order."""
        col = self.column(name)
        out = self.frame.filter(col.present()).select(col.expr.alias("v")).unique().collect()
        return sorted(_python(v) for v in out["v"].to_list())

    def value_counts(self, name: str) -> tuple[list[Any], np.ndarray, int]:
        """(present values in value order, rows per value, missing rows)."""
        col = self.column(name)
        out = (
            self.frame.with_columns(col.expr.alias("__v"), col.missing().alias("__m"))
            .group_by("__v", "__m")
            .agg(nw.len().alias("n"))
            .collect()
            .to_pandas()
        )
        missing = int(out.loc[out["__m"].astype(bool), "n"].sum())
        present = out[~out["__m"].astype(bool)]
        pairs = sorted(zip((_python(v) for v in present["__v"]), present["n"].astype(np.int64), strict=True))
        return [v for v, _ in pairs], np.array([n for _, n in pairs], dtype=np.int64), missing

    def missing_counts(self, names: Sequence[str]) -> dict[str, int]:
        """Missing values (null, or NaN in a float column) per column."""
        if not names:
            return {}
        exprs = [self.column(c).missing().cast(nw.Int64).sum().alias(f"m{i}") for i, c in enumerate(names)]
        out = self.frame.select(*exprs).collect()
        return {c: int(_python(out[f"m{i}"].to_list()[0]) or 0) for i, c in enumerate(names)}

    def n_distinct(self, name: str) -> int:
        """How many distinct values the column holds (missing ones excluded)."""
        col = self.column(name)
        return int(self._scalar(col.expr.n_unique(), self.frame.filter(col.present())))

    def value_range(self, names: Sequence[str]) -> tuple[float, float]:
        """The smallest and largest value over ``names`` (numbers), and whether any is not finite."""
        lows = [nw.col(c).cast(nw.Float64).min().alias(f"lo{i}") for i, c in enumerate(names)]
        highs = [nw.col(c).cast(nw.Float64).max().alias(f"hi{i}") for i, c in enumerate(names)]
        out = self.frame.select(*lows, *highs).collect()
        lo = min(float(_python(out[f"lo{i}"].to_list()[0])) for i in range(len(names)))
        hi = max(float(_python(out[f"hi{i}"].to_list()[0])) for i in range(len(names)))
        return lo, hi

    def non_finite(self, names: Sequence[str]) -> int:
        """Rows where any of the numeric ``names`` is missing, NaN or infinite."""
        bad = nw.lit(False)
        for c in names:
            bad = bad | ~nw.col(c).cast(nw.Float64).is_finite().fill_null(False)
        return int(self._scalar(bad.cast(nw.Int64).sum()) or 0)

    def duplicate_rows(self, names: Sequence[str]) -> int:
        """Rows whose values in ``names`` repeat an earlier row's (rows minus distinct combinations)."""
        if not names:
            return 0
        distinct = self.frame.select(*[nw.col(c) for c in names]).unique().select(nw.len()).collect()
        return self.n_rows - int(_python(distinct.item(0, 0)))

    def n_unique_rows(self, name: str) -> int:
        """COUNT(DISTINCT name): equal to :attr:`n_rows` when the column's values are unique."""
        return int(self._scalar(nw.col(name).n_unique()))

    # -- the task: classes, predictions, scores --------------------------------------------------
    def set_task(self, task: Task) -> None:
        """Fix the class order and how predictions are made; the codes of the roles follow."""
        self.task = task
        self._codings.clear()
        k = len(task.classes)
        self.scores = self._score_exprs(task) if self.roles.y_score else None
        self.actual = _code_of(nw.col(self.roles.y_true), task.classes)
        if self.roles.y_pred is not None:
            self.predicted = _code_of(nw.col(self.roles.y_pred), task.classes)
        elif k == 2:
            self.predicted = (self.scores[1] >= task.threshold).cast(nw.Int64)
        else:
            self.predicted = _argmax(self.scores)
        self.wrong = self.actual != self.predicted
        self.derived = {}
        if self.scores is not None:
            name = "score" if k == 2 else "confidence"
            name = f"es_{name}" if name in self.schema else name
            value = self.scores[1] if k == 2 else _pick(self.scores, self.predicted)
            self.derived[name] = Column(value, NUMBER)
            self._edges.setdefault(name, np.linspace(0, 1, 11))  # as Evaluation.codes: tenths of [0, 1]
        self.labels = {
            "actual": self.column(self.roles.y_true),
            "predicted": self.column(self.roles.y_pred)
            if self.roles.y_pred is not None
            else Column(_class_value(self.predicted, task.classes), _kind_of_values(task.classes)),
        }

    def _score_exprs(self, task: Task) -> list[nw.Expr]:
        """Each class's probability, in the class order."""
        columns = self.roles.y_score
        if len(columns) == 1:
            s = nw.col(columns[0]).cast(nw.Float64)
            return [1.0 - s, s]
        assert task.score_order is not None
        return [nw.col(columns[i]).cast(nw.Float64) for i in task.score_order]

    def add_derived(self, name: str, column: Column) -> None:
        """A derived column (a text's length, say), sliced and queried like a data column."""
        self.derived[name] = column

    @property
    def n_classes(self) -> int:
        assert self.task is not None, "set_task first"
        return len(self.task.classes)

    def log_loss(self) -> nw.Expr:
        """Each row's -log p(actual class), clipped like scikit-learn's."""
        p = _pick(self.scores, self.actual).clip(LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
        return -(p.log())

    # -- clauses -------------------------------------------------------------------------------
    def context(self, query_name: Callable[[str], tuple[str, str | None]]) -> Context:
        assert self.task is not None, "set_task first"
        columns = {c: self.column(c) for c in [*self.schema, *self.derived] if c != ROW}
        ids = nw.col(self.roles.ids) if self.roles.ids else nw.col(ROW)
        return Context(
            columns, list(self.task.classes), self.actual, self.predicted, self.labels, ids, query_name,
            self.tag_ids,
        )  # fmt: skip

    def query_name(self, name: str) -> tuple[str, str | None]:
        """(column, role) of a name in a clause: the roles, then data and derived columns."""
        if name in ("actual", "predicted", "tag") and name not in self.schema:
            return name, name
        if name == "score" and name not in self.schema and "confidence" in self.derived:
            return "confidence", None
        if name in self.schema or name in self.derived:
            return name, None
        known = [c for c in [*self.schema, *self.derived] if c != ROW]
        raise ValueError(f"{name!r} is not a column of the data; columns are: {', '.join(known[:20])}.")

    def resolve(
        self, clause: Clause, query_name: Callable[[str], tuple[str, str | None]] | None = None
    ) -> Any:
        """``clause`` compiled to one boolean expression, checked by the engine on no rows."""
        expr = compile_clause(clause, self.context(query_name or self.query_name))
        try:
            self.frame.filter(expr).head(0).collect()
        except Exception as err:  # the engine's own type errors, e.g. text compared with a number
            raise ValueError(f"{clause.text}: the {self.name} engine cannot evaluate it ({err}).") from err
        return expr

    def _kept(self, where: Filter) -> Any:
        if where.everything:
            return self.frame
        keep = where.resolved[0]
        for expr in where.resolved[1:]:
            keep = keep & expr
        return self.frame.filter(keep)

    def n_kept(self, where: Filter) -> int:
        return int(self._scalar(nw.len(), self._kept(where)) or 0)

    # -- codings -------------------------------------------------------------------------------
    def set_bins(self, column: str, edges: Any) -> None:
        """Bin ``column`` at cut points ``edges`` (an int: that many quantile bins), as Evaluation.set_bins."""
        self._edges[column] = edges
        self._codings.pop(column, None)

    def coding(self, column: str) -> ColumnCodes:
        return self._coded(column)[0]

    def code_expr(self, column: str) -> nw.Expr:
        """Each row's code of ``column`` (see :meth:`coding`)."""
        return self._coded(column)[1]

    def _coded(self, column: str) -> tuple[ColumnCodes, nw.Expr]:
        if column not in self._codings:
            self._codings[column] = self._encode(column)
        return self._codings[column]

    def _encode(self, name: str) -> tuple[ColumnCodes, nw.Expr]:
        """As :func:`errorscope.coding.encode_column` on the same values."""
        col = self.column(name)
        edges = self._edges.get(name)
        bins = edges if isinstance(edges, int) else self.bins
        if col.kind == TIME:
            return self._periods(name, col)
        if col.kind == NUMBER:
            if edges is not None and not isinstance(edges, int):
                lo, hi = self._finite_range(col)
                present = np.array([] if lo is None else [lo, hi])
                return self._bins(name, col, inner_cuts(edges, present))
            if self.n_distinct(name) > max(bins, 12):
                return self._bins(name, col, self._quantile_cuts(col, bins))
        if col.kind not in (NUMBER, BOOL, TEXT):
            raise TypeError(
                f"column {name!r} holds {self.schema.get(name)}, which the {self.name} engine cannot slice: "
                f"store it as numbers (a duration as seconds, e.g. in SQL epoch({name})) or as text, or leave "
                "it out of features= and metadata=."
            )
        return self._categories(name, col)

    def _categories(self, name: str, col: Column) -> tuple[ColumnCodes, nw.Expr]:
        values, counts, missing = self.value_counts(name)
        keep = top_codes(counts, self.max_categories)
        kept = [values[i] for i in keep]
        other = len(keep) < int(np.count_nonzero(counts))
        labels, predicates = category_codes(name, kept, other, missing > 0)
        expr = nw.lit(0)
        for code, value in enumerate(kept):
            expr = expr + (col.expr == value).fill_null(False).cast(nw.Int64) * code
        if other:
            rest = ~col.expr.is_in(kept).fill_null(False) & col.present()
            expr = expr + rest.cast(nw.Int64) * len(kept)
        if missing:
            expr = expr + col.missing().cast(nw.Int64) * (len(labels) - 1)
        return ColumnCodes(name, "categorical", _NO_ROWS, labels, predicates), expr

    def _finite_range(self, col: Column) -> tuple[float | None, float | None]:
        finite = self.frame.filter(col.numbers().is_finite().fill_null(False))
        out = finite.select(col.numbers().min().alias("lo"), col.numbers().max().alias("hi")).collect()
        return _python(out["lo"].to_list()[0]), _python(out["hi"].to_list()[0])

    def _quantile_cuts(self, col: Column, bins: int) -> np.ndarray:
        """:func:`errorscope.coding._quantile_cuts` of the column's finite values."""
        quantiles = np.linspace(0, 1, bins + 1)
        x = col.numbers()
        finite = self.frame.filter(x.is_finite().fill_null(False)).select(x.alias("x"))
        n = int(self._scalar(nw.len(), finite))
        if not n:
            return np.array([])
        edges = np.unique(numpy_quantiles(lambda ks: self._order_stats(finite, ks, n), n, quantiles))
        if len(edges) < 4:
            distinct = finite.unique()
            m = int(self._scalar(nw.len(), distinct))
            edges = np.unique(numpy_quantiles(lambda ks: self._order_stats(distinct, ks, m), m, quantiles))
        return edges[1:-1]

    def _order_stats(self, frame: Any, ks: list[int], n: int) -> list[float]:
        """The ``ks``-th smallest values of ``frame``'s column ``x`` (``n`` rows), exactly: the inverted-CDF
        percentile at (k + 0.5) / n is the k-th order statistic (DuckDB quantile_disc, Spark
        percentile_disc)."""
        qs = [(k + 0.5) / n for k in ks]
        native = nw.to_native(frame)
        if self.name == "duckdb":
            return [float(v) for v in native.aggregate(f"quantile_disc(x, {qs!r})").fetchall()[0][0]]
        from pyspark.sql import functions as F

        row = native.agg(*[F.expr(f"percentile_disc({q!r}) WITHIN GROUP (ORDER BY x)") for q in qs]).collect()
        return [float(v) for v in row[0]]

    def _bins(self, name: str, col: Column, inner: np.ndarray) -> tuple[ColumnCodes, nw.Expr]:
        missing = bool(self.missing_counts([name])[name])
        labels, predicates = bin_codes(name, inner, missing)
        x = col.numbers()
        expr = nw.lit(0)
        for cut in inner:
            expr = expr + (x >= float(cut)).fill_null(False).cast(nw.Int64)
        if missing:
            expr = nw.when(col.missing()).then(nw.lit(len(labels) - 1)).otherwise(expr)
        return ColumnCodes(name, "numeric", _NO_ROWS, labels, predicates), expr

    def _periods(self, name: str, col: Column, max_periods: int = 24) -> tuple[ColumnCodes, nw.Expr]:
        """As :func:`errorscope.coding._datetime_codes`: the periods present of the finest calendar unit
        spanning at most ``max_periods``, each [start, next start)."""
        dtype = self.schema[name]
        if getattr(dtype, "time_zone", None):
            raise TypeError(
                f"column {name!r} holds time-zone-aware datetimes: the {self.name} engine slices naive ones; "
                f"convert it to UTC without a zone (e.g. in SQL: timezone('UTC', {name}))."
            )
        x = col.expr.cast(nw.Datetime("us"))
        present = self.frame.filter(col.present())
        out = present.select(x.min().alias("lo"), x.max().alias("hi")).collect()
        lo, hi = out["lo"].to_list()[0], out["hi"].to_list()[0]
        freq = "Y"
        if lo is not None:
            for candidate, _ in PERIODS:
                if len(pd.period_range(pd.Timestamp(lo), pd.Timestamp(hi), freq=candidate)) > max_periods:
                    break
                freq = candidate
        unit = {"Y": "1y", "Q": "1q", "M": "1mo", "W": "1w", "D": "1d", "h": "1h"}[freq]
        starts = present.select(x.dt.truncate(unit).alias("s")).unique().collect()["s"].to_list()
        periods = sorted(pd.Period(pd.Timestamp(s), freq=freq) for s in starts)
        labels = [str(p) for p in periods]
        from ..selection import Predicate

        predicates = [Predicate(name, "between", (p.start_time, (p + 1).start_time)) for p in periods]
        expr = nw.lit(0)
        for p in periods[1:]:
            expr = expr + (x >= p.start_time.to_pydatetime()).fill_null(False).cast(nw.Int64)
        missing = bool(self.missing_counts([name])[name])
        if missing:
            labels.append("missing")
            predicates.append(Predicate(name, "isna"))
            expr = nw.when(col.missing()).then(nw.lit(len(labels) - 1)).otherwise(expr)
        return ColumnCodes(name, "datetime", _NO_ROWS, tuple(labels), tuple(predicates)), expr

    # -- keys and measures ---------------------------------------------------------------------
    def key_expr(self, key: Key) -> nw.Expr:
        """Each row's value of ``key`` (0 .. key_size - 1)."""
        if key.kind == "column":
            return self.code_expr(key.name)
        if key.kind in ("actual", "predicted"):
            codes = self.actual if key.kind == "actual" else self.predicted
            return codes if key.positive is None else (codes == key.positive).cast(nw.Int64)
        if key.kind == "outcome":
            wrong = self.wrong.cast(nw.Int64)
            if key.positive is None:
                return wrong
            pos = key.positive
            return (
                (self.actual == pos).cast(nw.Int64) * 4 + (self.predicted == pos).cast(nw.Int64) * 2 + wrong
            )
        if key.kind == "score_bin":  # min(floor(score * bins), bins - 1), as the numpy engine
            binned = (self.scores[key.positive] * float(key.bins)).floor().cast(nw.Int64)
            return nw.when(binned > key.bins - 1).then(nw.lit(key.bins - 1)).otherwise(binned)
        tagged = self.tag_ids([key.name]) if self.tag_ids is not None else []
        ids = nw.col(self.roles.ids) if self.roles.ids else nw.col(ROW)
        inside = ids.is_in(tagged) if tagged else nw.lit(False)
        return (~inside).cast(nw.Int64)

    def measure_expr(self, measure: Measure) -> nw.Expr:
        if self.scores is None:
            raise ValueError(f"the {measure.kind} measure needs scores: build the Evaluation with y_score=.")
        if measure.kind == "log_loss":
            return self.log_loss()
        if measure.kind == "log_loss2":
            return self.log_loss() * self.log_loss()
        score = self.scores[measure.positive]
        if measure.kind == "score":
            return score
        if measure.kind == "score2":
            return score * score
        actual = (self.actual == measure.positive).cast(nw.Float64)
        return (score - actual) * (score - actual)

    # -- plans ---------------------------------------------------------------------------------
    def count(self, plan: GroupCounts, where: Filter) -> Counted:
        shape = self.shape(plan.keys)
        names = [f"k{i}" for i in range(len(plan.keys))]
        exprs = [self.key_expr(k).alias(n) for k, n in zip(plan.keys, names, strict=True)]
        sums = [self.measure_expr(m).cast(nw.Float64).sum().alias(f"s{j}") for j, m in enumerate(plan.sums)]
        frame = self._kept(where).with_columns(*exprs) if exprs else self._kept(where)
        if names:
            out = frame.group_by(*names).agg(nw.len().alias("n"), *sums).collect().to_pandas()
        else:
            out = frame.select(nw.len().alias("n"), *sums).collect().to_pandas()
        counts = np.zeros(shape, dtype=np.int64)
        totals = np.zeros((len(plan.sums), *shape), dtype=np.float64)
        out = out[out["n"].astype(np.int64) > 0]  # a global aggregate of no rows
        index = tuple(out[n].to_numpy(dtype=np.int64) for n in names)
        np.add.at(counts, index, out["n"].to_numpy(dtype=np.int64))
        for j in range(len(plan.sums)):
            np.add.at(totals[j], index, out[f"s{j}"].astype(np.float64).to_numpy())
        return Counted(counts, totals)

    def marginals(self, plan: Marginals, where: Filter) -> list[np.ndarray]:
        """One grouped query per column. DuckDB's GROUPING SETS in one scan was not faster here (18 columns,
        5M rows of Parquet, 2 busy cores: median 3.7 s against 3.1 s), so the Narwhals queries stay."""
        return [self.count(GroupCounts((column, *plan.by)), where).counts for column in plan.columns]

    def page(self, plan: RowPage, where: Filter) -> np.ndarray:
        frame = self._kept(where)
        if plan.wrong_only:
            frame = frame.filter(self.wrong)
        ids = self.roles.ids or ROW
        if plan.order == "stratified_random":
            return self._stratified_page(frame, plan, ids)
        frame = frame.with_columns(self._order_key(plan.order).alias("__key")).select("__key", ROW, ids)
        native = nw.to_native(frame.sort("__key", ROW))
        if self.name == "duckdb":
            rows = native.limit(plan.limit, offset=plan.offset).select(ids).fetchall()
            values = [r[0] for r in rows]
        else:
            rows = (
                native.offset(plan.offset).limit(plan.limit).select(ids).collect()
                if plan.offset
                else (native.limit(plan.limit).select(ids).collect())
            )
            values = [r[0] for r in rows]
        return _id_array(values)

    def _order_key(self, order: str) -> nw.Expr:
        """The key :func:`errorscope.ranking.row_order` sorts by (smallest first; ties in row order)."""
        if order in ("id", "data"):
            return nw.col(self.roles.ids) if order == "id" and self.roles.ids else nw.col(ROW)
        if self.scores is None:
            return (~self.wrong).cast(nw.Float64)
        if order == "loss":
            return -self.log_loss()
        if order == "confident_wrong":
            confidence = _pick(self.scores, self.predicted)
            return nw.when(self.wrong).then(-confidence).otherwise(1 + confidence)
        assert self.task is not None
        if self.n_classes == 2 and self.roles.y_pred is None:
            return (self.scores[1] - self.task.threshold).abs()
        top = _argmax(self.scores)
        best = _pick(self.scores, top)
        second = nw.max_horizontal(
            *[nw.when(top == i).then(nw.lit(-math.inf)).otherwise(s) for i, s in enumerate(self.scores)]
        )
        return best - second

    def _stratified_page(self, frame: Any, plan: RowPage, ids: str) -> np.ndarray:
        """The seeded stratified shuffle of :func:`errorscope.ranking._stratified`: it reads every kept
        row's stratum (one small integer per row), so it costs a pass that brings those to the driver."""
        from ..ranking import _stratified

        key = self.actual if plan.strata is None else self.code_expr(plan.strata)
        out = frame.select(nw.col(ROW), key.alias("g")).sort(ROW).collect().to_pandas()
        order = _stratified(out["g"].to_numpy(dtype=np.int64), plan.seed)[
            plan.offset : plan.offset + plan.limit
        ]
        rows = out[ROW].to_numpy(dtype=np.int64)[order]
        if ids == ROW:
            return rows
        found = self.frame.filter(nw.col(ROW).is_in(rows.tolist())).select(ROW, ids).collect().to_pandas()
        by_row = dict(zip(found[ROW].to_numpy(dtype=np.int64).tolist(), found[ids].tolist(), strict=True))
        return _id_array([_python(by_row[r]) for r in rows.tolist()])

    def roc_auc(self, plan: RocAuc, where: Filter) -> float:
        """Exact ROC AUC from rows per (distinct score, is positive), as overview.roc_auc counts them."""
        score = self.scores[plan.positive]
        frame = self._kept(where).with_columns(
            score.alias("__s"), (self.actual == plan.positive).alias("__p")
        )
        out = frame.group_by("__s", "__p").agg(nw.len().alias("n")).collect().to_pandas()
        s = out["__s"].to_numpy(dtype=np.float64)
        is_pos = out["__p"].astype(bool).to_numpy()
        n = out["n"].to_numpy(dtype=np.int64)
        values, group = np.unique(s, return_inverse=True)
        pos = np.bincount(group, weights=n * is_pos, minlength=len(values))
        neg = np.bincount(group, weights=n * ~is_pos, minlength=len(values))
        n_pos, n_neg = pos.sum(), neg.sum()
        if n_pos == 0 or n_neg == 0:
            return float("nan")
        below = np.cumsum(neg) - neg
        return float((pos * (below + 0.5 * neg)).sum() / (n_pos * n_neg))

    # -- rows ----------------------------------------------------------------------------------
    def _with_roles(self, frame: Any, loss: bool = False) -> Any:
        """``frame`` with the evaluation's columns (id, actual, predicted, score; ``loss`` when asked and
        there are scores) as Evaluation.frame names them."""
        assert self.task is not None
        data = [c for c in self.schema if c != ROW]
        extra = {
            "id": nw.col(self.roles.ids) if self.roles.ids else nw.col(ROW),
            "actual": _class_value(self.actual, self.task.classes),
            "predicted": _class_value(self.predicted, self.task.classes),
        }
        if self.scores is not None:
            extra["score"] = self.scores[1] if self.n_classes == 2 else _pick(self.scores, self.predicted)
            if loss:
                extra["loss"] = self.log_loss()
        named = [e.alias(n if n not in data else f"es_{n}") for n, e in extra.items()]
        return frame.select(*[nw.col(c) for c in data], *named, nw.col(ROW))

    def fetch(self, ids: np.ndarray, loss: bool = False) -> pd.DataFrame:
        return self.rows(ids, loss)

    def rows(self, ids: Sequence[Any], loss: bool = False) -> pd.DataFrame:
        """The rows of ``ids``, in their order, with the data and the evaluation's columns."""
        wanted = [_python(v) for v in ids]
        key = self.roles.ids or ROW
        out = self._with_roles(self.frame.filter(nw.col(key).is_in(wanted)), loss).collect().to_pandas()
        by_id = pd.Series(np.arange(len(out)), index=out[key if key != ROW else ROW].map(_python))
        missing = [v for v in wanted if v not in by_id.index]
        if missing:
            raise ValueError(
                f"ids {missing[:5]} are not ids of the data: pass ids from the Evaluation's id column."
            )
        return out.iloc[by_id.loc[wanted].to_numpy()].drop(columns=ROW).reset_index(drop=True)

    def selected(self, where: Filter) -> pd.DataFrame:
        """Every kept row, in the data's order (as Evaluation.selected: bring only what fits in memory)."""
        out = self._with_roles(self._kept(where)).sort(ROW).collect().to_pandas()
        return out.drop(columns=ROW).reset_index(drop=True)


_NO_ROWS = np.zeros(0, dtype=np.int32)  # a lazy coding keeps no per-row codes: its expression computes them


def _python(value: Any) -> Any:
    """A plain Python scalar (numpy scalars, decimals and Arrow scalars converted)."""
    if isinstance(value, np.generic):
        return value.item()
    if type(value).__name__ == "Decimal":
        return float(value)
    return value


def _id_array(values: list[Any]) -> np.ndarray:
    values = [_python(v) for v in values]
    return np.asarray(values, dtype=object if any(isinstance(v, str) for v in values) else None)


def _code_of(labels: nw.Expr, classes: Sequence[Any]) -> nw.Expr:
    """Each row's class index (``labels`` holds class values)."""
    expr = nw.lit(0)
    for code, value in enumerate(classes[1:], start=1):
        expr = expr + (labels == value).fill_null(False).cast(nw.Int64) * code
    return expr


def _class_value(codes: nw.Expr, classes: Sequence[Any]) -> nw.Expr:
    """Each row's class value from its index."""
    expr = nw.lit(classes[-1])
    for code in range(len(classes) - 2, -1, -1):
        expr = nw.when(codes == code).then(nw.lit(classes[code])).otherwise(expr)
    return expr


def _kind_of_values(values: Sequence[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return BOOL
    if all(isinstance(v, int | float) for v in values):
        return NUMBER
    return TEXT


def _pick(values: Sequence[nw.Expr], codes: nw.Expr) -> nw.Expr:
    """``values[code]`` per row."""
    expr = values[-1]
    for code in range(len(values) - 2, -1, -1):
        expr = nw.when(codes == code).then(values[code]).otherwise(expr)
    return expr


def _argmax(values: Sequence[nw.Expr]) -> nw.Expr:
    """np.argmax over the columns: the first index of the largest value."""
    expr = nw.lit(0)
    for i, v in enumerate(values):
        first = nw.lit(True)
        for j, w in enumerate(values):
            if j < i:
                first = first & (v > w)
            elif j > i:
                first = first & (v >= w)
        expr = expr + first.cast(nw.Int64) * i
    return expr
