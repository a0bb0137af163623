/**
 * Tells the engine worker when the page draws a chart, so that the training loop leaves the
 * machine's cores to the redraw for that long (workers/engine/pageDrawing.ts has the worker's
 * side). The flag lives in a SharedArrayBuffer: element 0 of an Int32Array is 1 while a chart
 * draws. A page that is not cross-origin isolated has no shared memory: then there is no flag,
 * and the worker never waits.
 */
export class PageDrawingFlag {
  readonly buffer: SharedArrayBuffer | null;
  private readonly view: Int32Array | null;

  constructor(shared: boolean = PageDrawingFlag.sharedMemory()) {
    this.buffer = shared ? new SharedArrayBuffer(4) : null;
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

  /** A chart starts drawing (true) or has drawn (false). */
  set(drawing: boolean): void {
    if (!this.view) return;
    const up = drawing && !(typeof document !== 'undefined' && document.hidden);
    Atomics.store(this.view, 0, up ? 1 : 0);
    if (!up) Atomics.notify(this.view, 0);
  }

  get drawing(): boolean {
    return this.view !== null && Atomics.load(this.view, 0) !== 0;
  }
}

/** The page's flag, shared with every engine worker the page starts. */
export const pageDrawing = new PageDrawingFlag();
