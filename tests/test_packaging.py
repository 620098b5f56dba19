"""The wheel, built from the repository, carries the built front-end and the datasets, not the sources."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_wheel_contains_static_bundle(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("errorscope-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        bundle = zf.read("errorscope/static/confusion_matrix.js")
    assert len(bundle) > 1000 and b"Confusion matrix" in bundle
    assert "errorscope/static/confusion_matrix.css" in names
    assert "errorscope/datasets/data/adult.test.gz" in names
    assert not [n for n in names if n.startswith(("js/", "node_modules")) or n.endswith(".ts")]
