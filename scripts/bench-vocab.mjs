// Benchmark: ms per training step of the same DeepFM at total vocabulary 10k and 1M, per backend,
// in headless Chromium against the built app. Not a test: it prints a table to paste into docs.
//
//   npm run bench:vocab                       # cpu and webgpu, lazy updates
//   npm run bench:vocab -- --backends=cpu,wasm,webgpu --update=exact
import {
  benchmarkStepsInLab,
  buildIfMissing,
  launchChromium,
  openLab,
  servePreview,
  cliArg,
  STEP_BENCH_MODEL,
} from './labBrowser.mjs';

const backends = cliArg('backends', 'cpu,webgpu').split(',');
const vocabularies = cliArg('vocab', '10000,1000000').split(',').map(Number);
const update = cliArg('update', 'lazy');
const steps = Number(cliArg('steps', '20'));

const base = {
  ...STEP_BENCH_MODEL,
  embeddingUpdate: update,
  warmupSteps: 3,
  steps,
  seed: 1,
};

buildIfMissing();
const server = await servePreview(4175);
const browser = await launchChromium({ webgpu: true });
const rows = [];
try {
  for (const backend of backends) {
    const page = await openLab(browser, server.url, `?backend=${backend}`);
    const active = await page.getByTestId('backend-name').textContent();
    if (active !== backend) throw new Error(`asked for ${backend}, engine runs ${active}`);
    const perVocab = [];
    for (const totalVocabulary of vocabularies) {
      const result = await benchmarkStepsInLab(page, {
        ...base,
        totalVocabulary,
      });
      perVocab.push(result);
      console.error(
        `${backend} vocab ${totalVocabulary}: median ${result.medianMs.toFixed(1)} ms/step`,
      );
    }
    rows.push({ backend, perVocab });
    await page.close();
  }
} finally {
  await browser.close();
  server.stop();
}

const header = `| backend | ${vocabularies.map((v) => `vocab ${v.toLocaleString('en')} (ms/step)`).join(' | ')} | ratio largest/smallest |`;
console.log(
  `DeepFM, ${base.numFields} fields, d=${base.embeddingDim}, MLP ${base.mlpLayers.join('-')}, batch ${base.batchSize}, ${update} embedding updates, median of ${steps} steps`,
);
console.log(header);
console.log(`|${' --- |'.repeat(vocabularies.length + 2)}`);
for (const { backend, perVocab } of rows) {
  const ms = perVocab.map((r) => r.medianMs);
  console.log(
    `| ${backend} | ${ms.map((m) => m.toFixed(1)).join(' | ')} | ${(ms.at(-1) / ms[0]).toFixed(2)} |`,
  );
}
