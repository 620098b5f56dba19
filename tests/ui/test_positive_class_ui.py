"""The positive class is shown beside precision, recall, FPR and FNR in a real JupyterLab."""

from __future__ import annotations

import re
from pathlib import Path

from lab import kernel_eval, open_and_run, screenshot_themes, write_notebook
from playwright.sync_api import Page, expect
from test_confusion_matrix_ui import click_cell
from test_slice_browser_ui import matrix

CREDIT = """
import numpy as np, pandas as pd
import errorscope as es
rng = np.random.default_rng(0)
x = rng.normal(size=2000)
p_bad = 1 / (1 + np.exp(-(2.5 * x - 1.2)))
df = pd.DataFrame({"x": x, "region": rng.choice(["north", "south", "east"], 2000),
                   "risk": np.where(rng.random(2000) < p_bad, "bad", "good")})
ev = es.Evaluation(df, "risk", y_score=p_bad, positive_class="bad", sensitive="region")
es.ModelOverview(ev)
"""
MATRIX = "es.ConfusionMatrix(ev)"
SLICES = "sb = es.SliceBrowser(ev, discover=False)\nsb"
GROUPS = 'es.GroupComparer(ev, groups="region")'


def test_positive_class_is_shown_beside_the_rates(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "positive.ipynb", CREDIT, MATRIX, SLICES, GROUPS)
    open_and_run(page, lab, "positive.ipynb")
    panel = page.locator(".jp-NotebookPanel:visible")
    overview = panel.get_by_role("region", name="Model overview")
    sb = panel.get_by_role("region", name="Slice browser")
    gc = panel.get_by_role("region", name="Group comparer")
    cm = matrix(page)
    for view in (overview, cm, gc):
        expect(view.get_by_text("positive class: bad", exact=True)).to_be_visible()
    expect(overview.get_by_text("recall", exact=True)).to_be_visible()
    assert kernel_eval(page, "print(ev.positive_class, ev.classes)").strip() == "bad ['good', 'bad']"

    note = sb.get_by_text("positive class: bad", exact=True)
    expect(note).to_have_count(0)  # the error rate is about no class
    sb.get_by_role("combobox", name="Metric").select_option("fnr")
    expect(note).to_be_visible()
    assert kernel_eval(page, "print(sb.metric)").strip() == "fnr"

    n = click_cell(cm, "bad", "good")  # the positive class's false negatives
    expected = kernel_eval(page, "print(int(((ev.y_true == 'bad') & (ev.y_pred == 'good')).sum()))")
    assert n == int(expected)
    expect(sb).to_have_attribute("data-rows", str(n))
    expect(
        sb.get_by_role("row", name=re.compile(r"^region = north: [\d,]+ rows, false negative rate 100\.0%"))
    ).to_be_visible()
    cm.scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "positive-class")
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    for width in (540, 1600):  # a ~420 px output area, and a wide one: the notes wrap, never overlap
        page.set_viewport_size({"width": width, "height": 900})
        for name, view in (("matrix", cm), ("slices", sb), ("groups", gc)):
            view.scroll_into_view_if_needed()
            view.screenshot(path=str(artifacts / f"positive-class-{name}-{width}.png"))
