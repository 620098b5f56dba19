"""What an Evaluation accepts; how it derives classes, predictions, features and ids; how it codes columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import errorscope as es
from errorscope import Clause, Predicate
from errorscope.selection import SelectionChange

Y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
P = np.array([0, 1, 0, 0, 1, 1, 0, 1])
SCORE = np.array([0.2, 0.9, 0.3, 0.5, 0.7, 0.6, 0.1, 0.55])


def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [23, 45, 67, 34, 56, 29, 71, 40],
            "sex": ["F", "M", "F", "M", "F", "M", "F", "M"],
            "y": Y,
            "yhat": P,
            "p1": SCORE,
            "p0": 1 - SCORE,
        }
    )


def three() -> tuple[pd.DataFrame, np.ndarray]:
    y = np.array(["cat", "dog", "emu", "cat", "dog", "emu", "cat", "dog"])
    proba = np.array(
        [
            [0.7, 0.2, 0.1],
            [0.1, 0.6, 0.3],
            [0.2, 0.5, 0.3],
            [0.3, 0.3, 0.4],
            [0.1, 0.1, 0.8],
            [0.2, 0.2, 0.6],
            [0.5, 0.4, 0.1],
            [0.3, 0.4, 0.3],
        ]
    )
    df = pd.DataFrame({"x": np.arange(8.0), "y": y})
    for j, name in enumerate(["cat", "dog", "emu"]):
        df[f"p_{name}"] = proba[:, j]
    return df, proba


# -- data forms ------------------------------------------------------------------------------------
def test_pandas_dataframe():
    ev = es.Evaluation(small(), "y", y_pred="yhat")
    assert ev.classes == [0, 1]
    assert all(type(c) is int for c in ev.classes)
    assert ev.class_names == ["0", "1"]
    np.testing.assert_array_equal(ev.y_true, Y)
    np.testing.assert_array_equal(ev.y_pred, P)
    assert ev.n_rows == 8 and ev.n_classes == 2 and ev.is_binary
    assert ev.pred_from_scores is False and ev.scores is None


def test_polars_dataframe_matches_pandas():
    df = small()
    ev_pd = es.Evaluation(df, "y", y_pred="yhat", sensitive="sex")
    ev_pl = es.Evaluation(pl.from_pandas(df), "y", y_pred="yhat", sensitive="sex")
    assert isinstance(ev_pl.data, pd.DataFrame)
    assert list(ev_pl.data.columns) == list(df.columns)
    assert ev_pl.classes == ev_pd.classes
    np.testing.assert_array_equal(ev_pl.true_codes, ev_pd.true_codes)
    np.testing.assert_array_equal(ev_pl.pred_codes, ev_pd.pred_codes)
    assert ev_pl.features == ev_pd.features == ["age", "sex", "p1", "p0"]
    assert ev_pl.sensitive == ["sex"]
    np.testing.assert_array_equal(ev_pl.ids, np.arange(8))


def test_polars_adult_matches_pandas(adult):
    pred = np.where(adult["age"] > 45, ">50K", "<=50K")
    ev_pd = es.Evaluation(adult, "income", y_pred=pred)
    ev_pl = es.Evaluation(pl.from_pandas(adult), "income", y_pred=pred)
    assert ev_pl.classes == ev_pd.classes == ["<=50K", ">50K"]
    np.testing.assert_array_equal(ev_pl.true_codes, ev_pd.true_codes)
    for column in ["workclass", "age", "native-country"]:
        a, b = ev_pd.codes(column), ev_pl.codes(column)
        assert a.labels == b.labels
        np.testing.assert_array_equal(a.codes, b.codes)


def test_numpy_with_feature_names():
    X = np.column_stack([np.arange(8.0), np.arange(8.0) ** 2])
    ev = es.Evaluation(X, Y, y_pred=P, feature_names=["a", "b"])
    assert list(ev.data.columns) == ["a", "b"]
    assert ev.features == ["a", "b"]
    np.testing.assert_array_equal(ev.data["b"].to_numpy(), X[:, 1])
    np.testing.assert_array_equal(ev.y_true, Y)


def test_numpy_without_feature_names_gets_default_names():
    ev = es.Evaluation(np.zeros((8, 3)), Y, y_pred=P)
    assert list(ev.data.columns) == ["x0", "x1", "x2"]


def test_numpy_with_label_column_named_in_feature_names():
    X = np.column_stack([np.arange(8.0), Y])
    ev = es.Evaluation(X, "label", y_pred=P, feature_names=["a", "label"])
    np.testing.assert_array_equal(ev.true_codes, Y)
    assert ev.features == ["a"]


def test_dict_of_columns():
    df = small()
    ev = es.Evaluation({c: df[c].to_numpy() for c in df.columns}, "y", y_pred="yhat")
    assert list(ev.data.columns) == list(df.columns)
    np.testing.assert_array_equal(ev.pred_codes, P)


def test_non_string_column_names_become_strings():
    df = pd.DataFrame({0: [1.0, 2.0, 3.0, 4.0], 1: [0, 1, 0, 1]})
    ev = es.Evaluation(df, "1", y_pred=[0, 1, 1, 1])
    assert list(ev.data.columns) == ["0", "1"]
    assert ev.features == ["0"]


# -- label and prediction forms --------------------------------------------------------------------
LABEL_FORMS = {
    "column": lambda df, col: col,
    "numpy": lambda df, col: df[col].to_numpy(),
    "pandas Series": lambda df, col: df[col],
    "pandas Series, shuffled index": lambda df, col: df[col].iloc[::-1],  # matched on the index
    "polars Series": lambda df, col: pl.Series(col, df[col].to_numpy()),
    "list": lambda df, col: df[col].tolist(),
}


@pytest.mark.parametrize("pred_form", list(LABEL_FORMS))
@pytest.mark.parametrize("true_form", list(LABEL_FORMS))
def test_y_true_and_y_pred_forms(true_form, pred_form):
    df = small()
    ev = es.Evaluation(df, LABEL_FORMS[true_form](df, "y"), y_pred=LABEL_FORMS[pred_form](df, "yhat"))
    assert ev.classes == [0, 1]
    np.testing.assert_array_equal(ev.true_codes, Y)
    np.testing.assert_array_equal(ev.pred_codes, P)


BINARY_SCORE_FORMS = {
    "(n,) array": lambda df: SCORE,
    "(n, 2) array": lambda df: np.column_stack([1 - SCORE, SCORE]),
    "list of columns": lambda df: ["p0", "p1"],
    "tuple of columns": lambda df: ("p0", "p1"),
    "column name": lambda df: "p1",
    "pandas Series": lambda df: df["p1"],
    "polars Series": lambda df: pl.Series("p1", SCORE),
    "pandas DataFrame": lambda df: df[["p0", "p1"]],
    "list of floats": lambda df: SCORE.tolist(),
}


@pytest.mark.parametrize("form", list(BINARY_SCORE_FORMS))
def test_binary_y_score_forms(form):
    df = small()
    ev = es.Evaluation(df, "y", y_score=BINARY_SCORE_FORMS[form](df))
    assert ev.scores.shape == (8, 2)
    np.testing.assert_allclose(ev.scores[:, 1], SCORE, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ev.scores.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ev.positive_score, SCORE, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(ev.pred_codes, (SCORE >= 0.5).astype(int))
    assert ev.pred_from_scores


@pytest.mark.parametrize("form", ["array", "list of columns", "pandas DataFrame"])
def test_multiclass_y_score_forms_and_argmax(form):
    df, proba = three()
    cols = ["p_cat", "p_dog", "p_emu"]
    y_score = {"array": proba, "list of columns": cols, "pandas DataFrame": df[cols]}[form]
    ev = es.Evaluation(df, "y", y_score=y_score)
    assert ev.classes == ["cat", "dog", "emu"]
    np.testing.assert_allclose(ev.scores, proba, rtol=0, atol=0)
    np.testing.assert_array_equal(ev.pred_codes, proba.argmax(axis=1))
    assert ev.positive_score is None
    if form == "list of columns":
        assert ev.features == ["x"]  # named score columns are not features


def test_score_columns_are_not_features():
    ev = es.Evaluation(small(), "y", y_score=["p0", "p1"])
    assert ev.features == ["age", "sex", "yhat"]


# -- label kinds and class order -------------------------------------------------------------------
def test_int_labels_sorted():
    ev = es.Evaluation(small(), "y", y_pred=np.array([2, 1, 0, 0, 1, 1, 0, 1]))
    assert ev.classes == [0, 1, 2]
    assert ev.class_names == ["0", "1", "2"]


def test_str_labels_sorted():
    y = np.array(["b", "a", "c", "a", "b", "c", "a", "b"])
    ev = es.Evaluation(small(), y, y_pred=y[::-1])
    assert ev.classes == ["a", "b", "c"]
    np.testing.assert_array_equal(ev.y_true, y)
    np.testing.assert_array_equal(ev.y_pred, y[::-1])


def test_bool_labels():
    df = small().assign(y=Y.astype(bool), yhat=P.astype(bool))
    ev = es.Evaluation(df, "y", y_pred="yhat")
    assert ev.classes == [False, True]
    assert all(type(c) is bool for c in ev.classes)
    assert ev.class_names == ["False", "True"]
    np.testing.assert_array_equal(ev.true_codes, Y)
    np.testing.assert_array_equal(ev.pred_codes, P)


def test_pandas_categorical_column_order_respected():
    y = ["high", "low", "mid", "low", "high", "mid", "low", "low"]
    df = small().assign(y=pd.Categorical(y, categories=["low", "mid", "high"]))
    ev = es.Evaluation(df, "y", y_pred=np.array(y))
    assert ev.classes == ["low", "mid", "high"]  # not alphabetical
    np.testing.assert_array_equal(ev.true_codes, [2, 0, 1, 0, 2, 1, 0, 0])


def test_pandas_categorical_series_order_and_unused_category():
    """Categories keep their order; one no row uses (in y_true or y_pred) is not a class."""
    y = pd.Series(pd.Categorical(["b", "a", "a", "b", "a", "b", "a", "b"], categories=["b", "z", "a"]))
    ev = es.Evaluation(small(), y, y_pred=y.astype(str).to_numpy())
    assert ev.classes == ["b", "a"]
    assert ev.is_binary and ev.positive_class == "a"


def test_unused_category_is_kept_when_y_pred_uses_it():
    y = pd.Categorical(["b", "a", "a", "b", "a", "b", "a", "b"], categories=["b", "z", "a"])
    pred = np.array(["b", "a", "z", "b", "a", "b", "a", "b"])
    assert es.Evaluation(small(), y, y_pred=pred).classes == ["b", "z", "a"]


def test_polars_enum_order_respected():
    y = ["high", "low", "mid", "low", "high", "mid", "low", "low"]
    df = pl.from_pandas(small()).with_columns(pl.Series("y", y, dtype=pl.Enum(["low", "mid", "high"])))
    ev = es.Evaluation(df, "y", y_pred=np.array(y))
    assert ev.classes == ["low", "mid", "high"]


def test_labels_list_sets_class_order():
    ev = es.Evaluation(small(), "y", y_pred="yhat", labels=[1, 0])
    assert ev.classes == [1, 0]
    np.testing.assert_array_equal(ev.true_codes, 1 - Y)
    np.testing.assert_array_equal(ev.y_true, Y)


def test_labels_list_may_add_an_unseen_class():
    ev = es.Evaluation(small(), "y", y_pred="yhat", labels=[0, 1, 2])
    assert ev.n_classes == 3 and not ev.is_binary


def test_labels_dict_gives_display_names():
    ev = es.Evaluation(small(), "y", y_pred="yhat", labels={1: "approved", 0: "denied"})
    assert ev.classes == [1, 0]
    assert ev.class_names == ["approved", "denied"]
    np.testing.assert_array_equal(ev.y_true, Y)  # values stay the data's


def test_labels_reorder_applies_to_score_columns():
    """y_score columns are in the order of labels=."""
    ev = es.Evaluation(small(), "y", y_score=np.column_stack([SCORE, 1 - SCORE]), labels=[1, 0])
    np.testing.assert_array_equal(ev.y_pred, np.where(1 - SCORE >= 0.5, 0, 1))


# -- predictions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.55, 0.6, 1.0])
def test_binary_predictions_from_threshold(threshold):
    ev = es.Evaluation(small(), "y", y_score=SCORE, threshold=threshold)
    assert ev.threshold == threshold
    np.testing.assert_array_equal(ev.pred_codes, (threshold <= SCORE).astype(int))


def test_threshold_accepts_numpy_and_int():
    assert es.Evaluation(small(), "y", y_score=SCORE, threshold=np.float32(0.25)).threshold == 0.25
    assert es.Evaluation(small(), "y", y_score=SCORE, threshold=1).threshold == 1.0


def test_y_pred_wins_over_scores():
    ev = es.Evaluation(small(), "y", y_pred="yhat", y_score=SCORE)
    np.testing.assert_array_equal(ev.pred_codes, P)
    assert not ev.pred_from_scores
    np.testing.assert_allclose(ev.positive_score, SCORE)


def test_predictions_from_model_predict_proba(adult, adult_model, adult_proba):
    ev = es.Evaluation(adult, "income", model=adult_model)
    assert ev.classes == ["<=50K", ">50K"]
    assert ev.features == list(adult_model.feature_names_in_)
    assert "income" not in ev.features
    np.testing.assert_allclose(ev.scores, adult_proba, rtol=0, atol=0)
    assert ev.pred_from_scores
    np.testing.assert_array_equal(ev.y_pred, adult_model.predict(adult.drop(columns="income")))


def test_model_scores_follow_model_classes_when_labels_reorder(adult, adult_model, adult_proba):
    assert list(adult_model.classes_) == ["<=50K", ">50K"]
    ev = es.Evaluation(adult, "income", model=adult_model, labels=[">50K", "<=50K"])
    assert ev.classes == [">50K", "<=50K"]
    np.testing.assert_allclose(ev.scores[:, 0], adult_proba[:, 1], rtol=0, atol=0)
    np.testing.assert_allclose(ev.scores[:, 1], adult_proba[:, 0], rtol=0, atol=0)
    np.testing.assert_array_equal(ev.y_pred, adult_model.predict(adult.drop(columns="income")))
    np.testing.assert_array_equal(ev.y_true, adult["income"].to_numpy())


def test_model_scores_follow_model_classes_multiclass(letter_test, letter_model):
    proba = letter_model.predict_proba(letter_test.drop(columns="letter"))
    labels = sorted(letter_model.classes_, reverse=True)  # Z..A
    ev = es.Evaluation(letter_test, "letter", model=letter_model, labels=labels)
    assert ev.classes == labels
    np.testing.assert_array_equal(ev.scores, proba[:, ::-1])
    np.testing.assert_array_equal(ev.y_pred, letter_model.predict(letter_test.drop(columns="letter")))


def test_model_fitted_on_numpy_gets_numpy(adult_train, adult):
    from sklearn.linear_model import LogisticRegression

    cols = ["age", "education-num", "hours-per-week"]
    model = LogisticRegression().fit(adult_train[cols].to_numpy(), adult_train["income"])
    ev = es.Evaluation(adult, "income", model=model, features=cols)
    np.testing.assert_allclose(ev.scores, model.predict_proba(adult[cols].to_numpy()), rtol=1e-12)


def test_predictions_from_model_predict_without_predict_proba(adult_train, adult):
    from sklearn.linear_model import RidgeClassifier

    cols = ["age", "education-num", "hours-per-week", "capital-gain"]
    model = RidgeClassifier().fit(adult_train[cols], adult_train["income"])
    assert not hasattr(model, "predict_proba")
    ev = es.Evaluation(adult, "income", model=model)
    assert ev.features == cols
    assert ev.scores is None and not ev.pred_from_scores
    np.testing.assert_array_equal(ev.y_pred, model.predict(adult[cols]))
    assert (ev.y_pred == ">50K").sum() > 0


def test_model_classes_with_a_class_missing_from_model():
    class TwoClassModel:
        classes_ = np.array([0, 1])

    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    ev = es.Evaluation(small(), y, y_pred=P, model=TwoClassModel())
    assert ev.classes == [0, 1, 2]


# -- features and ids ------------------------------------------------------------------------------
def test_default_features_are_every_non_role_column():
    df = small().assign(rid=[f"r{i}" for i in range(8)], note=list("abcdefgh"))
    ev = es.Evaluation(df, "y", y_pred="yhat", y_score=["p0", "p1"], ids="rid", text="note", sensitive="sex")
    assert ev.features == ["age", "sex"]  # sensitive columns stay features
    assert ev.text_column == "note"
    assert ev.sensitive == ["sex"]


def test_explicit_features():
    ev = es.Evaluation(small(), "y", y_pred="yhat", features=["sex", "age"])
    assert ev.features == ["sex", "age"]
    assert list(ev.X.columns) == ["sex", "age"]


def test_feature_names_in_missing_from_data_is_an_error(adult, adult_model):
    """No silent fallback to every other column: the model would fail on them later."""
    with pytest.raises(ValueError, match=r"model was fitted on columns that data lacks: \['age'\]"):
        es.Evaluation(
            adult.drop(columns="age"), "income", y_pred=adult["income"], model=_NoProba(adult_model)
        )


class _NoProba:
    def __init__(self, model):
        self.classes_ = model.classes_
        self.feature_names_in_ = model.feature_names_in_


def test_default_ids_from_unique_index():
    df = small().set_axis([f"row{i}" for i in range(8)])
    ev = es.Evaluation(df, "y", y_pred="yhat")
    np.testing.assert_array_equal(ev.ids, [f"row{i}" for i in range(8)])


def test_default_ids_from_shuffled_int_index(adult):
    shuffled = adult.sample(frac=1.0, random_state=0)
    ev = es.Evaluation(shuffled, "income", y_pred=shuffled["income"])
    np.testing.assert_array_equal(ev.ids, shuffled.index.to_numpy())


def test_default_ids_positions_when_index_not_unique():
    df = small().set_axis([0, 0, 1, 1, 2, 2, 3, 3])
    ev = es.Evaluation(df, "y", y_pred="yhat")
    np.testing.assert_array_equal(ev.ids, np.arange(8))


def test_ids_column_and_array():
    df = small().assign(rid=[f"r{i}" for i in range(8)])
    ev = es.Evaluation(df, "y", y_pred="yhat", ids="rid")
    np.testing.assert_array_equal(ev.ids, df["rid"].to_numpy())
    assert "rid" not in ev.features
    ev2 = es.Evaluation(df, "y", y_pred="yhat", ids=np.arange(100, 108))
    np.testing.assert_array_equal(ev2.ids, np.arange(100, 108))
    assert "rid" in ev2.features


# -- selected() and frame() ------------------------------------------------------------------------
def test_selected_columns_binary():
    ev = es.Evaluation(small(), "y", y_score=SCORE)
    out = ev.selected()
    assert list(out.columns) == [*small().columns, "id", "actual", "predicted", "score"]
    np.testing.assert_array_equal(out["actual"].to_numpy(), Y)
    np.testing.assert_array_equal(out["predicted"].to_numpy(), (SCORE >= 0.5).astype(int))
    np.testing.assert_allclose(out["score"].to_numpy(), SCORE)
    np.testing.assert_array_equal(out["id"].to_numpy(), np.arange(8))


def test_selected_score_multiclass_is_score_of_predicted_class():
    df, proba = three()
    out = es.Evaluation(df, "y", y_score=proba).selected()
    np.testing.assert_allclose(out["score"].to_numpy(), proba.max(axis=1))


def test_selected_without_scores_has_no_score_column():
    out = es.Evaluation(small(), "y", y_pred="yhat").selected()
    assert "score" not in out.columns
    assert {"actual", "predicted", "id"} <= set(out.columns)


def test_selected_prefixes_clashing_names():
    df = small().assign(id=np.arange(10, 18), score=np.zeros(8))
    df = df.rename(columns={"y": "actual", "yhat": "predicted"})
    ev = es.Evaluation(df, "actual", y_pred="predicted", y_score=SCORE)
    out = ev.selected()
    for name in ["id", "actual", "predicted", "score"]:
        assert f"es_{name}" in out.columns
    np.testing.assert_array_equal(out["score"].to_numpy(), np.zeros(8))  # the user's column is untouched
    np.testing.assert_allclose(out["es_score"].to_numpy(), SCORE)
    np.testing.assert_array_equal(out["id"].to_numpy(), np.arange(10, 18))
    np.testing.assert_array_equal(out["es_actual"].to_numpy(), Y)
    assert list(ev.data.columns) == list(df.columns)  # frame() does not modify the data


def test_selected_rows_follow_the_selection(adult):
    pred = np.where(adult["education-num"] >= 13, ">50K", "<=50K")
    ev = es.Evaluation(adult, "income", y_pred=pred)
    assert len(ev.selected()) == len(adult)
    ev.select("age > 60")
    out = ev.selected()
    expected = adult.index[adult["age"] > 60]
    assert len(expected) > 0
    pd.testing.assert_index_equal(out.index, expected)
    np.testing.assert_array_equal(out["actual"].to_numpy(), adult.loc[expected, "income"].to_numpy())
    np.testing.assert_array_equal(out["predicted"].to_numpy(), pred[adult["age"].to_numpy() > 60])
    ev.select("actual != predicted", source="errors")
    out = ev.selected()
    keep = (adult["age"].to_numpy() > 60) & (adult["income"].to_numpy() != pred)
    np.testing.assert_array_equal(out.index.to_numpy(), np.flatnonzero(keep))
    ev.selection.clear()
    assert len(ev.selected()) == len(adult)


def test_select_by_mask_ids_series_and_predicate(adult):
    ev = es.Evaluation(adult, "income", y_pred=adult["income"])
    mask = (adult["sex"] == "Female").to_numpy()
    ev.select(mask)
    np.testing.assert_array_equal(ev.selection.mask(), mask)
    ev.select(adult["sex"] == "Male")  # a boolean Series
    np.testing.assert_array_equal(ev.selection.mask(), ~mask)
    ev.select([5, 3, 1])  # ids (positions here)
    assert ev.selection.mask().nonzero()[0].tolist() == [1, 3, 5]
    ev.select(Predicate("race", "in", ("Asian-Pac-Islander", "Other")))
    np.testing.assert_array_equal(
        ev.selection.mask(), adult["race"].isin(["Asian-Pac-Islander", "Other"]).to_numpy()
    )
    assert len(ev.selection) == 1  # every call replaced the "code" clause


def test_select_by_string_ids():
    df = small().assign(rid=[f"r{i}" for i in range(8)])
    ev = es.Evaluation(df, "y", y_pred="yhat", ids="rid")
    ev.select(np.array(["r6", "r2"]))
    assert ev.selection.mask().nonzero()[0].tolist() == [2, 6]
    assert ev.selected()["rid"].tolist() == ["r2", "r6"]


def test_select_mask_is_copied():
    ev = es.Evaluation(small(), "y", y_pred="yhat")
    mask = np.zeros(8, dtype=bool)
    mask[2] = True
    ev.select(mask)
    mask[:] = True
    assert ev.selection.mask().sum() == 1


# -- column codes on the real Adult data -----------------------------------------------------------
@pytest.fixture
def adult_ev(adult) -> es.Evaluation:
    adult = adult.copy()
    rng = np.random.default_rng(0)
    holes = rng.choice(len(adult), 250, replace=False)
    adult["hours"] = adult["hours-per-week"].astype(float)
    adult.loc[holes, "hours"] = np.nan  # a numeric column with missing values
    adult["is_male"] = adult["sex"] == "Male"
    adult["sex_cat"] = adult["sex"].astype("category")
    pred = np.where(adult["education-num"] >= 13, ">50K", "<=50K")
    return es.Evaluation(adult, "income", y_pred=pred)


def test_categorical_codes_top_values_and_missing(adult_ev):
    data = adult_ev.data
    codes = adult_ev.codes("workclass")
    assert codes.kind == "categorical"
    counts = data["workclass"].value_counts()
    assert list(codes.labels) == [*map(str, counts.index), "missing"]
    np.testing.assert_array_equal(codes.counts(), [*counts.to_numpy(), data["workclass"].isna().sum()])
    assert codes.codes.dtype == np.uint8  # fewer than 256 codes: one byte a row
    assert codes.counts().sum() == len(data)


def test_categorical_codes_pool_rare_values_as_other(adult_ev):
    data = adult_ev.data
    codes = adult_ev.codes("native-country")
    counts = data["native-country"].value_counts()
    assert len(counts) > 20
    assert codes.n_codes == 21  # 19 most frequent + other + missing
    assert list(codes.labels[:19]) == list(counts.index[:19])
    assert codes.labels[19:] == ("other", "missing")
    np.testing.assert_array_equal(codes.counts()[:19], counts.to_numpy()[:19])
    assert codes.counts()[19] == counts.to_numpy()[19:].sum()
    assert codes.counts()[20] == data["native-country"].isna().sum()


def test_numeric_codes_are_quantile_bins(adult_ev):
    data = adult_ev.data
    codes = adult_ev.codes("age")
    assert codes.kind == "numeric"
    assert codes.n_codes == 10
    shares = codes.counts() / len(data)
    assert shares.min() > 0.06 and shares.max() < 0.14  # roughly deciles (ages are integers)
    assert codes.labels[0].startswith("< ") and codes.labels[-1].startswith("≥ ")
    # bins are ordered: each bin's ages are all below the next bin's
    ages = data["age"].to_numpy()
    tops = [ages[codes.codes == i].max() for i in range(10)]
    bottoms = [ages[codes.codes == i].min() for i in range(10)]
    assert all(t < b for t, b in zip(tops[:-1], bottoms[1:], strict=True))


def test_numeric_codes_with_missing(adult_ev):
    codes = adult_ev.codes("hours")
    assert codes.kind == "numeric"
    assert codes.labels[-1] == "missing"
    assert codes.counts()[-1] == 250
    np.testing.assert_array_equal(codes.codes == codes.n_codes - 1, adult_ev.data["hours"].isna().to_numpy())


def test_bool_and_category_columns_are_categorical(adult_ev):
    for column in ["is_male", "sex_cat", "sex"]:
        codes = adult_ev.codes(column)
        assert codes.kind == "categorical"
        assert sorted(codes.labels) in (["Female", "Male"], ["False", "True"])


def test_codes_are_cached(adult_ev):
    assert adult_ev.codes("age") is adult_ev.codes("age")


def test_counts_under_a_mask(adult_ev):
    codes = adult_ev.codes("race")
    mask = (adult_ev.data["sex"] == "Female").to_numpy()
    expected = adult_ev.data.loc[mask, "race"].value_counts()
    got = dict(zip(codes.labels, codes.counts(mask), strict=True))
    assert got == {k: int(v) for k, v in expected.items()}


def test_every_code_predicate_resolves_to_its_rows(adult_ev):
    """For every column of Adult: code i's predicate selects exactly the rows with code i."""
    for column in adult_ev.data.columns:
        codes = adult_ev.codes(column)
        assert len(codes.predicates) == codes.n_codes == len(codes.labels)
        for i, predicate in enumerate(codes.predicates):
            np.testing.assert_array_equal(
                adult_ev.engine.predicate_mask(predicate),
                codes.codes == i,
                err_msg=f"{column}: code {i} {predicate.text}",
            )


@pytest.mark.parametrize(
    "column", ["workclass", "native-country", "age", "hours", "is_male", "education-num"]
)
def test_code_predicates_through_select(adult_ev, column):
    codes = adult_ev.codes(column)
    for i in [0, codes.n_codes - 1]:
        adult_ev.select(Clause.where("slices", codes.predicates[i]))
        np.testing.assert_array_equal(adult_ev.selection.mask(), codes.codes == i)
        assert len(adult_ev.selected()) == codes.counts()[i]


def test_skewed_numeric_column_gets_readable_bins(adult_ev):
    """capital-gain is 0 for ~92% of rows: the bins must still split it, and no label may read 'None'."""
    codes = adult_ev.codes("capital-gain")
    assert all("None" not in label for label in codes.labels), codes.labels
    assert codes.n_codes >= 2, codes.labels
    assert codes.counts().max() < len(adult_ev.data)


# -- threshold -------------------------------------------------------------------------------------
@pytest.fixture
def scored_adult(adult, adult_proba) -> es.Evaluation:
    return es.Evaluation(adult, "income", y_score=adult_proba)


def test_threshold_setter_changes_predictions(scored_adult, adult_proba):
    ev = scored_adult
    before = ev.y_pred.copy()
    ev.threshold = 0.3
    assert ev.threshold == 0.3
    np.testing.assert_array_equal(ev.pred_codes, (adult_proba[:, 1] >= 0.3).astype(int))
    assert (ev.y_pred != before).sum() > 100
    np.testing.assert_array_equal(ev.y_true, ev.data["income"].to_numpy())  # unchanged
    np.testing.assert_array_equal(ev.selected()["predicted"].to_numpy(), ev.y_pred)


def test_threshold_setter_refreshes_clauses_on_predicted(scored_adult, adult_proba):
    ev = scored_adult
    changes: list[SelectionChange] = []
    ev.select(Clause.where("matrix", Predicate("predicted", "in", (">50K",))))
    ev.select("age > 40", source="code")
    ev.selection.observe(changes.append)
    ev.threshold = 0.3
    assert changes == [SelectionChange(None, "data", frozenset({"predicted"}))]
    np.testing.assert_array_equal(ev.selection.clause_mask("matrix"), adult_proba[:, 1] >= 0.3)
    np.testing.assert_array_equal(ev.selection.mask(), (adult_proba[:, 1] >= 0.3) & (ev.data["age"] > 40))
    ev.threshold = 0.3  # no change: no notification
    assert len(changes) == 1


def test_threshold_setter_refreshes_query_clauses_on_predicted(scored_adult, adult_proba):
    """A query that reads `predicted` must follow the threshold too, like a matrix cell does."""
    ev = scored_adult
    ev.select("predicted == '>50K'")
    np.testing.assert_array_equal(ev.selection.mask(), adult_proba[:, 1] >= 0.5)
    ev.threshold = 0.3
    np.testing.assert_array_equal(ev.selection.mask(), adult_proba[:, 1] >= 0.3)
    assert (ev.selected()["predicted"] == ">50K").all()


def test_repr_summarises(scored_adult):
    text = repr(scored_adult)
    assert text.startswith(
        "Evaluation(16,281 rows, binary ['<=50K', '>50K'], positive class '>50K' (score = P('>50K')), "
        "14 features, accuracy 0."
    )
    assert text.endswith("0 active clause(s))")


def unusual_columns(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    holes = rng.random(n) < 0.1
    return pd.DataFrame(
        {
            "datetime": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D"),
            "timedelta": pd.to_timedelta(rng.integers(0, 40, n), unit="h"),
            "float_inf": np.where(rng.random(n) < 0.05, np.inf, rng.normal(size=n)),
            "float_neg_inf": np.where(rng.random(n) < 0.05, -np.inf, rng.normal(size=n)),
            "nullable_int": pd.array(np.where(holes, None, rng.integers(0, 100, n)), dtype="Int64"),
            "nullable_bool": pd.array(np.where(holes, None, rng.random(n) < 0.5), dtype="boolean"),
            "object_bool": np.where(holes, None, rng.random(n) < 0.5).astype(object),
            "category_unused": pd.Categorical(
                np.where(holes, None, rng.choice(list("abc"), n)), categories=list("abcz")
            ),
            "mixed_object": np.array([1, "a", 2.5, None] * (n // 4), dtype=object),
            "low_card_int": rng.integers(0, 5, n),
            "low_card_float": rng.integers(0, 5, n).astype(float),
            "constant": np.zeros(n),
            "all_missing": np.full(n, np.nan),
            "big_int": rng.integers(0, 2**62, n),
            "uint8": rng.integers(0, 250, n).astype(np.uint8),
            "tiny_floats": rng.normal(size=n) * 1e-9,
            "str_missing": np.where(holes, None, rng.choice(["x", "y"], n)),
        }
    )


@pytest.mark.parametrize("column", list(unusual_columns(4).columns))
def test_code_predicates_resolve_on_unusual_dtypes(column):
    df = unusual_columns()
    rng = np.random.default_rng(1)
    ev = es.Evaluation(df, rng.integers(0, 2, len(df)), y_pred=rng.integers(0, 2, len(df)))
    codes = ev.codes(column)
    assert codes.counts().sum() == len(df)
    assert len(set(codes.labels)) == codes.n_codes
    for i, predicate in enumerate(codes.predicates):
        np.testing.assert_array_equal(
            ev.engine.predicate_mask(predicate), codes.codes == i, err_msg=f"code {i}: {predicate.text}"
        )
    if df[column].isna().any():
        assert codes.labels[-1] == "missing"
        np.testing.assert_array_equal(codes.codes == codes.n_codes - 1, df[column].isna().to_numpy())
