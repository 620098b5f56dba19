/** ErrorTagger widget: a review queue with a card and a list view, tags by key (1-9), notes, relabels. */
import { h } from "./lib/dom";
import { formatCount, formatPercent } from "./lib/format";
import { pager } from "./lib/pager";
import { mountView, type WidgetModel } from "./lib/model";

export interface RowCard {
  id: string;
  actual: string;
  predicted: string;
  wrong: boolean;
  score: number | null;
  tags: string[];
  note: string;
  relabel: string;
  text: string;
  fields?: [string, string][];
  shap?: [string, string, number][];
}

const ORDERS: [string, string][] = [
  ["confident_wrong", "Confident and wrong first"],
  ["loss", "Highest loss first"],
  ["least_confident", "Least confident first"],
  ["stratified_random", "Random, stratified by class"],
  ["id", "By id"],
];

/** Keys that act on the card, or null: digits toggle tags, j/k (or arrows) move, s skips, u undoes. */
export function keyAction(key: string, nTags: number): { kind: "tag"; index: number } | { kind: "move"; delta: number } | { kind: "undo" } | { kind: "note" } | null {
  if (/^[1-9]$/.test(key) && Number(key) <= nTags) return { kind: "tag", index: Number(key) - 1 };
  if (key === "j" || key === "ArrowRight" || key === "s") return { kind: "move", delta: 1 };
  if (key === "k" || key === "ArrowLeft") return { kind: "move", delta: -1 };
  if (key === "u") return { kind: "undo" };
  if (key === "n") return { kind: "note" };
  return null;
}

function render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
  const root = h("div", { className: "es-root es-tagger", role: "region", "aria-label": "Error tagger", tabindex: 0 });
  el.append(root);
  const setTrait = (name: string, value: unknown): void => {
    model.set(name, value);
    model.save_changes();
  };
  const vocabulary = (): string[] => (model.get("vocabulary") ?? []) as string[];
  const move = (delta: number): void => {
    const n = Number(model.get("n_queue") ?? 0);
    const position = Number(model.get("position") ?? 0);
    setTrait("position", Math.max(0, Math.min(n - 1, position + delta)));
  };

  const tagBar = (card: RowCard | null): HTMLElement => {
    const checked = (model.get("checked") ?? []) as string[];
    const target = checked.length ? `${checked.length} checked rows` : card ? `row ${card.id}` : "";
    const buttons = vocabulary().map((tag, i) => {
      const on = !checked.length && !!card && card.tags.includes(tag);
      const b = h("button", { type: "button", className: "es-tag", "aria-pressed": String(on), "aria-label": `Tag ${target} ${tag}${i < 9 ? ` (key ${i + 1})` : ""}`, "data-focus": `tag-${i}`, disabled: !target }, [
        i < 9 ? h("kbd", { text: String(i + 1) }) : null,
        h("span", { text: tag }),
      ]);
      b.addEventListener("click", () => model.send({ type: "toggle_tag", tag }));
      return b;
    });
    const input = h("input", { type: "text", placeholder: "new tag", "aria-label": "New tag name", "data-focus": "new-tag", maxlength: 60 });
    const add = h("button", { type: "button", "aria-label": "Add tag name", text: "Add" });
    const submit = (): void => {
      if (input.value.trim()) model.send({ type: "add_tag_name", name: input.value.trim() });
      input.value = "";
    };
    add.addEventListener("click", submit);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        submit();
      }
    });
    return h("div", { className: "es-tagbar", role: "toolbar", "aria-label": "Tags" }, [...buttons, input, add]);
  };

  const countsList = (): HTMLElement => {
    const counts = (model.get("counts") ?? []) as number[];
    const selected = new Set((model.get("selected_tags") ?? []) as string[]);
    const items = vocabulary().map((tag, i) => {
      const b = h("button", { type: "button", "aria-pressed": String(selected.has(tag)), "aria-label": `Select rows tagged ${tag}: ${formatCount(counts[i] ?? 0)} rows`, disabled: !(counts[i] ?? 0) }, [
        h("span", { text: tag }),
        h("span", { className: "es-muted", text: formatCount(counts[i] ?? 0) }),
      ]);
      b.addEventListener("click", (e) => model.send({ type: "select_tag", tag, additive: e.shiftKey || e.ctrlKey || e.metaKey }));
      return h("li", {}, [b]);
    });
    return h("ul", { className: "es-counts", "aria-label": "Tag counts" }, items);
  };

  const cardView = (card: RowCard | null): HTMLElement => {
    const n = Number(model.get("n_queue") ?? 0);
    const position = Number(model.get("position") ?? 0);
    if (!card) return h("p", { className: "es-muted", text: "Nothing to review: no rows in the selection match." });
    const prev = h("button", { type: "button", "aria-label": "Previous row", "data-focus": "prev", text: "‹ Previous (k)", disabled: position <= 0 });
    const next = h("button", { type: "button", "aria-label": "Next row", "data-focus": "next", text: "Next (j) ›", disabled: position >= n - 1 });
    prev.addEventListener("click", () => move(-1));
    next.addEventListener("click", () => move(1));
    const note = h("textarea", { rows: 2, "aria-label": "Note", placeholder: "Note (n to focus; saved on Enter or leaving the field)", "data-focus": "note" });
    note.value = card.note;
    const saveNote = (): void => {
      if (note.value !== card.note) model.send({ type: "note", note: note.value });
    };
    note.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        saveNote();
      }
    });
    note.addEventListener("blur", saveNote);
    const relabel = h("select", { "aria-label": "Correct label", "data-focus": "relabel" }, [h("option", { value: "", text: "label is right" })]);
    for (const c of (model.get("class_names") ?? []) as string[]) relabel.append(h("option", { value: c, text: `label is wrong: correct is ${c}` }));
    relabel.value = card.relabel;
    relabel.addEventListener("change", () => model.send({ type: "relabel", label: relabel.value }));
    const fields = h("dl", { className: "es-fields" });
    for (const [name, value] of card.fields ?? []) fields.append(h("dt", { text: name }), h("dd", { text: value }));
    return h("article", { className: "es-card", "aria-label": `Row ${card.id}: actual ${card.actual}, predicted ${card.predicted}` }, [
      h("div", { className: "es-card-head" }, [
        h("span", { text: `Row ${formatCount(position + 1)} of ${formatCount(n)}` }),
        h("strong", { text: `id ${card.id}` }),
        h("span", { className: card.wrong ? "es-wrong-label" : "", text: `actual ${card.actual} · predicted ${card.predicted}` }),
        card.score === null ? null : h("span", { className: "es-muted", text: `confidence ${formatPercent(card.score)}` }),
        card.tags.length ? h("span", { className: "es-muted", text: `tags: ${card.tags.join(", ")}` }) : null,
      ]),
      card.text ? h("blockquote", { className: "es-text", text: card.text }) : null,
      card.shap?.length
        ? h("ul", { className: "es-shap", "aria-label": `Top SHAP contributions to ${card.predicted}` }, card.shap.map(([f, v, c]) =>
            h("li", { className: c > 0 ? "es-up" : "es-down", text: `${f} = ${v}: ${c > 0 ? "+" : "−"}${Math.abs(c).toFixed(3)}` })))
        : null,
      fields,
      h("div", { className: "es-card-edit" }, [note, relabel]),
      h("div", { className: "es-pager" }, [prev, next]),
    ]);
  };

  const listView = (): HTMLElement => {
    const rows = (model.get("list_rows") ?? []) as RowCard[];
    const checked = new Set((model.get("checked") ?? []) as string[]);
    const n = Number(model.get("n_queue") ?? 0);
    const page = Number(model.get("list_page") ?? 0);
    const size = Number(model.get("list_page_size") ?? 10);
    const body = h("tbody");
    for (const r of rows) {
      const box = h("input", { type: "checkbox", "aria-label": `Check row ${r.id}` });
      box.checked = checked.has(r.id);
      box.addEventListener("change", () => {
        const next = new Set((model.get("checked") ?? []) as string[]);
        if (box.checked) next.add(r.id);
        else next.delete(r.id);
        setTrait("checked", Array.from(next));
      });
      body.append(h("tr", { "aria-label": `row ${r.id}: actual ${r.actual}, predicted ${r.predicted}` }, [
        h("td", {}, [box]),
        h("td", { text: r.id }),
        h("td", { text: r.actual }),
        h("td", { text: r.predicted }),
        h("td", { text: r.score === null ? "" : formatPercent(r.score) }),
        h("td", { text: r.tags.join(", ") }),
        h("td", { text: r.note }),
      ]));
    }
    return h("div", {}, [
      h("table", { className: "es-table", "aria-label": "Rows to review" }, [
        h("thead", {}, [h("tr", {}, ["", "id", "actual", "predicted", "confidence", "tags", "note"].map((t) => h("th", { scope: "col", text: t })))]),
        body,
      ]),
      pager(page, n, size, "page of rows", (p) => setTrait("list_page", p), "list_page"),
    ]);
  };

  const paint = (): void => {
    const focused = (document.activeElement as HTMLElement | null)?.closest?.("[data-focus]")?.getAttribute("data-focus");
    const rootHadFocus = document.activeElement === root;
    const card = (model.get("card") ?? {}) as RowCard;
    const hasCard = typeof card.id === "string";
    const n = Number(model.get("n_queue") ?? 0);
    root.setAttribute("data-rows", String(Number(model.get("n_rows") ?? 0)));
    const clause = String(model.get("clause_text") ?? "");
    const orderSelect = h("select", { "aria-label": "Review order" });
    for (const [value, text] of ORDERS) orderSelect.append(h("option", { value, text }));
    orderSelect.value = String(model.get("order"));
    orderSelect.addEventListener("change", () => setTrait("order", orderSelect.value));
    const errorsOnly = h("input", { type: "checkbox" });
    errorsOnly.checked = Boolean(model.get("errors_only"));
    errorsOnly.addEventListener("change", () => setTrait("errors_only", errorsOnly.checked));
    const mode = String(model.get("mode") ?? "card");
    const modeButton = h("button", { type: "button", "aria-label": mode === "card" ? "Show list view" : "Show card view", text: mode === "card" ? "List view" : "Card view" });
    modeButton.addEventListener("click", () => setTrait("mode", mode === "card" ? "list" : "card"));
    const undo = h("button", { type: "button", "aria-label": "Undo last action", title: "Undo (u)", text: "Undo", disabled: !model.get("can_undo") });
    undo.addEventListener("click", () => model.send({ type: "undo" }));
    root.replaceChildren(
      h("div", { className: "es-header" }, [
        h("span", { className: "es-title", text: "Error tagger" }),
        h("span", { text: `${formatCount(n)} rows to review` }),
        clause ? h("span", { className: "es-chip" }, [h("span", { text: clause })]) : null,
        h("span", { className: "es-muted es-status", role: "status", "aria-live": "polite", title: String(model.get("store_path") ?? ""), text: String(model.get("status") ?? "") }),
      ]),
      h("div", { className: "es-toolbar" }, [
        h("label", {}, ["Order ", orderSelect]),
        h("label", {}, [errorsOnly, "Errors only"]),
        modeButton,
        undo,
      ]),
      tagBar(hasCard ? card : null),
      h("div", { className: "es-tagger-body" }, [mode === "card" ? cardView(hasCard ? card : null) : listView(), countsList()]),
    );
    if (rootHadFocus) root.focus();
    else if (focused) root.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`)?.focus();
  };

  root.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement;
    if (e.key === "Escape") {
      e.preventDefault();
      if (target.matches("input, textarea, select")) root.focus();
      else model.send({ type: "clear" });
      return;
    }
    if (target.matches("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
    const action = keyAction(e.key, vocabulary().length);
    if (!action) return;
    e.preventDefault();
    if (action.kind === "tag") model.send({ type: "toggle_tag", tag: vocabulary()[action.index] });
    else if (action.kind === "move") move(action.delta);
    else if (action.kind === "undo") model.send({ type: "undo" });
    else root.querySelector<HTMLTextAreaElement>("textarea")?.focus();
  });
  return mountView(
    model,
    root,
    ["vocabulary", "counts", "selected_tags", "order", "errors_only", "mode", "n_queue", "position", "card", "list_page", "list_rows", "checked", "class_names", "status", "can_undo", "n_rows", "clause_text"],
    paint,
    false,
  );
}

export default { render };
