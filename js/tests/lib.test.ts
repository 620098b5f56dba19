import { describe, expect, it } from "vitest";
import { toFloat64, toUint32 } from "../src/lib/buffers";
import { abbreviate, formatCount, formatMetric, formatPercent } from "../src/lib/format";
import { h, positiveClassNote } from "../src/lib/dom";
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
