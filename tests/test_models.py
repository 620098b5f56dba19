"""Several models on one Evaluation, on every engine: each model's counts and the rows a query naming a
model selects (against pandas), the active model switching every view (against scikit-learn), a
regression's paired keys and measures (against numpy), and the errors of bad arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix

import errorscope as es
from errorscope.plans import ALL_ROWS, GroupCounts, Key, Measure
from errorscope.query import parse

POSITIVE = ">50K"


@pytest.fixture
def two(on_engine, adult_two_models):  # type: ignore[no-untyped-def]
    return on_engine(
        "adult2", adult_two_models, y_true="income",
        y_score={"baseline": "p_baseline", "candidate": "p_candidate"},
    )  # fmt: skip


def predicted(frame: pd.DataFrame, model: str, threshold: float = 0.5) -> np.ndarray:
    return np.where(frame[f"p_{model}"] >= threshold, POSITIVE, "<=50K")


def test_each_model_counted_on_the_same_rows(two, adult_two_models):  # type: ignore[no-untyped-def]
    assert two.models == ["baseline", "candidate"] and two.active_model == "baseline"
    assert "p_candidate" not in two.features  # another model's scores are a role, not a feature
    plan = GroupCounts((Key.actual(), Key.predicted(model="baseline"), Key.predicted(model="candidate")))
    got = two.engine.count(plan, ALL_ROWS).counts
    frame = adult_two_models
    expected = pd.crosstab(
        [frame["income"], predicted(frame, "baseline")], predicted(frame, "candidate"), dropna=False
    ).reindex(
        index=pd.MultiIndex.from_product([["<=50K", POSITIVE]] * 2), columns=["<=50K", POSITIVE], fill_value=0
    )
    np.testing.assert_array_equal(got.reshape(4, 2), expected.to_numpy())
    wrong = two.engine.count(GroupCounts((Key.outcome(None, model="candidate"),)), ALL_ROWS).counts
    assert wrong[1] == (predicted(frame, "candidate") != frame["income"]).sum()
    two.select("predicted[baseline] != predicted[candidate]")
    rows = two.selected()  # each model's predictions as a column
    disagree = predicted(frame, "baseline") != predicted(frame, "candidate")
    for model in ("baseline", "candidate"):
        assert rows[f"predicted[{model}]"].tolist() == predicted(frame, model)[disagree].tolist()


@pytest.mark.parametrize(
    ("query", "oracle"),
    [
        ("predicted[candidate] != actual", lambda f, b, c: c != f["income"]),
        (
            "predicted[baseline] == actual and predicted[candidate] != actual",
            lambda f, b, c: (b == f["income"]) & (c != f["income"]),
        ),
        ("predicted[baseline] != predicted[candidate]", lambda f, b, c: b != c),
        ("predicted['candidate'] == '>50K' and age > 40", lambda f, b, c: (c == POSITIVE) & (f["age"] > 40)),
        (
            "predicted[candidate] in ['<=50K'] or predicted == actual",
            lambda f, b, c: (c == "<=50K") | (b == f["income"]),
        ),
    ],
)
def test_a_query_naming_a_model_selects_its_rows(two, adult_two_models, query, oracle):  # type: ignore[no-untyped-def]
    frame = adult_two_models
    expected = oracle(frame, predicted(frame, "baseline"), predicted(frame, "candidate"))
    two.select(query)
    assert two.engine.n_kept(two.selection.filter()) == int(np.sum(expected))
    clause = two.selection.clause("code")
    assert parse(clause.text, "code", two.query_name, two.model_query_name) == clause  # text reads back


def test_the_active_model_moves_every_view(two, adult_two_models):  # type: ignore[no-untyped-def]
    frame = adult_two_models
    matrix = es.ConfusionMatrix(two)
    try:
        for model in ("candidate", "baseline", "candidate"):
            two.active_model = model
            expected = confusion_matrix(frame["income"], predicted(frame, model), labels=["<=50K", POSITIVE])
            assert matrix.table["count"].tolist() == expected.ravel().tolist()
            assert matrix.active_model == model and matrix.models == ["baseline", "candidate"]
        two.select("predicted != actual")  # the active model's errors
        assert two.engine.n_kept(two.selection.filter()) == int(
            (predicted(frame, "candidate") != frame["income"]).sum()
        )
        two.threshold = 0.3  # every model predicting from its scores follows
        got = two.engine.count(GroupCounts((Key.predicted(model="baseline"),)), ALL_ROWS).counts
        assert got[1] == (frame["p_baseline"] >= 0.3).sum()
        assert matrix.table["count"].sum() == int(
            (predicted(frame, "candidate", 0.3) != frame["income"]).sum()
        )
    finally:
        two.selection.clear()
        two.threshold = 0.5
        two.active_model = "baseline"
        matrix.close()


@pytest.fixture
def wage2(on_engine, wage_two_models):  # type: ignore[no-untyped-def]
    return on_engine("wage2", wage_two_models, y_true="wage", y_pred={"gbm": "pred", "linear": "pred_linear"})


def test_a_regressions_paired_keys_and_measures(wage2, wage_two_models):  # type: ignore[no-untyped-def]
    frame = wage_two_models
    a, b = (np.abs(frame[c] - frame["wage"]).to_numpy() for c in ("pred", "pred_linear"))
    plan = GroupCounts(
        (Key.better("gbm", "linear"),),
        (Measure("abs_error_diff", model="linear", other="gbm"), Measure("abs_error_diff2", model="linear", other="gbm"),
         Measure("sq_error_diff", model="linear", other="gbm"), Measure("abs_error", model="linear")),
    )  # fmt: skip
    got = wage2.engine.count(plan, ALL_ROWS)
    np.testing.assert_array_equal(got.counts, [(a < b).sum(), (a == b).sum(), (a > b).sum()])
    d, sq = b - a, b**2 - a**2
    np.testing.assert_allclose(got.sums.sum(axis=1), [d.sum(), (d * d).sum(), sq.sum(), b.sum()], rtol=1e-9)
    wage2.select("abs_error[linear] < abs_error[gbm] and residual[linear] > 10")
    expected = (b < a) & (frame["pred_linear"] - frame["wage"] > 10)
    assert wage2.engine.n_kept(wage2.selection.filter()) == int(expected.sum())
    by_race = GroupCounts((Key.column("race"),), (Measure("abs_error"),))  # the active model's errors
    assert wage2.engine.count(by_race, ALL_ROWS).sums.sum() == pytest.approx(a.sum(), rel=1e-9)
    wage2.selection.clear()
    wage2.active_model = "linear"
    try:
        assert wage2.engine.count(by_race, ALL_ROWS).sums.sum() == pytest.approx(b.sum(), rel=1e-9)
        wage2.select("residual > 10")
        assert wage2.engine.n_kept(wage2.selection.filter()) == int(
            (frame["pred_linear"] - frame["wage"] > 10).sum()
        )
    finally:
        wage2.selection.clear()
        wage2.active_model = "gbm"


def test_models_given_as_estimators(adult_test, adult_baseline, adult_model):  # type: ignore[no-untyped-def]
    ev = es.Evaluation(adult_test, "income", models={"baseline": adult_baseline, "candidate": adult_model})
    X = adult_test.drop(columns="income")
    for name, model in (("baseline", adult_baseline), ("candidate", adult_model)):
        codes = ev.engine.pred_codes(name)
        np.testing.assert_array_equal(np.asarray(ev.classes, dtype=object)[codes], model.predict(X))
    ev.active_model = "candidate"
    assert ev.model is adult_model
    single = es.Evaluation(adult_test, "income", model=adult_model)
    assert single.models == ["model"] and single.active_model == "model"


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"models": ["a", "b"]}, r"models= takes a dict of named fitted models"),
        (
            {"y_score": {"a": "p_baseline"}, "models": {"b": None}},
            r"y_score= names \['a'\], which are not in models=",
        ),
        ({"y_score": {"": "p_baseline"}}, r"keyed by model names"),
        ({"y_score": {"a": "p_baseline", "b": "nope"}}, r"model 'b': .*nope"),
        (
            {"y_score": {"a": "p_baseline"}, "y_pred": "income"},
            r"y_pred= is one value but there are several models",
        ),
    ],
)
def test_bad_model_arguments_are_clear_errors(adult_two_models, arguments, named):  # type: ignore[no-untyped-def]
    with pytest.raises((TypeError, ValueError), match=named):
        es.Evaluation(adult_two_models, "income", **arguments)


def test_bad_model_names_are_clear_errors(adult_two_models):  # type: ignore[no-untyped-def]
    ev = es.Evaluation(adult_two_models, "income", y_score={"a": "p_baseline", "b": "p_candidate"})
    with pytest.raises(
        ValueError,
        match=r"predicted\[...\]='c' is not a model of this Evaluation: choose one of \['a', 'b'\]",
    ):
        ev.select("predicted[c] != actual")
    with pytest.raises(ValueError, match=r"only predicted\[...\] names a model"):
        ev.select("age[a] > 3")
    with pytest.raises(ValueError, match=r"active_model='c' is not a model"):
        ev.active_model = "c"
    single = es.Evaluation(adult_two_models, "income", y_score="p_baseline")
    with pytest.raises(ValueError, match=r"is not a model of this Evaluation: choose one of \['model'\]"):
        single.select("predicted[a] != actual")


def test_five_models_and_the_audit_names_the_active_one(adult_two_models, tmp_path):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    frame = adult_two_models.assign(**{f"p{i}": rng.random(len(adult_two_models)) for i in range(3)})
    scores = {
        "baseline": "p_baseline",
        "candidate": "p_candidate",
        **{f"noise{i}": f"p{i}" for i in range(3)},
    }
    ev = es.Evaluation(frame, "income", y_score=scores)
    assert ev.models == list(scores)
    for name, column in scores.items():
        got = ev.engine.count(GroupCounts((Key.predicted(model=name),)), ALL_ROWS).counts
        assert got[1] == int((frame[column] >= 0.5).sum()), name
    tagger = es.ErrorTagger(ev, store=tmp_path / "tags.sqlite")
    first = str(ev.ids[0])
    tagger.tag([first], "mislabeled")
    ev.active_model = "noise2"
    tagger.tag([first], "ambiguous")
    audit = ev.tag_store.audit()
    assert audit.loc[audit["tag"] == "mislabeled", "model"].tolist() == ["baseline"]
    assert audit.loc[audit["tag"] == "ambiguous", "model"].tolist() == ["noise2"]
    tagger.close()
