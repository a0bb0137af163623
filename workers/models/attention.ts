/**
 * torch.nn.MultiheadAttention used as self-attention (query = key = value), batch-first.
 *
 * Semantics followed: one packed in-projection (q, k, v) with xavier-uniform weight and zero
 * bias; per head, softmax(q k^T / sqrt(headDim)) with dropout on the attention weights (training
 * only); heads concatenated; out-projection with torch's Linear init and a zero bias. No residual
 * and no LayerNorm inside (AutoInt adds its own residual outside).
 */
import * as tf from '@tensorflow/tfjs';
import { dropout } from './dropout';
import type { Rng } from '../rng';
import { buildVariables } from './blocks';
import { batchMatMulFast, matMulFast } from './fastMatMul';
import { Linear, uniqueVariableName } from './layers';

export class MultiheadSelfAttention {
  /**
   * torch's in_proj_weight ([3E, E]) transposed to [E, 3E] (this code's [in, out] layout):
   * columns 0..E-1 project queries, E..2E-1 keys, 2E..3E-1 values.
   */
  readonly inProjWeight: tf.Variable;
  /** [3E], zeros at init. */
  readonly inProjBias: tf.Variable;
  readonly outProj: Linear;
  readonly headDim: number;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    readonly dropout: number,
    rng: Rng,
    name: string,
  ) {
    if (embedDim % numHeads !== 0) {
      throw new Error(`attention: embedDim ${embedDim} is not divisible by numHeads ${numHeads}`);
    }
    this.headDim = embedDim / numHeads;
    const e = embedDim;
    // xavier_uniform_ on [3E, E]: bound sqrt(6 / (fan_in + fan_out)) = sqrt(6 / 4E).
    const bound = Math.sqrt(6 / (e + 3 * e));
    const w = new Float32Array(e * 3 * e);
    for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-bound, bound);
    this.inProjWeight = buildVariables(() =>
      tf.variable(tf.tensor2d(w, [e, 3 * e]), true, uniqueVariableName(`${name}_in_w`)),
    );
    this.inProjBias = buildVariables(() =>
      tf.variable(tf.zeros([3 * e]), true, uniqueVariableName(`${name}_in_b`)),
    );
    this.outProj = buildVariables(() => new Linear(e, e, rng, `${name}_out`));
    // torch's MultiheadAttention._reset_parameters zeroes out_proj.bias.
    tf.tidy(() => this.outProj.bias.assign(tf.zeros([e])));
  }

  /** x: [B, L, E] -> [B, L, E]. */
  apply(x: tf.Tensor3D, training: boolean, dropoutSeed: number): tf.Tensor3D {
    const [b, l, e] = x.shape;
    const h = this.numHeads;
    const hd = this.headDim;
    const packed = tf.add(
      matMulFast(x.reshape([b * l, e]), this.inProjWeight as tf.Tensor2D),
      this.inProjBias,
    );
    const [q, k, v] = tf.split(packed, 3, 1);
    // [B*L, E] -> [B*H, L, hd]
    const heads = (t: tf.Tensor) =>
      t
        .reshape([b, l, h, hd])
        .transpose([0, 2, 1, 3])
        .reshape([b * h, l, hd]) as tf.Tensor3D;
    // Fast products (explicit transposes, no transposed matMul forward or backward: slow on wasm).
    // Typed as a plain Tensor as before, so that the dropout below may reassign `weights`.
    const scores: tf.Tensor = batchMatMulFast(
      heads(q).mul(1 / Math.sqrt(hd)) as tf.Tensor3D,
      heads(k),
      false,
      true,
    );
    let weights = tf.softmax(scores, -1);
    if (training && this.dropout > 0) weights = dropout(weights, this.dropout, dropoutSeed);
    const context = batchMatMulFast(weights as tf.Tensor3D, heads(v))
      .reshape([b, h, l, hd])
      .transpose([0, 2, 1, 3])
      .reshape([b * l, e]) as tf.Tensor2D;
    return this.outProj.apply(context).reshape([b, l, e]);
  }

  get variables(): tf.Variable[] {
    return [this.inProjWeight, this.inProjBias, ...this.outProj.variables];
  }

  get numParams(): number {
    return 3 * this.embedDim * this.embedDim + 3 * this.embedDim + this.outProj.numParams;
  }

  /** 2 x multiply-adds per sequence of length L: projections, scores and weighted sum. */
  flopsPerSequence(length: number): number {
    const e = this.embedDim;
    return 2 * length * e * 3 * e + 2 * 2 * length * length * e + 2 * length * e * e;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
