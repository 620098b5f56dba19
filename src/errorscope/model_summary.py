"""What the model under debugging is: its type, the steps of its pipeline, its settings and its size.

:func:`model_summary` describes any model in three tables (:class:`ModelSummary`):

- ``steps``: one row per step (step, name, estimator, columns). A Pipeline's steps are listed in order
  (the pipeline itself is the model, not a row); a ColumnTransformer or FeatureUnion is a row followed by
  its transformers, whose step is their path (``"preprocess/num"``, ``"preprocess/num/imputer"``); a
  single estimator is one row named as ``make_pipeline`` would name it (its class name in lower case).
- ``params``: each step's own ``get_params(deep=False)`` (step, parameter, value, changed), the values
  rendered short (:func:`render`) and ``changed`` true where the value differs from the class's default
  (compared by ``repr``, as scikit-learn's own display does). Parameters that hold the nested steps
  (``steps``, ``transformers``, ``transformer_list``) are left out: the nested steps have rows of their own.
- ``size``: what each step's library reports of its size (step, measure, value), duck-typed so that no
  library is imported here: trees, leaves, nodes and max_depth of scikit-learn trees and tree ensembles
  (HistGradientBoosting's ``_predictors``, forests' and gradient boosting's ``estimators_``, a tree's
  ``tree_``), coefficients (``coef_`` plus ``intercept_`` when fitted with an intercept) and the nonzero
  ones, support vectors, an MLP's parameters, LightGBM's ``booster_.num_trees()`` (and leaves from its
  dump, up to :data:`MAX_DUMPED_TREES` trees), XGBoost's ``get_booster().get_dump()``, CatBoost's ``tree_count_``, a Keras model's
  ``count_params()``, a torch module's ``sum(p.numel() for p in parameters())``; and for every step
  ``n_features_in_``, the number of ``classes_``, ``iterations`` (``n_iter_``, or gradient boosting's
  ``n_estimators_``) and ``early stopping`` ("on" / "off") where the estimator has that setting. An
  unfitted scikit-learn-style step has the one row ``fitted`` = ``"no"``.

``library`` is the top-level module of the model's class (the first known library in its class
hierarchy, so a subclass defined in a notebook still counts as its library's); for a pipeline, the one of
its final step, which is the model that predicts.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

MAX_VALUE_CHARS = 80  # rendered values longer than this are cut, ending in "…"
MAX_DUMPED_TREES = 2000  # LightGBM: leaves are counted from the model's dump up to this many trees
KNOWN_LIBRARIES = ("sklearn", "lightgbm", "xgboost", "catboost", "keras", "tensorflow", "torch")
NESTED_PARAMS = ("steps", "transformers", "transformer_list")  # composite's parameters holding its steps
STEP_COLUMNS = ["step", "name", "estimator", "columns"]
PARAM_COLUMNS = ["step", "parameter", "value", "changed"]
SIZE_COLUMNS = ["step", "measure", "value"]


@dataclass(frozen=True)
class ModelSummary:
    """A model's type, steps, hyperparameters and size (see the module docstring for each table)."""

    estimator: str  # e.g. "Pipeline(ColumnTransformer → HistGradientBoostingClassifier)"
    library: str  # e.g. "sklearn", "lightgbm", "xgboost", "keras", "torch"
    steps: pd.DataFrame  # step, name, estimator, columns
    params: pd.DataFrame  # step, parameter, value (str), changed (bool)
    size: pd.DataFrame  # step, measure, value (int, or str for "fitted" and "early stopping")

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-serialisable data (for a widget): the two names and each table's records."""
        return {
            "estimator": self.estimator,
            "library": self.library,
            "steps": _records(self.steps),
            "params": _records(self.params),
            "size": _records(self.size),
        }


def model_summary(model: Any) -> ModelSummary:
    """The summary of ``model``: any object (one the libraries above do not describe gives its class name
    and empty params and size tables)."""
    if model is None:
        raise ValueError("model_summary needs a model: pass model= to Evaluation")
    steps = list(_steps(model))
    rows = [(path, path.rsplit("/", 1)[-1], _class_name(est), "" if columns is None else render(_plain(columns)))
            for path, est, columns in steps]  # fmt: skip
    params = [row for path, est, _ in steps for row in _params(path, est)]
    size = [(path, measure, value) for path, est, _ in steps for measure, value in _size(est)]
    return ModelSummary(
        estimator=describe(model),
        library=_library(_final(model)),
        steps=pd.DataFrame(rows, columns=STEP_COLUMNS),
        params=pd.DataFrame(params, columns=PARAM_COLUMNS).astype({"changed": bool}),
        size=pd.DataFrame(size, columns=SIZE_COLUMNS).astype({"value": object}),
    )


def describe(model: Any) -> str:
    """The model's type in one line: a Pipeline shows its steps, ``Pipeline(A → B)``."""
    if _is_pipeline(model):
        return f"Pipeline({' → '.join(describe(est) for _, est in model.steps)})"
    return _class_name(model)


def render(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """``value`` as short text: its ``repr`` (numpy scalars as Python's), whitespace collapsed, cut at
    ``limit`` characters."""
    if isinstance(value, np.generic):
        value = value.item()
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# steps ------------------------------------------------------------------------------------------------


def _is_pipeline(model: Any) -> bool:
    steps = getattr(model, "steps", None)
    return (
        isinstance(steps, list)
        and hasattr(model, "get_params")
        and all(isinstance(s, tuple) and len(s) == 2 for s in steps)
    )


def _children(est: Any) -> list[tuple[str, Any, Any]]:
    """A composite's (name, estimator, columns): a Pipeline's steps, a ColumnTransformer's transformers
    (the fitted ones, with the remainder, when fitted), a FeatureUnion's transformer_list."""
    if _is_pipeline(est):
        return [(name, step, None) for name, step in est.steps]
    transformers = getattr(est, "transformers_", None)
    if transformers is None:
        transformers = getattr(est, "transformers", None)
    if isinstance(transformers, list) and all(isinstance(t, tuple) and len(t) == 3 for t in transformers):
        # fitted, "passthrough" becomes a FunctionTransformer: show what was given, as it was given
        given = {name: step for name, step, _ in getattr(est, "transformers", None) or []}
        given["remainder"] = getattr(est, "remainder", None)
        return [(name, given[name] if isinstance(given.get(name), str) else step, columns)
                for name, step, columns in transformers]  # fmt: skip
    union = getattr(est, "transformer_list", None)
    if isinstance(union, list) and all(isinstance(t, tuple) and len(t) == 2 for t in union):
        return [(name, step, None) for name, step in union]
    return []


def _steps(model: Any) -> Iterator[tuple[str, Any, Any]]:
    """(path, estimator, columns) of every step: the top-level pipeline is unrolled, a composite is a row
    followed by its children; columns are a ColumnTransformer transformer's (None for the others)."""
    if _is_pipeline(model):
        for name, est, columns in _children(model):
            yield from _walk(str(name), est, columns)
    else:
        yield from _walk(_class_name(model).lower(), model, None)


def _walk(path: str, est: Any, columns: Any) -> Iterator[tuple[str, Any, Any]]:
    yield path, est, columns
    for name, child, child_columns in _children(est):
        yield from _walk(f"{path}/{name}", child, child_columns)


def _final(model: Any) -> Any:
    while _is_pipeline(model) and model.steps:
        model = model.steps[-1][1]
    return model


def _class_name(est: Any) -> str:
    if isinstance(est, str):
        return est  # "passthrough" / "drop" in a pipeline or a ColumnTransformer
    if est is None:
        return "passthrough"
    return type(est).__name__


def _library(est: Any) -> str:
    modules = [cls.__module__.split(".")[0] for cls in type(est).__mro__]
    return next((m for m in modules if m in KNOWN_LIBRARIES), modules[0])


def _plain(value: Any) -> Any:
    """Column selections as plain lists (numpy arrays and pandas indexes render long and noisy)."""
    if isinstance(value, np.ndarray | pd.Index):
        return value.tolist()
    return value


# params -----------------------------------------------------------------------------------------------


def _params(path: str, est: Any) -> list[tuple[str, str, str, bool]]:
    get_params = getattr(est, "get_params", None)
    if isinstance(est, str) or not callable(get_params):
        return []
    try:
        values = get_params(deep=False)
    except Exception:  # a third-party get_params that fails: the step's parameters stay unknown
        return []
    defaults = _defaults(type(est))
    rows = []
    for name, value in values.items():
        if name in NESTED_PARAMS and _children(est):
            continue
        default = defaults.get(name, inspect.Parameter.empty)
        changed = default is inspect.Parameter.empty or not _same(value, default)
        rows.append((path, str(name), render(value), bool(changed)))
    return rows


def _defaults(cls: type) -> dict[str, Any]:
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return {}
    return {n: p.default for n, p in signature.parameters.items() if n != "self"}


def _same(value: Any, default: Any) -> bool:
    """Whether a parameter keeps its default: same repr (as scikit-learn's display compares), or both NaN."""
    if repr(value) == repr(default):
        return True
    nan = [isinstance(v, float | np.floating) and np.isnan(v) for v in (value, default)]
    return all(nan)


# size -------------------------------------------------------------------------------------------------


def _size(est: Any) -> list[tuple[str, Any]]:
    if isinstance(est, str) or est is None:
        return []
    if hasattr(est, "get_params") and not _is_fitted(est):
        return [("fitted", "no")]
    rows: list[tuple[str, Any]] = []
    for measure in (_hist_gradient_boosting, _tree_ensemble, _tree, _linear, _svm, _mlp, _lightgbm, _xgboost,
                    _catboost, _keras, _torch):  # fmt: skip
        try:
            found = measure(est)
        except Exception:  # a library that cannot report it (unbuilt, another version): leave it out
            found = []
        if found:
            rows.extend(found)
            break
    rows.extend(_common(est))
    return rows


def _is_fitted(est: Any) -> bool:
    """scikit-learn's rule (``check_is_fitted``): ``__sklearn_is_fitted__`` if defined, else any public
    attribute ending in "_" set on the instance."""
    is_fitted = getattr(est, "__sklearn_is_fitted__", None)
    if callable(is_fitted):
        try:
            return bool(is_fitted())
        except Exception:
            return False
    return (
        any(k.endswith("_") and not k.startswith("__") for k in vars(est))
        if hasattr(est, "__dict__")
        else True
    )


def _trees(trees: list[Any]) -> list[tuple[str, Any]]:
    """Size of scikit-learn trees (each with ``tree_``)."""
    return [
        ("trees", len(trees)),
        ("leaves", int(sum(int(t.tree_.n_leaves) for t in trees))),
        ("nodes", int(sum(int(t.tree_.node_count) for t in trees))),
        ("max_depth", int(max(int(t.tree_.max_depth) for t in trees))),
    ]


def _hist_gradient_boosting(est: Any) -> list[tuple[str, Any]]:
    predictors = getattr(est, "_predictors", None)
    if not isinstance(predictors, list):
        return []
    trees = [p for iteration in predictors for p in iteration]
    leaves = sum(int(np.sum(p.nodes["is_leaf"])) for p in trees)
    depth = max((int(np.max(p.nodes["depth"])) for p in trees), default=0)
    return [("trees", len(trees)), ("leaves", leaves), ("max_depth", depth)]


def _tree_ensemble(est: Any) -> list[tuple[str, Any]]:
    estimators = getattr(est, "estimators_", None)
    if estimators is None:
        return []
    trees = (
        list(np.ravel(np.asarray(estimators, dtype=object)))
        if isinstance(estimators, np.ndarray)
        else list(estimators)
    )
    if not trees or not all(hasattr(t, "tree_") for t in trees):
        return []
    return _trees(trees)


def _tree(est: Any) -> list[tuple[str, Any]]:
    return _trees([est]) if hasattr(getattr(est, "tree_", None), "n_leaves") else []


def _linear(est: Any) -> list[tuple[str, Any]]:
    coef = getattr(est, "coef_", None)  # a property raising AttributeError (SVC's, not linear) gives None
    if coef is None:
        return []
    coef = coef.toarray() if hasattr(coef, "toarray") else np.asarray(coef)
    intercept = getattr(est, "intercept_", None)
    with_intercept = intercept is not None and getattr(est, "fit_intercept", True) is not False
    intercepts = int(np.size(intercept)) if with_intercept else 0
    return [
        ("coefficients", int(coef.size) + intercepts),
        ("nonzero coefficients", int(np.count_nonzero(coef))),
    ]


def _svm(est: Any) -> list[tuple[str, Any]]:
    vectors = getattr(est, "support_vectors_", None)
    return [("support vectors", int(np.shape(vectors)[0]))] if vectors is not None else []


def _mlp(est: Any) -> list[tuple[str, Any]]:
    coefs, intercepts = getattr(est, "coefs_", None), getattr(est, "intercepts_", None)
    if not isinstance(coefs, list) or not isinstance(intercepts, list):
        return []
    count = sum(int(np.size(w)) for w in coefs) + sum(int(np.size(b)) for b in intercepts)
    return [("parameters", count), ("layers", len(coefs) + 1)]


def _lightgbm(est: Any) -> list[tuple[str, Any]]:
    booster = est if callable(getattr(est, "num_trees", None)) else getattr(est, "booster_", None)
    if not callable(getattr(booster, "num_trees", None)):
        return []
    count = int(booster.num_trees())
    rows: list[tuple[str, Any]] = [("trees", count)]
    if count <= MAX_DUMPED_TREES and callable(getattr(booster, "dump_model", None)):
        info = booster.dump_model(num_iteration=-1).get("tree_info", [])
        rows.append(("leaves", int(sum(int(t["num_leaves"]) for t in info))))
    best = getattr(est, "best_iteration_", None)
    if best:  # LightGBM sets it (> 0) when early stopping ran
        rows.append(("best iteration", int(best)))
    return rows


def _xgboost(est: Any) -> list[tuple[str, Any]]:
    booster = est if callable(getattr(est, "get_dump", None)) else None
    if booster is None and callable(getattr(est, "get_booster", None)):
        booster = est.get_booster()
    if not callable(getattr(booster, "get_dump", None)):
        return []
    dump = [tree for tree in booster.get_dump() if "leaf=" in tree]  # gblinear has no trees
    rows: list[tuple[str, Any]] = [("trees", len(dump)), ("leaves", sum(t.count("leaf=") for t in dump))]
    try:
        best = getattr(est, "best_iteration", None)  # set by XGBoost when early stopping ran
    except Exception:
        best = None
    if best is not None:
        rows.append(("best iteration", int(best)))
    return rows


def _catboost(est: Any) -> list[tuple[str, Any]]:
    count = _attribute(est, "tree_count_")
    return [("trees", int(count))] if isinstance(count, int | np.integer) else []


def _keras(est: Any) -> list[tuple[str, Any]]:
    if not callable(getattr(est, "count_params", None)):
        return []
    rows: list[tuple[str, Any]] = [("parameters", int(est.count_params()))]
    trainable = getattr(est, "trainable_weights", None)
    if trainable is not None:
        rows.append(("trainable parameters", int(sum(int(np.prod(w.shape)) for w in trainable))))
    layers = getattr(est, "layers", None)
    if layers is not None:
        rows.append(("layers", len(layers)))
    return rows


def _torch(est: Any) -> list[tuple[str, Any]]:
    parameters = getattr(est, "parameters", None)
    if not callable(parameters) or not callable(getattr(est, "named_modules", None)):
        return []
    weights = list(parameters())
    return [
        ("parameters", int(sum(int(p.numel()) for p in weights))),
        (
            "trainable parameters",
            int(sum(int(p.numel()) for p in weights if getattr(p, "requires_grad", True))),
        ),
    ]


def _common(est: Any) -> list[tuple[str, Any]]:
    """What any fitted scikit-learn-style estimator reports: features in, classes, iterations, early
    stopping."""
    rows: list[tuple[str, Any]] = []
    features = _attribute(est, "n_features_in_")
    if features is not None:
        rows.append(("n_features_in_", int(features)))
    classes = _attribute(est, "classes_")
    if classes is not None:
        rows.append(("classes", len(classes)))
    iterations = _attribute(est, "n_iter_")
    if iterations is None:
        iterations = _attribute(est, "n_estimators_")  # GradientBoosting's iterations after early stopping
    if iterations is not None:
        rows.append(("iterations", int(np.max(iterations))))  # LogisticRegression's: one per class
    early = _early_stopping(est)
    if early is not None:
        rows.append(("early stopping", "on" if early else "off"))
    return rows


def _attribute(est: Any, name: str) -> Any:
    try:
        return getattr(est, name, None)
    except Exception:  # properties of unfitted or partly fitted models raise their own errors
        return None


def _early_stopping(est: Any) -> bool | None:
    """Whether early stopping was on: HistGradientBoosting's decision at fit (``early_stopping="auto"``
    turns it on above 10,000 rows; ``do_early_stopping_``), else the ``early_stopping`` setting (MLP, SGD), else GradientBoosting's
    ``n_iter_no_change``."""
    used = _attribute(est, "do_early_stopping_")  # scikit-learn >= 1.8; _use_early_stopping before
    if used is None:
        used = _attribute(est, "_use_early_stopping")
    if isinstance(used, bool | np.bool_):
        return bool(used)
    get_params = getattr(est, "get_params", None)
    if not callable(get_params):
        return None
    try:
        params = get_params(deep=False)
    except Exception:
        return None
    if isinstance(params.get("early_stopping"), bool):
        return params["early_stopping"]
    if "n_iter_no_change" in params and "validation_fraction" in params and "n_estimators" in params:
        return params["n_iter_no_change"] is not None  # GradientBoosting: None means no early stopping
    return None


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as JSON-serialisable dicts (numpy scalars as Python's)."""
    return json.loads(frame.to_json(orient="records", default_handler=str))
