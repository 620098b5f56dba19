"""SliceBrowser linked with a ConfusionMatrix in a real JupyterLab, clicked in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lab import kernel_eval, open_and_run, screenshot_themes, write_notebook
from playwright.sync_api import Locator, Page, expect
from test_confusion_matrix_ui import cell_counts, click_cell

ADULT = """
import errorscope as es
from sklearn.linear_model import LogisticRegression
df = es.datasets.load_adult()
num = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
model = LogisticRegression(max_iter=1000).fit(df[num], df["income"])
ev = es.Evaluation(df, "income", model=model, features=num, sensitive=["sex", "race"])
cm = es.ConfusionMatrix(ev)
cm
"""
BROWSER = "sb = es.SliceBrowser(ev)\nsb"

HOSTILE = """
import errorscope as es, numpy as np, pandas as pd
rng = np.random.default_rng(0)
evil = "<img src=x onerror=window.__pwned=1>"
df = pd.DataFrame({evil: rng.choice(["</script><b>bold</b>", "<script>window.__pwned=2</script>", "plain"], 300),
                   "x": rng.normal(size=300)})
y = rng.integers(0, 2, 300)
ev = es.Evaluation(df, y, y_pred=np.where(rng.random(300) < 0.3, 1 - y, y))
sb = es.SliceBrowser(ev)
sb
"""


def browser(page: Page) -> Locator:
    return page.locator(".jp-NotebookPanel:visible").get_by_role("region", name="Slice browser")


def matrix(page: Page) -> Locator:
    return page.locator(".jp-NotebookPanel:visible").get_by_role("region", name="Confusion matrix")


def slice_row(view: Locator, description: str) -> Locator:
    return view.get_by_role("grid", name="Slices").get_by_role(
        "row", name=re.compile(rf"^{re.escape(description)}: [\d,]+ rows, ")
    )


def rows_of(name: str) -> int:
    match = re.search(r": ([\d,]+) rows, ", name)
    assert match, name
    return int(match.group(1).replace(",", ""))


@pytest.fixture()
def linked(page: Page, lab, notebook_dir: Path) -> Page:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "slices.ipynb", ADULT, BROWSER)
    open_and_run(page, lab, "slices.ipynb")
    expect(browser(page)).to_have_count(1)
    browser(page).scroll_into_view_if_needed()
    return page


def test_slice_click_filters_matrix_and_matrix_click_recomputes_slices(linked: Page, artifacts: Path) -> None:
    page = linked
    sb, cm = browser(page), matrix(page)
    expect(sb).to_have_attribute("data-rows", "16281")
    sb.get_by_role("searchbox", name="Filter slices by feature").fill("sex")
    female = slice_row(sb, "sex = Female")
    expect(female).to_have_count(1)
    n_female = rows_of(female.get_attribute("aria-label") or "")
    assert n_female == int(kernel_eval(page, "print((df['sex'] == 'Female').sum())"))

    female.click()
    expect(female).to_have_attribute("aria-selected", "true")
    expect(cm).to_have_attribute("data-rows", str(n_female))
    assert sum(cell_counts(cm).values()) == n_female
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == str(n_female)
    expect(sb).to_have_attribute("data-rows", "16281")  # crossfilter: its own clause does not filter it
    sb.scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "slice-browser")

    sb.get_by_role("button", name="Clear slice browser selection").click()
    expect(cm).to_have_attribute("data-rows", "16281")

    n_cell = click_cell(cm, ">50K", "<=50K")
    expect(sb).to_have_attribute("data-rows", str(n_cell))
    female = slice_row(sb, "sex = Female")
    expected = kernel_eval(page, "print(((df['sex'] == 'Female') & ev.selection.mask()).sum())").strip()
    expect(female).to_have_attribute(
        "aria-label", re.compile(rf": {int(expected):,} rows, error rate 100.0%$")
    )  # true of every slice of an error cell: so the view ranks by lift, and says so
    expect(sb.get_by_role("note")).to_have_text(
        re.compile(r"^Selection is defined by the outcome: ranking by lift")
    )
    lift = sb.locator("th:has(button[aria-label='Sort by Lift'])")
    expect(lift).to_have_attribute("aria-sort", "descending")
    assert kernel_eval(page, "print(sb.sort_by, sb.outcome_selection)").strip() == "lift True"


def test_rows_tab_pages_worst_first_and_discovered_slices_select(linked: Page) -> None:
    page = linked
    sb, cm = browser(page), matrix(page)
    sb.get_by_role("tab", name="Rows").click()
    grid = sb.get_by_role("grid", name="Rows in the selection")
    expect(grid.locator("tbody tr")).to_have_count(10)
    first_page = grid.locator("tbody tr").first.get_attribute("aria-label")
    worst = kernel_eval(page, "print(sb.inspected_rows(0)['id'].iloc[0])").strip()
    assert first_page and first_page.startswith(f"row {worst}:")
    sb.get_by_role("button", name="Next page of rows").click()
    expect(sb.get_by_text("Page 2 of")).to_be_visible()
    second = kernel_eval(page, "print(sb.inspected_rows(1)['id'].iloc[0])").strip()
    expect(grid.locator("tbody tr").first).to_have_attribute("aria-label", re.compile(rf"^row {second}:"))

    sb.get_by_role("tab", name="Discovered").click()
    expect(sb.get_by_role("status")).to_have_text(re.compile(r"\d+ slices found"), timeout=60_000)
    top = sb.get_by_role("grid", name="Discovered slices").locator("tbody tr").first
    n_top = rows_of(top.get_attribute("aria-label") or "")
    top.click()
    expect(cm).to_have_attribute("data-rows", str(n_top))

    sb.get_by_role("tab", name="Compare").click()
    expect(sb.get_by_role("list", name="Features that differ most").get_by_role("button")).not_to_have_count(
        0
    )
    expect(sb.get_by_role("table", name=re.compile(r"^Distribution of "))).to_be_visible()


def test_keyboard_selects_adds_and_clears(linked: Page) -> None:
    page = linked
    sb = browser(page)
    rows = sb.get_by_role("grid", name="Slices").locator("tbody tr[data-key]")
    rows.first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Shift+Enter")
    expect(rows.nth(2)).to_have_attribute("aria-selected", "true")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    terms = kernel_eval(page, "print(len(ev.selection.clause(sb.source).terms))").strip()
    assert terms == "2"
    page.keyboard.press("Escape")
    expect(sb.locator("tbody tr[aria-selected=true]")).to_have_count(0)
    assert kernel_eval(page, "print(len(ev.selection))").strip() == "0"


def test_hostile_feature_names_and_values_render_as_text(page: Page, lab, notebook_dir: Path) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "hostile.ipynb", HOSTILE)
    open_and_run(page, lab, "hostile.ipynb")
    sb = browser(page)
    expect(sb).to_have_count(1)
    evil = "<img src=x onerror=window.__pwned=1>"
    expect(sb.get_by_role("gridcell", name=evil).first).to_be_visible()
    sb.get_by_role("searchbox", name="Filter slices by feature").fill("onerror")
    expect(sb.get_by_text("3 slices")).to_be_visible()
    rows = sb.get_by_role("grid", name="Slices").get_by_role("row", name=f"{evil} = </script><b>bold</b>: ")
    expect(rows).to_have_count(1)  # a substring match: Playwright's regex selectors cannot hold "/"
    assert sb.locator("img, b, script").count() == 0
    sb.get_by_role("tab", name="Rows").click()
    expect(sb.get_by_role("columnheader", name=evil)).to_be_visible()
    assert sb.locator("img, b, script").count() == 0
    assert page.evaluate("() => window.__pwned === undefined")


ACTIVE_CELL = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell'))
    .findIndex((c) => c.classList.contains('jp-mod-active'))"""


def test_header_row_is_one_tab_stop_and_keys_stay_in_the_view(page: Page, lab, notebook_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """ArrowDown on a header moved the notebook's active cell; the nine headers were nine Tab stops."""
    write_notebook(notebook_dir / "keys.ipynb", ADULT, BROWSER, "1 + 1")
    open_and_run(page, lab, "keys.ipynb")
    sb = browser(page)
    expect(sb).to_have_count(1)
    sb.scroll_into_view_if_needed()
    header = sb.get_by_role("grid", name="Slices").locator("thead")
    expect(header.locator("button")).to_have_count(10)
    expect(header.locator("button[tabindex='0']")).to_have_count(1)
    stop = header.locator("button[tabindex='0']")
    expect(stop).to_have_attribute("aria-label", "Sort by Error rate")
    stop.click()  # sorts ascending, and makes the browser's cell the active one
    expect(sb.get_by_role("button", name="Sort by Error rate")).to_be_focused()
    cell = page.evaluate(ACTIVE_CELL)
    page.keyboard.press("ArrowRight")
    expect(sb.get_by_role("button", name="Sort by Rest")).to_be_focused()
    page.keyboard.press("Enter")
    rest = sb.locator("th:has(button[aria-label='Sort by Rest'])")
    expect(rest).to_have_attribute("aria-sort", "descending")  # repainted from the kernel's new sort
    assert kernel_eval(page, "print(sb.sort_by)").strip() == "rest"
    expect(sb.get_by_role("button", name="Sort by Rest")).to_be_focused()
    page.keyboard.press("ArrowDown")
    first_row = sb.get_by_role("grid", name="Slices").locator("tbody tr[data-key]").first
    expect(first_row).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # from the first row back to the header row
    expect(sb.get_by_role("button", name="Sort by Rest")).to_be_focused()
    page.keyboard.press("ArrowUp")  # nothing above: handled, not the notebook's
    page.keyboard.press("Tab")  # the header row is one stop: Tab leaves it for the table
    expect(first_row).to_be_focused()
    assert page.evaluate(ACTIVE_CELL) == cell
    assert page.evaluate(
        "() => document.querySelector('.jp-Notebook').classList.contains('jp-mod-commandMode')"
    )


@pytest.mark.parametrize("width", [420, 800, 1100, 1400])
def test_the_last_column_is_reachable_and_its_cut_shows_at_any_width(  # type: ignore[no-untyped-def]
    page: Page, lab, notebook_dir: Path, artifacts: Path, width: int
) -> None:
    """At 1100-1400 px the p (BH) column was cut off with no visible sign: where scrollbars hide until
    one scrolls (macOS, touch, this headless Chromium) the table looked complete."""
    page.set_viewport_size({"width": width, "height": 900})
    write_notebook(notebook_dir / f"wide{width}.ipynb", ADULT, BROWSER)
    open_and_run(page, lab, f"wide{width}.ipynb")
    if width < 800:  # a phone-sized window: the file browser would leave the notebook no room
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    sb = browser(page)
    expect(sb).to_have_count(1)
    sb.scroll_into_view_if_needed()
    last = sb.get_by_role("grid", name="Slices").get_by_role("columnheader").last
    expect(last).to_have_text("p (BH)")
    box = sb.locator(".es-scroll").first
    measure = """(el) => { const out = el.closest('.jp-OutputArea-output') || el.closest('.jp-Cell');
        const r = el.getBoundingClientRect(), o = out.getBoundingClientRect(), style = getComputedStyle(el);
        return { scroll: el.scrollWidth, client: el.clientWidth, overflow: style.overflowX,
                 mask: style.maskImage || style.webkitMaskImage, more: el.dataset.more,
                 right: r.right, outRight: o.right }; }"""
    page.wait_for_timeout(300)  # the resize observer marks the box after layout
    layout = box.evaluate(measure)
    assert layout["right"] <= layout["outRight"] + 1, layout  # the view fits its output area
    if width <= 1100:
        assert layout["scroll"] > layout["client"], layout  # ten columns do not fit beside the sidebar
    if layout["scroll"] > layout["client"]:
        assert layout["overflow"] in ("auto", "scroll"), layout
        assert layout["more"] == "right" and layout["mask"] != "none", layout  # the cut edge fades
    page.screenshot(path=str(artifacts / f"slice-browser-{width}.png"), full_page=False)
    box.evaluate("(el) => { el.scrollLeft = el.scrollWidth; }")
    expect(box).not_to_have_attribute("data-more", re.compile("right"))
    edges = last.evaluate(
        """(th) => { const b = th.closest('.es-scroll').getBoundingClientRect(), r = th.getBoundingClientRect();
        return { left: r.left, right: r.right, boxLeft: b.left, boxRight: b.right }; }"""
    )
    assert edges["right"] <= edges["boxRight"] + 1 and edges["left"] >= edges["boxLeft"] - 1, edges
    assert edges["right"] <= width, edges
    screenshot_themes(page, artifacts, f"slice-browser-{width}-scrolled")
