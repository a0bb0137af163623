/**
 * Matrix products whose forward AND backward only ever call untransposed `tf.matMul`.
 *
 * Why: tfjs-backend-wasm 4.22 sends every matMul with transposeA or transposeB to a plain
 * single-threaded loop (about 2 GFLOP/s), while untransposed products go to XNNPACK (23-31
 * GFLOP/s). The stock gradient of matMul(a, b) is dA = dy·bᵀ and dB = aᵀ·dy computed with the
 * transpose flags, so on wasm the backward products dominated a training step. Here the gradient
 * is a tf.customGrad that materialises the transposes with tf.transpose (a cheap copy) and then
 * multiplies untransposed. Values and gradients are the same as the stock ones (float rounding
 * aside).
 *
 * Only wasm gains. Measured (DeepFM / DLRM training steps on the Criteo slice, headless Chromium,
 * SwiftShader for webgl/webgpu, one run each): forcing this form everywhere made webgpu 1.4x /
 * 2.4x slower and webgl 2.0x / 1.7x slower; on cpu it was a wash (DeepFM 15% slower, DLRM 12%
 * faster, a lone Linear 10% slower). Those kernels read transposed operands in place, so the extra
 * transposes are pure cost there. So by default ('auto') the fast form runs on wasm only;
 * `setFastMatMulEnabled(true / false)` forces either form for comparisons.
 */
import * as tf from '@tensorflow/tfjs';

/** Backends where the explicit-transpose form measured faster than the stock one. */
const FAST_BACKENDS: ReadonlySet<string> = new Set(['wasm']);

let mode: boolean | 'auto' = 'auto';

/**
 * true: always the fast form; false: always the stock tf.matMul with its own gradient; 'auto'
 * (the default): the fast form on the backends in FAST_BACKENDS. Only tests and benchmarks that
 * compare the two paths should switch it.
 */
export function setFastMatMulEnabled(enabled: boolean | 'auto'): void {
  mode = enabled;
}

/** Whether the next product takes the fast form on the current backend. */
export function isFastMatMulActive(): boolean {
  return mode === 'auto' ? FAST_BACKENDS.has(tf.getBackend()) : mode;
}

/** Swaps the last two axes of a rank-2 or rank-3 tensor. */
function swapLast<T extends tf.Tensor2D | tf.Tensor3D>(t: T): T {
  return (t.rank === 2 ? tf.transpose(t) : tf.transpose(t, [0, 2, 1])) as T;
}

/**
 * a·b for rank-2 ([M,K]·[K,N]) or rank-3 ([B,M,K]·[B,K,N]) inputs, with a gradient that uses
 * only untransposed products. customGrad returns one gradient per input, so gradients reach
 * tf.Variable inputs under tf.variableGrads like any other op. Unlike the stock gradient (lazy per
 * input), customGrad computes both products even when one input needs none (a data batch): for
 * this code's layers that input is small or needs its gradient anyway.
 */
const untransposedProduct = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [
    tf.Tensor2D | tf.Tensor3D,
    tf.Tensor2D | tf.Tensor3D,
    tf.GradSaveFunc,
  ];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy, saved) => {
      const [sa, sb] = saved as [tf.Tensor2D | tf.Tensor3D, tf.Tensor2D | tf.Tensor3D];
      const g = dy as tf.Tensor2D | tf.Tensor3D;
      return [tf.matMul(g, swapLast(sb)), tf.matMul(swapLast(sa), g)];
    },
  };
});

/** tf.matMul(a, b) for [M,K]·[K,N]; on the fast path its gradient has no transposed products. */
export function matMulFast(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!isFastMatMulActive()) return tf.matMul(a, b);
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
    throw new Error(`matMulFast: cannot multiply [${a.shape}] by [${b.shape}]`);
  }
  return untransposedProduct(a, b) as tf.Tensor2D;
}

/**
 * tf.matMul(a, b, transposeA, transposeB) for rank-3 inputs with equal batch sizes (no
 * broadcasting). The flags become explicit tf.transpose ops, whose own gradient is a transpose,
 * so neither the forward nor the backward runs a transposed product.
 */
export function batchMatMulFast(
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  transposeA = false,
  transposeB = false,
): tf.Tensor3D {
  if (!isFastMatMulActive()) return tf.matMul(a, b, transposeA, transposeB);
  // Check shapes before transposing, so that a bad call leaves no stray tensor behind.
  const [batchA, rowsA, colsA] = a.shape;
  const [batchB, rowsB, colsB] = b.shape;
  const inner = transposeA ? rowsA : colsA;
  if (a.rank !== 3 || b.rank !== 3 || batchA !== batchB || inner !== (transposeB ? colsB : rowsB)) {
    throw new Error(
      `batchMatMulFast: cannot multiply [${a.shape}]${transposeA ? 'ᵀ' : ''} by [${b.shape}]${transposeB ? 'ᵀ' : ''}`,
    );
  }
  return untransposedProduct(
    transposeA ? swapLast(a) : a,
    transposeB ? swapLast(b) : b,
  ) as tf.Tensor3D;
}
