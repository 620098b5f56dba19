"""Several models on one evaluation set: each model's predictions by name, and which one is active.

``es.Evaluation(data, y_true, models={"baseline": m1, "candidate": m2})`` (or per-model ``y_pred={...}``
and ``y_score={...}``) evaluates every model on the same rows. One model is *active*: every view shows
it, as a single model's Evaluation does; ``ev.active_model = "candidate"`` (or the picker in a view)
switches them all. Plans name another model explicitly (``Key.predicted(model="baseline")``,
``Measure("abs_error", model=...)``), which is how the model comparer counts both on the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_MODEL = "model"  # the one model's name when a single model is given
MAX_MODELS = 12


@dataclass(frozen=True)
class ModelArguments:
    """What one model was given as: a fitted estimator, predictions and / or scores (arrays or columns)."""

    name: str
    model: Any = None
    y_pred: Any = None
    y_score: Any = None

    def columns(self) -> set[str]:
        """The data columns it names (its y_pred and y_score columns)."""
        named = [self.y_pred, *(self.y_score if isinstance(self.y_score, list | tuple) else [self.y_score])]
        return {c for c in named if isinstance(c, str)}


@dataclass
class ModelPredictions:
    """One model's predictions over the evaluation's rows (in memory), or its columns (on a SQL engine)."""

    name: str
    model: Any = None
    pred_codes: np.ndarray | None = None  # classification: class indices
    scores: np.ndarray | None = None  # (n, k) probabilities in the class order
    pred_from_scores: bool = False
    predicted_values: np.ndarray | None = None  # regression: predicted numbers
    features: list[str] = field(default_factory=list)  # what the model consumes (for explanations)
    y_pred: str | None = None  # a SQL engine: the column of predictions
    y_score: tuple[str, ...] = ()  # a SQL engine: the score columns
    score_order: tuple[int, ...] | None = None  # a SQL engine: y_score columns -> the class order


def is_several(models: Any, y_pred: Any, y_score: Any) -> bool:
    """Whether the arguments name several models (``models=`` or a dict of y_pred / y_score)."""
    return models is not None or isinstance(y_pred, Mapping) or isinstance(y_score, Mapping)


def model_arguments(models: Any, model: Any, y_pred: Any, y_score: Any) -> list[ModelArguments]:
    """Each model's arguments, in the order given: ``models`` first, then names only in y_pred / y_score.

    ``models``: {name: fitted estimator}; ``y_pred`` / ``y_score``: {name: column or array}, or one value
    when a single model is given. Names are non-empty text; a name in ``y_pred`` or ``y_score`` must be
    in ``models`` when ``models`` is given.
    """
    if model is not None and models is not None:
        raise TypeError("pass either model= (one model) or models={name: model, ...}, not both.")
    if models is not None and not isinstance(models, Mapping):
        raise TypeError(
            f"models= takes a dict of named fitted models, e.g. models={{'baseline': m1, 'candidate': m2}}, "
            f"not {type(models).__name__}."
        )
    given = {"models": models, "y_pred": y_pred, "y_score": y_score}
    for argument, value in given.items():
        if isinstance(value, Mapping):
            _check_names(value, argument)
    names = list(models or {})
    for argument in ("y_pred", "y_score"):
        value = given[argument]
        if isinstance(value, Mapping):
            extra = [n for n in value if n not in names]
            if models is not None and extra:
                raise ValueError(
                    f"{argument}= names {extra}, which are not in models= ({list(models)}): use the same "
                    "names in both, or add those models."
                )
            names += extra
    for argument in ("y_pred", "y_score"):
        value = given[argument]
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(
                f"{argument}= is one value but there are several models: pass {argument}={{name: ...}} "
                f"for the models {names}, or omit it (each model then predicts)."
            )
    if len(names) < 1:
        raise ValueError("models= is empty: pass at least one named model.")
    if len(names) > MAX_MODELS:
        raise ValueError(f"{len(names)} models: compare at most {MAX_MODELS} in one Evaluation.")
    if model is not None:  # a single model= beside per-model predictions: it is every model's estimator
        raise TypeError(
            "model= is one estimator but y_pred / y_score name several models: pass "
            "models={name: estimator, ...} with the same names."
        )

    def pick(value: Any, name: str) -> Any:
        return value.get(name) if isinstance(value, Mapping) else None

    return [
        ModelArguments(name, (models or {}).get(name), pick(y_pred, name), pick(y_score, name))
        for name in names
    ]


def _check_names(value: Mapping[Any, Any], argument: str) -> None:
    bad = [n for n in value if not isinstance(n, str) or not n.strip()]
    if bad:
        raise TypeError(
            f"{argument}= is keyed by model names (non-empty text), got {bad[:3]}: e.g. "
            f"{argument}={{'baseline': ..., 'candidate': ...}}."
        )
    if not value:
        raise ValueError(f"{argument}= is an empty dict: name at least one model.")


def check_model_name(name: Any, names: list[str], argument: str = "active_model") -> str:
    """``name`` if it is one of the models, else a ValueError listing them."""
    if not isinstance(name, str) or name not in names:
        raise ValueError(f"{argument}={name!r} is not a model of this Evaluation: choose one of {names}.")
    return name


def model_text(name: str) -> str:
    """How query text names a model: ``candidate`` if it is a plain word, else ``'gbm v2'``."""
    return name if name.isidentifier() else repr(name)
