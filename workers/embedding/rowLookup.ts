/**
 * Gather of table rows whose gradient is a scatter-add into the [U, d] block of touched rows
 * (ScatterNd on the device; on webgl, summed on the host: see HOST_SCATTER_BACKENDS).
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
 */
import * as tf from '@tensorflow/tfjs';

/** Backends where the row gather runs on the host (when the inputs' host copies are known). */
const HOST_GATHER_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'cpu']);
/**
 * Backends where the gradient's scatter-add runs on the host (when the index's host copy is
 * known): tfjs-webgl's ScatterNd loops over every update for each output element, O(U * d * B*M)
 * (at a vocabulary of 1M, a DeepFM step of batch 256 went from 1.0 s to 1.6 s on SwiftShader's
 * WebGL as U grew from about 3,000 to 4,900 rows). Reading dy back and summing it here is linear.
 */
const HOST_SCATTER_BACKENDS: ReadonlySet<string> = new Set(['webgl']);

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

/** The [numRows, dim] sums of the rows of `values` ([index.length, dim]) by their `index`. */
export function scatterAddOnHost(
  values: Float32Array,
  index: Int32Array,
  numRows: number,
  dim: number,
): Float32Array {
  const out = new Float32Array(numRows * dim);
  for (let i = 0; i < index.length; i++) {
    const to = index[i] * dim;
    const from = i * dim;
    for (let k = 0; k < dim; k++) out[to + k] += values[from + k];
  }
  return out;
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
  const sumOnHost =
    hostGatherEnabled &&
    HOST_SCATTER_BACKENDS.has(tf.getBackend()) &&
    hostIndex instanceof Int32Array;
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
        if (sumOnHost) {
          // webgl only (HOST_SCATTER_BACKENDS), whose synchronous reads are exact; a gradient
          // function cannot await.
          // eslint-disable-next-line no-restricted-syntax
          const dyHost = dy.dataSync() as Float32Array;
          const summed = scatterAddOnHost(dyHost, hostIndex, numRows, dim);
          return [tf.tensor2d(summed, [numRows, dim]), tf.zerosLike(idx)];
        }
        const gradBlock = tf.scatterND(idx.expandDims(1), dy as tf.Tensor2D, [numRows, dim]);
        // The index is an integer input: its gradient is zero.
        return [gradBlock, tf.zerosLike(idx)];
      },
    };
  });
  return lookup(rows, localIndex) as tf.Tensor2D;
}
