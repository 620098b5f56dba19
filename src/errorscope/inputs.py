"""Turning what users pass into validated numpy arrays, with errors that name the argument and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SUPPORTED_KINDS = "biufmMOSU"  # bool, int, uint, float, datetime, timedelta, object, bytes, str


@dataclass(frozen=True)
class Arguments:
    """The roles and the task as ``Evaluation(...)`` was given them (see its docstring): one bundle that
    each engine's builder validates (in memory: Evaluation itself; SQL engines: engines/spec.py)."""

    y_true: Any
    y_pred: Any = None
    y_score: Any = None
    model: Any = None
    features: Sequence[str] | None = None
    sensitive: str | Sequence[str] | None = None
    text: str | None = None
    ids: Any = None
    labels: Sequence[Any] | Mapping[Any, str] | None = None
    threshold: float = 0.5
    positive_class: Any = None
    metadata: Sequence[str] | None = None
    task: str | None = None


def as_frame(data: Any, feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """A pandas DataFrame view of ``data`` (pandas, polars, a 2-D numpy array or a dict of columns)."""
    if data is None:
        raise TypeError(
            "data is None: pass the evaluation set as a pandas or polars DataFrame, "
            "or a 2-D numpy array with feature_names=."
        )
    if _is_polars(data):
        data = _polars_to_pandas(data)
    elif isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ValueError(
                f"data is a {data.ndim}-D array; pass a 2-D array (rows x features) or a DataFrame."
            )
        names = list(feature_names) if feature_names is not None else None
        if names is not None and len(names) != data.shape[1]:
            raise ValueError(
                f"feature_names has {len(names)} names but data has {data.shape[1]} columns; "
                "give one name per column."
            )
        data = pd.DataFrame(data, columns=names or [f"x{i}" for i in range(data.shape[1])])
    elif isinstance(data, dict):
        data = pd.DataFrame(data)
    elif not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"data must be a pandas or polars DataFrame or a 2-D numpy array, not "
            f"{type(data).__name__}. Convert it first, e.g. pd.DataFrame(data)."
        )
    if len(data) == 0:
        raise ValueError("data is empty (0 rows): pass the rows of your evaluation set.")
    if not all(isinstance(c, str) for c in data.columns):
        data = data.rename(columns=str)
    duplicated = data.columns[data.columns.duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(
            f"data has duplicate column names {duplicated}: rename them so each column is unique."
        )
    for name in data.columns:
        check_dtype(data[name], f"data column {name!r}")
    return data


def _is_polars(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "polars"


def _polars_to_pandas(obj: Any) -> Any:
    try:
        return obj.to_pandas()
    except (ImportError, ModuleNotFoundError):  # pyarrow missing: go column by column
        if hasattr(obj, "columns"):
            return pd.DataFrame({c: obj[c].to_numpy() for c in obj.columns})
        return obj.to_numpy()


def check_dtype(column: pd.Series, what: str) -> None:
    """Raise a TypeError for a dtype errorscope cannot slice or show (complex, nested objects...)."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype | pd.StringDtype):
        return
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(dtype, np.dtype):
        kinds = (pd.api.types.is_numeric_dtype, pd.api.types.is_bool_dtype, pd.api.types.is_string_dtype)
        if any(is_kind(dtype) for is_kind in kinds) or dtype.kind in ("M", "m"):  # pyarrow-backed too
            return
        raise TypeError(f"{what} has unsupported dtype {dtype}: convert it to a number, string or category.")
    if dtype.kind not in SUPPORTED_KINDS:
        raise TypeError(
            f"{what} has unsupported dtype {dtype}: convert it to a number, string or category "
            "(complex numbers, for example, cannot be sliced)."
        )
    if dtype.kind == "O":
        sample = column.dropna()
        sample = sample.iloc[: min(len(sample), 1000)]
        bad = next((v for v in sample if isinstance(v, list | dict | set | np.ndarray)), None)
        if bad is not None:
            raise TypeError(
                f"{what} holds {type(bad).__name__} values, which cannot be compared or sliced: "
                "flatten it into scalar columns or drop it."
            )


def column_or_array(
    value: Any, name: str, data: pd.DataFrame, *, allow_2d: bool = False
) -> tuple[np.ndarray, str | None]:
    """Resolve a column name or an array-like argument to a numpy array of len(data) rows.

    Returns the array and the column name it came from (None for arrays).
    """
    n = len(data)
    if isinstance(value, str):
        return data[require_column(value, name, data)].to_numpy(), value
    if _is_polars(value):
        value = value.to_numpy()
    if isinstance(value, pd.Series | pd.DataFrame) and len(value) == n:
        value = align_index(value, data, name)
    if isinstance(value, pd.Series | pd.Index | pd.DataFrame):
        arr = value.to_numpy()
    else:
        try:
            arr = np.asarray(value)
        except Exception as err:  # ragged lists and the like
            raise TypeError(f"{name} could not be read as an array: {err}") from err
    if arr.ndim == 0:
        raise TypeError(
            f"{name} must be a column name or an array with one value per row, not a scalar {value!r}."
        )
    if arr.ndim > (2 if allow_2d else 1):
        raise ValueError(f"{name} must be 1-D (one value per row); got shape {arr.shape}.")
    if len(arr) != n:
        raise ValueError(
            f"{name} has {len(arr):,} values but data has {n:,} rows; "
            "they must have the same length and order."
        )
    return arr, None


def align_index(value: pd.Series | pd.DataFrame, data: pd.DataFrame, name: str) -> Any:
    """``value`` in ``data``'s row order, matched on the index; a ValueError when the two indexes differ."""
    if value.index.equals(data.index):
        return value
    if value.index.is_unique and data.index.is_unique and value.index.isin(data.index).all():
        return value.reindex(data.index)
    extra = value.index[~value.index.isin(data.index)][:3].tolist()
    why = f"{extra} are not in data's index" if extra else "its index repeats labels"
    raise ValueError(
        f"{name} is a pandas {type(value).__name__} whose index does not match data's index (e.g. {why}): "
        f"pass {name}.to_numpy() if it is in data's row order, or give it data's index, e.g. "
        f"{name}.set_axis(data.index)."
    )


def require_column(
    column: Any, name: str, data: pd.DataFrame | Sequence[str], known: Sequence[str] | None = None
) -> str:
    """``column`` if it is a column of ``data`` (a frame, or its column names); otherwise a KeyError-style
    ValueError with suggestions.

    ``known``: every acceptable name when it is more than the data's columns (e.g. derived columns);
    the caller handles those, this only uses them for the message.
    """
    if not isinstance(column, str):
        raise TypeError(f"{name} must name a column of data, got {type(column).__name__}.")
    columns = data.columns if hasattr(data, "columns") else list(data)
    if column not in columns:
        names = [str(c) for c in (columns if known is None else known)]
        close = difflib.get_close_matches(column, names, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"{name}={column!r} is not a column of data.{hint} "
            f"Columns are: {', '.join(names[:20])}" + (" ..." if len(names) > 20 else "")
        )
    return column


def require_text_column(column: Any, data: pd.DataFrame) -> str:
    """``column`` if it names a column of text (strings, or categories of strings) in ``data``."""
    name = require_column(column, "text", data)
    values = data[name]
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = pd.Series(values.dtype.categories)
    sample = values.dropna().iloc[:1000]
    kind = pd.api.types.infer_dtype(sample, skipna=True) if values.dtype.kind == "O" else ""
    if not (pd.api.types.is_string_dtype(values.dtype) and kind in ("", "string", "empty")):
        raise TypeError(
            f"text={name!r} is a column of {kind or values.dtype}, not text: text= names a column of strings "
            "(e.g. reviews), shown in row views and sliced by length. Pass a text column, or list "
            f"{name!r} in features= instead."
        )
    return name


def column_list(value: Any, name: str, data: pd.DataFrame | Sequence[str]) -> list[str]:
    """A column name or list of names, each checked to exist."""
    if value is None:
        return []
    names = [value] if isinstance(value, str) else list(value)
    if not names:
        raise ValueError(f"{name} is an empty list: name at least one column or pass None.")
    return [require_column(c, name, data) for c in names]


def check_no_missing(values: np.ndarray, name: str) -> None:
    missing = pd.isna(values)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"{name} has {int(missing.sum()):,} missing values (first at row {first}): "
            "drop those rows from data, or fill the labels, before building the Evaluation."
        )


def as_scores(values: np.ndarray, n_classes: int, name: str = "y_score") -> np.ndarray:
    """Validate probabilities and return them as an (n, k) float64 array."""
    try:
        scores = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must hold numbers (class probabilities): {err}") from err
    if scores.ndim == 1:
        if n_classes != 2:
            raise ValueError(
                f"{name} is 1-D but there are {n_classes} classes: pass an (n, {n_classes}) array "
                "of probabilities, one column per class in the order of labels."
            )
        one_d = True
    else:
        one_d = False
        if scores.shape[1] != n_classes:
            raise ValueError(
                f"{name} has {scores.shape[1]} columns but there are {n_classes} classes: "
                "pass one probability column per class, in the order of labels."
            )
    if not np.isfinite(scores).all():
        raise ValueError(f"{name} has NaN or infinite values: every row needs a probability.")
    if scores.min() < 0 or scores.max() > 1:
        raise ValueError(
            f"{name} has values outside [0, 1] (min {scores.min():.4g}, max {scores.max():.4g}): "
            "pass probabilities (predict_proba), not decision-function scores or logits."
        )
    if one_d:
        scores = np.column_stack([1.0 - scores, scores])
    else:
        sums = scores.sum(axis=1)
        off = np.abs(sums - 1.0) > 1e-3
        if off.any():
            row = int(np.flatnonzero(off)[0])
            raise ValueError(
                f"{name} rows must sum to 1 (row {row} sums to {sums[row]:.4g}); pass "
                "normalised class probabilities, e.g. from predict_proba or a softmax."
            )
    return scores
