import { afterEach, describe, expect, it } from "vitest";
import widget, { keyAction } from "../src/error_tagger";
import { MockModel } from "./mock";

const EVIL = "<img src=x onerror=alert(1)>";

function setup() {
  const card = { id: "7", actual: "a", predicted: "b", wrong: true, score: 0.9, tags: [EVIL], note: "<b>n</b>", relabel: "", text: "</script>", fields: [["x", "1"]] };
  const model = new MockModel({
    vocabulary: [EVIL, "ambiguous"], counts: [1, 0], selected_tags: [], order: "confident_wrong", errors_only: true, mode: "card",
    n_queue: 2, position: 0, card, list_page: 0, list_page_size: 10, list_rows: [card], checked: [], class_names: ["a", "b"],
    status: "", can_undo: true, n_rows: 10, clause_text: "",
  });
  const el = document.createElement("div");
  document.body.append(el);
  widget.render({ model, el });
  return { model, el };
}

afterEach(() => document.body.replaceChildren());

describe("error tagger", () => {
  it("maps keys to actions", () => {
    expect(keyAction("1", 2)).toEqual({ kind: "tag", index: 0 });
    expect(keyAction("3", 2)).toBeNull();
    expect(keyAction("j", 2)).toEqual({ kind: "move", delta: 1 });
    expect(keyAction("ArrowLeft", 2)).toEqual({ kind: "move", delta: -1 });
    expect(keyAction("u", 2)).toEqual({ kind: "undo" });
  });
  it("renders a labelled region with markup as text, and tags by key", () => {
    const { el, model } = setup();
    const root = el.querySelector<HTMLElement>('[role="region"]')!;
    expect(root.getAttribute("aria-label")).toBe("Error tagger");
    expect(root.getAttribute("data-rows")).toBe("10");
    expect(el.querySelector("img, b, script")).toBeNull();
    expect(el.textContent).toContain(EVIL);
    expect(el.querySelector<HTMLTextAreaElement>("textarea")!.value).toBe("<b>n</b>");
    const buttons = Array.from(el.querySelectorAll("button.es-tag"));
    expect(buttons.map((b) => b.getAttribute("aria-label"))).toEqual([`Tag row 7 ${EVIL} (key 1)`, "Tag row 7 ambiguous (key 2)"]);
    expect(buttons[0]!.getAttribute("aria-pressed")).toBe("true");
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "2", bubbles: true }));
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "j", bubbles: true }));
    expect(model.sent).toEqual([{ type: "toggle_tag", tag: "ambiguous" }]);
    expect(model.get("position")).toBe(1);
  });
});
