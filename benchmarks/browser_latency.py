"""Click to every view re-rendered, in a real JupyterLab (headless Chromium), for ``es.dashboard(ev)``.

Run: python benchmarks/browser_latency.py [n_rows ...]   (default 100000 1000000; needs Debian's chromium)

The notebook shows a dashboard of n_rows x 20 synthetic rows with a sensitive column (no model, so no
force viewer: its explanations are computed on demand, not on a click). In the page, a script clicks a
confusion-matrix cell (alternately false negatives and false positives) and times until every other
view's ``data-rows`` has changed and the browser has painted the next frame: overview, selection bar,
slice browser, group comparer and error tagger. Median of 20 clicks, 250 ms apart, after 3 warm-ups.
Discovery (which reruns in the background on every change) is switched off, as in the kernel benchmark.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "ui"))
from lab import CHROMIUM, CHROMIUM_ARGS, kernel_eval, open_and_run, start_lab, stop_lab, write_notebook

OTHER_VIEWS = ["Model overview", "Selection", "Slice browser", "Group comparer", "Error tagger"]

CLICK_AND_WAIT = """async ([cell, labels]) => {
  const region = (label) => document.querySelector(`[role=region][aria-label="${label}"]`);
  const matrix = region("Confusion matrix");
  const views = labels.map(region);
  if (views.some((v) => v === null)) throw new Error("a view is missing: " + labels.join(", "));
  const before = views.map((v) => v.getAttribute("data-rows"));
  const done = {};
  return await new Promise((resolve) => {
    const t0 = performance.now();
    const check = () => {
      views.forEach((v, i) => {
        if (!(labels[i] in done) && v.getAttribute("data-rows") !== before[i]) done[labels[i]] = performance.now() - t0;
      });
      if (Object.keys(done).length === views.length) {
        observer.disconnect();
        requestAnimationFrame(() => resolve({ all: performance.now() - t0, views: done }));
      }
    };
    const observer = new MutationObserver(check);
    views.forEach((v) => observer.observe(v, { attributes: true, attributeFilter: ["data-rows"] }));
    matrix.querySelectorAll("td.es-cell")[cell].click();
  });
}"""

SETUP = """import numpy as np, errorscope as es
from _synthetic import binary_evaluation
source = binary_evaluation({n})
data = source.data.assign(sex=np.random.default_rng(3).choice(["F", "M"], {n}))
ev = es.Evaluation(data, source.y_true, y_score=source.scores[:, 1], sensitive="sex")
board = es.dashboard(ev, store="bench-tags.sqlite")
board.slice_browser._auto_discover = False
board"""


def measure(n_rows: int) -> str:
    root = Path(tempfile.mkdtemp(prefix="es-bench-"))
    shutil.copy(Path(__file__).parent / "_synthetic.py", root / "_synthetic.py")
    write_notebook(root / "latency.ipynb", SETUP.format(n=n_rows))
    server = start_lab(root)
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                str(root / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 3000},  # every view in the viewport, so each renders
            )
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            open_and_run(page, server, "latency.ipynb")
            page.wait_for_selector('[role=region][aria-label="Error tagger"]', timeout=120_000)
            results = []
            for i in range(23):
                result = page.evaluate(CLICK_AND_WAIT, [[2, 1][i % 2], OTHER_VIEWS])  # FN cell, FP cell
                if i >= 3:
                    results.append(result)
                page.wait_for_timeout(250)
            kernel = kernel_eval(page, "print(len(ev.selected()))")
            ctx.close()
    finally:
        stop_lab(server)
        shutil.rmtree(root, ignore_errors=True)
    every = np.array([r["all"] for r in results])
    per_view = "  ".join(f"{v} {np.median([r['views'][v] for r in results]):.0f}" for v in OTHER_VIEWS)
    return (
        f"{n_rows:>10,} {np.median(every):>10.1f} {np.percentile(every, 90):>8.1f}   per view (ms): {per_view}"
        f"   [kernel's selection at the end: {int(kernel):,} rows]"
    )


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]
    print("Click on a confusion-matrix cell to every other dashboard view re-rendered (median of 20):")
    print(f"{'rows':>10} {'median ms':>10} {'p90 ms':>8}")
    for size in sizes:
        print(measure(size), flush=True)
