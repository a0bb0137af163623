import type { OptionValue } from '../options';

/**
 * Pause / resume / stop and live setting changes for a running loop, plus a cheap yield so
 * control messages get through.
 */
export class RunControl {
  private pausedResolve: (() => void) | null = null;
  private pausedPromise: Promise<void> | null = null;
  private tuning = new Map<string, OptionValue>();
  stopRequested = false;

  /** Queues validated setting changes (`train.<key>` / `method.<key>`) for the next step. */
  requestTuning(changes: Record<string, OptionValue>): void {
    for (const [key, value] of Object.entries(changes)) this.tuning.set(key, value);
  }

  /** The changes queued since the last call (the loop applies them before its next step). */
  takeTuning(): [string, OptionValue][] {
    if (this.tuning.size === 0) return [];
    const out = [...this.tuning];
    this.tuning.clear();
    return out;
  }

  get paused(): boolean {
    return this.pausedPromise !== null;
  }

  pause(): void {
    if (this.pausedPromise) return;
    this.pausedPromise = new Promise((resolve) => (this.pausedResolve = resolve));
  }

  resume(): void {
    this.pausedResolve?.();
    this.pausedPromise = null;
    this.pausedResolve = null;
  }

  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  async waitWhilePaused(): Promise<void> {
    while (this.pausedPromise) await this.pausedPromise;
  }
}

/**
 * Lets queued messages (pause, stop) run. A resolved promise would not: it is a microtask, and
 * the cpu backend's `data()` resolves as one, so a loop of them never yields to the event loop.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel === 'undefined') {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
