"""One filtered grouped count through each query layer: DuckDB's own API, Narwhals, Ibis, PySpark.

The query (the shape of a confusion-matrix plan): ``WHERE c0 < 5 AND x0 > 0.3 GROUP BY y, pred`` with
``COUNT(*)`` and ``SUM(score)``, on Parquet of n rows x 20 columns generated with DuckDB in a temporary
directory, and on a pre-aggregated table of 10k rows held in memory (``SUM(n)``, ``SUM(s)``: there the
per-query overhead dominates). Then DuckDB's ``GROUPING SETS`` over 19 single columns in one scan against
19 queries. Every layer's result is checked against DuckDB's SQL (counts exact, sums to 1e-9).
The variants compared on one source run interleaved (a round of each, in rotating order), so that the
load of a shared machine falls on all of them alike.

Run: python benchmarks/query_layer.py [n_rows ...]   (default: 1000000 10000000)
Ibis is not a dependency of errorscope: its rows are measured in a scratch venv, the first of
$IBIS_PYTHON or /tmp/ibis-venv/bin/python that has it
(``python3 -m venv /tmp/ibis-venv && /tmp/ibis-venv/bin/pip install "ibis-framework[duckdb]==12.0.0"``).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

WARM = 11  # warm runs per variant on Parquet
SMALL_WARM = 31  # on the pre-aggregated table, where a run takes milliseconds
SMALL = "pre-aggregated 10k"
CARDINALITIES = [10, 25, 5, 3, 50, 7, 12, 4]  # c0..c7; x0..x7 are uniform floats in [0, 1)
SQL = "SELECT y, pred, COUNT(*) AS n, SUM(score) AS s FROM {t} WHERE c0 < 5 AND x0 > 0.3 GROUP BY y, pred"
SMALL_SQL = "SELECT y, pred, SUM(n) AS n, SUM(s) AS s FROM {t} WHERE c0 < 5 AND x0 > 3 GROUP BY y, pred"
IBIS_PYTHONS = [os.environ.get("IBIS_PYTHON", ""), "/tmp/ibis-venv/bin/python"]


def timed(source: str, variants: dict[str, Callable[[], object]], warm: int) -> list[dict]:
    """Each variant's first call, then ``warm`` rounds running every variant once (rotating order).

    One row per variant: first call, median and 90th percentile of the warm runs (ms), and its result.
    """
    rows, times = {}, {name: [] for name in variants}
    for name, fn in variants.items():
        t0 = time.perf_counter()
        result = fn()
        rows[name] = {"layer": name, "source": source, "first": (time.perf_counter() - t0) * 1e3}
        rows[name]["result"] = result
    names = list(variants)
    for round_ in range(warm):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            t0 = time.perf_counter()
            variants[name]()
            times[name].append((time.perf_counter() - t0) * 1e3)
    for name, row in rows.items():
        row["median"] = statistics.median(times[name])
        row["p90"] = statistics.quantiles(times[name], n=10)[-1]
    return list(rows.values())


def generate(directory: Path, n: int) -> Path:
    """n rows x 20 columns of Parquet: id, y, pred, score, c0..c7 (small ints), x0..x7 (floats)."""
    import duckdb

    path = directory / f"rows_{n}.parquet"
    if not path.exists():
        columns = [
            "i AS id",
            "CAST(hash(i + 100) % 2 AS TINYINT) AS y",
            "CAST(CASE WHEN random() < 0.8 THEN hash(i + 100) % 2 ELSE 1 - hash(i + 100) % 2 END AS TINYINT) AS pred",
            "random() AS score",
            *(f"CAST(hash(i + {k}) % {c} AS SMALLINT) AS c{k}" for k, c in enumerate(CARDINALITIES)),
            *(f"random() AS x{k}" for k in range(8)),
        ]
        duckdb.sql("SELECT setseed(0.5)")
        duckdb.sql(f"COPY (SELECT {', '.join(columns)} FROM range({n}) t(i)) TO '{path}' (FORMAT parquet)")
    n_rows, n_columns = duckdb.sql(
        f"SELECT COUNT(*), (SELECT COUNT(*) FROM (DESCRIBE '{path}')) FROM '{path}'"
    ).fetchall()[0]
    assert (n_rows, n_columns) == (n, 20), (n_rows, n_columns)
    return path


def pre_aggregate(directory: Path, big: Path) -> Path:
    """The pre-aggregated table: counts and score sums per (y, pred, c0, c1, x0 decile), 10k rows."""
    import duckdb

    path = directory / "pre_aggregated.parquet"
    if not path.exists():
        duckdb.sql(
            f"COPY (SELECT y, pred, c0, c1, CAST(floor(x0 * 10) AS SMALLINT) AS x0, COUNT(*) AS n, "
            f"SUM(score) AS s FROM '{big}' GROUP BY ALL) TO '{path}' (FORMAT parquet)"
        )
    (n_rows,) = duckdb.sql(f"SELECT COUNT(*) FROM '{path}'").fetchall()[0]
    assert n_rows == 10_000, n_rows  # every (y, pred, c0, c1, x0 decile): 2 x 2 x 10 x 25 x 10
    return path


def rows(table) -> dict[tuple[int, int], tuple[int, float]]:
    """An Arrow table, or a list of Spark rows or dicts, of (y, pred, n, s) as {(y, pred): (n, s)}."""
    if hasattr(table, "to_pylist"):
        table = table.to_pylist()
    return {(int(r["y"]), int(r["pred"])): (int(r["n"]), float(r["s"])) for r in table}


def same(got: dict, expected: dict, label: str) -> None:
    assert got.keys() == expected.keys(), label
    for key, (n, s) in expected.items():
        assert got[key][0] == n and abs(got[key][1] - s) <= 1e-9 * max(1.0, abs(s)), (
            label,
            key,
            got[key],
            n,
            s,
        )


def narwhals_query(native, small: bool):
    """The query in Narwhals, collected to an Arrow table."""
    import narwhals as nw

    frame = nw.from_native(native)
    if small:
        query = frame.filter(nw.col("c0") < 5, nw.col("x0") > 3).group_by("y", "pred")
        query = query.agg(nw.col("n").sum(), nw.col("s").sum())
    else:
        query = frame.filter(nw.col("c0") < 5, nw.col("x0") > 0.3).group_by("y", "pred")
        query = query.agg(nw.len().alias("n"), nw.col("score").sum().alias("s"))
    return query.collect("pyarrow").to_native()


def duckdb_part(sources: dict[str, Path]) -> list[dict]:
    """DuckDB's own API (SQL text; the relational API) and Narwhals over a DuckDB relation, on each source."""
    import duckdb

    out = []
    con = duckdb.connect()
    for label, path in sources.items():
        small = label == SMALL
        if small:
            con.sql(f"CREATE OR REPLACE TABLE agg AS SELECT * FROM '{path}'")
            table, sql = "agg", SMALL_SQL.format(t="agg")
            keep, sums = "c0 < 5 AND x0 > 3", "SUM(n) AS n, SUM(s) AS s"
        else:
            table, sql = f"read_parquet('{path}')", SQL.format(t=f"'{path}'")
            keep, sums = "c0 < 5 AND x0 > 0.3", "COUNT(*) AS n, SUM(score) AS s"
        variants = {
            "DuckDB SQL (con.sql)": lambda sql=sql: con.sql(sql).to_arrow_table(),
            "DuckDB relational API (filter, aggregate)": lambda t=table, k=keep, n=sums: (
                con.sql(f"FROM {t}").filter(k).aggregate(f"y, pred, {n}", "y, pred").to_arrow_table()
            ),
            "Narwhals over a DuckDB relation": lambda t=table, s=small: narwhals_query(
                con.sql(f"FROM {t}"), s
            ),
        }
        out += timed(label, variants, SMALL_WARM if small else WARM)
    return out


def grouping_sets(label: str, path: Path) -> list[dict]:
    """19 single-column slice counts under the same filter: one GROUPING SETS scan vs 19 queries."""
    import duckdb

    con = duckdb.connect()
    binned = ["y", "pred", *(f"c{k}" for k in range(8))]
    binned += [
        "CAST(floor(score * 10) AS SMALLINT) AS score_bin",
        *(f"CAST(floor(x{k} * 10) AS SMALLINT) AS x{k}_bin" for k in range(8)),
    ]
    names = [b.split(" AS ")[-1] for b in binned]
    source = f"(SELECT {', '.join(binned)}, y != pred AS wrong FROM '{path}' WHERE c0 < 5 AND x0 > 0.3)"
    sets = ", ".join(f"({name})" for name in names)
    one = f"SELECT {', '.join(names)}, COUNT(*) AS n, SUM(wrong::INT) AS wrong FROM {source} GROUP BY GROUPING SETS ({sets})"
    each = [
        f"SELECT {name}, COUNT(*) AS n, SUM(wrong::INT) AS wrong FROM {source} GROUP BY {name}"
        for name in names
    ]
    out = timed(
        label,
        {
            f"DuckDB GROUPING SETS, {len(names)} columns, one scan": lambda: con.sql(one).to_arrow_table(),
            f"DuckDB, {len(names)} single-column queries": lambda: [
                con.sql(q).to_arrow_table() for q in each
            ],
        },
        WARM,
    )
    together, apart = (r.pop("result") for r in out)
    assert together.num_rows == sum(t.num_rows for t in apart)
    assert sum(together["n"].to_pylist()) == len(names) * sum(apart[0]["n"].to_pylist())
    return out


def spark_part(sources: dict[str, Path]) -> list[dict]:
    """Spark SQL and Narwhals over a PySpark DataFrame, local[2], on each source."""
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    started = (time.perf_counter() - t0) * 1e3
    nan = float("nan")
    out = [
        {
            "layer": "PySpark session start (local[2])",
            "source": "",
            "first": started,
            "median": nan,
            "p90": nan,
        }
    ]
    for label, path in sources.items():
        small = label == SMALL
        frame = spark.read.parquet(str(path))
        if small:
            frame = frame.cache()
            frame.count()
        frame.createOrReplaceTempView("t")
        sql = (SMALL_SQL if small else SQL).format(t="t")
        variants = {
            "Spark SQL (spark.sql)": lambda sql=sql: spark.sql(sql).collect(),
            "Narwhals over a PySpark DataFrame": lambda f=frame, s=small: narwhals_query(f, s),
        }
        out += timed(label, variants, SMALL_WARM if small else WARM)
    spark.stop()
    return out


def ibis_part(sources: dict[str, Path]) -> list[dict]:
    """Ibis 12 over DuckDB: the same query as an Ibis expression, executed to an Arrow table."""
    import ibis

    con = ibis.duckdb.connect()

    def expression(t, small: bool):
        if small:
            kept = t.filter(t.c0 < 5, t.x0 > 3)
            return kept.group_by(["y", "pred"]).aggregate(n=kept.n.sum(), s=kept.s.sum())
        kept = t.filter(t.c0 < 5, t.x0 > 0.3)
        return kept.group_by(["y", "pred"]).aggregate(n=kept.count(), s=kept.score.sum())

    out = []
    for label, path in sources.items():
        small = label == SMALL
        if small:
            # con.create_table(name, frame) fails with duckdb 2.0 (DROP VIEW IF EXISTS): create it in SQL.
            con.raw_sql(f"CREATE OR REPLACE TABLE agg AS SELECT * FROM '{path}'")
            t, sql = con.table("agg"), SMALL_SQL.format(t="agg")
        else:
            t, sql = con.read_parquet(str(path)), SQL.format(t=f"'{path}'")
        built = expression(t, small)
        variants = {
            "DuckDB SQL, in the Ibis venv (con.con.sql)": lambda sql=sql: con.con.sql(sql).to_arrow_table(),
            "Ibis 12 over DuckDB": lambda t=t, s=small: con.to_pyarrow(expression(t, s)),
            "Ibis 12 over DuckDB, expression built once": lambda e=built: con.to_pyarrow(e),
        }
        out += [
            dict(r, result=r["result"].to_pylist())
            for r in timed(label, variants, SMALL_WARM if small else WARM)
        ]
    return out


def ibis_python() -> str | None:
    """An interpreter that has Ibis: a scratch venv's, else this one."""
    for python in [*IBIS_PYTHONS, sys.executable]:
        if python and Path(python).exists():
            probe = subprocess.run([python, "-c", "import ibis"], capture_output=True)
            if probe.returncode == 0:
                return python
    return None


def versions(python: str, packages: list[str]) -> str:
    code = "from importlib.metadata import version as v;import sys;print(', '.join(p+' '+v(p) for p in sys.argv[1:]))"
    return subprocess.run([python, "-c", code, *packages], capture_output=True, text=True).stdout.strip()


def main(argv: list[str]) -> None:
    if argv[:1] == ["--ibis"]:  # the Ibis part, run in the scratch venv
        results = ibis_part({k: Path(v) for k, v in json.loads(argv[1]).items()})
        print(json.dumps(results, default=str))  # DuckDB sums of integers are decimals
        return
    sizes = [int(a) for a in argv] or [1_000_000, 10_000_000]
    directory = Path(tempfile.mkdtemp(prefix="errorscope-query-layer-"))
    try:
        t0 = time.perf_counter()
        sources = {f"Parquet {n / 1e6:g}M x 20": generate(directory, n) for n in sizes}
        sources[SMALL] = pre_aggregate(directory, sources[f"Parquet {max(sizes) / 1e6:g}M x 20"])
        generated = time.perf_counter() - t0
        results = duckdb_part(sources)
        python = ibis_python()
        if python is not None:
            ibis_run = subprocess.run(
                [python, __file__, "--ibis", json.dumps({k: str(v) for k, v in sources.items()})],
                capture_output=True,
                text=True,
            )
            if ibis_run.returncode != 0:
                raise RuntimeError(f"the Ibis part failed in {python}:\n{ibis_run.stderr[-3000:]}")
            results += json.loads(ibis_run.stdout.strip().splitlines()[-1])
        results += spark_part(sources)
        expected = {r["source"]: rows(r["result"]) for r in results if r["layer"] == "DuckDB SQL (con.sql)"}
        for r in results:
            if "result" in r:
                same(rows(r.pop("result")), expected[r["source"]], r["layer"])
        for label, path in sources.items():
            if label != SMALL:
                results += grouping_sets(label, path)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(
        f"Filtered grouped count (WHERE 2 predicates, GROUP BY 2 small-int keys, COUNT and SUM of a float), "
        f"ms: first call, then median and p90 of {WARM} warm runs ({SMALL_WARM} on the pre-aggregated table); Parquet generated by DuckDB in "
        f"{generated:.0f} s; every layer's numbers equal DuckDB SQL's."
    )
    print(f"{'layer':<62} {'source':<20} {'first':>9} {'median':>9} {'p90':>9}")
    for r in results:
        figures = " ".join(
            f"{r[k]:>9.1f}" if r[k] == r[k] else f"{'-':>9}" for k in ("first", "median", "p90")
        )
        print(f"{r['layer']:<62} {r['source']:<20} {figures}")
    print("Versions: " + versions(sys.executable, ["duckdb", "narwhals", "pyarrow", "pyspark"]), end="")
    print(
        f"; Ibis: {versions(python, ['ibis-framework', 'duckdb', 'sqlglot'])}"
        if python
        else "; Ibis: not found"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
