"""Static figures of the views (matplotlib), for reports and for front-ends that cannot run widgets
(nbviewer, GitHub, PDF export). Figures are built with ``matplotlib.figure.Figure`` directly, so making one
never touches pyplot's global state or the user's backend."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

ERROR = "#d62728"
BRAND = "#1f77b4"
DATA_TEXT = {"parse_math": False, "usetex": False}
"""Properties of every text artist that can hold data (labels, titles): drawn as written, never read as
mathtext or LaTeX, so a class named ``$x^$`` is a label, not a parse error."""


def confusion_figure(
    counts: np.ndarray, class_names: Sequence[str], title: str = "Confusion matrix"
) -> Figure:
    """A heatmap of counts (rows: actual, columns: predicted), annotated when small enough to read."""
    k = len(class_names)
    size = min(9.0, 2.5 + 0.35 * k)
    fig = Figure(figsize=(size, size * 0.85), layout="constrained")
    ax = fig.add_subplot()
    shown = counts.astype(float)
    image = ax.imshow(shown, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8, label="rows")
    ax.set_xticks(range(k), [_short(c) for c in class_names], rotation=90 if k > 6 else 0, **DATA_TEXT)
    ax.set_yticks(range(k), [_short(c) for c in class_names], **DATA_TEXT)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(title, **DATA_TEXT)
    if k <= 12:
        peak = shown.max() if shown.size else 0
        for (a, p), n in np.ndenumerate(counts):
            ax.text(p, a, f"{n:,}", ha="center", va="center", color="white" if n > peak / 2 else "black")
    return fig


def slices_figure(
    table: pd.DataFrame, metric: str, top: int = 15, title: str = "Worst slices", label: str | None = None
) -> Figure:
    """The ``top`` first slices of a slice table as horizontal bars with their 95% intervals (x axis:
    ``label``, by default the metric's name)."""
    rows = table.head(top).iloc[::-1]
    fig = Figure(figsize=(8, 0.6 + 0.32 * max(len(rows), 1)), layout="constrained")
    ax = fig.add_subplot()
    if rows.empty:
        ax.text(0.5, 0.5, "no slices", ha="center", va="center")
        ax.set_axis_off()
        return fig
    value = rows[metric].to_numpy(dtype=float)
    low, high = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    y = np.arange(len(rows))
    signed = metric == "mean_error"  # a regression's bias: over-prediction red, under-prediction blue
    ax.barh(y, value, color=[ERROR if v >= 0 or not signed else BRAND for v in value], alpha=0.75)
    ax.errorbar(
        value, y, xerr=np.clip([value - low, high - value], 0, None), fmt="none", ecolor="black", capsize=2
    )
    rest = rows[f"rest_{metric}"].to_numpy(dtype=float)
    marker = "black" if signed else BRAND
    ax.scatter(rest, y, marker="|", color=marker, s=120, label="rest of the rows", zorder=3)
    if signed:
        ax.axvline(0, color="black", linewidth=0.8)
    labels = [f"{_short(d, 40)}  (n={n:,})" for d, n in zip(rows["description"], rows["size"], strict=True)]
    ax.set_yticks(y, labels, **DATA_TEXT)
    ax.set_xlabel(label or metric.replace("_", " "))
    ax.set_title(title, **DATA_TEXT)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def groups_figure(
    table: pd.DataFrame, metric: str, hist: np.ndarray | None, title: str, label: str | None = None
) -> Figure:
    """Per group: ``metric`` (x axis: ``label``, by default its name) as a bar with its 95% interval and,
    with scores, the score distribution."""
    rows = table.reset_index(drop=True)
    n = len(rows)
    fig = Figure(figsize=(10 if hist is not None else 6, 0.8 + 0.35 * max(n, 1)), layout="constrained")
    axes = fig.subplots(1, 2 if hist is not None else 1, squeeze=False)[0]
    y = np.arange(n)[::-1]
    value = rows[metric].to_numpy(dtype=float)
    axes[0].barh(y, value, color=BRAND, alpha=0.8)
    if f"{metric}_low" in rows:
        low, high = rows[f"{metric}_low"].to_numpy(dtype=float), rows[f"{metric}_high"].to_numpy(dtype=float)
        axes[0].errorbar(
            value,
            y,
            xerr=np.clip([value - low, high - value], 0, None),
            fmt="none",
            ecolor="black",
            capsize=2,
        )
    labels = [
        f"{_short(g, 30)} (n={c:,}){' *' if s else ''}"
        for g, c, s in zip(rows["group"], rows["count"], rows["small"], strict=True)
    ]
    axes[0].set_yticks(y, labels, **DATA_TEXT)
    name = label or metric.replace("_", " ")
    axes[0].set_xlabel(name + ("  (* small group)" if rows["small"].any() else ""))
    axes[0].set_title(title, **DATA_TEXT)
    if hist is not None:
        shares = hist / np.maximum(hist.sum(axis=1, keepdims=True), 1)
        image = axes[1].imshow(shares, aspect="auto", cmap="Blues", extent=(0, 1, -0.5, n - 0.5))
        axes[1].set_yticks(y, [_short(g, 20) for g in rows["group"]], **DATA_TEXT)
        axes[1].set_xlabel("score of the positive class")
        axes[1].set_title("score distribution (share of the group's rows)")
        fig.colorbar(image, ax=axes[1], shrink=0.8)
    return fig


def bars_figure(
    labels: Sequence[str], values: Sequence[float], title: str, xlabel: str, signed: bool = False
) -> Figure:
    """Horizontal bars, one per label (red up, blue down when ``signed``); a note when there is nothing."""
    fig = Figure(figsize=(7, 0.8 + 0.3 * max(len(labels), 1)), layout="constrained")
    ax = fig.add_subplot()
    if not len(labels):
        ax.text(0.5, 0.5, "nothing to show yet", ha="center", va="center")
        ax.set_axis_off()
        ax.set_title(title, **DATA_TEXT)
        return fig
    y = np.arange(len(labels))[::-1]
    v = np.asarray(values, dtype=float)
    colors = [ERROR if (x > 0 or not signed) else BRAND for x in v]
    ax.barh(y, v, color=colors, alpha=0.8)
    ax.set_yticks(y, [_short(label, 40) for label in labels], **DATA_TEXT)
    ax.set_xlabel(xlabel)
    ax.set_title(title, **DATA_TEXT)
    if signed:
        ax.axvline(0, color="black", linewidth=0.8)
    return fig


def residual_figure(
    density: np.ndarray,
    value_edges: np.ndarray,
    histogram: np.ndarray,
    residual_edges: np.ndarray,
    feature: pd.DataFrame | None,
    feature_name: str,
    feature_kind: str,
    title: str,
) -> Figure:
    """A regression's residual plot: predicted against actual (rows per 2-D bin, log colour, the
    diagonal), the residual histogram (0 marked) and the mean residual against a feature (none when
    ``feature`` is None)."""
    fig = Figure(figsize=(12 if feature is not None else 8.5, 3.8), layout="constrained")
    ax_d, ax_h, *ax_rest = fig.subplots(1, 3 if feature is not None else 2)
    shown = np.where(density > 0, np.log10(np.maximum(density, 1)) + 1, np.nan).T  # rows: predicted
    lo, hi = float(value_edges[0]), float(value_edges[-1])
    image = ax_d.imshow(shown, origin="lower", extent=(lo, hi, lo, hi), cmap="Blues", aspect="auto")
    fig.colorbar(image, ax=ax_d, shrink=0.8, label="log10(rows) + 1")
    ax_d.plot([lo, hi], [lo, hi], color="black", linewidth=0.8)
    ax_d.set_xlabel("actual")
    ax_d.set_ylabel("predicted")
    ax_d.set_title("predicted against actual")
    widths = np.diff(residual_edges)
    colors = [ERROR if left >= 0 else BRAND for left in residual_edges[:-1]]
    ax_h.bar(residual_edges[:-1], histogram, width=widths, align="edge", color=colors, alpha=0.8)
    ax_h.axvline(0, color="black", linewidth=0.8)
    ax_h.set_xlabel("residual (prediction − actual)")
    ax_h.set_ylabel("rows")
    ax_h.set_title("residual histogram")
    if feature is None:
        fig.suptitle(title, **DATA_TEXT)
        return fig
    ax_f = ax_rest[0]
    values = feature["mean_residual"].to_numpy(dtype=float)
    if feature_kind == "numeric":
        low = feature.iloc[:, 0].to_numpy(dtype=float)
        high = feature.iloc[:, 1].to_numpy(dtype=float)
        ax_f.plot((low + high) / 2, values, marker="o", color=BRAND)
        ax_f.set_xlabel(feature_name, **DATA_TEXT)
    else:
        y = np.arange(len(feature))[::-1]
        ax_f.barh(y, values, color=[ERROR if v > 0 else BRAND for v in values], alpha=0.8)
        ax_f.set_yticks(y, [_short(v, 24) for v in feature[feature_name]], **DATA_TEXT)
        ax_f.set_xlabel("mean residual")
    (ax_f.axhline if feature_kind == "numeric" else ax_f.axvline)(0, color="black", linewidth=0.8)
    ax_f.set_title(f"mean residual by {_short(feature_name, 30)}", **DATA_TEXT)
    fig.suptitle(title, **DATA_TEXT)
    return fig


def by_actual_figure(
    bins: Sequence[str],
    means: np.ndarray,
    overall: np.ndarray,
    groups: Sequence[str],
    sizes: np.ndarray,
    most: int = 8,
) -> Figure:
    """Per group, a line of its mean residual in each bin of the actual value (``means``: groups by
    bins, NaN where a group has no rows), with every row's in black and 0 marked; with more than
    ``most`` groups, the ``most`` largest (by ``sizes``)."""
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(bins))
    ax.plot(x, overall, color="black", linewidth=2, marker="o", label="all rows")
    shown = np.sort(np.argsort(-np.asarray(sizes), kind="stable")[:most])
    for i in shown:
        ax.plot(x, means[i], marker=".", alpha=0.8, label=_short(groups[i], 30))
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, [_short(b, 22) for b in bins], rotation=30, ha="right", **DATA_TEXT)
    ax.set_xlabel("actual value (bins)")
    ax.set_ylabel("mean residual")
    which = f"the {most} largest groups" if len(groups) > most else "group"
    ax.set_title(f"mean residual by {which} within bins of the actual value")
    legend = ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    for text in legend.get_texts():
        text.set(**DATA_TEXT)
    return fig


def balance_figure(
    actual: Sequence[float],
    predicted: Sequence[float],
    title: str,
    labels: Sequence[str] | None = None,
    edges: np.ndarray | None = None,
    selected: tuple[Sequence[float], Sequence[float]] | None = None,
) -> Figure:
    """Rows per actual and per predicted class (``labels``: side-by-side bars) or per bin of the actual
    and predicted values (``edges``: two step histograms, and the ``selected`` rows' filled)."""
    fig = Figure(figsize=(7, 3.4), layout="constrained")
    ax = fig.add_subplot()
    if edges is not None:
        if selected is not None:
            ax.stairs(selected[0], edges, fill=True, color=BRAND, alpha=0.25, label="selected, actual")
            ax.stairs(selected[1], edges, fill=True, color=ERROR, alpha=0.25, label="selected, predicted")
        ax.stairs(actual, edges, color=BRAND, linewidth=1.5, label="actual")
        ax.stairs(predicted, edges, color=ERROR, linewidth=1.5, label="predicted")
        ax.set_xlabel("value")
    else:
        names = list(labels or [])
        x = np.arange(len(names))
        ax.bar(x - 0.2, actual, width=0.4, color=BRAND, label="actual")
        ax.bar(x + 0.2, predicted, width=0.4, color=ERROR, alpha=0.8, label="predicted")
        ax.set_xticks(x, [_short(n) for n in names], rotation=90 if len(names) > 6 else 0, **DATA_TEXT)
    ax.set_ylabel("rows")
    ax.set_title(title, **DATA_TEXT)
    ax.legend(fontsize="small")
    return fig


def differences_figure(
    labels: Sequence[str],
    diff: Sequence[float],
    lo: Sequence[float],
    hi: Sequence[float],
    title: str,
    xlabel: str,
) -> Figure:
    """Paired differences with their intervals, one row per label (a dot and a line; 0 marked)."""
    fig = Figure(figsize=(7, 0.9 + 0.32 * max(len(labels), 1)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(labels))[::-1]
    d, low, high = (np.asarray(v, dtype=float) for v in (diff, lo, hi))
    spread = np.vstack([np.nan_to_num(d - low), np.nan_to_num(high - d)])
    ax.errorbar(d, y, xerr=spread, fmt="o", color=BRAND, ecolor=BRAND, capsize=3)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [_short(label, 40) for label in labels], **DATA_TEXT)
    ax.set_xlabel(xlabel, **DATA_TEXT)
    ax.set_title(title, **DATA_TEXT)
    return fig


def png_bytes(fig: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _short(text: object, limit: int = 18) -> str:
    s = str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def profile_figure(
    charts: Sequence[pd.DataFrame], names: Sequence[str], error_measure: str, title: str
) -> Figure:
    """The data profile's first charts: per feature its rows per cell (outline: all rows; filled: the
    rows kept) and the error per cell on a second axis."""
    columns = 3
    rows = max(1, -(-len(charts) // columns))
    fig = Figure(figsize=(11, 2.6 * rows), layout="constrained")
    fig.suptitle(title, **DATA_TEXT)
    for i, (chart, name) in enumerate(zip(charts, names, strict=True)):
        ax = fig.add_subplot(rows, columns, i + 1)
        x = np.arange(len(chart))
        ax.bar(x, chart["rows"], color="none", edgecolor=BRAND, linewidth=0.8)
        ax.bar(x, chart["kept"], color=BRAND, alpha=0.6)
        ax.set_xticks(x, [_short(str(c), 12) for c in chart["cell"]], rotation=60, fontsize=6, **DATA_TEXT)
        ax.set_title(name, fontsize=9, **DATA_TEXT)
        errors = ax.twinx()
        errors.plot(x, chart["error"], color=ERROR, marker=".", linewidth=1)
        errors.set_ylabel(error_measure, fontsize=7, color=ERROR)
    return fig
