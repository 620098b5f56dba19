"""GroupComparer with two models in a real JupyterLab (Adult, the ModelComparer test's models): the
trade-off chart's points are named by their numbers, a click (or Enter) on the candidate's point makes it
the active model in the kernel and the confusion matrix follows; the layout fits at narrow, medium and
wide notebooks, light and dark."""

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
    set_theme,
    write_notebook,
)
from playwright.sync_api import Locator, Page, expect
from test_model_comparer_ui import ADULT

GROUPS = 'gc = es.GroupComparer(ev, groups="sex")\ngc'
MATRIX = "cm = es.ConfusionMatrix(ev)\ncm"


def regions(page: Page) -> tuple[Locator, Locator]:
    panel = page.locator(".jp-NotebookPanel:visible")
    return panel.get_by_role("region", name="Group comparer"), panel.get_by_role(
        "region", name="Confusion matrix"
    )


def screenshot_section(page: Page, section: Locator, stem: Path) -> None:
    """``stem``-light.png and ``stem``-dark.png of ``section``, leaving the page in the light theme."""
    for dark in (False, True):
        set_theme(page, dark)
        section.scroll_into_view_if_needed()
        section.screenshot(path=f"{stem}-{'dark' if dark else 'light'}.png")
    set_theme(page, dark=False)


def point(gc: Locator, model: str) -> Locator:
    return gc.get_by_role("button", name=re.compile(rf"^{model}: accuracy "))


@pytest.fixture()
def groups_page(page: Page, lab, notebook_dir: Path) -> Page:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "group_models.ipynb", ADULT, GROUPS, MATRIX)
    page.set_viewport_size({"width": 1400, "height": 1800})
    open_and_run(page, lab, "group_models.ipynb")
    for region in regions(page):
        expect(region).to_have_attribute("data-rows", "4000")
    return page


def test_a_click_on_a_point_makes_its_model_active(groups_page: Page, artifacts: Path) -> None:
    page = groups_page
    gc, cm = regions(page)
    names = kernel_eval(
        page,
        "for r in gc.tradeoff_table.itertuples(): "
        "print(f'{r.model}: accuracy {r.value:.3f}, largest disparity {r.disparity:.3f}')",
    ).strip()
    for name in names.splitlines():  # each point is named by the kernel's numbers
        expect(gc.get_by_role("button", name=name, exact=True)).to_have_count(1)
    expect(point(gc, "baseline")).to_have_attribute("aria-pressed", "true")
    expect(point(gc, "candidate")).to_have_attribute("aria-pressed", "false")
    point(gc, "candidate").scroll_into_view_if_needed()
    point(gc, "candidate").click()
    expect(point(gc, "candidate")).to_have_attribute("aria-pressed", "true")
    expect(point(gc, "baseline")).to_have_attribute("aria-pressed", "false")
    assert kernel_eval(page, "print(ev.active_model)").strip() == "candidate"
    # another view follows: the matrix counts the candidate's predictions, its picker says so
    expect(cm.get_by_role("combobox", name="Active model")).to_have_value("candidate")
    same = kernel_eval(
        page,
        "from sklearn.metrics import confusion_matrix as c; "
        "print(c(test['income'], candidate.predict(Xt), labels=ev.classes).ravel().tolist() == cm.table['count'].tolist())",
    ).strip()
    assert same == "True"
    n = kernel_eval(
        page, "print(int(((candidate.predict(Xt) == '<=50K') & (test['income'] == '>50K')).sum()))"
    ).strip()
    expect(cm.get_by_role("gridcell", name=re.compile(r"^actual >50K, predicted <=50K: "))).to_have_attribute(
        "aria-label", re.compile(rf"^actual >50K, predicted <=50K: {int(n):,} rows")
    )
    table = kernel_eval(page, "print(gc.tradeoff_table['active'].tolist())").strip()
    assert table == "[False, True]"
    gc.scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "group-comparer-models-candidate")
    # the keyboard: Enter on the baseline's point makes it active again
    point(gc, "baseline").focus()
    page.keyboard.press("Enter")
    expect(point(gc, "baseline")).to_have_attribute("aria-pressed", "true")
    expect(point(gc, "baseline")).to_be_focused()
    assert kernel_eval(page, "print(ev.active_model)").strip() == "baseline"
    expect(cm.get_by_role("combobox", name="Active model")).to_have_value("baseline")


@pytest.mark.parametrize("width", [420, 800, 1300])
def test_the_layout_fits(groups_page: Page, artifacts: Path, width: int) -> None:
    page = groups_page
    set_notebook_width(page, width)
    gc, _ = regions(page)
    section = gc.get_by_role("region", name="Models compared")
    section.scroll_into_view_if_needed()
    assert overflow_problems(gc) == []
    chart = section.locator("svg.es-tradeoff-plot")
    box, inside = chart.bounding_box(), section.bounding_box()
    assert (
        box
        and inside
        and box["x"] >= inside["x"] - 1
        and box["x"] + box["width"] <= inside["x"] + inside["width"] + 1
    )
    screenshot_section(page, section, artifacts / f"group-comparer-models-{width}")


WAGE = """
import numpy as np
import errorscope as es
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LinearRegression
wage = es.datasets.load_wage()
X = wage[["year", "age"]]
gbm = GradientBoostingRegressor(n_estimators=40, max_depth=3, random_state=0).fit(X.iloc[::2], wage["wage"].iloc[::2])
linear = LinearRegression().fit(X.iloc[::2], wage["wage"].iloc[::2])
frame = wage[["year", "age", "race", "wage"]].assign(gbm=gbm.predict(X), linear=linear.predict(X))
ev = es.Evaluation(frame, "wage", y_pred={"gbm": "gbm", "linear": "linear"}, sensitive="race", task="regression")
gc = es.GroupComparer(ev, groups="race")
gc
"""


def test_a_regressions_models_fit_at_420_px(page: Page, lab, notebook_dir: Path, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "group_models_wage.ipynb", WAGE)
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_and_run(page, lab, "group_models_wage.ipynb")
    gc = page.locator(".jp-NotebookPanel:visible").get_by_role("region", name="Group comparer")
    expect(gc).to_have_attribute("data-rows", "3000")
    name = kernel_eval(
        page,
        "r = gc.tradeoff_table.set_index('model').loc['linear']; "
        "print(f'linear: MAE {float(np.format_float_positional(r.value, 4, fractional=False))}')",
    ).strip()
    point = gc.get_by_role("button", name=re.compile(rf"^{re.escape(name)}, largest disparity "))
    expect(point).to_have_attribute("aria-pressed", "false")
    point.click()
    expect(point).to_have_attribute("aria-pressed", "true")
    assert kernel_eval(page, "print(ev.active_model)").strip() == "linear"
    set_notebook_width(page, 420)
    section = gc.get_by_role("region", name="Models compared")
    section.scroll_into_view_if_needed()
    assert overflow_problems(gc) == []
    screenshot_section(page, section, artifacts / "group-comparer-models-wage-420")
