"""Bad inputs fail early, with the right exception type and a message naming the argument and the fix."""

from __future__ import annotations

import gc
import re
import sys

import numpy as np
import pandas as pd
import polars as pl
import pytest

import errorscope as es
from errorscope import Clause, Predicate


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": [0, 1, 0, 1, 1, 0],
            "pred": [0, 1, 1, 1, 0, 0],
            "p1": [0.1, 0.9, 0.6, 0.7, 0.4, 0.2],
            "age": [25, 61, 47, 70, 33, 52],
            "sex": ["F", "M", "F", "M", "F", "M"],
            "note": ["a", "bb", "ccc", "dd", "e", "ffff"],
            "rid": ["r0", "r1", "r2", "r3", "r4", "r5"],
        }
    )


def three_class() -> pd.DataFrame:
    return pd.DataFrame({"y": ["a", "b", "c", "a", "b", "c"], "f": [1.0, 2, 3, 4, 5, 6]})


def proba3() -> np.ndarray:
    return np.array(
        [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]]
    )


def build(**kwargs):
    kwargs.setdefault("data", frame())
    kwargs.setdefault("y_true", "label")
    return es.Evaluation(**kwargs)


def with_column(name, values):
    df = frame()
    df[name] = values
    return df


# Each case builds an Evaluation from one bad input; the decorator records the exception type and a
# regex that names the argument and says what to do.
CASES: list = []


def case(name: str, exc: type[Exception], pattern: str):
    def register(fn):
        CASES.append(pytest.param(fn, exc, pattern, id=name))
        return fn

    return register


@case(
    "y_true array shorter than data",
    ValueError,
    r"y_true has 4 values but data has 6 rows; they must have the same length and order",
)
def case_y_true_array_shorter_than_data():
    build(y_true=np.array([0, 1, 0, 1]), y_pred="pred")


@case(
    "y_pred array longer than data",
    ValueError,
    r"y_pred has 7 values but data has 6 rows; they must have the same length",
)
def case_y_pred_array_longer_than_data():
    build(y_pred=[0, 1, 0, 1, 0, 1, 0])


@case(
    "unknown y_true column with a near miss",
    ValueError,
    r"y_true='lable' is not a column of data\. Did you mean 'label'\?",
)
def case_unknown_y_true_column_with_a_near_miss():
    build(y_true="lable", y_pred="pred")


@case(
    "unknown y_pred column",
    ValueError,
    r"y_pred='prediction_col' is not a column of data\..*Columns are: label, pred, p1",
)
def case_unknown_y_pred_column():
    build(y_pred="prediction_col")


@case("unknown y_score column", ValueError, r"y_score='p_1' is not a column of data\. Did you mean 'p1'\?")
def case_unknown_y_score_column():
    build(y_score="p_1")


@case("unknown y_score column in a list", ValueError, r"y_score='p_one' is not a column of data")
def case_unknown_y_score_column_in_a_list():
    build(y_score=["p1", "p_one"])


@case(
    "unknown sensitive column", ValueError, r"sensitive='sexx' is not a column of data\. Did you mean 'sex'\?"
)
def case_unknown_sensitive_column():
    build(y_pred="pred", sensitive="sexx")


@case(
    "unknown sensitive column in a list",
    ValueError,
    r"sensitive='race' is not a column of data\..*Columns are:",
)
def case_unknown_sensitive_column_in_a_list():
    build(y_pred="pred", sensitive=["sex", "race"])


@case("unknown text column", ValueError, r"text='notes' is not a column of data\. Did you mean 'note'\?")
def case_unknown_text_column():
    build(y_pred="pred", text="notes")


@case(
    "unknown features column", ValueError, r"features='agee' is not a column of data\. Did you mean 'age'\?"
)
def case_unknown_features_column():
    build(y_pred="pred", features=["age", "agee"])


@case("empty features list", ValueError, r"features is an empty list: name at least one column or pass None")
def case_empty_features_list():
    build(y_pred="pred", features=[])


@case("unknown ids column", ValueError, r"ids='row_id' is not a column of data\..*Columns are:")
def case_unknown_ids_column():
    build(y_pred="pred", ids="row_id")


@case("ids array of the wrong length", ValueError, r"ids has 3 values but data has 6 rows")
def case_ids_array_of_the_wrong_length():
    build(y_pred="pred", ids=np.arange(3))


@case(
    "y_true a scalar",
    TypeError,
    r"y_true must be a column name or an array with one value per row, not a scalar 1",
)
def case_y_true_a_scalar():
    build(y_true=1, y_pred="pred")


@case("y_true a 2-D array", ValueError, r"y_true must be 1-D \(one value per row\); got shape \(6, 2\)")
def case_y_true_a_2_d_array():
    build(y_true=np.zeros((6, 2)), y_pred="pred")


@case(
    "y_score (n, 3) for a binary problem",
    ValueError,
    r"y_score has 3 columns but there are 2 classes: pass one probability column per class",
)
def case_y_score_n_3_for_a_binary_problem():
    build(y_score=proba3())


@case(
    "y_score 1-D for three classes",
    ValueError,
    r"y_score is 1-D but there are 3 classes: pass an \(n, 3\) array of probabilities",
)
def case_y_score_1_d_for_three_classes():
    es.Evaluation(three_class(), "y", y_score=np.linspace(0, 1, 6))


@case(
    "probabilities above 1",
    ValueError,
    r"y_score has values outside \[0, 1\] \(.*max 1\.9\): pass probabilities",
)
def case_probabilities_above_1():
    build(y_score=np.array([0.1, 1.9, 0.6, 0.7, 0.4, 0.2]))


@case(
    "negative probabilities (logits)",
    ValueError,
    r"y_score has values outside \[0, 1\].*not decision-function scores or logits",
)
def case_negative_probabilities_logits():
    build(y_score=np.array([-2.0, 1.5, 0.3, 0.7, -0.4, 0.2]))


@case(
    "probability rows not summing to 1",
    ValueError,
    r"y_score rows must sum to 1 \(row 2 sums to 0\.5\); pass normalised class probabilities",
)
def case_probability_rows_not_summing_to_1():
    es.Evaluation(three_class(), "y", y_score=proba3() * np.array([[1], [1], [0.5], [1], [1], [1]]))


@case("NaN in y_score", ValueError, r"y_score has NaN or infinite values: every row needs a probability")
def case_nan_in_y_score():
    build(y_score=np.array([0.1, np.nan, 0.6, 0.7, 0.4, 0.2]))


@case("NaN in y_score columns", ValueError, r"y_score has NaN or infinite values")
def case_nan_in_y_score_columns():
    p1 = np.array([0.1, 0.9, np.nan, 0.7, 0.4, 0.2])
    build(data=with_column("p0", 1 - p1), y_score=["p0", "p1"])


@case("non-numeric y_score", TypeError, r"y_score must hold numbers \(class probabilities\)")
def case_non_numeric_y_score():
    build(y_score=np.array(["low", "high", "low", "high", "low", "low"]))


@case(
    "NaN labels in y_true",
    ValueError,
    r"y_true has 1 missing values \(first at row 2\): drop those rows from data, or fill the labels",
)
def case_nan_labels_in_y_true():
    build(data=with_column("label", [0, 1, np.nan, 1, 1, 0]), y_pred="pred")


@case("NaN labels in y_pred", ValueError, r"y_pred has 2 missing values \(first at row 1\): drop those rows")
def case_nan_labels_in_y_pred():
    build(y_pred=[0, None, 1, None, 0, 0])


@case(
    "a single class",
    ValueError,
    r"label has a single class \(1\): .*need at least two classes\. Pass labels= listing all classes",
)
def case_a_single_class():
    build(data=with_column("label", [1] * 6), y_pred=[1] * 6)


@case(
    "y_pred labels not among labels=",
    ValueError,
    r"y_pred has labels that are not among the classes \[0, 1\]: \[2\]\. Pass labels= with every class",
)
def case_y_pred_labels_not_among_labels():
    build(y_pred=[0, 1, 2, 1, 0, 0], labels=[0, 1])


@case(
    "y_true labels not among labels=",
    ValueError,
    r"y_true has labels that are not among the classes \['no', 'yes'\]",
)
def case_y_true_labels_not_among_labels():
    build(y_pred="pred", labels=["no", "yes"])


@case(
    "labels= with a repeated class",
    ValueError,
    r"labels has repeated classes: \[0, 1, 0\]; list each class once",
)
def case_labels_with_a_repeated_class():
    build(y_pred="pred", labels=[0, 1, 0])


@case(
    "mixed label types between y_true and y_pred",
    TypeError,
    r"y_true and y_pred mix label types \(int, str\): use one type.*or pass labels=",
)
def case_mixed_label_types_between_y_true_and_y_pred():
    build(y_pred=["0", "1", "1", "1", "0", "0"])


@case(
    "model classes differ from y_true",
    ValueError,
    r"model\.classes_ \['cat', 'dog'\] differ from the classes of y_true \[0, 1\]: pass labels=",
)
def case_model_classes_differ_from_y_true():
    build(model=_ConstantModel(["cat", "dog"]))


@case("empty data", ValueError, r"data is empty \(0 rows\): pass the rows of your evaluation set")
def case_empty_data():
    es.Evaluation(frame().iloc[:0], "label", y_pred="pred")


@case("data is None", TypeError, r"data is None: pass the evaluation set as a pandas or polars DataFrame")
def case_data_is_none():
    es.Evaluation(None, [0, 1], y_pred=[0, 1])


@case(
    "data a list of lists",
    TypeError,
    r"data must be a pandas or polars DataFrame or a 2-D numpy array, not list\. Convert it first",
)
def case_data_a_list_of_lists():
    es.Evaluation([[1, 0], [2, 1]], [0, 1], y_pred=[0, 1])


@case(
    "data a path to no file", ValueError, r"data='adult.csv': no such file; pass the path of a Parquet or CSV"
)
def case_data_a_string():
    es.Evaluation("adult.csv", "income", y_pred="pred")


@case(
    "data a 1-D numpy array",
    ValueError,
    r"data is a 1-D array; pass a 2-D array \(rows x features\) or a DataFrame",
)
def case_data_a_1_d_numpy_array():
    es.Evaluation(np.arange(6.0), np.array([0, 1, 0, 1, 1, 0]), y_pred=[0] * 6)


@case("data a 3-D numpy array", ValueError, r"data is a 3-D array; pass a 2-D array")
def case_data_a_3_d_numpy_array():
    es.Evaluation(np.zeros((6, 2, 2)), np.array([0, 1, 0, 1, 1, 0]), y_pred=[0] * 6)


@case(
    "feature_names count mismatch",
    ValueError,
    r"feature_names has 3 names but data has 2 columns; give one name per column",
)
def case_feature_names_count_mismatch():
    es.Evaluation(
        np.zeros((6, 2)), np.array([0, 1, 0, 1, 1, 0]), y_pred=[0] * 6, feature_names=["a", "b", "c"]
    )


@case(
    "duplicate column names",
    ValueError,
    r"data has duplicate column names \['a'\]: rename them so each column is unique",
)
def case_duplicate_column_names():
    es.Evaluation(
        pd.DataFrame(np.zeros((4, 3)), columns=["a", "a", "y"]).assign(y=[0, 1, 0, 1]),
        "y",
        y_pred=[0, 1, 1, 0],
    )


@case("duplicate feature_names", ValueError, r"data has duplicate column names \['f'\]")
def case_duplicate_feature_names():
    es.Evaluation(np.zeros((6, 2)), np.array([0, 1, 0, 1, 1, 0]), y_pred=[0] * 6, feature_names=["f", "f"])


@case(
    "a complex column",
    TypeError,
    r"data column 'z' has unsupported dtype complex128: convert it to a number, string or category",
)
def case_a_complex_column():
    build(data=with_column("z", np.ones(6) + 1j), y_pred="pred")


@case(
    "a column of lists",
    TypeError,
    r"data column 'tokens' holds list values, which cannot be compared or sliced: flatten it",
)
def case_a_column_of_lists():
    build(data=with_column("tokens", [["a"], ["b", "c"], [], ["d"], ["e"], ["f"]]), y_pred="pred")


@case(
    "a polars column of lists",
    TypeError,
    r"data column 'tokens' holds \w+ values, which cannot be compared or sliced",
)
def case_a_polars_column_of_lists():
    es.Evaluation(pl.DataFrame({"y": [0, 1, 0], "tokens": [["a"], ["b"], ["c", "d"]]}), "y", y_pred=[0, 1, 1])


@case(
    "no predictions at all",
    ValueError,
    r"No predictions: pass y_pred \(labels\), y_score \(probabilities\) or a fitted model",
)
def case_no_predictions_at_all():
    build()


@case(
    "duplicate ids",
    ValueError,
    r"ids must be unique, but 1 are repeated \(e\.g\. 'a'\); .*pass a unique id column, or omit ids",
)
def case_duplicate_ids():
    build(y_pred="pred", ids=["a", "b", "c", "a", "e", "f"])


@case("missing ids", ValueError, r"ids has 1 missing values \(first at row 1\)")
def case_missing_ids():
    build(data=with_column("rid", ["r0", None, "r2", "r3", "r4", "r5"]), y_pred="pred", ids="rid")


@case("threshold above 1", ValueError, r"threshold must be between 0 and 1, got 1\.5")
def case_threshold_above_1():
    build(y_score=np.array([0.1, 0.9, 0.6, 0.7, 0.4, 0.2]), threshold=1.5)


@case("threshold below 0", ValueError, r"threshold must be between 0 and 1, got -0\.1")
def case_threshold_below_0():
    build(y_pred="pred", threshold=-0.1)


@case("threshold NaN", ValueError, r"threshold must be between 0 and 1, got nan")
def case_threshold_nan():
    build(y_pred="pred", threshold=float("nan"))


@case("threshold a string", TypeError, r"threshold must be a number between 0 and 1, not '0\.5'")
def case_threshold_a_string():
    build(y_pred="pred", threshold="0.5")


@case("threshold a bool", TypeError, r"threshold must be a number between 0 and 1, not True")
def case_threshold_a_bool():
    build(y_pred="pred", threshold=True)


@case("positive_class not a class", ValueError, r"positive_class='2' is not a class; classes are \[0, 1\]")
def case_positive_class_not_a_class():
    build(y_pred="pred", positive_class="2")


@case("positive_class a list", TypeError, r"positive_class must be one class .*not a list")
def case_positive_class_a_list():
    build(y_pred="pred", positive_class=[0, 1])


@case("positive_class a class of another task", ValueError, r"positive_class='bad' is not a class")
def case_positive_class_unknown_name():
    build(y_pred="pred", labels={0: "good", 1: "fine"}, positive_class="bad")


@case(
    "y_true a continuous float target",
    ValueError,
    r'y_true looks like a regression target \(6 distinct float values.*a classification: for a numeric target pass task="regression"',
)
def case_y_true_continuous():
    build(
        y_true=np.array([0.3, 1.7, 2.2, 5.1, 0.9, 3.3]),
        y_score=None,
        y_pred=np.zeros(6),
        task="classification",
    )


@case(
    "y_true integral floats with many values",
    ValueError,
    r"y_true looks like a regression target \(60 distinct float values",
)
def case_y_true_many_float_values():
    values = np.arange(60.0)
    es.Evaluation(pd.DataFrame({"x": values}), values, y_pred=values, task="classification")


@case("y_pred from a regressor", ValueError, r"y_pred looks like a regression target.*pass them as y_score=")
def case_y_pred_continuous():
    build(y_pred=np.array([0.1, 0.9, 0.6, 0.7, 0.4, 0.2]))


@case("model a regressor", ValueError, r'task="classification" but model is a regressor \(LinearRegression\)')
def case_model_a_regressor():
    from sklearn.linear_model import LinearRegression

    df = frame()
    build(model=LinearRegression().fit(df[["age"]], df["label"]), features=["age"], task="classification")


@case("y_true an infinite class", ValueError, r"y_true has a non-finite class inf: a class must be a finite")
def case_y_true_infinite_class():
    build(y_true=np.array([0.0, 1.0, np.inf, 1.0, 0.0, 1.0]), y_pred=np.array([0.0, 1, 1, 1, 0, 0]))


@case("labels with a NaN class", ValueError, r"labels has a non-finite class nan")
def case_labels_nan_class():
    build(y_pred="pred", labels=[0, 1, float("nan")])


@case(
    "labels dict with one display name twice",
    ValueError,
    r"labels: classes 0 and 1 have the same display name 'yes'.*give each class its own name in labels=",
)
def case_labels_duplicate_display_names():
    build(y_pred="pred", labels={0: "yes", 1: "yes"})


@case(
    "y_true classes that display alike",
    ValueError,
    r"y_true: classes 1 and '1' have the same display name '1'.*convert both to str",
)
def case_y_true_classes_display_alike():
    y = pd.Series(pd.Categorical([1, "1", 1, "1", 1, "1"], categories=[1, "1"]))
    build(y_true=y, y_pred=y.to_numpy())


@case(
    "model feature_names_in_ missing from data",
    ValueError,
    r"model was fitted on columns that data lacks: \['sex_F', 'sex_M'\].*Pipeline.*y_score=",
)
def case_model_columns_missing():
    from sklearn.linear_model import LogisticRegression

    df = frame()
    encoded = pd.get_dummies(df[["age", "sex"]], dtype=float)
    build(model=LogisticRegression().fit(encoded, df["label"]))


@case(
    "features not the model's",
    ValueError,
    r"features= lists \['sex'\] that the model was not fitted on .*metadata=",
)
def case_features_not_the_models():
    from sklearn.linear_model import LogisticRegression

    df = frame()
    build(model=LogisticRegression().fit(df[["age", "p1"]], df["label"]), features=["age", "sex"])


@case(
    "features leaving out a model column",
    ValueError,
    r"features= leaves out \['p1'\] that it was fitted on; the model's feature_names_in_ are its features",
)
def case_features_leaving_out_a_model_column():
    from sklearn.linear_model import LogisticRegression

    df = frame()
    build(model=LogisticRegression().fit(df[["age", "p1"]], df["label"]), features=["age"])


@case("metadata not a column", ValueError, r"metadata='region' is not a column of data")
def case_metadata_not_a_column():
    build(y_pred="pred", metadata=["region"])


@case(
    "metadata also a feature", ValueError, r"metadata \['sex'\] are also features.*remove them from metadata="
)
def case_metadata_also_a_feature():
    build(y_pred="pred", features=["age", "sex"], metadata=["sex"])


@case("metadata a role column", ValueError, r"metadata='pred' is already used as y_true, y_pred")
def case_metadata_a_role_column():
    build(y_pred="pred", metadata=["pred"])


class _ConstantModel:
    """A minimal fitted 'estimator' whose classes do not match the data's."""

    def __init__(self, classes):
        self.classes_ = np.array(classes, dtype=object)

    def predict(self, X):
        return np.full(len(X), self.classes_[0], dtype=object)

    def predict_proba(self, X):
        return np.tile([1.0, 0.0], (len(X), 1))


@pytest.mark.parametrize(("make", "exc", "pattern"), CASES)
def test_bad_construction_input(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make()


def test_score_range_message_reports_the_values_passed():
    """A 1-D positive-class score of [0.1, 1.9] is reported as such, not as the derived 1 - p column."""
    with pytest.raises(ValueError, match=r"y_score has values outside \[0, 1\] \(min 0\.1, max 1\.9\)"):
        build(y_score=np.array([0.1, 1.9, 0.6, 0.7, 0.4, 0.2]))


def test_there_are_many_distinct_cases():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


# -- errors after construction ---------------------------------------------------------------------
@pytest.fixture
def ev() -> es.Evaluation:
    return es.Evaluation(frame(), "label", y_score=frame()["p1"].to_numpy(), ids="rid")


@pytest.fixture
def ev3() -> es.Evaluation:
    return es.Evaluation(three_class(), "y", y_score=proba3())


def test_threshold_setter_on_multiclass(ev3):
    with pytest.raises(
        ValueError, match=r"threshold only applies to a binary Evaluation .* this one has 3 classes"
    ):
        ev3.threshold = 0.3
    assert ev3.threshold == 0.5


def test_threshold_setter_with_explicit_y_pred():
    ev = build(y_pred="pred")
    with pytest.raises(ValueError, match=r"threshold only applies to a binary Evaluation .*explicit y_pred"):
        ev.threshold = 0.3
    assert ev.threshold == 0.5


@pytest.mark.parametrize(
    ("value", "exc", "pattern"),
    [
        (2, ValueError, r"threshold must be between 0 and 1, got 2"),
        (-1e-9, ValueError, r"threshold must be between 0 and 1"),
        ("high", TypeError, r"threshold must be a number between 0 and 1, not 'high'"),
        (None, TypeError, r"threshold must be a number between 0 and 1, not None"),
    ],
)
def test_threshold_setter_bad_values_leave_state_unchanged(ev, value, exc, pattern):
    before = ev.pred_codes.copy()
    with pytest.raises(exc, match=pattern):
        ev.threshold = value
    assert ev.threshold == 0.5
    np.testing.assert_array_equal(ev.pred_codes, before)


@pytest.mark.parametrize(
    ("query", "pattern"),
    [
        ("age >", r"select\('age >'\): not a valid query \(invalid syntax\)\.\nQuery grammar"),
        (
            "agee > 60",
            r"select\('agee > 60'\): query name='agee' is not a column of data\. Did you mean 'age'",
        ),
        ("age + 1", r"select\('age \+ 1'\): age \+ 1 is not allowed\.\nQuery grammar"),
        ("1 > 0", r"select\('1 > 0'\): 1 > 0 compares no column"),
    ],
)
def test_select_bad_query(ev, query, pattern):
    ev.select("age > 50")
    before = ev.selection.clauses
    with pytest.raises(ValueError, match=pattern):
        ev.select(query)
    assert ev.selection.clauses == before  # a failed select leaves the selection alone


def test_select_mask_of_wrong_length(ev):
    with pytest.raises(
        ValueError,
        match=r"select\(mask\): the boolean mask has shape \(3,\) but the Evaluation has 6 rows; "
        r"pass one value per row",
    ):
        ev.select(np.array([True, False, True]))
    assert len(ev.selection) == 0


def test_select_2d_mask(ev):
    with pytest.raises(ValueError, match=r"boolean mask has shape \(6, 1\)"):
        ev.select(np.ones((6, 1), dtype=bool))


def test_select_unknown_ids(ev):
    with pytest.raises(
        ValueError,
        match=r"select\(ids\): 2 ids are not in the Evaluation \(e\.g\. .*'r7'.*\); pass ids from ev\.ids",
    ):
        ev.select(["r1", "r7", "r9"])
    assert len(ev.selection) == 0


def test_select_ids_of_the_wrong_type(ev):
    with pytest.raises(ValueError, match=r"select\(ids\): 2 ids are not in the Evaluation"):
        ev.select([0, 1])


def test_codes_unknown_column(ev):
    with pytest.raises(ValueError, match=r"column='agee' is not a column of data\. Did you mean 'age'\?"):
        ev.codes("agee")


def test_predicate_bad_operator():
    with pytest.raises(ValueError, match=r"Predicate op must be one of .*'between'.*, got '=~'"):
        Predicate("age", "=~", (3,))


def test_clause_on_unknown_column(ev):
    with pytest.raises(
        ValueError, match=r"predicate column='agee' is not a column of data\. Did you mean 'age'"
    ):
        ev.select(Clause.where("code", Predicate("agee", "in", (25,))))
    assert len(ev.selection) == 0


# -- widgets ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [frame(), "ev", None, 3])
def test_confusion_matrix_needs_an_evaluation(bad):
    name = type(bad).__name__
    with pytest.raises(
        TypeError,
        match=rf"ConfusionMatrix needs an errorscope Evaluation, got {name}: build one with es\.Evaluation\(",
    ):
        es.ConfusionMatrix(bad)


def test_confusion_matrix_bad_normalize(ev):
    with pytest.raises(
        ValueError, match=r"normalize must be one of \('none', 'recall', 'precision'\), got 'rows'"
    ):
        es.ConfusionMatrix(ev, normalize="rows")


def test_confusion_matrix_bad_order(ev):
    with pytest.raises(ValueError, match=r"order must be 'class' or 'errors', got 'size'"):
        es.ConfusionMatrix(ev, order="size")


def test_confusion_matrix_bad_trait_values_after_construction(ev):
    import traitlets

    cm = es.ConfusionMatrix(ev)
    with pytest.raises(traitlets.TraitError, match=re.escape("normalize")):
        cm.normalize = "rows"
    with pytest.raises(traitlets.TraitError, match=re.escape("order")):
        cm.order = "size"
    assert (cm.normalize, cm.order) == ("none", "class")


def test_select_cells_out_of_range(ev):
    cm = es.ConfusionMatrix(ev)
    with pytest.raises(ValueError, match=r"class index 2 is out of range for 2 classes"):
        cm.select_cells(cells=[(0, 2)])
    with pytest.raises(ValueError, match=r"class index -1 is out of range for 2 classes"):
        cm.select_cells(actual=[-1])
    assert cm.clause is None


def test_confusion_matrix_threshold_out_of_range_keeps_views_consistent(ev):
    cm = es.ConfusionMatrix(ev)
    with pytest.raises(ValueError, match=r"threshold must be between 0 and 1, got 1\.5"):
        cm.threshold = 1.5
    assert ev.threshold == 0.5
    assert cm.threshold == ev.threshold  # the view must not show a threshold the Evaluation rejected


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: es.ConfusionMatrix(frame()), id="not an Evaluation"),
        pytest.param(lambda: es.ConfusionMatrix(build(y_pred="pred"), normalize="rows"), id="bad normalize"),
    ],
)
def test_failed_construction_leaves_no_error_behind(make, monkeypatch):
    """A widget whose constructor raised must not raise again when it is garbage-collected."""
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    try:
        make()
    except (TypeError, ValueError):
        pass
    else:
        pytest.fail("construction should have failed")
    gc.collect()
    messages = [f"{u.exc_type.__name__}: {u.exc_value}" for u in unraisable]
    assert messages == []
