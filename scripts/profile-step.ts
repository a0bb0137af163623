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
//
//   npx tsx scripts/profile-step.ts --browser --backend=webgpu --vocab=10000
//
// --browser profiles the built app's step benchmark in headless Chromium instead (any backend,
// webgpu and webgl included; the engine's worker runs tf.profile over the steps; dropout off, as
// in the step benchmark). Chromium is started with --enable-dawn-features=allow_unsafe_apis so
// that a WebGPU adapter offers timestamp queries, which tfjs-webgpu needs for kernel times.
// A program the lab runs on webgl outside tfjs's kernel registry (one segmented-scan pass of the
// gather's gradient) is not in the table; its time shows in the step's median only.
// --stock-kernels runs tfjs's own kernels where the lab has its own (webgpu's column-sum
// reductions, webgl's segmented-scan gradient), to compare.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { benchmarkDataset, summarizeKernels } from '../workers/engine/stepBenchmark';
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
import type { KernelProfileRow, StepBenchmarkConfig } from '../workers/protocol';
import {
  benchmarkStepsInLab,
  buildIfMissing,
  launchChromium,
  openLab,
  servePreview,
} from './labBrowser.mjs';

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

function printKernels(rows: KernelProfileRow[], kernelMsPerStep: number): void {
  console.log('| kernel | ms/step | calls/step | share |');
  console.log('| --- | --- | --- | --- |');
  for (const e of rows.slice(0, 20)) {
    const share = kernelMsPerStep > 0 ? ((100 * e.msPerStep) / kernelMsPerStep).toFixed(1) : '-';
    console.log(
      `| ${e.name} | ${e.msPerStep.toFixed(2)} | ${e.callsPerStep.toFixed(1)} | ${share}% |`,
    );
  }
}

const stepConfig: StepBenchmarkConfig = {
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
};

if (process.argv.includes('--browser')) {
  buildIfMissing();
  const server = await servePreview(4193);
  const browser = await launchChromium({
    webgpu: true,
    extraArgs: ['--enable-dawn-features=allow_unsafe_apis'],
  });
  try {
    const page = await openLab(browser, server.url, `?backend=${backend}`);
    const active = await page.getByTestId('backend-name').textContent();
    if (active !== backend) throw new Error(`asked for ${backend}, engine runs ${active}`);
    const result = await benchmarkStepsInLab(page, {
      ...stepConfig,
      profile: true,
      stockKernels: process.argv.includes('--stock-kernels'),
    });
    const p = result.profile;
    if (!p) throw new Error('the engine returned no profile');
    console.log(
      `${model} on ${backend} (browser), batch ${batchSize}: median ${result.medianMs.toFixed(1)} ms/step ` +
        `(${Math.round((batchSize * 1000) / result.medianMs)} samples/s) over ${steps} steps`,
    );
    console.log(
      `kernels per step: ${Math.round(p.kernelsPerStep)}; kernel time per step ` +
        (p.timed
          ? `${p.kernelMsPerStep.toFixed(1)} ms (profiled run)`
          : 'not reported by this backend (sorted by calls)'),
    );
    printKernels(p.kernels, p.kernelMsPerStep);
    const detail = arg('detail', '');
    const row = p.kernels.find((k) => k.name === detail);
    if (row) {
      console.log(`\n${detail} by input shapes (per step):`);
      for (const s of row.byShape) {
        console.log(
          `  ${s.shapes}: ${s.msPerStep.toFixed(2)} ms, ${s.callsPerStep.toFixed(1)} calls`,
        );
      }
    }
  } finally {
    await browser.close();
    server.stop();
  }
  process.exit(0);
}

if (!(await tf.setBackend(backend))) throw new Error(`${backend} did not start`);
await tf.ready();

const ds = benchmarkDataset(stepConfig, new Rng(1).fork(1));
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
const summary = summarizeKernels(profile.kernels, total);
console.log(
  `kernels per step: ${Math.round(profile.kernels.length / total)}; kernel time per step ` +
    `${summary.kernelMsPerStep.toFixed(1)} ms (the rest is JavaScript: host tables, the optimizer's loop)`,
);
printKernels(summary.kernels, summary.kernelMsPerStep);

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
