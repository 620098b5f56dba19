"""The linked selection: one clause per source view, crossfilter semantics.

A :class:`Clause` is a readable predicate (an OR of terms, each an AND of column predicates), not just a
mask, so it can be shown as a chip, logged, saved with a tag, or pushed down to a query engine. The
:class:`Selection` keeps one clause per source, has the engine evaluate each once, and answers "which
rows do all clauses but mine keep?" as a :class:`~errorscope.plans.Filter` for the engine.
"""

from __future__ import annotations

import itertools
import keyword
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .plans import Filter

if TYPE_CHECKING:
    from .engines import Engine

OPERATORS = ("in", "not in", "between", "isna", "==", "<", "<=", ">", ">=", "ids", "mask")
RECENT_CLAUSES = 8  # clauses whose stamp (and resolution: a mask in memory) are kept for a click back
ROLES = ("actual", "predicted", "tag")  # what a predicate's ``role`` may name instead of a data column


@dataclass(frozen=True)
class Ref:
    """Another column as the value of a comparison: ``actual != predicted``, ``predicted[a] == predicted[b]``."""

    column: str
    role: str | None = None
    model: str = ""  # the predicted role of this model ("": the active one)

    @property
    def text(self) -> str:
        return role_text(self.column, self.model)


@dataclass(frozen=True)
class Predicate:
    """``column <op> values``: ``in`` / ``not in`` a set of values, ``between`` [lo, hi), ``isna``, or a
    comparison (``==``, ``<``, ``<=``, ``>``, ``>=``) with one value or a :class:`Ref` to another column.

    ``role`` says the predicate reads the evaluation's own ``actual`` / ``predicted`` class or its
    ``tag`` store, not a data column; ``column`` is then the name it goes by in query text. ``model``
    names the model whose ``predicted`` class it reads (``predicted[candidate]``; "": the active model). ``negated``
    keeps the rows the predicate would drop (missing values included, as in pandas: ``x != 1``).
    ``not in`` (the "other values" slice) never keeps missing values. ``between`` bounds may be None
    for an open end.

    Two operators hold selections made from code: ``ids`` (row ids) and ``mask`` (a boolean mask, kept
    in ``mask``).
    """

    column: str
    op: str
    values: tuple[Any, ...] = ()
    mask: np.ndarray | None = field(default=None, compare=False, repr=False)
    role: str | None = None
    negated: bool = False
    model: str = ""

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"Predicate op must be one of {OPERATORS}, got {self.op!r}.")
        if self.role is not None and self.role not in ROLES:
            raise ValueError(f"Predicate role must be one of {ROLES} or None, got {self.role!r}.")

    def negate(self) -> Predicate:
        """The predicate keeping exactly the rows this one drops."""
        return replace(self, negated=not self.negated)

    @property
    def reads(self) -> frozenset[str]:
        """The roles and columns it reads (a role by its role name, e.g. ``predicted``)."""
        refs = (v.role or v.column for v in self.values if isinstance(v, Ref))
        return frozenset((self.role or self.column, *refs))

    @property
    def label(self) -> str:
        """Short display form, for slice labels: ``sex = Female``, ``age in [30, 40)``, ``age ≥ 58``."""
        if self.op not in ("in", "not in", "between", "isna") or self.negated:
            return self.text
        if self.op == "in" and len(self.values) == 1:
            return f"{self.column} = {_fmt(self.values[0])}"
        if self.op in ("in", "not in"):
            return f"{self.column} {self.op} {{{', '.join(_fmt(v) for v in self.values)}}}"
        if self.op == "isna":
            return f"{self.column} is missing"
        lo, hi = self.values
        if lo is None and hi is None:
            return f"{self.column} is any value"
        if lo is None:
            return f"{self.column} < {_fmt(hi)}"
        if hi is None:
            return f"{self.column} ≥ {_fmt(lo)}"
        return f"{self.column} in [{_fmt(lo)}, {_fmt(hi)})"

    @property
    def text(self) -> str:
        """Query text for it, which :func:`errorscope.query.parse` reads back: ``age >= 30 and age < 40``.

        ``ids`` and ``mask`` selections have no query form: they read ``3 chosen ids``, ``mask (2 rows)``.
        """
        name = role_text(self.column, self.model)
        if self.op == "ids":
            return f"{len(self.values):,} chosen ids"
        if self.op == "mask":
            n = int(np.count_nonzero(self.mask)) if self.mask is not None else 0
            return f"mask ({n:,} rows)"
        if self.op == "isna":
            return f"{name}.notna()" if self.negated else f"{name}.isna()"
        if self.op == "in" and len(self.values) == 1:
            return f"{name} {'!=' if self.negated else '=='} {literal(self.values[0])}"
        if self.op == "in":
            values = ", ".join(literal(v) for v in self.values)
            return f"{name} {'not in' if self.negated else 'in'} [{values}]"
        if self.op == "not in":
            values = ", ".join(literal(v) for v in self.values)
            text = (
                f"{name} not in [{values}]" if self.role else f"({name} not in [{values}] and {name}.notna())"
            )
        elif self.op == "between":
            lo, hi = self.values
            if lo is None and hi is None:
                text = f"({name}.isna() or {name}.notna())"
            elif lo is None:
                text = f"{name} < {literal(hi)}"
            elif hi is None:
                text = f"{name} >= {literal(lo)}"
            else:
                text = f"{literal(lo)} <= {name} < {literal(hi)}"
        else:
            value = self.values[0]
            other = value.text if isinstance(value, Ref) else literal(value)
            if self.op == "==" and self.negated:
                return f"{name} != {other}"
            text = f"{name} {self.op} {other}"
        return f"not ({text})" if self.negated else text


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def quote_name(name: str) -> str:
    """``name`` as written in query text: bare when it is a plain identifier, else `backquoted`."""
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__"):
        return name
    return f"`{name}`"


def role_text(name: str, model: str = "") -> str:
    """A column or role as query text; a model's predictions: ``predicted[candidate]``."""
    if not model:
        return quote_name(name)
    return f"{quote_name(name)}[{model if model.isidentifier() and not keyword.iskeyword(model) else repr(model)}]"


def literal(value: Any) -> str:
    """``value`` as written in query text, so that parsing the text gives the value back."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value)):
        return repr(value)
    return repr(str(value))  # timestamps and the like: compared to the column as text, as pandas does


@dataclass(frozen=True)
class Clause:
    """One view's contribution to the selection: an OR of terms, each term an AND of predicates.

    ``searched``: its rows were found by searching the errors (a discovered slice), so a test on them is
    post hoc (the model comparer withholds its p-values); not part of the clause's identity."""

    source: str
    terms: tuple[tuple[Predicate, ...], ...]
    searched: bool = field(default=False, compare=False)

    @classmethod
    def where(cls, source: str, *predicates: Predicate) -> Clause:
        """A clause with a single AND-term."""
        return cls(source, (tuple(predicates),))

    @property
    def text(self) -> str:
        """Query text for the clause (see :mod:`errorscope.query`): parsing it selects the same rows."""
        parts = [" and ".join(p.text for p in term) for term in self.terms]
        if len(parts) == 1:
            return parts[0]
        return " or ".join(
            f"({p})" if len(term) > 1 else p for p, term in zip(parts, self.terms, strict=True)
        )

    @property
    def columns(self) -> frozenset[str]:
        """The data columns and roles (``actual``, ``predicted``, ``tag``) the clause reads."""
        return frozenset(name for term in self.terms for p in term for name in p.reads)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class SelectionChange:
    """What observers receive: the source whose clause changed (``None`` for clear-all / data change)."""

    source: str | None
    kind: str  # "clause", "clear" or "data"
    columns: frozenset[str] | None = None  # "data": the columns that changed (None: any of them)


class Selection:
    """Clauses keyed by source, with cached masks and crossfilter queries.

    Observers fire exactly once per change, after the state is consistent.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # evaluates each clause once (resolve) and counts what filters keep
        self.n_rows = engine.n_rows
        self._clauses: dict[str, Clause] = {}
        self._resolved: dict[str, Any] = {}
        self._stamps: dict[str, int] = {}
        self._counter = itertools.count()
        self._recent: dict[Clause, tuple[int, Any]] = {}  # the last clauses set: their stamp and resolution
        self._observers: list[Callable[[SelectionChange], None]] = []

    # -- reading -------------------------------------------------------------------------------
    @property
    def clauses(self) -> dict[str, Clause]:
        """The active clauses, by source (a copy)."""
        return dict(self._clauses)

    def clause(self, source: str) -> Clause | None:
        return self._clauses.get(source)

    def filter(self, exclude: str | None = None) -> Filter:
        """The rows kept by every clause except ``exclude``'s (all rows when there is none), for engines."""
        sources = [s for s in self._clauses if s != exclude]
        stamp = tuple((s, self._stamps[s]) for s in sources)
        return Filter(stamp, tuple(self._resolved[s] for s in sources), cacheable=True)

    def mask(self, exclude: str | None = None) -> np.ndarray:
        """Rows kept by every clause except ``exclude``'s, as a boolean mask (the numpy engine only).

        Read-only and shared: the views of one change ask for the same few masks, computed once.
        """
        mask = getattr(self.engine, "mask", None)
        if mask is None:
            raise TypeError(
                f"selection.mask() needs the rows in memory; this Evaluation runs on the {self.engine.name} "
                "engine: use ev.selected() for the selected rows, or len(ev.selection) for the clauses."
            )
        return mask(self.filter(exclude))

    def n_kept(self, exclude: str | None = None) -> int:
        """How many rows every clause except ``exclude``'s keeps."""
        return self.engine.n_kept(self.filter(exclude))

    def stamp(self, exclude: str | None = None) -> tuple[tuple[str, int], ...]:
        """Identifies the state of every clause but ``exclude``'s: equal stamps mean equal masks."""
        return tuple((s, t) for s, t in self._stamps.items() if s != exclude)

    def clause_rows(self, source: str) -> int:
        """How many rows ``source``'s clause alone keeps (all rows without a clause)."""
        if source not in self._clauses:
            return self.n_rows
        stamp = ((source, self._stamps[source]),)
        return self.engine.n_kept(Filter(stamp, (self._resolved[source],), cacheable=True))

    def clause_mask(self, source: str) -> np.ndarray | None:
        """The rows ``source``'s clause keeps (the numpy engine's mask), None without a clause."""
        return self._resolved.get(source)

    def text(self, exclude: str | None = None) -> str:
        """The active clauses as text, joined by " and " (empty when there is none)."""
        texts = [
            f"({c.text})" if len(c.terms) > 1 else c.text for s, c in self._clauses.items() if s != exclude
        ]
        return " and ".join(texts)

    def __len__(self) -> int:
        return len(self._clauses)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        if not self._clauses:
            return "Selection(all rows)"
        kept = self.n_kept()
        lines = [f"  {s}: {c.text}" for s, c in self._clauses.items()]
        return f"Selection({kept:,} of {self.n_rows:,} rows\n" + "\n".join(lines) + "\n)"

    # -- writing -------------------------------------------------------------------------------
    def set(self, clause: Clause) -> None:
        """Add ``clause``, replacing the one its source had; an empty clause removes it."""
        if not clause.terms or not any(clause.terms):
            self.remove(clause.source)
            return
        if self._clauses.get(clause.source) == clause and not _has_mask_predicate(clause):
            return
        recent = not _has_mask_predicate(clause)  # (a mask is not hashable)
        known = self._recent.pop(clause, None) if recent else None
        stamp, resolved = known or (next(self._counter), self.engine.resolve(clause))
        if recent:  # clicking back to a recent clause: its stamp, so the engine's cached answers hold
            self._recent[clause] = (stamp, resolved)
            while len(self._recent) > RECENT_CLAUSES:
                del self._recent[next(iter(self._recent))]
        self._resolved[clause.source], self._stamps[clause.source] = resolved, stamp
        self._clauses[clause.source] = clause
        self._notify(SelectionChange(clause.source, "clause"))

    def remove(self, source: str) -> None:
        """Remove ``source``'s clause (no-op, and no notification, if it has none)."""
        if source not in self._clauses:
            return
        del self._clauses[source]
        del self._resolved[source]
        del self._stamps[source]
        self._notify(SelectionChange(source, "clause"))

    def clear(self) -> None:
        """Remove every clause."""
        if not self._clauses:
            return
        self._clauses.clear()
        self._resolved.clear()
        self._stamps.clear()
        self._notify(SelectionChange(None, "clear"))

    def refresh(self, columns: Iterable[str] | None = None) -> None:
        """Re-evaluate clauses that read ``columns`` (all when None) after the data changed.

        Always notifies once with kind ``"data"``: views recompute even when no clause moved.
        """
        wanted = None if columns is None else set(columns)
        self.engine.forget(wanted)
        for clause in [c for c in self._recent if wanted is None or c.columns & wanted]:
            del self._recent[clause]
        for source, clause in self._clauses.items():
            if wanted is None or clause.columns & wanted:
                self._resolved[source] = self.engine.resolve(clause)
                self._stamps[source] = next(self._counter)
        self._notify(SelectionChange(None, "data", None if wanted is None else frozenset(wanted)))

    def observe(self, callback: Callable[[SelectionChange], None]) -> None:
        if callback not in self._observers:
            self._observers.append(callback)

    def unobserve(self, callback: Callable[[SelectionChange], None]) -> None:
        if callback in self._observers:
            self._observers.remove(callback)

    # -- internals -----------------------------------------------------------------------------
    def _notify(self, change: SelectionChange) -> None:
        """Tell every observer, even when one of them fails (then the first failure is raised after)."""
        failure: Exception | None = None
        for callback in list(self._observers):
            try:
                callback(change)
            except Exception as exc:  # the others must not stay stale
                failure = failure or exc
        if failure is not None:
            raise failure


def _has_mask_predicate(clause: Clause) -> bool:
    return any(p.op == "mask" for term in clause.terms for p in term)


def cells_clause(
    source: str,
    classes: Sequence[Any],
    cells: Iterable[tuple[int, int]] = (),
    actual: Iterable[int] = (),
    predicted: Iterable[int] = (),
    names: Mapping[str, str] | None = None,
) -> Clause:
    """The clause of a confusion-matrix selection: an OR of cells, whole actual rows and predicted columns.

    ``names``: what the roles are called in query text (``Evaluation.role_names()``; default their own).
    """
    names = names or {}

    def role(name: str, code: int) -> Predicate:
        return Predicate(names.get(name, name), "in", (classes[code],), role=name)

    terms: list[tuple[Predicate, ...]] = []
    for a in sorted(set(actual)):
        terms.append((role("actual", a),))
    for p in sorted(set(predicted)):
        terms.append((role("predicted", p),))
    for a, p in sorted({(int(a), int(p)) for a, p in cells}):
        terms.append((role("actual", a), role("predicted", p)))
    return Clause(source, tuple(terms))
