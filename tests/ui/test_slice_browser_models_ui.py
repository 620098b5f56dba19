"""SliceBrowser's Models tab in a real JupyterLab on Adult with two models: pick the pair, click the slice
where B is worse most and the kernel and the confusion matrix hold its rows; find where B is worse and click
the top conjunction; the tab fits at narrow, medium and wide notebooks, light and dark."""

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

BROWSER = "sb = es.SliceBrowser(ev, tab='models', discover=False)\nsb"
MATRIX = "cm = es.ConfusionMatrix(ev)\ncm"


def regions(page: Page) -> tuple[Locator, Locator]:
    panel = page.locator(".jp-NotebookPanel:visible")
    return panel.get_by_role("region", name="Slice browser"), panel.get_by_role(
        "region", name="Confusion matrix"
    )


@pytest.fixture()
def models_page(page: Page, lab, notebook_dir: Path) -> Page:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "models_tab.ipynb", ADULT, BROWSER, MATRIX)
    page.set_viewport_size({"width": 1400, "height": 1800})
    open_and_run(page, lab, "models_tab.ipynb")
    for region in regions(page):
        expect(region).to_have_attribute("data-rows", "4000")
    return page


def pick_candidate_as_a(sb: Locator) -> None:
    """Model A = candidate: the pair swaps (B = baseline, the weaker model: where it is worse is the story)."""
    expect(sb.get_by_role("tab", name="Models")).to_have_attribute("aria-selected", "true")
    sb.get_by_role("combobox", name="Model A").select_option("candidate")
    expect(sb.get_by_role("combobox", name="Model B")).to_have_value("baseline")
    expect(
        sb.get_by_role("grid", name=re.compile(r"^Slices, candidate against baseline: \d+ slices$"))
    ).to_be_visible()


def test_the_worst_slice_and_a_found_regression_select_their_rows(models_page: Page, artifacts: Path) -> None:
    page = models_page
    sb, cm = regions(page)
    pick_candidate_as_a(sb)
    assert kernel_eval(page, "print(sb.model_a, sb.model_b)").strip() == "candidate baseline"
    description, rows, worse = (
        kernel_eval(
            page,
            "r = sb.model_table.iloc[0]; print(r['description'], r['rows'], r['diff'] > 0 and r['q'] < 0.05, sep='|')",
        )
        .strip()
        .split("|")
    )
    assert worse == "True"  # the baseline is significantly worse somewhere: that slice is listed first
    n_rows = int(rows)
    table = sb.get_by_role("grid", name=re.compile(r"^Slices, candidate against baseline"))
    worst = table.locator("tbody tr").first
    expect(worst).to_have_attribute(
        "aria-label", re.compile(rf"^{re.escape(description)}: {n_rows:,} rows, candidate ")
    )
    worst.click()
    expect(worst).to_have_attribute("aria-selected", "true")
    expect(cm).to_have_attribute("data-rows", str(n_rows))
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == str(n_rows)
    same = kernel_eval(page, "print(sb.clause.terms == ((sb.model_table['predicate'].iloc[0],),))").strip()
    assert same == "True"
    screenshot_themes(page, artifacts, "slice-browser-models-worst")
    worst.press("Escape")
    expect(cm).to_have_attribute("data-rows", "4000")

    sb.get_by_role("button", name="Find where baseline is worse").click()
    found = sb.get_by_role("grid", name=re.compile(r"^Where baseline is worse than candidate: \d+ slices?$"))
    expect(found).to_be_visible(timeout=60_000)
    size = int(kernel_eval(page, "print(sb.regression_slices['size'].iloc[0])").strip())
    top = found.locator("tbody tr").first
    expect(top).to_have_attribute("aria-label", re.compile(rf": {size:,} rows, baseline worse on "))
    top.click()
    expect(top).to_have_attribute("aria-selected", "true")
    expect(cm).to_have_attribute("data-rows", str(size))
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == str(size)
    # a keyboard user reaches the rows: ArrowDown moves, Enter selects, and the keys stay in the view
    top.press("ArrowDown")
    second = found.locator("tbody tr").nth(1)
    if second.count():
        expect(second).to_be_focused()
        second.press("Enter")
        expect(second).to_have_attribute("aria-selected", "true")
    screenshot_themes(page, artifacts, "slice-browser-models-found")


@pytest.mark.parametrize("width", [420, 800, 1300])
def test_the_models_tab_fits(models_page: Page, artifacts: Path, width: int) -> None:
    page = models_page
    sb, _ = regions(page)
    pick_candidate_as_a(sb)
    sb.get_by_role("button", name="Find where baseline is worse").click()
    expect(sb.get_by_role("grid", name=re.compile(r"^Where baseline is worse"))).to_be_visible(timeout=60_000)
    set_notebook_width(page, width)
    sb.scroll_into_view_if_needed()
    assert overflow_problems(sb) == []
    for dark in (False, True):
        set_theme(page, dark)
        sb.screenshot(path=str(artifacts / f"slice-browser-models-{width}-{'dark' if dark else 'light'}.png"))
    set_theme(page, False)
