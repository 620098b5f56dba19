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


def test_report_fits_a_1000px_page(
    page: Page, adult_test, adult_model, tmp_path: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    ev = es.Evaluation(adult_test, "income", model=adult_model, sensitive=["sex", "race"])
    store = ev.attach_tags(tmp_path / "t.sqlite")
    store.tag(ev.ids[:3], "mislabeled")
    store.set_note(ev.ids[:1], "a long note about why this row looks mislabeled to the reviewer")
    report = ev.report(tmp_path / "report.html")
    page.set_viewport_size({"width": 1000, "height": 900})
    page.set_content(report.read_text(encoding="utf-8"))
    found = page.evaluate(OVERFLOW)
    page.screenshot(path=str(artifacts / "report-1000.png"), full_page=True)
    assert found["wide"] == [] and found["scroll"] <= found["page"], found
    assert page.locator("table").count() >= 8
