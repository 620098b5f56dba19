"""The Evaluation: data, labels, predictions, scores, model and the linked selection, in one object."""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from .coding import ColumnCodes, as_nanoseconds, as_numbers, duration_text, inner_cuts
from .engines import Engine
from .engines.numpy import NumpyEngine
from .engines.sources import ROW, is_lazy_source
from .inputs import (
    Arguments,
    align_index,
    as_frame,
    as_scores,
    check_no_missing,
    column_list,
    column_or_array,
    require_column,
    require_text_column,
)
from .jobs import JobRunner
from .models import (
    DEFAULT_MODEL,
    ModelArguments,
    ModelPredictions,
    check_model_name,
    is_several,
    model_arguments,
)  # fmt: skip
from .plans import ALL_ROWS, CONFUSION, Measure
from .query import parse
from .selection import ROLES, Clause, Predicate, Selection, SelectionChange
from .tags import (
    TAG_COLUMNS,
    EngineRowKeys,
    RowKeys,
    TagStore,
    TagStoreError,
    dataset_fingerprint,
    default_store_path,
    streamed_fingerprint,
)
from .task import MAX_FLOAT_CLASSES, as_target, given_arguments, resolve_task

T = TypeVar("T")

TAG_ROLE = "tag"  # a role predicate on "tag" selects the rows carrying those tags
OUTCOME_COLUMNS = frozenset({"actual", "predicted", TAG_ROLE, "score", "confidence", "residual"})
"""What a clause reads when it is defined by the model's outcome (a matrix cell, a score bin, a tag)."""


MAX_TAG_CLAUSE_IDS = 10_000
MODEL_NUMBERS = ("predicted", "residual", "abs_error")  # a regression's per-model numbers in query text
"""The most tagged ids a tag clause lists on a SQL engine (``id IN (...)``): see docs/architecture.md."""

IN_MEMORY = frozenset({"data", "X", "true_codes", "pred_codes", "scores", "ids", "y_true", "y_pred"})
"""What only an in-memory (numpy engine) Evaluation has."""


class Evaluation:
    """A classifier's or a regressor's evaluation set, validated once and coded for fast linked views.

    Parameters
    ----------
    data : pandas or polars DataFrame, or a 2-D numpy array (with ``feature_names``).
    y_true : column name or array-like of true labels (int, str, bool or categorical), or of numbers for a
        regression.
    y_pred : column name or array-like; derived from ``y_score`` (``threshold`` for binary, argmax for
        multiclass) or from ``model`` when omitted. A regression: the predicted numbers.
    task : "classification" or "regression"; inferred when omitted (:mod:`errorscope.task`: a regressor,
        or a float target without y_score, means regression; ``ev.task`` says which). A regression's
        residual is prediction minus actual (positive: over-prediction); y_score, labels, positive_class
        and threshold are classification-only.
    y_score : class probabilities: a column name or list of columns, an (n,) array (binary only: the
        probability of the positive class) or an (n, k) array whose columns follow the class order
        below (before ``positive_class`` moves the positive class second).
    model : fitted classifier with ``predict`` (and ``predict_proba``); used for predictions when neither
        ``y_pred`` nor ``y_score`` is given, and later for explanations. A regressor is refused.
    features : the columns the model consumes (default: ``model.feature_names_in_`` if the model has
        them, else every column not used as y_true, y_pred, y_score, ids, text or metadata). Every name in
        ``feature_names_in_`` must be a column of data.
    metadata : columns the model does not consume but that are sliced and checked like features (region,
        signup date, data source...). Default: every other column that is not a feature or a role;
        ``[]`` for none.
    sensitive : sensitive attribute column(s), for group comparisons.
    text : an optional text column, shown in row views and sliced by length.
    ids : stable row ids (column or array); default: the DataFrame index if unique, else 0..n-1.
    labels : class order, as a list of values, or a dict {value: display name} (display names unique).
    positive_class : binary: the class precision, recall, FPR and FNR are about, and whose probability a
        1-D ``y_score`` and ``threshold`` refer to; it becomes the second class. Multiclass: the default
        class of one-vs-rest rates. A class value or display name.
    threshold : binary decision threshold applied to the positive class's probability.
    feature_names : column names when ``data`` is a numpy array.
    models : several models evaluated on the same rows, by name: ``{"baseline": m1, "candidate": m2}``
        (fitted estimators); or name them in ``y_pred={name: ...}`` and / or ``y_score={name: ...}``
        (columns or arrays, with or without models). The first is active (``ev.active_model``): every view
        shows it, and ``ev.active_model = name`` switches them all; ``es.ModelComparer(ev)`` compares two.
        Each is validated as ``model`` / ``y_pred`` / ``y_score`` are; they share the classes and the
        ``threshold``.
    engine : "numpy", "duckdb" or "spark"; default: chosen from ``data`` (a Parquet/CSV path or glob, a DuckDB
        relation, Arrow data or an Ibis table: DuckDB; a PySpark DataFrame: Spark; else numpy). On a SQL
        engine the roles are column names and ``ev.engine`` answers the views' query plans.

    Class order: ``labels`` if given, else ``model.classes_``, else a categorical y_true's categories
    (those no row uses are dropped), else the sorted labels of y_true and y_pred. Binary: the positive
    class is the second class, unless ``positive_class`` names the other one (it is then moved second).
    NaN or infinite classes and two classes with one display name are errors.
    """

    def __init__(
        self,
        data: Any,
        y_true: Any,
        y_pred: Any = None,
        y_score: Any = None,
        model: Any = None,
        features: Sequence[str] | None = None,
        sensitive: str | Sequence[str] | None = None,
        text: str | None = None,
        ids: Any = None,
        labels: Sequence[Any] | Mapping[Any, str] | None = None,
        threshold: float = 0.5,
        feature_names: Sequence[str] | None = None,
        positive_class: Any = None,
        metadata: Sequence[str] | None = None,
        engine: str | None = None,
        task: str | None = None,
        models: Mapping[str, Any] | None = None,
        train: Any = None,
        train_y: Any = None,
        history: Any = None,
    ) -> None:
        self._training_arguments = (train, train_y, history, y_true if isinstance(y_true, str) else None)
        self._model_arguments: list[ModelArguments] = []
        self._other_role_columns: set[str] = set()  # other models' y_pred / y_score columns: not features
        if is_several(models, y_pred, y_score):
            self._model_arguments = model_arguments(models, model, y_pred, y_score)
            first, *others = self._model_arguments
            self._other_role_columns = set().union(*(m.columns() for m in others)) - first.columns()
            model, y_pred, y_score = first.model, first.y_pred, first.y_score
        if engine not in (None, "numpy") or (engine is None and is_lazy_source(data)):
            if feature_names is not None:
                raise TypeError(
                    "feature_names= names a numpy array's columns: a SQL source has its own names; omit it."
                )
            arguments = Arguments(
                y_true, y_pred, y_score, model, features, sensitive, text, ids, labels, threshold,
                positive_class, metadata, task,
            )  # fmt: skip
            return self._init_lazy(data, engine, arguments)
        self.data = as_frame(data, feature_names)
        self.model = model
        n = len(self.data)

        true_values, true_col = column_or_array(y_true, "y_true", self.data)
        check_no_missing(true_values, "y_true")
        pred_values, pred_col = (None, None)
        if y_pred is not None:
            pred_values, pred_col = column_or_array(y_pred, "y_pred", self.data)
            check_no_missing(pred_values, "y_pred")
        given = given_arguments(y_score, labels, positive_class, threshold)
        self.task = resolve_task(task, model, true_values, pred_values, given)
        if self.task == "regression":
            roles = (true_values, true_col, pred_values, pred_col)
            return self._init_regression(roles, features, metadata, sensitive, text, ids)
        if labels is None:  # labels= declares the classes, however many float values they are
            _refuse_continuous(true_values, "y_true")
            if pred_values is not None:
                _refuse_continuous(pred_values, "y_pred")

        true_dtype = self.data[y_true].dtype if true_col else getattr(y_true, "dtype", None)
        natural = _class_order(true_values, true_dtype, pred_values, labels, model, y_true)
        self.classes, self._positive_code = _positive_order(natural, labels, positive_class)
        score_order = [natural.index(c) for c in self.classes]  # (n, k) y_score columns -> self.classes
        self.class_names = _display_names(self.classes, labels)
        self.true_codes = _codes(true_values, self.classes, "y_true")

        score_cols = self._score_columns(y_score)
        self.ids = self._ids(ids, n)
        self.text_column = require_text_column(text, self.data) if text is not None else None
        self.sensitive = column_list(sensitive, "sensitive", self.data)
        role_cols = {c for c in (true_col, pred_col, self.text_column) if c} | set(score_cols)
        if isinstance(ids, str):
            role_cols.add(ids)
        self.features, self.metadata = self._features(features, metadata, model, role_cols)

        self.scores: np.ndarray | None = None
        if y_score is not None:
            raw = (
                self.data[score_cols].to_numpy(dtype=np.float64).squeeze(axis=1)
                if len(score_cols) == 1
                else self.data[score_cols].to_numpy()
                if score_cols
                else column_or_array(y_score, "y_score", self.data, allow_2d=True)[0]
            )
            self.scores = as_scores(raw, len(self.classes))
            if np.ndim(raw) == 2:
                self.scores = self.scores[:, score_order]
            elif len(self.classes) == 2:
                self._check_score_direction()
        elif pred_values is None and model is not None and hasattr(model, "predict_proba"):
            self.scores = self._model_scores(model)

        self._threshold = _check_threshold(threshold)
        from_scores = pred_values is None and self.scores is not None
        if self._threshold != 0.5 and not (from_scores and self.is_binary):
            raise ValueError(f"threshold={threshold} has no effect: {self._threshold_scope(from_scores)}")
        if pred_values is not None:
            self.pred_codes = _codes(pred_values, self.classes, "y_pred")
            self.pred_from_scores = False
        elif self.scores is not None:
            self.pred_from_scores = True
            self.pred_codes = self._predict_from_scores()
        elif model is not None:
            self.pred_from_scores = False
            self.pred_codes = _codes(np.asarray(model.predict(self.X)), self.classes, "model.predict")
        else:
            raise ValueError(
                "No predictions: pass y_pred (labels), y_score (probabilities) or a fitted model."
            )
        self._finish_init()

    def _init_regression(
        self, roles: tuple[Any, ...], features: Any, metadata: Any, sensitive: Any, text: Any, ids: Any
    ) -> None:
        """A regressor's evaluation in memory: numbers for y_true and y_pred (or the model's predictions)."""
        true_values, true_col, pred_values, pred_col = roles
        self.actual_values = as_target(true_values, "y_true")
        self.classes, self.class_names, self._positive_code = [], [], None
        self.scores, self._threshold, self.pred_from_scores = None, 0.5, False
        self.ids = self._ids(ids, len(self.data))
        self.text_column = require_text_column(text, self.data) if text is not None else None
        self.sensitive = column_list(sensitive, "sensitive", self.data)
        role_cols = {c for c in (true_col, pred_col, self.text_column) if c}
        if isinstance(ids, str):
            role_cols.add(ids)
        self.features, self.metadata = self._features(features, metadata, self.model, role_cols)
        if pred_values is not None:
            self.predicted_values = as_target(pred_values, "y_pred")
        elif self.model is not None:
            X = self.X if hasattr(self.model, "feature_names_in_") else self.X.to_numpy()
            self.predicted_values = as_target(np.asarray(self.model.predict(X)).ravel(), "model.predict")
        else:
            raise ValueError("No predictions: pass y_pred (numbers) or a fitted regressor as model=.")
        self._finish_init()

    def _finish_init(self) -> None:
        """What every in-memory Evaluation has once its roles are validated: derived columns, the engine
        and the Selection."""
        self._bins: dict[str, Any] = {}
        self.derived = self._derived_columns()
        self.predictions_version = 0
        self._sources: dict[str, int] = {}
        self.tag_store: TagStore | None = None
        self.engine: Engine = NumpyEngine(self)
        self.selection = Selection(self.engine)
        self.selection.observe(self._count_ahead)  # first observer: runs before every view
        self._models = {self._first_model_name(): self._active_predictions()}
        self._active = next(iter(self._models))
        for arguments in self._model_arguments[1:]:
            self._models[arguments.name] = self._other_model(arguments)
        self._attach_training()

    def _attach_training(self) -> None:
        """``train=``, ``train_y=`` and ``history=``, checked (see :mod:`errorscope.training`)."""
        from .history import curves_of
        from .training import training_rows

        train, train_y, history, target = self._training_arguments
        self.train, self.train_labels = training_rows(self, train, train_y, target)
        self.history = history
        self.training_curves, self.training_warnings = (
            curves_of(history) if history is not None else (None, None)
        )

    def _first_model_name(self) -> str:
        return self._model_arguments[0].name if self._model_arguments else DEFAULT_MODEL

    def _active_predictions(self) -> ModelPredictions:
        """The active model's predictions as the Evaluation holds them (in memory)."""
        if self.is_regression:
            return ModelPredictions(
                self._first_model_name(), self.model, predicted_values=self.predicted_values,
                features=list(self.features),
            )  # fmt: skip
        return ModelPredictions(
            self._first_model_name(), self.model, self.pred_codes, self.scores, self.pred_from_scores,
            features=list(self.features),
        )  # fmt: skip

    def _other_model(self, arguments: ModelArguments) -> ModelPredictions:
        """Another model's predictions, validated as the first's: an Evaluation of the same rows, labels
        and classes is built for it, and its predictions kept."""
        own_features = getattr(arguments.model, "feature_names_in_", None) is not None
        common: dict[str, Any] = {"task": self.task, "ids": self.ids, "metadata": []}
        if not own_features:
            common["features"] = self.features
        if self.is_regression:
            y_true: Any = self.actual_values
        else:
            y_true = self.y_true
            common["labels"] = dict(zip(self.classes, self.class_names, strict=True))
            common["positive_class"] = self.positive_class
        try:
            other = Evaluation(
                self.data, y_true, y_pred=arguments.y_pred, y_score=arguments.y_score, model=arguments.model,
                **common,
            )  # fmt: skip
        except (TypeError, ValueError) as err:
            raise type(err)(f"model {arguments.name!r}: {err}") from None
        found = other._active_predictions()
        found.name = arguments.name
        if found.pred_from_scores and self.is_binary and self._threshold != 0.5:
            found.pred_codes = (found.scores[:, 1] >= self._threshold).astype(np.int32)  # type: ignore[index]
        return found

    def _init_lazy(self, data: Any, engine: str | None, arguments: Arguments) -> None:
        """Over a SQL engine (DuckDB, Spark): see :func:`errorscope.engines.spec.init_lazy`."""
        from .engines.spec import init_lazy

        init_lazy(self, data, engine, arguments)

    # -- public API --------------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        data = self.__dict__.get("data")
        return len(data) if data is not None else self.engine.n_rows

    @property
    def in_memory(self) -> bool:
        """Whether the rows are in memory (the numpy engine), not in a SQL engine."""
        return "data" in self.__dict__

    @property
    def columns(self) -> list[str]:
        """The data's column names."""
        if self.in_memory:
            return list(self.data.columns)
        return [c for c in self.engine.schema if c != ROW]

    @property
    def has_scores(self) -> bool:
        """Whether the Evaluation has class probabilities (y_score, or the model's predict_proba)."""
        return self.scores is not None if self.in_memory else self.engine.scores is not None

    def __getattr__(self, name: str) -> Any:
        """The in-memory attributes (``data``, ``true_codes``, ``scores``...) on a SQL engine: a clear error."""
        if name in IN_MEMORY and "engine" in self.__dict__:
            raise AttributeError(
                f"ev.{name} holds every row in memory, but this Evaluation runs on the {self.engine.name} "
                "engine: use ev.selected() for the selected rows, or the views' .table."
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

    @property
    def is_binary(self) -> bool:
        return len(self.classes) == 2

    @property
    def positive_class(self) -> Any:
        """The class precision, recall, FPR and FNR are about: binary, the second class; multiclass, the
        ``positive_class=`` given (else None)."""
        return None if self._positive_code is None else self.classes[self._positive_code]

    @property
    def positive_code(self) -> int | None:
        """The positive class's index in :attr:`classes` (binary: 1; None when there is none)."""
        return self._positive_code

    @property
    def positive_name(self) -> str | None:
        """The positive class's display name (None when there is none)."""
        return None if self._positive_code is None else self.class_names[self._positive_code]

    @property
    def X(self) -> pd.DataFrame:
        """The model's input columns."""
        return self.data[self.features]

    @property
    def threshold(self) -> float:
        return self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        """Move the binary decision threshold: predictions, clauses and every linked view follow."""
        if not (self.is_binary and self.pred_from_scores):
            raise ValueError(self._threshold_scope(self.pred_from_scores))
        value = _check_threshold(value)
        if value == self._threshold:
            return
        self._threshold = value
        if self.in_memory:
            for found in self._models.values():  # every model predicting from its scores follows
                if found.pred_from_scores and found.scores is not None:
                    found.pred_codes = (found.scores[:, 1] >= value).astype(np.int32)
            self.pred_codes = self._models[self._active].pred_codes
        else:
            self.engine.set_threshold(value)
        self.predictions_version += 1
        self.selection.refresh({"predicted"})

    # -- several models ----------------------------------------------------------------------------
    @property
    def models(self) -> list[str]:
        """The models' names, in the order given (one model: ``["model"]``)."""
        return list(self._models)

    @property
    def active_model(self) -> str:
        """The model every view shows; set it (or use the picker in a view) to switch them all."""
        return self._active

    @active_model.setter
    def active_model(self, name: str) -> None:
        name = check_model_name(name, self.models)
        if name == self._active:
            return
        found, before = self._models[name], set(self.derived)
        if self.in_memory:
            if self.is_regression:
                self.predicted_values = found.predicted_values
            else:
                self.pred_codes, self.scores = found.pred_codes, found.scores
            self.derived = self._derived_columns()
        else:
            self.engine.set_model(name)
            self.derived = dict.fromkeys(self.engine.derived)
        self.model, self.pred_from_scores = found.model, found.pred_from_scores
        self._active = name
        if self.tag_store is not None and self.__dict__.get("_audit_follows_active"):
            self.tag_store.model = name  # tags written from now on were made reviewing this model
        self.predictions_version += 1
        moved = {"predicted", "score", *before, *self.derived}  # the data columns' codes stay
        self.selection.refresh(moved)

    def predictions(self, name: str = "") -> ModelPredictions:
        """Model ``name``'s predictions (default: the active model's)."""
        return self._models[check_model_name(name or self._active, self.models, "model")]

    def _threshold_scope(self, from_scores: bool) -> str:
        """Why a threshold does not apply here (predictions given, or more than two classes)."""
        return (
            "threshold only applies to a binary Evaluation whose predictions come from y_score (or a "
            "model's predict_proba); this one has "
            + (f"{self.n_classes} classes (each row predicts its most probable class)" if from_scores
               else "explicit y_pred (or a model without predict_proba)")
            + ". Omit threshold=, or pass binary probabilities as y_score."
        )  # fmt: skip

    @property
    def positive_score(self) -> np.ndarray | None:
        """Binary: the probability of the positive class (:attr:`positive_class`, the second class)."""
        return None if self.scores is None or not self.is_binary else self.scores[:, 1]

    @property
    def wrong(self) -> np.ndarray:
        """Per row, whether the prediction is wrong (read-only, computed once per predictions)."""
        return self.engine.wrong()

    @property
    def y_true(self) -> np.ndarray:
        """The actual labels (a regression: the actual numbers)."""
        return self.actual_values if self.is_regression else self.classes_array[self.true_codes]

    @property
    def y_pred(self) -> np.ndarray:
        """The predicted labels (a regression: the predicted numbers)."""
        return self.predicted_values if self.is_regression else self.classes_array[self.pred_codes]

    @property
    def residual(self) -> np.ndarray:
        """A regression's residuals, prediction minus actual (positive: over-prediction), read-only."""
        if not self.is_regression:
            raise ValueError("residual is a regression's: this Evaluation is a classification.")
        return self.engine.measure(Measure("residual"))

    @property
    def classes_array(self) -> np.ndarray:
        arr = np.empty(len(self.classes), dtype=object)
        arr[:] = self.classes
        return arr

    def select(self, query: Any, source: str = "code") -> Selection:
        """Select rows from code: query text, a boolean mask, row ids, a Predicate or a Clause.

        Query text is parsed into a clause, never evaluated (grammar: :data:`errorscope.query.GRAMMAR`).
        A mask must have dtype bool (a pandas Series is matched on the index); integers are row ids.
        The selection made from ``source`` replaces that source's previous one.
        """
        if isinstance(query, Clause):
            clause = query
        elif isinstance(query, Predicate):
            clause = Clause.where(source, query)
        elif isinstance(query, str):
            clause = parse(query, source, self.query_name, self.model_query_name)
        else:
            clause = Clause.where(source, self._rows_predicate(query))
        self.selection.set(clause)  # evaluated before it replaces anything: a bad query changes nothing
        return self.selection

    def _rows_predicate(self, rows: Any) -> Predicate:
        """The predicate of a boolean mask (dtype bool) or of row ids; a 0/1 array per row is refused."""
        if (
            isinstance(rows, pd.Series)
            and pd.api.types.is_bool_dtype(rows.dtype)
            and len(rows) == self.n_rows
        ):
            rows = align_index(rows, self.data, "select(mask)")
        if isinstance(rows, pd.Series | pd.Index) and pd.api.types.is_bool_dtype(rows.dtype) and rows.hasnans:
            raise ValueError(
                f"select(mask): the mask has {int(rows.isna().sum()):,} missing values; fill them, "
                "e.g. mask.fillna(False), so each row is either selected or not."
            )
        if isinstance(rows, pd.Series | pd.Index):
            values = rows.to_numpy(dtype=bool if pd.api.types.is_bool_dtype(rows.dtype) else None)
        else:
            values = np.asarray(rows)
        if values.dtype == bool:
            if values.shape != (self.n_rows,):
                raise ValueError(
                    f"select(mask): the boolean mask has shape {values.shape} but the "
                    f"Evaluation has {self.n_rows:,} rows; pass one value per row."
                )
            return Predicate("row", "mask", mask=values.copy())
        if values.dtype.kind in "iuf" and values.shape == (self.n_rows,) and np.isin(values, (0, 1)).all():
            raise ValueError(
                f"select(rows): {self.n_rows:,} values of 0 and 1 are ambiguous (a mask, or row ids?): "
                "pass rows.astype(bool) to select the rows marked 1, or the ids you mean, e.g. "
                "ev.ids[rows == 1], to select by id."
            )
        positions = self.row_keys.positions(values.tolist(), "select(ids)")  # unknown ids: a clear error
        return Predicate("id", "ids", tuple(self.ids[positions].tolist()))

    def train_overlap(self, decimals: int | None = None) -> pd.DataFrame:
        """The evaluation rows whose features exactly repeat a training row (``train=``), with how many
        training rows repeat them and, with training labels, whether the labels agree; ``decimals``
        rounds numeric features first (near-duplicates). See :func:`errorscope.leakage.train_overlap`."""
        from .leakage import train_overlap

        if self.train is None:
            raise ValueError(
                "train_overlap() compares with the training rows: build the Evaluation with train=."
            )
        labels = self.train_labels
        if self.in_memory:
            return train_overlap(
                self.data, self.train, self.features, self.y_true, labels, self.ids, decimals
            )
        from .engines.sources import ROW

        if isinstance(self.train, pd.DataFrame):
            raise ValueError(
                "train_overlap() on a SQL engine joins where the rows are: pass train= as a frame of the same "
                "engine (a DuckDB relation of the same connection, a Spark DataFrame of the same session)."
            )
        roles = self.engine.roles  # type: ignore[attr-defined]
        native = self.engine.source.frame.to_native()  # type: ignore[attr-defined]
        ids = roles.ids or ROW
        return train_overlap(
            native,
            self.train,
            self.features,
            roles.y_true,
            labels if isinstance(labels, str) else None,
            ids,
            decimals,
        )

    def qos(self, selection: bool = True, max_rows: int = 100_000, repeats: int = 5) -> pd.DataFrame:
        """The model's quality of service: prediction latency per row and per 1,000 rows (p50, p95 over
        ``repeats``) and peak memory, on all rows and on the selection; see :mod:`errorscope.qos`."""
        from .qos import evaluation_qos

        return evaluation_qos(self, selection=selection, max_rows=max_rows, repeats=repeats)

    def selected(self) -> pd.DataFrame:
        """The rows every clause keeps, with ``actual``, ``predicted`` (and ``score``) columns."""
        if not self.in_memory:
            return self.engine.selected(self.selection.filter())
        return self.frame()[self.selection.mask()]

    def frame(self) -> pd.DataFrame:
        """The data with the evaluation's columns added (``es_`` prefixed where a name is taken); with
        several models, each model's predictions as ``predicted[name]``."""
        extra: dict[str, Any] = {"id": self.ids, "actual": self.y_true, "predicted": self.y_pred}
        if self.is_regression:
            extra["residual"] = self.residual
        elif self.positive_score is not None:
            extra["score"] = self.positive_score
        elif self.scores is not None:
            extra["score"] = self.scores[np.arange(self.n_rows), self.pred_codes]
        for name, found in self._models.items() if len(self._models) > 1 else ():  # each model's, by name
            extra[f"predicted[{name}]"] = (
                found.predicted_values if self.is_regression else self.classes_array[found.pred_codes]
            )
        out = self.data.copy(deep=False)
        for name, values in extra.items():
            key = name if name not in out.columns else f"es_{name}"
            out[key] = values
        return out

    def cached(self, key: tuple[Any, ...], build: Callable[[], T], keep: int = 1) -> T:
        """A structure derived from this Evaluation, built once per ``key``: its first item names the
        kind, the rest is what the structure depends on (e.g. ``predictions_version``). The last ``keep``
        of each kind are kept (by the engine)."""
        return self.engine.cached(key, build, keep)

    @functools.cached_property
    def jobs(self) -> JobRunner:
        """The runner of this Evaluation's background work (discovery, SHAP, LIME): see errorscope.jobs."""
        return JobRunner()

    def _count_ahead(self, change: SelectionChange) -> None:
        """Before any view recomputes: the engine answers, as one batch, the plans every view asked
        last time under the filter it now sees (the numpy engine counts with every counter in parallel)."""
        selection = self.selection
        self.engine.prefetch(selection.filter())
        self.engine.prefetch_views({c: selection.filter(exclude=c) for c in self.engine.consumers()})

    def codes(self, column: str) -> ColumnCodes:
        """Integer codes of a column (value, bin or period per row), computed once and cached.

        ``column`` is a data column or a derived one (see :attr:`derived`). Numeric columns get quantile
        bins unless :meth:`set_bins` gave edges; scores get tenths of [0, 1].
        """
        return self.engine.coding(column)

    def column_values(self, column: str) -> pd.Series:
        """A data column, or a derived one: the positive class's ``score`` (binary), the predicted class's
        ``confidence`` (multiclass) or the text's length ``len(<text>)``."""
        if column in self.derived:
            return pd.Series(self.derived[column](), index=self.data.index, name=column)
        known = [*self.data.columns, *self.derived]
        return self.data[require_column(column, "column", self.data, known)]

    def set_bins(self, column: str, edges: Sequence[Any] | int) -> None:
        """Bin a numeric column at your ``edges`` (increasing cut points) or into ``edges`` quantile bins.

        Cut points [25, 45, 65] give "< 25", "in [25, 45)", "in [45, 65)" and "≥ 65": no row falls
        outside. Cut points outside the values' range (infinities, say) would only make empty bins, so
        they are left out. A duration column takes durations, e.g. ["30min", "1h", "4h"]. Every view
        recomputes with the new bins.
        """
        if self.in_memory:
            values = self.column_values(column)
            durations, dtype = values.dtype.kind == "m", values.dtype
            numbers = None if durations else as_numbers(values)
        else:  # the engine's profile of the column: its kind and its finite range
            durations, dtype, numbers = False, self.engine.dtype_of(column), self.engine.finite_values(column)
        if numbers is None and not durations:
            raise TypeError(
                f"set_bins({column!r}): only numeric or duration columns are binned; it is {dtype}."
            )
        if isinstance(edges, int | np.integer) and not isinstance(edges, bool):
            if edges < 2:
                raise ValueError(f"set_bins({column!r}, {edges}): ask for at least 2 bins.")
            self._bins[column] = int(edges)
        else:
            array = self._bin_edges(column, edges, durations)
            if array.ndim != 1 or len(array) < 2 or not np.all(np.diff(array) > 0):
                raise ValueError(
                    f"set_bins({column!r}, edges): give at least two strictly increasing edges, "
                    "e.g. [18, 30, 45, 65, 100], or a number of quantile bins."
                )
            x = as_nanoseconds(values) if durations else numbers.to_numpy(dtype=np.float64, na_value=np.nan)
            if not len(inner_cuts(array, x)):
                ends = (np.nanmin(x), np.nanmax(x))
                shown = [
                    duration_text(pd.Timedelta(int(v), unit="ns")) if durations else f"{v:g}" for v in ends
                ]
                raise ValueError(
                    f"set_bins({column!r}, edges): no edge falls inside the values' range "
                    f"[{shown[0]}, {shown[1]}], so every row would be in one bin; give cut points between "
                    "the smallest and the largest value."
                )
            self._bins[column] = array
        if not self.in_memory:
            self.engine.set_bins(column, self._bins[column])
        self.selection.refresh({column})  # the engine forgets its codes: views grouping by it recompute

    @staticmethod
    def _bin_edges(column: str, edges: Any, durations: bool) -> np.ndarray:
        """``edges`` as floats (nanoseconds for a duration column), or a TypeError saying what to pass."""
        raw = np.asarray(edges if edges is not None else [])
        try:
            if durations and raw.dtype.kind in "biuf":
                raise TypeError("numbers are not durations")
            return as_nanoseconds(raw) if durations else raw.astype(np.float64)
        except (TypeError, ValueError) as err:
            kind, example = (
                ("durations", '["30min", "1h", "4h"]') if durations else ("numbers", "[18, 30, 65]")
            )
            raise TypeError(
                f"set_bins({column!r}, edges): edges must be {kind}, e.g. {example} ({err})."
            ) from err

    # -- tags ----------------------------------------------------------------------------------------
    def attach_tags(
        self, store: str | os.PathLike[str] | TagStore | None = None, who: str | None = None,
        model: str | None = None, vocabulary: str | Sequence[str] = (),
    ) -> TagStore:  # fmt: skip
        """Keep this Evaluation's tags in ``store`` (a SQLite path, created if new): see :mod:`errorscope.tags`.

        Without ``store``, each dataset gets its own file, ``errorscope-tags/<fingerprint>.sqlite`` in the
        working directory. A store already attached with the same path is reused (its vocabulary grows).
        With several models and no ``model``, the audit trail names the active model of each change.
        """
        fingerprint = self.cached(("fingerprint",), self._fingerprint)
        if isinstance(store, TagStore):
            if store.fingerprint and store.fingerprint != fingerprint:
                raise TagStoreError(f"{store.path} holds tags for another dataset: pass this data's store.")
            store.bind(self.row_keys, self.classes, self.class_names, self.is_regression)
            store.add_tag_names(vocabulary, "vocabulary")
            self.tag_store = store
        else:
            path = default_store_path(fingerprint) if store is None else Path(store).expanduser().resolve()
            if self.tag_store is not None and self.tag_store.path == path.resolve():
                self.tag_store.add_tag_names(vocabulary, "vocabulary")
            else:
                if model is None and len(self.models) > 1:  # the audit names the model reviewed
                    self._audit_follows_active = True
                    model = self._active
                self.tag_store = TagStore(
                    store, fingerprint, who=who, model=model, vocabulary=vocabulary,
                    rows=self.row_keys, classes=self.classes, class_names=self.class_names,
                    numeric_relabels=self.is_regression,
                )  # fmt: skip
        if not self.in_memory:
            self.engine.tag_ids = self._tagged_ids  # a tag clause keeps the rows of these ids
        self.tags_changed()
        return self.tag_store

    def _fingerprint(self) -> str:
        """The dataset's fingerprint (:func:`errorscope.tags.dataset_fingerprint`), streamed from a SQL engine.
        A regression's: its ids and actual numbers (with the class list ``["regression"]``)."""
        classes = ["regression"] if self.is_regression else self.classes
        if self.in_memory:
            actual = self.actual_values if self.is_regression else self.true_codes
            return dataset_fingerprint(self.ids, actual, classes)
        return streamed_fingerprint(classes, self.engine.id_batches())

    def _tagged_ids(self, names: Sequence[str]) -> list[Any]:
        """The ids (values of the id column) carrying any of the tags ``names``: what a tag clause keeps on a
        SQL engine, as an ``is_in`` list of at most :data:`MAX_TAG_CLAUSE_IDS` ids."""
        if self.tag_store is None:
            return []
        texts = list(dict.fromkeys(t for name in names for t in self.tag_store.tagged_ids(name)))
        if len(texts) > MAX_TAG_CLAUSE_IDS:
            raise ValueError(
                f"tag in {list(names)}: {len(texts):,} tagged rows; on the {self.engine.name} engine a tag clause "
                f"keeps at most {MAX_TAG_CLAUSE_IDS:,} tagged ids (an id list in the query). Select a narrower "
                "tag, or export the tags (ev.tag_store.export_tags) and join them to the data."
            )
        return [v for v in self.row_keys.typed(texts) if v is not None]

    @property
    def row_keys(self) -> RowKeys | EngineRowKeys:
        """The rows' keys in a tag store, and the lookup from an id (a value or its text) to its row (on a
        SQL engine: ids checked by a query, :class:`~errorscope.tags.EngineRowKeys`)."""
        if "_row_keys" not in self.__dict__:
            self._row_keys = RowKeys(self.ids) if self.in_memory else self._engine_row_keys()
        return self._row_keys

    def _engine_row_keys(self) -> EngineRowKeys:
        from .engines.compile import NUMBER, TEXT

        column = self.engine.column(self.engine.roles.ids or ROW)
        if column.kind not in (NUMBER, TEXT):
            raise TypeError(
                f"ids={self.engine.roles.ids!r} holds {column.kind} values: tags key rows by integer, float or "
                "text ids; cast the id column to text or integers."
            )
        kind = "text" if column.kind == TEXT else "float" if column.floating else "int"
        return EngineRowKeys(kind, lambda ids: self.engine.kept_ids(ALL_ROWS, ids))

    @property
    def tags(self) -> pd.DataFrame:
        """Current tags: one row per (id, tag), with note, relabel, who and when (empty without a store)."""
        if self.tag_store is None:
            return pd.DataFrame(columns=TAG_COLUMNS)
        frame = self.tag_store.tags()
        if self.is_regression:  # a regression's relabels are numbers (NaN: none)
            frame["relabel"] = pd.to_numeric(frame["relabel"]).astype(np.float64)
        if not self.in_memory:
            typed = self.row_keys.typed(frame["id"])
            if all(v is not None for v in typed):  # ids in their own type; unknown ones stay text
                frame["id"] = pd.Series(typed, index=frame.index, dtype=object if typed else None)
            return frame
        positions = self._id_positions(frame["id"])
        if (positions >= 0).all():  # ids in their own type; unknown ids (another dataset's) stay text
            frame["id"] = self.ids[positions]
        return frame

    def tag_mask(self, names: str | Sequence[str]) -> np.ndarray:
        """Rows carrying any of the tags ``names``."""
        if self.tag_store is None:
            return np.zeros(self.n_rows, dtype=bool)
        return self.tag_store.tag_mask(names)

    def tags_changed(self) -> None:
        """Re-evaluate clauses on tags and let every view recompute (the tagger calls it after writes)."""
        self.selection.refresh({TAG_ROLE})

    def _id_positions(self, ids: Any) -> np.ndarray:
        """Row positions of ids, given as values or as their text (-1 where unknown)."""
        return self.row_keys.lookup(ids)

    def report(self, path: str | os.PathLike[str], groups: str | Sequence[str] | None = None) -> Path:
        """Write a self-contained HTML report (figures, slices, groups, selection, tags, audit trail; a
        regression's has its residuals, the slices by MAE and by mean residual, and its groups' errors)."""
        from .report import write_report

        return write_report(self, path, groups)

    def __repr__(self) -> str:
        engine = "" if self.in_memory else f", {self.engine.name} engine"
        meta = f" + {len(self.metadata)} metadata" if self.metadata else ""
        if len(self.models) > 1:  # the metric shown is the active model's
            meta += f", {len(self.models)} models ({self.active_model!r} active)"
        if self.is_regression:
            from .regression import regression_metrics

            mae = regression_metrics(self, ALL_ROWS).mae
            return (
                f"Evaluation({self.n_rows:,} rows, regression, {len(self.features)} features{meta}, "
                f"MAE {float(mae):.4g}, {len(self.selection)} active clause(s){engine})"
            )
        names = self.class_names
        shown = ", ".join(map(repr, names[:6])) + (", ..." if len(names) > 6 else "")
        kind = f"binary [{shown}]" if self.is_binary else f"{self.n_classes}-class [{shown}]"
        if self.positive_name is not None:
            kind += f", positive class {self.positive_name!r}"
            if self.is_binary and self.has_scores:
                kind += f" (score = P({self.positive_name!r}))"
        counts = self.engine.count(CONFUSION, ALL_ROWS).counts
        return (
            f"Evaluation({self.n_rows:,} rows, {kind}, {len(self.features)} features{meta}, "
            f"accuracy {np.trace(counts) / max(1, counts.sum()):.3f}, "
            f"{len(self.selection)} active clause(s){engine})"
        )

    # -- for views ---------------------------------------------------------------------------------
    def _register_source(self, kind: str) -> str:
        """A unique selection source name for a new view: "ConfusionMatrix", "ConfusionMatrix 2"..."""
        count = self._sources.get(kind, 0) + 1
        self._sources[kind] = count
        return kind if count == 1 else f"{kind} {count}"

    def role_names(self) -> dict[str, str]:
        """The names the roles go by in clauses and query text, by role: ``actual``, ``predicted`` and
        ``tag``, ``es_`` prefixed when the data has another column of that name (one that is not the
        role's own y_true / y_pred column)."""

        if not self.in_memory:
            return {role: f"es_{role}" if role in self.engine.schema else role for role in ROLES}
        if self.is_regression:  # actual and predicted are derived numeric columns
            return {role: f"es_{role}" if role in self.data.columns else role for role in ROLES}

        def build() -> dict[str, str]:
            own = {"actual": self.y_true, "predicted": None if self.pred_from_scores else self.y_pred}
            names = {}
            for role in ROLES:
                values = own.get(role)
                taken = role in self.data.columns and not (
                    values is not None
                    and np.array_equal(
                        self.data[role].to_numpy(dtype=object), np.asarray(values, dtype=object)
                    )
                )
                names[role] = f"es_{role}" if taken else role
            return names

        return self.cached(("role_names", self._active), build)

    def regression_names(self) -> dict[str, str]:
        """A regression's derived columns by what they are: ``actual``, ``predicted`` and ``residual``
        (``es_`` prefixed when the data has a column of that name), as query text names them."""
        if not self.is_regression:
            raise ValueError("regression_names: this Evaluation is a classification.")
        return {
            name: f"es_{name}" if name in self.columns else name
            for name in ("actual", "predicted", "residual")
        }

    def role_predicate(self, role: str, op: str, values: tuple[Any, ...]) -> Predicate:
        """A predicate on a role (``actual``, ``predicted``, ``tag``), named as query text names it."""
        return Predicate(self.role_names()[role], op, values, role=role)

    def query_name(self, name: str, what: str = "query name") -> tuple[str, str | None]:
        """(column, role) of a name in query text: a data or derived column, a role, or ``score``."""
        if not self.in_memory:
            return self.engine.query_name(name)
        roles = {text: role for role, text in self.role_names().items()}
        if self.is_regression:  # only tags are a role; actual, predicted and residual are numbers
            roles = {text: role for text, role in roles.items() if role == TAG_ROLE}
        if name in roles:
            return name, roles[name]
        if name in self.data.columns or name in self.derived:
            return name, None
        score = "es_score" if "score" in self.data.columns else "score"
        confidence = next((c for c in self.derived if c.endswith("confidence")), None)
        if name == score and confidence is not None:  # multiclass: the predicted class's probability
            return confidence, None
        known = [*self.data.columns, *self.derived, *roles]
        require_column(name, what, self.data, known)
        return name, None

    def model_query_name(self, name: str, model: str) -> tuple[str, str | None, str]:
        """(column, role, model) of ``name[model]`` in query text: a model's predicted class
        (``predicted[candidate]``); a regression's predicted, residual or abs_error numbers."""
        check_model_name(model, self.models, f"{name}[...]")
        if self.is_regression:
            names = {**{v: k for k, v in self.regression_names().items()}, "abs_error": "abs_error"}
            if names.get(name) in MODEL_NUMBERS:
                return names[name], None, model
            raise ValueError(
                f"{name}[{model}]: only predicted, residual and abs_error name a model's numbers."
            )
        column, role = self.query_name(name)
        if role != "predicted":
            raise ValueError(f"{name}[{model}]: only predicted[...] names a model (its predicted class).")
        return column, role, model

    # -- construction helpers ----------------------------------------------------------------------
    def _derived_columns(self) -> dict[str, Any]:
        """Columns computed from the evaluation itself, by name (prefixed ``es_`` if the data has one)."""
        found: dict[str, Any] = {}
        if self.is_regression:
            found["actual"] = lambda: self.actual_values
            found["predicted"] = lambda: self.predicted_values
            found["residual"] = lambda: self.residual
        elif self.scores is not None and self.is_binary:
            found["score"] = lambda: self.scores[:, 1]
        elif self.scores is not None:
            found["confidence"] = lambda: self.scores[np.arange(self.n_rows), self.pred_codes]
        if self.text_column is not None:
            text = self.data[self.text_column]
            found[f"len({self.text_column})"] = lambda: (
                text.astype("string").str.len().to_numpy(dtype=np.float64, na_value=np.nan)
            )
        taken = set(self.data.columns)
        return {(f"es_{k}" if k in taken else k): v for k, v in found.items()}

    def _text_length_name(self) -> str | None:
        return next((k for k in self.derived if k.endswith(f"len({self.text_column})")), None)

    def _score_columns(self, y_score: Any) -> list[str]:
        if isinstance(y_score, str):
            return [require_column(y_score, "y_score", self.data)]
        if isinstance(y_score, list | tuple) and y_score and all(isinstance(c, str) for c in y_score):
            return [require_column(c, "y_score", self.data) for c in y_score]
        return []

    def _ids(self, ids: Any, n: int) -> np.ndarray:
        if ids is None:
            index = self.data.index
            values = index.to_numpy() if index.is_unique else np.arange(n)
        else:
            values, _ = column_or_array(ids, "ids", self.data)
            check_no_missing(values, "ids")
        values = np.asarray(values)  # a numpy array (object for text), never a pandas dtype
        series = pd.Series(values, dtype=values.dtype)
        dup = series[series.duplicated()]
        if len(dup):
            raise ValueError(
                f"ids must be unique, but {len(dup):,} are repeated (e.g. {dup.iloc[0]!r}); tags are "
                "keyed by id, so pass a unique id column, or omit ids to use row positions."
            )
        texts = series.astype(str) if values.dtype == object else series  # tags key ids by text:
        clash = texts[texts.duplicated(keep=False)]  # 1 and "1" would share one row's tags
        if len(clash):
            first = series[texts == clash.iloc[0]].tolist()
            raise ValueError(
                f"ids {first[0]!r} and {first[1]!r} are the same as text; tags are keyed by the id's "
                "text, so pass ids of one type (e.g. convert the id column to str)."
            )
        return values

    def _check_score_direction(self) -> None:
        """Warn when a 1-D y_score ranks the rows in reverse of P(positive class): most likely it is the
        other class's probability (a categorical y_true whose categories are ['yes', 'no'], say)."""
        from sklearn.metrics import roc_auc_score

        actual = self.true_codes == 1
        if actual.all() or not actual.any():
            return
        rows = np.random.default_rng(0).choice(self.n_rows, min(self.n_rows, 200_000), replace=False)
        if actual[rows].all() or not actual[rows].any():
            return
        auc = roc_auc_score(actual[rows], self.scores[rows, 1])
        if auc < 0.35:
            other, positive = self.class_names
            warnings.warn(
                f"y_score is read as P({positive!r}) (the positive class, second in the class order), but it "
                f"ranks the rows in reverse of it (ROC AUC {auc:.2f}): if y_score is P({other!r}), pass "
                f"positive_class={self.classes[0]!r}, or pass 1 - y_score.",
                UserWarning,
                stacklevel=3,
            )

    def _features(
        self, features: Any, metadata: Any, model: Any, role_cols: set[str]
    ) -> tuple[list[str], list[str]]:
        """(features, metadata): what the model consumes, and the other columns sliced and checked."""
        role_cols = role_cols | self._other_role_columns
        rest = [c for c in self.data.columns if c not in role_cols]
        meta: list[str] | None = None
        if metadata is not None:  # [] or () for none
            empty = isinstance(metadata, list | tuple) and not metadata
            meta = [] if empty else column_list(metadata, "metadata", self.data)
        for column in meta or ():
            if column in role_cols:
                raise ValueError(
                    f"metadata={column!r} is already used as y_true, y_pred, y_score, ids or text: "
                    "list only other columns in metadata."
                )
        names = getattr(model, "feature_names_in_", None)
        expected = [str(c) for c in names] if names is not None else None
        if expected is not None:
            _check_model_columns(expected, list(self.data.columns), rest)
        if features is not None:
            chosen = column_list(features, "features", self.data)
            if expected is not None and set(chosen) != set(expected):
                extra = [c for c in chosen if c not in expected]
                left_out = [c for c in expected if c not in chosen]
                what = [f"lists {extra[:8]} that the model was not fitted on"] if extra else []
                what += [f"leaves out {left_out[:8]} that it was fitted on"] if left_out else []
                raise ValueError(
                    f"features= {' and '.join(what)}; the model's feature_names_in_ are its features: "
                    "omit features=, and pass the other columns as metadata=."
                )
            chosen = expected or chosen  # the model's order: scikit-learn checks it
        elif expected is not None:
            chosen = expected
        else:
            chosen = [c for c in rest if c not in (meta or ())]
        n_in = getattr(model, "n_features_in_", None)
        if expected is None and isinstance(n_in, int | np.integer) and n_in != len(chosen):
            raise ValueError(
                f"model was fitted on {n_in} features but {len(chosen)} columns would be passed to it "
                f"({chosen[:8]}{' ...' if len(chosen) > 8 else ''}): pass features= the model's columns "
                "in its order (and metadata= the others)."
            )
        if meta is None:
            return chosen, [c for c in rest if c not in chosen]
        both = [c for c in meta if c in chosen]
        if both:
            raise ValueError(
                f"metadata {both} are also features (the model consumes them): a column is a feature or "
                "metadata, not both; remove them from metadata= (features are sliced too)."
            )
        return chosen, meta

    def _model_scores(self, model: Any) -> np.ndarray:
        X = self.X if hasattr(model, "feature_names_in_") else self.X.to_numpy()
        proba = np.asarray(model.predict_proba(X))
        model_classes = list(getattr(model, "classes_", self.classes))
        if sorted(map(str, model_classes)) != sorted(map(str, self.classes)):
            raise ValueError(
                f"model.classes_ {model_classes} differ from the classes of y_true {self.classes}: "
                "pass labels= listing every class the model knows."
            )
        order = [list(map(str, model_classes)).index(str(c)) for c in self.classes]
        return as_scores(proba[:, order], len(self.classes), "model.predict_proba")

    def _predict_from_scores(self) -> np.ndarray:
        assert self.scores is not None
        if self.is_binary:  # the positive class is the second
            return (self.scores[:, 1] >= self._threshold).astype(np.int32)
        return np.argmax(self.scores, axis=1).astype(np.int32)


def _refuse_continuous(values: np.ndarray, name: str) -> None:
    """Refuse float labels that look like a regression target: fractional values (scikit-learn's
    "continuous" target type), or more than :data:`MAX_FLOAT_CLASSES` distinct values."""
    if np.asarray(values).dtype.kind != "f":
        return
    array = np.asarray(values, dtype=np.float64)
    finite = array[np.isfinite(array)]  # non-finite labels are refused with the classes
    distinct = pd.unique(finite)
    if len(distinct) <= MAX_FLOAT_CLASSES and not np.any(distinct % 1 != 0):
        return
    examples = ", ".join(f"{v:.4g}" for v in distinct[:3])
    hint = " If these are probabilities, pass them as y_score=." if name == "y_pred" else ""
    raise ValueError(
        f"{name} looks like a regression target ({len(distinct):,} distinct float values, e.g. "
        f'{examples}) but this Evaluation is a classification: for a numeric target pass task="regression" '
        "(and no y_score, labels or threshold). For a classifier, pass class labels (ints, strings or "
        f"categories), bin the target (e.g. pd.cut), or list the classes in labels=.{hint}"
    )


def _check_model_columns(expected: list[str], columns: list[str], others: list[str]) -> None:
    """Every column the model was fitted on (``feature_names_in_``) must be in the data's ``columns``
    (``others``: the non-role columns, named in the message)."""
    missing = [c for c in expected if c not in columns]
    if not missing:
        return
    extra = [c for c in others if c not in expected]
    instead = f"; data has instead {extra[:6]}{' ...' if len(extra) > 6 else ''}" if extra else ""
    raise ValueError(
        f"model was fitted on columns that data lacks: {missing[:8]}{' ...' if len(missing) > 8 else ''} "
        f"({len(missing)} of its {len(expected)} feature_names_in_{instead}). Either pass as data the "
        "encoded frame the model was fitted on (e.g. the same pd.get_dummies columns), or put the "
        "encoding in a Pipeline fitted on the raw columns (make_pipeline(encoder, model)), or pass "
        "y_score= (or y_pred=) computed from the model and leave model= out."
    )


def _positive_order(classes: list[Any], labels: Any, positive_class: Any) -> tuple[list[Any], int | None]:
    """The classes with a binary task's positive class second, and the positive class's code (binary:
    1; multiclass: ``positive_class``'s, or None)."""
    if positive_class is None:
        return classes, (1 if len(classes) == 2 else None)
    if isinstance(positive_class, list | tuple | set | dict | np.ndarray):
        raise TypeError(
            f"positive_class must be one class (a value or display name), not a "
            f"{type(positive_class).__name__}; classes are {classes}."
        )
    names = _display_names(classes, labels)
    if positive_class in classes:
        code = classes.index(positive_class)
    elif isinstance(positive_class, str) and positive_class in names:
        code = names.index(positive_class)
    else:
        raise ValueError(
            f"positive_class={positive_class!r} is not a class; classes are {classes}"
            + (f" (display names {names})" if names != [str(c) for c in classes] else "")
            + ": pass one of them."
        )
    if len(classes) == 2:
        return [classes[1 - code], classes[code]], 1
    return classes, code


def _check_threshold(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"threshold must be a number between 0 and 1, not {value!r}.")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {value}.")
    return float(value)


def _class_order(
    true_values: np.ndarray,
    true_dtype: Any,
    pred_values: np.ndarray | None,
    labels: Any,
    model: Any,
    y_true_arg: Any,
) -> list[Any]:
    """Class order: ``labels`` if given, else model.classes_, categories, or the sorted observed values."""
    if labels is not None:
        classes = list(labels.keys()) if isinstance(labels, Mapping) else list(labels)
        if len(set(map(repr, classes))) != len(classes):
            raise ValueError(f"labels has repeated classes: {classes}; list each class once.")
    elif model is not None and hasattr(model, "classes_"):
        classes = [_scalar(c) for c in model.classes_]
        observed = [_scalar(v) for v in pd.unique(true_values)]
        if not set(observed) & set(classes):
            raise ValueError(
                f"model.classes_ {classes} differ from the classes of y_true "
                f"{sorted(observed, key=str)}: pass labels= listing every class, in the model's order."
            )
        classes += sorted(set(observed) - set(classes), key=str)  # classes the model never learned
    else:
        if isinstance(true_dtype, pd.CategoricalDtype):  # categories no row uses are dropped
            used = set(pd.unique(np.asarray(true_values, dtype=object)))
            if pred_values is not None:
                used |= set(pd.unique(np.asarray(pred_values, dtype=object)))
            classes = [c for c in true_dtype.categories if c in used]
        else:
            observed = [pd.unique(true_values)]
            if pred_values is not None:
                observed.append(pd.unique(pred_values))
            uniques = pd.unique(np.concatenate([np.asarray(u, dtype=object) for u in observed]))
            try:
                classes = sorted(uniques)
            except TypeError as err:
                kinds = sorted({type(v).__name__ for v in uniques})
                raise TypeError(
                    f"y_true and y_pred mix label types ({', '.join(kinds)}): use one type, e.g. "
                    "convert both to str, or pass labels= with the class order."
                ) from err
        classes = [_scalar(c) for c in classes]
    bad = [c for c in classes if isinstance(c, float) and not np.isfinite(c)]
    if bad:
        where = "labels" if labels is not None else (y_true_arg if isinstance(y_true_arg, str) else "y_true")
        raise ValueError(
            f"{where} has a non-finite class {bad[0]!r}: a class must be a finite value. Drop or relabel "
            "those rows (NaN means a missing label), or map the labels to names first."
        )
    if len(classes) < 2:
        what = y_true_arg if isinstance(y_true_arg, str) else "y_true"
        raise ValueError(
            f"{what} has a single class ({classes[0] if classes else 'none'!r}): errorscope analyses "
            "classifiers, which need at least two classes. Pass labels= listing all classes."
        )
    return classes


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _display_names(classes: list[Any], labels: Any) -> list[str]:
    """Each class's display name (``labels``' dict values, else its text); two classes may not share one."""
    names = [str(labels[c]) for c in classes] if isinstance(labels, Mapping) else [str(c) for c in classes]
    first: dict[str, Any] = {}
    for c, name in zip(classes, names, strict=True):
        if name in first:
            fix = (
                "give each class its own name in labels="
                if isinstance(labels, Mapping)
                else "use one label type in y_true and y_pred (e.g. convert both to str), or pass "
                "labels={class: name} with distinct names"
            )
            where = "labels" if labels is not None else "y_true"
            raise ValueError(
                f"{where}: classes {first[name]!r} and {c!r} have the same display name {name!r}, so "
                f"no view could tell them apart: {fix}."
            )
        first[name] = c
    return names


def _codes(values: np.ndarray, classes: list[Any], name: str) -> np.ndarray:
    """Class indices of ``values``; unknown labels are an error naming them."""
    index = pd.Index(classes, dtype=object)
    codes = index.get_indexer(pd.Index(np.asarray(values, dtype=object)))
    if (codes < 0).any():
        unknown = pd.unique(np.asarray(values, dtype=object)[codes < 0])[:5]
        raise ValueError(
            f"{name} has labels that are not among the classes {classes}: {list(unknown)}. "
            "Pass labels= with every class, or check that y_true and y_pred use the same labels."
        )
    return codes.astype(np.int32)
