/**
 * Tells the engine worker when the page draws a chart, so that the training loop leaves the
 * machine's cores to the redraw for that long (workers/engine/pageDrawing.ts has the worker's
 * side and the layout of the shared memory). Before a chart draws the page asks (ASKS) and, when
 * a training loop that gives way is running, waits for it to stop at its next step boundary
 * (DRAWS) before drawing, so the redraw does not share the cores with a step already under way.
 * A page that is not cross-origin isolated has no shared memory: then there is no flag, and
 * nothing waits.
 */

const IDLE = 0;
const ASKS = 1;
const DRAWS = 2;
/** The worker's heartbeats: wall-clock ms modulo this (workers/engine/pageDrawing.ts). */
const HEARTBEAT_MODULUS = 2 ** 30;
/** A loop whose last step boundary is older than this is not waited for (ms). */
export const HEARTBEAT_FRESH_MS = 1_000;
/** The longest a chart waits for the training loop's next step boundary (ms). */
export const MAX_GRANT_WAIT_MS = 400;

/** Atomics.waitAsync (ES2024; Chromium has it, the lab's TypeScript lib is ES2022). */
type WaitAsync = (
  view: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/**
 * Marks a granted turn in the page's performance timeline (`chart-turn-granted`, its wait for
 * the step boundary in `detail.waitedMs`), for traces and tests; cleared at once, so that the
 * page's buffer of marks does not grow during a long run (an observer still sees each one).
 */
function markGranted(waitedMs: number): void {
  if (typeof performance.mark !== 'function') return;
  performance.mark('chart-turn-granted', { detail: { waitedMs } });
  performance.clearMarks('chart-turn-granted');
}

export class PageDrawingFlag {
  readonly buffer: SharedArrayBuffer | null;
  private readonly view: Int32Array | null;

  constructor(shared: boolean = PageDrawingFlag.sharedMemory()) {
    this.buffer = shared ? new SharedArrayBuffer(8) : null;
    this.view = this.buffer ? new Int32Array(this.buffer) : null;
    // A hidden page draws nothing (no frames come to end a turn's drawing): the flag goes down
    // at once, and stays down while the page is hidden.
    if (this.view && typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', () => {
        if (document.hidden) this.set(false);
      });
    }
  }

  /** Whether this page can share memory with its workers. */
  static sharedMemory(): boolean {
    return (
      typeof SharedArrayBuffer !== 'undefined' &&
      typeof crossOriginIsolated !== 'undefined' &&
      crossOriginIsolated
    );
  }

  /** A chart is about to draw (true: asks for the cores) or has drawn (false). */
  set(drawing: boolean): void {
    if (!this.view) return;
    const up = drawing && !(typeof document !== 'undefined' && document.hidden);
    Atomics.store(this.view, 0, up ? ASKS : IDLE);
    // Wakes a loop waiting on an earlier turn: it grants this one, or goes on.
    Atomics.notify(this.view, 0);
  }

  get drawing(): boolean {
    return this.view !== null && Atomics.load(this.view, 0) !== IDLE;
  }

  /** Whether a training loop that gives way has reached a step boundary lately. */
  get trainingGivesWay(): boolean {
    if (!this.view) return false;
    const beat = Atomics.load(this.view, 1);
    if (beat === 0) return false;
    const age = (Date.now() - beat + HEARTBEAT_MODULUS) % HEARTBEAT_MODULUS;
    return age < HEARTBEAT_FRESH_MS;
  }

  /**
   * Runs `draw` once the training loop has stopped for the page's asked turn (set(true) first),
   * or at once when no loop gives way or the page does not ask; after `maxMs` at the latest.
   * Returns a function that cancels the run.
   */
  whenGranted(draw: () => void, maxMs = MAX_GRANT_WAIT_MS): () => void {
    const view = this.view;
    if (!view || !this.trainingGivesWay || waitAsync === undefined) {
      draw();
      return () => undefined;
    }
    const wait = waitAsync.call(Atomics, view, 0, ASKS, maxMs);
    if (!wait.async) {
      draw();
      return () => undefined;
    }
    let cancelled = false;
    const asked = performance.now();
    void wait.value.then(() => {
      if (cancelled) return;
      if (Atomics.load(view, 0) === DRAWS) markGranted(performance.now() - asked);
      draw();
    });
    return () => {
      cancelled = true;
    };
  }
}

/** The page's flag, shared with every engine worker the page starts. */
export const pageDrawing = new PageDrawingFlag();
