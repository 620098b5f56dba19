/** ConfusionMatrix widget: actual x predicted grid with per-class margins; clicks select in Python. */
import { toFloat64, toUint32 } from "./lib/buffers";
import { BRAND, ERROR, shade, textOn } from "./lib/color";
import { gridMove, h, positiveClassNote } from "./lib/dom";
import { abbreviate, formatCount, formatMetric, formatPercent } from "./lib/format";
import { MODEL_TRAITS, onTraits, showProgress, type WidgetModel, withError, withModelPicker } from "./lib/model";

export type Normalize = "none" | "recall" | "precision";
type Cell = [number, number];
interface Selected {
  cells: Cell[];
  actual: number[];
  predicted: number[];
}

/** Everything the grid needs, decoded from the model's traits. */
export interface MatrixState {
  classes: string[];
  counts: Uint32Array;
  precision: Float64Array;
  recall: Float64Array;
  f1: Float64Array;
  support: Uint32Array;
  selected: Selected;
  normalize: Normalize;
}

export function readState(model: WidgetModel): MatrixState {
  const sel = (model.get("selected") ?? {}) as Partial<Selected>;
  return {
    classes: (model.get("classes") ?? []) as string[],
    counts: toUint32(model.get("counts")),
    precision: toFloat64(model.get("precision")),
    recall: toFloat64(model.get("recall")),
    f1: toFloat64(model.get("f1")),
    support: toUint32(model.get("support")),
    selected: { cells: sel.cells ?? [], actual: sel.actual ?? [], predicted: sel.predicted ?? [] },
    normalize: (model.get("normalize") ?? "none") as Normalize,
  };
}

/** Column totals (rows predicted as each class). */
export function columnTotals(counts: Uint32Array, k: number): number[] {
  const totals = new Array<number>(k).fill(0);
  for (let a = 0; a < k; a++) for (let p = 0; p < k; p++) totals[p]! += counts[a * k + p] ?? 0;
  return totals;
}

/** Row totals (rows of each actual class). */
export function rowTotals(counts: Uint32Array, k: number): number[] {
  const totals = new Array<number>(k).fill(0);
  for (let a = 0; a < k; a++) for (let p = 0; p < k; p++) totals[a]! += counts[a * k + p] ?? 0;
  return totals;
}

/** The value a cell shows: a count, its share of the actual row, or of the predicted column. */
export function cellValue(
  counts: Uint32Array, k: number, a: number, p: number, mode: Normalize,
  rows: number[] = rowTotals(counts, k), cols: number[] = columnTotals(counts, k),
): number {
  const n = counts[a * k + p] ?? 0;
  if (mode === "none") return n;
  const total = mode === "recall" ? rows[a]! : cols[p]!;
  return total > 0 ? n / total : NaN;
}

/** Class order: by index, or by misclassified rows of each actual class (most first). */
export function classOrder(counts: Uint32Array, k: number, order: string): number[] {
  const idx = Array.from({ length: k }, (_, i) => i);
  if (order !== "errors") return idx;
  const rows = rowTotals(counts, k);
  const errors = idx.map((a) => rows[a]! - (counts[a * k + a] ?? 0));
  return idx.sort((x, y) => errors[y]! - errors[x]! || x - y);
}

function isSelected(sel: Selected, a: number, p: number): boolean {
  return sel.actual.includes(a) || sel.predicted.includes(p) || sel.cells.some(([x, y]) => x === a && y === p);
}

function toggled<T>(list: T[], item: T, same: (x: T, y: T) => boolean): T[] {
  return list.some((x) => same(x, item)) ? list.filter((x) => !same(x, item)) : [...list, item];
}

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-cm", role: "region", "aria-label": "Confusion matrix" });
  el.append(root);
  let focus: Cell = [0, 0];
  const radioGroup = `es-norm-${Math.random().toString(36).slice(2)}`;

  const send = (sel: Selected): void => {
    const empty = !sel.cells.length && !sel.actual.length && !sel.predicted.length;
    model.send(empty ? { type: "clear" } : { type: "select", ...sel });
  };
  const current = (): Selected => readState(model).selected;
  const none = (): Selected => ({ cells: [], actual: [], predicted: [] });
  const same = (x: number, y: number): boolean => x === y;
  const sameCell = (x: Cell, y: Cell): boolean => x[0] === y[0] && x[1] === y[1];

  const selectCell = (a: number, p: number, additive: boolean): void => {
    const base = additive ? current() : none();
    send({ ...base, cells: toggled(base.cells, [a, p] as Cell, sameCell) });
  };
  const selectClass = (axis: "actual" | "predicted", i: number, additive: boolean): void => {
    const base = additive ? current() : none();
    send({ ...base, [axis]: toggled(base[axis], i, same) });
  };

  // The toolbar is built once and updated in place: re-creating it on a repaint would replace the
  // slider under the pointer mid-drag (and lose a typed threshold).
  const radios = (["none", "recall", "precision"] as const).map((mode) => {
    const text = { none: "Counts", recall: "Recall (row %)", precision: "Precision (column %)" }[mode];
    const input = h("input", { type: "radio", name: radioGroup, value: mode });
    input.addEventListener("change", () => {
      model.set("normalize", mode);
      model.save_changes();
    });
    return h("label", {}, [input, text]);
  });
  const orderSelect = h("select", { "aria-label": "Order" }, [
    h("option", { value: "class", text: "By class" }),
    h("option", { value: "errors", text: "By errors" }),
  ]);
  orderSelect.addEventListener("change", () => {
    model.set("order", orderSelect.value);
    model.save_changes();
  });
  const threshold = thresholdControl(model);
  const toolbar = h("div", { className: "es-toolbar" }, [
    h("fieldset", { role: "radiogroup", "aria-label": "Values" }, radios),
    h("label", {}, ["Order ", orderSelect]),
    threshold.el,
  ]);
  const header = h("div", { className: "es-header" });
  const scroll = h("div", { className: "es-scroll" });
  root.append(header, toolbar, scroll);

  const paint = (): void => {
    const s = readState(model);
    const k = s.classes.length;
    const nRows = Number(model.get("n_rows") ?? 0);
    const nTotal = Number(model.get("n_total") ?? 0);
    const order = classOrder(s.counts, k, String(model.get("order") ?? "class"));
    const cols = columnTotals(s.counts, k);
    const rows = rowTotals(s.counts, k);
    const maxLabel = k > 12 ? 10 : 18;
    const accuracy = model.get("accuracy") as number | null;
    const filter = String(model.get("filter_text") ?? "");
    const clause = String(model.get("clause_text") ?? "");
    root.setAttribute("data-rows", String(nRows));
    const hadFocus = scroll.contains(document.activeElement);

    const parts: (HTMLElement | null)[] = [
      h("span", { className: "es-title", text: "Confusion matrix" }),
      h("span", {
        text:
          nRows === 0
            ? "No rows match the other views' selection"
            : `Accuracy ${formatPercent(accuracy ?? NaN)} · ${formatCount(nRows)} of ${formatCount(nTotal)} rows`,
      }),
      positiveClassNote(String(model.get("positive_label") ?? "")),
      filter ? h("span", { className: "es-muted", text: `filtered by: ${filter}` }) : null,
      clause
        ? h("span", { className: "es-chip" }, [
            h("span", { text: clause }),
            h("button", { type: "button", "aria-label": "Clear confusion matrix selection", title: "Clear (Esc)", text: "×" }),
          ])
        : null,
    ];
    header.replaceChildren(...parts.filter((x): x is HTMLElement => x !== null));
    header.querySelector("button")?.addEventListener("click", () => model.send({ type: "clear" }));
    radios.forEach((label) => {
      const input = label.querySelector("input")!;
      input.checked = input.value === s.normalize;
    });
    orderSelect.value = String(model.get("order") ?? "class");
    threshold.el.hidden = !model.get("show_threshold");
    threshold.update();

    const table = h("table", { role: "grid", "aria-label": "Confusion matrix cells", className: k > 12 ? "es-cm-grid es-compact" : "es-cm-grid" });
    const headRow = h("tr", { role: "row" }, [h("th", { className: "es-corner", text: "actual ↓ / predicted →" })]);
    /** A header button selecting a whole actual row or predicted column. */
    const classButton = (axis: "actual" | "predicted", i: number): HTMLButtonElement => {
      const name = s.classes[i] ?? "";
      const button = h("button", {
        type: "button",
        title: name,
        "aria-label": `${axis} ${name}: ${formatCount((axis === "actual" ? rows : cols)[i]!)} rows`,
        "aria-pressed": String(s.selected[axis].includes(i)),
        text: abbreviate(name, maxLabel),
      });
      button.addEventListener("click", (e) => selectClass(axis, i, e.shiftKey || e.ctrlKey || e.metaKey));
      return button;
    };
    for (const p of order) headRow.append(h("th", { role: "columnheader", scope: "col" }, [classButton("predicted", p)]));
    for (const m of ["support", "recall", "F1"]) headRow.append(h("th", { role: "columnheader", className: "es-margin", text: m }));
    const body = h("tbody");
    let maxOff = 1;
    let maxDiag = 1;
    for (let a = 0; a < k; a++)
      for (let p = 0; p < k; p++) {
        const v = cellValue(s.counts, k, a, p, s.normalize, rows, cols);
        if (!Number.isFinite(v)) continue;
        if (a === p) maxDiag = Math.max(maxDiag, s.normalize === "none" ? v : 1);
        else maxOff = Math.max(maxOff, s.normalize === "none" ? v : 1);
      }
    if (s.normalize !== "none") maxDiag = maxOff = 1;
    order.forEach((a, row) => {
      const name = s.classes[a] ?? "";
      const tr = h("tr", { role: "row" }, [h("th", { role: "rowheader", scope: "row" }, [classButton("actual", a)])]);
      order.forEach((p, col) => {
        const n = s.counts[a * k + p] ?? 0;
        const v = cellValue(s.counts, k, a, p, s.normalize, rows, cols);
        const intensity = Number.isFinite(v) ? v / (a === p ? maxDiag : maxOff) : 0;
        const isFocus = focus[0] === row && focus[1] === col;
        const td = h("td", {
          role: "gridcell",
          className: "es-cell",
          tabindex: isFocus ? 0 : -1,
          "aria-selected": String(isSelected(s.selected, a, p)),
          "aria-label": `actual ${name}, predicted ${s.classes[p] ?? ""}: ${formatCount(n)} rows`,
          "data-row": row,
          "data-col": col,
          text: s.normalize === "none" ? formatCount(n) : formatPercent(v),
        });
        td.style.background = shade(a === p ? BRAND : ERROR, intensity);
        td.style.color = textOn(intensity);
        td.addEventListener("click", (e) => {
          focus = [row, col];
          selectCell(a, p, e.shiftKey || e.ctrlKey || e.metaKey);
        });
        tr.append(td);
      });
      const margins: [string, string][] = [
        ["support", formatCount(s.support[a] ?? 0)],
        ["recall", formatMetric(s.recall[a] ?? NaN)],
        ["F1", formatMetric(s.f1[a] ?? NaN)],
      ];
      for (const [m, text] of margins)
        tr.append(h("td", { role: "gridcell", "aria-readonly": "true", className: "es-margin", "aria-label": `${m} of ${name}: ${text}`, text }));
      body.append(tr);
    });
    const totalRow = h("tr", { role: "row" }, [h("th", { role: "rowheader", className: "es-margin", text: "predicted" })]);
    const precisionRow = h("tr", { role: "row" }, [h("th", { role: "rowheader", className: "es-margin", text: "precision" })]);
    for (const p of order) {
      const name = s.classes[p] ?? "";
      totalRow.append(h("td", { role: "gridcell", "aria-readonly": "true", className: "es-margin", "aria-label": `predicted as ${name}: ${formatCount(cols[p]!)}`, text: formatCount(cols[p]!) }));
      const prec = formatMetric(s.precision[p] ?? NaN);
      precisionRow.append(h("td", { role: "gridcell", "aria-readonly": "true", className: "es-margin", "aria-label": `precision of ${name}: ${prec}`, text: prec }));
    }
    table.append(h("thead", {}, [headRow]), body, h("tfoot", {}, [totalRow, precisionRow]));
    table.addEventListener("keydown", (e) => onGridKey(e, k));
    scroll.replaceChildren(table);
    if (hadFocus) focusCell();
  };

  const focusCell = (): void => {
    const td = root.querySelector<HTMLElement>(`td[data-row="${focus[0]}"][data-col="${focus[1]}"]`);
    if (!td) return;
    root.querySelectorAll<HTMLElement>("td.es-cell[tabindex='0']").forEach((c) => c.setAttribute("tabindex", "-1"));
    td.setAttribute("tabindex", "0");
    td.focus();
  };

  const onGridKey = (e: KeyboardEvent, k: number): void => {
    const target = e.target as HTMLElement;
    if (!target.matches("td.es-cell")) return;
    const [r, c] = [Number(target.dataset.row), Number(target.dataset.col)];
    const move = gridMove(e.key, r, c, k, k);
    if (move) {
      e.preventDefault();
      focus = move;
      focusCell();
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      focus = [r, c];
      target.click(); // a plain selection; modifier+Enter is handled by the capture listener below
    }
  };

  // Enter/Space with a modifier adds the focused cell; a plain click() above replaces.
  root.addEventListener(
    "keydown",
    (e) => {
      const target = e.target as HTMLElement;
      if ((e.key === "Enter" || e.key === " ") && (e.shiftKey || e.ctrlKey || e.metaKey) && target.matches("td.es-cell")) {
        e.preventDefault();
        e.stopPropagation();
        const state = readState(model);
        const order = classOrder(state.counts, state.classes.length, String(model.get("order") ?? "class"));
        const [r, c] = [Number(target.dataset.row), Number(target.dataset.col)];
        focus = [r, c];
        selectCell(order[r]!, order[c]!, true);
      }
    },
    true,
  );
  const onEscape = (e: KeyboardEvent): void => {
    if (e.key === "Escape") {
      e.preventDefault();
      model.send({ type: "clear" });
    }
  };
  root.addEventListener("keydown", onEscape);

  const draw = withError(model, root, withModelPicker(model, root, paint));
  const stop = onTraits(
    model,
    ["classes", "counts", "precision", "recall", "f1", "support", "accuracy", "n_rows", "n_total", "selected", "clause_text", "filter_text", "normalize", "order", "threshold", "show_threshold", "positive_label", "error", ...MODEL_TRAITS],
    draw,
  );
  const stopProgress = showProgress(model, root);
  draw();
  return () => {
    stop();
    stopProgress();
    root.remove();
  };
}

/** Keys a focused threshold control handles itself (never passed on to the notebook). */
const SLIDER_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown", "Enter"]);

/** The decision-threshold control: a slider (live value while dragging, committed on release or on each
 * arrow key) and a number box (committed on Enter or blur). Built once; `update` follows the model. */
export function thresholdControl(model: WidgetModel): { el: HTMLElement; update: () => void } {
  const slider = h("input", { type: "range", min: 0, max: 1, step: 0.01, "aria-label": "Decision threshold" });
  const box = h("input", { type: "number", min: 0, max: 1, step: 0.01, className: "es-threshold-box", "aria-label": "Decision threshold value" });
  let dragging = false;
  const current = (): number => Number(model.get("threshold") ?? 0.5);
  const commit = (value: number): void => {
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      box.value = String(current()); // not a threshold: show the one in force
      return;
    }
    slider.value = box.value = String(value);
    if (value === current()) return;
    model.set("threshold", value);
    model.save_changes();
  };
  slider.addEventListener("pointerdown", () => (dragging = true));
  slider.addEventListener("pointerup", () => (dragging = false));
  slider.addEventListener("input", () => (box.value = slider.value)); // preview only: no recompute mid-drag
  slider.addEventListener("change", () => {
    dragging = false;
    commit(Number(slider.value));
  });
  box.addEventListener("change", () => commit(Number(box.value)));
  const keep = (e: KeyboardEvent): void => {
    if (!SLIDER_KEYS.has(e.key)) return;
    e.stopPropagation(); // the notebook must not move its active cell or enter edit mode
    if (e.key === "Enter") {
      e.preventDefault();
      commit(Number((e.target as HTMLInputElement).value));
    }
  };
  slider.addEventListener("keydown", keep);
  box.addEventListener("keydown", keep);
  const update = (): void => {
    const value = String(current());
    if (!dragging) slider.value = value;
    if (document.activeElement !== box) box.value = value;
  };
  update();
  return { el: h("label", { className: "es-threshold" }, ["Threshold ", slider, box]), update };
}

export default { render };
