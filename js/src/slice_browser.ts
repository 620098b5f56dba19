/** SliceBrowser widget: ranked slices, discovered conjunctions, the selection's rows, a comparison, and with
 * several models two of them compared on every slice (and where the second is worse). */
import { toFloat64, toInt32, toUint32, toUint8 } from "./lib/buffers";
import { h, positiveClassNote } from "./lib/dom";
import { formatCount, formatMetric, formatPercent, formatSignificant, withMinus } from "./lib/format";
import { mountView, type WidgetModel } from "./lib/model";
import { pager } from "./lib/pager";

type Tab = "slices" | "discovered" | "rows" | "compare" | "models";
const TABS: [Tab, string][] = [
  ["slices", "Slices"],
  ["discovered", "Discovered"],
  ["rows", "Rows"],
  ["compare", "Compare"],
  ["models", "Models"],
];

/** The models tab's table: models A and B on every slice, decoded. */
export interface ModelSlices {
  feature: string[];
  slice: string[];
  description: string[];
  key: Int32Array;
  rows: Uint32Array;
  /** A classification's discordant rows: only A right (B worse), only B right. */
  only_a_right: Uint32Array;
  only_b_right: Uint32Array;
  a: Float64Array;
  b: Float64Array;
  diff: Float64Array;
  p_value: Float64Array;
  q: Float64Array;
  /** 1 where the slice was tested (0: its column reads a model's output, or the p-values are withheld). */
  tested: Uint8Array;
  supported: Uint8Array;
}

export function readModelSlices(raw: any): ModelSlices {
  const r = raw ?? {};
  return {
    feature: r.feature ?? [],
    slice: r.slice ?? [],
    description: r.description ?? [],
    key: toInt32(r.key),
    rows: toUint32(r.rows),
    only_a_right: toUint32(r.only_a_right),
    only_b_right: toUint32(r.only_b_right),
    a: toFloat64(r.a),
    b: toFloat64(r.b),
    diff: toFloat64(r.diff),
    p_value: toFloat64(r.p_value),
    q: toFloat64(r.q),
    tested: toUint8(r.tested),
    supported: toUint8(r.supported),
  };
}

/** "1 slice", "1,234 slices". */
export const slicesText = (n: number): string => `${formatCount(n)} slice${n === 1 ? "" : "s"}`;

/** The tabs shown: "Models" only with several models. */
export function visibleTabs(models: readonly string[]): [Tab, string][] {
  return models.length > 1 ? TABS : TABS.filter(([id]) => id !== "models");
}
const ORDERS: [string, string][] = [
  ["loss", "Highest loss"],
  ["confident_wrong", "Confident and wrong"],
  ["least_confident", "Least confident"],
  ["id", "By id"],
];
/** A regression's row orders (residual = prediction − actual). */
export const REGRESSION_ORDERS: [string, string][] = [
  ["loss", "Largest |residual|"],
  ["over_prediction", "Largest over-predictions"],
  ["under_prediction", "Largest under-predictions"],
  ["stratified_random", "Random, stratified by actual value"],
  ["id", "By id"],
];
/** A regression's metrics: means in the target's units, not rates. */
const REGRESSION_HEADERS: Record<string, string> = { mae: "MAE", rmse: "RMSE", mean_error: "Mean residual" };
const REGRESSION_METRICS = new Set(Object.keys(REGRESSION_HEADERS));

/** One page of the slice table, decoded. */
export interface SlicePage {
  feature: string[];
  slice: string[];
  description: string[];
  key: Int32Array;
  size: Uint32Array;
  errors: Uint32Array;
  share: Float64Array;
  value: Float64Array;
  rest: Float64Array;
  difference: Float64Array;
  ratio: Float64Array;
  lift: Float64Array;
  ci_low: Float64Array;
  ci_high: Float64Array;
  p_adjusted: Float64Array;
  /** 1 where the slice reads the model's output, the classes or a tag (listed in their own group). */
  outcome: Uint8Array;
  /** 1 where the slice has at least the minimum support (the others rank last). */
  supported: Uint8Array;
}

export function readSlicePage(raw: any): SlicePage {
  const r = raw ?? {};
  return {
    feature: r.feature ?? [],
    slice: r.slice ?? [],
    description: r.description ?? [],
    key: toInt32(r.key),
    size: toUint32(r.size),
    errors: toUint32(r.errors),
    share: toFloat64(r.share),
    value: toFloat64(r.value),
    rest: toFloat64(r.rest),
    difference: toFloat64(r.difference),
    ratio: toFloat64(r.ratio),
    lift: toFloat64(r.lift),
    ci_low: toFloat64(r.ci_low),
    ci_high: toFloat64(r.ci_high),
    p_adjusted: toFloat64(r.p_adjusted),
    outcome: toUint8(r.outcome),
    supported: toUint8(r.supported),
  };
}

/** A ratio or a lift: "2.50×", "–". */
export function formatTimes(x: number): string {
  return Number.isFinite(x) ? withMinus(`${x.toFixed(2)}×`) : "–"; // a mean residual's ratio is signed
}

/** The keys a view handles stop here: JupyterLab must not also act on them (move cells, edit mode). */
const handled = (e: KeyboardEvent): void => {
  e.preventDefault();
  e.stopPropagation();
};

/** Roving tabindex: only `target` of `items` is a Tab stop; it takes the focus. */
export function rove(items: HTMLElement[], target: HTMLElement | undefined): void {
  if (!target) return;
  items.forEach((item) => item.setAttribute("tabindex", "-1"));
  target.setAttribute("tabindex", "0");
  target.focus();
}

/** A metric's value as shown: rates in percent, log loss as a number, a regression's in the target's units. */
export function formatValue(metric: string, x: number): string {
  if (REGRESSION_METRICS.has(metric)) return formatSignificant(x);
  return metric === "log_loss" ? formatMetric(x) : formatPercent(x);
}

/** A p-value compactly: "<0.001", "0.012", "–". */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return "–";
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

/** Signed difference: "+12.3 pp" for rates, "+0.123" for log loss. */
export function formatDifference(metric: string, d: number): string {
  if (!Number.isFinite(d)) return "–";
  if (REGRESSION_METRICS.has(metric)) return d === 0 ? "±0" : `${d > 0 ? "+" : ""}${formatSignificant(d)}`;
  const sign = d > 0 ? "+" : d < 0 ? "−" : "±";
  return metric === "log_loss" ? `${sign}${Math.abs(d).toFixed(3)}` : `${sign}${(Math.abs(d) * 100).toFixed(1)} pp`;
}

const DISCOVERED_HEADERS: [string, string?][] = [
  ["Slice"], ["Predicates"], ["Rows"], ["Error rate"], ["Rest"], ["Score", "Sliceline's score on the half of the rows the search ran on"],
  ["p (held out, BH)", "Tested on the half of the rows the search never saw (one-sided z-test against the rest), Benjamini-Hochberg adjusted over the slices found: valid although the slices were searched for"],
];
const REGRESSION_DISCOVERED_HEADERS: [string, string?][] = [
  ["Slice"], ["Predicates"], ["Rows"], ["MAE", "Mean absolute residual of the slice"], ["Rest"], ["Score", "Sliceline's score on |residual|, on the half of the rows the search ran on"],
  ["p (held out, BH)", "Tested on the half of the rows the search never saw (one-sided Welch t-test of |residual| against the rest), Benjamini-Hochberg adjusted over the slices found: valid although the slices were searched for"],
];

/** Mark where a scroll box's content runs past its edges (`data-more` "left", "right"): CSS fades that
 * edge, so cut-off columns show even where scrollbars hide until one scrolls (macOS, touch, headless). */
export function markOverflow(box: HTMLElement): void {
  const more: string[] = [];
  if (box.scrollLeft > 1) more.push("left");
  if (box.scrollLeft + box.clientWidth < box.scrollWidth - 1) more.push("right");
  box.dataset.more = more.join(" ");
}

const additiveKey = (e: MouseEvent | KeyboardEvent): boolean => e.shiftKey || e.ctrlKey || e.metaKey;

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-sb", role: "region", "aria-label": "Slice browser" });
  el.append(root);
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  let paintedTab = "";
  const resized = typeof ResizeObserver === "undefined" ? null : new ResizeObserver((entries) => entries.forEach((e) => markOverflow(e.target as HTMLElement)));
  /** A horizontally scrolling box around a wide table, its cut-off edges marked. */
  const scrollBox = (table: HTMLElement): HTMLElement => {
    const box = h("div", { className: "es-scroll" }, [table]);
    box.addEventListener("scroll", () => markOverflow(box), { passive: true });
    return box; // observed for resizes once painted
  };
  /** A scroll box that also scrolls down within a bounded height (a long table keeps the view short). */
  const tallBox = (table: HTMLElement): HTMLElement => {
    const box = scrollBox(table);
    box.classList.add("es-scroll-tall");
    return box;
  };

  const setTrait = (name: string, value: unknown): void => {
    model.set(name, value);
    model.save_changes();
  };
  const metric = (): string => String(model.get("metric") ?? "error_rate");
  const regression = (): boolean => model.get("task") === "regression";
  const metricName = (): string => {
    const found = ((model.get("metrics") ?? []) as string[][]).find((m) => m[0] === metric());
    return found?.[1] ?? metric();
  };

  const pagerOf = (trait: string, total: number, size: number, noun: string): HTMLElement =>
    pager(Number(model.get(trait) ?? 0), total, size, noun, (page) => setTrait(trait, page), trait);

  /** Arrow keys move between a grid's rows, Enter/Space selects (with a modifier: adds), PageUp/Down page. */
  const gridKeys = (table: HTMLElement, pageTrait: string | null): void => {
    table.addEventListener("keydown", (e) => {
      const row = (e.target as HTMLElement).closest("tr[tabindex]") as HTMLElement | null;
      if (!row) return;
      const rows = Array.from(table.querySelectorAll<HTMLElement>("tbody tr[tabindex]"));
      const i = rows.indexOf(row);
      const move = (j: number): void => {
        handled(e);
        if (j < 0) {
          const header = table.querySelector<HTMLElement>("thead [tabindex='0']");
          if (header) return header.focus(); // ArrowUp on the first row: back to the header row
        }
        rove(rows, rows[Math.max(0, Math.min(rows.length - 1, j))]);
      };
      if (e.key === "ArrowDown") move(i + 1);
      else if (e.key === "ArrowUp") move(i - 1);
      else if (e.key === "Home") move(0);
      else if (e.key === "End") move(rows.length - 1);
      else if ((e.key === "Enter" || e.key === " ") && row.dataset.action) {
        handled(e);
        row.dispatchEvent(new MouseEvent("click", { shiftKey: e.shiftKey, ctrlKey: e.ctrlKey, metaKey: e.metaKey }));
      } else if (pageTrait && (e.key === "PageDown" || e.key === "PageUp")) {
        handled(e);
        const page = Number(model.get(pageTrait) ?? 0);
        setTrait(pageTrait, Math.max(0, page + (e.key === "PageDown" ? 1 : -1)));
      }
    });
  };

  const sortHeader = (key: string, label: string, tabStop: boolean, title?: string): HTMLElement => {
    const active = String(model.get("sort_by")) === key;
    const descending = Boolean(model.get("descending"));
    const th = h("th", { role: "columnheader", scope: "col", title, "aria-sort": active ? (descending ? "descending" : "ascending") : "none" });
    const button = h("button", { type: "button", tabindex: tabStop ? 0 : -1, "aria-label": `Sort by ${label}`, "data-focus": `sort-${key}`, text: `${label}${active ? (descending ? " ▾" : " ▴") : ""}` });
    button.addEventListener("click", () => {
      if (active) setTrait("descending", !descending);
      else {
        model.set("sort_by", key);
        setTrait("descending", !["feature", "slice"].includes(key));
      }
    });
    th.append(button);
    return th;
  };

  /** The header row is one Tab stop: Left/Right/Home/End move between its buttons, Enter/Space sort,
   * ArrowDown enters the table (its current row). */
  const headerKeys = (table: HTMLElement): void => {
    const head = table.querySelector("thead");
    head?.addEventListener("keydown", (e) => {
      const buttons = Array.from(head.querySelectorAll<HTMLElement>("button"));
      const i = buttons.indexOf(e.target as HTMLElement);
      if (i < 0) return;
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (step !== undefined) {
        handled(e);
        rove(buttons, buttons[(i + step + buttons.length) % buttons.length]);
      } else if (e.key === "Home" || e.key === "End") {
        handled(e);
        rove(buttons, buttons[e.key === "Home" ? 0 : buttons.length - 1]);
      } else if (e.key === "Enter" || e.key === " ") {
        handled(e);
        buttons[i]!.click();
      } else if (e.key === "ArrowDown") {
        handled(e);
        table.querySelector<HTMLElement>("tbody tr[tabindex='0']")?.focus();
      } else if (e.key === "ArrowUp") handled(e); // nothing above: the notebook's cell must not move
    });
  };

  const slicesPanel = (): HTMLElement => {
    const page = readSlicePage(model.get("slice_page"));
    const selected = new Set((model.get("selected_slices") ?? []) as number[]);
    const m = metric();
    const metricSelect = h("select", { "aria-label": "Metric", "data-focus": "metric" });
    for (const [value, name] of (model.get("metrics") ?? []) as string[][]) metricSelect.append(h("option", { value, text: name }));
    metricSelect.value = m;
    metricSelect.addEventListener("change", () => setTrait("metric", metricSelect.value));
    const filter = h("input", { type: "search", placeholder: "Filter by feature", "aria-label": "Filter slices by feature", "data-focus": "filter" });
    filter.value = String(model.get("feature_filter") ?? "");
    filter.addEventListener("input", () => {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(() => {
        model.set("page", 0);
        setTrait("feature_filter", filter.value);
      }, 200);
    });
    const rates = m === "fpr" || m === "fnr";
    const toolbar = h("div", { className: "es-toolbar" }, [h("label", {}, ["Metric ", metricSelect]), rates ? positiveClassNote(String(model.get("positive_label") ?? "")) : null, filter]);
    const byOutcome = Boolean(model.get("outcome_selection"));
    const minRows = Number(model.get("min_rows") ?? 0);
    const reg = regression();
    const valueTitle = m === "mean_error" ? "Mean residual (prediction − actual): positive is over-prediction; ranked by its size" : undefined;
    const headers: [string, string, string?][] = [
      ["feature", "Feature"], ["slice", "Slice"], ["size", "Rows"], ["share", "Share"], ["value", reg ? (REGRESSION_HEADERS[m] ?? m) : metricName().replace(/^./, (c) => c.toUpperCase()), valueTitle],
      ["rest", "Rest"], ["difference", "Difference"], ["ratio", "Ratio"],
      ...(reg ? [] : [["lift", "Lift", "Share of the selected rows' errors in the slice over its share of all rows (1: as common as in the data)"] as [string, string, string]]),
      ["p_adjusted", "p (BH)", reg ? "Welch's t-test against the rest, Benjamini-Hochberg adjusted over the slices listed" : "Two-sided test against the rest, Benjamini-Hochberg adjusted over the slices listed"],
    ];
    const sortBy = String(model.get("sort_by"));
    const stop = headers.some(([k]) => k === sortBy) ? sortBy : headers[0]![0];
    const table = h("table", { role: "grid", "aria-label": "Slices", className: "es-table" }, [
      h("thead", {}, [h("tr", { role: "row" }, headers.map(([k, label, title]) => sortHeader(k, label, k === stop, title)))]),
    ]);
    const body = h("tbody");
    const groupNames = ["Feature slices", "Model output, classes and tags (apart: they top an error ranking by construction)"];
    // a mean residual's bar is its size (an interval across 0 starts at 0): over- and under-prediction alike
    const span = (i: number): [number, number, number] => {
      const [v, lo, hi] = [page.value[i]!, page.ci_low[i] ?? 0, page.ci_high[i] ?? 0];
      if (m !== "mean_error") return [v, lo, hi];
      return [Math.abs(v), lo <= 0 && hi >= 0 ? 0 : Math.min(Math.abs(lo), Math.abs(hi)), Math.max(Math.abs(lo), Math.abs(hi))];
    };
    const spans = page.feature.map((_, i) => span(i));
    const maxValue = Math.max(1e-12, ...spans.flatMap(([v, , hi]) => [v, hi]).filter(Number.isFinite));
    page.feature.forEach((feature, i) => {
      const key = page.key[i]!;
      const value = page.value[i]!;
      const [barValue, barLow, barHigh] = spans[i]!;
      const bar = h("span", { className: value < 0 && m === "mean_error" ? "es-bar es-bar-under" : "es-bar", "aria-hidden": "true" }, [
        h("span", { className: "es-bar-fill" }),
        h("span", { className: "es-bar-ci" }),
      ]);
      (bar.firstChild as HTMLElement).style.width = `${(100 * (Number.isFinite(barValue) ? barValue : 0)) / maxValue}%`;
      const ci = bar.lastChild as HTMLElement;
      ci.style.left = `${(100 * (Number.isFinite(barLow) ? barLow : 0)) / maxValue}%`;
      ci.style.width = `${(100 * Math.max(0, (Number.isFinite(barHigh) ? barHigh : 0) - (Number.isFinite(barLow) ? barLow : 0))) / maxValue}%`;
      const interval = `95% CI ${formatValue(m, page.ci_low[i]!)}–${formatValue(m, page.ci_high[i]!)}`;
      const group = page.outcome[i] ?? 0;
      if (i === 0 || group !== (page.outcome[i - 1] ?? 0))
        body.append(h("tr", { role: "row", className: "es-group" }, [h("th", { role: "rowheader", scope: "colgroup", colspan: headers.length, text: groupNames[group] })]));
      const small = page.supported[i] === 0;
      const tr = h("tr", {
        role: "row",
        className: small ? "es-small" : "",
        title: small ? `Fewer than ${formatCount(minRows)} rows: ranked after the others` : undefined,
        tabindex: i === 0 ? 0 : -1,
        "data-key": key,
        "data-action": "select",
        "data-focus": `slice-${key}`,
        "aria-selected": String(selected.has(key)),
        "aria-label": `${page.description[i] ?? feature}: ${formatCount(page.size[i]!)} rows, ${metricName()} ${formatValue(m, value)}`,
      }, [
        h("td", { role: "gridcell", text: feature }),
        h("td", { role: "gridcell", text: page.slice[i] ?? "" }),
        h("td", { role: "gridcell", className: "es-num", text: formatCount(page.size[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatPercent(page.share[i]!) }),
        h("td", { role: "gridcell", className: "es-num", title: interval }, [h("div", { className: "es-value" }, [h("span", { text: formatValue(m, value) }), bar])]),
        h("td", { role: "gridcell", className: "es-num", text: formatValue(m, page.rest[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatDifference(m, page.difference[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatTimes(page.ratio[i]!) }),
        reg ? null : h("td", { role: "gridcell", className: "es-num", text: formatTimes(page.lift[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatP(page.p_adjusted[i]!) }),
      ]);
      tr.addEventListener("click", (e) => model.send({ type: "select_slice", key, additive: additiveKey(e) }));
      body.append(tr);
    });
    table.append(body);
    gridKeys(table, "page");
    headerKeys(table);
    const total = Number(model.get("n_slices") ?? 0);
    const empty = total === 0 ? h("p", { className: "es-muted", text: "No slice matches." }) : null;
    const note = byOutcome
      ? h("p", { className: "es-note", role: "note", text: "Selection is defined by the outcome: ranking by lift (every slice of it can be all errors; lift says where those errors are over-represented)." })
      : null;
    return h("div", { role: "tabpanel", "aria-label": "Slices" }, [
      toolbar,
      note,
      scrollBox(table),
      empty,
      h("div", { className: "es-footer" }, [h("span", { className: "es-muted", text: `${formatCount(total)} slices` }), pagerOf("page", total, Number(model.get("page_size") ?? 15), "page of slices")]),
    ]);
  };

  const discoveredPanel = (): HTMLElement => {
    const raw = model.get("discovered") ?? {};
    const slices: string[] = raw.slice ?? [];
    const [level, size, errors] = [toUint32(raw.level), toUint32(raw.size), toUint32(raw.errors)];
    const reg = regression();
    const show = reg ? (x: number): string => formatSignificant(x) : (x: number): string => formatPercent(x);
    const rate = toFloat64(raw.value);
    const rest = toFloat64(raw.rest);
    const score = toFloat64(raw.score);
    const [lo, hi, p] = [toFloat64(raw.ci_low), toFloat64(raw.ci_high), toFloat64(raw.p_adjusted)];
    const status = String(model.get("discovery_status") ?? "idle");
    const progress = Number(model.get("discovery_progress") ?? 0);
    const selected = new Set((model.get("selected_discovered") ?? []) as number[]);
    const run = h("button", { type: "button", "aria-label": "Find slices", "data-focus": "discover", text: "Find slices" });
    run.addEventListener("click", () => model.send({ type: "discover" }));
    const cancel = h("button", { type: "button", "aria-label": "Cancel discovery", text: "Cancel", disabled: status !== "running" });
    cancel.addEventListener("click", () => model.send({ type: "cancel_discovery" }));
    const bar = h("div", { className: "es-progress", role: "progressbar", "aria-label": "Discovery progress", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(progress * 100) }, [h("span")]);
    (bar.firstChild as HTMLElement).style.width = `${Math.round(progress * 100)}%`;
    const statusText = status === "running" ? `Searching… ${Math.round(progress * 100)}%` : status === "done" ? `${slices.length} slices found` : status;
    const table = h("table", { role: "grid", "aria-label": "Discovered slices", className: "es-table" }, [
      h("thead", {}, [h("tr", { role: "row" }, (reg ? REGRESSION_DISCOVERED_HEADERS : DISCOVERED_HEADERS).map(([t, title]) => h("th", { role: "columnheader", scope: "col", text: t, title })))]),
    ]);
    const body = h("tbody");
    slices.forEach((text, i) => {
      const tr = h("tr", {
        role: "row",
        tabindex: i === 0 ? 0 : -1,
        "data-action": "select",
        "data-focus": `found-${i}`,
        "aria-selected": String(selected.has(i)),
        "aria-label": `${text}: ${formatCount(size[i]!)} rows, ${reg ? "MAE" : "error rate"} ${show(rate[i]!)}`,
      }, [
        h("td", { role: "gridcell", className: "es-slice-text", text }),
        h("td", { role: "gridcell", className: "es-num", text: String(level[i] ?? "") }),
        h("td", { role: "gridcell", className: "es-num", text: formatCount(size[i]!) }),
        h("td", { role: "gridcell", className: "es-num", title: `${reg ? "" : `${formatCount(errors[i]!)} errors; `}95% CI (held out) ${show(lo[i]!)}–${show(hi[i]!)}`, text: show(rate[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: show(rest[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatMetric(score[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatP(p[i]!) }),
      ]);
      tr.addEventListener("click", (e) => model.send({ type: "select_discovered", index: i, additive: additiveKey(e) }));
      body.append(tr);
    });
    table.append(body);
    gridKeys(table, null);
    return h("div", { role: "tabpanel", "aria-label": "Discovered" }, [
      h("div", { className: "es-toolbar" }, [run, cancel, bar, h("span", { role: "status", text: statusText })]),
      h("p", { className: "es-muted", text: reg
        ? "Conjunctions of up to 3 predicates, found on a random half of the rows and ranked by Sliceline's score on |residual| (MAE against the average, penalised for small slices); p-values come from the other half."
        : "Conjunctions of up to 3 predicates, found on a random half of the rows and ranked by Sliceline's score (error rate against the average, penalised for small slices); p-values come from the other half." }),
      scrollBox(table),
    ]);
  };

  const rowsPanel = (): HTMLElement => {
    const raw = model.get("rows") ?? {};
    const columns: string[] = raw.columns ?? [];
    const cells: string[][] = raw.cells ?? [];
    const wrongFlags = toUint8(raw.wrong);
    const total = Number(model.get("n_selected") ?? 0);
    const orderSelect = h("select", { "aria-label": "Order rows by", "data-focus": "order" });
    for (const [value, text] of regression() ? REGRESSION_ORDERS : ORDERS) orderSelect.append(h("option", { value, text }));
    orderSelect.value = String(model.get("row_order") ?? "loss");
    orderSelect.addEventListener("change", () => {
      model.set("rows_page", 0);
      setTrait("row_order", orderSelect.value);
    });
    const table = h("table", { role: "grid", "aria-label": "Rows in the selection", className: "es-table es-rows" }, [
      h("thead", {}, [h("tr", { role: "row" }, columns.map((c) => h("th", { role: "columnheader", scope: "col", text: c })))]),
    ]);
    const body = h("tbody");
    cells.forEach((row, i) => {
      const isWrong = wrongFlags[i] === 1;
      body.append(h("tr", {
        role: "row",
        tabindex: i === 0 ? 0 : -1,
        className: isWrong ? "es-wrong" : "",
        "data-focus": `row-${i}`,
        "aria-label": `row ${row[0] ?? ""}: actual ${row[1] ?? ""}, predicted ${row[2] ?? ""}${regression() ? `, residual ${row[3] ?? ""}` : isWrong ? " (wrong)" : ""}`,
      }, row.map((v) => h("td", { role: "gridcell", text: v, title: v.length > 40 ? v : undefined }))));
    });
    table.append(body);
    gridKeys(table, "rows_page");
    return h("div", { role: "tabpanel", "aria-label": "Rows" }, [
      h("div", { className: "es-toolbar" }, [h("label", {}, ["Order ", orderSelect]), h("span", { text: `${formatCount(total)} rows in the selection` })]),
      scrollBox(table),
      h("div", { className: "es-footer" }, [pagerOf("rows_page", total, Number(model.get("rows_page_size") ?? 10), "page of rows")]),
    ]);
  };

  const comparePanel = (): HTMLElement => {
    const raw = model.get("comparison") ?? {};
    const features: string[] = raw.features ?? [];
    if (!features.length)
      return h("div", { role: "tabpanel", "aria-label": "Compare" }, [h("p", { className: "es-muted", text: "Select rows in any view to compare them with the rest." })]);
    const distance = toFloat64(raw.distance);
    const chosen = String(raw.feature ?? "");
    const list = h("ul", { className: "es-features", "aria-label": "Features that differ most" });
    features.forEach((f, i) => {
      const button = h("button", { type: "button", "aria-pressed": String(f === chosen), "data-focus": `cmp-${i}`, "aria-label": `Compare ${f}: distance ${formatMetric(distance[i]!)}` }, [
        h("span", { text: f }),
        h("span", { className: "es-muted", text: formatMetric(distance[i]!) }),
      ]);
      button.addEventListener("click", () => setTrait("compare_feature", f));
      list.append(h("li", {}, [button]));
    });
    const values: string[] = raw.values ?? [];
    const [sel, rest] = [toFloat64(raw.selected_share), toFloat64(raw.rest_share)];
    const rows = values.map((v, i) => {
      const bars = h("div", { className: "es-pair", "aria-hidden": "true" }, [h("span", { className: "es-bar-sel" }), h("span", { className: "es-bar-rest" })]);
      (bars.children[0] as HTMLElement).style.width = `${100 * (sel[i] || 0)}%`;
      (bars.children[1] as HTMLElement).style.width = `${100 * (rest[i] || 0)}%`;
      return h("tr", { role: "row", "aria-label": `${chosen} ${v}: ${formatPercent(sel[i]!)} of the selection, ${formatPercent(rest[i]!)} of the rest` }, [
        h("td", { role: "cell", text: v }),
        h("td", { role: "cell", className: "es-num", text: formatPercent(sel[i]!) }),
        h("td", { role: "cell", className: "es-num", text: formatPercent(rest[i]!) }),
        h("td", { role: "cell", className: "es-pair-cell" }, [bars]),
      ]);
    });
    const dist = h("table", { role: "table", "aria-label": `Distribution of ${chosen}`, className: "es-table" }, [
      h("thead", {}, [h("tr", { role: "row" }, ["Value", "Selection", "Rest", ""].map((t) => h("th", { role: "columnheader", text: t })))]),
      h("tbody", {}, rows),
    ]);
    return h("div", { role: "tabpanel", "aria-label": "Compare", className: "es-compare" }, [
      h("div", {}, [h("p", { className: "es-muted", text: "Jensen-Shannon distance between the selection and the rest" }), list]),
      scrollBox(dist),
    ]);
  };

  const modelsPanel = (): HTMLElement => {
    const models = (model.get("models") ?? []) as string[];
    const [a, b] = [String(model.get("model_a") ?? ""), String(model.get("model_b") ?? "")];
    const reg = regression();
    const metricLabel = reg ? "MAE" : "error rate";
    const show = reg ? (x: number): string => formatSignificant(x) : (x: number): string => formatPercent(x);
    const diffText = (d: number): string => formatDifference(reg ? "mae" : "error_rate", d);
    const picker = (side: "a" | "b"): HTMLElement => {
      const select = h("select", { "aria-label": side === "a" ? "Model A" : "Model B", "data-focus": `model-${side}` }) as HTMLSelectElement;
      for (const name of models) select.append(h("option", { value: name, text: name }));
      select.value = side === "a" ? a : b;
      select.addEventListener("change", () => {
        const chosen = select.value;
        const other = side === "a" ? b : a;
        // choosing the other side's model swaps the pair
        const pair = chosen === other ? { a: b, b: a } : side === "a" ? { a: chosen, b } : { a, b: chosen };
        model.send({ type: "pair", ...pair });
      });
      select.addEventListener("keydown", (e) => e.stopPropagation());
      return h("label", {}, [side === "a" ? "Model A " : "Model B ", select]);
    };
    const t = readModelSlices(model.get("model_slices"));
    const selected = new Set((model.get("selected_slices") ?? []) as number[]);
    const note = String(model.get("model_note") ?? "");
    const headers: [string, string?][] = [
      ["Feature"], ["Slice"], ["Rows"], [`${a}`, `${a}'s ${metricLabel} on the slice`], [`${b}`, `${b}'s ${metricLabel} on the slice`],
      ["B − A", `${b}'s ${metricLabel} minus ${a}'s: positive is where ${b} is worse`],
      ["p", reg ? "Paired t-test of |residual| B − A on the slice's rows" : "McNemar's exact test on the slice's rows where one model is right and the other wrong"],
      ["q (BH)", "Benjamini-Hochberg adjusted over the slices tested"],
    ];
    const n = t.feature.length;
    const table = h("table", { role: "grid", "aria-label": `Slices, ${a} against ${b}: ${slicesText(n)}`, className: "es-table es-models" }, [
      h("thead", {}, [h("tr", { role: "row" }, headers.map(([text, title]) => h("th", { role: "columnheader", scope: "col", text, title })))]),
    ]);
    const body = h("tbody");
    t.feature.forEach((feature, i) => {
      const key = t.key[i]!;
      const d = t.diff[i]!;
      const significant = Number.isFinite(t.q[i]!) && t.q[i]! < 0.05;
      const worse = significant && d > 0;
      const discordant = reg ? "" : `; only ${a} right ${formatCount(t.only_a_right[i]!)}, only ${b} right ${formatCount(t.only_b_right[i]!)}`;
      const untested = t.tested[i] === 0 ? (note ? "withheld" : "not tested: the slice is chosen by a model's output") : "";
      const tr = h("tr", {
        role: "row",
        className: [t.supported[i] === 0 ? "es-small" : "", worse ? "es-worse" : significant ? "es-better" : ""].filter(Boolean).join(" "),
        tabindex: i === 0 ? 0 : -1,
        "data-key": key,
        "data-action": "select",
        "data-focus": `model-slice-${key}`,
        "aria-selected": String(selected.has(key)),
        "aria-label": `${t.description[i] ?? feature}: ${formatCount(t.rows[i]!)} rows, ${a} ${show(t.a[i]!)}, ${b} ${show(t.b[i]!)}, B − A ${diffText(d)}${untested ? `, p ${untested}` : `, q ${formatP(t.q[i]!)}`}`,
      }, [
        h("td", { role: "gridcell", text: feature }),
        h("td", { role: "gridcell", text: t.slice[i] ?? "" }),
        h("td", { role: "gridcell", className: "es-num", text: formatCount(t.rows[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: show(t.a[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: show(t.b[i]!) }),
        h("td", { role: "gridcell", className: "es-num es-diff", text: diffText(d) }),
        h("td", { role: "gridcell", className: "es-num", title: `${untested || (reg ? "paired t-test" : "McNemar's exact test")}${discordant}`, text: formatP(t.p_value[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatP(t.q[i]!) }),
      ]);
      tr.addEventListener("click", (e) => model.send({ type: "select_slice", key, additive: additiveKey(e) }));
      body.append(tr);
    });
    table.append(body);
    gridKeys(table, null);

    const raw = model.get("regressions") ?? {};
    const found: string[] = raw.slice ?? [];
    const [size, bWorse] = [toUint32(raw.size), toUint32(raw.b_worse)];
    const [rate, rest, score, pRest, qWorse] = [toFloat64(raw.value), toFloat64(raw.rest), toFloat64(raw.score), toFloat64(raw.p_adjusted), toFloat64(raw.q_b_worse)];
    const status = String(model.get("regressions_status") ?? "idle");
    const progress = Number(model.get("regressions_progress") ?? 0);
    const chosen = new Set((model.get("selected_regressions") ?? []) as number[]);
    const run = h("button", { type: "button", "data-focus": "discover-regressions", text: `Find where ${b} is worse`, disabled: status === "running" });
    run.addEventListener("click", () => model.send({ type: "discover_regressions" }));
    const bar = h("div", { className: "es-progress", role: "progressbar", "aria-label": "Search progress", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(progress * 100) }, [h("span")]);
    (bar.firstChild as HTMLElement).style.width = `${Math.round(progress * 100)}%`;
    const statusText = status === "running" ? `Searching… ${Math.round(progress * 100)}%` : status === "done" ? `${slicesText(found.length)} found` : status === "idle" ? "" : status;
    const indicator = reg ? `${b}'s |residual| is larger than ${a}'s` : `${b} is wrong and ${a} right`;
    const foundTable = h("table", { role: "grid", "aria-label": `Where ${b} is worse than ${a}: ${slicesText(found.length)}`, className: "es-table" }, [
      h("thead", {}, [h("tr", { role: "row" }, ([
        ["Slice"], ["Rows"], [`${b} worse`, `Share of the slice's rows: ${indicator}`], ["Rest"], ["Score", "Sliceline's score on the half of the rows the search ran on"],
        ["p vs rest (BH)", "Held out: is the slice's share above the rest's? (one-sided z-test, Benjamini-Hochberg)"],
        [`p ${b} worse (BH)`, `Held out: is ${b} wrong where ${a} is right more often than the reverse? (one-sided exact McNemar, Benjamini-Hochberg)`],
      ] as [string, string?][]).map(([text, title]) => h("th", { role: "columnheader", scope: "col", text, title })))]),
    ]);
    const foundBody = h("tbody");
    found.forEach((text, i) => {
      const tr = h("tr", {
        role: "row",
        tabindex: i === 0 ? 0 : -1,
        "data-action": "select",
        "data-focus": `regression-${i}`,
        "aria-selected": String(chosen.has(i)),
        "aria-label": `${text}: ${formatCount(size[i]!)} rows, ${b} worse on ${formatPercent(rate[i]!)}, held-out q ${formatP(qWorse[i]!)}`,
      }, [
        h("td", { role: "gridcell", className: "es-slice-text", text }),
        h("td", { role: "gridcell", className: "es-num", text: formatCount(size[i]!) }),
        h("td", { role: "gridcell", className: "es-num", title: `${formatCount(bWorse[i]!)} rows`, text: formatPercent(rate[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatPercent(rest[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatMetric(score[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatP(pRest[i]!) }),
        h("td", { role: "gridcell", className: "es-num", text: formatP(qWorse[i]!) }),
      ]);
      tr.addEventListener("click", (e) => model.send({ type: "select_regression", index: i, additive: additiveKey(e) }));
      foundBody.append(tr);
    });
    foundTable.append(foundBody);
    gridKeys(foundTable, null);
    return h("div", { role: "tabpanel", "aria-label": "Models" }, [
      h("div", { className: "es-toolbar" }, [picker("a"), picker("b")]),
      note ? h("p", { className: "es-note", role: "note", text: note }) : null,
      h("p", { className: "es-muted", text: `Each slice's ${metricLabel} for ${a} and ${b} on the same rows, ${reg ? "a paired t-test of the absolute residuals" : "McNemar's exact test"} and Benjamini-Hochberg over the slices; where ${b} is significantly worse first.` }),
      tallBox(table),
      h("section", { "aria-label": `Where ${b} is worse` }, [
        h("h3", { className: "es-subtitle", text: `Where ${b} is worse than ${a}` }),
        h("div", { className: "es-toolbar" }, [run, bar, h("span", { role: "status", text: statusText })]),
        h("p", { className: "es-muted", text: `Conjunctions of up to 3 predicates with the most rows where ${indicator} (Sliceline's score, on a random half of the rows); p-values come from the other half.` }),
        found.length ? tallBox(foundTable) : null,
      ]),
    ]);
  };

  const paint = (): void => {
    const focused = (document.activeElement as HTMLElement | null)?.closest?.("[data-focus]")?.getAttribute("data-focus");
    const hadFocus = root.contains(document.activeElement);
    // the filter being typed (its debounce not yet sent) survives a repaint that arrives meanwhile
    const active = document.activeElement;
    const draft = hadFocus && active instanceof HTMLInputElement && active.type === "search" ? active.value : null;
    const nRows = Number(model.get("n_rows") ?? 0);
    const nTotal = Number(model.get("n_total") ?? 0);
    const filter = String(model.get("filter_text") ?? "");
    const clause = String(model.get("clause_text") ?? "");
    const tabs = visibleTabs((model.get("models") ?? []) as string[]);
    const chosenTab = String(model.get("tab") ?? "slices") as Tab;
    const tab = tabs.some(([id]) => id === chosenTab) ? chosenTab : "slices";
    root.setAttribute("data-rows", String(nRows));
    const header = h("div", { className: "es-header" }, [
      h("span", { className: "es-title", text: "Slice browser" }),
      h("span", { text: nRows === 0 ? "No rows match the other views' selection" : `${formatCount(nRows)} of ${formatCount(nTotal)} rows` }),
      filter ? h("span", { className: "es-muted", text: `filtered by: ${filter}` }) : null,
      clause
        ? h("span", { className: "es-chip" }, [
            h("span", { text: clause }),
            h("button", { type: "button", "aria-label": "Clear slice browser selection", title: "Clear (Esc)", text: "×" }),
          ])
        : null,
    ]);
    header.querySelector("button")?.addEventListener("click", () => model.send({ type: "clear" }));
    const tablist = h("div", { role: "tablist", "aria-label": "Slice browser views", className: "es-tabs" });
    for (const [id, label] of tabs) {
      const button = h("button", { type: "button", role: "tab", "aria-selected": String(id === tab), tabindex: id === tab ? 0 : -1, "data-focus": `tab-${id}`, text: label });
      button.addEventListener("click", () => setTrait("tab", id));
      tablist.append(button);
    }
    tablist.addEventListener("keydown", (e) => {
      const i = tabs.findIndex(([id]) => id === tab);
      const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      handled(e);
      setTrait("tab", tabs[(i + step + tabs.length) % tabs.length]![0]);
    });
    const panel = { slices: slicesPanel, discovered: discoveredPanel, rows: rowsPanel, compare: comparePanel, models: modelsPanel }[tab]();
    // a repaint keeps where the user had scrolled the tables to (same tab), then re-marks their edges
    const scrolled = tab === paintedTab ? Array.from(root.querySelectorAll<HTMLElement>(".es-scroll"), (b) => [b.scrollLeft, b.scrollTop] as const) : [];
    paintedTab = tab;
    resized?.disconnect();
    root.replaceChildren(header, tablist, panel);
    root.querySelectorAll<HTMLElement>(".es-scroll").forEach((box, i) => {
      const [left, top] = scrolled[i] ?? [0, 0];
      box.scrollLeft = left;
      box.scrollTop = top;
      resized?.observe(box);
    });
    if (hadFocus && focused) {
      const target = Array.from(root.querySelectorAll<HTMLElement>("[data-focus]")).find((e) => e.dataset.focus === focused);
      if (target) {
        if (target.tagName === "TR") {
          root.querySelectorAll<HTMLElement>("tbody tr[tabindex='0']").forEach((r) => r.setAttribute("tabindex", "-1"));
          target.setAttribute("tabindex", "0");
        } else if (target.closest("thead")) {
          target.closest("thead")!.querySelectorAll<HTMLElement>("button").forEach((b) => b.setAttribute("tabindex", "-1"));
          target.setAttribute("tabindex", "0");
        }
        target.focus();
        if (target instanceof HTMLInputElement && target.type === "search" && draft !== null) target.value = draft;
        if (target instanceof HTMLInputElement) target.setSelectionRange(target.value.length, target.value.length);
      }
    }
  };

  const unmount = mountView(
    model,
    root,
    ["n_rows", "n_total", "filter_text", "clause_text", "tab", "metric", "metrics", "sort_by", "descending", "page", "n_slices", "slice_page", "outcome_selection", "min_rows", "selected_slices", "discovered", "selected_discovered", "discovery_status", "discovery_progress", "row_order", "rows_page", "n_selected", "rows", "comparison", "positive_label", "task", "models", "model_a", "model_b", "model_slices", "model_note", "regressions", "selected_regressions", "regressions_status", "regressions_progress"],
    paint,
  );
  return () => {
    resized?.disconnect();
    unmount();
  };
}

export default { render };
