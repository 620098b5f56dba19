"""ErrorTagger in a real JupyterLab: tag by keyboard (fast too), restart the kernel, and the tags are still
there; the card's fields stay on their labels at every width; clearing the selection restarts the review."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lab import kernel_eval, open_and_run, screenshot_themes, write_notebook
from playwright.sync_api import Page, expect
from test_confusion_matrix_ui import click_cell
from test_slice_browser_ui import ADULT, browser, matrix

TAGGER = 'tagger = es.ErrorTagger(ev, store="review.sqlite", tags=["mislabeled", "ambiguous"])\ntagger'
SLICES = "sb = es.SliceBrowser(ev, discover=False)\nsb"


LONG_NAMES = """
import errorscope as es, numpy as np
df = es.datasets.load_adult().rename(columns={
    "marital-status": "personal_status_and_sex_marital_status_of_the_applicant",
    "native-country": "country_of_birth_of_the_applicant_as_recorded_in_the_census"})
score = np.clip(0.2 + 0.5 * (df["education-num"] > 12), 0.01, 0.99)
ev = es.Evaluation(df, "income", y_score=score, labels=["<=50K", ">50K"], sensitive=["sex", "race"])
tagger = es.ErrorTagger(ev, store="layout.sqlite")
tagger
"""


def tagger_view(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".jp-NotebookPanel:visible").get_by_role("region", name="Error tagger")


def tagger_cell(store: str) -> str:
    return TAGGER.replace("review.sqlite", store)


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


def press_pairs(page: Page, tag_key: str, pairs: int, interval_ms: int) -> None:
    """Press ``tag_key`` then ``j``, ``pairs`` times, ``interval_ms`` apart (faster than a round trip)."""
    for _ in range(pairs):
        page.keyboard.press(tag_key)
        page.wait_for_timeout(interval_ms)
        page.keyboard.press("j")
        page.wait_for_timeout(interval_ms)


def test_fast_typing_tags_exactly_the_rows_the_keys_were_meant_for(
    page: Page, lab, notebook_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "fast.ipynb", ADULT, tagger_cell("fast.sqlite"))
    open_and_run(page, lab, "fast.ipynb")
    tagger = tagger_view(page)
    tagger.scroll_into_view_if_needed()
    tagger.focus()
    expect(tagger.get_by_text("Row 1 of")).to_be_visible()
    press_pairs(page, "1", 20, 30)
    expect(tagger.get_by_text("Row 21 of")).to_be_visible()
    press_pairs(page, "2", 20, 100)
    expect(tagger.get_by_text("Row 41 of")).to_be_visible()  # the last j is acknowledged after every tag

    audit = kernel_eval(page, "print(tagger.store.audit()[['id', 'tag', 'action']].to_json(orient='values'))")
    queue = json.loads(
        kernel_eval(page, "import json; print(json.dumps(list(map(str, tagger.queue['id'][:40]))))")
    )
    expected = [[i, "mislabeled", "tag added"] for i in queue[:20]]
    expected += [[i, "ambiguous", "tag added"] for i in queue[20:]]
    assert json.loads(audit) == expected
    assert kernel_eval(page, "print(int(tagger.position))").strip() == "40"


def test_card_fields_keep_each_value_on_its_label_and_show_sensitive_ones_first(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "layout.ipynb", LONG_NAMES)
    open_and_run(page, lab, "layout.ipynb")
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # the notebook gets the page's width
    fields = tagger_view(page).locator("dl.es-fields")
    for width in (420, 800, 1400):
        page.set_viewport_size({"width": width, "height": 900})
        fields.scroll_into_view_if_needed()
        fields.evaluate("dl => { dl.scrollTop = 0; }")
        screenshot_themes(page, artifacts, f"error-tagger-card-{width}")
        pairs = fields.evaluate(
            """dl => Array.from(dl.querySelectorAll("dt")).map((dt) => {
            const a = dt.getBoundingClientRect(), b = dt.nextElementSibling.getBoundingClientRect();
            return { name: dt.textContent, labelTop: a.top, valueTop: b.top, labelRight: a.right,
                     valueLeft: b.left, valueWidth: b.width }; })"""
        )
        assert [p["name"] for p in pairs[:2]] == ["sex", "race"], width
        for p in pairs:
            assert abs(p["labelTop"] - p["valueTop"]) < 2, (width, p)  # one row
            assert p["labelRight"] <= p["valueLeft"], (width, p)  # no overprint
            assert p["valueWidth"] >= 40, (width, p)
        box, sex = fields.bounding_box(), fields.locator("dt").first.bounding_box()
        assert box and sex and box["y"] <= sex["y"] and sex["y"] + sex["height"] <= box["y"] + box["height"]
        assert any(p["labelTop"] > box["y"] + box["height"] for p in pairs), (
            "every field fits: not a scroll test"
        )
        fields.evaluate("dl => { dl.scrollTop = dl.scrollHeight; }")
        last = fields.locator("dt").last.bounding_box()
        assert last and last["y"] + last["height"] <= box["y"] + box["height"] + 1, "the list does not scroll"


@pytest.mark.parametrize("clear", ["selection bar", "code"])
def test_clearing_the_selection_restarts_the_review_at_the_top(
    page: Page, lab, notebook_dir: Path, clear: str
) -> None:  # type: ignore[no-untyped-def]
    name = f"clear-{clear.replace(' ', '-')}"
    write_notebook(
        notebook_dir / f"{name}.ipynb", ADULT, tagger_cell(f"{name}.sqlite"), "es.SelectionBar(ev)"
    )
    open_and_run(page, lab, f"{name}.ipynb")
    cm, tagger = matrix(page), tagger_view(page)
    n = click_cell(cm, ">50K", "<=50K")
    expect(tagger.get_by_text(f"Row 1 of {n:,}")).to_be_visible()
    tagger.focus()
    for _ in range(3):
        page.keyboard.press("j")
    expect(tagger.get_by_text(f"Row 4 of {n:,}")).to_be_visible()

    if clear == "code":
        kernel_eval(page, "ev.selection.clear()")
    else:
        bar = page.locator(".jp-NotebookPanel:visible").get_by_role("region", name="Selection")
        bar.get_by_role("button", name="Clear all selections").click()
    total = int(kernel_eval(page, "print(int(ev.wrong.sum()))"))
    expect(tagger.get_by_text(f"Row 1 of {total:,}")).to_be_visible()
    first = kernel_eval(page, "print(tagger.queue['id'].iloc[0])").strip()
    expect(tagger.get_by_text(f"id {first}", exact=True)).to_be_visible()
    assert kernel_eval(page, "print(tagger.position, tagger.card['id'])").split() == ["0", first]
