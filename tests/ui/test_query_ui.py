"""Data columns named like the roles, clicked in a real JupyterLab: a slice selects the rows it shows."""

from __future__ import annotations

from pathlib import Path

from lab import kernel_eval, open_and_run, write_notebook
from playwright.sync_api import Page, expect
from test_confusion_matrix_ui import cell_counts
from test_slice_browser_ui import browser, matrix, rows_of, slice_row

COLLIDING = """
import errorscope as es, numpy as np, pandas as pd
rng = np.random.default_rng(1)
y = rng.integers(0, 2, 400)
df = pd.DataFrame({"actual": rng.integers(0, 2, 400), "predicted": rng.integers(0, 2, 400),
                   "tag": rng.choice(["a", "b"], 400), "x": rng.normal(size=400)})
ev = es.Evaluation(df, y, y_pred=np.where(rng.random(400) < 0.3, 1 - y, y))
ev.attach_tags("colliding.sqlite", vocabulary=["a"])
ev.tag_store.tag(ev.ids[:7], "a")
ev.tags_changed()
cm = es.ConfusionMatrix(ev)
sb = es.SliceBrowser(ev)
cm
"""


def test_slices_of_columns_named_like_roles_select_what_they_show(
    page: Page, lab, notebook_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    write_notebook(notebook_dir / "colliding.ipynb", COLLIDING, "sb")
    open_and_run(page, lab, "colliding.ipynb")
    sb, cm = browser(page), matrix(page)
    expect(sb).to_have_count(1)
    sb.scroll_into_view_if_needed()
    cases = {
        "actual = 1": "(df['actual'] == 1).sum()",
        "predicted = 1": "(df['predicted'] == 1).sum()",
        "tag = a": "(df['tag'] == 'a').sum()",
        "es_actual = 1": "(ev.true_codes == 1).sum()",
        "es_predicted = 0": "(ev.pred_codes == 0).sum()",
        "es_tag = a": "7",
    }
    search = sb.get_by_role("searchbox", name="Filter slices by feature")
    for shown, count in cases.items():
        search.fill(shown.split(" = ")[0])
        row = slice_row(sb, shown)
        expect(row).to_have_count(1)
        n = rows_of(row.get_attribute("aria-label") or "")
        assert n == int(kernel_eval(page, f"print({count})")), shown
        row.click()
        expect(row).to_have_attribute("aria-selected", "true")
        expect(cm).to_have_attribute("data-rows", str(n))
        assert sum(cell_counts(cm).values()) == n
        assert kernel_eval(page, "print(len(ev.selected()))").strip() == str(n), shown
        text = kernel_eval(page, "print(sb.clause_text)").strip()
        assert kernel_eval(
            page, f"ev.select({text!r}, source='check'); print(len(ev.selected()))"
        ).strip() == str(n)
        kernel_eval(page, "ev.selection.remove('check')")
        sb.get_by_role("button", name="Clear slice browser selection").click()
        expect(cm).to_have_attribute("data-rows", "400")
