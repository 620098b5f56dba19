"""Durable tags on rows: a SQLite store keyed by row id and a fingerprint of the dataset, with an audit trail.

- Every write is one transaction, committed before the call returns (``synchronous=FULL``), so a tag the UI
  shows as saved survives a killed kernel.
- WAL mode and a busy timeout let several kernels tag the same store at once.
- The schema version is ``PRAGMA user_version``; an unknown version is refused with a clear message.
- The dataset fingerprint is a SHA-256 of the row ids (as text), the actual labels and the class list: a
  store written for other rows or other labels is refused, while adding columns or models is fine.
- The audit table is append-only: who (the OS user, or the name given), when (UTC, ISO 8601), what (tag
  added or removed, note, relabel, undo), old and new value, the model's name, and the selection's clause
  text at the time.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SCHEMA_VERSION = 1
DEFAULT_STORE = "errorscope-tags.sqlite"
TAG_COLUMNS = ["id", "tag", "note", "relabel", "who", "when"]

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
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""


class TagStoreError(RuntimeError):
    """The tag store cannot be used as asked (another dataset, unknown schema, unwritable place)."""


def dataset_fingerprint(ids: np.ndarray, y_true: np.ndarray, classes: Sequence[Any]) -> str:
    """SHA-256 of the row ids, the actual labels and the class list (see the module docstring)."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, classes)).encode())
    digest.update(b"\x1e")
    digest.update("\x1f".join(map(str, ids)).encode())
    digest.update(b"\x1e")
    digest.update(np.ascontiguousarray(y_true, dtype="<i8").tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Change:
    """One row's change in an action, as recorded in the audit trail (for undo)."""

    action: str
    row_id: str
    tag: str | None
    old: str | None
    new: str | None


class TagStore:
    """Tags, notes and relabel suggestions on rows, in a SQLite file shared by kernels.

    ``path``: the store file (its directory must exist and be writable). ``fingerprint``: the dataset's
    (:func:`dataset_fingerprint`). ``who``: the name in the audit trail (default: the OS user).
    ``model``: the model's name or version, recorded with every change.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_STORE,
        fingerprint: str = "",
        who: str | None = None,
        model: str | None = None,
        vocabulary: Iterable[str] = (),
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.fingerprint = fingerprint
        self.who = who or _os_user()
        self.model = model
        self.version = 0  # bumped on every change this process makes or sees
        self._undo: list[str] = []
        self._connection = self._open()
        self._check_or_init()
        self.add_tag_names(vocabulary)

    # -- reading -------------------------------------------------------------------------------
    @property
    def vocabulary(self) -> list[str]:
        """Tag names in the order they were added."""
        return [r[0] for r in self._read("SELECT tag FROM vocabulary ORDER BY position, tag")]

    def tagged_ids(self, tag: str) -> list[str]:
        """The row ids (as text) carrying ``tag``."""
        return [r[0] for r in self._read("SELECT row_id FROM tags WHERE tag = ?", (tag,))]

    def tags(self) -> pd.DataFrame:
        """One row per (id, tag), plus rows with only a note or a relabel (tag empty): id, tag, note,
        relabel, who, when. Ids are text here; :attr:`Evaluation.tags` maps them back."""
        rows = self._read(
            """
            WITH ids AS (SELECT row_id FROM tags UNION SELECT row_id FROM notes UNION SELECT row_id FROM relabels)
            SELECT ids.row_id, t.tag, n.note, r.label, COALESCE(t.who, n.who, r.who),
                   COALESCE(t.at, n.at, r.at)
            FROM ids LEFT JOIN tags t ON t.row_id = ids.row_id
                     LEFT JOIN notes n ON n.row_id = ids.row_id
                     LEFT JOIN relabels r ON r.row_id = ids.row_id
            ORDER BY ids.row_id, t.tag
            """
        )
        frame = pd.DataFrame(rows, columns=TAG_COLUMNS)
        frame["when"] = pd.to_datetime(frame["when"], utc=True, format="ISO8601")
        return frame

    def counts(self) -> dict[str, int]:
        """Rows per tag name (every name in the vocabulary, zero included)."""
        found = dict(self._read("SELECT tag, COUNT(*) FROM tags GROUP BY tag"))
        return {tag: int(found.get(tag, 0)) for tag in self.vocabulary}

    def audit(self) -> pd.DataFrame:
        """The audit trail, oldest first."""
        rows = self._read(
            "SELECT seq, action_id, at, who, action, row_id, tag, old, new, model, clause FROM audit ORDER BY seq"
        )
        columns = ["seq", "action_id", "when", "who", "action", "id", "tag", "old", "new", "model", "clause"]
        return pd.DataFrame(rows, columns=columns)

    # -- writing -------------------------------------------------------------------------------
    def add_tag_names(self, names: Iterable[str]) -> None:
        """Grow the vocabulary (names already in it are kept where they are)."""
        names = [_check_name(n) for n in names]
        if not names:
            return
        with self._write() as db:
            start = db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM vocabulary").fetchone()[0]
            for i, name in enumerate(names):
                db.execute("INSERT OR IGNORE INTO vocabulary VALUES (?, ?)", (name, start + i))

    def tag(self, ids: Iterable[Any], tag: str, clause: str = "") -> int:
        """Add ``tag`` to the rows ``ids``; returns how many rows gained it."""
        tag = _check_name(tag)
        self.add_tag_names([tag])
        changes = []
        with self._write() as db:
            now = _now()
            for row_id in id_texts(ids):
                cursor = db.execute(
                    "INSERT OR IGNORE INTO tags VALUES (?, ?, ?, ?)", (row_id, tag, self.who, now)
                )
                if cursor.rowcount:
                    changes.append(Change("tag added", row_id, tag, None, tag))
            self._log(db, changes, clause, now)
        return len(changes)

    def untag(self, ids: Iterable[Any], tag: str, clause: str = "") -> int:
        """Remove ``tag`` from the rows ``ids``; returns how many rows lost it."""
        changes = []
        with self._write() as db:
            now = _now()
            for row_id in id_texts(ids):
                cursor = db.execute("DELETE FROM tags WHERE row_id = ? AND tag = ?", (row_id, tag))
                if cursor.rowcount:
                    changes.append(Change("tag removed", row_id, tag, tag, None))
            self._log(db, changes, clause, now)
        return len(changes)

    def set_note(self, ids: Iterable[Any], note: str | None, clause: str = "") -> None:
        """Set (or with ``None`` / "" clear) the free-text note of the rows ``ids``."""
        self._set_field("notes", "note", "note", ids, note or None, clause)

    def set_relabel(self, ids: Iterable[Any], label: str | None, clause: str = "") -> None:
        """Suggest ``label`` as the correct label of the rows ``ids`` (``None`` clears the suggestion)."""
        self._set_field("relabels", "label", "relabel", ids, None if label is None else str(label), clause)

    def undo(self) -> int:
        """Revert this store's last action (all rows it touched); returns how many changes it reverted."""
        if not self._undo:
            return 0
        action_id = self._undo.pop()
        rows = self._read(
            "SELECT action, row_id, tag, old, new FROM audit WHERE action_id = ? ORDER BY seq DESC",
            (action_id,),
        )
        changes = []
        with self._write() as db:
            now = _now()
            for action, row_id, tag, old, _new in rows:
                if action == "tag added":
                    db.execute("DELETE FROM tags WHERE row_id = ? AND tag = ?", (row_id, tag))
                elif action == "tag removed":
                    db.execute("INSERT OR IGNORE INTO tags VALUES (?, ?, ?, ?)", (row_id, tag, self.who, now))
                else:
                    table, _column = ("notes", "note") if action == "note" else ("relabels", "label")
                    if old is None:
                        db.execute(f"DELETE FROM {table} WHERE row_id = ?", (row_id,))
                    else:
                        db.execute(
                            f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?)",
                            (row_id, old, self.who, now),
                        )
                changes.append(Change(f"undo {action}", row_id, tag, _new, old))
            self._log(db, changes, "", now, undoable=False)
        return len(changes)

    def import_tags(self, frame: pd.DataFrame, clause: str = "imported") -> int:
        """Add the tags, notes and relabels of a frame shaped like :meth:`tags` (id, tag, note, relabel)."""
        missing = {"id", "tag"} - set(frame.columns)
        if missing:
            raise ValueError(
                f"import_tags needs columns id and tag (also note, relabel); missing {sorted(missing)}."
            )
        added = 0
        for tag, group in frame.dropna(subset=["tag"]).groupby("tag"):
            added += self.tag(group["id"], str(tag), clause)
        for field, setter in (("note", self.set_note), ("relabel", self.set_relabel)):
            if field in frame.columns:
                for value, group in frame.dropna(subset=[field]).groupby(field):
                    setter(group["id"], str(value), clause)
        return added

    def close(self) -> None:
        self._connection.close()

    # -- internals -----------------------------------------------------------------------------
    def _set_field(
        self, table: str, column: str, action: str, ids: Iterable[Any], value: str | None, clause: str
    ) -> None:
        changes = []
        with self._write() as db:
            now = _now()
            for row_id in id_texts(ids):
                row = db.execute(f"SELECT {column} FROM {table} WHERE row_id = ?", (row_id,)).fetchone()
                old = row[0] if row else None
                if old == value:
                    continue
                if value is None:
                    db.execute(f"DELETE FROM {table} WHERE row_id = ?", (row_id,))
                else:
                    db.execute(
                        f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?)", (row_id, value, self.who, now)
                    )
                changes.append(Change(action, row_id, None, old, value))
            self._log(db, changes, clause, now)

    def _log(
        self, db: sqlite3.Connection, changes: list[Change], clause: str, now: str, undoable: bool = True
    ) -> None:
        if not changes:
            return
        action_id = uuid.uuid4().hex
        db.executemany(
            "INSERT INTO audit (action_id, at, who, action, row_id, tag, old, new, model, clause) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (action_id, now, self.who, c.action, c.row_id, c.tag, c.old, c.new, self.model, clause)
                for c in changes
            ],
        )
        if undoable:
            self._undo.append(action_id)
        self.version += 1

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
                f"store={str(self.path)!r} is a directory: pass a file path, e.g. {DEFAULT_STORE!r}."
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
                for statement in SCHEMA.split(";\n"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(
                    "INSERT INTO meta VALUES ('fingerprint', ?), ('created', ?)", (self.fingerprint, _now())
                )
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                return
        stored = dict(self._read("SELECT key, value FROM meta")).get("fingerprint", "")
        if self.fingerprint and stored and stored != self.fingerprint:
            raise TagStoreError(
                f"{self.path} holds tags for another dataset (fingerprint {stored[:12]}…, this one is "
                f"{self.fingerprint[:12]}…): its row ids or labels differ. Pass store= another file for this data."
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


def id_texts(ids: Iterable[Any]) -> list[str]:
    """Row ids as the text the store keys them by (one id or many)."""
    values = [ids] if isinstance(ids, str | int | np.integer) else list(ids)
    return [str(v.item() if isinstance(v, np.generic) else v) for v in values]


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a tag must be a non-empty string, got {name!r}.")
    return name.strip()


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
