import * as tf from '@tensorflow/tfjs';

/** Mean binary cross-entropy from logits, stable form: max(z,0) - z*y + log(1 + exp(-|z|)). */
export function bceWithLogits(logits: tf.Tensor1D, labels: tf.Tensor1D): tf.Scalar {
  return tf
    .relu(logits)
    .sub(logits.mul(labels))
    .add(tf.log1p(tf.exp(tf.abs(logits).neg())))
    .mean();
}
