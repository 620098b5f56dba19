"""The data profile's figures against their oracles (pandas, numpy, scipy) on Adult's test file, on every
engine: summary statistics, outliers, associations with the target and the error, pairs of features and
drift against the training file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, contingency, ks_2samp, spearmanr, zscore

from engines import pandas_rows, where
from errorscope import profile
from errorscope.residuals import feature_axis
from errorscope.selection import Clause

NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "hours-per-week", "missing_hours"]
CATEGORICAL = ["workclass", "education", "race", "native-country"]


@pytest.fixture(scope="module")
def frame(adult_test: pd.DataFrame, adult_proba: np.ndarray) -> pd.DataFrame:
    """Adult's test rows with the model's predictions and a numeric feature with missing values."""
    rng = np.random.default_rng(7)
    hours = adult_test["hours-per-week"].astype(np.float64).where(rng.random(len(adult_test)) > 0.1)
    classes = np.array(sorted(adult_test["income"].unique()))
    return adult_test.assign(
        missing_hours=hours, predicted=classes[np.argmax(adult_proba, axis=1)]
    ).reset_index(drop=True)


@pytest.fixture
def ev(on_engine, frame: pd.DataFrame, adult_train: pd.DataFrame):  # type: ignore[no-untyped-def]
    train = adult_train.assign(missing_hours=adult_train["hours-per-week"].astype(np.float64))
    return on_engine("profiled", frame, y_true="income", y_pred="predicted",
                     features=NUMERIC + CATEGORICAL, train=train)  # fmt: skip


def wrong(frame: pd.DataFrame) -> np.ndarray:
    return (frame["income"] != frame["predicted"]).to_numpy()


def test_summary_statistics_are_pandas(ev, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    table = profile.profile_table(ev).set_index("feature")
    for name in NUMERIC:
        values, row = frame[name].astype(np.float64), table.loc[name]
        present = values.dropna()
        assert row["type"] == "numeric"
        assert row["missing"] == values.isna().sum() and row["missing_share"] == pytest.approx(
            values.isna().mean()
        )
        assert row["distinct"] == present.nunique()
        assert row["mean"] == pytest.approx(present.mean(), rel=1e-12)
        assert row["std"] == pytest.approx(present.std(), rel=1e-10)  # ddof=1, as pandas
        expected = present.quantile([0.0, 0.25, 0.5, 0.75, 1.0]).to_numpy()
        np.testing.assert_allclose(row[["min", "q25", "median", "q75", "max"]].to_numpy(float), expected)
        q1, q3 = present.quantile([0.25, 0.75])
        iqr = ((present < q1 - 1.5 * (q3 - q1)) | (present > q3 + 1.5 * (q3 - q1))).sum()
        assert row["outliers_iqr"] == iqr
        assert row["outliers_z"] == (np.abs(zscore(present)) > 3).sum()  # scipy: ddof=0
    for name in CATEGORICAL:
        values, row = frame[name], table.loc[name]
        assert row["type"] == "categorical" and np.isnan(row["mean"])
        assert row["missing"] == values.isna().sum() and row["distinct"] == values.nunique()
        top = values.value_counts()
        assert row["top_value"] == str(top.index[0]) and row["top_share"] == pytest.approx(
            top.iloc[0] / len(values)
        )
    assert table.loc["capital-gain", "near_zero_variance"]  # caret's rule: 0 in 92% of the rows
    assert not table.loc["age", "near_zero_variance"] and not table["zero_variance"].any()


def codes_of(ev, frame: pd.DataFrame, name: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The codes the association is measured over, by pandas: the rows each of the column's code
    predicates keeps (a number's quantile bins, a category's values; missing a code apart)."""
    codes = np.full(len(frame), -1)
    for code, predicate in enumerate(ev.codes(name).predicates):
        codes[pandas_rows(frame[name], predicate) & (codes < 0)] = code
    assert (codes >= 0).all()
    return codes


def test_associations_are_scipys_cramers_v(ev, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    table = profile.profile_table(ev).set_index("feature")
    for name in NUMERIC + CATEGORICAL:
        codes = codes_of(ev, frame, name)
        target = pd.crosstab(codes, frame["income"].to_numpy()).to_numpy()
        error = pd.crosstab(codes, wrong(frame)).to_numpy()
        expected = (contingency.association(t, method="cramer", correction=False) for t in (target, error))
        assert tuple(table.loc[name, ["assoc_target", "assoc_error"]]) == pytest.approx(
            tuple(expected), rel=1e-9
        )
    assert (table["assoc_method"] == "Cramér's V").all()
    order = profile.profile_table(ev)["assoc_error"].to_numpy()
    assert (np.diff(order) <= 0).all()  # the strongest association with the error first


def test_histogram_counts_are_numpys(ev, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    from errorscope.plans import ALL_ROWS, Key, Marginals

    for name in ["age", "fnlwgt", "missing_hours"]:
        key = feature_axis(ev, name).key
        (counted,) = ev.engine.marginals(Marginals((key,), (Key.outcome(None),)), ALL_ROWS)
        x = frame[name].astype(np.float64)
        expected, _ = np.histogram(x.dropna(), bins=key.bin_edges())
        np.testing.assert_array_equal(counted.sum(axis=1)[: key.bins], expected)
        assert counted.sum(axis=1)[key.bins] == x.isna().sum()


def test_pairs_are_pandas_and_scipys(ev, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    pairs = profile.pair_table(ev).set_index(["feature_a", "feature_b", "method"])["value"]
    sample = profile.feature_sample(ev)
    assert len(sample) == len(frame)  # under 50,000 rows: every row
    a, b = sample["age"].astype(float), sample["hours-per-week"].astype(float)
    assert pairs["age", "hours-per-week", "spearman"] == pytest.approx(spearmanr(a, b).statistic, rel=1e-9)
    assert pairs["age", "hours-per-week", "pearson"] == pytest.approx(np.corrcoef(a, b)[0, 1], rel=1e-9)
    both = sample[["workclass", "race"]].dropna()
    expected = contingency.association(
        pd.crosstab(both["workclass"], both["race"]).to_numpy(), method="cramer", correction=False
    )
    assert pairs["workclass", "race", "cramers_v"] == pytest.approx(expected, rel=1e-9)
    x, g = sample["age"].astype(float), sample["education"].astype(str)
    between = x.groupby(g).agg(["size", "mean"])
    eta2 = (between["size"] * (between["mean"] - x.mean()) ** 2).sum() / ((x - x.mean()) ** 2).sum()
    assert pairs["age", "education", "correlation_ratio"] == pytest.approx(np.sqrt(eta2), rel=1e-9)
    # education-num is education's number: the pair is flagged redundant, both ways
    table = profile.profile_table(ev).set_index("feature")
    assert table.loc["education", "redundant_with"] == "education-num"
    assert table.loc["education-num", "redundant_with"] == "education"
    strongest = profile.pair_strength(profile.pair_table(ev)).iloc[0]
    assert {strongest["feature_a"], strongest["feature_b"]} == {"education", "education-num"}


def test_drift_is_scipys(ev, frame: pd.DataFrame, adult_train: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    table = profile.profile_table(ev).set_index("feature")
    for name in ["age", "fnlwgt", "capital-gain"]:
        expected = ks_2samp(adult_train[name], frame[name], method="asymp")
        assert table.loc[name, "drift_test"] == "Kolmogorov-Smirnov"
        assert table.loc[name, "drift_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
        assert table.loc[name, "drift_p"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    for name in ["workclass", "race"]:  # categories and a missing cell
        t = adult_train[name].astype(object).fillna("<missing>").value_counts()
        e = frame[name].astype(object).fillna("<missing>").value_counts()
        cells = pd.concat([t, e], axis=1).fillna(0).to_numpy().T
        statistic, p, *_ = chi2_contingency(cells, correction=False)
        assert table.loc[name, ["drift_statistic", "drift_p"]].to_numpy(float) == pytest.approx(
            [statistic, p], rel=1e-9
        )
    # PSI over the training deciles (the interior edges, numpy's linear quantiles), missing a cell apart
    t, e = adult_train["age"].astype(float), frame["age"].astype(float)
    edges = np.unique(np.quantile(t, np.linspace(0, 1, 11))[1:-1])
    share = lambda x: np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1) / len(x)  # noqa: E731
    ts, es_ = np.maximum(share(t), 1e-4), np.maximum(share(e), 1e-4)
    assert table.loc["age", "drift_psi"] == pytest.approx(np.sum((es_ - ts) * np.log(es_ / ts)), rel=1e-9)


def test_a_planted_shift_is_found_and_its_bins_are_a_slice(on_engine, frame, adult_train) -> None:  # type: ignore[no-untyped-def]
    older = frame.assign(age=frame["age"] + np.where(frame.index % 3 == 0, 25, 0))
    ev = on_engine("shifted", older, y_true="income", y_pred="predicted", features=["age", "race"],
                   train=adult_train)  # fmt: skip
    table = profile.profile_table(ev).set_index("feature")
    assert table.loc["age", "drifted"] and table.loc["age", "psi_verdict"] == "major shift"
    assert not table.loc["race", "drifted"]
    clause = profile.shifted_clause(ev, "profile", "age")
    assert isinstance(clause, Clause)
    (term,) = clause.terms
    kept = pandas_rows(older["age"], term[0])
    assert older.loc[kept, "age"].min() >= adult_train["age"].quantile(0.8)  # the shifted rows are the old
    assert ev.engine.n_kept(where(ev, clause)) == kept.sum() > len(older) // 4  # the engine keeps those rows


def test_outlier_clause_selects_the_counted_rows(ev, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    counts = profile.value_counts(ev, "capital-gain")
    bounds = profile.outlier_bounds(counts)
    clause = profile.outlier_clause("profile", "capital-gain", bounds["z"])
    kept = np.zeros(len(frame), dtype=bool)
    for (predicate,) in clause.terms:
        kept |= pandas_rows(frame["capital-gain"], predicate)
    table = profile.profile_table(ev).set_index("feature")
    assert kept.sum() == table.loc["capital-gain", "outliers_z"] > 0


def test_regression_associations_are_correlation_ratios(on_engine, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    target = frame["age"] * 2.0 + rng.normal(size=len(frame))
    rows = frame.assign(target=target, guess=target + np.where(frame["race"] == "White", 0.0, 5.0))
    ev = on_engine("regression", rows, y_true="target", y_pred="guess", features=["race", "education"],
                   task="regression")  # fmt: skip
    table = profile.profile_table(ev).set_index("feature")
    for name in ["race", "education"]:
        codes = rows[name].astype(str)
        for column, values in (
            ("assoc_target", rows["target"]),
            ("assoc_error", (rows["guess"] - rows["target"]).abs()),
        ):
            groups = values.groupby(codes).agg(["size", "mean"])
            eta2 = (groups["size"] * (groups["mean"] - values.mean()) ** 2).sum() / (
                (values - values.mean()) ** 2
            ).sum()
            assert table.loc[name, column] == pytest.approx(np.sqrt(eta2), rel=1e-9)
    assert table.index[0] == "race"  # the error depends on race only
    assert (table["assoc_method"] == "correlation ratio").all()


def test_no_training_rows_means_no_drift_columns(on_engine, frame: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    ev = on_engine("untrained", frame, y_true="income", y_pred="predicted", features=["age", "race"])
    assert "drift_psi" not in profile.profile_table(ev)
    with pytest.raises(ValueError, match="train="):
        profile.train_drift(ev)
