/**
 * Exporting a PEP run's snapshots: each one is a model file of its own, scored by the scorer (no
 * tfjs) as the lab scored it: a retrained snapshot on the test split (the retrain's test AUC), one
 * not retrained on the validation split (the AUC measured at the snapshot). Its weights are the
 * snapshot's, not the final model's; a sparse snapshot's file is small; a snapshot the run did
 * not take is refused with a message saying which it has.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import Ajv2020 from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CtrDataset } from '../../../workers/data/dataset';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import type { KeptRun } from '../../../workers/engine/keptRuns';
import { RunControl } from '../../../workers/engine/runControl';
import { runExperiment } from '../../../workers/engine/trainer';
import { exportRun } from '../../../workers/export/exportRun';
import type { ModelFile } from '../../../workers/export/modelFormat';
import { readModelFile } from '../../../workers/export/readModel';
import { decodeTensor } from '../../../workers/export/tensorCodec';
import { PEP_SPEC } from '../../../workers/methods/pep/spec';
import { rocAuc } from '../../../workers/metrics/classification';
import { defaultsOf, type OptionValue } from '../../../workers/options';
import { DEFAULT_TRAIN_CONFIG, type RunResult, type TrainConfig } from '../../../workers/protocol';
import { ModelScorer } from '../../../workers/scorer/modelScorer';

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});

const D = 16;
const ds = generateSyntheticCtr({ seed: 3, numRows: 3000, numFields: 6, maxCardinality: 2000 });
const TRAIN: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  model: 'deepfm',
  embeddingDim: D,
  mlpLayers: [8],
  batchSize: 64,
  epochs: 10,
  embeddingUpdate: 'exact',
};
/** Fast thresholds: the table crosses 50, 80 and 90% sparsity at steps about 9, 14 and 57. */
const PEP: Record<string, OptionValue> = {
  ...defaultsOf(PEP_SPEC.options),
  thresholdInit: -6,
  gk: 1,
  thresholdLearningRate: 0.05,
  targets: [50, 80, 90],
  retrainEpochs: 1,
};

async function pepRun(retrain: 'all' | 'last' | 'none', targets = [50, 80, 90]) {
  return runExperiment(
    ds,
    TRAIN,
    { id: 'pep', options: { ...PEP, targets, retrain } },
    new RunControl(),
    () => {},
  );
}

/** AUC of the model file (read back from its JSON text) on `rows` of the run's dataset. */
function fileAuc(file: ModelFile, data: CtrDataset, rows: Int32Array): number {
  const scorer = new ModelScorer(readModelFile(JSON.stringify(file)));
  const m = data.numFields;
  const probs = Float64Array.from(rows, (r) =>
    scorer.probability(data.ids.subarray(r * m, (r + 1) * m), null),
  );
  return rocAuc(
    probs,
    Float32Array.from(rows, (r) => data.labels[r]),
  );
}

const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
  JSON.parse(readFileSync(resolve(__dirname, '../../../docs/model.schema.json'), 'utf8')) as Record<
    string,
    unknown
  >,
);

/** The file as a reader gets it (through JSON text), checked against docs/model.schema.json. */
function schemaErrors(file: ModelFile): string {
  return validate(JSON.parse(JSON.stringify(file))) ? '' : JSON.stringify(validate.errors);
}

function tensorOf(file: ModelFile, name: string) {
  return decodeTensor(file.tensors[name]);
}

function nums(result: RunResult, key: string): number[] {
  return result.methodResult[key] as number[];
}

describe('PEP snapshots as model files', () => {
  let last: { result: RunResult; kept: KeptRun } | null = null;
  afterAll(() => last?.kept.dispose());

  it('retrain "last": the two snapshots not retrained score the validation AUC of their moment, the retrained one its test AUC', async () => {
    last = await pepRun('last');
    const { result, kept } = last;
    expect(result.stopReason).toBeNull();
    expect(nums(result, 'snapshotNonZeros')).toHaveLength(3);
    expect(kept.snapshots.map((s) => s.retrained)).toEqual([false, false, true]);
    // Three moments: each snapshot not retrained has the weights of its own step.
    const steps = nums(result, 'snapshotSteps');
    expect(new Set(steps).size).toBe(3);
    const validation = kept.dataset.split.validation;
    const test = kept.dataset.split.test;
    const total = ds.totalVocabulary * D;

    for (const k of [1, 2]) {
      const file = await exportRun(kept, { snapshot: k });
      const plan = file.compression.plan;
      expect(plan.snapshot).toBe(k);
      expect(plan.retrained).toBe(0);
      expect(plan.model).toMatch(/^not retrained/);
      expect(file.compression.label).toMatch(
        new RegExp(`snapshot ${k} \\(\\d+%, not retrained\\)`),
      );
      expect(file.metrics.testAuc).toBeNull();
      const atSnapshot = nums(result, 'snapshotValidationAuc')[k - 1];
      expect(file.metrics.validationAuc).toBe(atSnapshot);
      // The scorer on the same validation rows gives the AUC the lab measured at the snapshot.
      expect(Math.abs(fileAuc(file, kept.dataset, validation) - atSnapshot)).toBeLessThan(1e-4);
      // Its table is V̂ at that step: the non-zeros counted then, at or past the target.
      const nnz = nums(result, 'snapshotNonZeros')[k - 1];
      expect(file.metrics.embeddingParameters).toBe(nnz);
      expect(file.tensors['embedding.values'].shape).toEqual([nnz]);
      expect(file.metrics.sparsity).toBeCloseTo(1 - nnz / total, 12);
      expect(file.metrics.sparsity).toBeGreaterThanOrEqual([0.5, 0.8][k - 1]);
      expect(plan.fieldMeanSize).toHaveLength(ds.numFields);
      expect(schemaErrors(file)).toBe('');
    }

    // The retrained snapshot is the run's final model: the same weights, its own figures.
    const third = await exportRun(kept, { snapshot: 3 });
    const final = await exportRun(kept);
    expect(schemaErrors(third)).toBe('');
    expect(third.compression.plan.retrained).toBe(1);
    expect(third.compression.plan.model).toMatch(/^retrained/);
    expect(third.metrics.testAuc).toBe(nums(result, 'snapshotTestAuc')[2]);
    expect(third.metrics.testAuc).toBe(result.test!.auc);
    expect(Math.abs(fileAuc(third, kept.dataset, test) - result.test!.auc)).toBeLessThan(1e-4);
    expect(Object.keys(third.tensors).sort()).toEqual(Object.keys(final.tensors).sort());
    for (const name of Object.keys(final.tensors)) {
      expect(third.tensors[name], name).toEqual(final.tensors[name]);
    }
    expect(third.metrics.weightBytes).toBe(final.metrics.weightBytes);
    expect(third.metrics.parameters).toBe(final.metrics.parameters);
    expect(third.metrics.denseWeightBytes).toBe(final.metrics.denseWeightBytes);

    // Snapshot 1's weights are its own: its MLP and first-order table differ from the final's.
    const first = await exportRun(kept, { snapshot: 1 });
    expect(tensorOf(first, 'mlp.0.weight')).not.toEqual(tensorOf(final, 'mlp.0.weight'));
    expect(tensorOf(first, 'linear')).not.toEqual(tensorOf(final, 'linear'));

    // Nothing kept per snapshot is a dense copy of the table.
    for (const s of kept.snapshots) {
      expect(s.embedding.masks.length).toBe(ds.totalVocabulary * Math.ceil(D / 8));
      for (const [name, t] of s.weights) expect(t.values.length, name).toBeLessThan(total);
    }
  });

  it('a 90%-sparse snapshot file holds far fewer weight bytes than the dense model', async () => {
    const { kept } = last!;
    const files = await Promise.all([1, 2, 3].map((k) => exportRun(kept, { snapshot: k })));
    const bytes = files.map((f) => f.metrics.weightBytes);
    const dense = files[0].metrics.denseWeightBytes;
    console.info(
      `snapshot weight bytes ${bytes.join(', ')} (sparsity ${files
        .map((f) => f.metrics.sparsity.toFixed(3))
        .join(', ')}); dense model ${dense}; dense table ${4 * ds.totalVocabulary * D}`,
    );
    // Sparser snapshots are smaller files.
    expect(bytes[0]).toBeGreaterThan(bytes[1]);
    expect(bytes[1]).toBeGreaterThan(bytes[2]);
    // At 90%: the embedding's masks and values stay under 15% of the dense table's bytes (1/8 of
    // a byte per entry for the masks, 4 bytes per kept entry), the whole file under 25% of the
    // dense model's.
    const emb = files[2].embedding;
    if (emb.kind !== 'pruned') throw new Error('a PEP snapshot stores a pruned table');
    const stored =
      tensorOf(files[2], emb.masks).byteLength + tensorOf(files[2], emb.values).byteLength;
    expect(stored).toBeLessThan(0.15 * 4 * ds.totalVocabulary * D);
    expect(bytes[2]).toBeLessThan(0.25 * dense);
    // weightBytes is what the file decodes to.
    const decoded = Object.keys(files[2].tensors).reduce(
      (a, name) => a + tensorOf(files[2], name).byteLength,
      0,
    );
    expect(bytes[2]).toBe(decoded);
  });

  it('a snapshot the run did not take is refused with a message saying which it has', async () => {
    const { kept } = last!;
    await expect(exportRun(kept, { snapshot: 4 })).rejects.toThrow(
      /has no snapshot 4: it took 3 \(snapshots 1 to 3\)/,
    );
    await expect(exportRun(kept, { snapshot: 0 })).rejects.toThrow(/numbered from 1/);
    await expect(exportRun(kept, { snapshot: 1.5 })).rejects.toThrow(/numbered from 1/);
    const dense = await runExperiment(
      ds,
      { ...TRAIN, epochs: 1, maxSteps: 5 },
      { id: 'none', options: {} },
      new RunControl(),
      () => {},
    );
    try {
      await expect(exportRun(dense.kept, { snapshot: 1 })).rejects.toThrow(
        /took no snapshots: only PEP runs take them/,
      );
    } finally {
      dense.kept.dispose();
    }
  });

  it('retrain "all": every snapshot exports its own retrained model, with its own test AUC', async () => {
    const before = tf.memory().numTensors;
    const { result, kept } = await pepRun('all', [50, 90]);
    try {
      expect(kept.snapshots.map((s) => s.retrained)).toEqual([true, true]);
      const testAucs = nums(result, 'snapshotTestAuc');
      const test = kept.dataset.split.test;
      for (const k of [1, 2]) {
        const file = await exportRun(kept, { snapshot: k });
        expect(file.metrics.testAuc).toBe(testAucs[k - 1]);
        expect(file.metrics.validationAuc).toBe(
          nums(result, 'snapshotRetrainedValidationAuc')[k - 1],
        );
        expect(Math.abs(fileAuc(file, kept.dataset, test) - testAucs[k - 1])).toBeLessThan(1e-4);
        expect(file.compression.plan.retrainSteps).toBeGreaterThan(0);
      }
      // Snapshot 1 is not the final model: its retrained test AUC is not the run's.
      expect(testAucs[0]).not.toBe(result.test!.auc);
      expect(testAucs[1]).toBe(result.test!.auc);
    } finally {
      kept.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
