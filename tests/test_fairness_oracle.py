"""Group metrics and disparities against Fairlearn's MetricFrame and summaries, on Adult and COMPAS."""

from __future__ import annotations

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
from errorscope.fairness import (
    _percentile_interval,
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


@pytest.fixture(scope="module")
def adult_ev(adult_test, adult_model) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return es.Evaluation(adult_test, "income", model=adult_model, sensitive=["sex", "race"])


@pytest.fixture(scope="module")
def compas_ev() -> es.Evaluation:
    df = es.datasets.load_compas()[["sex", "race", "age", "decile_score", "two_year_recid"]]
    return es.Evaluation(
        df, "two_year_recid", y_score=(df["decile_score"].to_numpy() - 0.5) / 10, sensitive=["race", "sex"]
    )


def fairlearn_frame(ev: es.Evaluation, columns: list[str], mask: np.ndarray) -> MetricFrame:
    y = (ev.true_codes == 1)[mask].astype(int)
    p = (ev.pred_codes == 1)[mask].astype(int)
    sensitive = ev.data.loc[mask, columns].astype(str).reset_index(drop=True)
    return MetricFrame(metrics=METRICS, y_true=y, y_pred=p, sensitive_features=sensitive)


CASES = [
    ("adult_ev", ["sex"]),
    ("adult_ev", ["race"]),
    ("adult_ev", ["sex", "race"]),
    ("compas_ev", ["race"]),
]


@pytest.mark.parametrize(("fixture", "columns"), CASES)
@pytest.mark.parametrize("filtered", ["", "age > 30", "age <= 30"])  # all, over half, under half
def test_group_metrics_equal_metricframe(
    request: pytest.FixtureRequest, fixture: str, columns: list[str], filtered: str
) -> None:
    ev = request.getfixturevalue(fixture)
    mask = ev.data.eval(filtered).to_numpy() if filtered else np.ones(ev.n_rows, dtype=bool)
    groups = make_groups(ev, columns)
    ours = group_metrics(ev, groups, mask if filtered else None, n_boot=0)
    expected = fairlearn_frame(ev, columns, mask).by_group
    ours = ours[ours["count"] > 0]
    assert len(ours) == len(expected)
    for _, row in ours.iterrows():
        key = tuple(p.values[0] for p in row["term"])
        theirs = expected.loc[key if len(key) > 1 else key[0]]
        for name in METRICS:
            np.testing.assert_allclose(row[name], theirs[name], atol=1e-9, err_msg=f"{row['group']} {name}")


@pytest.mark.parametrize(("fixture", "columns"), CASES)
def test_summaries_equal_fairlearn(request: pytest.FixtureRequest, fixture: str, columns: list[str]) -> None:
    ev = request.getfixturevalue(fixture)
    y, p = (ev.true_codes == 1).astype(int), (ev.pred_codes == 1).astype(int)
    sensitive = ev.data[columns].astype(str)
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


def test_disparities_to_reference_equal_metricframe_differences(compas_ev: es.Evaluation) -> None:
    groups = make_groups(compas_ev, ["race"])
    table = disparities(compas_ev, groups, n_boot=0)
    frame = fairlearn_frame(compas_ev, ["race"], np.ones(compas_ev.n_rows, dtype=bool)).by_group
    ref = table.loc[table["reference"], "group"].iloc[0]
    assert ref == compas_ev.data["race"].value_counts().idxmax()
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


def test_ece_reliability_and_score_distributions(compas_ev: es.Evaluation) -> None:
    groups = make_groups(compas_ev, ["race"])
    table = group_metrics(compas_ev, groups, n_boot=50)
    score = compas_ev.scores[:, 1]
    y = compas_ev.true_codes == 1
    for _, row in table.iterrows():
        rows = compas_ev.engine.predicate_mask(row["term"][0])
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
    assert hist.sum() == compas_ev.n_rows and len(edges) == hist.shape[1] + 1
    black = quantiles.set_index("group").loc["African-American"]
    assert black["median"] == pytest.approx(
        np.median(score[(compas_ev.data["race"] == "African-American").to_numpy()])
    )


def test_representation_thresholds_and_errors(compas_ev: es.Evaluation) -> None:
    from scipy.stats import chisquare

    groups = make_groups(compas_ev, ["sex"])
    table, p = representation(compas_ev, groups, {"Female": 0.5, "Male": 0.5})
    counts = compas_ev.data["sex"].value_counts()
    assert p == pytest.approx(chisquare(counts.sort_index().to_numpy()).pvalue)
    assert table.set_index("group").loc["Female", "share"] == pytest.approx(counts["Female"] / counts.sum())
    what_if = predictions_at_thresholds(compas_ev, groups, {"Female": 0.9})
    female = (compas_ev.data["sex"] == "Female").to_numpy()
    assert not what_if[female & (compas_ev.scores[:, 1] < 0.9)].any()
    assert (what_if[~female] == (compas_ev.pred_codes[~female] == 1)).all()
    assert compas_ev.threshold == 0.5  # nothing in the Evaluation changed
    with pytest.raises(ValueError, match="not a group"):
        predictions_at_thresholds(compas_ev, groups, {"female": 0.4})
    with pytest.raises(ValueError, match="not a column"):
        make_groups(compas_ev, ["gender"])
    with pytest.raises(ValueError, match="not a group"):
        disparities(compas_ev, groups, reference="nobody")


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
