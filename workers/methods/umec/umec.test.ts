/**
 * UMEC: the official solver's pieces against hand computation, the hard prune against the masked
 * model, and whole runs on the synthetic slice (budgets met, noise fields dropped first, bad
 * budgets refused, divergence stopped).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CtrDataset } from '../../data/dataset';
import { generateSyntheticCtr } from '../../data/synthetic';
import { BatchPlanner } from '../../embedding/batchPlan';
import { plainTableOf } from '../../embedding/featureEmbedding';
import { RunControl } from '../../engine/runControl';
import { runExperiment } from '../../engine/trainer';
import { predictProbabilities } from '../../engine/trainStep';
import { exportRun } from '../../export/exportRun';
import { buildModel } from '../../models/buildModel';
import type { DlrmModel } from '../../models/dlrm';
import { defaultsOf, type OptionValue } from '../../options';
import { DEFAULT_TRAIN_CONFIG, type EngineEvent, type TrainConfig } from '../../protocol';
import { Rng } from '../../rng';
import { dlrmLayout } from './method';
import { leastSum, PrimalDualSolver } from './primalDual';
import { structureRatio } from './resources';
import { UMEC_SPEC } from './spec';
import { dlrmTarget, keptIndices, mlpTarget, type MlpOverFields } from './target';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TRAIN: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  model: 'dlrm',
  embeddingDim: 4,
  mlpLayers: [6, 4],
  dropout: 0,
  batchNorm: false,
  batchSize: 128,
  learningRate: 0.1,
  weightDecay: 0,
  denseOptimizer: 'sgd',
  embeddingOptimizer: 'sgd',
  epochs: 1,
};

/** The synthetic slice with `numDense` random dense columns added (DLRM's bottom MLP reads them). */
function withDense(ds: CtrDataset, numDense: number, seed: number): CtrDataset {
  const rng = new Rng(seed);
  const dense = Float32Array.from({ length: ds.numRows * numDense }, () => rng.uniform(0, 2));
  return { ...ds, numDense, dense };
}

describe('the official solver’s pieces', () => {
  it('‖W‖²_s: the s smallest scores and the (s+1)-th as the straight-through gradient', () => {
    const scores = [5, 1, 4, 2, 3];
    expect(leastSum(scores, 2)).toEqual({ sum: 3, gradient: 3 });
    expect(leastSum(scores, 0)).toEqual({ sum: 0, gradient: 1 });
    // s covering every unit: LeastSsum's gradient is the largest score.
    expect(leastSum(scores, 5)).toEqual({ sum: 15, gradient: 5 });
    // A fixed unit is never counted among the smallest.
    expect(leastSum(scores, 2, [false, true, false, false, false])).toEqual({
      sum: 5,
      gradient: 4,
    });
  });

  it('one primal-dual step: prox on the ceil(s) smallest groups, the clipped s-step, dual ascent', async () => {
    // DLRM without dense inputs: 3 fields of d = 2 into a top MLP 6-2-1.
    const ds = generateSyntheticCtr({ seed: 3, numRows: 400, numFields: 3, maxCardinality: 20 });
    const cfg: TrainConfig = { ...TRAIN, embeddingDim: 2, mlpLayers: [2] };
    const model = buildModel(ds, cfg, new Rng(1)) as DlrmModel;
    const w0 = [1, 0, 0, 1, 0.1, 0.1, 0.2, 0, 0.5, 0.5, 0, 0.5]; // rows = inputs, [6, 2]
    const w1 = [0.3, 2]; // [2, 1]
    model.topLinears[0].weight.assign(tf.tensor2d(w0, [6, 2]));
    model.topLinears[1].weight.assign(tf.tensor2d(w1, [2, 1]));
    const layout = dlrmLayout(ds, cfg.mlpLayers, cfg.embeddingDim, false);
    const target = dlrmTarget(model, ds, cfg, false, 'raw');
    // Group scores: [2, 0.06, 0.75]; neuron scores: [0.09, 4].
    const solver = new PrimalDualSolver(layout, 'joint', 0, 3);
    solver.s.set([0.5, 0.2]);
    solver.y.set([1, 2]);
    const lr = 0.1;
    const settings = {
      budget: 0.5,
      kind: 'flops' as const,
      sLearningRate: 0.05,
      sStep: 'official' as const,
      yLearningRate: 0.1,
      zLearningRate: 2,
    };
    const step = await solver.step(target, lr, settings);
    // 1. prox: group 1 (score 0.06) scaled by 1/(1 + 2·0.1·1), neuron 0 by 1/(1 + 2·0.1·2).
    const f0 = 1 / 1.2;
    const f1 = 1 / 1.4;
    const got0 = await model.topLinears[0].weight.data();
    // Group 1 = input rows 2 and 3 = flat entries 4..7.
    const want0 = w0.map((v, i) => (i >= 4 && i < 8 ? v * f0 : v));
    want0.forEach((v, i) => expect(got0[i]).toBeCloseTo(v, 6));
    const got1 = await model.topLinears[1].weight.data();
    expect(got1[0]).toBeCloseTo(0.3 * f1, 6);
    expect(got1[1]).toBeCloseTo(2, 6);
    // 2. s-step. R at ceil(s) = (1, 1): (2·4·1 + 1) + (2·1·1 + 1) = 12 of dense 31.
    expect(step.resourceBefore).toBeCloseTo(12 / 31, 12);
    // dR/ds0 = −2·g·out0 / 31 = −4/31; dR/ds1 = −(2·in0 + 1 + 2·out1) / 31 = −11/31.
    const post0 = [2, 0.06 * f0 * f0, 0.75];
    const post1 = [0.09 * f1 * f1, 4];
    // y × the (ceil(s)+1)-th smallest score + z × dR/ds.
    const g = [1 * 0.75 + 3 * (-4 / 31), 2 * 4 + 3 * (-11 / 31)];
    const maxAbs = Math.max(Math.abs(g[0]), Math.abs(g[1]));
    const clip = maxAbs > 1 ? 1 / (maxAbs + 1e-6) : 1;
    const s0 = 0.5 - 0.05 * g[0] * clip;
    const s1 = 0.2 - 0.05 * g[1] * clip;
    expect(solver.s[0]).toBeCloseTo(Math.max(0, s0), 6);
    expect(solver.s[1]).toBeCloseTo(Math.max(0, s1), 6);
    // 3. duals with the new ceil(s).
    const c0 = Math.ceil(Math.max(0, s0));
    const c1 = Math.ceil(Math.max(0, s1));
    const sorted0 = [...post0].sort((a, b) => a - b);
    const sorted1 = [...post1].sort((a, b) => a - b);
    const least = (xs: number[], c: number) => xs.slice(0, c).reduce((a, b) => a + b, 0);
    expect(solver.y[0]).toBeCloseTo(1 + 0.1 * least(sorted0, c0), 6);
    expect(solver.y[1]).toBeCloseTo(2 + 0.1 * least(sorted1, c1), 6);
    const inKept = 6 - 2 * c0;
    const outKept = 2 - c1;
    const rAfter = (2 * inKept * outKept + outKept + 2 * outKept + 1) / 31;
    expect(step.resourceAfter).toBeCloseTo(rAfter, 12);
    expect(solver.z).toBeCloseTo(Math.max(0, 3 + 2 * (rAfter - 0.5)), 6);
    model.dispose();
  });
});

describe('the hard prune', () => {
  it('gives the masked model’s predictions (1e-5) with fewer parameters, fewer fields and no dense block', async () => {
    const base = generateSyntheticCtr({ seed: 5, numRows: 600, numFields: 5, maxCardinality: 40 });
    const ds = withDense(base, 3, 9);
    const model = buildModel(ds, TRAIN, new Rng(2)) as DlrmModel;
    // Train a little so that no weight is at its init.
    const target = dlrmTarget(model, ds, TRAIN, false, 'raw');
    const layout = target.layout;
    expect(layout.groupSizes).toEqual([4, 4, 4, 4, 4, 4]); // the dense block, then 5 fields
    const keep = {
      keepGroups: Uint8Array.from([0, 1, 0, 1, 1, 0]), // dense block and fields 1, 4 dropped
      keepNeurons: [Uint8Array.from([1, 0, 1, 1, 0, 1]), Uint8Array.from([0, 1, 1, 0])],
    };
    const rows = Int32Array.from({ length: 200 }, (_, i) => i);
    // The masked model: the dropped units' rows of W_l zeroed.
    for (let l = 0; l < 3; l++) {
      const units = l === 0 ? keep.keepGroups : keep.keepNeurons[l - 1];
      await target.scaleUnits(l, Float32Array.from(units));
    }
    const masked = await predictProbabilities(
      model,
      new BatchPlanner(ds.totalVocabulary),
      ds,
      rows,
    );
    const pruned = target.prune(keep, new Rng(4));
    const view = pruned.dataset;
    expect(view.numFields).toBe(3);
    expect(view.fieldNames).toEqual([ds.fieldNames[0], ds.fieldNames[2], ds.fieldNames[3]]);
    expect(view.numDense).toBe(0);
    const small = pruned.model as DlrmModel;
    expect(small.bottomMlp).toBeNull();
    expect(small.topLinears.map((l) => [l.inFeatures, l.outFeatures])).toEqual([
      [12, 4],
      [4, 2],
      [2, 1],
    ]);
    const params = (m: DlrmModel) => m.shape().parts.reduce((a, p) => a + p.params, 0);
    expect(params(small)).toBeLessThan(params(model));
    const embeddingRows = (m: DlrmModel) => m.shape().parts.find((p) => p.part === 'embedding')!;
    expect(embeddingRows(small).params).toBe(
      (ds.fieldDims[0] + ds.fieldDims[2] + ds.fieldDims[3]) * 4,
    );
    const probs = await predictProbabilities(
      small,
      new BatchPlanner(view.totalVocabulary),
      view,
      rows,
    );
    let worst = 0;
    probs.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - masked[i]))));
    expect(worst).toBeLessThan(1e-5);
    // The ratios the solver counts are those of the physical model.
    expect(structureRatio(layout, 'flops', keep)).toBeCloseTo(
      (2 * 12 * 4 + 4 + 2 * 4 * 2 + 2 + 2 * 2 + 1) / (2 * 24 * 6 + 6 + 2 * 6 * 4 + 4 + 2 * 4 + 1),
      12,
    );
    expect(keptIndices(keep.keepNeurons[0])).toEqual([0, 2, 3, 5]);
    small.dispose();
    model.dispose();
  });
});

describe('the hard prune of DeepFM and Wide&Deep', () => {
  for (const kind of ['deepfm', 'widedeep'] as const) {
    it(`${kind}: the masked model's predictions (1e-5), the dropped fields gone from the whole model, BatchNorm sliced`, async () => {
      const ds = generateSyntheticCtr({ seed: 8, numRows: 500, numFields: 4, maxCardinality: 30 });
      const cfg: TrainConfig = { ...TRAIN, model: kind, mlpLayers: [5, 3], batchNorm: true };
      const model = buildModel(ds, cfg, new Rng(3)) as MlpOverFields;
      // Every weight away from its init: biases, BatchNorm's affine and running statistics.
      const rng = new Rng(11);
      const randomise = (v: tf.Variable, positive = false) =>
        v.assign(
          tf.tensor(
            Float32Array.from({ length: v.size }, () =>
              positive ? rng.uniform(0.5, 2) : rng.uniform(-0.5, 0.5),
            ),
            v.shape,
          ),
        );
      for (const l of [...model.mlp.linears, model.mlp.output!]) randomise(l.bias);
      for (const n of model.mlp.norms) {
        randomise(n.gamma);
        randomise(n.beta);
        randomise(n.runningMean);
        randomise(n.runningVar, true);
      }
      randomise(model.bias);
      const target = mlpTarget(model, ds, cfg, 'raw');
      expect(target.layout.groupSizes).toEqual([4, 4, 4, 4]);
      expect(target.layout.layerSizes).toEqual([5, 3, 1]);
      expect(target.layout.groupParams).toEqual(Array.from(ds.fieldDims, (n) => n * 5));
      const keep = {
        keepGroups: Uint8Array.from([1, 0, 1, 1]), // field 1 dropped
        keepNeurons: [Uint8Array.from([1, 1, 0, 1, 0]), Uint8Array.from([0, 1, 1])],
      };
      const rows = Int32Array.from({ length: 200 }, (_, i) => i);
      // The masked model: the dropped units' rows zeroed, and the dropped field's embedding and
      // first-order weights zeroed (a field of zeros adds nothing to the FM and wide terms).
      for (let l = 0; l < 3; l++) {
        const units = l === 0 ? keep.keepGroups : keep.keepNeurons[l - 1];
        target.scaleUnits(l, Float32Array.from(units));
      }
      const f = 1;
      const table = plainTableOf(model.embedding).weights;
      const d = cfg.embeddingDim;
      const start = ds.fieldOffsets[f];
      table.fill(0, start * d, (start + ds.fieldDims[f]) * d);
      model.linear.weights.fill(0, start, start + ds.fieldDims[f]);
      const masked = await predictProbabilities(
        model,
        new BatchPlanner(ds.totalVocabulary),
        ds,
        rows,
      );
      const pruned = target.prune(keep, new Rng(4));
      const view = pruned.dataset;
      expect(view.fieldNames).toEqual([ds.fieldNames[0], ds.fieldNames[2], ds.fieldNames[3]]);
      const small = pruned.model as MlpOverFields;
      expect(
        [...small.mlp.linears, small.mlp.output!].map((l) => [l.inFeatures, l.outFeatures]),
      ).toEqual([
        [12, 3],
        [3, 2],
        [2, 1],
      ]);
      expect(small.mlp.norms.map((n) => n.features)).toEqual([3, 2]);
      expect(small.linear.numRows).toBe(view.totalVocabulary);
      const probs = await predictProbabilities(
        small,
        new BatchPlanner(view.totalVocabulary),
        view,
        rows,
      );
      let worst = 0;
      probs.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - masked[i]))));
      expect(worst).toBeLessThan(1e-5);
      small.dispose();
      model.dispose();
    });
  }
});

const SYNTHETIC = { seed: 1, numRows: 10_000, numFields: 8, maxCardinality: 100 };

async function umecRun(
  ds: CtrDataset,
  options: Record<string, OptionValue>,
  train: Partial<TrainConfig> = {},
) {
  const markers: string[] = [];
  const events: EngineEvent[] = [];
  const out = await runExperiment(
    ds,
    { ...TRAIN, embeddingDim: 8, mlpLayers: [32, 16], earlyStoppingPatience: 2, ...train },
    { id: 'umec', options: { ...defaultsOf(UMEC_SPEC.options), ...options } },
    new RunControl(),
    (e) => {
      events.push(e);
      if (e.type === 'marker') markers.push(e.label);
    },
  );
  return { ...out, markers, events };
}

describe('UMEC runs on the synthetic slice', () => {
  const ds = generateSyntheticCtr(SYNTHETIC);

  it('refuses a budget below the smallest model that can exist, naming that minimum', async () => {
    await expect(umecRun(ds, { budget: 0.0001 })).rejects.toThrow(
      /budget 0\.0001 is below the smallest model that can exist: FLOPs ratio 0\.0\d+/,
    );
  });

  for (const solver of ['primal-dual', 'admm']) {
    it(`input selection (${solver}, official field score) drops the lowest-norm fields, as few as the budget allows`, async () => {
      const layout = dlrmLayout(ds, [32, 16], 8, false);
      const full = [new Uint8Array(32).fill(1), new Uint8Array(16).fill(1)];
      const ratioDropping = (k: number) =>
        structureRatio(layout, 'flops', {
          keepGroups: Uint8Array.from({ length: 8 }, (_, f) => (f < k ? 0 : 1)),
          keepNeurons: full,
        });
      // Between dropping 2 and 3 fields: exactly 3 must go.
      const budget = (ratioDropping(2) + ratioDropping(3)) / 2;
      const { result, kept } = await umecRun(
        ds,
        {
          solver,
          prune: 'inputs',
          budget,
          fieldScore: 'norm',
          denseEpochs: 3,
          solveEpochs: 10,
          fineTuneEpochs: 1,
          sLearningRate: 0.01,
        },
        { denseOptimizer: 'adam', embeddingOptimizer: 'adam', learningRate: 0.01 },
      );
      const m = result.methodResult;
      const labels = String(m.groupLabels).split(',');
      const norms = m.groupNorms as number[];
      const keptFields = String(m.keptFields).split(',');
      const dropped = labels.filter((n) => !keptFields.includes(n));
      expect(dropped.length).toBe(3);
      const weakest = labels
        .map((n, i) => [norms[i], n] as const)
        .sort((a, b) => a[0] - b[0])
        .slice(0, 3)
        .map(([, n]) => n);
      expect(dropped.sort()).toEqual(weakest.sort());
      expect((m.flopsRatios as number[])[0]).toBeLessThanOrEqual(budget);
      expect((m.flopsRatios as number[])[0]).toBeCloseTo(ratioDropping(3), 12);
      kept.dispose();
    });
  }

  it('primal-dual meets a joint budget, hard-prunes to it, and a sweep adds a point per budget', async () => {
    const { result, kept, markers } = await umecRun(ds, {
      solver: 'primal-dual',
      budget: 0.5,
      sweep: [0.3],
      denseEpochs: 2,
      solveEpochs: 15,
      fineTuneEpochs: 1,
      sLearningRate: 0.01,
    });
    const m = result.methodResult;
    expect(m.budgets).toEqual([0.5, 0.3]);
    // Within a few neurons of each budget (the budget is filled after the solver meets it).
    (m.flopsRatios as number[]).forEach((r, i) => {
      expect(r).toBeLessThanOrEqual([0.5, 0.3][i]);
      expect(r).toBeGreaterThan([0.5, 0.3][i] - 0.02);
    });
    expect(m.budgetsMet).toEqual([1, 1]);
    expect(markers.filter((x) => x.startsWith('hard prune')).length).toBe(2);
    // The kept model is the last budget's: physically smaller than the dense one.
    const top = (kept.model as DlrmModel).topLinears;
    expect(top[0].outFeatures).toBeLessThan(32);
    // Its model file: dropped fields carry no table, removed neurons no weights.
    const file = await exportRun(kept);
    const keptNames = String(m.keptFields).split(',');
    expect(file.dataset.fields.map((f) => f.name)).toEqual(keptNames);
    expect(keptNames.length).toBeLessThan(ds.numFields);
    const a = file.architecture;
    if (a.model !== 'dlrm' || file.embedding.kind !== 'dense') throw new Error('a dense DLRM file');
    const shapeOf = (ref: string) => file.tensors[ref].shape;
    expect(shapeOf(file.embedding.table)).toEqual([
      keptNames.reduce((n, name) => n + ds.fieldDims[ds.fieldNames.indexOf(name)], 0),
      8,
    ]);
    expect(a.top.map((l) => shapeOf(l.weight))).toEqual(
      top.map((l) => [l.inFeatures, l.outFeatures]),
    );
    expect(shapeOf(a.top[0].weight)[0]).toBe(keptNames.length * 8);
    kept.dispose();
  });

  for (const [model, solver] of [
    ['deepfm', 'admm'],
    ['widedeep', 'primal-dual'],
  ] as const) {
    it(`${solver} meets a joint budget on ${model} (BatchNorm) and exports the smaller model`, async () => {
      const { result, kept, markers } = await umecRun(
        ds,
        {
          solver,
          fieldScore: 'norm',
          budget: 0.4,
          denseEpochs: 1,
          solveEpochs: 15,
          fineTuneEpochs: 1,
          sLearningRate: 0.01,
        },
        { model, batchNorm: true, denseOptimizer: 'adam', learningRate: 0.01 },
      );
      const m = result.methodResult;
      expect(m.budgetsMet).toEqual([1]);
      const ratio = (m.flopsRatios as number[])[0];
      expect(ratio).toBeLessThanOrEqual(0.4);
      expect(ratio).toBeGreaterThan(0.35);
      expect(markers.some((x) => x.startsWith('hard prune'))).toBe(true);
      const small = kept.model as MlpOverFields;
      const widths = small.mlp.linears.map((l) => l.outFeatures);
      expect(widths[0] * widths[1]).toBeLessThan(32 * 16);
      const file = await exportRun(kept);
      expect(file.dataset.fields.map((f) => f.name)).toEqual(String(m.keptFields).split(','));
      expect(file.architecture.model).toBe(model);
      kept.dispose();
    });
  }

  for (const solver of ['primal-dual', 'admm']) {
    it(`${solver} meets a budget on FLOPs and parameters at once`, async () => {
      const { result, kept } = await umecRun(ds, {
        solver,
        resource: 'both',
        budget: 0.45,
        denseEpochs: 1,
        solveEpochs: 15,
        fineTuneEpochs: 1,
        sLearningRate: 0.01,
      });
      const m = result.methodResult;
      expect(m.budgetsMet).toEqual([1]);
      expect((m.flopsRatios as number[])[0]).toBeLessThanOrEqual(0.45);
      expect((m.paramsRatios as number[])[0]).toBeLessThanOrEqual(0.45);
      // The binding one comes close to the budget (within a few units).
      expect(
        Math.max((m.flopsRatios as number[])[0], (m.paramsRatios as number[])[0]),
      ).toBeGreaterThan(0.35);
      kept.dispose();
    });
  }

  it('refuses a FLOPs-and-parameters budget below the smallest model, naming that minimum', async () => {
    await expect(umecRun(ds, { resource: 'both', budget: 0.0001 })).rejects.toThrow(
      /budget 0\.0001 is below the smallest model that can exist: FLOPs and parameter ratio 0\.\d+/,
    );
  });

  it('a budget changed while the solver runs takes effect at the next step', async () => {
    const control = new RunControl();
    const markers: string[] = [];
    const { result, kept } = await runExperiment(
      ds,
      { ...TRAIN, embeddingDim: 8, mlpLayers: [32, 16], earlyStoppingPatience: 2 },
      {
        id: 'umec',
        options: {
          ...defaultsOf(UMEC_SPEC.options),
          budget: 0.5,
          denseEpochs: 1,
          solveEpochs: 15,
          fineTuneEpochs: 1,
          sLearningRate: 0.01,
        },
      },
      control,
      (e) => {
        if (e.type !== 'marker') return;
        markers.push(e.label);
        // As the solver starts, the user lowers the budget.
        if (e.label.startsWith('budget 0.5:')) control.requestTuning({ 'method.budget': 0.3 });
      },
    );
    expect(markers).toContain('Budget 0.5 → 0.3');
    const ratio = (result.methodResult.flopsRatios as number[])[0];
    expect(ratio).toBeLessThanOrEqual(0.3);
    expect(ratio).toBeGreaterThan(0.28);
    kept.dispose();
  });

  it('stops a run whose dual grows without bound and keeps the solver’s starting weights', async () => {
    const { result, kept, markers } = await umecRun(ds, {
      solver: 'primal-dual',
      budget: 0.05,
      denseEpochs: 0,
      solveEpochs: 3,
      zLearningRate: 1e9,
      sLearningRate: 1e-9,
    });
    const solve = result.phases.find((p) => p.id === 'solve-1')!;
    expect(solve.endReason).toMatch(/diverged at step \d+: a dual variable grew without bound/);
    const fineTune = result.phases.find((p) => p.id === 'fine-tune-1')!;
    expect(fineTune.skipped).toMatch(/diverged/);
    expect(markers.some((x) => x.includes('skipped'))).toBe(true);
    kept.dispose();
  });
});
