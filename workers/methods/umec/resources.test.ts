/**
 * UMEC's resource functions: the 705,793 FLOPs of dense 432-512-256-1, agreement with
 * umecTopMlpFlops (workers/models/dlrm.ts), the official flops2 value and straight-through
 * gradient (hand-computed, and central differences over whole steps where floor is exact), and
 * the smallest model that can exist for both kinds and modes.
 */
import { describe, expect, it } from 'vitest';
import { umecTopMlpFlops } from '../../models/dlrm';
import { Rng } from '../../rng';
import {
  denseResource,
  minimumRatio,
  mlpFlops,
  mlpParams,
  officialResourceRatio,
  structureRatio,
  structureResource,
  type KeptStructure,
  type PrunableLayout,
} from './resources';

/** DLRM's top MLP: the dense block (fixed, no embedding) then 26 fields of 16 columns. */
function dlrmLayout(): PrunableLayout {
  return {
    groupSizes: new Array<number>(27).fill(16),
    groupParams: [0, ...Array.from({ length: 26 }, (_, f) => (f + 1) * 100 * 16)],
    fixedGroups: [true, ...new Array<boolean>(26).fill(false)],
    layerSizes: [512, 256, 1],
  };
}

/** Structure with the first pruned[0] groups and the first pruned[l] neurons of each layer removed. */
function pruneFirst(layout: PrunableLayout, pruned: number[]): KeptStructure {
  const keepGroups = Uint8Array.from(layout.groupSizes, (_, g) => (g < pruned[0] ? 0 : 1));
  const keepNeurons = layout.layerSizes
    .slice(0, -1)
    .map((n, l) => Uint8Array.from({ length: n }, (_, i) => (i < pruned[l + 1] ? 0 : 1)));
  return { keepGroups, keepNeurons };
}

describe('UMEC FLOPs and params', () => {
  it('dense 432-512-256-1 is 705,793 FLOPs; dropping one 16-wide group saves 16,384', () => {
    const layout = dlrmLayout();
    expect(denseResource(layout, 'flops')).toBe(705_793);
    expect(mlpFlops(layout, 432, [512, 256])).toBe(705_793);
    expect(mlpFlops(layout, 416, [512, 256])).toBe(705_793 - 16_384);
    expect(structureResource(layout, 'flops', pruneFirst(layout, [1, 0, 0]))).toBe(
      705_793 - 16_384,
    );
    // Dropping a hidden neuron of layer 1 removes a column of W_0 and a row of W_1.
    expect(structureResource(layout, 'flops', pruneFirst(layout, [0, 1, 0]))).toBe(
      705_793 - (2 * 432 + 1) - 2 * 256,
    );
    expect(structureRatio(layout, 'flops', pruneFirst(layout, [1, 0, 0]))).toBeCloseTo(
      (705_793 - 16_384) / 705_793,
      15,
    );
  });

  it('params count weights and biases, plus the embedding of the kept groups', () => {
    const layout = dlrmLayout();
    const mlp = 432 * 512 + 512 + 512 * 256 + 256 + 256 + 1;
    expect(mlpParams(layout, 432, [512, 256])).toBe(mlp);
    const embedding = layout.groupParams.reduce((s, p) => s + p, 0);
    expect(denseResource(layout, 'params')).toBe(mlp + embedding);
    // Dropping groups 0 and 1 (dense block: no embedding; field 0: 1,600 params).
    expect(structureResource(layout, 'params', pruneFirst(layout, [2, 3, 0]))).toBe(
      400 * 509 + 509 + 509 * 256 + 256 + 257 + embedding - 1_600,
    );
  });

  it('agrees with umecTopMlpFlops and officialResourceRatio on several structures', () => {
    const cases: { layout: PrunableLayout; pruned: number[][] }[] = [
      {
        layout: dlrmLayout(),
        pruned: [
          [0, 0, 0],
          [1, 0, 0],
          [0, 1, 0],
          [5, 100, 30],
          [26, 511, 255],
          [13, 256, 1],
        ],
      },
      {
        layout: {
          groupSizes: new Array<number>(39).fill(24),
          groupParams: new Array<number>(39).fill(0),
          fixedGroups: new Array<boolean>(39).fill(false),
          layerSizes: [400, 400, 400, 1],
        },
        pruned: [
          [0, 0, 0, 0],
          [3, 17, 250, 399],
          [38, 0, 399, 12],
        ],
      },
      {
        layout: {
          groupSizes: [3, 3, 3],
          groupParams: [1, 2, 3],
          fixedGroups: [false, false, false],
          layerSizes: [5, 2],
        },
        pruned: [
          [0, 0],
          [2, 4],
          [1, 3],
        ],
      },
    ];
    for (const { layout, pruned } of cases) {
      const width = layout.groupSizes.reduce((s, g) => s + g, 0);
      const dense = denseResource(layout, 'flops');
      for (const p of pruned) {
        const ref = umecTopMlpFlops(width, layout.layerSizes, layout.groupSizes[0], p);
        expect(structureResource(layout, 'flops', pruneFirst(layout, p))).toBe(ref);
        expect(officialResourceRatio(layout, p, 'joint').ratio * dense).toBeCloseTo(ref, 6);
      }
    }
  });
});

describe('officialResourceRatio (rc_utils.flops2 with straight-through floor)', () => {
  // 6 input columns = 3 groups of 2, layers [4, 3, 1]; dense = 52 + 27 + 7 = 86.
  const small: PrunableLayout = {
    groupSizes: [2, 2, 2],
    groupParams: [0, 0, 0],
    fixedGroups: [false, false, false],
    layerSizes: [4, 3, 1],
  };

  it('matches a hand computation at real-valued s', () => {
    expect(denseResource(small, 'flops')).toBe(86);
    // in0 = floor(6 - 0.5*2) = 5, out0 = floor(4 - 1.25) = 2, out1 = floor(3 - 0.75) = 2:
    // (2*5*2 + 2) + (2*2*2 + 2) + (2*2*1 + 1) = 22 + 10 + 5 = 37.
    const { ratio, gradient } = officialResourceRatio(small, [0.5, 1.25, 0.75], 'joint');
    expect(ratio).toBeCloseTo(37 / 86, 15);
    // dR/ds0 = -g*2*out0 = -8; dR/ds1 = -(2*in0 + 1) - 2*out1 = -15; dR/ds2 = -(2*in1 + 1) - 2 = -7.
    expect(Array.from(gradient, (v) => v * 86)).toEqual(
      [-8, -15, -7].map((v) => expect.closeTo(v, 12)),
    );
    expect(umecTopMlpFlops(6, [4, 3, 1], 2, [0.5, 1.25, 0.75])).toBe(37);
  });

  it('its gradient equals central differences over whole steps (floor is exact there)', () => {
    // R with the floors removed is affine in each s_l separately, so a +-1 central difference at
    // integer s is its exact partial derivative, which the straight-through gradient must equal.
    const layout = dlrmLayout();
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const s = [1 + rng.int(25), 1 + rng.int(510), 1 + rng.int(254)];
      const { gradient } = officialResourceRatio(layout, s, 'joint');
      for (let l = 0; l < 3; l++) {
        const up = s.slice();
        const down = s.slice();
        up[l] += 1;
        down[l] -= 1;
        const fd =
          (officialResourceRatio(layout, up, 'joint').ratio -
            officialResourceRatio(layout, down, 'joint').ratio) /
          2;
        expect(gradient[l]).toBeCloseTo(fd, 12);
      }
    }
  });

  it('agrees with umecTopMlpFlops at random real-valued s', () => {
    const layout = dlrmLayout();
    const rng = new Rng(11);
    for (let trial = 0; trial < 50; trial++) {
      const s = [rng.uniform(0, 26), rng.uniform(0, 511), rng.uniform(0, 255)];
      expect(officialResourceRatio(layout, s, 'joint').ratio * 705_793).toBeCloseTo(
        umecTopMlpFlops(432, [512, 256, 1], 16, s),
        6,
      );
    }
  });

  it("mode 'inputs' prunes the first input only, later layers dense", () => {
    // 2*floor(6 - 1.5*2)*4 + 4 = 28, plus 27 + 7.
    const { ratio, gradient } = officialResourceRatio(small, [1.5], 'inputs');
    expect(ratio).toBeCloseTo(62 / 86, 15);
    expect(gradient.length).toBe(1);
    expect(gradient[0] * 86).toBeCloseTo(-16, 12);
    const layout = dlrmLayout();
    const at = (s: number) => officialResourceRatio(layout, [s], 'inputs').ratio;
    expect(at(1) * 705_793).toBeCloseTo(705_793 - 16_384, 6);
    expect(officialResourceRatio(layout, [3], 'inputs').gradient[0]).toBeCloseTo(
      (at(4) - at(2)) / 2,
      12,
    );
    expect(() => officialResourceRatio(layout, [1, 0, 0], 'inputs')).toThrow(/1 prune count/);
  });

  it('needs equal group sizes and one count per unit layer', () => {
    const mixed: PrunableLayout = { ...small, groupSizes: [2, 3, 2] };
    expect(() => officialResourceRatio(mixed, [0, 0, 0], 'joint')).toThrow(/equal group sizes/);
    expect(() => officialResourceRatio(small, [0, 0], 'joint')).toThrow(/3 prune counts/);
  });
});

describe('minimumRatio', () => {
  it('DLRM: the fixed dense block and 1 neuron per layer (joint), full layers (inputs)', () => {
    const layout = dlrmLayout();
    // (2*16*1 + 1) + (2*1*1 + 1) + (2*1*1 + 1) = 39.
    expect(minimumRatio(layout, 'flops', 'joint')).toBeCloseTo(39 / 705_793, 15);
    // (2*16*512 + 512) + 262,400 + 513.
    expect(minimumRatio(layout, 'flops', 'inputs')).toBeCloseTo(279_809 / 705_793, 15);
    // Params: the dense block has no embedding: (16 + 1) + (1 + 1) + (1 + 1) = 21.
    const denseParams = denseResource(layout, 'params');
    expect(minimumRatio(layout, 'params', 'joint')).toBeCloseTo(21 / denseParams, 15);
    expect(minimumRatio(layout, 'params', 'inputs')).toBeCloseTo(
      (16 * 512 + 512 + 512 * 256 + 256 + 257) / denseParams,
      15,
    );
  });

  it('no fixed group: the single cheapest group for the kind', () => {
    const layout: PrunableLayout = {
      groupSizes: [3, 2, 4],
      groupParams: [10, 50, 1],
      fixedGroups: [false, false, false],
      layerSizes: [5, 2],
    };
    const flopsDense = 2 * 9 * 5 + 5 + 2 * 5 * 2 + 2; // 117
    const paramsDense = 9 * 5 + 5 + 5 * 2 + 2 + 61; // 123
    expect(denseResource(layout, 'flops')).toBe(flopsDense);
    expect(denseResource(layout, 'params')).toBe(paramsDense);
    // FLOPs: the 2-wide group. joint: (2*2*1 + 1) + (2*1*2 + 2) = 11; inputs: 25 + 22 = 47.
    expect(minimumRatio(layout, 'flops', 'joint')).toBeCloseTo(11 / flopsDense, 15);
    expect(minimumRatio(layout, 'flops', 'inputs')).toBeCloseTo(47 / flopsDense, 15);
    // Params: group 2 (4 columns, 1 param): joint (4 + 1) + (2 + 2) + 1 = 10 beats group 0's 18.
    expect(minimumRatio(layout, 'params', 'joint')).toBeCloseTo(10 / paramsDense, 15);
    // inputs: group 2 costs 4*5 + 1 = 21 vs group 0's 25: (20 + 5) + 12 + 1 = 38.
    expect(minimumRatio(layout, 'params', 'inputs')).toBeCloseTo(38 / paramsDense, 15);
  });

  it('the cheapest group depends on the mode: 1 neuron (joint) or a full layer (inputs)', () => {
    const layout: PrunableLayout = {
      groupSizes: [1, 4],
      groupParams: [8, 0],
      fixedGroups: [false, false],
      layerSizes: [5, 2],
    };
    expect(denseResource(layout, 'params')).toBe(50);
    // joint: group 1 costs 4*1 + 0 < group 0's 1*1 + 8: (4 + 1) + (2 + 2) = 9.
    expect(minimumRatio(layout, 'params', 'joint')).toBeCloseTo(9 / 50, 15);
    // inputs: group 0 costs 1*5 + 8 = 13 < group 1's 4*5 = 20: (5 + 5) + 12 + 8 = 30.
    expect(minimumRatio(layout, 'params', 'inputs')).toBeCloseTo(30 / 50, 15);
  });
});
