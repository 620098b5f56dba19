"""The same linked views outside JupyterLab: in Voila and in Notebook 7, in real Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lab import LabServer, start_voila, stop_lab, write_notebook
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_confusion_matrix_ui import ADULT, SECOND, click_cell


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
