"""es.dashboard(ev) over a Parquet file (the DuckDB engine) in a real JupyterLab: a matrix cell and a slice
clicked in the browser, every view follows, and the kernel's ``len(ev.selected())`` is the count shown."""

from __future__ import annotations

import re
from pathlib import Path

from lab import kernel_eval, open_and_run, screenshot_themes, write_notebook
from playwright.sync_api import Page, expect
from test_confusion_matrix_ui import click_cell
from test_slice_browser_ui import rows_of, slice_row

# the notebook writes the Parquet file into the server's temporary root (never into the repository)
BOARD = """
import numpy as np
import errorscope as es
from sklearn.ensemble import HistGradientBoostingClassifier
train, test = es.datasets.load_adult("train"), es.datasets.load_adult("test")
num = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
model = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(train[num], train["income"])
test["p_high"] = model.predict_proba(test[num])[:, 1]  # scored offline: the score is a column
test["row_id"] = np.arange(len(test)) * 2 + 1
test.to_parquet("adult_scored.parquet", index=False)
df = test
ev = es.Evaluation("adult_scored.parquet", "income", y_score="p_high", ids="row_id", model=model,
                   features=num, sensitive=["sex", "race"])
board = es.dashboard(ev, store="lazy.sqlite")
board
"""
FOLLOWERS = ("Model overview", "Selection", "Slice browser", "Group comparer", "Force viewer", "Error tagger")


def test_dashboard_over_parquet_follows_a_cell_and_a_slice(
    page: Page, lab, notebook_dir: Path, artifacts: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "lazy_board.ipynb", BOARD)
    open_and_run(page, lab, "lazy_board.ipynb")
    assert kernel_eval(page, "print(type(board).__name__, ev.engine)").split() == ["Dashboard", "duckdb"]
    panel = page.locator(".jp-NotebookPanel:visible")
    region = lambda name: panel.get_by_role("region", name=name)  # noqa: E731
    expect(region("Error tagger")).to_have_count(1, timeout=240_000)  # built last (a DuckDB query per plan)
    for name in ("Confusion matrix", *FOLLOWERS):
        expect(region(name)).to_have_count(1)
    expect(region("Slice browser")).to_have_attribute("data-rows", "16281", timeout=120_000)
    assert kernel_eval(page, "print(ev.engine, board.force_viewer.explainer.algorithm)").split() == [
        "duckdb",
        "tree",
    ]

    n_cell = click_cell(region("Confusion matrix"), ">50K", "<=50K")
    assert n_cell == int(kernel_eval(page, "print(((df.income == '>50K') & (df.p_high < 0.5)).sum())"))
    for name in FOLLOWERS:
        expect(region(name)).to_have_attribute("data-rows", str(n_cell), timeout=60_000)
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == str(n_cell)

    sb = region("Slice browser")
    sb.scroll_into_view_if_needed()
    sb.get_by_role("searchbox", name="Filter slices by feature").fill("sex")
    female = slice_row(sb, "sex = Female")
    n_both = rows_of(female.get_attribute("aria-label") or "")
    female.click()
    expect(female).to_have_attribute("aria-selected", "true")
    n_female = int(kernel_eval(page, "print((df.sex == 'Female').sum())"))
    expect(region("Confusion matrix")).to_have_attribute("data-rows", str(n_female))  # all but its own
    expect(sb).to_have_attribute("data-rows", str(n_cell))  # all but its own: the cell
    for name in ("Selection", "Group comparer", "Force viewer", "Model overview"):
        expect(region(name)).to_have_attribute("data-rows", str(n_both), timeout=60_000)
    expect(region("Selection").get_by_role("status")).to_have_text(
        re.compile(rf"^{n_both:,} of 16,281 rows selected$")
    )
    assert kernel_eval(page, "print(len(ev.selected()))").strip() == str(n_both)
    expected = int(
        kernel_eval(page, "print(((df.income == '>50K') & (df.p_high < 0.5) & (df.sex == 'Female')).sum())")
    )
    assert n_both == expected

    tagger = region("Error tagger")  # the queue: the selection's errors (every row of this cell is one)
    tagger.scroll_into_view_if_needed()
    expect(tagger.get_by_text(f"{n_both:,} rows to review")).to_be_visible(timeout=60_000)
    fields = tagger.get_by_role("region", name=re.compile(r"^Features of row \d+$"))
    card = (fields.get_attribute("aria-label") or "").rsplit(" ", 1)[-1]  # the row the card shows
    assert kernel_eval(page, f"print({card} in set(ev.selected()['row_id']))").strip() == "True"
    tagger.get_by_role("button", name=re.compile(rf"^Tag row {card} mislabeled")).click()
    expect(tagger.get_by_role("status")).to_contain_text("Saved", timeout=30_000)
    assert (
        kernel_eval(page, "print(ev.tags[['id', 'tag']].values.tolist())").strip()
        == f"[[{card}, 'mislabeled']]"
    )

    force = region("Force viewer")  # its rows are the selection's, fetched from DuckDB by id
    rows = force.get_by_role("grid", name="Rows to explain").locator("tbody tr")
    expect(rows).to_have_count(min(8, n_both))
    first_id = kernel_eval(page, "print(board.force_viewer.rows[0]['id'])").strip()
    expect(rows.first).to_have_attribute(
        "aria-label", re.compile(rf"^row {first_id}: actual >50K, predicted <=50K")
    )
    expect(force).not_to_contain_text("failed")
    for name in ("Confusion matrix", *FOLLOWERS):
        expect(region(name).get_by_role("alert")).to_have_count(0)
    page.set_viewport_size({"width": 1280, "height": 2400})
    region("Model overview").scroll_into_view_if_needed()
    screenshot_themes(page, artifacts, "dashboard-duckdb")

    # a long scan's progress (DuckDB's query_progress, told by the engine's watcher: tests/test_progress.py)
    # reaches every view through its comm as a labelled progress bar over what it shows, then goes away
    kernel_eval(page, "ev.engine._progress._tell(37.0)")
    for name in ("Confusion matrix", *FOLLOWERS):
        bar = region(name).get_by_role("progressbar", name="Scanning the data")
        expect(bar).to_have_attribute("aria-valuenow", "37")
        expect(bar).to_have_text("Scanning the data: 37%")
        expect(region(name)).to_have_attribute("aria-busy", "true")
    screenshot_themes(page, artifacts, "dashboard-duckdb-progress")
    kernel_eval(page, "ev.engine._progress._tell(None)")
    for name in ("Confusion matrix", *FOLLOWERS):
        expect(region(name).get_by_role("progressbar", name="Scanning the data")).to_have_count(0)
        expect(region(name)).not_to_have_attribute("aria-busy", "true")
