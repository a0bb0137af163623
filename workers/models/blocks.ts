/**
 * Small helpers shared by the models in this folder.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Runs a constructor of variables inside a tidy. `tf.variable(t)` keeps `t` tracked as well (the
 * variable shares its data), so the init tensors of Linear/BatchNorm would otherwise stay counted
 * in tf.memory() after the model is disposed. Variables are never disposed by a tidy.
 */
export function buildVariables<T>(build: () => T): T {
  let built: T | undefined;
  tf.tidy(() => {
    built = build();
  });
  return built as T;
}
