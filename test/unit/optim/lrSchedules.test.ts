import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TorchSgd } from '../../../workers/optim/denseOptimizers';
import { learningRateAt } from '../../../workers/optim/lrSchedules';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('learning-rate schedules (torch closed forms)', () => {
  it('constant', () => {
    expect([0, 1, 7].map((t) => learningRateAt({ kind: 'constant' }, 0.1, t))).toEqual([
      0.1, 0.1, 0.1,
    ]);
  });

  it('StepLR: lr0 * gamma^floor(t / step_size)', () => {
    const s = { kind: 'step', stepSize: 3, gamma: 0.5 } as const;
    const got = [0, 1, 2, 3, 4, 5, 6, 9].map((t) => learningRateAt(s, 0.8, t));
    expect(got).toEqual([0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.1]);
  });

  it('ExponentialLR: lr0 * gamma^t', () => {
    const got = [0, 1, 2, 3].map((t) => learningRateAt({ kind: 'exponential', gamma: 0.9 }, 1, t));
    [1, 0.9, 0.81, 0.729].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12));
  });

  it('CosineAnnealingLR: eta_min + (lr0 - eta_min)(1 + cos(pi t / T_max)) / 2', () => {
    const s = { kind: 'cosine', tMax: 4, etaMin: 0.01 } as const;
    const lr0 = 0.1;
    const expected = [
      0.1,
      0.01 + (0.09 * (1 + Math.SQRT1_2)) / 2,
      0.055,
      0.01 + (0.09 * (1 - Math.SQRT1_2)) / 2,
      0.01,
    ];
    expected.forEach((v, t) => expect(learningRateAt(s, lr0, t)).toBeCloseTo(v, 12));
  });

  it('rejects a negative learning rate and bad schedule sizes', () => {
    const opt = new TorchSgd([], {
      learningRate: 0.4,
      momentum: 0,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
    });
    expect(() => {
      opt.learningRate = -1;
    }).toThrow();
    expect(() => learningRateAt({ kind: 'step', stepSize: 0, gamma: 0.5 }, 1, 1)).toThrow();
    expect(() => learningRateAt({ kind: 'cosine', tMax: 0, etaMin: 0 }, 1, 1)).toThrow();
  });
});
