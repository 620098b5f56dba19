"""The sections of the HTML report that a regression has instead of the confusion matrix and the
classification's slices and groups: its residuals, the slices with the largest mean absolute error and
the most biased ones (mean residual), and its groups (per-group metrics with intervals, disparities
against the reference group, the mean residual within bins of the actual value).

Every number comes from the engine's plans (grouped counts, sums and quantiles, the same as the views'),
so the report reads the same on every engine. Cells are formatted as :mod:`errorscope.report` formats
them: values with three decimals, intervals in their value's cell, adjusted p-values as "< 0.001".
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from . import group_regression as gr
from .evaluation import Evaluation
from .fairness import Groups, make_groups
from .figures import by_actual_figure, groups_figure, png_bytes, residual_figure, slices_figure
from .plans import Measure, Quantiles
from .report import (
    MAX_COLUMNS,
    count,
    feature_slices,
    html_table,
    inline_image,
    interval_cells,
    number,
    p_value,
    percent,
    signed,
    times,
    with_interval,
)
from .residuals import feature_axis, feature_table, histogram_table, residual_bins

METRIC_HEADERS = {"mae": "MAE", "mean_error": "Mean residual"}
RESIDUAL_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
GROUP_METRICS = {"mae": "MAE", "rmse": "RMSE", "r2": "R²", "mean_error": "Mean residual"}
GAP_COLUMNS = {
    "mae_difference": ("MAE difference", signed),
    "mae_ratio": ("MAE ratio", times),
    "rmse_difference": ("RMSE difference", signed),
    "rmse_ratio": ("RMSE ratio", times),
    "r2_difference": ("R² difference", signed),
    "mean_error_difference": ("Mean residual difference", signed),
}
BETWEEN_NAMES = {
    "mae_range": "MAE range (largest minus smallest)",
    "mae_ratio": "MAE ratio (smallest over largest)",
    "rmse_range": "RMSE range",
    "mean_error_range": "Mean residual range",
}


def regression_sections(ev: Evaluation, groups: str | Sequence[str] | None, top: int) -> list[str]:
    """The residuals, worst slices (MAE), most biased slices (mean residual) and, with groups given or
    sensitive columns, the groups section."""
    biased = feature_slices(ev, "mean_error")
    sections = [
        _residuals_section(ev, biased),
        _slices_section(ev, feature_slices(ev, "mae"), "mae", top),
        _slices_section(ev, biased, "mean_error", top),
    ]
    if groups is not None or ev.sensitive:
        sections.append(_groups_section(ev, groups))
    return sections


def _residuals_section(ev: Evaluation, biased: pd.DataFrame) -> str:
    """Predicted against actual (2-D bins, the diagonal), the residual histogram and the mean residual
    against the feature of the most biased slice (the ResidualPlot's figure, on all rows), and a table
    of over- and under-predicted rows and the residual's quantiles."""
    everything = ev.engine.as_filter(None)
    bins = residual_bins(ev)
    n = bins.actual.bins
    density = ev.engine.count(bins.density, everything).counts[:n, :n]
    histogram = ev.engine.count(bins.histogram, everything).counts
    feature = str(biased["feature"].iloc[0]) if len(biased) else (ev.features or [None])[0]
    by_feature, name, kind = None, "", ""
    if feature is not None:  # an Evaluation without features has only the first two plots
        axis = feature_axis(ev, feature)
        by_feature = feature_table(axis, ev.engine.count(axis.plan(bins), everything))
        name, kind = axis.name, axis.kind
    figure = residual_figure(
        density, bins.actual.bin_edges(), histogram[: bins.residual.bins], bins.residual.bin_edges(),
        by_feature, name, kind, f"Residuals of all {ev.n_rows:,} rows",
    )  # fmt: skip
    hist = histogram_table(bins, histogram)
    counted = hist["count"].to_numpy()
    total = max(int(counted.sum()), 1)
    over = int(counted[hist["residual_low"].to_numpy() >= 0].sum())  # 0 is a bin edge
    quantiles = ev.engine.quantiles(Quantiles(Measure("residual"), RESIDUAL_QUANTILES), everything)
    rows = [
        ["Over-predicted rows (≥ 0)", f"{count(over)} ({percent(over / total)})"],
        ["Under-predicted rows (< 0)", f"{count(total - over)} ({percent((total - over) / total)})"],
        *(
            [f"{round(100 * q)}% quantile", number(float(v))]
            for q, v in zip(RESIDUAL_QUANTILES, quantiles, strict=True)
        ),
    ]
    return (
        "<h2>Residuals</h2><p class='muted'>Residual = prediction − actual: positive is over-prediction.</p>"
        + inline_image(png_bytes(figure))
        + html_table("The residual on all rows", ["Residual (prediction − actual)", "Value"], rows)
    )


def _slices_section(ev: Evaluation, table: pd.DataFrame, metric: str, top: int) -> str:
    """The ``top`` feature slices by MAE (largest first) or by mean residual (largest in size first),
    each with its 95% interval, the rest's value, the difference (and for the MAE the ratio) and the
    Benjamini-Hochberg adjusted p-value of the difference."""
    name = METRIC_HEADERS[metric]
    header = ["Feature", "Slice", "Rows", "Share", f"{name} (95% CI)", "Rest", "Difference"]
    header += ["Ratio", "p (BH)"] if metric == "mae" else ["p (BH)"]
    rows = []
    for r in table.head(top).itertuples(index=False):
        value, rest = getattr(r, metric), getattr(r, f"rest_{metric}")
        row = [r.feature, str(r.slice), count(r.size), percent(r.share)]
        row += [with_interval(value, r.ci_low, r.ci_high, number), number(rest), signed(r.difference)]
        row += [times(r.ratio), p_value(r.p_adjusted)] if metric == "mae" else [p_value(r.p_adjusted)]
        rows.append(row)
    shown = min(top, len(table))
    if metric == "mae":
        title, caption = "Worst slices", f"The {shown} feature slices with the highest mean absolute error"
    else:
        title = "Most biased slices"
        caption = (
            f"The {shown} feature slices whose mean residual is furthest from 0 (positive: over-predicted, "
            "negative: under-predicted)"
        )
    caption += (
        " and enough rows (p: Benjamini-Hochberg adjusted); slices of the actual, predicted and residual "
        "values and of tags are left out: they top an error ranking by construction"
    )
    axis = "MAE" if metric == "mae" else "mean residual (prediction − actual)"
    figure = slices_figure(table, metric, top=top, title=f"{title} by {axis.split(' (')[0]}", label=axis)
    return f"<h2>{title}</h2>" + inline_image(png_bytes(figure)) + html_table(caption, header, rows, 2)


def _groups_section(ev: Evaluation, groups: str | Sequence[str] | None) -> str:
    """Per group: rows, MAE, RMSE, R² and mean residual with 95% intervals (Welch's test of the mean
    residual against the other rows), mean prediction and actual; disparities against the largest group;
    the range between groups; the mean residual within bins of the actual value."""
    grouped = make_groups(ev, groups)
    frame, gaps, ref = gr.group_regression(ev, grouped)
    labels = [
        f"{g} (small group)" if small else str(g)
        for g, small in zip(frame["group"], frame["small"], strict=True)
    ]
    metrics = interval_cells(frame, GROUP_METRICS, lambda _n: number)
    means = interval_cells(frame, ("mean_prediction", "mean_actual"), lambda _n: number)
    rows = [
        [label, count(c), percent(s), *values, p_value(p)]
        for label, c, s, values, p in zip(
            labels, frame["count"], frame["share"], metrics, frame["mean_error_p_adjusted"], strict=True
        )
    ]
    parts = [
        "<h2>Groups</h2>",
        inline_image(png_bytes(groups_figure(frame, "mae", None, "MAE by group", "MAE"))),
        inline_image(
            png_bytes(groups_figure(frame, "mean_error", None, "mean residual by group", "mean residual"))
        ),
        html_table(
            "Errors by group (95% intervals; p: Welch's test of the group's mean residual against the "
            "other rows, Benjamini-Hochberg adjusted)",
            ["Group", "Rows", "Share", *GROUP_METRICS.values(), "p (BH)"],
            rows,
        ),
        html_table(
            "Predictions and actual values by group (95% intervals)",
            ["Group", "Mean prediction", "Mean actual"],
            [[label, *values] for label, values in zip(labels, means, strict=True)],
        ),
    ]
    gap_rows = [
        [f"{label} (reference)" if i == ref else label]
        + [fmt(gaps[name].iloc[i]) for name, (_, fmt) in GAP_COLUMNS.items()]
        for i, label in enumerate(labels)
    ]
    header = ["Group", *(h for h, _ in GAP_COLUMNS.values())]
    parts.append(html_table(f"Disparities against {labels[ref]} (the largest group)", header, gap_rows))
    between = gr.regression_summary(frame)
    parts.append(
        html_table(
            "Between groups with rows",
            ["Measure", "Value"],
            [[BETWEEN_NAMES[k], times(v) if k == "mae_ratio" else number(v)] for k, v in between.items()],
        )
    )
    parts.append(_by_actual_section(ev, grouped, labels))
    return "".join(parts)


def _by_actual_section(ev: Evaluation, grouped: Groups, labels: list[str]) -> str:
    """The mean residual of each group within the actual value's bins: who is predicted lower than the
    others at the same actual value (tables of at most :data:`MAX_COLUMNS` columns)."""
    found = gr.residual_by_actual(ev, grouped, None)
    figure = by_actual_figure(found.labels, found.mean_error, found.overall, labels, found.counts.sum(axis=1))
    columns = [("All rows", found.overall, found.counts.sum(axis=0))]
    columns += [(label, found.mean_error[i], found.counts[i]) for i, label in enumerate(labels)]
    width = MAX_COLUMNS - 1
    tables = []
    for start in range(0, len(columns), width):
        chunk = columns[start : start + width]
        rows = [
            [bin_label, *(_mean_cell(mean[j], n[j]) for _, mean, n in chunk)]
            for j, bin_label in enumerate(found.labels)
        ]
        tables.append(
            html_table(
                "Mean residual by bin of the actual value (n: the cell's rows)",
                ["Actual value", *(name for name, _, _ in chunk)],
                rows,
            )
        )
    return (
        "<h3>Mean residual by actual value</h3><p class='muted'>Within the same range of actual values: "
        "which group is predicted lower (negative) or higher (positive) than the others.</p>"
        + inline_image(png_bytes(figure))
        + "".join(tables)
    )


def _mean_cell(mean: float, n: int) -> str:
    return f"{signed(mean)} (n\u00a0=\u00a0{count(n)})" if n else "no rows"  # may break before "("
