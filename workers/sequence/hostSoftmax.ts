/**
 * The adaptive softmax on the host, in plain TypeScript (no tfjs): the full distribution and the
 * fast top-k of one hidden state. The lab times the fast top-k with it, the tests check it
 * against the tfjs model, and a scorer can use it with exported weights.
 */
import { adaptiveTopK } from './rankingMetrics';

export interface AdaptiveSoftmaxWeights {
  dim: number;
  /** Rank boundaries (the last is the number of items). */
  cuts: number[];
  blockDims: number[];
  /** Head matrix, row-major [d, c1 + K - 1], and its bias. */
  headW: Float32Array;
  /** The full softmax's bias (one block only), or null. */
  headB: Float32Array | null;
  /** Tail Q_k row-major [d, d_k] and F_k row-major [d_k, size_k] (index k-1). */
  tailQ: Float32Array[];
  tailF: Float32Array[];
}

function logSoftmaxInPlace(x: Float64Array): void {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < x.length; i++) x[i] -= lse;
}

/** y = x·W for x [n_in] and W row-major [n_in, n_out]. */
function vecMat(
  x: ArrayLike<number>,
  w: Float32Array,
  nOut: number,
  bias?: Float32Array | null,
): Float64Array {
  const y = new Float64Array(nOut);
  if (bias) for (let j = 0; j < nOut; j++) y[j] = bias[j];
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * nOut;
    for (let j = 0; j < nOut; j++) y[j] += xi * w[row + j];
  }
  return y;
}

export class HostAdaptiveSoftmax {
  constructor(readonly w: AdaptiveSoftmaxWeights) {}

  private get headOut(): number {
    return this.w.cuts[0] + this.w.cuts.length - 1;
  }

  headLogProbs(h: ArrayLike<number>): Float64Array {
    const y = vecMat(h, this.w.headW, this.headOut, this.w.headB);
    logSoftmaxInPlace(y);
    return y;
  }

  tailLogProbs(h: ArrayLike<number>, k: number): Float64Array {
    const { cuts, blockDims } = this.w;
    const q = vecMat(h, this.w.tailQ[k - 1], blockDims[k]);
    const y = vecMat(q, this.w.tailF[k - 1], cuts[k] - cuts[k - 1]);
    logSoftmaxInPlace(y);
    return y;
  }

  /** Log-probabilities of items 1..V (index i = item i + 1). */
  fullLogProbs(h: ArrayLike<number>): Float64Array {
    const { cuts } = this.w;
    const head = this.headLogProbs(h);
    const out = new Float64Array(cuts[cuts.length - 1]);
    out.set(head.subarray(0, cuts[0]));
    for (let k = 1; k < cuts.length; k++) {
      const cluster = head[cuts[0] + k - 1];
      const tail = this.tailLogProbs(h, k);
      for (let i = 0; i < tail.length; i++) out[cuts[k - 1] + i] = tail[i] + cluster;
    }
    return out;
  }

  /** The top-k items (1-based ids) expanding only the tail blocks that can reach the top-k. */
  topK(h: ArrayLike<number>, k: number): { ids: number[]; logProbs: number[]; expanded: number } {
    const head = this.headLogProbs(h);
    return adaptiveTopK(head, this.w.cuts, k, (b) => this.tailLogProbs(h, b));
  }
}
