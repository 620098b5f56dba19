"""How the rows of a selection differ from the rest, feature by feature.

For each column (its cached codes: values, bins, periods), the share of each code in the selection and in
the rest. Columns are ranked by the Jensen-Shannon distance between the two distributions (base 2, so it
lies in [0, 1]; scipy), with a chi-square test of independence (scipy) as the p-value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency

from .evaluation import Evaluation
from .slicing import feature_family


def feature_distribution(
    ev: Evaluation, column: str, selected: np.ndarray, base: np.ndarray | None = None
) -> pd.DataFrame:
    """Per code of ``column``: rows and share in the selection and in the rest of ``base``'s rows."""
    coded = ev.codes(column)
    base = np.ones(ev.n_rows, dtype=bool) if base is None else base
    inside = coded.counts(base & selected)
    outside = coded.counts(base & ~selected)
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


def differing_features(
    ev: Evaluation, selected: np.ndarray, base: np.ndarray | None = None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Columns ranked by the Jensen-Shannon distance between the selection and the rest."""
    names = list(columns) if columns is not None else [c.column for c in feature_family(ev)]
    rows = []
    for name in names:
        dist = feature_distribution(ev, name, selected, base)
        inside, outside = dist["selected"].to_numpy(), dist["rest"].to_numpy()
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
