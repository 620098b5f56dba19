"""Clauses compiled to Narwhals expressions: the numpy resolver's semantics, pushed down to SQL engines.

Every predicate compiles to a boolean expression that is never null: missing values (NULL, and NaN in a
float column) never satisfy a comparison, ``in``, ``not in`` or ``between``, exactly as in
:meth:`errorscope.evaluation.Evaluation._resolve`; ``negated`` keeps the rows the predicate drops (missing
values included, as ``x != 1`` does in pandas). The roles (``actual``, ``predicted``, ``tag``) compile to
the engine's class codes and tagged ids; ``score`` and the other derived columns to their expressions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import pandas as pd

from ..selection import Clause, Predicate, Ref

NUMBER, BOOL, TEXT, TIME, DURATION, OTHER = "number", "bool", "text", "datetime", "duration", "other"
COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}  # fmt: skip


def kind_of(dtype: Any) -> str:
    """What a Narwhals dtype holds: numbers, booleans, text, datetimes, durations or something else."""
    if dtype == nw.Boolean:
        return BOOL
    if dtype.is_numeric():
        return NUMBER
    if dtype in (nw.String, nw.Categorical, nw.Enum):
        return TEXT
    if dtype in (nw.Datetime, nw.Date):
        return TIME
    if dtype == nw.Duration:
        return DURATION
    return OTHER


@dataclass(frozen=True)
class Column:
    """A column as an expression, with what it holds and whether it can hold NaN (a float column)."""

    expr: nw.Expr
    kind: str
    floating: bool = False

    def missing(self) -> nw.Expr:
        """Null, or NaN in a float column."""
        out = self.expr.is_null()
        return (out | self.expr.is_nan().fill_null(False)) if self.floating else out

    def present(self) -> nw.Expr:
        return ~self.missing()

    def numbers(self) -> nw.Expr:
        return self.expr.cast(nw.Float64) if self.kind in (NUMBER, BOOL) else self.expr


@dataclass(frozen=True)
class Context:
    """What a compiled predicate reads: the data columns, the derived ones, and the roles.

    ``query_name`` maps a name to (column, role) like :meth:`Evaluation.query_name`; ``actual`` and
    ``predicted`` are the class codes (0..k-1) and ``labels`` each role's class values as a column;
    ``tag_ids`` gives the ids carrying any of some tag names. With several models, ``model_codes(name)``
    is a model's predicted class codes and ``model_side(column, role, name)`` its predicted labels (role
    ``predicted``) or a regression's numbers (``predicted``, ``residual``, ``abs_error``).
    """

    columns: Mapping[str, Column]
    classes: Sequence[Any]
    actual: nw.Expr
    predicted: nw.Expr
    labels: Mapping[str, Column]
    ids: nw.Expr
    query_name: Callable[[str], tuple[str, str | None]]
    tag_ids: Callable[[Sequence[str]], list[Any]] | None = None
    cache: dict[Any, nw.Expr] = field(default_factory=dict, compare=False)
    model_codes: Callable[[str], nw.Expr] | None = None
    model_side: Callable[[str, str | None, str], Column] | None = None

    def codes(self, role: str, model: str = "") -> nw.Expr:
        """The class codes of ``actual`` or of a model's ``predicted`` (the active model's by default)."""
        if role == "actual":
            return self.actual
        if not model:
            return self.predicted
        assert self.model_codes is not None
        return self.model_codes(model)


def compile_clauses(clauses: Sequence[Clause], context: Context) -> nw.Expr:
    """The rows every clause keeps (``lit(True)`` for none)."""
    out = nw.lit(True)
    for clause in clauses:
        out = out & compile_clause(clause, context)
    return out


def compile_clause(clause: Clause, context: Context) -> nw.Expr:
    """An OR of AND-terms of predicates, as one boolean expression."""
    keep = nw.lit(False)
    for term in clause.terms:
        both = nw.lit(True)
        for predicate in term:
            both = both & compile_predicate(predicate, context)
        keep = keep | both
    return keep


def compile_predicate(predicate: Predicate, context: Context) -> nw.Expr:
    """One predicate as a never-null boolean expression (see the module docstring)."""
    kept = _kept(predicate, context).fill_null(False)
    return ~kept if predicate.negated else kept


def _kept(predicate: Predicate, c: Context) -> nw.Expr:
    op = predicate.op
    if op == "mask":
        raise ValueError(
            f"{predicate.text}: a boolean mask selects rows of an in-memory Evaluation; on a SQL engine "
            "select with query text, a Predicate or row ids."
        )
    if op == "ids":
        return c.ids.is_in(list(predicate.values))
    column, role = predicate.column, predicate.role
    if role is None and not predicate.model:
        column, role = c.query_name(column)
    if role is not None and op not in ("in", "not in", "isna", "=="):
        raise ValueError(
            f"{predicate.text}: {column} (the {role} role) takes ==, !=, in and not in, not {op}."
        )
    if op == "isna" and role is not None:
        return nw.lit(False)  # roles are never missing
    if role == "tag":
        if op == "==":
            raise ValueError(f"{predicate.text}: compare {column} with tag names, e.g. {column} == 'ok'.")
        tagged = c.tag_ids(predicate.values) if c.tag_ids is not None else []
        inside = c.ids.is_in(tagged) if tagged else nw.lit(False)
        return inside if op == "in" else ~inside
    if op == "==" or (role is None and op in ("<", "<=", ">", ">=")):
        return _compare(predicate, column, role, c)
    if role is not None:
        codes = c.codes(role, predicate.model)
        wanted = sorted({c.classes.index(v) for v in predicate.values if v in c.classes})
        inside = codes.is_in(wanted) if wanted else nw.lit(False)
        return inside if op == "in" else ~inside
    col = _side(column, None, c, predicate.model)
    if op == "isna":
        return col.missing()
    if op == "between":
        lo, hi = (_bound(v, col, predicate) for v in predicate.values)
        keep = col.present()
        if lo is not None:
            keep = keep & (col.numbers() >= lo)
        return keep if hi is None else keep & (col.numbers() < hi)
    wanted = _members(predicate.values, col.kind)
    inside = col.numbers().is_in(wanted) if wanted else nw.lit(False)
    inside = inside & col.present()
    return inside if op == "in" else ~inside & col.present()


def _members(values: Sequence[Any], kind: str) -> list[Any]:
    """The values of an ``in`` list that can equal a value of a ``kind`` column (pandas' ``isin``)."""
    if kind in (NUMBER, BOOL):
        numbers = [float(v) for v in values if isinstance(v, int | float) and v == v]
        return [v for v in numbers if kind == NUMBER or v in (0.0, 1.0)]
    if kind == TEXT:
        return [v for v in values if isinstance(v, str)]
    if kind == TIME:
        return [_timestamp(v) for v in values if isinstance(v, str | dt.datetime | pd.Timestamp)]
    return list(values)


def _timestamp(value: Any) -> dt.datetime:
    stamp = pd.Timestamp(value)
    return (stamp.tz_convert(None) if stamp.tzinfo is not None else stamp).to_pydatetime()


def _bound(value: Any, col: Column, predicate: Predicate) -> Any:
    """A ``between`` bound as a literal of the column's kind (None: an open end)."""
    if value is None:
        return None
    if col.kind in (NUMBER, BOOL):
        return float(value)
    if col.kind == TIME:
        return _timestamp(value)
    if col.kind == DURATION:
        return pd.Timedelta(value).to_pytimedelta()
    raise ValueError(f"{predicate.text}: {predicate.column} holds {col.kind}, which has no ranges.")


def _side(name: str, role: str | None, c: Context, model: str = "") -> Column:
    if model:
        assert c.model_side is not None
        return c.model_side(name, role, model)
    if role in ("actual", "predicted"):
        return c.labels[role]
    return c.columns[name]


def _compare(predicate: Predicate, column: str, role: str | None, c: Context) -> nw.Expr:
    """``column <op> value`` (a literal or another column), False where either side is missing."""
    compare = COMPARE[predicate.op]
    value = predicate.values[0]
    left = _side(column, role, c, predicate.model)
    if isinstance(value, Ref):
        other, other_role = (
            (value.column, value.role) if value.role or value.model else c.query_name(value.column)
        )
        classes = ("actual", "predicted")
        if role in classes and other_role in classes and predicate.op == "==":
            return c.codes(role, predicate.model) == c.codes(other_role, value.model)
        if "tag" in (role, other_role):
            raise ValueError(f"{predicate.text}: tags compare with tag names, not with a column.")
        right = _side(other, other_role, c, value.model)
        same = {left.kind, right.kind} <= {NUMBER, BOOL} or left.kind == right.kind
        if not same:
            if predicate.op == "==":
                return nw.lit(False)
            raise ValueError(
                f"{predicate.text}: {column} ({left.kind}) cannot be compared that way with {other} ({right.kind})."
            )
        return left.present() & right.present() & compare(left.numbers(), right.numbers())
    if left.kind == TIME and isinstance(value, str | dt.datetime | pd.Timestamp):
        return left.present() & compare(left.expr, _timestamp(value))
    if left.kind == NUMBER:
        if not isinstance(value, int | float):
            raise ValueError(f"{predicate.text}: {column} holds numbers; compare it with a number.")
        if value != value:  # NaN equals nothing, orders nothing
            return nw.lit(False)
        return left.present() & compare(left.numbers(), float(value))
    if left.kind == TEXT and isinstance(value, str):
        return left.present() & compare(left.expr, value)
    if left.kind == BOOL and isinstance(value, bool | int | float):
        return left.present() & compare(left.numbers(), float(value))
    if predicate.op == "==":
        return nw.lit(False)  # a value of another type equals nothing
    raise ValueError(
        f"{predicate.text}: {column} holds {left.kind} values, which cannot be compared with {value!r}."
    )
