/** ModelComparer widget: where two models agree and disagree (clickable agreement cells; for multiclass also
 * A's prediction against B's), and every model's metrics with its paired difference from model A. */
import { toUint32 } from "./lib/buffers";
import { BRAND, ERROR, shade, textOn } from "./lib/color";
import { gridMove, h } from "./lib/dom";
import { abbreviate, formatCount, formatMetric, formatPercent, formatValue } from "./lib/format";
import { mountView, type WidgetModel } from "./lib/model";

export type Task = "binary" | "multiclass" | "regression";

/** One agreement cell as Python sends it (`cells`). */
export interface AgreementCell {
  key: string;
  label: string;
  count: number;
}

/** One row of `metrics`: a model's value of a metric and its paired difference from model A. */
export interface MetricRow {
  model: string;
  metric: string;
  value: number | null;
  diff: number | null;
  diff_lo: number | null;
  diff_hi: number | null;
  p_mcnemar: number | null;
  p_value: number | null;
}

type Cell = [number, number];

/** Where each agreement cell sits in its grid: [row, column]. Classification: rows A right / A wrong,
 * columns B right / B wrong. Regression: one row, A better / tie / B better. */
export const CLASSIFICATION_LAYOUT: Record<string, Cell> = { both_right: [0, 0], only_a_right: [0, 1], only_b_right: [1, 0], both_wrong: [1, 1] };
export const REGRESSION_LAYOUT: Record<string, Cell> = { a_better: [0, 0], tie: [0, 1], b_better: [0, 2] };

/** The discordant cells and their colours: B worse where A is right or better (the regression set) in the
 * error colour, B better in the brand colour. The concordant cells are not shaded. */
const DISCORDANT: Record<string, string> = { only_a_right: ERROR, a_better: ERROR, only_b_right: BRAND, b_better: BRAND };

/** Metrics where a higher value is better, and where a lower one is. */
export const HIGHER_IS_BETTER = new Set(["accuracy", "precision", "recall", "f1", "balanced_accuracy", "macro_f1", "r2"]);
export const LOWER_IS_BETTER = new Set(["fpr", "fnr", "error_rate", "mae", "mse", "rmse", "log_loss"]);

const METRIC_NAMES: Record<string, string> = {
  accuracy: "accuracy",
  balanced_accuracy: "balanced accuracy",
  precision: "precision",
  recall: "recall",
  f1: "F1",
  macro_f1: "macro F1",
  fpr: "false positive rate",
  fnr: "false negative rate",
  error_rate: "error rate",
  log_loss: "log loss",
  mae: "MAE",
  mse: "MSE",
  rmse: "RMSE",
  r2: "R²",
};

/** A metric's display name ("balanced_accuracy" -> "balanced accuracy"). */
export function metricName(metric: string): string {
  return METRIC_NAMES[metric] ?? metric.replace(/_/g, " ");
}

const finite = (x: number | null | undefined): x is number => typeof x === "number" && Number.isFinite(x);

/** A difference with its sign: "+0.012", "−0.004"; null or NaN -> "–". */
export function formatDiff(x: number | null | undefined, format: (v: number) => string = formatMetric): string {
  if (!finite(x)) return "–";
  return x > 0 ? `+${format(x)}` : format(x);
}

/** A difference with its interval: "+0.012 [−0.004, +0.028]"; without a finite interval, the difference alone. */
export function formatDiffInterval(diff: number | null, lo: number | null, hi: number | null, format: (v: number) => string = formatMetric): string {
  if (!finite(diff)) return "–";
  return finite(lo) && finite(hi) ? `${formatDiff(diff, format)} [${formatDiff(lo, format)}, ${formatDiff(hi, format)}]` : formatDiff(diff, format);
}

/** A p-value: "0.031", "< 0.001"; null -> "–". */
export function formatP(p: number | null | undefined): string {
  if (!finite(p)) return "–";
  return p < 0.001 ? "< 0.001" : formatMetric(p);
}

/** What a difference whose interval excludes 0 means: "better" or "worse" where the metric's direction is
 * known, else "higher" or "lower"; "" when the interval holds 0 (or there is none). */
export function verdict(metric: string, lo: number | null, hi: number | null): "" | "better" | "worse" | "higher" | "lower" {
  if (!finite(lo) || !finite(hi)) return "";
  const higher = lo > 0;
  if (!higher && !(hi < 0)) return "";
  if (HIGHER_IS_BETTER.has(metric)) return higher ? "better" : "worse";
  if (LOWER_IS_BETTER.has(metric)) return higher ? "worse" : "better";
  return higher ? "higher" : "lower";
}

/** The new selection after activating `item`: a plain click selects it alone (or clears it when it is the
 * whole selection already); a modified click toggles it in the current selection. */
export function nextSelection<T>(current: T[], item: T, additive: boolean, same: (x: T, y: T) => boolean): T[] {
  const has = current.some((x) => same(x, item));
  if (additive) return has ? current.filter((x) => !same(x, item)) : [...current, item];
  return has && current.length === 1 ? [] : [item];
}

/** The keys the grids handle stop here: the notebook must not also act on them. */
const handled = (e: Event): void => {
  e.preventDefault();
  e.stopPropagation();
};

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-mc", role: "region", "aria-label": "Model comparer" });
  el.append(root);
  let agreeFocus: Cell = [0, 0];
  let predFocus: Cell = [0, 0];

  const pairOf = (): { a: string; b: string } => ({ a: String(model.get("model_a") ?? ""), b: String(model.get("model_b") ?? "") });
  const selectedCells = (): string[] => ((model.get("selected_cells") ?? []) as string[]).map(String);
  const selectedPred = (): Cell[] => ((model.get("selected_pred") ?? []) as Cell[]).map(([i, j]) => [Number(i), Number(j)] as Cell);

  const chooseCell = (key: string, additive: boolean): void => {
    const next = nextSelection(selectedCells(), key, additive, (x, y) => x === y);
    model.send(next.length ? { type: "select", cells: next } : { type: "clear" });
  };
  const choosePred = (cell: Cell, additive: boolean): void => {
    const next = nextSelection(selectedPred(), cell, additive, (x, y) => x[0] === y[0] && x[1] === y[1]);
    model.send(next.length ? { type: "select_pred", cells: next } : { type: "clear" });
  };

  // The pair pickers are built once and updated in place (a repaint keeps the focus and an open list).
  const pickA = h("select", { "aria-label": "Model A" });
  const pickB = h("select", { "aria-label": "Model B" });
  const onPick = (side: "a" | "b"): void => {
    const { a, b } = pairOf();
    const chosen = (side === "a" ? pickA : pickB).value;
    const other = side === "a" ? b : a;
    // choosing the other side's model swaps the pair
    const pair = chosen === other ? { a: side === "a" ? chosen : b, b: side === "a" ? a : chosen } : side === "a" ? { a: chosen, b } : { a, b: chosen };
    model.send({ type: "pair", ...pair });
  };
  pickA.addEventListener("change", () => onPick("a"));
  pickB.addEventListener("change", () => onPick("b"));
  for (const pick of [pickA, pickB]) pick.addEventListener("keydown", (e) => e.stopPropagation());
  let shownModels = "";

  const header = h("div", { className: "es-header" });
  const toolbar = h("div", { className: "es-toolbar es-mc-pair" }, [
    h("label", {}, ["Model A ", pickA]),
    h("label", {}, ["Model B ", pickB]),
  ]);
  const note = h("p", { className: "es-note", role: "note", hidden: true });
  const agree = h("section", { className: "es-mc-agreement", "aria-label": "Agreement" });
  const pred = h("section", { className: "es-mc-predictions", "aria-label": "Predictions against each other", hidden: true });
  const metrics = h("section", { className: "es-mc-metrics-section", "aria-label": "Metrics" });
  root.append(header, toolbar, note, agree, pred, metrics);

  const focusCell = (box: HTMLElement, at: Cell): void => {
    const td = box.querySelector<HTMLElement>(`td[data-row="${at[0]}"][data-col="${at[1]}"]`);
    if (!td) return;
    box.querySelectorAll<HTMLElement>("td[tabindex='0']").forEach((c) => c.setAttribute("tabindex", "-1"));
    td.setAttribute("tabindex", "0");
    td.focus();
  };

  /** Arrow keys, Home and End move between a grid's cells; Enter or Space activates one (with Shift, Ctrl or
   * Meta: toggles it in the selection). */
  const gridKeys = (box: HTMLElement, rows: number, cols: number, setFocus: (c: Cell) => void) => (e: KeyboardEvent): void => {
    const target = e.target as HTMLElement;
    if (!target.matches("td[data-row]")) return;
    const [r, c] = [Number(target.dataset.row), Number(target.dataset.col)];
    const move = gridMove(e.key, r, c, rows, cols);
    if (move) {
      handled(e);
      setFocus(move);
      focusCell(box, move);
    } else if (e.key === "Enter" || e.key === " ") {
      handled(e);
      setFocus([r, c]);
      target.dispatchEvent(new MouseEvent("click", { bubbles: true, shiftKey: e.shiftKey, ctrlKey: e.ctrlKey, metaKey: e.metaKey }));
    }
  };

  const agreementGrid = (task: Task, a: string, b: string): HTMLElement | null => {
    const cells = (model.get("cells") ?? []) as AgreementCell[];
    if (!cells.length) return null;
    const regression = task === "regression";
    const layout = regression ? REGRESSION_LAYOUT : CLASSIFICATION_LAYOUT;
    const [rows, cols] = regression ? [1, 3] : [2, 2];
    const total = cells.reduce((s, c) => s + Number(c.count ?? 0), 0);
    const maxDiscordant = Math.max(1, ...cells.filter((c) => DISCORDANT[c.key]).map((c) => Number(c.count ?? 0)));
    const selected = new Set(selectedCells());
    agreeFocus = [Math.min(agreeFocus[0], rows - 1), Math.min(agreeFocus[1], cols - 1)];
    const grid: (HTMLElement | null)[][] = Array.from({ length: rows }, () => new Array<HTMLElement | null>(cols).fill(null));
    for (const cell of cells) {
      const at = layout[cell.key];
      if (!at) continue;
      const n = Number(cell.count ?? 0);
      const colour = DISCORDANT[cell.key];
      const intensity = colour && n > 0 ? 0.2 + (0.8 * n) / maxDiscordant : 0;
      const isFocus = agreeFocus[0] === at[0] && agreeFocus[1] === at[1];
      const td = h(
        "td",
        {
          role: "gridcell",
          className: `es-mc-cell ${colour ? "es-mc-discordant" : "es-mc-concordant"}`,
          tabindex: isFocus ? 0 : -1,
          "aria-selected": String(selected.has(cell.key)),
          "aria-label": `${cell.label}: ${formatCount(n)} rows`,
          "data-key": cell.key,
          "data-row": at[0],
          "data-col": at[1],
        },
        [
          h("span", { className: "es-mc-cell-label", text: cell.label }),
          h("span", { className: "es-mc-count", text: formatCount(n) }),
          h("span", { className: "es-mc-share", text: total > 0 ? formatPercent(n / total) : "–" }),
        ],
      );
      if (colour) {
        td.style.background = shade(colour, intensity);
        td.style.color = textOn(intensity);
      }
      td.addEventListener("click", (e) => {
        agreeFocus = at;
        chooseCell(cell.key, e.shiftKey || e.ctrlKey || e.metaKey);
      });
      grid[at[0]]![at[1]] = td;
    }
    const table = h("table", {
      role: "grid",
      className: `es-mc-agree${regression ? " es-mc-agree-regression" : ""}`,
      "aria-label": regression ? `Whose absolute error is smaller: ${a} (A) or ${b} (B)` : `Agreement of ${a} (A) and ${b} (B)`,
    });
    if (regression) {
      table.append(h("tbody", {}, [h("tr", { role: "row" }, grid[0]!.map((td) => td ?? h("td", { role: "gridcell", "aria-readonly": "true" })))]));
    } else {
      table.append(
        h("thead", {}, [
          h("tr", { role: "row" }, [
            h("th", { className: "es-mc-corner", title: `rows: ${a} (A); columns: ${b} (B)`, text: "A ↓ · B →" }),
            h("th", { role: "columnheader", scope: "col", text: `${b} right` }),
            h("th", { role: "columnheader", scope: "col", text: `${b} wrong` }),
          ]),
        ]),
        h(
          "tbody",
          {},
          ["right", "wrong"].map((word, r) =>
            h("tr", { role: "row" }, [
              h("th", { role: "rowheader", scope: "row", text: `${a} ${word}` }),
              ...grid[r]!.map((td) => td ?? h("td", { role: "gridcell", "aria-readonly": "true" })),
            ]),
          ),
        ),
      );
    }
    table.addEventListener("keydown", gridKeys(agree, rows, cols, (c) => (agreeFocus = c)));
    return table;
  };

  const predictionGrid = (a: string, b: string): HTMLElement | null => {
    const classes = ((model.get("classes") ?? []) as unknown[]).map(String);
    const k = classes.length;
    const counts = toUint32(model.get("pred_counts"));
    if (!k || counts.length < k * k) return null;
    const sel = selectedPred();
    const maxLabel = k > 12 ? 10 : 18;
    let maxOff = 1;
    let maxDiag = 1;
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        if (i === j) maxDiag = Math.max(maxDiag, counts[i * k + j]!);
        else maxOff = Math.max(maxOff, counts[i * k + j]!);
      }
    predFocus = [Math.min(predFocus[0], k - 1), Math.min(predFocus[1], k - 1)];
    const classHeader = (i: number, scope: "col" | "row"): HTMLElement =>
      h("th", { role: scope === "col" ? "columnheader" : "rowheader", scope, title: classes[i]!, text: abbreviate(classes[i]!, maxLabel) });
    const body = classes.map((ci, i) =>
      h("tr", { role: "row" }, [
        classHeader(i, "row"),
        ...classes.map((cj, j) => {
          const n = counts[i * k + j]!;
          // agreement (the diagonal) in a neutral shade, disagreement in the brand colour
          const intensity = i === j ? (0.5 * n) / maxDiag : n / maxOff;
          const td = h("td", {
            role: "gridcell",
            className: `es-mc-pcell${i === j ? " es-mc-same" : ""}`,
            tabindex: predFocus[0] === i && predFocus[1] === j ? 0 : -1,
            "aria-selected": String(sel.some(([x, y]) => x === i && y === j)),
            "aria-label": `${a} predicted ${ci}, ${b} predicted ${cj}: ${formatCount(n)} rows`,
            "data-row": i,
            "data-col": j,
            text: formatCount(n),
          });
          td.style.background = shade(i === j ? "var(--jp-ui-font-color2, #666)" : BRAND, intensity);
          td.style.color = textOn(intensity);
          td.addEventListener("click", (e) => {
            predFocus = [i, j];
            choosePred([i, j], e.shiftKey || e.ctrlKey || e.metaKey);
          });
          return td;
        }),
      ]),
    );
    const table = h("table", { role: "grid", className: `es-mc-pred${k > 12 ? " es-compact" : ""}`, "aria-label": `Predictions of ${a} (rows) against ${b} (columns)` }, [
      h("thead", {}, [h("tr", { role: "row" }, [h("th", { className: "es-mc-corner", title: `rows: ${a} (A) predicted; columns: ${b} (B) predicted`, text: "A ↓ · B →" }), ...classes.map((_, j) => classHeader(j, "col"))])]),
      h("tbody", {}, body),
    ]);
    table.addEventListener("keydown", gridKeys(pred, k, k, (c) => (predFocus = c)));
    return table;
  };

  const metricsTable = (task: Task, a: string, models: string[]): HTMLElement[] => {
    const rows = (model.get("metrics") ?? []) as MetricRow[];
    if (!rows.length) return [h("p", { className: "es-muted", text: "No metrics for these rows." })];
    const names: string[] = [];
    const metricKeys: string[] = [];
    for (const r of rows) {
      if (!names.includes(r.model)) names.push(r.model);
      if (!metricKeys.includes(r.metric)) metricKeys.push(r.metric);
    }
    // A first, then the others in the evaluation's order
    const order = [a, ...models.filter((m) => m !== a && names.includes(m)), ...names.filter((m) => m !== a && !models.includes(m))].filter((m) => names.includes(m));
    const others = order.filter((m) => m !== a);
    const byKey = new Map(rows.map((r) => [`${r.model}\u0000${r.metric}`, r]));
    const format = (metric: string): ((v: number) => string) => (task === "regression" && metric !== "r2" ? formatValue : formatMetric);
    const table = h("table", { className: "es-table es-mc-metrics", role: "table" }, [
      h("caption", { text: `Metrics by model, and each model's difference from ${a} (A)` }),
      h("colgroup", {}, [h("col")]),
      ...order.map((m) => h("colgroup", { span: m === a ? 1 : 3 })),
      h("thead", {}, [
        h("tr", {}, [
          h("th", { scope: "col", rowspan: 2, text: "metric" }),
          ...order.map((m) => h("th", { scope: "colgroup", colspan: m === a ? 1 : 3, className: "es-mc-model", text: m === a ? `${m} (A)` : m })),
        ]),
        h("tr", {}, order.flatMap((m) => (m === a ? ["value"] : ["value", `difference from ${a} [95% interval]`, "p"]).map((t) => h("th", { scope: "col", text: t })))),
      ]),
      h(
        "tbody",
        {},
        metricKeys.map((metric) => {
          const fmt = format(metric);
          const cells: HTMLElement[] = [h("th", { scope: "row", "data-metric": metric, text: metricName(metric) })];
          for (const m of order) {
            const r = byKey.get(`${m}\u0000${metric}`);
            cells.push(h("td", { className: "es-num", "data-model": m, "data-col": "value", text: finite(r?.value) ? fmt(r!.value!) : "–" }));
            if (m === a) continue;
            const mark = r ? verdict(metric, r.diff_lo, r.diff_hi) : "";
            cells.push(
              h("td", { className: "es-num", "data-model": m, "data-col": "diff", "data-verdict": mark || undefined }, [
                r ? formatDiffInterval(r.diff, r.diff_lo, r.diff_hi, fmt) : "–",
                mark ? h("span", { className: `es-mc-mark es-mc-${mark}`, text: ` ${mark}` }) : null,
              ]),
            );
            const mcnemar = finite(r?.p_mcnemar);
            cells.push(
              h("td", {
                className: "es-num",
                "data-model": m,
                "data-col": "p",
                title: mcnemar ? "McNemar's exact test" : finite(r?.p_value) ? "paired t-test" : undefined,
                text: formatP(mcnemar ? r!.p_mcnemar : r?.p_value),
              }),
            );
          }
          return h("tr", {}, cells);
        }),
      ),
    ]);
    const legend = others.length
      ? h("p", {
          className: "es-muted es-mc-legend",
          text: `Differences are the other model's value minus ${a}'s on the same rows, with a 95% paired interval; p: McNemar's exact test for rates, a paired t-test for errors. "better" or "worse" (or "higher", "lower") marks a difference whose interval excludes 0.`,
        })
      : null;
    return [h("div", { className: "es-scroll es-mc-metrics-scroll" }, [table]), ...(legend ? [legend] : [])];
  };

  const paint = (): void => {
    const active = document.activeElement;
    const focusIn = agree.contains(active) ? "agree" : pred.contains(active) ? "pred" : null;
    const task = String(model.get("task") ?? "binary") as Task;
    const { a, b } = pairOf();
    const models = ((model.get("models") ?? []) as unknown[]).map(String);
    const nRows = Number(model.get("n_rows") ?? 0);
    const nTotal = Number(model.get("n_total") ?? 0);
    const filter = String(model.get("filter_text") ?? "");
    const clause = String(model.get("clause_text") ?? "");
    root.setAttribute("data-rows", String(nRows));

    header.replaceChildren(
      ...[
        h("span", { className: "es-title", text: "Model comparer" }),
        h("span", { text: `${formatCount(nRows)} of ${formatCount(nTotal)} rows${nRows === 0 ? " (no rows match the other views' selection)" : ""}` }),
        filter ? h("span", { className: "es-muted", text: `filtered by: ${filter}` }) : null,
        clause
          ? h("span", { className: "es-chip" }, [
              h("span", { text: clause }),
              h("button", { type: "button", "aria-label": "Clear model comparer selection", title: "Clear (Esc)", text: "×" }),
            ])
          : null,
      ].filter((x): x is HTMLElement => x !== null),
    );
    header.querySelector("button")?.addEventListener("click", () => model.send({ type: "clear" }));

    const choices = models.length ? models : [a, b].filter(Boolean);
    const key = JSON.stringify(choices);
    if (key !== shownModels) {
      for (const pick of [pickA, pickB]) pick.replaceChildren(...choices.map((m) => h("option", { value: m, text: m })));
      shownModels = key;
    }
    pickA.value = a;
    pickB.value = b;

    const noteText = String(model.get("note") ?? "");
    note.textContent = noteText;
    note.hidden = !noteText;

    const grid = agreementGrid(task, a, b);
    agree.replaceChildren(
      h("p", {
        className: "es-cohort-heading",
        text: task === "regression" ? `Per row, whose absolute error is smaller: ${a} (A) or ${b} (B)` : `Where ${a} (A) and ${b} (B) are right`,
      }),
      grid ?? h("p", { className: "es-muted", text: "No rows to compare." }),
    );

    const matrix = task === "multiclass" ? predictionGrid(a, b) : null;
    pred.hidden = !matrix;
    pred.replaceChildren(
      ...(matrix ? [h("p", { className: "es-cohort-heading", text: `${a}'s prediction (rows) against ${b}'s (columns)` }), h("div", { className: "es-scroll es-mc-pred-scroll" }, [matrix])] : []),
    );

    metrics.replaceChildren(...metricsTable(task, a, models));

    if (focusIn === "agree") focusCell(agree, agreeFocus);
    else if (focusIn === "pred") focusCell(pred, predFocus);
  };

  return mountView(
    model,
    root,
    ["n_rows", "n_total", "clause_text", "filter_text", "model_a", "model_b", "task", "cells", "selected_cells", "classes", "pred_counts", "selected_pred", "metrics", "note"],
    paint,
  );
}

export default { render };
