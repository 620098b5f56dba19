/** ForceViewer widget: the selection's rows, a force plot per row (our SVG), LIME, cohort and importance. */
import { toFloat64 } from "./lib/buffers";
import { h, svg } from "./lib/dom";
import { abbreviate, formatCount, formatMetric, formatPercent, formatSignificant } from "./lib/format";
import { pager } from "./lib/pager";
import { mountView, type WidgetModel } from "./lib/model";

export type Segment = { index: number; start: number; end: number };

/** Segments of a force plot, as shap lays them out: contributions pushing up end at the output (the
 * largest next to it) and those pushing down start there, so no two segments overlap; together they span
 * [output − pushes up, output + pushes down], which contains the base value. Each segment is [start, end]
 * on the output axis with start < end. */
export function forceSegments(base: number, contributions: number[]): Segment[] {
  const order = contributions.map((c, i) => [c, i] as const);
  const output = base + contributions.reduce((a, c) => a + c, 0);
  const out: Segment[] = [];
  let x = output;
  for (const [c, i] of order.filter(([c]) => c > 0).sort((a, b) => b[0] - a[0])) {
    out.push({ index: i, start: x - c, end: x });
    x -= c;
  }
  x = output;
  for (const [c, i] of order.filter(([c]) => c < 0).sort((a, b) => a[0] - b[0])) {
    out.push({ index: i, start: x, end: x - c });
    x -= c;
  }
  return out;
}

/** A label that fits in `width` (SVG units, ~`charWidth` per character), shortened with "…", or null
 * when not even three characters fit: narrow segments are then named in the legend instead. */
export function fitLabel(text: string, width: number, charWidth = 6.2): string | null {
  const room = Math.floor((width - 4) / charWidth);
  return room < 3 ? null : abbreviate(text, room);
}

/** About `count` round tick values within [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const error = raw / power; // as d3 does: the multiple nearest the raw step
  const step = (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1) * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** A tick value without trailing zeros: 0.5, 2, −1.25. */
export function formatTick(x: number): string {
  const text = String(Number(x.toPrecision(4)));
  return text.startsWith("-") ? `−${text.slice(1)}` : text;
}

/** The name of the space an explanation is in: "log-odds", "probability" or a multiclass booster's margin. */
export const spaceLabel = (space: unknown): string =>
  space === "probability" ? "probability" : space === "margin" ? "margin (softmax score)" : space === "prediction" ? "prediction" : "log-odds";

const signed = (x: number): string => (x >= 0 ? `+${formatMetric(x)}` : `−${formatMetric(-x)}`);
const signedValue = (x: number): string => (x >= 0 ? `+${formatSignificant(x)}` : formatSignificant(x));

/** A regression's rows to explain: id, actual, predicted and residual (prediction − actual). */
type RegressionRow = { id: string; actual: number; predicted: number; residual: number };

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-force", role: "region", "aria-label": "Force viewer" });
  el.append(root);
  const setTrait = (name: string, value: unknown): void => {
    model.set(name, value);
    model.save_changes();
  };

  /** The active model's name when there are several (the plots then say whose they are). */
  const activeModel = (): string => (((model.get("models") ?? []) as string[]).length > 1 ? String(model.get("active_model") ?? "") : "");
  const forcePlot = (f: Record<string, any> = model.get("force") ?? {}, by = ""): HTMLElement | null => {
    if (!f.features) return h("p", { className: "es-muted", text: "Click a row to see why the model predicted what it did." });
    const features: string[] = f.features;
    const values: string[] = f.values ?? [];
    const contributions = Array.from(toFloat64(f.contributions));
    const base = Number(f.base), output = Number(f.output);
    const segments = forceSegments(base, contributions);
    const xs = [base, output, ...segments.flatMap((s) => [s.start, s.end])];
    const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
    const span = hi - lo || 1;
    const width = forceWidth, pad = 10; // drawn at its on-screen width: text keeps its size
    const X = (v: number): number => pad + ((v - lo) / span) * (width - 2 * pad);
    const space = spaceLabel(f.space);
    const regression = f.space === "prediction";
    const of = regression ? "prediction" : `${space} of ${f.class}`;
    const whose = by ? `${by}'s force plot` : "Force plot";
    const plot = svg("svg", { viewBox: `0 0 ${width} 84`, class: "es-force-plot", role: "img", "aria-label": `${whose} of row ${f.id}: base value ${formatMetric(base)} to output ${formatMetric(output)} (${of})` });
    const unlabelled: string[] = [];
    for (const s of segments) {
      const c = contributions[s.index]!;
      const name = features[s.index]!;
      const x0 = X(s.start), w = Math.max(1, X(s.end) - X(s.start));
      plot.append(svg("rect", { x: x0, y: 22, width: w, height: 18, class: c > 0 ? "es-push-up" : "es-push-down" }, `${name} = ${values[s.index]}: ${signed(c)}`));
      const text = fitLabel(name, w);
      if (text === null) {
        unlabelled.push(`${name} ${signed(c)}`);
        continue;
      }
      const label = svg("text", { x: x0 + w / 2, y: 54, "text-anchor": "middle", class: "es-force-label es-segment-label" });
      label.textContent = text; // data stays text
      plot.append(label);
    }
    // output above the bar, base below the feature labels: the two never share a line
    for (const [v, name, y1, y2, ty] of [[output, "output", 14, 40, 11], [base, "base", 22, 62, 76]] as const) {
      plot.append(svg("line", { x1: X(v), x2: X(v), y1, y2, class: "es-force-mark" }));
      const anchor = X(v) < 60 ? "start" : X(v) > width - 60 ? "end" : "middle";
      const t = svg("text", { x: X(v), y: ty, "text-anchor": anchor, class: "es-force-label" });
      t.textContent = `${name} ${formatMetric(v)}`;
      plot.append(t);
    }
    const legend = unlabelled.length
      ? h("p", { className: "es-muted es-force-legend", text: `Too narrow to label (hover a segment, or see the list): ${unlabelled.join(", ")}` })
      : null;
    const list = h("ul", { className: "es-contribs", "aria-label": `${by ? `${by}'s contributions` : "Contributions"} for row ${f.id}` });
    const maxAbs = Math.max(1e-12, ...contributions.map(Math.abs));
    contributions.forEach((c, i) => {
      const bar = h("span", { className: `es-cbar ${c > 0 ? "es-push-up" : "es-push-down"}`, "aria-hidden": "true" });
      bar.style.width = `${(50 * Math.abs(c)) / maxAbs}%`;
      list.append(h("li", { "aria-label": `${features[i]} = ${values[i]}: ${signed(c)}` }, [h("span", { text: `${features[i]} = ${values[i]}` }), bar, h("span", { className: "es-num", text: signed(c) })]));
    });
    if (by)
      return h("div", { className: "es-force-row es-force-compare", role: "group", "aria-label": `${by}'s explanation of row ${f.id}` }, [
        h("p", { text: `${by}: ${f.predicted !== undefined ? `predicted ${f.predicted}; ` : ""}${regression ? "its prediction, in the target's units" : `the ${space} of ${f.class}`}` }),
        plot,
        legend,
        list,
      ]);
    return h("div", { className: "es-force-row" }, [
      h("p", { text: regression
        ? `Row ${f.id}: actual ${f.actual}, predicted ${f.predicted} (residual ${signedValue(Number(f.residual))}); base value + contributions = the prediction, in the target's units`
        : `Row ${f.id}: actual ${f.actual}, ${activeModel() ? `${activeModel()} predicted` : "predicted"} ${f.predicted}; explaining the ${space} of ${f.class}` }),
      plot,
      legend,
      list,
    ]);
  };

  const limePanel = (): HTMLElement | null => {
    const l = model.get("lime") ?? {};
    if (l.status) return h("p", { className: "es-lime", "aria-live": "polite", text: String(l.status) });
    if (!l.features) return null;
    const weights = Array.from(toFloat64(l.weights));
    const maxAbs = Math.max(1e-12, ...weights.map(Math.abs));
    const list = h("ul", { className: "es-contribs", "aria-label": "LIME weights" });
    (l.features as string[]).forEach((name, i) => {
      const bar = h("span", { className: `es-cbar ${weights[i]! > 0 ? "es-push-up" : "es-push-down"}`, "aria-hidden": "true" });
      bar.style.width = `${(50 * Math.abs(weights[i]!)) / maxAbs}%`;
      list.append(h("li", { "aria-label": `LIME ${name}: ${signed(weights[i]!)}` }, [h("span", { text: name }), bar, h("span", { className: "es-num", text: signed(weights[i]!) })]));
    });
    return h("div", { className: "es-lime" }, [
      h("p", { text: `LIME (seeded). Rank agreement with SHAP (Spearman): ${formatMetric(Number(l.agreement))}` }),
      list,
    ]);
  };

  const stackedPlot = (): HTMLElement | null => {
    const s = model.get("stacked") ?? {};
    const ids: string[] = s.ids ?? [];
    if (!ids.length) return null;
    const names = s.features as string[];
    const f = names.length;
    const values = toFloat64(s.values);
    const outputs = toFloat64(s.outputs);
    const bases = toFloat64(s.bases);
    const space = spaceLabel(s.space);
    const columns = ids.map((_, r) => forceSegments(bases[r]!, Array.from(values.subarray(r * f, (r + 1) * f))));
    const ys = [...Array.from(bases), ...Array.from(outputs), ...columns.flat().flatMap((g) => [g.start, g.end])];
    const ticks = niceTicks(Math.min(...ys), Math.max(...ys), 4);
    const [lo, hi] = [Math.min(...ys, ...ticks), Math.max(...ys, ...ticks)];
    const width = stackWidth, height = 230, left = 52, right = 8, top = 8, bottom = 30;
    const plotW = width - left - right, plotH = height - top - bottom;
    const Y = (v: number): number => top + ((hi - v) / (hi - lo || 1)) * plotH;
    const w = plotW / ids.length;
    const order = model.get("stacked_order") === "similarity" ? "by similarity of their explanations" : "by output";
    const classes = (s.classes ?? []) as string[];
    const explained = classes.length === 1 ? classes[0]! : "each row's predicted class";
    const yText = s.space === "prediction" ? "prediction" : classes.length === 1 ? `${space} of ${abbreviate(explained, 16)}` : `${space} (predicted class)`;
    const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "es-stacked", role: "img", "aria-label": `Stacked force plot of ${ids.length} rows, ordered ${order}; y axis: ${s.space === "prediction" ? "prediction" : `${space} of ${explained}`}` });
    columns.forEach((segments, r) => {
      for (const g of segments) {
        const v = values[r * f + g.index]!;
        plot.append(svg("rect", { x: left + r * w, width: Math.max(w - 0.5, 0.5), y: Y(g.end), height: Math.max(Y(g.start) - Y(g.end), 0.2), class: v > 0 ? "es-push-up" : "es-push-down" }, `row ${ids[r]}: ${names[g.index]} ${signed(v)}; output ${formatMetric(outputs[r]!)}`));
      }
    });
    const axis = svg("g", { class: "es-axis", "aria-hidden": "true" });
    axis.append(svg("line", { x1: left, x2: left, y1: top, y2: top + plotH, class: "es-axis-line" }));
    axis.append(svg("line", { x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH, class: "es-axis-line" }));
    for (const t of ticks) {
      axis.append(svg("line", { x1: left - 4, x2: left, y1: Y(t), y2: Y(t), class: "es-axis-line" }));
      const label = svg("text", { x: left - 6, y: Y(t) + 3.5, "text-anchor": "end", class: "es-force-label es-tick" });
      label.textContent = formatTick(t);
      axis.append(label);
    }
    const yLabel = svg("text", { x: 0, y: 0, transform: `translate(11 ${top + plotH / 2}) rotate(-90)`, "text-anchor": "middle", class: "es-force-label es-axis-label" });
    yLabel.textContent = yText;
    const xLabel = svg("text", { x: left + plotW / 2, y: height - 8, "text-anchor": "middle", class: "es-force-label es-axis-label" });
    xLabel.textContent = `${ids.length} sampled rows, ordered ${order}`;
    axis.append(yLabel, xLabel);
    plot.append(axis);
    let path = "";
    outputs.forEach((o, r) => (path += `${r ? "L" : "M"}${left + r * w} ${Y(o)}h${w}`));
    plot.append(svg("path", { d: path, class: "es-output-line" }));
    return h("div", { className: "es-stacked-wrap" }, [h("p", { className: "es-muted", text: `Each column is a row: pushes up (red) end at its output, pushes down (blue) start there; hover for details` }), plot]);
  };

  const cohortPanel = (): HTMLElement | null => {
    const c = model.get("cohort") ?? {};
    const features: string[] = c.features ?? [];
    if (!features.length) return null;
    const [sel, rest, diff] = [toFloat64(c.selection), toFloat64(c.rest), toFloat64(c.difference)];
    const chosen = String(model.get("selected_feature") ?? "");
    const max = Math.max(1e-12, ...Array.from(sel).filter(Number.isFinite), ...Array.from(rest).filter(Number.isFinite));
    const list = h("ul", { className: "es-cohort", "aria-label": c.showing === "comparison" ? "What drives the selection: mean |SHAP| in the selection and the rest" : "What drives the selection: global importance, mean |SHAP| of every row" });
    features.slice(0, 12).forEach((name, i) => {
      const shown = c.showing === "comparison"
        ? `${formatMetric(sel[i]!)} in the selection, ${formatMetric(rest[i]!)} in the rest`
        : `${formatMetric(c.showing === "rest" ? rest[i]! : sel[i]!)} over ${c.showing === "rest" ? "the other rows" : "every row"}`;
      const button = h("button", { type: "button", "aria-pressed": String(name === chosen), "aria-label": `${name}: mean |SHAP| ${shown}; select where it pushes most` }, [h("span", { text: name })]);
      button.addEventListener("click", () => model.send({ type: "select_feature", feature: name }));
      const bars = h("span", { className: "es-pairbars", "aria-hidden": "true" }, [h("span", { className: "es-bar-sel" }), h("span", { className: "es-bar-rest" })]);
      (bars.children[0] as HTMLElement).style.width = `${(100 * (sel[i] || 0)) / max}%`;
      (bars.children[1] as HTMLElement).style.width = `${(100 * (rest[i] || 0)) / max}%`;
      const number = c.showing === "comparison" ? signed(diff[i]!) : formatMetric(c.showing === "rest" ? rest[i]! : sel[i]!);
      list.append(h("li", {}, [button, bars, h("span", { className: "es-num", text: number })]));
    });
    const who = c.class === "prediction" && model.get("task") === "regression" ? "the prediction" : `class ${c.class}`;
    const heading = c.showing === "global"
      ? `What drives these rows (${who}): global importance, mean |SHAP| of every row (nothing selected, so nothing to compare with)`
      : c.showing === "rest"
        ? `What drives the other rows (${who}): mean |SHAP| of the rows outside the selection (none selected)`
        : `What drives these rows (${who}): mean |SHAP|, selection (top bar) against the rest`;
    return h("div", {}, [h("p", { className: "es-cohort-heading", text: heading }), list]);
  };

  const importancePanel = (): HTMLElement => {
    const imp = model.get("importance") ?? {};
    const button = h("button", { type: "button", "aria-label": "Compute global importance", text: "Global importance" });
    button.addEventListener("click", () => model.send({ type: "importance" }));
    if (!imp.features) return h("div", {}, [button]);
    const [shapImp, perm] = [toFloat64(imp.mean_abs_shap), toFloat64(imp.permutation)];
    const max = Math.max(1e-12, ...Array.from(shapImp));
    const maxPerm = Math.max(1e-12, ...Array.from(perm));
    const list = h("ul", { className: "es-cohort", "aria-label": "Global importance" });
    (imp.features as string[]).forEach((name, i) => {
      const feature = h("button", { type: "button", "aria-label": `${name}: mean |SHAP| ${formatMetric(shapImp[i]!)}${perm.length ? `, permutation importance ${formatMetric(perm[i]!)}` : ""}; select where it pushes most` }, [h("span", { text: name })]);
      feature.addEventListener("click", () => model.send({ type: "select_feature", feature: name }));
      const bars = h("span", { className: "es-pairbars", "aria-hidden": "true" }, [h("span", { className: "es-bar-sel" }), h("span", { className: "es-bar-rest" })]);
      (bars.children[0] as HTMLElement).style.width = `${(100 * shapImp[i]!) / max}%`;
      (bars.children[1] as HTMLElement).style.width = perm.length ? `${(100 * Math.max(0, perm[i]!)) / maxPerm}%` : "0";
      list.append(h("li", {}, [feature, bars, h("span", { className: "es-num", text: formatMetric(shapImp[i]!) })]));
    });
    const drop = model.get("task") === "regression" ? "R² drop" : "accuracy drop";
    return h("div", {}, [button, h("p", { className: "es-muted", text: `Mean |SHAP| (top bar) and permutation importance (${drop}, bottom bar) on ${formatCount(Number(imp.rows))} rows` }), list]);
  };

  // the plots are drawn at their on-screen width (measured after layout, and again on resize)
  let forceWidth = 640, stackWidth = 640;
  const fit = (): boolean => {
    const clamp = (w: number | undefined, fallback: number): number => (w ? Math.min(Math.max(w, 160), 900) : fallback);
    const f = clamp(root.querySelector<HTMLElement>(".es-force-detail")?.clientWidth, forceWidth);
    const s = clamp(root.querySelector<HTMLElement>(".es-stacked-wrap")?.clientWidth ?? root.clientWidth, stackWidth);
    const changed = Math.abs(f - forceWidth) > 4 || Math.abs(s - stackWidth) > 4;
    [forceWidth, stackWidth] = [f, s];
    return changed;
  };
  const paint = (): void => {
    draw();
    if (fit()) draw();
  };
  const resize = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(() => fit() && draw());
  resize?.observe(root);

  const draw = (): void => {
    const nRows = Number(model.get("n_selected") ?? 0);
    root.setAttribute("data-rows", String(nRows));
    const status = String(model.get("job_status") ?? "idle");
    const progress = Number(model.get("job_progress") ?? 0);
    const output = h("select", { "aria-label": "Output" }, ((model.get("outputs") ?? ["log_odds", "probability"]) as string[]).map((o) => h("option", { value: o, text: spaceLabel(o) })));
    output.value = String(model.get("output"));
    output.addEventListener("change", () => setTrait("output", output.value));
    const cls = h("select", { "aria-label": "Explain class" }, [h("option", { value: "", text: "the predicted class" }), ...((model.get("class_names") ?? []) as string[]).map((c) => h("option", { value: c, text: c }))]);
    cls.value = String(model.get("explain_class") ?? "");
    cls.addEventListener("change", () => setTrait("explain_class", cls.value));
    const order = h("select", { "aria-label": "Order of the stacked plot" }, [h("option", { value: "output", text: "by output" }), h("option", { value: "similarity", text: "by similarity" })]);
    order.value = String(model.get("stacked_order"));
    order.addEventListener("change", () => setTrait("stacked_order", order.value));
    const others = ((model.get("compare_models") ?? []) as string[]).filter((m) => m !== String(model.get("active_model") ?? ""));
    const compareWith = others.length
      ? h("select", { "aria-label": "Compare with model" }, [h("option", { value: "", text: "no other model" }), ...others.map((m) => h("option", { value: m, text: m }))])
      : null;
    if (compareWith) {
      compareWith.value = String(model.get("compare_model") ?? "");
      compareWith.addEventListener("change", () => setTrait("compare_model", compareWith.value));
      compareWith.addEventListener("keydown", (e) => e.stopPropagation());
    }
    const compared = model.get("compare_force") ?? {};
    const cancel = h("button", { type: "button", "aria-label": "Cancel explanations", text: "Cancel", disabled: status !== "running" });
    cancel.addEventListener("click", () => model.send({ type: "cancel" }));
    const bar = h("div", { className: "es-progress", role: "progressbar", "aria-label": "Explanation progress", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(progress * 100) }, [h("span")]);
    (bar.firstChild as HTMLElement).style.width = `${Math.round(progress * 100)}%`;

    const current = String(model.get("current") ?? "");
    const regression = model.get("task") === "regression";
    const rows = (model.get("rows") ?? []) as ({ id: string; actual: string; predicted: string; score: number | null } | RegressionRow)[];
    const page = Number(model.get("rows_page") ?? 0);
    const pageSize = Number(model.get("rows_page_size") ?? 8);
    const headers = regression ? ["id", "actual", "predicted", "residual"] : ["id", "actual", "predicted", "confidence"];
    const table = h("table", { className: "es-table", role: "grid", "aria-label": regression ? "Rows to explain, largest |residual| first" : "Rows to explain" }, [
      h("thead", {}, [h("tr", { role: "row" }, headers.map((t) => h("th", { role: "columnheader", scope: "col", text: t })))]),
      h("tbody", {}, rows.map((r) => {
        const cells = regression
          ? [formatSignificant((r as RegressionRow).actual), formatSignificant((r as RegressionRow).predicted), signedValue((r as RegressionRow).residual)]
          : [String(r.actual), String(r.predicted), (r as { score: number | null }).score === null ? "" : formatPercent((r as { score: number }).score)];
        const label = regression
          ? `row ${r.id}: actual ${cells[0]}, predicted ${cells[1]}, residual ${cells[2]}`
          : `row ${r.id}: actual ${r.actual}, predicted ${r.predicted}`;
        const tr = h("tr", { role: "row", tabindex: 0, "aria-selected": String(r.id === current), "aria-label": label }, [
          h("td", { role: "gridcell", text: r.id }),
          h("td", { role: "gridcell", className: regression ? "es-num" : "", text: cells[0]! }),
          h("td", { role: "gridcell", className: regression ? "es-num" : "", text: cells[1]! }),
          h("td", { role: "gridcell", className: "es-num", text: cells[2]! }),
        ]);
        tr.addEventListener("click", () => setTrait("current", r.id));
        tr.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            setTrait("current", r.id);
          }
        });
        return tr;
      })),
    ]);
    const clause = String(model.get("clause_text") ?? "");
    root.replaceChildren(
      h("div", { className: "es-header" }, [
        h("span", { className: "es-title", text: "Force viewer" }),
        h("span", { text: `${formatCount(nRows)} selected rows · ${String(model.get("algorithm"))} explainer` }),
        clause ? h("span", { className: "es-chip" }, [h("span", { text: clause }), h("button", { type: "button", "aria-label": "Clear force viewer selection", text: "×" })]) : null,
      ]),
      h("div", { className: "es-toolbar" }, [regression ? null : h("label", {}, ["Output ", output]), regression ? null : h("label", {}, ["Class ", cls]), compareWith ? h("label", {}, ["Compare with ", compareWith]) : null, h("label", {}, ["Stack ", order]), bar, cancel, h("span", { role: "status", className: "es-muted", text: `${status === "running" ? `explaining… ${Math.round(progress * 100)}%` : status}; ${String(model.get("sampling") ?? "")}` })]),
      h("div", { className: "es-force-grid" }, [
        h("div", { className: "es-force-rows" }, [table, pager(page, nRows, pageSize, "page of rows", (p) => setTrait("rows_page", p), "rows_page")]),
        h("div", { className: "es-force-detail" }, [forcePlot(), compared.features ? forcePlot(compared, String(compared.model)) : null, limePanel()]),
      ]),
      ...[stackedPlot(), cohortPanel(), importancePanel()].filter((x): x is HTMLElement => x !== null),
    );
    root.querySelector(".es-chip button")?.addEventListener("click", () => model.send({ type: "clear" }));
  };
  const unmount = mountView(
    model,
    root,
    ["n_selected", "task", "job_status", "job_progress", "output", "outputs", "explain_class", "class_names", "stacked_order", "current", "rows", "rows_page", "force", "lime", "stacked", "cohort", "importance", "sampling", "algorithm", "clause_text", "selected_feature", "compare_model", "compare_models", "compare_force"],
    paint,
  );
  return () => {
    resize?.disconnect();
    unmount();
  };
}

export default { render };
