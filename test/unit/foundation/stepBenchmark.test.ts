import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runStepBenchmark } from '../../../workers/engine/stepBenchmark';
import type { StepBenchmarkConfig } from '../../../workers/protocol';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY: StepBenchmarkConfig = {
  model: 'deepfm',
  totalVocabulary: 500,
  numFields: 4,
  embeddingDim: 4,
  mlpLayers: [8],
  batchSize: 32,
  embeddingUpdate: 'lazy',
  warmupSteps: 1,
  steps: 2,
  seed: 1,
};

describe('runStepBenchmark', () => {
  it('times the steps after the warm-up ones', async () => {
    const r = await runStepBenchmark(TINY);
    expect(r.medianMs).toBeGreaterThan(0);
    expect(r.hostTableBytes).toBeGreaterThan(0);
    // Node has WebAssembly SIMD: the host tables' Adam ran in the kernel.
    expect(r.hostAdamKernel).toBe(true);
    expect(r.profile).toBeUndefined();
  });

  it('profiles the same steps kernel by kernel, with the shapes of each call', async () => {
    const r = await runStepBenchmark({ ...TINY, profile: true });
    const p = r.profile;
    expect(p).toBeDefined();
    if (!p) return;
    expect(p.steps).toBe(3);
    expect(p.timed).toBe(true);
    const matMul = p.kernels.find((k) => k.name === 'BatchMatMul');
    // DeepFM's MLP: 2 products forward, their gradients backward, each step.
    expect(matMul?.callsPerStep).toBeGreaterThanOrEqual(2);
    expect(matMul?.byShape.length).toBeGreaterThan(0);
    const calls = p.kernels.reduce((a, k) => a + k.callsPerStep, 0);
    expect(calls).toBeCloseTo(p.kernelsPerStep, 6);
    const byShapeCalls = matMul?.byShape.reduce((a, s) => a + s.callsPerStep, 0);
    expect(byShapeCalls).toBeCloseTo(matMul?.callsPerStep ?? -1, 6);
    // Sorted by time, largest first.
    for (let i = 1; i < p.kernels.length; i++) {
      expect(p.kernels[i - 1].msPerStep).toBeGreaterThanOrEqual(p.kernels[i].msPerStep);
    }
  });
});
