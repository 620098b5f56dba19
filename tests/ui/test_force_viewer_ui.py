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


FOREST = """
import errorscope as es
from sklearn.ensemble import RandomForestClassifier
df = es.datasets.load_adult()
num = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
model = RandomForestClassifier(n_estimators=20, max_depth=8, random_state=0).fit(df[num], df["income"])
ev = es.Evaluation(df, "income", model=model, features=num)
fv = es.ForceViewer(ev, background=20)
fv
"""


def _overlap(a: dict, b: dict) -> bool:  # type: ignore[type-arg]
    """Whether two bounding boxes (x, y, width, height) share any area."""
    return not (
        a["x"] + a["width"] <= b["x"] + 0.5
        or b["x"] + b["width"] <= a["x"] + 0.5
        or a["y"] + a["height"] <= b["y"] + 0.5
        or b["y"] + b["height"] <= a["y"] + 0.5
    )


def test_forest_in_probability_labels_apart_and_layout_at_three_widths(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    """A forest is explained (and labelled) in probability; with nothing selected the cohort panel says it
    shows global importance, sorted; segment labels never overlap; the stacked plot has labelled axes;
    at 420, 800 and 1400 px the row table and the force plot never overlap."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    write_notebook(notebook_dir / "forest.ipynb", FOREST)
    open_and_run(page, lab, "forest.ipynb")
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # the notebook gets the window's width
    fv = page.locator(".jp-NotebookPanel:visible").get_by_role("region", name="Force viewer")
    expect(fv.get_by_role("status")).to_contain_text("done", timeout=90_000)
    cohort = fv.get_by_role("list", name=re.compile(r"^What drives the selection: global importance"))
    expect(cohort).to_be_visible()
    expect(fv.locator(".es-cohort-heading")).to_contain_text("global importance")
    shown = [b.get_attribute("aria-label") or "" for b in cohort.get_by_role("button").all()]
    values = [float(re.search(r"mean \|SHAP\| ([\d.]+) over every row", s).group(1)) for s in shown]  # type: ignore[union-attr]
    assert values == sorted(values, reverse=True) and len(values) == 5
    expected = kernel_eval(
        page,
        "print(fv.cohort['features'] == fv.explainer.cohort_comparison(fv._explained.rows, [], 1)['feature'].tolist())",
    )
    assert expected.strip() == "True"
    axes = fv.locator("svg.es-stacked .es-axis-label")
    expect(axes.first).to_have_text("probability (predicted class)")
    expect(axes.nth(1)).to_have_text(re.compile(r"sampled rows, ordered by output$"))
    assert fv.locator("svg.es-stacked .es-tick").count() >= 3
    rows = fv.get_by_role("grid", name="Rows to explain").locator("tbody tr")
    rows.first.click()
    plot = fv.get_by_role("img", name=re.compile(r"^Force plot of row .*\(probability of "))
    expect(plot).to_be_visible()
    assert kernel_eval(page, "print(fv.output, fv.algorithm, fv.force['space'])").split() == [
        "probability",
        "tree",
        "probability",
    ]
    table = fv.get_by_role("grid", name="Rows to explain")
    for width in (1400, 800, 420):
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(400)
        fv.scroll_into_view_if_needed()
        labels = [
            fv.locator("svg.es-force-plot text").nth(i).bounding_box()
            for i in range(fv.locator("svg.es-force-plot text").count())
        ]
        for i, a in enumerate(labels):
            for b in labels[i + 1 :]:
                assert a and b and not _overlap(a, b), (width, a, b)
        box_table, box_plot = table.bounding_box(), plot.bounding_box()
        assert box_table and box_plot and box_plot["width"] > 150, (width, box_plot)
        assert not _overlap(box_table, box_plot), (width, box_table, box_plot)
        screenshot_themes(page, artifacts, f"force-viewer-forest-{width}")
