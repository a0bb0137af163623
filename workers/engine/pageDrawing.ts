/**
 * The page's drawing turns, seen from the worker. On a machine whose cores the training keeps
 * busy (tfjs-wasm's threads take every core by default; an emulated GPU's threads do the same), a
 * chart's redraw on the page waits for a core and a 20 ms redraw lasts 50 ms and more. The page
 * asks for the cores before a chart draws (src/bridge/pageDrawing.ts); the training loop, between
 * two steps, grants them and waits until the page has drawn, so the redraw gets the cores. The
 * wait is bounded: a page that never lowers the flag costs each step at most MAX_GIVE_WAY_MS.
 *
 * The shared memory is an Int32Array over a SharedArrayBuffer:
 * - element 0, the flag: PAGE_IDLE, PAGE_ASKS (a chart is about to draw: the page waits for the
 *   next step boundary, at most its own bound) or PAGE_DRAWS (the loop has stopped between two
 *   steps and the page draws);
 * - element 1, the loop's heartbeat: the wall clock (ms, modulo HEARTBEAT_MODULUS) at its last
 *   step boundary where waiting helps, 0 once the loop has stopped (loopStopped). The page only
 *   waits for a grant from a loop that beats, so a paused or finished run, a run being set up,
 *   or one on a real GPU never delays a chart.
 * Without cross-origin isolation there is no shared memory and nothing waits.
 */

/** The longest one wait between two steps may last (ms). */
export const MAX_GIVE_WAY_MS = 50;

export const PAGE_IDLE = 0;
export const PAGE_ASKS = 1;
export const PAGE_DRAWS = 2;
/** Heartbeats are wall-clock milliseconds modulo this (they fit an Int32). */
export const HEARTBEAT_MODULUS = 2 ** 30;

let flag: Int32Array | null = null;
let helps: () => boolean = () => true;

/**
 * Watches the page's drawing flag (null: nothing to watch, the loop never waits). `waitingHelps`
 * says whether waiting helps now: it does when the training computes on the CPU (wasm, cpu, an
 * emulated GPU); a real GPU's queued work goes on while the loop waits, so there waiting would
 * only slow training.
 */
export function watchPageDrawing(
  buffer: SharedArrayBuffer | null,
  waitingHelps: () => boolean = () => true,
): void {
  flag = buffer && buffer.byteLength >= 8 ? new Int32Array(buffer, 0, 2) : null;
  helps = waitingHelps;
}

/** Whether the loop gives way to the page now: the page watches, and waiting helps here. */
export function givesWayToPage(): boolean {
  return flag !== null && helps();
}

/**
 * The training loop has stopped stepping (its run ended, or it is paused): the page no longer
 * waits for it to grant a turn. It beats again at its next step boundary.
 */
export function loopStopped(): void {
  if (flag !== null) Atomics.store(flag, 1, 0);
}

/**
 * Blocks the thread while the page asks for the cores or draws, for MAX_GIVE_WAY_MS at most;
 * returns the milliseconds waited (0 when the page is not drawing). Called between two steps,
 * never inside one.
 */
export function giveWayToPage(maxMs = MAX_GIVE_WAY_MS): number {
  if (flag === null || !helps()) return 0;
  Atomics.store(flag, 1, Date.now() % HEARTBEAT_MODULUS);
  if (Atomics.load(flag, 0) === PAGE_IDLE) return 0;
  const start = performance.now();
  let waited = 0;
  for (;;) {
    const state = Atomics.load(flag, 0);
    if (state === PAGE_IDLE || waited >= maxMs) break;
    if (state === PAGE_ASKS) {
      // The page may draw now (unless it lowered the flag meanwhile: then the loop goes on).
      Atomics.compareExchange(flag, 0, PAGE_ASKS, PAGE_DRAWS);
      Atomics.notify(flag, 0);
      continue;
    }
    Atomics.wait(flag, 0, state, maxMs - waited);
    waited = performance.now() - start;
  }
  return waited;
}
