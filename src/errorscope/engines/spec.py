"""An Evaluation over a lazy source: its roles validated from the engine's profiles, not from the rows.

:func:`lazy_spec` opens the source (:mod:`errorscope.engines.sources`), checks every role column against
the schema, profiles the data once (distinct classes, missing labels, ids uniqueness, the score range and
row sums) and decides what :class:`~errorscope.evaluation.Evaluation` needs (classes, display names, the
positive class, features / metadata / sensitive / text, the threshold), raising the same messages as the
in-memory path where the same check applies. :func:`init_lazy` is the Evaluation's entry for it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from ..inputs import Arguments, column_list, require_column, require_text_column
from ..models import ModelArguments, ModelPredictions
from ..plans import ALL_ROWS, RocAuc
from ..selection import Selection
from ..task import given_arguments, is_classifier, is_regressor
from .compile import NUMBER, Column
from .lazy import LazyEngine, ModelColumns, Roles, Task
from .sources import ROW, open_source, require

ENGINES = ("numpy", "duckdb", "spark")


@dataclass(frozen=True)
class LazySpec:
    """What an Evaluation over a SQL engine is: the validated roles and the task, from the profiles."""

    roles: Roles
    classes: tuple[Any, ...]
    class_names: tuple[str, ...]
    positive_code: int | None
    threshold: float
    pred_from_scores: bool
    features: tuple[str, ...]
    metadata: tuple[str, ...]
    sensitive: tuple[str, ...]
    text: str | None
    n_rows: int
    task: str = "classification"
    others: tuple[tuple[str, ModelColumns], ...] = ()  # several models: the others' columns, validated


def open_lazy(data: Any, engine: str | None) -> Any:
    """The source ``data`` selects, or that ``engine=`` forces (a pandas or polars frame on DuckDB)."""
    if engine not in (None, *ENGINES):
        raise ValueError(f"engine must be one of {ENGINES} or None (chosen from data), got {engine!r}.")
    from .sources import is_lazy_source

    if not is_lazy_source(data):
        if engine == "spark":
            raise TypeError(
                f"engine='spark' needs data as a PySpark DataFrame, not {type(data).__name__}: "
                "create it with spark.createDataFrame(...) or spark.read.parquet(...)."
            )
        pa = require("pyarrow")
        from ..inputs import as_frame

        data = pa.Table.from_pandas(as_frame(data), preserve_index=False)
    source = open_source(data)
    if engine not in (None, source.engine):
        raise ValueError(
            f"engine={engine!r} cannot read {source.what}: it is read by the {source.engine} engine; "
            f"omit engine= or pass engine={source.engine!r}."
        )
    return source


def _name(value: Any, argument: str) -> str | None:
    """A role given as a column name (a lazy source's roles are columns, never arrays)."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(
        f"{argument} must name a column of the data on a SQL engine, not a {type(value).__name__}: "
        "add the values as a column of the source (e.g. in the Parquet files) and pass its name."
    )


def lazy_spec(
    source: Any, arguments: Arguments, others: Sequence[ModelArguments] = ()
) -> tuple[LazySpec, LazyEngine]:
    """The spec and the engine of ``source`` (see the module docstring); ``others``: the other models'
    columns, validated as the first model's."""
    from .. import evaluation as ev_module

    y_true, y_pred, y_score, model = arguments.y_true, arguments.y_pred, arguments.y_score, arguments.model
    features, sensitive, text, ids = arguments.features, arguments.sensitive, arguments.text, arguments.ids
    labels, threshold, positive_class = arguments.labels, arguments.threshold, arguments.positive_class
    metadata = arguments.metadata

    schema = source.frame.drop(ROW).head(0).collect().to_pandas()  # the columns and types, no rows
    true_col = require_column(_name(y_true, "y_true"), "y_true", schema)
    pred_col = _name(y_pred, "y_pred")
    if pred_col is not None:
        require_column(pred_col, "y_pred", schema)
    score_cols = [y_score] if isinstance(y_score, str) else list(y_score or [])
    for c in score_cols:
        require_column(_name(c, "y_score"), "y_score", schema)
    id_col = _name(ids, "ids")
    if id_col is not None:
        require_column(id_col, "ids", schema)
    if pred_col is None and not score_cols:
        raise ValueError(
            "No predictions: on a SQL engine pass y_pred (a column of labels) or y_score (probability "
            "columns); model= only explains rows fetched by id."
        )
    roles = Roles(true_col, pred_col, tuple(score_cols), id_col)
    engine = LazyEngine(source, roles)
    n = engine.n_rows
    if n == 0:
        raise ValueError("data is empty (0 rows): pass the rows of your evaluation set.")
    for column, argument in ((true_col, "y_true"), (pred_col, "y_pred"), (id_col, "ids")):
        if column is not None:
            _check_no_missing(engine, column, argument)
    other_columns = set().union(*(m.columns() for m in others)) - {true_col, pred_col, *score_cols}
    for other in others:
        _check_model_columns(engine, schema, other)
    if _lazy_task(engine, arguments) == "regression":
        return _regression_spec(engine, schema, arguments, others, other_columns)

    true_values = np.asarray(engine.distinct(true_col), dtype=object)
    predicted = [c for c in (pred_col, *(m.y_pred for m in others)) if c is not None]
    pred_values = (
        np.asarray([v for c in predicted for v in engine.distinct(c)], dtype=object) if predicted else None
    )
    if labels is None:
        ev_module._refuse_continuous(np.asarray(true_values.tolist()), "y_true")
        if pred_values is not None:
            ev_module._refuse_continuous(np.asarray(pred_values.tolist()), "y_pred")
    natural = ev_module._class_order(true_values, None, pred_values, labels, model, y_true)
    classes, positive = ev_module._positive_order(natural, labels, positive_class)
    names = ev_module._display_names(classes, labels)
    ev_module._codes(true_values, classes, "y_true")
    if pred_values is not None:
        ev_module._codes(pred_values, classes, "y_pred")

    score_order = None
    if score_cols:
        _check_scores(engine, score_cols, len(classes))
        if len(score_cols) > 1:
            score_order = tuple(natural.index(c) for c in classes)
    value = ev_module._check_threshold(threshold)
    from_scores = pred_col is None
    if value != 0.5 and not (from_scores and len(classes) == 2):
        scope = ev_module.Evaluation._threshold_scope(_Classes(len(classes)), from_scores)  # type: ignore[arg-type]
        raise ValueError(f"threshold={threshold} has no effect: {scope}")
    engine.set_task(Task(tuple(classes), positive, value, score_order))
    if len(score_cols) == 1:
        _check_score_direction(engine, classes, names)
    if id_col is not None and engine.n_unique_rows(id_col) != n:
        _refuse_repeated_ids(engine, id_col, n)

    text_col = require_text_column(text, schema) if text is not None else None
    if text_col is not None:
        _add_text_length(engine, schema, text_col)
    role_cols = {c for c in (true_col, pred_col, text_col, id_col) if c} | set(score_cols)
    shim = _Schema(schema, other_columns)
    chosen, meta = ev_module.Evaluation._features(shim, features, metadata, model, role_cols)  # type: ignore[arg-type]
    columns = tuple((m.name, _other_model_columns(engine, m, classes, natural)) for m in others)
    spec = LazySpec(
        roles, tuple(classes), tuple(names), positive, value, from_scores, tuple(chosen), tuple(meta),
        tuple(column_list(sensitive, "sensitive", schema)), text_col, n, others=columns,
    )  # fmt: skip
    return spec, engine


def _check_model_columns(engine: LazyEngine, schema: pd.DataFrame, other: ModelArguments) -> None:
    """Another model's y_pred / y_score name columns (no missing predictions); model= alone predicts
    nothing on a SQL engine."""
    label = f"model {other.name!r}: "
    pred = _name(other.y_pred, "y_pred")
    scores = [other.y_score] if isinstance(other.y_score, str) else list(other.y_score or [])
    if pred is None and not scores:
        raise ValueError(
            label + "no predictions: on a SQL engine pass y_pred={name: column} or y_score={name: columns} "
            "for every model; models= only explains rows fetched by id."
        )
    if pred is not None:
        require_column(pred, "y_pred", schema)
        _check_no_missing(engine, pred, f"y_pred[{other.name!r}]")
    for c in scores:
        require_column(_name(c, "y_score"), "y_score", schema)


def _other_model_columns(
    engine: LazyEngine, other: ModelArguments, classes: list[Any], natural: list[Any]
) -> ModelColumns:
    """A classifier's columns: predictions of known classes, probabilities as the first model's."""
    from .. import evaluation as ev_module

    scores = tuple([other.y_score] if isinstance(other.y_score, str) else list(other.y_score or []))
    if other.y_pred is not None:
        values = np.asarray(engine.distinct(other.y_pred), dtype=object)
        ev_module._codes(values, classes, f"y_pred[{other.name!r}]")
    order = None
    if scores:
        try:
            _check_scores(engine, list(scores), len(classes))
        except ValueError as err:
            raise ValueError(f"model {other.name!r}: {err}") from None
        if len(scores) > 1:
            order = tuple(natural.index(c) for c in classes)
    return ModelColumns(other.y_pred, scores, order)


def _lazy_task(engine: LazyEngine, arguments: Arguments) -> str:
    """The task (:func:`errorscope.task.resolve_task`) from the target's profile: its distinct values when
    there are few, else only its kind (many floats: regression; many integers: ask for task=)."""
    from ..task import MAX_FLOAT_CLASSES, resolve_task

    a, given = arguments, given_arguments_of(arguments)
    decided = a.task is not None or is_regressor(a.model) or is_classifier(a.model) or any(given.values())
    column = engine.column(a.y_true)
    dtype = np.float64 if column.floating else np.int64 if column.kind == NUMBER else object
    if decided:
        values = np.zeros(0)
    elif engine.n_distinct(a.y_true) <= MAX_FLOAT_CLASSES:
        values = np.asarray(engine.distinct(a.y_true), dtype=dtype)
    else:  # many distinct values: only their kind matters (the fraction of a float tells regression)
        values = np.arange(MAX_FLOAT_CLASSES + 1, dtype=dtype) + (0.5 if column.floating else 0)
    return resolve_task(a.task, a.model, values, None, given)


def _regression_spec(
    engine: LazyEngine,
    schema: pd.DataFrame,
    arguments: Arguments,
    others: Sequence[ModelArguments] = (),
    other_columns: set[str] | None = None,
) -> tuple[LazySpec, LazyEngine]:
    """A regression over a SQL engine: numeric, finite y_true and y_pred columns; no classes."""
    from ..evaluation import Evaluation
    from ..task import check_regression

    a = arguments
    check_regression(a.model, given_arguments_of(a), None)
    if a.y_pred is None:
        raise ValueError(
            "No predictions: on a SQL engine a regression needs y_pred (a column of predicted numbers); "
            "model= only explains rows fetched by id."
        )
    numbers = [(a.y_true, "y_true"), (a.y_pred, "y_pred")]
    for other in others:
        if other.y_pred is None or other.y_score is not None:
            raise ValueError(
                f"model {other.name!r}: a regression on a SQL engine needs y_pred={{name: column}} of "
                "predicted numbers for every model (and no y_score)."
            )
        numbers.append((other.y_pred, f"y_pred[{other.name!r}]"))
    for column, argument in numbers:
        if engine.column(column).kind != NUMBER:
            raise TypeError(
                f"{argument}={column!r} holds {engine.dtype_of(column)} values, not numbers: a regression needs "
                f'numeric y_true and y_pred; for class labels pass task="classification" (or omit task=).'
            )
        if engine.non_finite([column]):
            raise ValueError(
                f"{argument}={column!r} has NaN or infinite values: every row needs a finite number; drop or "
                "fill those rows before building the Evaluation."
            )
    engine.set_task(Task((), None, regression=True))
    if a.ids is not None and engine.n_unique_rows(a.ids) != engine.n_rows:
        _refuse_repeated_ids(engine, a.ids, engine.n_rows)
    text_col = require_text_column(a.text, schema) if a.text is not None else None
    if text_col is not None:
        _add_text_length(engine, schema, text_col)
    role_cols = {c for c in (a.y_true, a.y_pred, text_col, a.ids) if c}
    shim = _Schema(schema, other_columns or set())
    chosen, meta = Evaluation._features(shim, a.features, a.metadata, a.model, role_cols)  # type: ignore[arg-type]
    spec = LazySpec(
        engine.roles, (), (), None, 0.5, False, tuple(chosen), tuple(meta),
        tuple(column_list(a.sensitive, "sensitive", schema)), text_col, engine.n_rows, "regression",
        others=tuple((m.name, ModelColumns(m.y_pred)) for m in others),
    )  # fmt: skip
    return spec, engine


def given_arguments_of(a: Arguments) -> dict[str, bool]:
    """Which classification-only arguments were passed (see :func:`errorscope.task.given_arguments`)."""
    return given_arguments(a.y_score, a.labels, a.positive_class, a.threshold)


def _add_text_length(engine: LazyEngine, schema: pd.DataFrame, text_col: str) -> None:
    length = f"len({text_col})"
    length = f"es_{length}" if length in schema.columns else length
    engine.add_derived(length, Column(nw.col(text_col).str.len_chars().cast(nw.Float64), NUMBER))


@dataclass
class _Schema:
    """The columns (no rows) where Evaluation's validation helpers read ``self.data``."""

    data: pd.DataFrame
    _other_role_columns: set[str] = field(default_factory=set)


@dataclass
class _Classes:
    n_classes: int


def _check_no_missing(engine: LazyEngine, column: str, argument: str) -> None:
    """As :func:`errorscope.inputs.check_no_missing`: the count and the first row."""
    missing = engine.missing_counts([column])[column]
    if missing:
        first = engine._scalar(nw.col(ROW).min(), engine.frame.filter(engine.column(column).missing()))
        raise ValueError(
            f"{argument} has {missing:,} missing values (first at row {first}): "
            "drop those rows from data, or fill the labels, before building the Evaluation."
        )


def _check_scores(engine: LazyEngine, columns: list[str], k: int) -> None:
    """As :func:`errorscope.inputs.as_scores`: one column only for binary, else one per class; finite
    probabilities in [0, 1]; rows of k columns summing to 1."""
    name = "y_score"
    if len(columns) == 1 and k != 2:
        raise ValueError(
            f"{name} is 1-D but there are {k} classes: pass an (n, {k}) array "
            "of probabilities, one column per class in the order of labels."
        )
    if len(columns) > 1 and len(columns) != k:
        raise ValueError(
            f"{name} has {len(columns)} columns but there are {k} classes: "
            "pass one probability column per class, in the order of labels."
        )
    if engine.non_finite(columns):
        raise ValueError(f"{name} has NaN or infinite values: every row needs a probability.")
    lo, hi = engine.value_range(columns)
    if lo < 0 or hi > 1:
        raise ValueError(
            f"{name} has values outside [0, 1] (min {lo:.4g}, max {hi:.4g}): "
            "pass probabilities (predict_proba), not decision-function scores or logits."
        )
    if len(columns) > 1:
        total = nw.sum_horizontal(*[nw.col(c).cast(nw.Float64) for c in columns])
        off = engine.frame.filter((total - 1.0).abs() > 1e-3)
        first = engine._scalar(nw.col(ROW).min(), off)
        if first is not None:
            sums = engine._scalar(total.alias("t"), off.filter(nw.col(ROW) == first))
            raise ValueError(
                f"{name} rows must sum to 1 (row {first} sums to {sums:.4g}); pass "
                "normalised class probabilities, e.g. from predict_proba or a softmax."
            )


def _check_score_direction(engine: LazyEngine, classes: list[Any], names: list[str]) -> None:
    """As Evaluation._check_score_direction: a 1-D y_score ranking the rows in reverse of P(positive)."""
    auc = engine.roc_auc(RocAuc(1), ALL_ROWS)
    if auc < 0.35:
        other, positive = names
        warnings.warn(
            f"y_score is read as P({positive!r}) (the positive class, second in the class order), but it "
            f"ranks the rows in reverse of it (ROC AUC {auc:.2f}): if y_score is P({other!r}), pass "
            f"positive_class={classes[0]!r}, or pass 1 - y_score.",
            UserWarning,
            stacklevel=5,
        )


def _refuse_repeated_ids(engine: LazyEngine, column: str, n: int) -> None:
    repeated = n - engine.n_unique_rows(column)
    example = engine.frame.group_by(column).agg(nw.len().alias("n")).filter(nw.col("n") > 1).head(1).collect()
    value = example[column].to_list()[0]
    raise ValueError(
        f"ids must be unique, but {repeated:,} are repeated (e.g. {value!r}); tags are "
        "keyed by id, so pass a unique id column, or omit ids to use row positions."
    )


def init_lazy(ev: Any, data: Any, engine: str | None, arguments: Arguments) -> None:
    """Build Evaluation ``ev`` over the SQL engine ``data`` selects (or ``engine=`` forces): its spec's
    attributes, and ``ev.engine`` (a :class:`LazyEngine`) answering the query plans."""
    others = ev._model_arguments[1:]
    spec, lazy = lazy_spec(open_lazy(data, engine), arguments, others)
    ev.spec, ev.engine, ev.model, ev.task = spec, lazy, arguments.model, spec.task
    ev.classes, ev.class_names, ev._positive_code = (
        list(spec.classes),
        list(spec.class_names),
        spec.positive_code,
    )
    ev.features, ev.metadata, ev.sensitive = list(spec.features), list(spec.metadata), list(spec.sensitive)
    ev.text_column, ev._threshold, ev.pred_from_scores = spec.text, spec.threshold, spec.pred_from_scores
    ev.derived = dict.fromkeys(lazy.derived)
    ev.predictions_version = 0
    ev._bins, ev._sources, ev.tag_store = {}, {}, None
    ev.selection = Selection(lazy)  # clauses compiled by the engine; filters for its plans
    ev.selection.observe(ev._count_ahead)  # first observer: the views' plans answered as one batch
    first = ev._first_model_name()
    roles = spec.roles
    lazy.add_model(
        first, ModelColumns(roles.y_pred, roles.y_score, lazy.task.score_order if lazy.task else None)
    )
    ev._models = {
        first: ModelPredictions(
            first,
            arguments.model,
            pred_from_scores=spec.pred_from_scores,
            features=list(spec.features),
            y_pred=roles.y_pred,
            y_score=roles.y_score,
        )
    }
    by_name = {m.name: m for m in others}
    for name, columns in spec.others:
        lazy.add_model(name, columns)
        ev._models[name] = ModelPredictions(
            name, by_name[name].model, pred_from_scores=columns.y_pred is None and spec.task != "regression",
            features=list(spec.features), y_pred=columns.y_pred, y_score=columns.y_score,
            score_order=columns.score_order,
        )  # fmt: skip
    ev._active = first
    ev._attach_training()
