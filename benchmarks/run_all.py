"""Run every benchmark and write the figures to docs/benchmarks.md, with the machine, versions and date.

Run: python benchmarks/run_all.py [--quick]   (--quick: skip 1M rows and the browser)
Not part of the pass/fail tests. Needs the bench extra (`pip install -e ".[bench]"`) and, for the
browser figures, Debian's chromium.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = [
    (
        "Selection recompute, confusion counts vs scikit-learn",
        "selection_recompute.py",
        ["100000", "1000000"],
    ),
    ("Dashboard: every view recomputed, bytes, memory", "dashboard.py", ["10000", "100000", "1000000"]),
    ("Single-column slices on a crossfilter mask", "slice_table.py", ["100000", "1000000"]),
    ("Slice discovery vs sliceline (100k x 10, depth 3)", "discovery_vs_sliceline.py", ["100000"]),
    ("Group metrics vs Fairlearn MetricFrame", "group_metrics.py", ["100000", "1000000"]),
    ("Explanations: one clicked row", "explain_latency.py", []),
    (
        "Browser: click to the other view re-rendered (JupyterLab, headless Chromium)",
        "browser_latency.py",
        ["100000", "1000000"],
    ),
]
PACKAGES = [
    "errorscope",
    "numpy",
    "pandas",
    "scikit-learn",
    "shap",
    "fairlearn",
    "sliceline",
    "jupyterlab",
    "anywidget",
]


def main(quick: bool) -> None:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M UTC} on {platform.machine()} with {os.cpu_count()} cores and "
        f"{memory:.0f} GiB, Python {platform.python_version()}; "
        + ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
        + ".",
        "",
        "Regenerate with `python benchmarks/run_all.py`. Targets (2-core machine): every view recomputed at 1M rows",
        "<= 50 ms; click to all views updated <= 150 ms median at 1M rows; first render <= 1 MB; memory <= 2x the input.",
        "",
    ]
    for title, script, args in SCRIPTS:
        if quick:
            args = [a for a in args if a != "1000000"]
            if script == "browser_latency.py":
                continue
        started = time.perf_counter()
        result = subprocess.run([sys.executable, script, *args], cwd=HERE, capture_output=True, text=True)
        output = (
            result.stdout.strip() if result.returncode == 0 else f"failed:\n{result.stderr.strip()[-2000:]}"
        )
        print(f"## {title}\n{output}\n", flush=True)
        lines += [
            f"## {title}",
            f"`python benchmarks/{script} {' '.join(args)}` ({time.perf_counter() - started:.0f} s)",
            "",
            "```",
            output,
            "```",
            "",
        ]
    (HERE.parent / "docs" / "benchmarks.md").write_text("\n".join(lines), encoding="utf-8")


def _version(package: str) -> str:
    try:
        return version(package)
    except Exception:
        return "not installed"


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
