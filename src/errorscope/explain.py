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

Outputs are the predicted class's (or a chosen class's) probability or log-odds; base value plus the
contributions equals the model's output for the row in that space (tested to 1e-6). Every path uses the same
background, so a space has one base value (the mean output over the background, as shap defines it) whichever
path computes it. ``native_output`` is the space the exact explainer works in, the default. LIME comes from
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
from .jobs import Job
from .selection import Predicate

OUTPUTS = ("log_odds", "probability", "margin")  # margin: a multiclass booster's softmax score, exactly
OUTPUT_LABELS = {"log_odds": "log-odds", "probability": "probability", "margin": "margin (softmax score)"}
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
        values_output: str = "log_odds",
    ) -> None:
        self.ev, self.seed = ev, seed
        self.features = list(ev.features)
        self.model = ev.model
        self._cache: dict[tuple[int, int, str], tuple[np.ndarray, float, float]] = {}
        self._lock = threading.Lock()
        self._codec = _Codec(ev.X)
        self._precomputed = None
        self._tree: dict[str, Any] = {}
        self._linear: _Linear | None = None
        if values is not None:
            if values_output not in OUTPUTS:
                raise ValueError(f"values_output must be one of {OUTPUTS}, got {values_output!r}.")
            self._precomputed = _precomputed(ev, values, base_values)
            self.algorithm, self.native_output, self.outputs = "precomputed", values_output, (values_output,)
            return
        if self.model is None or not hasattr(self.model, "predict_proba"):
            raise ValueError(
                "explanations need a model with predict_proba (pass model= to the Evaluation), "
                "or precomputed SHAP values: Explainer(ev, values=shap_values, base_values=...)."
            )
        rng_rows = np.random.default_rng(seed).permutation(ev.n_rows)[: max(background * 20, 1000)]
        sample = self._codec.encode(ev.X.iloc[rng_rows])
        if self._codec.categories:
            self._background = sample[: min(background, len(sample))]
        else:
            import shap

            filled = np.where(np.isnan(sample), np.nanmean(sample, axis=0), sample)
            np.random.seed(seed)  # shap.kmeans uses numpy's global generator
            self._background = shap.kmeans(filled, min(background, len(filled))).data
        if not self._codec.categories:
            self._tree = _tree_explainers(self.model, self._codec.decode(self._background), ev.X.iloc[:2])
        if not self._tree:
            self._linear = _Linear.of(self.model, ev, self._codec.decode(self._background), rng_rows)
        self.algorithm = "tree" if self._tree else "linear" if self._linear is not None else "permutation"
        self.native_output = next(iter(self._tree), "log_odds")
        self.outputs = tuple(o for o in OUTPUTS if o != "margin" or o in self._tree)
        self.max_evals = max_evals or max(2 * len(self.features) + 1, 200)
        self._permutation: dict[tuple[int, str], Any] = {}

    def algorithm_for(self, output: str) -> str:
        """The algorithm that explains ``output``: the exact one where it works in that space, else permutation."""
        if self.algorithm == "precomputed":
            return "precomputed"
        if output in self._tree:
            return "tree"
        if self._linear is not None and output == "log_odds":
            return "linear"
        return "permutation"

    # -- SHAP ------------------------------------------------------------------------------------
    def explain(
        self, rows: Sequence[int], class_index: int | None = None, output: str | None = None
    ) -> RowExplanation:
        """Explain the rows (positions) for ``class_index`` (default: each row's predicted class) in
        ``output`` (default: ``native_output``)."""
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
        return self._output(self._codec.encode(self.ev.X.iloc[np.asarray(rows)]), class_index, output)

    def _output(self, A: np.ndarray, c: int, output: str) -> np.ndarray:
        """Probability or log-odds of class ``c`` on encoded rows. A binary model's log-odds is its
        ``decision_function`` where it has one (exact where a probability has rounded to 0 or 1)."""
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
                v, b = self._linear.values(self.ev.X.iloc[rows], self._sign(c))  # type: ignore[union-attr]
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

    def _tree_values(self, rows: np.ndarray, c: int, output: str) -> tuple[np.ndarray, np.ndarray]:
        explainer = self._tree[output]
        values = np.asarray(explainer.shap_values(self.ev.X.iloc[rows], check_additivity=False))
        base = np.asarray(explainer.expected_value, dtype=float).reshape(-1)
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
        """Mean |SHAP| over ``rows`` and, with a model, scikit-learn's permutation importance (accuracy drop)."""
        frame = pd.DataFrame(
            {
                "feature": self.features,
                "mean_abs_shap": np.abs(self.explain(rows, class_index, output).values).mean(axis=0),
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


@dataclass
class _Linear:
    """A binary logistic regression over column-wise preprocessing, explained exactly in log-odds as
    ``shap.LinearExplainer`` does: coefficient * (transformed value - its background mean), summed per
    original column (``owner`` maps each transformed column to the original column it is computed from)."""

    transform: Callable[[pd.DataFrame], np.ndarray]
    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    owner: np.ndarray

    @classmethod
    def of(cls, model: Any, ev: Evaluation, background: pd.DataFrame, rows: np.ndarray) -> _Linear | None:
        """The linear explanation of ``model``, or None when it is not such a model."""
        from scipy import sparse
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        final = model[-1] if isinstance(model, Pipeline) else model
        if not isinstance(final, LogisticRegression) or np.shape(final.coef_)[0] != 1:
            return None  # multinomial: a class's log-odds is not linear in the coefficients
        pre = model[:-1] if isinstance(model, Pipeline) else None

        def transform(X: pd.DataFrame) -> np.ndarray:
            T = X if pre is None else pre.transform(X)
            return np.asarray(T.toarray() if sparse.issparse(T) else T, dtype=np.float64)

        try:
            owner = _owners(transform, ev.X, rows)
            T_background = transform(background)
        except (TypeError, ValueError):  # preprocessing that cannot take these columns one at a time
            return None
        if owner is None or (np.ptp(T_background[:, owner < 0], axis=0) > 0).any():
            return None
        return cls(transform, final.coef_[0].astype(np.float64), float(final.intercept_[0]),
                   T_background.mean(axis=0), owner)  # fmt: skip

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
    transform: Callable[[pd.DataFrame], np.ndarray], X: pd.DataFrame, rows: np.ndarray
) -> np.ndarray | None:
    """The original column each transformed column is computed from (-1: none, it is constant), found by
    changing one column at a time (to other rows' values and to each of its distinct values, up to 256);
    None when a transformed column depends on several columns (the model is not additive in them)."""
    sample = X.iloc[rows[:256]].reset_index(drop=True)
    T = transform(sample)
    depends = np.zeros((len(X.columns), T.shape[1]), dtype=bool)
    shifted = np.roll(np.arange(len(sample)), 1)
    for j, column in enumerate(X.columns):
        distinct = X[column].drop_duplicates().iloc[:256]
        probe = pd.concat([sample, sample.iloc[np.zeros(len(distinct), dtype=np.int64)]], ignore_index=True)
        probe[column] = np.concatenate(
            [sample[column].iloc[shifted].to_numpy(object), distinct.to_numpy(object)]
        )
        probe[column] = probe[column].astype(X[column].dtype)
        reference = np.concatenate([T, np.repeat(T[:1], len(distinct), axis=0)])
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
