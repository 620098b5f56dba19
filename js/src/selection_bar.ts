/** SelectionBar widget: every active clause as a removable chip, clear all, and the selected row count. */
import { h } from "./lib/dom";
import { formatCount } from "./lib/format";
import { mountView, type WidgetModel } from "./lib/model";

interface ClauseChip {
  source: string;
  text: string;
  rows: number;
}

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-bar-root", role: "region", "aria-label": "Selection" });
  el.append(root);
  const paint = (): void => {
    const clauses = (model.get("clauses") ?? []) as ClauseChip[];
    const selected = Number(model.get("n_selected") ?? 0);
    const total = Number(model.get("n_total") ?? 0);
    root.setAttribute("data-rows", String(selected));
    const chips = clauses.map((c) => {
      const remove = h("button", { type: "button", "aria-label": `Remove selection from ${c.source}: ${c.text}`, title: "Remove", text: "×" });
      remove.addEventListener("click", () => model.send({ type: "remove", source: c.source }));
      return h("li", { className: "es-chip", title: `${c.source}: ${formatCount(c.rows)} rows` }, [
        h("span", { className: "es-muted", text: `${c.source}:` }),
        h("span", { text: c.text }),
        remove,
      ]);
    });
    const clear = h("button", { type: "button", "aria-label": "Clear all selections", text: "Clear all", disabled: clauses.length === 0 });
    clear.addEventListener("click", () => model.send({ type: "clear_all" }));
    root.replaceChildren(
      h("span", { className: "es-title", role: "status", text: clauses.length ? `${formatCount(selected)} of ${formatCount(total)} rows selected` : `All ${formatCount(total)} rows` }),
      clauses.length ? h("ul", { className: "es-chips", "aria-label": "Active selections" }, chips) : h("span", { className: "es-muted", text: "Click in any view to select rows." }),
      clear,
    );
  };
  return mountView(model, root, ["clauses", "n_selected", "n_total"], paint, false);
}

export default { render };
