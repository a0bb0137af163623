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
 */
import * as tf from '@tensorflow/tfjs';

/** Backends where the row gather runs on the host (when the inputs' host copies are known). */
const HOST_GATHER_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'cpu']);

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
        const gradBlock = tf.scatterND(idx.expandDims(1), dy as tf.Tensor2D, [numRows, dim]);
        // The index is an integer input: its gradient is zero.
        return [gradBlock, tf.zerosLike(idx)];
      },
    };
  });
  return lookup(rows, localIndex) as tf.Tensor2D;
}
