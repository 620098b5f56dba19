"""Query text parsed into a :class:`~errorscope.selection.Clause`; nothing in it is ever evaluated.

The text is read with ``ast.parse(mode="eval")`` and walked against a strict whitelist (see
:data:`GRAMMAR`). Boolean structure is brought to the clause's shape (an OR of AND-terms of predicates,
``not`` pushed down onto single predicates), so a typed query, a saved clause text and a view's click are
the same kind of object, evaluated by the same vectorised resolver on every engine.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from .selection import Clause, Predicate, Ref

GRAMMAR = """\
Query grammar (parsed, never evaluated):
  comparison   name OP value | value OP name | name OP name     OP: == != < <= > >=
               chained: 30 <= age < 40
  membership   name in [v1, v2, ...]    name not in [v1, v2, ...]
  range        name.between(lo, hi)     (both ends included, as pandas)
  missing      name.isna()    name.notna()
  logic        a and b    a or b    not a    ( ... )
  names        data columns (`backquoted` when not a plain word, e.g. `x-box`), and the roles
               actual, predicted, score, tag (es_actual ... when the data has a column of that name);
               with several models, predicted[name] is that model's prediction (predicted['gbm v2'])
  values       numbers, 'strings', True, False
e.g. "age > 60 and sex == 'Female'", "actual != predicted", "`capital-gain`.isna() or score >= 0.9"
"""

ALLOWED_CALLS = "only name.isna(), name.notna() and name.between(lo, hi)"
MAX_LENGTH = 20_000  # characters of query text
MAX_TERMS = 256  # an OR of at most this many AND-terms once `not` and nesting are expanded
METHODS = {"isna": "isna", "isnull": "isna", "notna": "notna", "notnull": "notna", "between": "between"}
COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
NEGATED_COMPARE = {"!=": "=="}  # x != v is "not x == v": missing values are kept, as in pandas

NameResolver = Callable[[str], tuple[str, str | None]]  # text name -> (column, role or None)
ModelResolver = Callable[[str, str], tuple[str, str | None, str]]  # (name, model) -> (column, role, model)

# A boolean formula before it is brought to clause shape: a Predicate, or ("and" | "or", [..]), ("not", x)
Node = Any


def parse(
    text: str, source: str, resolve_name: NameResolver, resolve_model: ModelResolver | None = None
) -> Clause:
    """The clause ``text`` describes, from ``source``; a ValueError showing :data:`GRAMMAR` otherwise.

    ``resolve_name`` maps a name in the text to its column and role (raising ValueError when unknown);
    ``resolve_model`` a subscripted one, ``predicted[candidate]``, to its column, role and model.
    """
    if not isinstance(text, str):
        raise TypeError(f"query must be a str, not {type(text).__name__}.")
    walker = _Walker(text, resolve_name, resolve_model)
    return Clause(source, _terms(walker.root(), negate=False, text=text))


class _Walker:
    """One strict pass over the parsed text: every node is whitelisted or rejected."""

    def __init__(self, text: str, resolve_name: NameResolver, resolve_model: ModelResolver | None) -> None:
        self.text = text
        self.resolve_name = resolve_name
        self.resolve_model = resolve_model
        self.quoted: dict[str, str] = {}
        self.source_text = self._unquote(text)

    def fail(self, why: str) -> ValueError:
        return ValueError(f"select({self.text!r}): {why}.\n{GRAMMAR}")

    def root(self) -> Node:
        if len(self.text) > MAX_LENGTH:
            raise self.fail(f"the query is longer than {MAX_LENGTH:,} characters")
        try:
            tree = ast.parse(self.source_text.strip(), mode="eval")
            return self.boolean(tree.body)
        except SyntaxError as err:
            raise self.fail(f"not a valid query ({err.msg})") from None
        except RecursionError:
            raise self.fail("the query is nested too deeply") from None

    # -- boolean structure ---------------------------------------------------------------------
    def boolean(self, node: ast.AST) -> Node:
        if isinstance(node, ast.BoolOp):
            kind = "and" if isinstance(node.op, ast.And) else "or"
            return (kind, [self.boolean(v) for v in node.values])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ("not", self.boolean(node.operand))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.method(node)
        if isinstance(node, ast.Name | ast.Constant):
            what = self.describe(node)
            raise self.fail(f"{what} alone is not a condition; compare it, e.g. `{what} == True`")
        raise self.fail(f"{self.describe(node)} is not allowed")

    def compare(self, node: ast.Compare) -> Node:
        parts: list[Node] = []
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts.append(self.pair(left, op, right))
            left = right
        return parts[0] if len(parts) == 1 else ("and", parts)

    def pair(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> Node:
        if isinstance(op, ast.In | ast.NotIn):
            column, role, model = self.name(left)
            if not isinstance(right, ast.List | ast.Tuple | ast.Set):
                raise self.fail(f"`in` needs a list of values, e.g. [1, 2], not {self.describe(right)}")
            values = tuple(self.value(v) for v in right.elts)
            inside = Predicate(column, "in", values, role=role, model=model)
            return inside if isinstance(op, ast.In) else ("not", inside)
        if type(op) not in COMPARE:
            raise self.fail(f"the operator {type(op).__name__} is not allowed")
        symbol = COMPARE[type(op)]
        for side in (left, right):
            if isinstance(side, ast.Call):
                raise self.fail(f"the call {self.describe(side)} is not allowed ({ALLOWED_CALLS})")
            if not self.is_name(side) and not isinstance(side, ast.Constant | ast.UnaryOp):
                raise self.fail(f"{self.describe(side)} is not a column name or a value")
        if not self.is_name(left):
            if not self.is_name(right):
                raise self.fail(f"{self.describe(left)} {symbol} {self.describe(right)} compares no column")
            left, right, symbol = right, left, FLIPPED[symbol]
        column, role, model = self.name(left)
        if self.is_name(right):
            other, other_role, other_model = self.name(right)
            value: Any = Ref(other, other_role, other_model)
        else:
            value = self.value(right)
        negated = symbol in NEGATED_COMPARE
        symbol = NEGATED_COMPARE.get(symbol, symbol)
        if symbol == "==" and not isinstance(value, Ref):
            predicate = Predicate(column, "in", (value,), role=role, model=model)
        else:
            predicate = Predicate(column, symbol, (value,), role=role, model=model)
        return ("not", predicate) if negated else predicate

    def method(self, node: ast.Call) -> Node:
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr in METHODS and self.is_name(func.value)):
            raise self.fail(f"the call {self.describe(node)} is not allowed ({ALLOWED_CALLS})")
        if node.keywords:
            raise self.fail(f".{func.attr}() takes no keyword arguments")
        column, role, model = self.name(func.value)
        kind = METHODS[func.attr]
        if kind == "between":
            if len(node.args) != 2:
                raise self.fail(".between(lo, hi) takes two values")
            lo, hi = (self.value(a) for a in node.args)
            return (
                "and",
                [Predicate(column, ">=", (lo,), role=role, model=model),
                 Predicate(column, "<=", (hi,), role=role, model=model)],
            )  # fmt: skip
        if node.args:
            raise self.fail(f".{func.attr}() takes no arguments")
        missing = Predicate(column, "isna", role=role, model=model)
        return missing if kind == "isna" else ("not", missing)

    # -- leaves --------------------------------------------------------------------------------
    def is_name(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Subscript):  # a model's: predicted[candidate], predicted['gbm v2']
            index = node.slice
            named = isinstance(index, ast.Name) or (
                isinstance(index, ast.Constant) and isinstance(index.value, str)
            )
            return isinstance(node.value, ast.Name) and named
        return isinstance(node, ast.Name)

    def name(self, node: ast.AST) -> tuple[str, str | None, str]:
        """(column, role, model) of a name, or of a model's one: ``predicted[candidate]``."""
        model = ""
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            model = self.model_name(node.slice)
            node = node.value
        if not isinstance(node, ast.Name):
            raise self.fail(f"{self.describe(node)} is not a column name")
        name = self.quoted.get(node.id)
        if name is None and node.id.startswith("__"):
            raise self.fail(f"the name {node.id!r} is not allowed")
        try:
            if not model:
                return (*self.resolve_name(name or node.id), "")
            if self.resolve_model is None:
                raise ValueError(f"{name or node.id}[{model}]: this Evaluation has one model")
            return self.resolve_model(name or node.id, model)
        except ValueError as err:
            raise ValueError(f"select({self.text!r}): {err}") from None

    def model_name(self, node: ast.AST) -> str:
        """The model in ``predicted[candidate]`` or ``predicted['gbm v2']``."""
        if isinstance(node, ast.Name):
            return self.quoted.get(node.id, node.id)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        raise self.fail(
            f"[{self.describe(node)}] does not name a model: write predicted[name] or predicted['name']"
        )

    def value(self, node: ast.AST) -> Any:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            node = node.operand
            if not (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
                raise self.fail(f"a sign goes before a number, not {self.describe(node)}")
        if isinstance(node, ast.Constant) and type(node.value) in (int, float, str, bool):
            return node.value * sign if sign < 0 else node.value
        raise self.fail(f"{self.describe(node)} is not a value (numbers, 'strings', True, False)")

    def describe(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.source_text.strip(), node) or type(node).__name__
        for placeholder, name in self.quoted.items():
            segment = segment.replace(placeholder, f"`{name}`")
        return segment

    def _unquote(self, text: str) -> str:
        """Backquoted names replaced by placeholder identifiers (outside string literals)."""
        out: list[str] = []
        i, quote = 0, ""
        while i < len(text):
            char = text[i]
            if quote:
                out.append(char)
                if char == "\\" and i + 1 < len(text):
                    out.append(text[i + 1])
                    i += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
                out.append(char)
            elif char == "@":
                raise self.fail("`@` variables are not allowed: write the value itself, e.g. age > 60")
            elif char == "`":
                end = text.find("`", i + 1)
                if end < 0:
                    raise self.fail("a `backquoted` name is not closed")
                placeholder = f"_es_quoted_{len(self.quoted)}"
                while placeholder in text:
                    placeholder += "_"
                self.quoted[placeholder] = text[i + 1 : end]
                out.append(placeholder)
                i = end
            else:
                out.append(char)
            i += 1
        return "".join(out)


def _terms(node: Node, negate: bool, text: str) -> tuple[tuple[Predicate, ...], ...]:
    """``node`` (negated when ``negate``) as an OR of AND-terms, ``not`` resting on single predicates."""
    if isinstance(node, Predicate):
        return ((node.negate(),) if negate else (node,),)
    kind, body = node
    if kind == "not":
        return _terms(body, not negate, text)
    children = [_terms(child, negate, text) for child in body]
    if (kind == "or") != negate:
        return tuple(term for child in children for term in child)
    terms: list[tuple[Predicate, ...]] = [()]
    for child in children:
        terms = [left + right for left in terms for right in child]
        if len(terms) > MAX_TERMS:
            raise ValueError(
                f"select({text!r}) expands to more than {MAX_TERMS} alternatives (an OR of ANDs): "
                "write it with fewer nested `or` inside `and`, or select in two steps from two sources."
            )
    return tuple(terms)
