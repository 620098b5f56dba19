/** DataProfile widget: one chart per feature (all rows as an outline, the rows the other views keep
 * filled, the error per cell as red marks), its figures, and the association matrix. Drag over a
 * histogram's bins or click a category's bars (Shift adds) to select those rows; arrow keys move a
 * chart's cursor, Shift+arrows extend it, Enter selects; Escape clears. Counts arrive as binary buffers. */
import { toFloat64, toUint32 } from "./lib/buffers";
import { BRAND, shade, textOn } from "./lib/color";
import { h, svg } from "./lib/dom";
import { abbreviate, formatCount, formatMetric, formatPercent, formatValue } from "./lib/format";
import { mountView, type WidgetModel } from "./lib/model";
import { pager } from "./lib/pager";

export interface Chart {
  feature: string;
  type: string;
  kind: string; // "numeric" (bins, then missing) or "categorical" (values, "other", missing)
  labels: string[];
  offset: number;
  size: number;
  edges_offset: number;
  missing_share: number | null;
  distinct: number;
  mean: number | null;
  std: number | null;
  median: number | null;
  outliers_iqr: number | null;
  outliers_z: number | null;
  top_value: string | null;
  assoc_error: number | null;
  assoc_target: number | null;
  assoc_method: string;
  redundant_with: string | null;
  zero_variance: boolean;
  near_zero_variance: boolean;
  drift_psi?: number | null;
  psi_verdict?: string | null;
  drift_test?: string | null;
  drift_statistic?: number | null;
  drift_p?: number | null;
  drifted?: boolean | null;
}
interface Brush {
  feature: string;
  kind: string;
  cells: number[];
}
interface Pair {
  feature_a: string;
  feature_b: string;
  method: string;
  strength: number;
}

export const PAGE = 8; // charts per page
export const W = 220;
export const H = 96;
const M = { left: 4, right: 4, top: 6, bottom: 16 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
const BAR = 15; // a category's bar height (px)

const handled = (e: Event): void => {
  e.preventDefault();
  e.stopPropagation();
};

/** The charts shown: those whose name holds `query` (case-insensitive), the focused pair first. */
export function shownCharts(charts: Chart[], query: string, focus: string[]): Chart[] {
  const q = query.trim().toLowerCase();
  const found = charts.filter((c) => !q || c.feature.toLowerCase().includes(q));
  if (!focus.length) return found;
  const first = focus.map((f) => charts.find((c) => c.feature === f)).filter((c): c is Chart => !!c);
  return [...first, ...found.filter((c) => !focus.includes(c.feature))];
}

/** "error rate 12.3%" or "mean absolute error 4.56" of a cell (nothing when it has no kept row). */
export function errorText(measure: string, value: number): string {
  if (!Number.isFinite(value)) return "no rows kept";
  return measure === "error rate" ? `error rate ${formatPercent(value)}` : `${measure} ${formatMetric(value)}`;
}

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-profile", role: "region", "aria-label": "Data profile" });
  el.append(root);
  let page = 0;
  let query = "";
  const cursors: Record<string, { x: number; a: number }> = {};
  let drag: { feature: string; x0: number; x1: number } | null = null;

  const search = h("input", { type: "search", role: "searchbox", "aria-label": "Filter features", placeholder: "Filter features", className: "es-dp-search" });
  search.addEventListener("input", () => {
    query = search.value;
    page = 0;
    paint();
  });
  search.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") e.stopPropagation(); // typing never reaches the notebook
  });
  const header = h("div", { className: "es-header" });
  const toolbar = h("div", { className: "es-toolbar" }, [search]);
  const status = h("div", { className: "es-status es-muted", role: "status", "aria-live": "polite" });
  const body = h("div", { className: "es-dp-body" });
  root.append(header, toolbar, status, body);

  const sendCells = (feature: string, cells: number[]): void => model.send({ type: "cells", feature, cells });

  const statsLine = (c: Chart): HTMLElement => {
    const parts = [c.type, `${formatPercent(c.missing_share ?? 0)} missing`, `${formatCount(c.distinct)} distinct`];
    if (c.kind === "numeric" && c.mean !== null) parts.push(`mean ${formatValue(c.mean)} ± ${formatValue(c.std ?? NaN)}`, `median ${formatValue(c.median ?? NaN)}`);
    else if (c.top_value !== null) parts.push(`top: ${abbreviate(c.top_value, 18)}`);
    if (c.zero_variance) parts.push("zero variance");
    else if (c.near_zero_variance) parts.push("near-zero variance");
    return h("p", { className: "es-dp-stats es-muted", text: parts.join(" · ") });
  };

  const actions = (c: Chart, brush: Brush, hasTrain: boolean): HTMLElement => {
    const row = h("div", { className: "es-dp-actions" });
    const button = (text: string, label: string, kind: string, message: Record<string, unknown>, title: string): void => {
      const b = h("button", { type: "button", className: "es-dp-chip", text, "aria-label": label, title, "aria-pressed": String(brush.feature === c.feature && brush.kind === kind) });
      b.addEventListener("click", () => model.send({ ...message, feature: c.feature }));
      row.append(b);
    };
    if (c.kind === "numeric" && c.outliers_iqr !== null) {
      button(`IQR outliers ${formatCount(c.outliers_iqr)}`, `Select the ${c.feature} outliers by IQR`, "outliers_iqr", { type: "outliers", rule: "iqr" }, "Below Q1 − 1.5 IQR or above Q3 + 1.5 IQR");
      button(`|z| > 3: ${formatCount(c.outliers_z ?? 0)}`, `Select the ${c.feature} outliers by z-score`, "outliers_z", { type: "outliers", rule: "z" }, "More than 3 standard deviations from the mean");
    }
    if (hasTrain && c.drift_psi !== undefined && c.drift_psi !== null) {
      const text = `PSI ${formatMetric(c.drift_psi)} ${c.drifted ? "drifted" : c.psi_verdict ?? ""}`;
      const rule = `PSI over the training deciles: < 0.1 stable, 0.1–0.25 moderate, > 0.25 major; ${c.drift_test ?? ""} p = ${formatMetric(c.drift_p ?? NaN)}; drifted: the test's Benjamini–Hochberg q < 0.05 or PSI ≥ 0.1`;
      button(text, `Select the most shifted rows of ${c.feature}`, "drift", { type: "drift" }, rule);
    }
    return row;
  };

  /** A numeric feature's histogram: bins with the outline of all rows, the kept rows filled, red ticks for
   * the error among the kept rows; drag or arrow keys to brush; the missing rows as a button below. */
  const histogram = (c: Chart, all: Uint32Array, kept: Uint32Array, error: Float64Array, edges: Float64Array, brush: Brush, measure: string): HTMLElement[] => {
    const bins = c.size - 1;
    const at = (i: number): number => c.offset + i;
    let max = 1;
    let maxError = 0;
    for (let i = 0; i < bins; i++) {
      max = Math.max(max, all[at(i)] ?? 0);
      if (Number.isFinite(error[at(i)]!)) maxError = Math.max(maxError, error[at(i)]!);
    }
    const edge = (i: number): number => edges[c.edges_offset + i] ?? NaN;
    const describe = (a: number, b: number): string => {
      const [i, j] = a <= b ? [a, b] : [b, a];
      let n = 0;
      for (let k = i; k <= j; k++) n += kept[at(k)] ?? 0;
      return `${c.feature} ${formatValue(edge(i))} to ${formatValue(edge(j + 1))}: ${formatCount(n)} rows kept`;
    };
    const own = brush.feature === c.feature && brush.kind === "cells" ? brush.cells.filter((i) => i < bins) : [];
    const plot = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "es-dp-plot", role: "group", tabindex: 0, "data-focus": `plot-${c.feature}`, "aria-label": `Histogram of ${c.feature}. Drag to select a range, or arrow keys to move, Shift+arrows to extend, Enter to select, Escape to clear.` });
    const bw = PW / bins;
    for (let i = 0; i < bins; i++) {
      const n = all[at(i)] ?? 0;
      const k = kept[at(i)] ?? 0;
      const x = M.left + i * bw;
      const title = `${c.feature} ${formatValue(edge(i))} to ${formatValue(edge(i + 1))}: ${formatCount(n)} rows, ${formatCount(k)} kept, ${errorText(measure, error[at(i)]!)}`;
      const g = svg("g", { class: own.includes(i) ? "es-dp-bin es-dp-brushed" : "es-dp-bin" }, title);
      g.append(svg("rect", { class: "es-dp-all", x, width: Math.max(bw - 0.5, 0.5), y: M.top + PH - (n / max) * PH, height: (n / max) * PH }));
      g.append(svg("rect", { class: "es-dp-kept", x, width: Math.max(bw - 0.5, 0.5), y: M.top + PH - (k / max) * PH, height: (k / max) * PH }));
      const e = error[at(i)]!;
      if (Number.isFinite(e) && maxError > 0) g.append(svg("rect", { class: "es-dp-error", x, width: Math.max(bw - 0.5, 0.5), y: M.top + PH - (e / maxError) * PH - 1, height: 2 }));
      plot.append(g);
    }
    const lo = svg("text", { x: M.left, y: H - 4, class: "es-dp-tick" });
    lo.textContent = formatValue(edge(0));
    const hi = svg("text", { x: W - M.right, y: H - 4, class: "es-dp-tick", "text-anchor": "end" });
    hi.textContent = formatValue(edge(bins));
    plot.append(lo, hi);
    const mark = svg("rect", { class: "es-dp-cursor", x: 0, y: M.top, width: 0, height: PH, visibility: "hidden" });
    plot.append(mark);
    const cursor = (cursors[c.feature] ??= { x: own[0] ?? 0, a: own[0] ?? 0 });
    const show = (a: number, b: number, verb: string): void => {
      const [i, j] = a <= b ? [a, b] : [b, a];
      Object.entries({ x: M.left + i * bw, width: (j - i + 1) * bw }).forEach(([k, v]) => mark.setAttribute(k, String(v)));
      mark.setAttribute("visibility", "visible");
      status.textContent = describe(i, j) + verb;
    };
    const binAt = (e: PointerEvent): number => {
      const r = plot.getBoundingClientRect();
      const x = ((e.clientX - r.left) / Math.max(r.width, 1)) * W - M.left;
      return Math.max(0, Math.min(bins - 1, Math.floor(x / bw)));
    };
    plot.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      const i = binAt(e);
      drag = { feature: c.feature, x0: i, x1: i };
      plot.setPointerCapture?.(e.pointerId);
      plot.focus({ preventScroll: true });
      show(i, i, "");
      e.preventDefault();
    });
    plot.addEventListener("pointermove", (e) => {
      if (!drag || drag.feature !== c.feature) return;
      drag.x1 = binAt(e);
      show(drag.x0, drag.x1, "");
    });
    plot.addEventListener("pointerup", (e) => {
      if (!drag || drag.feature !== c.feature) return;
      drag.x1 = binAt(e);
      const [a, b] = [Math.min(drag.x0, drag.x1), Math.max(drag.x0, drag.x1)];
      drag = null;
      Object.assign(cursor, { a, x: b });
      sendCells(c.feature, [a, b]);
    });
    plot.addEventListener("pointercancel", () => (drag = null));
    plot.addEventListener("focus", () => show(cursor.a, cursor.x, " — Enter selects"));
    plot.addEventListener("blur", () => mark.setAttribute("visibility", "hidden"));
    plot.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        handled(e);
        sendCells(c.feature, [Math.min(cursor.a, cursor.x), Math.max(cursor.a, cursor.x)]);
        return;
      }
      const next = { ArrowLeft: cursor.x - 1, ArrowRight: cursor.x + 1, Home: 0, End: bins - 1 }[e.key];
      if (next === undefined) return;
      handled(e);
      cursor.x = Math.max(0, Math.min(bins - 1, next));
      if (!e.shiftKey) cursor.a = cursor.x;
      show(cursor.a, cursor.x, " — Enter selects");
    });
    const missing = all[at(bins)] ?? 0;
    const parts: HTMLElement[] = [plot as unknown as HTMLElement];
    if (missing) {
      const chosen = brush.feature === c.feature && brush.kind === "cells" && brush.cells.includes(bins);
      const b = h("button", { type: "button", className: "es-dp-chip", "aria-pressed": String(chosen), "aria-label": `Select the rows where ${c.feature} is missing`, text: `missing ${formatCount(missing)} (${formatCount(kept[at(bins)] ?? 0)} kept, ${errorText(measure, error[at(bins)]!)})` });
      b.addEventListener("click", () => sendCells(c.feature, [bins]));
      parts.push(b);
    }
    return parts;
  };

  /** A category's bars, one button each: outline all rows, filled the kept rows, the error after. */
  const bars = (c: Chart, all: Uint32Array, kept: Uint32Array, error: Float64Array, brush: Brush, measure: string): HTMLElement => {
    let max = 1;
    for (let i = 0; i < c.size; i++) max = Math.max(max, all[c.offset + i] ?? 0);
    const chosen = brush.feature === c.feature && brush.kind === "cells" ? brush.cells : [];
    const buttons: HTMLButtonElement[] = [];
    const items: HTMLElement[] = [];
    c.labels.forEach((label, i) => {
      const n = all[c.offset + i] ?? 0;
      if (!n) return;
      const k = kept[c.offset + i] ?? 0;
      const e = error[c.offset + i]!;
      const track = h("span", { className: "es-dp-track", "aria-hidden": "true" }, [
        h("span", { className: "es-dp-bar-all", style: `width:${(100 * n) / max}%` }),
        h("span", { className: "es-dp-bar-kept", style: `width:${(100 * k) / max}%` }),
      ]);
      const b = h("button", { type: "button", className: "es-dp-cat", "data-focus": `cat-${c.feature}-${i}`, "aria-pressed": String(chosen.includes(i)), "aria-label": `${c.feature} = ${label}: ${formatCount(n)} rows, ${formatCount(k)} kept, ${errorText(measure, e)}`, title: label }, [
        h("span", { className: "es-dp-cat-label", text: abbreviate(label, 16) }),
        track,
        h("span", { className: "es-num es-dp-cat-error", text: Number.isFinite(e) ? (measure === "error rate" ? formatPercent(e) : formatMetric(e)) : "–" }),
      ]);
      b.style.height = `${BAR + 4}px`;
      b.addEventListener("click", (ev) => {
        const add = ev.shiftKey || ev.ctrlKey || ev.metaKey;
        sendCells(c.feature, add ? (chosen.includes(i) ? chosen.filter((x) => x !== i) : [...chosen, i]) : [i]);
      });
      b.addEventListener("keydown", (ev) => {
        if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
          handled(ev);
          const j = buttons.indexOf(b) + (ev.key === "ArrowDown" ? 1 : -1);
          buttons[Math.max(0, Math.min(buttons.length - 1, j))]?.focus();
        } else if (ev.key === "Enter" || ev.key === " ") ev.stopPropagation(); // the button's click; not the notebook's
      });
      buttons.push(b);
      items.push(h("li", {}, [b]));
    });
    return h("ul", { className: "es-dp-cats", "aria-label": `Values of ${c.feature}` }, items);
  };

  const card = (c: Chart, data: { all: Uint32Array; kept: Uint32Array; error: Float64Array; edges: Float64Array }, brush: Brush, measure: string, hasTrain: boolean, focused: boolean): HTMLElement => {
    const assoc = c.assoc_error === null ? "" : `error association ${formatMetric(c.assoc_error)} · target ${formatMetric(c.assoc_target ?? NaN)} (${c.assoc_method})`;
    const title = h("h3", { className: "es-dp-name", title: c.feature, text: c.feature });
    const chart = c.kind === "numeric" ? histogram(c, data.all, data.kept, data.error, data.edges, brush, measure) : [bars(c, data.all, data.kept, data.error, brush, measure)];
    return h("article", { className: focused ? "es-dp-card es-dp-focused" : "es-dp-card", "aria-label": `Feature ${c.feature}`, "data-feature": c.feature }, [
      title,
      statsLine(c),
      h("p", { className: "es-dp-assoc es-muted", text: assoc }),
      c.redundant_with ? h("p", { className: "es-dp-warn", text: `redundant with ${c.redundant_with}` }) : null,
      ...chart,
      actions(c, brush, hasTrain),
    ]);
  };

  const matrixPanel = (features: string[], values: Float64Array, rows: number, matrixStatus: string, pairs: Pair[]): HTMLElement => {
    const k = features.length;
    const grid = h("table", { className: "es-dp-matrix", role: "grid", "aria-label": "Feature associations" });
    const head = h("tr", {}, [h("th", { scope: "col", "aria-label": "Feature" }), ...features.map((f) => h("th", { scope: "col", title: f, text: abbreviate(f, 6) }))]);
    grid.append(h("thead", {}, [head]));
    const tbody = h("tbody");
    features.forEach((a, i) => {
      const cells = features.map((b, j) => {
        const v = values.length === k * k ? values[i * k + j]! : NaN;
        const text = Number.isFinite(v) ? v.toFixed(2) : "–";
        const td = h("td", { role: "gridcell", tabindex: i === 0 && j === 0 ? 0 : -1, className: "es-num", "data-focus": `m-${i}-${j}`, "aria-label": `${a} and ${b}: ${text}`, title: `${a} and ${b}: ${text}`, text });
        if (Number.isFinite(v)) {
          td.style.background = shade(BRAND, Math.min(1, Math.abs(v)));
          td.style.color = textOn(Math.min(1, Math.abs(v)));
        }
        td.addEventListener("click", () => model.send({ type: "focus", feature: a, other: b }));
        td.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            handled(e);
            model.send({ type: "focus", feature: a, other: b });
            return;
          }
          const move = { ArrowUp: [i - 1, j], ArrowDown: [i + 1, j], ArrowLeft: [i, j - 1], ArrowRight: [i, j + 1] }[e.key];
          if (!move) return;
          handled(e);
          const [r, s] = [Math.max(0, Math.min(k - 1, move[0]!)), Math.max(0, Math.min(k - 1, move[1]!))];
          grid.querySelector<HTMLElement>(`[data-focus="m-${r}-${s}"]`)?.focus();
        });
        return td;
      });
      tbody.append(h("tr", {}, [h("th", { scope: "row", title: a, text: abbreviate(a, 16) }), ...cells]));
    });
    grid.append(tbody);
    const note = matrixStatus === "computing" ? "measuring on the kept rows…" : matrixStatus ? `could not measure: ${matrixStatus}` : `|Spearman| between numbers, Cramér's V between categories, correlation ratio between the two; on ${formatCount(rows)} sample rows kept. Click a cell to show the pair's charts first.`;
    const list = h(
      "ol",
      { className: "es-dp-pairs", "aria-label": "Strongest pairs" },
      pairs.map((p) => h("li", { text: `${p.feature_a} and ${p.feature_b}: ${formatMetric(p.strength)} (${p.method.replace("_", " ")})${p.strength >= 0.95 ? " — redundant" : ""}` })),
    );
    return h("section", { className: "es-dp-assoc-panel", "aria-label": "Associations" }, [
      h("h3", { text: "Associations" }),
      h("div", { className: "es-dp-matrix-wrap" }, [grid]),
      h("p", { className: "es-muted", role: "note", text: note }),
      h("h4", { text: "Strongest pairs (all rows)" }),
      list,
    ]);
  };

  const paint = (): void => {
    const charts = (model.get("charts") ?? []) as Chart[];
    const brush = (model.get("brush") ?? { feature: "", kind: "", cells: [] }) as Brush;
    const focus = ((model.get("focus") ?? []) as string[]).map(String);
    const measure = String(model.get("error_measure") ?? "error rate");
    const hasTrain = Boolean(model.get("has_train"));
    const nRows = Number(model.get("n_rows") ?? 0);
    const nTotal = Number(model.get("n_total") ?? 0);
    const filter = String(model.get("filter_text") ?? "");
    const clause = String(model.get("clause_text") ?? "");
    root.setAttribute("data-rows", String(nRows));
    const focused = root.contains(document.activeElement) ? document.activeElement?.getAttribute("data-focus") : null;
    const parts: (HTMLElement | null)[] = [
      h("span", { className: "es-title", text: "Data profile" }),
      h("span", { text: `${charts.length} features · ${formatCount(nRows)} of ${formatCount(nTotal)} rows kept · red: ${measure} per bin` }),
      filter ? h("span", { className: "es-muted", text: `filtered by: ${filter}` }) : null,
      clause ? h("span", { className: "es-chip" }, [h("span", { text: clause }), h("button", { type: "button", "aria-label": "Clear data profile selection", title: "Clear (Esc)", text: "×" })]) : null,
    ];
    header.replaceChildren(...parts.filter((x): x is HTMLElement => x !== null));
    header.querySelector("button")?.addEventListener("click", () => model.send({ type: "clear" }));
    const data = { all: toUint32(model.get("all_counts")), kept: toUint32(model.get("kept_counts")), error: toFloat64(model.get("kept_error")), edges: toFloat64(model.get("edges")) };
    const shown = shownCharts(charts, query, focus);
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    const grid = h("div", { className: "es-dp-grid" }, shown.slice(page * PAGE, page * PAGE + PAGE).map((c) => card(c, data, brush, measure, hasTrain, focus.includes(c.feature))));
    const tools: HTMLElement[] = [];
    if (focus.length) {
      const all = h("button", { type: "button", className: "es-dp-chip", text: `Showing ${focus.join(" and ")} first — show in order`, "aria-label": "Show the features in order" });
      all.addEventListener("click", () => model.send({ type: "unfocus" }));
      tools.push(all);
    }
    if (!shown.length) tools.push(h("p", { className: "es-muted", text: `No feature matches “${query}”.` }));
    const nav = pager(page, shown.length, PAGE, "features", (p) => {
      page = p;
      paint();
    });
    const matrix = matrixPanel((model.get("matrix_features") ?? []) as string[], toFloat64(model.get("matrix")), Number(model.get("matrix_rows") ?? 0), String(model.get("matrix_status") ?? ""), (model.get("pairs") ?? []) as Pair[]);
    body.replaceChildren(...tools, grid, nav, matrix);
    if (focused) root.querySelector<HTMLElement>(`[data-focus="${focused}"]`)?.focus({ preventScroll: true });
  };

  return mountView(
    model,
    root,
    ["charts", "edges", "all_counts", "kept_counts", "kept_error", "matrix_features", "matrix", "matrix_rows", "matrix_status", "pairs", "has_train", "brush", "focus", "error_measure", "n_rows", "n_total", "clause_text", "filter_text"],
    paint,
  );
}

export default { render };
