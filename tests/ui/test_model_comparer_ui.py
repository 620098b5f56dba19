"""ModelComparer in a real JupyterLab on Adult with two models: click "only baseline right" and the slice
browser and the kernel hold those rows; switch the active model from a view's picker and every view follows;
the force viewer explains a row by both models; the layout fits at narrow, medium and wide notebooks, light
and dark."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lab import (
    kernel_eval,
    open_and_run,
    overflow_problems,
    screenshot_themes,
    set_notebook_width,
    write_notebook,
)
from playwright.sync_api import Locator, Page, expect

ADULT = """
import errorscope as es
import numpy as np
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler
train, test = es.datasets.load_adult("train"), es.datasets.load_adult("test").head(4000)
X = train.drop(columns="income")
numeric = [c for c in X.columns if X[c].dtype.kind in "if"]
categorical = [c for c in X.columns if c not in numeric]
baseline = make_pipeline(make_column_transformer((StandardScaler(), numeric)), LogisticRegression()).fit(X, train["income"])
candidate = make_pipeline(
    make_column_transformer((OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                            encoded_missing_value=-2), categorical), remainder="passthrough"),
    HistGradientBoostingClassifier(max_iter=40, random_state=0),
).fit(X, train["income"])
ev = es.Evaluation(test, "income", models={"baseline": baseline, "candidate": candidate}, sensitive=["sex"])
Xt = test.drop(columns="income")
only_baseline = int(((baseline.predict(Xt) == test["income"]) & (candidate.predict(Xt) != test["income"])).sum())
"""
VIEWS = "mc = es.ModelComparer(ev)\nmc"
OTHERS = "cm = es.ConfusionMatrix(ev)\nsb = es.SliceBrowser(ev)\ncm"
BROWSER = "sb"
FORCE = "fv = es.ForceViewer(ev, sample=10)\nfv"


def regions(page: Page) -> tuple[Locator, Locator, Locator]:
    panel = page.locator(".jp-NotebookPanel:visible")
    return (
        panel.get_by_role("region", name="Model comparer"),
        panel.get_by_role("region", name="Confusion matrix"),
        panel.get_by_role("region", name="Slice browser"),
    )


@pytest.fixture()
def adult_page(page: Page, lab, notebook_dir: Path) -> Page:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "compare.ipynb", ADULT, VIEWS, OTHERS, BROWSER, FORCE)
    page.set_viewport_size({"width": 1400, "height": 1800})
    open_and_run(page, lab, "compare.ipynb")
    for region in regions(page):
        expect(region).to_have_attribute("data-rows", "4000")
    return page


def test_only_a_right_filters_the_other_views(adult_page: Page, artifacts: Path) -> None:
    page = adult_page
    mc, cm, sb = regions(page)
    expected = int(kernel_eval(page, "print(only_baseline)").strip())
    cell = mc.get_by_role("gridcell", name=re.compile(r"^only baseline right: "))
    expect(cell).to_have_attribute("aria-label", f"only baseline right: {expected:,} rows")
    cell.click()
    expect(cell).to_have_attribute("aria-selected", "true")
    expect(sb).to_have_attribute("data-rows", str(expected))
    expect(cm).to_have_attribute("data-rows", str(expected))
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == str(expected)
    clause = kernel_eval(page, "print(ev.selection.clause(mc.source).text)").strip()
    assert clause == "predicted[baseline] == actual and predicted[candidate] != actual", clause
    # the active model (baseline) is right on every one of those rows: the matrix shows only its diagonal
    off = kernel_eval(page, "print(int(cm.table.query('actual != predicted')['count'].sum()))").strip()
    assert off == "0"
    screenshot_themes(page, artifacts, "model-comparer-only-a-right")
    mc.get_by_role("gridcell", name=re.compile(r"^only baseline right: ")).press("Escape")
    expect(sb).to_have_attribute("data-rows", "4000")


def test_the_picker_switches_every_view(adult_page: Page) -> None:
    page = adult_page
    mc, cm, sb = regions(page)
    picker = cm.get_by_role("combobox", name="Active model")
    expect(picker).to_have_value("baseline")
    before = kernel_eval(page, "print(cm.table['count'].tolist())").strip()
    picker.select_option("candidate")
    expect(mc.get_by_role("combobox", name="Active model")).to_have_value("candidate")
    expect(sb.get_by_role("combobox", name="Active model")).to_have_value("candidate")
    assert kernel_eval(page, "print(ev.active_model)").strip() == "candidate"
    counts = kernel_eval(
        page,
        "from sklearn.metrics import confusion_matrix as c; "
        "print(c(test['income'], candidate.predict(Xt), labels=ev.classes).ravel().tolist() == cm.table['count'].tolist())",
    ).strip()
    assert counts == "True"
    assert kernel_eval(page, "print(cm.table['count'].tolist())").strip() != before
    cell = cm.get_by_role("gridcell", name=re.compile(r"^actual >50K, predicted <=50K: "))
    n = kernel_eval(
        page, "print(int(((candidate.predict(Xt) == '<=50K') & (test['income'] == '>50K')).sum()))"
    ).strip()
    expect(cell).to_have_attribute(
        "aria-label", re.compile(rf"^actual >50K, predicted <=50K: {int(n):,} rows")
    )


@pytest.mark.parametrize("width", [420, 800, 1300])
def test_the_layout_fits(adult_page: Page, artifacts: Path, width: int) -> None:
    page = adult_page
    set_notebook_width(page, width)
    mc, _, _ = regions(page)
    mc.scroll_into_view_if_needed()
    assert overflow_problems(mc) == []
    mc.screenshot(path=str(artifacts / f"model-comparer-{width}-light.png"))


def test_the_force_viewer_shows_both_models_for_a_row(adult_page: Page, artifacts: Path) -> None:
    page = adult_page
    mc, _, _ = regions(page)
    mc.get_by_role("gridcell", name=re.compile(r"^only candidate right: ")).click()
    fv = page.locator(".jp-NotebookPanel:visible").get_by_role("region", name="Force viewer")
    expect(fv).to_have_attribute("data-rows", re.compile(r"^[1-9]"))
    row = fv.get_by_role("row", name=re.compile(r"^row \S+: actual")).first
    row.click()
    expect(fv.get_by_role("img", name=re.compile(r"^Force plot of row "))).to_be_visible()
    other = fv.get_by_role("group", name=re.compile(r"^candidate's explanation of row "))
    expect(other).to_be_visible(timeout=60_000)  # the candidate's explainer is built on first use
    expect(other.get_by_role("img", name=re.compile(r"^candidate's force plot of row "))).to_be_visible()
    assert kernel_eval(page, "print(len(fv.compare_table) > 0, fv.compare_model)").split() == [
        "True",
        "candidate",
    ]
    other.scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "force-viewer-two-models")
    fv.get_by_role("combobox", name="Compare with model").select_option("")
    expect(other).to_have_count(0)


WAGE = """
import errorscope as es
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression
df = es.datasets.load_wage().drop(columns=["logwage", "region"])
X = pd.get_dummies(df[["age", "year", "education", "jobclass", "health"]], dtype=float)
gbm = HistGradientBoostingRegressor(max_iter=60, random_state=0).fit(X, df["wage"])
linear = LinearRegression().fit(X[["age", "year"]], df["wage"])
ev = es.Evaluation(df, "wage", y_pred={"gbm": gbm.predict(X), "linear": linear.predict(X[["age", "year"]])})
mc = es.ModelComparer(ev)
rp = es.ResidualPlot(ev, feature="age")
display(mc, rp)
"""


def test_a_regression_pair_selects_where_b_is_better(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "compare-wage.ipynb", WAGE)
    page.set_viewport_size({"width": 1200, "height": 1600})
    open_and_run(page, lab, "compare-wage.ipynb")
    panel = page.locator(".jp-NotebookPanel:visible")
    mc, rp = (
        panel.get_by_role("region", name="Model comparer"),
        panel.get_by_role("region", name="Residual plot"),
    )
    expect(rp).to_have_attribute("data-rows", "3000")
    expected = kernel_eval(
        page,
        "import numpy as np; y = df['wage'].to_numpy(); print(int((np.abs(linear.predict(X[['age', 'year']]) - y) < np.abs(gbm.predict(X) - y)).sum()))",
    ).strip()
    cell = mc.get_by_role("gridcell", name=re.compile(r"^linear better: "))
    expect(cell).to_have_attribute("aria-label", f"linear better: {int(expected):,} rows")
    cell.click()
    expect(rp).to_have_attribute("data-rows", expected)
    assert (
        kernel_eval(page, "print(ev.selection.clause(mc.source).text)").strip()
        == "abs_error[linear] < abs_error[gbm]"
    )
    mae = kernel_eval(
        page,
        "t = mc.metrics_table.set_index(['model', 'metric']); print(f\"{t.loc[('linear', 'mae'), 'diff']:+.4g}\")",
    ).strip()
    expect(mc.get_by_role("table")).to_contain_text(mae.replace("-", "\u2212"))
    mc.screenshot(path=str(artifacts / "model-comparer-regression-light.png"))
