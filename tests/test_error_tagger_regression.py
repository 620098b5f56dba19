"""ErrorTagger on a regression (Wage): the queue by residual, cards with actual, predicted and residual, relabels
as numbers (kept by the store, shown by ev.tags), non-numbers refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import traitlets

import errorscope as es
from errorscope.tags import TagStore, relabel_number


@pytest.fixture
def ev(wage: pd.DataFrame) -> es.Evaluation:
    return es.Evaluation(wage, y_true="wage", y_pred="pred", sensitive="race", task="regression")


@pytest.fixture
def tagger(ev: es.Evaluation, tmp_path) -> es.ErrorTagger:  # type: ignore[no-untyped-def]
    return es.ErrorTagger(ev, store=tmp_path / "tags.sqlite", who="tester")


def test_queue_orders_by_residual(ev: es.Evaluation, tagger: es.ErrorTagger) -> None:
    assert tagger.order == "loss" and tagger.errors_only is False and tagger.task == "regression"
    assert tagger.n_queue == ev.n_rows and tagger.class_names == []
    residual = ev.residual
    queue = tagger.queue
    np.testing.assert_array_equal(
        queue["id"].to_numpy()[:50], ev.ids[np.argsort(-np.abs(residual), kind="stable")][:50]
    )
    card = tagger.card
    worst = int(np.argmax(np.abs(residual)))
    assert card["id"] == str(ev.ids[worst])
    assert card["residual_value"] == pytest.approx(residual[worst])
    assert card["actual"] == es.widgets.base.value_text(ev.y_true[worst])
    assert card["predicted"] == es.widgets.base.value_text(ev.y_pred[worst])
    tagger.order = "over_prediction"
    assert tagger.card["id"] == str(ev.ids[int(np.argmax(residual))])
    tagger.order = "under_prediction"
    assert tagger.card["id"] == str(ev.ids[int(np.argmin(residual))])
    tagger.order = "stratified_random"
    assert tagger.n_queue == ev.n_rows
    tagger.errors_only = True  # no row of a regression is an error: the queue keeps every row
    assert tagger.errors_only is False


def test_the_queue_follows_a_selection(ev: es.Evaluation, tagger: es.ErrorTagger) -> None:
    ev.select("age > 60")
    assert tagger.n_queue == int((ev.data["age"] > 60).sum())
    assert set(tagger.queue["id"].astype(str)) == set(ev.ids[ev.data["age"].to_numpy() > 60].astype(str))


def test_relabel_is_a_number_kept_by_the_store(ev: es.Evaluation, tagger: es.ErrorTagger, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ids = list(ev.ids[:2])
    tagger.tag(ids, "mislabeled", relabel=73.5)
    tags = ev.tags
    assert list(tags["relabel"]) == [73.5, 73.5] and tags["relabel"].dtype == np.float64
    tagger.relabel([ev.ids[2]], "101.25")  # as the UI sends it
    assert ev.tags.set_index("id").loc[ev.ids[2], "relabel"] == 101.25
    tagger.relabel([tagger.card["id"]], 88)
    assert tagger.card["relabel"] == "88.0"  # the card shows the row's relabel
    reopened = TagStore(tmp_path / "tags.sqlite")
    assert sorted(reopened.tags()["relabel"].dropna().astype(float)) == [73.5, 73.5, 88.0, 101.25]
    tagger.relabel([ev.ids[2]], None)
    assert ev.ids[2] not in set(ev.tags["id"])


@pytest.mark.parametrize("bad", ["abc", "", float("nan"), float("inf"), True, None, [1]])
def test_a_relabel_that_is_not_a_number_is_refused(
    ev: es.Evaluation, tagger: es.ErrorTagger, bad: object
) -> None:
    if bad is None:  # None clears; from code it is not an error
        tagger.relabel([ev.ids[0]], None)
        return
    with pytest.raises(
        ValueError, match=r"is not a number: a regression's relabel is the corrected target value"
    ):
        tagger.tag([ev.ids[0]], "mislabeled", relabel=bad)
    assert ev.tags.empty  # nothing was written
    with pytest.raises(ValueError, match="is not a number"):
        ev.tag_store.set_relabel([str(ev.ids[0])], bad)


def test_the_ui_relabel_message_says_when_it_is_not_a_number(
    ev: es.Evaluation, tagger: es.ErrorTagger
) -> None:
    tagger._handle_message({"type": "relabel", "ids": [str(ev.ids[0])], "label": "seventy"})
    assert "is not a number" in tagger.status and ev.tags.empty
    tagger._handle_message({"type": "relabel", "ids": [str(ev.ids[0])], "label": "70.5"})
    assert ev.tags["relabel"].tolist() == [70.5]


def test_classification_orders_are_refused(ev: es.Evaluation, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        ValueError, match=r"order must be one of \('loss', 'over_prediction'.*for a regression"
    ):
        es.ErrorTagger(ev, store=tmp_path / "t.sqlite", order="confident_wrong")
    tagger = es.ErrorTagger(ev, store=tmp_path / "t.sqlite")
    with pytest.raises(traitlets.TraitError, match="for a regression"):
        tagger.order = "least_confident"


def test_relabel_number_text() -> None:
    assert relabel_number(73.5) == "73.5" and relabel_number(np.float32(2.5)) == "2.5"
    assert relabel_number(" 1e3 ") == "1000.0" and relabel_number("\u22124") == "-4.0"
    assert relabel_number(7) == "7.0"
