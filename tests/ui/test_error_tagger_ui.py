"""ErrorTagger in a real JupyterLab: tag by keyboard, restart the kernel, and the tags are still there."""

from __future__ import annotations

import re
from pathlib import Path

from lab import kernel_eval, open_and_run, screenshot_themes, write_notebook
from playwright.sync_api import Page, expect
from test_confusion_matrix_ui import click_cell
from test_slice_browser_ui import ADULT, browser, matrix

TAGGER = 'tagger = es.ErrorTagger(ev, store="review.sqlite", tags=["mislabeled", "ambiguous"])\ntagger'
SLICES = "sb = es.SliceBrowser(ev, discover=False)\nsb"


def tagger_view(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".jp-NotebookPanel:visible").get_by_role("region", name="Error tagger")


def test_tag_by_keyboard_survives_a_kernel_restart(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "review.ipynb", ADULT, TAGGER, SLICES)
    open_and_run(page, lab, "review.ipynb")
    cm, tagger = matrix(page), tagger_view(page)
    n = click_cell(cm, ">50K", "<=50K")
    expect(tagger.get_by_text(f"{n:,} rows to review")).to_be_visible()

    tagger.scroll_into_view_if_needed()
    tagger.focus()
    for k in (1, 2, 3):
        expect(tagger.get_by_text(f"Row {k} of")).to_be_visible()
        page.keyboard.press("1")
        expect(tagger.get_by_role("button", name=f"Select rows tagged mislabeled: {k} rows")).to_be_visible()
        expect(tagger.get_by_role("status")).to_contain_text("Saved")
        page.keyboard.press("j")
    tagged = kernel_eval(page, "print(sorted(map(str, ev.tags['id'])))").strip()
    expected = kernel_eval(page, "print(sorted(map(str, tagger.queue['id'].iloc[:3])))").strip()
    assert tagged == expected
    screenshot_themes(page, artifacts, "error-tagger")

    page.evaluate(
        """async () => {
        const ctx = window.jupyterapp.shell.currentWidget.sessionContext;
        await ctx.session.kernel.restart();
        }"""
    )
    open_and_run(page, lab, "review.ipynb")
    tagger = tagger_view(page)
    count = tagger.get_by_role("button", name="Select rows tagged mislabeled: 3 rows")
    expect(count).to_be_visible()
    assert kernel_eval(page, "print(sorted(map(str, ev.tags['id'])))").strip() == tagged

    sb = browser(page)
    sb.scroll_into_view_if_needed()
    sb.get_by_role("searchbox", name="Filter slices by feature").fill("tag")
    row = sb.get_by_role("grid", name="Slices").get_by_role(
        "row", name=re.compile(r"^tag = mislabeled: 3 rows, ")
    )
    row.click()
    expect(matrix(page)).to_have_attribute("data-rows", "3")
    assert kernel_eval(page, "print(sorted(map(str, ev.selected()['id'])))").strip() == tagged
