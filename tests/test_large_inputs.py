"""What keeps a 10M-row dashboard fast, checked on small data: integer ids looked up by value, the
fingerprint fed in chunks, compact codes, "many distinct values" decided on a probe, Arrow strings
dictionary-encoded, bins by comparisons and duplicate rows found without a full ``duplicated``."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import errorscope as es
from errorscope import coding
from errorscope.coding import code_dtype, encode_column
from errorscope.overview import data_checks, duplicate_rows
from errorscope.tags import RowKeys, dataset_fingerprint


def _old_fingerprint(ids: np.ndarray, y_true: np.ndarray, classes: list) -> str:  # type: ignore[type-arg]
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, classes)).encode())
    digest.update(b"\x1e")
    digest.update("\x1f".join(map(str, ids)).encode())
    digest.update(b"\x1e")
    digest.update(np.ascontiguousarray(y_true, dtype="<i8").tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("n", [0, 1, 7, (1 << 18) + 3])
def test_fingerprint_in_chunks_is_the_one_stores_were_written_with(n: int) -> None:
    y = np.random.default_rng(n).integers(0, 3, n).astype(np.int32)
    for ids in (np.arange(n), np.arange(n) * 2.5, np.array([f"r{i}" for i in range(n)], dtype=object)):
        assert dataset_fingerprint(ids, y, ["a", 1]) == _old_fingerprint(ids, y, ["a", 1])


@pytest.mark.parametrize(
    "ids", [np.arange(5, 12), np.array([30, 10, -4, 7, 2**40, 0, 12]), np.arange(7, dtype=np.uint8) + 250]
)
def test_integer_ids_found_by_value_and_by_their_exact_text(ids: np.ndarray) -> None:
    rows = RowKeys(ids)
    assert len(rows) == len(ids)
    assert rows.text([0, 3]) == [str(ids[0]), str(ids[3])]
    wanted = [
        ids[3],
        str(ids[1]),
        float(ids[2]),
        int(ids[0]),
        np.int16(ids[4]) if abs(ids[4]) < 2**15 else ids[4],
    ]
    np.testing.assert_array_equal(rows.lookup(wanted), [3, 1, 2, 0, 4])
    np.testing.assert_array_equal(rows.lookup(ids[::-1]), np.arange(len(ids))[::-1])  # an array: vectorised
    np.testing.assert_array_equal(rows.find([str(v) for v in ids]), np.arange(len(ids)))
    missing = int(ids.max()) + 1
    unknown = [f"{ids[1]}.0", f" {ids[1]}", f"+{ids[1]}", f"0{ids[1]}", "-0", True, float(ids[1]) + 0.5,
               np.nan, missing, -(2**70), 2**70, "x", None]  # fmt: skip
    assert (rows.lookup(unknown) == -1).all()
    assert (rows.find(["x", f"{ids[1]}.0"]) == -1).all()
    assert rows.keys([ids[2], str(ids[2]), ids[0]]) == [str(ids[2]), str(ids[0])]
    with pytest.raises(ValueError, match="not in the Evaluation"):
        rows.positions([missing])


def test_positions_as_ids_are_not_materialised_as_text() -> None:
    rows = RowKeys(np.arange(10_000_000))
    assert rows._texts is None and rows._by_value is None  # arithmetic only
    np.testing.assert_array_equal(
        rows.lookup(np.array([9_999_999, 0, 10_000_000, -1])), [9_999_999, 0, -1, -1]
    )


def test_equal_integer_ids_and_ids_equal_as_text_are_refused() -> None:
    with pytest.raises(ValueError, match="both '3' as text"):
        RowKeys(np.array([1, 3, 3]))
    with pytest.raises(ValueError, match="both '1' as text"):
        RowKeys(np.array([1, "1"], dtype=object))


def test_text_and_float_ids_keep_their_lookups() -> None:
    rows = RowKeys(np.array(["a", "10", "b"], dtype=object))
    np.testing.assert_array_equal(rows.lookup(["10", 10, "b", "z"]), [1, 1, 2, -1])  # 10 is "10" as text
    floats = RowKeys(np.array([1.5, 10.0, 3.0]))
    np.testing.assert_array_equal(floats.lookup([10, "10.0", "10", 1.5]), [1, 1, -1, 0])
    np.testing.assert_array_equal(floats.find(["1.5", "3"]), [0, -1])


def test_tags_on_integer_ids_round_trip_through_the_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = pd.DataFrame({"x": np.arange(40.0)}, index=pd.RangeIndex(100, 140))
    ev = es.Evaluation(data, np.arange(40) % 2, y_pred=(np.arange(40) // 3) % 2)
    store = ev.attach_tags(tmp_path / "t.sqlite")
    store.tag([105, "107"], "odd")
    np.testing.assert_array_equal(np.flatnonzero(ev.tag_mask("odd")), [5, 7])
    again = es.Evaluation(data, np.arange(40) % 2, y_pred=(np.arange(40) // 3) % 2)
    np.testing.assert_array_equal(
        np.flatnonzero(again.attach_tags(tmp_path / "t.sqlite").tag_mask("odd")), [5, 7]
    )


def test_codes_use_the_smallest_type_and_combine_without_overflow() -> None:
    assert [code_dtype(n) for n in (1, 256, 257, 65536, 65537)] == [
        np.uint8, np.uint8, np.uint16, np.uint16, np.int32,
    ]  # fmt: skip
    rng = np.random.default_rng(0)
    n = 4000
    data = pd.DataFrame({
        "a": rng.choice([f"v{i}" for i in range(200)], n), "b": rng.choice([f"w{i}" for i in range(200)], n),
        "x": rng.normal(size=n),
    })  # fmt: skip
    y = rng.integers(0, 2, n)
    ev = es.Evaluation(data, y, y_pred=rng.integers(0, 2, n))
    a, b = ev.codes("a"), ev.codes("b")
    assert a.codes.dtype == np.uint8 and ev.codes("x").codes.dtype == np.uint8
    wide = encode_column("a", data["a"], max_categories=300)
    assert wide.codes.dtype == np.uint8 and wide.n_codes == 200
    from errorscope.plans import GroupCounts, Key

    everything = ev.engine.as_filter(None)
    counts = ev.engine.count(GroupCounts((Key.column("a"), Key.column("b"), Key.actual())), everything).counts
    expected = np.zeros((a.n_codes, b.n_codes, 2), dtype=np.int64)
    np.add.at(expected, (a.codes.astype(np.int64), b.codes.astype(np.int64), y), 1)  # 20 x 20 x 2 > 255
    np.testing.assert_array_equal(counts, expected)
    checks = data_checks(ev)  # the leak check counts (code, actual) on uint8 codes
    assert "possible leak" not in set(checks["check"])


def test_many_distinct_values_decided_on_a_probe_when_it_suffices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coding, "PROBE_ROWS", 100)
    continuous = pd.Series(np.random.default_rng(0).normal(size=10_000))
    calls: list[int] = []
    real = pd.Series.nunique

    def counting(self: pd.Series, dropna: bool = True) -> int:
        calls.append(len(self))
        return real(self, dropna=dropna)

    monkeypatch.setattr(pd.Series, "nunique", counting)
    assert coding._more_distinct_than(continuous, 12)
    assert calls == [100]  # the probe alone
    calls.clear()
    # few values among the probed rows, many in the rest: counted in full, and the answer is exact
    tied = pd.Series(np.concatenate([np.zeros(9_000), np.arange(1_000.0)]))
    assert coding._more_distinct_than(tied, 12) and calls[-1] == 10_000
    assert not coding._more_distinct_than(pd.Series(np.arange(10_000) % 12), 12)
    assert coding._more_distinct_than(pd.Series(np.arange(10_000) % 13), 12)
    assert encode_column("t", tied).kind == "numeric"
    assert encode_column("k", pd.Series(np.arange(10_000) % 12)).kind == "categorical"


def test_arrow_strings_code_like_their_object_twins() -> None:
    pa = pytest.importorskip("pyarrow")
    rng = np.random.default_rng(1)
    values = rng.choice(np.array(["b", "a", "é", "Z", "ab", None], dtype=object), 3000)
    reference = encode_column("c", pd.Series(values, dtype=object))
    for dtype in ("str", "string[pyarrow]", pd.ArrowDtype(pa.large_string()), pd.ArrowDtype(pa.string())):
        coded = encode_column("c", pd.Series(values, dtype=dtype))
        assert coded.labels == reference.labels and coded.predicates == reference.predicates
        np.testing.assert_array_equal(coded.codes, reference.codes)
    chunked = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([values[:1000], values[1000:]])))
    np.testing.assert_array_equal(encode_column("c", chunked).codes, reference.codes)


def test_bins_by_comparisons_equal_a_binary_search() -> None:
    x = np.random.default_rng(2).normal(size=5000)
    x[::17] = np.nan
    for cuts in (np.array([-1.0, 0.0, 0.5]), np.linspace(-2, 2, 40)):  # comparisons; binary search
        coded = encode_column("x", pd.Series(x), edges=cuts)
        expected = np.searchsorted(cuts, x, side="right")
        expected[np.isnan(x)] = coded.n_codes - 1
        np.testing.assert_array_equal(coded.codes, expected)


def test_duplicate_rows_equal_pandas_duplicated_on_awkward_values() -> None:
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(0, 50))
        frame = pd.DataFrame({
            "x": rng.choice([0.0, -0.0, np.nan, 1.5, 2.0], n),
            "i": pd.array(rng.choice([1, 2, None], n), dtype="Int64"),
            "s": rng.choice(np.array(["a", "b", None], dtype=object), n),
            "o": pd.Series(rng.choice(np.array([1, "1", 1.0, None, np.nan], dtype=object), n), dtype=object),
            "c": pd.Categorical(rng.choice(["u", "v"], n)),
            "b": rng.choice([True, False], n),
            "t": pd.to_datetime(rng.choice(["2020-01-01", None], n)),
            "u": rng.normal(size=n),
        })  # fmt: skip
        for columns in (["x"], ["x", "i"], ["s", "o"], list(frame.columns), ["c", "b", "t"], ["u", "s"]):
            assert duplicate_rows(frame, columns) == int(frame[columns].duplicated().sum()), (trial, columns)
    assert duplicate_rows(frame, []) == 0
