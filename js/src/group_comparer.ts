/** GroupComparer widget: a metric per group with intervals, disparities, score distributions, what-if. */
import { toFloat64, toUint32, toUint8 } from "./lib/buffers";
import { h, positiveClassNote, svg } from "./lib/dom";
import { abbreviate, formatCount, formatInterval, formatMetric, formatPercent, formatSignificant, niceTicks } from "./lib/format";
import { mountView, type WidgetModel } from "./lib/model";

export const METRICS: [string, string][] = [
  ["selection_rate", "selection rate"],
  ["base_rate", "base rate"],
  ["accuracy", "accuracy"],
  ["precision", "precision"],
  ["recall", "recall (TPR)"],
  ["fpr", "false positive rate"],
  ["fnr", "false negative rate"],
  ["f1", "F1"],
  ["mean_score", "mean score"],
  ["ece", "calibration error (ECE)"],
];
/** A regression's metrics per group (in the target's units, R² apart). */
export const REGRESSION_METRICS: [string, string][] = [
  ["mae", "MAE"],
  ["rmse", "RMSE"],
  ["r2", "R²"],
  ["mean_error", "mean residual"],
  ["mean_prediction", "mean prediction"],
  ["mean_actual", "mean actual"],
];
const REGRESSION_SUMMARY: [string, string][] = [
  ["mae_range", "MAE range (max − min)"],
  ["mae_ratio", "MAE ratio (min / max)"],
  ["rmse_range", "RMSE range"],
  ["mean_error_range", "Mean residual range"],
];
/** Columns of a regression's disparity table: [metric, kind, header]. */
const REGRESSION_DISPARITIES: [string, string, string][] = [
  ["mae", "difference", "MAE − ref."],
  ["mae", "ratio", "MAE ÷ ref."],
  ["rmse", "difference", "RMSE − ref."],
  ["rmse", "ratio", "RMSE ÷ ref."],
  ["r2", "difference", "R² − ref."],
  ["mean_error", "difference", "mean resid. − ref."],
  ["mean_prediction", "difference", "mean pred. − ref."],
  ["mean_actual", "difference", "mean actual − ref."],
];
/** Cells of the mean residual by actual value with fewer rows than this are drawn faint. */
const FEW_ROWS = 10;
/** Okabe-Ito, colour-blind safe: one colour per group in the residual-by-actual plot. */
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C8C8C", "#F0E442"];

/** Where a bar of `v` (and its interval) sits on a scale spanning 0 and every value: [left, width] in %. */
export function barPlacement(v: number, lo: number, hi: number): [number, number] {
  const span = hi - lo || 1;
  if (!Number.isFinite(v)) return [(100 * (0 - lo)) / span, 0];
  return [(100 * (Math.min(0, v) - lo)) / span, (100 * Math.abs(v)) / span];
}

const DISPARITIES: [string, string][] = [
  ["demographic_parity_difference", "Demographic parity difference"],
  ["disparate_impact", "Disparate impact (ratio)"],
  ["equal_opportunity_difference", "Equal opportunity difference"],
  ["equalized_odds_difference", "Equalized odds difference"],
];
const SUMMARY: [string, string][] = [
  ["demographic_parity_difference", "Demographic parity difference"],
  ["demographic_parity_ratio", "Demographic parity ratio"],
  ["equalized_odds_difference", "Equalized odds difference"],
  ["equal_opportunity_difference", "Equal opportunity difference"],
];

const f64 = (raw: any, key: string): Float64Array => toFloat64(raw?.[key]);
/** One small histogram (counts per bin), with a vertical mark at bin position `mark` (NaN: none). */
function histogram(row: number[], mark: number, markClass = "es-median"): SVGSVGElement {
  const nBins = row.length;
  const peak = Math.max(1, ...row);
  const plot = svg("svg", { viewBox: `0 0 ${nBins} 10`, preserveAspectRatio: "none", "aria-hidden": "true" });
  row.forEach((c, b) => plot.append(svg("rect", { x: b + 0.05, width: 0.9, y: 10 - (10 * c) / peak, height: (10 * c) / peak })));
  if (Number.isFinite(mark)) plot.append(svg("line", { x1: mark, x2: mark, y1: 0, y2: 10, class: markClass }));
  return plot;
}

/** A regression's disparities against the reference group: differences (and ratios of the errors). */
function regressionDisparities(labels: string[], refIndex: number, d: any): HTMLElement {
  return h("table", { className: "es-table", role: "table", "aria-label": `Disparities against ${labels[refIndex] ?? "the reference"}` }, [
    h("thead", {}, [h("tr", {}, ["group", ...REGRESSION_DISPARITIES.map(([, , n]) => n)].map((t) => h("th", { scope: "col", text: t })))]),
    h("tbody", {}, labels.map((label, i) =>
      h("tr", { className: i === refIndex ? "es-reference" : "" }, [
        h("th", { scope: "row", text: i === refIndex ? `${label} (reference)` : label }),
        ...REGRESSION_DISPARITIES.map(([m, kind]) => {
          const x = f64(d, `${m}_${kind}`)[i]!;
          const text = kind === "ratio" ? (Number.isFinite(x) ? `${x.toFixed(2)}×` : "–") : m === "r2" ? formatMetric(x) : formatSignificant(x);
          return h("td", { className: "es-num", text: kind === "difference" && x > 0 ? `+${text}` : text });
        }),
      ]),
    )),
  ]);
}

/** A regression's extra sections: the Welch test of each group's mean residual against the other rows,
 * the prediction and residual histograms per group, and the mean residual per group by actual value. */
function regressionSections(r: any, g: any, labels: string[]): HTMLElement[] {
  const [bias, rest, p, adjusted] = [f64(g, "mean_error"), f64(g, "mean_error_rest"), f64(g, "mean_error_p_value"), f64(g, "mean_error_p_adjusted")];
  const testsNote = h("p", { className: "es-cohort-heading", text: "Is a group over- or under-predicted? Each group's mean residual (prediction − actual) against the other rows': Welch's t-test, p-values Benjamini-Hochberg adjusted over the groups." });
  const tests = h("table", { className: "es-table", role: "table", "aria-label": "Mean residual against the other rows" }, [
    h("thead", {}, [h("tr", {}, ["group", "mean resid.", "other rows", "p", "adj. p"].map((t) => h("th", { scope: "col", text: t })))]),
    h("tbody", {}, labels.map((label, i) => h("tr", {}, [
      h("th", { scope: "row", text: label }),
      h("td", { className: "es-num", text: formatSignificant(bias[i]!) }),
      h("td", { className: "es-num", text: formatSignificant(rest[i]!) }),
      h("td", { className: "es-num", text: formatMetric(p[i]!) }),
      h("td", { className: `es-num${adjusted[i]! < 0.05 ? " es-flag" : ""}`, text: `${formatMetric(adjusted[i]!)}${adjusted[i]! < 0.05 ? " ⚠" : ""}` }),
    ]))),
  ]);
  const dists = (key: string, title: string, what: string): HTMLElement | null => {
    const hist = toUint32(r[key]);
    const edges = f64(r, `${key}_edges`);
    if (!hist.length || edges.length < 2) return null;
    const nBins = edges.length - 1;
    const lo = edges[0]!, hi = edges[edges.length - 1]!;
    const zero = key === "residual" && lo < 0 && hi > 0 ? ((0 - lo) / (hi - lo)) * nBins : NaN;
    return h("section", { className: "es-dist-section", "aria-label": title }, [
      h("p", { className: "es-cohort-heading", text: `${title}: ${formatSignificant(lo)} to ${formatSignificant(hi)} in ${nBins} bins${key === "residual" ? "; the line is 0" : ""}` }),
      h("ul", { className: "es-dists", "aria-label": title }, labels.map((label, i) => {
        const row = Array.from(hist.slice(i * nBins, (i + 1) * nBins));
        const total = row.reduce((a, c) => a + c, 0);
        return h("li", { "aria-label": `${label}: ${formatCount(total)} rows` }, [h("span", { className: "es-group-label", text: label }), histogram(row, zero, "es-zero-mark"), h("span", { className: "es-num", text: `${what} ${formatSignificant(f64(g, key === "residual" ? "mean_error" : "mean_prediction")[i]!)}` })]);
      })),
    ]);
  };
  // mean residual per group within bins of the actual value: lines of dots, 0 marked
  const bins = (r.actual_bins ?? []) as string[];
  const means = f64(r, "actual_mean_error");
  const cells = toUint32(r.actual_counts);
  let byActual: HTMLElement | null = null;
  if (bins.length) {
    const b = bins.length;
    const values = Array.from(means).filter(Number.isFinite);
    const [lo, hi] = [Math.min(0, ...values), Math.max(0, ...values)];
    const width = 420, height = 170, left = 44, right = 8, top = 8, bottom = 26;
    const X = (j: number): number => left + ((j + 0.5) / b) * (width - left - right);
    const Y = (v: number): number => top + ((hi - v) / (hi - lo || 1)) * (height - top - bottom);
    const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "es-by-actual", role: "img", "aria-label": `Mean residual per group in ${b} bins of the actual value, from ${bins[0]} to ${bins[b - 1]}` });
    plot.append(svg("line", { x1: left, x2: width - right, y1: Y(0), y2: Y(0), class: "es-zero" }));
    for (const v of [lo, hi]) {
      const t = svg("text", { x: left - 4, y: Y(v) + 3.5, "text-anchor": "end", class: "es-axis-text" });
      t.textContent = formatSignificant(v, 3);
      plot.append(t);
    }
    const z = svg("text", { x: left - 4, y: Y(0) + 3.5, "text-anchor": "end", class: "es-axis-text" });
    z.textContent = "0";
    plot.append(z);
    const xl = svg("text", { x: (left + width - right) / 2, y: height - 6, "text-anchor": "middle", class: "es-axis-text" });
    xl.textContent = `actual (${b} bins)`;
    const first = svg("text", { x: left, y: height - 6, "text-anchor": "start", class: "es-axis-text" });
    first.textContent = abbreviate(bins[0]!, 14);
    const last = svg("text", { x: width - right, y: height - 6, "text-anchor": "end", class: "es-axis-text" });
    last.textContent = abbreviate(bins[b - 1]!, 14);
    plot.append(xl, first, last);
    labels.forEach((label, i) => {
      const colour = PALETTE[i % PALETTE.length]!;
      let path = "";
      for (let j = 0; j < b; j++) {
        const v = means[i * b + j]!;
        if (!Number.isFinite(v)) continue;
        path += `${path ? "L" : "M"}${X(j)} ${Y(v)}`;
      }
      plot.append(svg("path", { d: path, class: "es-by-actual-line", stroke: colour }));
      for (let j = 0; j < b; j++) {
        const v = means[i * b + j]!;
        if (!Number.isFinite(v)) continue;
        const few = cells[i * b + j]! < FEW_ROWS;
        plot.append(svg("circle", { cx: X(j), cy: Y(v), r: 2.6, fill: colour, class: few ? "es-few" : "" }, `${label}, actual ${bins[j]}: mean residual ${formatSignificant(v)} (${formatCount(cells[i * b + j]!)} rows${few ? ", few" : ""})`));
      }
    });
    const legend = h("ul", { className: "es-legend", "aria-hidden": "true" }, labels.map((label, i) => {
      const swatch = h("span", { className: "es-swatch" });
      swatch.style.background = PALETTE[i % PALETTE.length]!;
      return h("li", {}, [swatch, h("span", { text: label })]);
    }));
    const table = h("details", { className: "es-by-actual-table" }, [
      h("summary", { text: "As a table (mean residual, rows)" }),
      h("div", { className: "es-scroll" }, [
        h("table", { className: "es-table", role: "table", "aria-label": "Mean residual by group and actual value" }, [
          h("thead", {}, [h("tr", {}, ["group", ...bins].map((t) => h("th", { scope: "col", text: t })))]),
          h("tbody", {}, labels.map((label, i) => h("tr", {}, [
            h("th", { scope: "row", text: label }),
            ...bins.map((_, j) => h("td", { className: "es-num", text: cells[i * b + j] ? `${formatSignificant(means[i * b + j]!, 3)} (${formatCount(cells[i * b + j]!)})` : "–" })),
          ]))),
        ]),
      ]),
    ]);
    byActual = h("section", { className: "es-by-actual-wrap", "aria-label": "Mean residual by actual value" }, [
      h("p", { className: "es-cohort-heading", text: `Mean residual at the same actual value: below 0, a group is predicted lower than it is; faint dots hold fewer than ${FEW_ROWS} rows (hover a dot for its rows)` }),
      plot,
      legend,
      table,
    ]);
  }
  return [
    testsNote,
    h("div", { className: "es-scroll" }, [tests]),
    ...[dists("prediction", "Predictions by group", "mean"), dists("residual", "Residuals by group", "mean"), byActual].filter((x): x is HTMLElement => !!x),
  ];
}

/** The trade-off's largest disparities: [name, label, the per-group column's header]. */
export const TRADEOFF_DISPARITIES: [string, string, string][] = [
  ["demographic_parity_difference", "demographic parity difference", "DP diff. vs ref."],
  ["equalized_odds_difference", "equalized odds difference", "EO diff. vs ref."],
  ["equal_opportunity_difference", "equal opportunity difference", "Equal opp. diff. vs ref."],
];
export const REGRESSION_TRADEOFF_DISPARITIES: [string, string, string][] = [
  ["mae_range", "MAE range (largest gap)", "MAE − ref."],
  ["rmse_range", "RMSE range (largest gap)", "RMSE − ref."],
  ["mean_error_range", "mean residual range", "mean resid. − ref."],
];
const OVERALL_NAMES: Record<string, string> = { accuracy: "accuracy", precision: "precision", recall: "recall", f1: "F1", fpr: "false positive rate", fnr: "false negative rate", mae: "MAE", rmse: "RMSE", r2: "R²" };
const LOWER_IS_BETTER = new Set(["fpr", "fnr", "mae", "rmse"]);

interface TradeoffPoint { model: string; value: number | null; disparity: number | null; active: boolean }

/** The accessible name of a trade-off point: "candidate: accuracy 0.866, largest disparity 0.120". */
export function pointName(p: TradeoffPoint, metric: string, regression: boolean): string {
  const fmt = regression ? formatSignificant : formatMetric;
  return `${p.model}: ${OVERALL_NAMES[metric] ?? metric} ${fmt(p.value ?? NaN)}, largest disparity ${fmt(p.disparity ?? NaN)}`;
}

/** A scale's range padded so no point sits on an axis: [lo, hi] spanning every value (and `lo0` if given). */
function padded(values: number[], lo0?: number): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (lo0 !== undefined) finite.push(lo0);
  if (!finite.length) return [0, 1];
  let lo = Math.min(...finite), hi = Math.max(...finite);
  const pad = (hi - lo) * 0.12 || Math.abs(hi) * 0.1 || 0.05;
  lo = lo0 !== undefined && lo >= lo0 ? lo0 : lo - pad;
  hi += pad;
  return [lo, hi];
}

/** The trade-off chart: each model a point of its overall metric (x) against its largest disparity
 * between groups (y); each point a focusable button that makes its model active (Enter or Space; arrow
 * keys move between points). */
export function tradeoffChart(model: WidgetModel, t: any, regression: boolean): HTMLElement {
  const points = (t.points ?? []) as TradeoffPoint[];
  const metric = String(t.metric ?? "accuracy");
  const disparity = String(t.disparity_metric ?? "");
  const names = regression ? REGRESSION_TRADEOFF_DISPARITIES : TRADEOFF_DISPARITIES;
  const disparityName = names.find(([k]) => k === disparity)?.[1] ?? disparity;
  const metricName = OVERALL_NAMES[metric] ?? metric;
  const fmt = regression ? formatSignificant : formatMetric;
  const width = 380, height = 240, left = 58, right = 14, top = 12, bottom = 44;
  const [xLo, xHi] = padded(points.map((p) => p.value ?? NaN));
  const [yLo, yHi] = padded(points.map((p) => p.disparity ?? NaN), 0);
  const X = (v: number): number => left + ((v - xLo) / (xHi - xLo || 1)) * (width - left - right);
  const Y = (v: number): number => top + ((yHi - v) / (yHi - yLo || 1)) * (height - top - bottom);
  const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "es-tradeoff-plot", role: "group", "aria-label": `Models: ${metricName} against the largest disparity (${disparityName})` });
  plot.append(svg("rect", { x: left, y: top, width: width - left - right, height: height - top - bottom, class: "es-tradeoff-frame" }));
  const text = (x: number, y: number, label: string, anchor: string, cls = "es-axis-text", extra: Record<string, string | number> = {}): SVGTextElement => {
    const el = svg("text", { x, y, "text-anchor": anchor, class: cls, ...extra });
    el.textContent = label;
    return el;
  };
  for (const v of niceTicks(xLo, xHi, 4)) {
    plot.append(svg("line", { x1: X(v), x2: X(v), y1: height - bottom, y2: height - bottom + 4, class: "es-tick" }));
    plot.append(text(X(v), height - bottom + 15, fmt(v), "middle"));
  }
  for (const v of niceTicks(yLo, yHi, 4)) {
    plot.append(svg("line", { x1: left - 4, x2: left, y1: Y(v), y2: Y(v), class: "es-tick" }));
    plot.append(text(left - 6, Y(v) + 4, fmt(v), "end"));
  }
  const better = LOWER_IS_BETTER.has(metric) ? "lower is better" : "higher is better";
  plot.append(text((left + width - right) / 2, height - 6, `${metricName} (${better})`, "middle", "es-axis-label"));
  const yMid = (top + height - bottom) / 2;
  plot.append(text(14, yMid, "largest disparity", "middle", "es-axis-label", { transform: `rotate(-90 14 ${yMid})` }));
  const buttons: SVGGElement[] = [];
  const choose = (p: TradeoffPoint): void => model.send({ type: "active_model", model: p.model });
  points.forEach((p, i) => {
    if (p.value == null || p.disparity == null) return;
    const [cx, cy] = [X(p.value), Y(p.disparity)];
    const g = svg("g", { role: "button", tabindex: 0, "aria-pressed": String(!!p.active), "aria-label": pointName(p, metric, regression), class: `es-tradeoff-point${p.active ? " es-active" : ""}`, "data-focus": `tradeoff-${i}` });
    g.append(svg("circle", { cx, cy, r: 11, class: "es-hit" }), svg("circle", { cx, cy, r: p.active ? 6.5 : 5, class: "es-dot" }));
    const onRight = cx < (left + width - right) / 2;
    const label = abbreviate(p.model, 16);
    // the label is part of what a pointer can press: a transparent box from the dot to the label's end
    const span = 10 + 7.2 * Array.from(label).length;
    g.append(svg("rect", { x: onRight ? cx - 11 : cx - span, y: cy - 21, width: span + 11, height: 32, class: "es-hit" }));
    g.append(text(cx + (onRight ? 10 : -10), cy - 8, label, onRight ? "start" : "end", "es-point-label"));
    g.addEventListener("click", () => choose(p));
    g.addEventListener("keydown", (e) => {
      const k = (e as KeyboardEvent).key;
      if (k === "Enter" || k === " ") {
        e.preventDefault();
        e.stopPropagation();
        choose(p);
      } else if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"].includes(k)) {
        e.preventDefault();
        e.stopPropagation();
        const at = buttons.indexOf(g);
        const next = k === "Home" ? 0 : k === "End" ? buttons.length - 1 : k === "ArrowLeft" || k === "ArrowUp" ? Math.max(0, at - 1) : Math.min(buttons.length - 1, at + 1);
        buttons[next]?.focus();
      }
    });
    buttons.push(g);
  });
  plot.append(...buttons); // in the models' order: Tab and the arrow keys go through them alike
  return h("div", { className: "es-tradeoff-chart" }, [plot]);
}

/** Every model's metric per group and its disparity against the reference (a table that scrolls in its
 * own box), the active model's columns marked. */
export function modelsByGroup(m: any, labels: string[], metricName: string, fmt: (x: number) => string, active: string, regression: boolean): HTMLElement {
  const columns = (m.models ?? []) as any[];
  const gapHeader = [...TRADEOFF_DISPARITIES, ...REGRESSION_TRADEOFF_DISPARITIES].find(([k]) => k.replace(/_range$/, "_difference") === m.gap)?.[2] ?? "vs ref.";
  const gapFmt = regression ? formatSignificant : formatMetric;
  return h("div", { className: "es-scroll es-models-scroll" }, [
    h("table", { className: "es-table es-models-table", role: "table", "aria-label": `${metricName} and disparity by model and group` }, [
      h("thead", {}, [
        h("tr", {}, [h("th", { scope: "col", rowspan: 2, text: "group" }), ...columns.map((c) => h("th", { scope: "colgroup", colspan: 2, className: c.model === active ? "es-active" : "", text: c.model === active ? `${c.model} (active)` : String(c.model) }))]),
        h("tr", {}, columns.flatMap((c) => [h("th", { scope: "col", className: c.model === active ? "es-active" : "", text: metricName }), h("th", { scope: "col", className: c.model === active ? "es-active" : "", text: gapHeader })])),
      ]),
      h("tbody", {}, labels.map((label, i) => h("tr", {}, [
        h("th", { scope: "row", text: label }),
        ...columns.flatMap((c) => {
          const [v, lo, hi, gap] = [f64(c, "value")[i]!, f64(c, "low")[i]!, f64(c, "high")[i]!, f64(c, "gap")[i]!];
          const cls = `es-num${c.model === active ? " es-active" : ""}`;
          const gapText = i === Number(c.reference) ? "ref." : Number.isFinite(gap) && gap > 0 ? `+${gapFmt(gap)}` : gapFmt(gap);
          return [h("td", { className: cls, text: formatInterval(v, lo, hi, fmt) }), h("td", { className: cls, text: gapText })];
        }),
      ]))),
    ]),
  ]);
}

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-groups", role: "region", "aria-label": "Group comparer" });
  el.append(root);
  const setTrait = (name: string, value: unknown): void => {
    model.set(name, value);
    model.save_changes();
  };

  const paint = (): void => {
    const hadFocus = root.contains(document.activeElement);
    const focused = (document.activeElement as HTMLElement | null)?.getAttribute?.("data-focus");
    const g = model.get("groups") ?? {};
    const labels: string[] = g.labels ?? [];
    const count = toUint32(g.count);
    const small = toUint8(g.small);
    const regression = model.get("task") === "regression";
    const metrics = regression ? REGRESSION_METRICS : METRICS;
    const metric = String(model.get("metric") ?? (regression ? "mae" : "selection_rate"));
    const metricName = metrics.find(([k]) => k === metric)?.[1] ?? metric;
    const isRate = !regression && metric !== "mean_score" && metric !== "ece";
    const fmt = (x: number): string => (isRate ? formatPercent(x) : regression ? formatSignificant(x) : formatMetric(x));
    const [value, low, high] = [f64(g, metric), f64(g, `${metric}_low`), f64(g, `${metric}_high`)];
    const selected = new Set((model.get("selected_groups") ?? []) as number[]);
    const nRows = Number(model.get("n_rows") ?? 0);
    root.setAttribute("data-rows", String(nRows));
    const clause = String(model.get("clause_text") ?? "");
    const filter = String(model.get("filter_text") ?? "");
    const minSize = Number(model.get("min_size") ?? 30);

    const metricSelect = h("select", { "aria-label": "Metric", "data-focus": "metric" });
    for (const [k, name] of metrics) if (g[k]) metricSelect.append(h("option", { value: k, text: name }));
    metricSelect.value = metric;
    metricSelect.addEventListener("change", () => setTrait("metric", metricSelect.value));
    const classes = (model.get("class_names") ?? []) as string[];
    const positive = h("select", { "aria-label": "Positive class", "data-focus": "positive" });
    for (const c of classes) positive.append(h("option", { value: c, text: c }));
    positive.value = String(model.get("positive") ?? "");
    positive.addEventListener("change", () => setTrait("positive", positive.value));
    const reference = h("select", { "aria-label": "Reference group", "data-focus": "reference" }, [
      h("option", { value: "", text: "largest group" }),
      h("option", { value: "best", text: regression ? "best group (lowest MAE)" : "best group" }),
      h("option", { value: "worst", text: regression ? "worst group (highest MAE)" : "worst group" }),
      ...labels.map((l) => h("option", { value: l, text: l })),
    ]);
    reference.value = String(model.get("reference") ?? "");
    reference.addEventListener("change", () => setTrait("reference", reference.value));

    // bars: the chosen metric per group with its interval
    const finite = [...Array.from(high), ...Array.from(low), ...Array.from(value)].filter(Number.isFinite);
    const scaleHi = Math.max(1e-12, ...finite);
    const scaleLo = Math.min(0, ...finite);
    const bars = h("ul", { className: "es-group-bars", "aria-label": `${metricName} by group` });
    labels.forEach((label, i) => {
      const button = h("button", {
        type: "button",
        "aria-pressed": String(selected.has(i)),
        "aria-label": `${label}: ${formatCount(count[i]!)} rows, ${metricName} ${fmt(value[i]!)}${small[i] ? ", small group" : ""}`,
        "data-focus": `group-${i}`,
        title: `${label}: 95% interval ${fmt(low[i]!)} to ${fmt(high[i]!)}`,
      }, [
        h("span", { className: "es-group-label", text: label }),
        h("span", { className: "es-muted", text: `${formatCount(count[i]!)}${small[i] ? ` · small (<${minSize})` : ""}` }),
      ]);
      button.addEventListener("click", (e) => model.send({ type: "select_group", index: i, additive: e.shiftKey || e.ctrlKey || e.metaKey }));
      const track = h("span", { className: "es-track", "aria-hidden": "true" }, [h("span", { className: "es-fill" }), h("span", { className: "es-ci" })]);
      const v = value[i]!;
      const [left, width] = barPlacement(v, scaleLo, scaleHi);
      const fill = track.children[0] as HTMLElement;
      fill.style.left = `${left}%`;
      fill.style.width = `${width}%`;
      const ci = track.children[1] as HTMLElement;
      const span = scaleHi - scaleLo || 1;
      ci.style.left = `${(100 * ((Number.isFinite(low[i]!) ? low[i]! : 0) - scaleLo)) / span}%`;
      ci.style.width = `${(100 * Math.max(0, (high[i] ?? 0) - (low[i] ?? 0))) / span || 0}%`;
      bars.append(h("li", { className: small[i] ? "es-small" : "" }, [button, track, h("span", { className: "es-num", text: formatInterval(v, low[i]!, high[i]!, fmt) })]));
    });

    // disparity summary across groups, and per group against the reference
    const summaryValues = (model.get("summary_values") ?? {}) as Record<string, number>;
    const summaryNames = regression ? REGRESSION_SUMMARY : SUMMARY;
    const summaryList = h("table", { className: "es-summary", role: "table", "aria-label": "Disparities across groups" }, [
      h("thead", {}, [h("tr", {}, summaryNames.map(([, name]) => h("th", { scope: "col", text: name })))]),
      h("tbody", {}, [h("tr", {}, summaryNames.map(([k]) => {
        if (regression) return h("td", { text: k.endsWith("ratio") ? formatMetric(summaryValues[k] ?? NaN) : formatSignificant(summaryValues[k] ?? NaN) });
        const x = summaryValues[k] ?? NaN;
        const flag = k === "demographic_parity_ratio" && x < 0.8;
        return h("td", { className: flag ? "es-flag" : "", text: `${formatMetric(x)}${flag ? " (below four-fifths)" : ""}` });
      }))]),
    ]);
    const d = model.get("disparity") ?? {};
    const refIndex = Number(d.reference ?? 0);
    const fourFifths = toUint8(d.four_fifths);
    const dispTable = regression ? regressionDisparities(labels, refIndex, d) : h("table", { className: "es-table", role: "table", "aria-label": `Disparities against ${labels[refIndex] ?? "the reference"}` }, [
      h("thead", {}, [h("tr", {}, ["group", ...DISPARITIES.map(([, n]) => n)].map((t) => h("th", { scope: "col", text: t })))]),
      h("tbody", {}, labels.map((label, i) =>
        h("tr", { className: i === refIndex ? "es-reference" : "" }, [
          h("th", { scope: "row", text: i === refIndex ? `${label} (reference)` : label }),
          ...DISPARITIES.map(([k]) => {
            const [x, lo, hi] = [f64(d, k)[i]!, f64(d, `${k}_low`)[i]!, f64(d, `${k}_high`)[i]!];
            const flagged = k === "disparate_impact" && fourFifths[i] === 1;
            return h("td", { className: `es-num${flagged ? " es-flag" : ""}`, text: `${formatInterval(x, lo, hi, formatMetric)}${flagged ? " ⚠ <4/5" : ""}` });
          }),
        ]),
      )),
    ]);

    // an outcome-defined filter (an error cell, a tag, a score bin): rank groups by lift
    const outcome = String(model.get("outcome_filter") ?? "");
    let liftSection: HTMLElement | null = null;
    if (outcome) {
      const lt = model.get("lift_table") ?? {};
      const [ofFilter, ofAll, lift, liftLow, liftHigh] = [f64(lt, "share_of_filter"), f64(lt, "share_of_all"), f64(lt, "lift"), f64(lt, "lift_low"), f64(lt, "lift_high")];
      const order = labels.map((_, i) => i).sort((a, b) => (Number.isFinite(lift[b]!) ? lift[b]! : -1) - (Number.isFinite(lift[a]!) ? lift[a]! : -1));
      const times = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "–");
      liftSection = h("section", { className: "es-lift", "aria-label": "Groups by lift" }, [
        h("p", { className: "es-note", role: "note", text: `The selection is defined by the outcome (${outcome}), so each group's rates follow from it. Groups are ranked by lift: their share of these rows against their share of all rows.` }),
        h("div", { className: "es-scroll" }, [
          h("table", { className: "es-table", role: "table", "aria-label": "Lift by group" }, [
            h("thead", {}, [h("tr", {}, ["group", "share of these rows", "share of all rows", "lift (95% interval)"].map((t) => h("th", { scope: "col", text: t })))]),
            h("tbody", {}, order.map((i) => h("tr", {}, [
              h("th", { scope: "row", text: labels[i]! }),
              h("td", { className: "es-num", text: formatPercent(ofFilter[i]!) }),
              h("td", { className: "es-num", text: formatPercent(ofAll[i]!) }),
              h("td", { className: "es-num", text: formatInterval(lift[i]!, liftLow[i]!, liftHigh[i]!, times) }),
            ]))),
          ]),
        ]),
      ]);
    }

    // score distributions: one small histogram per group, median marked
    const dist = model.get("distributions") ?? {};
    const hist = toUint32(dist.hist);
    const nBins = Number(dist.bins ?? 20);
    const median = f64(dist, "median");
    const distributions = regression ? null : hist.length
      ? h("ul", { className: "es-dists", "aria-label": "Score distributions by group" }, labels.map((label, i) => {
          const row = Array.from(hist.slice(i * nBins, (i + 1) * nBins));
          const m = median[i]!;
          return h("li", { "aria-label": `${label}: median score ${formatMetric(m)}` }, [h("span", { className: "es-group-label", text: label }), histogram(row, m * nBins), h("span", { className: "es-num", text: `median ${formatMetric(m)}` })]);
        }))
      : null;

    // representation against the reference shares, when given
    const rep = model.get("representation_table") ?? {};
    const share = f64(rep, "share");
    const refShare = f64(rep, "reference_share");
    const representation = rep.given
      ? h("table", { className: "es-table", role: "table", "aria-label": "Representation" }, [
          h("thead", {}, [h("tr", {}, ["group", "share of rows", "expected", "ratio"].map((t) => h("th", { scope: "col", text: t })))]),
          h("tbody", {}, labels.map((label, i) => h("tr", {}, [
            h("th", { scope: "row", text: label }),
            h("td", { className: "es-num", text: formatPercent(share[i]!) }),
            h("td", { className: "es-num", text: formatPercent(refShare[i]!) }),
            h("td", { className: "es-num", text: formatMetric(share[i]! / refShare[i]!) }),
          ]))),
          h("caption", { text: `chi-square goodness of fit p = ${formatMetric(Number(rep.p_value ?? NaN))}` }),
        ])
      : null;

    // what-if thresholds per group (binary scores only): nothing changes until the user applies it in code
    let whatIf: HTMLElement | null = null;
    if (model.get("can_threshold")) {
      const thresholds = (model.get("thresholds") ?? {}) as Record<string, number>;
      const w = model.get("what_if") ?? {};
      const [sel, tpr, fpr] = [f64(w, "selection_rate"), f64(w, "recall"), f64(w, "fpr")];
      const body = labels.map((label, i) => {
        const input = h("input", { type: "number", min: 0, max: 1, step: 0.01, "aria-label": `Threshold for ${label}`, "data-focus": `threshold-${i}` });
        input.value = thresholds[label] === undefined ? "" : String(thresholds[label]);
        input.placeholder = "model's";
        input.addEventListener("change", () => {
          const next = { ...((model.get("thresholds") ?? {}) as Record<string, number>) };
          const x = Number(input.value);
          if (input.value === "" || !Number.isFinite(x)) delete next[label];
          else next[label] = Math.min(1, Math.max(0, x));
          setTrait("thresholds", next);
        });
        return h("tr", {}, [
          h("th", { scope: "row", text: label }),
          h("td", {}, [input]),
          h("td", { className: "es-num", text: sel.length ? formatPercent(sel[i]!) : "–" }),
          h("td", { className: "es-num", text: tpr.length ? formatPercent(tpr[i]!) : "–" }),
          h("td", { className: "es-num", text: fpr.length ? formatPercent(fpr[i]!) : "–" }),
        ]);
      });
      const ws = (w.summary ?? {}) as Record<string, number>;
      whatIf = h("details", { className: "es-whatif" }, [
        h("summary", { text: "What if each group had its own threshold?" }),
        h("div", { className: "es-scroll" }, [
          h("table", { className: "es-table", role: "table", "aria-label": "Per-group thresholds" }, [
            h("thead", {}, [h("tr", {}, ["group", "threshold", "selection rate", "TPR", "FPR"].map((t) => h("th", { scope: "col", text: t })))]),
            h("tbody", {}, body),
          ]),
        ]),
        h("p", { className: "es-muted", text: w.summary ? `Demographic parity difference ${formatMetric(ws.demographic_parity_difference ?? NaN)}, equalized odds difference ${formatMetric(ws.equalized_odds_difference ?? NaN)} (the model and the other views are unchanged)` : "Set a threshold for a group to see the effect; the model and the other views are unchanged." }),
      ]);
      (whatIf as HTMLDetailsElement).open = Object.keys(thresholds).length > 0;
    }

    // several models: the trade-off chart and every model's metric by group
    const t = model.get("tradeoff") ?? {};
    let modelsSection: HTMLElement | null = null;
    if ((t.points ?? []).length > 1) {
      const active = String(model.get("active_model") ?? "");
      const disparitySelect = h("select", { "aria-label": "Disparity", "data-focus": "disparity" });
      for (const [k, name] of regression ? REGRESSION_TRADEOFF_DISPARITIES : TRADEOFF_DISPARITIES) disparitySelect.append(h("option", { value: k, text: name }));
      disparitySelect.value = String(model.get("disparity_metric") ?? "");
      disparitySelect.addEventListener("change", () => setTrait("disparity_metric", disparitySelect.value));
      const overall = OVERALL_NAMES[String(t.metric)] ?? String(t.metric);
      modelsSection = h("section", { className: "es-models", "aria-label": "Models compared" }, [
        h("p", { className: "es-cohort-heading", text: `Models: ${overall} on these rows against the largest difference between groups; click a point (or press Enter on it) to make that model active.` }),
        h("div", { className: "es-toolbar" }, [h("label", {}, ["Disparity ", disparitySelect])]),
        h("div", { className: "es-models-body" }, [tradeoffChart(model, t, regression), modelsByGroup(model.get("model_groups") ?? {}, labels, metricName, fmt, active, regression)]),
      ]);
    }

    root.replaceChildren(
      h("div", { className: "es-header" }, [
        h("span", { className: "es-title", text: "Group comparer" }),
        h("span", { text: `${labels.length} groups of ${((model.get("group_columns") ?? []) as string[]).join(" × ")} · ${formatCount(nRows)} rows` }),
        filter ? h("span", { className: "es-muted", text: `filtered by: ${filter}` }) : null,
        clause
          ? h("span", { className: "es-chip" }, [h("span", { text: clause }), h("button", { type: "button", "aria-label": "Clear group comparer selection", text: "×" })])
          : null,
      ]),
      h("div", { className: "es-toolbar" }, [
        h("label", {}, ["Metric ", metricSelect]),
        regression ? null : classes.length > 2 ? h("label", {}, ["Positive class ", positive]) : positiveClassNote(String(model.get("positive") ?? "")),
        h("label", {}, ["Reference ", reference]),
        h("span", { className: "es-muted", "data-testid": "reference", text: `disparities against ${String(model.get("reference_label") ?? "")}` }),
      ]),
      ...(liftSection ? [liftSection] : []),
      bars,
      h("div", { className: "es-scroll" }, [summaryList]),
      h("div", { className: "es-scroll" }, [dispTable]),
      ...(modelsSection ? [modelsSection] : []),
      ...(regression ? regressionSections(model.get("regression") ?? {}, g, labels) : []),
      ...[distributions, representation && h("div", { className: "es-scroll" }, [representation]), whatIf].filter((x): x is HTMLElement => !!x),
    );
    root.querySelector(".es-chip button")?.addEventListener("click", () => model.send({ type: "clear" }));
    if (hadFocus && focused) root.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  };
  return mountView(
    model,
    root,
    ["groups", "metric", "task", "regression", "positive", "class_names", "reference", "disparity", "summary_values", "distributions", "representation_table", "selected_groups", "thresholds", "what_if", "can_threshold", "n_rows", "clause_text", "filter_text", "group_columns", "min_size", "reference_label", "outcome_filter", "lift_table", "tradeoff", "model_groups", "disparity_metric", "active_model"],
    paint,
  );
}

export default { render };
