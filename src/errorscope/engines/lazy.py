"""The SQL engines: query plans answered by DuckDB or Spark through Narwhals, never holding the rows.

A :class:`LazyEngine` wraps a :class:`~errorscope.engines.sources.Source` (a Narwhals LazyFrame with a row
number) and the roles (:class:`Roles`). At build time it profiles the data (the class set, missing values,
ids uniqueness, the score range) and codes each column exactly as :func:`errorscope.coding.encode_column`
codes the same values in memory (quantile bins from exact order statistics with numpy's interpolation,
categories most frequent first with ties in value order, periods of datetimes); each code is then a
Narwhals expression, so a plan is one grouped query whose few result rows become a dense numpy array.
"""

from __future__ import annotations

import copy
import functools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from ..coding import PERIODS, ColumnCodes, bin_codes, category_codes, inner_cuts, top_codes
from ..plans import (
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
from ..selection import Clause
from . import Engine
from .compile import BOOL, NUMBER, TEXT, TIME, Column, Context, compile_clause, kind_of
from .preagg import Compiled, PreAggregate
from .progress import Listener, QueryProgress
from .sources import ROW, Source

LOG_LOSS_EPS = float(np.finfo(np.float64).eps)  # scikit-learn's clipping, as slicing.row_log_loss
MAPE_EPS = float(np.finfo(np.float64).eps)  # scikit-learn's MAPE: |e| / max(|y|, eps), as the numpy engine


@dataclass(frozen=True)
class Roles:
    """The columns holding each role. ``y_score``: one column (binary: the positive class's probability)
    or one per class in ``score_classes``' order; ``y_pred`` None: predictions come from the scores."""

    y_true: str
    y_pred: str | None = None
    y_score: tuple[str, ...] = ()
    ids: str | None = None


@dataclass(frozen=True)
class ModelColumns:
    """One model's columns: its predictions (or None: from its scores) and scores in ``score_order``."""

    y_pred: str | None = None
    y_score: tuple[str, ...] = ()
    score_order: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Task:
    """What the profiles decided: the class order, the positive class's code, the threshold, and, per
    class, the position of its column in ``Roles.y_score`` (k columns) or None (one column)."""

    classes: tuple[Any, ...]
    positive: int | None
    threshold: float = 0.5
    score_order: tuple[int, ...] | None = None
    regression: bool = False  # then no classes: y_true and y_pred are numbers


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
    preaggregate: bool = True  # answer filters of whole codes from pre-aggregated tables (DuckDB)
    filterable: tuple[str, ...] | None = None  # the columns those tables cross (None: every data column)
    collected_bytes: int = 0  # Arrow bytes brought to the driver by profiles and plans (a measurement)
    _codings: dict[str, tuple[ColumnCodes, nw.Expr]] = field(default_factory=dict, repr=False)
    _edges: dict[str, Any] = field(default_factory=dict, repr=False)
    _single_valued: dict[tuple[int, int], bool] = field(default_factory=dict, repr=False)  # score bins
    _last_page: tuple[list[Any], pd.DataFrame] | None = field(default=None, repr=False)  # ids, rows
    models: dict[str, ModelColumns] = field(default_factory=dict)  # several models: each one's columns
    active: str = ""  # the active model's name (its columns are in ``roles``)

    def __post_init__(self) -> None:
        self.name = self.source.engine
        self.frame = self.source.frame
        self._query_depth = 0  # queries running inside one another (the outermost reports progress)
        self._progress = QueryProgress(self.source.progress) if self.source.progress else None
        self.schema = dict(self.frame.collect_schema())
        self._n_rows = self._scalar(nw.len())
        self._preagg: PreAggregate | None = None

    # -- profiles ------------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return self._n_rows

    def _scalar(self, expr: nw.Expr, frame: Any = None) -> Any:
        out = self._collect((self.frame if frame is None else frame).select(expr.alias("v")))
        return _python(out["v"].to_list()[0])

    def _collect(self, frame: Any) -> Any:
        """``frame.collect()``, counting the Arrow bytes it brings to the driver."""
        out = frame.collect()
        self.collected_bytes += int(out.to_arrow().nbytes)
        return out

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
        self._set_predictions()

    def _set_predictions(self) -> None:
        """The active model's predictions, scores and derived columns, from ``roles`` and ``task``."""
        task = self.task
        assert task is not None
        if task.regression:
            return self._set_regression()
        k = len(task.classes)
        self.scores = self._score_exprs(task) if self.roles.y_score else None
        self.actual = _code_of(nw.col(self.roles.y_true), task.classes)
        self.predicted = self._predictions(self.roles.y_pred, self.scores)
        self.wrong = self.actual != self.predicted
        self.derived = {}
        self._preagg = None
        if self.scores is not None:
            name = "score" if k == 2 else "confidence"
            name = f"es_{name}" if name in self.schema else name
            value = self.scores[1] if k == 2 else self._predicted_score()
            self.derived[name] = Column(value, NUMBER)
            self._edges.setdefault(name, np.linspace(0, 1, 11))  # as Evaluation.codes: tenths of [0, 1]
        self.labels = {
            "actual": self.column(self.roles.y_true),
            "predicted": self.column(self.roles.y_pred)
            if self.roles.y_pred is not None
            else Column(_class_value(self.predicted, task.classes), _kind_of_values(task.classes)),
        }

    def _predictions(self, y_pred: str | None, scores: list[nw.Expr] | None) -> nw.Expr:
        """Class codes from a column of labels, or from scores (the threshold, or the argmax)."""
        assert self.task is not None and (y_pred is not None or scores is not None)
        if y_pred is not None:
            return _code_of(nw.col(y_pred), self.task.classes)
        if len(self.task.classes) == 2:
            return (scores[1] >= self.task.threshold).cast(nw.Int64)  # type: ignore[index]
        return _argmax(scores)  # type: ignore[arg-type]

    # -- several models ------------------------------------------------------------------------
    def add_model(self, name: str, columns: ModelColumns) -> None:
        """Register a model's columns (the first added is the one ``roles`` and ``task`` describe)."""
        self.models[name] = columns
        self.active = self.active or name

    def set_model(self, name: str) -> None:
        """Make model ``name`` the active one: predictions, scores and the score's codes follow; the data
        columns' codings stay; the pre-aggregated tables (crossed with the predicted class) go."""
        assert self.task is not None
        columns = self.models[name]
        self.roles = replace(self.roles, y_pred=columns.y_pred, y_score=columns.y_score)
        self.task = replace(self.task, score_order=columns.score_order)
        for derived in list(self.derived):
            self._codings.pop(derived, None)
        extra = {n: c for n, c in self.derived.items() if n not in self._prediction_columns()}
        self._set_predictions()
        self.derived.update(extra)  # a text's length stays
        self.active = name
        self._preagg = None
        self._last_page = None

    def _prediction_columns(self) -> set[str]:
        names = ("score", "confidence", "actual", "predicted", "residual")
        return {n for base in names for n in (base, f"es_{base}")}

    def model_columns(self, model: str) -> ModelColumns:
        """Model ``model``'s columns ("" or the active one: ``roles``)."""
        if not model or model == self.active:
            return ModelColumns(
                self.roles.y_pred, self.roles.y_score, self.task.score_order if self.task else None
            )
        if model not in self.models:
            raise ValueError(f"model {model!r} is not one of {list(self.models)}.")
        return self.models[model]

    def model_scores(self, model: str = "") -> list[nw.Expr] | None:
        """Each class's probability under model ``model`` (None without scores)."""
        if not model or model == self.active:
            return self.scores
        columns = self.model_columns(model)
        if not columns.y_score:
            return None
        assert self.task is not None
        return self._score_exprs(replace(self.task, score_order=columns.score_order), columns.y_score)

    def model_predicted(self, model: str = "") -> nw.Expr:
        """Model ``model``'s predicted class codes (a regression: its predicted numbers)."""
        if not model or model == self.active:
            return self.predicted_value if self.is_regression else self.predicted
        columns = self.model_columns(model)
        if self.is_regression:
            return nw.col(columns.y_pred).cast(nw.Float64)
        return self._predictions(columns.y_pred, self.model_scores(model))

    def model_residual(self, model: str = "") -> nw.Expr:
        """A regression model's residual, prediction minus actual."""
        return self.model_predicted(model) - self.actual_value

    def model_side(self, name: str, role: str | None, model: str) -> Column:
        """What a clause naming a model reads: its predicted labels, or a regression's numbers."""
        if role == "predicted":
            assert self.task is not None
            labels = _class_value(self.model_predicted(model), self.task.classes)
            return Column(labels, _kind_of_values(self.task.classes))
        if name == "predicted":
            return Column(self.model_predicted(model), NUMBER)
        residual = self.model_residual(model)
        return Column(residual if name == "residual" else residual.abs(), NUMBER)

    def _set_regression(self) -> None:
        """A regression: the actual and predicted numbers and the residual (prediction - actual), also as
        the derived columns ``actual``, ``predicted`` and ``residual`` (``es_`` prefixed where taken)."""
        assert self.roles.y_pred is not None
        self.scores = None
        self.actual_value = nw.col(self.roles.y_true).cast(nw.Float64)
        self.predicted_value = nw.col(self.roles.y_pred).cast(nw.Float64)
        self.residual = self.predicted_value - self.actual_value
        self.actual = self.predicted = self.wrong = None
        self._preagg = None
        values = {"actual": self.actual_value, "predicted": self.predicted_value, "residual": self.residual}
        self.derived = {(f"es_{n}" if n in self.schema else n): Column(v, NUMBER) for n, v in values.items()}
        self.labels = {}

    def regression_measure(self, kind: str, model: str = "", other: str = "") -> nw.Expr:
        """A regression's per-row measure (see :mod:`errorscope.plans`) of model ``model`` (a paired one:
        ``model`` minus ``other``), as the numpy engine computes it."""
        y, p = self.actual_value, self.model_predicted(model)
        e = p - y
        if kind in PAIRED_MEASURES:
            f = self.model_residual(other)
            diff = e.abs() - f.abs() if kind.startswith("abs") else e * e - f * f
            return diff * diff if kind.endswith("2") else diff
        if kind == "residual":
            return e
        if kind == "abs_error":
            return e.abs()
        if kind == "sq_error":
            return e * e
        if kind == "sq_error2":
            return (e * e) * (e * e)
        if kind == "actual":
            return y
        if kind == "actual2":
            return y * y
        if kind == "prediction":
            return p
        if kind == "prediction2":
            return p * p
        if kind == "abs_pct_error":
            floor = nw.when(y.abs() > MAPE_EPS).then(y.abs()).otherwise(nw.lit(MAPE_EPS))
            return e.abs() / floor
        if kind == "zero_actual":
            return (y == 0).cast(nw.Float64)
        if kind == "actual3":
            return y * y * y
        if kind == "actual4":
            return (y * y) * (y * y)
        if kind == "sq_error_actual":
            return (e * e) * y
        if kind == "sq_error_actual2":
            return (e * e) * (y * y)
        raise ValueError(f"unknown measure {kind!r}")

    @property
    def is_regression(self) -> bool:
        return self.task is not None and self.task.regression

    def set_threshold(self, value: float) -> None:
        """Binary predictions from scores at threshold ``value``: the predicted class follows; the codings
        (profiles of the data, not of the predictions) stay."""
        assert self.task is not None and self.scores is not None and self.roles.y_pred is None
        self.task = replace(self.task, threshold=value)
        self.predicted = (self.scores[1] >= value).cast(nw.Int64)
        self.wrong = self.actual != self.predicted
        kind = _kind_of_values(self.task.classes)
        self.labels["predicted"] = Column(_class_value(self.predicted, self.task.classes), kind)

    def _score_exprs(self, task: Task, columns: tuple[str, ...] | None = None) -> list[nw.Expr]:
        """Each class's probability, in the class order (of the active model's ``y_score``, or ``columns``)."""
        columns = self.roles.y_score if columns is None else columns
        if len(columns) == 1:
            s = nw.col(columns[0]).cast(nw.Float64)
            return [1.0 - s, s]
        assert task.score_order is not None
        return [nw.col(columns[i]).cast(nw.Float64) for i in task.score_order]

    def add_derived(self, name: str, column: Column) -> None:
        """A derived column (a text's length, say), sliced and queried like a data column."""
        self.derived[name] = column
        self._preagg = None

    def forget(self, columns: set[str] | None) -> None:
        """Data changed: the pre-aggregated tables go (a tag written changes none of them)."""
        super().forget(columns)
        if columns is None or columns - {"tag"}:
            self._preagg = None
            self._last_page = None

    @property
    def preagg(self) -> PreAggregate | None:
        """The pre-aggregated tables (:mod:`errorscope.engines.preagg`), on DuckDB once the task is set."""
        if not self.preaggregate or self.name != "duckdb" or self.task is None:
            return None
        if self._preagg is None:
            roles = {ROW, self.roles.y_true, self.roles.y_pred, self.roles.ids, *self.roles.y_score}
            roles |= {c for m in self.models.values() for c in (m.y_pred, *m.y_score)}
            names = self.filterable or tuple(c for c in self.schema if c not in roles) + tuple(self.derived)
            self._preagg = PreAggregate(self, [c for c in names if self._codable(c)])
        return self._preagg

    def expect(self, keys: Sequence[Key]) -> None:
        cube = self.preagg
        for key in keys if cube is not None else ():
            if key.kind == "value_bin":
                cube.value_dim(key)

    def _codable(self, name: str) -> bool:
        try:
            self.coding(name)
        except TypeError:  # a column the engine cannot slice (durations, zoned datetimes)
            return False
        return True

    @property
    def n_classes(self) -> int:
        assert self.task is not None, "set_task first"
        return len(self.task.classes)

    def _predicted_score(self) -> nw.Expr:
        """Each row's score of its predicted class: the largest score when predictions are the argmax (one
        GREATEST, not a chain of cases over the argmax: 26 classes made expressions of 100k nodes)."""
        if self.roles.y_pred is None:
            return nw.max_horizontal(*self.scores)  # type: ignore[misc]
        return _pick(self.scores, self.predicted)  # type: ignore[arg-type]

    def log_loss(self, model: str = "") -> nw.Expr:
        """Each row's -log p(actual class), clipped like scikit-learn's."""
        p = _pick(self.model_scores(model), self.actual).clip(LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)  # type: ignore[arg-type]
        return -(p.log())

    # -- clauses -------------------------------------------------------------------------------
    def context(self, query_name: Callable[[str], tuple[str, str | None]]) -> Context:
        assert self.task is not None, "set_task first"
        columns = {c: self.column(c) for c in [*self.schema, *self.derived] if c != ROW}
        ids = nw.col(self.roles.ids) if self.roles.ids else nw.col(ROW)
        return Context(
            columns, list(self.task.classes), self.actual, self.predicted, self.labels, ids, query_name,
            self.tag_ids, model_codes=self.model_predicted, model_side=self.model_side,
        )  # fmt: skip

    def query_name(self, name: str) -> tuple[str, str | None]:
        """(column, role) of a name in a clause: the roles, then data and derived columns."""
        if self.is_regression and name in self.derived:  # actual, predicted, residual: numbers
            return name, None
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
        return Compiled(expr, clause) if query_name is None else expr

    def _kept(self, where: Filter) -> Any:
        if where.everything:
            return self.frame
        return self.frame.filter(self._keep_expr(where))

    def _keep_expr(self, where: Filter) -> nw.Expr:
        """The expression of the rows ``where`` keeps (its clauses and-ed)."""
        exprs = [r.expr if isinstance(r, Compiled) else r for r in where.resolved] or [nw.lit(True)]
        keep = exprs[0]
        for expr in exprs[1:]:
            keep = keep & expr
        return keep

    def complement(self, where: Filter) -> Filter:
        """The rows ``where`` leaves out, as a Filter."""
        return Filter(("not", where.stamp), (~self._keep_expr(where),))

    def _n_kept(self, where: Filter) -> int:
        if where.everything:
            return self.n_rows
        cube = self.preagg
        found = cube.n_kept(where) if cube is not None else None
        return found if found is not None else int(self._scalar(nw.len(), self._kept(where)) or 0)

    def _cube_for(self, where: Filter, keys: Sequence[Key]) -> PreAggregate | None:
        """The pre-aggregated tables, when they pay: a filter, or keys beyond the classes."""
        classes_only = where.everything and {k.kind for k in keys} <= _CLASS_KEYS
        if classes_only and (self._preagg is None or not self._preagg.families):
            return None  # one grouped query over the classes: scanning it once is cheaper than a cube
        return self.preagg

    # -- codings -------------------------------------------------------------------------------
    def set_bins(self, column: str, edges: Any) -> None:
        """Bin ``column`` at cut points ``edges`` (an int: that many quantile bins), as Evaluation.set_bins."""
        self._edges[column] = edges
        self._codings.pop(column, None)
        self.forget({column})  # answers grouped by its old codes are stale, and the pre-aggregated tables

    def dtype_of(self, name: str) -> Any:
        """The column's type as the source has it (a derived column: Float64)."""
        self.query_name(name)  # an unknown name: a ValueError listing the columns
        return self.schema.get(name, nw.Float64)

    def finite_values(self, name: str) -> pd.Series | None:
        """The smallest and largest finite value of a numeric column (None for another kind): what
        Evaluation.set_bins checks cut points against."""
        column, role = self.query_name(name)
        col = None if role else self.column(column)
        if col is None or col.kind != NUMBER:
            return None
        lo, hi = self._finite_range(col)
        return pd.Series([] if lo is None else [lo, hi], dtype=np.float64)

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
        limit = IN_MEMORY_ORDER_STATS if self.name == "duckdb" else SPARK_IN_MEMORY_ORDER_STATS
        if n > limit:
            return _windowed_order_stats(native, ks, n)
        return _OrderStatQueries(native).exact(qs)

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
            codes = self.actual if key.kind == "actual" else self.model_predicted(key.model)
            return codes if key.positive is None else (codes == key.positive).cast(nw.Int64)
        if key.kind == "outcome":
            predicted = self.model_predicted(key.model)
            wrong = (self.actual != predicted).cast(nw.Int64)
            if key.positive is None:
                return wrong
            pos = key.positive
            return (self.actual == pos).cast(nw.Int64) * 4 + (predicted == pos).cast(nw.Int64) * 2 + wrong
        if key.kind == "better":  # 0: the first model's |error| smaller, 1: equal, 2: the other's
            a, b = (self.model_residual(m).abs() for m in (key.model, key.other))
            return (
                nw.when(a < b).then(nw.lit(0)).otherwise(nw.when(a == b).then(nw.lit(1)).otherwise(nw.lit(2)))
            )
        if key.kind == "score_bin":  # min(floor(score * bins), bins - 1), as the numpy engine
            binned = (self.scores[key.positive] * float(key.bins)).floor().cast(nw.Int64)
            return nw.when(binned > key.bins - 1).then(nw.lit(key.bins - 1)).otherwise(binned)
        if key.kind == "split":  # the numpy engine's hash of the row's position, in SQL's int64
            held = holdout_hash(nw.col(ROW), key.seed) < holdout_threshold(key.share)
            return held.cast(nw.Int64)
        if key.kind == "value_bin":  # the numpy engine's arithmetic (plans.value_bins), missing last
            x = self.column(key.name).numbers()
            binned = value_bins(x, key, lambda e: e.floor(), lambda c, a, b: nw.when(c).then(a).otherwise(b))
            return nw.when(x.is_null() | x.is_nan()).then(nw.lit(key.bins)).otherwise(binned).cast(nw.Int64)
        tagged = self.tag_ids([key.name]) if self.tag_ids is not None else []
        ids = nw.col(self.roles.ids) if self.roles.ids else nw.col(ROW)
        inside = ids.is_in(tagged) if tagged else nw.lit(False)
        return (~inside).cast(nw.Int64)

    def measure_expr(self, measure: Measure) -> nw.Expr:
        if measure.kind in REGRESSION_MEASURES:
            return self.regression_measure(measure.kind, measure.model, measure.other)
        if measure.kind == "wrong":
            return (self.actual != self.model_predicted(measure.model)).cast(nw.Float64)
        scores = self.model_scores(measure.model)
        if scores is None:
            raise ValueError(f"the {measure.kind} measure needs scores: build the Evaluation with y_score=.")
        if measure.kind == "log_loss":
            return self.log_loss(measure.model)
        if measure.kind == "log_loss2":
            return self.log_loss(measure.model) * self.log_loss(measure.model)
        score = scores[measure.positive]
        if measure.kind == "score":
            return score
        if measure.kind == "score2":
            return score * score
        actual = (self.actual == measure.positive).cast(nw.Float64)
        return (score - actual) * (score - actual)

    # -- plans ---------------------------------------------------------------------------------
    def _count(self, plan: GroupCounts, where: Filter) -> Counted:
        cube = self._cube_for(where, plan.keys)
        found = cube.count(plan, where) if cube is not None else None
        return found if found is not None else self.scan_count(plan, where)

    def scan_count(self, plan: GroupCounts, where: Filter) -> Counted:
        """:meth:`count` by one grouped query over the rows (what the pre-aggregation falls back to)."""
        shape = self.shape(plan.keys)
        names = [f"k{i}" for i in range(len(plan.keys))]
        exprs = [self.key_expr(k).alias(n) for k, n in zip(plan.keys, names, strict=True)]
        sums = [self.measure_expr(m).cast(nw.Float64).sum().alias(f"s{j}") for j, m in enumerate(plan.sums)]
        frame = self._kept(where).with_columns(*exprs) if exprs else self._kept(where)
        if names:
            out = self._collect(frame.group_by(*names).agg(nw.len().alias("n"), *sums)).to_pandas()
        else:
            out = self._collect(frame.select(nw.len().alias("n"), *sums)).to_pandas()
        counts = np.zeros(shape, dtype=np.int64)
        totals = np.zeros((len(plan.sums), *shape), dtype=np.float64)
        out = out[out["n"].astype(np.int64) > 0]  # a global aggregate of no rows
        if not names:  # no keys: one total (0-d arrays)
            if len(out):
                counts[()] = int(out["n"].iloc[0])
                totals[:] = [float(out[f"s{j}"].iloc[0]) for j in range(len(plan.sums))]
            return Counted(counts, totals)
        index = tuple(out[n].to_numpy(dtype=np.int64) for n in names)
        np.add.at(counts, index, out["n"].to_numpy(dtype=np.int64))
        for j in range(len(plan.sums)):
            np.add.at(totals[j], index, out[f"s{j}"].astype(np.float64).to_numpy())
        return Counted(counts, totals)

    def _answer_batch(self, requests: Sequence[tuple[Any, Filter]]) -> None:
        """On Spark, a click's plans per filter: every grouped count (a Marginals' columns too) in one
        ``GROUPING SETS`` job, then the rest (row counts, AUC) one by one. 17 slice counts of 300k rows on
        local[2]: 82 s one job against 112 s one by one (a shared, overloaded machine). DuckDB answers
        one by one: its grouping sets were not faster (see ``_marginals``) and clicks of whole codes are
        answered from pre-aggregated tables."""
        if self.name != "spark":
            if self.preaggregate and self.preagg is not None:
                self.preagg.prepare(requests)
            return super()._answer_batch(requests)
        by_filter: dict[Any, tuple[Filter, list[Any]]] = {}
        for plan, where in requests:
            by_filter.setdefault(where.stamp, (where, []))[1].append(plan)
        for where, plans in by_filter.values():
            counts: list[GroupCounts] = []
            for plan in plans:
                if isinstance(plan, Marginals):
                    counts += [GroupCounts((column, *plan.by)) for column in plan.columns]
                elif isinstance(plan, GroupCounts) and plan.keys:
                    counts.append(plan)
            counts = list(dict.fromkeys(counts))
            together = self._count_together(counts, where) if len(counts) > 1 else None
            for plan, counted in zip(counts, together or (), strict=False):
                self._answer(plan, where, lambda counted=counted: counted)
            for plan in plans:
                self._ask(plan, where)  # answered above (a cache hit), or now

    def _count_together(self, plans: Sequence[GroupCounts], where: Filter) -> list[Counted] | None:
        """Each plan's :class:`Counted`, from one Spark ``GROUPING SETS`` job (None before PySpark 4.0,
        which has no ``DataFrame.groupingSets``)."""
        keys = list(dict.fromkeys(k for p in plans for k in p.keys))
        measures = list(dict.fromkeys(m for p in plans for m in p.sums))
        key_name = {k: f"k{i}" for i, k in enumerate(keys)}
        frame = self._kept(where).with_columns(
            *[self.key_expr(k).alias(key_name[k]) for k in keys],
            *[self.measure_expr(m).cast(nw.Float64).alias(f"m{j}") for j, m in enumerate(measures)],
        )
        sets = list(dict.fromkeys(tuple(key_name[k] for k in p.keys) for p in plans))
        names = list(key_name.values())
        native = nw.to_native(frame)
        if not hasattr(native, "groupingSets"):
            return None
        from pyspark.sql import functions as F

        result = native.groupingSets([list(s) for s in sets], *names).agg(
            F.grouping_id().alias("g"),
            F.count(F.lit(1)).alias("n"),
            *[F.sum(f"m{j}").alias(f"s{j}") for j in range(len(measures))],
        )
        out = nw.from_native(result).lazy().collect().to_pandas()
        grouping_ids = out["g"].to_numpy(dtype=np.int64)
        answers = []
        for plan in plans:
            wanted = {key_name[k] for k in plan.keys}  # grouping_id's bit is 1 for a column not grouped by
            bits = sum(1 << (len(names) - 1 - i) for i, n in enumerate(names) if n not in wanted)
            rows = out[grouping_ids == bits]
            shape = self.shape(plan.keys)
            counts = np.zeros(shape, dtype=np.int64)
            totals = np.zeros((len(plan.sums), *shape), dtype=np.float64)
            index = tuple(rows[key_name[k]].to_numpy(dtype=np.int64) for k in plan.keys)
            np.add.at(counts, index, rows["n"].to_numpy(dtype=np.int64))
            for j, measure in enumerate(plan.sums):
                column = rows[f"s{measures.index(measure)}"].astype(np.float64).to_numpy()
                np.add.at(totals[j], index, column)
            answers.append(Counted(counts, totals))
        return answers

    def _marginals(self, plan: Marginals, where: Filter) -> list[np.ndarray]:
        """One grouped query per column. DuckDB's GROUPING SETS in one scan was not faster here (18 columns,
        5M rows of Parquet, 2 busy cores: median 3.7 s against 3.1 s), so the Narwhals queries stay.
        On DuckDB a filter of whole codes is answered from the pre-aggregated tables instead; Spark, outside
        a click's batch, counts every column in one job (:meth:`_unpivoted_marginals`)."""
        cube = self._cube_for(where, [*plan.columns, *plan.by])
        found = cube.marginals(plan, where) if cube is not None else None
        if found is None and self.name == "spark" and len(plan.columns) > 1:
            return self._unpivoted_marginals(plan, where)
        tables = found if found is not None else [None] * len(plan.columns)
        return [
            table if table is not None else self._column_table(column, plan.by, where)
            for column, table in zip(plan.columns, tables, strict=True)
        ]

    def _column_table(self, column: Key, by: tuple[Key, ...], where: Filter) -> np.ndarray:
        """One column's table of :meth:`_marginals` that the pre-aggregated tables do not hold: a tag no
        row carries is code 1 (untagged) for every kept row, counted from ``by`` alone; else a scan."""
        if column.kind == "tag" and not (self.tag_ids([column.name]) if self.tag_ids is not None else []):
            table = np.zeros((2, *self.shape(by)), dtype=np.int64)
            table[1] = self.count(GroupCounts(by), where).counts
            return table
        return self.scan_count(GroupCounts((column, *by)), where).counts

    def grouping_sets(self, plan: GroupingSets, where: Filter) -> list[Counted]:
        """``GROUPING SETS`` in one scan per chunk of sets (DuckDB's SQL, Spark's ``groupingSets``), cells
        under ``min_count`` left out by ``HAVING``; a row's set is the pattern of its non-null keys."""
        if self.name not in ("duckdb", "spark"):
            return super().grouping_sets(plan, where)
        out: dict[int, Counted] = {}
        for chunk in _set_chunks(plan.sets):
            out |= self._grouping_chunk(plan, chunk, where)
        return [out[i] for i in range(len(plan.sets))]

    def _grouping_chunk(self, plan: GroupingSets, chunk: list[int], where: Filter) -> dict[int, Counted]:
        keys = list(dict.fromkeys(k for i in chunk for k in plan.sets[i]))
        name = {k: f"k{j}" for j, k in enumerate(keys)}
        sums = [f"s{j}" for j in range(len(plan.sums))]
        frame = self._kept(where).select(
            *[self.key_expr(k).cast(nw.Int64).alias(name[k]) for k in keys],
            *[self.measure_expr(m).cast(nw.Float64).alias(s) for m, s in zip(plan.sums, sums, strict=True)],
        )
        native = nw.to_native(frame)
        sets = [[name[k] for k in plan.sets[i]] for i in chunk]
        columns = [name[k] for k in keys]
        if self.name == "duckdb":
            listed = ", ".join("(" + ", ".join(s) + ")" for s in sets)
            aggregates = ", ".join([*columns, "count(*)::BIGINT AS n", *[f"sum({s}) AS {s}" for s in sums]])
            result = native.aggregate(aggregates, f"GROUPING SETS ({listed})")
            if plan.min_count > 1:
                result = result.filter(f"n >= {int(plan.min_count)}")
            table = result.to_arrow_table().to_pandas()
        else:
            from pyspark.sql import functions as F

            grouped = native.groupingSets(sets, *columns).agg(
                F.count("*").alias("n"), *[F.sum(s).alias(s) for s in sums]
            )
            if plan.min_count > 1:
                grouped = grouped.where(F.col("n") >= int(plan.min_count))
            table = pd.DataFrame([r.asDict() for r in grouped.collect()], columns=[*columns, "n", *sums])
        present = table[columns].notna().to_numpy() if len(table) else np.zeros((0, len(columns)), dtype=bool)
        out = {}
        for i, keyset in zip(chunk, sets, strict=True):
            wanted = np.isin(columns, keyset)
            rows = table[(present == wanted).all(axis=1)]
            shape = self.shape(plan.sets[i])
            counts = np.zeros(shape, dtype=np.int64)
            totals = np.zeros((len(sums), *shape), dtype=np.float64)
            index = tuple(rows[c].to_numpy(dtype=np.int64) for c in keyset)
            counts[index] = rows["n"].to_numpy(dtype=np.int64)
            for j, s in enumerate(sums):
                totals[j][index] = rows[s].astype(np.float64).to_numpy()
            out[i] = Counted(counts, totals)
        return out

    def coverage(self, plan: Coverage, where: Filter) -> Patterns:
        """One grouped query over the membership bits (62 terms to an int64 word) and the ``by`` keys."""
        words = []
        for start in range(0, len(plan.terms), WORD_BITS):
            word = nw.lit(0, nw.Int64)
            for bit, term in enumerate(plan.terms[start : start + WORD_BITS]):
                inside = nw.lit(True)
                for key, code in term:
                    inside = inside & (self.key_expr(key) == code)
                word = word + nw.when(inside).then(nw.lit(1 << bit, nw.Int64)).otherwise(nw.lit(0, nw.Int64))
            words.append(word.cast(nw.Int64).alias(f"w{len(words)}"))
        by = [self.key_expr(k).cast(nw.Int64).alias(f"b{j}") for j, k in enumerate(plan.by)]
        names = [f"w{j}" for j in range(len(words))] + [f"b{j}" for j in range(len(by))]
        frame = self._kept(where).select(*words, *by)
        table = frame.group_by(*names).agg(nw.len().alias("n")).collect().to_pandas() if names else None
        by_shape = self.shape(plan.by)
        if table is None or not len(table):
            return Patterns(
                np.zeros((0, len(plan.terms)), dtype=bool), np.zeros((0, *by_shape), dtype=np.int64)
            )
        word_values = table[[f"w{j}" for j in range(len(words))]].to_numpy(dtype=np.int64)
        patterns, pattern = np.unique(word_values, axis=0, return_inverse=True)
        members = np.zeros((len(patterns), len(plan.terms)), dtype=bool)
        for j in range(len(plan.terms)):
            members[:, j] = (patterns[:, j // WORD_BITS] >> (j % WORD_BITS)) & 1
        counts = np.zeros((len(patterns), *by_shape), dtype=np.int64)
        index = (pattern.ravel(), *(table[f"b{j}"].to_numpy(dtype=np.int64) for j in range(len(by))))
        np.add.at(counts, index, table["n"].to_numpy(dtype=np.int64))
        return Patterns(members, counts)

    def key_filter(self, where: Filter, key: Key, value: int) -> Filter:
        return Filter((*where.stamp, ("key", key, value)), (*where.resolved, self.key_expr(key) == value))

    def listen_progress(self, listener: Listener) -> Callable[[], None]:
        """Tell ``listener`` the percent done of each long query (see :mod:`.progress`); returns what
        stops it. A DuckDB relation passed in (its connection unknown) and Spark Connect tell nothing."""
        return self._progress.listen(listener) if self._progress is not None else _nothing

    def for_thread(self) -> LazyEngine | None:
        """Spark takes jobs from several threads; a DuckDB connection refuses a second caller, so the
        work gets its own connection over the same files (None when the source lives only in this
        connection: an Arrow table, a relation)."""
        if self.name != "duckdb":
            return self
        import duckdb

        native = nw.to_native(self.frame)
        try:
            connection = duckdb.connect()
            settings = native.query(
                "t", f"SELECT {', '.join(f'current_setting({n!r})' for n in SHARED_SETTINGS)}"
            )
            for name, value in zip(SHARED_SETTINGS, settings.fetchall()[0], strict=True):  # the same limits
                connection.execute(f"SET {name} = '{str(value).replace(chr(39), chr(39) * 2)}'")
            relation = connection.sql(native.sql_query())
        except duckdb.Error:
            return None
        worker = copy.copy(self)
        worker.frame = nw.from_native(relation)
        worker.__dict__.pop("_query_lock", None)  # its own connection: its own turn to query
        worker._progress = None  # background work: the views show only what they wait for
        return worker

    def _unpivoted_marginals(self, plan: Marginals, where: Filter) -> list[np.ndarray]:
        """Every column's codes in one query: the rows unpivoted to (column, code, *by), then one grouped
        count. A Spark job costs about a second whatever the size, so this beats a query per column (4
        columns of 3,000 rows on 2 busy cores: 5.7 s against 13.2 s)."""
        columns = [f"c{i}" for i in range(len(plan.columns))]
        by = [f"b{j}" for j in range(len(plan.by))]
        keys = [*zip(columns, plan.columns, strict=True), *zip(by, plan.by, strict=True)]
        frame = self._kept(where).select(*[self.key_expr(k).cast(nw.Int64).alias(n) for n, k in keys])
        long = frame.unpivot(on=columns, index=by or None, variable_name="__c", value_name="__v")
        out = long.group_by("__c", "__v", *by).agg(nw.len().alias("n")).collect().to_pandas()
        tables = []
        for name, key in zip(columns, plan.columns, strict=True):
            rows = out[out["__c"] == name]
            counts = np.zeros(self.shape((key, *plan.by)), dtype=np.int64)
            index = tuple(rows[c].to_numpy(dtype=np.int64) for c in ("__v", *by))
            np.add.at(counts, index, rows["n"].to_numpy(dtype=np.int64))
            tables.append(counts)
        return tables

    def page(self, plan: RowPage, where: Filter) -> np.ndarray:
        found = self._cube_page(plan, where)
        if found is not None:
            return found
        frame = self._kept(where)
        if plan.wrong_only and not self.is_regression:  # a regression has no wrong rows: every row
            frame = frame.filter(self.wrong)
        ids = self.roles.ids or ROW
        if plan.order == "stratified_random":
            return self._stratified_page(frame, plan, ids)
        keyed = frame.with_columns(self._order_key(plan.order, plan.seed).alias("__key"))
        if self.name == "duckdb" and plan.limit <= PAGE_ROWS:
            return self._page_with_rows(keyed, plan, ids)
        native = nw.to_native(keyed.select("__key", ROW, ids).sort("__key", ROW))
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
        self.collected_bytes += int(_id_array(values).nbytes)  # the page's ids (a few rows)
        return _id_array(values)

    def _cube_page(self, plan: RowPage, where: Filter) -> np.ndarray | None:
        """A page in a review order the pre-aggregated first rows of each cell keep (their data fetched once,
        in one query), or None."""
        cube = self._preagg if self.preaggregate else None
        rows = cube.page(plan, where) if cube is not None else None
        top = cube.page_top if cube is not None else None
        if rows is None or top is None:
            return None
        if top.frame is None:
            kept = self.frame.filter(nw.col(ROW).is_in(top.rows().tolist()))
            top.frame = _as_read(self._collect(self._with_roles(kept, loss=True))).set_index(ROW, drop=False)
            top.ids = pd.Index(top.frame[self.roles.ids or ROW].map(_python))  # for fetch, once
        page = top.frame.loc[rows].reset_index(drop=True)
        values = _id_array(page[self.roles.ids or ROW].tolist())
        self._last_page = ([_python(v) for v in values.tolist()], page)
        return values

    def _page_with_rows(self, keyed: Any, plan: RowPage, ids: str) -> np.ndarray:
        """A short page on DuckDB, its rows fetched by the same query (one scan, not two): :meth:`fetch`
        of exactly these ids answers from them."""
        ordered = nw.to_native(self._with_roles(keyed, loss=True, keep=("__key",)).sort("__key", ROW))
        out = ordered.limit(plan.limit, offset=plan.offset).to_arrow_table().drop_columns(["__key"])
        self.collected_bytes += int(out.nbytes)
        rows = _as_read(out)
        values = _id_array(rows[ids].tolist())
        self._last_page = ([_python(v) for v in values.tolist()], rows)
        return values

    def _order_key(self, order: str, seed: int = 0) -> nw.Expr:
        """The key :func:`errorscope.ranking.row_order` sorts by (smallest first; ties in row order)."""
        if order in ("id", "data"):
            return nw.col(self.roles.ids) if order == "id" and self.roles.ids else nw.col(ROW)
        if order == "random":
            return self._random_key(seed)
        if self.is_regression:
            keys = {
                "loss": -self.residual.abs(),
                "over_prediction": -self.residual,
                "under_prediction": self.residual,
            }
            return keys[order]
        if self.scores is None:
            return (~self.wrong).cast(nw.Float64)
        if order == "loss":
            return -self.log_loss()
        if order == "confident_wrong":
            confidence = self._predicted_score()
            return nw.when(self.wrong).then(-confidence).otherwise(1 + confidence)
        assert self.task is not None
        if self.n_classes == 2 and self.roles.y_pred is None:
            return (self.scores[1] - self.task.threshold).abs()
        best = nw.max_horizontal(*self.scores)  # the top-two gap: 0 when two classes share the top
        below = nw.max_horizontal(
            *[nw.when(s < best).then(s).otherwise(nw.lit(-math.inf)) for s in self.scores]
        )
        tied = nw.sum_horizontal(*[(s == best).cast(nw.Int64) for s in self.scores]) > 1
        return nw.when(tied).then(nw.lit(0.0)).otherwise(best - below)

    def _random_key(self, seed: int) -> nw.Expr:
        """:func:`errorscope.ranking.random_key` of each row's number, in the engine."""
        from ..ranking import RANDOM_PRIME, RANDOM_STEPS, random_offset

        x = nw.col(ROW).cast(nw.Int64) % RANDOM_PRIME
        for multiplier, offset in RANDOM_STEPS:
            x = (x * multiplier + random_offset(seed, offset)) % RANDOM_PRIME
            x = (x * x % RANDOM_PRIME) * x % RANDOM_PRIME
        return x

    def _stratified_page(self, frame: Any, plan: RowPage, ids: str) -> np.ndarray:
        """The seeded stratified shuffle of :func:`errorscope.ranking._stratified`: it reads every kept
        row's stratum (one small integer per row), so it costs a pass that brings those to the driver."""
        from ..ranking import _stratified

        if plan.strata is None:
            actual = next(iter(self.derived)) if self.is_regression else None  # a regression's actual bins
            key = self.code_expr(actual) if actual is not None else self.actual
        else:
            key = self.code_expr(plan.strata)
        out = self._collect(frame.select(nw.col(ROW), key.alias("g")).sort(ROW)).to_pandas()
        order = _stratified(out["g"].to_numpy(dtype=np.int64), plan.seed)[
            plan.offset : plan.offset + plan.limit
        ]
        rows = out[ROW].to_numpy(dtype=np.int64)[order]
        if ids == ROW:
            return rows
        found = self._collect(
            self.frame.filter(nw.col(ROW).is_in(rows.tolist())).select(ROW, ids)
        ).to_pandas()
        by_row = dict(zip(found[ROW].to_numpy(dtype=np.int64).tolist(), found[ids].tolist(), strict=True))
        return _id_array([_python(by_row[r]) for r in rows.tolist()])

    def _quantiles(self, plan: Quantiles, where: Filter) -> np.ndarray:
        """``np.quantile`` of the measure among the kept rows, from exact order statistics (as the
        profiles' quantiles: the same floats as numpy)."""
        frame = self._kept(where).select(self.measure_expr(plan.measure).alias("x"))
        n = int(self._scalar(nw.len(), frame))
        if not n:
            return np.zeros(0)
        return numpy_quantiles(lambda ks: self._order_stats(frame, ks, n), n, np.asarray(plan.qs))

    def _roc_auc(self, plan: RocAuc, where: Filter) -> float:
        """Exact ROC AUC from rows per (distinct score, is positive), as overview.roc_auc counts them:
        from the pre-aggregated score bins when each bin holds one distinct score (scores stored with
        three decimals, as scored logs often are), else by a grouped query."""
        binned = self._binned_roc_counts(plan, where)
        if binned is not None:
            pos, neg = binned
        else:
            score = self.scores[plan.positive]
            frame = self._kept(where).with_columns(
                score.alias("__s"), (self.actual == plan.positive).alias("__p")
            )
            out = self._collect(frame.group_by("__s", "__p").agg(nw.len().alias("n"))).to_pandas()
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

    def _binned_roc_counts(self, plan: RocAuc, where: Filter) -> tuple[np.ndarray, np.ndarray] | None:
        """Positives and negatives per score bin (in score order) from the pre-aggregated tables, when
        every bin holds a single distinct score (then the bins are the distinct scores: the AUC is exact);
        else None."""
        from ..fairness import FINE_BINS

        keys = (Key.score_bin(FINE_BINS, plan.positive), Key.actual(plan.positive))
        cube = self._cube_for(where, keys) if self.preaggregate and not where.everything else None
        if cube is None or not self._single_valued_bins(plan.positive, FINE_BINS):
            return None
        found = cube.count(GroupCounts(keys), where)
        return None if found is None else (found.counts[:, 1], found.counts[:, 0])

    def _single_valued_bins(self, positive: int, bins: int) -> bool:
        """Whether each of the ``bins`` score bins of class ``positive`` holds at most one distinct score
        (one query over the score column, once)."""
        key = (positive, bins)
        if key not in self._single_valued:
            score = self.scores[positive]  # type: ignore[index]
            frame = self.frame.select(
                self.key_expr(Key.score_bin(bins, positive)).alias("b"), score.alias("s")
            )
            spread = frame.group_by("b").agg(
                (nw.col("s").max() - nw.col("s").min()).alias("d"), nw.col("s").null_count().alias("m")
            )
            out = self._collect(
                spread.select(nw.col("d").max().alias("d"), nw.col("m").sum().alias("m"))
            ).to_pandas()
            d, m = out["d"].iloc[0], out["m"].iloc[0]
            self._single_valued[key] = bool(pd.notna(d) and float(d) == 0.0 and int(m) == 0)
        return self._single_valued[key]

    # -- rows ----------------------------------------------------------------------------------
    def _with_roles(
        self, frame: Any, loss: bool = False, keep: Sequence[str] = (), models: bool = False
    ) -> Any:
        """``frame`` with the evaluation's columns (id, actual, predicted, score; ``loss`` when asked and
        there are scores; with ``models``, each of several models' predictions as ``predicted[name]``) as
        Evaluation.frame names them."""
        assert self.task is not None
        data = [c for c in self.schema if c != ROW]
        extra = {"id": nw.col(self.roles.ids) if self.roles.ids else nw.col(ROW)}
        if self.is_regression:
            extra |= {
                "actual": self.actual_value,
                "predicted": self.predicted_value,
                "residual": self.residual,
            }
            if loss:
                extra["loss"] = self.residual.abs()
        else:
            extra["actual"] = _class_value(self.actual, self.task.classes)
            extra["predicted"] = _class_value(self.predicted, self.task.classes)
        if self.scores is not None:
            extra["score"] = self.scores[1] if self.n_classes == 2 else self._predicted_score()
            if loss:
                extra["loss"] = self.log_loss()
        for name in self.models if models and len(self.models) > 1 else ():
            predicted = self.model_predicted(name)
            extra[f"predicted[{name}]"] = (
                predicted if self.is_regression else _class_value(predicted, self.task.classes)
            )
        named = [e.alias(n if n not in data else f"es_{n}") for n, e in extra.items()]
        return frame.select(*[nw.col(c) for c in data], *named, nw.col(ROW), *[nw.col(c) for c in keep])

    def fetch(self, ids: np.ndarray, loss: bool = False) -> pd.DataFrame:
        rows = self._held_rows([_python(v) for v in np.asarray(ids).tolist()])
        if rows is None:
            return self.rows(ids, loss)
        rows = rows.drop(columns=ROW)
        name = "es_loss" if "loss" in self.schema else "loss"
        return (rows if loss or name not in rows else rows.drop(columns=name)).reset_index(drop=True)

    def _held_rows(self, wanted: list[Any]) -> pd.DataFrame | None:
        """The rows of the ids ``wanted`` from rows already here, with no query: the last row page's
        (:meth:`page` brings them along) or the pre-aggregated first rows of each cell (every page they
        answer: the slice browser's, the force viewer's and the error tagger's, their cards included)."""
        last = self._last_page
        if last is not None and wanted == last[0]:
            return last[1]
        tops = self._preagg.top_rows() if self._preagg is not None else []
        held = [(pd.Index(last[0]), last[1])] if last is not None else []
        held += [(top.ids, top.frame) for top in tops if top.frame is not None]
        for ids, frame in held:
            at = ids.get_indexer(wanted) if ids.is_unique and wanted else np.array([-1])
            if (at >= 0).all():
                return frame.iloc[at]
        return None

    def rows(self, ids: Sequence[Any], loss: bool = False) -> pd.DataFrame:
        """The rows of ``ids``, in their order, with the data and the evaluation's columns."""
        wanted = [_python(v) for v in ids]
        key = self.roles.ids or ROW
        out = _as_read(self._collect(self._with_roles(self.frame.filter(nw.col(key).is_in(wanted)), loss)))
        by_id = pd.Series(np.arange(len(out)), index=out[key if key != ROW else ROW].map(_python))
        missing = [v for v in wanted if v not in by_id.index]
        if missing:
            raise ValueError(
                f"ids {missing[:5]} are not ids of the data: pass ids from the Evaluation's id column."
            )
        return out.iloc[by_id.loc[wanted].to_numpy()].drop(columns=ROW).reset_index(drop=True)

    def codes_of(self, column: str, ids: Sequence[Any]) -> np.ndarray:
        """The codes of ``column`` (:meth:`coding`) of the rows ``ids``, in their order."""
        key = self.roles.ids or ROW
        wanted = [_python(v) for v in ids]
        out = (
            self.frame.filter(nw.col(key).is_in(wanted))
            .select(nw.col(key).alias("__id"), self.code_expr(column).alias("__code"))
            .collect()
            .to_pandas()
        )
        by_id = dict(zip(out["__id"].map(_python), out["__code"].astype(np.int64), strict=True))
        return np.array([by_id[v] for v in wanted], dtype=np.int64)

    def kept_ids(self, where: Filter, ids: Sequence[Any]) -> set[Any]:
        """Which of ``ids`` the filter keeps."""
        key = self.roles.ids or ROW
        wanted = [_python(v) for v in ids]
        if not wanted:
            return set()
        out = self._kept(where).filter(nw.col(key).is_in(wanted)).select(nw.col(key).alias("v")).collect()
        return {_python(v) for v in out["v"].to_list()}

    def id_batches(self, batch: int = 1 << 18) -> Any:
        """Every row's id and actual class code, in the data's order, ``batch`` rows at a time (as pairs of
        a list of ids and an int32 array): what a tag store's dataset fingerprint reads."""
        key = nw.col(self.roles.ids) if self.roles.ids else nw.col(ROW)
        actual = self.actual_value if self.is_regression else self.actual.cast(nw.Int32)
        frame = self.frame.select(key.alias("i"), actual.alias("a"), nw.col(ROW))
        native = nw.to_native(frame.sort(ROW).select("i", "a"))
        with self.__dict__.setdefault("_query_lock", threading.RLock()):  # as QUERIES: while it streams
            yield from self._stream(native, batch)

    def _stream(self, native: Any, batch: int) -> Any:
        if self.name == "duckdb":
            reader = native.to_arrow_reader(batch)
            for chunk in reader:
                yield chunk.column(0).to_pylist(), chunk.column(1).to_numpy(zero_copy_only=False)
            return
        ids: list[Any] = []
        codes: list[Any] = []
        kind = np.float64 if self.is_regression else np.int32  # a regression's actual numbers
        for row in native.toLocalIterator(prefetchPartitions=True):
            ids.append(row[0])
            codes.append(row[1])
            if len(ids) == batch:
                yield ids, np.asarray(codes, dtype=kind)
                ids, codes = [], []
        if ids:
            yield ids, np.asarray(codes, dtype=kind)

    def selected(self, where: Filter) -> pd.DataFrame:
        """Every kept row, in the data's order (as Evaluation.selected: bring only what fits in memory)."""
        out = _as_read(self._collect(self._with_roles(self._kept(where), models=True).sort(ROW)))
        return out.drop(columns=ROW).reset_index(drop=True)


WORD_BITS = 62  # terms per int64 word of a Coverage pattern
SET_COLUMNS = 32  # most distinct keys in one GROUPING SETS query (Spark's grouping id has 64 bits)
SETS_PER_QUERY = 256


def _set_chunks(sets: Sequence[tuple[Key, ...]]) -> list[list[int]]:
    """The sets' positions in runs of at most :data:`SETS_PER_QUERY` sets over :data:`SET_COLUMNS` keys."""
    chunks: list[list[int]] = []
    keys: set[Key] = set()
    for i, keyset in enumerate(sets):
        if not chunks or len(chunks[-1]) >= SETS_PER_QUERY or len(keys | set(keyset)) > SET_COLUMNS:
            chunks.append([])
            keys = set()
        chunks[-1].append(i)
        keys |= set(keyset)
    return chunks


QUERIES = (
    "_scalar", "distinct", "value_counts", "missing_counts", "n_distinct", "value_range", "non_finite",
    "duplicate_rows", "n_unique_rows", "resolve", "_n_kept", "_coded", "_count", "_marginals", "page",
    "_roc_auc", "rows", "codes_of", "kept_ids", "selected", "_answer_batch", "grouping_sets", "coverage",
)  # fmt: skip
"""The engine's methods that run queries: one thread at a time (see :func:`_one_query_at_a_time`)."""


def _one_query_at_a_time(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` holding the engine's (re-entrant) query lock. JupyterLab runs widget messages in a kernel
    subshell, a thread beside the one running cells, and a DuckDB connection refuses a second call while
    one runs ("connection is busy"): a click and a cell then take turns instead of failing."""

    @functools.wraps(method)
    def serialized(self: LazyEngine, *args: Any, **kwargs: Any) -> Any:
        with self.__dict__.setdefault("_query_lock", threading.RLock()):
            if self._query_depth or self._progress is None:
                self._query_depth += 1
                try:
                    return method(self, *args, **kwargs)
                finally:
                    self._query_depth -= 1
            self._query_depth = 1
            try:
                with self._progress.watching():  # the outermost query: its progress told to the views
                    return method(self, *args, **kwargs)
            finally:
                self._query_depth = 0

    return serialized


for _name in QUERIES:
    setattr(LazyEngine, _name, _one_query_at_a_time(getattr(LazyEngine, _name)))


IN_MEMORY_ORDER_STATS = 20_000_000  # above: DuckDB's quantile_disc would hold every value in memory
FEW_DISTINCT = 200_000  # at most this many distinct values (about): order statistics from value counts
SPARK_IN_MEMORY_ORDER_STATS = 1_000_000  # above: Spark's percentile_disc would (out of a 2 GB heap at 10M)
SHARED_SETTINGS = ("threads", "memory_limit", "temp_directory")  # a background connection keeps these
PAGE_ROWS = 1000  # a DuckDB row page up to this long comes with its rows (see LazyEngine.page)
_CLASS_KEYS = {"actual", "predicted", "outcome"}
_NO_ROWS = np.zeros(0, dtype=np.int32)  # a lazy coding keeps no per-row codes: its expression computes them


def _windowed_order_stats(native: Any, ks: list[int], n: int, width: float = 0.002) -> list[float]:
    """The ``ks``-th smallest of column ``x`` exactly, in bounded memory: approximate quantiles bracket
    each rank in a window of about ``2 * width * n`` rows; one pass counts the rows below each window,
    one brings the windows' values, sorted in numpy, where rank k is the (k - below)-th value of its
    window. A rank outside its window (the approximation off by more) is retried with wider windows.
    ``native`` is a DuckDB relation or a Spark DataFrame (:class:`_OrderStatQueries`)."""
    ask = _OrderStatQueries(native)
    if ask.approximate_distinct() <= FEW_DISTINCT:  # ties (a score of 3 decimals): ranks of value counts
        values, counts = ask.value_counts()
        order = np.argsort(values, kind="stable")
        ends = np.cumsum(counts[order])
        return [float(values[order][np.searchsorted(ends, k, side="right")]) for k in ks]
    found: dict[int, float] = {}
    todo = sorted(set(ks))
    while todo:
        if width >= 0.5:  # the whole range: no window left to narrow, let the engine sort it
            found.update(zip(todo, ask.exact([(k + 0.5) / n for k in todo]), strict=True))
            break
        bounds = [(k + 0.5) / n + d for k in todo for d in (-width, width)]
        inner = [q for q in bounds if 0 < q < 1]  # a window reaching an end is open there (no estimate
        approx = dict(zip(inner, ask.approximate(inner, width), strict=True)) if inner else {}  # of the min)
        windows = [(approx.get(bounds[2 * i]), approx.get(bounds[2 * i + 1])) for i in range(len(todo))]
        below = ask.counts_below([lo for lo, _ in windows])
        values = np.sort(ask.values_within(windows))
        missed = []
        for k, (lo, hi), n_below in zip(todo, windows, below, strict=True):
            start = 0 if lo is None else int(np.searchsorted(values, lo, side="left"))
            at = k - int(n_below) + start
            if int(n_below) <= k and at < len(values) and (hi is None or values[at] <= hi):
                found[k] = float(values[at])
            else:
                missed.append(k)
        todo, width = missed, width * 8
    return [found[k] for k in ks]


class _OrderStatQueries:
    """The four queries of :func:`_windowed_order_stats` over a column ``x``, in DuckDB's or Spark's
    own API (each one pass over the rows; only numbers of the windows come back)."""

    def __init__(self, native: Any) -> None:
        self.native, self.duckdb = native, hasattr(native, "aggregate")

    def exact(self, qs: list[float]) -> list[float]:
        if self.duckdb:
            return [float(v) for v in self.native.aggregate(f"quantile_disc(x, {qs!r})").fetchall()[0][0]]
        from pyspark.sql import functions as F

        row = self.native.agg(*[F.expr(f"percentile_disc({q!r}) WITHIN GROUP (ORDER BY x)") for q in qs])
        return [float(v) for v in row.collect()[0]]

    def approximate_distinct(self) -> int:
        if self.duckdb:
            return int(self.native.aggregate("approx_count_distinct(x)").fetchall()[0][0])
        from pyspark.sql import functions as F

        return int(self.native.agg(F.approx_count_distinct("x")).collect()[0][0])

    def value_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Each distinct value and its rows."""
        if self.duckdb:
            out = self.native.aggregate("x, count(*) AS n", "x").fetchnumpy()
            return out["x"].astype(np.float64), out["n"].astype(np.int64)
        table = self.native.groupBy("x").count().toArrow()
        return table.column("x").to_numpy().astype(np.float64), table.column("count").to_numpy().astype(
            np.int64
        )

    def approximate(self, qs: list[float], width: float) -> list[float]:
        """Approximate quantiles (Spark's within ``width / 4`` of their rank; DuckDB's t-digest)."""
        if self.duckdb:
            sql = f"approx_quantile(x::DOUBLE, {qs!r}::FLOAT[])"
            return [float(v) for v in self.native.aggregate(sql).fetchall()[0][0]]
        return [float(v) for v in self.native.approxQuantile("x", qs, width / 4)]

    def counts_below(self, cuts: list[float | None]) -> list[int]:
        """Rows below each cut (None: no cut, none below)."""
        asked = [lo for lo in cuts if lo is not None]
        if not asked:
            found: list[int] = []
        elif self.duckdb:
            sql = ", ".join(f"count(*) FILTER (WHERE x < {lo!r})" for lo in asked)
            found = [int(v) for v in self.native.aggregate(sql).fetchall()[0]]
        else:
            from pyspark.sql import functions as F

            row = self.native.agg(*[F.count(F.when(F.col("x") < F.lit(lo), 1)) for lo in asked]).collect()[0]
            found = [int(v) for v in row]
        counts = iter(found)
        return [0 if lo is None else next(counts) for lo in cuts]

    def values_within(self, windows: list[tuple[float | None, float | None]]) -> np.ndarray:
        """The values inside any window (an end of None: open)."""
        inside = " OR ".join(_window_sql(lo, hi) for lo, hi in windows)
        if self.duckdb:
            return self.native.filter(inside).project("x").fetchnumpy()["x"].astype(np.float64)
        table = self.native.filter(inside).select("x").toArrow()
        return table.column("x").to_numpy().astype(np.float64)


def _window_sql(lo: float | None, hi: float | None) -> str:
    """``lo <= x <= hi`` in SQL, an end of None left open."""
    bounds = ([] if lo is None else [f"x >= {lo!r}"]) + ([] if hi is None else [f"x <= {hi!r}"])
    return "(" + (" AND ".join(bounds) or "TRUE") + ")"


def _nothing() -> None:
    """What stops listening when there was nothing to listen to."""


def _as_read(table: Any) -> pd.DataFrame:
    """Rows of a query (a narwhals frame or an Arrow table) as pandas reads a file: a missing text is NaN
    in every pandas version (pandas 2 gets None from Arrow, which a model's encoders take for another
    category than the NaN it was fitted with)."""
    out = table.to_pandas()
    for c in out.columns:
        if out[c].dtype == object and out[c].isna().any():
            out[c] = out[c].where(out[c].notna(), np.nan)
    return out


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
    """np.argmax over the columns: the first index of the largest value (one GREATEST and a chain of
    cases: linear in the classes, where pairwise comparisons were quadratic)."""
    top = nw.max_horizontal(*values)
    expr = nw.lit(len(values) - 1, nw.Int64)
    for i in range(len(values) - 2, -1, -1):
        expr = nw.when(values[i] == top).then(nw.lit(i, nw.Int64)).otherwise(expr)
    return expr
