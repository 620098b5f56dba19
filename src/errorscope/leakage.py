"""Train against evaluation leakage: evaluation rows that repeat a training row, and the class balance.

:func:`train_overlap` finds the evaluation rows whose feature values exactly repeat a training row (how
many training rows share them and, with labels, whether the labels agree); with ``decimals`` it finds
near-duplicates, numeric features rounded first. It runs on pandas DataFrames in memory and on lazy frames
(DuckDB relations, PySpark DataFrames, or anything :func:`~errorscope.engines.sources.open_source` opens)
through Narwhals: the training rows are grouped by the features in the engine, joined to the evaluation
rows there, and only the matched rows are collected.

Matching rules, the same on every engine:

- **Missing values match each other**, as in a pandas merge (NaN == NaN in keys): each feature becomes
  two join keys, whether it is missing (null, or NaN in a float column) and its value with missing values
  replaced by a sentinel (0, "" or False). The flag keeps the sentinel from matching a real 0 or "";
  this is ``IS NOT DISTINCT FROM`` written as a plain equi-join, which every engine runs as a hash join.
- Numeric features (not booleans) are compared as float64, so 3 and 3.0 match (integers beyond 2**53
  may collide). Other features are compared as text when they are neither strings nor booleans
  (categories, dates).
- ``decimals``: numeric features rounded to that many decimals before matching, exactly as numpy and
  pandas ``round`` do: half to even on the scaled value (``rint(x * 10**d) / 10**d``; for d < 0,
  ``rint(x / 10**-d) * 10**-d``), so 0.125 rounds to 0.12 and 0.135 to 0.14 at d = 2 (floats near a
  half follow their binary value). SQL ``round`` rounds halves away from zero, so the engines compute
  numpy's formula with ``floor`` rather than calling it.

:func:`overlap_summary` sums an overlap up; :func:`class_balance` compares the training labels' classes
(chi-square test of homogeneity) or values (quantiles and the two-sample Kolmogorov-Smirnov test) with
the evaluation's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, ks_2samp

from .engines.sources import ROW, is_lazy_source, open_source

QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)  # class_balance for regression targets
OUTPUT = ("id", "train_copies", "label", "train_label", "label_agrees", "agreeing_copies")
_ID, _LABEL = "__es_id", "__es_label"
_EXACT = 2.0**52  # doubles at least this large are whole numbers: rounding leaves them as they are


def train_overlap(
    evaluation: Any,
    train: Any,
    features: Sequence[str],
    eval_labels: Any = None,
    train_labels: Any = None,
    ids: Any = None,
    decimals: int | None = None,
) -> pd.DataFrame:
    """The evaluation rows whose ``features`` exactly repeat a training row (see the module docstring for
    the matching rules: missing values match missing values; ``decimals`` rounds numeric features half to
    even first, as numpy and pandas ``round``).

    ``evaluation`` and ``train``: two pandas DataFrames, or two lazy frames on one engine (DuckDB
    relations of one connection, PySpark DataFrames of one session, Parquet paths, Arrow tables).
    ``eval_labels`` / ``train_labels``: a column name, or (pandas) an array with one label per row; the
    label columns come only when both are given. ``ids``: a column name of ``evaluation`` or (pandas) an
    array; default the row's position (0 to n-1).

    Columns, sorted by id: ``id``, the features (the evaluation row's own values, not rounded),
    ``train_copies`` (training rows sharing these features), and with labels ``label``, ``train_label``
    (the most common label among the copies; a tie goes to the smallest label), ``label_agrees`` (the
    evaluation label equals it; a missing label never agrees) and ``agreeing_copies`` (copies whose label
    equals the evaluation label).
    """
    features = _feature_list(features)
    if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int | np.integer)):
        raise ValueError(f"decimals must be an integer (digits after the point) or None, not {decimals!r}.")
    lazy = [is_lazy_source(evaluation), is_lazy_source(train)]
    if lazy == [False, False]:
        ev = nw.from_native(_pandas_side("evaluation", evaluation, features, eval_labels, ids))
        tr = nw.from_native(_pandas_side("train", train, features, train_labels, None))
    elif lazy == [True, True]:
        ev, tr = _lazy_sides(evaluation, train, features, eval_labels, train_labels, ids)
    else:
        raise ValueError(
            "evaluation and train must both be pandas DataFrames or both lazy frames on one engine (got "
            f"{type(evaluation).__name__} and {type(train).__name__}): convert one to the other's kind."
        )
    labelled = _LABEL in ev.columns and _LABEL in tr.columns
    keys, ev, tr = _keyed(ev, tr, features, None if decimals is None else int(decimals))

    if labelled:
        per_label = tr.group_by(*keys, _LABEL).agg(nw.len().alias("__es_n"))
        copies = per_label.group_by(*keys).agg(nw.col("__es_n").sum().alias("train_copies"))
        top = per_label.group_by(*keys).agg(nw.col("__es_n").max().alias("__es_top"))
        best = (
            per_label.join(top, on=keys)
            .filter(nw.col("__es_n") == nw.col("__es_top"))
            .group_by(*keys)
            .agg(nw.col(_LABEL).min().alias("train_label"))
        )
        agreeing = per_label.select(*keys, nw.col(_LABEL), nw.col("__es_n").alias("agreeing_copies"))
        matched = (
            ev.join(copies, on=keys)
            .join(best, on=keys)
            .join(agreeing, on=[*keys, _LABEL], how="left")
            .select(
                nw.col(_ID).alias("id"), *[nw.col(f) for f in features], nw.col("train_copies"),
                nw.col(_LABEL).alias("label"), nw.col("train_label"),
                (nw.col(_LABEL) == nw.col("train_label")).fill_null(False).alias("label_agrees"),
                nw.col("agreeing_copies").fill_null(0),
            )
        )  # fmt: skip
    else:
        copies = tr.group_by(*keys).agg(nw.len().alias("train_copies"))
        matched = ev.join(copies, on=keys).select(
            nw.col(_ID).alias("id"), *[nw.col(f) for f in features], nw.col("train_copies")
        )
    if isinstance(matched, nw.LazyFrame):
        matched = matched.collect(backend="pyarrow")
    out = matched.to_pandas().sort_values("id", kind="stable").reset_index(drop=True)
    out["train_copies"] = out["train_copies"].astype(np.int64)
    if labelled:
        out["label_agrees"] = out["label_agrees"].astype(bool)
        out["agreeing_copies"] = out["agreeing_copies"].astype(np.int64)
    return out


def overlap_summary(overlap: pd.DataFrame, n_eval: int) -> dict[str, float]:
    """``{"rows": matched rows, "share": rows / n_eval, "label_agreement": share of label_agrees}`` of a
    :func:`train_overlap` result (NaN agreement without labels or matches; NaN share when n_eval is 0)."""
    if "train_copies" not in overlap.columns:
        raise ValueError(
            "overlap must be the DataFrame train_overlap returns (it has no train_copies column)."
        )
    rows = len(overlap)
    if n_eval < rows:
        raise ValueError(
            f"n_eval={n_eval} is below the {rows} matched rows: pass the number of evaluation rows."
        )
    agrees = overlap["label_agrees"] if "label_agrees" in overlap.columns else None
    return {
        "rows": rows,
        "share": rows / n_eval if n_eval else float("nan"),
        "label_agreement": float(agrees.mean()) if agrees is not None and rows else float("nan"),
    }


def class_balance(train_labels: Any, eval_labels: Any, classification: bool = True) -> pd.DataFrame:
    """The training labels against the evaluation's (missing labels left out).

    Classification: one row per class (value order) with train_count, train_share, eval_count, eval_share
    and difference (eval_share - train_share); ``.attrs`` holds the chi-square test of homogeneity of the
    2 x k table of counts (scipy's ``chi2_contingency``, no continuity correction): "test", "statistic",
    "p", "dof" (one class: no test, statistic 0 and p 1).

    Regression: one row per quantile (:data:`QUANTILES`, pandas' linear interpolation) with train, eval and
    difference; ``.attrs`` holds the two-sample Kolmogorov-Smirnov test (scipy's ``ks_2samp``): "test",
    "statistic", "p".
    """
    t, e = _labels("train_labels", train_labels), _labels("eval_labels", eval_labels)
    if classification:
        t_counts, e_counts = t.value_counts(), e.value_counts()
        classes = _value_order(t_counts.index.union(e_counts.index, sort=False))
        table = pd.DataFrame({
            "class": classes,
            "train_count": t_counts.reindex(classes, fill_value=0).to_numpy(np.int64),
            "eval_count": e_counts.reindex(classes, fill_value=0).to_numpy(np.int64),
        })  # fmt: skip
        table.insert(2, "train_share", table["train_count"] / len(t))
        table["eval_share"] = table["eval_count"] / len(e)
        table["difference"] = table["eval_share"] - table["train_share"]
        if len(classes) < 2:
            statistic, p, dof = 0.0, 1.0, 0
        else:
            counts = np.vstack([table["train_count"], table["eval_count"]])
            statistic, p, dof, _ = chi2_contingency(counts, correction=False)
        table.attrs.update(test="chi-square", statistic=float(statistic), p=float(p), dof=int(dof))
        return table
    for name, values in (("train_labels", t), ("eval_labels", e)):
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise ValueError(
                f"{name} must be numbers for classification=False (a regression target), got {values.dtype}: "
                "pass classification=True for class labels."
            )
    t, e = t.astype(np.float64), e.astype(np.float64)
    table = pd.DataFrame({"quantile": QUANTILES, "train": t.quantile(QUANTILES).to_numpy(),
                          "eval": e.quantile(QUANTILES).to_numpy()})  # fmt: skip
    table["difference"] = table["eval"] - table["train"]
    result = ks_2samp(t.to_numpy(), e.to_numpy())
    table.attrs.update(test="Kolmogorov-Smirnov", statistic=float(result.statistic), p=float(result.pvalue))
    return table


# -- inputs ----------------------------------------------------------------------------------------


def _feature_list(features: Sequence[str]) -> list[str]:
    if isinstance(features, str):
        features = [features]
    out = list(dict.fromkeys(features))
    if not out:
        raise ValueError("features must name at least one column shared by evaluation and train.")
    clash = [f for f in out if f in OUTPUT or f.startswith("__es_")]
    if clash:
        raise ValueError(
            f"features {clash} clash with train_overlap's own columns {list(OUTPUT)}: rename them first."
        )
    return out


def _check_columns(argument: str, columns: Sequence[str], features: Sequence[str]) -> None:
    missing = [f for f in features if f not in columns]
    if missing:
        raise ValueError(
            f"{argument} has no column(s) {missing} among the features: pass features that both evaluation "
            f"and train hold (its columns: {list(columns)[:20]})."
        )


def _pandas_side(argument: str, frame: Any, features: list[str], labels: Any, ids: Any) -> pd.DataFrame:
    """The features (and id, label) of one side as a fresh pandas frame with a default index."""
    if not isinstance(frame, pd.DataFrame):
        module = type(frame).__module__.split(".")[0]
        if module != "polars":
            raise ValueError(
                f"{argument} must be a pandas DataFrame or a lazy frame (a DuckDB relation, a PySpark "
                f"DataFrame), not {type(frame).__name__}."
            )
        frame = frame.to_pandas()
    _check_columns(argument, list(frame.columns), features)
    n = len(frame)
    side = frame.loc[:, features].reset_index(drop=True)
    label_name = "eval_labels" if argument == "evaluation" else "train_labels"
    if argument == "evaluation":
        side.insert(
            0, _ID, np.arange(n, dtype=np.int64) if ids is None else _values(frame, ids, "ids", argument)
        )
    if labels is not None:
        side[_LABEL] = _values(frame, labels, label_name, argument)
    return side


def _values(frame: pd.DataFrame, values: Any, name: str, argument: str) -> Any:
    """A column of ``frame`` named by ``values``, or ``values`` itself: one entry per row."""
    if isinstance(values, str):
        if values not in frame.columns:
            raise ValueError(
                f"{name}={values!r} is not a column of {argument}: pass a column name or an array."
            )
        return frame[values].to_numpy()
    array = values.to_numpy() if isinstance(values, pd.Series | pd.Index) else np.asarray(values)
    if array.ndim != 1 or len(array) != len(frame):
        raise ValueError(
            f"{name} has {len(array) if array.ndim == 1 else array.shape} entries but {argument} has "
            f"{len(frame)} rows: pass one per row, in the rows' order."
        )
    return array


def _lazy_sides(
    evaluation: Any, train: Any, features: list[str], eval_labels: Any, train_labels: Any, ids: Any
) -> tuple[Any, Any]:
    """Both lazy frames as Narwhals LazyFrames with the id and label columns (names only)."""
    connection = None
    if not any(type(x).__module__.split(".")[0] in ("duckdb", "pyspark") for x in (evaluation, train)):
        import duckdb

        connection = duckdb.connect()  # paths and Arrow data: one connection, so the two can be joined
    ev_frame, ev_engine = _lazy(evaluation, connection, numbered=ids is None)
    tr_frame, tr_engine = _lazy(train, connection, numbered=False)
    if ev_engine != tr_engine:
        raise ValueError(f"evaluation is on {ev_engine} but train on {tr_engine}: pass both on one engine.")
    sides = []
    for argument, frame, labels, label_name in (
        ("evaluation", ev_frame, eval_labels, "eval_labels"),
        ("train", tr_frame, train_labels, "train_labels"),
    ):
        columns = [c for c in frame.collect_schema().names() if c != ROW]
        _check_columns(argument, columns, features)
        extra = []
        if argument == "evaluation":
            extra.append((nw.col(ROW) if ids is None else _named(ids, "ids", argument, columns)).alias(_ID))
        if labels is not None:
            extra.append(_named(labels, label_name, argument, columns).alias(_LABEL))
        sides.append(frame.select(*[nw.col(f) for f in features], *extra))
    return sides[0], sides[1]


def _lazy(data: Any, connection: Any, numbered: bool) -> tuple[Any, str]:
    """(Narwhals LazyFrame, engine) of a lazy source; with the :data:`ROW` column only when ``numbered``
    (a DuckDB relation or a PySpark DataFrame is read as it is otherwise: numbering costs a query on Spark)."""
    module = type(data).__module__.split(".")[0]
    if not numbered and module in ("duckdb", "pyspark") and is_lazy_source(data):
        return nw.from_native(data), "spark" if module == "pyspark" else "duckdb"
    source = open_source(data, connection)
    return source.frame, source.engine


def _named(value: Any, name: str, argument: str, columns: Sequence[str]) -> nw.Expr:
    if not isinstance(value, str):
        raise ValueError(
            f"{name}: on a lazy frame pass the name of a column of {argument}, not {type(value).__name__} "
            "(add the values as a column first)."
        )
    if value not in columns:
        raise ValueError(
            f"{name}={value!r} is not a column of {argument} (its columns: {list(columns)[:20]})."
        )
    return nw.col(value)


# -- keys ------------------------------------------------------------------------------------------


def _kind(dtype: Any) -> str:
    if dtype == nw.Boolean:
        return "bool"
    if dtype.is_numeric():
        return "number"
    return "string" if dtype == nw.String else "other"


def _keyed(ev: Any, tr: Any, features: list[str], decimals: int | None) -> tuple[list[str], Any, Any]:
    """Each side with two join keys per feature (missing flag, value with a sentinel); the key names."""
    ev_schema, tr_schema = ev.collect_schema(), tr.collect_schema()
    exprs: dict[str, list[nw.Expr]] = {"ev": [], "tr": []}
    keys = []
    for i, f in enumerate(features):
        kinds = _kind(ev_schema[f]), _kind(tr_schema[f])
        if (kinds[0] == "number") != (kinds[1] == "number") or (kinds[0] == "bool") != (kinds[1] == "bool"):
            raise ValueError(
                f"feature {f!r} is {ev_schema[f]} in evaluation but {tr_schema[f]} in train: give it one type "
                "on both sides (numbers, booleans or text)."
            )
        keys += [f"__es_m{i}", f"__es_k{i}"]
        for side, schema in (("ev", ev_schema), ("tr", tr_schema)):
            dtype = schema[f]
            col = nw.col(f)
            missing = col.is_null()
            if dtype.is_float():
                missing = missing | col.is_nan().fill_null(False)
            kind = _kind(dtype)
            if kind == "number":
                value = col.cast(nw.Float64)
                if decimals is not None and (dtype.is_float() or decimals < 0):
                    value = _numpy_round(value, decimals)
                sentinel: Any = 0.0
            elif kind == "bool":
                value, sentinel = col, False
            else:
                value, sentinel = (col if kind == "string" else col.cast(nw.String)), ""
            exprs[side] += [
                missing.alias(f"__es_m{i}"),
                nw.when(missing).then(nw.lit(sentinel)).otherwise(value).alias(f"__es_k{i}"),
            ]
    return keys, ev.with_columns(*exprs["ev"]), tr.with_columns(*exprs["tr"])


def _numpy_round(x: nw.Expr, decimals: int) -> nw.Expr:
    """``np.round(x, decimals)`` as an expression: ``rint`` (half to even) of the scaled value, unscaled."""
    factor = 10.0 ** abs(decimals)
    y = x * factor if decimals >= 0 else x / factor
    low = y.floor().cast(nw.Float64)
    fraction = y - low
    even = (low / 2).floor().cast(nw.Float64) * 2 == low
    up = (fraction > 0.5) | ((fraction == 0.5) & ~even)
    rounded = low + nw.when(up).then(nw.lit(1.0)).otherwise(nw.lit(0.0))
    rounded = nw.when(y.abs() < _EXACT).then(rounded).otherwise(y)  # also keeps inf (and NaN: missing)
    return rounded / factor if decimals >= 0 else rounded * factor


# -- labels ----------------------------------------------------------------------------------------


def _labels(name: str, values: Any) -> pd.Series:
    if values is None or isinstance(values, str):
        raise ValueError(f"{name} must be an array of labels (one per row), not {values!r}.")
    series = values.reset_index(drop=True) if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    if series.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one label per row).")
    series = series.dropna()
    if series.empty:
        raise ValueError(f"{name} has no labels (empty, or every label missing).")
    return series


def _value_order(values: pd.Index) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:  # mixed types: by their text
        return sorted(values, key=str)
