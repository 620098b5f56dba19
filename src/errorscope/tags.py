"""Durable tags on rows: a SQLite store keyed by row id and a fingerprint of the dataset, with an audit trail.

- Every write is one transaction, committed before the call returns (``synchronous=FULL``), then
  checkpointed into the main file: a tag the UI shows as saved survives a killed kernel, and a copy of the
  main file alone (without its ``-wal`` file) holds every committed tag.
- WAL mode and a busy timeout let several kernels tag the same store at once.
- The schema version is ``PRAGMA user_version`` (older versions are migrated; newer ones are refused).
- The dataset fingerprint is a SHA-256 of the row ids (as text), the actual labels and the class list: a
  store written for other rows or other labels is refused, while adding columns or models is fine. By
  default each dataset gets its own store, ``errorscope-tags/<fingerprint>.sqlite``.
- Each row is keyed by one text, its id's ``str``; an id given by value (``10``, ``np.int64(10)``) or as
  that text (``"10"``) finds the row, anything else is an error naming the unknown ids.
- The audit table is append-only (no UPDATE, DELETE or REPLACE): who (the OS user, or the name given), when
  (UTC, ISO 8601), what (tag added or removed, note, relabel, undo), old and new value, the model's name,
  and the selection's clause text at the time. On open, the tags, notes and relabels must be what the audit
  trail says they are, else the store is refused (a file copied without its ``-wal``, for instance).
- The process keeps a mirror of the store, updated from the audit trail's new entries (its own and other
  kernels'), so a write or a read never rescans the store.
- On a SQL engine (DuckDB, Spark) the rows are not in memory: :class:`EngineRowKeys` checks ids with a
  query (and remembers the ids it saw), the fingerprint is streamed from the engine
  (:func:`streamed_fingerprint`, the same digest as in memory) and no per-row mask is kept.
"""

from __future__ import annotations

import getpass
import hashlib
import math
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SCHEMA_VERSION = 2
DEFAULT_STORE_DIR = "errorscope-tags"
MAX_TAG_LENGTH = 100
TAG_COLUMNS = ["id", "tag", "note", "relabel", "who", "when"]
TAG_ACTIONS = ("tag added", "tag removed")
FIELD_ACTIONS = ("note", "relabel")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vocabulary (tag TEXT PRIMARY KEY, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tags (
    row_id TEXT NOT NULL, tag TEXT NOT NULL, who TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (row_id, tag)
);
CREATE TABLE IF NOT EXISTS notes (row_id TEXT PRIMARY KEY, note TEXT NOT NULL, who TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS relabels (row_id TEXT PRIMARY KEY, label TEXT NOT NULL, who TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, action_id TEXT NOT NULL, at TEXT NOT NULL, who TEXT NOT NULL,
    action TEXT NOT NULL, row_id TEXT, tag TEXT, old TEXT, new TEXT, model TEXT, clause TEXT
);
CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
"""

# Schema changes, by the version they bring a store to (each runs once, in order, in one transaction).
MIGRATIONS = {
    2: """
CREATE TRIGGER IF NOT EXISTS audit_append_only_replace BEFORE INSERT ON audit
    WHEN EXISTS (SELECT 1 FROM audit WHERE seq = NEW.seq)
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_order AFTER INSERT ON audit
    WHEN NEW.seq < (SELECT MAX(seq) FROM audit)
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE INDEX IF NOT EXISTS audit_by_action ON audit (action_id);
CREATE INDEX IF NOT EXISTS audit_by_row ON audit (row_id)
""",
}

# The last audit entry per (row, tag) / per (row, field) is what the tables must hold (checked on open).
EXPECTED_TAGS = """
SELECT row_id, tag FROM (
    SELECT row_id, tag, new, ROW_NUMBER() OVER (PARTITION BY row_id, tag ORDER BY seq DESC) AS latest
    FROM audit WHERE action IN ('tag added', 'tag removed', 'undo tag added', 'undo tag removed')
) WHERE latest = 1 AND new IS NOT NULL
"""
EXPECTED_FIELD = """
SELECT row_id, new FROM (
    SELECT row_id, new, ROW_NUMBER() OVER (PARTITION BY row_id ORDER BY seq DESC) AS latest
    FROM audit WHERE action IN (?, ?)
) WHERE latest = 1 AND new IS NOT NULL
"""


class TagStoreError(RuntimeError):
    """The tag store cannot be used as asked (another dataset, unknown schema, unwritable place)."""


FINGERPRINT_CHUNK = 1 << 18  # ids turned into text and hashed this many at a time


def dataset_fingerprint(ids: np.ndarray, y_true: np.ndarray, classes: Sequence[Any]) -> str:
    """SHA-256 of the row ids, the actual labels and the class list (see the module docstring).

    Fed a chunk of rows at a time (the same bytes as one ``"\x1f".join``), so no text of every id and
    no copy of every label is ever held at once."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, classes)).encode())
    digest.update(b"\x1e")
    for start in range(0, len(ids), FINGERPRINT_CHUNK):
        if start:
            digest.update(b"\x1f")
        digest.update("\x1f".join(map(str, ids[start : start + FINGERPRINT_CHUNK].tolist())).encode())
    digest.update(b"\x1e")
    y_true = np.asarray(y_true)
    dtype = "<f8" if y_true.dtype.kind == "f" else "<i8"  # a regression's numbers, else class codes
    for start in range(0, len(y_true), FINGERPRINT_CHUNK):
        digest.update(np.ascontiguousarray(y_true[start : start + FINGERPRINT_CHUNK], dtype=dtype).tobytes())
    return digest.hexdigest()


def default_store_path(fingerprint: str) -> Path:
    """The store a dataset gets when none is named: ``errorscope-tags/<fingerprint>.sqlite`` here."""
    if not fingerprint:
        raise TagStoreError("a default tag store needs the dataset's fingerprint: pass path= a file instead.")
    return Path.cwd() / DEFAULT_STORE_DIR / f"{fingerprint[:16]}.sqlite"


def shown_path(path: Path) -> str:
    """``path`` as shown to people and saved in notebooks: relative to the working directory if inside
    it, else only the file name (never an absolute local path)."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


def tag_names(names: str | Iterable[str], argument: str = "tags") -> list[str]:
    """Tag names checked once for every caller: a str is one name; each is stripped, non-empty and at
    most :data:`MAX_TAG_LENGTH` characters."""
    if isinstance(names, str):
        return [check_tag(names, argument)]
    if not isinstance(names, Iterable):
        raise TypeError(f"{argument} must be a tag name or a list of them, got {type(names).__name__}.")
    return list(dict.fromkeys(check_tag(name, argument) for name in names))


def check_tag(name: Any, argument: str = "tag") -> str:
    """One tag name, stripped (see :func:`tag_names`)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{argument}: a tag must be a non-empty string, got {name!r}.")
    name = name.strip()
    if len(name) > MAX_TAG_LENGTH:
        raise ValueError(
            f"{argument}: a tag name is at most {MAX_TAG_LENGTH} characters, got {len(name):,} "
            f"({name[:20]!r}…); use a short name and put the detail in a note."
        )
    return name


class RowKeys:
    """The text each row is keyed by in a tag store (its id's ``str``), and the row of an id given by
    value or as that text. Ids whose texts collide (``1`` and ``"1"``) cannot be told apart and are refused.

    Integer ids are looked up by value (a text is parsed back to its integer; ids ``start, start + 1, ...``
    by arithmetic), so no per-row text is ever built for them; other ids are indexed by their texts.
    """

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = ids
        self._start: int | None = None  # ids are start, start + 1, ...: a row is its id minus start
        self._by_value: pd.Index | None = None  # other integer ids, by value
        self._texts: pd.Index | None = None  # every other kind of id, by text
        if ids.dtype.kind in "iu":
            if _consecutive(ids):
                self._start = int(ids[0]) if len(ids) else 0
            else:
                self._by_value = pd.Index(ids)
                if not self._by_value.is_unique:  # equal integers, equal texts
                    self._refuse_clash(ids[self._by_value.duplicated()][0])
            return
        self._texts = pd.Index([str(v) for v in ids.tolist()], dtype=object)
        numeric = ids.dtype.kind == "f"
        self._by_value = pd.Index(ids) if numeric else None
        if not self._texts.is_unique:
            self._refuse_clash(self._texts[self._texts.duplicated()][0])

    def _refuse_clash(self, value: Any) -> None:
        text = str(value.item() if isinstance(value, np.generic) else value)
        same = [v for v in self.ids.tolist() if str(v) == text][:2]
        raise ValueError(
            f"ids {same[0]!r} and {same[1]!r} are both {text!r} as text, and tags are keyed by the "
            "text: pass ids that differ as text, e.g. ids=df['id'].astype(str)."
        )

    def __len__(self) -> int:
        return len(self.ids)

    def text(self, positions: Any) -> list[str]:
        """The store keys (texts) of the rows at ``positions``."""
        positions = np.asarray(positions, dtype=np.intp)
        if self._texts is not None:
            return list(self._texts[positions])
        return [str(v) for v in self.ids[positions].tolist()]

    def find(self, keys: Iterable[str]) -> np.ndarray:
        """Row positions of store keys (ids' exact texts), -1 where unknown."""
        keys = [str(k) for k in keys]
        if self._texts is not None:
            return self._texts.get_indexer(pd.Index(keys, dtype=object))
        return self._lookup_integers(keys)

    def lookup(self, values: Any) -> np.ndarray:
        """Row positions of ``values`` (one id or many), -1 where unknown."""
        if self._texts is None and isinstance(values, np.ndarray | pd.Series | pd.Index):
            array = np.asarray(values)
            if array.dtype.kind in "iu" and array.ndim == 1:  # integers for integer ids: no per-id Python
                return self._integer_rows(array)
        items = _id_list(values)
        if self._texts is None:
            return self._lookup_integers(items)
        texts = [
            v if isinstance(v, str) else str(v.item() if isinstance(v, np.generic) else v) for v in items
        ]
        found = self._texts.get_indexer(pd.Index(texts, dtype=object))
        if self._by_value is not None and (found < 0).any():  # 10 is the row of id 10.0 (its text "10.0")
            for i in np.flatnonzero(found < 0):
                value = items[i]
                if _is_number(value):
                    found[i] = self._by_value.get_indexer([value])[0]
        return found

    def _lookup_integers(self, items: list[Any]) -> np.ndarray:
        """Integer ids: a number finds the row of its value (10.0 is id 10), anything else only as the
        id's exact text ("10", not "10.0" or " 10")."""
        dtype = np.dtype(np.uint64 if self.ids.dtype.kind == "u" else np.int64)
        low, high = np.iinfo(dtype).min, np.iinfo(dtype).max
        wanted = np.zeros(len(items), dtype=dtype)
        valid = np.zeros(len(items), dtype=bool)
        for i, value in enumerate(items):
            number = _integer_value(value) if _is_number(value) else _integer_text(str(value))
            if number is not None and low <= number <= high:
                wanted[i], valid[i] = number, True
        found = np.full(len(items), -1, dtype=np.intp)
        if valid.any():
            found[valid] = self._integer_rows(wanted[valid])
        return found

    def _integer_rows(self, wanted: np.ndarray) -> np.ndarray:
        """Row positions of integer id values, -1 where unknown."""
        if self._start is None:
            assert self._by_value is not None
            return self._by_value.get_indexer(pd.Index(wanted))
        fits = wanted <= np.iinfo(np.int64).max if wanted.dtype.kind == "u" else np.ones(len(wanted), bool)
        offset = np.where(fits, wanted, 0).astype(np.int64) - self._start  # ids fit in int64 (see init)
        inside = fits & (offset >= 0) & (offset < len(self.ids))
        return np.where(inside, offset, -1).astype(np.intp)

    def positions(self, values: Any, argument: str = "ids") -> np.ndarray:
        """Row positions of ``values``; unknown ids are a ValueError listing a few."""
        found = self.lookup(values)
        if (found < 0).any():
            items = _id_list(values)
            bad = [items[i] for i in np.flatnonzero(found < 0)[:5]]
            raise ValueError(
                f"{argument}: {int((found < 0).sum()):,} ids are not in the Evaluation "
                f"(e.g. {bad}); pass ids from ev.ids, as values or as their exact text."
            )
        return found

    def keys(self, values: Any, argument: str = "ids") -> list[str]:
        """The store keys of ``values`` (each row once, in order of first appearance)."""
        return self.text(list(dict.fromkeys(self.positions(values, argument).tolist())))


def _consecutive(ids: np.ndarray) -> bool:
    """Whether integer ``ids`` are ``ids[0], ids[0] + 1, ...`` (row positions, a RangeIndex), all in
    int64's range."""
    if len(ids) < 2:
        return not len(ids) or int(ids[0]) <= np.iinfo(np.int64).max
    if int(ids[-1]) - int(ids[0]) != len(ids) - 1 or int(ids[-1]) > np.iinfo(np.int64).max:
        return False
    step = 1 << 20  # compared a block at a time: no id-sized temporary
    first = int(ids[0])
    return all(
        np.array_equal(ids[i : i + step], np.arange(first + i, first + min(i + step, len(ids))))
        for i in range(0, len(ids), step)
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _integer_value(value: Any) -> int | None:
    """A number as an integer (a whole float counts: 10.0 is 10); None if it is not whole."""
    if isinstance(value, float | np.floating):
        return int(value) if np.isfinite(value) and float(value).is_integer() else None
    return int(value)


def _integer_text(text: str) -> int | None:
    """The integer whose ``str`` is exactly ``text`` ("10", "-3"; not "10.0", "+3", " 3" or "010")."""
    digits = text[1:] if text.startswith("-") else text
    if not digits.isdigit() or not digits.isascii() or (digits != "0" and digits.startswith("0")):
        return None
    if text == "-0":
        return None
    return int(text)


@dataclass(frozen=True)
class Change:
    """One row's change in an action, as recorded in the audit trail (for undo)."""

    action: str
    row_id: str
    tag: str | None
    old: str | None
    new: str | None


AuditRow = tuple[int, str, str, str | None, str | None, str, str]  # seq, action, row, tag, new, who, at


def relabel_number(value: Any) -> str:
    """A regression's relabel (the corrected target value: a finite number, or its text as typed) as the
    store keeps it: the shortest text that reads back as the same float ("73.5")."""
    number: float | None = None
    if isinstance(value, str):
        try:
            number = float(value.strip().replace("\u2212", "-"))
        except ValueError:
            number = None
    elif isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_):
        number = float(value)
    if number is None or not math.isfinite(number):
        raise ValueError(
            f"relabel {value!r} is not a number: a regression's relabel is the corrected target value, "
            "a finite number (e.g. relabel=73.5)."
        )
    return repr(number)


class TagStore:
    """Tags, notes and relabel suggestions on rows, in a SQLite file shared by kernels.

    ``path``: the store file (its directory must exist and be writable; default: one file per dataset
    under ``errorscope-tags/``). ``fingerprint``: the dataset's (:func:`dataset_fingerprint`). ``who``:
    the name in the audit trail (default: the OS user). ``model``: the model's name or version, recorded
    with every change. ``rows``, ``classes`` and ``class_names``: the dataset's row ids and labels, which
    writes are checked against (:meth:`bind`; without them the store can be read, not written).
    ``numeric_relabels``: a regression's store, whose relabels are numbers (:func:`relabel_number`).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        fingerprint: str = "",
        who: str | None = None,
        model: str | None = None,
        vocabulary: str | Iterable[str] = (),
        rows: RowKeys | None = None,
        classes: Sequence[Any] = (),
        class_names: Sequence[str] = (),
        numeric_relabels: bool = False,
    ) -> None:
        if path is None:
            path = default_store_path(fingerprint)
            path.parent.mkdir(exist_ok=True)
        self.path = Path(path).expanduser().resolve()
        self.fingerprint = fingerprint
        self.who = who or _os_user()
        self.model = model
        self.version = 0  # bumped on every change this process makes or sees
        self._undo: list[str] = []
        self._rows: RowKeys | EngineRowKeys | None = None
        self._masked = False  # per-row masks of each tag: only for rows in memory (RowKeys)
        self._classes: list[Any] = []
        self._class_names: list[str] = []
        self._numeric = numeric_relabels
        self._connection = self._open()
        self._check_or_init()
        self._load()
        if rows is not None:
            self.bind(rows, classes, class_names, numeric_relabels)
        self.add_tag_names(vocabulary, "vocabulary")

    def bind(
        self,
        rows: RowKeys | EngineRowKeys,
        classes: Sequence[Any],
        class_names: Sequence[str],
        numeric_relabels: bool = False,
    ) -> None:
        """Check writes against these row ids and classes (or, ``numeric_relabels``, relabels against
        numbers), and keep a boolean mask per tag over the rows (rows in memory only:
        :class:`EngineRowKeys` keeps none)."""
        self._rows = rows
        self._numeric = numeric_relabels
        self._classes, self._class_names = list(classes), [str(n) for n in class_names]
        self._masks: dict[str, np.ndarray] = {}
        self._masked = isinstance(rows, RowKeys)
        if not self._masked:
            return
        for tag, tagged in self._tagged.items():
            self._masks[tag] = np.zeros(len(rows), dtype=bool)
            positions = rows.find(tagged)
            self._masks[tag][positions[positions >= 0]] = True

    # -- reading -------------------------------------------------------------------------------
    @property
    def vocabulary(self) -> list[str]:
        """Tag names in the order they were added."""
        self._sync()
        return list(self._vocabulary)

    def tagged_ids(self, tag: str) -> list[str]:
        """The row ids (as text) carrying ``tag``."""
        self._sync()
        return list(self._tagged.get(check_tag(tag), {}))

    def tag_mask(self, names: str | Iterable[str]) -> np.ndarray:
        """Per row of the bound dataset (:meth:`bind`), whether it carries any of the tags ``names``."""
        self._sync()
        rows = self._bound()
        if not self._masked:
            raise TagStoreError(
                "tag masks cover rows in memory; this store is bound to rows on a SQL engine: use tagged_ids()."
            )
        mask = np.zeros(len(rows), dtype=bool)
        for name in tag_names(names, "names"):
            if name in self._masks:
                mask |= self._masks[name]
        return mask

    def row_tags(self, row_id: Any) -> dict[str, Any]:
        """One row's tags (in vocabulary order), note and relabel, by id or its text."""
        self._sync()
        key = self._rows.keys([row_id])[0] if self._rows is not None else str(row_id)
        note, relabel = (self._fields[f].get(key) for f in FIELD_ACTIONS)
        return {
            "tags": [t for t in self._vocabulary if key in self._tagged.get(t, {})],
            "note": note[0] if note else None,
            "relabel": relabel[0] if relabel else None,
        }

    def tags(self) -> pd.DataFrame:
        """One row per (id, tag), plus rows with only a note or a relabel (tag empty): id, tag, note,
        relabel, who, when. Ids are text here; :attr:`Evaluation.tags` maps them back."""
        self._sync()
        notes, relabels = (self._fields[f] for f in FIELD_ACTIONS)
        by_row: dict[str, list[tuple[str, str, str]]] = {}
        for tag, tagged in self._tagged.items():
            for key, (who, at) in tagged.items():
                by_row.setdefault(key, []).append((tag, who, at))
        records = []
        for key in sorted({*by_row, *notes, *relabels}):
            note, relabel = notes.get(key), relabels.get(key)
            first = note or relabel
            entries = sorted(by_row.get(key, [])) or [(None, *first[1:])]  # type: ignore[index]
            for tag, who, at in entries:
                records.append((key, tag, note and note[0], relabel and relabel[0], who, at))
        frame = pd.DataFrame(records, columns=TAG_COLUMNS)
        frame["when"] = pd.to_datetime(frame["when"], utc=True, format="ISO8601")
        return frame

    def counts(self) -> dict[str, int]:
        """Rows per tag name (every name in the vocabulary, zero included)."""
        self._sync()
        return {tag: len(self._tagged.get(tag, {})) for tag in self._vocabulary}

    def audit(self) -> pd.DataFrame:
        """The audit trail, oldest first."""
        rows = self._read(
            "SELECT seq, action_id, at, who, action, row_id, tag, old, new, model, clause FROM audit ORDER BY seq"
        )
        columns = ["seq", "action_id", "when", "who", "action", "id", "tag", "old", "new", "model", "clause"]
        return pd.DataFrame(rows, columns=columns)

    def export_tags(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`tags` to a ``.csv`` or ``.parquet`` file that :meth:`import_tags` reads back exactly
        (ids, notes and relabels as text; an empty CSV cell is the only missing value)."""
        path = Path(path)
        frame = self.tags()
        if path.suffix == ".csv":
            frame.to_csv(path, index=False)
        elif path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            raise ValueError(f"export_tags(path={str(path)!r}): name a .csv or .parquet file.")
        return path

    # -- writing -------------------------------------------------------------------------------
    def add_tag_names(self, names: str | Iterable[str], argument: str = "names") -> None:
        """Grow the vocabulary (names already in it are kept where they are)."""
        names = [n for n in tag_names(names, argument) if n not in self.vocabulary]
        if not names:
            return
        with self._write() as db:
            start = db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM vocabulary").fetchone()[0]
            db.executemany(
                "INSERT OR IGNORE INTO vocabulary VALUES (?, ?)",
                [(n, start + i) for i, n in enumerate(names)],
            )
            self._vocabulary = self._read_vocabulary(db)
        self._checkpoint()

    def tag(self, ids: Any, tag: str, clause: str = "") -> int:
        """Add ``tag`` to the rows ``ids``; returns how many rows gained it."""
        tag = check_tag(tag)
        keys = self._keys(ids)
        self.add_tag_names([tag])
        return len(self._commit(lambda db, now: self._tag_rows(db, keys, tag, now), clause))

    def untag(self, ids: Any, tag: str, clause: str = "") -> int:
        """Remove ``tag`` from the rows ``ids``; returns how many rows lost it."""
        tag, keys = check_tag(tag), self._keys(ids)
        return len(self._commit(lambda db, now: self._untag_rows(db, keys, tag, now), clause))

    def set_note(self, ids: Any, note: str | None, clause: str = "") -> None:
        """Set (or with ``None`` / "" clear) the free-text note of the rows ``ids``."""
        keys, value = self._keys(ids), None if note is None or note == "" else str(note)
        self._commit(lambda db, now: self._set_rows(db, "note", keys, value, now), clause)

    def set_relabel(self, ids: Any, label: Any, clause: str = "") -> None:
        """Suggest ``label`` (a class or its display name) as the correct label of the rows ``ids``
        (``None`` clears the suggestion)."""
        keys, value = self._keys(ids), None if label is None else self._label(label)
        self._commit(lambda db, now: self._set_rows(db, "relabel", keys, value, now), clause)

    def undo(self) -> int:
        """Revert this store's last action (all rows it touched), if every value it wrote is still the
        current one; returns how many changes it reverted. Otherwise a TagStoreError says which row
        changed since (and who changed it), and nothing is reverted."""
        if not self._undo:
            return 0
        action_id = self._undo[-1]

        def revert(db: sqlite3.Connection, now: str) -> list[Change]:
            rows = db.execute(
                "SELECT seq, action, row_id, tag, old, new, who, at FROM audit WHERE action_id = ? "
                "ORDER BY seq DESC",
                (action_id,),
            ).fetchall()
            stale = [r for r in rows if not self._is_current(r[1], r[2], r[3], r[5], r[6], r[7])]
            if stale:
                self._undo.pop()  # it can never be undone: someone else's value is current
                raise TagStoreError(self._stale_message(db, stale, len(rows)))
            changes = []
            for _seq, action, key, tag, old, _new, _who, _at in rows:
                if action == "tag added":
                    reverted = self._untag_rows(db, [key], tag, now)
                elif action == "tag removed":
                    reverted = self._tag_rows(db, [key], tag, now)
                else:
                    reverted = self._set_rows(db, action, [key], old, now)
                changes += [Change(f"undo {action}", c.row_id, c.tag, c.old, c.new) for c in reverted]
            return changes

        changes = self._commit(revert, "", undoable=False)
        self._undo.pop()
        return len(changes)

    def import_tags(self, source: pd.DataFrame | str | os.PathLike[str], clause: str = "imported") -> int:
        """Add the tags, notes and relabels of a frame shaped like :meth:`tags` (id, tag, note, relabel),
        or of a file written by :meth:`export_tags`, in one action; returns how many tags it added."""
        frame = source if isinstance(source, pd.DataFrame) else _read_export(Path(source))
        missing = {"id", "tag"} - set(frame.columns)
        if missing:
            raise ValueError(
                f"import_tags needs columns id and tag (also note, relabel); missing {sorted(missing)}."
            )
        tagged = frame.dropna(subset=["tag"])
        by_tag = {tag: self._keys(group["id"], "import_tags ids") for tag, group in tagged.groupby("tag")}
        by_tag = {check_tag(tag, "import_tags tag"): keys for tag, keys in by_tag.items()}
        fields: dict[str, list[tuple[str, str]]] = {}
        for field in FIELD_ACTIONS:
            if field in frame.columns:
                values = frame.dropna(subset=[field]).drop_duplicates("id", keep="last")
                keys = self._keys(values["id"], "import_tags ids")
                text = [self._label(v) if field == "relabel" else str(v) for v in values[field]]
                fields[field] = list(zip(keys, text, strict=True))
        self.add_tag_names(list(by_tag))

        def apply(db: sqlite3.Connection, now: str) -> list[Change]:
            changes = [c for tag, keys in by_tag.items() for c in self._tag_rows(db, keys, tag, now)]
            for field, pairs in fields.items():
                for key, value in pairs:
                    changes += self._set_rows(db, field, [key], value, now)
            return changes

        return sum(c.action == "tag added" for c in self._commit(apply, clause))

    def close(self) -> None:
        """Checkpoint everything into the main file, then close."""
        self._checkpoint("TRUNCATE")
        self._connection.close()

    # -- row changes (inside a write transaction; the mirror follows after the commit) ----------
    def _tag_rows(self, db: sqlite3.Connection, keys: list[str], tag: str, now: str) -> list[Change]:
        tagged = self._tagged.get(tag, {})
        new = [k for k in keys if k not in tagged]
        db.executemany("INSERT INTO tags VALUES (?, ?, ?, ?)", [(k, tag, self.who, now) for k in new])
        return [Change("tag added", k, tag, None, tag) for k in new]

    def _untag_rows(self, db: sqlite3.Connection, keys: list[str], tag: str, now: str) -> list[Change]:
        tagged = self._tagged.get(tag, {})
        gone = [k for k in keys if k in tagged]
        db.executemany("DELETE FROM tags WHERE row_id = ? AND tag = ?", [(k, tag) for k in gone])
        return [Change("tag removed", k, tag, tag, None) for k in gone]

    def _set_rows(
        self, db: sqlite3.Connection, field: str, keys: list[str], value: str | None, now: str
    ) -> list[Change]:
        table = "notes" if field == "note" else "relabels"
        current = self._fields[field]
        changes = [
            Change(field, k, None, current[k][0] if k in current else None, value)
            for k in keys
            if (current[k][0] if k in current else None) != value
        ]
        if value is None:
            db.executemany(f"DELETE FROM {table} WHERE row_id = ?", [(c.row_id,) for c in changes])
        else:
            db.executemany(
                f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?)",
                [(c.row_id, value, self.who, now) for c in changes],
            )
        return changes

    # -- internals -----------------------------------------------------------------------------
    def _commit(
        self, plan: Callable[[sqlite3.Connection, str], list[Change]], clause: str, undoable: bool = True
    ) -> list[Change]:
        """One write: catch up with other kernels, apply ``plan``, log it; the mirror follows the commit."""
        with self._write() as db:
            self._catch_up(db)
            now = _now()
            changes = plan(db, now)
            action_id = uuid.uuid4().hex
            db.executemany(
                "INSERT INTO audit (action_id, at, who, action, row_id, tag, old, new, model, clause) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (action_id, now, self.who, c.action, c.row_id, c.tag, c.old, c.new, self.model, clause)
                    for c in changes
                ],
            )
            logged = self._audit_since(db)
        self._apply(logged)
        if changes and undoable:
            self._undo.append(action_id)
        if changes:
            self._checkpoint()
        return changes

    def _is_current(self, action: str, key: str, tag: str | None, new: str | None, who: str, at: str) -> bool:
        """Whether the value an audit entry wrote is still the current one (same value, writer and time)."""
        if action in TAG_ACTIONS:
            entry = self._tagged.get(str(tag), {}).get(key)
            return entry is None if new is None else entry == (who, at)
        entry = self._fields[action].get(key)
        return entry is None if new is None else entry == (new, who, at)

    def _stale_message(self, db: sqlite3.Connection, stale: list[tuple[Any, ...]], total: int) -> str:
        seq, action, key, tag = stale[0][:4]
        what = f"tag {tag!r}" if action in TAG_ACTIONS else f"{action}"
        later = db.execute(
            "SELECT who, at FROM audit WHERE row_id = ? AND seq > ? AND action IN (?, ?, ?, ?) AND tag IS ? "
            "ORDER BY seq DESC LIMIT 1",
            (key, seq, *_kinds(action), tag),
        ).fetchone()
        by = f" by {later[0]} at {later[1]}" if later else ""
        return (
            f"cannot undo your last action ({total:,} change(s)): row {key!r}'s {what} was changed{by} "
            f"since ({len(stale):,} row(s) changed). Nothing was reverted; the newer value stays."
        )

    def _keys(self, ids: Any, argument: str = "ids") -> list[str]:
        return self._bound().keys(ids, argument)

    def _bound(self) -> RowKeys:
        if self._rows is None:
            raise TagStoreError(
                f"{self.path}: this TagStore was opened without the dataset's row ids, so it cannot check "
                "them; use ev.attach_tags(path) (or TagStore(..., rows=RowKeys(ev.ids)))."
            )
        return self._rows

    def _label(self, label: Any) -> str:
        """A relabel as its class's display name: given as the class, its text or its display name; a
        regression's as its number's text (:func:`relabel_number`)."""
        if self._numeric:
            return relabel_number(label)
        if not self._class_names:
            return str(label)
        text = (
            label if isinstance(label, str) else str(label.item() if isinstance(label, np.generic) else label)
        )
        if text in self._class_names:
            return text
        texts = [str(c) for c in self._classes]
        if text in texts:
            return self._class_names[texts.index(text)]
        if isinstance(label, int | float | np.number) and not isinstance(label, bool | np.bool_):
            equal = [i for i, c in enumerate(self._classes) if isinstance(c, int | float) and c == label]
            if equal:
                return self._class_names[equal[0]]
        raise ValueError(f"relabel {label!r} is not a class; classes are {self._class_names}.")

    def _load(self) -> None:
        """Read the store into the mirror, after checking it against its audit trail."""
        db = self._connection
        db.execute("BEGIN")
        try:
            self._vocabulary = self._read_vocabulary(db)
            self._tagged: dict[str, dict[str, tuple[str, str]]] = {}
            for key, tag, who, at in db.execute("SELECT row_id, tag, who, at FROM tags"):
                self._tagged.setdefault(tag, {})[key] = (who, at)
            self._fields: dict[str, dict[str, tuple[str, str, str]]] = {
                "note": {k: (v, w, a) for k, v, w, a in db.execute("SELECT * FROM notes")},
                "relabel": {k: (v, w, a) for k, v, w, a in db.execute("SELECT * FROM relabels")},
            }
            self._verify(db)
            self._seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM audit").fetchone()[0]
            self._data_version = db.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise TagStoreError(
                f"{self.path} cannot be read ({err}): it may have been copied while in use or without its "
                "-wal file. Open the original store, or a copy made after closing it."
            ) from err
        finally:
            db.execute("COMMIT")

    def _verify(self, db: sqlite3.Connection) -> None:
        """The tables must hold what the audit trail says: a store missing committed pages is refused."""
        expected = {(k, t) for k, t in db.execute(EXPECTED_TAGS)}
        actual = {(k, t) for t, tagged in self._tagged.items() for k in tagged}
        differ = len(expected ^ actual)
        for field in FIELD_ACTIONS:
            wanted = dict(db.execute(EXPECTED_FIELD, (field, f"undo {field}")).fetchall())
            held = {k: v[0] for k, v in self._fields[field].items()}
            differ += len(set(wanted.items()) ^ set(held.items()))
        if differ:
            raise TagStoreError(
                f"{self.path} does not match its audit trail: {differ:,} tag(s), note(s) or relabel(s) "
                "differ from what the audit records, so committed changes are missing (was it copied "
                "without its -wal file, or was the -wal cut short?). Open the original store, or a copy "
                "made after closing it."
            )

    def _sync(self) -> None:
        """Take in other kernels' committed changes (cheap when there are none)."""
        version = self._connection.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self._catch_up(self._connection)

    def _catch_up(self, db: sqlite3.Connection) -> None:
        self._vocabulary = self._read_vocabulary(db)
        self._apply(self._audit_since(db))

    def _audit_since(self, db: sqlite3.Connection) -> list[AuditRow]:
        return db.execute(
            "SELECT seq, action, row_id, tag, new, who, at FROM audit WHERE seq > ? ORDER BY seq",
            (self._seq,),
        ).fetchall()

    def _apply(self, rows: list[AuditRow]) -> None:
        """Update the mirror from audit entries, oldest first."""
        for seq, action, key, tag, new, who, at in rows:
            kind = action.removeprefix("undo ")
            if kind in TAG_ACTIONS:
                tagged = self._tagged.setdefault(str(tag), {})
                if new is None:
                    tagged.pop(key, None)
                else:
                    tagged[key] = (who, at)
                if self._masked:
                    self._set_mask(str(tag), key, new is not None)
            elif new is None:
                self._fields[kind].pop(key, None)
            else:
                self._fields[kind][key] = (new, who, at)
            self._seq = seq
        if rows:
            self.version += 1

    def _set_mask(self, tag: str, key: str, value: bool) -> None:
        assert self._rows is not None
        if tag not in self._masks:
            self._masks[tag] = np.zeros(len(self._rows), dtype=bool)
        position = self._rows.find([key])[0]
        if position >= 0:
            self._masks[tag][position] = value

    def _checkpoint(self, mode: str = "PASSIVE") -> None:
        """Copy the WAL into the main file. PASSIVE never waits: if another kernel's read keeps some
        frames back, its own next write (or close) copies them; the tags are committed in the WAL anyway.
        TRUNCATE (on close) also empties the WAL."""
        self._connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()

    @staticmethod
    def _read_vocabulary(db: sqlite3.Connection) -> list[str]:
        return [r[0] for r in db.execute("SELECT tag FROM vocabulary ORDER BY position, tag")]

    def _write(self) -> _Transaction:
        return _Transaction(self._connection, self.path)

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql, args).fetchall()

    def _open(self) -> sqlite3.Connection:
        directory = self.path.parent
        if not directory.is_dir():
            raise TagStoreError(
                f"cannot keep tags in {self.path}: the directory {directory} does not exist. "
                "Create it, or pass store= a path in an existing directory."
            )
        if self.path.is_dir():
            raise TagStoreError(
                f"store={str(self.path)!r} is a directory: pass a file path, e.g. 'review-tags.sqlite'."
            )
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout = 30000")
            mode = _switch_to_wal(db, timeout=30)
            db.execute("PRAGMA synchronous = FULL")
            db.execute("BEGIN IMMEDIATE")  # proves the file is writable now, not at the first tag
            db.execute("ROLLBACK")
        except sqlite3.Error as err:
            raise TagStoreError(
                f"cannot write tags to {self.path}: {err}. Pass store= a path in a directory you can write to."
            ) from err
        if mode.lower() != "wal":
            raise TagStoreError(f"{self.path}: SQLite refused WAL mode ({mode}); use a local file system.")
        return db

    def _check_or_init(self) -> None:
        db = self._connection
        with _Transaction(db, self.path):
            version = db.execute("PRAGMA user_version").fetchone()[0]
            has_tables = db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if version == 0 and has_tables:
                raise TagStoreError(
                    f"{self.path} is a SQLite file but not an errorscope tag store (schema version 0). "
                    "Pass store= a new file name."
                )
            if version > SCHEMA_VERSION:
                raise TagStoreError(
                    f"{self.path} has tag-store schema version {version}; this errorscope reads up to "
                    f"{SCHEMA_VERSION}. Upgrade errorscope to open it."
                )
            if version == 0:
                _run_script(db, SCHEMA)
                db.execute(
                    "INSERT INTO meta VALUES ('fingerprint', ?), ('created', ?)", (self.fingerprint, _now())
                )
            for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
                _run_script(db, MIGRATIONS[target])
            if version < SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        stored = dict(self._read("SELECT key, value FROM meta")).get("fingerprint", "")
        if self.fingerprint and stored and stored != self.fingerprint:
            raise TagStoreError(
                f"{self.path} holds tags for another dataset (fingerprint {stored[:12]}…, this one is "
                f"{self.fingerprint[:12]}…): its row ids or labels differ. Omit store= to keep one store "
                f"per dataset under {DEFAULT_STORE_DIR}/, or pass store= another file for this data."
            )


class _Transaction:
    """``with`` block around one IMMEDIATE transaction: committed on success, rolled back on error."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db, self.path = db, path

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise TagStoreError(f"cannot write tags to {self.path}: {err}.") from err
        return self.db

    def __exit__(self, kind: object, error: object, _tb: object) -> None:
        if kind is None:
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.Error as err:
                self.db.execute("ROLLBACK")
                raise TagStoreError(f"saving tags to {self.path} failed: {err}; nothing was saved.") from err
        self.db.execute("ROLLBACK")


def id_texts(ids: Any) -> list[str]:
    """Row ids as text (one id or many); :class:`RowKeys` maps them to rows."""
    return [str(v.item() if isinstance(v, np.generic) else v) for v in _id_list(ids)]


def _id_list(ids: Any) -> list[Any]:
    """One id or many, as a list."""
    if isinstance(ids, str | int | float | np.generic):
        return [ids]
    if isinstance(ids, pd.Series | pd.Index):
        return ids.tolist()
    return list(ids)


def _read_export(path: Path) -> pd.DataFrame:
    """A file written by :meth:`TagStore.export_tags`, every value as text (only an empty cell is missing)."""
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    raise ValueError(f"import_tags(source={str(path)!r}): pass a DataFrame, or a .csv or .parquet file.")


def _kinds(action: str) -> tuple[str, str, str, str]:
    """The audit actions that change what ``action`` changes (a row's tag, or its note, or its relabel)."""
    base = TAG_ACTIONS if action in TAG_ACTIONS else (action, action)
    return (*base, *(f"undo {a}" for a in base))  # type: ignore[return-value]


def _run_script(db: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _switch_to_wal(db: sqlite3.Connection, timeout: float) -> str:
    """``PRAGMA journal_mode = WAL``, retried: SQLite answers "locked" at once, without its busy handler,
    when another connection is switching the same new file at the same moment."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            return str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


class EngineRowKeys:
    """The rows' keys in a tag store when the rows are on a SQL engine: an id (a value, or its exact text)
    is checked with one query, ``exists``, for the ids not seen before, and remembered; no id is listed.

    ``kind``: what the id column holds, "int", "float" or "text" (texts are parsed back to that type).
    ``exists(ids)``: which of these ids (values of that type) the data holds.
    """

    def __init__(self, kind: str, exists: Callable[[list[Any]], set[Any]], remember: int = 1_000_000) -> None:
        self.kind, self._exists, self._limit = kind, exists, remember
        self._known: set[Any] = set()

    def remember(self, ids: Iterable[Any]) -> None:
        """Ids read from the data (a page of rows): known to exist, no query needed for them."""
        if len(self._known) > self._limit:
            self._known.clear()
        self._known.update(v.item() if isinstance(v, np.generic) else v for v in ids)

    def typed(self, values: Any) -> list[Any]:
        """Each id as a value of the id column's type (None when it cannot be one: "1.5" for int ids)."""
        return [self._typed(v) for v in _id_list(values)]

    def _typed(self, value: Any) -> Any:
        value = value.item() if isinstance(value, np.generic) else value
        if self.kind == "text":  # a text id is found by its text, as in memory
            return value if isinstance(value, str) else None if value is None else str(value)
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            try:
                number: Any = int(value) if self.kind == "int" else float(value)
            except ValueError:
                return None
            return number if str(number) == value else None  # the id's exact text only
        if isinstance(value, int | float):
            if self.kind == "float":
                return float(value)
            return int(value) if float(value).is_integer() else None
        return None

    def unknown(self, ids: Any) -> list[Any]:
        """The ids (as given) that are not ids of the data."""
        items = _id_list(ids)
        typed = self.typed(items)
        todo = list(dict.fromkeys(v for v in typed if v is not None and v not in self._known))
        if todo:
            self.remember(self._exists(todo))
        return [item for item, v in zip(items, typed, strict=True) if v is None or v not in self._known]

    def values(self, ids: Any, argument: str = "ids") -> list[Any]:
        """The ids as values, each once, in order of first appearance; unknown ids are a ValueError."""
        unknown = self.unknown(ids)
        wanted = list(dict.fromkeys(v for v in self.typed(ids) if v is not None))
        if unknown:
            raise ValueError(
                f"{argument}: {len(unknown):,} ids are not in the Evaluation (e.g. {unknown[:5]}); pass "
                "ids of the data's id column, as values or as their exact text."
            )
        return wanted

    def keys(self, ids: Any, argument: str = "ids") -> list[str]:
        """The store keys of ``ids`` (each row once, in order of first appearance)."""
        return [str(v) for v in self.values(ids, argument)]


def streamed_fingerprint(classes: Sequence[Any], batches: Iterable[tuple[list[Any], np.ndarray]]) -> str:
    """:func:`dataset_fingerprint` of rows given ``batches`` at a time: (ids, actual class codes) in the
    data's order, as a SQL engine streams them. The same bytes are hashed, so a store written for a
    DataFrame opens on the same rows in Parquet or Spark."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, classes)).encode())
    digest.update(b"\x1e")
    codes: list[np.ndarray] = []
    first = True
    for ids, actual in batches:
        if not len(ids):
            continue
        if not first:
            digest.update(b"\x1f")
        digest.update("\x1f".join(map(str, ids)).encode())
        actual = np.asarray(actual)
        codes.append(actual if actual.dtype.kind == "f" else actual.astype(np.int32))
        first = False
    digest.update(b"\x1e")
    for chunk in codes:
        dtype = "<f8" if chunk.dtype.kind == "f" else "<i8"
        digest.update(np.ascontiguousarray(chunk, dtype=dtype).tobytes())
    return digest.hexdigest()
