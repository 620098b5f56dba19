/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { BRAND, shade } from "../src/lib/color";

/** Every stylesheet and module of the front end, as text. */
const sources = import.meta.glob("../src/**/*.{css,ts}", { query: "?raw", import: "default", eager: true }) as Record<string, string>;

describe("theme colours outside JupyterLab", () => {
  it("never uses a JupyterLab variable without a fallback", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(10);
    const bare = Object.entries(sources).flatMap(([file, text]) =>
      [...text.matchAll(/var\(\s*(--jp-[\w-]+)\s*\)|var\(\$\{/g)].map((m) => `${file}: ${m[0]}`),
    );
    expect(bare).toEqual([]);
  });

  it("shades with a colour that carries its fallback", () => {
    expect(shade(BRAND, 1)).toBe("color-mix(in srgb, var(--jp-brand-color1, #1976d2) 85%, transparent)");
    expect(shade(BRAND, -1)).toContain(" 0%,");
  });
});
