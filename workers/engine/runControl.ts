import type { OptionValue } from '../options';
import type { PhaseResult } from '../protocol';
import { giveWayToPage, loopStopped } from './pageDrawing';

/**
 * Pause / resume / stop and live setting changes for a running loop, plus a cheap yield so
 * control messages get through.
 *
 * While the loop is paused, one task may run aside (runAside: PEP's retrain of a snapshot now,
 * on a model of its own) with a control of its own: stopping the aside task leaves the paused
 * run as it is, and the loop does not go on, even when resumed, until the task has ended.
 */
export class RunControl {
  private pausedResolve: (() => void) | null = null;
  private pausedPromise: Promise<void> | null = null;
  private tuning = new Map<string, OptionValue>();
  /** True while the loop waits in waitWhilePaused (between two steps). */
  private parked = false;
  private asideTask: Promise<unknown> | null = null;
  private asideControl: RunControl | null = null;
  stopRequested = false;
  /**
   * Set by the trainer while a run goes whose method can do it: retrains snapshot `snapshot`
   * (from 1) now, while the run is paused, and resolves with what that retrain did.
   */
  retrainSnapshotNow: ((snapshot: number) => Promise<PhaseResult>) | null = null;

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

  /** Whether a task runs aside (runAside) now. */
  get asideRunning(): boolean {
    return this.asideTask !== null;
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

  /** Stops the loop, and the task running aside if there is one. */
  stop(): void {
    this.stopRequested = true;
    this.asideControl?.stop();
    this.resume();
  }

  /** Stops only the task running aside (the run stays paused); false when none runs. */
  stopAside(): boolean {
    if (!this.asideControl) return false;
    this.asideControl.stop();
    return true;
  }

  /**
   * Waits while the run is paused, and, after a resume, until the task running aside (if any)
   * has ended: the loop never steps while it runs.
   */
  async waitWhilePaused(): Promise<void> {
    this.parked = true;
    try {
      while (this.pausedPromise || this.asideTask) {
        // Not stepping: the page's charts need not wait for this loop (a task aside beats on
        // its own steps).
        loopStopped();
        await (this.pausedPromise ?? this.asideTask?.catch(() => undefined));
      }
    } finally {
      this.parked = false;
    }
  }

  /**
   * Runs `task` while the loop is paused between two steps, with a control of its own (never
   * paused; stopped by stopAside or stop). One at a time; refused unless the loop is parked.
   */
  async runAside<T>(task: (control: RunControl) => Promise<T>): Promise<T> {
    if (this.stopRequested) throw new Error('The run is stopping');
    if (!this.paused || !this.parked) {
      throw new Error('Pause the run first (it pauses after the step in progress)');
    }
    if (this.asideTask) throw new Error('A retrain is already running: wait for it or stop it');
    const control = new RunControl();
    this.asideControl = control;
    const running = task(control);
    this.asideTask = running;
    try {
      return await running;
    } finally {
      this.asideTask = null;
      this.asideControl = null;
    }
  }
}

/**
 * Leaves the cores to the page while it draws a chart (pageDrawing.ts), then lets queued
 * messages (pause, stop) run. A resolved promise would not: it is a microtask, and the cpu
 * backend's `data()` resolves as one, so a loop of them never yields to the event loop.
 */
export function yieldToEventLoop(): Promise<void> {
  giveWayToPage();
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
