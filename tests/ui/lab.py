"""A JupyterLab server on 127.0.0.1 and helpers to drive a notebook in it from Playwright."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
from playwright.sync_api import Locator, Page

CHROMIUM = os.environ.get("ERRORSCOPE_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling hosts the closed network refuses.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@dataclass
class LabServer:
    root: Path
    port: int
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, notebook: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?reset&token={self.token}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _isolated_env() -> tuple[Path, dict[str, str]]:
    """Jupyter config, runtime and settings folders of our own, so the user's config never leaks in."""
    state = Path(tempfile.mkdtemp(prefix="es-jstate-"))
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1", JUPYTER_PLATFORM_DIRS="1")
    for var in (
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_RUNTIME_DIR",
        "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR",
    ):
        (state / var).mkdir()
        env[var] = str(state / var)
    notification = (
        state / "JUPYTERLAB_SETTINGS_DIR/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    )
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return state, env


def _spawn(
    name: str,
    cmd: list[str],
    root: Path,
    port: int,
    token: str,
    timeout: float,
    env: dict[str, str],
    state: Path,
) -> LabServer:
    """Start a server in its own process group and wait until its port answers."""
    log = state / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    server = LabServer(root, port, token, proc, log)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return server
        except OSError:
            if time.monotonic() > deadline:
                stop_lab(server)
                raise TimeoutError(f"{name} did not answer in time") from None
            time.sleep(0.1)


def start_lab(root: Path, timeout: float = 90.0, python: str = sys.executable) -> LabServer:
    """Start JupyterLab (which also serves Notebook 7 when installed), isolated from the user's config."""
    state, env = _isolated_env()
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [
        str(Path(python).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", f"--IdentityProvider.token={token}", "--allow-root",
        f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
        "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    server = _spawn("jupyter lab", cmd, root, port, token, timeout, env, state)
    deadline = time.monotonic() + timeout
    while True:  # the port opens before the API is ready
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2):
                return server
        except (OSError, urllib.error.URLError):
            if time.monotonic() > deadline:
                stop_lab(server)
                raise TimeoutError("jupyter lab did not answer in time") from None
            time.sleep(0.1)


def start_voila(root: Path, notebook: str, timeout: float = 90.0, python: str = sys.executable) -> LabServer:
    """Start Voila on one notebook of ``root``; its page is ``http://127.0.0.1:<port>/``."""
    state, env = _isolated_env()
    port = _free_port()
    cmd = [
        python, "-m", "voila", notebook, "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
        "--show_tracebacks=True", "--ServerApp.port_retries=0",
    ]  # fmt: skip
    return _spawn("voila", cmd, root, port, "", timeout, env, state)


def stop_lab(server: LabServer) -> None:
    """Stop exactly this server's process group (TERM, then KILL after 10 s)."""
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def open_and_run(page: Page, server: LabServer, notebook: str) -> None:
    """Open a notebook, wait for its kernel, run every cell and wait until execution is done."""
    page.goto(server.url(notebook))
    page.wait_for_function(
        """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
        const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
        return !!k && k.status === 'idle'; }""",
        timeout=120_000,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    kernel_eval(page, "print('ready')")  # queued after the cells: returns once they have run


def kernel_eval(page: Page, code: str) -> str:
    """Run ``code`` in the notebook's kernel and return what it printed (raises on an error)."""
    result = page.evaluate(
        """async (code) => {
        const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        const future = kernel.requestExecute({ code, store_history: false });
        let out = "", err = null;
        future.onIOPub = (msg) => {
          if (msg.header.msg_type === "stream" && msg.content.name === "stdout") out += msg.content.text;  // warnings go to stderr
          if (msg.header.msg_type === "error") err = msg.content.ename + ": " + msg.content.evalue;
        };
        await future.done;
        return { out, err };
        }""",
        code,
    )
    if result["err"]:
        raise AssertionError(f"kernel error running {code!r}: {result['err']}")
    return str(result["out"])


def set_theme(page: Page, dark: bool) -> None:
    theme = "JupyterLab Dark" if dark else "JupyterLab Light"
    page.evaluate(f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
    page.wait_for_function(f"() => document.body.dataset.jpThemeName === '{theme}'", timeout=30_000)
    page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=30_000)


def screenshot_themes(page: Page, directory: Path, name: str) -> None:
    """Save ``name``-light.png and ``name``-dark.png of the page, leaving it in the light theme."""
    page.screenshot(path=str(directory / f"{name}-light.png"), full_page=True)
    set_theme(page, dark=True)
    page.screenshot(path=str(directory / f"{name}-dark.png"), full_page=True)
    set_theme(page, dark=False)


def set_notebook_width(page: Page, width: int, height: int = 1600) -> None:
    """Make the visible notebook panel about ``width`` px wide: side panels collapsed, viewport resized."""
    page.evaluate("() => { const s = window.jupyterapp.shell; s.collapseLeft(); s.collapseRight(); }")
    page.set_viewport_size({"width": width, "height": height})
    panel = page.locator(".jp-NotebookPanel:visible")
    for _ in range(3):  # the side bars and the panel's margins take the rest: correct for them
        page.wait_for_timeout(150)
        got = panel.evaluate("(el) => el.getBoundingClientRect().width")
        if abs(got - width) < 2:
            break
        page.set_viewport_size({"width": page.viewport_size["width"] + round(width - got), "height": height})  # type: ignore[index]


_OVERFLOW = """(region) => {
  const box = region.getBoundingClientRect();
  const area = region.closest('.jp-OutputArea-output') || document.body;
  const problems = [];
  if (box.right > area.getBoundingClientRect().right + 1) problems.push('the view is wider than its output area');
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  for (const el of region.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= box.right + 1) continue;
    let up = el.parentElement, inside = false;
    while (up && up !== region) { if (scrolls(up)) { inside = true; break; } up = up.parentElement; }
    if (!inside) problems.push(`${el.tagName.toLowerCase()}.${el.className} "${(el.textContent || '').slice(0, 40)}" sticks out`);
  }
  return problems.slice(0, 5);
}"""


def overflow_problems(region: Locator) -> list[str]:
    """What sticks out of ``region`` (a view's root) without a scroll container to reach it, and whether the
    view is wider than its output area: empty when the layout fits."""
    return list(region.evaluate(_OVERFLOW))
