/**
 * Throughput of the lab's Node scorer (no tfjs), single-threaded, on raw Criteo lines: text in,
 * probabilities out (split + tokenise + vocabulary lookup + forward), as `npm run lab -- score`
 * runs it (RowEncoder.encode, then ModelScorer.probability with one scratch buffer), with the
 * lines already in memory (no file reading). Trains a few steps (throughput does not depend on
 * the weights) and exports the model files of: FM d=16; the lab's default DeepFM (d=8, MLP 64-32);
 * PEP's DeepFM (d=24, MLP 400-400-400, BatchNorm) dense and PEP-pruned. All on the raw Criteo
 * slice, so the files carry the vocabularies for raw lines. Each figure: rows/s over passes of the
 * 10,000 lines for >= --seconds, the median of --reps measurements after a warm-up. Beside it:
 * encode only, forward only (ids already encoded), and PyTorch's forward on the same rows
 * (scripts/reference/torch_forward_bench.py, when python3 with torch is found). Not a test.
 *
 *   npm run bench:scorer
 *   npm run bench:scorer -- --seconds=3 --reps=5 --models=fm,deepfm --torch=off --keep=/tmp/models
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFiles, startBackend } from '../cli/nodeEngine';
import { findTorchPython } from './torchPython';
import { RunControl } from '../workers/engine/runControl';
import { runExperiment } from '../workers/engine/trainer';
import { exportRun } from '../workers/export/exportRun';
import { readModelFile } from '../workers/export/readModel';
import { PEP_SPEC } from '../workers/methods/pep/spec';
import { defaultsOf } from '../workers/options';
import { DEFAULT_TRAIN_CONFIG, type MethodChoice, type TrainConfig } from '../workers/protocol';
import { ModelScorer } from '../workers/scorer/modelScorer';
import { RowEncoder, type EncodedRow } from '../workers/scorer/rowEncoder';
import { PEP_CRITEO } from './paperConfigs.mjs';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const DATA_DIR = process.env.RECSYS_DATA_DIR ?? join(import.meta.dirname, '../../shared/data');
const DATA = join(DATA_DIR, 'criteo/criteo_dac_train_first10k.txt');
const SECONDS = Number(arg('seconds', '3'));
const REPS = Number(arg('reps', '5'));
const STEPS = Number(arg('steps', '8'));
const ONLY = arg('models', 'fm,deepfm,pep-deepfm,pep-deepfm-pruned').split(',');
const TORCH = arg('torch', 'auto');
const KEEP = arg('keep', '');

/**
 * A PEP model pruned to about 95%: the table is xavier-uniform on [-b, b], so a threshold of
 * 0.95 b (gk = 1, S₀ = logit(0.95 b)) prunes about 95% of it at the first step; the snapshot
 * taken when 90% is crossed is retrained with its mask (sparsity as exported is printed).
 */
function pepQuick(totalVocabulary: number, dim: number): MethodChoice {
  const threshold = 0.95 * Math.sqrt(6 / (totalVocabulary + dim));
  return {
    id: 'pep',
    options: {
      ...defaultsOf(PEP_SPEC.options),
      gk: 1,
      thresholdInit: Math.log(threshold / (1 - threshold)),
      targets: [90],
      retrain: 'last',
      retrainEpochs: 1,
    },
  };
}
const NONE: MethodChoice = { id: 'none', options: {} };

interface Bench {
  id: string;
  label: string;
  train: Partial<TrainConfig>;
  method: MethodChoice | 'pep-95';
  target: number | null;
}
const BENCHES: Bench[] = [
  {
    id: 'fm',
    label: 'FM d=16',
    train: { model: 'fm', embeddingDim: 16, mlpLayers: [] },
    method: NONE,
    target: 100_000,
  },
  {
    id: 'deepfm',
    label: 'DeepFM d=8, MLP 64-32 (lab default)',
    train: {},
    method: NONE,
    target: 20_000,
  },
  {
    id: 'pep-deepfm',
    label: "PEP's DeepFM d=24, MLP 400-400-400 + BN",
    train: PEP_CRITEO,
    method: NONE,
    target: null,
  },
  {
    id: 'pep-deepfm-pruned',
    label: "PEP's DeepFM, PEP-pruned table",
    train: PEP_CRITEO,
    method: 'pep-95',
    target: null,
  },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/** Rows/s of `pass` (which handles `rows` rows) run again and again for at least `seconds`. */
function rate(pass: () => void, rows: number, seconds: number): number {
  let n = 0;
  const t0 = performance.now();
  let t: number;
  do {
    pass();
    n += rows;
    t = performance.now();
  } while (t - t0 < seconds * 1000);
  return n / ((t - t0) / 1000);
}

/** Warm-up (about a second, discarded), then the median of `reps` measurements. */
function measure(pass: () => void, rows: number, reps = REPS): { median: number; all: number[] } {
  rate(pass, rows, Math.min(1, SECONDS));
  const all = Array.from({ length: reps }, () => rate(pass, rows, SECONDS));
  return { median: median(all), all };
}

const { backend } = await startBackend('wasm');
const loaded = await loadFiles([DATA], {}, () => {});
if (loaded.kind !== 'ctr') throw new Error('expected CTR data');
const ds = loaded.dataset;
const lines = readFileSync(DATA, 'utf8').split('\n');
if (lines.at(-1) === '') lines.pop();
const dir = KEEP
  ? (mkdirSync(KEEP, { recursive: true }), KEEP)
  : mkdtempSync(join(tmpdir(), 'bench-scorer-'));
const torchPython =
  TORCH === 'off' ? { python: null, why: '--torch=off' } : findTorchPython('torch, numpy');
console.error(
  `node ${process.version}, training on ${backend}; ${lines.length} lines of ${DATA}; ` +
    `>= ${SECONDS} s per measurement, median of ${REPS}; model files in ${dir}`,
);

interface Row {
  id: string;
  label: string;
  target: number | null;
  bytes: number;
  sparsity: number;
  rowsScored: number;
  rejected: number;
  endToEnd: number;
  endToEndAll: number[];
  forwardOnly: number;
  encodeOnly: number;
  torch: Record<string, unknown> | null;
}
const results: Row[] = [];

for (const bench of BENCHES.filter((b) => ONLY.includes(b.id))) {
  const train: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    ...bench.train,
    epochs: 1,
    maxSteps: STEPS,
    evalEverySteps: 0,
    earlyStoppingPatience: 0,
    seed: 1,
  };
  const t0 = Date.now();
  const method =
    bench.method === 'pep-95' ? pepQuick(ds.totalVocabulary, train.embeddingDim) : bench.method;
  const { kept } = await runExperiment(ds, train, method, new RunControl(), () => {}, {
    progressEverySteps: 1000,
    progressEveryMs: 1e9,
    bayesTestAuc: null,
  });
  const file = await exportRun(kept);
  kept.dispose();
  const text = JSON.stringify(file);
  const modelPath = join(dir, `${bench.id}.json`);
  writeFileSync(modelPath, text);
  console.error(
    `${bench.id}: trained ${STEPS} steps and exported in ${((Date.now() - t0) / 1000).toFixed(1)} s ` +
      `(${file.embedding.kind} embedding, sparsity ${(100 * file.metrics.sparsity).toFixed(1)}%)`,
  );

  // As `lab score` does: the file read back, one encoder on the model's own input, one scratch.
  const scorer = new ModelScorer(readModelFile(text));
  const encoder = new RowEncoder(scorer.model.file.dataset);
  const scratch = new Float64Array(scorer.numFields * scorer.dim);
  const probabilities = new Float64Array(lines.length);
  let scored = 0;
  let rejected = 0;
  const endToEndPass = () => {
    scored = 0;
    rejected = 0;
    for (const line of lines) {
      if (line.trim() === '') continue;
      if (encoder.wantsHeader) {
        const problem = encoder.useHeader(line);
        if (problem) throw new Error(problem);
        continue;
      }
      const row = encoder.encode(line);
      if (typeof row === 'string') {
        rejected++;
        continue;
      }
      probabilities[scored++] = scorer.probability(row.ids, row.dense, scratch);
    }
  };
  endToEndPass();
  const rowsScored = scored;
  for (let i = 0; i < rowsScored; i++) {
    if (!Number.isFinite(probabilities[i]) || probabilities[i] < 0 || probabilities[i] > 1) {
      throw new Error(`${bench.id}: row ${i} has probability ${probabilities[i]}`);
    }
  }
  const endToEnd = measure(endToEndPass, lines.length);

  const encoded = lines
    .map((l) => encoder.encode(l))
    .filter((r): r is EncodedRow => typeof r !== 'string');
  const forward = measure(
    () => {
      for (let i = 0; i < encoded.length; i++) {
        probabilities[i] = scorer.probability(encoded[i].ids, encoded[i].dense, scratch);
      }
    },
    encoded.length,
    3,
  );
  const encodeOnly = measure(
    () => {
      for (const line of lines) encoder.encode(line);
    },
    lines.length,
    3,
  );
  const nodeProbs = join(dir, `${bench.id}.node-probs.f64`);
  writeFileSync(nodeProbs, new Uint8Array(probabilities.buffer, 0, rowsScored * 8));

  let torch: Record<string, unknown> | null = null;
  if (torchPython.python) {
    const r = spawnSync(
      torchPython.python,
      [
        join(import.meta.dirname, 'reference/torch_forward_bench.py'),
        modelPath,
        DATA,
        `--seconds=${SECONDS}`,
        `--reps=${REPS}`,
        `--node-probs=${nodeProbs}`,
      ],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    if (r.status !== 0) throw new Error(`torch_forward_bench.py failed: ${r.stderr || r.error}`);
    torch = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  }
  const row: Row = {
    id: bench.id,
    label: bench.label,
    target: bench.target,
    bytes: text.length,
    sparsity: file.metrics.sparsity,
    rowsScored,
    rejected,
    endToEnd: endToEnd.median,
    endToEndAll: endToEnd.all.map(Math.round),
    forwardOnly: forward.median,
    encodeOnly: encodeOnly.median,
    torch,
  };
  results.push(row);
  console.log(JSON.stringify(row));
}
if (!KEEP) rmSync(dir, { recursive: true, force: true });
const jsonOut = arg('json', '');
if (jsonOut)
  writeFileSync(
    jsonOut,
    `${JSON.stringify({ torch: torchPython.why || null, rows: results }, null, 2)}\n`,
  );

const k = (x: unknown) =>
  typeof x === 'number' ? Math.round(x).toLocaleString('en') : x === undefined ? '-' : String(x);
const tr = (r: Row, key: string) => (r.torch ? k(r.torch[key]) : '-');
console.log(
  `\nNode ${process.version}, one thread; ${results[0]?.rowsScored ?? 0} raw Criteo lines scored ` +
    `(${results[0]?.rejected ?? 0} rejected); rows/s, median of ${REPS} runs of >= ${SECONDS} s` +
    (torchPython.python
      ? `; torch ${String(results[0]?.torch?.torch ?? '')} float32, torch.set_num_threads(1)`
      : `; torch skipped (${torchPython.why})`),
);
console.log(
  '\n| model | Node scorer: raw line -> p | target | met | Node forward only (ids) | Node encode only | torch forward, batch 1 (ids) | torch forward, batch 1024 (ids) | Python end-to-end (lab_model.py parse + torch, batch 1024) |',
);
console.log('|---|---:|---:|---|---:|---:|---:|---:|---:|');
for (const r of results) {
  const met = r.target === null ? '-' : r.endToEnd >= r.target ? 'yes' : 'no';
  const sparsity = r.sparsity > 0 ? ` (${(100 * r.sparsity).toFixed(1)}% pruned)` : '';
  console.log(
    `| ${r.label}${sparsity} | ${k(r.endToEnd)} | ${r.target === null ? '-' : k(r.target)} | ${met} | ${k(r.forwardOnly)} | ${k(r.encodeOnly)} | ${tr(r, 'batch1')} | ${tr(r, 'batch1024')} | ${tr(r, 'endToEnd1024')} |`,
  );
}
