/**
 * Dense building blocks with PyTorch's defaults (init, BatchNorm momentum and epsilon), so that
 * models match the reference code. Weights are initialised from the run's seeded Rng on the host,
 * so every backend starts from the same numbers.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import { matMulFast } from './fastMatMul';
import { dropout } from './dropout';
import { batchNormTraining, isFusedBatchNormEnabled } from './fusedBatchNorm';

let variableCounter = 0;
export function uniqueVariableName(prefix: string): string {
  return `${prefix}_${variableCounter++}`;
}

function uniformTensor(shape: number[], bound: number, rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.uniform(-bound, bound);
  return tf.tensor(values, shape);
}

/** torch.nn.Linear: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)). Weight stored as [in, out]. */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
    name: string,
  ) {
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = tf.variable(
      uniformTensor([inFeatures, outFeatures], bound, rng),
      true,
      uniqueVariableName(`${name}_w`),
    );
    this.bias = tf.variable(
      uniformTensor([outFeatures], bound, rng),
      true,
      uniqueVariableName(`${name}_b`),
    );
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    // matMulFast: same value, but its gradient avoids the transposed products that are slow on wasm.
    return tf.add(matMulFast(x, this.weight as tf.Tensor2D), this.bias);
  }

  get variables(): tf.Variable[] {
    return [this.weight, this.bias];
  }

  get numParams(): number {
    return this.inFeatures * this.outFeatures + this.outFeatures;
  }
}

/** torch.nn.BatchNorm1d: eps 1e-5, momentum 0.1, unbiased variance in the running estimate. */
export class BatchNorm1d {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  static readonly EPS = 1e-5;
  static readonly MOMENTUM = 0.1;

  constructor(
    readonly features: number,
    name: string,
  ) {
    this.gamma = tf.variable(tf.ones([features]), true, uniqueVariableName(`${name}_gamma`));
    this.beta = tf.variable(tf.zeros([features]), true, uniqueVariableName(`${name}_beta`));
    this.runningMean = tf.variable(
      tf.zeros([features]),
      false,
      uniqueVariableName(`${name}_rmean`),
    );
    this.runningVar = tf.variable(tf.ones([features]), false, uniqueVariableName(`${name}_rvar`));
  }

  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    if (!training) {
      return x
        .sub(this.runningMean)
        .div(this.runningVar.add(BatchNorm1d.EPS).sqrt())
        .mul(this.gamma)
        .add(this.beta);
    }
    if (isFusedBatchNormEnabled()) {
      return batchNormTraining(
        x,
        this.gamma as tf.Tensor1D,
        this.beta as tf.Tensor1D,
        BatchNorm1d.EPS,
        ({ mean, variance }) => this.updateRunning(x.shape[0], mean, variance),
      );
    }
    const { mean, variance } = tf.moments(x, 0);
    this.updateRunning(x.shape[0], mean as tf.Tensor1D, variance as tf.Tensor1D);
    return x.sub(mean).div(variance.add(BatchNorm1d.EPS).sqrt()).mul(this.gamma).add(this.beta);
  }

  /** Running statistics from the batch's (biased) moments, outside of the gradient's concern. */
  private updateRunning(n: number, mean: tf.Tensor1D, variance: tf.Tensor1D): void {
    tf.tidy(() => {
      const unbiased = n > 1 ? variance.mul(n / (n - 1)) : variance;
      const m = BatchNorm1d.MOMENTUM;
      this.runningMean.assign(this.runningMean.mul(1 - m).add(mean.mul(m)));
      this.runningVar.assign(this.runningVar.mul(1 - m).add(unbiased.mul(m)));
    });
  }

  get variables(): tf.Variable[] {
    return [this.gamma, this.beta];
  }

  get stateVariables(): tf.Variable[] {
    return [this.runningMean, this.runningVar];
  }

  get numParams(): number {
    return 2 * this.features;
  }
}

export interface MlpConfig {
  inputSize: number;
  hidden: number[];
  dropout: number;
  batchNorm: boolean;
  /** Whether a final Linear(hidden[-1] -> 1) is appended (PEP's output_layer=True). */
  outputLayer: boolean;
}

/** PEP/torchfm MultiLayerPerceptron: [Linear -> BatchNorm -> ReLU -> Dropout] x n (-> Linear). */
export class Mlp {
  readonly linears: Linear[] = [];
  readonly norms: BatchNorm1d[] = [];
  readonly output: Linear | null;

  constructor(
    readonly config: MlpConfig,
    rng: Rng,
    name: string,
  ) {
    let inSize = config.inputSize;
    config.hidden.forEach((h, i) => {
      this.linears.push(new Linear(inSize, h, rng, `${name}_l${i}`));
      if (config.batchNorm) this.norms.push(new BatchNorm1d(h, `${name}_bn${i}`));
      inSize = h;
    });
    this.output = config.outputLayer ? new Linear(inSize, 1, rng, `${name}_out`) : null;
  }

  apply(x: tf.Tensor2D, training: boolean, dropoutSeed: number): tf.Tensor2D {
    let h = x;
    this.linears.forEach((lin, i) => {
      h = lin.apply(h);
      if (this.config.batchNorm) h = this.norms[i].apply(h, training);
      h = tf.relu(h);
      if (training && this.config.dropout > 0) {
        h = dropout(h, this.config.dropout, dropoutSeed + i);
      }
    });
    return this.output ? this.output.apply(h) : h;
  }

  get variables(): tf.Variable[] {
    return [
      ...this.linears.flatMap((l) => l.variables),
      ...this.norms.flatMap((n) => n.variables),
      ...(this.output ? this.output.variables : []),
    ];
  }

  get stateVariables(): tf.Variable[] {
    return this.norms.flatMap((n) => n.stateVariables);
  }

  /** 2 x multiply-adds of the Linear layers for one example. */
  get flopsPerExample(): number {
    const linears = this.output ? [...this.linears, this.output] : this.linears;
    return linears.reduce((a, l) => a + 2 * l.inFeatures * l.outFeatures, 0);
  }

  get numParams(): number {
    return (
      this.linears.reduce((a, l) => a + l.numParams, 0) +
      this.norms.reduce((a, n) => a + n.numParams, 0) +
      (this.output?.numParams ?? 0)
    );
  }
}
