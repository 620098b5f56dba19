"""SHAP and LIME explanations of an Evaluation's model, computed lazily for the rows asked for and cached.

Which algorithm (``Explainer.algorithm``):

- **tree**: a tree ensemble (scikit-learn, XGBoost, LightGBM...) fitted directly on numeric features is
  explained by ``shap.TreeExplainer`` in its raw output (log-odds), exactly and in milliseconds.
- **permutation**: anything else, pipelines included, is explained on the *original* features by
  ``shap.explainers.Permutation`` over the model's ``predict_proba``. String and categorical columns are
  passed to shap as integer codes and decoded back before the model sees them, so the pipeline's own
  encoders run as usual and explanations are reported per original column. The background is a seeded
  k-means summary (``shap.kmeans``) when every feature is numeric, else a seeded sample of rows (k-means
  centroids of category codes would be categories that do not exist).
- **precomputed**: ``shap.Explanation`` objects or arrays passed as ``values=``.

Outputs are the predicted class's (or a chosen class's) probability or log-odds; base value plus the
contributions equals the model's output for the row (tested to 1e-6). LIME comes from
``lime.lime_tabular`` with categorical features declared and a fixed seed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .evaluation import Evaluation
from .selection import Predicate

OUTPUTS = ("log_odds", "probability")
_GLOBAL_RNG_LOCK = threading.Lock()  # shap's model-agnostic explainers draw from numpy's global generator
EPS = 1e-12


@dataclass
class RowExplanation:
    """Explanations of some rows for one class: ``values`` (rows x features), base values and outputs."""

    rows: np.ndarray
    features: list[str]
    values: np.ndarray
    base_values: np.ndarray
    outputs: np.ndarray
    class_index: np.ndarray
    output: str

    def frame(self, i: int, data: pd.DataFrame) -> pd.DataFrame:
        """One row's explanation: feature, value, contribution (largest effect first)."""
        row = self.rows[i]
        frame = pd.DataFrame(
            {
                "feature": self.features,
                "value": [data[f].iloc[row] for f in self.features],
                "contribution": self.values[i],
            }
        )
        frame.attrs.update(base_value=float(self.base_values[i]), output=float(self.outputs[i]))
        return frame.reindex(frame["contribution"].abs().sort_values(ascending=False).index).reset_index(
            drop=True
        )


class _Codec:
    """Non-numeric columns as integer codes (missing: -1) for shap and LIME, decoded back for the model."""

    def __init__(self, X: pd.DataFrame) -> None:
        self.columns = list(X.columns)
        self.categories: dict[str, pd.Index] = {}
        for c in self.columns:
            if not (pd.api.types.is_numeric_dtype(X[c].dtype) and not pd.api.types.is_bool_dtype(X[c].dtype)):
                self.categories[c] = pd.Index(pd.unique(X[c].dropna()))
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
                values[codes < 0] = None
                columns[c] = (
                    values
                    if pd.api.types.is_object_dtype(self.dtypes[c])
                    else pd.Series(values, dtype=self.dtypes[c])
                )
            else:  # numbers stay floats: background centres fall between integers
                columns[c] = A[:, j]
        return pd.DataFrame(columns)


class Explainer:
    """Explanations of ``ev``'s model (or of precomputed ``values``), cached per (row, class, output).

    ``values``: a ``shap.Explanation`` or an array, (rows, features) for the positive class of a binary
    model or (rows, features, classes); ``base_values`` then gives the base value(s). ``background``: the
    number of background rows (k-means centres or sampled rows) for model-agnostic explanations.
    """

    def __init__(
        self,
        ev: Evaluation,
        values: Any = None,
        base_values: Any = None,
        background: int = 50,
        seed: int = 0,
        max_evals: int | None = None,
    ) -> None:
        self.ev, self.seed = ev, seed
        self.features = list(ev.features)
        self.model = ev.model
        self._cache: dict[tuple[int, int, str], tuple[np.ndarray, float, float]] = {}
        self._lock = threading.Lock()
        self._codec = _Codec(ev.X)
        self._precomputed = None
        if values is not None:
            self._precomputed = _precomputed(ev, values, base_values)
            self.algorithm = "precomputed"
            return
        if self.model is None or not hasattr(self.model, "predict_proba"):
            raise ValueError(
                "explanations need a model with predict_proba (pass model= to the Evaluation), "
                "or precomputed SHAP values: Explainer(ev, values=shap_values, base_values=...)."
            )
        self._tree = _tree_explainer(self.model, ev.X) if not self._codec.categories else None
        self.algorithm = "tree" if self._tree is not None else "permutation"
        rng_rows = np.random.default_rng(seed).permutation(ev.n_rows)[: max(background * 20, 1000)]
        sample = self._codec.encode(ev.X.iloc[rng_rows])
        if self._codec.categories:
            self._background = sample[: min(background, len(sample))]
        else:
            import shap

            filled = np.where(np.isnan(sample), np.nanmean(sample, axis=0), sample)
            np.random.seed(seed)  # shap.kmeans uses numpy's global generator
            self._background = shap.kmeans(filled, min(background, len(filled))).data
        self.max_evals = max_evals or max(2 * len(self.features) + 1, 200)
        self._permutation: dict[tuple[int, str], Any] = {}

    # -- SHAP ------------------------------------------------------------------------------------
    def explain(
        self, rows: Sequence[int], class_index: int | None = None, output: str = "log_odds"
    ) -> RowExplanation:
        """Explain the rows (positions) for ``class_index`` (default: each row's predicted class)."""
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}.")
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= self.ev.n_rows):
            raise ValueError(f"rows must be positions 0..{self.ev.n_rows - 1}.")
        if class_index is not None and not 0 <= class_index < self.ev.n_classes:
            raise ValueError(
                f"class_index {class_index} is out of range for {self.ev.n_classes} classes {self.ev.class_names}."
            )
        classes = self.ev.pred_codes[rows] if class_index is None else np.full(len(rows), class_index)
        for c in np.unique(classes):
            todo = [int(r) for r in rows[classes == c] if (int(r), int(c), output) not in self._cache]
            if todo:
                self._compute(np.asarray(todo), int(c), output)
        found = [self._cache[(int(r), int(c), output)] for r, c in zip(rows, classes, strict=True)]
        values = np.array([f[0] for f in found]).reshape(len(rows), len(self.features))
        return RowExplanation(
            rows, self.features, values, np.array([f[1] for f in found]), np.array([f[2] for f in found]),
            classes, output,
        )  # fmt: skip

    def model_output(self, rows: Sequence[int], class_index: int, output: str) -> np.ndarray:
        """The model's probability (or its log-odds) of ``class_index`` for the rows."""
        proba = self._proba(self._codec.encode(self.ev.X.iloc[np.asarray(rows)]))[:, class_index]
        return proba if output == "probability" else _logit(proba)

    def _compute(self, rows: np.ndarray, c: int, output: str) -> None:
        if self._precomputed is not None:
            values, base = self._precomputed
            v = values[rows, :, c] if values.ndim == 3 else values[rows] * (1 if c == 1 else -1)
            b = base[rows, c] if base.ndim == 2 else base[rows] * (1 if c == 1 else -1)
            out = b + v.sum(axis=1)
        elif self.algorithm == "tree" and output == "log_odds":
            v, b = self._tree_values(rows, c)
            out = b + v.sum(axis=1)
        else:
            v, b = self._permutation_values(rows, c, output)
            out = b + v.sum(axis=1)
        with self._lock:
            for i, r in enumerate(rows):
                self._cache[(int(r), c, output)] = (v[i], float(b[i]), float(out[i]))

    def _permutation_values(self, rows: np.ndarray, c: int, output: str) -> tuple[np.ndarray, np.ndarray]:
        """shap's Permutation explainer, one row at a time from the same seed, so a row's values do not
        depend on which rows were explained before it (shap draws from numpy's global generator, which
        is restored afterwards; a lock keeps concurrent jobs from interleaving their draws)."""
        explainer = self._permutation_explainer(c, output)
        encoded = self._codec.encode(self.ev.X.iloc[rows])
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

    def _tree_values(self, rows: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
        X = self.ev.X.iloc[rows]
        values = np.asarray(self._tree.shap_values(X, check_additivity=False))
        base = np.asarray(self._tree.expected_value, dtype=float).reshape(-1)
        if values.ndim == 3:  # (rows, features, classes)
            return values[:, :, c], np.full(len(rows), base[c] if len(base) > 1 else base[0])
        # one margin, for the model's second class (positive_class= may have put it first); the other
        # class's log-odds are its opposite
        model_classes = list(getattr(self.model, "classes_", self.ev.classes))
        sign = 1.0 if self.ev.classes[c] == model_classes[-1] else -1.0
        return sign * values, np.full(len(rows), sign * base[0])

    def _permutation_explainer(self, c: int, output: str) -> Any:
        key = (c, output)
        if key not in self._permutation:
            import shap

            def f(A: np.ndarray) -> np.ndarray:
                p = self._proba(A)[:, c]
                return p if output == "probability" else _logit(p)

            masker = shap.maskers.Independent(self._background, max_samples=len(self._background))
            with _GLOBAL_RNG_LOCK:
                state = np.random.get_state()
                self._permutation[key] = shap.explainers.Permutation(f, masker, seed=self.seed)
                np.random.set_state(state)
        return self._permutation[key]

    def _proba(self, A: np.ndarray) -> np.ndarray:
        """predict_proba on encoded rows, columns reordered to the Evaluation's class order."""
        proba = np.asarray(self.model.predict_proba(self._codec.decode(A)), dtype=np.float64)
        order = list(getattr(self.model, "classes_", self.ev.classes))
        return proba[:, [order.index(c) for c in self.ev.classes]]

    # -- LIME --------------------------------------------------------------------------------------
    def lime(self, row: int, class_index: int | None = None, num_samples: int = 2000) -> pd.DataFrame:
        """LIME weights of one row (feature, weight), seeded; ``agreement`` in ``attrs`` is the Spearman
        rank correlation with the row's SHAP values (log-odds)."""
        if self.model is None:
            raise ValueError("LIME needs a model with predict_proba; precomputed SHAP values cannot give it.")
        from lime.lime_tabular import LimeTabularExplainer

        c = int(self.ev.pred_codes[row]) if class_index is None else int(class_index)
        training = self._codec.encode(
            self.ev.X.iloc[np.random.default_rng(self.seed).permutation(self.ev.n_rows)[:5000]]
        )
        training = np.where(np.isnan(training), np.nanmedian(training, axis=0), training)
        explainer = LimeTabularExplainer(
            training,
            feature_names=self.features,
            class_names=[str(n) for n in self.ev.class_names],
            categorical_features=self._codec.categorical_indices,
            categorical_names={
                self.features.index(k): [str(v) for v in cats] for k, cats in self._codec.categories.items()
            },
            discretize_continuous=True,
            random_state=self.seed,
            mode="classification",
        )
        point = self._codec.encode(self.ev.X.iloc[[row]])[0]
        point = np.where(np.isnan(point), np.nanmedian(training, axis=0), point)
        explanation = explainer.explain_instance(
            point, self._proba, labels=(c,), num_features=len(self.features), num_samples=num_samples
        )
        weights = dict(explanation.as_map()[c])
        frame = pd.DataFrame(
            {"feature": self.features, "weight": [weights.get(i, 0.0) for i in range(len(self.features))]}
        )
        shap_values = self.explain([row], c).values[0]
        frame.attrs["agreement"] = float(spearmanr(frame["weight"], shap_values).statistic)
        frame.attrs["class_index"] = c
        return frame.reindex(frame["weight"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    # -- cohorts, importance, slices ----------------------------------------------------------------
    def cohort_comparison(
        self, selected: Sequence[int], rest: Sequence[int], class_index: int
    ) -> pd.DataFrame:
        """Mean |SHAP| per feature on the selected rows against the rest, sorted by the difference."""
        a = (
            np.abs(self.explain(selected, class_index).values).mean(axis=0)
            if len(selected)
            else np.full(len(self.features), np.nan)
        )
        b = (
            np.abs(self.explain(rest, class_index).values).mean(axis=0)
            if len(rest)
            else np.full(len(self.features), np.nan)
        )
        frame = pd.DataFrame({"feature": self.features, "selection": a, "rest": b, "difference": a - b})
        return frame.sort_values("difference", ascending=False, na_position="last").reset_index(drop=True)

    def importance(self, rows: Sequence[int], class_index: int, permutation: bool = True) -> pd.DataFrame:
        """Mean |SHAP| over ``rows`` and, with a model, scikit-learn's permutation importance (accuracy drop)."""
        frame = pd.DataFrame(
            {
                "feature": self.features,
                "mean_abs_shap": np.abs(self.explain(rows, class_index).values).mean(axis=0),
            }
        )
        if permutation and self.model is not None:
            from sklearn.inspection import permutation_importance

            X = self.ev.X.iloc[np.asarray(rows)]
            y = np.asarray(self.ev.y_true)[np.asarray(rows)]
            result = permutation_importance(self.model, X, y, n_repeats=5, random_state=self.seed)
            frame["permutation"] = result.importances_mean
        return frame.sort_values("mean_abs_shap", ascending=False).reset_index(drop=True)

    def pushing_slice(self, feature: str, explained: RowExplanation) -> Predicate:
        """The slice (a value, bin or period of ``feature``) where it pushes the explained class most: the
        code of the feature with the highest mean contribution among the explained rows."""
        if feature not in self.features:
            raise ValueError(f"{feature!r} is not one of the model's features {self.features[:8]}.")
        coded = self.ev.codes(feature)
        codes = coded.codes[explained.rows]
        contribution = explained.values[:, self.features.index(feature)]
        sums = np.bincount(codes, weights=contribution, minlength=coded.n_codes)
        counts = np.bincount(codes, minlength=coded.n_codes)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(counts > 0, sums / counts, -np.inf)
        return coded.predicates[int(np.argmax(mean))]


# -- background work -------------------------------------------------------------------------------
class ExplanationJob:
    """Explain rows in chunks on a background thread, reporting progress; ``cancel()`` stops it between
    chunks. ``done`` is called with the :class:`RowExplanation` when it finishes (not when cancelled)."""

    def __init__(
        self,
        explainer: Explainer,
        rows: Sequence[int],
        class_index: int | None,
        output: str = "log_odds",
        progress: Callable[[float], None] | None = None,
        done: Callable[[RowExplanation], None] | None = None,
        chunk: int = 16,
    ) -> None:
        self.explainer, self.rows, self.class_index, self.output = (
            explainer,
            np.asarray(rows),
            class_index,
            output,
        )
        self.progress, self.done, self.chunk = progress, done, chunk
        self.cancelled = threading.Event()
        self.result: RowExplanation | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="errorscope-explain", daemon=True)

    def start(self) -> ExplanationJob:
        self.thread.start()
        return self

    def cancel(self) -> None:
        self.cancelled.set()

    def wait(self, timeout: float | None = None) -> RowExplanation | None:
        self.thread.join(timeout)
        if self.error is not None:
            raise self.error
        return self.result

    def _run(self) -> None:
        try:
            for start in range(0, len(self.rows), self.chunk):
                if self.cancelled.is_set():
                    return
                self.explainer.explain(self.rows[start : start + self.chunk], self.class_index, self.output)
                if self.progress is not None:
                    self.progress(min(1.0, (start + self.chunk) / max(len(self.rows), 1)))
            if self.cancelled.is_set():
                return
            self.result = self.explainer.explain(self.rows, self.class_index, self.output)
            if self.progress is not None:
                self.progress(1.0)
            if self.done is not None:
                self.done(self.result)
        except BaseException as err:  # kept for wait() and shown by the widget
            self.error = err


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def _tree_explainer(model: Any, X: pd.DataFrame) -> Any:
    """shap's TreeExplainer for a tree model fitted on these columns, or None."""
    import shap

    try:
        explainer = shap.TreeExplainer(model)
        explainer.shap_values(X.iloc[:2], check_additivity=False)
    except Exception:  # not a tree model shap supports (pipelines, linear models...)
        return None
    return explainer


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
