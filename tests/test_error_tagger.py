"""ErrorTagger in the kernel: its queue, the UI's messages, relabels and the tag selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import errorscope as es
from errorscope.ranking import row_order


@pytest.fixture
def ev() -> es.Evaluation:
    df = es.datasets.load_adult()
    score = np.clip(0.2 + 0.5 * (df["education-num"] > 12), 0.01, 0.99)
    return es.Evaluation(df, "income", y_score=score, labels=["<=50K", ">50K"])


@pytest.fixture
def tagger(ev: es.Evaluation, tmp_path: Path) -> es.ErrorTagger:
    return es.ErrorTagger(ev, store=tmp_path / "tags.sqlite", tags=["mislabeled", "ambiguous"], who="tester")


def test_queue_is_the_selections_errors_confident_first(ev: es.Evaluation, tagger: es.ErrorTagger) -> None:
    wrong = ev.true_codes != ev.pred_codes
    assert tagger.n_queue == wrong.sum()
    expected = row_order(ev, wrong, by="confident_wrong")
    assert list(tagger.queue["id"]) == list(ev.ids[expected])
    ev.select("age > 60")
    assert tagger.n_queue == (wrong & (ev.data["age"] > 60).to_numpy()).sum()
    tagger.errors_only = False
    assert tagger.n_queue == (ev.data["age"] > 60).sum()
    tagger.order = "stratified_random"
    assert tagger.card["id"] == str(tagger.queue["id"].iloc[0])


def test_messages_act_on_the_rows_they_name_and_are_acknowledged(
    tagger: es.ErrorTagger, ev: es.Evaluation, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict] = []
    monkeypatch.setattr(tagger, "send", sent.append)
    first, other = tagger.card["id"], str(tagger.queue["id"].iloc[5])
    tagger._handle_message({"type": "tag", "ids": [other], "tag": "mislabeled", "seq": 1})
    assert list(map(str, ev.tags["id"])) == [other] and tagger.card["tags"] == []  # not the card's row
    tagger._handle_message({"type": "tag", "ids": [other], "tag": "mislabeled", "seq": 2})  # never a toggle
    tagger._handle_message({"type": "tag", "ids": [first], "tag": "mislabeled", "seq": 3})
    assert tagger.card["tags"] == ["mislabeled"] and tagger.counts == [2, 0]
    assert tagger.status.startswith("Saved")
    tagger._handle_message({"type": "untag", "ids": [first], "tag": "mislabeled", "seq": 4})
    assert tagger.card["tags"] == [] and tagger.counts == [1, 0]
    assert list(tagger.store.audit()["action"]) == ["tag added", "tag added", "tag removed"]
    tagger._handle_message({"type": "goto", "position": 3, "seq": 5, "view": "v1"})
    assert tagger.position == 3 and tagger.card["position"] == 3 and tagger.card["id"] != first
    assert sent == [
        *({"type": "ack", "seq": k} for k in range(1, 5)),
        {"type": "ack", "seq": 5, "view": "v1"},
    ]

    checked = [r["id"] for r in tagger.list_rows[:3]]
    tagger._handle_message({"type": "toggle_tag", "ids": checked, "tag": "ambiguous"})
    assert set(ev.tags.loc[ev.tags["tag"] == "ambiguous", "id"].astype(str)) == set(checked)
    tagger._handle_message({"type": "toggle_tag", "ids": checked, "tag": "ambiguous"})
    assert tagger.counts == [1, 0]
    tagger._handle_message({"type": "undo"})
    assert tagger.counts == [1, 3]
    tagger._handle_message({"type": "add_tag_name", "name": "<img src=x onerror=alert(1)>"})
    assert tagger.vocabulary[-1] == "<img src=x onerror=alert(1)>"


@pytest.mark.parametrize("kind", ["tag", "untag", "toggle_tag", "note", "relabel"])
def test_a_message_naming_no_rows_changes_nothing(tagger: es.ErrorTagger, kind: str) -> None:
    tagger.checked = [r["id"] for r in tagger.list_rows[:2]]  # neither the checked rows nor the card's row
    tagger._handle_message({"type": kind, "tag": "mislabeled", "note": "x", "label": ">50K", "seq": 1})
    assert tagger.store.audit().empty and tagger.status == f"Ignored {kind!r}: the message named no rows."


def test_an_ack_follows_a_failed_message(tagger: es.ErrorTagger, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict] = []
    monkeypatch.setattr(tagger, "send", sent.append)
    with pytest.raises(ValueError, match="not row ids"):
        tagger._handle_message({"type": "tag", "ids": ["no-such-id"], "tag": "mislabeled", "seq": 7})
    assert sent == [{"type": "ack", "seq": 7}]  # the browser's queued keys never wait forever


def test_a_new_queue_starts_at_its_top_and_tag_writes_keep_the_place(
    tagger: es.ErrorTagger, ev: es.Evaluation
) -> None:
    ev.select("age > 60")
    tagger.position = 5
    place = tagger.card["id"]
    tagger.tag([tagger.queue["id"].iloc[0]], "mislabeled")  # the queue's rows did not change
    assert tagger.position == 5 and tagger.card["id"] == place
    ev.selection.clear()
    assert tagger.n_queue == int(ev.wrong.sum())
    assert (tagger.position, tagger.card["position"]) == (0, 0)
    assert tagger.card["id"] == str(tagger.queue["id"].iloc[0])
    tagger.position = 7
    tagger.errors_only = False
    assert tagger.position == 0 and tagger.n_queue == ev.n_rows


def test_card_fields_put_sensitive_columns_first(tmp_path: Path) -> None:
    df = es.datasets.load_adult()
    ev = es.Evaluation(
        df, "income", y_pred=df["income"], features=["age", "education", "sex"], sensitive="race"
    )
    tagger = es.ErrorTagger(ev, store=tmp_path / "f.sqlite", errors_only=False)
    row = int(ev._id_positions([tagger.card["id"]])[0])
    expected = [[c, str(df[c].iloc[row]), c == "race"] for c in ["race", "age", "education", "sex"]]
    assert tagger.card["fields"] == expected


def test_notes_relabels_and_validation(tagger: es.ErrorTagger, ev: es.Evaluation) -> None:
    row = ev.ids[5]
    tagger.note([row], "looks like a typo")
    tagger.relabel([row], ">50K")
    tags = ev.tags.set_index("id")
    assert tags.loc[row, "note"] == "looks like a typo" and tags.loc[row, "relabel"] == ">50K"
    with pytest.raises(ValueError, match="is not a class"):
        tagger.relabel([row], "rich")
    with pytest.raises(ValueError, match="not row ids"):
        tagger.tag(["no-such-id"], "mislabeled")


def test_counts_select_their_rows(tagger: es.ErrorTagger, ev: es.Evaluation) -> None:
    tagger.tag(ev.ids[:3], "mislabeled")
    tagger.tag(ev.ids[10:12], "ambiguous")
    tagger._handle_message({"type": "select_tag", "tag": "mislabeled"})
    assert len(ev.selected()) == 3 and tagger.selected_tags == ["mislabeled"]
    tagger._handle_message({"type": "select_tag", "tag": "ambiguous", "additive": True})
    assert len(ev.selected()) == 5
    cm = es.ConfusionMatrix(ev)
    assert cm.n_rows == 5


def test_stratified_sample_by_group(ev: es.Evaluation, tmp_path: Path) -> None:
    tagger = es.ErrorTagger(ev, store=tmp_path / "s.sqlite", strata="race", errors_only=False)
    tagger.order = "stratified_random"
    head = tagger.queue["race"].iloc[:200].value_counts(normalize=True)
    overall = ev.data["race"].value_counts(normalize=True)
    assert abs(head["White"] - overall["White"]) < 0.03  # a prefix of the queue keeps the groups' shares
    with pytest.raises(ValueError, match="not a column"):
        es.ErrorTagger(ev, store=tmp_path / "s2.sqlite", strata="ethnicity")


def test_card_shows_top_shap_contributions_for_tree_models(tmp_path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from errorscope.explain import Explainer

    df = es.datasets.load_adult()
    num = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(df[num], df["income"])
    ev = es.Evaluation(df, "income", model=model, features=num)
    tagger = es.ErrorTagger(ev, store=tmp_path / "t.sqlite")
    row = int(ev._id_positions([tagger.card["id"]])[0])
    expected = Explainer(ev, background=10).explain([row]).frame(0, ev.data).head(5)
    assert [c[0] for c in tagger.card["shap"]] == expected["feature"].tolist()
    top = expected["feature"].tolist()  # the fields follow the row's largest contributions
    assert [f[0] for f in tagger.card["fields"]] == [*top, *[c for c in num if c not in top]]
    np.testing.assert_allclose([c[2] for c in tagger.card["shap"]], expected["contribution"], atol=1e-9)
