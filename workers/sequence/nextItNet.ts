/**
 * NextItNet (Yuan et al., WSDM 2019) with CpRec's compression (Sun et al., SIGIR 2020):
 * - input: items ranked by frequency and split into blocks; block 1 (head) has full-width rows,
 *   block k >= 2 rows of d / f^(k-1) times a projection P_k to d (block-wise adaptive input);
 * - middle: residual blocks of two causal dilated 1-D convs (kernel 3), each conv -> LayerNorm
 *   -> ReLU, the block's input added back; a sharing scheme maps convs to distinct kernels, each
 *   one tf.Variable used in every conv it serves (LayerNorms are never shared);
 * - output: a full softmax over the items (one block), or the adaptive softmax: head logits over
 *   the head items plus one cluster logit per tail block; tail block k scores h·Q_k·F_k.
 * A causal dilated conv with dilation r is one product: the input left-padded by 2r, its three
 * shifted views (t-2r, t-r, t) side by side times the kernel [3d, d], so the backward pass only
 * uses fast untransposed products and no conv gradient (tfjs has none for dilation > 1).
 */
import * as tf from '@tensorflow/tfjs';
import { sumTensors } from '../models/sumTensors';
import { matMulFast } from '../models/fastMatMul';
import { Rng } from '../rng';
import { kernelAssignment, type SeqArchitecture } from './seqProtocol';

export const LN_EPS = 1e-8;

/**
 * tf.gather(x, indices) along axis 0 (x of rank 1 or 2) with a gradient that scatters with
 * ScatterNd (duplicates summed): the stock gradient needs UnsortedSegmentSum, which tfjs-wasm
 * does not have.
 */
const gatherRowsOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, indices, save] = args as [tf.Tensor, tf.Tensor1D, tf.GradSaveFunc];
  save([indices]);
  const shape = x.shape;
  return {
    value: tf.gather(x, indices),
    gradFunc: (dy, saved) => {
      const [idx] = saved as [tf.Tensor1D];
      const g = tf.scatterND(idx.expandDims(1), dy as tf.Tensor, shape);
      return [g, tf.zerosLike(idx)];
    },
  };
});

/**
 * Sum over rows of -log softmax(logits)[label], with a gradient softmax - onehot that reuses the
 * forward pass's probabilities (one exp over the logits in all, where logSoftmax and its
 * gradient take two; the softmax is the costliest elementwise work of a step).
 */
const crossEntropySumOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [logits, labels, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const [n, C] = logits.shape;
  const max = tf.max(logits, 1, true);
  const e = tf.exp(tf.sub(logits, max));
  const sum = tf.sum(e, 1, true);
  const probs = tf.div(e, sum);
  const flat = tf.add(
    tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(C, 'int32')),
    tf.cast(labels, 'int32'),
  );
  const picked = tf.gather(tf.reshape(logits, [n * C]), flat);
  const lse = tf.add(tf.reshape(max, [n]), tf.log(tf.reshape(sum, [n])));
  save([probs, labels]);
  return {
    value: tf.sum(tf.sub(lse, picked)),
    gradFunc: (dy, saved) => {
      const [p, lab] = saved as [tf.Tensor2D, tf.Tensor1D];
      const g = tf.mul(tf.sub(p, tf.oneHot(tf.cast(lab, 'int32'), C)), dy);
      return [g, tf.zerosLike(lab)];
    },
  };
});

/** Sum of the cross-entropies of rows of `logits` [n, C] against `labels` (0..C-1). */
export function crossEntropySum(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  return crossEntropySumOp(logits, tf.tensor1d(labels, 'int32')) as tf.Scalar;
}

export function gatherRows<T extends tf.Tensor>(x: T, indices: tf.Tensor1D | Int32Array): T {
  const idx = indices instanceof Int32Array ? tf.tensor1d(indices, 'int32') : indices;
  return gatherRowsOp(x, idx) as T;
}
let nameCounter = 0;

function truncatedNormal(rng: Rng, n: number, sd: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z = rng.normal();
    while (Math.abs(z) > 2) z = rng.normal();
    out[i] = z * sd;
  }
  return out;
}

function uniform(rng: Rng, n: number, limit: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-limit, limit);
  return out;
}

function normal(rng: Rng, n: number, sd: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * sd;
  return out;
}

function glorotUniform(rng: Rng, rows: number, cols: number): Float32Array {
  return uniform(rng, rows * cols, Math.sqrt(6 / (rows + cols)));
}

/** What one training batch needs besides the item ids, prepared on the host. */
export interface TargetPlan {
  /** Flat positions (row * (T-1) + t) whose target is an item (padding targets are masked). */
  positions: Int32Array;
  /** Head softmax target per position: the item's index in the head, or its block's cluster. */
  headTargets: Int32Array;
  /** Per tail block (index b-1): indices into `positions` of its labels and the within-block index. */
  tails: { rows: Int32Array; targets: Int32Array }[];
}

export class NextItNet {
  readonly variables: tf.Variable[] = [];
  /** Block 0: [c1, d]; block k: [size_k, d_k]. */
  readonly inputTables: tf.Variable[] = [];
  /** Projections P_k [d_k, d] of the tail blocks (index k-1). */
  readonly inputProjections: tf.Variable[] = [];
  /** Distinct conv kernels [3d, d] and their biases [d]. */
  readonly kernels: tf.Variable[] = [];
  readonly kernelBiases: tf.Variable[] = [];
  /** kernelOf[c] = the distinct kernel conv c uses. */
  readonly kernelOf: number[];
  readonly lnGamma: tf.Variable[] = [];
  readonly lnBeta: tf.Variable[] = [];
  /** Head matrix [d, c1 + K - 1]. */
  readonly headW: tf.Variable;
  /** The full softmax's bias [V] (one block only: the official block-wise softmax has none). */
  readonly headB: tf.Variable | null;
  /** Tail Q_k [d, d_k] and F_k [d_k, size_k] (index k-1). */
  readonly tailQ: tf.Variable[] = [];
  readonly tailF: tf.Variable[] = [];

  constructor(
    readonly arch: SeqArchitecture,
    seed: number,
  ) {
    const rng = new Rng(seed);
    const { dim: d, cuts, blockDims } = arch;
    const K = cuts.length;
    const add = (name: string, shape: number[], values: Float32Array): tf.Variable => {
      // In a tidy: the initial tensor would otherwise stay counted beside the variable.
      const v = tf.tidy(() =>
        tf.variable(tf.tensor(values, shape), true, `seq_${name}_${nameCounter++}`),
      );
      this.variables.push(v);
      return v;
    };
    for (let k = 0; k < K; k++) {
      const size = cuts[k] - (k === 0 ? 0 : cuts[k - 1]);
      const dk = blockDims[k];
      // As the official code: a plain table is uniform in ±sqrt(1/V); block-wise tables and
      // their projections take TensorFlow's default, Glorot-uniform.
      this.inputTables.push(
        add(
          `E${k}`,
          [size, dk],
          K === 1
            ? uniform(rng, size * dk, Math.sqrt(1 / arch.numItems))
            : glorotUniform(rng, size, dk),
        ),
      );
      if (k > 0) this.inputProjections.push(add(`P${k}`, [dk, d], glorotUniform(rng, dk, d)));
    }
    this.kernelOf = kernelAssignment(arch.dilations.length, arch.sharing);
    const distinct = new Set(this.kernelOf).size;
    for (let j = 0; j < distinct; j++) {
      this.kernels.push(add(`conv${j}`, [3 * d, d], truncatedNormal(rng, 3 * d * d, 0.02)));
      this.kernelBiases.push(add(`convb${j}`, [d], new Float32Array(d)));
    }
    for (let c = 0; c < arch.dilations.length; c++) {
      this.lnGamma.push(add(`lng${c}`, [d], new Float32Array(d).fill(1)));
      this.lnBeta.push(add(`lnb${c}`, [d], new Float32Array(d)));
    }
    const headOut = cuts[0] + K - 1;
    // The full softmax: N(0, 0.01) and a bias of 0.1; the block-wise head: Glorot-uniform, no bias.
    this.headW = add(
      'H',
      [d, headOut],
      K === 1 ? normal(rng, d * headOut, 0.01) : glorotUniform(rng, d, headOut),
    );
    this.headB = K === 1 ? add('Hb', [headOut], new Float32Array(headOut).fill(0.1)) : null;
    for (let k = 1; k < K; k++) {
      const size = cuts[k] - cuts[k - 1];
      const dk = blockDims[k];
      this.tailQ.push(add(`Q${k}`, [d, dk], glorotUniform(rng, d, dk)));
      this.tailF.push(add(`F${k}`, [dk, size], glorotUniform(rng, dk, size)));
    }
  }

  /** Parameters held by the variables (each shared kernel once). */
  get numParams(): number {
    return this.variables.reduce((s, v) => s + v.size, 0);
  }

  /** The input matrix [V + 1, d]: a zero row for padding, then every item's (projected) row. */
  inputMatrix(): tf.Tensor2D {
    const parts: tf.Tensor2D[] = [tf.zeros([1, this.arch.dim])];
    this.inputTables.forEach((table, k) => {
      parts.push(
        k === 0
          ? (table as tf.Tensor2D)
          : matMulFast(table as tf.Tensor2D, this.inputProjections[k - 1] as tf.Tensor2D),
      );
    });
    return tf.concat(parts, 0);
  }

  /** Causal dilated conv of x [B, T, d] with distinct kernel `j` and dilation r. */
  private conv(x: tf.Tensor3D, j: number, r: number): tf.Tensor3D {
    const [B, T, d] = x.shape;
    const padded = tf.pad(x, [
      [0, 0],
      [2 * r, 0],
      [0, 0],
    ]);
    const taps = tf.concat(
      [
        tf.slice(padded, [0, 0, 0], [B, T, d]),
        tf.slice(padded, [0, r, 0], [B, T, d]),
        tf.slice(padded, [0, 2 * r, 0], [B, T, d]),
      ],
      2,
    );
    const y = matMulFast(taps.reshape([B * T, 3 * d]), this.kernels[j] as tf.Tensor2D).add(
      this.kernelBiases[j],
    );
    return y.reshape([B, T, d]);
  }

  private layerNorm(x: tf.Tensor3D, c: number): tf.Tensor3D {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).div(variance.add(LN_EPS).sqrt()).mul(this.lnGamma[c]).add(this.lnBeta[c]);
  }

  /** Hidden states [B, T, d] of item ids [B, T] (0 = padding). */
  hidden(ids: tf.Tensor2D): tf.Tensor3D {
    const [B, T] = ids.shape;
    const table = this.inputMatrix();
    let x = gatherRows(table, ids.reshape([B * T]) as tf.Tensor1D).reshape([
      B,
      T,
      this.arch.dim,
    ]) as tf.Tensor3D;
    const { dilations } = this.arch;
    for (let c = 0; c < dilations.length; c += 2) {
      let h = tf.relu(this.layerNorm(this.conv(x, this.kernelOf[c], dilations[c]), c));
      h = tf.relu(this.layerNorm(this.conv(h, this.kernelOf[c + 1], dilations[c + 1]), c + 1));
      x = x.add(h);
    }
    return x;
  }

  /** Head logits [n, c1 + K - 1] of hidden states h [n, d]. */
  headLogits(h: tf.Tensor2D): tf.Tensor2D {
    const logits = matMulFast(h, this.headW as tf.Tensor2D);
    return this.headB ? logits.add(this.headB) : logits;
  }

  /** Within-block logits [n, size_k] of tail block k >= 1: h·Q_k·F_k. */
  tailLogits(h: tf.Tensor2D, k: number): tf.Tensor2D {
    const q = matMulFast(h, this.tailQ[k - 1] as tf.Tensor2D);
    return matMulFast(q, this.tailF[k - 1] as tf.Tensor2D);
  }

  /** Head log-probabilities [n, c1 + K - 1] of hidden states h [n, d]. */
  headLogProbs(h: tf.Tensor2D): tf.Tensor2D {
    return tf.logSoftmax(this.headLogits(h));
  }

  /** Within-block log-probabilities [n, size_k] of tail block k >= 1. */
  tailLogProbs(h: tf.Tensor2D, k: number): tf.Tensor2D {
    return tf.logSoftmax(this.tailLogits(h, k));
  }

  /** Log-probabilities [n, V] of every item (column i = item i + 1) under the full distribution. */
  fullLogProbs(h: tf.Tensor2D): tf.Tensor2D {
    const K = this.arch.cuts.length;
    const c1 = this.arch.cuts[0];
    const head = this.headLogProbs(h);
    if (K === 1) return head;
    const parts: tf.Tensor2D[] = [tf.slice(head, [0, 0], [-1, c1])];
    for (let k = 1; k < K; k++) {
      const cluster = tf.slice(head, [0, c1 + k - 1], [-1, 1]);
      parts.push(this.tailLogProbs(h, k).add(cluster));
    }
    return tf.concat(parts, 1);
  }

  /**
   * Mean next-item cross-entropy over the planned positions of `ids` [B, T] (inputs are
   * ids[:, :T-1], targets ids[:, 1:]), plus the official L2 term.
   */
  loss(ids: tf.Tensor2D, plan: TargetPlan, l2: number): tf.Scalar {
    const [B, T] = ids.shape;
    const inputs = tf.slice(ids, [0, 0], [B, T - 1]);
    const h = this.hidden(inputs).reshape([B * (T - 1), this.arch.dim]) as tf.Tensor2D;
    const n = plan.positions.length;
    const hv = gatherRows(h, plan.positions);
    let total = crossEntropySum(this.headLogits(hv), plan.headTargets);
    plan.tails.forEach((tail, b) => {
      if (tail.rows.length === 0) return;
      const hk = gatherRows(hv, tail.rows);
      total = total.add(crossEntropySum(this.tailLogits(hk, b + 1), tail.targets));
    });
    let loss = total.div(Math.max(1, n)) as tf.Scalar;
    if (l2 > 0) {
      const sq = this.variables.map((v) => tf.sum(tf.square(v)));
      loss = loss.add(sumTensors(sq).mul(l2 / 2 / this.variables.length)) as tf.Scalar;
    }
    return loss;
  }

  /** Where each label goes in the softmax (host side, once per batch). */
  planTargets(items: Int32Array, B: number, T: number): TargetPlan {
    const { cuts } = this.arch;
    const c1 = cuts[0];
    const K = cuts.length;
    const positions: number[] = [];
    const headTargets: number[] = [];
    const tails = Array.from({ length: K - 1 }, () => ({
      rows: [] as number[],
      targets: [] as number[],
    }));
    for (let b = 0; b < B; b++) {
      for (let t = 1; t < T; t++) {
        const label = items[b * T + t];
        if (label === 0) continue;
        const row = positions.length;
        positions.push(b * (T - 1) + t - 1);
        if (label <= c1) headTargets.push(label - 1);
        else {
          let k = 1;
          while (label > cuts[k]) k++;
          headTargets.push(c1 + k - 1);
          tails[k - 1].rows.push(row);
          tails[k - 1].targets.push(label - 1 - cuts[k - 1]);
        }
      }
    }
    return {
      positions: Int32Array.from(positions),
      headTargets: Int32Array.from(headTargets),
      tails: tails.map((t) => ({
        rows: Int32Array.from(t.rows),
        targets: Int32Array.from(t.targets),
      })),
    };
  }

  /**
   * 0-based rank (items scored strictly higher) of each row's last item, from the full
   * distribution at the last input position. `ids` [n, T]: the whole sequences.
   */
  lastItemRanks(ids: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const h = this.lastHidden(ids);
      const logp = this.fullLogProbs(h);
      const [n, V] = logp.shape;
      const target = tf
        .slice(ids, [0, ids.shape[1] - 1], [n, 1])
        .reshape([n])
        .sub(1);
      const flat = tf.range(0, n, 1, 'int32').mul(V).add(target);
      const score = tf.gather(logp.reshape([n * V]), flat.cast('int32')).reshape([n, 1]);
      return tf.sum(tf.greater(logp, score).cast('int32'), 1) as tf.Tensor1D;
    });
  }

  /** Hidden state [n, d] of the last input position (predicting the last item of ids [n, T]). */
  lastHidden(ids: tf.Tensor2D): tf.Tensor2D {
    const [n, T] = ids.shape;
    const h = this.hidden(tf.slice(ids, [0, 0], [n, T - 1]));
    return tf.slice(h, [0, T - 2, 0], [n, 1, this.arch.dim]).reshape([n, this.arch.dim]);
  }

  /** Copies of every variable's values (a checkpoint). */
  snapshot(): tf.Tensor[] {
    return this.variables.map((v) => tf.clone(v));
  }

  restore(values: tf.Tensor[]): void {
    this.variables.forEach((v, i) => v.assign(values[i]));
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
