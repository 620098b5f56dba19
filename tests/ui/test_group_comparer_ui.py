"""GroupComparer linked with a ConfusionMatrix in a real JupyterLab (COMPAS, decile score as the model)."""

from __future__ import annotations

import re
from pathlib import Path

from lab import (
    kernel_eval,
    open_and_run,
    overflow_problems,
    screenshot_themes,
    set_notebook_width,
    write_notebook,
)
from playwright.sync_api import Locator, Page, expect
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


def click_group(page: Page, gc: Locator, name: str, count: str) -> int:
    """Click the group whose button's name matches ``name`` (a regex from its start), after checking the
    row count it names against ``count`` (an expression the kernel evaluates); its row count."""
    group = gc.get_by_role("button", name=re.compile(f"^{name}"))
    n = int(re.search(r": ([\d,]+) rows", group.get_attribute("aria-label") or "").group(1).replace(",", ""))  # type: ignore[union-attr]
    assert n == int(kernel_eval(page, f"print({count})"))
    group.scroll_into_view_if_needed()
    group.click()
    expect(group).to_have_attribute("aria-pressed", "true")
    return n


def test_group_click_filters_matrix_and_matrix_click_recomputes_groups(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "groups.ipynb", COMPAS, GROUPS)
    open_and_run(page, lab, "groups.ipynb")
    panel = page.locator(".jp-NotebookPanel:visible")
    gc, cm = panel.get_by_role("region", name="Group comparer"), matrix(page)
    expect(gc).to_have_attribute("data-rows", "7214")
    n = click_group(page, gc, r"Caucasian: [\d,]+ rows, selection rate ", "(df['race'] == 'Caucasian').sum()")
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


DASHBOARD = """
import errorscope as es
df = es.datasets.load_compas()[["sex", "race", "age", "decile_score", "two_year_recid"]]
ev = es.Evaluation(df, "two_year_recid", y_score=(df["decile_score"] - 0.5) / 10, sensitive=["sex"],
                   labels={0: "no recid", 1: "recid"})
board = es.dashboard(ev, store=TMP + "/tags.sqlite")
board
"""


def test_reference_lift_and_layout_at_three_widths(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    """In a dashboard: the reference is shown and stays put after a click; an error cell gives the lift
    table; at 420, 800 and 1400 px no table is clipped without a scrollbar."""
    write_notebook(notebook_dir / "groups-dash.ipynb", f"TMP = {str(notebook_dir)!r}\n" + DASHBOARD)
    page.set_viewport_size({"width": 1400, "height": 1600})
    open_and_run(page, lab, "groups-dash.ipynb")
    panel = page.locator(".jp-NotebookPanel:visible")
    gc, cm = panel.get_by_role("region", name="Group comparer"), matrix(page)
    reference = gc.get_by_test_id("reference")
    expect(reference).to_have_text("disparities against Male (largest group overall)")
    female = gc.get_by_role("button", name=re.compile(r"^Female: "))
    female.click()  # the group comparer's own clause: the other views follow, the reference does not move
    expect(reference).to_have_text("disparities against Male (largest group overall)")
    expect(cm).to_have_attribute(
        "data-rows", kernel_eval(page, "print((df['sex'] == 'Female').sum())").strip()
    )
    gc.get_by_role("button", name="Clear group comparer selection").click()
    expect(cm).to_have_attribute("data-rows", "7214")
    m = click_cell(cm, "no recid", "recid")
    expect(gc).to_have_attribute("data-rows", str(m))
    expect(gc.get_by_role("note")).to_contain_text("defined by the outcome")
    lift = gc.get_by_role("table", name="Lift by group")
    expect(lift).to_be_visible()
    expected = kernel_eval(
        page, "s = ev.selected()['sex'].value_counts(normalize=True) / df['sex'].value_counts(normalize=True); "
        "print(s.idxmax(), f'{s.max():.2f}')",
    ).split()  # fmt: skip
    first = lift.locator("tbody tr").first
    expect(first.locator("th")).to_have_text(expected[0])
    expect(first.locator("td").last).to_contain_text(f"{expected[1]}×")
    for width in (1400, 800, 420):
        set_notebook_width(page, width)
        gc.scroll_into_view_if_needed()
        assert overflow_problems(gc) == [], f"at {width} px"
        gc.screenshot(path=str(artifacts / f"group-comparer-{width}.png"))
    screenshot_themes(page, artifacts, "group-comparer-narrow")
