"""The data profile: per feature its type, missing values, distinct values, summary statistics, outliers,
association with the target and with the error, and drift against the training rows; and the association
of every pair of features.

Every figure of one column comes from its **value counts** (distinct present values in value order, rows
per value, missing rows: :class:`ValueCounts`), which every engine gives exactly (pandas in memory,
``GROUP BY`` on DuckDB and Spark), so the figures are the same on every engine: the mean and standard
deviation (pandas' ``ddof=1``), numpy's linear quantiles (:func:`errorscope.engines.lazy.numpy_quantiles`
over the cumulative counts), outliers by the IQR rule (below Q1 - 1.5 IQR or above Q3 + 1.5 IQR) and by
the z-score (|x - mean| / std > 3, scipy's ``zscore``: ``ddof=0``), zero variance (one value) and near-zero
variance (caret's ``nearZeroVar`` rule: the most common value more than 19 times as frequent as the
second and fewer than 10% of the values distinct).

The association of a feature with the target and with the error indicator is Cramér's V of its codes (a
numeric feature's quantile bins, a category's values) against the actual class or the wrong bit
(classification: :func:`scipy.stats.contingency.association` on the engine's counts), or the correlation
ratio eta of the actual value or the absolute error over its codes (regression). The pairs of features are
compared on a seeded sample of rows (the first rows of the ``random`` order, the same on every engine):
Pearson and Spearman between numbers, Cramér's V between categories, the correlation ratio between a
number and a category.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd
from scipy.stats import ConstantInputWarning, contingency

from .drift import drift_table
from .engines.lazy import numpy_quantiles
from .evaluation import Evaluation
from .plans import ALL_ROWS, Filter, GroupingSets, Key, Marginals, Measure, RowPage
from .residuals import feature_axis
from .selection import Clause, Predicate

IQR_FENCE = 1.5
Z_LIMIT = 3.0
NZV_FREQ_RATIO = 95 / 5  # caret's freqCut
NZV_UNIQUE_SHARE = 0.10  # caret's uniqueCut (10%)
REDUNDANT = 0.95  # a pair this associated (|Spearman|, Cramér's V, eta) makes one feature redundant
SAMPLE_ROWS = 50_000  # rows the pairs of features are compared on
PAIR_CATEGORIES = 20  # a category's most frequent values kept in the pairs' tables (the rest: "other")
PSI_BINS = 10  # the training set's deciles
QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)
DRIFT_COLUMNS = ["drift_psi", "psi_verdict", "drift_test", "drift_statistic", "drift_p", "drift_q",
                 "js_distance", "drifted"]  # fmt: skip


@dataclass(frozen=True)
class ValueCounts:
    """One column's distinct present ``values`` (in value order), the rows per value and missing rows."""

    values: np.ndarray
    counts: np.ndarray
    missing: int

    @property
    def n(self) -> int:
        """Rows with a value."""
        return int(self.counts.sum())

    @property
    def distinct(self) -> int:
        return len(self.values)

    @property
    def numbers(self) -> np.ndarray:
        return np.asarray(self.values, dtype=np.float64)

    def mean_std(self) -> tuple[float, float, float]:
        """Mean, standard deviation (``ddof=1``, as pandas) and population standard deviation (``ddof=0``)."""
        n = self.n
        if not n:
            return np.nan, np.nan, np.nan
        x, c = self.numbers, self.counts.astype(np.float64)
        mean = float(np.dot(x, c) / n)
        ss = float(np.dot(c, (x - mean) ** 2))
        return mean, (np.sqrt(ss / (n - 1)) if n > 1 else np.nan), np.sqrt(ss / n)

    def quantiles(self, qs: Sequence[float]) -> np.ndarray:
        """``np.quantile`` of the present values (linear), from the cumulative counts."""
        if not self.n:
            return np.full(len(qs), np.nan)
        cumulative, x = np.cumsum(self.counts), self.numbers
        return numpy_quantiles(
            lambda ks: [float(x[np.searchsorted(cumulative, k, side="right")]) for k in ks],
            self.n, np.asarray(qs, dtype=np.float64),
        )  # fmt: skip

    def outside(self, lo: float, hi: float) -> int:
        """Rows below ``lo`` or above ``hi``."""
        x = self.numbers
        return int(self.counts[(x < lo) | (x > hi)].sum())

    def near_zero_variance(self) -> bool:
        """caret's rule: the most common value over 19 times the second's rows, under 10% distinct."""
        if self.distinct < 2:
            return False
        first, second = np.sort(self.counts)[::-1][:2]
        return bool(first / second > NZV_FREQ_RATIO and self.distinct / self.n < NZV_UNIQUE_SHARE)


def series_value_counts(values: pd.Series, numeric: bool) -> ValueCounts:
    """A pandas column's :class:`ValueCounts` (``numeric``: its values as floats)."""
    missing = values.isna()
    present = values[~missing]
    if numeric:
        present = present.astype(np.float64)
    return _in_value_order(present.value_counts(sort=False), numeric, int(missing.sum()))


def _in_value_order(counted: pd.Series, numeric: bool, missing: int) -> ValueCounts:
    """Rows per value (a Series indexed by value) in value order, values without rows left out."""
    counted = counted[counted.to_numpy() > 0]  # a categorical's unused categories
    try:
        counted = counted.sort_index()
    except TypeError:  # values of mixed types: in the order of their text
        counted = counted.iloc[np.argsort(counted.index.astype(str), kind="stable")]
    index = counted.index.to_numpy(dtype=np.float64 if numeric else object)
    return ValueCounts(index, counted.to_numpy(dtype=np.int64), missing)


def frame_value_counts(frame: Any, name: str, numeric: bool) -> ValueCounts:
    """A column's :class:`ValueCounts` in a pandas frame or a frame Narwhals reads (a DuckDB relation, a
    PySpark or polars frame): counted where the frame is, only the counts brought back."""
    if isinstance(frame, pd.DataFrame):
        return series_value_counts(frame[name], numeric)
    native = nw.from_native(frame)
    col = nw.col(name)
    missing = col.is_null()
    if native.collect_schema()[name].is_float():
        missing = missing | col.is_nan().fill_null(True)
    grouped = native.with_columns(col.alias("__v"), missing.alias("__m")).group_by("__v", "__m")
    out = grouped.agg(nw.len().alias("n"))
    table = (out.collect() if isinstance(out, nw.LazyFrame) else out).to_pandas()
    is_missing = table["__m"].astype(bool).to_numpy()
    present = table[~is_missing]
    counted = present.groupby("__v", dropna=False)["n"].sum()
    return _in_value_order(counted, numeric, int(table.loc[is_missing, "n"].sum()))


def value_counts(ev: Evaluation, name: str) -> ValueCounts:
    """Feature ``name``'s value counts over every evaluation row, on the Evaluation's engine (cached)."""

    def build() -> ValueCounts:
        numeric = feature_axis(ev, name).kind == "numeric"
        if ev.in_memory:
            return series_value_counts(ev.column_values(name), numeric)
        values, counts, missing = ev.engine.value_counts(name)
        dtype = np.float64 if numeric else object
        return ValueCounts(np.asarray(values, dtype=dtype), np.asarray(counts, dtype=np.int64), int(missing))

    return ev.cached(("value_counts", name), build, keep=64)


def feature_type(ev: Evaluation, name: str) -> str:
    """``numeric``, ``datetime`` or ``categorical``: how the profile treats the feature."""
    dtype = ev.column_values(name).dtype if ev.in_memory else ev.engine.dtype_of(name)
    if pd.api.types.is_datetime64_any_dtype(dtype) if ev.in_memory else dtype.is_temporal():
        return "datetime"
    return feature_axis(ev, name).kind


def outlier_bounds(counts: ValueCounts) -> dict[str, tuple[float, float]]:
    """The IQR rule's fences and the z-score's limits: rows outside (strictly) are outliers."""
    q1, q3 = counts.quantiles((0.25, 0.75))
    mean, _, sd0 = counts.mean_std()
    return {
        "iqr": (q1 - IQR_FENCE * (q3 - q1), q3 + IQR_FENCE * (q3 - q1)),
        "z": (mean - Z_LIMIT * sd0, mean + Z_LIMIT * sd0),
    }


def outlier_clause(source: str, name: str, bounds: tuple[float, float]) -> Clause:
    """The rows of ``name`` below ``bounds[0]`` or above ``bounds[1]`` (a slice of outliers)."""
    lo, hi = (float(b) for b in bounds)
    return Clause(source, ((Predicate(name, "<", (lo,)),), (Predicate(name, ">", (hi,)),)))


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V of a contingency table (scipy, without continuity correction); empty rows and columns
    left out, NaN when fewer than two rows or columns remain."""
    t = np.rint(np.asarray(table, dtype=np.float64)).astype(np.int64)  # scipy wants counts as integers
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if min(t.shape) < 2:
        return np.nan
    return float(contingency.association(t, method="cramer", correction=False))


def correlation_ratio(n: np.ndarray, s: np.ndarray, q: np.ndarray) -> float:
    """eta: the square root of the share of a number's variance between groups, from each group's rows
    ``n``, sum ``s`` and sum of squares ``q``."""
    n, s, q = (np.asarray(a, dtype=np.float64) for a in (n, s, q))
    total_n, total_s = n.sum(), s.sum()
    if total_n < 2:
        return np.nan
    total = q.sum() - total_s**2 / total_n
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.where(n > 0, s**2 / n, 0.0).sum() - total_s**2 / total_n
    if not total > 0:
        return np.nan
    return float(np.sqrt(min(max(between / total, 0.0), 1.0)))


def associations(ev: Evaluation) -> pd.DataFrame:
    """Per feature, its association with the target (``assoc_target``) and with the error
    (``assoc_error``), over every row, from one plan (see the module docstring); ``assoc_method`` names
    the measure."""
    features = list(ev.features)
    keys = tuple(Key.column(f) for f in features)
    if ev.is_regression:
        sums = (Measure("actual"), Measure("actual2"), Measure("abs_error"), Measure("sq_error"))
        counted = ev.engine.grouping_sets(GroupingSets(tuple((k,) for k in keys), sums), ALL_ROWS)
        target = [correlation_ratio(c.counts, c.sums[0], c.sums[1]) for c in counted]
        error = [correlation_ratio(c.counts, c.sums[2], c.sums[3]) for c in counted]
        method = "correlation ratio"
    else:
        tables = ev.engine.marginals(Marginals(keys, (Key.actual(), Key.outcome(None))), ALL_ROWS)
        target = [cramers_v(t.sum(axis=2)) for t in tables]
        error = [cramers_v(t.sum(axis=1)) for t in tables]
        method = "Cramér's V"
    return pd.DataFrame(
        {"feature": features, "assoc_target": target, "assoc_error": error, "assoc_method": method}
    )


def feature_figures(ev: Evaluation, name: str) -> dict[str, Any]:
    """One feature's row of the profile table (without associations and drift)."""
    counts = value_counts(ev, name)
    kind = feature_type(ev, name)
    total = counts.n + counts.missing
    row: dict[str, Any] = {
        "feature": name, "type": kind, "rows": total, "missing": counts.missing,
        "missing_share": counts.missing / total if total else np.nan, "distinct": counts.distinct,
        "zero_variance": counts.distinct <= 1, "near_zero_variance": counts.near_zero_variance(),
    }  # fmt: skip
    if kind == "numeric" and counts.n:
        mean, std, _ = counts.mean_std()
        low, q1, median, q3, high = counts.quantiles(QUANTILES)
        bounds = outlier_bounds(counts)
        row.update(
            mean=mean, std=std, min=low, q25=q1, median=median, q75=q3, max=high,
            outliers_iqr=counts.outside(*bounds["iqr"]), outliers_z=counts.outside(*bounds["z"]),
        )  # fmt: skip
    else:
        top = int(np.argmax(counts.counts)) if counts.distinct else -1
        row.update(top_value=None if top < 0 else _text(counts.values[top]),
                   top_share=counts.counts[top] / total if top >= 0 else np.nan)  # fmt: skip
    return row


def profile_table(ev: Evaluation) -> pd.DataFrame:
    """One row per feature: feature, type, rows, missing, missing_share, distinct, zero_variance,
    near_zero_variance, mean, std, min, q25, median, q75, max, outliers_iqr, outliers_z (numbers),
    top_value, top_share (categories), assoc_target, assoc_error, assoc_method, redundant_with; with
    ``train=`` also the drift columns of :func:`errorscope.drift.drift_table`. Sorted as debugging
    reads it: strongest association with the error first, then drift (PSI), then missing values."""

    def build() -> pd.DataFrame:
        rows = pd.DataFrame([feature_figures(ev, f) for f in ev.features])
        for column in ("mean", "std", "min", "q25", "median", "q75", "max", "outliers_iqr", "outliers_z",
                       "top_value", "top_share"):  # fmt: skip
            if column not in rows:
                rows[column] = np.nan
        table = rows.merge(associations(ev), on="feature")
        table["redundant_with"] = table["feature"].map(redundant_features(pair_table(ev)))
        if getattr(ev, "train", None) is not None:
            table = table.merge(train_drift(ev).drop(columns="type"), on="feature", how="left")
        order = [
            -table["assoc_error"].fillna(-1.0),
            -(table["drift_psi"].fillna(-1.0) if "drift_psi" in table else 0.0),
            -table["missing_share"].fillna(0.0),
        ]
        keys = pd.DataFrame({f"k{i}": np.broadcast_to(np.asarray(k, dtype=np.float64), len(table))
                             for i, k in enumerate(order)})  # fmt: skip
        return table.iloc[np.lexsort(keys.to_numpy().T[::-1])].reset_index(drop=True)

    return ev.cached(("profile_table", ev.predictions_version), build)


# -- pairs of features ---------------------------------------------------------------------------
def sample_rows(
    ev: Evaluation, rows: int = SAMPLE_ROWS, seed: int = 0, where: Filter = ALL_ROWS
) -> np.ndarray:
    """The first ``rows`` rows ``where`` keeps in the seeded random order: positions in memory, ids on
    SQL engines (the same rows on every engine)."""
    page = RowPage("random", limit=rows, seed=seed)
    if ev.in_memory:
        return np.asarray(ev.engine.positions(page, where))  # type: ignore[attr-defined]
    return np.asarray(ev.engine.page(page, where))


def feature_sample(ev: Evaluation, rows: int = SAMPLE_ROWS, seed: int = 0) -> pd.DataFrame:
    """The features of the first ``rows`` rows of the seeded random order (every row when fewer): the
    same rows on every engine."""
    from .explain import row_source

    def build() -> pd.DataFrame:
        source, found = row_source(ev), sample_rows(ev, rows, seed)
        return source.X(found if ev.in_memory else source.keys(found)).reset_index(drop=True)

    return ev.cached(("feature_sample", rows, seed), build)


def kept_in_sample(ev: Evaluation, where: Filter, rows: int = SAMPLE_ROWS, seed: int = 0) -> np.ndarray:
    """Which rows of :func:`feature_sample` ``where`` keeps (one query of row ids on SQL engines: the
    kept rows among the sample are the first of the kept rows in the same order)."""
    every = ev.cached(("sample_rows", rows, seed), lambda: sample_rows(ev, rows, seed))
    if where.everything:
        return np.ones(len(every), dtype=bool)
    return np.isin(every, sample_rows(ev, rows, seed, where))


def _lumped(values: pd.Series) -> pd.Series:
    """A category's values as text, the most frequent :data:`PAIR_CATEGORIES` kept, the rest "other"."""
    text = values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v))
    top = text.value_counts().index[:PAIR_CATEGORIES]
    return text.where(text.isin(top) | text.isna(), "other")


def pair_table(ev: Evaluation, rows: int = SAMPLE_ROWS, where: Filter = ALL_ROWS) -> pd.DataFrame:
    """Every pair of features (feature_a, feature_b, method, value, n): ``pearson`` and ``spearman``
    between numbers, ``cramers_v`` between categories (datetimes as categories), ``correlation_ratio``
    between a number and a category, each on the pair's rows with both values present among the sample
    rows ``where`` keeps."""
    if where.everything:
        return ev.cached(("pair_table", rows), lambda: pairs_of(ev, feature_sample(ev, rows)))
    return pairs_of(ev, feature_sample(ev, rows)[kept_in_sample(ev, where, rows)])


def pairs_of(ev: Evaluation, sample: pd.DataFrame, kinds: dict[str, str] | None = None) -> pd.DataFrame:
    """:func:`pair_table`'s pairs measured on the rows of ``sample`` (features as columns); ``kinds``
    (each feature's :func:`feature_type`) given, it asks the engine nothing (safe on another thread)."""
    kinds = kinds or {f: feature_type(ev, f) for f in ev.features}
    numeric = {f: sample[f].astype(np.float64) for f in ev.features if kinds[f] == "numeric"}
    categories = {f: _lumped(sample[f]) for f in ev.features if kinds[f] != "numeric"}
    out = []
    names = list(ev.features)
    with warnings.catch_warnings():  # a constant column's correlation is NaN, as documented
        warnings.simplefilter("ignore", ConstantInputWarning)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                out.extend(_pair(a, b, numeric, categories))
    return pd.DataFrame(out, columns=["feature_a", "feature_b", "method", "value", "n"])


def _pair(a: str, b: str, numeric: dict[str, pd.Series], categories: dict[str, pd.Series]) -> list[dict]:
    if a in numeric and b in numeric:
        both = pd.concat([numeric[a], numeric[b]], axis=1).dropna()
        n = len(both)
        return [
            {"feature_a": a, "feature_b": b, "method": m, "n": n,
             "value": float(both.iloc[:, 0].corr(both.iloc[:, 1], method=m)) if n > 1 else np.nan}
            for m in ("pearson", "spearman")
        ]  # fmt: skip
    if a in categories and b in categories:
        both = pd.concat([categories[a], categories[b]], axis=1).dropna()
        table = pd.crosstab(both.iloc[:, 0], both.iloc[:, 1]).to_numpy()
        return [{"feature_a": a, "feature_b": b, "method": "cramers_v", "n": len(both),
                 "value": cramers_v(table) if len(both) else np.nan}]  # fmt: skip
    number, category = (numeric[a], categories[b]) if a in numeric else (numeric[b], categories[a])
    both = pd.concat([number.rename("x"), category.rename("g")], axis=1).dropna()
    groups = both.groupby("g")["x"]
    value = correlation_ratio(groups.size(), groups.sum(), groups.apply(lambda x: float(np.dot(x, x))))
    return [{"feature_a": a, "feature_b": b, "method": "correlation_ratio", "n": len(both), "value": value}]


def pair_strength(pairs: pd.DataFrame) -> pd.DataFrame:
    """One strength per pair (|Spearman| for numbers, else Cramér's V or eta), strongest first."""
    rows = pairs[pairs["method"] != "pearson"].copy()
    rows["strength"] = rows["value"].abs()
    return rows.sort_values("strength", ascending=False, kind="stable").reset_index(drop=True)


def redundant_features(pairs: pd.DataFrame, limit: float = REDUNDANT) -> dict[str, str]:
    """Each feature associated at ``limit`` or more with another (the strongest such, by name)."""
    strong = pair_strength(pairs)
    strong = strong[strong["strength"] >= limit]
    found: dict[str, str] = {}
    for a, b in zip(strong["feature_a"], strong["feature_b"], strict=True):
        found.setdefault(a, b)
        found.setdefault(b, a)
    return found


def association_matrix(
    ev: Evaluation, features: Sequence[str], pairs: pd.DataFrame | None = None
) -> np.ndarray:
    """``features`` x ``features``: each pair's strength (see :func:`pair_strength`; of :func:`pair_table`
    unless ``pairs`` is given), 1 on the diagonal."""
    index = {f: i for i, f in enumerate(features)}
    matrix = np.eye(len(features))
    pairs = pair_table(ev) if pairs is None else pairs
    for a, b, s in pair_strength(pairs)[["feature_a", "feature_b", "strength"]].itertuples(index=False):
        if a in index and b in index:
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = s
    return matrix


# -- drift against the training rows ---------------------------------------------------------------
@dataclass(frozen=True)
class DriftCells:
    """One feature's cells for drift (the training set's decile bins of a number, or every value of a
    category, with a missing cell last) and the rows of each set per cell, plus counts per distinct
    value (numbers: for the KS test) and what a cell is (``edges`` of a number's bins, ``values``)."""

    kind: str
    train: np.ndarray
    evaluation: np.ndarray
    train_by_value: np.ndarray
    eval_by_value: np.ndarray
    edges: np.ndarray | None = None
    values: tuple[Any, ...] = ()


def drift_cells(ev: Evaluation, name: str) -> DriftCells:
    """Feature ``name``'s drift cells (cached per feature)."""

    def build() -> DriftCells:
        numeric = feature_axis(ev, name).kind == "numeric"
        e = value_counts(ev, name)
        t = frame_value_counts(ev.train, name, numeric)
        if numeric:
            values = np.union1d(t.numbers, e.numbers)
            t_by = _aligned(values, t.numbers, t.counts)
            e_by = _aligned(values, e.numbers, e.counts)
            edges = np.unique(t.quantiles(np.linspace(0, 1, PSI_BINS + 1))[1:-1]) if t.n else np.zeros(0)
            cells = np.searchsorted(edges, values, side="right")  # bin i: edges[i-1] <= x < edges[i]
            t_bins = np.append(np.bincount(cells, t_by, len(edges) + 1), t.missing)
            e_bins = np.append(np.bincount(cells, e_by, len(edges) + 1), e.missing)
            return DriftCells("numeric", t_bins, e_bins, t_by, e_by, edges)
        keys = sorted({_text(v) for v in (*t.values, *e.values)})
        t_by = _aligned_text(keys, t)
        e_by = _aligned_text(keys, e)
        return DriftCells(
            "categorical", np.append(t_by, t.missing), np.append(e_by, e.missing),
            np.append(t_by, t.missing), np.append(e_by, e.missing), None, tuple(keys),
        )  # fmt: skip

    return ev.cached(("drift_cells", name), build, keep=64)


def _aligned(values: np.ndarray, present: np.ndarray, counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values), dtype=np.float64)
    out[np.searchsorted(values, present)] = counts
    return out


def _aligned_text(keys: list[str], counts: ValueCounts) -> np.ndarray:
    position = {k: i for i, k in enumerate(keys)}
    out = np.zeros(len(keys), dtype=np.float64)
    for v, c in zip(counts.values, counts.counts, strict=True):
        out[position[_text(v)]] += c
    return out


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def train_drift(ev: Evaluation) -> pd.DataFrame:
    """:func:`errorscope.drift.drift_table` of every feature, the evaluation rows against ``train=``'s
    (PSI over the training deciles and a missing cell; KS over the present values of a number,
    chi-square over a category's values and missing)."""
    if getattr(ev, "train", None) is None:
        raise ValueError("no training rows: build the Evaluation with train=<the training frame>.")

    def build() -> pd.DataFrame:
        features = list(ev.features)
        cells = [drift_cells(ev, f) for f in features]
        return drift_table(
            features, [c.kind for c in cells], [(c.train, c.evaluation) for c in cells],
            [(c.train_by_value, c.eval_by_value) for c in cells],
        )  # fmt: skip

    return ev.cached(("train_drift",), build)


def shifted_clause(ev: Evaluation, source: str, name: str) -> Clause | None:
    """The rows of ``name``'s most shifted cells: those holding a larger share of the evaluation rows
    than of the training rows, largest PSI term first, until they hold half of those terms' sum. None
    when no cell gained."""
    cells = drift_cells(ev, name)
    t = cells.train / max(cells.train.sum(), 1)
    e = cells.evaluation / max(cells.evaluation.sum(), 1)
    term = (e - t) * np.log(np.maximum(e, 1e-4) / np.maximum(t, 1e-4))
    gained = np.flatnonzero(e > t)
    if not len(gained):
        return None
    gained = gained[np.argsort(-term[gained], kind="stable")]
    share = np.cumsum(term[gained]) / term[gained].sum()
    chosen = sorted(gained[: int(np.searchsorted(share, 0.5)) + 1].tolist())
    missing = len(cells.train) - 1
    terms: list[tuple[Predicate, ...]] = []
    if missing in chosen:
        terms.append((Predicate(name, "isna"),))
        chosen.remove(missing)
    if cells.kind == "numeric":
        edges = [None, *cells.edges.tolist(), None]  # type: ignore[union-attr]
        terms.extend((Predicate(name, "between", (edges[i], edges[i + 1])),) for i in chosen)
    elif chosen:
        present = value_counts(ev, name)
        by_text = {_text(v): v for v in present.values}
        values = tuple(by_text[cells.values[i]] for i in chosen if cells.values[i] in by_text)
        if values:
            terms.append((Predicate(name, "in", values),))
    return Clause(source, tuple(terms)) if terms else None
