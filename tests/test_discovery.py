"""Slice discovery: a planted failure is found first; pruning loses nothing against brute force, on every
engine (numpy, DuckDB over Parquet, Spark), with the same table and the same held-out rows everywhere."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

import errorscope as es
from errorscope.discovery import DiscoveryCancelled, discover_slices, sliceline_score, split_rows
from errorscope.plans import Filter
from errorscope.query import parse
from sliceline_oracle import brute_force_top_k

ENGINES = ("numpy", "duckdb", pytest.param("spark", marks=pytest.mark.spark))


def on_engine(engine: str, request: pytest.FixtureRequest, ev: es.Evaluation) -> es.Evaluation:
    """The same data and predictions as ``ev`` on ``engine``: a frame (numpy), a Parquet file (DuckDB) or a
    Spark DataFrame, the labels and predictions as columns. (Built here until the shared engine fixture
    of tests/engines.py lands.)"""
    frame = ev.data.assign(es_y=ev.y_true, es_pred=ev.y_pred).reset_index(drop=True)
    if engine == "numpy":
        source: object = frame
    elif engine == "duckdb":
        path = request.getfixturevalue("tmp_path_factory").mktemp("discovery") / "data.parquet"
        frame.to_parquet(path, index=False)
        source = str(path)
    else:
        source = request.getfixturevalue("spark").createDataFrame(
            frame.astype(object).where(frame.notna(), None)
        )
    out = es.Evaluation(source, y_true="es_y", y_pred="es_pred", features=list(ev.features))
    assert out.engine == engine
    return out


def where(ev: es.Evaluation, text: str) -> Filter:
    """Query text as the Filter a view is computed on (the selection is left alone)."""
    return Filter((("test", text),), (ev.engine.resolve(parse(text, "test", ev.query_name)),))


def planted(n: int = 20_000, seed: int = 0) -> es.Evaluation:
    """Six features, 10% noise errors, and most rows of `color = red AND size >= ~1.0` wrong."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue", "black"], n),
            "size": rng.normal(size=n),
            "shape": rng.choice(["round", "square", "flat"], n),
            "weight": rng.exponential(size=n),
            "city": rng.choice(list("ABCDEFG"), n),
            "age": rng.integers(18, 90, n),
        }
    )
    y = rng.integers(0, 2, n)
    wrong = rng.random(n) < 0.1
    wrong |= ((data["color"] == "red") & (data["size"] > 1.0)).to_numpy() & (rng.random(n) < 0.7)
    return es.Evaluation(data, y, y_pred=np.where(wrong, 1 - y, y))


@pytest.fixture(scope="module")
def ev() -> es.Evaluation:
    return planted()


def test_planted_two_feature_slice_is_ranked_first(ev: es.Evaluation) -> None:
    found = discover_slices(ev)
    top = found.iloc[0]
    assert top["level"] == 2
    columns = {p.column for p in top["predicates"]}
    assert columns == {"color", "size"}
    color = next(p for p in top["predicates"] if p.column == "color")
    assert color.values == ("red",)
    assert top["error_rate"] > 0.6 and top["p_adjusted"] < 1e-10
    assert found["score"].is_monotonic_decreasing


def test_counts_and_scores_equal_the_rows_the_predicates_select(ev: es.Evaluation) -> None:
    mask = ev.data["shape"].to_numpy() != "flat"
    found = discover_slices(ev, mask, max_level=3, min_support=50)
    wrong = ev.true_codes != ev.pred_codes
    held = split_rows(np.arange(ev.n_rows), 0.5, 0)  # by row position: the same rows on every engine
    search = mask & ~held
    n, mean = search.sum(), wrong[search].mean()
    for _, row in found.iterrows():
        rows = mask.copy()
        for p in row["predicates"]:
            rows &= ev.engine.predicate_mask(p)
        assert row["size"] == rows.sum() and row["errors"] == wrong[rows].sum()
        assert row["holdout_size"] == (rows & held).sum()
        assert row["holdout_error_rate"] == pytest.approx(wrong[rows & held].mean())
        in_search = rows & search
        expected = sliceline_score(wrong[in_search].sum(), in_search.sum(), mean, n, 0.95)
        assert row["score"] == pytest.approx(expected)
        assert row["slice"] == ", ".join(p.label for p in row["predicates"])


@pytest.fixture(scope="module")
def planted_ev() -> es.Evaluation:
    return planted(n=6000, seed=5)


@pytest.fixture(scope="module", params=ENGINES)
def on_every_engine(request: pytest.FixtureRequest, planted_ev: es.Evaluation) -> es.Evaluation:
    """:func:`planted_ev` on each engine, built once per module (a Spark query costs 0.3-1 s)."""
    return on_engine(request.param, request, planted_ev)


def test_pruned_search_equals_brute_force_top_k(
    on_every_engine: es.Evaluation, planted_ev: es.Evaluation
) -> None:
    ev = planted_ev  # the oracle: brute force over its codes
    min_support, alpha, k, gain = 40, 0.9, 15, 0.1
    found = discover_slices(
        on_every_engine,
        max_level=3,
        min_support=min_support,
        alpha=alpha,
        k=k,
        holdout=0,
        min_gain=gain,
        max_overlap=1,
    )
    assert found["p_adjusted"].isna().all()  # no held-out rows: no valid test
    coded = [ev.codes(c) for c in ev.features]
    wrong = (ev.true_codes != ev.pred_codes).astype(np.int64)
    expected = brute_force_top_k(coded, wrong, alpha, min_support, gain, k)
    np.testing.assert_allclose(found["score"].to_numpy(), expected, rtol=1e-12)


def null_evaluation(n: int, seed: int) -> es.Evaluation:
    """The features of :func:`planted`, and errors independent of them (no slice is worse)."""
    rng = np.random.default_rng(seed)
    data = planted(n, seed).data
    y = rng.integers(0, 2, n)
    return es.Evaluation(data, y, y_pred=np.where(rng.random(n) < 0.2, 1 - y, y))


@pytest.mark.parametrize(("alpha", "min_support"), [(0.99, 20), (0.999, 10)])
def test_p_values_are_valid_when_no_slice_is_worse(alpha: float, min_support: int) -> None:
    """The search optimises over ~10^4 slices; testing on its own rows made every one "significant"."""
    significant = listed = 0
    for seed in range(20):
        found = discover_slices(null_evaluation(5000, seed), alpha=alpha, min_support=min_support)
        significant += int((found["p_adjusted"] < 0.05).sum())
        listed += len(found)
    assert listed >= 100  # the search does list slices: chance makes some look worse
    assert significant / listed <= 0.05


def test_redundant_conjunctions_are_not_listed() -> None:
    df = es.datasets.load_adult()
    ev = es.Evaluation(df, "income", y_pred=np.where(df["relationship"] == "Husband", "<=50K", df["income"]))
    found = discover_slices(ev, columns=["relationship", "sex", "age"])
    texts = list(found["slice"])
    assert "relationship = Husband" in texts
    assert not any(
        "relationship = Husband" in t and "sex = Male" in t for t in texts
    )  # every husband is male


@pytest.fixture(scope="module")
def adult() -> es.Evaluation:
    from sklearn.linear_model import LogisticRegression

    df = es.datasets.load_adult()
    num = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    model = LogisticRegression(max_iter=1000).fit(df[num], df["income"])
    return es.Evaluation(df, "income", model=model, features=num, sensitive=["sex", "race"])


def test_conjunctions_beat_their_parents_and_do_not_repeat_listed_rows(adult: es.Evaluation) -> None:
    """On Adult, "education-num >= 13" was in 15 of the 20 conjunctions listed, most adding nothing."""
    found = discover_slices(adult)
    wrong = adult.wrong
    search = ~split_rows(np.arange(adult.n_rows), 0.5, 0)
    n, mean = search.sum(), wrong[search].mean()

    def rows_of(term: tuple) -> np.ndarray:
        rows = np.ones(adult.n_rows, dtype=bool)
        for p in term:
            rows &= adult.engine.predicate_mask(p)
        return rows

    def score(rows: np.ndarray) -> float:
        return float(sliceline_score(wrong[rows & search].sum(), (rows & search).sum(), mean, n, 0.95))

    covered = np.zeros(adult.n_rows, dtype=bool)
    for term in found["predicates"]:
        rows = rows_of(term)
        if len(term) > 1:
            parents = [term[:d] + term[d + 1 :] for d in range(len(term))]
            assert score(rows) > 1.1 * max(score(rows_of(p)) for p in parents), term
        assert (rows & covered).sum() <= 0.8 * rows.sum(), term
        covered |= rows
    assert len(found) >= 5


def test_progress_reaches_one_and_cancel_stops(ev: es.Evaluation) -> None:
    seen: list[float] = []
    discover_slices(ev, progress=lambda f, _m: seen.append(f))
    assert seen[-1] == 1.0 and seen == sorted(seen)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DiscoveryCancelled):
        discover_slices(ev, cancel=cancel)


def test_no_errors_lists_nothing() -> None:
    data = pd.DataFrame({"a": ["x", "y"] * 50})
    y = np.array([0, 1] * 50)
    perfect = es.Evaluation(data, y, y_pred=y)
    assert discover_slices(perfect).empty


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("max_level", 7),
        ("alpha", 0),
        ("min_support", 0),
        ("holdout", 1.0),
        ("holdout", -0.1),
        ("min_gain", -1),
        ("max_overlap", 0),
    ],
)
def test_bad_arguments_name_the_argument(argument: str, value: float) -> None:
    data = pd.DataFrame({"a": ["x", "y"] * 50})
    y = np.array([0, 1] * 50)
    ev = es.Evaluation(data, y, y_pred=np.where(np.arange(100) % 7 == 0, 1 - y, y))
    with pytest.raises(ValueError, match=argument):
        discover_slices(ev, **{argument: value})


def test_split_is_about_the_share_whatever_the_order_of_the_rows() -> None:
    """The hash of the row position holds out the share asked of any run, stride or residue of rows."""
    position = np.arange(1_000_000)
    for share in (0.1, 0.5, 0.8):
        held = split_rows(position, share, seed=0)
        sd = np.sqrt(share * (1 - share) / len(position))
        assert abs(held.mean() - share) < 4 * sd
        for m in (2, 3, 7, 10, 64, 1000):  # periodic structure in the data's order: as a fair coin would
            z = [(held[r::m].mean() - share) / (sd * np.sqrt(m)) for r in range(m)]
            assert np.max(np.abs(z)) < 4.5 and np.sum(np.square(z)) < chi2.ppf(0.9999, m), (share, m)
        centred = held - held.mean()
        for lag in (1, 2, 3, 100):  # neighbouring rows are independent
            assert abs((centred[:-lag] * centred[lag:]).mean() / centred.var()) < 4 * np.sqrt(1 / len(held))
    other = split_rows(position, 0.5, seed=1)
    assert 0.45 < (other == split_rows(position, 0.5, seed=0)).mean() < 0.55  # another seed, other rows
    big = np.array([2**40, 2**62 - 1, 10**15])  # no overflow far beyond any row count
    assert split_rows(big, 0.5, 0).dtype == bool


def test_the_same_table_on_every_engine(on_every_engine: es.Evaluation, planted_ev: es.Evaluation) -> None:
    """Same search rows, same held-out rows, same slices and numbers (1e-9), under a filter."""
    lazy = on_every_engine
    query = "shape != 'flat'"
    expected = discover_slices(planted_ev, where(planted_ev, query), min_support=30)
    found = discover_slices(lazy, where(lazy, query), min_support=30)
    assert len(expected) >= 5 and expected["p_adjusted"].notna().all()
    numbers = expected.select_dtypes("number").columns
    pd.testing.assert_frame_equal(found[numbers], expected[numbers], check_dtype=False, rtol=1e-9, atol=1e-12)
    assert list(found["slice"]) == list(expected["slice"])
    assert [tuple(t) for t in found["predicates"]] == [tuple(t) for t in expected["predicates"]]
    kept = (planted_ev.data["shape"] != "flat").to_numpy()
    held = split_rows(np.arange(planted_ev.n_rows), 0.5, 0)
    top = found.iloc[0]
    rows = kept.copy()
    for p in top["predicates"]:
        rows &= planted_ev.engine.predicate_mask(p)
    assert top["size"] == rows.sum() and top["holdout_size"] == (rows & held).sum()


def test_compare_tab_distances_equal_scipy_on_every_engine(
    on_every_engine: es.Evaluation, planted_ev: es.Evaluation
) -> None:
    from scipy.spatial.distance import jensenshannon

    from errorscope.comparison import differing_features, feature_distribution

    lazy = on_every_engine
    ranked = differing_features(lazy, where(lazy, "color == 'red' and age < 60"))
    selected = ((planted_ev.data["color"] == "red") & (planted_ev.data["age"] < 60)).to_numpy()
    assert ranked["feature"].iloc[0] == "color"  # the selection is all red
    for _, row in ranked.iterrows():
        coded = planted_ev.codes(row["feature"])
        inside = np.bincount(coded.codes[selected], minlength=coded.n_codes)
        outside = np.bincount(coded.codes[~selected], minlength=coded.n_codes)
        assert row["distance"] == pytest.approx(jensenshannon(inside, outside, base=2), rel=1e-9)
    dist = feature_distribution(lazy, "age", where(lazy, "color == 'red' and age < 60"))
    coded = planted_ev.codes("age")
    np.testing.assert_array_equal(
        dist["selected"], np.bincount(coded.codes[selected], minlength=coded.n_codes)
    )
    np.testing.assert_array_equal(dist["rest"], np.bincount(coded.codes[~selected], minlength=coded.n_codes))


@pytest.mark.parametrize("source", ["parquet", "arrow"])
def test_slice_browser_discovers_and_compares_on_duckdb(
    source: str, request: pytest.FixtureRequest, planted_ev: es.Evaluation
) -> None:
    """In the background on its own connection (Parquet), or on the kernel's thread (an Arrow table lives
    in one connection); the views keep answering; the same tables as in memory."""
    import pyarrow as pa

    if source == "arrow":
        frame = planted_ev.data.assign(es_y=planted_ev.y_true, es_pred=planted_ev.y_pred)
        lazy = es.Evaluation(
            pa.Table.from_pandas(frame, preserve_index=False), y_true="es_y", y_pred="es_pred"
        )
    else:
        lazy = on_engine("duckdb", request, planted_ev)
    views = {}
    for ev in (planted_ev, lazy):
        view = es.SliceBrowser(ev, discover=False, min_support=30)
        matrix = es.ConfusionMatrix(ev)
        ev.select("shape != 'flat'")
        view.discover()
        matrix.select_cells(cells=[(0, 1), (1, 0)])  # another view asks while discovery runs
        view.wait_for_discovery(120)
        assert view.discovery_status == "done", view.discovery_status
        view.tab = "compare"
        views[ev.engine.name] = (view.discovered_slices, view.comparison, view.feature_comparison)
        view.close()
        matrix.close()
        ev.selection.clear()
    (found, shown, ranked), (lazy_found, lazy_shown, lazy_ranked) = views["numpy"], views["duckdb"]
    assert len(found) >= 3 and list(lazy_found["slice"]) == list(found["slice"])
    numbers = found.select_dtypes("number").columns
    pd.testing.assert_frame_equal(lazy_found[numbers], found[numbers], check_dtype=False, rtol=1e-9)
    assert lazy_shown["features"] == shown["features"] and lazy_shown["values"] == shown["values"]
    assert lazy_shown["distance"] == shown["distance"] or np.allclose(
        np.frombuffer(lazy_shown["distance"]), np.frombuffer(shown["distance"]), rtol=1e-9
    )
    pd.testing.assert_frame_equal(lazy_ranked, ranked, rtol=1e-9)
