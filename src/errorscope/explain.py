"""SHAP and LIME explanations of an Evaluation's model, computed lazily for the rows asked for and cached.

Which algorithm (``Explainer.algorithm``, and ``algorithm_for(output)`` per output space):

- **tree**: a tree ensemble (scikit-learn, XGBoost, LightGBM...) fitted directly on numeric features is
  explained exactly by ``shap.TreeExplainer`` (interventional, over the background) in the space its trees
  are in: probability for random forests, extra trees and decision trees, log-odds for binary gradient
  boosting (whose probability it also explains exactly, through shap's ``model_output="probability"``),
  and for multiclass boosting the softmax margin ("margin": a class's raw score, not its log-odds; no
  other path computes it, so it is path-dependent TreeSHAP, its base the trees' expected value).
- **linear**: a binary ``LogisticRegression``, alone or ending a Pipeline whose preprocessing works column
  by column (scalers, imputers, one-hot encoders), is explained exactly in log-odds: coefficient times
  (transformed value minus its background mean), as ``shap.LinearExplainer`` does, summed back per original
  column (the one-hot columns of a category add up to that column's contribution).
- **permutation**: anything else, and any output space the exact explainers do not work in, is explained
  on the *original* features by
  ``shap.explainers.Permutation`` over the model's ``predict_proba``. String and categorical columns are
  passed to shap as integer codes and decoded back before the model sees them, so the pipeline's own
  encoders run as usual and explanations are reported per original column. The background is a seeded
  k-means summary (``shap.kmeans``) when every feature is numeric, else a seeded sample of rows (k-means
  centroids of category codes would be categories that do not exist).
- **precomputed**: ``shap.Explanation`` objects or arrays passed as ``values=``.

A **regression** (``ev.is_regression``) has one output, ``"prediction"``, in the target's units: tree
ensembles by ``shap.TreeExplainer`` (interventional over the same background, raw output: the trees'
prediction), a linear regressor alone or ending a Pipeline of column-wise preprocessing exactly as
``shap.LinearExplainer`` (per original column), anything else by the Permutation explainer over
``model.predict``; base value plus contributions equals ``model.predict`` (tested to 1e-6). LIME runs in
``mode="regression"``.

Outputs are the predicted class's (or a chosen class's) probability or log-odds; base value plus the
contributions equals the model's output for the row in that space (tested to 1e-6). Every path uses the same
background, so a space has one base value (the mean output over the background, as shap defines it) whichever
path computes it. ``native_output`` is the space the exact explainer works in, the default. LIME comes from
``lime.lime_tabular`` with categorical features declared and a fixed seed.

Rows are read through the Evaluation's engine (:class:`MemoryRows`: positions into ``ev.X``;
:class:`EngineRows`: ids fetched from DuckDB or Spark, each once): the background and LIME's training rows
are the first rows of the seeded ``random`` order (:func:`errorscope.ranking.random_key`), the same rows on
every engine, so an explanation of the same row has the same numbers on every engine.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .evaluation import Evaluation
from .jobs import Job
from .plans import ALL_ROWS, RowPage
from .selection import Predicate

OUTPUTS = ("log_odds", "probability", "margin", "prediction")  # margin: a multiclass booster's softmax
# score, exactly; prediction: a regressor's output, in the target's units
OUTPUT_LABELS = {
    "log_odds": "log-odds",
    "probability": "probability",
    "margin": "margin (softmax score)",
    "prediction": "prediction",
}
_GLOBAL_RNG_LOCK = threading.Lock()  # shap's model-agnostic explainers draw from numpy's global generator
EPS = 1e-12
LIME_TRAINING_ROWS = 5000  # the seeded rows LIME draws its statistics from


@dataclass
class RowExplanation:
    """Explanations of some rows for one class: ``values`` (rows x features), base values and outputs.

    ``rows`` are the rows' keys: positions in memory, ids on a SQL engine (see :class:`EngineRows`)."""

    rows: np.ndarray
    features: list[str]
    values: np.ndarray
    base_values: np.ndarray
    outputs: np.ndarray
    class_index: np.ndarray
    output: str
    source: Any = None  # where the rows' feature values are read (MemoryRows / EngineRows)

    def frame(self, i: int, data: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row's explanation: feature, value, contribution (largest effect first). ``data``: the
        Evaluation's data (in memory); without it the values come from the rows the explainer read."""
        row = self.rows[i]
        if data is not None:
            values = [data[f].iloc[row] for f in self.features]
        else:
            values = self.source.X(np.asarray([row], dtype=self.rows.dtype)).iloc[0].tolist()
        frame = pd.DataFrame({"feature": self.features, "value": values, "contribution": self.values[i]})
        frame.attrs.update(base_value=float(self.base_values[i]), output=float(self.outputs[i]))
        return frame.reindex(frame["contribution"].abs().sort_values(ascending=False).index).reset_index(
            drop=True
        )


class _Codec:
    """Non-numeric columns as integer codes (missing: -1) for shap and LIME, decoded back for the model.

    ``categories(column)`` gives a column's distinct present values; they are coded in value order (in
    order of appearance when they cannot be ordered), so every engine codes them alike."""

    def __init__(self, X: pd.DataFrame, categories: Callable[[str], Sequence[Any]]) -> None:
        self.columns = list(X.columns)
        self.categories: dict[str, pd.Index] = {}
        for c in self.columns:
            if not (pd.api.types.is_numeric_dtype(X[c].dtype) and not pd.api.types.is_bool_dtype(X[c].dtype)):
                values = pd.Index(np.asarray(list(categories(c)), dtype=object))
                with contextlib.suppress(TypeError):  # values of several types: in order of appearance
                    values = values.sort_values()
                self.categories[c] = values
        self.dtypes = X.dtypes

    @property
    def categorical_indices(self) -> list[int]:
        return [self.columns.index(c) for c in self.categories]

    def encode(self, X: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(X), len(self.columns)), dtype=np.float64)
        for j, c in enumerate(self.columns):
            if c in self.categories:
                out[:, j] = self.categories[c].get_indexer(X[c])
            else:
                out[:, j] = X[c].to_numpy(dtype=np.float64, na_value=np.nan)
        return out

    def decode(self, A: np.ndarray) -> pd.DataFrame:
        columns = {}
        for j, c in enumerate(self.columns):
            if c in self.categories:
                codes = np.rint(A[:, j]).astype(np.int64)
                values = self.categories[c].take(np.clip(codes, 0, None)).to_numpy(dtype=object)
                values[codes < 0] = np.nan  # as pandas reads a missing text
                columns[c] = (
                    values
                    if pd.api.types.is_object_dtype(self.dtypes[c])
                    else pd.Series(values, dtype=self.dtypes[c])
                )
            else:  # numbers stay floats: background centres fall between integers
                columns[c] = A[:, j]
        return pd.DataFrame(columns)


class MemoryRows:
    """The rows of an in-memory Evaluation, by position into ``ev.X`` (the explainer's keys)."""

    def __init__(self, ev: Evaluation) -> None:
        self.ev = ev

    def keys(self, rows: Sequence[Any]) -> np.ndarray:
        """``rows`` as positions (a ValueError outside 0..n-1)."""
        keys = np.asarray(rows, dtype=np.int64)
        if keys.size and (keys.min() < 0 or keys.max() >= self.ev.n_rows):
            raise ValueError(f"rows must be positions 0..{self.ev.n_rows - 1}.")
        return keys

    def of_ids(self, ids: Sequence[Any]) -> np.ndarray:
        """The keys of rows given by id (value or text)."""
        return self.ev.row_keys.positions(list(ids), "ids")

    def id_text(self, keys: Sequence[Any]) -> list[str]:
        return [str(v) for v in self.ev.ids[np.asarray(keys, dtype=np.int64)].tolist()]

    def X(self, keys: np.ndarray) -> pd.DataFrame:
        return self.ev.X.iloc[keys]

    def predicted(self, keys: np.ndarray) -> np.ndarray:
        """The rows' predicted class codes (a regression: its one output, 0)."""
        if self.ev.is_regression:
            return np.zeros(len(keys), dtype=np.int64)
        return self.ev.pred_codes[keys]

    def predicted_value(self, keys: np.ndarray) -> np.ndarray:
        """A regression's predictions of the rows (the Evaluation's, in the target's units)."""
        return self.ev.predicted_values[keys]

    def actual(self, keys: np.ndarray) -> np.ndarray:
        """The rows' actual labels (class values; a regression's actual numbers)."""
        if self.ev.is_regression:
            return self.ev.actual_values[keys]
        return self.ev.classes_array[self.actual_codes(keys)]

    def actual_codes(self, keys: np.ndarray) -> np.ndarray:
        return self.ev.true_codes[keys]

    def codes(self, column: str, keys: np.ndarray) -> np.ndarray:
        return self.ev.codes(column).codes[keys]

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        """The first ``n`` rows of the seeded ``random`` order (the same rows on every engine)."""
        return self.X(self.ev.engine.positions(RowPage("random", limit=n, seed=seed), ALL_ROWS))

    def distinct(self, column: str, limit: int) -> pd.Series:
        return self.ev.X[column].drop_duplicates().iloc[:limit]

    def categories(self, column: str) -> Sequence[Any]:
        return pd.unique(self.ev.X[column].dropna())

    def probe(self) -> pd.DataFrame:
        return self.ev.X.iloc[:2]


class EngineRows:
    """The rows of an Evaluation on a SQL engine, by id (the explainer's keys): each row fetched once
    (``engine.fetch``) and kept, with its predicted class and actual label."""

    def __init__(self, ev: Evaluation) -> None:
        self.ev, self.engine = ev, ev.engine
        self.features = list(ev.features)
        self._frame = pd.DataFrame(columns=self.features)
        self._predicted = pd.Series(dtype=np.int64)
        self._actual = pd.Series(dtype=object)
        self._values = pd.Series(dtype=np.float64)  # a regression's predictions
        self._samples: dict[tuple[int, int], pd.DataFrame] = {}
        self._lock = threading.Lock()

    def keys(self, rows: Sequence[Any]) -> np.ndarray:
        """``rows`` (ids) as an array of ids, each fetched now if it was not (unknown ids: a ValueError)."""
        keys = _id_values(rows)
        self._fetch(keys)
        return keys

    def of_ids(self, ids: Sequence[Any]) -> np.ndarray:
        """The keys of rows given by id, as values or as their text."""
        return self.keys(self.ev.row_keys.values(list(ids), "ids"))

    def id_text(self, keys: Sequence[Any]) -> list[str]:
        return [str(v) for v in _id_values(keys).tolist()]

    def _fetch(self, keys: np.ndarray) -> None:
        with self._lock:
            todo = [k for k in dict.fromkeys(keys.tolist()) if k not in self._predicted.index]
            if not todo:
                return
            rows = self.engine.fetch(np.asarray(todo, dtype=keys.dtype))
            names = {n: n if n not in self.ev.columns else f"es_{n}" for n in ("actual", "predicted")}
            index = pd.Index(todo, dtype=object)
            if getattr(self.ev, "task", "") == "regression":  # one output (0); predictions kept apart
                predicted = np.zeros(len(todo), dtype=np.int64)
                values = pd.Series(rows[names["predicted"]].to_numpy(dtype=np.float64), index=index)
                self._values = values if self._values.empty else pd.concat([self._values, values])
            else:
                classes = pd.Index(self.ev.classes, dtype=object)
                predicted = classes.get_indexer(pd.Index(rows[names["predicted"]].to_numpy(dtype=object)))
            fetched = rows[self.features].set_axis(index)
            self._frame = fetched if not len(self._frame) else pd.concat([self._frame, fetched])
            self._predicted = pd.concat([self._predicted, pd.Series(predicted, index=index, dtype=np.int64)])
            self._actual = pd.concat([self._actual, pd.Series(rows[names["actual"]].to_numpy(), index=index)])

    def X(self, keys: np.ndarray) -> pd.DataFrame:
        self._fetch(keys)
        return self._frame.loc[pd.Index(keys.tolist(), dtype=object)]

    def predicted(self, keys: np.ndarray) -> np.ndarray:
        self._fetch(keys)
        return self._predicted.loc[pd.Index(keys.tolist(), dtype=object)].to_numpy(dtype=np.int64)

    def predicted_value(self, keys: np.ndarray) -> np.ndarray:
        """A regression's predictions of the rows."""
        self._fetch(keys)
        return self._values.loc[pd.Index(keys.tolist(), dtype=object)].to_numpy(dtype=np.float64)

    def actual(self, keys: np.ndarray) -> np.ndarray:
        """The rows' actual labels (class values; a regression's numbers)."""
        self._fetch(keys)
        return self._actual.loc[pd.Index(keys.tolist(), dtype=object)].to_numpy()

    def actual_codes(self, keys: np.ndarray) -> np.ndarray:
        classes = pd.Index(self.ev.classes, dtype=object)
        return classes.get_indexer(pd.Index(self.actual(keys), dtype=object)).astype(np.int64)

    def codes(self, column: str, keys: np.ndarray) -> np.ndarray:
        return self.engine.codes_of(column, keys)

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        """As :meth:`MemoryRows.sample`: fetched once per (n, seed)."""
        if (n, seed) not in self._samples:
            ids = self.engine.page(RowPage("random", limit=n, seed=seed), ALL_ROWS)
            self._samples[(n, seed)] = self.engine.fetch(ids)[self.features].reset_index(drop=True)
        return self._samples[(n, seed)]

    def distinct(self, column: str, limit: int) -> pd.Series:
        """Up to ``limit`` distinct values: a category's from the engine, a number's from the sample."""
        if column in self._samples_numeric():
            sample = next(iter(self._samples.values()))
            return sample[column].drop_duplicates().iloc[:limit]
        values = self.engine.distinct(column)[:limit]
        if self.engine.missing_counts([column])[column]:
            values = [*values[: limit - 1], np.nan]  # a missing value is a value to the model's encoders
        return pd.Series(values, dtype=object)

    def _samples_numeric(self) -> set[str]:
        if not self._samples:
            return set()
        sample = next(iter(self._samples.values()))
        return {c for c in sample.columns if pd.api.types.is_numeric_dtype(sample[c].dtype)}

    def categories(self, column: str) -> Sequence[Any]:
        return self.engine.distinct(column)

    def probe(self) -> pd.DataFrame:
        return self.sample(2, 0)


def row_source(ev: Evaluation) -> MemoryRows | EngineRows:
    """Where ``ev``'s explainer reads rows: memory (positions) or its SQL engine (ids)."""
    return MemoryRows(ev) if ev.in_memory else EngineRows(ev)


def _id_values(rows: Sequence[Any]) -> np.ndarray:
    """Ids as an array of plain values (numbers stay numbers, text stays text)."""
    values = [v.item() if isinstance(v, np.generic) else v for v in np.asarray(rows, dtype=object).tolist()]
    return np.asarray(values, dtype=object if any(isinstance(v, str) for v in values) else None)


class Explainer:
    """Explanations of ``ev``'s model (or of precomputed ``values``), cached per (row, class, output).

    ``values``: a ``shap.Explanation`` or an array, (rows, features) for the positive class of a binary
    model or (rows, features, classes); ``base_values`` then gives the base value(s). ``background``: the
    number of background rows (k-means centres or sampled rows) for model-agnostic explanations.
    ``model``: explain another fitted model of the Evaluation (several models: on the same features).
    """

    def __init__(
        self,
        ev: Evaluation,
        values: Any = None,
        base_values: Any = None,
        background: int = 50,
        seed: int = 0,
        max_evals: int | None = None,
        values_output: str = "log_odds",
        model: Any = None,
    ) -> None:
        self.ev, self.seed = ev, seed
        self.features = list(ev.features)
        self.model = ev.model if model is None else model  # another of the Evaluation's models
        self.rows = row_source(ev)
        self._cache: dict[tuple[Any, int, str], tuple[np.ndarray, float, float]] = {}
        self._lock = threading.Lock()
        self._precomputed = None
        self.regression = getattr(ev, "task", "") == "regression"  # (a SQL engine's may not say yet)
        self._tree: dict[str, Any] = {}
        self._linear: _Linear | None = None
        if values is not None:
            if not ev.in_memory:
                raise ValueError(
                    f"precomputed values= hold one row per row in memory; this Evaluation runs on the "
                    f"{ev.engine.name} engine: omit values= and pass model= (rows are then explained by id)."
                )
            self._codec = _Codec(ev.X, self.rows.categories)
            if values_output not in OUTPUTS:
                raise ValueError(f"values_output must be one of {OUTPUTS}, got {values_output!r}.")
            self._precomputed = _precomputed(ev, values, base_values)
            self.algorithm, self.native_output, self.outputs = "precomputed", values_output, (values_output,)
            return
        if self.regression and (self.model is None or not hasattr(self.model, "predict")):
            raise ValueError(
                "explanations of a regression need a model with predict (pass model= to the Evaluation), "
                "or precomputed SHAP values: Explainer(ev, values=shap_values, base_values=...)."
            )
        if not self.regression and (self.model is None or not hasattr(self.model, "predict_proba")):
            raise ValueError(
                "explanations need a model with predict_proba (pass model= to the Evaluation), "
                "or precomputed SHAP values: Explainer(ev, values=shap_values, base_values=...)."
            )
        sampled = self.rows.sample(max(background * 20, 1000), seed)
        self._codec = _Codec(sampled, self.rows.categories)
        sample = self._codec.encode(sampled)
        if self._codec.categories:
            self._background = sample[: min(background, len(sample))]
        else:
            import shap

            filled = np.where(np.isnan(sample), np.nanmean(sample, axis=0), sample)
            np.random.seed(seed)  # shap.kmeans uses numpy's global generator
            self._background = shap.kmeans(filled, min(background, len(filled))).data
        if not self._codec.categories:
            found_trees = _regression_trees if self.regression else _tree_explainers
            self._tree = found_trees(self.model, self._codec.decode(self._background), self.rows.probe())
        if not self._tree:
            self._linear = _Linear.of(
                self.model, sampled, self.rows.distinct, self._codec.decode(self._background)
            )
        self.algorithm = "tree" if self._tree else "linear" if self._linear is not None else "permutation"
        if self.regression:
            self.native_output, self.outputs = "prediction", ("prediction",)
        else:
            self.native_output = next(iter(self._tree), "log_odds")
            self.outputs = tuple(o for o in OUTPUTS if o not in ("margin", "prediction") or o in self._tree)
        self.max_evals = max_evals or max(2 * len(self.features) + 1, 200)
        self._permutation: dict[tuple[int, str], Any] = {}

    def prefetch(self, rows: Sequence[Any], lime: bool = False) -> None:
        """Read now, on this thread, every row a background job will explain (and LIME's training rows):
        a job then only computes, and never queries the engine from another thread (a DuckDB
        connection serves one call at a time)."""
        keys = self.rows.keys(rows)
        self.rows.predicted(keys)
        if lime:
            self.rows.sample(LIME_TRAINING_ROWS, self.seed)

    def algorithm_for(self, output: str) -> str:
        """The algorithm that explains ``output``: the exact one where it works in that space, else permutation."""
        if self.algorithm == "precomputed":
            return "precomputed"
        if output in self._tree:
            return "tree"
        if self._linear is not None and output == ("prediction" if self.regression else "log_odds"):
            return "linear"
        return "permutation"

    # -- SHAP ------------------------------------------------------------------------------------
    def explain(
        self, rows: Sequence[int], class_index: int | None = None, output: str | None = None
    ) -> RowExplanation:
        """Explain the rows (positions in memory, ids on a SQL engine) for ``class_index`` (default: each
        row's predicted class) in ``output`` (default: ``native_output``)."""
        output = self.native_output if output is None else output
        if output not in self.outputs:
            raise ValueError(
                f"output must be one of {self.outputs}, got {output!r}"
                + (
                    " (precomputed values are in one space: pass values_output= to say which)."
                    if self.algorithm == "precomputed"
                    else "."
                )
            )
        rows = self.rows.keys(rows)
        if self.regression:
            if class_index not in (None, 0):
                raise ValueError(
                    f"a regression has one output: class_index must be None or 0, got {class_index}."
                )
            class_index = 0
        elif class_index is not None and not 0 <= class_index < self.ev.n_classes:
            raise ValueError(
                f"class_index {class_index} is out of range for {self.ev.n_classes} classes {self.ev.class_names}."
            )
        classes = self.rows.predicted(rows) if class_index is None else np.full(len(rows), class_index)
        keys = rows.tolist()
        for c in np.unique(classes):
            todo = [
                k
                for k, kc in zip(keys, classes, strict=True)
                if kc == c and (k, int(c), output) not in self._cache
            ]
            if todo:
                self._compute(np.asarray(todo, dtype=rows.dtype), int(c), output)
        found = [self._cache[(k, int(c), output)] for k, c in zip(keys, classes, strict=True)]
        values = np.array([f[0] for f in found]).reshape(len(rows), len(self.features))
        return RowExplanation(
            rows, self.features, values, np.array([f[1] for f in found]), np.array([f[2] for f in found]),
            classes, output, self.rows,
        )  # fmt: skip

    def model_output(self, rows: Sequence[int], class_index: int, output: str) -> np.ndarray:
        """The model's probability (or its log-odds) of ``class_index`` for the rows."""
        return self._output(self._codec.encode(self.rows.X(self.rows.keys(rows))), class_index, output)

    def _output(self, A: np.ndarray, c: int, output: str) -> np.ndarray:
        """Probability or log-odds of class ``c`` on encoded rows (a regression: its prediction). A binary
        model's log-odds is its ``decision_function`` where it has one (exact where a probability has
        rounded to 0 or 1)."""
        if output == "prediction":
            return np.asarray(self.model.predict(self._codec.decode(A)), dtype=np.float64).reshape(len(A))
        if output == "margin":
            margins = np.asarray(self.model.decision_function(self._codec.decode(A)), dtype=float)
            return margins[:, self._model_classes().index(self.ev.classes[c])]
        if output == "log_odds" and self.ev.n_classes == 2 and hasattr(self.model, "decision_function"):
            return self._sign(c) * np.asarray(
                self.model.decision_function(self._codec.decode(A)), dtype=float
            )
        p = self._proba(A)[:, c]
        return p if output == "probability" else _logit(p)

    def _compute(self, rows: np.ndarray, c: int, output: str) -> None:
        if self._precomputed is not None:
            values, base = self._precomputed
            v = values[rows, :, c] if values.ndim == 3 else values[rows] * (1 if c == 1 else -1)
            b = base[rows, c] if base.ndim == 2 else base[rows] * (1 if c == 1 else -1)
            out = b + v.sum(axis=1)
        else:
            algorithm = self.algorithm_for(output)
            if algorithm == "tree":
                v, b = self._tree_values(rows, c, output)
            elif algorithm == "linear":
                sign = 1.0 if self.regression else self._sign(c)
                v, b = self._linear.values(self.rows.X(rows), sign)  # type: ignore[union-attr]
            else:
                v, b = self._permutation_values(rows, c, output)
            out = b + v.sum(axis=1)
        with self._lock:
            for i, r in enumerate(rows.tolist()):
                self._cache[(r, c, output)] = (v[i], float(b[i]), float(out[i]))

    def _permutation_values(self, rows: np.ndarray, c: int, output: str) -> tuple[np.ndarray, np.ndarray]:
        """shap's Permutation explainer, one row at a time from the same seed, so a row's values do not
        depend on which rows were explained before it (shap draws from numpy's global generator, which
        is restored afterwards; a lock keeps concurrent jobs from interleaving their draws)."""
        explainer = self._permutation_explainer(c, output)
        encoded = self._codec.encode(self.rows.X(rows))
        values, base = [], []
        with _GLOBAL_RNG_LOCK:
            state = np.random.get_state()
            try:
                for point in encoded:
                    np.random.seed(self.seed)
                    explanation = explainer(point[None, :], max_evals=self.max_evals, silent=True)
                    values.append(np.asarray(explanation.values)[0])
                    base.append(float(np.asarray(explanation.base_values).reshape(-1)[0]))
            finally:
                np.random.set_state(state)
        return np.array(values).reshape(len(rows), len(self.features)), np.array(base)

    def _tree_values(self, rows: np.ndarray, c: int, output: str) -> tuple[np.ndarray, np.ndarray]:
        explainer = self._tree[output]
        values = np.asarray(explainer.shap_values(self.rows.X(rows), check_additivity=False))
        base = np.asarray(explainer.expected_value, dtype=float).reshape(-1)
        if self.regression:  # one output, in the target's units
            return values.reshape(len(rows), len(self.features)), np.full(len(rows), base[0])
        if values.ndim == 3:  # (rows, features, classes) in the model's class order
            k = self._model_classes().index(self.ev.classes[c])
            return values[:, :, k], np.full(len(rows), base[k])
        # one output for the positive class: the other class's is its opposite (log-odds) or complement
        sign = self._sign(c)
        offset = 0.0 if output == "log_odds" or sign > 0 else 1.0
        return sign * values, np.full(len(rows), offset + sign * base[0])

    def _model_classes(self) -> list[Any]:
        return list(getattr(self.model, "classes_", self.ev.classes))

    def _sign(self, c: int) -> float:
        """+1 when class ``c`` is the model's positive (second) class of a binary model, else -1."""
        return 1.0 if self._model_classes().index(self.ev.classes[c]) == 1 else -1.0

    def _permutation_explainer(self, c: int, output: str) -> Any:
        key = (c, output)
        if key not in self._permutation:
            import shap

            def f(A: np.ndarray) -> np.ndarray:
                return self._output(A, c, output)

            masker = shap.maskers.Independent(self._background, max_samples=len(self._background))
            with _GLOBAL_RNG_LOCK:
                state = np.random.get_state()
                self._permutation[key] = shap.explainers.Permutation(f, masker, seed=self.seed)
                np.random.set_state(state)
        return self._permutation[key]

    def _proba(self, A: np.ndarray) -> np.ndarray:
        """predict_proba on encoded rows, columns reordered to the Evaluation's class order."""
        proba = np.asarray(self.model.predict_proba(self._codec.decode(A)), dtype=np.float64)
        order = self._model_classes()
        return proba[:, [order.index(c) for c in self.ev.classes]]

    # -- LIME --------------------------------------------------------------------------------------
    def lime(self, row: int, class_index: int | None = None, num_samples: int = 2000) -> pd.DataFrame:
        """LIME weights of one row (feature, weight), seeded; ``agreement`` in ``attrs`` is the Spearman
        rank correlation with the row's SHAP values (in ``native_output``)."""
        if self.model is None:
            raise ValueError("LIME needs a model with predict_proba; precomputed SHAP values cannot give it.")
        from lime.lime_tabular import LimeTabularExplainer

        key = self.rows.keys([row])
        c = int(self.rows.predicted(key)[0]) if class_index is None else int(class_index)
        training = self._codec.encode(self.rows.sample(LIME_TRAINING_ROWS, self.seed))
        training = np.where(np.isnan(training), np.nanmedian(training, axis=0), training)
        explainer = LimeTabularExplainer(
            training,
            feature_names=self.features,
            class_names=None if self.regression else [str(n) for n in self.ev.class_names],
            categorical_features=self._codec.categorical_indices,
            categorical_names={
                self.features.index(k): [str(v) for v in cats] for k, cats in self._codec.categories.items()
            },
            discretize_continuous=True,
            random_state=self.seed,
            mode="regression" if self.regression else "classification",
        )
        point = self._codec.encode(self.rows.X(key))[0]
        point = np.where(np.isnan(point), np.nanmedian(training, axis=0), point)
        if self.regression:  # the weights of the prediction (LIME keeps them under label 1)
            explanation = explainer.explain_instance(
                point,
                lambda A: self._output(A, 0, "prediction"),
                num_features=len(self.features),
                num_samples=num_samples,
            )
            weights = dict(explanation.as_map()[1])
        else:
            explanation = explainer.explain_instance(
                point, self._proba, labels=(c,), num_features=len(self.features), num_samples=num_samples
            )
            weights = dict(explanation.as_map()[c])
        frame = pd.DataFrame(
            {"feature": self.features, "weight": [weights.get(i, 0.0) for i in range(len(self.features))]}
        )
        shap_values = self.explain(key, c).values[0]
        frame.attrs["agreement"] = float(spearmanr(frame["weight"], shap_values).statistic)
        frame.attrs["class_index"] = c
        return frame.reindex(frame["weight"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    # -- cohorts, importance, slices ----------------------------------------------------------------
    def cohort_comparison(
        self, selected: Sequence[int], rest: Sequence[int], class_index: int, output: str | None = None
    ) -> pd.DataFrame:
        """Mean |SHAP| per feature on the selected rows against the rest, sorted by the difference.

        With no rest (nothing selected: the selection is every row) there is nothing to compare with, so
        this is global importance, sorted by the mean |SHAP| of the rows (and with no selected rows, by the
        rest's). ``attrs["showing"]`` says which: "comparison", "global" or "rest"."""
        a, b = (
            np.abs(self.explain(rows, class_index, output).values).mean(axis=0)
            if len(rows)
            else np.full(len(self.features), np.nan)
            for rows in (selected, rest)
        )
        frame = pd.DataFrame({"feature": self.features, "selection": a, "rest": b, "difference": a - b})
        showing = "comparison" if len(selected) and len(rest) else "global" if len(selected) else "rest"
        key = {"comparison": "difference", "global": "selection", "rest": "rest"}[showing]
        frame = frame.sort_values(key, ascending=False, kind="stable").reset_index(drop=True)
        frame.attrs["showing"] = showing
        return frame

    def importance(
        self, rows: Sequence[int], class_index: int, permutation: bool = True, output: str | None = None
    ) -> pd.DataFrame:
        """Mean |SHAP| over ``rows`` and, with a model, scikit-learn's permutation importance (the drop of
        the model's default score: accuracy, or R² for a regressor)."""
        frame = pd.DataFrame(
            {
                "feature": self.features,
                "mean_abs_shap": np.abs(self.explain(rows, class_index, output).values).mean(axis=0),
            }
        )
        if permutation and self.model is not None:
            from sklearn.inspection import permutation_importance

            keys = self.rows.keys(rows)
            X, y = self.rows.X(keys), self.rows.actual(keys)
            result = permutation_importance(self.model, X, y, n_repeats=5, random_state=self.seed)
            frame["permutation"] = result.importances_mean
        return frame.sort_values("mean_abs_shap", ascending=False).reset_index(drop=True)

    def pushing_slice(self, feature: str, explained: RowExplanation) -> Predicate:
        """The slice (a value, bin or period of ``feature``) where it pushes the explained class most: the
        code of the feature with the highest mean contribution among the explained rows."""
        if feature not in self.features:
            raise ValueError(f"{feature!r} is not one of the model's features {self.features[:8]}.")
        coded = self.ev.codes(feature)
        codes = self.rows.codes(feature, explained.rows)
        contribution = explained.values[:, self.features.index(feature)]
        sums = np.bincount(codes, weights=contribution, minlength=coded.n_codes)
        counts = np.bincount(codes, minlength=coded.n_codes)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(counts > 0, sums / counts, -np.inf)
        return coded.predicates[int(np.argmax(mean))]


# -- background work -------------------------------------------------------------------------------
def explain_in_chunks(
    explainer: Explainer,
    rows: Sequence[int],
    class_index: int | None,
    output: str | None,
    job: Job[RowExplanation],
    chunk: int = 16,
) -> RowExplanation:
    """Explain ``rows`` as the work of a background :class:`~errorscope.jobs.Job`: in chunks of
    ``chunk`` rows, reporting progress and stopping between chunks once the job is cancelled."""
    rows = np.asarray(rows)
    for start in range(0, len(rows), chunk):
        job.check()
        explainer.explain(rows[start : start + chunk], class_index, output)  # cached per row
        job.report((start + chunk) / max(len(rows), 1))
    job.check()
    return explainer.explain(rows, class_index, output)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def _tree_explainers(model: Any, background: pd.DataFrame, probe: pd.DataFrame) -> dict[str, Any]:
    """shap TreeExplainers keyed by the output space each explains exactly, the trees' own space first;
    empty when shap cannot explain the model as trees."""
    import shap

    def explainer(model_output: str) -> Any:
        found = shap.TreeExplainer(
            model, data=background, feature_perturbation="interventional", model_output=model_output
        )
        found.shap_values(probe, check_additivity=False)
        return found

    try:
        trees = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        values = np.asarray(trees.shap_values(probe, check_additivity=False))
    except Exception:  # not a tree model shap supports (pipelines, linear models...)
        return {}
    space = trees.model.tree_output  # what the leaves hold: "probability" (forests) or "log_odds" (boosting)
    if space == "log_odds" and values.ndim == 3:  # a softmax margin: no class's log-odds, so named apart
        # only the trees explain it, so their own (path-dependent) expectation is its one base value; it
        # is also many times faster than interventional with one tree per class
        return {"margin": trees}
    if space not in ("probability", "log_odds"):
        return {}
    found: dict[str, Any] = {}
    # interventional over the shared background: the base is the mean output over it, as on every path
    for output, model_output in ((space, "raw"), ("probability", "probability")):
        if output not in found:
            try:
                found[output] = explainer(model_output)
            except Exception:  # shap cannot explain this model (or this transform of it) over a background
                break
    return found


def _regression_trees(model: Any, background: pd.DataFrame, probe: pd.DataFrame) -> dict[str, Any]:
    """A regressor's shap TreeExplainer (interventional over the background, raw output: the trees'
    prediction), as {"prediction": explainer}, when it explains ``model.predict`` additively on the
    probe rows; else empty (not trees shap supports, or a transformed output)."""
    import shap

    try:
        found = shap.TreeExplainer(
            model, data=background, feature_perturbation="interventional", model_output="raw"
        )
        values = np.asarray(found.shap_values(probe, check_additivity=False), dtype=np.float64)
    except Exception:  # not a tree model shap supports (pipelines, linear models...)
        return {}
    base = float(np.asarray(found.expected_value, dtype=np.float64).reshape(-1)[0])
    predicted = np.asarray(model.predict(probe), dtype=np.float64).reshape(-1)
    if values.shape != probe.shape or not np.allclose(
        base + values.sum(axis=1), predicted, rtol=1e-6, atol=1e-6
    ):
        return {}
    return {"prediction": found}


@dataclass
class _Linear:
    """A binary logistic regression (in log-odds) or a linear regressor (in its prediction) over column-wise
    preprocessing, explained exactly as
    ``shap.LinearExplainer`` does: coefficient * (transformed value - its background mean), summed per
    original column (``owner`` maps each transformed column to the original column it is computed from)."""

    transform: Callable[[pd.DataFrame], np.ndarray]
    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    owner: np.ndarray

    @classmethod
    def of(
        cls,
        model: Any,
        sample: pd.DataFrame,
        distinct: Callable[[str, int], pd.Series],
        background: pd.DataFrame,
    ) -> _Linear | None:
        """The linear explanation of ``model``, or None when it is not such a model (``sample``: rows of
        the data; ``distinct(column, limit)``: up to ``limit`` of a column's distinct values)."""
        from scipy import sparse
        from sklearn.base import is_regressor
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        final = model[-1] if isinstance(model, Pipeline) else model
        linear_regressor = (
            is_regressor(final)
            and hasattr(final, "coef_")
            and np.size(getattr(final, "intercept_", 0.0)) == 1
            and np.ndim(np.squeeze(final.coef_)) == 1
            and type(final).__module__.startswith("sklearn.linear_model")
        )
        if not linear_regressor and (
            not isinstance(final, LogisticRegression) or np.shape(final.coef_)[0] != 1
        ):
            return None  # multinomial: a class's log-odds is not linear in the coefficients
        pre = model[:-1] if isinstance(model, Pipeline) else None

        def transform(X: pd.DataFrame) -> np.ndarray:
            T = X if pre is None else pre.transform(X)
            return np.asarray(T.toarray() if sparse.issparse(T) else T, dtype=np.float64)

        try:
            owner = _owners(transform, sample, distinct)
            T_background = transform(background)
        except (TypeError, ValueError):  # preprocessing that cannot take these columns one at a time
            return None
        if owner is None or (np.ptp(T_background[:, owner < 0], axis=0) > 0).any():
            return None
        coef = np.asarray(final.coef_, dtype=np.float64).reshape(-1)
        intercept = float(np.asarray(final.intercept_, dtype=np.float64).reshape(-1)[0])
        return cls(transform, coef, intercept, T_background.mean(axis=0), owner)

    def values(self, X: pd.DataFrame, sign: float) -> tuple[np.ndarray, np.ndarray]:
        """Contributions per original column and the base value, in the log-odds of the positive class
        (``sign`` +1) or of the other one (-1)."""
        parts = self.coef * (self.transform(X) - self.mean)
        values = np.zeros((len(X), int(self.owner.max()) + 1 if self.owner.size else 0))
        np.add.at(values.T, self.owner[self.owner >= 0], parts[:, self.owner >= 0].T)
        n_features = len(X.columns)
        values = np.pad(values, ((0, 0), (0, n_features - values.shape[1])))
        base = self.intercept + float(self.coef @ self.mean)
        return sign * values, np.full(len(X), sign * base)


def _owners(
    transform: Callable[[pd.DataFrame], np.ndarray],
    X: pd.DataFrame,
    distinct: Callable[[str, int], pd.Series],
) -> np.ndarray | None:
    """The original column each transformed column is computed from (-1: none, it is constant), found by
    changing one column at a time (to other rows' values and to each of its distinct values, up to 256);
    None when a transformed column depends on several columns (the model is not additive in them)."""
    sample = X.iloc[:256].reset_index(drop=True)
    T = transform(sample)
    depends = np.zeros((len(X.columns), T.shape[1]), dtype=bool)
    shifted = np.roll(np.arange(len(sample)), 1)
    for j, column in enumerate(X.columns):
        values = distinct(column, 256)
        probe = pd.concat([sample, sample.iloc[np.zeros(len(values), dtype=np.int64)]], ignore_index=True)
        probe[column] = np.concatenate(
            [sample[column].iloc[shifted].to_numpy(object), values.to_numpy(object)]
        )
        probe[column] = probe[column].astype(X[column].dtype)
        reference = np.concatenate([T, np.repeat(T[:1], len(values), axis=0)])
        depends[j] = ~np.isclose(transform(probe), reference, equal_nan=True).all(axis=0)
    if (depends.sum(axis=0) > 1).any():
        return None
    return np.where(depends.any(axis=0), depends.argmax(axis=0), -1)


def _precomputed(ev: Evaluation, values: Any, base_values: Any) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(values, "values") and hasattr(values, "base_values") and not isinstance(values, pd.DataFrame):
        base_values = values.base_values if base_values is None else base_values
        values = values.values
    array = np.asarray(values, dtype=np.float64)
    n, f, k = ev.n_rows, len(ev.features), ev.n_classes
    if array.shape not in ((n, f), (n, f, k)) or (array.ndim == 2 and k != 2):
        raise ValueError(
            f"values has shape {array.shape}; expected ({n}, {f}) for a binary model's positive class or "
            f"({n}, {f}, {k}): one row per Evaluation row, one column per feature ({f} features)."
        )
    if not np.isfinite(array).all():
        rows = np.flatnonzero(~np.isfinite(array).reshape(n, -1).all(axis=1))
        raise ValueError(
            f"values has NaN or infinite SHAP values in {len(rows):,} row(s) (first: row {rows[0]}): "
            "every contribution must be a finite number; recompute them, or explain with the model."
        )
    if base_values is None:
        raise ValueError("precomputed values need base_values= (the explainer's expected value).")
    base = np.asarray(base_values, dtype=np.float64)
    if base.size == 1:
        base = base.reshape(())
    if base.ndim == 0:
        base = np.full(n, float(base))
    elif base.shape == (k,) and array.ndim == 3:
        base = np.tile(base, (n, 1))
    if base.shape not in ((n,), (n, k)):
        raise ValueError(
            f"base_values has shape {base.shape}; expected a number, ({k},), ({n},) or ({n}, {k})."
        )
    if not np.isfinite(base).all():
        raise ValueError(
            "base_values has NaN or infinite values: pass the explainer's finite expected value."
        )
    return array, base
