"""Row ids of every kind (text, integers, mixed, pandas extension dtypes) through the whole workflow.

pandas 3 stores text as its own ``str`` dtype: nothing may hand that dtype to numpy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import errorscope as es

N = 300


def _text_ids(n: int) -> list[str]:
    return [f"p{i:04d}" for i in range(n)]


ID_KINDS: dict[str, tuple[str, Any]] = {  # how the ids arrive: ("index" | "column" | "array", values)
    "text index": ("index", _text_ids),
    "integer index": ("index", lambda n: np.arange(1000, 1000 + n)),
    "text column (string dtype)": ("column", lambda n: pd.array(_text_ids(n), dtype="string")),
    "nullable Int64 column": ("column", lambda n: pd.array(range(n), dtype="Int64")),
    "categorical column": ("column", lambda n: pd.Categorical(_text_ids(n))),
    "mixed int and text array": ("array", lambda n: np.array([i if i % 2 else f"p{i}" for i in range(n)], dtype=object)),
}  # fmt: skip


NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


@pytest.fixture
def sample(adult_test: pd.DataFrame) -> pd.DataFrame:
    return adult_test.iloc[:N].reset_index(drop=True)


@pytest.fixture(scope="module")
def model(adult_train: pd.DataFrame) -> Any:
    """A small tree model: shap's TreeExplainer explains a row in milliseconds."""
    from sklearn.ensemble import GradientBoostingClassifier

    train = adult_train.iloc[:4000]
    return GradientBoostingClassifier(n_estimators=20, random_state=0).fit(train[NUMERIC], train["income"])


def _evaluation(sample: pd.DataFrame, model: Any, kind: str) -> es.Evaluation:
    where, make = ID_KINDS[kind]
    data, ids = sample.copy(), make(N)
    if where == "index":
        data.index = pd.Index(ids)
        return es.Evaluation(data, "income", model=model, features=NUMERIC, sensitive="sex")
    if where == "column":
        data["row_id"] = ids
        return es.Evaluation(data, "income", model=model, features=NUMERIC, sensitive="sex", ids="row_id")
    return es.Evaluation(data, "income", model=model, features=NUMERIC, sensitive="sex", ids=ids)


@pytest.mark.parametrize("kind", list(ID_KINDS))
def test_ids_of_every_kind_work_in_dashboard_tags_explanations_and_report(
    kind: str, sample: pd.DataFrame, model: Any, tmp_path: Path
) -> None:
    ev = _evaluation(sample, model, kind)
    assert isinstance(ev.ids, np.ndarray) and not isinstance(ev.ids.dtype, pd.api.extensions.ExtensionDtype)
    board = es.dashboard(ev, store=tmp_path / "tags.sqlite")
    wanted = [ev.ids[3], ev.ids[4], ev.ids[10]]
    assert board.tagger.tag(wanted, "mislabeled") == 3
    tags = ev.tags
    assert sorted(tags["id"].tolist(), key=str) == sorted(wanted, key=str)  # in the ids' own type
    board.tagger.select_tag("mislabeled")
    assert np.flatnonzero(ev.selection.mask()).tolist() == [3, 4, 10]
    assert board.confusion_matrix.n_rows == 3
    assert board.force_viewer is not None
    explanation = board.force_viewer.explain_row(ev.ids[4])
    assert len(explanation) == len(ev.features)
    assert board.force_viewer.current == str(ev.ids[4])
    page = ev.report(tmp_path / "report.html").read_text()
    assert "mislabeled" in page
    board.close()


def test_ids_equal_as_text_are_refused(sample: pd.DataFrame) -> None:
    ids = np.array([*range(N - 1), "0"], dtype=object)  # 0 and "0": one tag row for two data rows
    with pytest.raises(ValueError, match=r"ids 0 and '0' are the same as text.*ids of one type"):
        es.Evaluation(sample, "income", y_pred=sample["income"], ids=ids)
