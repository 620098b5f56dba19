"""A tag write costs the same with 10 or 10,000 tags in the store: nothing rescans it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope.tags import TagStore


def ev_of(n: int) -> es.Evaluation:
    y = np.arange(n) % 2
    return es.Evaluation(pd.DataFrame({"x": np.arange(n)}), y, y_pred=1 - y)


def test_a_tag_write_reads_only_the_new_audit_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ev = ev_of(20_000)
    tagger = es.ErrorTagger(ev, store=tmp_path / "t.sqlite", tags=["mislabeled", "ambiguous"])
    slices = es.SliceBrowser(ev, discover=False)  # a view that shows tags, recomputed on every write
    tagger.store.tag(ev.ids[:10_000], "mislabeled")
    statements: list[str] = []
    tagger.store._connection.set_trace_callback(statements.append)

    def rescan(_store: TagStore) -> None:
        raise AssertionError("a write rebuilt the whole tags table")

    monkeypatch.setattr(TagStore, "tags", rescan)
    tagger.tag([15_000], "mislabeled", note="check")
    tagger.untag([3], "mislabeled")
    tagger.undo()
    reads = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    whole = [s for s in reads if "seq >" not in s and "vocabulary" not in s and "action_id =" not in s]
    assert reads and whole == []
    assert tagger.store.counts()["mislabeled"] == 10_001 and ev.tag_mask(["mislabeled"]).sum() == 10_001
    row = slices.table[slices.table["description"] == "tag = mislabeled"].iloc[0]
    assert row["size"] == 10_001


def test_another_kernels_writes_are_taken_in(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    mine, theirs = ev_of(100), ev_of(100)
    store, other = mine.attach_tags(path, who="ana"), theirs.attach_tags(path, who="bo")
    other.tag([5, 6], "needs data")
    other.set_note([5], "from bo")
    assert store.counts() == {"needs data": 2} and list(np.flatnonzero(mine.tag_mask("needs data"))) == [5, 6]
    assert store.row_tags(5) == {"tags": ["needs data"], "note": "from bo", "relabel": None}
    other.untag([6], "needs data")
    store.tag([7], "needs data")  # a write takes in bo's changes first
    assert store.tagged_ids("needs data") == ["5", "7"] and mine.tag_mask(["needs data"]).sum() == 2
    assert set(mine.tags["who"]) == {"ana", "bo"}
