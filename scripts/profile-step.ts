// Profile of one model's training step in Node: ms per step, and where it goes, kernel by kernel
// (tf.profile), so that kernel work is chosen by measurement. Not a test.
//
//   npx tsx scripts/profile-step.ts --model=deepfm --backend=wasm --steps=4
//   npx tsx scripts/profile-step.ts --model=deepfm --fused-bn=off     # the composed BatchNorm
//
// PEP's Criteo DeepFM by default: 39 fields, d=24, MLP 400-400-400 with BatchNorm and dropout 0.2,
// batch 1024, lazy embedding updates, on Zipf ids over a 100k vocabulary (stepBenchmark.ts).
// Node runs tfjs-wasm single-threaded (no cross-origin isolation): compare figures with each
// other, not with the browser's.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { benchmarkDataset } from '../workers/engine/stepBenchmark';
import { runExperiment } from '../workers/engine/trainer';
import { RunControl } from '../workers/engine/runControl';
import { setFusedBatchNormEnabled } from '../workers/models/fusedBatchNorm';
import {
  DEFAULT_TRAIN_CONFIG,
  NO_METHOD,
  type ModelKind,
  type TrainConfig,
} from '../workers/protocol';
import { Rng } from '../workers/rng';

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const model = arg('model', 'deepfm') as ModelKind;
const backend = arg('backend', 'wasm');
const steps = Number(arg('steps', '4'));
const warmup = Number(arg('warmup', '2'));
const batchSize = Number(arg('batch', '1024'));
const numFields = Number(arg('fields', '39'));
setFusedBatchNormEnabled(arg('fused-bn', 'on') !== 'off');

if (!(await tf.setBackend(backend))) throw new Error(`${backend} did not start`);
await tf.ready();

const ds = benchmarkDataset(
  {
    model,
    totalVocabulary: Number(arg('vocab', '100000')),
    numFields,
    embeddingDim: 24,
    mlpLayers: [400, 400, 400],
    batchSize,
    embeddingUpdate: 'lazy',
    warmupSteps: warmup,
    steps,
    seed: 1,
  },
  new Rng(1).fork(1),
);
const train: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  model,
  embeddingDim: 24,
  mlpLayers: [400, 400, 400],
  dropout: Number(arg('dropout', '0.2')),
  batchNorm: arg('bn', 'on') !== 'off',
  epochs: 1,
  maxSteps: warmup + steps,
  batchSize,
  learningRate: 1e-3,
  weightDecay: 1e-5,
  denseOptimizer: 'adam',
  embeddingOptimizer: 'adam',
  embeddingUpdate: 'lazy',
  gradClipNorm: 0,
  seed: 1,
};

async function run(): Promise<number[]> {
  const times: number[] = [];
  const { kept } = await runExperiment(ds, train, NO_METHOD, new RunControl(), (e) => {
    if (e.type === 'progress') times.push(...e.batch.stepMs);
  });
  kept.dispose();
  return times.slice(warmup);
}

const timed = (await run()).sort((a, b) => a - b);
const median = timed[Math.floor(timed.length / 2)];
console.log(
  `${model} on ${backend}, batch ${batchSize}: median ${median.toFixed(1)} ms/step ` +
    `(${Math.round((batchSize * 1000) / median)} samples/s) over ${timed.length} steps`,
);

const profile = await tf.profile(async () => {
  await run();
});
const total = warmup + steps;
const byName = new Map<string, { ms: number; count: number }>();
let kernelMs = 0;
for (const k of profile.kernels) {
  // A custom gradient's forward ('forward') wraps kernels that are listed on their own too.
  if (k.name === 'forward') continue;
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const e = byName.get(k.name) ?? { ms: 0, count: 0 };
  e.ms += ms;
  e.count += 1;
  byName.set(k.name, e);
  kernelMs += ms;
}
console.log(
  `kernels per step: ${Math.round(profile.kernels.length / total)}; kernel time per step ` +
    `${(kernelMs / total).toFixed(1)} ms (the rest is JavaScript: host tables, the optimizer's loop)`,
);
console.log('| kernel | ms/step | calls/step | share |');
console.log('| --- | --- | --- | --- |');
for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
  console.log(
    `| ${name} | ${(e.ms / total).toFixed(2)} | ${(e.count / total).toFixed(1)} | ${((100 * e.ms) / kernelMs).toFixed(1)}% |`,
  );
}

// --detail=KernelName: that kernel's calls of the last step, with shapes and ms.
const detail = arg('detail', '');
if (detail) {
  const calls = profile.kernels.filter((k) => k.name === detail);
  const perStep = Math.round(calls.length / total);
  console.log(`\n${detail}, the last step's ${perStep} calls:`);
  for (const k of calls.slice(-perStep)) {
    console.log(
      `  ${JSON.stringify(k.inputShapes)} -> ${JSON.stringify(k.outputShapes)}: ${Number(k.kernelTimeMs).toFixed(2)} ms`,
    );
  }
}
