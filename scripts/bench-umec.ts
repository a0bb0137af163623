/**
 * UMEC on the Criteo slice (../shared/data): DLRM as the official code trains it (SGD 0.1, batch
 * 128, UMEC's seed-123 split, every value kept), trained dense once (10 epochs, early stopping on
 * validation), then one UMEC run per (solver, budget) starting from that dense model, with the
 * lab's default options (at most 30 solver epochs, then the hard prune and up to 10 fine-tune
 * epochs). Node, tfjs-wasm. Prints one JSON line per run, then a markdown table. Not a test.
 *
 *   npm run bench:umec
 *   npm run bench:umec -- --budgets=0.5 --solvers=primal-dual --options='{"scores":"raw"}'
 *   npm run bench:umec -- --prune=inputs --budgets=0.9
 *   npm run bench:umec -- --model=deepfm --budgets=0.5   (PEP's DeepFM on the anchors split)
 */
import { join } from 'node:path';
import { loadFiles, startBackend } from '../cli/nodeEngine';
import { RunControl } from '../workers/engine/runControl';
import { datasetForModel } from '../workers/engine/modelDataset';
import { runExperiment } from '../workers/engine/trainer';
import { UMEC_SPEC } from '../workers/methods/umec/spec';
import { defaultsOf, type OptionValue } from '../workers/options';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../workers/protocol';
import { PEP_CRITEO, UMEC_DLRM } from './paperConfigs.mjs';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const DATA_DIR = process.env.RECSYS_DATA_DIR ?? join(import.meta.dirname, '../../shared/data');
const budgets = arg('budgets', '0.5,0.35,0.18,0.1').split(',').map(Number);
const solvers = arg('solvers', 'primal-dual,admm').split(',');
const overrides = JSON.parse(arg('options', '{}')) as Record<string, OptionValue>;
const seed = Number(arg('seed', '1'));
const prune = arg('prune', 'joint');
const modelKind = arg('model', 'dlrm');
if (modelKind !== 'dlrm' && modelKind !== 'deepfm') throw new Error('--model is dlrm or deepfm');

// DLRM as UMEC's joint_train.py trains it, or PEP's DeepFM on Criteo as the baselines table does.
const train: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  ...(modelKind === 'dlrm'
    ? { model: 'dlrm' as const, ...UMEC_DLRM, epochs: 10 }
    : { model: 'deepfm' as const, ...PEP_CRITEO, epochs: 30 }),
  earlyStoppingPatience: 3,
  seed,
};

const { backend } = await startBackend(arg('backend', 'wasm') as 'wasm' | 'cpu');
const loaded = await loadFiles(
  modelKind === 'dlrm'
    ? [
        join(DATA_DIR, 'criteo/criteo_dac_train_first10k.txt'),
        join(DATA_DIR, 'anchors/criteo10k_dlrm_split_seed123.json'),
      ]
    : [
        join(DATA_DIR, 'anchors/criteo10k_encoded_seed42split.csv'),
        join(DATA_DIR, 'anchors/criteo10k_split_seed42.json'),
      ],
  modelKind === 'dlrm' ? { minCount: 1 } : {},
  () => {},
);
if (loaded.kind !== 'ctr') throw new Error('expected CTR data');
const ds = loaded.dataset;
/** The fields DLRM embeds (its categorical ones): UMEC's prunable input groups besides the dense block. */
const embedded = datasetForModel(ds, modelKind).fieldNames;
const quiet = { progressEverySteps: 1000, progressEveryMs: 1e9, bayesTestAuc: null };
const t0 = Date.now();
const dense = await runExperiment(
  ds,
  train,
  { id: 'none', options: {} },
  new RunControl(),
  () => {},
  quiet,
);
const denseSeconds = (Date.now() - t0) / 1000;
const denseLine = {
  run: 'dense',
  backend,
  seed,
  testAuc: dense.result.test?.auc,
  testAccuracy: dense.result.test?.accuracy,
  epochs: dense.result.bestEpoch,
  seconds: denseSeconds,
};
console.log(JSON.stringify(denseLine));
const rows: Record<string, unknown>[] = [];
for (const solver of solvers) {
  for (const budget of budgets) {
    const started = Date.now();
    const markers: string[] = [];
    const options = {
      ...defaultsOf(UMEC_SPEC.options),
      denseEpochs: 0,
      solver,
      budget,
      prune,
      ...overrides,
    };
    const { result, kept } = await runExperiment(
      ds,
      { ...train, epochs: 30 },
      { id: 'umec', options },
      new RunControl(),
      (e) => {
        if (e.type === 'marker') markers.push(`${e.step}: ${e.label}`);
      },
      { ...quiet, startFrom: dense.kept.model },
    );
    kept.dispose();
    const m = result.methodResult;
    const row = {
      run: 'umec',
      solver,
      budget,
      flopsRatio: (m.flopsRatios as number[])[0],
      met: (m.budgetsMet as number[])[0] === 1,
      solveEpochs: (m.solveEpochs as number[])[0],
      testAuc: result.test?.auc,
      testAccuracy: result.test?.accuracy,
      keptFields: String(m.keptFields).split(',').length,
      droppedFields: embedded.filter((f) => !String(m.keptFields).split(',').includes(f)),
      seconds: (Date.now() - started) / 1000,
      markers: markers.filter((x) => /hard prune|met|settled|not reached|diverged/.test(x)),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
const f3 = (x: unknown) => (typeof x === 'number' ? x.toFixed(3) : String(x));
console.log(
  `\n| solver | budget | FLOPs ratio | solver epochs | test AUC | test accuracy | fields kept | seconds |`,
);
console.log(`|---|---|---|---|---|---|---|---|`);
console.log(
  `| dense | 1 | 1 | ${denseLine.epochs} | ${f3(denseLine.testAuc)} | ${f3(denseLine.testAccuracy)} | ${dense.kept.dataset.numFields} | ${denseLine.seconds.toFixed(0)} |`,
);
for (const r of rows) {
  console.log(
    `| ${String(r.solver)} | ${String(r.budget)} | ${f3(r.flopsRatio)}${r.met ? '' : ' (not met)'} | ${(r.solveEpochs as number).toFixed(1)} | ${f3(r.testAuc)} | ${f3(r.testAccuracy)} | ${String(r.keptFields)} | ${(r.seconds as number).toFixed(0)} |`,
  );
}
dense.kept.dispose();
