"""A self-contained HTML report of an Evaluation: figures inline as PNG, tables escaped, no CDN, no script.

Tables read like the widgets: human column names, rates as percentages, counts with separators, p-values
as "< 0.001", each interval in its value's cell, and the wide per-group table split into tables that fit
a page (at most ``MAX_COLUMNS`` columns each)."""

from __future__ import annotations

import base64
import html
import math
import numbers
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .evaluation import Evaluation
from .fairness import disparities, group_metrics, make_groups, summary
from .figures import confusion_figure, groups_figure, png_bytes, slices_figure
from .overview import data_checks, key_metrics
from .plans import CONFUSION
from .slicing import METRIC_NAMES, slice_table

Format = Callable[[Any], str]
MAX_COLUMNS = 9
"""The widest table the report writes: nine columns fit a 1000 px page."""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1em; max-width: 1100px; color: #111;
       box-sizing: border-box; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; max-width: 100%; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
thead th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.flag { color: #b00020; }
.ci { white-space: nowrap; color: #555; }
img { max-width: 100%; }
.muted { color: #666; }
"""

# -- number formats (the same as the widgets' js/src/lib/format.ts) ------------------------------
DASH = "–"


def _finite(x: Any) -> bool:
    """A real number (Python or numpy) that is neither NaN nor infinite."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_) and math.isfinite(x)


def count(n: Any) -> str:
    """16281 -> "16,281"."""
    return f"{int(n):,}" if _finite(n) else DASH


def percent(x: Any) -> str:
    """0.8532 -> "85.3%"."""
    return f"{100 * x:.1f}%".replace("-", "−") if _finite(x) else DASH


def number(x: Any) -> str:
    """0.91234 -> "0.912"."""
    return f"{x:.3f}".replace("-", "−") if _finite(x) else DASH  # a minus sign: no line break after it


def p_value(p: Any) -> str:
    """4.1e-05 -> "< 0.001"; 0.0123 -> "0.012"."""
    if not _finite(p):
        return DASH
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def points(d: Any) -> str:
    """A difference of rates in percentage points: 0.123 -> "+12.3 pp"."""
    if not _finite(d):
        return DASH
    sign = "+" if d > 0 else "−" if d < 0 else "±"
    return f"{sign}{abs(100 * d):.1f} pp"


def signed(x: Any) -> str:
    """A difference of values: 1.5 -> "+1.500", -2 -> "−2.000"."""
    if not _finite(x):
        return DASH
    return f"{'+' if x > 0 else '±' if x == 0 else ''}{number(x)}"


def times(x: Any) -> str:
    """A ratio: 2.5 -> "2.50×"."""
    return f"{x:.2f}×" if _finite(x) else DASH


def with_interval(x: Any, low: Any, high: Any, fmt: Format) -> str:
    """A value and its 95% interval in one cell, as the widgets write it: "−0.135 (−0.236 to −0.009)"."""
    if not _finite(x):
        return DASH
    return f"{fmt(x)} ({fmt(low)} to {fmt(high)})" if _finite(low) and _finite(high) else fmt(x)


# -- tables ---------------------------------------------------------------------------------------
def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def html_table(
    caption: str, header: Sequence[str], rows: Iterable[Sequence[str]], text_columns: int = 1
) -> str:
    """An escaped table: the first column names the row, the first ``text_columns`` are left-aligned text
    and the others right-aligned values (a value with a warning sign is flagged)."""
    if len(header) > MAX_COLUMNS:
        raise ValueError(f"a report table has at most {MAX_COLUMNS} columns, got {len(header)}: {header}.")
    head = "".join(f"<th scope='col'>{_e(h)}</th>" for h in header)
    body = []
    for first, *rest in rows:
        cells = "".join(
            f"<td>{_e(value)}</td>"
            if i + 1 < text_columns
            else f"<td class='num{' flag' if '⚠' in value else ''}'>{_interval_html(value)}</td>"
            for i, value in enumerate(rest)
        )
        body.append(f"<tr><th scope='row'>{_e(first)}</th>{cells}</tr>")
    return (
        f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _interval_html(value: str) -> str:
    """Escaped text whose "(low to high)" intervals never break inside (the cell wraps before one)."""
    return re.sub(r"\([^()]* to [^()]*\)", lambda m: f"<span class='ci'>{m.group(0)}</span>", _e(value))


def _text_table(caption: str, frame: pd.DataFrame, columns: dict[str, str]) -> str:
    """The ``columns`` (name: header) of ``frame`` as text, counts with separators."""

    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return (
            count(value)
            if isinstance(value, numbers.Integral) and not isinstance(value, bool)
            else str(value)
        )

    shown = frame[list(columns)].copy()
    if "when" in shown:
        shown["when"] = pd.to_datetime(shown["when"], utc=True).dt.strftime("%Y-%m-%d %H:%M:%S UTC")
    rows = [[cell(v) for v in row] for row in shown.itertuples(index=False)]
    return html_table(caption, list(columns.values()), rows, text_columns=len(columns))


# -- sections -------------------------------------------------------------------------------------
PERCENT_METRICS = {"accuracy", "balanced accuracy", "precision", "recall", "F1", "macro F1", "MAPE"}


def metric_format(name: str) -> Format:
    """How a key metric is written: rows as a count, rates (and MAPE) as percentages, others as numbers."""
    return count if name == "rows" else percent if name in PERCENT_METRICS else number


def key_metric_text(metrics: Mapping[str, Any]) -> str:
    """Key metrics in one line: "MAE 24.005, RMSE 29.842, R² 0.488" (rows left out; NaN ones too)."""
    return ", ".join(f"{k} {metric_format(k)(v)}" for k, v in metrics.items() if k != "rows" and _finite(v))


def _metrics_section(ev: Evaluation) -> str:
    rows = []
    for name, value in key_metrics(ev).items():
        rows.append([name[0].upper() + name[1:], metric_format(name)(value)])
    return "<h2>Key metrics</h2>" + html_table("Key metrics on all rows", ["Metric", "Value"], rows)


def feature_slices(ev: Evaluation, metric: str | None = None) -> pd.DataFrame:
    """The slice table of the features' slices with enough rows, worst first: slices of the model's
    output (a regression's actual, predicted and residual), the classes and tags top an error ranking
    by construction and are left out (see errorscope.slicing)."""
    table = slice_table(ev, metric=metric)
    return table[(table["group"] == "feature") & table["supported"]]


def _slices_section(ev: Evaluation, top: int) -> str:
    metric = "error_rate"
    table = feature_slices(ev)
    name = METRIC_NAMES[metric]
    header = ["Feature", "Slice", "Rows", "Share", f"{name.capitalize()} (95% CI)", "Rest", "Difference",
              "Ratio", "p (BH)"]  # fmt: skip
    rows = [
        [
            r.feature,
            str(r.slice),
            count(r.size),
            percent(r.share),
            with_interval(r.error_rate, r.ci_low, r.ci_high, percent),
            percent(r.rest_error_rate),
            points(r.difference),
            times(r.ratio),
            p_value(r.p_adjusted),
        ]
        for r in table.head(top).itertuples(index=False)
    ]
    caption = (
        f"The {min(top, len(table))} feature slices with the highest {name} and enough rows (p: "
        "Benjamini-Hochberg adjusted); slices of the model's output, the classes and tags are left out: "
        "they top an error ranking by construction"
    )
    return (
        "<h2>Worst slices</h2>"
        + inline_image(png_bytes(slices_figure(table, metric, top=top)))
        + html_table(caption, header, rows, text_columns=2)
    )


GROUP_TABLES: dict[str, dict[str, str]] = {
    "Rates by group (95% intervals)": {
        "selection_rate": "Selection rate", "base_rate": "Base rate", "accuracy": "Accuracy", "f1": "F1",
    },
    "Errors and scores by group (95% intervals)": {
        "precision": "Precision", "recall": "Recall (TPR)", "fpr": "False positive rate",
        "fnr": "False negative rate", "mean_score": "Mean score", "ece": "Calibration error (ECE)",
    },
}  # fmt: skip
DISPARITY_NAMES = {
    "demographic_parity_difference": "Demographic parity difference",
    "disparate_impact": "Disparate impact (ratio)",
    "equal_opportunity_difference": "Equal opportunity difference",
    "equalized_odds_difference": "Equalized odds difference",
}
SUMMARY_NAMES = {
    "demographic_parity_difference": "Demographic parity difference",
    "demographic_parity_ratio": "Demographic parity ratio",
    "equalized_odds_difference": "Equalized odds difference",
    "equal_opportunity_difference": "Equal opportunity difference",
}


def interval_cells(
    frame: pd.DataFrame, names: Iterable[str], fmt: Callable[[str], Format]
) -> list[list[str]]:
    """Per row of ``frame``, each of ``names`` with its ``_low``/``_high`` interval when there is one."""
    out = []
    for _, row in frame.iterrows():
        out.append([with_interval(row[n], row.get(f"{n}_low"), row.get(f"{n}_high"), fmt(n)) for n in names])
    return out


def _group_format(name: str) -> Format:
    """Rates as percentages; the mean score and the calibration error as numbers (as GroupComparer)."""
    return number if name in ("mean_score", "ece") else percent


def _groups_section(ev: Evaluation, groups: str | Sequence[str] | None) -> str:
    grouped = make_groups(ev, groups)
    positive = None if ev.positive_code is not None else ev.class_names[0]
    frame = group_metrics(ev, grouped, positive_class=positive)
    labels = [
        f"{g} (small group)" if small else str(g)
        for g, small in zip(frame["group"], frame["small"], strict=True)
    ]
    parts = [
        "<h2>Groups</h2>",
        inline_image(png_bytes(groups_figure(frame, "selection_rate", None, "selection rate by group"))),
    ]
    for i, (caption, columns) in enumerate(GROUP_TABLES.items()):
        names = [n for n in columns if n in frame]
        lead = ["Rows", "Share"] if i == 0 else []  # the first table also says how big each group is
        header = ["Group", *lead, *(columns[n] for n in names)]
        cells = interval_cells(frame, names, _group_format)
        rows = [
            [label, *([count(c), percent(s)] if lead else []), *values]
            for label, c, s, values in zip(labels, frame["count"], frame["share"], cells, strict=True)
        ]
        parts.append(html_table(caption, header, rows))
    gaps = disparities(ev, grouped, positive_class=positive)
    ref = int(gaps["reference"].to_numpy().argmax())
    names = list(DISPARITY_NAMES)
    cells = interval_cells(gaps, names, lambda _n: number)
    rows = []
    for i, (label, values) in enumerate(zip(labels, cells, strict=True)):
        if gaps["four_fifths_violation"].iloc[i]:
            values[names.index("disparate_impact")] += " ⚠ below 4/5"
        rows.append([f"{label} (reference)" if i == ref else label, *values])
    parts.append(html_table(f"Disparities against {labels[ref]}", ["Group", *DISPARITY_NAMES.values()], rows))
    between = summary(frame)
    parts.append(
        html_table(
            "Between groups (largest minus smallest; ratio: smallest over largest)",
            ["Measure", "Value"],
            [[SUMMARY_NAMES[k], number(v)] for k, v in between.items()],
        )
    )
    return "".join(parts)


TAG_HEADERS = {
    "id": "Row id",
    "tag": "Tag",
    "note": "Note",
    "relabel": "Relabel",
    "who": "Who",
    "when": "When",
}
AUDIT_HEADERS = {"when": "When", "who": "Who", "action": "Action", "id": "Row id", "tag": "Tag", "old": "Old",
                 "new": "New", "model": "Model", "clause": "Selection"}  # fmt: skip


def write_report(
    ev: Evaluation, path: str | os.PathLike[str], groups: str | Sequence[str] | None = None, top: int = 15
) -> Path:
    """Write the report to ``path`` and return it: overview, matrix (a regression: its residuals, see
    :mod:`errorscope.report_regression`), worst slices, groups, with several models their comparison
    (:mod:`errorscope.report_comparison`), selection, tags and the audit trail.
    Everything shown is computed on all rows; the active selection is listed."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"report path {str(path)!r}: the directory {str(path.parent)!r} does not exist.")
    sections = [f"<h1>errorscope report</h1><p class='muted'>{_e(repr(ev))}; errorscope {__version__}; "
                f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}</p>"]  # fmt: skip
    sections.append(_metrics_section(ev))
    checks = data_checks(ev)
    sections.append(
        "<h2>Data checks</h2>"
        + (
            _text_table(
                "Data checks",
                checks,
                {"check": "Check", "column": "Column", "rows": "Rows", "detail": "Detail"},
            )
            if len(checks)
            else "<p>None found.</p>"
        )
    )
    if ev.is_regression:
        from .report_regression import regression_sections

        sections.extend(regression_sections(ev, groups, top))
    else:
        counts = ev.engine.count(CONFUSION, ev.engine.as_filter(None)).counts
        sections.append(
            "<h2>Confusion matrix</h2>" + inline_image(png_bytes(confusion_figure(counts, ev.class_names)))
        )
        sections.append(_slices_section(ev, top))
        if groups is not None or ev.sensitive:
            sections.append(_groups_section(ev, groups))
    if len(ev.models) > 1:
        from .report_comparison import comparison_section

        sections.append(comparison_section(ev, top=top))
    selection = ev.selection.text() or "(nothing selected)"
    kept = ev.engine.n_kept(ev.selection.filter())  # counted by the engine, never brought into memory
    sections.append(f"<h2>Active selection</h2><p>{_e(selection)}: {kept:,} rows</p>")
    tags = ev.tags
    sections.append(
        "<h2>Tags</h2>" + (_text_table("Current tags", tags, TAG_HEADERS) if len(tags) else "<p>No tags.</p>")
    )
    if ev.tag_store is not None:
        sections.append("<h2>Audit trail</h2>" + _text_table("Every tag change, oldest first",
                                                            ev.tag_store.audit(), AUDIT_HEADERS))  # fmt: skip
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>errorscope report</title>"
        f"<style>{STYLE}</style></head><body>{''.join(sections)}</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path


def inline_image(png: bytes) -> str:
    return f"<img alt='' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>"
