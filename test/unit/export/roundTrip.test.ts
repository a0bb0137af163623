/**
 * Round trip: a model trained in the lab, exported to a model file and scored by the scorer (no
 * tfjs) on the test split gives the AUC the lab reported, for every model and method.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { runExperiment } from '../../../workers/engine/trainer';
import { RunControl } from '../../../workers/engine/runControl';
import { exportRun } from '../../../workers/export/exportRun';
import { readModelFile } from '../../../workers/export/readModel';
import { ModelScorer } from '../../../workers/scorer/modelScorer';
import { rocAuc } from '../../../workers/metrics/classification';
import { defaultsOf, type OptionValue } from '../../../workers/options';
import { DEFAULT_TRAIN_CONFIG, type ModelKind } from '../../../workers/protocol';
import { METHODS } from '../../../workers/methods/registry';
import type { CtrDataset } from '../../../workers/data/dataset';

// wasm, the headless runner's backend: AutoInt trains several times faster there than on cpu.
beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});

const ds = generateSyntheticCtr({ seed: 6, numRows: 1500, numFields: 5, maxCardinality: 300 });

const QUICK: Record<string, Record<string, OptionValue>> = {
  magnitude: { fineTuneEpochs: 1, sparsity: 0.7 },
  pep: { thresholdInit: -3, targets: [30], retrain: 'last', retrainEpochs: 1 },
  qr: { threshold: 20 },
  // A hard prune to smaller layers and fewer fields before the export.
  umec: { denseEpochs: 1, solveEpochs: 4, fineTuneEpochs: 1, budget: 0.3, sLearningRate: 0.05 },
};

/** Scores rows with the scorer from a model file read back from its JSON text. */
function scoreWithFile(text: string, data: CtrDataset, rows: Int32Array): Float64Array {
  const scorer = new ModelScorer(readModelFile(text));
  const out = new Float64Array(rows.length);
  const ids = new Int32Array(data.numFields);
  const k = data.numDense ?? 0;
  rows.forEach((r, i) => {
    for (let f = 0; f < data.numFields; f++) ids[f] = data.ids[r * data.numFields + f];
    const dense = k > 0 && data.dense ? data.dense.subarray(r * k, (r + 1) * k) : null;
    out[i] = scorer.probability(ids, dense);
  });
  return out;
}

describe('export -> model file -> scorer', () => {
  const models: ModelKind[] = ['fm', 'deepfm', 'widedeep', 'autoint', 'dlrm'];
  for (const { spec } of METHODS) {
    for (const model of models) {
      if (model === 'autoint' && spec.id !== 'none' && spec.id !== 'pep') continue;
      if (!spec.models.includes(model)) continue;
      it(`${spec.id} on ${model}: the scorer's test AUC is the lab's (1e-4)`, async () => {
        const before = tf.memory().numTensors;
        const { result, kept } = await runExperiment(
          ds,
          {
            ...DEFAULT_TRAIN_CONFIG,
            model,
            embeddingDim: 8,
            mlpLayers: [8],
            batchSize: 64,
            epochs: 1,
            maxSteps: 15,
            learningRate: 0.01,
          },
          { id: spec.id, options: { ...defaultsOf(spec.options), ...QUICK[spec.id] } },
          new RunControl(),
          () => {},
        );
        const file = await exportRun(kept);
        const text = JSON.stringify(file);
        const probs = scoreWithFile(text, kept.dataset, kept.dataset.split.test);
        const labels = Float32Array.from(kept.dataset.split.test, (r) => kept.dataset.labels[r]);
        expect(Math.abs(rocAuc(probs, labels) - result.test!.auc)).toBeLessThan(1e-4);
        // Exported weights are what the run counted as stored.
        expect(file.metrics.weightBytes).toBeLessThanOrEqual(result.model.totalBytes + 64);
        kept.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }
});
