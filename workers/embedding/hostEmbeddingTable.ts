/**
 * An embedding table held in host memory (a Float32Array) with its optimizer state.
 *
 * Why on the host: tfjs has no in-place scatter into a variable, so updating a few rows of a
 * device-resident table costs a full copy of the table every step, and the stock gather gradient
 * builds a dense [vocab, dim] tensor. Here a step uploads only the rows the batch touches, the
 * model runs on the device (webgpu/webgl/wasm/cpu), and the optimizer updates only those rows
 * (mode 'lazy'), or every row in one fused elementwise pass (mode 'exact', dense torch semantics).
 */
import type { EmbeddingOptimizerKind, EmbeddingUpdateMode } from '../protocol';
import type { Rng } from '../rng';
import type { BatchPlan } from './batchPlan';
import type { RowStore } from './rowStore';

export interface SparseOptimizerConfig {
  kind: EmbeddingOptimizerKind;
  mode: EmbeddingUpdateMode;
  learningRate: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** Adam: 1e-8 as torch.optim.Adam; row-wise Adagrad: 1e-8 as FBGEMM. */
  eps: number;
}

export const DEFAULT_SPARSE_OPTIMIZER: SparseOptimizerConfig = {
  kind: 'adam',
  mode: 'lazy',
  learningRate: 1e-3,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};

/** Steps a lazy catch-up replays one by one before it switches to blocks (see catchUpDecay). */
export const EXACT_CATCH_UP = 16;

/** Every step's learning rate and Adam coefficients, for replaying skipped steps. */
class StepHistory {
  private rates = new Float64Array(64);
  /** Adam's lr / (1 - beta1^t) and sqrt(1 - beta2^t) of each step t (read in hot loops). */
  stepSizes = new Float64Array(64);
  bc2Sqrts = new Float64Array(64);
  /** Running sum of log(1 - lr_t * wd) (SGD's decay factors). */
  private sgdLog = new Float64Array(64);
  private last = 0;

  record(t: number, lr: number, o: SparseOptimizerConfig): void {
    if (t >= this.rates.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(Math.max(t + 1, a.length * 2));
        b.set(a);
        return b;
      };
      this.rates = grow(this.rates);
      this.stepSizes = grow(this.stepSizes);
      this.bc2Sqrts = grow(this.bc2Sqrts);
      this.sgdLog = grow(this.sgdLog);
    }
    this.rates[t] = lr;
    this.stepSizes[t] = lr / (1 - o.beta1 ** t);
    this.bc2Sqrts[t] = Math.sqrt(1 - o.beta2 ** t);
    this.sgdLog[t] = (t > 0 ? this.sgdLog[t - 1] : 0) + Math.log1p(-lr * o.weightDecay);
    this.last = t;
  }

  rate(t: number): number {
    return this.rates[t];
  }

  stepSize(t: number): number {
    return this.stepSizes[t];
  }

  bc2Sqrt(t: number): number {
    return this.bc2Sqrts[t];
  }

  /** prod over t in from..to of (1 - lr_t * wd). */
  sgdFactor(from: number, to: number, wd: number): number {
    if (wd === 0 || to > this.last) return to > this.last ? Number.NaN : 1;
    return Math.exp(this.sgdLog[to] - this.sgdLog[from - 1]);
  }

  reset(): void {
    this.last = 0;
  }
}

export type TableInit =
  | { kind: 'xavier-uniform' }
  | { kind: 'zeros' }
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number };

export class HostEmbeddingTable implements RowStore {
  readonly weights: Float32Array;
  /** Adam first / second moments ([rows, dim]), or null for Adagrad. */
  private readonly m: Float32Array | null;
  private readonly v: Float32Array | null;
  /** Row-wise Adagrad accumulator ([rows]), or null for Adam and SGD (SGD keeps no state). */
  private readonly rowAccumulator: Float32Array | null;
  /**
   * 1 = trainable entry, 0 = pruned: held at zero, never updated (magnitude pruning's fine-tune,
   * PEP's lottery-ticket retrain). null = no mask.
   */
  private mask: Uint8Array | null = null;
  /** Optimizer steps taken (shared by all rows, as torch's dense Adam counts them). */
  step = 0;
  private adamStepSize = 0;
  private adamBc2Sqrt = 1;
  private stepLearningRate = 0;
  /** This table's learning rate relative to the run's (a method may train some rows faster). */
  learningRateScale = 1;
  private history: StepHistory | null = null;

  constructor(
    readonly name: string,
    readonly numRows: number,
    readonly dim: number,
    public optimizer: SparseOptimizerConfig,
    init: TableInit,
    rng: Rng,
    /** false: no arrays, only the shape (to count parameters without allocating them). */
    readonly allocated = true,
  ) {
    const size = allocated ? numRows * dim : 0;
    this.weights = new Float32Array(size);
    if (init.kind === 'normal') {
      for (let i = 0; i < size; i++) this.weights[i] = init.std * rng.normal();
    } else if (init.kind === 'constant') {
      this.weights.fill(init.value);
    } else if (init.kind !== 'zeros') {
      // xavier_uniform_ on an [N, d] weight: fan_in = d, fan_out = N (as torch computes it).
      const bound = init.kind === 'uniform' ? init.bound : Math.sqrt(6 / (numRows + dim));
      for (let i = 0; i < size; i++) this.weights[i] = rng.uniform(-bound, bound);
    }
    const adam = optimizer.kind === 'adam';
    this.m = adam ? new Float32Array(size) : null;
    this.v = adam ? new Float32Array(size) : null;
    this.rowAccumulator =
      optimizer.kind === 'rowwise-adagrad' ? new Float32Array(allocated ? numRows : 0) : null;
  }

  get bytes(): number {
    return (
      this.weights.byteLength +
      (this.m?.byteLength ?? 0) +
      (this.v?.byteLength ?? 0) +
      (this.rowAccumulator?.byteLength ?? 0) +
      (this.mask?.byteLength ?? 0)
    );
  }

  setLearningRate(runLearningRate: number): void {
    this.optimizer = { ...this.optimizer, learningRate: runLearningRate * this.learningRateScale };
  }

  /** Fixes pruned entries at zero from now on (mask[i] = 0), or lifts the mask (null). */
  setMask(mask: Uint8Array | null): void {
    if (mask && mask.length !== this.numRows * this.dim) {
      throw new Error(
        `${this.name}: mask has ${mask.length} entries, expected ${this.numRows * this.dim}`,
      );
    }
    this.mask = mask;
    if (mask) {
      const w = this.weights;
      for (let i = 0; i < w.length; i++) if (mask[i] === 0) w[i] = 0;
    }
  }

  get currentMask(): Uint8Array | null {
    return this.mask;
  }

  /** Entries that are not held at zero by the mask (all of them without a mask). */
  get keptEntries(): number {
    if (!this.mask) return this.numRows * this.dim;
    let kept = 0;
    for (let i = 0; i < this.mask.length; i++) kept += this.mask[i];
    return kept;
  }

  /** Forgets the optimizer's moments and step count (a retrain starts its optimizer afresh). */
  resetOptimizerState(): void {
    this.m?.fill(0);
    this.v?.fill(0);
    this.rowAccumulator?.fill(0);
    this.step = 0;
    this.history?.reset();
  }

  saveState(): Float32Array[] {
    return [this.weights.slice()];
  }

  loadState(state: Float32Array[]): void {
    this.weights.set(state[0]);
  }

  /** Copies the rows of `plan.uniqueRows` into a new [U, dim] block. */
  gatherRows(plan: BatchPlan): Float32Array {
    if (!this.allocated) throw new Error(`${this.name}: a shape-only table cannot be trained`);
    const { uniqueRows } = plan;
    const d = this.dim;
    const out = new Float32Array(uniqueRows.length * d);
    for (let u = 0; u < uniqueRows.length; u++) {
      const src = uniqueRows[u] * d;
      out.set(this.weights.subarray(src, src + d), u * d);
    }
    return out;
  }

  /**
   * One optimizer step. `grad` is the loss gradient for the rows of `plan.uniqueRows`
   * ([U, dim], duplicates of an id already summed by the gather's backward).
   */
  applyGradient(plan: BatchPlan, grad: Float32Array): void {
    const d = this.dim;
    if (grad.length !== plan.uniqueRows.length * d) {
      throw new Error(
        `${this.name}: gradient has ${grad.length} values, expected ${plan.uniqueRows.length * d}`,
      );
    }
    this.beginStep();
    if (this.optimizer.mode === 'lazy') {
      for (let u = 0; u < plan.uniqueRows.length; u++) {
        this.updateRow(plan.uniqueRows[u], grad, u * d);
      }
    } else {
      // Dense semantics in one pass: a row outside the batch has gradient weight_decay * value.
      const { planner, generation } = plan;
      if (planner.currentGeneration !== generation) {
        throw new Error(`${this.name}: a newer batch plan replaced this one before its update`);
      }
      for (let row = 0; row < this.numRows; row++) {
        if (planner.isTouched(row, generation)) {
          this.updateRow(row, grad, planner.slotOf[row] * d);
        } else {
          this.updateRow(row, null, 0);
        }
      }
    }
  }

  /**
   * Starts an optimizer step: advances the step count and computes its coefficients. A store
   * that updates rows itself (PEP's fused pass) calls this, then updateRow for each row.
   */
  beginStep(): void {
    this.step++;
    this.useStepCoefficients(this.step, this.optimizer.learningRate);
    if (this.history) this.history.record(this.step, this.optimizer.learningRate, this.optimizer);
  }

  /**
   * Keeps every step's learning rate (and Adam's coefficients), so that catchUpDecay can replay
   * the steps a row skipped. Off by default: only a lazy update that catches up needs it.
   */
  keepStepHistory(): void {
    this.history ??= new StepHistory();
  }

  /**
   * Applies to `row` the decay-only steps `from`..`to` (inclusive) it skipped, as the 'exact'
   * mode applied them (a row outside the batch has gradient weight_decay * value): the first
   * EXACT_CATCH_UP steps one by one, exactly; beyond, for Adam, blocks of doubling length in which
   * the decay gradient is taken as constant (its moments then have closed forms), so a gap of k
   * steps costs O(log k); SGD's decay is a product of factors, exact at any length.
   */
  catchUpDecay(row: number, from: number, to: number): void {
    if (from > to) return;
    const h = this.history;
    if (!h) throw new Error(`${this.name}: catchUpDecay needs keepStepHistory()`);
    const { weightDecay: wd, beta1, beta2, eps } = this.optimizer;
    const d = this.dim;
    const w = this.weights;
    const base = row * d;
    const mask = this.mask;
    if (this.optimizer.kind === 'sgd') {
      const factor = h.sgdFactor(from, to, wd);
      for (let k = 0; k < d; k++) if (mask === null || mask[base + k] !== 0) w[base + k] *= factor;
      return;
    }
    if (!this.m || !this.v) {
      // Row-wise Adagrad: replayed step by step (rarely combined with a catch-up).
      for (let t = from; t <= to; t++) {
        this.useStepCoefficients(t, h.rate(t));
        this.updateRow(row, null, 0);
      }
      this.useStepCoefficients(this.step, this.optimizer.learningRate);
      return;
    }
    const m = this.m;
    const v = this.v;
    const exactEnd = Math.min(to, from + EXACT_CATCH_UP - 1);
    const stepSizes = h.stepSizes;
    const bc2Sqrts = h.bc2Sqrts;
    // Entry by entry (its values stay in registers across the steps), step by step inside.
    for (let k = 0; k < d; k++) {
      const i = base + k;
      if (mask !== null && mask[i] === 0) continue;
      let wi = w[i];
      let mi = m[i];
      let vi = v[i];
      for (let t = from; t <= exactEnd; t++) {
        const g = wd * wi;
        // Rounded to float32 at each step, as the arrays store them in the exact pass.
        mi = Math.fround(beta1 * mi + (1 - beta1) * g);
        vi = Math.fround(beta2 * vi + (1 - beta2) * g * g);
        wi = Math.fround(wi - (stepSizes[t] * mi) / (Math.sqrt(vi) / bc2Sqrts[t] + eps));
      }
      w[i] = wi;
      m[i] = mi;
      v[i] = vi;
    }
    let t = exactEnd + 1;
    let block = EXACT_CATCH_UP;
    while (t <= to) {
      const n = Math.min(block, to - t + 1);
      // Within the block g = wd * w is taken as constant: after j steps the moments are
      // b^j * (moment) + (1 - b^j) * g (or g^2), and the block's steps sum f(j) = stepSize_j *
      // m_j / (sqrt(v_j) / bc2_j + eps), integrated by Simpson's rule on its first, middle and
      // last step.
      const js = [1, (n + 1) / 2, n];
      const ts = [t, t + ((n - 1) >> 1), t + n - 1];
      const b1 = js.map((j) => beta1 ** j);
      const b2 = js.map((j) => beta2 ** j);
      const sizes = ts.map((u) => h.stepSize(u));
      const bc2s = ts.map((u) => h.bc2Sqrt(u));
      const b1n = beta1 ** n;
      const b2n = beta2 ** n;
      for (let k = 0; k < d; k++) {
        const i = base + k;
        if (mask !== null && mask[i] === 0) continue;
        const g = wd * w[i];
        let sum = 0;
        for (let q = 0; q < 3; q++) {
          const mj = b1[q] * m[i] + (1 - b1[q]) * g;
          const vj = b2[q] * v[i] + (1 - b2[q]) * g * g;
          sum += (q === 1 ? 4 : 1) * ((sizes[q] * mj) / (Math.sqrt(vj) / bc2s[q] + eps));
        }
        const delta = (n * sum) / 6;
        // Decay pulls towards zero and Adam's steps stop there (they only hover around it).
        w[i] = Math.abs(delta) >= Math.abs(w[i]) ? 0 : w[i] - delta;
        m[i] = b1n * m[i] + (1 - b1n) * g;
        v[i] = b2n * v[i] + (1 - b2n) * g * g;
      }
      t += n;
      block *= 2;
    }
  }

  /**
   * Sets the coefficients updateRow uses to those of step `t` at learning rate `lr`: Adam's bias
   * corrections depend on the step only, so they are computed once, not once per row (the
   * 'exact' pass visits every row). Replaying a skipped step sets that step's coefficients.
   */
  useStepCoefficients(t: number, lr: number): void {
    const { beta1, beta2 } = this.optimizer;
    this.stepLearningRate = lr;
    this.adamStepSize = lr / (1 - beta1 ** t);
    this.adamBc2Sqrt = Math.sqrt(1 - beta2 ** t);
  }

  /**
   * Updates one row with the coefficients of the current step: `grad[gradOffset ..]` is its loss
   * gradient, or null for a row outside the batch (its gradient is then weight_decay * value).
   */
  updateRow(row: number, grad: Float32Array | null, gradOffset: number): void {
    const { weightDecay: wd, beta1, beta2, eps } = this.optimizer;
    const lr = this.stepLearningRate;
    const d = this.dim;
    const w = this.weights;
    const base = row * d;
    // Pruned entries (mask 0) keep their zero: neither the gradient nor the decay moves them,
    // and their optimizer state is left alone.
    const mask = this.mask;
    if (this.m && this.v) {
      const m = this.m;
      const v = this.v;
      const stepSize = this.adamStepSize;
      const bc2Sqrt = this.adamBc2Sqrt;
      for (let k = 0; k < d; k++) {
        const i = base + k;
        if (mask !== null && mask[i] === 0) continue;
        // torch.optim.Adam: weight decay is added to the gradient (L2), not decoupled.
        const g = (grad ? grad[gradOffset + k] : 0) + wd * w[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        w[i] = w[i] - (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
      }
    } else if (this.optimizer.kind === 'sgd') {
      // torch.optim.SGD without momentum: w -= lr * (g + weight_decay * w).
      for (let k = 0; k < d; k++) {
        const i = base + k;
        if (mask !== null && mask[i] === 0) continue;
        w[i] -= lr * ((grad ? grad[gradOffset + k] : 0) + wd * w[i]);
      }
    } else {
      const acc = this.rowAccumulator as Float32Array;
      let sq = 0;
      let kept = 0;
      for (let k = 0; k < d; k++) {
        if (mask !== null && mask[base + k] === 0) continue;
        const g = (grad ? grad[gradOffset + k] : 0) + wd * w[base + k];
        sq += g * g;
        kept++;
      }
      if (kept === 0) return;
      acc[row] += sq / kept;
      const scale = lr / (Math.sqrt(acc[row]) + eps);
      for (let k = 0; k < d; k++) {
        if (mask !== null && mask[base + k] === 0) continue;
        const g = (grad ? grad[gradOffset + k] : 0) + wd * w[base + k];
        w[base + k] -= scale * g;
      }
    }
  }
}
