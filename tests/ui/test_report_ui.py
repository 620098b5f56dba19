"""ev.report rendered in headless Chromium: every table fits a 1000 px page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

import errorscope as es

OVERFLOW = """() => {
  const page = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("table, img")]
    .filter(e => e.getBoundingClientRect().right > page + 0.5)
    .map(e => (e.querySelector("caption") || e).textContent.slice(0, 60));
  return { scroll: document.documentElement.scrollWidth, page, wide };
}"""


def show_at_1000px(page: Page, report: Path, screenshot: Path) -> None:
    """Load the report in a 1000 px wide page, save its screenshot and check that nothing overflows."""
    page.set_viewport_size({"width": 1000, "height": 900})
    page.set_content(report.read_text(encoding="utf-8"))
    found = page.evaluate(OVERFLOW)
    page.screenshot(path=str(screenshot), full_page=True)
    assert found["wide"] == [] and found["scroll"] <= found["page"], found


def test_report_fits_a_1000px_page(
    page: Page, adult_test, adult_model, tmp_path: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    ev = es.Evaluation(adult_test, "income", model=adult_model, sensitive=["sex", "race"])
    store = ev.attach_tags(tmp_path / "t.sqlite")
    store.tag(ev.ids[:3], "mislabeled")
    store.set_note(ev.ids[:1], "a long note about why this row looks mislabeled to the reviewer")
    show_at_1000px(page, ev.report(tmp_path / "report.html"), artifacts / "report-1000.png")
    assert page.locator("table").count() >= 8


def test_regression_report_fits_a_1000px_page(
    page: Page, wage_model_and_frame, tmp_path: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    frame = wage_model_and_frame[1].copy()
    frame["race"] = frame["race"].astype(str)
    frame.loc[frame.index[:40], "race"] = "<b>a long group name with markup</b>"
    ev = es.Evaluation(frame, "wage", y_pred="pred", sensitive="race")
    store = ev.attach_tags(tmp_path / "t.sqlite")
    store.tag(ev.ids[:3], "mislabeled")
    store.set_relabel(ev.ids[:1], 73.5)
    ev.select("residual > 20")
    show_at_1000px(page, ev.report(tmp_path / "report.html"), artifacts / "report-regression-1000.png")
    assert page.locator("table").count() >= 12 and page.locator("img").count() == 6
    assert page.locator("script").count() == 0 and page.locator("b").count() == 0  # the markup is text
    assert (
        page.get_by_text("<b>a long group name with markup</b>", exact=True).count() >= 3
    )  # in each group table
