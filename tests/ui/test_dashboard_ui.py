"""es.dashboard(ev) in a real JupyterLab: every view linked, the selection bar, wide and narrow layouts."""

from __future__ import annotations

import re
from pathlib import Path

from lab import kernel_eval, open_and_run, screenshot_themes, write_notebook
from playwright.sync_api import Page, expect
from test_confusion_matrix_ui import click_cell

BOARD = """
import errorscope as es
from sklearn.ensemble import HistGradientBoostingClassifier
train, test = es.datasets.load_adult("train"), es.datasets.load_adult("test")
num = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
model = HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(train[num], train["income"])
ev = es.Evaluation(test, "income", model=model, features=num, sensitive=["sex", "race"])
board = es.dashboard(ev, store="board.sqlite")
board
"""
REGIONS = [
    "Model overview",
    "Selection",
    "Confusion matrix",
    "Group comparer",
    "Slice browser",
    "Force viewer",
    "Error tagger",
]


def test_dashboard_links_every_view_and_fits_wide_and_narrow(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "board.ipynb", BOARD)
    open_and_run(page, lab, "board.ipynb")
    panel = page.locator(".jp-NotebookPanel:visible")
    for name in REGIONS:
        expect(panel.get_by_role("region", name=name)).to_have_count(1)
    expect(panel.get_by_role("region", name="Slice browser")).to_have_attribute("data-rows", "16281")
    n = click_cell(panel.get_by_role("region", name="Confusion matrix"), ">50K", "<=50K")
    for name in ("Slice browser", "Group comparer", "Force viewer", "Selection"):
        expect(panel.get_by_role("region", name=name)).to_have_attribute("data-rows", str(n))
    bar = panel.get_by_role("region", name="Selection")
    expect(bar.get_by_role("status")).to_have_text(re.compile(rf"^{n:,} of 16,281 rows selected$"))
    page.set_viewport_size({"width": 1280, "height": 2200})  # tall enough to show most of the dashboard
    panel.get_by_role("region", name="Model overview").scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "dashboard")
    page.set_viewport_size({"width": 1280, "height": 900})
    bar.get_by_role("button", name=re.compile(r"^Remove selection from ConfusionMatrix")).click()
    expect(panel.get_by_role("region", name="Slice browser")).to_have_attribute("data-rows", "16281")
    assert kernel_eval(page, "print(len(ev.selection))").strip() == "0"

    page.set_viewport_size({"width": 760, "height": 900})  # a narrow notebook column: one view per row
    matrix_box = panel.get_by_role("region", name="Confusion matrix").bounding_box()
    groups_box = panel.get_by_role("region", name="Group comparer").bounding_box()
    assert matrix_box and groups_box and groups_box["y"] > matrix_box["y"] + matrix_box["height"] - 1


def test_a_selection_of_no_rows_renders_in_every_view(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    """`ev.select("age > 200")` keeps nothing: every view shows 0 rows and none shows an error."""
    write_notebook(notebook_dir / "empty.ipynb", BOARD)
    open_and_run(page, lab, "empty.ipynb")
    panel = page.locator(".jp-NotebookPanel:visible")
    kernel_eval(page, "ev.select('age > 200')")
    for name in REGIONS:
        region = panel.get_by_role("region", name=name)
        if name != "Selection":
            expect(region).to_have_attribute("data-rows", "0")
        expect(region.get_by_role("alert")).to_have_count(0)
    bar = panel.get_by_role("region", name="Selection")
    expect(bar.get_by_role("status")).to_have_text("0 of 16,281 rows selected")
    assert kernel_eval(page, "print([type(v).__name__ for v in board.views if v.error])").strip() == "[]"
    panel.get_by_role("region", name="Group comparer").scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "dashboard-empty")
    kernel_eval(page, "ev.selection.clear()")
    expect(panel.get_by_role("region", name="Slice browser")).to_have_attribute("data-rows", "16281")
