// Cross-check against the official PEP code's reference runs: FM and DeepFM trained on exactly
// the reference's rows, feature ids and seed-42 80/10/10 split (../shared/data/anchors), with
// the PEP defaults (d=24, Adam lr 1e-3, weight decay 1e-5 on every parameter, batch 1024, MLP
// 400-400-400 with BatchNorm and dropout 0.2, xavier-uniform tables, dense 'exact' Adam updates,
// gradient norm clipped at 100 as train_criteo.py does),
// several seeds, in headless Chromium against the built app. Not a test: it prints a table.
//
//   npm run crosscheck:pep
//   npm run crosscheck:pep -- --models=deepfm --seeds=1,2,3 --epochs-deepfm=25 --backend=wasm
//
// Reference (data README; official code, one seed, test split of 1,000 rows, so about +-0.02):
// FM best test AUC 0.700 (epoch 60 of 60), 0.629 after 10; DeepFM 0.698 (epoch 15), 0.662 after
// 10. The reference picks its best epoch on the TEST split; the lab selects on validation. Both
// are reported: 'val-selected test AUC' (the lab's protocol) and 'best test AUC' (the reference's).
import { join } from 'node:path';
import {
  buildIfMissing,
  DATA_DIR,
  launchChromium,
  loadFilesInLab,
  openLab,
  servePreview,
  trainInLab,
} from './labBrowser.mjs';

const arg = (name, fallback) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
const models = arg('models', 'fm,deepfm').split(',');
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const backend = arg('backend', 'wasm');
const epochsFor = {
  fm: Number(arg('epochs-fm', '60')),
  deepfm: Number(arg('epochs-deepfm', '25')),
};
const REFERENCE = {
  fm: { bestTest: 0.7, bestEpoch: 60, after10: 0.629 },
  deepfm: { bestTest: 0.698, bestEpoch: 15, after10: 0.662 },
};
const files = [
  join(DATA_DIR, 'anchors/criteo10k_encoded_seed42split.csv'),
  join(DATA_DIR, 'anchors/criteo10k_split_seed42.json'),
];

function configFor(model, seed) {
  return {
    source: 'loaded',
    data: { seed: 7, numRows: 20000, numFields: 12, maxCardinality: 100000 },
    train: {
      model,
      embeddingDim: 24,
      mlpLayers: [400, 400, 400],
      dropout: 0.2,
      batchNorm: true,
      epochs: epochsFor[model],
      maxSteps: 0,
      batchSize: 1024,
      learningRate: 1e-3,
      weightDecay: 1e-5,
      denseOptimizer: 'adam',
      momentum: 0,
      // The official train_criteo.py clips the global gradient norm at 100 (fm_grad_clip).
      gradClipNorm: 100,
      lrSchedule: 'constant',
      evalEverySteps: 0,
      testAtEachEvaluation: true,
      earlyStoppingPatience: 0,
      embeddingOptimizer: 'adam',
      embeddingUpdate: 'exact',
      seed,
    },
  };
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const f3 = (x) => x.toFixed(3);

buildIfMissing();
const server = await servePreview(4178);
const browser = await launchChromium({ webgpu: false });
const runs = [];
try {
  const page = await openLab(browser, server.url, `?backend=${backend}`);
  const active = await page.getByTestId('backend-name').textContent();
  if (active !== backend) throw new Error(`asked for ${backend}, engine runs ${active}`);
  const rows = await loadFilesInLab(page, files);
  console.error(`reference split loaded: ${rows} rows; backend ${backend}`);
  for (const model of models) {
    for (const seed of seeds) {
      const started = Date.now();
      const { result } = await trainInLab(page, configFor(model, seed));
      const evals = result.evaluations;
      const best = evals.find((e) => e.step === result.bestStep);
      const bestTest = evals.reduce((a, e) => (e.testAuc > a.testAuc ? e : a), evals[0]);
      const at10 = evals.find((e) => e.epoch === 10);
      const run = {
        model,
        seed,
        bestValAuc: best.validationAuc,
        bestValEpoch: best.epoch,
        selectedTestAuc: result.test.auc,
        perBatchTestAuc: result.test.meanPerBatchAuc,
        bestTestAuc: bestTest.testAuc,
        bestTestEpoch: bestTest.epoch,
        testAucAfter10: at10?.testAuc ?? null,
        valAucAfter10: at10?.validationAuc ?? null,
        msPerStep: result.msPerStep,
        seconds: (Date.now() - started) / 1000,
      };
      runs.push(run);
      console.error(JSON.stringify(run));
    }
  }
} finally {
  await browser.close();
  server.stop();
}

console.log(
  `PEP reference split (anchors/), ${backend} backend, seeds ${seeds.join(', ')}; mean ± sd over seeds`,
);
console.log(
  '| model | epochs | best val AUC (epoch) | test AUC, val-selected | best test AUC (epoch) | test AUC after 10 | reference best test (epoch) | reference after 10 | samples/s |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const model of models) {
  const rs = runs.filter((r) => r.model === model);
  const cell = (key) => `${f3(mean(rs.map((r) => r[key])))} ± ${f3(sd(rs.map((r) => r[key])))}`;
  const epochs = (key) => rs.map((r) => r[key]).join('/');
  const ref = REFERENCE[model];
  const after10 = rs.every((r) => r.testAucAfter10 !== null) ? cell('testAucAfter10') : '–';
  const samples = Math.round((1024 * 1000) / mean(rs.map((r) => r.msPerStep)));
  console.log(
    `| ${model} | ${epochsFor[model]} | ${cell('bestValAuc')} (${epochs('bestValEpoch')}) | ${cell('selectedTestAuc')} | ${cell('bestTestAuc')} (${epochs('bestTestEpoch')}) | ${after10} | ${ref.bestTest} (${ref.bestEpoch}) | ${ref.after10} | ${samples.toLocaleString('en')} |`,
  );
}
