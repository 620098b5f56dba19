"""Query text is parsed into clauses, never evaluated; selection inputs are aligned; roles never collide."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score

import errorscope as es
from errorscope.query import GRAMMAR, parse
from errorscope.slicing import slice_table

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [23.0, 45.0, 67.0, np.nan, 56.0, 29.0, 71.0, 40.0],
            "sex": ["F", "M", "F", None, "F", "M", "F", "M"],
            "x-box": [1, 5, 3, 7, 2, 8, 4, 6],
            "y": [0, 1, 1, 0, 1, 0, 0, 1],
            "yhat": [0, 1, 0, 0, 1, 1, 0, 1],
            "p1": [0.2, 0.9, 0.3, 0.5, 0.7, 0.6, 0.1, 0.55],
        }
    )


@pytest.fixture
def ev() -> es.Evaluation:
    return es.Evaluation(frame(), "y", y_pred="yhat", y_score="p1")


def rows(ev: es.Evaluation) -> list[int]:
    return np.flatnonzero(ev.selection.mask()).tolist()


# -- nothing in query text is ever evaluated -------------------------------------------------------
@pytest.mark.parametrize(
    "template",
    [
        "age > @os.system('touch {path}')",
        "age.to_csv('{path}')",
        "age > __import__('os').system('touch {path}')",
        "`age`.to_csv('{path}') or age > 0",
        "age > open('{path}', 'w').close()",
    ],
)
def test_query_text_runs_nothing(ev, tmp_path, template):
    path = tmp_path / "pwned"
    text = template.format(path=path)
    with pytest.raises(ValueError, match=r"^select\(.*\nQuery grammar \(parsed, never evaluated\)"):
        ev.select(text)
    assert not path.exists()
    assert len(ev.selection) == 0


def test_no_pandas_eval_or_query(ev, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("query text reached pandas eval/query")

    monkeypatch.setattr(pd, "eval", refuse)
    monkeypatch.setattr(pd.DataFrame, "eval", refuse)
    monkeypatch.setattr(pd.DataFrame, "query", refuse)
    ev.select("age > 60 and sex == 'F' or actual != predicted")
    assert rows(ev) == [2, 5, 6]


# -- the grammar ----------------------------------------------------------------------------------
AGE = frame()["age"].to_numpy()
SEX = frame()["sex"].to_numpy()
BOX = frame()["x-box"].to_numpy()
Y = frame()["y"].to_numpy()
P = frame()["yhat"].to_numpy()
S = frame()["p1"].to_numpy()
with np.errstate(invalid="ignore"):
    CASES = {
        "age > 60": AGE > 60,
        "60 < age": AGE > 60,
        "age >= 45": AGE >= 45,
        "age < 40 or age <= 23": (AGE < 40) | (AGE <= 23),
        "age == 45": AGE == 45,
        "age != 45": ~(AGE == 45),  # missing is kept, as in pandas
        "age > -1.5": AGE > -1.5,
        "sex == 'F'": SEX == "F",
        'sex != "F"': SEX != "F",
        "sex in ['M', 'X']": np.isin(SEX, ["M", "X"]),
        "sex not in ['M']": ~np.isin(SEX, ["M"]),
        "age.isna()": np.isnan(AGE),
        "age.notna() and sex.isna()": ~np.isnan(AGE) & pd.isna(SEX),
        "sex.isnull() or sex.notnull()": np.ones(8, dtype=bool),
        "age.between(40, 56)": (AGE >= 40) & (AGE <= 56),
        "30 <= age < 60": (AGE >= 30) & (AGE < 60),
        "not age > 60": ~(AGE > 60),
        "not (age > 60 or sex == 'M')": ~((AGE > 60) | (SEX == "M")),
        "(age > 30 or sex == 'M') and (actual == 1 or predicted == 0)": ((AGE > 30) | (SEX == "M"))
        & ((Y == 1) | (P == 0)),
        "`x-box` >= 5": BOX >= 5,
        "`age` > 60 and `x-box` < 5": (AGE > 60) & (BOX < 5),
        "actual == 1": Y == 1,
        "actual != predicted": Y != P,
        "actual == predicted": Y == P,
        "predicted in [1]": P == 1,
        "predicted not in [1]": P != 1,
        "score >= 0.55": S >= 0.55,
        "score > p1": np.zeros(8, dtype=bool),
        "age > `x-box`": AGE > BOX,
        'sex == "it\'s"': np.zeros(8, dtype=bool),
    }


@pytest.mark.parametrize(("text", "expected"), list(CASES.items()), ids=list(CASES))
def test_grammar_selects_like_numpy(ev, text, expected):
    ev.select(text)
    np.testing.assert_array_equal(ev.selection.mask(), expected)
    clause = ev.selection.clause("code")
    ev.select(clause.text, source="again")  # the clause's own text round-trips
    np.testing.assert_array_equal(ev.selection.clause_mask("again"), expected)
    assert parse(clause.text, "code", ev.query_name) == clause


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("age > @limit", "`@` variables are not allowed"),
        ("age.values > 3", r"age\.values is not a column name or a value"),
        ("age.abs() > 3", r"the call age\.abs\(\) is not allowed"),
        ("len(sex) > 3", r"the call len\(sex\) is not allowed"),
        ("__class__ == 1", r"the name '__class__' is not allowed"),
        ("age[0] > 1", r"age\[0\] is not a column name or a value"),
        ("age > (lambda: 1)()", r"the call \(lambda: 1\)\(\) is not allowed"),
        ("age > f'{sex}'", r"f'\{sex\}' is not a column name or a value"),
        ("sex in 'FM'", r"`in` needs a list of values, e.g. \[1, 2\], not 'FM'"),
        ("sex in [age]", r"age is not a value"),
        ("age > None", r"None is not a value"),
        ("age is None", r"the operator Is is not allowed"),
        ("age", r"age alone is not a condition"),
        ("age + 1 > 2", r"age \+ 1 is not a column name or a value"),
        ("1 > 0", r"1 > 0 compares no column"),
        ("age.between(1)", r"\.between\(lo, hi\) takes two values"),
        ("age.isna(1)", r"\.isna\(\) takes no arguments"),
        ("age.between(1, 2, inclusive='left')", r"\.between\(\) takes no keyword arguments"),
        ("`age > 3", r"a `backquoted` name is not closed"),
        ("age >", r"not a valid query \(invalid syntax\)"),
        ("agee > 60", r"query name='agee' is not a column of data\. Did you mean 'age'"),
        ("age > 60; import os", r"not a valid query"),
        ("not " * 3000 + "age > 1", r"the query is nested too deeply"),
        ("age > 1 or " * 2000 + "age > 1", r"the query is longer than 20,000 characters"),
    ],
)
def test_bad_query_is_a_clear_error(ev, text, named):
    with pytest.raises(ValueError, match=named) as info:
        ev.select(text)
    assert str(info.value).startswith(f"select({text!r}): ")
    assert len(ev.selection) == 0


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("actual > 0", r"actual \(the actual role\) takes ==, !=, in and not in, not >"),
        ("age > 'old'", r"age > 'old': age holds numbers; compare it with a number"),
        ("tag == actual", r"tag == actual: compare tag with tag names, e\.g\. tag == 'ok'"),
        ("actual == tag", r"actual == tag: tags compare with tag names, not with a column"),
    ],
)
def test_query_a_column_cannot_answer(ev, text, named):
    with pytest.raises(ValueError, match=named):
        ev.select(text)
    assert len(ev.selection) == 0


def test_grammar_is_in_the_error(ev):
    with pytest.raises(ValueError) as info:
        ev.select("age.to_csv('x')")
    assert GRAMMAR in str(info.value)


def test_deep_nesting_is_bounded(ev):
    text = " and ".join(f"(age > {i} or sex == 'F')" for i in range(10))  # 2 ** 10 alternatives
    with pytest.raises(ValueError, match=r"expands to more than 256 alternatives"):
        ev.select(text)


def test_every_slice_text_selects_the_slice(adult):
    adult = adult.copy()
    adult.loc[adult.index[:50], "workclass"] = None
    ev = es.Evaluation(adult, "income", y_pred=np.where(adult["age"] > 40, ">50K", "<=50K"))
    table = slice_table(ev)
    assert {"between", "in", "not in", "isna"} <= {p.op for p in table["predicate"]}
    for predicate, size in zip(table["predicate"], table["size"], strict=True):
        ev.select(es.Clause.where("slice", predicate).text)
        assert int(ev.selection.mask().sum()) == size, predicate.text


# -- property: the parsed clause keeps exactly the rows DataFrame.query keeps -------------------------
@st.composite
def frames_and_queries(draw):
    n = draw(st.integers(1, 25))
    df = pd.DataFrame(
        {
            "a": draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)),
            "b": draw(
                st.lists(st.one_of(st.none(), st.floats(-5, 5, allow_nan=False)), min_size=n, max_size=n)
            ),
            "s": draw(st.lists(st.sampled_from(["x", "y", "z", None]), min_size=n, max_size=n)),
        }
    ).astype({"b": float})
    number = st.one_of(st.integers(-4, 4), st.sampled_from([-1.5, 0.5, 2.25]))
    word = st.sampled_from(["'x'", "'y'", "'w'"])
    op = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    numeric = st.sampled_from(["a", "b"])
    leaf = st.one_of(
        st.builds(lambda c, o, v: f"{c} {o} {v}", numeric, op, number),
        st.builds(lambda v, o, c: f"{v} {o} {c}", number, op, numeric),
        st.builds(lambda o, v: f"s {o} {v}", st.sampled_from(["==", "!=", "<", ">="]), word),
        st.builds(
            lambda c, vs: f"{c} in [{', '.join(map(str, vs))}]",
            numeric,
            st.lists(number, min_size=1, max_size=3),
        ),
        st.builds(lambda vs: f"s not in [{', '.join(vs)}]", st.lists(word, min_size=1, max_size=2)),
        st.builds(
            lambda c, m: f"{c}.{m}()", st.sampled_from(["a", "b", "s"]), st.sampled_from(["isna", "notna"])
        ),
        st.builds(lambda lo, hi: f"b.between({lo}, {hi})", number, number),
        st.builds(lambda lo, hi: f"{lo} <= a < {hi}", number, number),
        st.just("a > b"),
    )
    expr = st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda x, y, k: f"({x}) {k} ({y})", inner, inner, st.sampled_from(["and", "or"])),
            st.builds(lambda x: f"not ({x})", inner),
        ),
        max_leaves=5,
    )
    return df, draw(expr)


@SETTINGS
@given(frames_and_queries())
def test_parsed_clause_keeps_the_rows_dataframe_query_keeps(case):
    df, text = case
    expected = df.index.isin(df.query(text).index)
    data = df.assign(y=np.arange(len(df)) % 2, yhat=0)
    ev = es.Evaluation(data, "y", y_pred="yhat", labels=[0, 1])
    ev.select(text)
    np.testing.assert_array_equal(ev.selection.mask(), expected, err_msg=text)
    ev.select(ev.selection.clause("code").text)  # what is shown, logged and saved selects the same rows
    np.testing.assert_array_equal(ev.selection.mask(), expected, err_msg=ev.selection.clause("code").text)


# -- masks and ids ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, np.float64, np.float32])
def test_zero_one_array_is_ambiguous(ev, dtype):
    marks = (frame()["age"] > 50).to_numpy().astype(dtype)
    with pytest.raises(
        ValueError, match=r"select\(rows\): 8 values of 0 and 1 are ambiguous .*rows\.astype\(bool\)"
    ):
        ev.select(marks)
    with pytest.raises(ValueError, match=r"are ambiguous"):
        ev.select(pd.Series(marks))
    assert len(ev.selection) == 0
    ev.select(marks.astype(bool))
    assert rows(ev) == [2, 4, 6]


def test_ids_and_masks_still_select(ev):
    ev.select([1, 3])  # ids (the default ids are row positions here)
    assert rows(ev) == [1, 3]
    ev.select(np.array([0, 1, 1]))  # not one value per row: ids
    assert rows(ev) == [0, 1]
    ev.select(np.ones(8, dtype=np.int64) * 2)  # length n but not 0/1: ids
    assert rows(ev) == [2]


def test_boolean_series_is_matched_on_the_index():
    df = frame().set_axis([f"r{i}" for i in range(8)])
    ev = es.Evaluation(df, "y", y_pred="yhat")
    mask = (df["age"] > 50).iloc[::-1]  # same labels, other order
    ev.select(mask)
    assert rows(ev) == [2, 4, 6]
    with pytest.raises(ValueError, match=r"select\(mask\) is a pandas Series whose index does not match"):
        ev.select(mask.set_axis(range(8)))


# -- y_true / y_pred / y_score Series are matched on the index ------------------------------------
def shuffled(values: pd.Series, seed: int = 0) -> pd.Series:
    return values.sample(frac=1.0, random_state=seed)


def test_shuffled_series_are_aligned(adult, adult_proba):
    pred = pd.Series(np.where(adult["education-num"] >= 13, ">50K", "<=50K"), index=adult.index)
    ev = es.Evaluation(adult, shuffled(adult["income"], 1), y_pred=shuffled(pred, 2))
    truth = accuracy_score(adult["income"], pred)
    assert np.mean(ev.true_codes == ev.pred_codes) == pytest.approx(truth, abs=1e-12)
    np.testing.assert_array_equal(ev.y_true, adult["income"].to_numpy())
    score = pd.Series(adult_proba[:, 1], index=adult.index)
    scored = es.Evaluation(adult, "income", y_score=shuffled(score, 3))
    np.testing.assert_array_equal(scored.positive_score, adult_proba[:, 1])
    both = pd.DataFrame(adult_proba, index=adult.index)
    np.testing.assert_array_equal(
        es.Evaluation(adult, "income", y_score=shuffled(both, 4)).scores, adult_proba
    )


@pytest.mark.parametrize("argument", ["y_true", "y_pred", "y_score", "ids"])
def test_series_on_another_index_is_refused(argument):
    df = frame()
    other = {
        "y_true": df["y"],
        "y_pred": df["yhat"],
        "y_score": df["p1"],
        "ids": pd.Series(np.arange(8) + 100),
    }[argument].set_axis(np.arange(8) + 10)
    kwargs = {"y_true": "y", "y_pred": "yhat", argument: other}
    with pytest.raises(
        ValueError,
        match=rf"{argument} is a pandas Series whose index does not match data's index .*{argument}\.to_numpy\(\)",
    ):
        es.Evaluation(df, **kwargs)


# -- role names never collide with data columns ----------------------------------------------------
def colliding() -> pd.DataFrame:
    df = frame()
    df["actual"] = [1, 1, 0, 0, 0, 0, 0, 1]  # features named like the roles, unlike y / yhat
    df["predicted"] = [0, 0, 0, 1, 1, 1, 1, 1]
    df["tag"] = ["a", "b", "a", "b", "a", "b", "a", "b"]
    return df


def test_a_slice_selects_what_it_shows(tmp_path):
    df = colliding()
    ev = es.Evaluation(df, "y", y_pred="yhat")
    ev.attach_tags(tmp_path / "tags.sqlite", vocabulary=["a"])
    ev.tag_store.tag([0, 1], "a")
    ev.tags_changed()
    table = slice_table(ev).set_index("description")
    for shown, expected in [
        ("actual = 1", df["actual"] == 1),
        ("predicted = 1", df["predicted"] == 1),
        ("tag = a", df["tag"] == "a"),
        ("es_actual = 1", df["y"] == 1),
        ("es_predicted = 0", df["yhat"] == 0),
        ("es_tag = a", pd.Series([True, True] + [False] * 6)),
    ]:
        row = table.loc[shown]
        ev.select(es.Clause.where("slices", row["predicate"]))
        np.testing.assert_array_equal(ev.selection.mask(), expected.to_numpy(), err_msg=shown)
        assert row["size"] == expected.sum()
        ev.select(ev.selection.clause("slices").text, source="slices")  # and its text selects them too
        np.testing.assert_array_equal(ev.selection.mask(), expected.to_numpy(), err_msg=shown)


def test_query_names_for_colliding_roles():
    df = colliding()
    ev = es.Evaluation(df, "y", y_pred="yhat")
    assert ev.role_names() == {"actual": "es_actual", "predicted": "es_predicted", "tag": "es_tag"}
    ev.select("actual == 1")
    np.testing.assert_array_equal(ev.selection.mask(), df["actual"] == 1)
    ev.select("es_actual != es_predicted")
    np.testing.assert_array_equal(ev.selection.mask(), df["y"] != df["yhat"])
    assert {"es_actual", "es_predicted"} <= set(ev.selected().columns)  # the names ev.frame() uses


def test_confusion_matrix_cells_with_colliding_roles():
    ev = es.Evaluation(colliding(), "y", y_pred="yhat")
    cm = es.ConfusionMatrix(ev)
    cm.select_cells(cells=[(1, 0)])
    assert cm.clause_text == "es_actual == 1 and es_predicted == 0"
    np.testing.assert_array_equal(ev.selection.mask(), (ev.true_codes == 1) & (ev.pred_codes == 0))
    assert cm.selected["cells"] == [[1, 0]]


def test_roles_keep_their_names_when_the_column_is_the_role():
    df = frame().rename(columns={"y": "actual", "yhat": "predicted"})
    ev = es.Evaluation(df, "actual", y_pred="predicted")
    assert ev.role_names() == {"actual": "actual", "predicted": "predicted", "tag": "tag"}
    cm = es.ConfusionMatrix(ev)
    cm.select_cells(cells=[(1, 0)])
    assert cm.clause_text == "actual == 1 and predicted == 0"
    assert parse(cm.clause_text, cm.source, ev.query_name) == ev.selection.clause(cm.source)


def test_multiclass_score_is_the_predicted_class_probability():
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.05, 0.05, 0.9]])
    ev = es.Evaluation(pd.DataFrame({"x": [1, 2, 3, 4]}), [0, 1, 2, 2], y_score=scores)
    ev.select("score >= 0.5")
    np.testing.assert_array_equal(ev.selection.mask(), scores.max(axis=1) >= 0.5)
    assert ev.selection.clause("code").text == "confidence >= 0.5"


def test_datetime_slices_and_queries():
    days = pd.date_range("2020-01-01", periods=400, freq="D")
    df = pd.DataFrame({"day": days, "y": np.arange(400) % 2, "p": (np.arange(400) // 3) % 2})
    df.loc[5, "day"] = pd.NaT
    ev = es.Evaluation(df, "y", y_pred="p")
    table = slice_table(ev, columns=["day"])
    assert "between" in {p.op for p in table["predicate"]}
    for predicate, size in zip(table["predicate"], table["size"], strict=True):
        ev.select(es.Clause.where("slice", predicate).text)
        assert int(ev.selection.mask().sum()) == size, predicate.text
    day = df["day"]
    for text, expected in [
        ("day >= '2020-06-01'", day >= "2020-06-01"),  # text compared as a timestamp, as pandas does
        ("day == '2020-01-05'", day == "2020-01-05"),
        ("day != '2020-01-05'", day != "2020-01-05"),
        ("day in ['2020-01-05', '2020-01-07']", day.isin(pd.to_datetime(["2020-01-05", "2020-01-07"]))),
        ("day.isna()", day.isna()),
    ]:
        ev.select(text)
        np.testing.assert_array_equal(ev.selection.mask(), expected.to_numpy(), err_msg=text)


@pytest.mark.parametrize(
    ("mask", "named"),
    [
        (
            pd.Series([True, None] * 4, dtype="boolean"),
            r"select\(mask\): the mask has 4 missing values; .*fillna",
        ),
        (
            np.ones(3, dtype=bool),
            r"select\(mask\): the boolean mask has shape \(3,\) but the Evaluation has 8",
        ),
        (
            pd.Series([True] * 8, index=[0] * 8),
            r"select\(mask\) is a pandas Series .*its index repeats labels",
        ),
    ],
)
def test_bad_mask_is_a_clear_error(ev, mask, named):
    with pytest.raises(ValueError, match=named):
        ev.select(mask)
    assert len(ev.selection) == 0


def test_nullable_boolean_mask_selects(ev):
    ev.select(pd.Series([True, False] * 4, dtype="boolean"))
    assert rows(ev) == [0, 2, 4, 6]
