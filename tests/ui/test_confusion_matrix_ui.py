"""Two linked ConfusionMatrix views in a real JupyterLab, clicked in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lab import kernel_eval, open_and_run, screenshot_themes, write_notebook
from playwright.sync_api import Locator, Page, expect

ADULT = """
import errorscope as es
from sklearn.linear_model import LogisticRegression
df = es.datasets.load_adult()
num = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
model = LogisticRegression(max_iter=1000).fit(df[num], df["income"])
ev = es.Evaluation(df, "income", model=model, features=num)
cm1 = es.ConfusionMatrix(ev)
cm1
"""
SECOND = "cm2 = es.ConfusionMatrix(ev)\ncm2"


def rows_in(name: str) -> int:
    """The row count at the end of an accessible name: "...: 1,234 rows"."""
    match = re.search(r": ([\d,]+) rows$", name)
    assert match, name
    return int(match.group(1).replace(",", ""))


def views(page: Page) -> Locator:
    """The ConfusionMatrix regions of the notebook on screen (other tabs may hold older ones)."""
    return page.locator(".jp-NotebookPanel:visible").get_by_role("region", name="Confusion matrix")


def cell(view: Locator, actual: str, predicted: str) -> Locator:
    return view.get_by_role(
        "gridcell", name=re.compile(rf"^actual {re.escape(actual)}, predicted {re.escape(predicted)}: ")
    )


def click_cell(view: Locator, actual: str, predicted: str) -> int:
    """Click a cell (scrolled into view first) and return how many rows it holds."""
    target = cell(view, actual, predicted)
    target.scroll_into_view_if_needed()
    n = rows_in(target.get_attribute("aria-label") or "")
    target.click()
    return n


def cell_counts(view: Locator) -> dict[str, int]:
    cells = view.locator("td[role=gridcell].es-cell")
    return {
        name.rsplit(":", 1)[0]: rows_in(name)
        for name in cells.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    }


@pytest.fixture()
def adult_page(page: Page, lab, notebook_dir: Path) -> Page:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "two_views.ipynb", ADULT, SECOND)
    open_and_run(page, lab, "two_views.ipynb")
    expect(views(page)).to_have_count(2)
    return page


def test_click_cell_filters_the_other_view_and_clear_restores(adult_page: Page, artifacts: Path) -> None:
    page = adult_page
    first, second = views(page).all()
    expect(second).to_have_attribute("data-rows", "16281")
    before = cell_counts(first)
    target = cell(first, ">50K", "<=50K")
    n = rows_in(target.get_attribute("aria-label") or "")
    assert 0 < n < 16281

    target.click()
    expect(second).to_have_attribute("data-rows", str(n))
    after = cell_counts(second)
    assert after["actual >50K, predicted <=50K"] == n
    assert sum(after.values()) == n
    assert cell_counts(first) == before  # crossfilter: the first view ignores its own clause
    expect(cell(first, ">50K", "<=50K")).to_have_attribute("aria-selected", "true")
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == str(n)
    screenshot_themes(page, artifacts, "two-views")

    page.get_by_role("button", name="Clear confusion matrix selection").click()
    expect(second).to_have_attribute("data-rows", "16281")
    expect(first).to_have_attribute("data-rows", "16281")
    assert cell_counts(second) == before
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == "16281"


def test_keyboard_escape_and_modifier_click(adult_page: Page) -> None:
    page = adult_page
    first, second = views(page).all()
    start = cell(first, "<=50K", "<=50K")
    start.click()
    expect(second).to_have_attribute("data-rows", str(rows_in(start.get_attribute("aria-label") or "")))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    moved = cell(first, "<=50K", ">50K")
    expect(second).to_have_attribute("data-rows", str(rows_in(moved.get_attribute("aria-label") or "")))
    expect(moved).to_be_focused()

    other = cell(first, ">50K", "<=50K")
    other.click(modifiers=["Shift"])
    both = rows_in(moved.get_attribute("aria-label") or "") + rows_in(other.get_attribute("aria-label") or "")
    expect(second).to_have_attribute("data-rows", str(both))
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == str(both)

    other.press("Escape")
    expect(second).to_have_attribute("data-rows", "16281")

    first.get_by_role("button", name=re.compile(r"^actual >50K: ")).click()
    actual_high = rows_in(
        first.get_by_role("button", name=re.compile(r"^actual >50K: ")).get_attribute("aria-label") or ""
    )
    expect(second).to_have_attribute("data-rows", str(actual_high))


def test_threshold_slider_moves_both_views(adult_page: Page) -> None:
    page = adult_page
    first, second = views(page).all()
    before = cell_counts(second)
    slider = first.get_by_role("slider", name="Decision threshold")
    slider.fill("0.3")
    slider.dispatch_event("change")
    expect(second.get_by_role("slider", name="Decision threshold")).to_have_value("0.3")
    assert kernel_eval(page, "print(ev.threshold)").strip() == "0.3"
    expect(cell(second, ">50K", ">50K")).not_to_have_attribute(
        "aria-label", re.compile(rf": {before['actual >50K, predicted >50K']:,} rows$")
    )
    assert cell_counts(second) != before and cell_counts(first) == cell_counts(second)


def threshold_in_kernel(page: Page) -> float:
    return float(kernel_eval(page, "print(ev.threshold)"))


def test_threshold_slider_drags_from_half_to_a_fifth(adult_page: Page) -> None:
    """A real mouse drag: the slider stays under the pointer and the release commits where it ends."""
    page = adult_page
    first, second = views(page).all()
    slider = first.get_by_role("slider", name="Decision threshold")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2  # the thumb at 0.5
    page.mouse.move(x, y)
    page.mouse.down()
    live = first.get_by_role("slider", name="Decision threshold")
    for _ in range(int(box["width"])):  # drag left a pixel at a time until the live value reads 0.2
        x -= 1
        page.mouse.move(x, y)
        if float(live.input_value()) <= 0.2:
            break
    page.mouse.up()
    expect(second.get_by_role("slider", name="Decision threshold")).not_to_have_value("0.5")
    assert abs(threshold_in_kernel(page) - 0.2) <= 0.01 + 1e-9


def test_threshold_arrow_keys_and_typed_value_with_enter(adult_page: Page) -> None:
    page = adult_page
    first, second = views(page).all()
    slider = first.get_by_role("slider", name="Decision threshold")
    slider.focus()
    active = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
    cell_before = page.evaluate(active)
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowDown")
    expect(second.get_by_role("slider", name="Decision threshold")).to_have_value("0.46")
    assert threshold_in_kernel(page) == 0.46
    assert page.evaluate(active) == cell_before  # the keys moved the slider, not the notebook
    expect(slider).to_be_focused()

    typed = first.get_by_role("spinbutton", name="Decision threshold value")
    typed.fill("0.3")
    typed.press("Enter")  # the first typed value commits without leaving the box
    expect(second.get_by_role("slider", name="Decision threshold")).to_have_value("0.3")
    assert threshold_in_kernel(page) == 0.3
    expect(typed).to_be_focused()
    typed.fill("7")
    typed.press("Enter")  # not a threshold: the box shows the one in force again
    expect(typed).to_have_value("0.3")
    assert threshold_in_kernel(page) == 0.3


def test_multiclass_letters_and_hostile_labels(page: Page, lab, notebook_dir: Path) -> None:  # type: ignore[no-untyped-def]
    write_notebook(
        notebook_dir / "letters.ipynb",
        """
import numpy as np, errorscope as es
from sklearn.tree import DecisionTreeClassifier
df = es.datasets.load_letter()
feats = [c for c in df.columns if c != "letter"]
model = DecisionTreeClassifier(max_depth=8, random_state=0).fit(df[feats][:16000], df["letter"][:16000])
test = df[16000:].reset_index(drop=True)
ev = es.Evaluation(test, "letter", y_pred=model.predict(test[feats]))
es.ConfusionMatrix(ev, order="errors")
""",
        """
hostile = np.where(ev.true_codes % 2 == 0, "<img src=x onerror=window.__pwned=1>", "</script><b>bold</b>")
ev2 = es.Evaluation(test, hostile, y_pred=np.roll(hostile, 1))
es.ConfusionMatrix(ev2)
""",
    )
    open_and_run(page, lab, "letters.ipynb")
    regions = views(page)
    expect(regions).to_have_count(2)
    letters, hostile = regions.all()
    letters.scroll_into_view_if_needed()  # Lab may skip rendering work for off-screen outputs
    expect(letters.locator("td[role=gridcell].es-cell")).to_have_count(26 * 26)
    labels = letters.locator("td[role=gridcell].es-cell").evaluate_all("els => els.map(e => e.ariaLabel)")
    assert all(re.fullmatch(r"actual [A-Z], predicted [A-Z]: [\d,]+ rows", name) for name in labels)
    letters.get_by_role("button", name=re.compile(r"^actual Q: ")).click()
    n_q = rows_in(
        letters.get_by_role("button", name=re.compile(r"^actual Q: ")).get_attribute("aria-label") or ""
    )
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == str(n_q)
    hostile.scroll_into_view_if_needed()
    expect(
        hostile.get_by_role("button", name=re.compile(r"^actual <img src=x onerror=window.__pwned=1>: "))
    ).to_have_text(re.compile(r"^<img src"))
    assert hostile.locator("img, b").count() == 0
    assert page.evaluate("() => window.__pwned") is None
