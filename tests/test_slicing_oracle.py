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
    table = slice_table(ev, mask, min_support=1)
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
        rows = adult_ev.engine.predicate_mask(row["predicate"])
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


def test_lift_equals_pandas_on_an_outcome_selection(adult_ev: es.Evaluation) -> None:
    """Share of the selected errors in the slice over its share of all rows, by pandas groupby."""
    ev = adult_ev
    mask = (ev.true_codes == 1) & (ev.pred_codes == 0)  # a matrix cell: every kept row is an error
    table = slice_table(ev, mask, min_support=1)
    wrong = pd.Series(ev.true_codes != ev.pred_codes)
    for column in ("race", "education", "sex"):
        values = ev.data[column].astype(str).reset_index(drop=True)
        error_share = values[mask & wrong].value_counts() / (mask & wrong).sum()
        row_share = values.value_counts() / ev.n_rows
        expected = (error_share / row_share).dropna()
        got = table[table["feature"] == column].set_index("slice")["lift"]
        for value, lift in expected.items():
            assert got[value] == pytest.approx(lift, rel=1e-12)
        assert set(got.index) == set(expected.index)
    assert (table.loc[table["feature"] == "sex", "error_rate"] == 1).all()  # what the rate alone says


def test_groups_and_minimum_support(adult_ev: es.Evaluation) -> None:
    table = slice_table(adult_ev)
    groups = table.groupby("feature")["group"].first()
    assert set(groups[groups == "outcome"].index) == {"actual", "predicted", "score"}
    assert groups[["age", "sex", "race", "education"]].eq("feature").all()
    mask = adult_ev.data["race"].eq("Other").to_numpy() | (adult_ev.true_codes == 1)
    ranked = slice_table(adult_ev, mask)
    support = max(10, np.ceil(0.005 * mask.sum()))
    np.testing.assert_array_equal(ranked["supported"], ranked["size"] >= support)
    assert not ranked["supported"].all()  # tiny slices (e.g. 100% error on 2 rows) exist...
    first_small = int(np.argmin(ranked["supported"].to_numpy()))
    assert not ranked["supported"].iloc[first_small:].any()  # ...and rank after every supported one
    assert ranked["error_rate"].iloc[:first_small].is_monotonic_decreasing
    assert slice_table(adult_ev, mask, min_support=1)["supported"].all()


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
def _per_slice(ev: es.Evaluation, column: str, label: str) -> np.ndarray:
    table = slice_table(ev, columns=[column])
    predicate = table.loc[(table["feature"] == column) & (table["slice"] == label), "predicate"].iloc[0]
    return ev.engine.predicate_mask(predicate)


@pytest.mark.parametrize("metric", ["fpr", "fnr"])
def test_fpr_and_fnr_per_slice_equal_sklearn(adult_ev: es.Evaluation, metric: str) -> None:
    from sklearn.metrics import confusion_matrix

    mask = adult_ev.data["age"].to_numpy() > 30
    table = slice_table(adult_ev, mask, columns=["race"], metric=metric)
    y_true, y_pred = adult_ev.true_codes, adult_ev.pred_codes
    for _, row in table[table["feature"] == "race"].iterrows():
        rows = adult_ev.engine.predicate_mask(row["predicate"]) & mask
        tn, fp, fn, tp = confusion_matrix(y_true[rows], y_pred[rows], labels=[0, 1]).ravel()
        rest = ~adult_ev.engine.predicate_mask(row["predicate"]) & mask
        rtn, rfp, rfn, rtp = confusion_matrix(y_true[rest], y_pred[rest], labels=[0, 1]).ravel()
        hits, trials = (fp, fp + tn) if metric == "fpr" else (fn, fn + tp)
        rest_hits, rest_trials = (rfp, rfp + rtn) if metric == "fpr" else (rfn, rfn + rtp)
        assert row[metric] == pytest.approx(hits / trials, abs=1e-12)
        assert row[f"rest_{metric}"] == pytest.approx(rest_hits / rest_trials, abs=1e-12)
        low, high = proportion_confint(hits, trials, method="wilson")
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), abs=1e-12)
        p = proportions_ztest([hits, rest_hits], [trials, rest_trials])[1]
        assert row["p_value"] == pytest.approx(p, rel=1e-9)


def test_log_loss_per_slice_equals_sklearn_and_welch(adult_ev: es.Evaluation) -> None:
    from scipy.stats import t, ttest_ind
    from sklearn.metrics import log_loss

    table = slice_table(adult_ev, columns=["race", "sex"], metric="log_loss")
    assert table["log_loss"].is_monotonic_decreasing
    scores = adult_ev.scores
    eps = np.finfo(np.float64).eps  # scikit-learn's clipping
    loss = -np.log(np.clip(scores[np.arange(adult_ev.n_rows), adult_ev.true_codes], eps, 1 - eps))
    for _, row in table[table["feature"].isin(["race", "sex"])].iterrows():
        rows = adult_ev.engine.predicate_mask(row["predicate"])
        expected = log_loss(adult_ev.true_codes[rows], scores[rows], labels=[0, 1])
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
            p = ttest_ind(loss[rows], loss[~rows], equal_var=False).pvalue
            assert row["p_value"] == pytest.approx(p, rel=1e-6)


def test_score_bins_user_edges_and_classes_are_slices(adult_ev: es.Evaluation) -> None:
    table = slice_table(adult_ev)
    assert {"score", "actual", "predicted"} <= set(table["feature"])
    score = adult_ev.scores[:, 1]
    for _, row in table[table["feature"] == "score"].iterrows():
        lo, hi = row["predicate"].values
        expected = (
            (score >= (lo if lo is not None else -np.inf)) & (score < (hi if hi is not None else np.inf))
        ).sum()
        assert row["size"] == expected
    ev = es.Evaluation(adult_ev.data, "income", y_score=adult_ev.scores, labels=["<=50K", ">50K"])
    ev.set_bins("age", [25, 45, 65])
    ages = slice_table(ev, columns=["age"])
    assert sorted(ages["slice"]) == sorted(["< 25", "in [25, 45)", "in [45, 65)", "≥ 65"])
    age = ev.data["age"]
    got = ages.set_index("slice")["size"]
    assert got["< 25"] == (age < 25).sum() and got["≥ 65"] == (age >= 65).sum()
    assert got["in [45, 65)"] == ((age >= 45) & (age < 65)).sum()
    with pytest.raises(ValueError, match="strictly increasing"):
        ev.set_bins("age", [40, 30])
    with pytest.raises(TypeError, match="only numeric"):
        ev.set_bins("sex", 4)


def test_text_length_family_equals_pandas() -> None:
    sms = es.datasets.load_sms_spam()
    rng = np.random.default_rng(0)
    spam = (sms["label"] == "spam").to_numpy()
    y_pred = np.where(rng.random(len(sms)) < 0.1, np.where(spam, "ham", "spam"), sms["label"])
    ev = es.Evaluation(sms, "label", y_pred=y_pred, text="text")
    table = slice_table(ev)
    lengths = sms["text"].str.len()
    rows = table[table["feature"] == "len(text)"]
    assert len(rows) >= 5 and rows["size"].sum() == len(sms)
    wrong = ev.true_codes != ev.pred_codes
    for _, row in rows.iterrows():
        lo, hi = row["predicate"].values
        inside = (
            (lengths >= (lo if lo is not None else -np.inf)) & (lengths < (hi if hi is not None else np.inf))
        ).to_numpy()
        assert row["size"] == inside.sum() and row["errors"] == wrong[inside].sum()
        assert ev.engine.predicate_mask(row["predicate"]).sum() == row["size"]


def test_datetime_periods_equal_pandas_groupby(compas_ev: es.Evaluation) -> None:
    df = es.datasets.load_compas()[["sex", "race", "compas_screening_date", "two_year_recid", "decile_score"]]
    df["screened"] = pd.to_datetime(df["compas_screening_date"])
    ev = es.Evaluation(
        df.drop(columns="compas_screening_date"),
        "two_year_recid",
        y_pred=(df["decile_score"] >= 5).astype(int),
    )
    table = slice_table(ev, columns=["screened"])
    wrong = pd.Series(ev.true_codes != ev.pred_codes)
    expected = wrong.groupby(df["screened"].dt.to_period("M").astype(str).to_numpy()).agg(["size", "sum"])
    got = table.set_index("slice")
    assert len(got) == 24  # two years of screenings: the finest period with at most 24 is the month
    for period, row in expected.iterrows():
        assert got.loc[period, "size"] == row["size"] and got.loc[period, "errors"] == row["sum"]
        assert ev.engine.predicate_mask(got.loc[period, "predicate"]).sum() == row["size"]


def test_bad_metric_and_positive_class_are_explained() -> None:
    letters = es.datasets.load_letter().head(2000)
    ev = es.Evaluation(letters, "letter", y_pred=letters["letter"].sample(frac=1, random_state=0).to_numpy())
    with pytest.raises(ValueError, match="positive_class"):
        slice_table(ev, metric="fpr")
    with pytest.raises(ValueError, match="metric must be one of"):
        slice_table(ev, metric="auc")
    with pytest.raises(ValueError, match="needs scores"):
        slice_table(ev, metric="log_loss")
    table = slice_table(ev, metric="fnr", positive_class="A", columns=["x-box"])
    a = ev.classes.index("A")
    for _, row in table.iterrows():
        rows = ev.engine.predicate_mask(row["predicate"]) & (ev.true_codes == a)
        expected = (ev.pred_codes[rows] != a).mean() if rows.any() else np.nan
        np.testing.assert_allclose(row["fnr"], expected, rtol=1e-12)
