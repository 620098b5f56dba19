/** The part of anywidget's model interface the widgets use (kept minimal so tests can mock it). */
export interface WidgetModel {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: () => void): void;
  off(event?: string | null, callback?: (() => void) | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: unknown[]): void;
}

/** Call `paint` once per animation frame however many of `traits` change together. */
export function onTraits(model: WidgetModel, traits: string[], paint: () => void): () => void {
  let pending = false;
  const schedule = (): void => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      paint();
    });
  };
  for (const t of traits) model.on(`change:${t}`, schedule);
  return () => {
    for (const t of traits) model.off(`change:${t}`, schedule);
  };
}

/** Wrap a view's `paint` so that the kernel's error for the view (its `error` trait: the last recompute
 * failed) is shown first in `root`, as an alert, until a recompute succeeds. */
export function withError(model: WidgetModel, root: HTMLElement, paint: () => void): () => void {
  return () => {
    paint();
    const text = String(model.get("error") ?? "");
    let banner = root.querySelector<HTMLElement>(":scope > .es-error");
    if (!text) {
      banner?.remove();
      return;
    }
    if (!banner) {
      banner = document.createElement("div");
      banner.className = "es-error";
      banner.setAttribute("role", "alert");
    }
    root.prepend(banner);
    banner.textContent = `This view could not be updated (it shows the previous rows): ${text}`;
  };
}

/** Show the kernel's progress messages (`{type: "progress", percent}`, sent while a long query scans the
 * data) as a progress bar at the top of `root`, over what the view shows now; `percent: null` removes it.
 * Returns what stops listening. */
export function showProgress(model: WidgetModel, root: HTMLElement): () => void {
  const onMessage = (content: unknown): void => {
    const message = content as { type?: string; percent?: number | null };
    if (message?.type !== "progress") return;
    let bar = root.querySelector<HTMLElement>(":scope > .es-scan");
    if (message.percent == null || !Number.isFinite(message.percent)) {
      bar?.remove();
      root.removeAttribute("aria-busy");
      return;
    }
    if (!bar) {
      bar = document.createElement("div");
      bar.className = "es-scan";
      bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-label", "Scanning the data");
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      const fill = document.createElement("div");
      fill.className = "es-scan-fill";
      const text = document.createElement("span");
      text.className = "es-scan-text";
      bar.append(fill, text);
    }
    root.prepend(bar);
    root.setAttribute("aria-busy", "true");
    const percent = Math.max(0, Math.min(100, message.percent));
    bar.setAttribute("aria-valuenow", String(percent));
    bar.querySelector<HTMLElement>(".es-scan-fill")!.style.width = `${percent}%`;
    bar.querySelector<HTMLElement>(".es-scan-text")!.textContent = `Scanning the data: ${Math.round(percent)}%`;
  };
  model.on("msg:custom", onMessage as () => void);
  return () => model.off("msg:custom", onMessage as () => void);
}

/** The traits every view watches for the active-model picker (see withModelPicker). */
export const MODEL_TRAITS = ["models", "active_model"];

/** Wrap a view's `paint` so that, when the evaluation holds more than one model (its `models` trait), a
 * labelled picker of the active model ("Model", accessible name "Active model") sits at the top of `root`
 * (after an error banner or a progress bar); choosing a model sends `{type: "active_model", model}`.
 * With one model there is no picker. The picker is one element kept across repaints (a view's
 * `replaceChildren` takes it out; it is put back, and focused again if it had the focus); no key pressed
 * in it reaches the notebook or the view's own shortcuts. */
export function withModelPicker(model: WidgetModel, root: HTMLElement, paint: () => void): () => void {
  const select = document.createElement("select");
  select.setAttribute("aria-label", "Active model");
  select.addEventListener("change", () => model.send({ type: "active_model", model: select.value }));
  select.addEventListener("keydown", (e) => e.stopPropagation());
  const picker = document.createElement("label");
  picker.className = "es-model-picker";
  picker.append("Model ", select);
  let shown = "";
  return () => {
    const hadFocus = document.activeElement === select;
    paint();
    const models = ((model.get("models") ?? []) as unknown[]).map(String);
    if (models.length < 2) {
      picker.remove();
      shown = "";
      return;
    }
    const key = JSON.stringify(models);
    if (key !== shown) {
      select.replaceChildren(
        ...models.map((name) => {
          const option = document.createElement("option");
          option.value = name;
          option.textContent = name;
          return option;
        }),
      );
      shown = key;
    }
    select.value = String(model.get("active_model") ?? models[0]);
    // first in the root, after only an error banner or a progress bar; not moved when already there
    // (moving a focused element takes the focus away)
    const above = (el: Element | null): boolean => !!el && (el.classList.contains("es-error") || el.classList.contains("es-scan"));
    let placed = picker.parentElement === root;
    for (let el = picker.previousElementSibling; placed && el; el = el.previousElementSibling) placed = above(el);
    if (!placed) {
      let next = root.firstElementChild;
      while (next && next !== picker && above(next)) next = next.nextElementSibling;
      if (next !== picker) root.insertBefore(picker, next);
    }
    if (hadFocus && document.activeElement !== select) select.focus();
  };
}

/** Paint now and on every change of `traits` (and of `error`, see withError, and of the models, see
 * withModelPicker); Escape in `root` clears the view's selection unless `escapeClears` is false.
 * Returns the widget's cleanup (stop listening, remove the root). */
export function mountView(model: WidgetModel, root: HTMLElement, traits: string[], paint: () => void, escapeClears = true): () => void {
  if (escapeClears)
    root.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        model.send({ type: "clear" });
      }
    });
  const draw = withError(model, root, withModelPicker(model, root, paint));
  const stop = onTraits(model, [...traits, ...MODEL_TRAITS, "error"], draw);
  const stopProgress = showProgress(model, root);
  draw();
  return () => {
    stop();
    stopProgress();
    root.remove();
  };
}
