/** Test doubles shared by the widget tests. */
import type { WidgetModel } from "../src/lib/model";

/** A minimal stand-in for anywidget's model: traits, change events and sent messages. */
export class MockModel implements WidgetModel {
  sent: unknown[] = [];
  private handlers = new Map<string, Set<() => void>>();
  constructor(private state: Record<string, unknown>) {}
  get(name: string): any {
    return this.state[name];
  }
  set(name: string, value: unknown): void {
    this.state[name] = value;
    this.handlers.get(`change:${name}`)?.forEach((f) => f());
  }
  save_changes(): void {}
  on(event: string, cb: () => void): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(cb);
  }
  off(event?: string | null, cb?: (() => void) | null): void {
    if (event && cb) this.handlers.get(event)?.delete(cb);
  }
  send(content: unknown): void {
    this.sent.push(content);
  }
  /** The kernel sending a custom message (`widget.send(content)` in Python). */
  receive(content: unknown): void {
    this.handlers.get("msg:custom")?.forEach((f) => (f as (c: unknown) => void)(content));
  }
}

export const u32 = (xs: number[]): DataView => new DataView(new Uint32Array(xs).buffer);
export const f64 = (xs: number[]): DataView => new DataView(new Float64Array(xs).buffer);

