"""Slice statistics against pandas groupby, statsmodels and scipy, on Adult and COMPAS, on every engine
(numpy, DuckDB over Parquet, Spark: tests/engines.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

import errorscope as es
from engines import evaluation_on, pandas_rows, where
from errorscope.selection import cells_clause
from errorscope.slicing import slice_table, two_proportion_p_value

N_ADULT = 3000  # the same rows on every engine (a Spark query costs 0.3-1 s whatever the size)
ADULT = {"y_true": "income", "y_score": "p_high", "labels": ["<=50K", ">50K"], "sensitive": ["sex", "race"]}
COMPAS = {"y_true": "two_year_recid", "y_pred": "decile_high", "sensitive": "race"}


@pytest.fixture(scope="module")
def adult_frame() -> pd.DataFrame:
    columns = ["age", "workclass", "education", "education-num", "occupation", "race", "sex", "capital-gain"]
    df = (
        es.datasets.load_adult()[[*columns, "native-country", "income"]].iloc[:N_ADULT].reset_index(drop=True)
    )
    rng = np.random.default_rng(0)
    df["p_high"] = np.clip(0.2 + 0.5 * (df["education-num"] > 12) + rng.normal(0, 0.15, len(df)), 0, 1)
    return df


@pytest.fixture(scope="module")
def compas_frame() -> pd.DataFrame:
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
    df = es.datasets.load_compas()[cols].copy()
    df["decile_high"] = (df["decile_score"] >= 5).astype(int)
    return df


@pytest.fixture
def adult_ev(on_engine, adult_frame: pd.DataFrame) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return on_engine("adult", adult_frame, **ADULT)


@pytest.fixture
def compas_ev(on_engine, compas_frame: pd.DataFrame) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return on_engine("compas", compas_frame, **COMPAS)


def outcomes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The oracle's actual and predicted class codes (positive = 1) of either dataset's frame."""
    if "income" in frame:
        return (frame["income"] == ">50K").to_numpy(int), (frame["p_high"] >= 0.5).to_numpy(int)
    return frame["two_year_recid"].to_numpy(int), frame["decile_high"].to_numpy(int)


def oracle(frame: pd.DataFrame, mask: np.ndarray, column: str) -> pd.DataFrame:
    """Size and errors per value of ``column`` by pandas groupby on the masked rows."""
    y, p = outcomes(frame)
    grouped = pd.DataFrame({"key": frame[column].to_numpy(), "wrong": y != p})[mask]
    return grouped.groupby("key", dropna=False)["wrong"].agg(["size", "sum"])


@pytest.mark.parametrize("dataset", ["adult", "compas"])
@pytest.mark.parametrize("filtered", [False, True])
def test_categorical_slices_equal_groupby(
    request: pytest.FixtureRequest, engine: str, dataset: str, filtered: bool
) -> None:
    ev, frame = request.getfixturevalue(f"{dataset}_ev"), request.getfixturevalue(f"{dataset}_frame")
    y, _ = outcomes(frame)
    mask = (y == 1) if filtered else np.ones(len(frame), dtype=bool)
    rows = where(ev, ev.role_predicate("actual", "in", (ev.classes[1],))) if filtered else None
    table = slice_table(ev, rows, min_support=1)
    for column in ("sex", "race"):
        expected = oracle(frame, mask, column)
        got = table[table["feature"] == column].set_index("slice")
        for value, row in expected.iterrows():
            label = "missing" if pd.isna(value) else str(value)
            assert got.loc[label, "size"] == row["size"]
            assert got.loc[label, "errors"] == row["sum"]
            assert got.loc[label, "error_rate"] == pytest.approx(row["sum"] / row["size"], abs=1e-12)
        assert got["size"].sum() == mask.sum()


def test_numeric_bins_equal_pandas_on_their_predicates(
    adult_ev: es.Evaluation, adult_frame: pd.DataFrame
) -> None:
    table = slice_table(adult_ev, columns=["age", "capital-gain"])
    y, p = outcomes(adult_frame)
    for _, row in table[table["feature"].isin(["age", "capital-gain"])].iterrows():
        rows = pandas_rows(adult_frame[row["feature"]], row["predicate"])
        assert rows.sum() == row["size"]
        assert (y != p)[rows].sum() == row["errors"]
    first = table.iloc[0]  # a click on a slice selects exactly the rows it counted
    assert adult_ev.engine.n_kept(where(adult_ev, first["predicate"])) == first["size"]


def test_intervals_and_p_values_equal_statsmodels(
    compas_ev: es.Evaluation, compas_frame: pd.DataFrame
) -> None:
    table = slice_table(compas_ev)
    n = len(compas_frame)
    y, p = outcomes(compas_frame)
    total_errors = int((y != p).sum())
    for _, row in table.iterrows():
        low, high = proportion_confint(row["errors"], row["size"], method="wilson")
        assert row["ci_low"] == pytest.approx(low, abs=1e-12)
        assert row["ci_high"] == pytest.approx(high, abs=1e-12)
        if row["size"] < n:
            _, pvalue = proportions_ztest(
                [row["errors"], total_errors - row["errors"]], [row["size"], n - row["size"]]
            )
            if np.isfinite(pvalue):
                assert row["p_value"] == pytest.approx(pvalue, rel=1e-9, abs=1e-300)
    tested = table["p_value"].notna()
    expected = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(table.loc[tested, "p_adjusted"], expected, rtol=1e-12)


def test_lift_equals_pandas_on_an_outcome_selection(
    adult_ev: es.Evaluation, adult_frame: pd.DataFrame
) -> None:
    """Share of the selected errors in the slice over its share of all rows, by pandas groupby."""
    ev = adult_ev
    y, p = outcomes(adult_frame)
    mask = (y == 1) & (p == 0)  # a matrix cell: every kept row is an error
    cell = cells_clause("test", ev.classes, cells=[(1, 0)], names=ev.role_names())
    table = slice_table(ev, where(ev, cell), min_support=1)
    wrong = pd.Series(y != p)
    for column in ("race", "education", "sex"):
        values = adult_frame[column].astype(str).reset_index(drop=True)
        error_share = values[mask & wrong].value_counts() / (mask & wrong).sum()
        row_share = values.value_counts() / len(adult_frame)
        expected = (error_share / row_share).dropna()
        got = table[table["feature"] == column].set_index("slice")["lift"]
        for value, lift in expected.items():
            assert got[value] == pytest.approx(lift, rel=1e-12)
        assert set(got.index) == set(expected.index)
    assert (table.loc[table["feature"] == "sex", "error_rate"] == 1).all()  # what the rate alone says


def test_groups_and_minimum_support(adult_ev: es.Evaluation, adult_frame: pd.DataFrame) -> None:
    table = slice_table(adult_ev)
    groups = table.groupby("feature")["group"].first()
    assert set(groups[groups == "outcome"].index) == {"actual", "predicted", "score"}
    assert groups[["age", "sex", "race", "education"]].eq("feature").all()
    y, _ = outcomes(adult_frame)
    mask = adult_frame["race"].eq("Other").to_numpy() | (y == 1)
    rows = where(adult_ev, "race == 'Other' or actual == '>50K'")
    ranked = slice_table(adult_ev, rows)
    support = max(10, np.ceil(0.005 * mask.sum()))
    np.testing.assert_array_equal(ranked["supported"], ranked["size"] >= support)
    assert not ranked["supported"].all()  # tiny slices (e.g. 100% error on 2 rows) exist...
    first_small = int(np.argmin(ranked["supported"].to_numpy()))
    assert not ranked["supported"].iloc[first_small:].any()  # ...and rank after every supported one
    assert ranked["error_rate"].iloc[:first_small].is_monotonic_decreasing
    assert slice_table(adult_ev, rows, min_support=1)["supported"].all()


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (-3, ValueError), (2.5, TypeError)])
def test_bad_min_support_names_the_argument(adult_ev: es.Evaluation, value: object, error: type) -> None:
    with pytest.raises(error, match="min_support"):
        slice_table(adult_ev, min_support=value)  # type: ignore[arg-type]


def test_worst_first_and_differences(compas_ev: es.Evaluation) -> None:
    table = slice_table(compas_ev, min_support=1)
    assert table["error_rate"].is_monotonic_decreasing
    np.testing.assert_allclose(table["difference"], table["error_rate"] - table["rest_error_rate"])
    np.testing.assert_allclose(table["ratio"], table["error_rate"] / table["rest_error_rate"])
    assert set(table["feature"]) >= {"actual", "predicted", "race", "sex", "age"}


def test_vectorised_z_test_matches_statsmodels_on_random_tables() -> None:
    rng = np.random.default_rng(3)
    n1, n2 = rng.integers(5, 500, 50), rng.integers(5, 500, 50)
    x1, x2 = rng.binomial(n1, 0.3), rng.binomial(n2, 0.4)
    ours = two_proportion_p_value(x1, n1, x2, n2)
    larger = two_proportion_p_value(x1, n1, x2, n2, alternative="larger")
    for i in range(50):
        assert ours[i] == pytest.approx(proportions_ztest([x1[i], x2[i]], [n1[i], n2[i]])[1], rel=1e-9)
        one_sided = proportions_ztest([x1[i], x2[i]], [n1[i], n2[i]], alternative="larger")[1]
        assert larger[i] == pytest.approx(one_sided, rel=1e-9)


# -- other metrics, families and bins ------------------------------------------------------------
@pytest.mark.parametrize("metric", ["fpr", "fnr"])
def test_fpr_and_fnr_per_slice_equal_sklearn(
    adult_ev: es.Evaluation, adult_frame: pd.DataFrame, metric: str
) -> None:
    from sklearn.metrics import confusion_matrix

    mask = adult_frame["age"].to_numpy() > 30
    table = slice_table(adult_ev, where(adult_ev, "age > 30"), columns=["race"], metric=metric)
    y_true, y_pred = outcomes(adult_frame)
    for _, row in table[table["feature"] == "race"].iterrows():
        inside = pandas_rows(adult_frame["race"], row["predicate"])
        rows, rest = inside & mask, ~inside & mask
        tn, fp, fn, tp = confusion_matrix(y_true[rows], y_pred[rows], labels=[0, 1]).ravel()
        rtn, rfp, rfn, rtp = confusion_matrix(y_true[rest], y_pred[rest], labels=[0, 1]).ravel()
        hits, trials = (fp, fp + tn) if metric == "fpr" else (fn, fn + tp)
        rest_hits, rest_trials = (rfp, rfp + rtn) if metric == "fpr" else (rfn, rfn + rtp)
        if trials == 0:
            assert np.isnan(row[metric])
            continue
        assert row[metric] == pytest.approx(hits / trials, abs=1e-12)
        assert row[f"rest_{metric}"] == pytest.approx(rest_hits / rest_trials, abs=1e-12)
        low, high = proportion_confint(hits, trials, method="wilson")
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), abs=1e-12)
        pvalue = proportions_ztest([hits, rest_hits], [trials, rest_trials])[1]
        if np.isfinite(pvalue):
            assert row["p_value"] == pytest.approx(pvalue, rel=1e-9)


def test_log_loss_per_slice_equals_sklearn_and_welch(
    adult_ev: es.Evaluation, adult_frame: pd.DataFrame
) -> None:
    from scipy.stats import t, ttest_ind
    from sklearn.metrics import log_loss

    table = slice_table(adult_ev, columns=["race", "sex"], metric="log_loss")
    assert table["log_loss"].is_monotonic_decreasing
    y, _ = outcomes(adult_frame)
    score = adult_frame["p_high"].to_numpy()
    scores = np.column_stack([1 - score, score])
    eps = np.finfo(np.float64).eps  # scikit-learn's clipping
    loss = -np.log(np.clip(scores[np.arange(len(y)), y], eps, 1 - eps))
    for _, row in table[table["feature"].isin(["race", "sex"])].iterrows():
        rows = pandas_rows(adult_frame[row["feature"]], row["predicate"])
        expected = log_loss(y[rows], scores[rows], labels=[0, 1])
        assert row["log_loss"] == pytest.approx(expected, rel=1e-9)
        assert row["rest_log_loss"] == pytest.approx(loss[~rows].mean(), rel=1e-9)
        if rows.sum() > 1:
            low, high = t.interval(
                0.95,
                rows.sum() - 1,
                loc=loss[rows].mean(),
                scale=loss[rows].std(ddof=1) / np.sqrt(rows.sum()),
            )
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-9)
            pvalue = ttest_ind(loss[rows], loss[~rows], equal_var=False).pvalue
            assert row["p_value"] == pytest.approx(pvalue, rel=1e-6)


def test_score_bins_user_edges_and_classes_are_slices(
    request: pytest.FixtureRequest, engine: str, adult_ev: es.Evaluation, adult_frame: pd.DataFrame
) -> None:
    table = slice_table(adult_ev)
    assert {"score", "actual", "predicted"} <= set(table["feature"])
    score = adult_frame["p_high"]
    for _, row in table[table["feature"] == "score"].iterrows():
        assert row["size"] == pandas_rows(score, row["predicate"]).sum()
    ev = evaluation_on(
        engine, request, adult_frame[["age", "sex", "income", "p_high"]], **{**ADULT, "sensitive": None}
    )
    ev.set_bins("age", [25, 45, 65])
    ages = slice_table(ev, columns=["age"])
    assert sorted(ages["slice"]) == sorted(["< 25", "in [25, 45)", "in [45, 65)", "≥ 65"])
    age = adult_frame["age"]
    got = ages.set_index("slice")["size"]
    assert got["< 25"] == (age < 25).sum() and got["≥ 65"] == (age >= 65).sum()
    assert got["in [45, 65)"] == ((age >= 45) & (age < 65)).sum()
    ev.set_bins("age", 4)  # quartile bins: cut at numpy's quantiles
    quartiles = slice_table(ev, columns=["age"])
    cuts = np.quantile(age, [0.25, 0.5, 0.75])
    bounds = {v for p in quartiles["predicate"] for v in p.values if v is not None}
    assert bounds == set(cuts.tolist())
    expected = np.bincount(np.searchsorted(cuts, age, side="right"), minlength=4)
    assert sorted(quartiles["size"]) == sorted(expected.tolist())
    for _, row in quartiles.iterrows():
        assert pandas_rows(age, row["predicate"]).sum() == row["size"]
    with pytest.raises(ValueError, match="strictly increasing"):
        ev.set_bins("age", [40, 30])
    with pytest.raises(ValueError, match="no edge falls inside"):
        ev.set_bins("age", [200, 300])
    with pytest.raises(TypeError, match="only numeric"):
        ev.set_bins("sex", 4)


def test_text_length_family_equals_pandas(request: pytest.FixtureRequest, engine: str) -> None:
    sms = es.datasets.load_sms_spam()
    rng = np.random.default_rng(0)
    spam = (sms["label"] == "spam").to_numpy()
    sms["guess"] = np.where(rng.random(len(sms)) < 0.1, np.where(spam, "ham", "spam"), sms["label"])
    ev = evaluation_on(engine, request, sms, y_true="label", y_pred="guess", text="text")
    table = slice_table(ev)
    lengths = sms["text"].str.len().astype(float)
    rows = table[table["feature"] == "len(text)"]
    assert len(rows) >= 5 and rows["size"].sum() == len(sms)
    wrong = (sms["label"] != sms["guess"]).to_numpy()
    for _, row in rows.iterrows():
        inside = pandas_rows(lengths, row["predicate"])
        assert row["size"] == inside.sum() and row["errors"] == wrong[inside].sum()


def test_datetime_periods_equal_pandas_groupby(request: pytest.FixtureRequest, engine: str) -> None:
    df = es.datasets.load_compas()[["sex", "race", "compas_screening_date", "two_year_recid", "decile_score"]]
    df["screened"] = pd.to_datetime(df["compas_screening_date"])
    df["decile_high"] = (df["decile_score"] >= 5).astype(int)
    ev = evaluation_on(
        engine,
        request,
        df.drop(columns="compas_screening_date"),
        y_true="two_year_recid",
        y_pred="decile_high",
    )
    table = slice_table(ev, columns=["screened"])
    wrong = pd.Series((df["two_year_recid"] != df["decile_high"]).to_numpy())
    expected = wrong.groupby(df["screened"].dt.to_period("M").astype(str).to_numpy()).agg(["size", "sum"])
    got = table.set_index("slice")
    assert len(got) == 24  # two years of screenings: the finest period with at most 24 is the month
    for period, row in expected.iterrows():
        assert got.loc[period, "size"] == row["size"] and got.loc[period, "errors"] == row["sum"]
        assert pandas_rows(df["screened"], got.loc[period, "predicate"]).sum() == row["size"]


def test_bad_metric_and_positive_class_are_explained(request: pytest.FixtureRequest, engine: str) -> None:
    letters = es.datasets.load_letter().head(2000)
    letters["guess"] = letters["letter"].sample(frac=1, random_state=0).to_numpy()
    ev = evaluation_on(engine, request, letters, y_true="letter", y_pred="guess")
    with pytest.raises(ValueError, match="positive_class"):
        slice_table(ev, metric="fpr")
    with pytest.raises(ValueError, match="metric must be one of"):
        slice_table(ev, metric="auc")
    with pytest.raises(ValueError, match="needs scores"):
        slice_table(ev, metric="log_loss")
    table = slice_table(ev, metric="fnr", positive_class="A", columns=["x-box"])
    is_a, guessed_a = (letters["letter"] == "A").to_numpy(), (letters["guess"] == "A").to_numpy()
    for _, row in table.iterrows():
        rows = pandas_rows(letters["x-box"], row["predicate"]) & is_a
        expected = (~guessed_a[rows]).mean() if rows.any() else np.nan
        np.testing.assert_allclose(row["fnr"], expected, rtol=1e-12)
