"""The dashboard's layout in a real JupyterLab at a narrow (420 px), medium (800 px) and wide (1400 px)
notebook, light and dark: no element sticks out of its card, no two texts overlap."""

from __future__ import annotations

import json
from pathlib import Path

from lab import kernel_eval, open_and_run, screenshot_themes, write_notebook
from playwright.sync_api import Page, expect
from test_confusion_matrix_ui import click_cell
from test_dashboard_ui import BOARD, REGIONS

PROBLEMS = """(card) => {
  /** Whether the element sits in a scrolling box inside the card (then it is reached by scrolling). */
  const scrolled = (e) => {
    for (let p = e.parentElement; p && p !== card; p = p.parentElement)
      if (/(auto|scroll)/.test(getComputedStyle(p).overflowX)) return true;
    return false;
  };
  const name = (e) => `${e.tagName.toLowerCase()}.${e.className || ""} "${(e.textContent || "").trim().slice(0, 30)}"`;
  const out = [];
  const visible = (r) => r.width > 0 && r.height > 0;
  for (const e of card.querySelectorAll("*")) {
    const r = e.getBoundingClientRect();
    if (!visible(r) || scrolled(e)) continue;
    const b = card.getBoundingClientRect();
    if (r.left < b.left - 1 || r.right > b.right + 1) out.push(`outside its card: ${name(e)} ${Math.round(r.left)}-${Math.round(r.right)} vs ${Math.round(b.left)}-${Math.round(b.right)}`);
  }
  const texts = [];
  const walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    for (const r of range.getClientRects()) if (visible(r)) texts.push([n, r]);
  }
  for (let i = 0; i < texts.length; i++)
    for (let j = i + 1; j < texts.length; j++) {
      const [a, ra] = texts[i], [b, rb] = texts[j];
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 2 && h > 2) out.push(`texts overlap: "${a.textContent.trim().slice(0, 30)}" and "${b.textContent.trim().slice(0, 30)}"`);
    }
  for (const m of card.querySelectorAll(".es-metric")) {  // each metric's label right above its value
    const [dt, dd] = [m.querySelector("dt").getBoundingClientRect(), m.querySelector("dd").getBoundingClientRect()];
    if (dd.top < dt.bottom - 1 || Math.abs(dd.left - dt.left) > 1) out.push(`metric label beside its value: ${name(m)}`);
  }
  return out;
}"""
MINE = ["Model overview", "Selection", "Confusion matrix"]
"""The views whose insides this test checks; of the others, only that their cards fit the output area."""


def layout_problems(page: Page) -> dict[str, list[str]]:
    """Per card of the dashboard: what sticks out of it (or out of the output area), which texts overlap."""
    panel = page.locator(".jp-NotebookPanel:visible")
    area = panel.locator(".jp-OutputArea-output").first.bounding_box()
    assert area is not None
    problems: dict[str, list[str]] = {}
    for name in REGIONS:
        card = panel.get_by_role("region", name=name)
        card.scroll_into_view_if_needed()
        box = card.bounding_box()
        assert box is not None
        found = card.evaluate(PROBLEMS) if name in MINE else []
        if box["x"] < area["x"] - 1 or box["x"] + box["width"] > area["x"] + area["width"] + 1:
            found.insert(0, f"the card ({box['x']:.0f}+{box['width']:.0f}) leaves the output area")
        if found:
            problems[name] = found[:6]
    return problems


def test_dashboard_layout_fits_narrow_medium_and_wide(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "layout.ipynb", BOARD.replace("board.sqlite", "layout.sqlite"))
    open_and_run(page, lab, "layout.ipynb")
    page.evaluate(
        "() => { window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight(); }"
    )
    panel = page.locator(".jp-NotebookPanel:visible")
    for name in REGIONS:
        expect(panel.get_by_role("region", name=name)).to_have_count(1)
    click_cell(panel.get_by_role("region", name="Confusion matrix"), ">50K", "<=50K")
    kernel_eval(page, "ev.select('age > 60', source='a long code selection')")
    expect(panel.get_by_role("region", name="Selection").locator(".es-chip")).to_have_count(2)
    problems = {}
    for width in (420, 800, 1400):
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(300)  # Lab lays the notebook out again after a resize
        found = layout_problems(page)
        if found:
            problems[width] = found
        page.set_viewport_size({"width": width, "height": 3200})
        panel.get_by_role("region", name="Model overview").scroll_into_view_if_needed()
        screenshot_themes(page, artifacts, f"layout-{width}")
    (artifacts / "layout-problems.json").write_text(json.dumps(problems, indent=1))
    assert not problems, problems
