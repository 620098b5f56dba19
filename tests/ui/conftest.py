"""Fixtures for the real-browser tests: JupyterLab on 127.0.0.1 and a fresh headless Chromium per test."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from lab import CHROMIUM, CHROMIUM_ARGS, LabServer, start_lab, stop_lab
from playwright.sync_api import Page, Playwright, sync_playwright

ARTIFACTS = Path(os.environ.get("ERRORSCOPE_ARTIFACTS", Path(__file__).parents[2] / "artifacts" / "ui"))
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui" in str(item.fspath):
            item.add_marker(pytest.mark.ui)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def notebook_dir() -> Iterator[Path]:
    """The server's root: a temporary folder, so Lab's autosave never touches the repository."""
    root = Path(tempfile.mkdtemp(prefix="es-ui-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def lab(notebook_dir: Path) -> Iterator[LabServer]:
    server = start_lab(notebook_dir)
    yield server
    stop_lab(server)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture()
def page(playwright: Playwright, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh Chromium profile; any request off this machine is blocked and fails the test, except the
    URL prefixes a test names with ``@pytest.mark.upstream_requests(...)`` (blocked too, but tolerated:
    requests a host application makes on its own, documented in the README)."""
    marker = request.node.get_closest_marker("upstream_requests")
    tolerated = tuple(marker.args) if marker else ()
    marker = request.node.get_closest_marker("upstream_page_errors")
    tolerated_errors = tuple(marker.args) if marker else ()
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )  # fmt: skip
    outside: list[str] = []

    def guard(route, request) -> None:  # type: ignore[no-untyped-def]
        host = urlparse(request.url).hostname
        if request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    context.route("**/*", guard)
    pg = context.pages[0] if context.pages else context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(f"{e}\n{(e.stack or '')[:600]}"))
    yield pg
    context.close()
    outside = [url for url in outside if not url.startswith(tolerated)]
    assert not outside, f"requests left the machine (offline/private violated): {outside}"
    errors = [e for e in errors if not any(t in e for t in tolerated_errors)]
    assert not errors, f"errors in the page: {errors}"
