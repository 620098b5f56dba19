"""ForceViewer linked with a ConfusionMatrix in a real JupyterLab; feature names with markup stay text."""

from __future__ import annotations

import re
from pathlib import Path

from lab import kernel_eval, open_and_run, screenshot_themes, write_notebook
from playwright.sync_api import Page, expect
from test_confusion_matrix_ui import click_cell
from test_slice_browser_ui import matrix

SETUP = """
import errorscope as es
from sklearn.ensemble import HistGradientBoostingClassifier
df = es.datasets.load_adult()
evil = "<img src=x onerror=window.__pwned=1>age"
df = df.rename(columns={"age": evil})
num = [evil, "education-num", "capital-gain", "capital-loss", "hours-per-week"]
model = HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(df[num], df["income"])
ev = es.Evaluation(df, "income", model=model, features=num)
cm = es.ConfusionMatrix(ev)
cm
"""
VIEWER = "fv = es.ForceViewer(ev)\nfv"


def test_cell_click_lists_its_rows_and_row_click_draws_a_force_plot(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "force.ipynb", SETUP, VIEWER)
    open_and_run(page, lab, "force.ipynb")
    fv = page.locator(".jp-NotebookPanel:visible").get_by_role("region", name="Force viewer")
    expect(fv).to_have_attribute("data-rows", "16281")
    n = click_cell(matrix(page), ">50K", "<=50K")
    expect(fv).to_have_attribute("data-rows", str(n))
    rows = fv.get_by_role("grid", name="Rows to explain").locator("tbody tr")
    expect(rows.first).to_have_attribute("aria-label", re.compile(r"^row \d+: actual >50K, predicted <=50K$"))
    first_id = re.match(r"row (\d+):", rows.first.get_attribute("aria-label") or "").group(1)  # type: ignore[union-attr]
    fv.scroll_into_view_if_needed()
    rows.first.click()
    plot = fv.get_by_role("img", name=re.compile(rf"^Force plot of row {first_id}: base value "))
    expect(plot).to_be_visible()
    evil = "<img src=x onerror=window.__pwned=1>age"
    expect(
        fv.get_by_role("list", name=f"Contributions for row {first_id}").get_by_role(
            "listitem", name=re.compile(re.escape(evil))
        )
    ).to_have_count(1)
    assert fv.locator("img").count() == 0
    assert page.evaluate("() => window.__pwned === undefined")
    table = kernel_eval(
        page,
        "t = fv.table; print(round(t.attrs['base_value'] + t['contribution'].sum() - t.attrs['output'], 9))",
    )
    assert float(table) == 0.0  # additivity, as drawn
    # LIME arrives from a background thread (the click returned with the force plot already drawn)
    lime = fv.get_by_role("list", name="LIME weights")
    expect(lime).to_be_visible(timeout=60_000)
    n_weights = kernel_eval(page, "print(len(fv.lime['features']))")
    expect(lime.get_by_role("listitem")).to_have_count(int(n_weights))
    assert fv.locator("img").count() == 0
    expect(fv.get_by_role("status")).to_contain_text("done", timeout=60_000)
    expect(fv.get_by_role("list", name=re.compile(r"^What drives the selection"))).to_be_visible()
    screenshot_themes(page, artifacts, "force-viewer")
