"""ResidualPlot and ModelOverview on the Wage data in a real JupyterLab: brush the residual histogram and
the predicted-against-actual density with the mouse and the keyboard; the overview and the kernel agree."""

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

WAGE = """
import errorscope as es
import pandas as pd
from sklearn.linear_model import LinearRegression
df = es.datasets.load_wage().drop(columns=["logwage", "region"])
X = pd.get_dummies(df[["age", "year", "jobclass", "health"]], dtype=float)
model = LinearRegression().fit(X, df["wage"])
ev = es.Evaluation(df, "wage", y_pred=model.predict(X), sensitive=["race"])
"""
PLOT = 'rp = es.ResidualPlot(ev, feature="age")\nrp'
OVERVIEW = "ov = es.ModelOverview(ev)\nov"
SELECTED_MAE = (
    "from sklearn.metrics import mean_absolute_error as mae; m = ev.selection.mask(); "
    "assert len(ev.selected()) == m.sum(); print(m.sum(), f'{mae(ev.y_true[m], ev.y_pred[m]):.4g}')"
)


def regions(page: Page) -> tuple[Locator, Locator]:
    panel = page.locator(".jp-NotebookPanel:visible")
    return panel.get_by_role("region", name="Residual plot"), panel.get_by_role(
        "region", name="Model overview"
    )


def plot(rp: Locator, index: int) -> Locator:
    """The residual plot's brushable SVGs: 0 predicted against actual, 1 the residual histogram, 2 the
    residual against a numeric feature."""
    return rp.locator("svg.es-rp-plot").nth(index)


def drag(page: Page, target: Locator, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press, move in steps and release the mouse between two points given as shares of the target's box."""
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box is not None
    x = lambda f: box["x"] + f * box["width"]  # noqa: E731
    y = lambda f: box["y"] + f * box["height"]  # noqa: E731
    page.mouse.move(x(start[0]), y(start[1]))
    page.mouse.down()
    page.mouse.move(x(end[0]), y(end[1]), steps=6)
    page.mouse.up()


def kernel_selection(page: Page) -> tuple[int, str]:
    """len(ev.selected()) and the selection's MAE (4 significant digits), read in the kernel."""
    n, mae = kernel_eval(page, SELECTED_MAE).split()
    return int(n), mae


def check_followed(page: Page, rp: Locator, ov: Locator, column: str) -> int:
    """The overview follows the residual plot's clause (shown in its chip once the kernel has set it, on
    ``column``): its rows and MAE are the kernel's."""
    expect(rp.locator(".es-chip")).to_contain_text(re.compile(rf"\b{column}\b"))
    n, mae = kernel_selection(page)
    assert 0 < n < 3000
    expect(ov).to_have_attribute("data-rows", str(n))
    expect(ov.get_by_label(re.compile(r"^MAE: "))).to_have_attribute(
        "aria-label", re.compile(rf"^MAE: {re.escape(mae)} on the selection, ")
    )
    expect(rp).to_have_attribute("data-rows", "3000")  # its own clause does not filter it
    status = rp.locator("[role=status]", has_text="selected")
    expect(status).to_have_text(re.compile(rf": {n:,} rows selected$"))
    return n


@pytest.fixture()
def wage_page(page: Page, lab, notebook_dir: Path) -> Page:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "residuals.ipynb", WAGE, PLOT, OVERVIEW)
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_and_run(page, lab, "residuals.ipynb")
    rp, ov = regions(page)
    expect(rp).to_have_attribute("data-rows", "3000")
    expect(ov).to_have_attribute("data-rows", "3000")
    return page


def test_brushing_with_the_mouse_filters_the_overview(wage_page: Page, artifacts: Path) -> None:
    page = wage_page
    rp, ov = regions(page)
    drag(page, plot(rp, 1), (0.5, 0.5), (0.62, 0.5))  # a range of residual bins right of 0
    check_followed(page, rp, ov, "residual")
    clause = kernel_eval(page, "print(ev.selection.clause(rp.source).text)").strip()
    assert re.fullmatch(r"[-\d.]+ <= residual < [-\d.]+", clause), clause
    screenshot_themes(page, artifacts, "residual-plot-histogram-brush")

    drag(page, plot(rp, 0), (0.3, 0.75), (0.55, 0.45))  # a rectangle of actual x predicted
    check_followed(page, rp, ov, "predicted")
    clause = kernel_eval(page, "print(ev.selection.clause(rp.source).text)").strip()
    assert "actual" in clause and "predicted" in clause, clause
    counted = kernel_eval(page, "print(rp.table.query('selected')['count'].sum())").strip()
    assert counted == kernel_eval(page, "print(len(ev.selected()))").strip()
    rp.get_by_role("button", name="Clear residual plot selection").click()
    expect(ov).to_have_attribute("data-rows", "3000")
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == "3000"


def test_keyboard_selects_and_escape_clears_without_moving_the_notebook(wage_page: Page) -> None:
    page = wage_page
    rp, ov = regions(page)
    active = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
    histogram = plot(rp, 1)
    histogram.scroll_into_view_if_needed()
    histogram.focus()  # Lab makes the cell holding the focus the active one
    before = page.evaluate(active)
    bins = int(kernel_eval(page, "print(rp._bins.residual.bins)"))
    for key in ["End", "Home", "ArrowDown", "ArrowUp"] + ["ArrowRight"] * (bins // 2 - 4):
        page.keyboard.press(key)  # up and down do nothing on a histogram, and are not passed on
    for _ in range(6):
        page.keyboard.press("Shift+ArrowRight")
    expect(rp.locator("[role=status]").nth(1)).to_have_text(
        re.compile(r"^residual .+: [\d,]+ rows — Enter selects$")
    )
    page.keyboard.press("Enter")
    n = check_followed(page, rp, ov, "residual")
    hist = kernel_eval(page, "b = rp.brush; print(b['plot'], *b['x'])").split()
    assert hist[0] == "histogram" and int(hist[2]) - int(hist[1]) == 6
    assert n == int(
        kernel_eval(page, "print(rp.histogram_table['count'].iloc[b['x'][0]:b['x'][1] + 1].sum())")
    )
    expect(histogram).to_be_focused()  # the repaint keeps the focus on the plot
    page.keyboard.press("Escape")
    expect(ov).to_have_attribute("data-rows", "3000")
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == "3000"
    assert page.evaluate(active) == before  # arrows, Enter and Escape never reached the notebook
    expect(page.locator(".jp-Notebook.jp-mod-editMode")).to_have_count(0)

    density = plot(rp, 0)
    density.focus()
    for key in (
        ["ArrowRight"] * 8 + ["ArrowUp"] * 8 + ["Shift+ArrowRight"] * 3 + ["Shift+ArrowUp"] * 3 + [" "]
    ):
        page.keyboard.press(key)
    check_followed(page, rp, ov, "predicted")
    assert kernel_eval(page, "print(rp.brush['plot'], rp.brush['y'])").strip() == "density [8, 11]"
    page.keyboard.press("Escape")
    expect(ov).to_have_attribute("data-rows", "3000")


def test_categorical_feature_and_layout_at_three_widths(wage_page: Page, artifacts: Path) -> None:
    page = wage_page
    rp, ov = regions(page)
    rp.get_by_label("Residual against", exact=True).select_option("education")
    button = rp.get_by_role(
        "button", name=re.compile(r"^education = 5\. Advanced Degree: [\d,]+ rows, mean residual ")
    )
    expect(button).to_be_visible()
    n = int(re.search(r": ([\d,]+) rows", button.get_attribute("aria-label") or "").group(1).replace(",", ""))  # type: ignore[union-attr]
    assert n == int(kernel_eval(page, "print((df['education'] == '5. Advanced Degree').sum())"))
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(ov).to_have_attribute("data-rows", str(n))
    for width in (1400, 800, 420):
        set_notebook_width(page, width)
        for region in (rp, ov):
            region.scroll_into_view_if_needed()
            assert overflow_problems(region) == [], f"{region} at {width} px"
        rp.screenshot(path=str(artifacts / f"residual-plot-{width}.png"))
        ov.screenshot(path=str(artifacts / f"overview-regression-{width}.png"))
    rp.scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "residual-plot-narrow")
    rp.get_by_label("Residual against", exact=True).select_option("age")
    expect(plot(rp, 2)).to_be_visible()
    rp.get_by_role("button", name="Clear residual plot selection").click()
    expect(ov).to_have_attribute("data-rows", "3000")


DASHBOARD = """
import errorscope as es
import pandas as pd
from sklearn.linear_model import LinearRegression
df = es.datasets.load_wage().drop(columns=["logwage", "region"])
X = pd.get_dummies(df[["age", "year", "jobclass", "health"]], dtype=float)
ev = es.Evaluation(df, "wage", y_pred=LinearRegression().fit(X, df["wage"]).predict(X), sensitive=["race"])
board = es.dashboard(ev, store=TMP + "/residual-dashboard-tags.sqlite")
board
"""


def test_in_the_dashboard_the_residual_plot_drives_every_view(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "residual-dash.ipynb", f"TMP = {str(notebook_dir)!r}\n" + DASHBOARD)
    page.set_viewport_size({"width": 1400, "height": 1800})
    open_and_run(page, lab, "residual-dash.ipynb")
    panel = page.locator(".jp-NotebookPanel:visible")
    rp, ov = regions(page)
    expect(panel.get_by_role("region", name="Confusion matrix")).to_have_count(0)
    others = [
        panel.get_by_role("region", name=name) for name in ("Slice browser", "Group comparer", "Error tagger")
    ]
    for view in others:
        expect(view).to_have_attribute("data-rows", "3000")
    drag(page, plot(rp, 1), (0.4, 0.5), (0.52, 0.5))
    n = check_followed(page, rp, ov, "residual")
    for view in others:
        expect(view).to_have_attribute("data-rows", str(n))
    for width in (1400, 420):
        set_notebook_width(page, width, height=1800)
        rp.scroll_into_view_if_needed()
        assert overflow_problems(rp) == [], f"at {width} px"
        rp.screenshot(path=str(artifacts / f"residual-plot-dashboard-{width}.png"))
    page.screenshot(path=str(artifacts / "residual-dashboard-narrow.png"), full_page=True)
    page.keyboard.press("Escape")  # the focus is still in the histogram after the drag
    for view in others:
        expect(view).to_have_attribute("data-rows", "3000")
    # a slice click in the dashboard: the residual plot follows (computed on the slice's rows)
    sb = panel.get_by_role("region", name="Slice browser")
    sb.get_by_role("searchbox", name="Filter slices by feature").fill("education")
    row = sb.get_by_role("grid", name="Slices").get_by_role(
        "row", name=re.compile(r"^education = 5\. Advanced Degree: [\d,]+ rows")
    )
    expect(row).to_have_count(1)
    size = int(re.search(r": ([\d,]+) rows", row.get_attribute("aria-label") or "").group(1).replace(",", ""))  # type: ignore[union-attr]
    row.click()
    expect(rp).to_have_attribute("data-rows", str(size))
    expect(ov).to_have_attribute("data-rows", str(size))
    assert int(kernel_eval(page, "print(len(ev.selected()))")) == size
    in_plot = int(kernel_eval(page, "print(int(board.residual_plot.histogram_table['count'].sum()))"))
    assert in_plot == size  # the histogram counts the slice's rows
