import { pageDrawing } from '../bridge/pageDrawing';

/**
 * One chart redraw per main-thread task. When a chart's data changes, recharts recomputes its
 * whole internal store and redraws synchronously (useSyncExternalStore updates cannot be sliced
 * by a transition), about 5-30 ms of main-thread time per chart here. Several charts whose data
 * arrives in the same store update would do that in one task, and on a machine whose cores the
 * training worker keeps busy such a task passes 50 ms. The queue hands out turns: a chart asks
 * for its redraw, the queue starts it in a task of its own, and the next one starts once the
 * chart says it has drawn (after its commit's effects) or after MAX_TURN_MS, in a task after the
 * next two frames: recharts finishes a drawing there (its store notifies its parts in an
 * animation frame callback, and a new chart measures itself in a ResizeObserver callback), and
 * two charts finishing in the same frame would share its task.
 */

/** A turn that never reports back (the chart unmounted, React dropped the render) ends here. */
export const MAX_TURN_MS = 250;

/** The page stops saying it draws this long after the last turn at the latest (ms). */
export const MAX_SETTLE_MS = 50;

/**
 * While a run trains, turns start at least this far apart (ms): at most about three redraws a
 * second, however many charts a method draws. A chart that waits keeps its place with its
 * latest data, so it skips the values it would have shown in between. Each redraw allocates
 * about 1.4 MB on the page's heap (recharts' store state, the chart's elements), part of it
 * alive until the chart's next redraw; V8's young-generation collections, which copy what is
 * alive, came every 2-3 s in a UMEC run at six or seven redraws a second, and each took 5-25 ms
 * of the page's CPU and 8-37 ms of wall time. Fewer redraws mean fewer collections.
 */
export const MIN_TURN_INTERVAL_MS = 300;

/** Timers for the queue (a manual clock in tests). Each returns a function that cancels. */
export interface Scheduler {
  /** `run` in a task of its own after `ms`. */
  later(run: () => void, ms: number): () => void;
  /** `run` in a task of its own after the next frames. */
  afterFrame(run: () => void): () => void;
  /** `run` in a task of its own after the next frame's animation frame callbacks. */
  afterNextFrame(run: () => void): () => void;
  /** The time now (ms). */
  now(): number;
}

/** `run` in a task of its own after `count` frames' animation frame callbacks. */
function afterFrames(count: number, run: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let frame: number | undefined;
  const wait = (left: number) => {
    frame = requestAnimationFrame(() => {
      frame = undefined;
      if (left > 1) wait(left - 1);
      else timer = setTimeout(run, 0);
    });
  };
  if (typeof requestAnimationFrame === 'function') wait(count);
  else timer = setTimeout(run, 16 * count);
  return () => {
    if (frame !== undefined) cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
}

const browserScheduler: Scheduler = {
  later(run, ms) {
    const handle = setTimeout(run, ms);
    return () => clearTimeout(handle);
  },
  // Two frames: a chart that mounts measures itself in the first and draws in a render React
  // schedules from there.
  afterFrame: (run) => afterFrames(2, run),
  afterNextFrame: (run) => afterFrames(1, run),
  now: () => performance.now(),
};

interface Turn {
  key: object;
  apply: () => void;
}

export class RedrawQueue {
  private waiting: Turn[] = [];
  private current: object | null = null;
  private endTurn: (() => void) | null = null;
  private starting: (() => void) | null = null;
  private settling: (() => void) | null = null;
  private granting: (() => void) | null = null;
  /** When the last turn started (schedule.now()). */
  private lastStart = Number.NEGATIVE_INFINITY;

  /**
   * `onDrawing(true)` as a turn starts, `onDrawing(false)` after the frame that follows its end
   * (recharts finishes drawing there) unless the next turn has started: the page tells the
   * training worker (src/bridge/pageDrawing.ts), which leaves it the cores meanwhile. The turn's
   * redraw runs when `whenGranted` calls it (the training loop has reached a step boundary and
   * stopped there; at once when none runs); its MAX_TURN_MS count from then. While `paced()`
   * holds (a run trains), turns start MIN_TURN_INTERVAL_MS apart at least.
   */
  constructor(
    private readonly schedule: Scheduler = browserScheduler,
    private readonly onDrawing: (drawing: boolean) => void = () => undefined,
    private readonly whenGranted: (draw: () => void) => () => void = (draw) => {
      draw();
      return () => undefined;
    },
    private readonly paced: () => boolean = () => false,
  ) {}

  /**
   * Asks for a redraw: `apply` runs in a task of its own when the turn comes. A key already
   * waiting keeps its place, with the latest `apply`.
   */
  request(key: object, apply: () => void): void {
    const queued = this.waiting.find((t) => t.key === key);
    if (queued) queued.apply = apply;
    else this.waiting.push({ key, apply });
    this.pump();
  }

  /** The key's redraw is on screen: the next turn may start (in a later task). */
  done(key: object): void {
    if (this.current !== key) return;
    this.current = null;
    this.granting?.();
    this.granting = null;
    this.settling?.();
    // After the next frame, or MAX_SETTLE_MS when no frame comes (a hidden tab has none).
    const settle = () => {
      this.settling?.();
      if (this.current === null) this.onDrawing(false);
    };
    const byFrame = this.schedule.afterNextFrame(settle);
    const byTimer = this.schedule.later(settle, MAX_SETTLE_MS);
    this.settling = () => {
      byFrame();
      byTimer();
      this.settling = null;
    };
    this.endTurn?.();
    this.endTurn = null;
    this.pump();
  }

  /** The key no longer wants a turn (its chart unmounted). */
  cancel(key: object): void {
    this.waiting = this.waiting.filter((t) => t.key !== key);
    this.done(key);
  }

  /** Keys waiting, in order (for tests). */
  get pending(): object[] {
    return this.waiting.map((t) => t.key);
  }

  private pump(): void {
    if (this.current !== null || this.starting !== null || this.waiting.length === 0) return;
    const wait = this.paced() ? this.lastStart + MIN_TURN_INTERVAL_MS - this.schedule.now() : 0;
    if (wait > 0) {
      this.starting = this.schedule.later(() => {
        this.starting = null;
        this.pump();
      }, wait);
      return;
    }
    this.starting = this.schedule.afterFrame(() => {
      this.starting = null;
      const turn = this.waiting.shift();
      if (!turn) return;
      this.lastStart = this.schedule.now();
      this.current = turn.key;
      this.onDrawing(true);
      let granted = false;
      const cancel = this.whenGranted(() => {
        granted = true;
        this.granting = null;
        if (this.current !== turn.key) return;
        this.endTurn = this.schedule.later(() => this.done(turn.key), MAX_TURN_MS);
        turn.apply();
      });
      // Granted at once (no loop to wait for): nothing is left to cancel.
      if (!granted) this.granting = cancel;
    });
  }
}

/** The app's queue: every live chart takes its turns here. */
export const chartRedraws = new RedrawQueue(
  browserScheduler,
  (drawing) => pageDrawing.set(drawing),
  (draw) => pageDrawing.whenGranted(draw),
  () => pageDrawing.trainingGivesWay,
);
