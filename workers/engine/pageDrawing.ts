/**
 * The page's drawing turns, seen from the worker. On a machine whose cores the training keeps
 * busy (tfjs-wasm's threads take every core by default), a chart's redraw on the page waits for a
 * core and a 20 ms redraw lasts 50 ms and more. The page raises a flag in shared memory while a
 * chart draws (src/bridge/pageDrawing.ts); the training loop, between two steps, waits while it is
 * raised, so the redraw gets the cores. The wait is bounded: a page that never lowers the flag
 * costs each step at most MAX_GIVE_WAY_MS.
 *
 * The flag is an Int32Array over a SharedArrayBuffer: element 0 is 1 while the page draws, 0
 * otherwise. Without cross-origin isolation there is no shared memory and nothing waits.
 */

/** The longest one wait between two steps may last (ms). */
export const MAX_GIVE_WAY_MS = 50;

let flag: Int32Array | null = null;
let helps: () => boolean = () => true;

/**
 * Watches the page's drawing flag (null: nothing to watch, the loop never waits). `waitingHelps`
 * says whether waiting helps now: it does when the training computes on the CPU (wasm, cpu);
 * a GPU's queued work goes on while the loop waits, so there waiting would only slow training.
 */
export function watchPageDrawing(
  buffer: SharedArrayBuffer | null,
  waitingHelps: () => boolean = () => true,
): void {
  flag = buffer && buffer.byteLength >= 4 ? new Int32Array(buffer, 0, 1) : null;
  helps = waitingHelps;
}

/**
 * Blocks the thread while the page draws, for MAX_GIVE_WAY_MS at most; returns the milliseconds
 * waited (0 when the page is not drawing). Called between two steps, never inside one.
 */
export function giveWayToPage(maxMs = MAX_GIVE_WAY_MS): number {
  if (flag === null || Atomics.load(flag, 0) === 0 || !helps()) return 0;
  const start = performance.now();
  let waited = 0;
  while (Atomics.load(flag, 0) !== 0 && waited < maxMs) {
    Atomics.wait(flag, 0, 1, maxMs - waited);
    waited = performance.now() - start;
  }
  return waited;
}
