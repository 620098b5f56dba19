"""Paired comparison statistics against statsmodels, scikit-learn, scipy and a row-level bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)
from statsmodels.stats.contingency_tables import mcnemar

from errorscope.model_comparison import (
    AGREEMENT_CELLS,
    CLASS_COLUMNS,
    ERROR_COLUMNS,
    _bootstrap_diffs,
    _metric_names,
    agreement_counts,
    mcnemar_exact,
    paired_class_metrics,
    paired_error_metrics,
    paired_mean_difference,
)


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row (actual, pred A, pred B) arrays of a (k, k, k) table."""
    cells = np.repeat(np.arange(counts.size), counts.ravel())
    return np.unravel_index(cells, counts.shape)


def random_counts(k: int, n_cells: int, seed: int, high: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    flat = np.zeros(k**3, dtype=np.int64)
    flat[rng.choice(k**3, size=min(n_cells, k**3), replace=False)] = rng.integers(
        1, high, size=min(n_cells, k**3)
    )
    return flat.reshape(k, k, k)


def sm_mcnemar(only_a: int, only_b: int, both_right: int = 7, both_wrong: int = 3) -> float:
    table = np.array([[both_right, only_a], [only_b, both_wrong]])
    return float(mcnemar(table, exact=True).pvalue)


@pytest.mark.parametrize(
    ("b", "c"),
    [
        (0, 0),
        (0, 1),
        (1, 0),
        (0, 9),
        (3, 3),
        (5, 1),
        (1, 12),
        (20, 31),
        (250, 180),
        (1000, 1093),
        (4000, 3801),
    ]
    + [tuple(int(x) for x in np.random.default_rng(s).integers(0, 300, 2)) for s in range(20)],
)
def test_mcnemar_exact_matches_statsmodels(b: int, c: int) -> None:
    assert mcnemar_exact(b, c) == pytest.approx(sm_mcnemar(b, c), abs=1e-12)
    if b + c:
        assert mcnemar_exact(b, c) == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue, abs=1e-12)


def test_mcnemar_exact_rejects_negative() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        mcnemar_exact(-1, 3)


@pytest.mark.parametrize(("k", "n_cells", "seed"), [(2, 8, 1), (3, 20, 2), (4, 40, 3), (26, 700, 4)])
def test_agreement_counts_match_rows(k: int, n_cells: int, seed: int) -> None:
    counts = random_counts(k, n_cells, seed)
    actual, pa, pb = expand(counts)
    ra, rb = pa == actual, pb == actual
    expected = {
        "both_right": ra & rb,
        "only_a_right": ra & ~rb,
        "only_b_right": ~ra & rb,
        "both_wrong": ~ra & ~rb,
    }
    got = agreement_counts(counts)
    assert tuple(got) == AGREEMENT_CELLS
    assert got == {name: int(mask.sum()) for name, mask in expected.items()}


def sklearn_metrics(actual: np.ndarray, pred: np.ndarray, k: int, positive: int | None) -> dict[str, float]:
    out = {
        "accuracy": accuracy_score(actual, pred),
        "balanced_accuracy": balanced_accuracy_score(actual, pred),
    }
    if k > 2:
        out["macro_f1"] = f1_score(actual, pred, average="macro", zero_division=0)
    if positive is not None:
        labels = list(range(k))
        if k == 2:
            kw = {"pos_label": positive, "zero_division": 0}
            out["precision"] = precision_score(actual, pred, **kw)
            out["recall"] = recall_score(actual, pred, **kw)
            out["f1"] = f1_score(actual, pred, **kw)
        else:
            kw = {"labels": labels, "average": None, "zero_division": 0}
            out["precision"] = precision_score(actual, pred, **kw)[positive]
            out["recall"] = recall_score(actual, pred, **kw)[positive]
            out["f1"] = f1_score(actual, pred, **kw)[positive]
        cm = confusion_matrix(actual, pred, labels=labels)
        negatives = cm.sum() - cm[positive].sum()
        out["fpr"] = (cm[:, positive].sum() - cm[positive, positive]) / negatives if negatives else 0.0
    return out


def discordant_p(right_a: np.ndarray, right_b: np.ndarray) -> float:
    table = np.array(
        [
            [np.sum(right_a & right_b), np.sum(right_a & ~right_b)],
            [np.sum(~right_a & right_b), np.sum(~right_a & ~right_b)],
        ]
    )
    return float(mcnemar(table, exact=True).pvalue)


CASES = [
    (2, 8, 11, 1),
    (2, 6, 12, 0),
    (2, 3, 13, 1),  # few cells: some classes absent from actual or from predictions
    (4, 40, 14, None),
    (4, 40, 15, 2),
    (4, 9, 16, 3),
    (26, 700, 17, None),
    (26, 700, 18, 5),
    (26, 60, 19, 25),
]


@pytest.mark.parametrize(("k", "n_cells", "seed", "positive"), CASES)
@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_class_metrics_match_sklearn_and_statsmodels(
    k: int, n_cells: int, seed: int, positive: int | None
) -> None:
    counts = random_counts(k, n_cells, seed)
    actual, pa, pb = expand(counts)
    table = paired_class_metrics(counts, positive=positive, n_boot=200, seed=seed)
    assert list(table.columns) == list(CLASS_COLUMNS)
    expected_a = sklearn_metrics(actual, pa, k, positive)
    expected_b = sklearn_metrics(actual, pb, k, positive)
    order = ["accuracy", "balanced_accuracy"] + (["macro_f1"] if k > 2 else [])
    order += ["precision", "recall", "fpr", "f1"] if positive is not None else []
    assert table["metric"].tolist() == order
    rows = table.set_index("metric")
    for name in order:
        assert rows.loc[name, "a"] == pytest.approx(expected_a[name], abs=1e-12), name
        assert rows.loc[name, "b"] == pytest.approx(expected_b[name], abs=1e-12), name
        assert rows.loc[name, "diff"] == pytest.approx(expected_b[name] - expected_a[name], abs=1e-12), name
    assert rows.loc["accuracy", "p_mcnemar"] == pytest.approx(
        discordant_p(pa == actual, pb == actual), abs=1e-12
    )
    assert rows.loc["accuracy", "n"] == len(actual)
    assert np.isnan(rows.loc["balanced_accuracy", ["p_mcnemar", "n"]].astype(float)).all()
    if positive is not None:
        pos = actual == positive
        p_recall = discordant_p((pa == positive)[pos], (pb == positive)[pos])
        p_fpr = discordant_p((pa != positive)[~pos], (pb != positive)[~pos])
        assert rows.loc["recall", "p_mcnemar"] == pytest.approx(p_recall, abs=1e-12)
        assert rows.loc["fpr", "p_mcnemar"] == pytest.approx(p_fpr, abs=1e-12)
        assert rows.loc["recall", "n"] == pos.sum()
        assert rows.loc["fpr", "n"] == (~pos).sum()
        assert rows.loc["precision", "n"] == (pa == positive).sum()
        assert np.isnan(rows.loc[["precision", "f1"], "p_mcnemar"].astype(float)).all()
        assert np.isnan(rows.loc["f1", "n"])
    defined = table.dropna(subset=["diff_lo"])
    assert (defined["diff_lo"] <= defined["diff"] + 1e-12).all() or len(defined) == 0
    assert (defined["diff_lo"] <= defined["diff_hi"]).all()


def binary_row_metrics(actual: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(n_boot, 6) accuracy, balanced accuracy, precision, recall, fpr, f1 of resampled binary rows
    (n_boot, n); NaN where a denominator is empty: a direct computation on the rows."""
    tp = ((actual == 1) & (pred == 1)).sum(axis=1)
    tn = ((actual == 0) & (pred == 0)).sum(axis=1)
    pos, pred_pos, n = (actual == 1).sum(axis=1), (pred == 1).sum(axis=1), actual.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(pos > 0, tp / pos, np.nan)
        specificity = np.where(n - pos > 0, tn / (n - pos), np.nan)
        balanced = np.nanmean(np.stack([recall, specificity]), axis=0)
        precision = np.where(pred_pos > 0, tp / pred_pos, np.nan)
        f1 = np.where(pos + pred_pos > 0, 2 * tp / (pos + pred_pos), np.nan)
    return np.stack([(tp + tn) / n, balanced, precision, recall, 1 - specificity, f1], axis=1)


def row_bootstrap_diffs(counts: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """The slow reference for a binary table: resample row indices with replacement."""
    actual, pa, pb = expand(counts)
    rows = np.random.default_rng(seed).integers(0, len(actual), size=(n_boot, len(actual)))
    return binary_row_metrics(actual[rows], pb[rows]) - binary_row_metrics(actual[rows], pa[rows])


def test_bootstrap_matches_row_bootstrap_in_distribution() -> None:
    counts = np.array([[[30, 6], [9, 15]], [[12, 5], [14, 29]]])  # 120 rows, 60 positives
    fast = _bootstrap_diffs(counts, _metric_names(2, 1), 1, n_boot=4000, seed=1)
    slow = row_bootstrap_diffs(counts, n_boot=4000, seed=2)
    assert fast.shape == (4000, 6)
    np.testing.assert_allclose(fast.mean(axis=0), slow.mean(axis=0), atol=0.006)
    np.testing.assert_allclose(fast.std(axis=0), slow.std(axis=0), rtol=0.08)
    width_fast = np.subtract(*np.percentile(fast, [97.5, 2.5], axis=0))
    width_slow = np.subtract(*np.percentile(slow, [97.5, 2.5], axis=0))
    np.testing.assert_allclose(width_fast, width_slow, rtol=0.12)
    # and the interval reported is the percentile interval of those replicates
    table = paired_class_metrics(counts, positive=1, n_boot=4000, seed=1)
    np.testing.assert_allclose(table["diff_lo"], np.percentile(fast, 2.5, axis=0), atol=1e-12)
    np.testing.assert_allclose(table["diff_hi"], np.percentile(fast, 97.5, axis=0), atol=1e-12)


def test_bootstrap_standard_error_matches_theory() -> None:
    """Accuracy difference: the bootstrap sd of the replicates is the plug-in sd of a mean of d in {-1, 0, 1}."""
    counts = random_counts(4, 40, 21)
    agree = agreement_counts(counts)
    n = sum(agree.values())
    d_mean = (agree["only_b_right"] - agree["only_a_right"]) / n
    d2_mean = (agree["only_b_right"] + agree["only_a_right"]) / n
    se = np.sqrt((d2_mean - d_mean**2) / n)
    fast = _bootstrap_diffs(counts, _metric_names(4, None), None, n_boot=20000, seed=3)
    assert fast[:, 0].std() == pytest.approx(se, rel=0.03)
    assert fast[:, 0].mean() == pytest.approx(d_mean, abs=0.1 * se)


def test_same_seed_same_interval_and_chunking_does_not_change_it(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = random_counts(4, 40, 22)
    one = paired_class_metrics(counts, positive=2, seed=5)
    pd.testing.assert_frame_equal(one, paired_class_metrics(counts, positive=2, seed=5))
    other = paired_class_metrics(counts, positive=2, seed=6)
    assert not np.allclose(one["diff_lo"], other["diff_lo"])
    import errorscope.model_comparison as mc

    monkeypatch.setattr(mc, "_BOOT_BYTES", 8 * 2**10)  # a few replicates per chunk
    pd.testing.assert_frame_equal(one, paired_class_metrics(counts, positive=2, seed=5))


def test_bootstrap_memory_is_bounded_on_26_classes() -> None:
    import tracemalloc

    for n_cells, budget in [(700, 200), (5000, 100)]:  # 5,000 cells unchunked: ~175 MB
        counts = random_counts(26, n_cells, 23, high=400)
        tracemalloc.start()
        paired_class_metrics(counts, positive=0, n_boot=2000)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < budget * 2**20, (n_cells, peak)


def test_coverage_of_accuracy_and_recall_differences() -> None:
    """800 samples of 400 rows from a fixed population; the true differences are off the 1/n lattice (an
    interval endpoint is often a lattice point). The percentile interval's coverage here is ~0.94 (4,000
    samples), so 0.92..0.98 fails when the interval is wrong: e.g. resampling A's and B's rows independently
    (ignoring the pairing) covers the accuracy difference in ~0.99 of samples, too wide."""
    p = np.array([[[0.183, 0.047], [0.071, 0.149]], [[0.113, 0.052], [0.069, 0.316]]])
    p = p / p.sum()  # (actual, pred A, pred B); 55% positives
    conf_a, conf_b = p.sum(axis=2), p.sum(axis=1)
    true_acc = np.trace(conf_b) - np.trace(conf_a)
    true_recall = conf_b[1, 1] / conf_b[1].sum() - conf_a[1, 1] / conf_a[1].sum()
    n_samples = 800
    samples = (
        np.random.default_rng(2026).multinomial(400, p.ravel(), size=n_samples).reshape(n_samples, 2, 2, 2)
    )
    covered = np.zeros(2)
    for i, counts in enumerate(samples):
        table = paired_class_metrics(counts, positive=1, n_boot=1000, seed=i).set_index("metric")
        for j, (name, truth) in enumerate([("accuracy", true_acc), ("recall", true_recall)]):
            covered[j] += table.loc[name, "diff_lo"] <= truth <= table.loc[name, "diff_hi"]
    coverage = covered / n_samples
    assert ((coverage >= 0.92) & (coverage <= 0.98)).all(), coverage


def test_undefined_replicates_are_left_out_or_give_no_interval() -> None:
    # 50 rows, one positive. A predicts positive on row 0 only, B on row 1 only.
    counts = np.zeros((2, 2, 2), dtype=np.int64)
    counts[1, 1, 0] = 1  # the positive row: A right, B wrong
    counts[0, 0, 1] = 1  # a negative row B calls positive
    counts[0, 0, 0] = 48
    names = _metric_names(2, 1)
    draws = _bootstrap_diffs(counts, names, 1, n_boot=2000, seed=0)
    table = paired_class_metrics(counts, positive=1, n_boot=2000, seed=0).set_index("metric")
    recall = draws[:, names.index("recall")]
    defined = ~np.isnan(recall)
    assert 0.55 < defined.mean() < 0.72  # a replicate without the positive row has no recall
    lo, hi = np.percentile(recall[defined], [2.5, 97.5])
    assert table.loc["recall", "diff_lo"] == pytest.approx(lo, abs=1e-12)
    assert table.loc["recall", "diff_hi"] == pytest.approx(hi, abs=1e-12)
    precision = draws[:, names.index("precision")]
    assert np.isnan(precision).mean() > 0.5  # both rows that make a precision drawn in under half
    assert np.isnan(table.loc["precision", ["diff_lo", "diff_hi"]].astype(float)).all()
    assert table.loc["precision", "a"] == 1.0 and table.loc["precision", "b"] == 0.0


def test_zero_rows_give_nan() -> None:
    table = paired_class_metrics(np.zeros((3, 3, 3), dtype=int), positive=1)
    assert table[["a", "b", "diff", "diff_lo", "diff_hi", "p_mcnemar"]].isna().all().all()
    assert table.set_index("metric").loc["accuracy", "n"] == 0
    assert agreement_counts(np.zeros((2, 2, 2), dtype=int)) == dict.fromkeys(AGREEMENT_CELLS, 0)


def test_no_positive_class_in_data_is_zero_without_interval() -> None:
    counts = np.zeros((2, 2, 2), dtype=np.int64)
    counts[0, 0, 0], counts[0, 0, 1], counts[0, 1, 0] = 30, 4, 6
    rows = paired_class_metrics(counts, positive=1, n_boot=300).set_index("metric")
    assert rows.loc["recall", "a"] == 0.0 and rows.loc["recall", "p_mcnemar"] == 1.0
    assert np.isnan(rows.loc["recall", ["diff_lo", "diff_hi"]].astype(float)).all()
    assert np.isfinite(rows.loc["fpr", ["diff_lo", "diff_hi"]].astype(float)).all()


@pytest.mark.parametrize(
    ("counts", "match"),
    [
        (np.zeros((2, 2)), r"counts must be a \(k, k, k\)"),
        (np.zeros((2, 2, 3)), r"counts must be a \(k, k, k\)"),
        (np.zeros((1, 1, 1)), "k >= 2"),
        (-np.ones((2, 2, 2)), "counts must be non-negative"),
        (np.full((2, 2, 2), 0.5), "counts must hold whole numbers"),
        (np.full((2, 2, 2), np.nan), "counts must hold whole numbers"),
        (np.full((2, 2, 2), "a"), "counts must hold row counts"),
    ],
)
def test_bad_counts_raise(counts: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        paired_class_metrics(counts)
    with pytest.raises(ValueError, match=match):
        agreement_counts(counts)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"positive": 2}, "positive must be a class code in 0..1"),
        ({"positive": "yes"}, "positive must be"),
        ({"n_boot": 0}, "n_boot must be a positive"),
        ({"level": 1.5}, "level must be between 0 and 1"),
    ],
)
def test_bad_arguments_raise(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        paired_class_metrics(np.ones((2, 2, 2), dtype=int), **kwargs)


def t_reference(d: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    interval = stats.t.interval(level, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    return interval[0], interval[1], float(stats.ttest_rel(d, np.zeros_like(d)).pvalue)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_paired_mean_difference_matches_scipy(seed: int, level: float) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 500))
    x = np.abs(rng.normal(size=n))
    y = np.abs(x + rng.normal(0.05 * seed, 0.5, size=n))
    d = y - x
    mean, lo, hi, p = paired_mean_difference(n, d.sum(), (d * d).sum(), level)
    ref_lo, ref_hi, _ = t_reference(d, level)
    assert mean == pytest.approx(d.mean(), abs=1e-12)
    assert lo == pytest.approx(ref_lo, abs=1e-9) and hi == pytest.approx(ref_hi, abs=1e-9)
    assert p == pytest.approx(float(stats.ttest_rel(y, x).pvalue), abs=1e-9)


def test_paired_mean_difference_edge_cases() -> None:
    assert np.isnan(paired_mean_difference(0, 0.0, 0.0)).all()
    mean, *rest = paired_mean_difference(1, 0.3, 0.09)
    assert mean == 0.3 and np.isnan(rest).all()
    assert paired_mean_difference(5, 0.0, 0.0) == (0.0, 0.0, 0.0, 1.0)
    d = np.full(1000, 0.1)  # no variance, mean != 0; sum_d2 - sum_d^2 / n rounds to a tiny +-number
    mean, lo, hi, p = paired_mean_difference(len(d), d.sum(), (d * d).sum())
    assert mean == pytest.approx(0.1) and lo == hi == mean and p == 0.0
    for n, value in [(3, 0.1), (7, 1 / 3), (1000, 0.7), (10**6, 0.1)]:
        d = np.full(n, value)
        s, s2 = float(d.sum()), float((d * d).sum())
        result = paired_mean_difference(n, s, s2)
        assert np.isfinite(result).all() and result[1] == result[2]
    with pytest.raises(ValueError, match="level"):
        paired_mean_difference(10, 1.0, 1.0, level=0)


def error_sums(e_a: np.ndarray, e_b: np.ndarray, fourth: bool = True) -> dict[str, float]:
    abs_d = np.abs(e_b) - np.abs(e_a)
    sq_d = e_b**2 - e_a**2
    sums = {
        "abs_error_a": np.abs(e_a).sum(),
        "abs_error_b": np.abs(e_b).sum(),
        "sq_error_a": (e_a**2).sum(),
        "sq_error_b": (e_b**2).sum(),
        "abs_error_diff": abs_d.sum(),
        "abs_error_diff2": (abs_d**2).sum(),
        "sq_error_diff": sq_d.sum(),
        "sq_error_diff2": (sq_d**2).sum(),
    }
    if fourth:
        sums["sq_error2_a"], sums["sq_error2_b"] = (e_a**4).sum(), (e_b**4).sum()
    return sums


def test_paired_error_metrics_match_rows() -> None:
    rng = np.random.default_rng(7)
    y = rng.normal(size=300)
    e_a = rng.normal(0, 1.0, 300)
    e_b = 0.7 * e_a + rng.normal(0, 0.6, 300)
    pred_a, pred_b = y + e_a, y + e_b
    table = paired_error_metrics(300, error_sums(e_a, e_b))
    assert list(table.columns) == list(ERROR_COLUMNS)
    rows = table.set_index("metric")
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    assert rows.loc["mae", "a"] == pytest.approx(mean_absolute_error(y, pred_a), abs=1e-12)
    assert rows.loc["mae", "b"] == pytest.approx(mean_absolute_error(y, pred_b), abs=1e-12)
    assert rows.loc["mse", "a"] == pytest.approx(mean_squared_error(y, pred_a), abs=1e-12)
    assert rows.loc["rmse", "b"] == pytest.approx(np.sqrt(mean_squared_error(y, pred_b)), abs=1e-12)
    for name, d in [("mae", np.abs(e_b) - np.abs(e_a)), ("mse", e_b**2 - e_a**2)]:
        lo, hi, p = t_reference(d)
        assert rows.loc[name, "diff"] == pytest.approx(rows.loc[name, "b"] - rows.loc[name, "a"], abs=1e-12)
        assert rows.loc[name, ["diff_lo", "diff_hi", "p_value"]].tolist() == pytest.approx(
            [lo, hi, p], abs=1e-9
        )
    assert rows.loc["rmse", "diff"] == pytest.approx(rows.loc["rmse", "b"] - rows.loc["rmse", "a"], abs=1e-12)
    assert rows.loc["rmse", "p_value"] == rows.loc["mse", "p_value"]
    assert rows.loc["rmse", "diff_lo"] < rows.loc["rmse", "diff"] < rows.loc["rmse", "diff_hi"]
    without = paired_error_metrics(300, error_sums(e_a, e_b, fourth=False)).set_index("metric")
    assert np.isnan(without.loc["rmse", ["diff_lo", "diff_hi"]].astype(float)).all()
    assert without.loc["rmse", "p_value"] == rows.loc["mse", "p_value"]
    empty = paired_error_metrics(0, dict.fromkeys(error_sums(e_a, e_b), 0.0))
    assert empty[list(ERROR_COLUMNS[1:])].isna().all().all()
    with pytest.raises(ValueError, match="sums is missing"):
        paired_error_metrics(10, {"abs_error_a": 1.0})


def test_coverage_of_paired_error_differences() -> None:
    """Correlated errors (corr 0.8): e_A ~ N(0, 1), e_B ~ N(0.1, 0.9^2); the true differences in closed form."""
    rng = np.random.default_rng(99)

    def draw(size: int) -> tuple[np.ndarray, np.ndarray]:
        z = rng.normal(size=(size, 2))
        return z[:, 0], 0.9 * (0.8 * z[:, 0] + 0.6 * z[:, 1]) + 0.1

    mu, sigma = 0.1, 0.9  # E|N(mu, sigma^2)| (folded normal mean)
    mae_b = sigma * np.sqrt(2 / np.pi) * np.exp(-(mu**2) / (2 * sigma**2)) + mu * (
        1 - 2 * stats.norm.cdf(-mu / sigma)
    )
    mse_b = sigma**2 + mu**2
    truth = {"mae": mae_b - np.sqrt(2 / np.pi), "mse": mse_b - 1.0, "rmse": np.sqrt(mse_b) - 1.0}
    covered = dict.fromkeys(truth, 0)
    n_samples = 400
    for _ in range(n_samples):
        e_a, e_b = draw(400)
        rows = paired_error_metrics(400, error_sums(e_a, e_b)).set_index("metric")
        for name, value in truth.items():
            covered[name] += rows.loc[name, "diff_lo"] <= value <= rows.loc[name, "diff_hi"]
    coverage = {name: count / n_samples for name, count in covered.items()}
    assert all(0.92 <= value <= 0.98 for value in coverage.values()), coverage
