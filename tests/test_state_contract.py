"""The Python-to-JS state contract: every trait a widget's TypeScript reads or writes is a synced trait of
its Python class, and every synced trait of its own is read by its TypeScript (the browser gets nothing
unused); the traits all views share (LinkedView's) are each read by some view."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import errorscope as es
from errorscope.widgets.base import LinkedView

JS = Path(__file__).resolve().parents[1] / "js" / "src"
ACCESS = re.compile(r"""(?:model\.(?:get|set)|setTrait)\(\s*["']([a-z_0-9]+)["']""")
TRAIT_LIST = re.compile(r"""["']([a-z_0-9]+)["']""")
WIDGETS = [
    es.ConfusionMatrix, es.SliceBrowser, es.ForceViewer, es.GroupComparer, es.ErrorTagger,
    es.widgets.overview.ModelOverview, es.widgets.overview.SelectionBar, es.ResidualPlot, es.ModelComparer,
    es.DataProfile,
]  # fmt: skip
PYTHON_ONLY = {"_esm", "_css", "_anywidget_id", "_view_name", "_model_name", "_view_module"}


def synced(widget: type[LinkedView]) -> set[str]:
    """The traits the kernel syncs to the browser (anywidget's own excluded)."""
    names = {name for name, trait in widget.class_traits().items() if trait.metadata.get("sync")}
    return {n for n in names if not n.startswith("_") and n not in PYTHON_ONLY} - set(
        __import__("ipywidgets").DOMWidget.class_traits()
    )


def read_by_js(bundle: str) -> set[str]:
    """The traits the widget's module (and the shared helpers) get, set or listen to."""
    sources = [JS / f"{bundle}.ts", *sorted((JS / "lib").glob("*.ts"))]
    names: set[str] = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        names |= set(ACCESS.findall(text))
        for listed in re.findall(r"mountView\([^\[]*\[([^\]]*)\]", text):  # traits that repaint the view
            names |= set(TRAIT_LIST.findall(listed))
        names |= set(re.findall(r"""change:([a-z_0-9]+)""", text))
    return names


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: w.__name__)
def test_every_trait_the_typescript_uses_is_synced(widget: type[LinkedView]) -> None:
    used = read_by_js(widget._bundle)
    own = set(ACCESS.findall((JS / f"{widget._bundle}.ts").read_text(encoding="utf-8")))
    missing = own - synced(widget)
    assert not missing, f"{widget.__name__}'s TypeScript uses traits Python does not sync: {sorted(missing)}"
    unused = synced(widget) - synced(LinkedView) - used
    assert not unused, f"{widget.__name__} syncs traits its TypeScript never reads: {sorted(unused)}"


def test_every_shared_trait_is_read_by_some_widget() -> None:
    used = set().union(*(read_by_js(w._bundle) for w in WIDGETS))
    unused = synced(LinkedView) - used
    assert not unused, f"LinkedView syncs traits no TypeScript reads: {sorted(unused)}"
