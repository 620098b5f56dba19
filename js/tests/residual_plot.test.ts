import { afterEach, describe, expect, it } from "vitest";
import { formatSigned, formatValue, niceTicks } from "../src/lib/format";
import widget, { binAt, logIntensity, moveKey, rangeCount, rangeText } from "../src/residual_plot";
import { f64, MockModel, u32 } from "./mock";

const edges = (lo: number, step: number, n: number): DataView => f64(Array.from({ length: n + 1 }, (_, i) => lo + i * step));

function setup(overrides: Record<string, unknown> = {}) {
  // 4 x 4 value bins over [0, 40), 4 residual bins over [-20, 20)
  const density = [5, 1, 0, 0, 0, 9, 2, 0, 0, 1, 7, 0, 0, 0, 0, 3];
  const model = new MockModel({
    value_edges: edges(0, 10, 4), density: u32(density), density_mean: f64(density.map((n) => (n ? 1.5 : NaN))),
    residual_edges: edges(-20, 10, 4), histogram: u32([2, 10, 14, 2]),
    features: [{ name: "age", kind: "numeric" }, { name: "race", kind: "categorical" }], feature: "race", feature_kind: "categorical",
    feature_edges: new DataView(new ArrayBuffer(0)), feature_density: new DataView(new ArrayBuffer(0)),
    feature_counts: u32([20, 8]), feature_mean: f64([-3.25, 8]), feature_low: f64([-5, 4]), feature_high: f64([-1.5, 12]),
    feature_labels: ["White", "Black"], feature_missing: 0, brush: { plot: "", x: [], y: [], categories: [] },
    n_rows: 28, n_total: 30, clause_text: "", filter_text: "", error: "", ...overrides,
  });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  return { model, el, cleanup };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const key = (target: Element, k: string, shiftKey = false): KeyboardEvent => {
  const e = new KeyboardEvent("keydown", { key: k, shiftKey, bubbles: true, cancelable: true });
  target.dispatchEvent(e);
  return e;
};

afterEach(() => {
  document.body.replaceChildren();
});

describe("residual plot helpers", () => {
  it("formats values, signs, ranges and ticks", () => {
    expect(formatValue(-12.3456)).toBe("\u221212.35");
    expect(formatValue(250000)).toBe("2.50e+5");
    expect(formatSigned(3.2)).toBe("+3.2");
    expect(formatSigned(-0.5)).toBe("\u22120.5");
    expect(rangeText(new Float64Array([0, 10, 20, 30]), 2, 0)).toBe("0 to 30");
    expect(niceTicks(20, 320, 4)).toEqual([100, 200, 300]);
    expect(niceTicks(-210, 210, 4)).toEqual([-200, -100, 0, 100, 200]);
    expect(niceTicks(0, 7, 4)).toEqual([0, 2, 4, 6]);
  });
  it("maps positions to bins, counts to log colour, keys to cursor moves", () => {
    expect(binAt(-5, 100, 10)).toBe(0);
    expect(binAt(55, 100, 10)).toBe(5);
    expect(binAt(150, 100, 10)).toBe(9);
    expect(logIntensity(0, 10)).toBe(0);
    expect(logIntensity(10, 10)).toBeCloseTo(1);
    expect(logIntensity(1, 1000)).toBeGreaterThan(0.15);
    expect(moveKey("ArrowUp", [1, 1], [4, 4])).toEqual([1, 2]);
    expect(moveKey("ArrowLeft", [0, 1], [4, 4])).toEqual([0, 1]);
    expect(moveKey("End", [1, 1], [4, 4])).toEqual([3, 1]);
    expect(moveKey("a", [1, 1], [4, 4])).toBeNull();
    const counts = new Uint32Array([5, 1, 0, 0, 0, 9, 2, 0, 0, 1, 7, 0, 0, 0, 0, 3]);
    expect(rangeCount(counts, 4, [1, 0], [0, 1])).toBe(15);
    expect(rangeCount(counts, 4, [0, 3], [0, 3])).toBe(28);
  });
});

describe("residual plot widget", () => {
  it("follows the DOM contract: region, data-rows, labelled feature picker, named categories", () => {
    const { el } = setup();
    const root = el.querySelector("[role=region]")!;
    expect(root.getAttribute("aria-label")).toBe("Residual plot");
    expect(root.getAttribute("data-rows")).toBe("28");
    const picker = el.querySelector("select") as HTMLSelectElement;
    expect(el.querySelector(`label[for="${picker.id}"]`)!.textContent).toBe("Residual against");
    expect([...picker.options].map((o) => o.value)).toEqual(["age", "race"]);
    expect(picker.value).toBe("race");
    expect([...el.querySelectorAll(".es-rp-cats button")].map((b) => b.getAttribute("aria-label"))).toEqual([
      "race = White: 20 rows, mean residual \u22123.25",
      "race = Black: 8 rows, mean residual +8",
    ]);
    const plots = [...el.querySelectorAll("svg.es-rp-plot")];
    expect(plots.map((p) => p.getAttribute("tabindex"))).toEqual(["0", "0"]);
    // one shaded cell per non-empty 2-D bin, each named with its rows
    expect(plots[0]!.querySelectorAll(".es-rp-cells rect")).toHaveLength(7);
    expect(plots[0]!.querySelector(".es-rp-cells rect title")!.textContent).toBe("actual 0 to 10, predicted 0 to 10: 5 rows, mean residual +1.5");
    expect(plots[0]!.querySelector(".es-rp-diagonal")).not.toBeNull();
    expect(plots[1]!.querySelectorAll(".es-rp-bars rect")).toHaveLength(4);
    expect(plots[1]!.querySelector(".es-rp-zero")!.getAttribute("x1")).toBe(String(46 + 264 / 2));
  });

  it("selects with the keyboard: arrows move, Shift extends, Enter sends the range; keys never leak", () => {
    const { el, model } = setup();
    let leaked = 0;
    document.body.addEventListener("keydown", () => leaked++);
    const hist = el.querySelectorAll<SVGSVGElement>("svg.es-rp-plot")[1]!;
    hist.dispatchEvent(new FocusEvent("focus"));
    key(hist, "ArrowRight");
    key(hist, "ArrowRight", true);
    key(hist, "ArrowRight", true);
    expect(hist.parentElement!.querySelector("[role=status]")!.textContent).toBe("residual \u221210 to 20: 26 rows — Enter selects");
    key(hist, "Enter");
    expect(model.sent.at(-1)).toEqual({ type: "brush", plot: "histogram", x: [1, 3] });
    const density = el.querySelector<SVGSVGElement>("svg.es-rp-plot")!;
    key(density, "ArrowUp");
    key(density, "ArrowRight", true);
    key(density, " ");
    expect(model.sent.at(-1)).toEqual({ type: "brush", plot: "density", x: [0, 1], y: [1, 1] });
    key(density, "Escape");
    expect(model.sent.at(-1)).toEqual({ type: "clear" });
    expect(leaked).toBe(0);
    expect(key(density, "q").defaultPrevented).toBe(false); // keys it does not handle go on
  });

  it("drags a rectangle with the pointer into a density brush, and shows its own brush", async () => {
    const { el, model } = setup();
    const density = el.querySelector<SVGSVGElement>("svg.es-rp-plot")!;
    density.getBoundingClientRect = () => ({ left: 0, top: 0, width: 320, height: 232, right: 320, bottom: 232, x: 0, y: 0, toJSON: () => ({}) });
    const at = (type: string, x: number, y: number) => density.dispatchEvent(new MouseEvent(type, { clientX: x, clientY: y, button: 0, bubbles: true }) as PointerEvent);
    // plot area x: 46..310 (66 per bin), y: 8..196 from the top (47 per bin, bin 0 at the bottom)
    at("pointerdown", 50, 190);
    at("pointermove", 150, 120);
    at("pointerup", 180, 100);
    expect(model.sent.at(-1)).toEqual({ type: "brush", plot: "density", x: [0, 2], y: [0, 2] });
    expect(density.getAttribute("data-pointer")).toBe("true"); // no focus ring or keyboard cursor after a drag
    density.dispatchEvent(new FocusEvent("focus"));
    expect(density.querySelector(".es-rp-cursor")!.getAttribute("visibility")).toBe("hidden");
    model.set("brush", { plot: "density", x: [0, 2], y: [0, 2], categories: [] });
    model.set("clause_text", "actual < 30.0 and predicted < 30.0");
    await flush();
    const mark = el.querySelector("svg.es-rp-plot .es-rp-brush")!;
    expect(mark.getAttribute("visibility")).toBe("visible");
    expect(Number(mark.getAttribute("width"))).toBeCloseTo(3 * 66);
    expect(el.querySelector("[role=status]")!.textContent).toBe("actual 0 to 30, predicted 0 to 30: 25 rows selected");
    el.querySelector<HTMLButtonElement>("button[aria-label='Clear residual plot selection']")!.click();
    expect(model.sent.at(-1)).toEqual({ type: "clear" });
  });

  it("clicks categories (Shift adds, a second click clears) and switches the feature", async () => {
    const { el, model } = setup();
    const buttons = () => [...el.querySelectorAll<HTMLButtonElement>(".es-rp-cats button")];
    buttons()[1]!.click();
    expect(model.sent.at(-1)).toEqual({ type: "brush", plot: "feature", categories: [1] });
    model.set("brush", { plot: "feature", x: [], y: [], categories: [1] });
    await flush();
    expect(buttons().map((b) => b.getAttribute("aria-pressed"))).toEqual(["false", "true"]);
    buttons()[0]!.dispatchEvent(new MouseEvent("click", { shiftKey: true, bubbles: true }));
    expect(model.sent.at(-1)).toEqual({ type: "brush", plot: "feature", categories: [1, 0] });
    buttons()[1]!.click();
    expect(model.sent.at(-1)).toEqual({ type: "clear" });
    key(buttons()[0]!, "ArrowDown");
    expect(document.activeElement).toBe(buttons()[1]);
    const picker = el.querySelector<HTMLSelectElement>("select")!;
    picker.value = "age";
    picker.dispatchEvent(new Event("change"));
    expect(model.get("feature")).toBe("age");
  });

  it("draws a numeric feature as a density with the mean residual line and says how many rows lack a value", async () => {
    const { el } = setup({
      feature: "age", feature_kind: "numeric", feature_edges: edges(20, 10, 3), feature_density: u32([1, 2, 0, 0, 0, 4, 4, 0, 0, 0, 1, 1]),
      feature_counts: u32([3, 8, 2]), feature_mean: f64([-8, 0.5, 12]), feature_labels: [], feature_missing: 4,
    });
    await flush();
    const plot = el.querySelectorAll("svg.es-rp-plot")[2]!;
    expect(plot.querySelectorAll(".es-rp-cells rect")).toHaveLength(6);
    expect(plot.querySelector(".es-rp-mean")!.getAttribute("points")!.split(" ")).toHaveLength(3);
    expect(el.textContent).toContain("4 rows without a value are not shown");
  });
});
