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
    root.replaceChildren(
      h("div", { className: "es-header" }, [
        h("span", { className: "es-title", text: "Model overview" }),
        h("span", { text: `${formatCount(nTotal)} rows · ${formatCount(Number(model.get("n_features") ?? 0))} features · ${regression ? "regression (residual = prediction − actual)" : `${classes.length} classes`}` }),
        filtered ? h("span", { className: "es-muted", text: `selection: ${formatCount(nRows)} rows` }) : null,
        positiveClassNote(String(model.get("positive_label") ?? "")),
      ]),
      metrics,
      h("div", { className: "es-overview-grid" }, [regression ? distributions : h("div", {}, [balance, more]), findings]),
    );
  };
  return mountView(model, root, ["metric_names", "overall", "selected_metrics", "classes", "actual_counts", "predicted_counts", "checks", "n_rows", "n_total", "n_features", "positive_label", "task", "value_edges", "selected_actual_counts", "selected_predicted_counts"], paint, false);
}

export default { render };
