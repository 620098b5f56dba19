"""Bad input around feature coding fails early with a message that names the argument and the fix."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope.explain import Explainer


def frame() -> pd.DataFrame:
    """Six rows: labels, predictions and scores, then one column of each kind the cases misuse."""
    scored = pd.DataFrame({"label": [0, 1, 0, 1, 1, 0], "pred": [0, 1, 1, 1, 0, 0]})
    return scored.assign(
        p1=[0.1, 0.9, 0.6, 0.7, 0.4, 0.2],
        age=[25, 61, 47, 70, 33, 52],
        code=np.array([3, 1, 4, 1, 5, 9], dtype=object),
        grade=pd.Categorical([1, 2, 1, 2, 3, 3]),
        wait=pd.to_timedelta([5, 10, 15, 20, 25, 30], unit="min"),
    )


def binary(**kwargs) -> es.Evaluation:  # type: ignore[no-untyped-def]
    kwargs.setdefault("y_pred", "pred")
    return es.Evaluation(frame(), "label", **kwargs)


PROBA3 = np.array(
    [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]]
)


def three_class(**kwargs) -> es.Evaluation:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"y": ["a", "b", "c", "a", "b", "c"], "f": [1.0, 2, 3, 4, 5, 6]})
    return es.Evaluation(data, "y", y_score=PROBA3, **kwargs)


def shap_values(bad: float | None = None, row: int = 2) -> np.ndarray:
    values = np.linspace(-1, 1, 6 * 4).reshape(6, 4)  # 6 rows, 4 features (age, code, grade, wait)
    if bad is not None:
        values[row, 1] = bad
    return values


def explain(values: np.ndarray, base_values: float = 0.0) -> None:
    Explainer(binary(features=["age", "code", "grade", "wait"]), values=values, base_values=base_values)


CASES: dict[str, tuple[Callable[[], object], type[Exception], str]] = {
    "text a numeric column": (
        lambda: binary(text="age"), TypeError,
        r"text='age' is a column of int64, not text: text= names a column of strings .*Pass a text column",
    ),
    "text an object column of numbers": (
        lambda: binary(text="code"), TypeError, r"text='code' is a column of integer, not text: text= names",
    ),
    "text a categorical of numbers": (
        lambda: binary(text="grade"), TypeError, r"text='grade' is a column of int64, not text: text= names",
    ),
    "threshold on a multiclass task": (
        lambda: three_class(threshold=0.3), ValueError,
        r"threshold=0\.3 has no effect: threshold only applies to a binary Evaluation .*this one has 3 classes"
        r".*Omit threshold=",
    ),
    "threshold with explicit y_pred": (
        lambda: binary(threshold=0.7), ValueError,
        r"threshold=0\.7 has no effect: .*this one has explicit y_pred.*Omit threshold=",
    ),
    "bin edges all outside the values": (
        lambda: binary().set_bins("age", [-np.inf, 10, np.inf]), ValueError,
        r"set_bins\('age', edges\): no edge falls inside the values' range \[25, 70\].*give cut points between",
    ),
    "bin edges as numbers for a duration": (
        lambda: binary().set_bins("wait", [10, 20]), TypeError,
        r"set_bins\('wait', edges\): edges must be durations, e\.g\. \[\"30min\", \"1h\", \"4h\"\]",
    ),
    "bin edges outside a duration's values": (
        lambda: binary().set_bins("wait", ["1h", "2h"]), ValueError,
        r"set_bins\('wait', edges\): no edge falls inside the values' range \[5m, 30m\]",
    ),
    "SHAP values with NaN": (
        lambda: explain(shap_values(np.nan)), ValueError,
        r"values has NaN or infinite SHAP values in 1 row\(s\) \(first: row 2\): every contribution must be a finite number",
    ),
    "SHAP values with inf": (
        lambda: explain(shap_values(-np.inf, row=4)), ValueError,
        r"values has NaN or infinite SHAP values in 1 row\(s\) \(first: row 4\)",
    ),
    "SHAP base_values NaN": (
        lambda: explain(shap_values(), base_values=np.nan), ValueError,
        r"base_values has NaN or infinite values: pass the explainer's finite expected value",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_names_the_argument(name: str) -> None:
    build, error, pattern = CASES[name]
    with pytest.raises(error, match=pattern):
        build()


def test_threshold_default_and_binary_scores_still_work() -> None:
    assert three_class().threshold == 0.5 and binary().threshold == 0.5
    ev = es.Evaluation(frame(), "label", y_score="p1", threshold=0.65)
    assert ev.y_pred.tolist() == [0, 1, 0, 1, 0, 0]
    notes = ["a", "bb", None, "dd", "e", "ffff"]
    for column in (pd.array(notes, dtype="string"), np.array(notes, dtype=object), pd.Categorical(notes)):
        text = frame().assign(note=column)
        assert es.Evaluation(text, "label", y_pred="pred", text="note").text_column == "note"
