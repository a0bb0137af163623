/**
 * PEP's whole curve on the Criteo slice: DeepFM with PEP's Criteo settings on the reference
 * encoding and seed-42 split (../shared/data/anchors), pruned to 50 / 80 / 90 / 95 / 99% sparsity
 * (feature × dimension thresholds, S₀ = −8, exact updates), every snapshot retrained as a lottery
 * ticket from the step-0 weights (and the dense table the same way, the reference), early stopping
 * on validation; three seeds. The thresholds learn faster than in the official run (learning rate
 * of S 0.02 instead of the run's 1e-3) so that 99% is reached within a few thousand steps; the
 * retrains are the paper's. Node, tfjs-wasm; prints one JSON line per seed and a table. Not a test.
 *
 *   npm run bench:pep-curve
 *   npm run bench:pep-curve -- --seeds=1 --slr=0.02
 *   npm run bench:pep-curve -- --targets=99 --gk=3 --retrain=last   (one sparse point only)
 */
import { join } from 'node:path';
import { loadFiles, startBackend } from '../cli/nodeEngine';
import { RunControl } from '../workers/engine/runControl';
import { runExperiment } from '../workers/engine/trainer';
import { PEP_SPEC } from '../workers/methods/pep/spec';
import { defaultsOf } from '../workers/options';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../workers/protocol';
import { PEP_CRITEO } from './paperConfigs.mjs';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const DATA_DIR = process.env.RECSYS_DATA_DIR ?? join(import.meta.dirname, '../../shared/data');
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const targets = arg('targets', '50,80,90,95,99').split(',').map(Number);
const slr = Number(arg('slr', '0.02'));
const gk = Number(arg('gk', '1'));
/** 'all': every snapshot and the dense table; 'last': the last snapshot only. */
const retrain = arg('retrain', 'all');

const { backend } = await startBackend('wasm');
const loaded = await loadFiles(
  [
    join(DATA_DIR, 'anchors/criteo10k_encoded_seed42split.csv'),
    join(DATA_DIR, 'anchors/criteo10k_split_seed42.json'),
  ],
  {},
  () => {},
);
if (loaded.kind !== 'ctr') throw new Error('expected CTR data');
const ds = loaded.dataset;

const train: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  model: 'deepfm',
  ...PEP_CRITEO,
  // The pruning phase's budget; each retrain trains up to 30 epochs, early stopping after 3.
  epochs: 1000,
  maxSteps: Number(arg('max-steps', '6000')),
  earlyStoppingPatience: 3,
};

interface Point {
  label: string;
  nonZeros: number;
  valAuc: number;
  testAuc: number;
}
const perSeed: { seed: number; points: Point[]; snapshotSteps: number[] }[] = [];
for (const seed of seeds) {
  const started = Date.now();
  const { result, kept } = await runExperiment(
    ds,
    { ...train, seed },
    {
      id: 'pep',
      options: {
        ...defaultsOf(PEP_SPEC.options),
        thresholdInit: -8,
        gk,
        thresholdLearningRate: slr,
        targetKind: 'sparsity',
        targets,
        retrain,
        retrainEpochs: 30,
      },
    },
    new RunControl(),
    (e) => {
      // Progress on stderr: phases, snapshots, and the sparsity every 100 steps.
      if (e.type === 'phase') console.error(`seed ${seed}: ${e.phase.label}`);
      else if (e.type === 'marker') console.error(`seed ${seed} step ${e.step}: ${e.label}`);
      else if (e.type === 'progress') {
        const sparsity = e.batch.series.sparsity;
        e.batch.steps.forEach((step, i) => {
          if (step % 100 === 0 && sparsity && !Number.isNaN(sparsity[i])) {
            console.error(`seed ${seed} step ${step}: sparsity ${(100 * sparsity[i]).toFixed(1)}%`);
          }
        });
      }
    },
    { progressEverySteps: 20, progressEveryMs: 1e9, bayesTestAuc: null },
  );
  kept.dispose();
  const m = result.methodResult;
  // No snapshot retrained (no target reached, retrain 'last'): no points, the table says so.
  const labels = m.retrainedLabels ? String(m.retrainedLabels).split(',') : [];
  const points = labels.map((label, i) => ({
    label,
    nonZeros: (m.retrainedNonZeros as number[])[i],
    valAuc: (m.retrainedValidationAuc as number[])[i],
    testAuc: (m.retrainedTestAuc as number[])[i],
  }));
  const snapshotSteps = (m.snapshotSteps as number[]) ?? [];
  perSeed.push({ seed, points, snapshotSteps });
  console.log(
    JSON.stringify({
      seed,
      backend,
      snapshotSteps,
      points,
      seconds: (Date.now() - started) / 1000,
    }),
  );
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const f4 = (x: number) => x.toFixed(4);
console.log('\n| retrained | non-zeros | best val AUC | test AUC | seeds |');
console.log('|---|---:|---:|---:|---:|');
if (perSeed.every((s) => s.points.length === 0)) {
  console.log(`| (nothing retrained: no target of ${targets.join(', ')}% was reached) | | | | |`);
}
for (const label of [...new Set(perSeed.flatMap((s) => s.points.map((p) => p.label)))]) {
  const rows = perSeed.flatMap((s) => s.points.filter((p) => p.label === label));
  const val = rows.map((r) => r.valAuc);
  const test = rows.map((r) => r.testAuc);
  console.log(
    `| ${label} | ${Math.round(mean(rows.map((r) => r.nonZeros)))} | ${f4(mean(val))} ± ${f4(sd(val))} | ${f4(mean(test))} ± ${f4(sd(test))} | ${rows.length} |`,
  );
}
