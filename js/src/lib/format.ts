/** Number and label formatting shared by the widgets. */

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 16281 -> "16,281". */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? integer.format(n) : "–";
}

/** 0.8532 -> "85.3%"; NaN -> "–". */
export function formatPercent(x: number, digits = 1): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : "–";
}

/** 0.91234 -> "0.912"; NaN -> "–". */
export function formatMetric(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : "–";
}

/** Shorten a label to at most `max` characters, ending in "…". */
export function abbreviate(label: string, max: number): string {
  const chars = Array.from(label);
  return chars.length <= max ? label : `${chars.slice(0, Math.max(1, max - 1)).join("")}…`;
}
