"""GroupComparer with several models on every engine: each model's metrics and disparities per group
against Fairlearn's MetricFrame (and its demographic parity / equalized odds differences) on that model's
predictions, under the crossfilter; the trade-off's points; a regression's per-model group MAE, RMSE and
mean residual against scikit-learn per group; one model shows none of it; bad arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
)
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    recall_score,
    root_mean_squared_error,
)

import errorscope as es

POSITIVE = ">50K"
MODELS = ("baseline", "candidate", "coin")
RATES = {
    "count": count,
    "selection_rate": selection_rate,
    "accuracy": accuracy_score,
    "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
    "recall": lambda y, p: recall_score(y, p, zero_division=np.nan),
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "f1": lambda y, p: f1_score(y, p, zero_division=np.nan),
}


@pytest.fixture
def three(on_engine, adult_two_models):  # type: ignore[no-untyped-def]
    frame = adult_two_models.assign(p_coin=np.random.default_rng(0).random(len(adult_two_models)))
    ev = on_engine(
        "adult3g", frame, y_true="income", sensitive="sex",
        y_score={m: f"p_{m}" for m in MODELS},
    )  # fmt: skip
    return ev, frame


def predicted(frame: pd.DataFrame, model: str) -> np.ndarray:
    return (frame[f"p_{model}"] >= 0.5).to_numpy()


def check_models(gc: es.GroupComparer, rows: pd.DataFrame, active: str) -> None:
    """Every model's per-group rates, disparities and trade-off point against Fairlearn on ``rows`` (where
    the baseline is always right, its false positive rate is 0 and its precision 1)."""
    y = (rows["income"] == POSITIVE).to_numpy()
    sex = rows["sex"].to_numpy()
    table = gc.model_table.set_index(["model", "group"])
    trade = gc.tradeoff_table.set_index("model")
    assert list(trade.index) == list(MODELS) and trade["active"].tolist() == [m == active for m in MODELS]
    for model in MODELS:
        p = predicted(rows, model)
        frame = MetricFrame(metrics=RATES, y_true=y, y_pred=p, sensitive_features=sex)
        for group, want in frame.by_group.iterrows():
            got = table.loc[(model, group)]
            for metric, value in want.items():
                assert got[metric] == pytest.approx(value, abs=1e-12), (model, group, metric)
            for metric in RATES:
                if metric != "count":
                    assert got[f"{metric}_low"] <= got[metric] <= got[f"{metric}_high"], (model, metric)
            score = rows.loc[rows["sex"] == group, f"p_{model}"]
            assert got["mean_score"] == pytest.approx(score.mean(), rel=1e-9)
        # disparities against the reference (the largest group on all rows: Male)
        ref = table.loc[model].index[table.loc[model, "reference"].to_numpy()][0]
        assert ref == "Male"
        sel, tpr = frame.by_group["selection_rate"], frame.by_group["recall"]
        fpr = frame.by_group["fpr"]
        for group in frame.by_group.index:
            got = table.loc[(model, group)]
            assert got["demographic_parity_difference"] == pytest.approx(sel[group] - sel[ref], abs=1e-12)
            assert got["disparate_impact"] == pytest.approx(sel[group] / sel[ref], rel=1e-12)
            assert got["equal_opportunity_difference"] == pytest.approx(tpr[group] - tpr[ref], abs=1e-12)
            odds = max(abs(tpr[group] - tpr[ref]), abs(fpr[group] - fpr[ref]))
            assert got["equalized_odds_difference"] == pytest.approx(odds, abs=1e-12)
        # the trade-off's point: the overall metric against the largest disparity, as Fairlearn has them
        point = trade.loc[model]
        assert point["metric"] == "accuracy" and point["value"] == pytest.approx(
            accuracy_score(y, p), abs=1e-12
        )
        oracle = {
            "demographic_parity_difference": demographic_parity_difference,
            "equalized_odds_difference": equalized_odds_difference,
        }[point["disparity_metric"]]
        assert point["disparity"] == pytest.approx(oracle(y, p, sensitive_features=sex), abs=1e-12)


def test_every_models_groups_and_tradeoff_match_fairlearn(three):  # type: ignore[no-untyped-def]
    ev, frame = three
    gc = es.GroupComparer(ev, groups="sex", n_boot=100)
    matrix = es.ConfusionMatrix(ev)
    try:
        check_models(gc, frame, "baseline")
        # the active model's rows are the view's own table's (same counts, same resamples)
        own = gc.table.set_index("group")
        active = gc.model_table.query("model == 'baseline'").set_index("group")
        for column in ("count", "accuracy", "accuracy_low", "accuracy_high", "recall_high", "mean_score_low"):
            assert active[column].to_numpy() == pytest.approx(
                own.loc[active.index, column].to_numpy(), abs=1e-12
            )
        # the crossfilter: the other views' selection (a matrix cell of the active model) is every model's rows
        matrix.select_cells(cells=[(0, 0), (1, 1)])  # the rows the active model (the baseline) gets right
        kept = frame[(frame["income"] == POSITIVE) == predicted(frame, "baseline")]
        gc.disparity_metric = "equalized_odds_difference"
        check_models(gc, kept, "baseline")
        matrix.clear()
        ev.active_model = "candidate"  # a point's click does this: the chart marks it, the view follows
        check_models(gc, frame, "candidate")
        assert gc.tradeoff["points"][1]["active"] and gc.table["accuracy"].to_numpy() == pytest.approx(
            gc.model_table.query("model == 'candidate'")["accuracy"].to_numpy(), abs=1e-12
        )
    finally:
        ev.active_model = "baseline"
        gc.close()
        matrix.close()


def test_the_views_metric_is_the_tradeoffs_when_it_rates_a_model(three):  # type: ignore[no-untyped-def]
    ev, frame = three
    gc = es.GroupComparer(ev, groups="sex", n_boot=0, metric="recall", reference="Female")
    try:
        y = (frame["income"] == POSITIVE).to_numpy()
        trade = gc.tradeoff_table.set_index("model")
        for model in MODELS:
            p = predicted(frame, model)
            assert trade.loc[model, "metric"] == "recall"
            assert trade.loc[model, "value"] == pytest.approx(recall_score(y, p), abs=1e-12)
            female = gc.model_table.query("model == @model and group == 'Female'")
            assert bool(female["reference"].iloc[0]) and female["demographic_parity_difference"].iloc[0] == 0
        lines = gc.summary().splitlines()
        assert "  models, recall against the largest demographic parity difference:" in lines
        coin = trade.loc["coin"]
        assert f"    coin: {coin['value']:.3f}, {coin['disparity']:.3f}" in lines
        gc.metric = "selection_rate"  # not a model's quality: the trade-off plots accuracy
        assert gc.tradeoff["metric"] == "accuracy" and set(gc.tradeoff_table["metric"]) == {"accuracy"}
        payload = gc.model_groups
        assert [c["model"] for c in payload["models"]] == list(MODELS)
        values = np.frombuffer(payload["models"][2]["value"], dtype="<f8")
        want = gc.model_table.query("model == 'coin'")["selection_rate"].to_numpy()
        assert values == pytest.approx(want, abs=1e-15)
    finally:
        gc.close()


def check_regression(gc: es.GroupComparer, frame: pd.DataFrame, active: str) -> None:
    """Each model's group MAE, RMSE, mean residual and MAE gap against scikit-learn per group."""
    table = gc.model_table.set_index(["model", "group"])
    trade = gc.tradeoff_table.set_index("model")
    assert trade.index.tolist() == ["gbm", "linear"]
    assert trade["active"].tolist() == [active == "gbm", active == "linear"]
    y = frame["wage"].to_numpy()
    for model, column in (("gbm", "pred"), ("linear", "pred_linear")):
        mae = {}
        for group, rows in frame.groupby("race", observed=True):
            got = table.loc[(model, group)]
            yt, yp = rows["wage"].to_numpy(), rows[column].to_numpy()
            mae[group] = mean_absolute_error(yt, yp)
            assert got["count"] == len(rows)
            assert got["mae"] == pytest.approx(mae[group], rel=1e-9)
            assert got["rmse"] == pytest.approx(root_mean_squared_error(yt, yp), rel=1e-9)
            assert got["mean_error"] == pytest.approx(np.mean(yp - yt), rel=1e-9, abs=1e-9)
            assert got["mae_low"] < got["mae"] < got["mae_high"]
        ref = table.loc[model].index[table.loc[model, "reference"].to_numpy()][0]
        assert ref == frame["race"].value_counts().idxmax()
        for group in mae:
            assert table.loc[(model, group), "mae_difference"] == pytest.approx(
                mae[group] - mae[ref], rel=1e-9, abs=1e-9
            )
        assert trade.loc[model, "metric"] == "mae" and trade.loc[model, "disparity_metric"] == "mae_range"
        assert trade.loc[model, "value"] == pytest.approx(mean_absolute_error(y, frame[column]), rel=1e-9)
        assert trade.loc[model, "disparity"] == pytest.approx(max(mae.values()) - min(mae.values()), rel=1e-9)


def test_a_regressions_models_by_group(on_engine, wage_two_models):  # type: ignore[no-untyped-def]
    frame = wage_two_models
    ev = on_engine(
        "wage2g", frame, y_true="wage", y_pred={"gbm": "pred", "linear": "pred_linear"}, sensitive="race"
    )
    gc = es.GroupComparer(ev, groups="race")
    try:
        check_regression(gc, frame, "gbm")
        ev.active_model = "linear"  # every model's numbers stay its own
        check_regression(gc, frame, "linear")
        gc.metric = "rmse"
        assert gc.tradeoff_table.set_index("model").loc["linear", "value"] == pytest.approx(
            root_mean_squared_error(frame["wage"], frame["pred_linear"]), rel=1e-9
        )
    finally:
        ev.active_model = "gbm"
        gc.close()


def test_one_model_has_no_model_dimension_and_bad_names_are_clear(adult_two_models):  # type: ignore[no-untyped-def]
    one = es.Evaluation(adult_two_models, "income", y_score="p_baseline", sensitive="sex")
    gc = es.GroupComparer(one)
    assert gc.model_table.empty and gc.tradeoff_table.empty and gc.tradeoff == {} and gc.model_groups == {}
    gc.close()
    two = es.Evaluation(
        adult_two_models, "income", y_score={"a": "p_baseline", "b": "p_candidate"}, sensitive="sex"
    )
    with pytest.raises(ValueError, match=r"disparity_metric='mae_range': on a classification choose one of"):
        es.GroupComparer(two, disparity_metric="mae_range")
    gc = es.GroupComparer(two, n_boot=0)
    with pytest.raises(ValueError, match=r"disparity_metric='parity'"):
        gc.disparity_metric = "parity"
    assert gc.disparity_metric == "demographic_parity_difference"
    gc.close()
