/** ModelOverview widget: key metrics (all rows and the selection), class balance, and data checks. */
import { toFloat64, toUint32 } from "./lib/buffers";
import { BRAND, ERROR, shade } from "./lib/color";
import { h, positiveClassNote, svg } from "./lib/dom";
import { formatCount, formatMetric, formatPercent, formatValue, niceTicks } from "./lib/format";
import { mountView, type WidgetModel } from "./lib/model";

interface Check {
  check: string;
  column: string;
  rows: number;
  detail: string;
}

/** Metrics that read best as percentages; the rest (log loss, Brier) as plain numbers. */
const PERCENT = new Set(["accuracy", "balanced accuracy", "precision", "recall", "F1", "macro F1", "MAPE"]);
/** A regression's errors are in the target's units: 4 significant digits. */
const UNITS = new Set(["MAE", "RMSE", "median AE", "mean residual"]);
/** `scale` (a regression's MAE): a mean residual under a billionth of it is rounding noise (a least-squares
 * fit's bias is 0), shown as 0. */
export const formatOverviewMetric = (name: string, x: number, scale = 0): string =>
  PERCENT.has(name) ? formatPercent(x) : UNITS.has(name) ? formatValue(name === "mean residual" && Math.abs(x) < 1e-9 * scale ? 0 : x) : formatMetric(x);

const DW = 360;
const DH = 150;
const DM = { left: 44, right: 8, top: 8, bottom: 30 };

/** The actual values (bars) and the predictions (a step line) per bin of `edges`, on one axis. */
export function distributionPlot(edges: Float64Array, actual: Uint32Array, predicted: Uint32Array, what: string): SVGSVGElement {
  const n = Math.max(edges.length - 1, 1);
  const lo = edges[0] ?? 0;
  const hi = edges[n] ?? 1;
  let max = 1;
  for (let i = 0; i < n; i++) max = Math.max(max, actual[i] ?? 0, predicted[i] ?? 0);
  const pw = DW - DM.left - DM.right;
  const ph = DH - DM.top - DM.bottom;
  const X = (v: number): number => DM.left + ((v - lo) / (hi - lo)) * pw;
  const Y = (c: number): number => DM.top + ph - (c / max) * ph;
  const peak = (counts: Uint32Array): string => {
    let best = 0;
    for (let i = 1; i < n; i++) if ((counts[i] ?? 0) > (counts[best] ?? 0)) best = i;
    return `most rows in ${formatValue(edges[best]!)} to ${formatValue(edges[best + 1]!)}`;
  };
  const plot = svg("svg", { viewBox: `0 0 ${DW} ${DH}`, class: "es-ov-dist", role: "img", "aria-label": `Distributions of ${what}: actual values ${peak(actual)}, predictions ${peak(predicted)}` });
  for (let i = 0; i < n; i++) {
    const c = actual[i] ?? 0;
    if (c) plot.append(svg("rect", { x: X(edges[i]!) + 0.5, y: Y(c), width: Math.max(X(edges[i + 1]!) - X(edges[i]!) - 1, 0.5), height: DM.top + ph - Y(c), fill: shade(BRAND, 0.6) }, `actual ${formatValue(edges[i]!)} to ${formatValue(edges[i + 1]!)}: ${formatCount(c)} rows`));
  }
  let path = `M${X(lo)},${Y(0)}`;
  for (let i = 0; i < n; i++) path += `V${Y(predicted[i] ?? 0)}H${X(edges[i + 1]!)}`;
  plot.append(svg("path", { d: `${path}V${Y(0)}`, class: "es-ov-predicted", stroke: ERROR }));
  const axis = svg("g", { class: "es-ov-axis", "aria-hidden": "true" });
  axis.append(svg("line", { x1: DM.left, x2: DM.left + pw, y1: DM.top + ph, y2: DM.top + ph }));
  for (const t of niceTicks(lo, hi, 5)) {
    const label = svg("text", { x: X(t), y: DM.top + ph + 13, "text-anchor": "middle" });
    label.textContent = formatValue(t);
    axis.append(label);
  }
  for (const t of niceTicks(0, max, 3).filter(Number.isInteger)) {
    const label = svg("text", { x: DM.left - 5, y: Y(t) + 3.5, "text-anchor": "end" });
    label.textContent = formatCount(t);
    axis.append(label);
  }
  plot.append(axis);
  return plot;
}

interface Sign {
  sign: string;
  evidence: string;
  rule: string;
}
interface Curve {
  metric: string;
  split: string;
  steps: number[];
  values: (number | null)[];
}
interface Qos {
  rows: string;
  n_rows: number;
  per_row_p50_ms: number | null;
  per_row_p95_ms: number | null;
  per_1000_p50_ms: number | null;
  per_1000_p95_ms: number | null;
  peak_memory_mb: number | null;
}

/** One metric's training curves (train solid, validation red), steps on x; its name and last values as the label. */
export function curvePlot(curves: Curve[]): SVGSVGElement {
  const steps = curves.flatMap((c) => c.steps);
  const values = curves.flatMap((c) => c.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const [x0, x1] = [Math.min(...steps), Math.max(...steps, Math.min(...steps) + 1)];
  const [y0, y1] = values.length ? [Math.min(...values), Math.max(...values)] : [0, 1];
  const pw = DW - DM.left - DM.right;
  const ph = DH - DM.top - DM.bottom;
  const X = (v: number): number => DM.left + ((v - x0) / (x1 - x0 || 1)) * pw;
  const Y = (v: number): number => DM.top + ph - ((v - y0) / (y1 - y0 || 1)) * ph;
  const last = curves.map((c) => `${c.split} ${formatMetric(c.values[c.values.length - 1] ?? NaN)}`).join(", ");
  const plot = svg("svg", { viewBox: `0 0 ${DW} ${DH}`, class: "es-ov-dist", role: "img", "aria-label": `Training curves of ${curves[0]?.metric ?? ""}: last ${last}` });
  for (const c of curves) {
    let d = "";
    c.steps.forEach((s, i) => {
      const v = c.values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      d += `${d ? "L" : "M"}${X(s).toFixed(1)},${Y(v).toFixed(1)}`;
    });
    plot.append(svg("path", { d, class: c.split === "train" ? "es-ov-train" : "es-ov-validation", fill: "none" }, `${c.split} ${c.metric}`));
  }
  const axis = svg("g", { class: "es-ov-axis", "aria-hidden": "true" });
  axis.append(svg("line", { x1: DM.left, x2: DM.left + pw, y1: DM.top + ph, y2: DM.top + ph }));
  for (const t of niceTicks(x0, x1, 5)) {
    const label = svg("text", { x: X(t), y: DM.top + ph + 13, "text-anchor": "middle" });
    label.textContent = formatValue(t);
    axis.append(label);
  }
  for (const t of niceTicks(y0, y1, 3)) {
    const label = svg("text", { x: DM.left - 5, y: Y(t) + 3.5, "text-anchor": "end" });
    label.textContent = formatValue(t);
    axis.append(label);
  }
  plot.append(axis);
  return plot;
}

const ms = (x: number | null): string => (x === null ? "–" : `${formatValue(x)} ms`);

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-overview", role: "region", "aria-label": "Model overview" });
  el.append(root);
  const paint = (): void => {
    const names = (model.get("metric_names") ?? []) as string[];
    const overall = toFloat64(model.get("overall"));
    const selected = toFloat64(model.get("selected_metrics"));
    const nRows = Number(model.get("n_rows") ?? 0);
    const nTotal = Number(model.get("n_total") ?? 0);
    const filtered = nRows !== nTotal;
    root.setAttribute("data-rows", String(nRows));
    const metrics = h("dl", { className: "es-metrics", "aria-label": "Key metrics" });
    names.forEach((name, i) => {
      const scale = overall[names.indexOf("MAE")] ?? 0;
      const all = formatOverviewMetric(name, overall[i]!, scale);
      const sel = formatOverviewMetric(name, selected[i]!, scale);
      metrics.append(
        h("div", { className: "es-metric" }, [
          h("dt", { text: name }),
          h("dd", { "aria-label": filtered ? `${name}: ${sel} on the selection, ${all} on all rows` : `${name}: ${all}` }, [
            h("span", { className: "es-metric-value", text: filtered ? sel : all }),
            filtered ? h("span", { className: "es-muted", text: ` (all: ${all})` }) : null,
          ]),
        ]),
      );
    });
    const classes = (model.get("classes") ?? []) as string[];
    const actual = toUint32(model.get("actual_counts"));
    const predicted = toUint32(model.get("predicted_counts"));
    const regression = model.get("task") === "regression";
    const distributions = regression
      ? h("figure", { className: "es-ov-figure" }, [
          distributionPlot(
            toFloat64(model.get("value_edges")),
            filtered ? toUint32(model.get("selected_actual_counts")) : actual,
            filtered ? toUint32(model.get("selected_predicted_counts")) : predicted,
            filtered ? `the selection's ${formatCount(nRows)} rows` : `all ${formatCount(nTotal)} rows`,
          ),
          h("figcaption", { className: "es-muted" }, [
            h("span", { className: "es-ov-swatch es-ov-actual" }),
            " actual  ",
            h("span", { className: "es-ov-swatch es-ov-pred" }),
            ` predicted · rows per bin, ${filtered ? "the selection" : "all rows"}`,
          ]),
        ])
      : null;
    const balance = h("table", { role: "table", "aria-label": "Class balance", className: "es-balance" }, [
      h("thead", {}, [h("tr", {}, ["class", "actual", "predicted"].map((t) => h("th", { scope: "col", text: t })))]),
      h(
        "tbody",
        {},
        classes.slice(0, 12).map((c, i) =>
          h("tr", {}, [
            h("th", { scope: "row", text: c }),
            h("td", { text: `${formatCount(actual[i]!)} (${formatPercent(actual[i]! / nTotal)})` }),
            h("td", { text: formatCount(predicted[i]!) }),
          ]),
        ),
      ),
    ]);
    const more = classes.length > 12 ? h("p", { className: "es-muted", text: `and ${classes.length - 12} more classes` }) : null;
    const checks = (model.get("checks") ?? []) as Check[];
    const findings = h(
      "ul",
      { className: "es-checks", "aria-label": "Data checks" },
      checks.length
        ? checks.map((c) => h("li", { className: c.check === "possible leak" ? "es-warn" : "" }, [h("strong", { text: `${c.check}: ` }), h("span", { text: `${c.column} — ${c.check === "possible leak" ? "" : `${formatCount(c.rows)} rows, `}${c.detail}` })]))
        : [h("li", { className: "es-muted", text: "No missing values, duplicate rows or likely leaks found." })],
    );
    const signs = (model.get("warning_signs") ?? []) as Sign[];
    const warnings = h(
      "ul",
      { className: "es-checks es-ov-signs", "aria-label": "Warning signs" },
      signs.length
        ? signs.map((w) => h("li", { className: "es-warn" }, [h("strong", { text: `${w.sign}: ` }), h("span", { text: w.evidence }), h("span", { className: "es-muted es-ov-rule", text: ` — rule: ${w.rule}` })]))
        : [h("li", { className: "es-muted", text: "No warning signs in the training curves, the training rows or the features." })],
    );
    const curves = (model.get("curves") ?? []) as Curve[];
    const curveMetrics = [...new Set(curves.map((c) => c.metric))];
    const training = curveMetrics.length
      ? h("figure", { className: "es-ov-figure" }, [
          h("h4", { text: "Training curves" }),
          ...curveMetrics.slice(0, 2).map((m) => curvePlot(curves.filter((c) => c.metric === m))),
          h("figcaption", { className: "es-muted" }, [h("span", { className: "es-ov-swatch es-ov-actual" }), " train  ", h("span", { className: "es-ov-swatch es-ov-pred" }), ` validation · ${curveMetrics.slice(0, 2).join(", ")} per step (mean over runs)`]),
        ])
      : null;
    const info = (model.get("model_info") ?? {}) as { estimator?: string; library?: string; size?: { step: string; measure: string; value: unknown }[]; changed?: { step: string; parameter: string; value: string }[] };
    const sizes = (model.get("split_sizes") ?? {}) as Record<string, number | null>;
    const summaryItems = [
      h("li", { text: `evaluation rows: ${formatCount(Number(sizes.evaluation ?? nTotal))}${sizes.train !== undefined && sizes.train !== null ? ` · training rows: ${formatCount(sizes.train)}` : ""}` }),
      info.estimator ? h("li", { text: `model: ${info.estimator} (${info.library ?? ""})` }) : null,
      ...(info.size ?? []).slice(0, 8).map((r) => h("li", { text: `${r.measure}: ${typeof r.value === "number" ? formatCount(r.value) : String(r.value)}${r.step && (info.size ?? []).some((o) => o.step !== r.step) ? ` (${r.step})` : ""}` })),
      info.changed && info.changed.length ? h("li", { className: "es-muted", text: `set: ${info.changed.slice(0, 6).map((p) => `${p.parameter}=${p.value}`).join(", ")}` }) : null,
    ].filter((x): x is HTMLLIElement => x !== null);
    const status = String(model.get("qos_status") ?? "");
    const qosButton = h("button", { type: "button", className: "es-ov-qos-button", text: status === "running" ? "Measuring…" : "Measure latency and memory", "aria-label": "Measure the model's latency and memory", disabled: status === "running" || !info.estimator });
    qosButton.addEventListener("click", () => model.send({ type: "qos" }));
    const rows = (model.get("qos") ?? []) as Qos[];
    const qosParts: HTMLElement[] = [qosButton];
    if (status === "running") qosParts.push(h("progress", { max: 1, value: Number(model.get("qos_progress") ?? 0), "aria-label": "Quality of service measured" }));
    else if (status.startsWith("failed")) qosParts.push(h("p", { className: "es-warn", role: "alert", text: status }));
    if (rows.length)
      qosParts.push(
        h("table", { role: "table", "aria-label": "Quality of service", className: "es-balance" }, [
          h("thead", {}, [h("tr", {}, ["rows", "per row p50", "p95", "per 1,000 p50", "p95", "peak memory"].map((t) => h("th", { scope: "col", text: t })))]),
          h("tbody", {}, rows.map((r) => h("tr", {}, [h("th", { scope: "row", text: `${r.rows} (${formatCount(r.n_rows)})` }), h("td", { text: ms(r.per_row_p50_ms) }), h("td", { text: ms(r.per_row_p95_ms) }), h("td", { text: ms(r.per_1000_p50_ms) }), h("td", { text: ms(r.per_1000_p95_ms) }), h("td", { text: r.peak_memory_mb === null ? "–" : `${formatValue(r.peak_memory_mb)} MiB` })]))),
        ]),
      );
    const seed = h("div", { className: "es-overview-grid" }, [
      h("section", { "aria-label": "Warning signs found" }, [h("h4", { text: "Warning signs" }), warnings]),
      training,
      h("section", { "aria-label": "Model and data summary" }, [h("h4", { text: "Model and data" }), h("ul", { className: "es-checks" }, summaryItems)]),
      h("section", { "aria-label": "Quality of service section" }, [h("h4", { text: "Quality of service" }), ...qosParts]),
    ].filter((x): x is HTMLElement => x !== null));
    root.replaceChildren(
      h("div", { className: "es-header" }, [
        h("span", { className: "es-title", text: "Model overview" }),
        h("span", { text: `${formatCount(nTotal)} rows · ${formatCount(Number(model.get("n_features") ?? 0))} features · ${regression ? "regression (residual = prediction − actual)" : `${classes.length} classes`}` }),
        filtered ? h("span", { className: "es-muted", text: `selection: ${formatCount(nRows)} rows` }) : null,
        positiveClassNote(String(model.get("positive_label") ?? "")),
      ]),
      metrics,
      h("div", { className: "es-overview-grid" }, [regression ? distributions : h("div", {}, [balance, more]), findings]),
      seed,
    );
  };
  return mountView(model, root, ["metric_names", "overall", "selected_metrics", "classes", "actual_counts", "predicted_counts", "checks", "n_rows", "n_total", "n_features", "positive_label", "task", "value_edges", "selected_actual_counts", "selected_predicted_counts", "warning_signs", "curves", "model_info", "split_sizes", "qos", "qos_status", "qos_progress"], paint, false);
}

export default { render };
