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
  /** A regression's residual (prediction − actual) as text, and its number. */
  residual?: string;
  residual_value?: number;
  tags: string[];
  note: string;
  relabel: string;
  text: string;
  fields?: [string, string, boolean][];
  shap?: [string, string, number][];
  position?: number;
}

/** What a key asks for, queued in the order it was pressed. */
export type Action = { kind: "tag"; tag: string } | { kind: "move"; delta: number } | { kind: "undo" };

/** Applies keys in order to the row the view shows. A move or an undo waits for the kernel's
 * acknowledgement (by then the new card is shown) before the next key acts; a tag names the shown row's
 * id and says add or remove from what the user sees (their earlier, unacknowledged keys included). */
export class KeyQueue {
  private seq = 0;
  private waitingFor: number | null = null;
  private pending: Action[] = [];
  private overlay = new Map<string, Map<string, { on: boolean; seq: number }>>(); // row id -> tag -> sent state

  constructor(
    private readonly send: (content: Record<string, unknown>) => void,
    private readonly shown: () => RowCard | null,
    private readonly size: () => number,
  ) {}

  /** Queue an action; it runs now unless an earlier move or undo is still on its way. */
  push(action: Action): void {
    this.pending.push(action);
    this.drain();
  }

  /** Send a message that acts at once (note, relabel, checked rows); returns its seq. */
  message(content: Record<string, unknown>): number {
    this.seq += 1;
    this.send({ ...content, seq: this.seq });
    return this.seq;
  }

  /** The kernel has handled every message up to `seq` (and sent the state they caused). */
  ack(seq: number): void {
    if (this.waitingFor !== null && seq >= this.waitingFor) this.waitingFor = null;
    for (const [id, tags] of this.overlay) {
      for (const [tag, entry] of tags) if (entry.seq <= seq) tags.delete(tag);
      if (!tags.size) this.overlay.delete(id);
    }
    this.drain();
  }

  /** Whether keys are waiting for a row the view has not shown yet. */
  get busy(): boolean {
    return this.waitingFor !== null;
  }

  /** The card's tags as the user's keys left them, acknowledged or not. */
  tagsOf(card: RowCard): string[] {
    const tags = new Set(card.tags);
    for (const [tag, entry] of this.overlay.get(card.id) ?? []) {
      if (entry.on) tags.add(tag);
      else tags.delete(tag);
    }
    return Array.from(tags);
  }

  private drain(): void {
    while (this.waitingFor === null && this.pending.length) {
      const action = this.pending.shift()!;
      const card = this.shown();
      if (action.kind === "undo") {
        this.waitingFor = this.message({ type: "undo" });
      } else if (card && action.kind === "move") {
        const from = card.position ?? 0;
        const to = Math.max(0, Math.min(this.size() - 1, from + action.delta));
        if (to !== from) this.waitingFor = this.message({ type: "goto", position: to });
      } else if (card && action.kind === "tag") {
        const on = this.tagsOf(card).includes(action.tag);
        const seq = this.message({ type: on ? "untag" : "tag", ids: [card.id], tag: action.tag });
        if (!this.overlay.has(card.id)) this.overlay.set(card.id, new Map());
        this.overlay.get(card.id)!.set(action.tag, { on: !on, seq });
      }
    }
  }
}

const ORDERS: [string, string][] = [
  ["confident_wrong", "Confident and wrong first"],
  ["loss", "Highest loss first"],
  ["least_confident", "Least confident first"],
  ["stratified_random", "Random, stratified by class"],
  ["id", "By id"],
];

/** A regression's queue orders (residual = prediction − actual). */
export const REGRESSION_ORDERS: [string, string][] = [
  ["loss", "Largest |residual| first"],
  ["over_prediction", "Largest over-predictions first"],
  ["under_prediction", "Largest under-predictions first"],
  ["stratified_random", "Random, stratified by actual value"],
  ["id", "By id"],
];

/** What a typed relabel sends: the number's text, "" (clear), or null when it is not a number. */
export function relabelNumber(text: string): string | null {
  const typed = text.trim().replace("\u2212", "-");
  if (typed === "") return "";
  const value = Number(typed);
  return Number.isFinite(value) ? String(value) : null;
}

/** Keys that act on the card, or null: digits toggle tags, j/k (or arrows) move, s skips, u undoes, n
 * goes to the note and r to the relabel (the correct class, or a regression's corrected value). */
export function keyAction(key: string, nTags: number): { kind: "tag"; index: number } | { kind: "move"; delta: number } | { kind: "undo" } | { kind: "note" } | { kind: "relabel" } | null {
  if (/^[1-9]$/.test(key) && Number(key) <= nTags) return { kind: "tag", index: Number(key) - 1 };
  if (key === "j" || key === "ArrowRight" || key === "s") return { kind: "move", delta: 1 };
  if (key === "k" || key === "ArrowLeft") return { kind: "move", delta: -1 };
  if (key === "u") return { kind: "undo" };
  if (key === "n") return { kind: "note" };
  if (key === "r") return { kind: "relabel" };
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
  const checkedIds = (): string[] => (model.get("checked") ?? []) as string[];
  const shownCard = (): RowCard | null => {
    const card = (model.get("card") ?? {}) as RowCard;
    return typeof card.id === "string" ? { ...card, position: card.position ?? Number(model.get("position") ?? 0) } : null;
  };
  const view = Math.random().toString(36).slice(2); // acknowledgements reach every view of the model
  const keys = new KeyQueue((content) => model.send({ ...content, view }), shownCard, () => Number(model.get("n_queue") ?? 0));
  const onMessage = (content: unknown): void => {
    const msg = content as { type?: string; seq?: number; view?: string };
    if (msg?.type !== "ack" || msg.view !== view || typeof msg.seq !== "number") return;
    keys.ack(msg.seq);
    paint();
  };
  model.on("msg:custom", onMessage as () => void);
  const move = (delta: number): void => keys.push({ kind: "move", delta });
  /** The rows a note or a relabel acts on: the checked rows, else the card's row. */
  const targets = (card: RowCard): string[] => (checkedIds().length ? checkedIds() : [card.id]);
  /** A tag key or button: toggles it on the checked rows at once, else queues it for the shown row. */
  const tagKey = (tag: string): void => {
    if (checkedIds().length) keys.message({ type: "toggle_tag", ids: checkedIds(), tag });
    else keys.push({ kind: "tag", tag });
  };

  const tagBar = (card: RowCard | null): HTMLElement => {
    const checked = checkedIds();
    const target = checked.length ? `${checked.length} checked rows` : card ? `row ${card.id}` : "";
    const shownTags = card ? keys.tagsOf(card) : [];
    const buttons = vocabulary().map((tag, i) => {
      const on = !checked.length && shownTags.includes(tag);
      const b = h("button", { type: "button", className: "es-tag", "aria-pressed": String(on), "aria-label": `Tag ${target} ${tag}${i < 9 ? ` (key ${i + 1})` : ""}`, "data-focus": `tag-${i}`, disabled: !target }, [
        i < 9 ? h("kbd", { text: String(i + 1) }) : null,
        h("span", { text: tag }),
      ]);
      b.addEventListener("click", () => tagKey(tag));
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

  const regression = (): boolean => model.get("task") === "regression";
  /** A classifier's relabel: the correct class, from a list. */
  const classRelabel = (card: RowCard): HTMLElement => {
    const relabel = h("select", { "aria-label": "Correct label", "data-focus": "relabel" }, [h("option", { value: "", text: "label is right" })]);
    for (const c of (model.get("class_names") ?? []) as string[]) relabel.append(h("option", { value: c, text: `label is wrong: correct is ${c}` }));
    relabel.value = card.relabel;
    relabel.addEventListener("change", () => keys.message({ type: "relabel", ids: targets(card), label: relabel.value }));
    return relabel;
  };
  /** A regression's relabel: the corrected value, typed in a number input (saved on Enter or leaving it;
   * empty clears it; what is not a number is refused here, and by the kernel). */
  const numberRelabel = (card: RowCard): HTMLElement => {
    const input = h("input", { type: "number", step: "any", inputmode: "decimal", placeholder: "value is right (r)", "aria-label": "Corrected value", "data-focus": "relabel" });
    input.value = card.relabel;
    const save = (): void => {
      const label = relabelNumber(input.value);
      if (label === null || input.validity.badInput) {
        input.setAttribute("aria-invalid", "true");
        return;
      }
      input.removeAttribute("aria-invalid");
      if (label !== card.relabel) keys.message({ type: "relabel", ids: targets(card), label });
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        save();
      }
    });
    input.addEventListener("change", save);
    return h("label", { className: "es-relabel" }, ["Corrected value ", input]);
  };

  const cardView = (card: RowCard | null): HTMLElement => {
    const n = Number(model.get("n_queue") ?? 0);
    if (!card) return h("p", { className: "es-muted", text: "Nothing to review: no rows in the selection match." });
    const position = card.position ?? 0;
    const prev = h("button", { type: "button", "aria-label": "Previous row", "data-focus": "prev", text: "‹ Previous (k)", disabled: position <= 0 });
    const next = h("button", { type: "button", "aria-label": "Next row", "data-focus": "next", text: "Next (j) ›", disabled: position >= n - 1 });
    prev.addEventListener("click", () => move(-1));
    next.addEventListener("click", () => move(1));
    const note = h("textarea", { rows: 2, "aria-label": "Note", placeholder: "Note (n to focus; saved on Enter or leaving the field)", "data-focus": "note" });
    note.value = card.note;
    const saveNote = (): void => {
      if (note.value !== card.note) keys.message({ type: "note", ids: targets(card), note: note.value });
    };
    note.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        saveNote();
      }
    });
    note.addEventListener("blur", saveNote);
    const relabel = regression() ? numberRelabel(card) : classRelabel(card);
    const fields = h("dl", { className: "es-fields", role: "region", "aria-label": `Features of row ${card.id}`, tabindex: 0, "data-focus": "fields" });
    for (const [name, value, sensitive] of card.fields ?? []) {
      fields.append(h("div", { className: sensitive ? "es-field es-sensitive" : "es-field" }, [
        h("dt", { text: name, title: sensitive ? `${name} (sensitive attribute)` : name }),
        h("dd", { text: value }),
      ]));
    }
    const tags = keys.tagsOf(card);
    const outcome = regression() ? `actual ${card.actual} · predicted ${card.predicted} · residual ${card.residual ?? ""}` : `actual ${card.actual} · predicted ${card.predicted}`;
    return h("article", { className: "es-card", "aria-label": `Row ${card.id}: ${outcome.replaceAll(" · ", ", ")}`, "aria-busy": String(keys.busy) }, [
      h("div", { className: "es-card-head" }, [
        h("span", { text: `Row ${formatCount(position + 1)} of ${formatCount(n)}` }),
        h("strong", { text: `id ${card.id}` }),
        h("span", { className: card.wrong ? "es-wrong-label" : "", text: outcome }),
        card.score === null ? null : h("span", { className: "es-muted", text: `confidence ${formatPercent(card.score)}` }),
        tags.length ? h("span", { className: "es-muted", text: `tags: ${tags.join(", ")}` }) : null,
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
      body.append(h("tr", { "aria-label": `row ${r.id}: actual ${r.actual}, predicted ${r.predicted}${regression() ? `, residual ${r.residual ?? ""}` : ""}` }, [
        h("td", {}, [box]),
        h("td", { text: r.id }),
        h("td", { text: r.actual }),
        h("td", { text: r.predicted }),
        h("td", { text: regression() ? (r.residual ?? "") : r.score === null ? "" : formatPercent(r.score) }),
        h("td", { text: r.tags.join(", ") }),
        h("td", { text: r.note }),
      ]));
    }
    return h("div", {}, [
      h("div", { className: "es-list-scroll" }, [ // a narrow notebook scrolls the list, never clips it
        h("table", { className: "es-table", "aria-label": "Rows to review" }, [
          h("thead", {}, [h("tr", {}, ["", "id", "actual", "predicted", regression() ? "residual" : "confidence", "tags", "note"].map((t) => h("th", { scope: "col", text: t })))]),
          body,
        ]),
      ]),
      pager(page, n, size, "page of rows", (p) => setTrait("list_page", p), "list_page"),
    ]);
  };

  let paintedCard: string | null = null;
  const paint = (): void => {
    const focused = (document.activeElement as HTMLElement | null)?.closest?.("[data-focus]")?.getAttribute("data-focus");
    const rootHadFocus = document.activeElement === root;
    const card = shownCard();
    // what is being typed (a note, a corrected value, a tag name) survives a repaint of the same row
    const active = document.activeElement;
    const typing = root.contains(active) && (active instanceof HTMLTextAreaElement || (active instanceof HTMLInputElement && active.type !== "checkbox"));
    const draft = typing && (card?.id ?? null) === paintedCard ? (active as HTMLInputElement).value : null;
    paintedCard = card?.id ?? null;
    const n = Number(model.get("n_queue") ?? 0);
    root.setAttribute("data-rows", String(Number(model.get("n_rows") ?? 0)));
    const clause = String(model.get("clause_text") ?? "");
    const orderSelect = h("select", { "aria-label": "Review order" });
    for (const [value, text] of regression() ? REGRESSION_ORDERS : ORDERS) orderSelect.append(h("option", { value, text }));
    orderSelect.value = String(model.get("order"));
    orderSelect.addEventListener("change", () => setTrait("order", orderSelect.value));
    const errorsOnly = h("input", { type: "checkbox" });
    errorsOnly.checked = Boolean(model.get("errors_only"));
    errorsOnly.addEventListener("change", () => setTrait("errors_only", errorsOnly.checked));
    const mode = String(model.get("mode") ?? "card");
    const modeButton = h("button", { type: "button", "aria-label": mode === "card" ? "Show list view" : "Show card view", text: mode === "card" ? "List view" : "Card view" });
    modeButton.addEventListener("click", () => setTrait("mode", mode === "card" ? "list" : "card"));
    const undo = h("button", { type: "button", "aria-label": "Undo last action", title: "Undo (u)", text: "Undo", disabled: !model.get("can_undo") });
    undo.addEventListener("click", () => keys.push({ kind: "undo" }));
    root.replaceChildren(
      h("div", { className: "es-header" }, [
        h("span", { className: "es-title", text: "Error tagger" }),
        h("span", { text: `${formatCount(n)} rows to review` }),
        clause ? h("span", { className: "es-chip" }, [h("span", { text: clause })]) : null,
        h("span", { className: "es-muted es-status", role: "status", "aria-live": "polite", title: String(model.get("store_path") ?? ""), text: String(model.get("status") ?? "") }),
      ]),
      h("div", { className: "es-toolbar" }, [
        h("label", {}, ["Order ", orderSelect]),
        regression() ? null : h("label", {}, [errorsOnly, "Errors only"]),
        modeButton,
        undo,
      ]),
      tagBar(card),
      h("div", { className: "es-tagger-body" }, [mode === "card" ? cardView(card) : listView(), countsList()]),
    );
    if (rootHadFocus) root.focus();
    else if (focused) {
      const target = root.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focused)}"]`);
      if (draft !== null && (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement)) target.value = draft;
      target?.focus();
    }
  };

  root.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement;
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      if (target.matches("input, textarea, select")) root.focus();
      else model.send({ type: "clear" });
      return;
    }
    if (target.matches("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
    const action = keyAction(e.key, vocabulary().length);
    if (!action) return;
    e.preventDefault();
    e.stopPropagation(); // a handled key never reaches the notebook's shortcuts
    if (action.kind === "note" || action.kind === "relabel") {
      root.querySelector<HTMLElement>(action.kind === "note" ? "textarea" : '[data-focus="relabel"]')?.focus();
      return;
    }
    if (action.kind === "tag") tagKey(vocabulary()[action.index]!);
    else if (action.kind === "move") move(action.delta);
    else keys.push({ kind: "undo" });
    paint(); // the keys' effect (tags, waiting for a row) shows before the kernel answers
  });
  const unmount = mountView(
    model,
    root,
    ["vocabulary", "counts", "selected_tags", "order", "errors_only", "mode", "n_queue", "position", "card", "list_page", "list_rows", "checked", "class_names", "task", "status", "can_undo", "n_rows", "clause_text"],
    paint,
    false,
  );
  return () => {
    model.off("msg:custom", onMessage as () => void);
    unmount();
  };
}

export default { render };
