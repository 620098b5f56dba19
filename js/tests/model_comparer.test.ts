import { afterEach, describe, expect, it } from "vitest";
import widget, { formatDiffInterval, formatP, metricName, nextSelection, verdict } from "../src/model_comparer";
import { MockModel, u32 } from "./mock";

const flush = () => new Promise((r) => setTimeout(r, 0));

const CLASSIFICATION_CELLS = [
  { key: "both_right", label: "both right", count: 8000 },
  { key: "only_a_right", label: "only baseline right", count: 412 },
  { key: "only_b_right", label: "only candidate right", count: 600 },
  { key: "both_wrong", label: "both wrong", count: 988 },
];

const row = (model: string, metric: string, value: number, diff: number | null = null, lo: number | null = null, hi: number | null = null, pm: number | null = null, pt: number | null = null) => ({
  model, metric, value, diff, diff_lo: lo, diff_hi: hi, p_mcnemar: pm, p_value: pt,
});

function setup(state: Record<string, unknown> = {}) {
  const model = new MockModel({
    n_rows: 10000, n_total: 12000, error: "", clause_text: "", filter_text: "",
    models: ["baseline", "candidate"], active_model: "baseline",
    model_a: "baseline", model_b: "candidate", task: "binary",
    cells: CLASSIFICATION_CELLS, selected_cells: [], classes: [], pred_counts: u32([]), selected_pred: [],
    metrics: [
      row("baseline", "accuracy", 0.8412),
      row("candidate", "accuracy", 0.8600, 0.0188, 0.012, 0.026, 0.00002, null),
      row("baseline", "fpr", 0.1),
      row("candidate", "fpr", 0.112, 0.012, 0.004, 0.028, 0.031, null),
      row("baseline", "precision", 0.7),
      row("candidate", "precision", 0.712, 0.012, -0.004, 0.028, null, 0.2),
    ],
    note: "",
    ...state,
  });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  return { model, el, cleanup, root: el.querySelector<HTMLElement>("[role=region]")! };
}

const cells = (el: HTMLElement) => [...el.querySelectorAll<HTMLElement>(".es-mc-agree td[role=gridcell][data-key]")];
const cellByKey = (el: HTMLElement, key: string) => el.querySelector<HTMLElement>(`td[data-key="${key}"]`)!;
const key = (target: Element, k: string, extra: KeyboardEventInit = {}) =>
  target.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...extra }));

afterEach(() => {
  document.body.replaceChildren();
});

describe("model comparer helpers", () => {
  it("formats a difference with its interval and a true minus", () => {
    expect(formatDiffInterval(0.012, -0.004, 0.028)).toBe("+0.012 [−0.004, +0.028]");
    expect(formatDiffInterval(-0.5, -0.7, -0.3)).toBe("−0.500 [−0.700, −0.300]");
    expect(formatDiffInterval(0.012, null, null)).toBe("+0.012");
    expect(formatDiffInterval(null, 0, 1)).toBe("–");
  });
  it("formats p-values", () => {
    expect(formatP(0.0312)).toBe("0.031");
    expect(formatP(0.00002)).toBe("< 0.001");
    expect(formatP(null)).toBe("–");
  });
  it("marks a difference only when its interval excludes 0, by the metric's direction", () => {
    expect(verdict("accuracy", 0.01, 0.03)).toBe("better");
    expect(verdict("accuracy", -0.03, -0.01)).toBe("worse");
    expect(verdict("fpr", 0.01, 0.03)).toBe("worse");
    expect(verdict("mae", -3, -1)).toBe("better");
    expect(verdict("accuracy", -0.01, 0.03)).toBe("");
    expect(verdict("accuracy", 0, 0.03)).toBe("");
    expect(verdict("mean_score", 0.01, 0.03)).toBe("higher");
    expect(verdict("mean_score", -0.03, -0.01)).toBe("lower");
    expect(verdict("accuracy", null, null)).toBe("");
  });
  it("selects alone, clears the whole selection when clicked again, toggles with a modifier", () => {
    const same = (x: string, y: string) => x === y;
    expect(nextSelection([], "a", false, same)).toEqual(["a"]);
    expect(nextSelection(["a"], "a", false, same)).toEqual([]);
    expect(nextSelection(["a", "b"], "a", false, same)).toEqual(["a"]);
    expect(nextSelection(["a"], "b", true, same)).toEqual(["a", "b"]);
    expect(nextSelection(["a", "b"], "a", true, same)).toEqual(["b"]);
  });
  it("names metrics", () => {
    expect(metricName("balanced_accuracy")).toBe("balanced accuracy");
    expect(metricName("mae")).toBe("MAE");
    expect(metricName("some_new_metric")).toBe("some new metric");
  });
});

describe("model comparer: binary", () => {
  it("follows the DOM contract: region, data-rows, header, cells named with their rows", () => {
    const { el, root } = setup();
    expect(root.getAttribute("aria-label")).toBe("Model comparer");
    expect(root.getAttribute("data-rows")).toBe("10000");
    expect(root.querySelector(".es-header")!.textContent).toContain("Model comparer");
    expect(root.querySelector(".es-header")!.textContent).toContain("10,000 of 12,000 rows");
    expect(el.querySelector(".es-mc-agree")!.getAttribute("role")).toBe("grid");
    expect(cells(el).map((c) => c.getAttribute("aria-label"))).toEqual([
      "both right: 8,000 rows", "only baseline right: 412 rows", "only candidate right: 600 rows", "both wrong: 988 rows",
    ]);
    // rows A right / A wrong, columns B right / B wrong
    expect(cells(el).map((c) => [c.dataset.key, c.dataset.row, c.dataset.col])).toEqual([
      ["both_right", "0", "0"], ["only_a_right", "0", "1"], ["only_b_right", "1", "0"], ["both_wrong", "1", "1"],
    ]);
    const headers = [...el.querySelectorAll(".es-mc-agree th[scope]")].map((t) => t.textContent);
    expect(headers).toEqual(["candidate right", "candidate wrong", "baseline right", "baseline wrong"]);
    expect(cellByKey(el, "only_a_right").textContent).toContain("412");
    expect(cellByKey(el, "only_a_right").textContent).toContain("4.1%");
    expect(el.querySelector(".es-mc-pred")).toBeNull();
  });

  it("shades the discordant cells: only A right in the error colour, only B right in the brand one", () => {
    const { el } = setup();
    expect(cellByKey(el, "only_a_right").style.background).toContain("--jp-error-color1");
    expect(cellByKey(el, "only_b_right").style.background).toContain("--jp-brand-color1");
    expect(cellByKey(el, "both_right").style.background).toBe("");
    expect(cellByKey(el, "only_b_right").classList.contains("es-mc-discordant")).toBe(true);
    expect(cellByKey(el, "both_wrong").classList.contains("es-mc-concordant")).toBe(true);
  });

  it("sends selections: click selects, shift-click toggles in, clicking the selection again clears", async () => {
    const { el, model } = setup();
    cellByKey(el, "only_a_right").click();
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: ["only_a_right"] });
    model.set("selected_cells", ["only_a_right"]);
    await flush();
    expect(cellByKey(el, "only_a_right").getAttribute("aria-selected")).toBe("true");
    expect(cellByKey(el, "only_b_right").getAttribute("aria-selected")).toBe("false");
    cellByKey(el, "both_wrong").dispatchEvent(new MouseEvent("click", { bubbles: true, shiftKey: true }));
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: ["only_a_right", "both_wrong"] });
    cellByKey(el, "only_a_right").dispatchEvent(new MouseEvent("click", { bubbles: true, metaKey: true }));
    expect(model.sent.at(-1)).toEqual({ type: "clear" });
    cellByKey(el, "only_a_right").click();
    expect(model.sent.at(-1)).toEqual({ type: "clear" });
    cellByKey(el, "only_b_right").click();
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: ["only_b_right"] });
  });

  it("moves with the arrow keys, selects with Enter and Space, toggles with Shift+Enter, clears with Escape; keys stay in the view", async () => {
    const { el, model } = setup({ selected_cells: ["both_right"] });
    let leaked = 0;
    el.addEventListener("keydown", () => (leaked += 1));
    const first = cellByKey(el, "both_right");
    expect(first.getAttribute("tabindex")).toBe("0");
    expect(cellByKey(el, "only_a_right").getAttribute("tabindex")).toBe("-1");
    first.focus();
    key(first, "ArrowRight");
    expect(document.activeElement).toBe(cellByKey(el, "only_a_right"));
    key(document.activeElement!, "ArrowDown");
    expect(document.activeElement).toBe(cellByKey(el, "both_wrong"));
    key(document.activeElement!, "ArrowDown"); // stays at the edge
    expect(document.activeElement).toBe(cellByKey(el, "both_wrong"));
    key(document.activeElement!, "Home");
    expect(document.activeElement).toBe(cellByKey(el, "only_b_right"));
    expect(leaked).toBe(0);
    key(document.activeElement!, "Enter");
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: ["only_b_right"] });
    key(document.activeElement!, "Enter", { shiftKey: true });
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: ["both_right", "only_b_right"] });
    key(document.activeElement!, " ");
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: ["only_b_right"] });
    expect(leaked).toBe(0);
    // a repaint keeps the focused cell
    model.set("cells", CLASSIFICATION_CELLS.map((c) => ({ ...c, count: c.count + 1 })));
    await flush();
    expect(document.activeElement).toBe(cellByKey(el, "only_b_right"));
    expect(cellByKey(el, "only_b_right").getAttribute("aria-label")).toBe("only candidate right: 601 rows");
    key(document.activeElement!, "Escape");
    expect(model.sent.at(-1)).toEqual({ type: "clear" });
  });

  it("picks the pair: each side sends `pair`, choosing the other side's model swaps them", () => {
    const { el, model } = setup({ models: ["baseline", "candidate", "third"] });
    const pickA = el.querySelector<HTMLSelectElement>("select[aria-label='Model A']")!;
    const pickB = el.querySelector<HTMLSelectElement>("select[aria-label='Model B']")!;
    expect(pickA.closest("label")!.textContent).toContain("Model A");
    expect([...pickA.options].map((o) => o.value)).toEqual(["baseline", "candidate", "third"]);
    expect(pickA.value).toBe("baseline");
    expect(pickB.value).toBe("candidate");
    pickB.value = "third";
    pickB.dispatchEvent(new Event("change"));
    expect(model.sent.at(-1)).toEqual({ type: "pair", a: "baseline", b: "third" });
    pickB.value = "baseline";
    pickB.dispatchEvent(new Event("change"));
    expect(model.sent.at(-1)).toEqual({ type: "pair", a: "candidate", b: "baseline" });
    pickA.value = "candidate";
    pickA.dispatchEvent(new Event("change"));
    expect(model.sent.at(-1)).toEqual({ type: "pair", a: "candidate", b: "baseline" });
    pickA.value = "third";
    pickA.dispatchEvent(new Event("change"));
    expect(model.sent.at(-1)).toEqual({ type: "pair", a: "third", b: "candidate" });
  });

  it("keeps the pair pickers (and their focus) across repaints; their keys stay in them", async () => {
    const { el, model } = setup();
    const pickB = el.querySelector<HTMLSelectElement>("select[aria-label='Model B']")!;
    pickB.focus();
    let leaked = 0;
    el.addEventListener("keydown", () => (leaked += 1));
    key(pickB, "ArrowDown");
    key(pickB, "Escape");
    expect(leaked).toBe(0);
    expect(model.sent).toEqual([]);
    model.set("model_a", "candidate");
    model.set("model_b", "baseline");
    await flush();
    expect(el.querySelector("select[aria-label='Model B']")).toBe(pickB);
    expect(document.activeElement).toBe(pickB);
    expect(pickB.value).toBe("baseline");
  });

  it("tabulates the metrics: a value per model, the difference from A with its interval, p and the mark", () => {
    const { el } = setup();
    const table = el.querySelector<HTMLTableElement>("table.es-mc-metrics")!;
    expect(table.closest(".es-scroll")).not.toBeNull();
    expect(table.caption!.textContent).toBe("Metrics by model, and each model's difference from baseline (A)");
    const groupHeads = [...table.querySelectorAll("th[scope=colgroup]")].map((t) => t.textContent);
    expect(groupHeads).toEqual(["baseline (A)", "candidate"]);
    expect([...table.querySelectorAll("thead tr:last-child th")].map((t) => [t.textContent, t.getAttribute("scope")])).toEqual([
      ["value", "col"], ["value", "col"], ["difference from baseline [95% interval]", "col"], ["p", "col"],
    ]);
    const bodyRows = [...table.querySelectorAll("tbody tr")];
    expect(bodyRows.map((r) => r.querySelector("th[scope=row]")!.textContent)).toEqual(["accuracy", "false positive rate", "precision"]);
    expect(bodyRows.map((r) => [...r.querySelectorAll("td")].map((c) => c.textContent))).toEqual([
      ["0.841", "0.860", "+0.019 [+0.012, +0.026] better", "< 0.001"],
      ["0.100", "0.112", "+0.012 [+0.004, +0.028] worse", "0.031"],
      ["0.700", "0.712", "+0.012 [−0.004, +0.028]", "0.200"],
    ]);
    expect(bodyRows[0]!.querySelector("td[data-col=p]")!.getAttribute("title")).toBe("McNemar's exact test");
    expect(bodyRows[2]!.querySelector("td[data-col=p]")!.getAttribute("title")).toBe("paired t-test");
    expect(bodyRows[1]!.querySelector("td[data-col=diff]")!.getAttribute("data-verdict")).toBe("worse");
    expect(bodyRows[2]!.querySelector("td[data-col=diff]")!.hasAttribute("data-verdict")).toBe(false);
  });

  it("shows the note only when there is one", async () => {
    const { el, model } = setup();
    const note = el.querySelector<HTMLElement>(".es-mc [role=note]")!;
    expect(note.hidden).toBe(true);
    model.set("note", "No p-values: the selection is defined by the models' correctness.");
    await flush();
    expect(note.hidden).toBe(false);
    expect(note.textContent).toBe("No p-values: the selection is defined by the models' correctness.");
  });

  it("renders hostile names as text", () => {
    const { el } = setup({
      models: ["<img src=x onerror=alert(1)>", "<b>b</b>"], model_a: "<img src=x onerror=alert(1)>", model_b: "<b>b</b>",
      cells: CLASSIFICATION_CELLS.map((c) => ({ ...c, label: `<i>${c.label}</i>` })),
      metrics: [row("<img src=x onerror=alert(1)>", "<b>m</b>", 1), row("<b>b</b>", "<b>m</b>", 2, 1, 0.5, 1.5)],
    });
    expect(el.querySelector("img, b, i")).toBeNull();
    expect(el.textContent).toContain("<img src=x");
    expect(cellByKey(el, "only_a_right").getAttribute("aria-label")).toBe("<i>only baseline right</i>: 412 rows");
  });
});

describe("model comparer: multiclass", () => {
  const classes = ["cat", "dog", "a bird with a very long class name", "fish", "horse"];
  const k = classes.length;
  // A's prediction (row) x B's prediction (column)
  const counts = Array.from({ length: k * k }, (_, i) => (Math.floor(i / k) === i % k ? 100 : i));

  it("draws A's predictions against B's as a clickable k x k grid in its own scrolling box", () => {
    const { el } = setup({ task: "multiclass", classes, pred_counts: u32(counts) });
    const grid = el.querySelector<HTMLElement>("table.es-mc-pred")!;
    expect(grid.getAttribute("role")).toBe("grid");
    expect(grid.closest(".es-scroll")).not.toBeNull();
    const pcells = [...grid.querySelectorAll<HTMLElement>("td[role=gridcell]")];
    expect(pcells.length).toBe(25);
    expect(pcells[1]!.getAttribute("aria-label")).toBe("baseline predicted cat, candidate predicted dog: 1 rows");
    expect(pcells[7]!.getAttribute("aria-label")).toBe("baseline predicted dog, candidate predicted a bird with a very long class name: 7 rows");
    expect(pcells[6]!.textContent).toBe("100");
    const colHead = grid.querySelectorAll<HTMLElement>("th[scope=col]")[2]!;
    expect(colHead.textContent).toBe("a bird with a ver…");
    expect(colHead.title).toBe("a bird with a very long class name");
    expect(grid.querySelectorAll("th[scope=row]").length).toBe(5);
    expect(cells(el).length).toBe(4); // the agreement cells stay
  });

  it("sends select_pred for its cells: click, shift-click, Enter; clicking the selection again clears", async () => {
    const { el, model } = setup({ task: "multiclass", classes, pred_counts: u32(counts) });
    const pcell = (i: number, j: number) => el.querySelector<HTMLElement>(`table.es-mc-pred td[data-row="${i}"][data-col="${j}"]`)!;
    pcell(1, 3).click();
    expect(model.sent.at(-1)).toEqual({ type: "select_pred", cells: [[1, 3]] });
    model.set("selected_pred", [[1, 3]]);
    await flush();
    expect(pcell(1, 3).getAttribute("aria-selected")).toBe("true");
    pcell(2, 0).dispatchEvent(new MouseEvent("click", { bubbles: true, ctrlKey: true }));
    expect(model.sent.at(-1)).toEqual({ type: "select_pred", cells: [[1, 3], [2, 0]] });
    pcell(1, 3).click();
    expect(model.sent.at(-1)).toEqual({ type: "clear" });
    const first = pcell(0, 0);
    first.focus();
    key(first, "End");
    expect(document.activeElement).toBe(pcell(0, 4));
    key(document.activeElement!, "ArrowDown");
    expect(document.activeElement).toBe(pcell(1, 4));
    key(document.activeElement!, "Enter");
    expect(model.sent.at(-1)).toEqual({ type: "select_pred", cells: [[1, 4]] });
    key(document.activeElement!, "Enter", { shiftKey: true });
    expect(model.sent.at(-1)).toEqual({ type: "select_pred", cells: [[1, 3], [1, 4]] });
  });

  it("abbreviates harder with many classes", () => {
    const many = Array.from({ length: 20 }, (_, i) => `class number ${i} with a long name`);
    const { el } = setup({ task: "multiclass", classes: many, pred_counts: u32(new Array(400).fill(3)) });
    const grid = el.querySelector<HTMLElement>("table.es-mc-pred")!;
    expect(grid.classList.contains("es-compact")).toBe(true);
    expect(grid.querySelector("th[scope=col]")!.textContent).toBe("class num…");
    expect(grid.querySelectorAll("td[role=gridcell]").length).toBe(400);
  });
});

describe("model comparer: regression", () => {
  const regressionState = {
    task: "regression",
    cells: [
      { key: "a_better", label: "baseline better", count: 5200 },
      { key: "tie", label: "tie", count: 300 },
      { key: "b_better", label: "candidate better", count: 4500 },
    ],
    metrics: [
      row("baseline", "mae", 12.5),
      row("candidate", "mae", 11.25, -1.25, -2.5, -0.125, null, 0.0004),
      row("baseline", "r2", 0.81),
      row("candidate", "r2", 0.8, -0.01, -0.03, 0.01, null, 0.4),
    ],
  };

  it("shows three cells (A better, tie, B better) in one row, keyboard reachable", () => {
    const { el, model } = setup(regressionState);
    expect(cells(el).map((c) => [c.getAttribute("aria-label"), c.dataset.row, c.dataset.col])).toEqual([
      ["baseline better: 5,200 rows", "0", "0"], ["tie: 300 rows", "0", "1"], ["candidate better: 4,500 rows", "0", "2"],
    ]);
    expect(cellByKey(el, "a_better").style.background).toContain("--jp-error-color1");
    expect(cellByKey(el, "b_better").style.background).toContain("--jp-brand-color1");
    const first = cellByKey(el, "a_better");
    first.focus();
    key(first, "ArrowRight");
    key(document.activeElement!, "ArrowRight");
    key(document.activeElement!, "ArrowRight");
    expect(document.activeElement).toBe(cellByKey(el, "b_better"));
    key(document.activeElement!, " ");
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: ["b_better"] });
    expect(el.querySelector(".es-mc-pred")).toBeNull();
  });

  it("tabulates errors in their units with the paired t-test's p and the direction of MAE", () => {
    const { el } = setup(regressionState);
    const bodyRows = [...el.querySelectorAll("table.es-mc-metrics tbody tr")];
    expect(bodyRows.map((r) => r.querySelector("th")!.textContent)).toEqual(["MAE", "R²"]);
    expect(bodyRows.map((r) => [...r.querySelectorAll("td")].map((c) => c.textContent))).toEqual([
      ["12.5", "11.25", "−1.25 [−2.5, −0.125] better", "< 0.001"],
      ["0.810", "0.800", "−0.010 [−0.030, +0.010]", "0.400"],
    ]);
  });
});

describe("model comparer: active-model picker", () => {
  it("shows the shared picker first in the view", () => {
    const { root, model } = setup();
    const picker = root.querySelector<HTMLSelectElement>("select[aria-label='Active model']")!;
    expect(root.firstElementChild).toBe(picker.closest("label"));
    picker.value = "candidate";
    picker.dispatchEvent(new Event("change"));
    expect(model.sent.at(-1)).toEqual({ type: "active_model", model: "candidate" });
  });
});
