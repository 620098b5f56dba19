import { afterEach, describe, expect, it } from "vitest";
import widget, { formatDifference, formatP, formatTimes, formatValue, readSlicePage } from "../src/slice_browser";
import { f64, MockModel, u32 } from "./mock";

const i32 = (xs: number[]): DataView => new DataView(new Int32Array(xs).buffer);
const EVIL = "<img src=x onerror=alert(1)>";

function page(features: string[], slices: string[]) {
  const n = features.length;
  const fill = (x: number) => f64(new Array(n).fill(x));
  return {
    feature: features, slice: slices, description: features.map((f, i) => `${f} = ${slices[i]}`),
    key: i32(features.map((_, i) => 10 + i)), size: u32(features.map((_, i) => 100 * (i + 1))), errors: u32(new Array(n).fill(5)),
    share: fill(0.1), value: fill(0.25), rest: fill(0.1), difference: fill(0.15), ratio: fill(2.5),
    ci_low: fill(0.2), ci_high: fill(0.3), p_adjusted: fill(0.0001), lift: fill(2.5),
  };
}

function setup(overrides: Record<string, unknown> = {}) {
  const model = new MockModel({
    n_rows: 1000, n_total: 2000, filter_text: "", clause_text: "", tab: "slices", metric: "error_rate",
    metrics: [["error_rate", "error rate"], ["log_loss", "log loss"]], sort_by: "value", descending: true,
    page: 0, page_size: 2, n_slices: 3, feature_filter: "", slice_page: page(["sex", EVIL], ["Female", "</script>"]),
    selected_slices: [11], discovered: {}, selected_discovered: [], discovery_status: "idle", discovery_progress: 0,
    row_order: "loss", rows_page: 0, rows_page_size: 10, n_selected: 0, rows: {}, comparison: {},
    ...overrides,
  });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  return { model, el, cleanup };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
afterEach(() => document.body.replaceChildren());

describe("slice browser helpers", () => {
  it("formats values, differences and p-values", () => {
    expect(formatValue("error_rate", 0.1234)).toBe("12.3%");
    expect(formatValue("log_loss", 0.1234)).toBe("0.123");
    expect(formatDifference("fpr", -0.05)).toBe("−5.0 pp");
    expect(formatDifference("log_loss", 0.5)).toBe("+0.500");
    expect(formatP(0.0000001)).toBe("<0.001");
    expect(formatP(NaN)).toBe("–");
    expect(formatTimes(2.5)).toBe("2.50×");
    expect(formatTimes(NaN)).toBe("–");
  });
  it("decodes a page of slices from buffers", () => {
    const p = readSlicePage(page(["a"], ["x"]));
    expect(Array.from(p.key)).toEqual([10]);
    expect(Array.from(p.size)).toEqual([100]);
    expect(p.ratio[0]).toBe(2.5);
  });
});

describe("slice browser rendering", () => {
  it("is a labelled region with data-rows, named rows and markup kept as text", () => {
    const { el } = setup();
    const root = el.querySelector('[role="region"]')!;
    expect(root.getAttribute("aria-label")).toBe("Slice browser");
    expect(root.getAttribute("data-rows")).toBe("1000");
    const rows = el.querySelectorAll('table[aria-label="Slices"] tbody tr[data-key]');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.getAttribute("aria-label")).toBe("sex = Female: 100 rows, error rate 25.0%");
    expect(rows[1]!.getAttribute("aria-selected")).toBe("true");
    expect(rows[1]!.textContent).toContain(EVIL);
    expect(el.querySelector("img, script")).toBeNull();
    expect(el.textContent).toContain("Page 1 of 2");
  });
  it("sends a selection on click, additive with a modifier, and clears on Escape", () => {
    const { el, model } = setup();
    const rows = el.querySelectorAll<HTMLElement>('table[aria-label="Slices"] tbody tr[data-key]');
    rows[0]!.click();
    rows[1]!.dispatchEvent(new MouseEvent("click", { bubbles: true, shiftKey: true }));
    rows[0]!.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(model.sent).toEqual([
      { type: "select_slice", key: 10, additive: false },
      { type: "select_slice", key: 11, additive: true },
      { type: "clear" },
    ]);
  });
  it("sorts by a header and pages", async () => {
    const { el, model } = setup();
    el.querySelector<HTMLButtonElement>('button[aria-label="Sort by Rows"]')!.click();
    expect(model.get("sort_by")).toBe("size");
    await flush();
    el.querySelector<HTMLButtonElement>('button[aria-label="Next page of slices"]')!.click();
    expect(model.get("page")).toBe(1);
  });
  it("shows discovery progress and the rows tab", async () => {
    const { el, model } = setup({ tab: "discovered", discovery_status: "running", discovery_progress: 0.42 });
    expect(el.querySelector('[role="progressbar"]')!.getAttribute("aria-valuenow")).toBe("42");
    expect(el.querySelector('[role="status"]')!.textContent).toBe("Searching… 42%");
    model.set("rows", { columns: ["id", "actual", "predicted"], cells: [["7", "a", "b"]], wrong: new DataView(new Uint8Array([1]).buffer), start: 0 });
    model.set("n_selected", 1);
    model.set("tab", "rows");
    await flush();
    const row = el.querySelector('table[aria-label="Rows in the selection"] tbody tr')!;
    expect(row.getAttribute("aria-label")).toBe("row 7: actual a, predicted b (wrong)");
  });
  it("lists outcome slices in their own group, small ones muted, and says when it ranks by lift", () => {
    const u8 = (xs: number[]): DataView => new DataView(new Uint8Array(xs).buffer);
    const slices = { ...page(["sex", "actual"], ["Female", ">50K"]), outcome: u8([0, 1]), supported: u8([1, 0]) };
    const { el } = setup({ slice_page: slices, outcome_selection: true, sort_by: "lift", min_rows: 82 });
    const body = Array.from(el.querySelectorAll('table[aria-label="Slices"] tbody tr'));
    expect(body.map((r) => r.getAttribute("data-key") ?? r.textContent)).toEqual([
      "Feature slices", "10", "Model output, classes and tags (apart: they top an error ranking by construction)", "11",
    ]);
    expect(body[3]!.className).toBe("es-small");
    expect(body[3]!.getAttribute("title")).toBe("Fewer than 82 rows: ranked after the others");
    expect(body[1]!.textContent).toContain("2.50×");
    expect(el.querySelector('[role="note"]')!.textContent).toMatch(/^Selection is defined by the outcome: ranking by lift/);
    expect(el.querySelector('button[aria-label="Sort by Lift"]')!.closest("th")!.getAttribute("aria-sort")).toBe("descending");
  });
  it("makes the header row one Tab stop, moves with arrows and keeps handled keys from the notebook", () => {
    const { el, model } = setup();
    const leaked: string[] = [];
    document.body.addEventListener("keydown", (e) => leaked.push(e.key));
    const buttons = Array.from(el.querySelectorAll<HTMLButtonElement>('table[aria-label="Slices"] thead button'));
    expect(buttons.filter((b) => b.getAttribute("tabindex") === "0").map((b) => b.getAttribute("aria-label"))).toEqual(["Sort by Error rate"]);
    const press = (key: string): void => {
      (document.activeElement as HTMLElement).dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
    };
    buttons[4]!.focus();
    press("ArrowRight");
    expect(document.activeElement!.getAttribute("aria-label")).toBe("Sort by Rest");
    expect(buttons.filter((b) => b.getAttribute("tabindex") === "0")).toEqual([buttons[5]]);
    press("ArrowLeft");
    press("ArrowLeft");
    expect(document.activeElement!.getAttribute("aria-label")).toBe("Sort by Share");
    press("Enter");
    expect(model.get("sort_by")).toBe("share");
    press("ArrowDown");
    expect(document.activeElement!.getAttribute("data-key")).toBe("10");
    press("ArrowDown");
    expect(document.activeElement!.getAttribute("data-key")).toBe("11");
    expect(leaked).toEqual([]);
  });
});

describe("slice browser on a regression", () => {
  it("formats means in the target's units and signed differences", () => {
    expect(formatValue("mae", 32.424955)).toBe("32.42");
    expect(formatValue("rmse", 1234.56)).toBe("1235");
    expect(formatValue("mean_error", -0.0123456)).toBe("−0.01235");
    expect(formatDifference("mean_error", 4.8787)).toBe("+4.879");
    expect(formatDifference("mae", -14.03)).toBe("−14.03");
    expect(formatTimes(-3.41)).toBe("−3.41×");
  });
  it("shows the regression columns (no lift), residual orders and actual/predicted/residual rows", async () => {
    const slices = page(["education", "residual"], ["5. Advanced Degree", "< -29.16"]);
    const { el, model } = setup({
      task: "regression", metric: "mae", metrics: [["mae", "mean absolute error"], ["rmse", "root mean squared error"], ["mean_error", "mean residual"]],
      slice_page: { ...slices, errors: undefined, lift: undefined, value: f64([32.42, 61.2]), outcome: new DataView(new Uint8Array([0, 1]).buffer) },
    });
    const headers = Array.from(el.querySelectorAll("thead th")).map((t) => t.textContent);
    expect(headers).toEqual(["Feature", "Slice", "Rows", "Share", "MAE ▾", "Rest", "Difference", "Ratio", "p (BH)"]);
    const first = el.querySelector('tr[data-key="10"]')!;
    expect(first.getAttribute("aria-label")).toBe("education = 5. Advanced Degree: 100 rows, mean absolute error 32.42");
    expect(first.children).toHaveLength(9);
    model.set("rows", { columns: ["id", "actual", "predicted", "residual"], cells: [["4", "318.3", "112.0", "−206.4"]], wrong: new DataView(new Uint8Array([0]).buffer), start: 0 });
    model.set("tab", "rows");
    await flush();
    const order = el.querySelector<HTMLSelectElement>('select[aria-label="Order rows by"]')!;
    expect(Array.from(order.options).map((o) => o.value)).toEqual(["loss", "over_prediction", "under_prediction", "stratified_random", "id"]);
    expect(el.querySelector("tbody tr")!.getAttribute("aria-label")).toBe("row 4: actual 318.3, predicted 112.0, residual −206.4");
  });
});

describe("slice browser repaints", () => {
  it("keep the filter being typed when a repaint arrives before it is sent", async () => {
    const { el, model } = setup();
    const filter = el.querySelector<HTMLInputElement>('input[aria-label="Filter slices by feature"]')!;
    filter.focus();
    filter.value = "edu";
    filter.dispatchEvent(new Event("input"));
    model.set("n_slices", 4); // the kernel's answer to something else, within the debounce
    await flush();
    const again = el.querySelector<HTMLInputElement>('input[aria-label="Filter slices by feature"]')!;
    expect(again).not.toBe(filter);
    expect(again.value).toBe("edu");
    expect(document.activeElement).toBe(again);
  });
});

describe("slice browser models tab", () => {
  const u8 = (xs: number[]): DataView => new DataView(new Uint8Array(xs).buffer);
  const slices = {
    feature: ["age", "sex", "predicted"], slice: ["≥ 61", EVIL, "1"], description: ["age ≥ 61", `sex = ${EVIL}`, "predicted = 1"],
    key: i32([3, 4, 24]), rows: u32([2400, 3041, 2970]), only_a_right: u32([689, 757, 520]), only_b_right: u32([219, 333, 337]),
    a: f64([0.1467, 0.1552, 0.148]), b: f64([0.3425, 0.2946, 0.209]), diff: f64([0.1958, 0.1394, 0.061]),
    p_value: f64([1e-50, 0.2, NaN]), q: f64([1e-49, 0.2, NaN]), tested: u8([1, 1, 0]), supported: u8([1, 1, 1]),
  };
  const found = {
    slice: ["age ≥ 61, sex = Female"], level: u32([2]), size: u32([1192]), b_worse: u32([564]),
    value: f64([0.473]), rest: f64([0.105]), score: f64([1.12]), p_adjusted: f64([1e-9]), q_b_worse: f64([1e-8]),
  };
  const models = (overrides: Record<string, unknown> = {}) =>
    setup({ tab: "models", models: ["base", "cand"], model_a: "base", model_b: "cand", model_slices: slices, model_note: "",
      regressions: {}, selected_regressions: [], regressions_status: "idle", regressions_progress: 0, selected_slices: [4], ...overrides });

  it("shows the Models tab only with several models", () => {
    const { el } = setup();
    expect(Array.from(el.querySelectorAll('[role="tab"]'), (t) => t.textContent)).not.toContain("Models");
    const { el: several } = models();
    expect(Array.from(several.querySelectorAll('[role="tab"]'), (t) => t.textContent)).toContain("Models");
    expect(several.querySelector('[role="tab"][aria-selected="true"]')!.textContent).toBe("Models");
  });
  it("lists each slice with both models, the difference and q, named with its rows; markup stays text", () => {
    const { el } = models();
    const table = el.querySelector('table[aria-label="Slices, base against cand: 3 slices"]')!;
    const rows = table.querySelectorAll<HTMLElement>("tbody tr[data-key]");
    expect(rows).toHaveLength(3);
    expect(rows[0]!.getAttribute("aria-label")).toBe("age ≥ 61: 2,400 rows, base 14.7%, cand 34.3%, B − A +19.6 pp, q <0.001");
    expect(rows[0]!.className).toContain("es-worse");
    expect(rows[1]!.getAttribute("aria-selected")).toBe("true");
    expect(rows[1]!.textContent).toContain(EVIL);
    expect(rows[2]!.getAttribute("aria-label")).toContain("p not tested");
    expect(el.querySelector("img, script")).toBeNull();
    expect(table.closest(".es-scroll")!.classList.contains("es-scroll-tall")).toBe(true);
  });
  it("selects a slice by click and keyboard, keeps handled keys from the notebook, and swaps the pair", () => {
    const { el, model } = models();
    const leaked: string[] = [];
    document.body.addEventListener("keydown", (e) => leaked.push(e.key));
    const rows = el.querySelectorAll<HTMLElement>('table[aria-label^="Slices, base"] tbody tr[data-key]');
    rows[0]!.click();
    rows[0]!.focus();
    rows[0]!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    expect(document.activeElement).toBe(rows[1]);
    rows[1]!.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, shiftKey: true }));
    const pickB = el.querySelector<HTMLSelectElement>('select[aria-label="Model B"]')!;
    expect(el.querySelector<HTMLSelectElement>('select[aria-label="Model A"]')!.value).toBe("base");
    pickB.value = "base";
    pickB.dispatchEvent(new Event("change"));
    expect(model.sent).toEqual([
      { type: "select_slice", key: 3, additive: false },
      { type: "select_slice", key: 4, additive: true },
      { type: "pair", a: "cand", b: "base" },
    ]);
    expect(leaked).toEqual([]);
  });
  it("finds where B is worse: the button, progress, the found slices clickable, and the withheld note", async () => {
    const { el, model } = models({ model_note: "No p-values: the rows are chosen by predicted[a] != actual." });
    expect(el.querySelector('[role="note"]')!.textContent).toContain("No p-values");
    el.querySelector<HTMLButtonElement>('button[data-focus="discover-regressions"]')!.click();
    expect(el.querySelector('button[data-focus="discover-regressions"]')!.textContent).toBe("Find where cand is worse");
    model.set("regressions_status", "running");
    model.set("regressions_progress", 0.5);
    await flush();
    expect(el.querySelector('[aria-label="Search progress"]')!.getAttribute("aria-valuenow")).toBe("50");
    model.set("regressions", found);
    model.set("regressions_status", "done");
    model.set("selected_regressions", [0]);
    await flush();
    const row = el.querySelector<HTMLElement>('table[aria-label="Where cand is worse than base: 1 slice"] tbody tr')!;
    expect(row.getAttribute("aria-label")).toBe("age ≥ 61, sex = Female: 1,192 rows, cand worse on 47.3%, held-out q <0.001");
    expect(row.getAttribute("aria-selected")).toBe("true");
    row.click();
    expect(model.sent).toEqual([{ type: "discover_regressions" }, { type: "select_regression", index: 0, additive: false }]);
  });
});
