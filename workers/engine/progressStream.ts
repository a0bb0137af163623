/**
 * Batches what a run streams to the UI: per-step losses and times, the method's step series
 * aligned with them, and its vectors and histograms (the latest of each replaces the one before).
 * A batch goes out every `everySteps` steps or `everyMs` milliseconds, whichever comes first, so
 * the main thread handles a few messages a second, never one per step.
 */
import type { EngineEvent, MemoryInfo, MethodPoint } from '../protocol';

/** Vectors and histograms change slowly and cost a chart redraw: at most this often. */
const VECTOR_EVERY_MS = 500;

type LatestValue = Extract<
  EngineEvent,
  { type: 'method-vector' | 'method-histogram' | 'method-points' }
>;

export class ProgressStream {
  private steps: Int32Array;
  private losses: Float32Array;
  private stepMs: Float32Array;
  private series = new Map<string, Float32Array>();
  private pending = 0;
  private lastFlush = performance.now();
  private latest = new Map<string, LatestValue>();
  private lastVectorFlush = 0;
  phase = 0;
  epoch = 0;
  totalSteps = 0;

  constructor(
    private readonly emit: (event: EngineEvent) => void,
    private readonly memory: () => MemoryInfo,
    private readonly everySteps: number,
    private readonly everyMs: number,
  ) {
    this.steps = new Int32Array(everySteps);
    this.losses = new Float32Array(everySteps);
    this.stepMs = new Float32Array(everySteps);
  }

  /** Records a finished step; flushes when the batch is full or old enough. */
  step(step: number, loss: number, ms: number): void {
    const i = this.pending++;
    this.steps[i] = step;
    this.losses[i] = loss;
    this.stepMs[i] = ms;
  }

  /** Adds time spent after the step (a method's per-step work) to the step recorded last. */
  addTime(ms: number): void {
    if (this.pending > 0) this.stepMs[this.pending - 1] += ms;
  }

  /** A value of a step series for the step recorded last. */
  record(series: string, value: number): void {
    if (this.pending === 0) return;
    let values = this.series.get(series);
    if (!values) {
      values = new Float32Array(this.everySteps).fill(Number.NaN);
      this.series.set(series, values);
    }
    values[this.pending - 1] = value;
  }

  vector(series: string, step: number, values: ArrayLike<number>, labels: string[]): void {
    this.latest.set(series, {
      type: 'method-vector',
      series,
      step,
      values: Float32Array.from(values),
      labels: [...labels],
    });
  }

  histogram(
    series: string,
    step: number,
    edges: ArrayLike<number>,
    counts: ArrayLike<number>,
  ): void {
    this.latest.set(series, {
      type: 'method-histogram',
      series,
      step,
      edges: Float32Array.from(edges),
      counts: Float32Array.from(counts),
    });
  }

  points(series: string, step: number, points: MethodPoint[]): void {
    this.latest.set(series, {
      type: 'method-points',
      series,
      step,
      points: points.map((p) => ({ ...p })),
    });
  }

  /** Called after each step: sends a batch when it is due. */
  maybeFlush(): void {
    if (this.pending === this.everySteps || performance.now() - this.lastFlush >= this.everyMs) {
      this.flush(false);
    }
  }

  /** Sends what is pending; vectors only when `all` or when they have not gone out lately. */
  flush(all = true): void {
    if (this.pending > 0) {
      const n = this.pending;
      const series: Record<string, Float32Array> = {};
      for (const [id, values] of this.series) series[id] = values.slice(0, n);
      this.emit({
        type: 'progress',
        batch: {
          steps: this.steps.slice(0, n),
          losses: this.losses.slice(0, n),
          stepMs: this.stepMs.slice(0, n),
          series,
          phase: this.phase,
          epoch: this.epoch,
          totalSteps: this.totalSteps,
          memory: this.memory(),
        },
      });
      this.pending = 0;
      for (const values of this.series.values()) values.fill(Number.NaN);
    }
    this.lastFlush = performance.now();
    if (this.latest.size > 0 && (all || this.lastFlush - this.lastVectorFlush >= VECTOR_EVERY_MS)) {
      for (const event of this.latest.values()) this.emit(event);
      this.latest.clear();
      this.lastVectorFlush = this.lastFlush;
    }
  }
}
