"""How columns become codes: durations and Decimals binned as numbers, values that print alike kept
apart, a categorical's own order, and bin edges that never make an empty slice."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope.coding import encode_column
from errorscope.fairness import group_metrics, make_groups
from errorscope.slicing import slice_table


@pytest.fixture
def adult(adult_test: pd.DataFrame) -> pd.DataFrame:
    return adult_test.iloc[:3000].reset_index(drop=True)


def _evaluation(data: pd.DataFrame, **kwargs) -> es.Evaluation:  # type: ignore[no-untyped-def]
    predicted = np.where(data["education-num"] >= 13, ">50K", "<=50K")
    return es.Evaluation(data, "income", y_pred=predicted, **kwargs)


def _assert_predicates_select_their_codes(ev: es.Evaluation, column: str) -> None:
    coded = ev.codes(column)
    for code, predicate in enumerate(coded.predicates):
        np.testing.assert_array_equal(
            ev.engine.predicate_mask(predicate), coded.codes == code, err_msg=coded.labels[code]
        )


def test_durations_are_binned_by_length_with_readable_labels(adult: pd.DataFrame) -> None:
    adult["session"] = pd.to_timedelta(adult["hours-per-week"] * 60 + adult["age"], unit="min")
    adult.loc[::50, "session"] = pd.NaT
    ev = _evaluation(adult)
    coded = ev.codes("session")
    assert coded.kind == "numeric" and 8 <= coded.n_codes <= 12  # about 10 bins and missing, not 19 values
    assert (
        coded.labels[0].startswith("< ")
        and coded.labels[-2].startswith("≥ ")
        and coded.labels[-1] == "missing"
    )
    assert all(
        "days" not in label and ":" not in label for label in coded.labels
    )  # "1h 30m", not "0 days 01:30:00"
    hours = adult["session"].dt.total_seconds().to_numpy() / 3600
    tops = [np.nanmax(hours[coded.codes == i]) for i in range(coded.n_codes - 1)]
    bottoms = [np.nanmin(hours[coded.codes == i]) for i in range(coded.n_codes - 1)]
    assert all(t < b for t, b in zip(tops[:-1], bottoms[1:], strict=True))  # bins in order of length
    assert coded.counts()[-1] == adult["session"].isna().sum()
    _assert_predicates_select_their_codes(ev, "session")
    ev.set_bins("session", ["2h", "40h", pd.Timedelta(hours=50)])
    assert ev.codes("session").labels == (
        "< 2h",
        "in [2h, 1d 16h)",
        "in [1d 16h, 2d 2h)",
        "≥ 2d 2h",
        "missing",
    )
    _assert_predicates_select_their_codes(ev, "session")


def test_decimals_are_binned_as_the_numbers_they_are(adult: pd.DataFrame) -> None:
    adult["gain"] = [Decimal(int(v)) / 100 for v in adult["fnlwgt"]]
    adult["gain_float"] = adult["fnlwgt"] / 100
    ev = _evaluation(adult)
    decimals, floats = ev.codes("gain"), ev.codes("gain_float")
    assert decimals.kind == "numeric" and decimals.n_codes == 10
    np.testing.assert_array_equal(decimals.codes, floats.codes)
    assert decimals.labels == floats.labels
    _assert_predicates_select_their_codes(ev, "gain")


def test_values_that_print_alike_get_distinct_labels(adult: pd.DataFrame) -> None:
    adult["mixed"] = np.array([1 if i % 3 else "1" for i in range(len(adult))], dtype=object)
    ev = _evaluation(adult)
    coded = ev.codes("mixed")
    assert sorted(coded.labels) == ["'1'", "1"]
    assert dict(zip(coded.labels, coded.counts(), strict=True)) == {"1": 2000, "'1'": 1000}
    _assert_predicates_select_their_codes(ev, "mixed")
    table = slice_table(ev, columns=["mixed"])
    assert sorted(table["description"]) == ["mixed = '1'", "mixed = 1"]


def _education_by_level(adult: pd.DataFrame) -> list[str]:
    return adult.groupby("education", observed=True)["education-num"].first().sort_values().index.tolist()


@pytest.mark.parametrize("ordered", [True, False])
def test_categories_keep_their_own_order(adult: pd.DataFrame, ordered: bool) -> None:
    levels = _education_by_level(adult)  # Preschool ... Doctorate: neither alphabetical nor by frequency
    assert levels != sorted(levels) and levels != adult["education"].value_counts().index.tolist()
    adult["level"] = pd.Categorical(adult["education"], categories=[*levels, "never seen"], ordered=ordered)
    coded = _evaluation(adult).codes("level")
    assert list(coded.labels) == levels  # a category no row has is no slice
    np.testing.assert_array_equal(coded.counts(), adult["education"].value_counts()[levels].to_numpy())


def test_many_categories_keep_the_most_frequent_in_category_order(adult: pd.DataFrame) -> None:
    levels = _education_by_level(adult)
    adult["level"] = pd.Categorical(adult["education"], categories=levels[::-1])
    coded = encode_column("level", adult["level"], max_categories=6)
    top = adult["education"].value_counts().index[:5]
    assert list(coded.labels) == [*(c for c in levels[::-1] if c in top), "other"]


def test_groups_follow_the_categorical_order(adult: pd.DataFrame) -> None:
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import accuracy_score

    by_size = adult["race"].value_counts().index.tolist()
    adult["race"] = pd.Categorical(adult["race"], categories=by_size[::-1])  # smallest group first
    ev = _evaluation(adult, sensitive="race")
    expected = adult.groupby("race", observed=True).size().index.tolist()  # pandas' order: the categories'
    assert expected == by_size[::-1]
    assert list(make_groups(ev).labels) == expected
    table = group_metrics(ev, make_groups(ev), n_boot=0)
    assert table["group"].tolist() == expected
    assert es.GroupComparer(ev, groups="race").table["group"].tolist() == expected
    frame = MetricFrame(
        metrics=accuracy_score, y_true=ev.y_true, y_pred=ev.y_pred, sensitive_features=adult["race"]
    )
    oracle = frame.by_group  # Fairlearn sorts its groups by name: compare by name
    np.testing.assert_allclose(table["accuracy"], oracle.loc[expected].to_numpy())


@pytest.mark.parametrize(
    ("edges", "labels"),
    [
        ([-np.inf, 30, 50, np.inf], ("< 30", "in [30, 50)", "≥ 50")),
        ([0, 17, 30, 50, 200], ("< 30", "in [30, 50)", "≥ 50")),
        ([30, 50, 90], ("< 30", "in [30, 50)", "in [50, 90)", "≥ 90")),
    ],
    ids=["infinite ends", "outside or at the smallest value", "at the largest value"],
)
def test_bin_edges_outside_the_values_make_no_empty_slice(
    adult: pd.DataFrame, edges: list[float], labels: tuple[str, ...]
) -> None:
    ev = _evaluation(adult)
    ev.set_bins("age", edges)
    coded = ev.codes("age")
    assert coded.labels == labels and coded.counts().min() > 0
    ages = adult["age"]
    np.testing.assert_array_equal(coded.counts()[:2], [(ages < 30).sum(), ((ages >= 30) & (ages < 50)).sum()])
    _assert_predicates_select_their_codes(ev, "age")
    assert (slice_table(ev, columns=["age"])["size"] > 0).all()


def test_pyarrow_backed_columns_are_coded_as_their_numpy_twins(adult: pd.DataFrame) -> None:
    pytest.importorskip("pyarrow")
    adult["session"] = pd.to_timedelta(adult["hours-per-week"], unit="h")
    adult["seen"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(adult["fnlwgt"] % 400, unit="D")
    adult["senior"] = adult["age"] >= 60
    arrow = adult.convert_dtypes(dtype_backend="pyarrow")  # what read_parquet(dtype_backend="pyarrow") gives
    assert all(isinstance(arrow[c].dtype, pd.ArrowDtype) for c in ["workclass", "session", "seen", "senior"])
    numpy_ev, arrow_ev = _evaluation(adult), _evaluation(arrow)
    for column in ["workclass", "age", "session", "seen", "senior"]:
        expected, got = numpy_ev.codes(column), arrow_ev.codes(column)
        assert (got.kind, got.labels) == (expected.kind, expected.labels), column
        np.testing.assert_array_equal(got.codes, expected.codes)
        _assert_predicates_select_their_codes(arrow_ev, column)


def test_equally_frequent_values_are_coded_in_value_order() -> None:
    """Ties in frequency are broken by value, not by first appearance, so a SQL engine codes alike."""
    values = pd.Series(["b", "c", "a", "c", "a", "b", None, "d"])
    coded = encode_column("x", values)
    assert coded.labels == ("a", "b", "c", "d", "missing")
    assert coded.codes.tolist() == [1, 2, 0, 2, 0, 1, 4, 3]
    numbers = encode_column("n", pd.Series([3, 1, 2, 2, 1, 3, 5]))
    assert numbers.labels == ("1", "2", "3", "5")
    mixed = encode_column("m", pd.Series([2, "a", "a", 2, "b"], dtype=object))  # no order: first appearance
    assert mixed.labels == ("2", "a", "b")
