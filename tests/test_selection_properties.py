"""Property tests: the Selection against a reference model where masks are Python sets of row numbers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import errorscope as es
from errorscope import Clause, Predicate, Selection
from errorscope.selection import SelectionChange, cells_clause

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOURCES = ["A", "B", "C"]
COLUMNS = ("a", "b", "c")


# -- a tiny table and a row-by-row reference for predicates ------------------------------------------
@dataclass
class Table:
    a: list[int]
    b: list[float]
    c: list[int]

    def arrays(self) -> dict[str, np.ndarray]:
        return {"a": np.array(self.a), "b": np.array(self.b, dtype=float), "c": np.array(self.c)}


def resolver(table: Table):
    """The Selection's resolve function, in numpy (what an owner like Evaluation provides)."""

    def resolve(p: Predicate) -> np.ndarray:
        if p.op == "mask":
            return p.mask
        x = table.arrays()[p.column]
        if p.op == "in":
            return np.isin(x, p.values)
        if p.op == "not in":
            return ~np.isin(x, p.values)
        lo, hi = p.values
        keep = np.ones(len(x), dtype=bool) if lo is None else x >= lo
        return keep if hi is None else keep & (x < hi)

    return resolve


class TableEngine:
    """What a Selection asks of its engine, in numpy over a test table: clauses to masks, filters ANDed."""

    name = "test"

    def __init__(self, n_rows: int, resolve) -> None:  # type: ignore[no-untyped-def]
        self.n_rows, self._resolve = n_rows, resolve

    def resolve(self, clause: Clause) -> np.ndarray:
        keep = np.zeros(self.n_rows, dtype=bool)
        for term in clause.terms:
            keep |= np.logical_and.reduce([self._resolve(p) for p in term], initial=True)
        return keep

    def mask(self, where) -> np.ndarray:  # type: ignore[no-untyped-def]
        keep = np.ones(self.n_rows, dtype=bool)
        for mask in where.resolved:
            keep = keep & mask
        return keep

    def n_kept(self, where) -> int:  # type: ignore[no-untyped-def]
        return int(self.mask(where).sum())

    def forget(self, columns) -> None:  # type: ignore[no-untyped-def]
        pass


def ref_rows(table: Table, p: Predicate) -> frozenset[int]:
    """The same predicate, evaluated row by row in plain Python."""
    n = len(table.a)
    if p.op == "mask":
        return frozenset(i for i in range(n) if p.mask[i])
    col = getattr(table, p.column)
    if p.op == "in":
        return frozenset(i for i in range(n) if col[i] in p.values)
    if p.op == "not in":
        return frozenset(i for i in range(n) if col[i] not in p.values)
    lo, hi = p.values
    return frozenset(i for i in range(n) if (lo is None or col[i] >= lo) and (hi is None or col[i] < hi))


def ref_clause(table: Table, clause: Clause) -> frozenset[int]:
    """OR of terms, AND within a term (an empty term keeps every row)."""
    rows: set[int] = set()
    for term in clause.terms:
        kept = set(range(len(table.a)))
        for p in term:
            kept &= ref_rows(table, p)
        rows |= kept
    return frozenset(rows)


# -- strategies ------------------------------------------------------------------------------------
def predicates(n: int) -> st.SearchStrategy[Predicate]:
    values = st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True).map(lambda v: tuple(sorted(v)))
    bound = st.one_of(st.none(), st.sampled_from([0.0, 1.5, 2.5, 4.0, 10.0]))
    return st.one_of(
        st.builds(lambda v: Predicate("a", "in", v), values),
        st.builds(lambda v: Predicate("a", "not in", v), values),
        st.builds(lambda v: Predicate("c", "in", v), values),
        st.builds(lambda lo, hi: Predicate("b", "between", (lo, hi)), bound, bound),
        st.builds(
            lambda m: Predicate("row", "mask", mask=np.array(m, dtype=bool)),
            st.lists(st.booleans(), min_size=n, max_size=n),
        ),
    )


def clauses(n: int) -> st.SearchStrategy[Clause]:
    term = st.lists(predicates(n), min_size=1, max_size=3).map(tuple)
    return st.builds(
        lambda source, terms: Clause(source, tuple(terms)),
        st.sampled_from(SOURCES),
        st.lists(term, min_size=0, max_size=3),  # 0 terms: an empty clause, which removes
    )


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 20))
    table = Table(
        a=draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
        b=draw(st.lists(st.sampled_from([0.0, 1.0, 1.5, 2.0, 3.0, 4.5, 9.0]), min_size=n, max_size=n)),
        c=draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
    )
    op = st.one_of(
        st.tuples(st.just("set"), clauses(n)),
        st.tuples(st.just("remove"), st.sampled_from([*SOURCES, "Z"])),
        st.tuples(st.just("clear")),
        st.tuples(
            st.just("refresh"),
            st.one_of(st.none(), st.frozensets(st.sampled_from(COLUMNS), max_size=3)),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),  # new values of column c
        ),
    )
    return n, table, draw(st.lists(op, min_size=1, max_size=14))


# -- the reference model ---------------------------------------------------------------------------
@dataclass
class Reference:
    table: Table
    clauses: dict[str, Clause] = field(default_factory=dict)
    rows: dict[str, frozenset[int]] = field(default_factory=dict)

    def apply(self, op) -> tuple[list[SelectionChange], set[str]]:
        """Apply ``op``; return the notifications expected and the sources whose clause changed."""
        kind = op[0]
        if kind == "set":
            clause = op[1]
            if not any(clause.terms):
                return self.apply(("remove", clause.source))
            has_mask = any(p.op == "mask" for t in clause.terms for p in t)
            if self.clauses.get(clause.source) == clause and not has_mask:
                return [], set()
            self.clauses[clause.source] = clause
            self.rows[clause.source] = ref_clause(self.table, clause)
            return [SelectionChange(clause.source, "clause")], {clause.source}
        if kind == "remove":
            if op[1] not in self.clauses:
                return [], set()
            del self.clauses[op[1]], self.rows[op[1]]
            return [SelectionChange(op[1], "clause")], {op[1]}
        if kind == "clear":
            if not self.clauses:
                return [], set()
            touched = set(self.clauses)
            self.clauses.clear()
            self.rows.clear()
            return [SelectionChange(None, "clear")], touched
        columns, new_c = op[1], op[2]
        self.table.c[:] = new_c
        touched = {s for s, c in self.clauses.items() if columns is None or c.columns & columns}
        for s in touched:
            self.rows[s] = ref_clause(self.table, self.clauses[s])
        return [SelectionChange(None, "data", None if columns is None else frozenset(columns))], touched

    def kept(self, n: int, exclude: str | None = None) -> frozenset[int]:
        out = frozenset(range(n))
        for s, rows in self.rows.items():
            if s != exclude:
                out &= rows
        return out


def rows_of(mask: np.ndarray) -> frozenset[int]:
    return frozenset(np.flatnonzero(mask).tolist())


@SETTINGS
@given(scenarios())
def test_selection_matches_reference(scenario):
    n, table, ops = scenario
    ref = Reference(Table(list(table.a), list(table.b), list(table.c)))
    sel = Selection(TableEngine(n, resolver(table)))
    changes: list[SelectionChange] = []
    sel.observe(changes.append)
    excludes = [*SOURCES, None, "Z"]
    for op in ops:
        before = {s: sel.stamp(exclude=s) for s in excludes}
        changes.clear()
        if op[0] == "set":
            sel.set(op[1])
        elif op[0] == "remove":
            sel.remove(op[1])
        elif op[0] == "clear":
            sel.clear()
        else:
            table.c[:] = op[2]
            sel.refresh(op[1])
        expected_changes, touched = ref.apply(op)

        assert changes == expected_changes, op  # exactly once per effective change, never for no-ops
        assert sel.clauses == ref.clauses
        assert len(sel) == len(ref.clauses)
        assert rows_of(sel.mask()) == ref.kept(n)  # intersection; all rows when empty
        for s in excludes:
            assert rows_of(sel.mask(exclude=s)) == ref.kept(n, exclude=s)  # crossfilter: AND of the others
            changed_others = bool(touched - {s})
            assert (sel.stamp(exclude=s) != before[s]) == changed_others, (op, s)
        for s in SOURCES:
            m = sel.clause_mask(s)
            assert (m is None) == (s not in ref.rows)
            if m is not None:
                assert rows_of(m) == ref.rows[s]


@SETTINGS
@given(n=st.integers(1, 30), data=st.data())
def test_clause_is_or_of_and_terms(n, data):
    table = Table(
        a=data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
        b=data.draw(st.lists(st.floats(0, 10, allow_nan=False), min_size=n, max_size=n)),
        c=data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
    )
    clause = data.draw(clauses(n).filter(lambda c: any(c.terms)))
    sel = Selection(TableEngine(n, resolver(table)))
    sel.set(clause)
    assert rows_of(sel.mask()) == ref_clause(table, clause)
    terms = [" and ".join(p.text for p in t) for t in clause.terms]
    assert clause.text == (
        terms[0]
        if len(terms) == 1
        else " or ".join(
            f"({t})" if len(term) > 1 else t for t, term in zip(terms, clause.terms, strict=True)
        )
    )


# -- cells on a real Evaluation --------------------------------------------------------------------
@st.composite
def labelled(draw):
    k = draw(st.integers(2, 4))
    n = draw(st.integers(1, 40))
    y = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    p = draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))
    index = st.integers(0, k - 1)
    cells = draw(st.lists(st.tuples(index, index), max_size=4))
    actual = draw(st.lists(index, max_size=2))
    predicted = draw(st.lists(index, max_size=2))
    return k, np.array(y), np.array(p), cells, actual, predicted


def make_ev(k: int, y: np.ndarray, p: np.ndarray) -> es.Evaluation:
    return es.Evaluation(pd.DataFrame({"x": np.arange(len(y))}), y, y_pred=p, labels=list(range(k)))


def ref_cells(y, p, cells, actual, predicted) -> frozenset[int]:
    return frozenset(
        i for i in range(len(y)) if (y[i], p[i]) in set(cells) or y[i] in actual or p[i] in predicted
    )


@SETTINGS
@given(labelled())
def test_cells_clause_selects_its_rows(case):
    k, y, p, cells, actual, predicted = case
    ev = make_ev(k, y, p)
    clause = cells_clause("cm", ev.classes, cells, actual, predicted)
    ev.selection.set(clause)
    assert rows_of(ev.selection.mask()) == (
        ref_cells(y, p, cells, actual, predicted) if clause.terms else frozenset(range(len(y)))
    )


@SETTINGS
@given(labelled(), st.lists(st.booleans(), min_size=40, max_size=40))
def test_confusion_matrix_crossfilter(case, code_mask):
    """Two linked views: each is computed on the other clauses' rows and highlights its own selection."""
    k, y, p, cells, actual, predicted = case
    n = len(y)
    ev = make_ev(k, y, p)
    cm1, cm2 = es.ConfusionMatrix(ev), es.ConfusionMatrix(ev)
    code = np.array(code_mask[:n])
    ev.select(code)
    cm1.select_cells(cells=cells, actual=actual, predicted=predicted)

    def counts(rows) -> np.ndarray:
        out = np.zeros((k, k), dtype=np.int64)
        for i in rows:
            out[y[i], p[i]] += 1
        return out

    coded = frozenset(np.flatnonzero(code).tolist())
    chosen = (
        ref_cells(y, p, cells, actual, predicted) if (cells or actual or predicted) else frozenset(range(n))
    )
    np.testing.assert_array_equal(cm1.matrix.to_numpy(), counts(coded))
    np.testing.assert_array_equal(cm2.matrix.to_numpy(), counts(coded & chosen))
    assert cm1.n_rows == len(coded) and cm2.n_rows == len(coded & chosen)
    assert len(ev.selected()) == len(coded & chosen)
    assert sorted(map(tuple, cm1.selected["cells"])) == sorted(set(cells))
    assert sorted(cm1.selected["actual"]) == sorted(set(actual))
    assert sorted(cm1.selected["predicted"]) == sorted(set(predicted))
    selected = cm1.table["selected"].to_numpy().reshape(k, k)
    for a in range(k):
        for q in range(k):
            assert selected[a, q] == ((a, q) in set(cells) or a in actual or q in predicted)
    cm1.close()
    cm2.close()


@pytest.mark.parametrize("k", [2, 5])
def test_empty_selection_from_view_is_all_rows(k):
    rng = np.random.default_rng(k)
    y, p = rng.integers(0, k, 50), rng.integers(0, k, 50)
    ev = make_ev(k, y, p)
    cm1, cm2 = es.ConfusionMatrix(ev), es.ConfusionMatrix(ev)
    cm1.select_cells(cells=[(0, 0)])
    cm1.select_cells()  # selecting nothing removes the clause
    assert cm1.clause is None and cm2.n_rows == 50
