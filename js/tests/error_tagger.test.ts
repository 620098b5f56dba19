import { afterEach, describe, expect, it } from "vitest";
import widget, { KeyQueue, keyAction, relabelNumber, type RowCard } from "../src/error_tagger";
import { MockModel } from "./mock";

const EVIL = "<img src=x onerror=alert(1)>";

/** The mock model, plus the kernel's custom messages (the tagger's acknowledgements). */
class TaggerModel extends MockModel {
  private custom: ((content: unknown) => void)[] = [];
  override on(event: string, cb: () => void): void {
    if (event === "msg:custom") this.custom.push(cb as (content: unknown) => void);
    else super.on(event, cb);
  }
  receive(content: unknown): void {
    this.custom.forEach((f) => f(content));
  }
}

const row = (id: string, position: number, tags: string[] = []): RowCard => ({
  id, position, tags, actual: "a", predicted: "b", wrong: true, score: null, note: "", relabel: "", text: "",
});

function setup() {
  const card = { id: "7", actual: "a", predicted: "b", wrong: true, score: 0.9, tags: [EVIL], note: "<b>n</b>", relabel: "", text: "</script>", fields: [["x", "1", false], ["sex", "f", true]], position: 0 };
  const model = new TaggerModel({
    vocabulary: [EVIL, "ambiguous"], counts: [1, 0], selected_tags: [], order: "confident_wrong", errors_only: true, mode: "card",
    n_queue: 2, position: 0, card, list_page: 0, list_page_size: 10, list_rows: [card], checked: [], class_names: ["a", "b"],
    status: "", can_undo: true, n_rows: 10, clause_text: "",
  });
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  return { model, el, card };
}

afterEach(() => document.body.replaceChildren());

describe("error tagger", () => {
  it("maps keys to actions", () => {
    expect(keyAction("1", 2)).toEqual({ kind: "tag", index: 0 });
    expect(keyAction("3", 2)).toBeNull();
    expect(keyAction("j", 2)).toEqual({ kind: "move", delta: 1 });
    expect(keyAction("ArrowLeft", 2)).toEqual({ kind: "move", delta: -1 });
    expect(keyAction("u", 2)).toEqual({ kind: "undo" });
    expect(keyAction("r", 2)).toEqual({ kind: "relabel" });
  });
  it("renders a labelled region with markup as text, and tags by key", () => {
    const { el, model, card } = setup();
    const root = el.querySelector<HTMLElement>('[role="region"]')!;
    expect(root.getAttribute("aria-label")).toBe("Error tagger");
    expect(root.getAttribute("data-rows")).toBe("10");
    expect(el.querySelector("img, b, script")).toBeNull();
    expect(el.textContent).toContain(EVIL);
    expect(el.querySelector<HTMLTextAreaElement>("textarea")!.value).toBe("<b>n</b>");
    const buttons = Array.from(el.querySelectorAll("button.es-tag"));
    expect(buttons.map((b) => b.getAttribute("aria-label"))).toEqual([`Tag row 7 ${EVIL} (key 1)`, "Tag row 7 ambiguous (key 2)"]);
    expect(buttons[0]!.getAttribute("aria-pressed")).toBe("true");
    const fields = el.querySelector<HTMLElement>("dl.es-fields")!;
    expect(fields.getAttribute("aria-label")).toBe("Features of row 7");
    expect(Array.from(fields.querySelectorAll(".es-sensitive dt")).map((d) => d.textContent)).toEqual(["sex"]);

    const leaked: string[] = [];
    el.addEventListener("keydown", (e) => leaked.push(e.key));
    for (const key of ["2", "j", "1"]) root.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
    expect(leaked).toEqual([]); // handled keys stop at the widget
    const view = (model.sent[0] as { view: string }).view;
    expect(model.sent).toEqual([
      { type: "tag", ids: ["7"], tag: "ambiguous", seq: 1, view },
      { type: "goto", position: 1, seq: 2, view },
    ]); // "1" waits for the row "j" moves to
    expect(el.querySelector("article")!.getAttribute("aria-busy")).toBe("true");
    model.set("card", { ...card, id: "8", tags: [], position: 1 });
    model.receive({ type: "ack", seq: 2, view: "another view" });
    expect(model.sent).toHaveLength(2);
    model.receive({ type: "ack", seq: 2, view });
    expect(model.sent.at(-1)).toEqual({ type: "tag", ids: ["8"], tag: EVIL, seq: 3, view });
    expect(el.querySelector("article")!.getAttribute("aria-busy")).toBe("false");
  });
});

describe("key queue", () => {
  function queue(start: RowCard) {
    const sent: Record<string, unknown>[] = [];
    let shown = start;
    const keys = new KeyQueue((m) => sent.push(m), () => shown, () => 3);
    return { sent, keys, show: (card: RowCard) => (shown = card) };
  }
  it("decides add or remove from what the user sees, unacknowledged keys included", () => {
    const { sent, keys, show } = queue(row("a", 0));
    keys.push({ kind: "tag", tag: "t" });
    keys.push({ kind: "tag", tag: "t" });
    expect(sent.map((m) => m.type)).toEqual(["tag", "untag"]);
    expect(keys.tagsOf(row("a", 0))).toEqual([]);
    show(row("a", 0, ["t"])); // the kernel's card after the first message only
    keys.ack(1);
    expect(keys.tagsOf(row("a", 0, ["t"]))).toEqual([]); // the second is still on its way
    keys.push({ kind: "tag", tag: "t" });
    expect(sent.at(-1)).toEqual({ type: "tag", ids: ["a"], tag: "t", seq: 3 });
  });
  it("waits for a move or an undo to be shown before the next key, and stops at the queue's ends", () => {
    const { sent, keys, show } = queue(row("a", 0));
    keys.push({ kind: "move", delta: -1 }); // already at the top: nothing to send
    keys.push({ kind: "move", delta: 1 });
    keys.push({ kind: "tag", tag: "t" });
    keys.push({ kind: "undo" });
    keys.push({ kind: "tag", tag: "t" });
    expect(sent).toEqual([{ type: "goto", position: 1, seq: 1 }]);
    expect(keys.busy).toBe(true);
    keys.ack(0); // an older acknowledgement does not release the wait
    expect(sent).toHaveLength(1);
    show(row("b", 1));
    keys.ack(1);
    expect(sent.slice(1)).toEqual([{ type: "tag", ids: ["b"], tag: "t", seq: 2 }, { type: "undo", seq: 3 }]);
    show(row("b", 1, []));
    keys.ack(3);
    expect(sent.at(-1)).toEqual({ type: "tag", ids: ["b"], tag: "t", seq: 4 }); // after the undo: add again
    show(row("c", 2));
    keys.push({ kind: "move", delta: 1 }); // already at the end
    expect(sent).toHaveLength(4);
  });
});

const REGRESSION_CARD = { id: "12", actual: "75.04", predicted: "112.0", residual: "+36.96", residual_value: 36.96, wrong: false, score: null, tags: [] as string[], note: "", relabel: "", text: "", fields: [], position: 0 };

/** A regression's tagger showing `card`. */
function regression(card = REGRESSION_CARD) {
  const model = new TaggerModel({
    vocabulary: ["mislabeled"], counts: [0], selected_tags: [], order: "loss", errors_only: false, mode: "card", task: "regression",
    n_queue: 5, position: 0, card, list_page: 0, list_page_size: 10, list_rows: [card], checked: [], class_names: [],
    status: "", can_undo: false, n_rows: 5, clause_text: "",
  });
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  return { model, el };
}

describe("error tagger on a regression", () => {
  it("offers the residual orders, shows actual, predicted and residual, and no errors-only box", () => {
    const { el } = regression();
    const order = el.querySelector<HTMLSelectElement>('select[aria-label="Review order"]')!;
    expect(Array.from(order.options).map((o) => o.value)).toEqual(["loss", "over_prediction", "under_prediction", "stratified_random", "id"]);
    expect(el.textContent).toContain("actual 75.04 · predicted 112.0 · residual +36.96");
    expect(el.querySelector("article")!.getAttribute("aria-label")).toBe("Row 12: actual 75.04, predicted 112.0, residual +36.96");
    expect(el.textContent).not.toContain("Errors only");
    expect(el.querySelector('select[aria-label="Correct label"]')).toBeNull();
  });
  it("relabels with a typed number on Enter, and refuses what is not one", () => {
    const { el, model } = regression();
    const input = el.querySelector<HTMLInputElement>('input[aria-label="Corrected value"]')!;
    expect(input.type).toBe("number");
    expect(input.closest("label")!.textContent).toContain("Corrected value");
    input.value = "73.5";
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.sent.at(-1)).toMatchObject({ type: "relabel", ids: ["12"], label: "73.5" });
    expect(relabelNumber("abc")).toBeNull();
    expect(relabelNumber(" −4 ")).toBe("-4");
    expect(relabelNumber("")).toBe("");
  });
});

describe("error tagger repaints", () => {
  it("keep what is being typed in the same row's fields", async () => {
    const flush = () => new Promise((r) => setTimeout(r, 0));
    const g = globalThis as unknown as { CSS?: { escape: (s: string) => string } };
    g.CSS ??= { escape: (s: string) => s }; // jsdom has no CSS.escape
    const card = REGRESSION_CARD;
    const { el, model } = regression(card);
    const input = el.querySelector<HTMLInputElement>('input[aria-label="Corrected value"]')!;
    input.focus();
    input.value = "7";
    model.set("card", { ...card, tags: ["mislabeled"] }); // the kernel's answer to an earlier key
    await flush();
    const again = el.querySelector<HTMLInputElement>('input[aria-label="Corrected value"]')!;
    expect(again).not.toBe(input);
    expect(again.value).toBe("7");
    expect(document.activeElement).toBe(again);
    model.set("card", { ...card, id: "4" }); // another row: its own (empty) value
    await flush();
    expect(el.querySelector<HTMLInputElement>('input[aria-label="Corrected value"]')!.value).toBe("");
  });
});
