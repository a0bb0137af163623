/**
 * The Python reference reader (scripts/reference/lab_model.py, numpy only) scores exported model
 * files as the lab's TypeScript scorer does: for each method x model below, the file and its test
 * rows (ids, or the raw Criteo lines) go to `python3 lab_model.py MODEL ROWS --out ...`, whose
 * probabilities must equal the scorer's to 1e-6 and whose AUC must be the lab's test AUC (1e-4).
 * It also refuses the broken files the lab's reader refuses, and is importable.
 *
 * Needs a python3 with numpy (`python3`, else `/usr/bin/python3`): skipped, saying so, without one.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CtrDataset } from '../../../workers/data/dataset';
import { loadDataset } from '../../../workers/data/loadDataset';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import type { KeptRun } from '../../../workers/engine/keptRuns';
import { RunControl } from '../../../workers/engine/runControl';
import { runExperiment } from '../../../workers/engine/trainer';
import { exportRun } from '../../../workers/export/exportRun';
import { MAX_TENSOR_ELEMENTS, type ModelFile } from '../../../workers/export/modelFormat';
import { readModelFile } from '../../../workers/export/readModel';
import { methodById } from '../../../workers/methods/registry';
import { defaultsOf, type OptionValue } from '../../../workers/options';
import { DEFAULT_TRAIN_CONFIG, type ModelKind, type TrainConfig } from '../../../workers/protocol';
import { ModelScorer } from '../../../workers/scorer/modelScorer';
import { RowEncoder } from '../../../workers/scorer/rowEncoder';
import { ctr, fileOf, HAVE_DATA, readText } from '../data/helpers';

const READER = resolve(__dirname, '../../../scripts/reference/lab_model.py');

/** The first of python3, /usr/bin/python3 that imports numpy, or null. */
function findPython(): string | null {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(candidate, ['-c', 'import numpy'], { encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  return null;
}

const PYTHON = findPython();
const NEEDS = PYTHON
  ? `(${PYTHON})`
  : '(skipped: neither python3 nor /usr/bin/python3 has numpy; install numpy to run these tests)';
if (!PYTHON) console.warn(`[python reader tests] ${NEEDS}`);

function python(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(PYTHON as string, args, { encoding: 'utf8', timeout: 60_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

let dir = '';
beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'lab-python-reader-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const QUICK: Record<string, Record<string, OptionValue>> = {
  magnitude: { fineTuneEpochs: 1, sparsity: 0.7 },
  pep: { thresholdInit: -3, targets: [30], retrain: 'last', retrainEpochs: 1 },
  qr: { threshold: 20 },
};

async function train(
  data: CtrDataset,
  method: string,
  model: ModelKind,
  settings: Partial<TrainConfig>,
): Promise<{ kept: KeptRun; testAuc: number; file: ModelFile; text: string }> {
  const { spec } = methodById(method);
  const { result, kept } = await runExperiment(
    data,
    { ...DEFAULT_TRAIN_CONFIG, model, embeddingDim: 8, mlpLayers: [8], epochs: 1, ...settings },
    { id: method, options: { ...defaultsOf(spec.options), ...QUICK[method] } },
    new RunControl(),
    () => {},
  );
  const file = await exportRun(kept);
  return { kept, testAuc: result.test!.auc, file, text: JSON.stringify(file) };
}

/** Runs the reader's command line; returns its probabilities (from --out) and printed AUC. */
function scoreWithPython(
  name: string,
  modelText: string,
  rows: string[],
  format: 'auto' | 'ids',
): { probs: number[]; labels: number[]; auc: number; stdout: string } {
  const model = join(dir, `${name}.json`);
  const data = join(dir, `${name}.rows`);
  const out = join(dir, `${name}.csv`);
  writeFileSync(model, modelText);
  writeFileSync(data, `${rows.join('\n')}\n`);
  const r = python([READER, model, data, '--format', format, '--out', out]);
  if (r.status !== 0) throw new Error(`lab_model.py exited with ${r.status}: ${r.stderr}`);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  expect(lines[0]).toBe('row,probability,label');
  const cells = lines.slice(1).map((l) => l.split(','));
  const auc = /AUC (\d\.\d+)/.exec(r.stdout);
  if (!auc) throw new Error(`no AUC in the reader's output: ${r.stdout}`);
  return {
    probs: cells.map((c) => Number(c[1])),
    labels: cells.map((c) => Number(c[2])),
    auc: Number(auc[1]),
    stdout: r.stdout,
  };
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const CASES: { method: string; model: ModelKind; kind: ModelFile['embedding']['kind'] }[] = [
  { method: 'none', model: 'fm', kind: 'dense' },
  { method: 'none', model: 'autoint', kind: 'dense' },
  { method: 'magnitude', model: 'deepfm', kind: 'pruned' },
  { method: 'hashing', model: 'widedeep', kind: 'hashed' },
  { method: 'qr', model: 'dlrm', kind: 'qr' },
  { method: 'mixed-dim', model: 'deepfm', kind: 'mixed-dim' },
  { method: 'pep', model: 'fm', kind: 'pruned' },
];

describe.skipIf(!PYTHON)(`the Python reference reader on rows of ids ${NEEDS}`, () => {
  const ds = generateSyntheticCtr({ seed: 6, numRows: 1500, numFields: 5, maxCardinality: 300 });
  let fmText = '';

  for (const { method, model, kind } of CASES) {
    it(`${method} on ${model} (${kind}): the scorer's probabilities (1e-6) and the lab's AUC (1e-4)`, async () => {
      const { kept, testAuc, file, text } = await train(ds, method, model, {
        batchSize: 64,
        maxSteps: model === 'autoint' ? 8 : 15,
        learningRate: 0.01,
      });
      try {
        expect(file.embedding.kind).toBe(kind);
        expect(file.dataset.input.kind).toBe('ids');
        const test = kept.dataset.split.test;
        const m = ds.numFields;
        const scorer = new ModelScorer(readModelFile(text));
        const rows: string[] = [];
        const expected = Float64Array.from(test, (r) => {
          const ids = kept.dataset.ids.subarray(r * m, (r + 1) * m);
          rows.push(`${kept.dataset.labels[r]},${Array.from(ids).join(',')}`);
          return scorer.probability(ids, null);
        });
        const py = scoreWithPython(`${method}-${model}`, text, rows, 'ids');
        expect(py.stdout).toContain(`scored ${test.length} rows`);
        expect(maxDifference(py.probs, expected)).toBeLessThan(1e-6);
        expect(py.labels).toEqual(Array.from(test, (r) => kept.dataset.labels[r]));
        expect(Math.abs(py.auc - testAuc)).toBeLessThan(1e-4);
        if (method === 'none' && model === 'fm') fmText = text;
      } finally {
        kept.dispose();
      }
    });
  }

  it("a PEP snapshot not retrained (deepfm): the scorer's probabilities (1e-6) and the validation AUC the lab measured at the snapshot (1e-4)", async () => {
    const { result, kept } = await runExperiment(
      ds,
      {
        ...DEFAULT_TRAIN_CONFIG,
        model: 'deepfm',
        embeddingDim: 8,
        mlpLayers: [8],
        batchSize: 64,
        epochs: 6,
        learningRate: 0.01,
      },
      {
        id: 'pep',
        options: {
          ...defaultsOf(methodById('pep').spec.options),
          // 50% at about step 4, 80% at about step 18.
          thresholdInit: -4,
          gk: 4,
          thresholdLearningRate: 0.1,
          targets: [50, 80],
          retrain: 'last',
          retrainEpochs: 1,
        },
      },
      new RunControl(),
      () => {},
    );
    try {
      expect(kept.snapshots.map((x) => x.retrained)).toEqual([false, true]);
      const file = await exportRun(kept, { snapshot: 1 });
      expect(file.compression.plan.model).toMatch(/^not retrained/);
      const text = JSON.stringify(file);
      const rows: string[] = [];
      const scorer = new ModelScorer(readModelFile(text));
      const m = ds.numFields;
      const validation = kept.dataset.split.validation;
      const expected = Float64Array.from(validation, (r) => {
        const ids = kept.dataset.ids.subarray(r * m, (r + 1) * m);
        rows.push(`${kept.dataset.labels[r]},${Array.from(ids).join(',')}`);
        return scorer.probability(ids, null);
      });
      const py = scoreWithPython('pep-snapshot-1', text, rows, 'ids');
      expect(maxDifference(py.probs, expected)).toBeLessThan(1e-6);
      const atSnapshot = (result.methodResult.snapshotValidationAuc as number[])[0];
      expect(Math.abs(py.auc - atSnapshot)).toBeLessThan(1e-4);
    } finally {
      kept.dispose();
    }
  });

  it('is importable (load_model, score_line) and refuses the broken files the lab refuses', () => {
    if (!fmText) throw new Error('the none/fm export did not run');
    const valid = JSON.parse(fmText) as ModelFile;
    const edited = (edit: (f: ModelFile) => void): string => {
      const copy = JSON.parse(fmText) as ModelFile;
      edit(copy);
      return JSON.stringify(copy);
    };
    const broken: [string, string, RegExp][] = [
      ['not-json', 'this is not json', /not JSON/],
      ['truncated', fmText.slice(0, fmText.length / 2), /not JSON.*truncated/],
      [
        'format',
        JSON.stringify({ format: 'something-else', version: 1 }),
        /not a RecSys Compression Lab model file/,
      ],
      ['version', edited((f) => (f.version = 2)), /newer lab \(format version 2\)/],
      [
        'base64-length',
        edited((f) => (f.tensors.linear.data = f.tensors.linear.data.slice(0, -4))),
        /tensors\.linear: its data holds \d+ base64 characters, \d+ expected/,
      ],
      [
        'base64-chars',
        edited((f) => (f.tensors.linear.data = `!!!!${f.tensors.linear.data.slice(4)}`)),
        /tensors\.linear is not valid base64/,
      ],
      [
        'huge',
        edited((f) => (f.tensors.linear.shape = [MAX_TENSOR_ELEMENTS, 4])),
        /tensors\.linear declares \d+ elements, more than/,
      ],
      ['dim', edited((f) => (f.architecture.embeddingDim = 5)), /architecture's embeddingDim is 5/],
      [
        'shape',
        edited((f) => ((f.embedding as { table: string }).table = 'linear')),
        /embedding\.table: tensor "linear" has shape \[\d+\], expected/,
      ],
      [
        'kind',
        edited((f) => ((f.embedding as { kind: string }).kind = 'magic')),
        /embedding\.kind "magic"/,
      ],
      [
        'rare-id',
        edited((f) => (f.dataset.fields[0].rareId = f.dataset.fields[0].rows)),
        /dataset\.fields\[0\]\.rareId must be a whole number/,
      ],
    ];
    const paths = broken.map(([name, content]) => {
      const path = join(dir, `broken-${name}.json`);
      writeFileSync(path, content);
      return path;
    });
    for (const [name, content] of broken) {
      expect(() => readModelFile(content), `the lab reads ${name}`).toThrow();
    }
    const test = readFileSync(join(dir, 'none-fm.rows'), 'utf8').split('\n')[0];
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(resolve(READER, '..'))})`,
      'from lab_model import load_model, score_line, ModelFileError',
      'out = {"p": score_line(load_model(sys.argv[1]), sys.argv[2]), "errors": []}',
      'for path in sys.argv[3:]:',
      '    try:',
      '        load_model(path)',
      '        out["errors"].append(None)',
      '    except ModelFileError as err:',
      '        out["errors"].append(str(err))',
      'print(json.dumps(out))',
    ].join('\n');
    const r = python(['-c', script, join(dir, 'none-fm.json'), test, ...paths]);
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { p: number; errors: (string | null)[] };
    const ids = Int32Array.from(test.split(',').slice(1), Number);
    const scorer = new ModelScorer(readModelFile(JSON.stringify(valid)));
    expect(Math.abs(got.p - scorer.probability(ids, null))).toBeLessThan(1e-6);
    broken.forEach(([name, , message], i) => {
      expect(got.errors[i], name).not.toBeNull();
      expect(got.errors[i], name).toMatch(message);
    });
  });
});

const CRITEO = 'criteo/criteo_dac_train_first10k.txt';
const CRITEO_SKIP = HAVE_DATA ? '' : ' (skipped: the Criteo slice is not in the data folder)';

describe.skipIf(!PYTHON || !HAVE_DATA)(
  `the Python reference reader on raw Criteo lines ${NEEDS}${CRITEO_SKIP}`,
  () => {
    for (const model of ['deepfm', 'dlrm'] as ModelKind[]) {
      it(`${model}: the file's own lines give the scorer's probabilities and the lab's AUC`, async () => {
        const lines = readText(CRITEO).split('\n').slice(0, 2000);
        const loaded = await loadDataset([fileOf('criteo.txt', `${lines.join('\n')}\n`)], {
          rows: { mode: 'all' },
        });
        const data = ctr(loaded);
        expect(data.numRows).toBe(lines.length);
        const { kept, testAuc, text } = await train(data, 'none', model, {
          mlpLayers: [16],
          batchSize: 128,
          maxSteps: 12,
        });
        try {
          const decoded = readModelFile(text);
          expect(decoded.file.dataset.input.kind).toBe('delimited');
          const scorer = new ModelScorer(decoded);
          const encoder = new RowEncoder(decoded.file.dataset);
          // Every line was kept, so dataset row r is raw line r.
          const rows = Array.from(kept.dataset.split.test, (r) => lines[r]);
          const expected = rows.map((line) => {
            const row = encoder.encode(line);
            if (typeof row === 'string') throw new Error(row);
            return scorer.probability(row.ids, row.dense);
          });
          const py = scoreWithPython(`criteo-${model}`, text, rows, 'auto');
          expect(maxDifference(py.probs, expected)).toBeLessThan(1e-6);
          expect(Math.abs(py.auc - testAuc)).toBeLessThan(1e-4);
        } finally {
          kept.dispose();
        }
      });
    }
  },
);
