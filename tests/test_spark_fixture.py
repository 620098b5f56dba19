"""The session-wide local Spark fixture (tests/conftest.py) and the query layer over it (Narwhals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.spark


def test_the_fixture_is_one_local_session_as_configured(spark, request):
    conf = spark.sparkContext.getConf()
    assert spark.sparkContext.master == "local[2]"
    assert conf.get("spark.ui.enabled") == "false"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "1"
    assert spark.conf.get("spark.sql.codegen.wholeStage") == "false"
    assert conf.get("spark.driver.memory") == "2g"
    assert request.getfixturevalue("spark") is spark  # session-scoped: the same session every time
    assert request.node.get_closest_marker("spark") is not None


def test_a_grouped_count_matches_numpy(spark):
    rows = spark.range(1000).selectExpr("id", "id % 3 AS key", "CAST(id AS DOUBLE) / 7 AS x")
    got = {
        r["key"]: (r["n"], r["s"])
        for r in rows.groupBy("key")
        .agg({"*": "count", "x": "sum"})
        .withColumnsRenamed({"count(1)": "n", "sum(x)": "s"})
        .collect()
    }
    ids = np.arange(1000)
    for key in range(3):
        kept = ids[ids % 3 == key]
        assert got[key][0] == len(kept)
        assert got[key][1] == pytest.approx((kept / 7).sum(), rel=1e-12)


def test_narwhals_over_spark_gives_pandas_numbers(spark):
    """The plan shape the engines run (filter, group by two keys, count and sum) through Narwhals on Spark."""
    import narwhals as nw

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "y": rng.integers(0, 2, 500),
            "pred": rng.integers(0, 2, 500),
            "w": rng.random(500),
            "age": rng.integers(18, 90, 500),
        }
    )
    got = (
        nw.from_native(spark.createDataFrame(frame))
        .filter(nw.col("age") > 40, nw.col("w") < 0.9)
        .group_by("y", "pred")
        .agg(
            nw.len().alias("n"),
            nw.col("w").sum().alias("w"),
            (nw.col("y") != nw.col("pred")).cast(nw.Int64).sum().alias("wrong"),
        )
        .sort("y", "pred")
        .collect()
        .to_pandas()
    )
    kept = frame[(frame["age"] > 40) & (frame["w"] < 0.9)]
    expected = kept.groupby(["y", "pred"]).agg(n=("w", "size"), w=("w", "sum")).reset_index()
    np.testing.assert_array_equal(got[["y", "pred", "n"]].to_numpy(), expected[["y", "pred", "n"]].to_numpy())
    np.testing.assert_allclose(got["w"].to_numpy(dtype=float), expected["w"].to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(
        got["wrong"].to_numpy(dtype=int), (expected["y"] != expected["pred"]).astype(int) * expected["n"]
    )
