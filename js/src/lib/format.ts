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

/** A number in the target's units (a regression's values, MAE, RMSE, residuals): four significant digits,
 * at least the units, thousands separated, a true minus sign; `signed` adds "+" to positives. 75.043 ->
 * "75.04", 154.68 -> "154.7", 1234.5 -> "1,235", −0.01234 -> "−0.01234". */
export function formatNumber(x: number, signed = false): string {
  if (!Number.isFinite(x)) return "–";
  if (x === 0) return "0";
  const decimals = Math.min(6, Math.max(0, 3 - Math.floor(Math.log10(Math.abs(x)))));
  const text = Math.abs(x).toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return (x < 0 ? "\u2212" : signed ? "+" : "") + text;
}
