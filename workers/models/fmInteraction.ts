/**
 * FM's second-order term as one differentiable op with a hand-written gradient.
 *
 *   fm[b] = 0.5 · Σ_k [(Σ_f v[b,f,k])² - Σ_f v[b,f,k]²],   ∂fm[b]/∂v[b,f,k] = s[b,k] - v[b,f,k]
 *
 * with s = Σ_f v. tfjs's own gradient of the composed form goes through two sums over the fields,
 * and tfjs differentiates a sum by multiplying with a tensor of ones the size of its input, built
 * in JavaScript every step ([1024, 39, 24] twice for PEP's Criteo FM: about 8 ms a step on wasm,
 * scripts/profile-step.ts). The closed form is two kernels. Values and gradients equal the
 * composed form's (a test checks both).
 */
import * as tf from '@tensorflow/tfjs';

let enabled = true;

/** true (the default): the fused op; false: the composed ops with tfjs's own gradients. */
export function setFusedFmEnabled(on: boolean): void {
  enabled = on;
}

/** The composed form: what the fused op computes, differentiated op by op. */
function composedFm(v: tf.Tensor3D): tf.Tensor1D {
  const sumSquare = v.sum(1).square();
  const squareSum = v.square().sum(1);
  return sumSquare.sub(squareSum).sum(1).mul(0.5);
}

const fusedFm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [v, save] = args as [tf.Tensor3D, tf.GradSaveFunc];
  const s = tf.sum(v, 1) as tf.Tensor2D; // [B, d]
  save([v, s]);
  return {
    value: composedFmFromSum(v, s),
    gradFunc: (dy, saved) => {
      const [sv, ss] = saved as [tf.Tensor3D, tf.Tensor2D];
      const [b] = sv.shape;
      // dy[b] · (s[b,k] - v[b,f,k])
      return tf.mul(tf.sub(tf.expandDims(ss, 1), sv), tf.reshape(dy, [b, 1, 1]));
    },
  };
});

/** The forward in the composed form's order of operations (the same float rounding). */
function composedFmFromSum(v: tf.Tensor3D, s: tf.Tensor2D): tf.Tensor1D {
  return tf.mul(tf.sum(tf.sub(tf.square(s), tf.sum(tf.square(v), 1)), 1), 0.5) as tf.Tensor1D;
}

/** FM's pairwise interaction of the field vectors `v` [B, F, d], one value per example. */
export function fmInteraction(v: tf.Tensor3D): tf.Tensor1D {
  return enabled ? (fusedFm(v) as tf.Tensor1D) : composedFm(v);
}
