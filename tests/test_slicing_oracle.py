"""Slice statistics against pandas groupby, statsmodels and scipy, on Adult and COMPAS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

import errorscope as es
from errorscope.slicing import slice_table, two_proportion_p_value


@pytest.fixture(scope="module")
def adult_ev() -> es.Evaluation:
    df = es.datasets.load_adult()
    rng = np.random.default_rng(0)
    score = np.clip(0.2 + 0.5 * (df["education-num"] > 12) + rng.normal(0, 0.15, len(df)), 0, 1)
    return es.Evaluation(df, "income", y_score=score, labels=["<=50K", ">50K"], sensitive=["sex", "race"])


@pytest.fixture(scope="module")
def compas_ev() -> es.Evaluation:
    df = es.datasets.load_compas()
    cols = [
        "sex",
        "race",
        "age",
        "age_cat",
        "priors_count",
        "c_charge_degree",
        "decile_score",
        "two_year_recid",
    ]
    df = df[cols]
    return es.Evaluation(df, "two_year_recid", y_pred=(df["decile_score"] >= 5).astype(int), sensitive="race")


def oracle(ev: es.Evaluation, mask: np.ndarray, column: str) -> pd.DataFrame:
    """Size and errors per value of ``column`` by pandas groupby on the masked rows."""
    frame = pd.DataFrame({"key": ev.data[column].to_numpy(), "wrong": ev.true_codes != ev.pred_codes})[mask]
    return frame.groupby("key", dropna=False)["wrong"].agg(["size", "sum"])


@pytest.mark.parametrize("fixture", ["adult_ev", "compas_ev"])
@pytest.mark.parametrize("filtered", [False, True])
def test_categorical_slices_equal_groupby(
    request: pytest.FixtureRequest, fixture: str, filtered: bool
) -> None:
    ev = request.getfixturevalue(fixture)
    mask = (ev.true_codes == 1) if filtered else np.ones(ev.n_rows, dtype=bool)
    table = slice_table(ev, mask)
    for column in ("sex", "race"):
        expected = oracle(ev, mask, column)
        got = table[table["feature"] == column].set_index("slice")
        for value, row in expected.iterrows():
            label = "missing" if pd.isna(value) else str(value)
            assert got.loc[label, "size"] == row["size"]
            assert got.loc[label, "errors"] == row["sum"]
            assert got.loc[label, "error_rate"] == pytest.approx(row["sum"] / row["size"], abs=1e-12)
        assert got["size"].sum() == mask.sum()


def test_numeric_bins_equal_groupby_on_their_predicates(adult_ev: es.Evaluation) -> None:
    table = slice_table(adult_ev, columns=["age", "capital-gain"])
    for _, row in table[table["feature"].isin(["age", "capital-gain"])].iterrows():
        rows = adult_ev._resolve(row["predicate"])
        assert rows.sum() == row["size"]
        assert (adult_ev.true_codes != adult_ev.pred_codes)[rows].sum() == row["errors"]


def test_intervals_and_p_values_equal_statsmodels(compas_ev: es.Evaluation) -> None:
    table = slice_table(compas_ev)
    n = compas_ev.n_rows
    total_errors = int((compas_ev.true_codes != compas_ev.pred_codes).sum())
    for _, row in table.iterrows():
        low, high = proportion_confint(row["errors"], row["size"], method="wilson")
        assert row["ci_low"] == pytest.approx(low, abs=1e-12)
        assert row["ci_high"] == pytest.approx(high, abs=1e-12)
        if row["size"] < n:
            _, p = proportions_ztest(
                [row["errors"], total_errors - row["errors"]], [row["size"], n - row["size"]]
            )
            if np.isfinite(p):
                assert row["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-300)
    tested = table["p_value"].notna()
    expected = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(table.loc[tested, "p_adjusted"], expected, rtol=1e-12)


def test_worst_first_and_differences(compas_ev: es.Evaluation) -> None:
    table = slice_table(compas_ev)
    assert table["error_rate"].is_monotonic_decreasing
    np.testing.assert_allclose(table["difference"], table["error_rate"] - table["rest_error_rate"])
    np.testing.assert_allclose(table["ratio"], table["error_rate"] / table["rest_error_rate"])
    assert set(table["feature"]) >= {"actual", "predicted", "race", "sex", "age"}


def test_vectorised_z_test_matches_statsmodels_on_random_tables() -> None:
    rng = np.random.default_rng(3)
    n1, n2 = rng.integers(5, 500, 50), rng.integers(5, 500, 50)
    x1, x2 = rng.binomial(n1, 0.3), rng.binomial(n2, 0.4)
    ours = two_proportion_p_value(x1, n1, x2, n2)
    for i in range(50):
        assert ours[i] == pytest.approx(proportions_ztest([x1[i], x2[i]], [n1[i], n2[i]])[1], rel=1e-9)
