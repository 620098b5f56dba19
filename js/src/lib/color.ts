/** Colours from JupyterLab theme variables, each with a fallback for hosts that do not define them
 * (marimo, VS Code, Voila without the Lab theme): a var() without one makes the whole value invalid. */

/** Theme colours the views shade with (the fallbacks are JupyterLab Light's). */
export const BRAND = "var(--jp-brand-color1, #1976d2)";
export const ERROR = "var(--jp-error-color1, #d32f2f)";

/** A background mixing the CSS colour `color` into transparency by `intensity` in [0, 1]. */
export function shade(color: string, intensity: number): string {
  const pct = Math.round(Math.max(0, Math.min(1, intensity)) * 85);
  return `color-mix(in srgb, ${color} ${pct}%, transparent)`;
}

/** Text colour that stays readable on a shade of the given intensity. */
export function textOn(intensity: number): string {
  return intensity > 0.55 ? "var(--jp-ui-inverse-font-color0, #fff)" : "var(--jp-ui-font-color0, #111)";
}
