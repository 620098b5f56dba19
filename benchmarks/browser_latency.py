"""Click-to-update latency in a real JupyterLab (headless Chromium), and bytes of the first render.

Run: python benchmarks/browser_latency.py [n_rows]   (default 100000; needs Debian's chromium)
Clicks a cell in the first of two linked ConfusionMatrix views and times, in the page, until the
second view's data-rows changes (median of 20 clicks, 250 ms apart).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "ui"))
from lab import CHROMIUM, CHROMIUM_ARGS, open_and_run, start_lab, stop_lab, write_notebook

CLICK_AND_WAIT = """async ([i]) => {
  const [first, second] = document.querySelectorAll('[role=region][aria-label="Confusion matrix"]');
  const cells = first.querySelectorAll('td.es-cell');
  const before = second.getAttribute('data-rows');
  return await new Promise((resolve) => {
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
      if (second.getAttribute('data-rows') !== before) { obs.disconnect(); resolve(performance.now() - t0); }
    });
    obs.observe(second, { attributes: true, attributeFilter: ['data-rows'] });
    cells[i].click();
  });
}"""

FIRST_RENDER_BYTES = """
import json
state = cm1.get_state()
from ipywidgets.widgets.widget import _remove_buffers
plain, _, buffers = _remove_buffers(state)
esm = len(state["_esm"].encode()) + len(state.get("_css", "").encode())
data = len(json.dumps({k: v for k, v in plain.items() if k not in ("_esm", "_css")}).encode()) + sum(len(b) for b in buffers)
print(data, esm)
"""


def main(n_rows: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="es-bench-"))
    bench = Path(__file__).parent
    shutil.copy(bench / "_synthetic.py", root / "_synthetic.py")
    write_notebook(
        root / "latency.ipynb",
        f"import errorscope as es\nfrom _synthetic import binary_evaluation\nev = binary_evaluation({n_rows})\n"
        "cm1 = es.ConfusionMatrix(ev)\ncm1",
        "cm2 = es.ConfusionMatrix(ev)\ncm2",
    )
    server = start_lab(root)
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                str(root / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            open_and_run(page, server, "latency.ipynb")
            page.wait_for_selector('[role=region][aria-label="Confusion matrix"] >> nth=1')
            times = []
            for i in range(20):
                times.append(page.evaluate(CLICK_AND_WAIT, [[1, 2][i % 2]]))
                page.wait_for_timeout(250)
            from lab import kernel_eval

            data_bytes, esm_bytes = kernel_eval(page, FIRST_RENDER_BYTES).split()
            ctx.close()
    finally:
        stop_lab(server)
        shutil.rmtree(root, ignore_errors=True)
    print(f"rows: {n_rows:,}")
    print(
        f"click -> other view updated: median {np.median(times):.1f} ms, p90 {np.percentile(times, 90):.1f} ms"
    )
    print(
        f"first render of one ConfusionMatrix: {int(data_bytes):,} B of state and buffers (+ {int(esm_bytes):,} B JS/CSS module)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
