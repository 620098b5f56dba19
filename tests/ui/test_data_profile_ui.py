"""DataProfile with a SliceBrowser on Adult (train -> test) in a real JupyterLab: brush a histogram with
the mouse, the other charts, the matrix and the slices follow; click a category's bar; click a matrix cell,
the pair's charts come first; the kernel holds what the page shows; narrow, medium and wide, light and dark."""

from __future__ import annotations

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

ADULT = """
import errorscope as es
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder
train, test = es.datasets.load_adult("train"), es.datasets.load_adult("test")
features = ["age", "hours-per-week", "education-num", "workclass", "race", "sex"]
encode = make_column_transformer((OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                                 encoded_missing_value=-2), ["workclass", "race", "sex"]),
                                 remainder="passthrough")
model = make_pipeline(encode, HistGradientBoostingClassifier(max_iter=40, random_state=0))
model.fit(train[features], train["income"])
ev = es.Evaluation(test[features + ["income"]], y_true="income", model=model, train=train)
"""
PROFILE = "dp = es.DataProfile(ev)\ndp"
SLICES = "sb = es.SliceBrowser(ev)\nsb"


def regions(page: Page) -> tuple[Locator, Locator]:
    panel = page.locator(".jp-NotebookPanel:visible")
    return panel.get_by_role("region", name="Data profile"), panel.get_by_role("region", name="Slice browser")


@pytest.fixture()
def adult_page(page: Page, lab, notebook_dir: Path) -> Page:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "profile.ipynb", ADULT, PROFILE, SLICES)
    page.set_viewport_size({"width": 1400, "height": 1800})
    open_and_run(page, lab, "profile.ipynb")
    dp, sb = regions(page)
    expect(dp).to_have_attribute("data-rows", "16281")
    expect(sb.get_by_role("grid", name="Slices")).to_be_visible()
    return page


def kept(page: Page, feature: str) -> list[int]:
    return [int(v) for v in kernel_eval(page, f"print(*dp.chart_table({feature!r})['kept'])").split()]


def test_a_brush_moves_the_charts_the_matrix_and_the_slices(adult_page: Page, artifacts: Path) -> None:
    page = adult_page
    dp, sb = regions(page)
    age = dp.get_by_role("group", name=re.compile(r"^Histogram of age\."))
    before_sex = kept(page, "sex")
    matrix = dp.get_by_role("grid", name="Feature associations")
    expect(dp.get_by_role("note").first).to_contain_text("16,281 sample rows kept")
    before_cell = matrix.get_by_role("gridcell", name=re.compile(r"^age and hours-per-week: ")).get_attribute(
        "aria-label"
    )
    age.scroll_into_view_if_needed()
    box = age.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 0.1 * box["width"], box["y"] + 0.5 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.5 * box["height"], steps=6)
    page.mouse.up()
    expect(dp.locator(".es-chip")).to_contain_text(re.compile(r"\bage\b"))
    n = int(kernel_eval(page, "print(len(ev.selected()))"))
    assert 0 < n < 16281
    assert kernel_eval(page, "print(dp.brush['feature'])").strip() == "age"
    assert sum(kept(page, "sex")) == n and kept(page, "sex") != before_sex  # the other charts follow
    expect(dp.get_by_role("button", name=re.compile(r"^sex = Male: ")).first).to_have_attribute(
        "aria-label", re.compile(rf", {kept(page, 'sex')[0]:,} kept, ")
    )
    assert sum(kept(page, "age")) == 16281  # the brushed chart keeps showing what the other views keep
    expect(dp.get_by_role("note").first).to_contain_text(f"{n:,} sample rows kept")  # the matrix follows
    after_cell = matrix.get_by_role("gridcell", name=re.compile(r"^age and hours-per-week: ")).get_attribute(
        "aria-label"
    )
    assert after_cell != before_cell
    expect(sb.locator(".es-header")).to_contain_text(f"{n:,}")  # the slices are of the brushed rows
    assert int(kernel_eval(page, "print(sb.n_rows)")) == n
    screenshot_themes(page, artifacts, "data-profile-brush")

    # a category's bar: the brush moves to it, and the age chart now follows
    dp.get_by_role("button", name=re.compile(r"^workclass = Private: ")).click()
    expect(dp.locator(".es-chip")).to_contain_text("workclass")
    private = int(kernel_eval(page, "print((test['workclass'] == 'Private').sum())"))
    assert int(kernel_eval(page, "print(len(ev.selected()))")) == private
    assert sum(kept(page, "age")) == private
    page.keyboard.press("Escape")
    expect(dp.locator(".es-chip")).to_have_count(0)
    assert int(kernel_eval(page, "print(len(ev.selected()))")) == 16281


def test_a_matrix_cell_brings_the_pair_first_and_outliers_and_drift_select(adult_page: Page) -> None:
    page = adult_page
    dp, _ = regions(page)
    cell = dp.get_by_role("grid", name="Feature associations").get_by_role(
        "gridcell", name=re.compile(r"^sex and race: ")
    )
    cell.click()
    expect(dp.locator("article").first).to_have_attribute("aria-label", "Feature sex")
    expect(dp.locator("article").nth(1)).to_have_attribute("aria-label", "Feature race")
    assert kernel_eval(page, "print(dp.focus)").strip() == "['sex', 'race']"
    dp.get_by_role("button", name="Show the features in order").click()
    expect(dp.get_by_role("button", name="Show the features in order")).to_have_count(0)
    # outliers of hours-per-week by IQR: the kernel's count
    dp.get_by_role("searchbox", name="Filter features").fill("hours")
    expect(dp.locator("article")).to_have_count(1)
    dp.get_by_role("button", name="Select the hours-per-week outliers by IQR").click()
    expected = int(
        float(kernel_eval(page, "print(dp.table.set_index('feature').loc['hours-per-week', 'outliers_iqr'])"))
    )
    expect(dp.get_by_role("button", name="Select the hours-per-week outliers by IQR")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert int(kernel_eval(page, "print(len(ev.selected()))")) == expected
    dp.get_by_role("button", name="Select the most shifted rows of hours-per-week").click()
    expect(dp.get_by_role("button", name="Select the most shifted rows of hours-per-week")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert kernel_eval(page, "print(dp.brush['kind'])").strip() == "drift"


@pytest.mark.parametrize("width", [420, 800, 1300])
def test_no_clipped_text_at_any_width(adult_page: Page, artifacts: Path, width: int) -> None:
    page = adult_page
    set_notebook_width(page, width)
    dp, _ = regions(page)
    expect(dp).to_be_visible()
    assert overflow_problems(dp) == []
    screenshot_themes(page, artifacts, f"data-profile-{width}")
