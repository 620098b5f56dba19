"""SliceBrowser's models tab on every engine: two models on each slice (pandas), McNemar per slice
(statsmodels), Benjamini-Hochberg (statsmodels), a regression's paired t-test (scipy), the p-values withheld
on rows chosen by the predictions, and discovery of a planted slice where B is worse (held-out tests
against statsmodels and scipy); bad arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import traitlets
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

import errorscope as es
from errorscope.discovery import discover_slices, split_rows
from errorscope.model_slices import mcnemar_two_sided, model_slice_table, paired_t_p_values

POSITIVE = ">50K"
CATEGORIES = ("sex", "race", "relationship")


@pytest.fixture
def adult2(on_engine, adult_two_models):  # type: ignore[no-untyped-def]
    frame = adult_two_models
    ev = on_engine(
        "adult2s", frame, y_true="income", sensitive="sex",
        y_score={"baseline": "p_baseline", "candidate": "p_candidate"},
    )  # fmt: skip
    return ev, frame


def wrong(frame: pd.DataFrame, model: str) -> np.ndarray:
    return np.where(frame[f"p_{model}"] >= 0.5, POSITIVE, "<=50K") != frame["income"].to_numpy()


def check_classification(table: pd.DataFrame, rows: pd.DataFrame) -> None:
    """Each categorical slice of ``table`` against the pandas groupby of ``rows`` and statsmodels."""
    wa, wb = wrong(rows, "baseline"), wrong(rows, "candidate")
    checked = 0
    for column in CATEGORIES:
        groups = pd.DataFrame({"g": rows[column].astype(str), "wa": wa, "wb": wb}).groupby("g")
        ours = table[table["feature"] == column].set_index("slice")
        for value, group in groups:
            if value not in ours.index:
                continue
            got = ours.loc[value]
            assert got["rows"] == len(group)
            assert got["a"] == pytest.approx(group["wa"].mean(), abs=1e-12)
            assert got["b"] == pytest.approx(group["wb"].mean(), abs=1e-12)
            assert got["diff"] == pytest.approx(group["wb"].mean() - group["wa"].mean(), abs=1e-12)
            assert got["only_a_right"] == int((~group["wa"] & group["wb"]).sum())
            right = pd.crosstab(~group["wa"], ~group["wb"]).reindex(
                index=[True, False], columns=[True, False], fill_value=0
            )
            assert got["p_value"] == pytest.approx(mcnemar(right, exact=True).pvalue, rel=1e-9)
            checked += 1
    assert checked >= 8
    tested = table["tested"].to_numpy()
    assert tested.sum() > 10 and not tested.all()  # the predicted class's slices are not tested
    assert table.loc[~tested, "p_value"].isna().all()
    oracle = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(table.loc[tested, "q"], oracle, rtol=1e-12)


def test_each_slice_compares_the_models_as_the_oracles_do(adult2):  # type: ignore[no-untyped-def]
    ev, frame = adult2
    sb = es.SliceBrowser(ev, discover=False)
    group = es.GroupComparer(ev, groups="race")
    try:
        assert (sb.model_a, sb.model_b) == ("baseline", "candidate")
        assert sb.models == ["baseline", "candidate"]
        check_classification(sb.model_table, frame)
        assert sb.model_note == ""
        white = group.table["group"].tolist().index("White")
        group.select_groups([white])  # a group of a column: the tests still apply
        check_classification(sb.model_table, frame[frame["race"] == "White"])
        table = sb.model_table
        worse = table["diff"].gt(0) & table["q"].lt(0.05)
        assert worse.to_numpy()[: worse.sum()].all()  # B significantly worse first, by difference
        assert table.loc[worse, "diff"].is_monotonic_decreasing
        assert set(table["key"]) <= set(sb.table["key"])
        key = int(table["key"].iloc[0])
        sb.select_slice(key)  # the Slices tab's predicate
        predicate = table["predicate"].iloc[0]
        assert sb.clause is not None and sb.clause.terms == ((predicate,),)
        assert key in sb.selected_slices
        group.clear()
        sb.compare_models("candidate", "baseline")
        swapped = sb.model_table.set_index("key")
        assert (sb.model_a, sb.model_b) == ("candidate", "baseline")
        before = model_slice_table(ev, "baseline", "candidate").set_index("key")
        np.testing.assert_allclose(swapped.loc[before.index, "diff"], -before["diff"], atol=1e-12)
    finally:
        sb.close()
        group.close()


def test_p_values_are_withheld_on_rows_chosen_by_the_predictions(adult2):  # type: ignore[no-untyped-def]
    ev, _frame = adult2
    sb = es.SliceBrowser(ev, tab="models", discover=False)  # shown: recomputed on every change
    mc = es.ModelComparer(ev, n_boot=200)
    try:
        mc.select_cells(["only_a_right"])
        assert sb.model_note.startswith("No p-values: the rows are chosen by predicted[baseline] == actual")
        table = sb.model_table
        assert table["p_value"].isna().all() and table["q"].isna().all() and not table["tested"].any()
        assert table["diff"].notna().all()
        assert np.isnan(np.frombuffer(sb.model_slices["q"], dtype=np.float64)).all()
        mc.clear()
        assert sb.model_note == "" and sb.model_table["tested"].any()
    finally:
        sb.close()
        mc.close()


def test_a_regressions_slices_take_the_paired_t_test(on_engine, wage_two_models):  # type: ignore[no-untyped-def]
    frame = wage_two_models
    ev = on_engine(
        "wage2s", frame, y_true="wage", y_pred={"gbm": "pred", "linear": "pred_linear"}, sensitive="race"
    )
    sb = es.SliceBrowser(ev, discover=False)
    try:
        table = sb.model_table
        assert list(table.columns[:7]) == ["feature", "group", "slice", "rows", "a", "b", "diff"]
        y = frame["wage"].to_numpy()
        ea, eb = np.abs(frame["pred"].to_numpy() - y), np.abs(frame["pred_linear"].to_numpy() - y)
        checked = 0
        for column in ("race", "education", "jobclass"):
            ours = table[table["feature"] == column].set_index("slice")
            for value, index in frame.groupby(frame[column].astype(str)).indices.items():
                if value not in ours.index:
                    continue
                got = ours.loc[value]
                assert got["a"] == pytest.approx(ea[index].mean(), rel=1e-9)
                assert got["b"] == pytest.approx(eb[index].mean(), rel=1e-9)
                assert got["diff"] == pytest.approx((eb[index] - ea[index]).mean(), rel=1e-9, abs=1e-12)
                assert got["p_value"] == pytest.approx(stats.ttest_rel(eb[index], ea[index]).pvalue, rel=1e-7)
                checked += 1
        assert checked >= 8
        tested = table["tested"].to_numpy()
        assert not table.loc[table["feature"].isin(["predicted", "residual"]), "tested"].any()
        oracle = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
        np.testing.assert_allclose(table.loc[tested, "q"], oracle, rtol=1e-12)
    finally:
        sb.close()


def test_vectorised_tests_equal_the_scalar_ones() -> None:
    from errorscope.model_comparison import mcnemar_exact, paired_mean_difference

    b, c = np.array([0, 3, 10, 40, 7]), np.array([0, 9, 10, 2, 0])
    np.testing.assert_allclose(
        mcnemar_two_sided(b, c), [mcnemar_exact(x, y) for x, y in zip(b, c, strict=True)], rtol=1e-12
    )
    n, s, q = (
        np.array([0, 1, 5, 5, 30]),
        np.array([0.0, 2.0, 0.0, 5.0, 3.0]),
        np.array([0.0, 4.0, 0.0, 5.0, 40.0]),
    )
    scalar = [paired_mean_difference(int(k), x, y)[3] for k, x, y in zip(n, s, q, strict=True)]
    np.testing.assert_allclose(paired_t_p_values(n, s, q), scalar, rtol=1e-12)


def planted_frame(seed: int = 0, n: int = 6000) -> pd.DataFrame:
    """Labels independent of the features; model A wrong on 15% of rows anywhere, model B on 12%, except
    on ``age > 60 and sex == 'Female'`` where B is wrong on 60%."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(18, 90, n), "sex": rng.choice(["Male", "Female"], n),
        "x": rng.normal(size=n), "city": rng.choice(list("abcde"), n),
    })  # fmt: skip
    y = rng.integers(0, 2, n)
    a_wrong = rng.random(n) < 0.15
    planted = ((frame["age"] > 60) & (frame["sex"] == "Female")).to_numpy()
    b_wrong = np.where(planted, rng.random(n) < 0.6, rng.random(n) < 0.12)
    return frame.assign(y=y, pa=np.where(a_wrong, 1 - y, y), pb=np.where(b_wrong, 1 - y, y))


def test_discovery_finds_the_planted_slice_where_b_is_worse(on_engine):  # type: ignore[no-untyped-def]
    frame = planted_frame()
    ev = on_engine("planted2", frame, y_true="y", y_pred={"old": "pa", "new": "pb"})
    sb = es.SliceBrowser(ev, bins={"age": [30, 45, 61]}, discover=False)
    try:
        sb.discover_regressions(block=True)
        found = sb.regression_slices
        assert sb.regressions_status == "done" and len(found) >= 1
        top = found.iloc[0]
        assert top["slice"] == "age ≥ 61, sex = Female"
        inside = ((frame["age"] > 60) & (frame["sex"] == "Female")).to_numpy()
        b_worse = (frame["pb"] != frame["y"]).to_numpy() & (frame["pa"] == frame["y"]).to_numpy()
        b_better = (frame["pa"] != frame["y"]).to_numpy() & (frame["pb"] == frame["y"]).to_numpy()
        assert top["size"] == inside.sum() and top["b_worse"] == (b_worse & inside).sum()
        held = split_rows(np.arange(len(frame)), 0.5, 0)
        assert top["holdout_size"] == (held & inside).sum()
        assert top["holdout_b_worse"] == (held & inside & b_worse).sum()
        assert top["holdout_b_better"] == (held & inside & b_better).sum()
        worse, better = int(top["holdout_b_worse"]), int(top["holdout_b_better"])
        oracle = stats.binomtest(worse, worse + better, 0.5, alternative="greater").pvalue
        assert top["p_b_worse"] == pytest.approx(oracle, rel=1e-9)
        z_p = proportions_ztest(
            [(held & inside & b_worse).sum(), (held & ~inside & b_worse).sum()],
            [(held & inside).sum(), (held & ~inside).sum()], alternative="larger",
        )[1]  # fmt: skip
        assert top["p_value"] == pytest.approx(z_p, rel=1e-6)
        np.testing.assert_allclose(
            found["q_b_worse"], multipletests(found["p_b_worse"], method="fdr_bh")[1], rtol=1e-12
        )
        assert top["q_b_worse"] < 1e-10
        sb.select_regression(0)
        assert ev.engine.n_kept(ev.selection.filter()) == inside.sum()
        assert sb.selected_regressions == [0]
        assert sb.regressions["slice"][0] == "age ≥ 61, sex = Female"
        sb.compare_models("new", "old")  # another pair: found again on request
        assert sb.regression_slices.empty and sb.regressions_status == "idle"
    finally:
        sb.close()


def test_discovery_of_a_regressions_worse_slice() -> None:
    rng = np.random.default_rng(1)
    n = 4000
    frame = pd.DataFrame({"g": rng.choice(list("abcd"), n), "h": rng.choice(list("xyz"), n)})
    y = rng.normal(size=n) * 10
    noise_a, noise_b = rng.normal(size=n), rng.normal(size=n)
    planted = (frame["g"] == "c").to_numpy()
    frame = frame.assign(y=y, pa=y + noise_a, pb=y + np.where(planted, 4 * noise_b, noise_b))
    ev = es.Evaluation(frame, y_true="y", y_pred={"a": "pa", "b": "pb"})
    found = discover_slices(ev, compare=("a", "b"))
    assert found["slice"].iloc[0] == "g = c"
    larger = np.abs(frame["pb"] - y) > np.abs(frame["pa"] - y)
    assert found["errors"].iloc[0] == int((larger & planted).sum())
    table = model_slice_table(ev, "a", "b")
    assert table["description"].iloc[0] == "g = c" and table["q"].iloc[0] < 1e-10


def test_bad_arguments_are_clear_errors(adult_two_models) -> None:  # type: ignore[no-untyped-def]
    one = es.Evaluation(adult_two_models, "income", y_score="p_baseline")
    sb = es.SliceBrowser(one, discover=False)
    try:
        assert sb.model_table.empty and sb.models == []
        with pytest.raises(ValueError, match=r"discover_regressions compares two models"):
            sb.discover_regressions()
        with pytest.raises(traitlets.TraitError, match=r"tab='models' compares two or more models"):
            sb.tab = "models"
    finally:
        sb.close()
    with pytest.raises(ValueError, match=r"tab='models' compares two or more models"):
        es.SliceBrowser(one, tab="models", discover=False)
    two = es.Evaluation(adult_two_models, "income", y_score={"a": "p_baseline", "b": "p_candidate"})
    with pytest.raises(ValueError, match=r"b='c' is not a model of this Evaluation"):
        es.SliceBrowser(two, model_b="c", discover=False)
    sb = es.SliceBrowser(two, discover=False)
    try:
        with pytest.raises(ValueError, match=r"a and b are both 'a'"):
            sb.compare_models("a", "a")
        with pytest.raises(ValueError, match=r"regression slice 0 does not exist"):
            sb.select_regression(0)
    finally:
        sb.close()
    with pytest.raises(ValueError, match=r"compare names 'a' twice"):
        discover_slices(two, compare=("a", "a"))
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        model_slice_table(two, "a", "b", alpha=2)
