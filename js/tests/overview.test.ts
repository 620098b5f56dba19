import { afterEach, describe, expect, it } from "vitest";
import widget, { distributionPlot, formatOverviewMetric } from "../src/overview";
import { f64, MockModel, u32 } from "./mock";

const flush = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => {
  document.body.replaceChildren();
});

function regression(overrides: Record<string, unknown> = {}) {
  const model = new MockModel({
    metric_names: ["MAE", "RMSE", "R²", "median AE", "mean residual", "MAPE"],
    overall: f64([21.953, 34.1, 0.3312, 16.2, -0.0123, 0.198]), selected_metrics: f64([21.953, 34.1, 0.3312, 16.2, -0.0123, 0.198]),
    classes: [], task: "regression", value_edges: f64([0, 10, 20, 30]), actual_counts: u32([2, 5, 3]), predicted_counts: u32([1, 8, 1]),
    selected_actual_counts: u32([1, 2, 0]), selected_predicted_counts: u32([0, 3, 0]),
    checks: [], n_rows: 10, n_total: 10, n_features: 4, positive_label: "", error: "", ...overrides,
  });
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  return { model, el };
}

describe("model overview", () => {
  it("formats a regression's metrics in the target's units, R² as a number and MAPE in percent", () => {
    expect(formatOverviewMetric("MAE", 21.953)).toBe("21.95");
    expect(formatOverviewMetric("mean residual", -0.0123)).toBe("\u22120.0123");
    expect(formatOverviewMetric("R²", 0.3312)).toBe("0.331");
    expect(formatOverviewMetric("MAPE", 0.198)).toBe("19.8%");
    expect(formatOverviewMetric("accuracy", 0.85)).toBe("85.0%");
    expect(formatOverviewMetric("mean residual", 4.08e-13, 27.8)).toBe("0"); // a least-squares fit's rounding noise
    expect(formatOverviewMetric("mean residual", 4.08e-13)).toBe("4.08e-13");
  });

  it("draws the actual values as bars and the predictions as a step line on one axis", () => {
    const plot = distributionPlot(new Float64Array([0, 10, 20, 30]), new Uint32Array([2, 5, 3]), new Uint32Array([1, 8, 1]), "all 10 rows");
    expect(plot.querySelectorAll("rect")).toHaveLength(3);
    expect(plot.querySelector("rect title")!.textContent).toBe("actual 0 to 10: 2 rows");
    expect(plot.getAttribute("aria-label")).toBe("Distributions of all 10 rows: actual values most rows in 10 to 20, predictions most rows in 10 to 20");
    expect(plot.querySelector("path")!.getAttribute("d")!.match(/H/g)).toHaveLength(3);
  });

  it("shows a regression's metrics and distributions, and the selection's when filtered", async () => {
    const { el, model } = regression();
    expect(el.querySelector("[role=region]")!.getAttribute("aria-label")).toBe("Model overview");
    expect([...el.querySelectorAll(".es-metric dt")].map((d) => d.textContent)).toEqual(["MAE", "RMSE", "R²", "median AE", "mean residual", "MAPE"]);
    expect(el.textContent).toContain("regression (residual = prediction − actual)");
    expect(el.querySelector("table[aria-label='Class balance']")).toBeNull();
    expect(el.querySelector("svg[role=img]")!.getAttribute("aria-label")).toContain("all 10 rows");
    model.set("n_rows", 3);
    model.set("selected_metrics", f64([30, 40, 0.1, 20, 5, 0.3]));
    await flush();
    expect(el.querySelector("svg[role=img]")!.getAttribute("aria-label")).toContain("the selection's 3 rows");
    expect(el.querySelector("svg[role=img]")!.querySelectorAll("rect")).toHaveLength(2);
    expect(el.querySelector(".es-metric dd")!.getAttribute("aria-label")).toBe("MAE: 30 on the selection, 21.95 on all rows");
  });
});
