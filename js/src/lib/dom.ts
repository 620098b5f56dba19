/** A tiny typed element builder. Text is only ever set through textContent: data cannot inject markup. */

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === "text") el.textContent = String(value);
    else if (name === "className") el.className = String(value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** "positive class: X" beside precision, recall, FPR or FNR (nothing when the view has no positive class). */
export function positiveClassNote(name: string): HTMLElement | null {
  return name ? h("span", { className: "es-muted es-positive-class", "data-positive-class": name, text: `positive class: ${name}` }) : null;
}

const SVG = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and, optionally, a <title> (a tooltip and an accessible name; text only). */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, title?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (title !== undefined) {
    const t = document.createElementNS(SVG, "title");
    t.textContent = title; // data stays text
    el.append(t);
  }
  return el;
}

/** Where a grid's arrow keys, Home and End move the focus from cell [row, col] of a rows x cols grid
 * (clamped at the edges); null for any other key. */
export function gridMove(key: string, row: number, col: number, rows: number, cols: number): [number, number] | null {
  const moves: Record<string, [number, number]> = {
    ArrowUp: [Math.max(0, row - 1), col],
    ArrowDown: [Math.min(rows - 1, row + 1), col],
    ArrowLeft: [row, Math.max(0, col - 1)],
    ArrowRight: [row, Math.min(cols - 1, col + 1)],
    Home: [row, 0],
    End: [row, cols - 1],
  };
  return moves[key] ?? null;
}
