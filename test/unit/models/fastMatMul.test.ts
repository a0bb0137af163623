import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import {
  batchMatMulFast,
  isFastMatMulActive,
  matMulFast,
  setFastMatMulEnabled,
} from '../../../workers/models/fastMatMul';
import { DEFAULT_TRAIN_CONFIG, type ModelKind } from '../../../workers/protocol';
import { Rng } from '../../../workers/rng';
import { expectSameLosses } from '../kit/sameLosses';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// 'auto' keeps the stock products on cpu, so every comparison below forces the fast form on.
beforeEach(() => setFastMatMulEnabled(true));
afterEach(() => setFastMatMulEnabled('auto'));

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => rng.uniform(-1, 1)),
    shape,
  );
}

/** max |got - want| relative to the largest |want| (element-wise relative error blows up near 0). */
async function expectClose(got: tf.Tensor, want: tf.Tensor, rel = 1e-5): Promise<void> {
  expect(got.shape).toEqual(want.shape);
  const [g, w] = await Promise.all([got.data(), want.data()]);
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < w.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(g[i] - w[i]));
    scale = Math.max(scale, Math.abs(w[i]));
  }
  expect(maxDiff).toBeLessThanOrEqual(rel * Math.max(scale, 1e-12));
}

/** Value and input gradients of sum(product * r), r a fixed random weighting of the output. */
function valueAndGrads(
  product: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  r: tf.Tensor,
): tf.Tensor[] {
  const value = tf.tidy(() => product(a, b));
  const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(product(x, y), r)))([a, b]);
  return [value, ...grads];
}

async function compareProducts(
  fast: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  stock: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  aShape: number[],
  bShape: number[],
  outShape: number[],
): Promise<void> {
  const a = randomTensor(aShape, 1);
  const b = randomTensor(bShape, 2);
  const r = randomTensor(outShape, 3);
  const got = valueAndGrads(fast, a, b, r);
  const want = valueAndGrads(stock, a, b, r);
  expect(got[0].shape).toEqual(outShape);
  for (let i = 0; i < got.length; i++) await expectClose(got[i], want[i]);
  tf.dispose([a, b, r, ...got, ...want]);
}

describe('matMulFast', () => {
  // [M, K] x [K, N]: batch 1, square, non-square both ways, a wide K.
  const shapes: [number, number, number][] = [
    [1, 5, 3],
    [4, 4, 4],
    [7, 3, 11],
    [13, 9, 2],
    [32, 40, 8],
  ];
  for (const [m, k, n] of shapes) {
    it(`[${m},${k}]x[${k},${n}]: value and gradients equal tf.matMul's`, async () => {
      await compareProducts(
        (a, b) => matMulFast(a as tf.Tensor2D, b as tf.Tensor2D),
        (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
        [m, k],
        [k, n],
        [m, n],
      );
    });
  }

  /** The transpose flags of every BatchMatMul kernel that `run` launches. */
  function matMulFlagsDuring(run: () => void): Record<string, unknown>[] {
    const seen: Record<string, unknown>[] = [];
    const engine = tf.engine();
    const original = engine.runKernel.bind(engine);
    engine.runKernel = ((name: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) => {
      if (name === tf.BatchMatMul) seen.push({ ...attrs });
      return original(name, inputs, attrs ?? {});
    }) as typeof engine.runKernel;
    try {
      run();
    } finally {
      engine.runKernel = original;
    }
    return seen;
  }

  it('neither its forward nor its backward runs a transposed product', () => {
    const a = randomTensor([3, 4], 1);
    const b = randomTensor([4, 5], 2);
    const q = randomTensor([2, 3, 4], 3);
    const k = randomTensor([2, 6, 4], 4);
    const qT = tf.transpose(q, [0, 2, 1]);
    const seen = matMulFlagsDuring(() => {
      const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(matMulFast(x as tf.Tensor2D, y as tf.Tensor2D)),
      )([a, b]);
      // The attention's score product q·kᵀ, and one with both flags on.
      const batched = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(batchMatMulFast(x as tf.Tensor3D, y as tf.Tensor3D, false, true)),
      )([q, k]);
      const both = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(batchMatMulFast(x as tf.Tensor3D, y as tf.Tensor3D, true, true)),
      )([qT, k]);
      tf.dispose([...grads, ...batched, ...both]);
    });
    expect(seen.length).toBe(9); // forward, dA, dB for each of the three products
    for (const attrs of seen) {
      expect(attrs.transposeA).toBe(false);
      expect(attrs.transposeB).toBe(false);
    }
    // The check has teeth: the stock op with a flag is seen as transposed.
    setFastMatMulEnabled(false);
    const stock = matMulFlagsDuring(() =>
      tf.dispose(tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)))([a, b])),
    );
    expect(stock.some((attrs) => attrs.transposeA === true || attrs.transposeB === true)).toBe(
      true,
    );
    tf.dispose([a, b, q, k, qT]);
  });

  it('gradients reach a tf.Variable under tf.variableGrads', async () => {
    const x = randomTensor([6, 4], 1) as tf.Tensor2D;
    const w = tf.variable(randomTensor([4, 3], 2), true, 'fastMatMul_test_w');
    const bias = tf.variable(randomTensor([3], 3), true, 'fastMatMul_test_b');
    const loss = (product: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D) => () =>
      tf.sum(tf.square(tf.add(product(x, w as tf.Tensor2D), bias))) as tf.Scalar;
    const fast = tf.variableGrads(loss(matMulFast), [w, bias]);
    const stock = tf.variableGrads(
      loss((a, b) => tf.matMul(a, b)),
      [w, bias],
    );
    expect(Object.keys(fast.grads).sort()).toEqual([bias.name, w.name].sort());
    await expectClose(fast.value, stock.value);
    await expectClose(fast.grads[w.name], stock.grads[w.name]);
    await expectClose(fast.grads[bias.name], stock.grads[bias.name]);
    // A non-trivial gradient, so the comparison above is not 0 == 0.
    expect((await tf.abs(fast.grads[w.name]).sum().data())[0]).toBeGreaterThan(0);
    tf.dispose([x, w, bias, fast.value, stock.value]);
    tf.dispose(Object.values(fast.grads));
    tf.dispose(Object.values(stock.grads));
  });

  it('leaks no tensor over repeated gradient calls', async () => {
    const x = randomTensor([8, 5], 1) as tf.Tensor2D;
    const w = tf.variable(randomTensor([5, 4], 2), true, 'fastMatMul_leak_w');
    const q = randomTensor([3, 4, 2], 3) as tf.Tensor3D;
    const k = randomTensor([3, 6, 2], 4) as tf.Tensor3D;
    const step = async () => {
      const { value, grads } = tf.variableGrads(() => {
        const h = matMulFast(x, w as tf.Tensor2D); // [8, 4]
        const s = batchMatMulFast(q, k, false, true); // [3, 4, 6]
        const t = batchMatMulFast(s, k); // [3, 4, 2]
        return tf.add(tf.sum(tf.square(h)), tf.sum(t)) as tf.Scalar;
      }, [w]);
      await value.data();
      value.dispose();
      tf.dispose(Object.values(grads));
    };
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, q, k]);
  });

  it("'auto' picks the stock products on cpu, true and false force either form", () => {
    setFastMatMulEnabled('auto');
    expect(isFastMatMulActive()).toBe(false);
    setFastMatMulEnabled(true);
    expect(isFastMatMulActive()).toBe(true);
    setFastMatMulEnabled(false);
    expect(isFastMatMulActive()).toBe(false);
  });

  it('throws on mismatched shapes without leaving tensors behind', () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    const b = tf.zeros([4, 5]) as tf.Tensor2D;
    const c = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    expect(() => matMulFast(a, b)).toThrow(/cannot multiply/);
    expect(() => batchMatMulFast(c, c, false, false)).toThrow(/cannot multiply/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b, c]);
  });
});

describe('batchMatMulFast', () => {
  // [B, M, K] x [B, K, N] before the flags; batch 1 and larger, non-square.
  const shapes: [number, number, number, number][] = [
    [1, 1, 4, 3],
    [1, 5, 5, 5],
    [3, 4, 2, 6],
    [6, 7, 3, 5],
  ];
  for (const [bs, m, k, n] of shapes) {
    for (const [ta, tb] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ]) {
      it(`[${bs},${m},${k}]x[${bs},${k},${n}] transposeA=${ta} transposeB=${tb}: equals tf.matMul`, async () => {
        await compareProducts(
          (a, b) => batchMatMulFast(a as tf.Tensor3D, b as tf.Tensor3D, ta, tb),
          (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, ta, tb),
          ta ? [bs, k, m] : [bs, m, k],
          tb ? [bs, n, k] : [bs, k, n],
          [bs, m, n],
        );
      });
    }
  }
});

for (const backend of ['cpu', 'wasm']) {
  describe(`whole models train the same with the fast and the stock gradient on ${backend}`, () => {
    const ds = generateSyntheticCtr({ seed: 5, numRows: 1200, numFields: 5, maxCardinality: 200 });
    const cfg = {
      ...DEFAULT_TRAIN_CONFIG,
      epochs: 1,
      maxSteps: 20,
      batchSize: 32,
      embeddingDim: 4,
      mlpLayers: [8, 4],
      learningRate: 0.01,
    };
    for (const model of ['fm', 'deepfm', 'widedeep', 'autoint', 'dlrm'] as ModelKind[]) {
      it(`${model}: 20 losses agree to 1e-5 relative`, async () => {
        expect(await tf.setBackend(backend)).toBe(true);
        await expectSameLosses(ds, { ...cfg, model }, setFastMatMulEnabled, 20);
      });
    }
  });
}
