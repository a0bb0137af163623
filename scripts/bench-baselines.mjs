// The baselines against the dense model on the real Criteo slice, through the headless runner
// (npm run lab -- train): PEP's DeepFM settings (d=24, MLP 400-400-400 with BatchNorm and
// dropout 0.2, Adam 1e-3 with decay 1e-5 on every parameter, batch 1024, dense 'exact'
// embedding updates, gradient norm clipped at 100) on the reference encoding and seed-42 split
// of ../shared/data/anchors. Model selection on validation AUC with early stopping; the test
// split is scored once with the selected weights. Not a test: it prints a markdown table (mean
// and sample sd over seeds) and keeps every result JSON under .bench/baselines/.
//
//   npm run bench:baselines
//   npm run bench:baselines -- --seeds=1,2,3 --epochs=30 --patience=3 --only=dense,md-0.3
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR, cliArg } from './labBrowser.mjs';
import { PEP_CRITEO } from './paperConfigs.mjs';

const seeds = cliArg('seeds', '1,2,3').split(',').map(Number);
const epochs = Number(cliArg('epochs', '30'));
const patience = Number(cliArg('patience', '3'));
const fineTuneEpochs = Number(cliArg('fine-tune-epochs', '10'));
const backend = cliArg('backend', 'wasm');
const only = cliArg('only', '') ? cliArg('only', '').split(',') : null;
const OUT = '.bench/baselines';
const DATA = [
  join(DATA_DIR, 'anchors/criteo10k_encoded_seed42split.csv'),
  join(DATA_DIR, 'anchors/criteo10k_split_seed42.json'),
];

const RUNS = [
  { id: 'dense', label: 'dense (d=24)', method: { id: 'none', options: {} } },
  ...[4, 8, 12].map((d) => ({
    id: `uniform-${d}`,
    label: `uniform d=${d}`,
    method: { id: 'uniform-dim', options: { dim: d } },
  })),
  ...[0.5, 0.8, 0.9, 0.95].map((s) => ({
    id: `magnitude-${s}`,
    label: `magnitude ${Math.round(100 * s)}% + fine-tune`,
    method: { id: 'magnitude', options: { sparsity: s, scope: 'global', fineTuneEpochs } },
  })),
  ...[0.1, 0.25].map((f) => ({
    id: `hashing-${f}`,
    label: `hashing ${Math.round(100 * f)}% of rows`,
    method: { id: 'hashing', options: { fraction: f } },
  })),
  {
    id: 'qr-4',
    label: 'QR, 4 collisions (mult)',
    method: { id: 'qr', options: { collisions: 4, operation: 'mult', threshold: 0 } },
  },
  {
    id: 'md-0.3',
    label: 'MD, alpha 0.3',
    method: { id: 'mixed-dim', options: { alpha: 0.3, roundToPowerOfTwo: false } },
  },
].filter((r) => !only || only.includes(r.id));

const configOf = (run, seed) => ({
  source: 'loaded',
  data: { seed: 7, numRows: 20000, numFields: 12, maxCardinality: 100000 },
  train: {
    model: 'deepfm',
    ...PEP_CRITEO,
    epochs,
    maxSteps: 0,
    momentum: 0,
    lrSchedule: 'constant',
    evalEverySteps: 0,
    testAtEachEvaluation: false,
    earlyStoppingPatience: patience,
    seed,
  },
  method: run.method,
});

mkdirSync(OUT, { recursive: true });
const rows = [];
for (const run of RUNS) {
  const results = [];
  for (const seed of seeds) {
    const base = join(OUT, `${run.id}-seed${seed}`);
    writeFileSync(`${base}.config.json`, JSON.stringify(configOf(run, seed), null, 2));
    const t0 = Date.now();
    const r = spawnSync(
      'npx',
      [
        'tsx',
        'cli/lab.ts',
        'train',
        '--config',
        `${base}.config.json`,
        '--out',
        `${base}.result.json`,
        '--backend',
        backend,
        '--quiet',
        ...DATA.flatMap((f) => ['--data', f]),
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (r.status !== 0)
      throw new Error(`${run.id} seed ${seed}: the runner exited with ${r.status}`);
    const { result } = JSON.parse(readFileSync(`${base}.result.json`, 'utf8'));
    results.push({ result, seconds: (Date.now() - t0) / 1000 });
    const best = result.phases.at(-1).bestEvaluation;
    console.error(
      `${run.label} seed ${seed}: val ${best?.validationAuc.toFixed(4)} test ${result.test.auc.toFixed(4)} params ${result.model.totalParams} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }
  rows.push({ run, results });
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const pm = (xs) => `${mean(xs).toFixed(4)} ± ${sd(xs).toFixed(4)}`;
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
const dense = rows.find((r) => r.run.id === 'dense');
const denseEmbedding = dense
  ? dense.results[0].result.model.parts.find((p) => p.part === 'embedding').params
  : null;

console.log(
  `\nDeepFM, PEP's Criteo settings, anchors split (8,000 / 1,000 / 1,000 rows), ${seeds.length} seeds (${seeds.join(', ')}), up to ${epochs} epochs, patience ${patience}, backend ${backend}.\n`,
);
console.log(
  '| method | embedding params | of dense | total params | bytes | best val AUC | test AUC | s/run |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const { run, results } of rows) {
  const m = results[0].result.model;
  const emb = m.parts
    .filter((p) => p.part === 'embedding' || p.part === 'projection')
    .reduce((a, p) => a + p.params, 0);
  const val = results.map((x) => x.result.phases.at(-1).bestEvaluation.validationAuc);
  const test = results.map((x) => x.result.test.auc);
  console.log(
    `| ${run.label} | ${emb.toLocaleString('en')} | ${denseEmbedding ? `${((100 * emb) / denseEmbedding).toFixed(1)}%` : '–'} | ${m.totalParams.toLocaleString('en')} | ${kb(m.totalBytes)} | ${pm(val)} | ${pm(test)} | ${mean(results.map((x) => x.seconds)).toFixed(0)} |`,
  );
}
writeFileSync(
  join(OUT, 'summary.json'),
  JSON.stringify(
    rows.map(({ run, results }) => ({
      run,
      results: results.map((x) => ({
        seconds: x.seconds,
        test: x.result.test,
        best: x.result.phases.at(-1).bestEvaluation,
        model: x.result.model,
        methodResult: x.result.methodResult,
      })),
    })),
    null,
    2,
  ),
);
