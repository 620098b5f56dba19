"""The HTML report of a regression, on numpy, DuckDB (a Parquet file) and Spark: its numbers are
scikit-learn's and pandas', formatted as the report formats them, and everything from the data is escaped."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

import errorscope as es
from engines import evaluation_on
from errorscope.fairness import make_groups
from errorscope.report import count, number, percent, signed
from test_dashboard_report import Tables

MARKUP = "<b>x</b>"


@pytest.fixture(scope="module")
def frame(wage_model_and_frame: tuple[object, pd.DataFrame]) -> pd.DataFrame:
    """Wage with the regressor's predictions; 40 rows of race ``<b>x</b>``, whose markup must show as text."""
    wage = wage_model_and_frame[1].copy()
    wage["race"] = wage["race"].astype(str)
    wage.loc[wage.index[:40], "race"] = MARKUP
    return wage


@pytest.fixture(scope="module", params=["numpy", "duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def page(
    request: pytest.FixtureRequest, frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The report of the Wage regression on an engine, with a selection, two tags and a numeric relabel."""
    if request.param != "numpy":
        pytest.importorskip(request.param if request.param == "duckdb" else "pyspark")
    ev = evaluation_on(request.param, request, frame, y_true="wage", y_pred="pred", sensitive="race")
    folder = tmp_path_factory.mktemp("report")
    store = ev.attach_tags(folder / "tags.sqlite")
    ev.select("residual > 20")
    store.tag([0, 1], "mislabeled", clause=ev.selection.text())
    store.set_relabel([0], 73.5)
    return ev.report(folder / "report.html").read_text(encoding="utf-8")


def tables(page: str) -> list[dict[str, list]]:
    parser = Tables()
    parser.feed(page)
    return parser.tables


def table_with(found: list[dict[str, list]], *headers: str) -> dict[str, list]:
    matches = [t for t in found if all(h in t["header"] for h in headers)]
    assert len(matches) == 1, [t["header"] for t in found]
    return matches[0]


def test_key_metrics_are_sklearns(page: str, frame: pd.DataFrame) -> None:
    y, p = frame["wage"].to_numpy(), frame["pred"].to_numpy()
    shown = dict(table_with(tables(page), "Metric", "Value")["rows"])
    assert shown == {
        "Rows": count(len(frame)),
        "MAE": number(metrics.mean_absolute_error(y, p)),
        "RMSE": number(metrics.root_mean_squared_error(y, p)),
        "R²": number(metrics.r2_score(y, p)),
        "Median AE": number(metrics.median_absolute_error(y, p)),
        "Mean residual": number(np.mean(p - y)),
        "MAPE": percent(metrics.mean_absolute_percentage_error(y, p)),
    }
    assert "Confusion matrix" not in page and "Residuals" in page


def test_residuals_section_counts_over_and_under_prediction(page: str, frame: pd.DataFrame) -> None:
    residual = frame["pred"] - frame["wage"]
    shown = dict(table_with(tables(page), "Residual (prediction − actual)")["rows"])
    over = int((residual >= 0).sum())
    assert shown["Over-predicted rows (≥ 0)"] == f"{count(over)} ({percent(over / len(frame))})"
    assert shown["50% quantile"] == number(residual.median())


def test_slice_tables_match_pandas(page: str, frame: pd.DataFrame) -> None:
    found = tables(page)
    worst = table_with(found, "MAE (95% CI)")
    biased = table_with(found, "Mean residual (95% CI)", "Rest")
    assert worst["header"] == ["Feature", "Slice", "Rows", "Share", "MAE (95% CI)", "Rest", "Difference",
                               "Ratio", "p (BH)"]  # fmt: skip
    assert biased["header"] == ["Feature", "Slice", "Rows", "Share", "Mean residual (95% CI)", "Rest",
                                "Difference", "p (BH)"]  # fmt: skip
    frame = frame.assign(error=frame["pred"] - frame["wage"])
    checked = 0
    for table, value in ((worst, lambda e: e.abs().mean()), (biased, lambda e: e.mean())):
        assert len(table["rows"]) == 15
        values = []
        for feature, slice_, rows, _share, cell, *_rest in table["rows"]:
            assert re.fullmatch(r"[−\d.]+ \([−\d.]+ to [−\d.]+\)", cell), cell
            values.append(float(cell.split(" ")[0].replace("−", "-")))
            if not pd.api.types.is_numeric_dtype(frame[feature]):  # a category: its rows, counted by pandas
                rows_of = frame[frame[feature] == slice_]
                assert rows == count(len(rows_of)) and cell.startswith(number(value(rows_of["error"])) + " (")
                checked += 1
        key = np.abs(values) if table is biased else np.asarray(values)
        assert list(key) == sorted(key, reverse=True)  # worst first
        assert all(row[0] not in ("actual", "predicted", "residual", "tag") for row in table["rows"])
    assert checked >= 5


def test_groups_section_matches_sklearn(page: str, frame: pd.DataFrame) -> None:
    found = tables(page)
    errors = table_with(found, "Group", "MAE", "RMSE")
    assert errors["header"] == ["Group", "Rows", "Share", "MAE", "RMSE", "R²", "Mean residual", "p (BH)"]
    shown = {row[0].removesuffix(" (small group)"): row for row in errors["rows"]}
    assert set(shown) == set(frame["race"])
    for group, rows in frame.groupby("race"):
        y, p = rows["wage"], rows["pred"]
        row = shown[group]
        assert row[1] == count(len(rows))
        assert row[3].startswith(number(metrics.mean_absolute_error(y, p)) + " (")
        assert row[4].startswith(number(metrics.root_mean_squared_error(y, p)) + " (")
        assert row[5].startswith(number(metrics.r2_score(y, p)) + " (")
        assert row[6].startswith(number(np.mean(p - y)) + " (")
    gaps = table_with(found, "MAE difference")
    reference = [row for row in gaps["rows"] if row[0].endswith("(reference)")]
    assert len(reference) == 1 and reference[0][0] == f"{frame['race'].mode()[0]} (reference)"
    white = frame[frame["race"] == frame["race"].mode()[0]]
    black = frame[frame["race"] == "2. Black"]
    difference = metrics.mean_absolute_error(black["wage"], black["pred"]) - metrics.mean_absolute_error(
        white["wage"], white["pred"]
    )
    assert dict((r[0], r[1]) for r in gaps["rows"])["2. Black"] == signed(difference)
    by_actual = table_with(found, "Actual value")
    assert by_actual["header"][:2] == ["Actual value", "All rows"] and len(by_actual["rows"]) == 10
    assert table_with(found, "Mean prediction", "Mean actual")


def test_report_escapes_data_and_runs_nothing(page: str, frame: pd.DataFrame) -> None:
    assert MARKUP not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "<script" not in page.lower() and not re.search(r"(src|href)=['\"]https?://", page)
    assert page.count("data:image/png;base64,") == 6  # residuals, 2 slices, 2 groups, by actual
    found = tables(page)
    assert max(len(t["header"]) for t in found) <= 9
    cells = [c for t in found for row in t["rows"] for c in row]
    assert not [c for c in cells if re.search(r"\d[eE][+-]?\d|\d\.\d{4,}", c)]  # no raw floats
    headers = [h for t in found if t["header"][0] != "Actual value" for h in t["header"]]
    assert all(("_" not in h and h[:1].isupper()) or h.startswith("p ") for h in headers), headers


def test_selection_and_tags_are_listed(page: str, frame: pd.DataFrame) -> None:
    n = int((frame["pred"] - frame["wage"] > 20).sum())
    assert f"residual &gt; 20: {n:,} rows</p>" in page
    found = tables(page)
    tags = table_with(found, "Row id", "Tag", "Relabel")
    relabel = tags["header"].index("Relabel")
    assert [row[relabel] for row in tags["rows"]] == ["73.5", ""]
    audit = table_with(found, "Action", "Old", "New")
    actions = [(row[2], row[-3]) for row in audit["rows"]]
    assert actions[-1] == ("relabel", "73.5") and ("tag added", "mislabeled") in actions
    assert "residual > 20" in [row[-1] for row in audit["rows"]]


@pytest.mark.filterwarnings("error")  # e.g. matplotlib's "constrained_layout not applied"
def test_many_groups_and_no_features(frame: pd.DataFrame, tmp_path: Path) -> None:
    frame = frame.copy()
    frame.loc[frame.index[40:80], "race"] = "$\\frac$"  # drawn as text in every figure, not as mathtext
    ev = es.Evaluation(frame, "wage", y_pred="pred")
    found = tables(ev.report(tmp_path / "groups.html", groups=["age", "race"]).read_text(encoding="utf-8"))
    n_groups = len(make_groups(ev, ["age", "race"]).labels)
    errors = table_with(found, "Group", "MAE", "RMSE")["rows"]
    assert n_groups > 8 and len(errors) == n_groups and any("$\\frac$" in row[0] for row in errors)
    by_actual = [t for t in found if t["header"][0] == "Actual value"]  # split to fit the page
    assert sum(len(t["header"]) - 1 for t in by_actual) == n_groups + 1 and len(by_actual) > 1
    rng = np.random.default_rng(0)
    bare = pd.DataFrame({"y": rng.normal(size=200), "p": rng.normal(size=200)})
    ev = es.Evaluation(bare, "y", y_pred="p", task="regression")
    page = ev.report(tmp_path / "bare.html").read_text(encoding="utf-8")
    assert ev.features == [] and "<h2>Residuals</h2>" in page and "<h2>Groups</h2>" not in page
    shown = dict(table_with(tables(page), "Metric", "Value")["rows"])
    assert shown["R²"] == number(metrics.r2_score(bare["y"], bare["p"]))
