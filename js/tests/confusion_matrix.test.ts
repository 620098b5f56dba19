import { afterEach, describe, expect, it } from "vitest";
import widget, { cellValue, classOrder } from "../src/confusion_matrix";
import { f64, MockModel, u32 } from "./mock";

function setup(classes = ["<=50K", ">50K"], counts = [90, 10, 30, 70]) {
  const model = new MockModel({
    classes, counts: u32(counts), precision: f64([0.75, 0.875]), recall: f64([0.9, 0.7]), f1: f64([0.8, 0.78]),
    support: u32([100, 100]), accuracy: 0.8, n_rows: 200, n_total: 300, normalize: "none", order: "class",
    selected: { cells: [], actual: [], predicted: [] }, clause_text: "", filter_text: "", show_threshold: true, threshold: 0.5,
  });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  return { model, el, cleanup };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => {
  document.body.replaceChildren();
});

describe("confusion matrix helpers", () => {
  it("normalises by row and column", () => {
    const c = new Uint32Array([90, 10, 30, 70]);
    expect(cellValue(c, 2, 1, 0, "none")).toBe(30);
    expect(cellValue(c, 2, 1, 0, "recall")).toBeCloseTo(0.3);
    expect(cellValue(c, 2, 1, 0, "precision")).toBeCloseTo(0.25);
  });
  it("orders classes by errors", () => {
    expect(classOrder(new Uint32Array([90, 10, 30, 70]), 2, "errors")).toEqual([1, 0]);
    expect(classOrder(new Uint32Array([90, 10, 30, 70]), 2, "class")).toEqual([0, 1]);
  });
});

describe("confusion matrix widget", () => {
  it("follows the DOM contract", () => {
    const { el } = setup();
    const root = el.querySelector("[role=region]")!;
    expect(root.getAttribute("aria-label")).toBe("Confusion matrix");
    expect(root.getAttribute("data-rows")).toBe("200");
    const cells = [...el.querySelectorAll("td.es-cell")].map((c) => c.getAttribute("aria-label"));
    expect(cells).toEqual([
      "actual <=50K, predicted <=50K: 90 rows", "actual <=50K, predicted >50K: 10 rows",
      "actual >50K, predicted <=50K: 30 rows", "actual >50K, predicted >50K: 70 rows",
    ]);
    expect(el.querySelector("[role=slider], input[aria-label='Decision threshold']")).not.toBeNull();
  });

  it("keeps one threshold slider across repaints: previews while dragging, commits on release and Enter", async () => {
    const { el, model } = setup();
    const slider = el.querySelector<HTMLInputElement>("input[aria-label='Decision threshold']")!;
    const box = el.querySelector<HTMLInputElement>("input[aria-label='Decision threshold value']")!;
    slider.value = "0.3";
    slider.dispatchEvent(new Event("input"));
    expect(box.value).toBe("0.3");
    expect(model.get("threshold")).toBe(0.5); // no commit (and no repaint) mid-drag
    slider.dispatchEvent(new Event("change"));
    expect(model.get("threshold")).toBe(0.3);
    model.set("counts", u32([80, 20, 20, 80]));
    await flush();
    expect(el.querySelector("input[aria-label='Decision threshold']")).toBe(slider);
    box.value = "0.7";
    const key = new KeyboardEvent("keydown", { key: "Enter", bubbles: true });
    let leaked = false;
    el.addEventListener("keydown", () => (leaked = true));
    box.dispatchEvent(key);
    expect(model.get("threshold")).toBe(0.7);
    expect(leaked).toBe(false);
  });

  it("shows recall and precision percentages when asked", async () => {
    const { el, model } = setup();
    model.set("normalize", "recall");
    await flush();
    expect([...el.querySelectorAll("td.es-cell")].map((c) => c.textContent)).toEqual(["90.0%", "10.0%", "30.0%", "70.0%"]);
    model.set("normalize", "precision");
    await flush();
    expect([...el.querySelectorAll("td.es-cell")].map((c) => c.textContent)).toEqual(["75.0%", "12.5%", "25.0%", "87.5%"]);
  });

  it("sends selections: click replaces, shift-click adds, headers select classes, Escape clears", async () => {
    const { el, model } = setup();
    const cell = (i: number) => el.querySelectorAll<HTMLElement>("td.es-cell")[i]!;
    cell(2).click();
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: [[1, 0]], actual: [], predicted: [] });
    model.set("selected", { cells: [[1, 0]], actual: [], predicted: [] });
    await flush();
    expect(cell(2).getAttribute("aria-selected")).toBe("true");
    cell(1).dispatchEvent(new MouseEvent("click", { bubbles: true, shiftKey: true }));
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: [[1, 0], [0, 1]], actual: [], predicted: [] });
    el.querySelector<HTMLButtonElement>("th[role=rowheader] button")!.click();
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: [], actual: [0], predicted: [] });
    cell(0).dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(model.sent.at(-1)).toEqual({ type: "clear" });
  });

  it("moves focus with arrows and selects with Enter", () => {
    const { el, model } = setup();
    const first = el.querySelectorAll<HTMLElement>("td.es-cell")[0]!;
    first.focus();
    first.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    const focused = document.activeElement as HTMLElement;
    expect(focused.getAttribute("aria-label")).toMatch(/^actual >50K, predicted <=50K/);
    focused.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.sent.at(-1)).toEqual({ type: "select", cells: [[1, 0]], actual: [], predicted: [] });
  });

  it("stays compact and abbreviates labels with 50 classes", () => {
    const k = 50;
    const classes = Array.from({ length: k }, (_, i) => `class number ${i} with a long name`);
    const counts = Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 100 : 1));
    const { el } = setup(classes, counts);
    expect(el.querySelectorAll("td.es-cell").length).toBe(k * k);
    expect(el.querySelector("table")!.classList.contains("es-compact")).toBe(true);
    const header = el.querySelector<HTMLButtonElement>("th[role=columnheader] button")!;
    expect(header.textContent).toBe("class num…");
    expect(header.title).toBe("class number 0 with a long name");
    expect(header.getAttribute("aria-label")).toBe("predicted class number 0 with a long name: 149 rows");
  });

  it("renders hostile class names as text", () => {
    const { el } = setup(["<img src=x onerror=alert(1)>", "</script><b>x</b>"]);
    expect(el.querySelector("img, b")).toBeNull();
    expect(el.textContent).toContain("<img src=x");
  });
});
