import { afterEach, describe, expect, it } from "vitest";
import widget, { withInterval } from "../src/group_comparer";
import { f64, MockModel, u32 } from "./mock";

const EVIL = "<img src=x onerror=alert(1)>";
const u8 = (xs: number[]): DataView => new DataView(new Uint8Array(xs).buffer);

function setup() {
  const model = new MockModel({
    groups: { labels: [EVIL, "B"], count: u32([100, 20]), share: f64([0.83, 0.17]), small: u8([0, 1]), selection_rate: f64([0.5, 0.25]), selection_rate_low: f64([0.4, 0.1]), selection_rate_high: f64([0.6, 0.5]) },
    metric: "selection_rate", positive: "1", class_names: ["0", "1"], reference: "", selected_groups: [1],
    disparity: { reference: 0, four_fifths: u8([0, 1]), disparate_impact: f64([1, 0.5]) }, summary_values: { demographic_parity_ratio: 0.5 },
    distributions: {}, representation_table: {}, thresholds: {}, what_if: {}, can_threshold: false, n_rows: 120, clause_text: "", filter_text: "", group_columns: ["race"], min_size: 30,
  });
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  return { model, el };
}

afterEach(() => document.body.replaceChildren());

describe("group comparer", () => {
  it("formats a value with its interval", () => {
    expect(withInterval(0.5, 0.4, 0.6, (x) => x.toFixed(1))).toBe("0.5 [0.4–0.6]");
    expect(withInterval(NaN, 0.4, 0.6, (x) => x.toFixed(1))).toBe("–");
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
});
