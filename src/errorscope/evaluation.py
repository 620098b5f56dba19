"""The Evaluation: data, labels, predictions, scores, model and the linked selection, in one object."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from .coding import ColumnCodes, encode_column
from .counting import KeyCounter, Rows, prefetch
from .inputs import (
    as_frame,
    as_scores,
    check_no_missing,
    column_list,
    column_or_array,
    require_column,
)
from .selection import Clause, Predicate, Selection, SelectionChange
from .tags import TAG_COLUMNS, RowKeys, TagStore, TagStoreError, dataset_fingerprint, default_store_path

T = TypeVar("T")

ROLE_COLUMNS = ("actual", "predicted")
TAG_ROLE = "tag"  # Predicate("tag", "in", (names,)) selects tagged rows once a tag store is attached


class Evaluation:
    """A classifier's evaluation set, validated once and coded for fast linked views.

    Parameters
    ----------
    data : pandas or polars DataFrame, or a 2-D numpy array (with ``feature_names``).
    y_true : column name or array-like of true labels (int, str, bool or categorical).
    y_pred : column name or array-like; derived from ``y_score`` (``threshold`` for binary, argmax for
        multiclass) or from ``model`` when omitted.
    y_score : class probabilities: a column name or list of columns, an (n,) array (probability of the
        positive class, binary only) or an (n, k) array in class order.
    model : fitted estimator with ``predict`` (and ``predict_proba``); used for predictions when neither
        ``y_pred`` nor ``y_score`` is given, and later for explanations.
    features : the columns the model consumes (default: ``model.feature_names_in_`` if present, else
        every column not used as y_true, y_pred, y_score, ids or text).
    sensitive : sensitive attribute column(s), for group comparisons.
    text : an optional text column, shown in row views and sliced by length.
    ids : stable row ids (column or array); default: the DataFrame index if unique, else 0..n-1.
    labels : class order, as a list of values, or a dict {value: display name}.
    threshold : binary decision threshold applied to the positive class's probability.
    feature_names : column names when ``data`` is a numpy array.
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
    ) -> None:
        self.data = as_frame(data, feature_names)
        self.model = model
        n = len(self.data)

        true_values, true_col = column_or_array(y_true, "y_true", self.data)
        check_no_missing(true_values, "y_true")
        pred_values, pred_col = (None, None)
        if y_pred is not None:
            pred_values, pred_col = column_or_array(y_pred, "y_pred", self.data)
            check_no_missing(pred_values, "y_pred")

        true_dtype = self.data[y_true].dtype if true_col else getattr(y_true, "dtype", None)
        self.classes = _class_order(true_values, true_dtype, pred_values, labels, model, y_true)
        self.class_names = _display_names(self.classes, labels)
        self.true_codes = _codes(true_values, self.classes, "y_true")

        score_cols = self._score_columns(y_score)
        self.ids = self._ids(ids, n)
        self.text_column = require_column(text, "text", self.data) if text is not None else None
        self.sensitive = column_list(sensitive, "sensitive", self.data)
        role_cols = {c for c in (true_col, pred_col, self.text_column) if c} | set(score_cols)
        if isinstance(ids, str):
            role_cols.add(ids)
        self.features = self._features(features, model, role_cols)

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
        elif pred_values is None and model is not None and hasattr(model, "predict_proba"):
            self.scores = self._model_scores(model)

        self._threshold = _check_threshold(threshold)
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
        self._codes_cache: dict[str, ColumnCodes] = {}
        self._bins: dict[str, Any] = {}
        self.derived = self._derived_columns()
        self.predictions_version = 0
        self._sources: dict[str, int] = {}
        self.tag_store: TagStore | None = None
        self.selection = Selection(n, self._resolve, self._forget_columns)
        self._counters: weakref.WeakSet[KeyCounter] = weakref.WeakSet()
        self._counted_rows: Rows | None = None
        self.selection.observe(self._count_ahead)  # first observer: runs before every view

    # -- public API --------------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return len(self.data)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def is_binary(self) -> bool:
        return len(self.classes) == 2

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
            raise ValueError(
                "threshold only applies to a binary Evaluation whose predictions come from y_score "
                "(or a model's predict_proba); this one has "
                + ("explicit y_pred." if not self.pred_from_scores else f"{self.n_classes} classes.")
            )
        value = _check_threshold(value)
        if value == self._threshold:
            return
        self._threshold = value
        self.pred_codes = self._predict_from_scores()
        self.predictions_version += 1
        self.selection.refresh({"predicted"})

    @property
    def positive_score(self) -> np.ndarray | None:
        """Binary: the probability of the positive class (the second class)."""
        return None if self.scores is None or not self.is_binary else self.scores[:, 1]

    @property
    def wrong(self) -> np.ndarray:
        """Per row, whether the prediction is wrong (read-only, computed once per predictions)."""

        def build() -> np.ndarray:
            out = self.true_codes != self.pred_codes
            out.flags.writeable = False
            return out

        return self.cached(("wrong", self.predictions_version), build)

    @property
    def y_true(self) -> np.ndarray:
        return self.classes_array[self.true_codes]

    @property
    def y_pred(self) -> np.ndarray:
        return self.classes_array[self.pred_codes]

    @property
    def classes_array(self) -> np.ndarray:
        arr = np.empty(len(self.classes), dtype=object)
        arr[:] = self.classes
        return arr

    def select(self, query: Any, source: str = "code") -> Selection:
        """Select rows from code: a pandas query string, a boolean mask, row ids, or a Clause.

        The selection made from ``source`` replaces that source's previous one.
        """
        if isinstance(query, Clause):
            self.selection.set(query)
            return self.selection
        if isinstance(query, Predicate):
            predicate = query
        elif isinstance(query, str):
            predicate = Predicate("query", "query", (query,))
            self._resolve(predicate)  # raise on a bad query before touching the selection
        else:
            values = query.to_numpy() if isinstance(query, pd.Series | pd.Index) else query
            values = np.asarray(values)
            if values.dtype == bool:
                if values.shape != (self.n_rows,):
                    raise ValueError(
                        f"select(mask): the boolean mask has shape {values.shape} but the "
                        f"Evaluation has {self.n_rows:,} rows; pass one value per row."
                    )
                predicate = Predicate("row", "mask", mask=values.copy())
            else:
                positions = self.row_keys.positions(values.tolist(), "select(ids)")
                predicate = Predicate("id", "ids", tuple(self.ids[positions].tolist()))
        self.selection.set(Clause.where(source, predicate))
        return self.selection

    def selected(self) -> pd.DataFrame:
        """The rows every clause keeps, with ``actual``, ``predicted`` (and ``score``) columns."""
        return self.frame()[self.selection.mask()]

    def frame(self) -> pd.DataFrame:
        """The data with the evaluation's columns added (``es_`` prefixed where a name is taken)."""
        extra: dict[str, Any] = {"id": self.ids, "actual": self.y_true, "predicted": self.y_pred}
        if self.positive_score is not None:
            extra["score"] = self.positive_score
        elif self.scores is not None:
            extra["score"] = self.scores[np.arange(self.n_rows), self.pred_codes]
        out = self.data.copy(deep=False)
        for name, values in extra.items():
            key = name if name not in out.columns else f"es_{name}"
            out[key] = values
        return out

    def cached(self, key: tuple[Any, ...], build: Callable[[], T], keep: int = 1) -> T:
        """A structure derived from this Evaluation, built once per ``key``: its first item names the
        kind, the rest is what the structure depends on (e.g. ``predictions_version``). The last ``keep``
        of each kind are kept."""
        memo: dict[tuple[Any, ...], Any] = self.__dict__.setdefault("_derived", {})
        if key not in memo:
            same_kind = [k for k in memo if k[0] == key[0]]
            for old in same_kind[: max(0, len(same_kind) - keep + 1)]:
                del memo[old]
            memo[key] = build()
            self._counters.update(_counters_in(memo[key]))
        return memo[key]

    def _count_ahead(self, change: SelectionChange) -> None:
        """Count the new selection with every counter the views used on the last one, in parallel."""
        rows = Rows.of(self.selection.mask(), self.n_rows)
        used = [c for c in self._counters if c.counted_last(self._counted_rows)]
        self._counted_rows = rows
        prefetch(used, rows)

    def codes(self, column: str) -> ColumnCodes:
        """Integer codes of a column (value, bin or period per row), computed once and cached.

        ``column`` is a data column or a derived one (see :attr:`derived`). Numeric columns get quantile
        bins unless :meth:`set_bins` gave edges; scores get tenths of [0, 1].
        """
        if column not in self._codes_cache:
            values = self.column_values(column)
            bins = self._bins.get(column)
            if bins is None and column in self.derived and column != self._text_length_name():
                bins = np.linspace(0, 1, 11)
            if isinstance(bins, int):
                coded = encode_column(column, values, bins=bins)
            else:
                coded = encode_column(column, values, edges=bins)
            self._codes_cache[column] = coded
        return self._codes_cache[column]

    def column_values(self, column: str) -> pd.Series:
        """A data column, or a derived one: the positive class's ``score`` (binary), the predicted class's
        ``confidence`` (multiclass) or the text's length ``len(<text>)``."""
        if column in self.derived:
            return pd.Series(self.derived[column](), index=self.data.index, name=column)
        known = [*self.data.columns, *self.derived]
        return self.data[require_column(column, "column", self.data, known)]

    def set_bins(self, column: str, edges: Sequence[float] | int) -> None:
        """Bin a numeric column at your ``edges`` (increasing cut points) or into ``edges`` quantile bins.

        Cut points [25, 45, 65] give "< 25", "in [25, 45)", "in [45, 65)" and "≥ 65": no row falls
        outside. Every view recomputes with the new bins.
        """
        values = self.column_values(column)
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            raise TypeError(f"set_bins({column!r}): only numeric columns are binned; it is {values.dtype}.")
        if isinstance(edges, int | np.integer) and not isinstance(edges, bool):
            if edges < 2:
                raise ValueError(f"set_bins({column!r}, {edges}): ask for at least 2 bins.")
            self._bins[column] = int(edges)
        else:
            array = np.asarray(edges, dtype=np.float64) if edges is not None else np.array([])
            if array.ndim != 1 or len(array) < 2 or not np.all(np.diff(array) > 0):
                raise ValueError(
                    f"set_bins({column!r}, edges): give at least two strictly increasing edges, "
                    "e.g. [18, 30, 45, 65, 100], or a number of quantile bins."
                )
            self._bins[column] = array
        self._codes_cache.pop(column, None)
        self.selection.refresh(set())

    # -- tags ----------------------------------------------------------------------------------------
    def attach_tags(
        self, store: str | os.PathLike[str] | TagStore | None = None, who: str | None = None,
        model: str | None = None, vocabulary: str | Sequence[str] = (),
    ) -> TagStore:  # fmt: skip
        """Keep this Evaluation's tags in ``store`` (a SQLite path, created if new): see :mod:`errorscope.tags`.

        Without ``store``, each dataset gets its own file, ``errorscope-tags/<fingerprint>.sqlite`` in the
        working directory. A store already attached with the same path is reused (its vocabulary grows).
        """
        fingerprint = self.cached(
            ("fingerprint",), lambda: dataset_fingerprint(self.ids, self.true_codes, self.classes)
        )
        if isinstance(store, TagStore):
            if store.fingerprint and store.fingerprint != fingerprint:
                raise TagStoreError(f"{store.path} holds tags for another dataset: pass this data's store.")
            store.bind(self.row_keys, self.classes, self.class_names)
            store.add_tag_names(vocabulary, "vocabulary")
            self.tag_store = store
        else:
            path = default_store_path(fingerprint) if store is None else Path(store).expanduser().resolve()
            if self.tag_store is not None and self.tag_store.path == path.resolve():
                self.tag_store.add_tag_names(vocabulary, "vocabulary")
            else:
                self.tag_store = TagStore(
                    store, fingerprint, who=who, model=model, vocabulary=vocabulary,
                    rows=self.row_keys, classes=self.classes, class_names=self.class_names,
                )  # fmt: skip
        self.tags_changed()
        return self.tag_store

    @property
    def row_keys(self) -> RowKeys:
        """The rows' keys in a tag store, and the lookup from an id (a value or its text) to its row."""
        if "_row_keys" not in self.__dict__:
            self._row_keys = RowKeys(self.ids)
        return self._row_keys

    @property
    def tags(self) -> pd.DataFrame:
        """Current tags: one row per (id, tag), with note, relabel, who and when (empty without a store)."""
        if self.tag_store is None:
            return pd.DataFrame(columns=TAG_COLUMNS)
        frame = self.tag_store.tags()
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
        """Write a self-contained HTML report (figures, slices, groups, selection, tags, audit trail)."""
        from .report import write_report

        return write_report(self, path, groups)

    def __repr__(self) -> str:
        kind = "binary" if self.is_binary else f"{self.n_classes}-class"
        return (
            f"Evaluation({self.n_rows:,} rows, {kind}, {len(self.features)} features, "
            f"accuracy {np.mean(self.true_codes == self.pred_codes):.3f}, "
            f"{len(self.selection)} active clause(s))"
        )

    # -- for views ---------------------------------------------------------------------------------
    def _register_source(self, kind: str) -> str:
        """A unique selection source name for a new view: "ConfusionMatrix", "ConfusionMatrix 2"..."""
        count = self._sources.get(kind, 0) + 1
        self._sources[kind] = count
        return kind if count == 1 else f"{kind} {count}"

    def _resolve(self, predicate: Predicate) -> np.ndarray:
        """Evaluate one predicate to a boolean mask over the rows."""
        op, column = predicate.op, predicate.column
        if op == "mask":
            assert predicate.mask is not None
            return predicate.mask
        if op == "ids":
            inside = np.zeros(self.n_rows, dtype=bool)
            positions = self._id_positions(predicate.values)
            inside[positions[positions >= 0]] = True
            return inside
        if op == "query":
            return self._query_mask(str(predicate.values[0]))
        if column == TAG_ROLE and self.tag_store is not None:  # tags win over a data column named "tag"
            inside = self.tag_mask(predicate.values)
            return inside if op == "in" else ~inside
        if column in ROLE_COLUMNS:  # roles win over data columns of the same name
            codes = self.true_codes if column == "actual" else self.pred_codes
            wanted = [self.classes.index(v) for v in predicate.values if v in self.classes]
            if len(wanted) == 1:  # one class: a comparison is faster than a lookup
                return codes == wanted[0] if op == "in" else codes != wanted[0]
            lookup = np.zeros(self.n_classes, dtype=bool)
            lookup[wanted] = True
            if op == "not in":
                lookup = ~lookup
            return lookup[codes]
        if column in self.derived:
            values = self.column_values(column)
        else:
            values = self.data[require_column(column, "predicate column", self.data)]
        if op == "isna":
            return values.isna().to_numpy()
        if op == "between":
            lo, hi = predicate.values
            if pd.api.types.is_datetime64_any_dtype(values.dtype):
                keep = np.ones(len(values), dtype=bool) if lo is None else (values >= lo).to_numpy()
                return keep if hi is None else keep & (values < hi).to_numpy()
            x = values.to_numpy(dtype=np.float64, na_value=np.nan)
            keep = np.ones(len(x), dtype=bool) if lo is None else x >= lo
            return keep if hi is None else keep & (x < hi)
        codes, uniques = self._factorized(column, values)
        lookup = np.append(uniques.isin(list(predicate.values)), False)  # code -1 (missing) is never in
        inside = lookup[codes]
        return inside if op == "in" else ~inside & (codes >= 0)

    def _forget_columns(self, columns: set[str] | None) -> None:
        """The data of ``columns`` (all when None) changed: drop their factorized values."""
        memo = self.__dict__.get("_derived", {})
        for key in [k for k in memo if k[0] == "factorized" and (columns is None or k[1] in columns)]:
            del memo[key]

    def _factorized(self, column: str, values: pd.Series) -> tuple[np.ndarray, pd.Index]:
        """``pd.factorize`` of a column, once: value predicates then cost one lookup per row."""

        def build() -> tuple[np.ndarray, pd.Index]:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            return codes.astype(np.int32), pd.Index(uniques)

        version = self.predictions_version if column in self.derived else 0  # "confidence" follows them
        return self.cached(("factorized", column, version), build, keep=64)

    def _query_mask(self, expr: str) -> np.ndarray:
        roles = {"actual": self.y_true, "predicted": self.y_pred}
        extra = {k: pd.Series(v, index=self.data.index) for k, v in roles.items()}
        extra = {k: v for k, v in extra.items() if k not in self.data.columns}
        try:
            result = self.data.eval(expr, resolvers=(extra,))
        except Exception as err:
            raise ValueError(
                f"select({expr!r}) failed: {type(err).__name__}: {err}. Use pandas query syntax, "
                "e.g. \"age > 60 and sex == 'Female'\" (also `actual` and `predicted`)."
            ) from err
        mask = np.asarray(result)
        if mask.dtype != bool or mask.shape != (self.n_rows,):
            raise ValueError(
                f"select({expr!r}) must give one True/False per row; it gave {mask.dtype} "
                f"of shape {mask.shape}. Write a comparison, e.g. 'age > 60'."
            )
        return mask

    # -- construction helpers ----------------------------------------------------------------------
    def _derived_columns(self) -> dict[str, Any]:
        """Columns computed from the evaluation itself, by name (prefixed ``es_`` if the data has one)."""
        found: dict[str, Any] = {}
        if self.scores is not None and self.is_binary:
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
        series = pd.Series(values)
        dup = series[series.duplicated()]
        if len(dup):
            raise ValueError(
                f"ids must be unique, but {len(dup):,} are repeated (e.g. {dup.iloc[0]!r}); tags are "
                "keyed by id, so pass a unique id column, or omit ids to use row positions."
            )
        return values

    def _features(self, features: Any, model: Any, role_cols: set[str]) -> list[str]:
        if features is not None:
            return column_list(features, "features", self.data)
        names = getattr(model, "feature_names_in_", None)
        if names is not None and all(str(c) in self.data.columns for c in names):
            return [str(c) for c in names]
        return [c for c in self.data.columns if c not in role_cols]

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
        if self.is_binary:
            return (self.scores[:, 1] >= self._threshold).astype(np.int32)
        return np.argmax(self.scores, axis=1).astype(np.int32)


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
        if isinstance(true_dtype, pd.CategoricalDtype):
            classes = list(true_dtype.categories)
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
    if isinstance(labels, Mapping):
        return [str(labels[c]) for c in classes]
    return [str(c) for c in classes]


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


def _counters_in(value: Any) -> list[KeyCounter]:
    """The KeyCounters in a cached structure: itself, its ``counters``, or those in a tuple."""
    if isinstance(value, KeyCounter):
        return [value]
    if isinstance(value, tuple):
        return [c for item in value for c in _counters_in(item)]
    return [c for c in getattr(value, "counters", ()) if isinstance(c, KeyCounter)]
