"""Binder's files, proven: a fresh environment from exactly binder/, every notebook run in it, and one
opened in Voila in real Chromium with a matrix cell clicked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page
from test_hosts_ui import VOILA_FONT_AWESOME, run_voila

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def binder_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new virtual environment built the way repo2docker does: requirements.txt, then postBuild."""
    env_dir = tmp_path_factory.mktemp("binder") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    env = dict(
        os.environ,
        PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    env.pop("PYTHONPATH", None)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-r", str(REPO / "binder" / "requirements.txt")], check=True, env=env, cwd=REPO)
    subprocess.run(["bash", str(REPO / "binder" / "postBuild")], check=True, env=env, cwd=REPO)
    return str(env_dir / "bin" / "python")


@pytest.mark.binder
@pytest.mark.slow
def test_every_notebook_runs_in_the_binder_environment(binder_python: str, tmp_path: Path) -> None:
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    for path in notebooks:
        shutil.copy(path, tmp_path / path.name)
    result = subprocess.run(
        [binder_python, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
         "--ExecutePreprocessor.timeout=600", *[str(tmp_path / p.name) for p in notebooks]],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    located = subprocess.run(
        [binder_python, "-c", "import errorscope, sys; print(errorscope.__file__)"],
        capture_output=True,
        text=True,
    )
    assert "site-packages" in located.stdout  # the installed package, not the working tree


@pytest.mark.binder
@pytest.mark.slow
@pytest.mark.upstream_requests(VOILA_FONT_AWESOME)
def test_voila_from_the_binder_environment(binder_python: str, page: Page, notebook_dir: Path) -> None:
    run_voila(page, notebook_dir, python=binder_python)
