import { describe, expect, it } from "vitest";
import { forceSegments } from "../src/force_viewer";

describe("force plot layout", () => {
  it("stacks positive contributions up from the base, then negative ones down to the output", () => {
    const segments = forceSegments(1, [0.5, -0.2, 2, -1]);
    expect(segments.map((s) => s.index)).toEqual([2, 0, 3, 1]);
    expect(segments[0]).toEqual({ index: 2, start: 1, end: 3 });
    expect(segments.at(-1)!.end).toBeCloseTo(1 + 0.5 - 0.2 + 2 - 1);
  });
});
