"""A self-contained HTML report of an Evaluation: figures inline as PNG, tables escaped, no CDN, no script."""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from . import __version__
from .evaluation import Evaluation
from .fairness import group_metrics, make_groups
from .figures import confusion_figure, groups_figure, png_bytes, slices_figure
from .metrics import confusion_counts
from .overview import data_checks, key_metrics
from .slicing import slice_table

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #111; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; }
.muted { color: #666; }
"""


def write_report(
    ev: Evaluation, path: str | os.PathLike[str], groups: str | Sequence[str] | None = None, top: int = 15
) -> Path:
    """Write the report to ``path`` and return it: overview, matrix, worst slices, groups, selection, tags
    and the audit trail. Everything shown is computed on all rows; the active selection is listed."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"report path {str(path)!r}: the directory {str(path.parent)!r} does not exist.")
    sections = [f"<h1>errorscope report</h1><p class='muted'>{_e(repr(ev))}; errorscope {__version__}; "
                f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}</p>"]  # fmt: skip
    metrics = pd.Series(key_metrics(ev), name="value").to_frame()
    sections.append("<h2>Key metrics</h2>" + metrics.to_html(float_format=_fmt))
    checks = data_checks(ev)
    sections.append(
        "<h2>Data checks</h2>" + (checks.to_html(index=False) if len(checks) else "<p>None found.</p>")
    )
    counts = confusion_counts(ev.true_codes, ev.pred_codes, ev.n_classes)
    sections.append("<h2>Confusion matrix</h2>" + _image(png_bytes(confusion_figure(counts, ev.class_names))))
    table = slice_table(ev)
    table = table[(table["group"] == "feature") & table["supported"]]  # see errorscope.slicing
    sections.append(
        "<h2>Worst slices</h2><p class='muted'>Feature slices with enough rows; slices of the model's "
        "output, the classes and tags are left out (they top an error ranking by construction).</p>"
        + _image(png_bytes(slices_figure(table, "error_rate", top=top)))
        + table.head(top).drop(columns=["predicate", "key"]).to_html(index=False, float_format=_fmt)
    )
    if groups is not None or ev.sensitive:
        grouped = make_groups(ev, groups)
        positive = None if ev.positive_code is not None else ev.class_names[0]
        frame = group_metrics(ev, grouped, positive_class=positive)
        sections.append(
            "<h2>Groups</h2>"
            + _image(png_bytes(groups_figure(frame, "selection_rate", None, "selection rate by group")))
            + frame.drop(columns="term").to_html(index=False, float_format=_fmt)
        )
    selection = ev.selection.text() or "(nothing selected)"
    sections.append(f"<h2>Active selection</h2><p>{_e(selection)}: {len(ev.selected()):,} rows</p>")
    tags = ev.tags
    sections.append("<h2>Tags</h2>" + (tags.to_html(index=False) if len(tags) else "<p>No tags.</p>"))
    if ev.tag_store is not None:
        sections.append("<h2>Audit trail</h2>" + ev.tag_store.audit().to_html(index=False))
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>errorscope report</title>"
        f"<style>{STYLE}</style></head><body>{''.join(sections)}</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path


def _image(png: bytes) -> str:
    return f"<img alt='' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _fmt(x: float) -> str:
    return f"{x:.4g}"
