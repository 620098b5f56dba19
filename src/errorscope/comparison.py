"""How the rows of a selection differ from the rest, feature by feature.

For each column (its codes: values, bins, periods), the share of each code in the selection and in the
rest. Columns are ranked by the Jensen-Shannon distance between the two distributions (base 2, so it
lies in [0, 1]; scipy), with a chi-square test of independence (scipy) as the p-value.

The counts are two :class:`~errorscope.plans.GroupingSets` plans of single columns (one scan each on
DuckDB and Spark): the selection's rows among the base's, and the base's (over every row: counted once
per coding); the rest is their difference. So the same numbers come out on every engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency

from .coding import ColumnCodes
from .evaluation import Evaluation
from .plans import Filter, GroupingSets, Key
from .slicing import feature_family

Rows = Filter | np.ndarray | None


def feature_counts(
    ev: Evaluation, selected: Filter | np.ndarray, base: Rows = None, columns: Sequence[str] | None = None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per column, rows per code (inside the selection, in the rest of ``base``'s rows).

    ``selected`` and ``base`` are Filters (e.g. ``ev.selection.filter()``), or boolean masks on the numpy
    engine; ``base`` None: every row. ``columns`` default: every feature, metadata and sensitive column.
    """
    engine = ev.engine
    names = list(columns) if columns is not None else [c.column for c in feature_family(ev)]
    chosen, within = engine.as_filter(selected), engine.as_filter(base)
    both = Filter((*within.stamp, *chosen.stamp), (*within.resolved, *chosen.resolved))
    plan = GroupingSets(tuple((Key.column(name),) for name in names))

    def count_base() -> list[np.ndarray]:
        return [c.counts for c in engine.grouping_sets(plan, within)]

    if within.everything:  # every row: counted once per coding (new bins, new counts)
        labels = tuple(ev.codes(name).labels for name in names)
        version = ev.__dict__.get("predictions_version", 0)
        everything = ev.cached(("comparison_base", tuple(names), labels, version), count_base, keep=4)
    else:
        everything = count_base()
    inside = [c.counts for c in engine.grouping_sets(plan, both)]
    return {name: (i, e - i) for name, i, e in zip(names, inside, everything, strict=True)}


def distribution(coded: ColumnCodes, inside: np.ndarray, outside: np.ndarray) -> pd.DataFrame:
    """Per code of ``coded``: rows and share in the selection (``inside``) and in the rest."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "value": list(coded.labels),
                "selected": inside,
                "rest": outside,
                "selected_share": inside / inside.sum() if inside.sum() else np.nan,
                "rest_share": outside / outside.sum() if outside.sum() else np.nan,
            }
        )


def rank_features(counts: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """Columns ranked by the Jensen-Shannon distance between their ``counts`` inside and outside."""
    rows = []
    for name, (inside, outside) in counts.items():
        if inside.sum() == 0 or outside.sum() == 0:
            rows.append((name, np.nan, np.nan))
            continue
        distance = float(jensenshannon(inside, outside, base=2))
        used = (inside + outside) > 0
        p = float(chi2_contingency(np.vstack([inside[used], outside[used]]))[1]) if used.sum() > 1 else 1.0
        rows.append((name, distance, p))
    table = pd.DataFrame(rows, columns=["feature", "distance", "p_value"])
    return table.sort_values("distance", ascending=False, kind="stable", na_position="last").reset_index(
        drop=True
    )


def feature_distribution(
    ev: Evaluation, column: str, selected: Filter | np.ndarray, base: Rows = None
) -> pd.DataFrame:
    """Per code of ``column``: rows and share in the selection and in the rest of ``base``'s rows."""
    inside, outside = feature_counts(ev, selected, base, [column])[column]
    return distribution(ev.codes(column), inside, outside)


def differing_features(
    ev: Evaluation, selected: Filter | np.ndarray, base: Rows = None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Columns ranked by the Jensen-Shannon distance between the selection and the rest."""
    return rank_features(feature_counts(ev, selected, base, columns))
