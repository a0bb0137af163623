// PEP's overhead: ms per training step with PEP against the same model without it (same batch,
// backend and update mode), at total vocabulary 10k and 1M, in headless Chromium against the
// built app. The step includes everything a run does per step (PEP: the soft threshold on the
// device, the fused V/S update with its non-zero count, the threshold quantiles). Not a test: it
// prints a table to paste into docs.
//
//   npm run bench:pep
//   npm run bench:pep -- --backends=wasm --vocab=10000 --updates=exact --steps=10 --repeats=5
import {
  benchmarkStepsInLab,
  buildIfMissing,
  launchChromium,
  openLab,
  servePreview,
  cliArg,
  STEP_BENCH_MODEL,
} from './labBrowser.mjs';

const backends = cliArg('backends', 'wasm,webgpu').split(',');
const vocabularies = cliArg('vocab', '10000,1000000').split(',').map(Number);
const updates = cliArg('updates', 'lazy,exact').split(',');
const steps = Number(cliArg('steps', '20'));
/**
 * Base and PEP are timed this many times each, alternately, and the medians of their medians
 * are compared: one pair of runs on this 2-core machine varies by 10-20%.
 */
const repeats = Number(cliArg('repeats', '3'));
const granularity = cliArg('granularity', 'feature_dim');

const base = {
  ...STEP_BENCH_MODEL,
  warmupSteps: 3,
  steps,
  seed: 1,
};
const PEP = {
  id: 'pep',
  options: {
    granularity,
    thresholdInit: -150,
    gk: 1,
    thresholdDecay: true,
    thresholdLearningRate: 0,
    targetKind: 'sparsity',
    targets: [50],
    retrain: 'none',
    reInit: false,
    retrainEpochs: 0,
  },
};

buildIfMissing();
const server = await servePreview(4177);
const browser = await launchChromium({ webgpu: true });
const rows = [];
try {
  for (const backend of backends) {
    const page = await openLab(browser, server.url, `?backend=${backend}`);
    const active = await page.getByTestId('backend-name').textContent();
    if (active !== backend) throw new Error(`asked for ${backend}, engine runs ${active}`);
    for (const embeddingUpdate of updates) {
      for (const totalVocabulary of vocabularies) {
        const run = (method) =>
          benchmarkStepsInLab(page, {
            ...base,
            totalVocabulary,
            embeddingUpdate,
            ...(method ? { method } : {}),
          });
        const plain = [];
        const pep = [];
        let hostAdam = '';
        // webgpu on a software adapter takes seconds a step: one pair of runs there.
        for (let r = 0; r < (backend === 'webgpu' ? 1 : repeats); r++) {
          plain.push((await run(null)).medianMs);
          const withPep = await run(PEP);
          pep.push(withPep.medianMs);
          hostAdam = withPep.hostAdamKernel ? 'WebAssembly SIMD' : 'JavaScript loops';
        }
        const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const row = {
          backend,
          embeddingUpdate,
          totalVocabulary,
          base: median(plain),
          pep: median(pep),
          ratio: median(pep) / median(plain),
          baseRuns: plain,
          pepRuns: pep,
          hostAdam,
        };
        rows.push(row);
        const list = (xs) => xs.map((x) => x.toFixed(1)).join(' / ');
        console.error(
          `${backend} ${embeddingUpdate} vocab ${totalVocabulary}: base ${list(plain)} ms, PEP ${list(pep)} ms, ${row.ratio.toFixed(2)}x`,
        );
      }
    }
    await page.close();
  }
} finally {
  await browser.close();
  server.stop();
}

console.log(
  `DeepFM, ${base.numFields} fields, d=${base.embeddingDim}, MLP ${base.mlpLayers.join('-')}, batch ${base.batchSize}; PEP ${granularity}; median of ${steps} steps after ${base.warmupSteps}; median of ${repeats} alternate runs each (webgpu: 1)`,
);
console.log(
  '| backend | update | vocabulary | base ms/step | PEP ms/step | PEP / base | runs: base; PEP | host Adam |',
);
console.log('|---|---|---:|---:|---:|---:|---|---|');
for (const r of rows) {
  const list = (xs) => xs.map((x) => x.toFixed(1)).join(', ');
  console.log(
    `| ${r.backend} | ${r.embeddingUpdate} | ${r.totalVocabulary.toLocaleString('en')} | ${r.base.toFixed(1)} | ${r.pep.toFixed(1)} | ${r.ratio.toFixed(2)}x | ${list(r.baseRuns)}; ${list(r.pepRuns)} | ${r.hostAdam} |`,
  );
}
