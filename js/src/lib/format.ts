/** Number and label formatting shared by the widgets. */

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 16281 -> "16,281". */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? integer.format(n) : "–";
}

/** 0.8532 -> "85.3%"; NaN -> "–". */
export function formatPercent(x: number, digits = 1): string {
  return Number.isFinite(x) ? withMinus(`${(x * 100).toFixed(digits)}%`) : "–";
}

/** 0.91234 -> "0.912", -0.135 -> "−0.135" (a true minus sign); NaN -> "–". */
export function formatMetric(x: number): string {
  return Number.isFinite(x) ? withMinus(x.toFixed(3)) : "–";
}

/** A number's text with the typographic minus sign, so a negative never reads as a dash. */
export function withMinus(text: string): string {
  return text.replace(/^-/, "\u2212");
}

/** A value with its 95% interval: "−0.135 (−0.236 to −0.009)"; without a finite interval, the value alone. */
export function formatInterval(x: number, low: number, high: number, format: (v: number) => string = formatMetric): string {
  if (!Number.isFinite(x)) return "–";
  return Number.isFinite(low) && Number.isFinite(high) ? `${format(x)} (${format(low)} to ${format(high)})` : format(x);
}

/** Shorten a label to at most `max` characters, ending in "…". */
export function abbreviate(label: string, max: number): string {
  const chars = Array.from(label);
  return chars.length <= max ? label : `${chars.slice(0, Math.max(1, max - 1)).join("")}…`;
}

/** A number in its own units to `digits` significant digits: 112.56 -> "112.6", 0.38343 -> "0.3834",
 * -1.2783 -> "−1.278"; NaN -> "–". */
export function formatSignificant(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return "–";
  const rounded = Number(x.toPrecision(digits));
  const text = Math.abs(rounded) >= 10 ** digits ? rounded.toFixed(0) : String(rounded);
  return withMinus(text);
}
