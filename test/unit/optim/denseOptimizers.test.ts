/**
 * Each optimizer against the torch.optim update rule written out for a few scalars.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DenseAdamConfig,
  type DenseOptimizer,
  type DenseSgdConfig,
  TorchAdam,
  TorchSgd,
  clipGradNorm,
} from '../../../workers/optim/denseOptimizers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const P0 = [0.5, -1.5, 2.0];
/** Gradients per step (independent of the parameters, so the rule alone is tested). */
const GRADS = [
  [0.1, -0.2, 0.3],
  [-0.4, 0.05, 0.3],
  [0.2, 0.2, -0.6],
  [1.0, -0.01, 0.0],
];

let nameCounter = 0;

async function runOptimizer(
  make: (vars: tf.Variable[]) => DenseOptimizer,
  grads: number[][] = GRADS,
  beforeStep?: (opt: DenseOptimizer, step: number) => void,
): Promise<number[][]> {
  const p = tf.variable(tf.tensor1d(P0), true, `opt_test_p_${nameCounter++}`);
  const opt = make([p]);
  const trajectory: number[][] = [];
  let tensorsAfterFirst = -1;
  for (let s = 0; s < grads.length; s++) {
    beforeStep?.(opt, s);
    const g = tf.tensor1d(grads[s]);
    opt.applyGradients({ [p.name]: g });
    g.dispose();
    trajectory.push(Array.from(await p.data()));
    if (s === 0) tensorsAfterFirst = tf.memory().numTensors;
    else expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
  }
  opt.dispose();
  p.dispose();
  return trajectory;
}

/** torch.optim.Adam / AdamW (amsgrad off), in float64. */
function adamReference(cfg: DenseAdamConfig, grads: number[][], lrs?: number[]): number[][] {
  const p = [...P0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const out: number[][] = [];
  grads.forEach((gs, s) => {
    const t = s + 1;
    const lr = lrs ? lrs[s] : cfg.learningRate;
    for (let i = 0; i < p.length; i++) {
      let g = gs[i];
      if (cfg.decoupledWeightDecay) p[i] *= 1 - lr * cfg.weightDecay;
      else g += cfg.weightDecay * p[i];
      m[i] = cfg.beta1 * m[i] + (1 - cfg.beta1) * g;
      v[i] = cfg.beta2 * v[i] + (1 - cfg.beta2) * g * g;
      const mHat = m[i] / (1 - cfg.beta1 ** t);
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - cfg.beta2 ** t) + cfg.eps;
      p[i] -= (lr * mHat) / denom;
    }
    out.push([...p]);
  });
  return out;
}

/** torch.optim.SGD, in float64. */
function sgdReference(cfg: DenseSgdConfig, grads: number[][], lrs?: number[]): number[][] {
  const p = [...P0];
  let buf: number[] | null = null;
  const out: number[][] = [];
  grads.forEach((gs, s) => {
    const lr = lrs ? lrs[s] : cfg.learningRate;
    const d = gs.map((g, i) => g + cfg.weightDecay * p[i]);
    let step = d;
    if (cfg.momentum !== 0) {
      const prev: number[] | null = buf;
      buf =
        prev === null ? [...d] : prev.map((b, i) => cfg.momentum * b + (1 - cfg.dampening) * d[i]);
      const b = buf;
      step = cfg.nesterov ? d.map((x, i) => x + cfg.momentum * b[i]) : b;
    }
    for (let i = 0; i < p.length; i++) p[i] -= lr * step[i];
    out.push([...p]);
  });
  return out;
}

function expectClose(actual: number[][], expected: number[][], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, s) =>
    row.forEach((v, i) =>
      expect(v, `step ${s + 1}, param ${i}`).toBeCloseTo(expected[s][i], digits),
    ),
  );
}

describe('TorchAdam', () => {
  const base: DenseAdamConfig = {
    learningRate: 0.05,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.1,
    decoupledWeightDecay: false,
  };

  it('Adam with weight decay added to the gradient', async () => {
    const got = await runOptimizer((vars) => new TorchAdam(vars, base));
    expectClose(got, adamReference(base, GRADS));
    // The decay matters here: without it the trajectory differs.
    expect(
      Math.abs(got[3][2] - adamReference({ ...base, weightDecay: 0 }, GRADS)[3][2]),
    ).toBeGreaterThan(1e-3);
  });

  it('AdamW: decoupled decay p *= 1 - lr * wd', async () => {
    const cfg = { ...base, weightDecay: 0.5, decoupledWeightDecay: true };
    const got = await runOptimizer((vars) => new TorchAdam(vars, cfg));
    expectClose(got, adamReference(cfg, GRADS));
    expect(
      Math.abs(got[3][0] - adamReference({ ...cfg, decoupledWeightDecay: false }, GRADS)[3][0]),
    ).toBeGreaterThan(1e-3);
  });

  it('the learning rate can change between steps', async () => {
    const lrs = [0.05, 0.02, 0.1, 0.001];
    const got = await runOptimizer(
      (vars) => new TorchAdam(vars, base),
      GRADS,
      (opt, s) => {
        (opt as TorchAdam).learningRate = lrs[s];
      },
    );
    expectClose(got, adamReference(base, GRADS, lrs));
  });

  it('a parameter without a gradient keeps its own step count (bias correction as torch)', async () => {
    const a = tf.variable(tf.tensor1d([1]), true, `opt_test_a_${nameCounter++}`);
    const b = tf.variable(tf.tensor1d([1]), true, `opt_test_b_${nameCounter++}`);
    const cfg = { ...base, weightDecay: 0 };
    const opt = new TorchAdam([a, b], cfg);
    const g = tf.tensor1d([0.3]);
    opt.applyGradients({ [a.name]: g });
    opt.applyGradients({ [a.name]: g, [b.name]: g });
    // b's first step: m_hat = g, v_hat = g^2, update = lr * g / (|g| + eps) ~ lr.
    expect((await b.data())[0]).toBeCloseTo(1 - cfg.learningRate, 6);
    expect(opt.stepCount).toBe(2);
    g.dispose();
    opt.dispose();
    tf.dispose([a, b]);
  });
});

describe('TorchSgd', () => {
  const cases: [string, DenseSgdConfig][] = [
    [
      'plain SGD',
      { learningRate: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
    ],
    [
      'momentum + weight decay',
      { learningRate: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0.05 },
    ],
    [
      'nesterov + weight decay',
      { learningRate: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.05 },
    ],
    [
      'momentum with dampening',
      { learningRate: 0.2, momentum: 0.5, dampening: 0.3, nesterov: false, weightDecay: 0.01 },
    ],
  ];
  for (const [label, cfg] of cases) {
    it(`${label} follows torch.optim.SGD (first-step buffer = gradient)`, async () => {
      const got = await runOptimizer((vars) => new TorchSgd(vars, cfg));
      expectClose(got, sgdReference(cfg, GRADS));
    });
  }

  it('first momentum step equals a plain step (buffer initialised to the gradient, not damped)', async () => {
    const cfg = {
      learningRate: 0.1,
      momentum: 0.9,
      dampening: 0.5,
      nesterov: false,
      weightDecay: 0,
    };
    const [first] = await runOptimizer((vars) => new TorchSgd(vars, cfg));
    expectClose([first], [P0.map((p, i) => p - 0.1 * GRADS[0][i])]);
  });

  it('rejects nesterov without momentum or with dampening', () => {
    expect(
      () =>
        new TorchSgd([], {
          learningRate: 0.1,
          momentum: 0,
          dampening: 0,
          nesterov: true,
          weightDecay: 0,
        }),
    ).toThrow();
    expect(
      () =>
        new TorchSgd([], {
          learningRate: 0.1,
          momentum: 0.9,
          dampening: 0.1,
          nesterov: true,
          weightDecay: 0,
        }),
    ).toThrow();
  });
});

describe('clipGradNorm (torch.nn.utils.clip_grad_norm_)', () => {
  it('scales every gradient by max_norm / (total + 1e-6) when the total L2 norm is larger', async () => {
    const a = [3, 0, -4];
    const b = [[12]];
    const total = Math.sqrt(9 + 16 + 144); // 13
    const grads: tf.NamedTensorMap = { a: tf.tensor1d(a), b: tf.tensor2d(b) };
    const before = tf.memory().numTensors;
    const norm = clipGradNorm(grads, 2);
    expect(tf.memory().numTensors).toBe(before + 1); // old gradients replaced, plus the norm
    expect((await norm.data())[0]).toBeCloseTo(total, 5);
    const scale = 2 / (total + 1e-6);
    const gotA = Array.from(await grads.a.data());
    gotA.forEach((v, i) => expect(v).toBeCloseTo(a[i] * scale, 6));
    expect((await grads.b.data())[0]).toBeCloseTo(12 * scale, 6);
    expect(grads.b.shape).toEqual([1, 1]);
    norm.dispose();
    tf.dispose([grads.a, grads.b]);
  });

  it('leaves gradients unchanged when the norm is within the limit (scale clamped at 1)', async () => {
    const grads: tf.NamedTensorMap = { a: tf.tensor1d([0.3, -0.4]) };
    const norm = clipGradNorm(grads, 100);
    expect((await norm.data())[0]).toBeCloseTo(0.5, 6);
    expect(Array.from(await grads.a.data())).toEqual([Math.fround(0.3), Math.fround(-0.4)]);
    norm.dispose();
    grads.a.dispose();
  });
});
