/** ResidualPlot widget: a regression's predicted against actual (2-D bins), residual histogram and residual
 * against a feature. Drag a rectangle or a range (or use a plot's arrow keys, Shift to extend, Enter) to
 * select those rows in Python; Escape clears. Every count comes from the kernel as a binary buffer. */
import { toFloat64, toUint32 } from "./lib/buffers";
import { BRAND, ERROR, shade } from "./lib/color";
import { h, svg } from "./lib/dom";
import { abbreviate, formatCount, formatSigned, formatValue, niceTicks } from "./lib/format";
import { mountView, type WidgetModel } from "./lib/model";

export type Plot = "density" | "histogram" | "feature";
interface Brush {
  plot: string;
  x: number[];
  y: number[];
  categories: number[];
}
interface Feature {
  name: string;
  kind: string;
}

/** Plot geometry in SVG units; the SVG scales with its panel's width. */
export const W = 320;
export const H = 232;
export const M = { left: 46, right: 10, top: 8, bottom: 36 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

/** Which of `bins` equal bins over [0, size) a position falls in (clipped to the ends). */
export function binAt(pos: number, size: number, bins: number): number {
  return Math.max(0, Math.min(bins - 1, Math.floor((pos / size) * bins)));
}

/** A count's colour intensity on a log scale: 0 for no rows, 0.15 to 1 for 1 to `max` rows. */
export function logIntensity(n: number, max: number): number {
  if (n <= 0 || max <= 0) return 0;
  return 0.15 + 0.85 * (Math.log1p(n) / Math.log1p(max));
}

/** "70 to 80": the values bins i..j of `edges` span. */
export function rangeText(edges: Float64Array, i: number, j: number): string {
  const [a, b] = i <= j ? [i, j] : [j, i];
  return `${formatValue(edges[a]!)} to ${formatValue(edges[b + 1]!)}`;
}

/** Where an arrow key (Home, End) moves a cursor at (x, y) over n[0] x n[1] bins (up: higher bins);
 * null for any other key. */
export function moveKey(key: string, pos: [number, number], n: [number, number]): [number, number] | null {
  const [x, y] = pos;
  const moves: Record<string, [number, number]> = {
    ArrowLeft: [Math.max(0, x - 1), y],
    ArrowRight: [Math.min(n[0] - 1, x + 1), y],
    ArrowUp: [x, Math.min(n[1] - 1, y + 1)],
    ArrowDown: [x, Math.max(0, y - 1)],
    Home: [0, y],
    End: [n[0] - 1, y],
  };
  return moves[key] ?? null;
}

/** Rows in bins x0..x1 by y0..y1 of a grid stored x-major (index x * ny + y). */
export function rangeCount(counts: Uint32Array, ny: number, x: [number, number], y: [number, number]): number {
  let n = 0;
  for (let i = Math.min(...x); i <= Math.max(...x); i++) for (let j = Math.min(...y); j <= Math.max(...y); j++) n += counts[i * ny + j] ?? 0;
  return n;
}

/** The keys a plot handles stop here: JupyterLab must not also act on them (move cells, edit mode). */
const handled = (e: Event): void => {
  e.preventDefault();
  e.stopPropagation();
};

interface Cursor {
  x: number;
  y: number;
  ax: number; // the anchor: Shift+arrows extend the range from it
  ay: number;
  moved: boolean;
}

/** What a 2-D (or, with ny = 1, a 1-D) brushable plot needs. */
interface GridPlot {
  plot: Plot;
  nx: number;
  ny: number;
  counts: Uint32Array; // x-major, nx * ny
  describe: (x: [number, number], y: [number, number]) => string;
  label: string;
}

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-residual", role: "region", "aria-label": "Residual plot" });
  el.append(root);
  const cursors: Record<Plot, Cursor> = {
    density: { x: 0, y: 0, ax: 0, ay: 0, moved: false },
    histogram: { x: 0, y: 0, ax: 0, ay: 0, moved: false },
    feature: { x: 0, y: 0, ax: 0, ay: 0, moved: false },
  };
  let drag: { plot: Plot; x0: number; y0: number; x1: number; y1: number } | null = null;
  let byPointer = false; // the plots were last used with the pointer: no focus ring or keyboard cursor until a key

  const send = (plot: Plot, x: [number, number], y?: [number, number]): void => {
    const sorted = (r: [number, number]): number[] => [Math.min(...r), Math.max(...r)];
    model.send({ type: "brush", plot, x: sorted(x), ...(y ? { y: sorted(y) } : {}) });
  };

  // The feature picker is built once: re-creating it on a repaint would close it under the pointer.
  const pickerId = `es-rp-feature-${Math.random().toString(36).slice(2)}`;
  const picker = h("select", { className: "es-rp-feature", id: pickerId });
  picker.addEventListener("change", () => {
    model.set("feature", picker.value);
    model.save_changes();
  });
  picker.addEventListener("keydown", (e) => {
    if (e.key === "Escape") return; // the root clears the selection
    e.stopPropagation(); // arrows and Enter choose a feature, they never move notebook cells
  });
  const header = h("div", { className: "es-header" });
  const toolbar = h("div", { className: "es-toolbar" }, [h("label", { for: pickerId, text: "Residual against" }), picker]);
  const panels = h("div", { className: "es-rp-panels" });
  root.append(header, toolbar, panels);
  root.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    handled(e);
    model.send({ type: "clear" });
  });

  /** A brushable grid of bins (pointer drag, arrow keys and Enter): the SVG, for the caller to draw its cells
   * in, and `finish`, which puts the brush and the keyboard cursor over them. */
  const brushable = (g: GridPlot, brush: Brush, status: HTMLElement): { plot: SVGSVGElement; finish: () => void } => {
    const plot = svg("svg", {
      ...(byPointer ? { "data-pointer": "true" } : {}),
      viewBox: `0 0 ${W} ${H}`,
      class: "es-rp-plot",
      role: "group",
      tabindex: 0,
      "data-focus": `plot-${g.plot}`,
      "aria-label": `${g.label}. Drag to select, or arrow keys to move, Shift+arrows to extend, Enter to select, Escape to clear.`,
    });
    const cw = PW / g.nx;
    const ch = PH / g.ny;
    const box = (x: [number, number], y: [number, number]): Record<string, number> => ({
      x: M.left + Math.min(...x) * cw,
      y: M.top + PH - (Math.max(...y) + 1) * ch,
      width: (Math.abs(x[1] - x[0]) + 1) * cw,
      height: (Math.abs(y[1] - y[0]) + 1) * ch,
    });
    const own = brush.plot === g.plot && brush.x.length === 2;
    const brushX: [number, number] = own ? [brush.x[0]!, brush.x[1]!] : [0, 0];
    const brushY: [number, number] = own && brush.y.length === 2 ? [brush.y[0]!, brush.y[1]!] : [0, g.ny - 1];
    const mark = svg("rect", { class: "es-rp-brush", ...box(brushX, brushY), visibility: own ? "visible" : "hidden" });
    const cursorMark = svg("rect", { class: "es-rp-cursor", x: 0, y: 0, width: 0, height: 0, visibility: "hidden" });
    const say = (x: [number, number], y: [number, number], verb: string): void => {
      status.textContent = `${g.describe(x, y)}: ${formatCount(rangeCount(g.counts, g.ny, x, y))} rows${verb}`;
    };
    const c = cursors[g.plot];
    const showCursor = (): void => {
      for (const [k, v] of Object.entries(box([c.ax, c.x], [c.ay, c.y]))) cursorMark.setAttribute(k, String(v));
      cursorMark.setAttribute("visibility", "visible");
      const same = own && Math.min(c.ax, c.x) === Math.min(...brushX) && Math.max(c.ax, c.x) === Math.max(...brushX) && Math.min(c.ay, c.y) === Math.min(...brushY) && Math.max(c.ay, c.y) === Math.max(...brushY);
      say([c.ax, c.x], [c.ay, c.y], same ? " selected" : " — Enter selects");
    };
    if (own) say(brushX, brushY, " selected");
    const at = (e: PointerEvent): [number, number] => {
      const r = plot.getBoundingClientRect();
      const sx = ((e.clientX - r.left) / Math.max(r.width, 1)) * W - M.left;
      const sy = M.top + PH - ((e.clientY - r.top) / Math.max(r.height, 1)) * H;
      return [binAt(sx, PW, g.nx), binAt(sy, PH, g.ny)];
    };
    plot.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      const [x, y] = at(e);
      byPointer = true;
      plot.setAttribute("data-pointer", "true");
      drag = { plot: g.plot, x0: x, y0: y, x1: x, y1: y };
      plot.setPointerCapture?.(e.pointerId);
      plot.focus({ preventScroll: true });
      e.preventDefault();
    });
    plot.addEventListener("pointermove", (e) => {
      if (!drag || drag.plot !== g.plot) return;
      [drag.x1, drag.y1] = at(e);
      for (const [k, v] of Object.entries(box([drag.x0, drag.x1], [drag.y0, drag.y1]))) mark.setAttribute(k, String(v));
      mark.setAttribute("visibility", "visible");
      say([drag.x0, drag.x1], [drag.y0, drag.y1], "");
    });
    const finish = (e: PointerEvent): void => {
      if (!drag || drag.plot !== g.plot) return;
      [drag.x1, drag.y1] = at(e);
      const d = drag;
      drag = null;
      Object.assign(c, { ax: d.x0, ay: d.y0, x: d.x1, y: d.y1, moved: true });
      send(g.plot, [d.x0, d.x1], g.ny > 1 ? [d.y0, d.y1] : undefined);
    };
    plot.addEventListener("pointerup", finish);
    plot.addEventListener("pointercancel", () => (drag = null));
    plot.addEventListener("focus", () => {
      if (!c.moved && own) Object.assign(c, { ax: brushX[0], x: brushX[1], ay: brushY[0], y: brushY[1] });
      if (!byPointer) showCursor();
    });
    plot.addEventListener("blur", () => cursorMark.setAttribute("visibility", "hidden"));
    plot.addEventListener("keydown", (e) => {
      if (byPointer && e.key !== "Escape") {
        byPointer = false;
        plot.removeAttribute("data-pointer");
      }
      if (e.key === "Enter" || e.key === " ") {
        handled(e);
        send(g.plot, [c.ax, c.x], g.ny > 1 ? [c.ay, c.y] : undefined);
        return;
      }
      const next = moveKey(e.key, [c.x, c.y], [g.nx, g.ny]);
      if (!next) return;
      handled(e);
      [c.x, c.y] = next;
      if (!e.shiftKey) [c.ax, c.ay] = next;
      c.moved = true;
      showCursor();
    });
    return { plot, finish: () => plot.append(mark, cursorMark) };
  };

  const axes = (plot: SVGSVGElement, x: [number, number], y: [number, number], xLabel: string, yLabel: string, integerY = false): void => {
    const g = svg("g", { class: "es-rp-axes", "aria-hidden": "true" });
    const X = (v: number): number => M.left + ((v - x[0]) / (x[1] - x[0])) * PW;
    const Y = (v: number): number => M.top + PH - ((v - y[0]) / (y[1] - y[0])) * PH;
    g.append(svg("line", { x1: M.left, x2: M.left + PW, y1: M.top + PH, y2: M.top + PH, class: "es-rp-axis" }));
    g.append(svg("line", { x1: M.left, x2: M.left, y1: M.top, y2: M.top + PH, class: "es-rp-axis" }));
    for (const t of niceTicks(x[0], x[1], 4)) {
      g.append(svg("line", { x1: X(t), x2: X(t), y1: M.top + PH, y2: M.top + PH + 3, class: "es-rp-axis" }));
      const label = svg("text", { x: X(t), y: M.top + PH + 13, "text-anchor": "middle", class: "es-rp-tick" });
      label.textContent = formatValue(t);
      g.append(label);
    }
    for (const t of niceTicks(y[0], y[1], 4).filter((v) => !integerY || Number.isInteger(v))) {
      g.append(svg("line", { x1: M.left - 3, x2: M.left, y1: Y(t), y2: Y(t), class: "es-rp-axis" }));
      const label = svg("text", { x: M.left - 5, y: Y(t) + 3.5, "text-anchor": "end", class: "es-rp-tick" });
      label.textContent = formatValue(t);
      g.append(label);
    }
    const xl = svg("text", { x: M.left + PW / 2, y: H - 6, "text-anchor": "middle", class: "es-rp-label" });
    xl.textContent = abbreviate(xLabel, 40);
    const yl = svg("text", { x: 0, y: 0, transform: `translate(11 ${M.top + PH / 2}) rotate(-90)`, "text-anchor": "middle", class: "es-rp-label" });
    yl.textContent = abbreviate(yLabel, 30);
    g.append(xl, yl);
    plot.append(g);
  };

  /** Cells of a 2-D count grid shaded on a log scale, each with its tooltip. */
  const cells = (plot: SVGSVGElement, counts: Uint32Array, nx: number, ny: number, title: (i: number, j: number, n: number) => string): number => {
    let max = 0;
    for (const n of counts) max = Math.max(max, n);
    const cw = PW / nx;
    const ch = PH / ny;
    const g = svg("g", { class: "es-rp-cells" });
    for (let i = 0; i < nx; i++)
      for (let j = 0; j < ny; j++) {
        const n = counts[i * ny + j] ?? 0;
        if (!n) continue;
        const rect = svg("rect", { x: M.left + i * cw, y: M.top + PH - (j + 1) * ch, width: cw + 0.3, height: ch + 0.3, fill: shade(BRAND, logIntensity(n, max)) }, title(i, j, n));
        g.append(rect);
      }
    plot.append(g);
    return max;
  };

  const panel = (title: string, body: Node[], legend: string, status: HTMLElement): HTMLElement =>
    h("div", { className: "es-rp-panel" }, [h("div", { className: "es-rp-title", text: title }), ...body, h("p", { className: "es-muted es-rp-legend", text: legend }), status]);
  const statusLine = (): HTMLElement => h("p", { className: "es-rp-status", role: "status", "aria-live": "polite" });

  const densityPanel = (brush: Brush): HTMLElement => {
    const edges = toFloat64(model.get("value_edges"));
    const counts = toUint32(model.get("density"));
    const means = toFloat64(model.get("density_mean"));
    const n = Math.max(edges.length - 1, 1);
    const status = statusLine();
    const lo = edges[0] ?? 0;
    const hi = edges[n] ?? 1;
    const { plot, finish } = brushable(
      { plot: "density", nx: n, ny: n, counts, label: "Predicted against actual", describe: (x, y) => `actual ${rangeText(edges, x[0], x[1])}, predicted ${rangeText(edges, y[0], y[1])}` },
      brush,
      status,
    );
    const max = cells(plot, counts, n, n, (i, j, c) => `actual ${rangeText(edges, i, i)}, predicted ${rangeText(edges, j, j)}: ${formatCount(c)} rows, mean residual ${formatSigned(means[i * n + j]!)}`);
    plot.append(svg("line", { x1: M.left, y1: M.top + PH, x2: M.left + PW, y2: M.top, class: "es-rp-diagonal" }));
    axes(plot, [lo, hi], [lo, hi], "actual", "predicted");
    finish();
    return panel("Predicted against actual", [plot], `Colour: rows per bin, log scale (up to ${formatCount(max)}). Line: predicted = actual; above it over-predicted.`, status);
  };

  const histogramPanel = (brush: Brush): HTMLElement => {
    const edges = toFloat64(model.get("residual_edges"));
    const counts = toUint32(model.get("histogram"));
    const n = Math.max(edges.length - 1, 1);
    const status = statusLine();
    const lo = edges[0] ?? -1;
    const hi = edges[n] ?? 1;
    const { plot, finish } = brushable({ plot: "histogram", nx: n, ny: 1, counts, label: "Residual histogram", describe: (x) => `residual ${rangeText(edges, x[0], x[1])}` }, brush, status);
    let max = 1;
    for (const c of counts) max = Math.max(max, c);
    const cw = PW / n;
    const bars = svg("g", { class: "es-rp-bars" });
    let over = 0;
    let under = 0;
    for (let i = 0; i < n; i++) {
      const c = counts[i] ?? 0;
      const positive = (edges[i] ?? 0) >= 0;
      if (positive) over += c;
      else under += c;
      if (!c) continue;
      const height = (c / max) * PH;
      bars.append(svg("rect", { x: M.left + i * cw + 0.5, y: M.top + PH - height, width: Math.max(cw - 1, 0.5), height, fill: shade(positive ? ERROR : BRAND, 0.75) }, `residual ${rangeText(edges, i, i)}: ${formatCount(c)} rows`));
    }
    plot.append(bars);
    const zero = M.left + ((0 - lo) / (hi - lo)) * PW;
    plot.append(svg("line", { x1: zero, x2: zero, y1: M.top, y2: M.top + PH, class: "es-rp-zero" }));
    axes(plot, [lo, hi], [0, max], "residual (prediction − actual)", "rows", true);
    finish();
    return panel("Residual histogram", [plot], `Right of 0: over-predicted (${formatCount(over)} rows); left: under-predicted (${formatCount(under)} rows).`, status);
  };

  const numericFeaturePanel = (name: string, brush: Brush): HTMLElement => {
    const edges = toFloat64(model.get("feature_edges"));
    const rEdges = toFloat64(model.get("residual_edges"));
    const counts = toUint32(model.get("feature_density"));
    const rows = toUint32(model.get("feature_counts"));
    const means = toFloat64(model.get("feature_mean"));
    const nx = Math.max(edges.length - 1, 1);
    const ny = Math.max(rEdges.length - 1, 1);
    const status = statusLine();
    // a brush on the feature selects whole columns: count them over every residual bin
    const { plot, finish } = brushable({ plot: "feature", nx, ny: 1, counts: rows, label: `Residual against ${name}`, describe: (x) => `${name} ${rangeText(edges, x[0], x[1])}` }, brush, status);
    cells(plot, counts, nx, ny, (i, j, c) => `${name} ${rangeText(edges, i, i)}, residual ${rangeText(rEdges, j, j)}: ${formatCount(c)} rows`);
    const lo = rEdges[0] ?? -1;
    const hi = rEdges[ny] ?? 1;
    const Y = (v: number): number => M.top + PH - ((v - lo) / (hi - lo)) * PH;
    plot.append(svg("line", { x1: M.left, x2: M.left + PW, y1: Y(0), y2: Y(0), class: "es-rp-zero" }));
    const points: string[] = [];
    for (let i = 0; i < nx; i++) if ((rows[i] ?? 0) > 0 && Number.isFinite(means[i]!)) points.push(`${M.left + (i + 0.5) * (PW / nx)},${Y(means[i]!)}`);
    if (points.length) plot.append(svg("polyline", { points: points.join(" "), class: "es-rp-mean" }));
    axes(plot, [edges[0] ?? 0, edges[nx] ?? 1], [lo, hi], name, "residual");
    finish();
    const missing = Number(model.get("feature_missing") ?? 0);
    const legend = `Colour: rows, log scale. Line: mean residual per bin of ${name}.${missing ? ` ${formatCount(missing)} rows without a value are not shown.` : ""}`;
    return panel(`Residual against ${name}`, [plot], legend, status);
  };

  const categoricalPanel = (name: string, brush: Brush): HTMLElement => {
    const labels = (model.get("feature_labels") ?? []) as string[];
    const rows = toUint32(model.get("feature_counts"));
    const means = toFloat64(model.get("feature_mean"));
    const lows = toFloat64(model.get("feature_low"));
    const highs = toFloat64(model.get("feature_high"));
    const chosen = brush.plot === "feature" ? brush.categories : [];
    let ext = 0;
    labels.forEach((_, i) => {
      for (const v of [means[i]!, lows[i]!, highs[i]!]) if (Number.isFinite(v)) ext = Math.max(ext, Math.abs(v));
    });
    ext = ext || 1;
    const pct = (v: number): number => 50 + (Math.max(-ext, Math.min(ext, v)) / ext) * 50;
    const pick = (i: number, additive: boolean): void => {
      const next = additive ? (chosen.includes(i) ? chosen.filter((c) => c !== i) : [...chosen, i]) : chosen.length === 1 && chosen[0] === i ? [] : [i];
      model.send(next.length ? { type: "brush", plot: "feature", categories: next } : { type: "clear" });
    };
    const buttons: HTMLButtonElement[] = [];
    const items = labels.map((label, i) => {
      const n = rows[i] ?? 0;
      const mean = means[i]!;
      const bar = h("span", { className: "es-rp-bar" });
      bar.style.left = `${Math.min(50, pct(mean))}%`;
      bar.style.width = `${Number.isFinite(mean) ? Math.abs(pct(mean) - 50) : 0}%`;
      bar.style.background = shade(mean > 0 ? ERROR : BRAND, 0.75);
      const whisker = h("span", { className: "es-rp-whisker" });
      if (Number.isFinite(lows[i]!) && Number.isFinite(highs[i]!)) {
        whisker.style.left = `${pct(lows[i]!)}%`;
        whisker.style.width = `${pct(highs[i]!) - pct(lows[i]!)}%`;
      } else whisker.hidden = true;
      const button = h(
        "button",
        {
          type: "button",
          "data-focus": `cat-${i}`,
          "aria-pressed": String(chosen.includes(i)),
          "aria-label": `${name} = ${label}: ${formatCount(n)} rows, mean residual ${formatSigned(mean)}`,
          title: label,
        },
        [h("span", { className: "es-rp-cat-label", text: label }), h("span", { className: "es-rp-track", "aria-hidden": "true" }, [bar, whisker]), h("span", { className: "es-num", text: `${formatSigned(mean)} · ${formatCount(n)}` })],
      );
      button.addEventListener("click", (e) => pick(i, e.shiftKey || e.ctrlKey || e.metaKey));
      button.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          handled(e);
          pick(i, e.shiftKey || e.ctrlKey || e.metaKey);
        } else if (e.key === "ArrowDown" || e.key === "ArrowUp" || e.key === "Home" || e.key === "End") {
          handled(e);
          const j = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: labels.length - 1 }[e.key];
          buttons[Math.max(0, Math.min(labels.length - 1, j))]?.focus();
        }
      });
      buttons.push(button);
      return h("li", {}, [button]);
    });
    const list = h("ul", { className: "es-rp-cats", "aria-label": `Mean residual by ${name}` }, items);
    const status = statusLine();
    if (chosen.length) status.textContent = `${chosen.map((i) => labels[i]).join(", ")}: ${formatCount(chosen.reduce((a, i) => a + (rows[i] ?? 0), 0))} rows selected`;
    return panel(`Mean residual by ${name}`, [list], "Bars: mean residual per value (red over-, blue under-predicted), lines: 95% interval; then mean · rows. Click to select, Shift+click to add.", status);
  };

  const paint = (): void => {
    const nRows = Number(model.get("n_rows") ?? 0);
    const nTotal = Number(model.get("n_total") ?? 0);
    const filter = String(model.get("filter_text") ?? "");
    const clause = String(model.get("clause_text") ?? "");
    const brush = (model.get("brush") ?? { plot: "", x: [], y: [], categories: [] }) as Brush;
    const features = (model.get("features") ?? []) as Feature[];
    const feature = String(model.get("feature") ?? "");
    root.setAttribute("data-rows", String(nRows));
    const focused = root.contains(document.activeElement) ? document.activeElement?.getAttribute("data-focus") : null;

    const parts: (HTMLElement | null)[] = [
      h("span", { className: "es-title", text: "Residual plot" }),
      h("span", { text: nRows === 0 ? "No rows match the other views' selection" : `${formatCount(nRows)} of ${formatCount(nTotal)} rows · residual = prediction − actual` }),
      filter ? h("span", { className: "es-muted", text: `filtered by: ${filter}` }) : null,
      clause
        ? h("span", { className: "es-chip" }, [h("span", { text: clause }), h("button", { type: "button", "aria-label": "Clear residual plot selection", title: "Clear (Esc)", text: "×" })])
        : null,
    ];
    header.replaceChildren(...parts.filter((x): x is HTMLElement => x !== null));
    header.querySelector("button")?.addEventListener("click", () => model.send({ type: "clear" }));
    if (picker.options.length !== features.length || features.some((f, i) => picker.options[i]?.value !== f.name))
      picker.replaceChildren(...features.map((f) => h("option", { value: f.name, text: `${f.name} (${f.kind})` })));
    picker.value = feature;
    const kind = String(model.get("feature_kind") ?? "");
    panels.replaceChildren(densityPanel(brush), histogramPanel(brush), kind === "numeric" ? numericFeaturePanel(feature, brush) : categoricalPanel(feature, brush));
    if (focused) root.querySelector<HTMLElement>(`[data-focus="${focused}"]`)?.focus({ preventScroll: true });
  };

  return mountView(
    model,
    root,
    ["value_edges", "density", "density_mean", "residual_edges", "histogram", "features", "feature", "feature_kind", "feature_edges", "feature_density", "feature_counts", "feature_mean", "feature_low", "feature_high", "feature_labels", "feature_missing", "brush", "n_rows", "n_total", "clause_text", "filter_text"],
    paint,
    false,
  );
}

export default { render };
