"""The same linked views outside JupyterLab: in Voila, Notebook 7 and marimo, in real Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lab import LabServer, _free_port, _isolated_env, _spawn, start_voila, stop_lab, write_notebook
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_confusion_matrix_ui import ADULT, SECOND, click_cell

MARIMO_APP = Path(__file__).with_name("marimo_app.py")


def click_links_two_matrices(page: Page) -> None:
    """Click a cell in the first matrix on the page: the second shows only that cell's rows."""
    views = page.get_by_role("region", name="Confusion matrix")
    expect(views).to_have_count(2, timeout=120_000)
    first, second = views.all()
    expect(second).to_have_attribute("data-rows", "16281")
    n = click_cell(first, ">50K", "<=50K")
    expect(second).to_have_attribute("data-rows", str(n))


def run_voila(page: Page, notebook_dir: Path, python: str = sys.executable) -> None:
    write_notebook(notebook_dir / "voila.ipynb", ADULT, SECOND)
    server = start_voila(notebook_dir, "voila.ipynb", python=python)
    try:
        page.goto(f"http://127.0.0.1:{server.port}/", timeout=180_000)
        click_links_two_matrices(page)
    finally:
        stop_lab(server)


# Voila's page asks a CDN for Font Awesome by itself (not errorscope); blocked, and the views work without it.
VOILA_FONT_AWESOME = "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free"


@pytest.mark.upstream_requests(VOILA_FONT_AWESOME)
def test_voila_renders_and_links_the_views(page: Page, notebook_dir: Path) -> None:
    run_voila(page, notebook_dir)


# Notebook 7 served by a JupyterLab server whose settings folder holds a Lab-only plugin's settings
# (the test setup's notification opt-out) fails to find that plugin's schema in notebook_core.js.
@pytest.mark.upstream_page_errors("notebook_core")
def test_notebook7_renders_and_links_the_views(page: Page, lab: LabServer, notebook_dir: Path) -> None:
    write_notebook(notebook_dir / "nb7.ipynb", ADULT, SECOND)
    page.set_viewport_size({"width": 1280, "height": 2400})  # Notebook 7 only renders cells in view
    page.goto(f"http://127.0.0.1:{lab.port}/notebooks/nb7.ipynb?token={lab.token}")
    page.wait_for_selector("text=Kernel status: Idle", state="attached", timeout=120_000)
    page.locator(".jp-Cell").first.wait_for()
    views = page.get_by_role("region", name="Confusion matrix")
    for _attempt in range(3):  # a click on the menu before the notebook is wired up can do nothing
        page.get_by_role("menuitem", name="Run").click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            views.first.wait_for(timeout=40_000)
            break
        except PlaywrightTimeoutError:
            continue
    click_links_two_matrices(page)


def start_marimo(app: Path, root: Path, python: str = sys.executable) -> LabServer:
    """``marimo run`` of one app file, headless on 127.0.0.1, with a config folder of its own."""
    state, env = _isolated_env()
    env["XDG_CONFIG_HOME"] = str(state)
    port = _free_port()
    cmd = [
        str(Path(python).parent / "marimo"), "run", str(app), "--headless", "--host=127.0.0.1",
        f"--port={port}", "--no-token", "--no-sandbox",
    ]  # fmt: skip
    return _spawn("marimo", cmd, root, port, "", 90.0, env, state)


READABLE_CELLS = """els => els.filter(e => {
  const s = getComputedStyle(e);
  return s.color === "rgb(255, 255, 255)" && s.backgroundColor === "rgba(0, 0, 0, 0)";
}).map(e => e.getAttribute("aria-label"))"""
"""The matrix cells whose numbers cannot be seen: white text on no background."""


def test_marimo_renders_and_links_the_views(page: Page, notebook_dir: Path, artifacts: Path) -> None:
    server = start_marimo(MARIMO_APP, notebook_dir)
    try:
        page.goto(f"http://127.0.0.1:{server.port}/", timeout=180_000)
        matrix = page.get_by_role("region", name="Confusion matrix")
        slices = page.get_by_role("region", name="Slice browser")
        expect(slices).to_have_attribute("data-rows", "16281", timeout=120_000)
        cells = matrix.locator("td[role=gridcell].es-cell")
        expect(cells).to_have_count(4)
        assert cells.evaluate_all(READABLE_CELLS) == []  # no JupyterLab theme: the fallbacks colour them
        n = click_cell(matrix, ">50K", "<=50K")
        expect(slices).to_have_attribute("data-rows", str(n))
        expect(matrix).to_have_attribute("data-rows", "16281")  # crossfilter: not filtered by its own click
        page.screenshot(path=str(artifacts / "marimo.png"), full_page=True)
    finally:
        stop_lab(server)
