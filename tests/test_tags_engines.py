"""Tags and the error tagger on the SQL engines: the same queue, cards and stored tags as in memory, each
tag on its row (by id), the same store readable from pandas and from Parquet, tag clauses as id lists.

``evaluation_on`` (tests/engines.py) builds the same Evaluation from one frame on each engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from engines import evaluation_on
from errorscope import evaluation as evaluation_module
from errorscope.tags import TagStoreError

pytest.importorskip("duckdb")

ARGS = {
    "y_true": "income",
    "y_score": "score",
    "labels": ["<=50K", ">50K"],
    "ids": "uid",
    "sensitive": "race",
}


@pytest.fixture(scope="module")
def frame(adult_test: pd.DataFrame) -> pd.DataFrame:
    df = adult_test.iloc[:3000].reset_index(drop=True)
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(object)
    df["score"] = np.clip(0.2 + 0.5 * (df["education-num"] > 12) + 0.01 * (df["age"] % 7), 0.01, 0.99)
    df["uid"] = np.arange(len(df)) * 3 + 7  # ids that are not row numbers
    return df


def pair(
    request: pytest.FixtureRequest, engine: str, frame: pd.DataFrame, **extra: Any
) -> tuple[es.Evaluation, es.Evaluation]:
    """(in memory, on ``engine``) Evaluations of the same rows."""
    arguments = {**ARGS, **extra}
    return es.Evaluation(frame, **arguments), evaluation_on(engine, request, frame, **arguments)


def tagger_state(t: es.ErrorTagger) -> dict[str, Any]:
    return {
        "n": t.n_queue,
        "card": t.card,
        "list": t.list_rows,
        "counts": t.counts,
        "vocabulary": t.vocabulary,
    }


@pytest.mark.parametrize("engine", ["duckdb"])
def test_the_queue_and_cards_are_the_same_on_every_engine(
    request: pytest.FixtureRequest, engine: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    memory, lazy = pair(request, engine, frame)
    taggers = [
        es.ErrorTagger(e, store=tmp_path / f"{i}.sqlite", who="tester") for i, e in enumerate((memory, lazy))
    ]
    assert tagger_state(taggers[0]) == tagger_state(taggers[1])
    assert taggers[1].n_queue == int((memory.true_codes != memory.pred_codes).sum())
    steps = [
        ("order", "loss"), ("order", "least_confident"), ("order", "stratified_random"), ("order", "id"),
        ("errors_only", False), ("position", 7), ("list_page", 2),
    ]  # fmt: skip
    for name, value in steps:
        for t in taggers:
            setattr(t, name, value)
        assert tagger_state(taggers[0]) == tagger_state(taggers[1]), name
    for e in (memory, lazy):
        e.select("age > 60 and sex == 'Female'")
    assert tagger_state(taggers[0]) == tagger_state(taggers[1])
    assert taggers[1].n_queue == int(((frame["age"] > 60) & (frame["sex"] == "Female")).sum())
    queue = taggers[1].queue
    assert list(queue["uid"]) == list(taggers[0].queue["uid"]) and len(queue) == taggers[1].n_queue


@pytest.mark.parametrize("engine", ["duckdb"])
def test_tags_land_on_their_rows_by_id_and_select_them(
    request: pytest.FixtureRequest, engine: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    """The same messages on both engines write the same tags, notes and relabels on the same ids; the tag
    clause keeps exactly the tagged rows in every view, and follows new tags."""
    memory, lazy = pair(request, engine, frame)
    taggers = [
        es.ErrorTagger(e, store=tmp_path / f"{i}.sqlite", who="tester") for i, e in enumerate((memory, lazy))
    ]
    shown = [r["id"] for r in taggers[1].list_rows[:4]]
    messages = [
        {"type": "tag", "ids": shown[:2], "tag": "mislabeled"},
        {"type": "toggle_tag", "ids": shown[1:4], "tag": "mislabeled"},  # adds to the two not tagged
        {"type": "toggle_tag", "ids": shown[1:4], "tag": "ambiguous"},
        {"type": "untag", "ids": shown[3:4], "tag": "ambiguous"},
        {"type": "note", "ids": shown[:1], "note": "<b>typo</b>"},
        {"type": "relabel", "ids": shown[1:2], "label": ">50K"},
        {"type": "undo"},
        {"type": "relabel", "ids": shown[2:3], "label": "<=50K"},
    ]
    for message in messages:
        for t in taggers:
            t._handle_message(dict(message))
    columns = ["id", "tag", "note", "relabel"]
    tags = [e.tags[columns].astype(str).to_numpy().tolist() for e in (memory, lazy)]
    assert tags[0] == tags[1] and {row[0] for row in tags[1]} == set(shown)
    audits = [t.store.audit()[["action", "id", "tag", "new"]] for t in taggers]
    pd.testing.assert_frame_equal(audits[0], audits[1])
    assert tagger_state(taggers[0]) == tagger_state(taggers[1])

    for t in taggers:
        t.select_tag("mislabeled")
    selected = [set(e.selected()["uid"]) for e in (memory, lazy)]
    assert selected[0] == selected[1] == set(map(int, shown))
    matrix = es.ConfusionMatrix(lazy)
    assert matrix.n_rows == 4
    taggers[1].tag([shown[0], str(frame["uid"].iloc[-1])], "ambiguous")
    taggers[1].select_tag("ambiguous", additive=True)  # mislabeled or ambiguous
    assert set(lazy.selected()["uid"]) == {*map(int, shown), int(frame["uid"].iloc[-1])}
    assert matrix.n_rows == len(lazy.selected())
    with pytest.raises(ValueError, match="not row ids"):
        taggers[1].tag(["8"], "mislabeled")  # 8 is no id (ids are 7, 10, ...)
    matrix.close()


def test_a_store_written_from_pandas_opens_on_parquet_with_every_tag(
    request: pytest.FixtureRequest, frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory, lazy = pair(request, "duckdb", frame)
    assert memory._fingerprint() == lazy._fingerprint()  # the same digest, streamed from DuckDB
    monkeypatch.chdir(tmp_path)
    store = memory.attach_tags()  # the default store: one file per dataset, named by the fingerprint
    store.tag([7, 10, 8998], "mislabeled")
    store.set_note([10], "check")
    expected = memory.tags
    store.close()
    reopened = lazy.attach_tags()
    assert reopened.path == store.path
    pd.testing.assert_frame_equal(lazy.tags, expected, check_dtype=False)
    assert sorted(lazy.tags["id"]) == [7, 10, 8998]  # ids in their own type
    other = frame.assign(income=np.where(frame["income"] == ">50K", "<=50K", ">50K"))
    relabelled = evaluation_on("duckdb", request, other, **ARGS)
    with pytest.raises(TagStoreError, match="another dataset"):
        relabelled.attach_tags(store.path)
    with pytest.raises(ValueError, match=r"^ids: 1 ids are not in the Evaluation"):
        reopened.tag(["7", "10.0"], "x")  # an id only by its exact text; nothing written
    assert reopened.counts() == {"mislabeled": 3}
    with pytest.raises(TagStoreError, match="use tagged_ids"):
        lazy.tag_mask(["mislabeled"])  # no per-row masks on a SQL engine


@pytest.mark.parametrize("spelling", [10, "10", np.int64(10), 10.0])
def test_every_spelling_of_an_id_is_one_row_on_a_sql_engine(
    request: pytest.FixtureRequest, frame: pd.DataFrame, tmp_path: Path, spelling: Any
) -> None:
    _, lazy = pair(request, "duckdb", frame)
    store = lazy.attach_tags(tmp_path / "t.sqlite")
    assert store.tag([spelling], "mislabeled") == 1
    assert store.tag([10, "10", np.int64(10)], "mislabeled") == 0
    assert store.tagged_ids("mislabeled") == ["10"]
    for bad in ("1e1", "10.0", " 10", float("nan"), 10.5, 11):
        with pytest.raises(ValueError, match=r"^ids: 1 ids are not in the Evaluation"):
            store.tag([13, bad], "mislabeled")
    assert store.counts() == {"mislabeled": 1}


def test_text_ids_on_a_sql_engine(
    request: pytest.FixtureRequest, frame: pd.DataFrame, tmp_path: Path
) -> None:
    df = frame.assign(uid="r" + frame["uid"].astype(str))
    memory, lazy = pair(request, "duckdb", df)
    assert memory._fingerprint() == lazy._fingerprint()
    tagger = es.ErrorTagger(lazy, store=tmp_path / "t.sqlite")
    tagger.tag(["r7", "r13"], "mislabeled")
    tagger.select_tag("mislabeled")
    assert list(lazy.selected()["uid"]) == ["r7", "r13"] and list(lazy.tags["id"]) == ["r13", "r7"]
    with pytest.raises(ValueError, match="not row ids"):
        tagger.tag([7], "mislabeled")


def test_a_tag_clause_lists_at_most_its_limit_of_ids(
    request: pytest.FixtureRequest, frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lazy = pair(request, "duckdb", frame)
    tagger = es.ErrorTagger(lazy, store=tmp_path / "t.sqlite")
    tagger.tag(frame["uid"].iloc[:30].tolist(), "mislabeled")
    monkeypatch.setattr(evaluation_module, "MAX_TAG_CLAUSE_IDS", 20)
    with pytest.raises(
        ValueError, match="30 tagged rows; on the duckdb engine a tag clause keeps at most 20"
    ):
        lazy.select("tag == 'mislabeled'")
    assert len(lazy.selection) == 0  # a refused clause changes nothing
    monkeypatch.setattr(evaluation_module, "MAX_TAG_CLAUSE_IDS", 30)
    assert len(lazy.select("tag == 'mislabeled'").filter().resolved) == 1 and len(lazy.selected()) == 30


@pytest.mark.spark
def test_on_spark_the_queue_tags_and_tag_clause_match_memory(
    request: pytest.FixtureRequest, frame: pd.DataFrame, tmp_path: Path
) -> None:
    """Spark in few steps (each costs queries of 0.3-1 s): the same first card and list, one tag by id,
    the same fingerprint, and the tag clause keeping exactly the tagged rows."""
    memory, lazy = pair(request, "spark", frame)
    assert memory._fingerprint() == lazy._fingerprint()
    taggers = [
        es.ErrorTagger(e, store=tmp_path / f"{i}.sqlite", who="tester") for i, e in enumerate((memory, lazy))
    ]
    assert tagger_state(taggers[0]) == tagger_state(taggers[1])
    shown = [r["id"] for r in taggers[1].list_rows[:2]]
    taggers[1].tag(shown, "mislabeled")
    taggers[1].select_tag("mislabeled")
    assert sorted(lazy.selected()["uid"]) == sorted(map(int, shown)) and sorted(lazy.tags["id"]) == sorted(
        map(int, shown)
    )
