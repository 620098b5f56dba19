import { describe, expect, it } from "vitest";
import { toFloat64, toUint32 } from "../src/lib/buffers";
import { abbreviate, formatCount, formatMetric, formatPercent } from "../src/lib/format";
import { gridMove, h, positiveClassNote } from "../src/lib/dom";
import { mountView } from "../src/lib/model";
import { pager } from "../src/lib/pager";
import { MockModel } from "./mock";

describe("buffers", () => {
  it("decodes little-endian arrays, including offset views", () => {
    const big = new ArrayBuffer(4 + 3 * 4);
    const view = new DataView(big, 4, 12);
    [7, 0, 4000000000].forEach((v, i) => view.setUint32(i * 4, v, true));
    expect(Array.from(toUint32(view))).toEqual([7, 0, 4000000000]);
    const f = new DataView(new Float64Array([0.5, NaN]).buffer);
    const out = toFloat64(f);
    expect(out[0]).toBe(0.5);
    expect(Number.isNaN(out[1])).toBe(true);
    expect(toUint32(null).length).toBe(0);
  });
});

describe("format", () => {
  it("formats counts, percents, metrics and abbreviations", () => {
    expect(formatCount(16281)).toBe("16,281");
    expect(formatPercent(0.8532)).toBe("85.3%");
    expect(formatPercent(NaN)).toBe("–");
    expect(formatMetric(0.91234)).toBe("0.912");
    expect(abbreviate("Self-emp-not-inc", 10)).toBe("Self-emp-…");
    expect(abbreviate("short", 10)).toBe("short");
  });
});

describe("dom", () => {
  it("sets text as text, never as markup", () => {
    const el = h("span", { text: "<img src=x onerror=alert(1)>", "aria-label": "x" });
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toBe("<img src=x onerror=alert(1)>");
  });
  it("names the positive class as text, and nothing without one", () => {
    const note = positiveClassNote("<b>bad</b>");
    expect(note?.textContent).toBe("positive class: <b>bad</b>");
    expect(note?.querySelector("b")).toBeNull();
    expect(positiveClassNote("")).toBeNull();
  });
});

describe("gridMove", () => {
  it("moves a grid's focus by arrows, Home and End, clamped at the edges", () => {
    expect(gridMove("ArrowRight", 0, 0, 2, 3)).toEqual([0, 1]);
    expect(gridMove("ArrowRight", 0, 2, 2, 3)).toEqual([0, 2]);
    expect(gridMove("ArrowDown", 1, 1, 2, 3)).toEqual([1, 1]);
    expect(gridMove("ArrowUp", 1, 1, 2, 3)).toEqual([0, 1]);
    expect(gridMove("ArrowLeft", 0, 0, 2, 3)).toEqual([0, 0]);
    expect(gridMove("End", 1, 0, 2, 3)).toEqual([1, 2]);
    expect(gridMove("Home", 1, 2, 2, 3)).toEqual([1, 0]);
    expect(gridMove("Enter", 1, 2, 2, 3)).toBeNull();
  });
});

describe("pager", () => {
  it("names its buttons, disables them at the ends and asks for the next page", () => {
    const asked: number[] = [];
    const first = pager(0, 25, 10, "page of rows", (p) => asked.push(p));
    const [prev, label, next] = Array.from(first.children) as [HTMLButtonElement, HTMLSpanElement, HTMLButtonElement];
    expect(prev.getAttribute("aria-label")).toBe("Previous page of rows");
    expect(prev.disabled).toBe(true);
    expect(label.textContent).toBe("Page 1 of 3");
    next.click();
    const last = pager(2, 25, 10, "page of rows", (p) => asked.push(p));
    const lastButtons = last.querySelectorAll("button");
    expect(lastButtons[1]!.disabled).toBe(true);
    lastButtons[0]!.click();
    expect(asked).toEqual([1, 1]);
    expect(pager(0, 0, 10, "page", () => {}).textContent).toContain("Page 1 of 1");
  });
});

describe("withError", () => {
  it("shows the kernel's error first in the view, survives repaints, and goes when a recompute succeeds", async () => {
    const { MockModel } = await import("./mock");
    const { mountView } = await import("../src/lib/model");
    const model = new MockModel({ n: 1, error: "" });
    const root = document.createElement("div");
    document.body.append(root);
    mountView(model, root, ["n"], () => root.replaceChildren(h("p", { text: `n=${model.get("n")}` })));
    expect(root.querySelector('[role="alert"]')).toBeNull();
    model.set("error", "ValueError: <b>no rows</b>");
    await Promise.resolve();
    const alert = root.querySelector('[role="alert"]')!;
    expect(root.firstElementChild).toBe(alert);
    expect(alert.textContent).toContain("ValueError: <b>no rows</b>");
    expect(root.querySelector("b")).toBeNull();
    model.set("n", 2);
    await Promise.resolve();
    expect(root.querySelector('[role="alert"]')).not.toBeNull();
    expect(root.textContent).toContain("n=2");
    model.set("error", "");
    await Promise.resolve();
    expect(root.querySelector('[role="alert"]')).toBeNull();
    root.remove();
  });
});

describe("progress", () => {
  it("shows a long query's progress as a labelled progress bar above the view, removed when it ends", () => {
    const model = new MockModel({ error: "", n_rows: 3 });
    const root = document.createElement("div");
    let painted = 0;
    const unmount = mountView(model, root, ["n_rows"], () => {
      painted += 1;
      root.replaceChildren(h("p", {}, [`${model.get("n_rows")} rows`]));
    });
    expect(root.querySelector('[role="progressbar"]')).toBeNull();
    model.receive({ type: "progress", percent: 42.4 });
    const bar = root.querySelector<HTMLElement>('[role="progressbar"]')!;
    expect(bar.getAttribute("aria-label")).toBe("Scanning the data");
    expect(bar.getAttribute("aria-valuenow")).toBe("42.4");
    expect(bar.textContent).toBe("Scanning the data: 42%");
    expect(root.getAttribute("aria-busy")).toBe("true");
    expect(root.textContent).toContain("3 rows"); // what the view showed stays under the bar
    model.receive({ type: "progress", percent: 130 });
    expect(bar.getAttribute("aria-valuenow")).toBe("100");
    model.receive({ type: "other", percent: 5 });
    expect(bar.getAttribute("aria-valuenow")).toBe("100");
    model.receive({ type: "progress", percent: null });
    expect(root.querySelector('[role="progressbar"]')).toBeNull();
    expect(root.hasAttribute("aria-busy")).toBe(false);
    expect(painted).toBe(1);
    unmount();
    model.receive({ type: "progress", percent: 10 });
    expect(root.querySelector('[role="progressbar"]')).toBeNull();
  });
});

describe("active-model picker", () => {
  const mount = (state: Record<string, unknown>) => {
    const model = new MockModel({ error: "", n: 1, ...state });
    const el = document.createElement("div");
    document.body.append(el);
    const root = h("div", { role: "region", "aria-label": "Test view" });
    el.append(root);
    let painted = 0;
    const unmount = mountView(model, root, ["n"], () => {
      painted += 1;
      root.replaceChildren(h("p", { text: `n=${model.get("n")}` }), h("button", { type: "button", text: "other" }));
    });
    const picker = () => root.querySelector<HTMLSelectElement>("select[aria-label='Active model']");
    return { model, el, root, picker, unmount, painted: () => painted };
  };
  const flush = () => Promise.resolve();

  it("is absent with one model (or none) and appears, first in the view, with several", async () => {
    const one = mount({ models: ["only"], active_model: "only" });
    expect(one.picker()).toBeNull();
    expect(mount({}).picker()).toBeNull();
    one.model.set("models", ["baseline", "candidate"]);
    one.model.set("active_model", "baseline");
    await flush();
    const picker = one.picker()!;
    expect(one.root.firstElementChild).toBe(picker.closest("label"));
    expect(picker.closest("label")!.textContent).toContain("Model");
    expect([...picker.options].map((o) => [o.value, o.textContent])).toEqual([["baseline", "baseline"], ["candidate", "candidate"]]);
    expect(picker.value).toBe("baseline");
    one.model.set("models", ["baseline"]);
    await flush();
    expect(one.picker()).toBeNull();
  });

  it("sends the chosen model and follows the active_model trait", async () => {
    const { model, picker } = mount({ models: ["a", "b", "c"], active_model: "b" });
    expect(picker()!.value).toBe("b");
    picker()!.value = "c";
    picker()!.dispatchEvent(new Event("change"));
    expect(model.sent).toEqual([{ type: "active_model", model: "c" }]);
    model.set("active_model", "a");
    await flush();
    expect(picker()!.value).toBe("a");
  });

  it("is the same element across the view's repaints, keeps the focus, and its keys reach neither the view nor the notebook", async () => {
    const { model, el, root, picker, painted } = mount({ models: ["a", "b"], active_model: "a" });
    const select = picker()!;
    select.focus();
    let leaked = 0;
    el.addEventListener("keydown", () => (leaked += 1));
    for (const key of ["ArrowDown", "Enter", " ", "Escape", "a"]) select.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
    expect(leaked).toBe(0);
    expect(model.sent).toEqual([]); // Escape in the picker does not clear the view's selection
    model.set("n", 2);
    await flush();
    expect(painted()).toBe(2);
    expect(root.textContent).toContain("n=2");
    expect(picker()).toBe(select);
    expect(document.activeElement).toBe(select);
    expect(root.firstElementChild).toBe(select.closest("label"));
  });

  it("sits below the error banner, and does not take the focus from the view", async () => {
    const { model, root, picker } = mount({ models: ["a", "b"], active_model: "a" });
    model.set("error", "ValueError: boom");
    await flush();
    expect(root.firstElementChild!.getAttribute("role")).toBe("alert");
    expect(root.children[1]).toBe(picker()!.closest("label"));
    root.querySelector("button")!.focus();
    model.set("n", 3);
    await flush();
    expect(root.children[1]).toBe(picker()!.closest("label"));
    expect(document.activeElement).not.toBe(picker());
  });

  it("is in the confusion matrix too", async () => {
    const { default: matrix } = await import("../src/confusion_matrix");
    const { u32, f64 } = await import("./mock");
    const model = new MockModel({
      classes: ["0", "1"], counts: u32([5, 1, 2, 4]), precision: f64([0.7, 0.8]), recall: f64([0.8, 0.7]), f1: f64([0.75, 0.75]),
      support: u32([6, 6]), accuracy: 0.75, n_rows: 12, n_total: 12, normalize: "none", order: "class",
      selected: { cells: [], actual: [], predicted: [] }, clause_text: "", filter_text: "", show_threshold: false, threshold: 0.5,
      error: "", models: ["baseline", "candidate"], active_model: "candidate",
    });
    const el = document.createElement("div");
    document.body.append(el);
    matrix.render({ model, el });
    const root = el.querySelector("[role=region]")!;
    const select = root.querySelector<HTMLSelectElement>("select[aria-label='Active model']")!;
    expect(root.firstElementChild).toBe(select.closest("label"));
    expect(select.value).toBe("candidate");
    select.focus();
    model.set("counts", u32([4, 2, 2, 4]));
    await new Promise((r) => setTimeout(r, 0));
    expect(document.activeElement).toBe(select);
    select.value = "baseline";
    select.dispatchEvent(new Event("change"));
    expect(model.sent.at(-1)).toEqual({ type: "active_model", model: "baseline" });
    model.set("models", ["baseline"]);
    await new Promise((r) => setTimeout(r, 0));
    expect(root.querySelector("select[aria-label='Active model']")).toBeNull();
  });
});
