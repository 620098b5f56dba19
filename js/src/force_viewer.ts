/** ForceViewer widget: the selection's rows, a force plot per row (our SVG), LIME, cohort and importance. */
import { toFloat64 } from "./lib/buffers";
import { h } from "./lib/dom";
import { formatCount, formatMetric, formatPercent } from "./lib/format";
import { pager } from "./lib/pager";
import { mountView, type WidgetModel } from "./lib/model";

const SVG = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, title?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (title !== undefined) {
    const t = document.createElementNS(SVG, "title");
    t.textContent = title; // data stays text
    el.append(t);
  }
  return el;
}

/** Segments of a force plot: positive contributions from the base value up, then negative ones down to
 * the output. Each segment is [start, end] on the output axis. */
export function forceSegments(base: number, contributions: number[]): { index: number; start: number; end: number }[] {
  const order = contributions.map((c, i) => [c, i] as const);
  const positive = order.filter(([c]) => c > 0).sort((a, b) => b[0] - a[0]);
  const negative = order.filter(([c]) => c < 0).sort((a, b) => a[0] - b[0]);
  const out: { index: number; start: number; end: number }[] = [];
  let x = base;
  for (const [c, i] of positive) {
    out.push({ index: i, start: x, end: x + c });
    x += c;
  }
  for (const [c, i] of negative) {
    out.push({ index: i, start: x, end: x + c });
    x += c;
  }
  return out;
}

const signed = (x: number): string => (x >= 0 ? `+${formatMetric(x)}` : `−${formatMetric(-x)}`);

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-force", role: "region", "aria-label": "Force viewer" });
  el.append(root);
  const setTrait = (name: string, value: unknown): void => {
    model.set(name, value);
    model.save_changes();
  };

  const forcePlot = (): HTMLElement | null => {
    const f = model.get("force") ?? {};
    if (!f.features) return h("p", { className: "es-muted", text: "Click a row to see why the model predicted what it did." });
    const features: string[] = f.features;
    const values: string[] = f.values ?? [];
    const contributions = Array.from(toFloat64(f.contributions));
    const base = Number(f.base), output = Number(f.output);
    const segments = forceSegments(base, contributions);
    const xs = [base, output, ...segments.flatMap((s) => [s.start, s.end])];
    const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
    const span = hi - lo || 1;
    const width = 640, pad = 10;
    const X = (v: number): number => pad + ((v - lo) / span) * (width - 2 * pad);
    const plot = svg("svg", { viewBox: `0 0 ${width} 70`, class: "es-force-plot", role: "img", "aria-label": `Force plot of row ${f.id}: base value ${formatMetric(base)} to output ${formatMetric(output)} (${f.space === "probability" ? "probability" : "log-odds"} of ${f.class})` });
    segments.forEach((s, k) => {
      const c = contributions[s.index]!;
      const x0 = X(Math.min(s.start, s.end)), w = Math.max(1, Math.abs(X(s.end) - X(s.start)));
      const rect = svg("rect", { x: x0, y: 22, width: w, height: 18, class: c > 0 ? "es-push-up" : "es-push-down" }, `${features[s.index]} = ${values[s.index]}: ${signed(c)}`);
      plot.append(rect);
      if (k < 8 && w > 40) {
        const label = svg("text", { x: x0 + w / 2, y: 54, "text-anchor": "middle", class: "es-force-label" });
        label.textContent = features[s.index]!.length > 14 ? `${features[s.index]!.slice(0, 13)}…` : features[s.index]!;
        plot.append(label);
      }
    });
    for (const [v, name] of [[base, "base"], [output, "output"]] as const) {
      plot.append(svg("line", { x1: X(v), x2: X(v), y1: 14, y2: 44, class: "es-force-mark" }));
      const anchor = X(v) < 60 ? "start" : X(v) > width - 60 ? "end" : "middle";
      const t = svg("text", { x: X(v), y: 11, "text-anchor": anchor, class: "es-force-label" });
      t.textContent = `${name} ${formatMetric(v)}`;
      plot.append(t);
    }
    const list = h("ul", { className: "es-contribs", "aria-label": `Contributions for row ${f.id}` });
    const maxAbs = Math.max(1e-12, ...contributions.map(Math.abs));
    contributions.forEach((c, i) => {
      const bar = h("span", { className: `es-cbar ${c > 0 ? "es-push-up" : "es-push-down"}`, "aria-hidden": "true" });
      bar.style.width = `${(50 * Math.abs(c)) / maxAbs}%`;
      list.append(h("li", { "aria-label": `${features[i]} = ${values[i]}: ${signed(c)}` }, [h("span", { text: `${features[i]} = ${values[i]}` }), bar, h("span", { className: "es-num", text: signed(c) })]));
    });
    return h("div", {}, [
      h("p", { text: `Row ${f.id}: actual ${f.actual}, predicted ${f.predicted}; explaining ${f.space === "probability" ? "the probability" : "the log-odds"} of ${f.class}` }),
      plot,
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
    const f = (s.features as string[]).length;
    const values = toFloat64(s.values);
    const outputs = toFloat64(s.outputs);
    let top = 0, bottom = 0;
    for (let r = 0; r < ids.length; r++) {
      let up = 0, down = 0;
      for (let j = 0; j < f; j++) {
        const v = values[r * f + j]!;
        if (v > 0) up += v;
        else down += v;
      }
      top = Math.max(top, up);
      bottom = Math.min(bottom, down);
    }
    const height = 120, width = Math.max(200, ids.length * 6);
    const Y = (v: number): number => ((top - v) / (top - bottom || 1)) * height;
    const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", class: "es-stacked", role: "img", "aria-label": `Stacked force plot of ${ids.length} rows, ordered by ${model.get("stacked_order")}` });
    const w = width / ids.length;
    for (let r = 0; r < ids.length; r++) {
      let up = 0, down = 0;
      for (let j = 0; j < f; j++) {
        const v = values[r * f + j]!;
        if (v === 0) continue;
        const [a, b] = v > 0 ? [up, up + v] : [down + v, down];
        if (v > 0) up += v;
        else down += v;
        plot.append(svg("rect", { x: r * w, width: Math.max(w - 0.5, 0.5), y: Y(b), height: Math.max(Y(a) - Y(b), 0.2), class: v > 0 ? "es-push-up" : "es-push-down" }, `row ${ids[r]}: ${(s.features as string[])[j]} ${signed(v)}; output ${formatMetric(outputs[r]!)}`));
      }
    }
    plot.append(svg("line", { x1: 0, x2: width, y1: Y(0), y2: Y(0), class: "es-force-mark" }));
    return h("div", {}, [h("p", { className: "es-muted", text: "Contributions per row (relative to the base value); hover for details" }), plot]);
  };

  const cohortPanel = (): HTMLElement | null => {
    const c = model.get("cohort") ?? {};
    const features: string[] = c.features ?? [];
    if (!features.length) return null;
    const [sel, rest, diff] = [toFloat64(c.selection), toFloat64(c.rest), toFloat64(c.difference)];
    const chosen = String(model.get("selected_feature") ?? "");
    const max = Math.max(1e-12, ...Array.from(sel).filter(Number.isFinite), ...Array.from(rest).filter(Number.isFinite));
    const list = h("ul", { className: "es-cohort", "aria-label": "What drives the selection: mean |SHAP| in the selection and the rest" });
    features.slice(0, 12).forEach((name, i) => {
      const button = h("button", { type: "button", "aria-pressed": String(name === chosen), "aria-label": `${name}: mean |SHAP| ${formatMetric(sel[i]!)} in the selection, ${formatMetric(rest[i]!)} in the rest; select where it pushes most` }, [h("span", { text: name })]);
      button.addEventListener("click", () => model.send({ type: "select_feature", feature: name }));
      const bars = h("span", { className: "es-pairbars", "aria-hidden": "true" }, [h("span", { className: "es-bar-sel" }), h("span", { className: "es-bar-rest" })]);
      (bars.children[0] as HTMLElement).style.width = `${(100 * (sel[i] || 0)) / max}%`;
      (bars.children[1] as HTMLElement).style.width = `${(100 * (rest[i] || 0)) / max}%`;
      list.append(h("li", {}, [button, bars, h("span", { className: "es-num", text: Number.isFinite(diff[i]!) ? signed(diff[i]!) : formatMetric(sel[i]!) })]));
    });
    return h("div", {}, [h("p", { text: `What drives these rows (class ${c.class}): mean |SHAP|, selection (top bar) against the rest` }), list]);
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
    return h("div", {}, [button, h("p", { className: "es-muted", text: `Mean |SHAP| (top bar) and permutation importance (accuracy drop, bottom bar) on ${formatCount(Number(imp.rows))} rows` }), list]);
  };

  const paint = (): void => {
    const nRows = Number(model.get("n_selected") ?? 0);
    root.setAttribute("data-rows", String(nRows));
    const status = String(model.get("job_status") ?? "idle");
    const progress = Number(model.get("job_progress") ?? 0);
    const output = h("select", { "aria-label": "Output" }, [h("option", { value: "log_odds", text: "log-odds" }), h("option", { value: "probability", text: "probability" })]);
    output.value = String(model.get("output"));
    output.addEventListener("change", () => setTrait("output", output.value));
    const cls = h("select", { "aria-label": "Explain class" }, [h("option", { value: "", text: "the predicted class" }), ...((model.get("class_names") ?? []) as string[]).map((c) => h("option", { value: c, text: c }))]);
    cls.value = String(model.get("explain_class") ?? "");
    cls.addEventListener("change", () => setTrait("explain_class", cls.value));
    const order = h("select", { "aria-label": "Order of the stacked plot" }, [h("option", { value: "output", text: "by output" }), h("option", { value: "similarity", text: "by similarity" })]);
    order.value = String(model.get("stacked_order"));
    order.addEventListener("change", () => setTrait("stacked_order", order.value));
    const cancel = h("button", { type: "button", "aria-label": "Cancel explanations", text: "Cancel", disabled: status !== "running" });
    cancel.addEventListener("click", () => model.send({ type: "cancel" }));
    const bar = h("div", { className: "es-progress", role: "progressbar", "aria-label": "Explanation progress", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(progress * 100) }, [h("span")]);
    (bar.firstChild as HTMLElement).style.width = `${Math.round(progress * 100)}%`;

    const current = String(model.get("current") ?? "");
    const rows = (model.get("rows") ?? []) as { id: string; actual: string; predicted: string; score: number | null }[];
    const page = Number(model.get("rows_page") ?? 0);
    const pageSize = Number(model.get("rows_page_size") ?? 8);
    const table = h("table", { className: "es-table", role: "grid", "aria-label": "Rows to explain" }, [
      h("thead", {}, [h("tr", { role: "row" }, ["id", "actual", "predicted", "confidence"].map((t) => h("th", { role: "columnheader", scope: "col", text: t })))]),
      h("tbody", {}, rows.map((r) => {
        const tr = h("tr", { role: "row", tabindex: 0, "aria-selected": String(r.id === current), "aria-label": `row ${r.id}: actual ${r.actual}, predicted ${r.predicted}` }, [
          h("td", { role: "gridcell", text: r.id }),
          h("td", { role: "gridcell", text: r.actual }),
          h("td", { role: "gridcell", text: r.predicted }),
          h("td", { role: "gridcell", className: "es-num", text: r.score === null ? "" : formatPercent(r.score) }),
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
      h("div", { className: "es-toolbar" }, [h("label", {}, ["Output ", output]), h("label", {}, ["Class ", cls]), h("label", {}, ["Stack ", order]), bar, cancel, h("span", { role: "status", className: "es-muted", text: `${status === "running" ? `explaining… ${Math.round(progress * 100)}%` : status}; ${String(model.get("sampling") ?? "")}` })]),
      h("div", { className: "es-force-grid" }, [
        h("div", {}, [table, pager(page, nRows, pageSize, "page of rows", (p) => setTrait("rows_page", p), "rows_page")]),
        h("div", {}, [forcePlot(), limePanel()].filter((x): x is HTMLElement => x !== null)),
      ]),
      ...[stackedPlot(), cohortPanel(), importancePanel()].filter((x): x is HTMLElement => x !== null),
    );
    root.querySelector(".es-chip button")?.addEventListener("click", () => model.send({ type: "clear" }));
  };
  return mountView(
    model,
    root,
    ["n_selected", "job_status", "job_progress", "output", "explain_class", "class_names", "stacked_order", "current", "rows", "rows_page", "force", "lime", "stacked", "cohort", "importance", "sampling", "algorithm", "clause_text", "selected_feature"],
    paint,
  );
}

export default { render };
