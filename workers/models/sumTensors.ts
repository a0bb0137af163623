/**
 * The sum of many same-shape tensors. tfjs-webgpu 4.22's AddN puts every input into one shader
 * and does not split them, so with more inputs than the device's storage buffers per shader stage
 * (8 by default) the pipeline fails validation and the step's GPU work is lost (a sequence run's
 * L2 term over 20+ variables read back a loss of 1e-8). This adds at most 6 at a time.
 */
import * as tf from '@tensorflow/tfjs';

const GROUP = 6;

export function sumTensors<T extends tf.Tensor>(tensors: readonly T[]): T {
  if (tensors.length === 0) throw new Error('sumTensors: nothing to add');
  let level: T[] = [...tensors];
  while (level.length > 1) {
    const next: T[] = [];
    for (let i = 0; i < level.length; i += GROUP) {
      const group = level.slice(i, i + GROUP);
      next.push(group.length === 1 ? group[0] : (tf.addN(group) as T));
    }
    level = next;
  }
  return level[0];
}
