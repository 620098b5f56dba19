"""The tag store keeps each tag on its row, whoever writes it and however the file travels."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope.tags import SCHEMA_VERSION, TagStore, TagStoreError


def int_ev(n: int = 20) -> es.Evaluation:
    y = np.arange(n) % 2
    return es.Evaluation(pd.DataFrame({"x": np.arange(n)}), y, y_pred=1 - y, ids=np.arange(n))


# -- 1. one canonical id per row -------------------------------------------------------------------
@pytest.mark.parametrize("spelling", [10, "10", np.int64(10), 10.0, np.float64(10.0)])
def test_every_spelling_of_an_id_is_one_row(tmp_path: Path, spelling: Any) -> None:
    ev = int_ev()
    store = ev.attach_tags(tmp_path / "t.sqlite")
    assert store.tag([spelling], "mislabeled") == 1
    assert store.tag([10, "10", np.int64(10)], "mislabeled") == 0  # the same row, already tagged
    assert store.tagged_ids("mislabeled") == ["10"] and ev.tag_mask(["mislabeled"]).sum() == 1
    assert store.untag(10, "mislabeled") == 1
    assert not ev.tag_mask(["mislabeled"]).any() and store.counts()["mislabeled"] == 0


@pytest.mark.parametrize("bad", ["1e1", "10.0", " 10", "10 ", float("nan"), 10.5, 999, "x"])
def test_ids_that_are_not_rows_are_refused(tmp_path: Path, bad: Any) -> None:
    ev = int_ev()
    store = ev.attach_tags(tmp_path / "t.sqlite")
    with pytest.raises(
        ValueError, match=r"^ids: 1 ids are not in the Evaluation \(e\.g\. \[.+\]\); pass ids"
    ):
        store.tag([3, bad], "mislabeled")
    with pytest.raises(ValueError, match=r"^import_tags ids: 1 ids are not in the Evaluation"):
        store.import_tags(pd.DataFrame({"id": [bad], "tag": ["x"]}))
    with pytest.raises(ValueError, match=r"^ids: 1 ids are not in the Evaluation"):
        store.set_note([bad], "a note")
    assert store.tags().empty and store.audit().empty  # nothing half-written


def test_ids_as_text_select_their_rows() -> None:
    ev = int_ev()
    assert ev.select(["3", 4]).mask().sum() == 2 and set(ev.selected()["id"]) == {3, 4}
    with pytest.raises(ValueError, match=r"select\(ids\): 1 ids are not in the Evaluation"):
        ev.select(["3.0"])


def test_text_mixed_and_pandas_string_ids(tmp_path: Path) -> None:
    frame = pd.DataFrame({"key": pd.array(["a", "b", "c", "d"], dtype="string"), "y": [0, 1, 0, 1]})
    ev = es.Evaluation(frame, "y", y_pred="y", ids="key")
    store = ev.attach_tags(tmp_path / "s.sqlite")
    assert store.tag(pd.Series(["b", "d"], dtype="string"), "t") == 2 and store.tag(["b"], "t") == 0
    assert list(ev.tags["id"]) == ["b", "d"] and list(np.flatnonzero(ev.tag_mask(["t"]))) == [1, 3]
    mixed = np.array([1, "a", 2.5], dtype=object)
    ev = es.Evaluation(pd.DataFrame({"y": [0, 1, 0]}), "y", y_pred="y", ids=mixed)
    store = ev.attach_tags(tmp_path / "m.sqlite")
    assert store.tag([1, "a", "2.5"], "t") == 3 and store.tag(["1", 2.5], "t") == 0
    assert list(ev.tags["id"]) == [1, 2.5, "a"]  # sorted by key text, ids in their own type


def test_ids_that_collide_as_text_are_refused(tmp_path: Path) -> None:
    """Tags are keyed by an id's text: 1 and '1' would share one row's tags, so the Evaluation refuses them."""
    with pytest.raises(ValueError, match=r"ids 1 and '1' are the same as text.*convert the id column to str"):
        es.Evaluation(pd.DataFrame({"y": [0, 1]}), "y", y_pred="y", ids=np.array([1, "1"], dtype=object))


# -- 2. tag names, checked in one place --------------------------------------------------------------
def test_a_string_vocabulary_is_one_tag(tmp_path: Path) -> None:
    ev = int_ev()
    tagger = es.ErrorTagger(ev, store=tmp_path / "t.sqlite", tags="mislabeled")
    assert tagger.vocabulary == ["mislabeled"] and tagger.store.vocabulary == ["mislabeled"]
    tagger.store.add_tag_names(" needs data ")
    assert tagger.store.vocabulary == ["mislabeled", "needs data"]


def test_tag_names_are_stripped_on_every_path(tmp_path: Path) -> None:
    ev = int_ev()
    tagger = es.ErrorTagger(ev, store=tmp_path / "t.sqlite", tags=["x"])
    assert tagger.tag([1, 2], " x ") == 2 and tagger.store.counts() == {"x": 2}
    assert tagger.untag([1], " x ") == 1 and tagger.store.tagged_ids(" x") == ["2"]
    assert ev.tag_mask([" x "]).sum() == 1


BAD_NAMES = [
    ("x" * 1_000_000, ValueError, "a tag name is at most 100 characters, got 1,000,000"),
    ("x" * 101, ValueError, "a tag name is at most 100 characters, got 101"),
    ("   ", ValueError, "a tag must be a non-empty string"),
    (5, ValueError, "a tag must be a non-empty string, got 5"),
]


@pytest.mark.parametrize(("name", "kind", "message"), BAD_NAMES, ids=["1MB", "101", "blank", "int"])
def test_bad_tag_names_name_the_argument(tmp_path: Path, name: Any, kind: type, message: str) -> None:
    ev = int_ev()
    store = ev.attach_tags(tmp_path / "t.sqlite")
    with pytest.raises(kind, match=f"^tag: {message}"):
        store.tag([1], name)
    with pytest.raises(kind, match=f"^tags: {message}"):
        es.ErrorTagger(ev, store=tmp_path / "t.sqlite", tags=["ok", name])
    with pytest.raises(kind, match=f"^vocabulary: {message}"):
        ev.attach_tags(tmp_path / "t.sqlite", vocabulary=[name])
    assert store.vocabulary == [] and store.audit().empty


def test_a_vocabulary_that_is_not_a_list_names_the_argument(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"^tags must be a tag name or a list of them, got int"):
        es.ErrorTagger(int_ev(), store=tmp_path / "t.sqlite", tags=3)  # type: ignore[arg-type]


# -- 3. undo reverts only one's own value, while it is current ----------------------------------------
def two_reviewers(path: Path) -> tuple[TagStore, TagStore]:
    return int_ev().attach_tags(path, who="ana"), int_ev().attach_tags(path, who="bo")


def test_undo_does_not_revert_another_reviewers_newer_note(tmp_path: Path) -> None:
    ana, bo = two_reviewers(tmp_path / "t.sqlite")
    ana.set_note([1], "ana's note")
    bo.set_note([1], "bo's note")
    with pytest.raises(
        TagStoreError, match=r"cannot undo.*row '1'.s note was changed by bo at .*Nothing was"
    ):
        ana.undo()
    assert ana.row_tags(1)["note"] == bo.row_tags(1)["note"] == "bo's note"
    audit = ana.audit()
    assert list(audit["action"]) == ["note", "note"] and list(audit["new"]) == ["ana's note", "bo's note"]
    assert ana.undo() == 0  # nothing else of ana's to undo


def test_undo_of_a_tag_someone_removed_is_refused_but_own_undo_works(tmp_path: Path) -> None:
    ana, bo = two_reviewers(tmp_path / "t.sqlite")
    ana.tag([1, 2], "mislabeled")
    bo.untag([2], "mislabeled")
    bo.tag([2], "mislabeled")  # tagged again, but by bo: not ana's value any more
    with pytest.raises(TagStoreError, match=r"row '2'.s tag 'mislabeled' was changed by bo"):
        ana.undo()
    assert bo.tagged_ids("mislabeled") == ["1", "2"]
    ana.set_relabel([5], 1)
    bo.set_note([5], "unrelated field")
    assert ana.undo() == 1 and ana.row_tags(5) == {"tags": [], "note": "unrelated field", "relabel": None}
    last = ana.audit().iloc[-1]
    assert (last["action"], last["who"], last["old"]) == ("undo relabel", "ana", "1") and pd.isna(last["new"])


def test_tagger_says_why_it_cannot_undo(tmp_path: Path) -> None:
    ev = int_ev()
    tagger = es.ErrorTagger(ev, store=tmp_path / "t.sqlite", who="ana")
    tagger.note([1], "mine")
    int_ev().attach_tags(tmp_path / "t.sqlite", who="bo").set_note([1], "theirs")
    assert tagger.undo() == 0
    assert "cannot undo" in tagger.status and "bo" in tagger.status and not tagger.can_undo
    assert tagger.store.row_tags(1)["note"] == "theirs"


# -- 4. the main file holds every committed tag --------------------------------------------------------
def test_a_copy_without_the_wal_holds_every_committed_note(tmp_path: Path) -> None:
    ev = es.Evaluation(pd.DataFrame({"y": np.arange(600) % 2}), "y", y_pred="y")
    store = ev.attach_tags(tmp_path / "live.sqlite")
    for i in range(600):
        store.set_note([i], f"note {i}")
    shutil.copy(store.path, tmp_path / "shipped.sqlite")  # the kernel still runs; no -wal copied
    wal = Path(f"{store.path}-wal")
    shutil.copy(store.path, tmp_path / "cut.sqlite")
    Path(tmp_path / "cut.sqlite-wal").write_bytes(wal.read_bytes()[: wal.stat().st_size // 2])
    for name in ("shipped.sqlite", "cut.sqlite"):
        copy = es.Evaluation(pd.DataFrame({"y": np.arange(600) % 2}), "y", y_pred="y")
        copy.attach_tags(tmp_path / name)
        assert copy.tags["note"].notna().sum() == 600


def test_a_store_that_lost_committed_rows_is_refused_on_open(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    store = int_ev().attach_tags(path)
    store.tag([1, 2, 3], "mislabeled")
    store.set_note([4], "kept")
    store.close()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM tags WHERE row_id = '2'")  # what a copy without its -wal looks like
    db.commit()
    db.close()
    with pytest.raises(TagStoreError, match=r"does not match its audit trail: 1 tag.*-wal file"):
        int_ev().attach_tags(path)


# -- 5. the audit trail cannot be rewritten ------------------------------------------------------------
def test_insert_or_replace_cannot_rewrite_the_audit(tmp_path: Path) -> None:
    store = int_ev().attach_tags(tmp_path / "t.sqlite", who="ana")
    store.tag([1, 2], "mislabeled")
    db = sqlite3.connect(store.path)
    for sql in (
        "INSERT OR REPLACE INTO audit (seq, action_id, at, who, action) VALUES (1, 'x', 'now', 'eve', 'forged')",
        "REPLACE INTO audit (seq, action_id, at, who, action) VALUES (2, 'x', 'now', 'eve', 'forged')",
        "INSERT INTO audit (seq, action_id, at, who, action) VALUES (0, 'x', 'now', 'eve', 'forged')",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql)
    db.close()
    assert list(store.audit()["who"]) == ["ana", "ana"]


def test_a_version_1_store_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    int_ev().attach_tags(path).tag([1], "old")  # written, then made to look like version 1
    db = sqlite3.connect(path)
    for name in ("audit_append_only_replace", "audit_append_only_order"):
        db.execute(f"DROP TRIGGER {name}")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    ev = int_ev()
    store = ev.attach_tags(path)
    assert store.tagged_ids("old") == ["1"]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute(
            "INSERT OR REPLACE INTO audit (seq, action_id, at, who, action) VALUES (1, 'x', 'n', 'e', 'f')"
        )


# -- 6. export and import are exact for every label type ----------------------------------------------
LABELS = {
    "int": np.array([0, 1] * 5),
    "str": np.array(["cat", "dog"] * 5, dtype=object),
    "bool": np.array([False, True] * 5),
    "float": np.array([1.0, 2.0] * 5),
    "categorical": pd.Categorical(["lo", "hi"] * 5, categories=["lo", "hi"]),
}


@pytest.mark.parametrize("kind", list(LABELS))
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_import_round_trip_is_exact(tmp_path: Path, kind: str, suffix: str) -> None:
    def make() -> es.Evaluation:
        y = pd.Series(LABELS[kind])
        return es.Evaluation(pd.DataFrame({"y": y, "p": y.iloc[::-1].to_numpy()}), "y", y_pred="p")

    ev = make()
    tagger = es.ErrorTagger(ev, store=tmp_path / "a.sqlite", tags=["mislabeled"])
    classes = list(ev.classes)
    tagger.tag([0, 1], "mislabeled")
    tagger.note([0], "NA")
    tagger.note([2], "0.0")
    tagger.note([3], "None")
    tagger.relabel([0, 2], classes[1])
    tagger.relabel([1], classes[0])
    path = ev.tag_store.export_tags(tmp_path / f"tags{suffix}")
    other = make()
    copy = other.attach_tags(tmp_path / "b.sqlite")
    assert copy.import_tags(path) == 2
    pd.testing.assert_frame_equal(
        other.tags.drop(columns=["when"]), ev.tags.drop(columns=["when"]), check_dtype=False
    )
    assert list(other.tags["note"].dropna()) == ["NA", "0.0", "None"]


def test_a_pandas_csv_relabel_is_read_back_as_its_class(tmp_path: Path) -> None:
    ev = int_ev()
    store = ev.attach_tags(tmp_path / "a.sqlite")
    store.set_relabel([0], 1)
    store.tag([1], "x")
    ev.tags.to_csv(tmp_path / "plain.csv", index=False)  # relabel column: 1.0 and NaN once read back
    other = int_ev()
    other.attach_tags(tmp_path / "b.sqlite").import_tags(pd.read_csv(tmp_path / "plain.csv"))
    assert list(other.tags["relabel"].dropna()) == ["1"]
    with pytest.raises(ValueError, match=r"relabel 7 is not a class; classes are \['0', '1'\]"):
        other.tag_store.set_relabel([0], 7)


# -- 8. one default store per dataset ------------------------------------------------------------------
def test_the_default_store_is_one_file_per_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = int_ev(20), int_ev(30)
    one = es.ErrorTagger(first)
    one.tag([1], "mislabeled")
    two = es.dashboard(second).tagger  # other data: its own store, no "another dataset" error
    assert one.store.path != two.store.path and one.store.path.parent == tmp_path / "errorscope-tags"
    assert two.store.counts()["mislabeled"] == 0
    assert es.ErrorTagger(int_ev(20)).store.counts()["mislabeled"] == 1  # same data: same store
    text = one._repr_mimebundle_()[0]["text/plain"]
    assert str(tmp_path) not in text and "errorscope-tags/" in text
    assert not Path(one.store_path).is_absolute()


def test_a_store_outside_the_working_directory_is_shown_by_name(tmp_path: Path) -> None:
    tagger = es.ErrorTagger(int_ev(), store=tmp_path / "review.sqlite")
    assert tagger.store_path == "review.sqlite" and str(tmp_path) not in tagger.summary()
