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

/** Paint now and on every change of `traits` (and of `error`, see withError); Escape in `root` clears the view's selection unless
 * `escapeClears` is false. Returns the widget's cleanup (stop listening, remove the root). */
export function mountView(model: WidgetModel, root: HTMLElement, traits: string[], paint: () => void, escapeClears = true): () => void {
  if (escapeClears)
    root.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        model.send({ type: "clear" });
      }
    });
  const draw = withError(model, root, paint);
  const stop = onTraits(model, [...traits, "error"], draw);
  const stopProgress = showProgress(model, root);
  draw();
  return () => {
    stop();
    stopProgress();
    root.remove();
  };
}
