/**
 * The pieces of the lab's own GPU kernels that run in Node: the reduction view of the webgpu
 * column sums, and the kernel check itself on cpu (where it checks the segmented-scan gradient
 * and the host Adam kernel; the webgpu and webgl lanes run it in the browser,
 * test/e2e/ownKernels.spec.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { consecutiveAxesReduction } from '../../../workers/models/webgpuReductions';
import { checkOwnKernels } from '../../../workers/engine/ownKernelCheck';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('consecutiveAxesReduction', () => {
  it('reads a reduction over consecutive axes as [outer, rows, inner]', () => {
    expect(consecutiveAxesReduction([1024, 400], [0])).toEqual({
      outer: 1,
      rows: 1024,
      inner: 400,
    });
    expect(consecutiveAxesReduction([1024, 39, 24], [1])).toEqual({
      outer: 1024,
      rows: 39,
      inner: 24,
    });
    expect(consecutiveAxesReduction([1024, 39], [1])).toEqual({ outer: 1024, rows: 39, inner: 1 });
    expect(consecutiveAxesReduction([20, 30, 40], [1, 0])).toEqual({
      outer: 1,
      rows: 600,
      inner: 40,
    });
    expect(consecutiveAxesReduction([7], [0])).toEqual({ outer: 1, rows: 7, inner: 1 });
  });

  it('leaves axes that are not consecutive, no axes and empty inputs to tfjs', () => {
    expect(consecutiveAxesReduction([5, 6, 7], [0, 2])).toBeNull();
    expect(consecutiveAxesReduction([5, 6], [])).toBeNull();
    expect(consecutiveAxesReduction([0, 6], [0])).toBeNull();
  });
});

describe('checkOwnKernels on cpu', () => {
  it('finds the segmented-scan gradient equal to ScatterNd within float32 rounding', async () => {
    const checks = await checkOwnKernels();
    const segmentSums = checks.filter((c) => c.kernel === 'segment sum (gather gradient)');
    expect(segmentSums).toHaveLength(3);
    for (const c of segmentSums) expect(c.relativeDiff, c.case).toBeLessThan(1e-6);
  });

  it('finds the host Adam kernel there and equal to the JavaScript loops, bit for bit', async () => {
    const checks = await checkOwnKernels();
    const adam = checks.filter((c) => c.kernel === 'host Adam (WebAssembly SIMD)');
    expect(adam.map((c) => c.case)).toEqual([
      'exact updates, rows of 16',
      'lazy updates, rows of 16',
      'lazy updates, rows of 3',
    ]);
    for (const c of adam) expect(c.relativeDiff, c.case).toBe(0);
    expect(checks).toHaveLength(3 + adam.length);
  });
});
