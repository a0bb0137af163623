/**
 * Gather of table rows whose gradient is a scatter-add into the [U, d] block of touched rows.
 *
 * The stock tf.gather gradient is UnsortedSegmentSum: on cpu it loops once per output row over
 * all indices (quadratic in the batch), and the wasm backend has no kernel for it at all.
 * ScatterNd sums duplicate indices, runs on webgpu, webgl, wasm and cpu, and costs O(B*M*d).
 */
import * as tf from '@tensorflow/tfjs';

export function lookupRows(rows: tf.Tensor2D, localIndex: tf.Tensor1D): tf.Tensor2D {
  const numRows = rows.shape[0];
  const dim = rows.shape[1];
  const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [block, index, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([index]);
    return {
      value: tf.gather(block, index),
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
