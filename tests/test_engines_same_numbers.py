"""The same notebook code on a pandas frame, a Parquet file (DuckDB) and a Spark DataFrame shows the same
numbers: every count-based view's table, under the same clicks and query."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from engines import ENGINES, evaluation_on

pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def adult_scored(adult_test: pd.DataFrame) -> pd.DataFrame:
    columns = ["age", "workclass", "education", "occupation", "race", "sex", "hours-per-week", "income"]
    df = adult_test[columns].iloc[:3000].copy()
    rng = np.random.default_rng(0)
    df["score"] = np.clip(0.35 * (df["income"] == ">50K") + 0.65 * rng.random(len(df)), 0, 1).round(3)
    df["id"] = np.arange(len(df)) * 3 + 1
    return df


ARGS = {"y_true": "income", "y_score": "score", "ids": "id", "sensitive": ["sex", "race"]}


def views(ev: es.Evaluation) -> dict[str, pd.DataFrame]:
    """What a notebook shows: click a matrix cell and a slice, query, then read every table."""
    matrix, slices = es.ConfusionMatrix(ev), es.SliceBrowser(ev, discover=False)
    groups, overview = es.GroupComparer(ev, groups="sex", n_boot=0), es.widgets.overview.ModelOverview(ev)
    matrix.select_cells(cells=[(1, 0)])
    tables = {"slices under a cell": slices.table, "groups under a cell": groups.table}
    key = int(slices.table.loc[slices.table["description"] == "sex = Female", "key"].iloc[0])
    slices.select_slice(key)
    ev.select("age >= 40 and `hours-per-week` > 30")
    tables |= {
        "matrix": matrix.table,
        "groups": groups.table,
        "overview": overview.table,
        "rows": slices.inspected_rows(0)[["id", "actual", "predicted", "score", "loss"]],
        "selected": ev.selected()[["id", "age"]].reset_index(drop=True),
        "n_rows": pd.DataFrame({"n": [v.n_rows for v in (matrix, slices, groups, overview)]}),
    }
    return tables


def same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    for name, table in left.items():
        other = right[name]
        numbers = table.select_dtypes("number").columns
        pd.testing.assert_frame_equal(
            table[numbers].reset_index(drop=True), other[numbers].reset_index(drop=True),
            check_dtype=False, rtol=1e-9, atol=1e-12, obj=name,
        )  # fmt: skip
        text = [c for c in table.columns if c not in numbers and c != "predicate"]
        assert table[text].astype(str).to_numpy().tolist() == other[text].astype(str).to_numpy().tolist(), (
            name
        )


@pytest.mark.parametrize("engine", ENGINES[1:])
def test_lazy_engines_show_the_numbers_of_pandas(
    request: pytest.FixtureRequest, engine: str, adult_scored: pd.DataFrame
) -> None:
    lazy = evaluation_on(engine, request, adult_scored, **ARGS)
    same(views(es.Evaluation(adult_scored, **ARGS)), views(lazy))
