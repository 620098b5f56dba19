"""GroupComparer linked with a ConfusionMatrix in a real JupyterLab (COMPAS, decile score as the model)."""

from __future__ import annotations

import re
from pathlib import Path

from lab import kernel_eval, open_and_run, screenshot_themes, write_notebook
from playwright.sync_api import Page, expect
from test_confusion_matrix_ui import cell_counts, click_cell
from test_slice_browser_ui import matrix

COMPAS = """
import errorscope as es
df = es.datasets.load_compas()[["sex", "race", "age", "decile_score", "two_year_recid"]]
ev = es.Evaluation(df, "two_year_recid", y_score=(df["decile_score"] - 0.5) / 10, sensitive=["race", "sex"],
                   labels={0: "no recid", 1: "recid"})
cm = es.ConfusionMatrix(ev)
cm
"""
GROUPS = 'gc = es.GroupComparer(ev, groups="race")\ngc'


def test_group_click_filters_matrix_and_matrix_click_recomputes_groups(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "groups.ipynb", COMPAS, GROUPS)
    open_and_run(page, lab, "groups.ipynb")
    panel = page.locator(".jp-NotebookPanel:visible")
    gc, cm = panel.get_by_role("region", name="Group comparer"), matrix(page)
    expect(gc).to_have_attribute("data-rows", "7214")
    group = gc.get_by_role("button", name=re.compile(r"^Caucasian: [\d,]+ rows, selection rate "))
    n = int(re.search(r": ([\d,]+) rows", group.get_attribute("aria-label") or "").group(1).replace(",", ""))  # type: ignore[union-attr]
    assert n == int(kernel_eval(page, "print((df['race'] == 'Caucasian').sum())"))
    group.scroll_into_view_if_needed()
    group.click()
    expect(group).to_have_attribute("aria-pressed", "true")
    expect(cm).to_have_attribute("data-rows", str(n))
    assert sum(cell_counts(cm).values()) == n
    gc.scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "group-comparer")
    gc.get_by_role("button", name="Clear group comparer selection").click()
    expect(cm).to_have_attribute("data-rows", "7214")

    m = click_cell(cm, "recid", "no recid")
    expect(gc).to_have_attribute("data-rows", str(m))
    expected = kernel_eval(page, "print(((df['race'] == 'Caucasian') & ev.selection.mask()).sum())").strip()
    expect(
        gc.get_by_role(
            "button", name=re.compile(rf"^Caucasian: {int(expected):,} rows, selection rate 0\.0%")
        )
    ).to_be_visible()
    expect(gc.get_by_role("table", name=re.compile(r"^Disparities against "))).to_be_visible()
