"""GroupComparer and ForceViewer on a regression (Wage, sensitive race) in a real JupyterLab: a group click
narrows the force viewer and the kernel's selection; a row click draws that row's contributions, which add
up to the model's prediction; the regression sections show, and fit at 420 px, light and dark."""

from __future__ import annotations

import re
from pathlib import Path

from lab import (
    kernel_eval,
    open_and_run,
    overflow_problems,
    screenshot_themes,
    set_notebook_width,
    set_theme,
    write_notebook,
)
from playwright.sync_api import Page, expect
from test_group_comparer_ui import click_group

SETUP = """
import pandas as pd
import errorscope as es
from sklearn.ensemble import GradientBoostingRegressor
wage = es.datasets.load_wage().drop(columns=["logwage", "region"])
X = pd.get_dummies(wage.drop(columns=["wage"]), dtype=float)
model = GradientBoostingRegressor(n_estimators=60, max_depth=3, random_state=0).fit(X.iloc[::2], wage["wage"].iloc[::2])
frame = X.assign(wage=wage["wage"].to_numpy(), race=wage["race"].to_numpy())
ev = es.Evaluation(frame, y_true="wage", model=model, features=list(X.columns), sensitive="race", task="regression")
gc = es.GroupComparer(ev, groups="race")
gc
"""
VIEWER = "fv = es.ForceViewer(ev, sample=40)\nfv"


def test_group_click_drives_the_force_viewer_and_a_row_shows_its_contributions(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "groups-regression.ipynb", SETUP, VIEWER)
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_and_run(page, lab, "groups-regression.ipynb")
    panel = page.locator(".jp-NotebookPanel:visible")
    gc = panel.get_by_role("region", name="Group comparer")
    fv = panel.get_by_role("region", name="Force viewer")
    expect(gc).to_have_attribute("data-rows", "3000")
    expect(fv).to_have_attribute("data-rows", "3000")
    # the regression's parts, none of the classification's
    expect(gc.get_by_role("table", name="Mean residual against the other rows")).to_be_visible()
    expect(
        gc.get_by_role("img", name=re.compile(r"^Mean residual per group in \d+ bins of the actual value"))
    ).to_be_visible()
    expect(gc.get_by_role("list", name="Residuals by group")).to_be_visible()
    expect(gc.get_by_role("list", name="Predictions by group")).to_be_visible()
    expect(gc.get_by_role("table", name="Disparities against 1. White")).to_be_visible()
    assert gc.get_by_label("Positive class").count() == 0 and gc.locator("details.es-whatif").count() == 0
    assert gc.get_by_role("combobox", name="Metric").locator("option").all_text_contents() == [
        "MAE", "RMSE", "R²", "mean residual", "mean prediction", "mean actual",
    ]  # fmt: skip

    n = click_group(page, gc, r"2\. Black: [\d,]+ rows, MAE ", "(frame['race'] == '2. Black').sum()")
    expect(fv).to_have_attribute("data-rows", str(n))
    assert int(kernel_eval(page, "print(len(ev.selected()))")) == n
    assert (
        int(kernel_eval(page, "print(int(gc.table.loc[gc.table['group'] == '2. Black', 'count'].item()))"))
        == n
    )

    rows = fv.get_by_role("grid", name="Rows to explain, largest |residual| first").locator("tbody tr")
    first = rows.first
    expect(first).to_have_attribute(
        "aria-label", re.compile(r"^row \d+: actual [\d.]+, predicted [\d.]+, residual [+−][\d.]+$")
    )
    row_id = re.match(r"row (\d+):", first.get_attribute("aria-label") or "").group(1)  # type: ignore[union-attr]
    expected_id = kernel_eval(
        page, "s = ev.selected(); print(s.loc[s['residual'].abs().idxmax(), 'id'])"
    ).strip()
    assert row_id == expected_id  # the largest |residual| of the group first
    fv.scroll_into_view_if_needed()
    first.click()
    expect(
        fv.get_by_role("img", name=re.compile(rf"^Force plot of row {row_id}: base value .* \(prediction\)$"))
    ).to_be_visible()
    contributions = fv.get_by_role("list", name=f"Contributions for row {row_id}")
    expect(contributions.get_by_role("listitem")).to_have_count(
        int(kernel_eval(page, "print(len(ev.features))"))
    )
    gap = kernel_eval(
        page,
        f"t = fv.table; p = model.predict(X.loc[[{row_id}]])[0]; print(abs(t.attrs['base_value'] + t['contribution'].sum() - p) < 1e-6)",
    )
    assert gap.strip() == "True"
    expect(
        fv.get_by_text(re.compile(r"residual −[\d.]+\); base value \+ contributions = the prediction"))
    ).to_be_visible()
    expect(fv.get_by_role("list", name="LIME weights")).to_be_visible(timeout=60_000)

    for width in (1400, 420):
        if width != 1400:
            set_notebook_width(page, width)
        for region in (gc, fv):
            region.scroll_into_view_if_needed()
            assert overflow_problems(region) == [], f"at {width} px"
        for dark in (False, True):
            set_theme(page, dark=dark)
            for name, region in (("group-comparer", gc), ("force-viewer", fv)):
                region.scroll_into_view_if_needed()
                region.screenshot(
                    path=str(artifacts / f"{name}-regression-{width}-{'dark' if dark else 'light'}.png")
                )
        set_theme(page, dark=False)
    gc.scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "group-comparer-regression-narrow")
    gc.get_by_role("button", name="Clear group comparer selection").click()
    expect(fv).to_have_attribute("data-rows", "3000")
