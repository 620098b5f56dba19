"""The tag store: durable, shared by processes, refusing what is not its own, with an audit trail."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope.tags import SCHEMA_VERSION, TagStore, TagStoreError, dataset_fingerprint

SCRIPT_SETUP = """
import sys, numpy as np, pandas as pd, errorscope as es
df = pd.DataFrame({"x": np.arange(5000)})
y = (np.arange(5000) % 3 == 0).astype(int)
ev = es.Evaluation(df, y, y_pred=1 - y, ids=np.arange(5000) + 100_000)
store = ev.attach_tags(sys.argv[1], who=sys.argv[2])
"""


def run_script(body: str, *args: str) -> subprocess.Popen[str]:
    code = SCRIPT_SETUP + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)


def small_ev(n: int = 5000) -> es.Evaluation:
    df = pd.DataFrame({"x": np.arange(n)})
    y = (np.arange(n) % 3 == 0).astype(int)
    return es.Evaluation(df, y, y_pred=1 - y, ids=np.arange(n) + 100_000)


def test_kill_9_mid_tagging_loses_nothing_shown_as_saved(tmp_path: Path) -> None:
    path = str(tmp_path / "tags.sqlite")
    child = run_script(
        """
        for i in range(5000):
            store.tag([100_000 + i], "mislabeled")
            print(100_000 + i, flush=True)  # printed only after the call returned (committed)
        """,
        path,
        "child",
    )
    saved = []
    assert child.stdout is not None
    while len(saved) < 300:
        saved.append(int(child.stdout.readline()))
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    ev = small_ev()
    ev.attach_tags(path)
    tagged = set(ev.tags["id"])
    assert set(saved) <= tagged
    assert ev.tag_mask(["mislabeled"]).sum() == len(tagged)


def test_two_processes_tag_one_store_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "tags.sqlite")
    small_ev().attach_tags(path)  # create it first so both children open an existing store
    body = """
    offset = int(sys.argv[3])
    for i in range(1000):
        store.tag([100_000 + offset + i], "needs data")
    print("done", flush=True)
    """
    children = [run_script(body, path, f"worker{k}", str(k * 1000)) for k in (0, 1)]
    outputs = [c.communicate(timeout=300)[0] for c in children]
    assert [c.returncode for c in children] == [0, 0] and all("done" in o for o in outputs)
    store = TagStore(path)
    assert store.counts()["needs data"] == 2000
    audit = store.audit()
    assert len(audit) == 2000 and set(audit["who"]) == {"worker0", "worker1"}


def test_connections_racing_to_create_one_new_store(tmp_path: Path) -> None:
    """SQLite answers "locked" at once (no busy handler) to a second connection switching a new file to
    WAL; opening must wait instead. The threads race for real: sqlite3 releases the GIL. Without the
    retry this fails in roughly one round in ten."""
    ev = small_ev()
    fingerprint = dataset_fingerprint(ev.ids, ev.true_codes, ev.classes)
    failures: list[str] = []
    for round_ in range(60):
        path = tmp_path / f"new-{round_}.sqlite"
        barrier = threading.Barrier(4)

        def open_store(path: Path = path, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                TagStore(path, fingerprint=fingerprint).close()
            except Exception as err:  # collected and asserted below
                failures.append(repr(err))

        threads = [threading.Thread(target=open_store) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert db.execute("SELECT count(*) FROM meta WHERE key = 'fingerprint'").fetchone() == (1,)
    assert failures == []


def test_store_of_another_dataset_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tags.sqlite"
    small_ev().attach_tags(path).tag([100_000], "mislabeled")
    other = small_ev(4000)
    with pytest.raises(TagStoreError, match="another dataset"):
        other.attach_tags(path)


def test_unknown_schema_versions_and_foreign_files_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    TagStore(newer)
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 998}")
    db.close()
    with pytest.raises(
        TagStoreError,
        match=f"schema version {SCHEMA_VERSION + 998}; this errorscope reads up to {SCHEMA_VERSION}",
    ):
        TagStore(newer)
    foreign = tmp_path / "foreign.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.close()
    with pytest.raises(TagStoreError, match="not an errorscope tag store"):
        TagStore(foreign)


def test_missing_or_unwritable_places_fail_before_any_tag(tmp_path: Path) -> None:
    with pytest.raises(TagStoreError, match="does not exist"):
        small_ev().attach_tags(tmp_path / "nope" / "tags.sqlite")
    with pytest.raises(TagStoreError, match="is a directory"):
        small_ev().attach_tags(tmp_path)
    with pytest.raises(TagStoreError, match="cannot write tags"):
        small_ev().attach_tags("/proc/tags.sqlite")  # a read-only file system, even for root
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        with pytest.raises(TagStoreError, match="cannot write tags"):
            small_ev().attach_tags(locked / "tags.sqlite")


def test_audit_is_append_only_and_complete(tmp_path: Path) -> None:
    ev = small_ev()
    store = ev.attach_tags(tmp_path / "t.sqlite", who="ana", model="gbm-v3")
    ev.select("x < 10")
    store.tag(ev.ids[:3], "ambiguous", clause=ev.selection.text())
    store.set_note(ev.ids[:1], "<script>alert(1)</script>")
    store.set_relabel(ev.ids[:1], "1")
    store.untag(ev.ids[:1], "ambiguous")
    audit = store.audit()
    assert list(audit["action"]) == ["tag added"] * 3 + ["note", "relabel", "tag removed"]
    assert set(audit["who"]) == {"ana"} and set(audit["model"]) == {"gbm-v3"}
    assert audit["clause"].iloc[0] == "x < 10"
    assert audit.loc[3, "new"] == "<script>alert(1)</script>"  # kept verbatim; rendering escapes it
    db = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")


def test_undo_export_import_round_trip(tmp_path: Path) -> None:
    ev = small_ev()
    store = ev.attach_tags(tmp_path / "a.sqlite")
    store.tag(ev.ids[:4], "mislabeled")
    store.tag(ev.ids[2:6], "needs data")
    assert store.undo() == 4 and store.counts() == {"mislabeled": 4, "needs data": 0}
    store.set_note(ev.ids[:2], "check <b>me</b>")
    frame = ev.tags
    assert frame["id"].dtype == ev.ids.dtype and set(frame["id"]) == set(ev.ids[:4])
    frame.to_csv(tmp_path / "tags.csv", index=False)
    frame.to_parquet(tmp_path / "tags.parquet")
    other = small_ev()
    copy = other.attach_tags(tmp_path / "b.sqlite")
    copy.import_tags(pd.read_parquet(tmp_path / "tags.parquet"))
    pd.testing.assert_frame_equal(
        other.tags.drop(columns=["when"]).reset_index(drop=True),
        frame.drop(columns=["when"]).reset_index(drop=True),
    )
    assert dataset_fingerprint(ev.ids, ev.true_codes, ev.classes) == store.fingerprint


def test_tag_clause_and_slice_follow_tag_changes(tmp_path: Path) -> None:
    from errorscope.slicing import slice_table

    ev = small_ev()
    tagger = es.ErrorTagger(ev, store=tmp_path / "t.sqlite", tags=["mislabeled"])
    tagger.tag(ev.ids[:7], "mislabeled")
    tagger.select_tag("mislabeled")
    assert len(ev.selected()) == 7
    tagger.tag(ev.ids[7:9], "mislabeled")
    assert len(ev.selected()) == 9  # the clause re-evaluates when tags change
    table = slice_table(ev)
    row = table[table["description"] == "tag = mislabeled"].iloc[0]
    assert row["size"] == 9 and ev.engine.predicate_mask(row["predicate"]).sum() == 9
