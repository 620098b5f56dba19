import { afterEach, describe, expect, it } from "vitest";
import widget, { fitLabel, forceSegments, formatTick, niceTicks } from "../src/force_viewer";
import { f64, MockModel } from "./mock";

const EVIL = "<img src=x onerror=alert(1)>";

function setup(state: Record<string, unknown> = {}) {
  const model = new MockModel({
    n_selected: 3, job_status: "done", job_progress: 1, output: "probability", outputs: ["log_odds", "probability"], explain_class: "",
    class_names: ["0", "1"], stacked_order: "output", current: "7", rows: [], rows_page: 0, rows_page_size: 8, lime: {}, importance: {},
    sampling: "", algorithm: "tree", clause_text: "", selected_feature: "",
    force: {
      id: "7", features: ["capital-gain", "age", "education-num", "hours-per-week", `${EVIL}tiny`], values: ["0", "39", "13", "40", "1"],
      contributions: f64([0.3, -0.12, 0.05, 0.004, -0.003]), base: 0.31, output: 0.541, class: "1", space: "probability", actual: "1", predicted: "1",
    },
    stacked: {
      features: ["a", "b"], ids: ["1", "2", "3"], values: f64([0.2, -0.1, -0.3, 0.05, 0.1, 0.1]), outputs: f64([0.41, 0.06, 0.51]),
      bases: f64([0.31, 0.31, 0.31]), space: "probability", classes: ["1"],
    },
    cohort: { showing: "global", features: ["age", "b"], selection: f64([0.2, 0.1]), rest: f64([NaN, NaN]), difference: f64([NaN, NaN]), class: "1" },
    ...state,
  });
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  return { model, el };
}

afterEach(() => document.body.replaceChildren());

describe("force plot layout", () => {
  it("puts pushes up before the output and pushes down after it, without overlap", () => {
    const segments = forceSegments(1, [0.5, -0.2, 2, -1]);
    expect(segments.map((s) => s.index)).toEqual([2, 0, 3, 1]);
    const output = 1 + 0.5 - 0.2 + 2 - 1;
    expect(segments[0]!.end).toBeCloseTo(output); // the largest push up ends at the output
    expect(segments[2]!.start).toBeCloseTo(output); // the largest push down starts there
    const sorted = [...segments].sort((a, b) => a.start - b.start);
    sorted.forEach((s, i) => {
      expect(s.end).toBeGreaterThan(s.start);
      if (i) expect(s.start).toBeGreaterThanOrEqual(sorted[i - 1]!.end - 1e-12);
    });
    expect(sorted[0]!.start).toBeCloseTo(output - 2.5);
    expect(sorted.at(-1)!.end).toBeCloseTo(output + 1.2);
  });

  it("fits labels to their segment or leaves them to the legend", () => {
    expect(fitLabel("age", 100)).toBe("age");
    expect(fitLabel("hours-per-week", 40)).toBe("hour…");
    expect(fitLabel("hours-per-week", 20)).toBeNull();
  });

  it("draws labels that never overlap and names the narrow segments in a legend, as text", () => {
    const { el } = setup();
    const plot = el.querySelector("svg.es-force-plot")!;
    const labels = Array.from(plot.querySelectorAll<SVGTextElement>("text.es-segment-label"));
    const rects = Array.from(plot.querySelectorAll("rect"));
    expect(rects).toHaveLength(5);
    // each label sits inside its own segment (segments are disjoint), so labels cannot overlap
    const spans = labels.map((t) => {
      const x = Number(t.getAttribute("x"));
      const half = (Array.from(t.textContent!).length * 6.2) / 2;
      return [x - half, x + half] as const;
    });
    spans.sort((a, b) => a[0] - b[0]).forEach((s, i, all) => i && expect(s[0]).toBeGreaterThanOrEqual(all[i - 1]![1]));
    const legend = el.querySelector(".es-force-legend")!;
    expect(legend.textContent).toContain(`${EVIL}tiny −0.003`);
    expect(el.querySelector("img")).toBeNull();
    expect(plot.getAttribute("aria-label")).toContain("(probability of 1)");
    expect(el.textContent).toContain("explaining the probability of 1");
  });
});

describe("stacked plot and cohort", () => {
  it("round ticks cover the range", () => {
    expect(niceTicks(0.06, 0.71, 4)).toEqual([0.2, 0.4, 0.6]);
    expect(niceTicks(-3, 4, 4)).toEqual([-2, 0, 2, 4]);
    expect(formatTick(-1.25)).toBe("−1.25");
  });

  it("has a y axis with ticks in the output space and a labelled x axis", () => {
    const { el } = setup();
    const plot = el.querySelector("svg.es-stacked")!;
    const ticks = Array.from(plot.querySelectorAll(".es-tick")).map((t) => t.textContent);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(ticks.every((t) => Number.isFinite(Number(t!.replace("−", "-"))))).toBe(true);
    const axisLabels = Array.from(plot.querySelectorAll(".es-axis-label")).map((t) => t.textContent);
    expect(axisLabels).toEqual(["probability of 1", "3 sampled rows, ordered by output"]);
  });

  it("says it shows global importance when nothing is selected", () => {
    const { el } = setup();
    const cohort = el.querySelector('[aria-label^="What drives the selection"]')!;
    expect(cohort.getAttribute("aria-label")).toContain("global importance");
    expect(el.querySelector(".es-cohort-heading")!.textContent).toContain("global importance");
    expect(Array.from(cohort.querySelectorAll(".es-num")).map((n) => n.textContent)).toEqual(["0.200", "0.100"]);
  });
  it("on a regression lists rows with actual, predicted and residual, and explains the prediction", () => {
    const { el } = setup({
      task: "regression", output: "prediction", outputs: ["prediction"], class_names: [],
      rows: [{ id: "1229", actual: 318.34243, predicted: 108.7623, residual: -209.58011 }],
      force: { id: "1229", features: ["age", "education"], values: ["46", "HS"], contributions: f64([3.4, -7.6]), base: 111.16, output: 106.96, class: "prediction", space: "prediction", actual: "318.342", predicted: "106.96", residual: -211.38 },
      stacked: {}, cohort: {},
    });
    const headers = Array.from(el.querySelectorAll('[aria-label="Rows to explain, largest |residual| first"] th')).map((t) => t.textContent);
    expect(headers).toEqual(["id", "actual", "predicted", "residual"]);
    const row = el.querySelector('tr[aria-label^="row 1229"]')!;
    expect(row.getAttribute("aria-label")).toBe("row 1229: actual 318.3, predicted 108.8, residual \u2212209.6");
    expect(el.querySelector('[aria-label="Explain class"]')).toBeNull();
    expect(el.querySelector(".es-force-row p")!.textContent).toContain("residual \u2212211.4");
    expect(el.querySelector(".es-force-plot")!.getAttribute("aria-label")).toContain("(prediction)");
  });
});

describe("several models", () => {
  const compared = {
    model: "candidate", id: "7", features: ["age", "capital-gain"], values: ["39", "0"], contributions: f64([0.2, -0.05]),
    base: 0.3, output: 0.45, class: "1", space: "probability", predicted: "0",
  };

  it("draws the compare model's force plot beside the active one's, for the same row, and picks it", () => {
    const { el, model } = setup({ models: ["baseline", "candidate"], active_model: "baseline", compare_models: ["baseline", "candidate"], compare_model: "candidate", compare_force: compared });
    const group = el.querySelector<HTMLElement>("[role=group][aria-label=\"candidate's explanation of row 7\"]")!;
    expect(group).not.toBeNull();
    expect(group.querySelector("svg")!.getAttribute("aria-label")).toBe("candidate's force plot of row 7: base value 0.300 to output 0.450 (probability of 1)");
    expect(group.querySelector("p")!.textContent).toBe("candidate: predicted 0; the probability of 1");
    const picker = el.querySelector<HTMLSelectElement>("select[aria-label='Compare with model']")!;
    expect(Array.from(picker.options).map((o) => o.value)).toEqual(["", "candidate"]); // not the active model
    expect(picker.value).toBe("candidate");
    picker.value = "";
    picker.dispatchEvent(new Event("change"));
    expect(model.get("compare_model")).toBe("");
  });

  it("has no compare picker or second plot with one model", () => {
    const { el } = setup();
    expect(el.querySelector("select[aria-label='Compare with model']")).toBeNull();
    expect(el.querySelector(".es-force-compare")).toBeNull();
  });
});
