"""What a lazy source is and how it opens: files, DuckDB relations, Arrow data, Ibis and PySpark tables.

:func:`open_source` turns what a user passes as ``data`` into a :class:`Source`: a Narwhals LazyFrame over
DuckDB (Parquet or CSV paths and globs, a ``duckdb.DuckDBPyRelation``, a ``pyarrow.Table`` or
``pyarrow.dataset.Dataset``, an Ibis table on DuckDB) or over Spark (a PySpark DataFrame), with one more
column, :data:`ROW`, numbering the rows in their order (files in name order, then their rows), so that
ties in a row page keep the data's order as the numpy engine does. pandas and polars frames stay numpy.
"""

from __future__ import annotations

import glob
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .progress import duckdb_probe, spark_probe

ROW = "__es_row"  # the row's position in the data's order (int64, from 0)
PARQUET = (".parquet", ".pq", ".parq")
CSV = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".txt")
EXTRAS = {"duckdb": "duckdb", "pyspark": "spark", "narwhals": "duckdb"}


@dataclass(frozen=True)
class Source:
    """An opened lazy source: ``frame`` (a Narwhals LazyFrame with the :data:`ROW` column), the engine that
    answers it ("duckdb" or "spark") and what it was opened from (for messages)."""

    frame: Any
    engine: str
    what: str
    progress: Callable[[], float | None] | None = None  # the running query's percent done (engines.progress)

    @property
    def columns(self) -> list[str]:
        """The data's columns (without :data:`ROW`)."""
        return [c for c in self.frame.collect_schema().names() if c != ROW]


def require(module: str) -> Any:
    """``import module``, or an ImportError naming the errorscope extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra = EXTRAS.get(module, "duckdb")
        raise ImportError(
            f"{module} is not installed: the {extra} engine needs it. Install it with "
            f"pip install 'errorscope[{extra}]'."
        ) from err


def is_lazy_source(data: Any) -> bool:
    """Whether ``data`` selects a SQL engine: a path or glob, a DuckDB relation, Arrow data, an Ibis or a
    PySpark table (pandas and polars frames, numpy arrays and dicts keep the numpy engine)."""
    if isinstance(data, str | os.PathLike):
        return True
    module = type(data).__module__.split(".")[0]
    if module == "duckdb":
        return type(data).__name__ == "DuckDBPyRelation"
    if module == "pyarrow":
        return type(data).__name__ in ("Table", "FileSystemDataset", "Dataset", "UnionDataset")
    return module in ("ibis", "pyspark")


def open_source(data: Any, connection: Any = None) -> Source:
    """``data`` opened as a :class:`Source` (see the module docstring); ``connection``: the DuckDB
    connection to open files and Arrow data in (default: a new in-memory one)."""
    if isinstance(data, str | os.PathLike):
        return _open_files(data, connection)
    module = type(data).__module__.split(".")[0]
    if module == "pyspark":
        return _open_spark(data)
    if module == "ibis":
        return _open_ibis(data)
    duckdb = require("duckdb")
    nw = require("narwhals")
    con = connection if connection is not None else duckdb.connect()
    probe = duckdb_probe(con, own=connection is None)
    if module == "duckdb":
        relation = data.project(f"*, row_number() OVER () - 1 AS {ROW}")
        return Source(nw.from_native(relation), "duckdb", "a DuckDB relation")
    if type(data).__name__ == "Table":
        import numpy as np
        import pyarrow as pa

        table = data.append_column(ROW, pa.array(np.arange(data.num_rows, dtype=np.int64)))
        return Source(nw.from_native(con.from_arrow(table)), "duckdb", "a pyarrow Table", probe)
    relation = con.from_arrow(data).project(f"*, row_number() OVER () - 1 AS {ROW}")
    return Source(nw.from_native(relation), "duckdb", "a pyarrow Dataset", probe)


def _open_files(data: str | os.PathLike[str], connection: Any) -> Source:
    """A Parquet or CSV file, or a glob of them (read in file-name order, with ``union_by_name=false``)."""
    text = os.fspath(data)
    if glob.has_magic(text):
        files = sorted(glob.glob(text, recursive=True))
        if not files:
            raise ValueError(
                f"data={text!r} matches no file: check the folder and the pattern (e.g. 'preds/*.parquet')."
            )
    else:
        if not Path(text).exists():
            raise ValueError(
                f"data={text!r}: no such file; pass the path of a Parquet or CSV file, or a glob."
            )
        if Path(text).is_dir():
            raise ValueError(
                f"data={text!r} is a folder: pass a glob of its files, e.g. {os.path.join(text, '*.parquet')!r}."
            )
        files = [text]
    kinds = {_file_kind(f) for f in files}
    if len(kinds) > 1:
        raise ValueError(
            f"data={text!r} matches both Parquet and CSV files: pass a glob that matches one kind, "
            "e.g. '*.parquet'."
        )
    duckdb = require("duckdb")
    nw = require("narwhals")
    con = connection if connection is not None else duckdb.connect()
    kind = kinds.pop()
    if kind == "parquet":
        relation = _read_parquet(con, files, text)
    else:
        _check_same_schema(con, files, text, "read_csv")
        relation = con.read_csv(files, union_by_name=False).project(f"*, row_number() OVER () - 1 AS {ROW}")
    probe = duckdb_probe(con, own=connection is None)
    return Source(nw.from_native(relation), "duckdb", f"data={text!r}", probe)


def _file_kind(path: str) -> str:
    name = path.lower()
    if name.endswith(PARQUET):
        return "parquet"
    if name.endswith(CSV):
        return "csv"
    raise ValueError(
        f"data: {path!r} is neither a Parquet file ({', '.join(PARQUET)}) nor a CSV file "
        f"({', '.join(CSV)}): pass Parquet or CSV files."
    )


def _read_parquet(con: Any, files: list[str], text: str) -> Any:
    """Parquet files as one relation, each row numbered by its file's offset plus its row in the file."""
    _check_same_schema(con, files, text, "read_parquet")
    rows = dict(con.execute("SELECT file_name, num_rows FROM parquet_file_metadata(?)", [files]).fetchall())
    offsets, start = [], 0
    for f in files:
        offsets.append(start)
        start += int(rows.get(f, 0))
    offset = (
        "CASE __es_file "
        + " ".join(f"WHEN {_quote(f)} THEN {o}" for f, o in zip(files, offsets, strict=True))
        + " END"
    )
    row = "file_row_number" if len(files) == 1 else f"file_row_number + {offset}"
    listed = "[" + ", ".join(_quote(f) for f in files) + "]"
    return con.sql(
        f"SELECT * EXCLUDE (__es_file, file_row_number), ({row})::BIGINT AS {ROW} FROM read_parquet({listed}, "
        "filename = '__es_file', file_row_number = true, union_by_name = false)"
    )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _check_same_schema(con: Any, files: list[str], text: str, reader: str) -> None:
    """Every file has the first file's columns, of the same types (a ValueError naming both files)."""
    first = None
    for f in files:
        schema = con.execute(f"DESCRIBE SELECT * FROM {reader}(?)", [f]).fetchall()
        columns = [(name, kind) for name, kind, *_ in schema]
        if first is None:
            first = (f, columns)
            continue
        if columns != first[1]:
            theirs, ours = dict(first[1]), dict(columns)
            diff = next(
                (f"column {c!r} is {theirs.get(c, 'absent')} in {first[0]!r} but {ours.get(c, 'absent')} in {f!r}"
                 for c in dict.fromkeys([*theirs, *ours]) if theirs.get(c) != ours.get(c)),
                f"the columns are in another order in {f!r}",
            )  # fmt: skip
            raise ValueError(
                f"data={text!r}: the files do not share one schema ({diff}): write every file with the same "
                "columns and types, or pass a glob of the files that agree."
            )


def _open_spark(frame: Any) -> Source:
    """A PySpark DataFrame, its rows numbered 0..n-1 in partition order: ``monotonically_increasing_id`` is
    (partition << 33) + row in the partition, so one count per partition (a few rows to the driver) gives
    each partition's offset."""
    require("pyspark")
    nw = require("narwhals")
    from pyspark.sql import functions as F

    session = frame.sparkSession
    context = getattr(session, "_sc", None)
    stopped = context is not None and getattr(context, "_jsc", None) is None
    if stopped:
        raise ValueError(
            "data is a PySpark DataFrame whose SparkSession was stopped: start a session "
            "(SparkSession.builder.getOrCreate()) and create the DataFrame again in it."
        )
    numbered = frame.withColumn(ROW, F.monotonically_increasing_id())
    partition = F.shiftright(F.col(ROW), 33)
    sizes = sorted((int(p), int(n)) for p, n in numbered.groupBy(partition.alias("p")).count().collect())
    offset, start = F.lit(0), 0
    for p, n in sizes:
        offset = F.when(partition == p, F.lit(start)).otherwise(offset)
        start += n
    row = (offset + F.col(ROW).bitwiseAND((1 << 33) - 1)).cast("bigint")
    numbered = numbered.withColumn(ROW, row)
    return Source(nw.from_native(numbered), "spark", "a PySpark DataFrame", spark_probe(session))


def _open_ibis(table: Any) -> Source:
    """An Ibis table on DuckDB, read through its own connection's SQL (never copied into memory)."""
    nw = require("narwhals")
    backend = table._find_backend()
    if getattr(backend, "name", "") != "duckdb":
        raise TypeError(
            f"data is an Ibis table on the {getattr(backend, 'name', '?')} backend: errorscope reads Ibis tables "
            "on DuckDB; for another backend, write the table to Parquet and pass the path, or pass a PySpark "
            "DataFrame."
        )
    import ibis

    relation = backend.con.sql(ibis.to_sql(table, dialect="duckdb"))
    return Source(
        nw.from_native(relation.project(f"*, row_number() OVER () - 1 AS {ROW}")), "duckdb", "an Ibis table"
    )
