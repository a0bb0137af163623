/**
 * BatchNorm1d's training step as one differentiable op with a hand-written gradient.
 *
 * Why: tfjs differentiates the composed forward (moments, subtract, add, sqrt, divide, scale,
 * shift) op by op, and each broadcast in it adds a reduction to the backward pass. The closed
 * form needs 7 kernels over the [batch, features] activations for the backward pass (PEP's
 * Criteo DeepFM, three BatchNorms: 747 kernels a step before, 549 after; scripts/profile-step.ts):
 *
 *   x̂ = (x - μ) / σ,  y = γ·x̂ + β,  σ = sqrt(var + eps) with the biased batch variance
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = (γ / σ) · (dy - dβ/N - x̂ · dγ/N)
 *
 * Values and gradients equal the composed form's (float rounding aside; a test checks both, and
 * whole models' losses over 20 steps). `setFusedBatchNormEnabled(false)` restores the composed
 * form for comparisons.
 */
import * as tf from '@tensorflow/tfjs';

let enabled = true;

/** true (the default): the fused op; false: the composed ops with tfjs's own gradients. */
export function setFusedBatchNormEnabled(on: boolean): void {
  enabled = on;
}

export function isFusedBatchNormEnabled(): boolean {
  return enabled;
}

/** The batch statistics of the last forward, handed to the caller for the running estimates. */
export interface BatchMoments {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * y = γ·(x - μ)/sqrt(var + eps) + β over the batch (axis 0) of `x` [N, F], with the gradient
 * above for x, γ and β. `onMoments` receives the batch mean and biased variance during the
 * forward pass (tensors that live until the end of that call: update running statistics there).
 */
export function batchNormTraining(
  x: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  onMoments: (m: BatchMoments) => void,
): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, g, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const mean = tf.mean(xs, 0) as tf.Tensor1D;
    const centred = tf.sub(xs, mean);
    const variance = tf.mean(tf.square(centred), 0) as tf.Tensor1D;
    onMoments({ mean, variance });
    const invStd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor1D;
    const xHat = tf.mul(centred, invStd) as tf.Tensor2D;
    save([xHat, invStd, g]);
    return {
      value: tf.add(tf.mul(xHat, g), b),
      gradFunc: (dy, saved) => {
        const [sxHat, sInvStd, sg] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
        const n = (dy as tf.Tensor2D).shape[0];
        const dBeta = tf.sum(dy, 0);
        const dGamma = tf.sum(tf.mul(dy, sxHat), 0);
        // dx = (γ/σ)·(dy - (dβ + x̂·dγ)/N)
        const correction = tf.add(tf.mul(sxHat, tf.div(dGamma, n)), tf.div(dBeta, n));
        const dx = tf.mul(tf.sub(dy, correction), tf.mul(sg, sInvStd));
        return [dx, dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor2D;
}
