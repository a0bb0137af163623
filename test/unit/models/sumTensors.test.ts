import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { sumTensors } from '../../../workers/models/sumTensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

it('sumTensors adds any number of tensors in groups small enough for one WebGPU shader', () => {
  for (const n of [1, 2, 6, 7, 13, 37]) {
    const ts = Array.from({ length: n }, (_, i) => tf.fill([3], i + 1));
    expect(Array.from(sumTensors(ts).dataSync())).toEqual([0, 1, 2].map(() => (n * (n + 1)) / 2));
    // Gradients reach every input.
    const g = tf.grads((...xs: tf.Tensor[]) => tf.sum(sumTensors(xs)))(ts);
    expect(g.map((t) => t.dataSync()[0])).toEqual(ts.map(() => 1));
  }
  expect(() => sumTensors([])).toThrow(/nothing to add/);
});
