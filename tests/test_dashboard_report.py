"""The dashboard one-liner and the self-contained HTML report."""

from __future__ import annotations

import gc
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import errorscope as es
from test_static_fallback import mathtext_evaluation


@pytest.fixture
def ev(adult_test, adult_model) -> es.Evaluation:  # type: ignore[no-untyped-def]
    return es.Evaluation(adult_test, "income", model=adult_model, sensitive=["sex", "race"])


def test_dashboard_links_every_view(ev: es.Evaluation, tmp_path: Path) -> None:
    board = es.dashboard(ev, store=tmp_path / "tags.sqlite")
    assert {type(v).__name__ for v in board.views} == {
        "ModelOverview", "SelectionBar", "ConfusionMatrix", "SliceBrowser", "GroupComparer", "ForceViewer", "ErrorTagger",
    }  # fmt: skip
    board.confusion_matrix.select_cells(cells=[(1, 0)])
    n = len(ev.selected())
    assert board.group_comparer is not None and board.group_comparer.n_rows == n
    assert board.slice_browser.n_rows == n and board.selection_bar.n_selected == n
    assert board.tagger.n_queue == n  # every row of that cell is an error
    bundle = board._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "image/png" in data and "Confusion matrix" in data["text/plain"]
    board.close()


def test_a_tag_written_recomputes_only_the_views_that_show_tags(ev: es.Evaluation, tmp_path: Path) -> None:
    board = es.dashboard(ev, store=tmp_path / "tags.sqlite")
    computed: list[str] = []
    for view in board.views:
        original = view._compute
        view._compute = lambda mask, v=view, f=original: (computed.append(type(v).__name__), f(mask))[1]
    board.tagger.tag([ev.ids[3], ev.ids[5]], "mislabeled")
    assert sorted(computed) == ["ErrorTagger", "SliceBrowser"]
    table = board.slice_browser.table
    assert table.loc[table["description"] == "tag = mislabeled", "size"].tolist() == [2]
    computed.clear()
    board.tagger.select_tag("mislabeled")  # now a clause reads tags: the others follow its rows
    board.tagger.tag([ev.ids[7]], "mislabeled")
    assert {"ConfusionMatrix", "GroupComparer", "SliceBrowser"} <= set(computed)
    assert board.confusion_matrix.n_rows == 3
    board.close()


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_dashboard_without_model_or_groups_says_so(adult_test, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ev = es.Evaluation(adult_test, "income", y_pred=adult_test["income"])
    board = es.dashboard(ev, store=tmp_path / "t.sqlite")
    assert board.force_viewer is None and board.group_comparer is None
    grid = board.children[-1]
    notes = [c.value for c in grid.children if hasattr(c, "value")]  # each a card in the grid
    assert len(notes) == 2 and all('role="note"' in n and "border:" in n for n in notes)
    assert "sensitive=" in notes[0] and "Group comparer" in notes[0]
    assert "no model" in notes[1] and "Force viewer" in notes[1]
    assert all(c.layout.min_width == "0" for c in grid.children)  # wide tables scroll inside their card
    with pytest.raises(TypeError, match="needs an errorscope Evaluation"):
        es.dashboard(adult_test)
    gc.collect()  # the half-built dashboard is collected without an error in its close()


def test_report_is_self_contained_and_escaped(ev: es.Evaluation, tmp_path: Path) -> None:
    store = ev.attach_tags(tmp_path / "t.sqlite")
    store.tag(ev.ids[:2], "<script>alert(1)</script>")
    store.set_note(ev.ids[:1], "<img src=x onerror=alert(2)>")
    ev.select("age > 60")
    page = ev.report(tmp_path / "report.html").read_text()
    assert "<script" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert not re.search(r"(src|href)=['\"]https?://", page)  # nothing fetched from anywhere
    assert page.count("data:image/png;base64,") >= 3 and "age &gt; 60" in page
    assert "Audit trail" in page and "tag added" in page
    with pytest.raises(ValueError, match="does not exist"):
        ev.report(tmp_path / "missing" / "r.html")
    np.testing.assert_equal(len(ev.selected()), (ev.data["age"] > 60).sum())


def test_report_draws_mathtext_like_labels_as_text(tmp_path: Path) -> None:
    ev = mathtext_evaluation()
    page = ev.report(tmp_path / "report.html").read_text()
    assert "$x^$" in page and "$\\frac$" in page and page.count("data:image/png;base64,") >= 3


class Tables(HTMLParser):
    """Every table of a page: its header cells and its rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, list]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append({"header": [], "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td"):
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self.tables[-1]["rows"][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "thead":
            self.tables[-1]["header"] = self.tables[-1]["rows"].pop()


def test_report_tables_read_like_the_widgets(ev: es.Evaluation, tmp_path: Path) -> None:
    store = ev.attach_tags(tmp_path / "t.sqlite")
    store.tag(ev.ids[:3], "mislabeled")
    parser = Tables()
    parser.feed(ev.report(tmp_path / "report.html").read_text())
    tables = parser.tables
    assert (
        len(tables) >= 8
    )  # metrics, checks, slices, two of group metrics, disparities, between, tags, audit
    headers = [h for t in tables for h in t["header"]]
    assert all(("_" not in h and h[:1].isupper()) or h.startswith("p ") for h in headers), headers
    assert max(len(t["header"]) for t in tables) <= 9
    cells = [c for t in tables for row in t["rows"] for c in row]
    assert not [c for c in cells if re.search(r"\d[eE][+-]?\d|\d\.\d{4,}", c)]  # no raw floats
    by_caption = {t["header"][0]: t for t in tables}
    metrics = dict(by_caption["Metric"]["rows"])
    assert metrics["Rows"] == f"{ev.n_rows:,}" and re.fullmatch(r"\d+\.\d%", metrics["Accuracy"])
    slices = next(t for t in tables if "p (BH)" in t["header"])
    column = slices["header"].index("Error rate (95% CI)")
    assert all(re.fullmatch(r"\d+\.\d% \(\d+\.\d% to \d+\.\d%\)", row[column]) for row in slices["rows"])
    assert "< 0.001" in [row[-1] for row in slices["rows"]]
    groups = [t for t in tables if t["header"][0] == "Group"]
    assert len(groups) == 3 and any("Disparate impact (ratio)" in t["header"] for t in groups)
    assert len({len(t["rows"]) for t in groups}) == 1  # every group in each of them


def test_dashboard_and_report_over_parquet_match_memory(adult_test, adult_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """On DuckDB: the dashboard's memory check counts no rows (they stay on disk), every view follows a
    cell, a tag lands on its id and its slice, and the report shows the same selection and tags."""
    pytest.importorskip("duckdb")
    df = adult_test.iloc[:3000].reset_index(drop=True)
    df["p_high"] = adult_model.predict_proba(df.drop(columns="income"))[:, 1]
    path = tmp_path / "adult.parquet"
    df.to_parquet(path, index=False)
    arguments = {"y_score": "p_high", "model": adult_model, "sensitive": ["sex"], "metadata": []}
    boards = []
    for data, store in ((df, "memory.sqlite"), (str(path), "duckdb.sqlite")):
        ev = es.Evaluation(data, "income", features=list(adult_model.feature_names_in_), **arguments)
        board = es.dashboard(ev, store=tmp_path / store)
        board.confusion_matrix.select_cells(cells=[(1, 0)])
        board.force_viewer.wait()
        board.tagger.tag([board.tagger.card["id"]], "mislabeled")
        report = ev.report(tmp_path / f"{store}.html").read_text()
        boards.append((ev, board, report))
    (memory, board_m, report_m), (lazy, board_l, report_l) = boards
    assert lazy.engine == "duckdb"
    n = len(memory.selected())
    assert len(lazy.selected()) == n and all(
        v.n_rows == n for v in board_l.views if v is not board_l.confusion_matrix
    )
    assert (
        board_l.tagger.card == board_m.tagger.card and board_l.force_viewer.rows == board_m.force_viewer.rows
    )
    table = board_l.slice_browser.table
    assert table.loc[table["description"] == "tag = mislabeled", "size"].tolist() == [1]
    for text in (f"{n:,} rows</p>", "mislabeled", "Audit trail"):
        assert text in report_l and text in report_m
    for board in (board_m, board_l):
        board.close()
