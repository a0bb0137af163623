/**
 * Gather of table rows whose gradient is a scatter-add into the [U, d] block of touched rows.
 *
 * The stock tf.gather gradient is UnsortedSegmentSum: on cpu it loops once per output row over
 * all indices (quadratic in the batch), and the wasm backend has no kernel for it at all.
 * ScatterNd sums duplicate indices, runs on webgpu, webgl, wasm and cpu, and costs O(B*M*d).
 *
 * The forward gather runs where it is cheapest. The training step uploads the block and the index
 * from host arrays and records them (withHostCopy); on wasm and cpu the rows are then copied from
 * those arrays with `Float32Array.set`, which beat the backends' Gather kernels (PEP's Criteo DeepFM, [40k, 24] out of a [U, 24] block: tfjs-wasm's
 * Gather 40-70 ms, cpu's 90-110 ms, the copy and upload 7-18 ms). On the GPU
 * backends, and for a block computed on the device (PEP's thresholded rows), tf.gather runs.
 * On webgl, whose ScatterNd is quadratic, the gradient is a segmented scan planned on the host
 * from the recorded index (segmentSumRows).
 */
import * as tf from '@tensorflow/tfjs';
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';

/** Backends where the row gather runs on the host (when the inputs' host copies are known). */
const HOST_GATHER_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'cpu']);

/**
 * Backends whose ScatterNd is quadratic: tfjs-webgl's shader loops over every update for each
 * output element (U * d * B*M). There the gradient is a segmented scan (segmentSumRows).
 */
const SEGMENT_SUM_BACKENDS: ReadonlySet<string> = new Set(['webgl']);

let segmentSumEnabled = true;

/** true (the default): the segmented-scan gradient on webgl; false: ScatterNd everywhere. */
export function setSegmentSumGradient(enabled: boolean): void {
  segmentSumEnabled = enabled;
}

export function segmentSumGradientEnabled(): boolean {
  return segmentSumEnabled;
}

let hostGatherEnabled = true;

/** true (the default): gather on the host on wasm and cpu; false: tf.gather everywhere. */
export function setHostGather(enabled: boolean): void {
  hostGatherEnabled = enabled;
}

/** The arrays tensors were made from, for the tensors the training step uploads. */
const hostCopies = new WeakMap<tf.Tensor, Float32Array | Int32Array>();

/**
 * Records that `t` holds exactly `values` (made from them and never changed), so that the row
 * gather can read them on the host instead of reading the tensor back. Returns `t`.
 */
export function withHostCopy<T extends tf.Tensor>(
  t: T,
  values: Float32Array | Int32Array | undefined,
): T {
  if (values) hostCopies.set(t, values);
  return t;
}

/** The array `t` was recorded as made from (withHostCopy), if any. */
export function hostCopyOf(t: tf.Tensor): Float32Array | Int32Array | undefined {
  return hostCopies.get(t);
}

/** rows `index` of the [?, dim] row-major `block`, as a new [index.length, dim] array. */
export function gatherRowsOnHost(
  block: Float32Array,
  index: Int32Array,
  dim: number,
): Float32Array {
  const out = new Float32Array(index.length * dim);
  if (dim >= 16) {
    for (let i = 0; i < index.length; i++) {
      const start = index[i] * dim;
      out.set(block.subarray(start, start + dim), i * dim);
    }
    return out;
  }
  // Narrow rows (FM's 1-wide linear table): a plain copy beats making a view per row.
  for (let i = 0, o = 0; i < index.length; i++) {
    const start = index[i] * dim;
    for (let k = 0; k < dim; k++) out[o++] = block[start + k];
  }
  return out;
}

/**
 * How to sum the rows of a [n, d] gradient that share an index, planned on the host from the
 * index (values in [0, numRows)):
 * - `order`: positions sorted by index (stable), so each index's positions are contiguous;
 * - `masks[j]`: 1 where the position 2^j places earlier in `order` has the same index, else 0;
 * - `ends`: for each index, the last of its positions in `order` (n for an index never used,
 *   which reads an appended zero row).
 */
export interface SegmentSumPlan {
  readonly order: Int32Array;
  readonly masks: Float32Array[];
  readonly ends: Int32Array;
  readonly hasEmptyRows: boolean;
}

export function planSegmentSum(index: Int32Array, numRows: number): SegmentSumPlan {
  const n = index.length;
  const starts = new Int32Array(numRows + 1);
  for (let i = 0; i < n; i++) starts[index[i] + 1]++;
  let longest = 0;
  let hasEmptyRows = false;
  for (let r = 0; r < numRows; r++) {
    const c = starts[r + 1];
    if (c > longest) longest = c;
    if (c === 0) hasEmptyRows = true;
    starts[r + 1] += starts[r];
  }
  const fill = starts.slice(0, numRows);
  const order = new Int32Array(n);
  const sortedRow = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = index[i];
    sortedRow[fill[r]] = r;
    order[fill[r]++] = i;
  }
  const ends = new Int32Array(numRows);
  for (let r = 0; r < numRows; r++) ends[r] = starts[r + 1] > starts[r] ? starts[r + 1] - 1 : n;
  const masks: Float32Array[] = [];
  for (let k = 1; k < longest; k *= 2) {
    const mask = new Float32Array(n);
    for (let i = k; i < n; i++) if (sortedRow[i] === sortedRow[i - k]) mask[i] = 1;
    masks.push(mask);
  }
  return { order, masks, ends, hasEmptyRows };
}

/** One scan pass on webgl as one shader: out[i] = x[i] + mask[i] * x[i - k] (k baked in). */
class ScanPassProgram implements GPGPUProgram {
  readonly variableNames = ['x', 'mask'];
  readonly outputShape: number[];
  readonly userCode: string;

  constructor(n: number, d: number, k: number) {
    this.outputShape = [n, d];
    this.userCode = `
      void main() {
        ivec2 c = getOutputCoords();
        float v = getX(c.x, c.y);
        if (c.x >= ${k}) {
          v += getMask(c.x, 0) * getX(c.x - ${k}, c.y);
        }
        setOutput(v);
      }
    `;
  }
}

/** x + mask * (x shifted down by k rows): one shader on webgl, four kernels elsewhere. */
function scanPass(x: tf.Tensor2D, mask: tf.Tensor2D, k: number): tf.Tensor2D {
  const [n, d] = x.shape;
  if (tf.getBackend() === 'webgl') {
    const backend = tf.backend() as MathBackendWebGL;
    const out = backend.compileAndRun(new ScanPassProgram(n, d, k), [x, mask]);
    return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor2D;
  }
  const shifted = tf.pad(tf.slice(x, [0, 0], [n - k, d]), [
    [k, 0],
    [0, 0],
  ]);
  return tf.add(x, tf.mul(shifted, mask));
}

/**
 * The [numRows, d] sums of the rows of `values` [n, d] that share an index, by a segmented
 * Hillis-Steele scan over the rows sorted by index: log2(longest run) passes of a shift, a
 * multiply by the host-made mask and an add (one shader on webgl), all O(n * d), then a gather of
 * each run's last row. Each pass's shapes depend on n and d only, so the backend compiles its
 * programs once per batch shape. Sums are in tree order, not in position order.
 */
export function segmentSumRows(values: tf.Tensor2D, plan: SegmentSumPlan): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, d] = values.shape;
    let x = tf.gather(values, tf.tensor1d(plan.order, 'int32'));
    let k = 1;
    for (const mask of plan.masks) {
      x = scanPass(x, tf.tensor2d(mask, [n, 1]), k);
      k *= 2;
    }
    if (plan.hasEmptyRows) x = tf.concat([x, tf.zeros([1, d])]);
    return tf.gather(x, tf.tensor1d(plan.ends, 'int32'));
  });
}

export function lookupRows(rows: tf.Tensor2D, localIndex: tf.Tensor1D): tf.Tensor2D {
  const numRows = rows.shape[0];
  const dim = rows.shape[1];
  const hostBlock = hostCopies.get(rows);
  const hostIndex = hostCopies.get(localIndex);
  const onHost =
    hostGatherEnabled &&
    HOST_GATHER_BACKENDS.has(tf.getBackend()) &&
    hostBlock instanceof Float32Array &&
    hostIndex instanceof Int32Array;
  // The scan's plan is made in the backward pass only: an evaluation's lookup never needs it.
  const segmentIndex =
    segmentSumEnabled &&
    SEGMENT_SUM_BACKENDS.has(tf.getBackend()) &&
    hostIndex instanceof Int32Array
      ? hostIndex
      : null;
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [block, index, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([index]);
    const value = onHost
      ? tf.tensor2d(gatherRowsOnHost(hostBlock, hostIndex, dim), [index.shape[0], dim])
      : tf.gather(block, index);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [idx] = saved;
        const gradBlock = segmentIndex
          ? segmentSumRows(dy as tf.Tensor2D, planSegmentSum(segmentIndex, numRows))
          : tf.scatterND(idx.expandDims(1), dy as tf.Tensor2D, [numRows, dim]);
        // The index is an integer input: its gradient is zero.
        return [gradBlock, tf.zerosLike(idx)];
      },
    };
  });
  return lookup(rows, localIndex) as tf.Tensor2D;
}
