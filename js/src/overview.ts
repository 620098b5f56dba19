/** ModelOverview widget: key metrics (all rows and the selection), class balance, and data checks. */
import { toFloat64, toUint32 } from "./lib/buffers";
import { h, positiveClassNote } from "./lib/dom";
import { formatCount, formatMetric, formatPercent } from "./lib/format";
import { mountView, type WidgetModel } from "./lib/model";

interface Check {
  check: string;
  column: string;
  rows: number;
  detail: string;
}

/** Metrics that read best as percentages; the rest (log loss, Brier) as plain numbers. */
const PERCENT = new Set(["accuracy", "balanced accuracy", "precision", "recall", "F1", "macro F1"]);
export const formatOverviewMetric = (name: string, x: number): string => (PERCENT.has(name) ? formatPercent(x) : formatMetric(x));

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
      const all = formatOverviewMetric(name, overall[i]!);
      const sel = formatOverviewMetric(name, selected[i]!);
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
        h("span", { text: `${formatCount(nTotal)} rows · ${formatCount(Number(model.get("n_features") ?? 0))} features · ${classes.length} classes` }),
        filtered ? h("span", { className: "es-muted", text: `selection: ${formatCount(nRows)} rows` }) : null,
        positiveClassNote(String(model.get("positive_label") ?? "")),
      ]),
      metrics,
      h("div", { className: "es-overview-grid" }, [h("div", {}, [balance, more]), findings]),
    );
  };
  return mountView(model, root, ["metric_names", "overall", "selected_metrics", "classes", "actual_counts", "predicted_counts", "checks", "n_rows", "n_total", "n_features", "positive_label"], paint, false);
}

export default { render };
