"""Group metrics and disparities against Fairlearn's MetricFrame and summaries, on Adult and COMPAS, on
every engine (numpy, DuckDB over Parquet, Spark: tests/engines.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
)
from numpy.testing import assert_allclose
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

import errorscope as es
from engines import where
from errorscope.fairness import (
    _percentile_interval,
    count_groups,
    disparities,
    group_metrics,
    make_groups,
    predictions_at_thresholds,
    representation,
    score_distributions,
    summary,
)

METRICS = {
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
    "recall": lambda y, p: recall_score(y, p, zero_division=np.nan),
    # Fairlearn says 0 where a rate has no denominator (no actual negatives / positives); we say NaN
    "fpr": lambda y, p: false_positive_rate(y, p) if (np.asarray(y) == 0).any() else np.nan,
    "fnr": lambda y, p: false_negative_rate(y, p) if (np.asarray(y) == 1).any() else np.nan,
    "f1": lambda y, p: f1_score(y, p, zero_division=np.nan),
    "base_rate": lambda y, p: np.mean(y),
}
N_ADULT = 3000  # the same rows on every engine (a Spark query costs 0.3-1 s whatever the size)


@dataclass(frozen=True)
class Data:
    """The rows every engine reads, and the oracle's inputs: actual and predicted positive per row."""

    frame: pd.DataFrame
    arguments: dict
    y: np.ndarray
    p: np.ndarray
    score: np.ndarray


@pytest.fixture(scope="module")
def adult_data(adult_test: pd.DataFrame, adult_model) -> Data:  # type: ignore[no-untyped-def]
    df = adult_test.iloc[:N_ADULT].reset_index(drop=True)
    df["p_high"] = adult_model.predict_proba(df.drop(columns="income"))[:, 1]
    df = df[["age", "sex", "race", "income", "p_high"]]
    arguments = {"y_true": "income", "y_score": "p_high", "sensitive": ["sex", "race"]}
    score = df["p_high"].to_numpy()
    return Data(df, arguments, (df["income"] == ">50K").to_numpy(), score >= 0.5, score)


@pytest.fixture(scope="module")
def compas_data() -> Data:
    df = es.datasets.load_compas()[["sex", "race", "age", "decile_score", "two_year_recid"]].copy()
    df["score"] = (df["decile_score"].to_numpy() - 0.5) / 10
    arguments = {"y_true": "two_year_recid", "y_score": "score", "sensitive": ["race", "sex"]}
    score = df["score"].to_numpy()
    return Data(df, arguments, (df["two_year_recid"] == 1).to_numpy(), score >= 0.5, score)


@pytest.fixture
def adult_ev(on_engine, adult_data: Data) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return on_engine("adult", adult_data.frame, **adult_data.arguments)


@pytest.fixture
def compas_ev(on_engine, compas_data: Data) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return on_engine("compas", compas_data.frame, **compas_data.arguments)


def fairlearn_frame(data: Data, columns: list[str], keep: np.ndarray) -> MetricFrame:
    y, p = data.y[keep].astype(int), data.p[keep].astype(int)
    sensitive = data.frame.loc[keep, columns].astype(str).reset_index(drop=True)
    return MetricFrame(metrics=METRICS, y_true=y, y_pred=p, sensitive_features=sensitive)


def kept(data: Data, filtered: str) -> np.ndarray:
    """The oracle's rows for query text: pandas' eval."""
    return data.frame.eval(filtered).to_numpy() if filtered else np.ones(len(data.frame), dtype=bool)


CASES = [
    ("adult", ["sex"]),
    ("adult", ["race"]),
    ("adult", ["sex", "race"]),
    ("compas", ["race"]),
]


@pytest.mark.parametrize(("dataset", "columns"), CASES)
@pytest.mark.parametrize("filtered", ["", "age > 30", "age <= 30"])  # all, over half, under half
def test_group_metrics_equal_metricframe(
    request: pytest.FixtureRequest, engine: str, dataset: str, columns: list[str], filtered: str
) -> None:
    ev, data = request.getfixturevalue(f"{dataset}_ev"), request.getfixturevalue(f"{dataset}_data")
    groups = make_groups(ev, columns)
    ours = group_metrics(ev, groups, where(ev, filtered), n_boot=0)
    expected = fairlearn_frame(data, columns, kept(data, filtered)).by_group
    ours = ours[ours["count"] > 0]
    assert len(ours) == len(expected)
    for _, row in ours.iterrows():
        key = tuple(p.values[0] for p in row["term"])
        theirs = expected.loc[key if len(key) > 1 else key[0]]
        for name in METRICS:
            np.testing.assert_allclose(row[name], theirs[name], atol=1e-9, err_msg=f"{row['group']} {name}")


@pytest.mark.parametrize(("dataset", "columns"), CASES)
def test_summaries_equal_fairlearn(
    request: pytest.FixtureRequest, engine: str, dataset: str, columns: list[str]
) -> None:
    ev, data = request.getfixturevalue(f"{dataset}_ev"), request.getfixturevalue(f"{dataset}_data")
    y, p = data.y.astype(int), data.p.astype(int)
    sensitive = data.frame[columns].astype(str)
    ours = summary(group_metrics(ev, make_groups(ev, columns), n_boot=0))
    assert ours["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(y, p, sensitive_features=sensitive), abs=1e-9
    )
    assert ours["demographic_parity_ratio"] == pytest.approx(
        demographic_parity_ratio(y, p, sensitive_features=sensitive), abs=1e-9
    )
    assert ours["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(y, p, sensitive_features=sensitive), abs=1e-9
    )


def test_disparities_to_reference_equal_metricframe_differences(
    compas_ev: es.Evaluation, compas_data: Data
) -> None:
    groups = make_groups(compas_ev, ["race"])
    table = disparities(compas_ev, groups, n_boot=0)
    frame = fairlearn_frame(compas_data, ["race"], kept(compas_data, "")).by_group
    ref = table.loc[table["reference"], "group"].iloc[0]
    assert ref == compas_data.frame["race"].value_counts().idxmax()
    for _, row in table.iterrows():
        g = frame.loc[row["group"]]
        r = frame.loc[ref]
        assert row["demographic_parity_difference"] == pytest.approx(
            g["selection_rate"] - r["selection_rate"], abs=1e-9
        )
        assert row["disparate_impact"] == pytest.approx(g["selection_rate"] / r["selection_rate"], abs=1e-9)
        assert row["equal_opportunity_difference"] == pytest.approx(g["recall"] - r["recall"], abs=1e-9)
        eod = max(abs(g["recall"] - r["recall"]), abs(g["fpr"] - r["fpr"]))
        assert row["equalized_odds_difference"] == pytest.approx(eod, abs=1e-9)
        assert row["four_fifths_violation"] == (g["selection_rate"] / r["selection_rate"] < 0.8)


def test_bootstrap_intervals_are_the_same_on_every_engine(
    request: pytest.FixtureRequest, engine: str, compas_ev: es.Evaluation, compas_data: Data
) -> None:
    """The bootstrap resamples each group's counts (a seeded multinomial draw, see errorscope.fairness),
    never rows: the same counts and seed give the same intervals on every engine, inside a filter too."""
    in_memory = es.Evaluation(compas_data.frame, **compas_data.arguments)
    for filtered in ("", "age <= 30"):
        tables = []
        for ev in (compas_ev, in_memory):
            groups = make_groups(ev, ["race", "sex"])
            counted = count_groups(ev, groups, where(ev, filtered))
            tables.append(
                [f(ev, groups, n_boot=100, seed=3, counted=counted) for f in (group_metrics, disparities)]
            )
        for ours, theirs in zip(tables[0], tables[1], strict=True):
            numbers = [c for c in ours.columns if c.endswith(("_low", "_high"))]
            assert len(numbers) >= 8
            pd.testing.assert_frame_equal(ours[numbers], theirs[numbers], rtol=1e-9, atol=1e-12)
        metrics = tables[0][0]
        covered = metrics["count"] > 30
        assert (metrics.loc[covered, "recall_low"] <= metrics.loc[covered, "recall"]).all()
        assert (metrics.loc[covered, "recall"] <= metrics.loc[covered, "recall_high"]).all()


def test_bootstrap_intervals_cover_at_about_the_nominal_rate() -> None:
    """Draw many datasets from a known population; the 95% intervals should hold the truth ~95% of times."""
    rng = np.random.default_rng(7)
    true_tpr, covered, trials = 0.7, 0, 200
    for t in range(trials):
        n = 400
        sex = rng.choice(["F", "M"], n)
        y = rng.random(n) < 0.5
        p = np.where(y, rng.random(n) < true_tpr, rng.random(n) < 0.2)
        ev = es.Evaluation(pd.DataFrame({"sex": sex}), y.astype(int), y_pred=p.astype(int), sensitive="sex")
        table = group_metrics(ev, make_groups(ev), n_boot=400, seed=t)
        row = table[table["group"] == "F"].iloc[0]
        covered += row["recall_low"] <= true_tpr <= row["recall_high"]
    assert 0.90 <= covered / trials <= 0.99


def test_ece_reliability_and_score_distributions(compas_ev: es.Evaluation, compas_data: Data) -> None:
    groups = make_groups(compas_ev, ["race"])
    table = group_metrics(compas_ev, groups, n_boot=50)
    score, y, race = compas_data.score, compas_data.y, compas_data.frame["race"].to_numpy()
    for _, row in table.iterrows():
        rows = race == row["group"]
        bins = np.minimum((score[rows] * 10).astype(int), 9)
        frame = (
            pd.DataFrame({"bin": bins, "s": score[rows], "y": y[rows]})
            .groupby("bin")
            .agg(n=("s", "size"), s=("s", "mean"), y=("y", "mean"))
        )
        ece = (frame["n"] * (frame["s"] - frame["y"]).abs()).sum() / frame["n"].sum()
        assert row["ece"] == pytest.approx(ece, abs=1e-9)
        assert row["mean_score"] == pytest.approx(score[rows].mean(), abs=1e-9)
        assert row["ece_low"] <= row["ece"] + 1e-9 or row["count"] < 30
    edges, hist, quantiles = score_distributions(compas_ev, groups)
    assert hist.sum() == len(score) and len(edges) == hist.shape[1] + 1
    for _, row in quantiles.iterrows():  # decile scores are discrete: the quartiles are exact
        rows = race == row["group"]
        assert row["median"] == pytest.approx(np.median(score[rows]), abs=1e-9)


def test_representation_and_bad_groups_are_explained(compas_ev: es.Evaluation, compas_data: Data) -> None:
    from scipy.stats import chisquare

    groups = make_groups(compas_ev, ["sex"])
    table, p = representation(compas_ev, groups, {"Female": 0.5, "Male": 0.5})
    counts = compas_data.frame["sex"].value_counts()
    assert p == pytest.approx(chisquare(counts.sort_index().to_numpy()).pvalue)
    assert table.set_index("group").loc["Female", "share"] == pytest.approx(counts["Female"] / counts.sum())
    with pytest.raises(ValueError, match="not a group"):
        group_metrics(compas_ev, groups, thresholds={"female": 0.4})
    with pytest.raises(ValueError, match="a probability"):
        group_metrics(compas_ev, groups, thresholds={"Female": 1.5})
    with pytest.raises(ValueError, match="not a column"):
        make_groups(compas_ev, ["gender"])
    with pytest.raises(ValueError, match="not a group"):
        disparities(compas_ev, groups, reference="nobody")


@pytest.mark.parametrize("filtered", ["", "age > 30"])
def test_per_group_thresholds_equal_metricframe(
    compas_ev: es.Evaluation, compas_data: Data, filtered: str
) -> None:
    """What-if thresholds are counted (rows at or above each group's threshold) on every engine."""
    groups = make_groups(compas_ev, ["race"])
    thresholds = {"African-American": 0.65, "Caucasian": 0.35, "Hispanic": 0.45}
    ours = group_metrics(compas_ev, groups, where(compas_ev, filtered), n_boot=0, thresholds=thresholds)
    race = compas_data.frame["race"].to_numpy()
    cut = np.array([thresholds.get(r, 0.5) for r in race])
    moved = Data(compas_data.frame, {}, compas_data.y, compas_data.score >= cut, compas_data.score)
    expected = fairlearn_frame(moved, ["race"], kept(compas_data, filtered)).by_group
    for _, row in ours[ours["count"] > 0].iterrows():
        for name in METRICS:
            np.testing.assert_allclose(
                row[name], expected.loc[row["group"], name], atol=1e-9, err_msg=f"{row['group']} {name}"
            )
    assert compas_ev.threshold == 0.5  # nothing in the Evaluation changed


def test_predictions_at_thresholds_per_row(compas_data: Data) -> None:
    """The per-row what-if predictions (numpy engine: they are an array of the rows)."""
    ev = es.Evaluation(compas_data.frame, **compas_data.arguments)
    groups = make_groups(ev, ["sex"])
    what_if = predictions_at_thresholds(ev, groups, {"Female": 0.9})
    female = (compas_data.frame["sex"] == "Female").to_numpy()
    assert not what_if[female & (compas_data.score < 0.9)].any()
    assert (what_if[~female] == compas_data.p[~female]).all()
    counts = group_metrics(ev, groups, predictions=what_if, n_boot=0)
    np.testing.assert_array_equal(
        counts["selection_rate"],
        group_metrics(ev, groups, thresholds={"Female": 0.9}, n_boot=0)["selection_rate"],
    )
    assert ev.threshold == 0.5
    with pytest.raises(ValueError, match="not a group"):
        predictions_at_thresholds(ev, groups, {"female": 0.4})


def test_percentile_interval_equals_numpy_nanpercentile() -> None:
    rng = np.random.default_rng(5)
    samples = rng.normal(size=(200, 3, 7))
    samples[rng.random(samples.shape) < 0.2] = np.nan
    samples[:, 1, 2] = np.nan  # a group without rows in any resample
    samples[:-1, 2, 4] = np.nan  # one resample only
    low, high = _percentile_interval(samples)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        assert_allclose(low, np.nanpercentile(samples, 2.5, axis=0), equal_nan=True)
        assert_allclose(high, np.nanpercentile(samples, 97.5, axis=0), equal_nan=True)
