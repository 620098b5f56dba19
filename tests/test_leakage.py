"""Leakage checks against pandas merges and scipy: Adult's test rows that repeat a training row (pandas,
DuckDB, Spark), missing values in keys, label disagreements, rounding, and the class balance."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, ks_2samp

from errorscope.leakage import class_balance, overlap_summary, train_overlap

ADULT_FEATURES = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
]  # fmt: skip
FEW = ["age", "workclass", "education", "sex"]  # few features: many copies, many label disagreements


def merge_oracle(test: pd.DataFrame, train: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The matched evaluation rows by a pandas merge: index (the row's position) and copies."""
    counts = train.groupby(features, dropna=False).size().rename("copies").reset_index()
    return test.reset_index().merge(counts, on=features).sort_values("index").reset_index(drop=True)


def label_oracle(test: pd.DataFrame, train: pd.DataFrame, features: list[str], label: str) -> pd.DataFrame:
    """Per matched evaluation row (by position): the most common training label among its copies (ties:
    the smallest label) and how many copies share its own label, by pandas merges."""
    per = train.groupby([*features, label], dropna=False).size().rename("k").reset_index()
    top = per.sort_values(["k", label], ascending=[False, True]).drop_duplicates(features)
    top = top.drop(columns="k").rename(columns={label: "train_label"})
    out = test.reset_index().merge(top, on=features).merge(per, on=[*features, label], how="left")
    out["k"] = out["k"].fillna(0).astype(np.int64)
    return out.sort_values("index").reset_index(drop=True)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


# -- exact repeats on Adult -------------------------------------------------------------------------


@pytest.mark.parametrize("features", [ADULT_FEATURES, FEW], ids=["all", "few"])
def test_adult_overlap_is_a_pandas_merge(adult_train, adult_test, features):  # type: ignore[no-untyped-def]
    out = train_overlap(adult_test, adult_train, features)
    expected = merge_oracle(adult_test, adult_train, features)
    assert len(expected) > 20  # Adult's test file repeats some training rows (missing values too)
    assert list(out.columns) == ["id", *features, "train_copies"]
    np.testing.assert_array_equal(out["id"], expected["index"])
    np.testing.assert_array_equal(out["train_copies"], expected["copies"])
    pd.testing.assert_frame_equal(
        out[features], adult_test.iloc[out["id"]][features].reset_index(drop=True), check_dtype=False
    )
    if features == ADULT_FEATURES:
        assert out[features].isna().any(axis=1).sum() > 0  # rows matched through missing values


@pytest.mark.parametrize("features", [ADULT_FEATURES, FEW], ids=["all", "few"])
def test_adult_label_agreement_is_pandas(adult_train, adult_test, features):  # type: ignore[no-untyped-def]
    out = train_overlap(adult_test, adult_train, features, eval_labels="income", train_labels="income")
    expected = label_oracle(adult_test, adult_train, features, "income")
    np.testing.assert_array_equal(out["id"], expected["index"])
    np.testing.assert_array_equal(out["label"], expected["income"])
    np.testing.assert_array_equal(out["train_label"], expected["train_label"])
    np.testing.assert_array_equal(out["label_agrees"], expected["income"] == expected["train_label"])
    np.testing.assert_array_equal(out["agreeing_copies"], expected["k"])
    assert out["label_agrees"].dtype == bool
    assert 0 < out["label_agrees"].mean() < 1  # both agreeing and disagreeing repeats on Adult


def test_labels_as_arrays_and_ids(adult_train, adult_test):  # type: ignore[no-untyped-def]
    by_name = train_overlap(adult_test, adult_train, FEW, "income", "income")
    ids = np.arange(len(adult_test))[::-1] * 10  # descending: the result is sorted by these
    by_array = train_overlap(
        adult_test, adult_train, FEW, adult_test["income"].to_numpy(), list(adult_train["income"]), ids=ids
    )
    assert by_array["id"].is_monotonic_increasing
    mapped = by_array.assign(id=(len(adult_test) - 1) - by_array["id"] // 10)
    pd.testing.assert_frame_equal(mapped.sort_values("id").reset_index(drop=True), by_name, check_dtype=False)
    # an index that is not 0..n-1 is not used: ids are positions unless given
    shifted = train_overlap(adult_test.set_axis(adult_test.index + 1000), adult_train, FEW)
    np.testing.assert_array_equal(shifted["id"], by_name["id"])


# -- constructed cases -----------------------------------------------------------------------------


def test_missing_values_match_each_other_not_a_sentinel() -> None:
    train = pd.DataFrame({
        "x": [1.0, np.nan, np.nan, 0.0, 2.0],
        "c": ["a", None, None, "", "b"],
        "y": ["p", "p", "q", "p", "p"],
    })  # fmt: skip
    evaluation = pd.DataFrame({
        "x": [np.nan, 0.0, np.nan, 1.0, np.nan],
        "c": [None, "", "", "a", "b"],
        "y": ["q", "p", "p", "p", "p"],
    })  # fmt: skip
    out = train_overlap(evaluation, train, ["x", "c"], "y", "y")
    expected = merge_oracle(evaluation, train, ["x", "c"])
    assert out["id"].tolist() == expected["index"].tolist() == [0, 1, 3]  # (NaN, "") and (NaN, "b") do not
    assert out["train_copies"].tolist() == [2, 1, 1]
    assert out.loc[0, "train_label"] == "p"  # a tie (p once, q once) goes to the smallest label
    assert out["label_agrees"].tolist() == [False, True, True]
    assert out["agreeing_copies"].tolist() == [1, 1, 1]


def test_label_disagreements() -> None:
    train = pd.DataFrame({"a": [1, 1, 1, 2, 2, 3], "b": ["u", "u", "u", "v", "v", "w"]})
    labels = ["no", "yes", "yes", "no", "no", "yes"]
    evaluation = pd.DataFrame({"a": [1, 2, 3, 4, 1], "b": ["u", "v", "w", "u", "u"]})
    out = train_overlap(evaluation, train, ["a", "b"], ["no", "no", "no", "no", "yes"], labels)
    assert out["id"].tolist() == [0, 1, 2, 4]
    assert out["train_copies"].tolist() == [3, 2, 1, 3]
    assert out["train_label"].tolist() == ["yes", "no", "yes", "yes"]
    assert out["label_agrees"].tolist() == [False, True, False, True]
    assert out["agreeing_copies"].tolist() == [1, 2, 0, 2]
    assert overlap_summary(out, len(evaluation)) == {"rows": 4, "share": 0.8, "label_agreement": 0.5}
    no_labels = overlap_summary(train_overlap(evaluation, train, ["a", "b"]), len(evaluation))
    assert no_labels["rows"] == 4 and no_labels["share"] == 0.8 and np.isnan(no_labels["label_agreement"])
    # one label set alone: no label columns
    assert "label" not in train_overlap(evaluation, train, ["a"], eval_labels=[0] * 5).columns


def test_decimals_round_numbers_before_matching() -> None:
    train = pd.DataFrame({"x": [1.0, 0.12, 0.14, 2.5], "n": [15, 7, 7, 1], "c": ["k", "k", "k", "k"]})
    evaluation = pd.DataFrame(
        {"x": [1.004, 1.006, 0.125, 0.135, 2.5], "n": [15, 15, 7, 7, 1], "c": ["k"] * 5}
    )
    exact = train_overlap(evaluation, train, ["x", "n", "c"])
    assert exact["id"].tolist() == [4]
    near = train_overlap(evaluation, train, ["x", "n", "c"], decimals=2)
    # 1.004 -> 1.0 but 1.006 -> 1.01; halves go to the even digit: 0.125 -> 0.12, 0.135 -> 0.14
    assert near["id"].tolist() == [0, 2, 3, 4]
    oracle = merge_oracle(evaluation.round(2), train.round(2), ["x", "n", "c"])
    assert near["id"].tolist() == oracle["index"].tolist()
    assert near["x"].tolist() == [1.004, 0.125, 0.135, 2.5]  # the evaluation's own values, not rounded
    # negative decimals round integers too: 15 and 25 -> 20 (half to even), 7 -> 10, 35 -> 40
    tens = train_overlap(pd.DataFrame({"n": [25, 7, 35]}), pd.DataFrame({"n": [15, 10]}), ["n"], decimals=-1)
    assert tens["id"].tolist() == [0, 1] and tens["train_copies"].tolist() == [1, 1]


def test_decimals_on_random_numbers_is_pandas_round() -> None:
    rng = np.random.default_rng(0)
    halves = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.125, 0.375, -0.125, 0.0, -0.0])
    train = pd.DataFrame(
        {"x": np.concatenate([rng.normal(size=3000).round(3), halves]), "g": rng.integers(0, 3, 3010)}
    )
    evaluation = pd.DataFrame(
        {"x": np.concatenate([rng.normal(size=2000), halves[::-1]]), "g": rng.integers(0, 3, 2010)}
    )
    for decimals in (0, 1, 2):
        out = train_overlap(evaluation, train, ["x", "g"], decimals=decimals)
        expected = merge_oracle(evaluation.round(decimals), train.round(decimals), ["x", "g"])
        assert len(expected) > 100
        np.testing.assert_array_equal(out["id"], expected["index"])
        np.testing.assert_array_equal(out["train_copies"], expected["copies"])


# -- lazy engines ----------------------------------------------------------------------------------


def constructed() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small pair with missing values, ties, halves to round, booleans and labels."""
    train = pd.DataFrame({
        "x": [1.0, np.nan, np.nan, 0.0, 0.125, 0.125, -0.5, 2.0],
        "c": ["a", None, None, "", "k", "k", "m", "a"],
        "b": [True, False, False, True, True, True, False, True],
        "y": ["p", "p", "q", "p", "r", "s", "p", "p"],
    })  # fmt: skip
    evaluation = pd.DataFrame({
        "x": [np.nan, 0.0, 0.12, 0.13, -0.4, 1.0, 2.0, np.nan],
        "c": [None, "", "k", "k", "m", "a", "a", ""],
        "b": [False, True, True, True, False, True, False, False],
        "y": ["q", "p", "s", "r", "p", "p", "p", "p"],
        "key": [70, 60, 50, 40, 30, 20, 10, 0],
    })  # fmt: skip
    return train, evaluation


@pytest.mark.parametrize("decimals", [None, 1, 2])
def test_duckdb_equals_pandas_constructed(con, decimals):  # type: ignore[no-untyped-def]
    train, evaluation = constructed()
    args = {"features": ["x", "c", "b"], "eval_labels": "y", "train_labels": "y", "decimals": decimals}
    expected = train_overlap(evaluation, train, **args)
    assert len(expected) >= 2
    out = train_overlap(con.from_df(evaluation), con.from_df(train), **args)
    pd.testing.assert_frame_equal(out, expected)
    keyed = train_overlap(con.from_df(evaluation), con.from_df(train), ids="key", **args)
    pd.testing.assert_frame_equal(keyed, train_overlap(evaluation, train, ids="key", **args))
    assert keyed["id"].is_monotonic_increasing


def test_duckdb_equals_pandas_on_adult(con, adult_train, adult_test):  # type: ignore[no-untyped-def]
    ev, tr = con.sql("select * from adult_test"), con.sql("select * from adult_train")
    for features in (ADULT_FEATURES, FEW):
        expected = train_overlap(adult_test, adult_train, features, "income", "income")
        pd.testing.assert_frame_equal(train_overlap(ev, tr, features, "income", "income"), expected)
    out = train_overlap(ev, tr, ["age", "hours-per-week", "sex"], decimals=-1)
    pd.testing.assert_frame_equal(
        out, train_overlap(adult_test, adult_train, ["age", "hours-per-week", "sex"], decimals=-1)
    )


def test_duckdb_nan_and_null_are_one_missing_value(con) -> None:  # type: ignore[no-untyped-def]
    ev = con.sql("select * from (values (1, 'NaN'::double), (2, NULL), (3, 1.0)) t(id, x)")
    tr = con.sql("select * from (values (NULL::double), ('NaN'::double), (1.0)) t(x)")
    out = train_overlap(ev, tr, ["x"], ids="id")
    assert out["id"].tolist() == [1, 2, 3] and out["train_copies"].tolist() == [2, 2, 1]


def on_spark(spark, frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    """``frame`` as a Spark DataFrame, missing strings as nulls (PySpark 4.0 turns a pandas 3 ``str``
    column's NaN into the text "NaN"); NaN in float columns stays NaN."""
    frame = frame.astype({"c": object})
    frame["c"] = frame["c"].where(frame["c"].notna(), None)
    return spark.createDataFrame(frame)


def test_spark_equals_pandas(spark) -> None:  # type: ignore[no-untyped-def]
    train, evaluation = constructed()
    for decimals in (None, 1):
        args = {"features": ["x", "c", "b"], "eval_labels": "y", "train_labels": "y", "decimals": decimals}
        expected = train_overlap(evaluation, train, **args)
        assert len(expected) >= 2
        out = train_overlap(on_spark(spark, evaluation), on_spark(spark, train), **args)
        pd.testing.assert_frame_equal(out, expected)
    keyed = train_overlap(on_spark(spark, evaluation), on_spark(spark, train), ["x", "c"], ids="key")
    pd.testing.assert_frame_equal(keyed, train_overlap(evaluation, train, ["x", "c"], ids="key"))


# -- class balance ---------------------------------------------------------------------------------


def test_class_balance_is_chi2_contingency(adult_train, adult_test):  # type: ignore[no-untyped-def]
    table = class_balance(adult_train["income"], adult_test["income"])
    assert table["class"].tolist() == ["<=50K", ">50K"]
    t, e = adult_train["income"].value_counts(), adult_test["income"].value_counts()
    assert table["train_count"].tolist() == [t["<=50K"], t[">50K"]]
    assert table["eval_share"].tolist() == pytest.approx(
        [e["<=50K"] / len(adult_test), e[">50K"] / len(adult_test)]
    )
    np.testing.assert_allclose(table["difference"], table["eval_share"] - table["train_share"])
    statistic, p, dof, _ = chi2_contingency(
        np.array([[t["<=50K"], t[">50K"]], [e["<=50K"], e[">50K"]]]), correction=False
    )
    expected = {
        "test": "chi-square",
        "statistic": pytest.approx(statistic),
        "p": pytest.approx(p),
        "dof": dof,
    }
    assert table.attrs == expected


def test_class_balance_with_a_class_only_in_evaluation() -> None:
    train, evaluation = ["a"] * 30 + ["b"] * 10 + [None], ["a"] * 10 + ["b"] * 10 + ["c"] * 5
    table = class_balance(train, pd.Series(evaluation, index=range(100, 125)))
    assert table["class"].tolist() == ["a", "b", "c"]
    assert table["train_count"].tolist() == [30, 10, 0] and table["eval_count"].tolist() == [10, 10, 5]
    assert table["train_share"].tolist() == [0.75, 0.25, 0.0]  # the missing label is left out
    statistic, p, dof, _ = chi2_contingency([[30, 10, 0], [10, 10, 5]], correction=False)
    assert (table.attrs["statistic"], table.attrs["p"], table.attrs["dof"]) == pytest.approx(
        (statistic, p, dof)
    )
    single = class_balance(["a"] * 3, ["a"] * 2)
    assert single.attrs["statistic"] == 0.0 and single.attrs["p"] == 1.0 and single.attrs["dof"] == 0


def test_class_balance_regression_is_ks_2samp(adult_train, adult_test):  # type: ignore[no-untyped-def]
    table = class_balance(adult_train["hours-per-week"], adult_test["hours-per-week"], classification=False)
    np.testing.assert_allclose(table["train"], adult_train["hours-per-week"].quantile(table["quantile"]))
    np.testing.assert_allclose(table["eval"], adult_test["hours-per-week"].quantile(table["quantile"]))
    expected = ks_2samp(adult_train["hours-per-week"], adult_test["hours-per-week"])
    assert table.attrs["test"] == "Kolmogorov-Smirnov"
    assert (table.attrs["statistic"], table.attrs["p"]) == pytest.approx(
        (expected.statistic, expected.pvalue)
    )
    rng = np.random.default_rng(1)
    shifted = class_balance(rng.normal(size=500), rng.normal(0.5, size=400), classification=False)
    assert shifted.attrs["p"] < 1e-6 and shifted["difference"].iloc[4] > 0.2  # the median moved up


# -- errors ----------------------------------------------------------------------------------------


def test_errors(con, adult_train, adult_test):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=r"evaluation has no column\(s\) \['nope'\]"):
        train_overlap(adult_test, adult_train, ["age", "nope"])
    with pytest.raises(ValueError, match=r"train has no column\(s\) \['age'\]"):
        train_overlap(adult_test, adult_train.drop(columns="age"), ["age"])
    with pytest.raises(ValueError, match=r"train has no column\(s\) \['age'\]"):
        train_overlap(con.from_df(adult_test), con.from_df(adult_train.drop(columns="age")), ["age"])
    with pytest.raises(ValueError, match="eval_labels has 3 entries but evaluation has 16281 rows"):
        train_overlap(adult_test, adult_train, ["age"], eval_labels=[1, 2, 3], train_labels="income")
    with pytest.raises(ValueError, match="train_labels has 5 entries but train has 32561 rows"):
        train_overlap(adult_test, adult_train, ["age"], eval_labels="income", train_labels=np.zeros(5))
    with pytest.raises(ValueError, match="ids has 2 entries"):
        train_overlap(adult_test, adult_train, ["age"], ids=[1, 2])
    with pytest.raises(ValueError, match="eval_labels='label' is not a column of evaluation"):
        train_overlap(adult_test, adult_train, ["age"], eval_labels="label", train_labels="income")
    with pytest.raises(ValueError, match="both be pandas DataFrames or both lazy frames"):
        train_overlap(con.from_df(adult_test), adult_train, ["age"])
    with pytest.raises(ValueError, match="on a lazy frame pass the name of a column"):
        train_overlap(con.from_df(adult_test), con.from_df(adult_train), ["age"], ids=np.arange(16281))
    with pytest.raises(ValueError, match=r"feature 'age' is .* in evaluation but .* in train"):
        train_overlap(adult_test, adult_train.astype({"age": str}), ["age"])
    with pytest.raises(ValueError, match="at least one column"):
        train_overlap(adult_test, adult_train, [])
    with pytest.raises(ValueError, match="decimals must be an integer"):
        train_overlap(adult_test, adult_train, ["age"], decimals=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_eval=3 is below the 4 matched rows"):
        overlap_summary(pd.DataFrame({"train_copies": [1, 1, 1, 1]}), 3)
    with pytest.raises(ValueError, match="must be numbers for classification=False"):
        class_balance(adult_train["income"], adult_test["income"], classification=False)
    with pytest.raises(ValueError, match="eval_labels has no labels"):
        class_balance([1, 2], [None, None])
