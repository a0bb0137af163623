/**
 * Keeps every per-step figure of a run in growable typed arrays and hands the charts a decimated
 * view (a few hundred points), so chart cost stays flat however long a run is.
 */
export interface SeriesPoint {
  step: number;
  loss: number;
  /** Exponential moving average of the loss, easier to read than the raw per-batch values. */
  smoothed: number;
}

export class StepSeries {
  private steps = new Int32Array(1024);
  private losses = new Float32Array(1024);
  private ema = new Float32Array(1024);
  private emaState = Number.NaN;
  length = 0;

  constructor(private readonly emaAlpha = 0.05) {}

  append(steps: Int32Array, losses: Float32Array): void {
    const needed = this.length + steps.length;
    if (needed > this.steps.length) {
      const cap = Math.max(needed, this.steps.length * 2);
      this.steps = grow(this.steps, cap);
      this.losses = grow(this.losses, cap);
      this.ema = grow(this.ema, cap);
    }
    for (let i = 0; i < steps.length; i++) {
      const loss = losses[i];
      this.emaState = Number.isNaN(this.emaState)
        ? loss
        : this.emaState + this.emaAlpha * (loss - this.emaState);
      this.steps[this.length] = steps[i];
      this.losses[this.length] = loss;
      this.ema[this.length] = this.emaState;
      this.length++;
    }
  }

  /** At most `maxPoints` points: bucket means of the loss, last smoothed value of each bucket. */
  decimate(maxPoints: number): SeriesPoint[] {
    const n = this.length;
    if (n === 0) return [];
    const bucket = Math.max(1, Math.ceil(n / maxPoints));
    const out: SeriesPoint[] = [];
    for (let start = 0; start < n; start += bucket) {
      const end = Math.min(n, start + bucket);
      let sum = 0;
      for (let i = start; i < end; i++) sum += this.losses[i];
      out.push({
        step: this.steps[end - 1],
        loss: sum / (end - start),
        smoothed: this.ema[end - 1],
      });
    }
    return out;
  }

  /** Mean raw loss over the first or last `k` steps (for "is the loss falling"). */
  meanLoss(which: 'first' | 'last', k: number): number {
    const n = Math.min(k, this.length);
    if (n === 0) return Number.NaN;
    const start = which === 'first' ? 0 : this.length - n;
    let sum = 0;
    for (let i = start; i < start + n; i++) sum += this.losses[i];
    return sum / n;
  }

  get lastStep(): number {
    return this.length > 0 ? this.steps[this.length - 1] : 0;
  }
}

function grow<T extends Int32Array | Float32Array>(a: T, cap: number): T {
  const b = (a instanceof Int32Array ? new Int32Array(cap) : new Float32Array(cap)) as T;
  b.set(a);
  return b;
}

export interface ValuePoint {
  step: number;
  value: number;
}

/**
 * One step series of a method (sparsity, a threshold, a dual variable...): every value kept in
 * typed arrays, handed to charts as bucket means (NaN entries, steps without a value, skipped).
 */
export class ValueSeries {
  private steps = new Int32Array(256);
  private values = new Float32Array(256);
  length = 0;

  append(steps: Int32Array, values: Float32Array): void {
    for (let i = 0; i < steps.length; i++) {
      const v = values[i];
      if (Number.isNaN(v)) continue;
      if (this.length === this.steps.length) {
        this.steps = grow(this.steps, this.length * 2);
        this.values = grow(this.values, this.length * 2);
      }
      this.steps[this.length] = steps[i];
      this.values[this.length] = v;
      this.length++;
    }
  }

  decimate(maxPoints: number): ValuePoint[] {
    const n = this.length;
    const bucket = Math.max(1, Math.ceil(n / maxPoints));
    const out: ValuePoint[] = [];
    for (let start = 0; start < n; start += bucket) {
      const end = Math.min(n, start + bucket);
      let sum = 0;
      for (let i = start; i < end; i++) sum += this.values[i];
      out.push({ step: this.steps[end - 1], value: sum / (end - start) });
    }
    return out;
  }
}
