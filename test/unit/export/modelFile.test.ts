/**
 * The model file end to end on raw data (Criteo lines in, probabilities out), its realised
 * compression, and reading untrusted files safely.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../workers/data/loadDataset';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { RunControl } from '../../../workers/engine/runControl';
import { runExperiment } from '../../../workers/engine/trainer';
import { exportRun } from '../../../workers/export/exportRun';
import { MAX_TENSOR_ELEMENTS, type ModelFile } from '../../../workers/export/modelFormat';
import { ModelFileError, readModelFile } from '../../../workers/export/readModel';
import { rocAuc } from '../../../workers/metrics/classification';
import { defaultsOf } from '../../../workers/options';
import { DEFAULT_TRAIN_CONFIG, type ModelKind } from '../../../workers/protocol';
import { ModelScorer } from '../../../workers/scorer/modelScorer';
import { RowEncoder } from '../../../workers/scorer/rowEncoder';
import { PEP_SPEC } from '../../../workers/methods/pep/spec';
import { ctr, fileOf, HAVE_DATA, readText } from '../data/helpers';

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});

const CRITEO = 'criteo/criteo_dac_train_first10k.txt';
const ROWS = 3000;

describe.skipIf(!HAVE_DATA)('raw Criteo lines scored with an exported model', () => {
  for (const model of ['deepfm', 'dlrm'] as ModelKind[]) {
    it(`${model}: the scorer reads the file's own lines and gets the lab's test AUC`, async () => {
      const text = readText(CRITEO);
      const lines = text.split('\n').slice(0, ROWS);
      const loaded = await loadDataset([fileOf('criteo.txt', `${lines.join('\n')}\n`)], {
        rows: { mode: 'all' },
      });
      const ds = ctr(loaded);
      expect(ds.numRows).toBe(ROWS);
      const { result, kept } = await runExperiment(
        ds,
        {
          ...DEFAULT_TRAIN_CONFIG,
          model,
          embeddingDim: 8,
          mlpLayers: [16],
          batchSize: 128,
          epochs: 1,
          maxSteps: 12,
        },
        { id: 'none', options: {} },
        new RunControl(),
        () => {},
      );
      const file = await exportRun(kept);
      expect(file.dataset.input.kind).toBe('delimited');
      if (model === 'dlrm') expect(file.dataset.dense?.columns.length).toBe(13);
      const decoded = readModelFile(JSON.stringify(file));
      const scorer = new ModelScorer(decoded);
      const encoder = new RowEncoder(decoded.file.dataset);
      // Every row of this file was kept, so dataset row r is raw line r.
      const probs: number[] = [];
      const labels: number[] = [];
      for (const r of kept.dataset.split.test) {
        const row = encoder.encode(lines[r]);
        if (typeof row === 'string') throw new Error(row);
        probs.push(scorer.probability(row.ids, row.dense));
        labels.push(row.label as number);
        expect(row.label).toBe(kept.dataset.labels[r]);
      }
      expect(Math.abs(rocAuc(probs, labels) - result.test!.auc)).toBeLessThan(1e-4);
      // A value the vocabulary never saw takes the field's rare id.
      const cols = lines[0].split('\t');
      cols[20] = 'never-seen';
      const unseen = encoder.encode(cols.join('\t'));
      if (typeof unseen === 'string') throw new Error(unseen);
      const field = decoded.file.dataset.fields.findIndex((f) => f.column === 20);
      expect(unseen.ids[field]).toBe(decoded.file.dataset.fields[field].rareId ?? 0);
      kept.dispose();
    });
  }
});

describe('realised compression', () => {
  it('a PEP model at 95% sparsity stores at most 10% of the dense embedding table’s bytes', async () => {
    const ds = generateSyntheticCtr({ seed: 3, numRows: 3000, numFields: 6, maxCardinality: 2000 });
    const d = 16;
    const { result, kept } = await runExperiment(
      ds,
      {
        ...DEFAULT_TRAIN_CONFIG,
        model: 'fm',
        embeddingDim: d,
        batchSize: 64,
        epochs: 10,
        embeddingUpdate: 'exact',
      },
      {
        id: 'pep',
        options: {
          ...defaultsOf(PEP_SPEC.options),
          thresholdInit: -6,
          gk: 10,
          thresholdLearningRate: 0.3,
          targets: [95],
          retrain: 'last',
          retrainEpochs: 1,
        },
      },
      new RunControl(),
      () => {},
    );
    expect(result.methodResult.snapshotNonZeros).toHaveLength(1);
    const file = await exportRun(kept);
    const emb = file.embedding;
    expect(emb.kind).toBe('pruned');
    if (emb.kind !== 'pruned') return;
    const bytesOf = (name: string) => {
      const t = file.tensors[name];
      return t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'uint8' ? 1 : 4);
    };
    const stored = bytesOf(emb.masks) + bytesOf(emb.values);
    const dense = 4 * ds.totalVocabulary * d;
    expect(stored).toBeLessThanOrEqual(0.1 * dense);
    // The file holds no dense copy of the table.
    expect(Object.keys(file.tensors).filter((k) => k.startsWith('embedding'))).toEqual([
      emb.masks,
      emb.values,
    ]);
    kept.dispose();
  });
});

describe('reading an untrusted model file', () => {
  let valid: ModelFile;
  beforeAll(async () => {
    const ds = generateSyntheticCtr({ seed: 2, numRows: 600, numFields: 4, maxCardinality: 50 });
    const { kept } = await runExperiment(
      ds,
      { ...DEFAULT_TRAIN_CONFIG, model: 'fm', embeddingDim: 4, batchSize: 64, epochs: 1 },
      { id: 'hashing', options: { fraction: 0.5 } },
      new RunControl(),
      () => {},
    );
    valid = await exportRun(kept);
    kept.dispose();
  });

  const refuse = (text: string, message: RegExp) => {
    let error: unknown = null;
    try {
      readModelFile(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelFileError);
    expect(String((error as Error).message)).toMatch(message);
  };
  const edited = (edit: (f: Record<string, unknown>) => void) => {
    const copy = JSON.parse(JSON.stringify(valid)) as Record<string, unknown>;
    edit(copy);
    return JSON.stringify(copy);
  };
  const tensors = (f: Record<string, unknown>) =>
    f.tensors as Record<string, { shape: number[]; data: string; dtype: string }>;

  it('reads the file it wrote', () => {
    expect(readModelFile(JSON.stringify(valid)).numRows).toBeGreaterThan(0);
  });

  it('refuses what is not JSON, a truncated file, and JSON of another format or a newer version', () => {
    refuse('this is not json', /not JSON/);
    const text = JSON.stringify(valid);
    refuse(text.slice(0, text.length / 2), /not JSON.*truncated/);
    refuse(
      JSON.stringify({ format: 'something-else', version: 1 }),
      /not a RecSys Compression Lab model file/,
    );
    refuse(JSON.stringify([1, 2, 3]), /not an object/);
    refuse(
      edited((f) => (f.version = 2)),
      /newer lab \(format version 2\)/,
    );
  });

  it('refuses base64 of the wrong length and data that disagrees with the declared shape', () => {
    refuse(
      edited((f) => {
        const t = tensors(f).linear;
        t.data = t.data.slice(0, -4);
      }),
      /tensors\.linear: its data holds .* base64 characters/,
    );
    refuse(
      edited((f) => {
        const t = tensors(f).linear;
        t.shape = [t.shape[0] + 1];
      }),
      /tensors\.linear/,
    );
    refuse(
      edited((f) => {
        const t = tensors(f).linear;
        t.data = `${'!'.repeat(4)}${t.data.slice(4)}`;
      }),
      /tensors\.linear is not valid base64/,
    );
  });

  it('refuses huge declared sizes before allocating anything', () => {
    const before = process.memoryUsage().arrayBuffers;
    refuse(
      edited((f) => {
        tensors(f).linear.shape = [MAX_TENSOR_ELEMENTS, 4];
      }),
      /declares \d+ elements, more than/,
    );
    refuse(
      edited((f) => {
        tensors(f).linear.shape = [1e15];
      }),
      /shape\[0\] must be a whole number/,
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses __proto__ and constructor keys', () => {
    const text = JSON.stringify(valid);
    refuse(
      text.replace('"tensors":{', '"tensors":{"__proto__":{"polluted":1},'),
      /"__proto__" key/,
    );
    refuse(
      text.replace('"compression":{', '"compression":{"constructor":{"x":1},'),
      /"constructor" key/,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses ids and offsets out of range, and a shape the architecture does not expect', () => {
    refuse(
      edited((f) => {
        const fields = (f.embedding as { fields: { offset: number }[] }).fields;
        fields[0].offset = 1_000_000;
      }),
      /outside the table/,
    );
    refuse(
      edited((f) => {
        const fields = (f.dataset as { fields: { rareId: number | null; rows: number }[] }).fields;
        fields[0].rareId = fields[0].rows;
      }),
      /rareId must be a whole number/,
    );
    refuse(
      edited((f) => ((f.architecture as { embeddingDim: number }).embeddingDim = 5)),
      /embeddingDim|shape/,
    );
    refuse(
      edited((f) => ((f.embedding as { kind: string }).kind = 'magic')),
      /embedding\.kind "magic"/,
    );
    // A row whose id is out of range is refused by the scorer's encoder, not read past the table.
    const decoded = readModelFile(JSON.stringify(valid));
    const encoder = new RowEncoder(decoded.file.dataset);
    const m = decoded.file.dataset.fields.length;
    expect(encoder.encode(`1,${new Array(m).fill(99999).join(',')}`)).toMatch(/outside/);
  });
});
