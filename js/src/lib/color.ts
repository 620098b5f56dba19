/** Cell shading from JupyterLab theme variables, so it follows light and dark themes. */

/** A background mixing `colorVar` into transparency by `intensity` in [0, 1]. */
export function shade(colorVar: string, intensity: number): string {
  const pct = Math.round(Math.max(0, Math.min(1, intensity)) * 85);
  return `color-mix(in srgb, var(${colorVar}) ${pct}%, transparent)`;
}

/** Text colour that stays readable on a shade of the given intensity. */
export function textOn(intensity: number): string {
  return intensity > 0.55 ? "var(--jp-ui-inverse-font-color0, #fff)" : "var(--jp-ui-font-color0, #111)";
}
