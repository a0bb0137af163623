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

export class HostEmbeddingTable {
  readonly weights: Float32Array;
  /** Adam first / second moments ([rows, dim]), or null for Adagrad. */
  private readonly m: Float32Array | null;
  private readonly v: Float32Array | null;
  /** Row-wise Adagrad accumulator ([rows]), or null for Adam and SGD (SGD keeps no state). */
  private readonly rowAccumulator: Float32Array | null;
  /** Optimizer steps taken (shared by all rows, as torch's dense Adam counts them). */
  step = 0;
  private adamStepSize = 0;
  private adamBc2Sqrt = 1;

  constructor(
    readonly name: string,
    readonly numRows: number,
    readonly dim: number,
    public optimizer: SparseOptimizerConfig,
    init:
      | { kind: 'xavier-uniform' }
      | { kind: 'zeros' }
      | { kind: 'uniform'; bound: number }
      | { kind: 'normal'; std: number },
    rng: Rng,
  ) {
    this.weights = new Float32Array(numRows * dim);
    if (init.kind === 'normal') {
      for (let i = 0; i < this.weights.length; i++) this.weights[i] = init.std * rng.normal();
    } else if (init.kind !== 'zeros') {
      // xavier_uniform_ on an [N, d] weight: fan_in = d, fan_out = N (as torch computes it).
      const bound = init.kind === 'uniform' ? init.bound : Math.sqrt(6 / (numRows + dim));
      for (let i = 0; i < this.weights.length; i++) this.weights[i] = rng.uniform(-bound, bound);
    }
    const adam = optimizer.kind === 'adam';
    this.m = adam ? new Float32Array(numRows * dim) : null;
    this.v = adam ? new Float32Array(numRows * dim) : null;
    this.rowAccumulator = optimizer.kind === 'rowwise-adagrad' ? new Float32Array(numRows) : null;
  }

  get bytes(): number {
    return (
      this.weights.byteLength +
      (this.m?.byteLength ?? 0) +
      (this.v?.byteLength ?? 0) +
      (this.rowAccumulator?.byteLength ?? 0)
    );
  }

  /** Copies the rows of `plan.uniqueRows` into a new [U, dim] block. */
  gatherRows(plan: BatchPlan): Float32Array {
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
    this.step++;
    // Adam's bias corrections depend on the step only: computed once, not once per row (the
    // 'exact' pass visits every row of the table).
    const { beta1, beta2, learningRate } = this.optimizer;
    this.adamStepSize = learningRate / (1 - beta1 ** this.step);
    this.adamBc2Sqrt = Math.sqrt(1 - beta2 ** this.step);
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

  private updateRow(row: number, grad: Float32Array | null, gradOffset: number): void {
    const { learningRate: lr, weightDecay: wd, beta1, beta2, eps } = this.optimizer;
    const d = this.dim;
    const w = this.weights;
    const base = row * d;
    if (this.m && this.v) {
      const m = this.m;
      const v = this.v;
      const stepSize = this.adamStepSize;
      const bc2Sqrt = this.adamBc2Sqrt;
      for (let k = 0; k < d; k++) {
        const i = base + k;
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
        w[i] -= lr * ((grad ? grad[gradOffset + k] : 0) + wd * w[i]);
      }
    } else {
      const acc = this.rowAccumulator as Float32Array;
      let sq = 0;
      for (let k = 0; k < d; k++) {
        const g = (grad ? grad[gradOffset + k] : 0) + wd * w[base + k];
        sq += g * g;
      }
      acc[row] += sq / d;
      const scale = lr / (Math.sqrt(acc[row]) + eps);
      for (let k = 0; k < d; k++) {
        const g = (grad ? grad[gradOffset + k] : 0) + wd * w[base + k];
        w[base + k] -= scale * g;
      }
    }
  }
}
