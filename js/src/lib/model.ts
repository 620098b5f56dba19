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

/** Paint now and on every change of `traits`; Escape in `root` clears the view's selection unless
 * `escapeClears` is false. Returns the widget's cleanup (stop listening, remove the root). */
export function mountView(model: WidgetModel, root: HTMLElement, traits: string[], paint: () => void, escapeClears = true): () => void {
  if (escapeClears)
    root.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        model.send({ type: "clear" });
      }
    });
  const stop = onTraits(model, traits, paint);
  paint();
  return () => {
    stop();
    root.remove();
  };
}
