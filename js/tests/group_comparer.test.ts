import { afterEach, describe, expect, it } from "vitest";
import widget, { barPlacement, modelsByGroup, pointName, tradeoffChart } from "../src/group_comparer";
import { formatInterval, formatMetric, formatPercent } from "../src/lib/format";
import { f64, MockModel, u32 } from "./mock";

const EVIL = "<img src=x onerror=alert(1)>";
const u8 = (xs: number[]): DataView => new DataView(new Uint8Array(xs).buffer);

function setup() {
  const model = new MockModel({
    groups: { labels: [EVIL, "B"], count: u32([100, 20]), share: f64([0.83, 0.17]), small: u8([0, 1]), selection_rate: f64([0.5, 0.25]), selection_rate_low: f64([0.4, 0.1]), selection_rate_high: f64([0.6, 0.5]) },
    metric: "selection_rate", positive: "1", class_names: ["0", "1"], reference: "", selected_groups: [1],
    disparity: { reference: 0, four_fifths: u8([0, 1]), disparate_impact: f64([1, 0.5]) }, summary_values: { demographic_parity_ratio: 0.5 },
    distributions: {}, representation_table: {}, thresholds: {}, what_if: {}, can_threshold: false, n_rows: 120, clause_text: "", filter_text: "", group_columns: ["race"], min_size: 30, reference_label: "A (largest group overall)", outcome_filter: "", lift_table: {},
  });
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  return { model, el };
}

afterEach(() => document.body.replaceChildren());

describe("group comparer", () => {
  it("formats a value with its interval, negatives with a true minus sign", () => {
    expect(formatInterval(0.5, 0.4, 0.6, (x) => x.toFixed(1))).toBe("0.5 (0.4 to 0.6)");
    expect(formatInterval(-0.135, -0.236, -0.009)).toBe("\u22120.135 (\u22120.236 to \u22120.009)");
    expect(formatInterval(NaN, 0.4, 0.6, (x) => x.toFixed(1))).toBe("–");
    expect(formatInterval(0.2, NaN, 0.6)).toBe("0.200");
    expect(formatMetric(-0.5)).toBe("\u22120.500");
    expect(formatPercent(-0.25)).toBe("\u221225.0%");
  });
  it("names groups with their size, flags small ones and four-fifths, and selects on click", () => {
    const { el, model } = setup();
    expect(el.querySelector('[role="region"]')!.getAttribute("data-rows")).toBe("120");
    const buttons = Array.from(el.querySelectorAll<HTMLButtonElement>(".es-group-bars button"));
    expect(buttons.map((b) => b.getAttribute("aria-label"))).toEqual([
      `${EVIL}: 100 rows, selection rate 50.0%`,
      "B: 20 rows, selection rate 25.0%, small group",
    ]);
    expect(buttons[1]!.getAttribute("aria-pressed")).toBe("true");
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toContain("0.500 (below four-fifths)");
    buttons[0]!.click();
    expect(model.sent).toEqual([{ type: "select_group", index: 0, additive: false }]);
  });
  it("shows the reference it measures against, and ranks groups by lift when the filter is the outcome", async () => {
    const { el, model } = setup();
    expect(el.querySelector('[data-testid="reference"]')!.textContent).toBe("disparities against A (largest group overall)");
    expect(el.querySelector('[aria-label="Lift by group"]')).toBeNull();
    model.set("lift_table", { share_of_filter: f64([0.4, 0.6]), share_of_all: f64([0.83, 0.17]), lift: f64([0.48, 3.5]), lift_low: f64([0.4, 3.0]), lift_high: f64([0.6, 4.0]) });
    model.set("outcome_filter", "actual = 0, predicted = 1");
    await Promise.resolve();
    const rows = Array.from(el.querySelectorAll('[aria-label="Lift by group"] tbody tr')).map((r) => r.textContent);
    expect(rows).toEqual(["B60.0%17.0%3.50× (3.00× to 4.00×)", `${EVIL}40.0%83.0%0.48× (0.40× to 0.60×)`]);
    expect(el.querySelector('[role="note"]')!.textContent).toContain("defined by the outcome (actual = 0, predicted = 1)");
  });
  it("on a regression: metrics in the target's units, no positive class, the Welch test and the mean residual by actual", () => {
    const model = new MockModel({
      task: "regression", metric: "mean_error", positive: "", class_names: [], reference: "", selected_groups: [], thresholds: {}, what_if: {}, can_threshold: false,
      groups: { labels: [EVIL, "B"], count: u32([100, 20]), share: f64([0.83, 0.17]), small: u8([0, 1]), mae: f64([22.28, 20.6]), mean_error: f64([-1.5, 4.38]), mean_error_low: f64([-3, 0.65]), mean_error_high: f64([0.1, 8.1]),
        mean_error_rest: f64([4.38, -1.5]), mean_error_p_value: f64([0.02, 0.02]), mean_error_p_adjusted: f64([0.04, 0.04]) },
      disparity: { reference: 0, mae_difference: f64([0, -1.68]), mae_ratio: f64([1, 0.925]) }, summary_values: { mae_range: 1.68, mae_ratio: 0.925 },
      distributions: {}, representation_table: {}, n_rows: 120, clause_text: "", filter_text: "", group_columns: ["race"], min_size: 30, reference_label: "A (largest group overall)", outcome_filter: "", lift_table: {},
      regression: { prediction: u32([60, 40, 5, 15]), residual: u32([50, 50, 10, 10]), prediction_edges: f64([60, 110, 160]), residual_edges: f64([-100, 0, 60]),
        actual_bins: ["< 80", "≥ 80"], actual_counts: u32([50, 50, 10, 10]), actual_mean_error: f64([20, -20, 15, NaN]), actual_overall: f64([19, -20]) },
    });
    const el = document.createElement("div");
    document.body.append(el);
    widget.render({ model, el });
    const options = Array.from(el.querySelectorAll<HTMLOptionElement>('select[aria-label="Metric"] option')).map((o) => o.textContent);
    expect(options).toEqual(["MAE", "mean residual"]);
    expect(el.querySelector('[aria-label="Positive class"]')).toBeNull();
    expect(el.querySelector("img")).toBeNull();
    const buttons = Array.from(el.querySelectorAll<HTMLButtonElement>(".es-group-bars button")).map((b) => b.getAttribute("aria-label"));
    expect(buttons[1]).toBe("B: 20 rows, mean residual 4.38, small group");
    const welch = el.querySelector('[aria-label="Mean residual against the other rows"]')!;
    expect(el.textContent).toContain("Welch's t-test, p-values Benjamini-Hochberg adjusted");
    expect(welch.querySelectorAll(".es-flag").length).toBe(2);
    const plot = el.querySelector('svg[aria-label^="Mean residual per group in 2 bins"]')!;
    expect(plot.querySelectorAll("circle").length).toBe(3); // the empty cell has no dot
    expect(plot.querySelector("circle title")!.textContent).toBe(`${EVIL}, actual < 80: mean residual 20 (50 rows)`);
    expect(el.querySelector('[aria-label="Residuals by group"]')).not.toBeNull();
    expect(el.textContent).toContain("MAE ÷ ref.");
    expect(el.textContent).toContain("0.93×");
  });
  it("places signed bars on a scale that spans 0", () => {
    expect(barPlacement(5, -5, 5)).toEqual([50, 50]);
    expect(barPlacement(-2.5, -5, 5)).toEqual([25, 25]);
    expect(barPlacement(0.5, 0, 1)).toEqual([0, 50]);
  });
  it("with several models: a trade-off chart whose points make a model active, and every model by group", async () => {
    (globalThis as any).CSS ??= { escape: (x: string) => x }; // jsdom has no CSS.escape
    const { el, model } = setup();
    expect(el.querySelector('[aria-label="Models compared"]')).toBeNull(); // one model: nothing
    model.set("active_model", "baseline");
    model.set("disparity_metric", "demographic_parity_difference");
    model.set("model_groups", { metric: "selection_rate", gap: "demographic_parity_difference", models: [
      { model: "baseline", value: f64([0.5, 0.25]), low: f64([0.4, 0.1]), high: f64([0.6, 0.5]), gap: f64([0, -0.25]), reference: 0 },
      { model: EVIL, value: f64([0.45, 0.4]), low: f64([NaN, NaN]), high: f64([NaN, NaN]), gap: f64([0, -0.05]), reference: 0 },
    ] });
    model.set("tradeoff", { metric: "accuracy", disparity_metric: "demographic_parity_difference", points: [
      { model: "baseline", value: 0.81, disparity: 0.25, active: true },
      { model: EVIL, value: 0.866, disparity: 0.12, active: false },
    ] });
    await Promise.resolve();
    const section = el.querySelector('[aria-label="Models compared"]')!;
    expect(el.querySelector("img")).toBeNull();
    const points = Array.from(section.querySelectorAll<SVGGElement>('[role="button"]'));
    expect(points.map((p) => p.getAttribute("aria-label"))).toEqual(["baseline: accuracy 0.810, largest disparity 0.250", `${EVIL}: accuracy 0.866, largest disparity 0.120`]);
    expect(points.map((p) => p.getAttribute("aria-pressed"))).toEqual(["true", "false"]);
    expect(points.every((p) => p.getAttribute("tabindex") === "0")).toBe(true);
    const texts = Array.from(section.querySelectorAll("svg text")).map((t) => t.textContent);
    expect(texts).toContain("accuracy (higher is better)");
    expect(texts).toContain("largest disparity");
    points[1]!.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    const key = new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true });
    let leaked = false;
    document.body.addEventListener("keydown", () => (leaked = true), { once: true });
    points[0]!.dispatchEvent(key);
    points[0]!.dispatchEvent(new KeyboardEvent("keydown", { key: " ", bubbles: true, cancelable: true }));
    expect(leaked).toBe(false);
    expect(key.defaultPrevented).toBe(true);
    expect(model.sent).toEqual([{ type: "active_model", model: EVIL }, { type: "active_model", model: "baseline" }, { type: "active_model", model: "baseline" }]);
    points[0]!.focus();
    points[0]!.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(document.activeElement).toBe(points[1]);
    const table = section.querySelector("table")!;
    expect(Array.from(table.querySelectorAll("thead tr:first-child th")).map((t) => t.textContent)).toEqual(["group", "baseline (active)", EVIL]);
    expect(Array.from(table.querySelectorAll("tbody tr:nth-child(2) td")).map((t) => t.textContent)).toEqual(["25.0% (10.0% to 50.0%)", "−0.250", "40.0%", "−0.050"]);
    expect(table.querySelector("tbody tr:first-child td:nth-child(3)")!.textContent).toBe("ref.");
    const disparity = section.querySelector<HTMLSelectElement>('select[aria-label="Disparity"]')!;
    disparity.value = "equalized_odds_difference";
    disparity.dispatchEvent(new Event("change"));
    expect(model.get("disparity_metric")).toBe("equalized_odds_difference");
    model.set("active_model", EVIL); // the kernel made it active: the repaint keeps the focus on its point
    await Promise.resolve();
    expect(document.activeElement!.getAttribute("aria-label")).toBe(`${EVIL}: accuracy 0.866, largest disparity 0.120`);
  });
  it("names a regression's points in the target's units, lower MAE better, gaps against the reference", () => {
    expect(pointName({ model: "gbm", value: 21.2345, disparity: 3.5, active: false }, "mae", true)).toBe("gbm: MAE 21.23, largest disparity 3.5");
    const model = new MockModel({});
    const chart = tradeoffChart(model, { metric: "mae", disparity_metric: "mae_range", points: [{ model: "gbm", value: 21.2, disparity: 3.5, active: true }, { model: "linear", value: 28.1, disparity: null, active: false }] }, true);
    expect(chart.querySelector("svg")!.getAttribute("aria-label")).toBe("Models: MAE against the largest disparity (MAE range (largest gap))");
    expect(Array.from(chart.querySelectorAll("text")).map((t) => t.textContent)).toContain("MAE (lower is better)");
    expect(chart.querySelectorAll('[role="button"]').length).toBe(1); // a point without a disparity is not drawn
    const table = modelsByGroup({ gap: "mae_difference", models: [{ model: "gbm", value: f64([20, 24.5]), low: f64([19, 22]), high: f64([21, 27]), gap: f64([0, 4.5]), reference: 0 }] }, ["A", "B"], "MAE", (x) => x.toFixed(1), "gbm", true);
    expect(Array.from(table.querySelectorAll("thead th")).map((t) => t.textContent)).toEqual(["group", "gbm (active)", "MAE", "MAE − ref."]);
    expect(Array.from(table.querySelectorAll("tbody tr:nth-child(2) td")).map((t) => t.textContent)).toEqual(["24.5 (22.0 to 27.0)", "+4.5"]);
  });
});
