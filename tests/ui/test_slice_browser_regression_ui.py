"""A regression (Wage, a fitted gradient boosting regressor) in a real JupyterLab: the slice browser's MAE
table, a click on a slice followed by the error tagger and the selection bar, the kernel's selection, a
relabel typed as a number from the keyboard, and screenshots narrow and wide, light and dark."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lab import (
    kernel_eval,
    open_and_run,
    overflow_problems,
    screenshot_themes,
    set_notebook_width,
    write_notebook,
)
from playwright.sync_api import Locator, Page, expect

WAGE = """
import errorscope as es
from sklearn.ensemble import HistGradientBoostingRegressor
data = es.datasets.load_wage().drop(columns=["logwage", "region"], errors="ignore")
X = data.drop(columns="wage")
for column in X.select_dtypes(exclude="number"):
    X[column] = X[column].astype("category")
model = HistGradientBoostingRegressor(max_iter=60, random_state=0, categorical_features="from_dtype")
model.fit(X.iloc[:1500], data["wage"].iloc[:1500])
data["pred"] = model.predict(X)
ev = es.Evaluation(data, y_true="wage", y_pred="pred", sensitive="race", task="regression")
bar = es.widgets.overview.SelectionBar(ev)
bar
"""
VIEWS = """
sb = es.SliceBrowser(ev, discover=False)
tagger = es.ErrorTagger(ev, store="wage-tags.sqlite", tags=["mislabeled", "outlier"])
import ipywidgets
ipywidgets.VBox([sb, tagger])
"""


def region(page: Page, name: str) -> Locator:
    return page.locator(".jp-NotebookPanel:visible").get_by_role("region", name=name, exact=True)


def rows_of(name: str) -> int:
    match = re.search(r": ([\d,]+) rows, ", name)
    assert match, name
    return int(match.group(1).replace(",", ""))


@pytest.fixture()
def wage(page: Page, lab, notebook_dir: Path) -> Page:  # type: ignore[no-untyped-def]
    (notebook_dir / "wage-tags.sqlite").unlink(missing_ok=True)
    write_notebook(notebook_dir / "wage.ipynb", WAGE, VIEWS)
    open_and_run(page, lab, "wage.ipynb")
    expect(region(page, "Slice browser")).to_have_attribute("data-rows", "3000")
    return page


def test_a_slice_click_moves_the_tagger_and_the_kernel_and_a_relabel_is_typed(
    wage: Page, artifacts: Path
) -> None:
    page = wage
    sb, tagger, bar = region(page, "Slice browser"), region(page, "Error tagger"), region(page, "Selection")
    grid = sb.get_by_role("grid", name="Slices")
    headers = [t.strip() for t in grid.locator("thead th").all_inner_texts()]
    assert headers[:9] == [
        "Feature",
        "Slice",
        "Rows",
        "Share",
        "MAE ▾",
        "Rest",
        "Difference",
        "Ratio",
        "p (BH)",
    ]
    assert "Lift" not in headers
    sb.get_by_role("searchbox", name="Filter slices by feature").fill("education")
    row = grid.get_by_role(
        "row", name=re.compile(r"^education = 5\. Advanced Degree: [\d,]+ rows, mean absolute error ")
    )
    expect(row).to_have_count(1)
    label = row.get_attribute("aria-label") or ""
    size = rows_of(label)
    mae = float(
        kernel_eval(
            page, "print(sb.table.set_index('description').loc['education = 5. Advanced Degree', 'mae'])"
        )
    )
    assert label.endswith(f"mean absolute error {mae:.2f}")  # four significant digits, in dollars (thousands)

    row.click()
    expect(row).to_have_attribute("aria-selected", "true")
    expect(tagger.get_by_text(f"{size:,} rows to review")).to_be_visible()
    expect(bar).to_have_attribute("data-rows", str(size))
    assert int(kernel_eval(page, "print(len(ev.selected()))")) == size
    assert int(kernel_eval(page, "print(tagger.n_queue)")) == size
    queue_first = kernel_eval(page, "print(tagger.queue['id'].iloc[0])").strip()
    card = tagger.get_by_role("article")
    expect(card).to_have_attribute(
        "aria-label",
        re.compile(rf"^Row {queue_first}: actual [\d.,]+, predicted [\d.,]+, residual [+\u2212][\d.,]+$"),
    )
    orders = tagger.get_by_role("combobox", name="Review order").locator("option").all_inner_texts()
    assert orders[:3] == [
        "Largest |residual| first",
        "Largest over-predictions first",
        "Largest under-predictions first",
    ]

    # tag the shown row from the keyboard, then type its corrected value and press Enter
    tagger.focus()
    page.keyboard.press("1")
    expect(tagger.get_by_role("button", name=re.compile(r"^Tag row .* mislabeled")).first).to_have_attribute(
        "aria-pressed", "true"
    )
    relabel = tagger.get_by_role("spinbutton", name="Corrected value")
    page.keyboard.press("r")  # to the corrected value
    expect(relabel).to_be_focused()
    page.keyboard.type("73.5")
    page.keyboard.press("Enter")
    expect(tagger.get_by_role("status")).to_have_text(re.compile("relabel saved"))
    tags = json.loads(kernel_eval(page, "print(ev.tags[['id', 'tag', 'relabel']].to_json(orient='records'))"))
    assert tags == [{"id": int(queue_first), "tag": "mislabeled", "relabel": 73.5}]
    expect(relabel).to_have_value("73.5")

    # the rows tab: residual orders, actual / predicted / residual columns
    sb.get_by_role("tab", name="Rows").click()
    rows_grid = sb.get_by_role("grid", name="Rows in the selection")
    expect(rows_grid.locator("thead th").nth(3)).to_have_text("residual")  # rendered
    assert [t.strip() for t in rows_grid.locator("thead th").all_inner_texts()][:4] == [
        "id",
        "actual",
        "predicted",
        "residual",
    ]
    sb.get_by_role("combobox", name="Order rows by").select_option("over_prediction")
    first = rows_grid.locator("tbody tr").first
    expect(first).to_have_attribute("aria-label", re.compile(r"residual \+"))
    sb.get_by_role("tab", name="Slices").click()

    # the mean residual: over- and under-predicted slices, in the target's units; the tagger's list
    sb.get_by_role("combobox", name="Metric").select_option("mean_error")
    sb.get_by_role("searchbox", name="Filter slices by feature").fill("")
    expect(sb.get_by_text(re.compile(r"^\d{2,} slices$"))).to_be_visible()  # every feature again
    expect(grid.locator("thead th").nth(4)).to_have_text("Mean residual ▾")
    expect(grid.locator(".es-bar-under").first).to_be_attached()  # an under-predicted slice
    tagger.get_by_role("button", name="Show list view").click()
    listed = tagger.get_by_role("table", name="Rows to review")
    expect(listed.locator("thead th").nth(4)).to_have_text("residual")  # rendered
    assert [t.strip() for t in listed.locator("thead th").all_inner_texts()][1:5] == [
        "id",
        "actual",
        "predicted",
        "residual",
    ]

    for width in (420, 1100):
        set_notebook_width(page, width)
        for view in (sb, tagger):
            view.scroll_into_view_if_needed()
            assert overflow_problems(view) == [], (width, overflow_problems(view))
        screenshot_themes(page, artifacts, f"regression-slices-tagger-{width}")


def test_discovery_tab_on_a_regression(wage: Page, artifacts: Path) -> None:
    page = wage
    sb = region(page, "Slice browser")
    sb.get_by_role("tab", name="Discovered").click()
    sb.get_by_role("button", name="Find slices").click()
    expect(sb.get_by_role("status")).to_have_text(re.compile(r"^\d+ slices found$"), timeout=60_000)
    grid = sb.get_by_role("grid", name="Discovered slices")
    assert [t.strip() for t in grid.locator("thead th").all_inner_texts()][3] == "MAE"
    first = grid.locator("tbody tr").first
    label = first.get_attribute("aria-label") or ""
    assert re.search(r": [\d,]+ rows, MAE [\d.,]+$", label), label
    first.click()  # the view marks the row once the kernel has selected it
    expect(grid.locator("tbody tr").first).to_have_attribute("aria-selected", "true")
    size = rows_of(label)
    assert int(kernel_eval(page, "print(len(ev.selected()))")) == size
    set_notebook_width(page, 420)
    sb.scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "regression-discovered-420")
