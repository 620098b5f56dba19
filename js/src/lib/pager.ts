import { h } from "./dom";

/** "‹ Previous" and "Next ›" buttons around "Page i of n" for `total` items shown `size` at a time.
 * The buttons are named "Previous <noun>" / "Next <noun>" and call `go` with the page to show;
 * `focusKey` tags them (data-focus) so a view can keep keyboard focus across re-renders. */
export function pager(page: number, total: number, size: number, noun: string, go: (page: number) => void, focusKey = "page"): HTMLElement {
  const pages = Math.max(1, Math.ceil(total / Math.max(1, size)));
  const prev = h("button", { type: "button", "aria-label": `Previous ${noun}`, "data-focus": `${focusKey}-prev`, text: "‹ Previous", disabled: page <= 0 });
  const next = h("button", { type: "button", "aria-label": `Next ${noun}`, "data-focus": `${focusKey}-next`, text: "Next ›", disabled: page >= pages - 1 });
  prev.addEventListener("click", () => go(Math.max(0, page - 1)));
  next.addEventListener("click", () => go(Math.min(pages - 1, page + 1)));
  return h("div", { className: "es-pager" }, [prev, h("span", { text: `Page ${page + 1} of ${pages}` }), next]);
}
