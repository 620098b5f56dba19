import { describe, expect, it } from "vitest";
import { toFloat64, toUint32 } from "../src/lib/buffers";
import { abbreviate, formatCount, formatMetric, formatPercent } from "../src/lib/format";
import { h } from "../src/lib/dom";

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
});
