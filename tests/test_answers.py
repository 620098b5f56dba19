"""The engines' answer cache and the coordinator: an answer is reused only for the same plan, clauses and
data; a click back to a recent clause is answered from the cache with the numbers a fresh Evaluation
computes; every view's plans are answered as one batch before the views recompute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope.plans import ALL_ROWS, CONFUSION, Filter, GroupCounts, Key, Measure
from errorscope.query import parse


@pytest.fixture
def scored(adult_test: pd.DataFrame) -> pd.DataFrame:
    df = adult_test.iloc[:2000].copy()
    rng = np.random.default_rng(1)
    df["score"] = np.clip(0.4 * (df["income"] == ">50K") + 0.6 * rng.random(len(df)), 0, 1).round(3)
    df["id"] = np.arange(len(df)) + 10
    return df


ARGS: dict[str, Any] = {"y_true": "income", "y_score": "score", "ids": "id"}


def build(df: pd.DataFrame, engine: str, tmp_path: Path) -> es.Evaluation:
    if engine == "numpy":
        return es.Evaluation(df, **ARGS)
    pytest.importorskip("duckdb")
    path = tmp_path / "scored.parquet"
    df.to_parquet(path)
    return es.Evaluation(str(path), **ARGS)


ENGINES = ["numpy", "duckdb"]


@pytest.mark.parametrize("engine", ENGINES)
def test_same_plan_same_clauses_is_one_answer_and_read_only(scored, engine, tmp_path):
    ev = build(scored, engine, tmp_path)
    ev.select("age > 40")
    where = ev.selection.filter()
    first = ev.engine.count(CONFUSION, where)
    hits = ev.engine.cache_hits
    again = ev.engine.count(CONFUSION, ev.selection.filter())
    assert again is first and ev.engine.cache_hits == hits + 1
    with pytest.raises(ValueError, match="read-only"):
        first.counts[0, 0] += 1  # answers are shared by the views: nobody may change one in place
    other = ev.engine.count(GroupCounts((Key.actual(),)), where)
    assert other is not first and other.counts.sum() == first.counts.sum()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_click_back_reuses_answers_with_a_fresh_evaluations_numbers(scored, engine, tmp_path):
    ev = build(scored, engine, tmp_path)
    matrix, groups = es.ConfusionMatrix(ev), es.GroupComparer(ev, groups="sex", n_boot=0)
    matrix.select_cells(cells=[(1, 0)])
    first = groups.table.copy()
    matrix.select_cells(cells=[(0, 1)])
    hits = ev.engine.cache_hits
    matrix.select_cells(cells=[(1, 0)])  # back to the first cell
    assert ev.engine.cache_hits > hits
    pd.testing.assert_frame_equal(groups.table, first)
    fresh = es.Evaluation(scored, **ARGS)
    fresh_groups = es.GroupComparer(fresh, groups="sex", n_boot=0)
    es.ConfusionMatrix(fresh).select_cells(cells=[(1, 0)])
    pd.testing.assert_frame_equal(groups.table, fresh_groups.table, check_exact=False, rtol=1e-12)


def test_answers_follow_the_data_tags_predictions_and_bins(scored, tmp_path):
    ev = es.Evaluation(scored, **ARGS)
    tagger = es.ErrorTagger(ev, store=tmp_path / "tags.sqlite")
    tagged = parse("tag == 'mislabeled'", "code", ev.query_name)
    ev.selection.set(tagged)
    assert ev.engine.n_kept(ev.selection.filter()) == 0
    tagger.tag(ev.ids[:7], "mislabeled")
    assert ev.engine.n_kept(ev.selection.filter()) == 7  # the tag clause re-resolved, not a stale answer
    ev.selection.remove("code")
    ev.selection.set(tagged)  # the same clause set again after a write: its new rows
    assert ev.engine.n_kept(ev.selection.filter()) == 7
    ev.selection.remove("code")

    before = ev.engine.count(GroupCounts((Key.column("age"),)), ALL_ROWS).counts.copy()
    ev.set_bins("age", [-np.inf, 30, 50, np.inf])
    after = ev.engine.count(GroupCounts((Key.column("age"),)), ALL_ROWS).counts
    assert after.shape == (3,) and after.sum() == before.sum() == ev.n_rows

    predicted = ev.engine.count(CONFUSION, ALL_ROWS).counts.copy()
    ev.threshold = 0.9
    moved = ev.engine.count(CONFUSION, ALL_ROWS).counts
    assert moved[:, 1].sum() < predicted[:, 1].sum()  # fewer positives at a higher threshold


def test_a_filter_made_by_hand_is_never_answered_from_the_cache(scored, tmp_path):
    ev = build(scored, "duckdb", tmp_path)
    counts = []
    for text in ("age > 30", "age > 60"):
        clause = parse(text, "q", ev.query_name)
        where = Filter(("q",), (ev.engine.resolve(clause),))  # the same stamp for two clauses
        counts.append(ev.engine.n_kept(where))
    assert counts == [(scored["age"] > 30).sum(), (scored["age"] > 60).sum()]


def test_every_views_plans_are_answered_before_the_views_recompute(scored, tmp_path):
    ev = build(scored, "duckdb", tmp_path)
    matrix, slices = es.ConfusionMatrix(ev), es.SliceBrowser(ev, discover=False)
    groups = es.GroupComparer(ev, groups="sex", n_boot=0)
    assert set(ev.engine.consumers()) >= {matrix.source, slices.source, groups.source}
    asked_in_batch: list[Any] = []
    computed = type(ev.engine)._count

    def spy(self: Any, plan: GroupCounts, where: Filter) -> Any:
        asked_in_batch.append(in_batch)
        return computed(self, plan, where)

    answer_batch = type(ev.engine)._answer_batch

    def batch(self: Any, requests: Any) -> None:
        nonlocal in_batch
        in_batch = True
        try:
            answer_batch(self, requests)
        finally:
            in_batch = False

    in_batch = False
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(ev.engine), "_count", spy)
        patch.setattr(type(ev.engine), "_answer_batch", batch)
        matrix.select_cells(cells=[(1, 0)])
    assert asked_in_batch and all(asked_in_batch)  # nothing computed after the batch: the views only read
    groups.close()
    assert groups.source not in ev.engine.consumers()


def test_spark_answers_a_clicks_counts_in_one_job_with_the_numbers_of_each_query(scored, spark):
    frame = spark.createDataFrame(scored.astype(object).where(scored.notna(), None))
    ev = es.Evaluation(frame, **ARGS)
    memory = es.Evaluation(scored, **ARGS)
    ev.select("age > 30 and sex == 'Female'")
    where = ev.selection.filter()
    from errorscope.slicing import slice_columns, slice_key

    plans = [GroupCounts((slice_key(c), Key("outcome", positive=1))) for c in slice_columns(ev)[:6]]
    plans.append(GroupCounts((Key.actual(), Key.predicted()), (Measure("score", 1),)))
    together = ev.engine._count_together(plans, where)
    assert together is not None
    for plan, counted in zip(plans, together, strict=True):
        alone = ev.engine._count(plan, where)
        np.testing.assert_array_equal(counted.counts, alone.counts)
        np.testing.assert_allclose(counted.sums, alone.sums, rtol=1e-9)
    slices = es.SliceBrowser(ev, discover=False)
    twin = es.SliceBrowser(memory, discover=False)
    es.ConfusionMatrix(ev).select_cells(cells=[(1, 0)])  # answered by the batch
    es.ConfusionMatrix(memory).select_cells(cells=[(1, 0)])
    memory.select("age > 30 and sex == 'Female'")
    columns = ["description", "size", "error_rate", "p_value"]
    pd.testing.assert_frame_equal(
        slices.table[columns].reset_index(drop=True), twin.table[columns].reset_index(drop=True)
    )
