"""The training rows an Evaluation is compared with (``train=``, ``train_y=``): checked once, kept as given.

``train=`` is the training frame: a pandas DataFrame (any engine), or a frame Narwhals reads (a DuckDB
relation, a PySpark or polars DataFrame) where the evaluation rows are on that engine. It must hold every
feature the Evaluation uses. Its labels are ``train_y=`` (a column of it, or an array with one label per
row) or, when ``y_true`` names a column that the training frame also has, that column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import narwhals as nw
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .evaluation import Evaluation


def training_rows(ev: Evaluation, train: Any, train_y: Any, target: str | None) -> tuple[Any, Any]:
    """(the training frame, its labels: a column name, an array or None), checked against ``ev``."""
    if train is None:
        if train_y is not None:
            raise ValueError("train_y= labels the training rows: pass them as train= too.")
        return None, None
    columns = _columns(train)
    missing = [f for f in ev.features if f not in columns]
    if missing:
        raise ValueError(
            f"train= lacks the features {missing} the Evaluation uses: pass the training frame with the "
            f"same feature columns (it has {columns[:20]})."
        )
    if train_y is None:
        return train, target if target is not None and target in columns else None
    if isinstance(train_y, str):
        if train_y not in columns:
            raise ValueError(
                f"train_y={train_y!r} is not a column of train=; its columns are {columns[:20]}."
            )
        return train, train_y
    labels = np.asarray(train_y)
    n = len(train) if isinstance(train, pd.DataFrame) else None
    if labels.ndim != 1 or (n is not None and len(labels) != n):
        raise ValueError(
            f"train_y= must be a column name of train= or one label per training row ({n} rows), got an "
            f"array of shape {labels.shape}."
        )
    if n is None:
        raise ValueError(
            "train_y= as an array needs train= as a pandas DataFrame; on SQL data name a column."
        )
    return train, labels


def _columns(train: Any) -> list[str]:
    if isinstance(train, pd.DataFrame):
        return [str(c) for c in train.columns]
    try:
        frame = nw.from_native(train)
    except TypeError:
        raise TypeError(
            f"train= must be the training rows as a pandas DataFrame (or a DuckDB relation, a PySpark or polars "
            f"DataFrame), got {type(train).__name__}."
        ) from None
    return list(frame.collect_schema().names())


def train_label_values(ev: Evaluation) -> np.ndarray | None:
    """The training labels as an array (None without labels)."""
    labels = getattr(ev, "train_labels", None)
    if labels is None:
        return None
    if not isinstance(labels, str):
        return np.asarray(labels)
    if isinstance(ev.train, pd.DataFrame):
        return ev.train[labels].to_numpy()
    frame = nw.from_native(ev.train).select(labels)
    frame = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    return frame.to_pandas()[labels].to_numpy()
