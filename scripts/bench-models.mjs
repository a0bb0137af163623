// Benchmark: training samples per second of each model on each backend, on the real Criteo slice
// (10,000 rows; 8,000 train), loaded through the built app's file input in headless Chromium.
// Not a test: it prints a table to paste into docs/benchmarks.md.
//
//   npm run bench:models
//   npm run bench:models -- --backends=wasm,cpu --models=fm,deepfm --steps=5 --warmup=2
//
// Each model runs with its paper's defaults: FM, DeepFM, Wide&Deep and AutoInt as PEP trains
// them on Criteo (d=24, MLP 400-400-400, dropout 0.2, BatchNorm, Adam 1e-3, weight decay 1e-5,
// batch 1024); DLRM as UMEC does (d=16, bottom 13-512-256-64-16, top 512-256-1, SGD lr 0.1 on
// every parameter, batch 128). Samples/s = batch / median step time over the timed steps, after
// `warmup` steps (shader compilation, first allocations) that are not counted.
import { join } from 'node:path';
import {
  buildIfMissing,
  DATA_DIR,
  launchChromium,
  loadFilesInLab,
  openLab,
  servePreview,
  trainInLab,
  cliArg,
} from './labBrowser.mjs';
import { paperRunConfig } from './paperConfigs.mjs';

const backends = cliArg('backends', 'webgpu,webgl,wasm,cpu').split(',');
const models = cliArg('models', 'fm,deepfm,widedeep,autoint,dlrm').split(',');
const timedSteps = Number(cliArg('steps', '4'));
const warmup = Number(cliArg('warmup', '2'));
// wasm threads (the lab's `?threads=`); by default the lab's own choice, one per core.
const threads = cliArg('threads', '');
const criteo = join(DATA_DIR, 'criteo/criteo_dac_train_first10k.txt');

// Timing only: lazy embedding updates and no clipping, for every model.
const configFor = (model) =>
  paperRunConfig(model, {
    maxSteps: warmup + timedSteps,
    gradClipNorm: 0,
    embeddingUpdate: 'lazy',
  });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

buildIfMissing();
const server = await servePreview(4177);
const browser = await launchChromium({ webgpu: true });
const results = {}; // results[model][backend] = { samplesPerSec, msPerStep }
try {
  for (const backend of backends) {
    const page = await openLab(
      browser,
      server.url,
      `?backend=${backend}${threads ? `&threads=${threads}` : ''}`,
    );
    const active = await page.getByTestId('backend-name').textContent();
    if (active !== backend) throw new Error(`asked for ${backend}, engine runs ${active}`);
    const adapter = await page.getByTestId('adapter-description').textContent();
    const rows = await loadFilesInLab(page, [criteo]);
    console.error(`${backend} (${adapter}): Criteo slice loaded, ${rows} rows`);
    for (const model of models) {
      const config = configFor(model);
      const { stepMs } = await trainInLab(page, config);
      const timed = stepMs.slice(warmup);
      const ms = median(timed);
      const samplesPerSec = (config.train.batchSize * 1000) / ms;
      (results[model] ??= {})[backend] = { samplesPerSec, msPerStep: ms };
      console.error(
        `  ${model}: ${ms.toFixed(0)} ms/step (batch ${config.train.batchSize}) = ${samplesPerSec.toFixed(0)} samples/s`,
      );
    }
    await page.close();
  }
} finally {
  await browser.close();
  server.stop();
}

console.log(
  `Training samples/s on the Criteo slice (median of ${timedSteps} steps after ${warmup} warm-up steps; lazy embedding updates)`,
);
console.log(`| model | ${backends.join(' | ')} |`);
console.log(`|${' --- |'.repeat(backends.length + 1)}`);
for (const model of models) {
  const cells = backends.map((b) => {
    const r = results[model]?.[b];
    return r
      ? `${Math.round(r.samplesPerSec).toLocaleString('en')} (${r.msPerStep.toFixed(0)} ms)`
      : '–';
  });
  console.log(`| ${model} | ${cells.join(' | ')} |`);
}
