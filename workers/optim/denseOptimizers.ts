/**
 * Optimizers for the device-resident (dense) parameters, with torch.optim semantics so that
 * training dynamics match the reference PyTorch code (PEP: Adam; UMEC/DLRM: SGD lr 0.1).
 */
import * as tf from '@tensorflow/tfjs';
import { sumTensors } from '../models/sumTensors';

export interface DenseAdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** false: torch.optim.Adam (decay added to the gradient); true: torch.optim.AdamW (decoupled). */
  decoupledWeightDecay: boolean;
}

export interface DenseOptimizer {
  /** Applies one step given the gradient of every variable (by variable name). */
  applyGradients(grads: tf.NamedTensorMap): void;
  readonly stepCount: number;
  dispose(): void;
}

/** A dense optimizer whose learning rate may be changed between steps (by a schedule or a user). */
export interface DenseOptimizerWithLearningRate extends DenseOptimizer {
  learningRate: number;
}

let slotCounter = 0;

function checkLearningRate(lr: number): void {
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`learning rate must be >= 0, got ${lr}`);
}

export class TorchAdam implements DenseOptimizerWithLearningRate {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  /**
   * torch keeps `step` per parameter and advances it only when the parameter has a gradient;
   * the bias corrections use that count, so a parameter skipped on some steps is corrected right.
   */
  private readonly paramSteps: number[];
  /** Number of applyGradients calls. */
  stepCount = 0;

  constructor(
    private readonly variables: tf.Variable[],
    public config: DenseAdamConfig,
  ) {
    // Built in a tidy: the zerosLike tensors would otherwise stay counted next to the variables
    // (nothing is returned from the tidy, so no enclosing scope adopts the variables).
    let m: tf.Variable[] = [];
    let v: tf.Variable[] = [];
    tf.tidy(() => {
      m = variables.map((p) => tf.variable(tf.zerosLike(p), false, `adam_m_${slotCounter++}`));
      v = variables.map((p) => tf.variable(tf.zerosLike(p), false, `adam_v_${slotCounter++}`));
    });
    this.m = m;
    this.v = v;
    this.paramSteps = variables.map(() => 0);
  }

  get learningRate(): number {
    return this.config.learningRate;
  }

  set learningRate(lr: number) {
    checkLearningRate(lr);
    this.config = { ...this.config, learningRate: lr };
  }

  applyGradients(grads: tf.NamedTensorMap): void {
    this.stepCount++;
    const {
      learningRate: lr,
      beta1,
      beta2,
      eps,
      weightDecay: wd,
      decoupledWeightDecay,
    } = this.config;
    tf.tidy(() => {
      this.variables.forEach((p, i) => {
        let g: tf.Tensor = grads[p.name];
        if (!g) return;
        const step = ++this.paramSteps[i];
        const bc1 = 1 - beta1 ** step;
        const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
        let param: tf.Tensor = p;
        if (wd !== 0) {
          if (decoupledWeightDecay) param = p.mul(1 - lr * wd);
          else g = g.add(p.mul(wd));
        }
        const m = this.m[i].mul(beta1).add(g.mul(1 - beta1));
        const v = this.v[i].mul(beta2).add(g.square().mul(1 - beta2));
        const denom = v.sqrt().div(bc2Sqrt).add(eps);
        this.m[i].assign(m);
        this.v[i].assign(v);
        p.assign(param.sub(m.div(denom).mul(lr / bc1)));
      });
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

export interface DenseSgdConfig {
  learningRate: number;
  momentum: number;
  /** torch default 0; nesterov requires 0. */
  dampening: number;
  nesterov: boolean;
  /** L2 decay added to the gradient (torch.optim.SGD's weight_decay). */
  weightDecay: number;
}

/**
 * torch.optim.SGD:
 *   d = g + wd * p
 *   momentum != 0: buf = d on a parameter's first step, else buf = momentum * buf + (1 - dampening) * d;
 *                  d = nesterov ? d + momentum * buf : buf
 *   p -= lr * d
 */
export class TorchSgd implements DenseOptimizerWithLearningRate {
  /** Momentum buffers; null until the parameter's first step (torch creates them lazily). */
  private readonly buffers: (tf.Variable | null)[];
  stepCount = 0;

  constructor(
    private readonly variables: tf.Variable[],
    public config: DenseSgdConfig,
  ) {
    if (config.nesterov && (config.momentum <= 0 || config.dampening !== 0)) {
      throw new Error('Nesterov momentum requires a momentum and zero dampening');
    }
    this.buffers = variables.map(() => null);
  }

  get learningRate(): number {
    return this.config.learningRate;
  }

  set learningRate(lr: number) {
    checkLearningRate(lr);
    this.config = { ...this.config, learningRate: lr };
  }

  applyGradients(grads: tf.NamedTensorMap): void {
    this.stepCount++;
    const { learningRate: lr, momentum, dampening, nesterov, weightDecay: wd } = this.config;
    tf.tidy(() => {
      this.variables.forEach((p, i) => {
        const g: tf.Tensor = grads[p.name];
        if (!g) return;
        let d: tf.Tensor = wd !== 0 ? g.add(p.mul(wd)) : g;
        if (momentum !== 0) {
          const existing = this.buffers[i];
          let buf: tf.Tensor;
          if (existing === null) {
            buf = d;
            // A variable holds its own reference to the data, so it outlives this tidy.
            this.buffers[i] = tf.variable(d.clone(), false, `sgd_buf_${slotCounter++}`);
          } else {
            buf = existing.mul(momentum).add(d.mul(1 - dampening));
            existing.assign(buf);
          }
          d = nesterov ? d.add(buf.mul(momentum)) : buf;
        }
        p.assign(p.sub(d.mul(lr)));
      });
    });
  }

  dispose(): void {
    for (const b of this.buffers) b?.dispose();
  }
}

/**
 * torch.nn.utils.clip_grad_norm_ (L2): total = ||(||g_1||, ..., ||g_n||)||_2, every gradient is
 * multiplied by min(1, maxNorm / (total + 1e-6)). Works in place on `grads` (old tensors are
 * disposed and replaced), like torch's in-place version, and returns the total norm before
 * clipping (a scalar the caller disposes). Stays on the device: no read-back is needed.
 *
 * To clip across ALL parameters as the PEP code does (clip 100, embeddings included), pass the
 * map that also holds the gradients of the uploaded table rows: rows outside the batch have zero
 * gradient, so the norm over the touched rows is the norm over the whole table.
 */
export function clipGradNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.Scalar {
  const names = Object.keys(grads);
  return tf.tidy(() => {
    if (names.length === 0) return tf.scalar(0);
    const squaredSums = names.map((n) => grads[n].square().sum());
    const total = sumTensors(squaredSums).sqrt() as tf.Scalar;
    const scale = tf.minimum(tf.scalar(maxNorm).div(total.add(1e-6)), 1);
    for (const n of names) {
      const old = grads[n];
      grads[n] = tf.keep(old.mul(scale));
      old.dispose();
    }
    return total;
  });
}
