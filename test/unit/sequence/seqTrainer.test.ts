import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunControl } from '../../../workers/engine/runControl';
import { runSequenceExperiment } from '../../../workers/sequence/seqTrainer';
import { generateSyntheticSequences } from '../../../workers/sequence/syntheticSequences';
import {
  readSequenceModelFile,
  type SequenceModelFile,
} from '../../../workers/sequence/seqModelFile';
import { RankingAccumulator } from '../../../workers/sequence/rankingMetrics';
import {
  evaluateSequenceModel,
  sequenceCardOf,
  SequenceScorer,
} from '../../../workers/scorer/sequenceScorer';
import { readModelFile } from '../../../workers/export/readModel';
import {
  DEFAULT_CPREC,
  DEFAULT_SEQ_TRAIN,
  type SeqEngineEvent,
  type SeqRunConfig,
} from '../../../workers/sequence/seqProtocol';

beforeAll(async () => {
  // wasm, the headless runner's backend: several times faster than cpu for these models.
  expect(await tf.setBackend('wasm')).toBe(true);
});

const data = { seed: 3, numSequences: 1200, numItems: 120, length: 10 };

function config(method: 'none' | 'cprec'): SeqRunConfig {
  return {
    source: 'synthetic',
    data,
    train: {
      ...DEFAULT_SEQ_TRAIN,
      embeddingDim: 16,
      dilations: [1, 2, 1, 2],
      epochs: 4,
      batchSize: 64,
      learningRate: 0.005,
    },
    method,
    cprec: { ...DEFAULT_CPREC, cutPoints: [0.2, 0.5], sharing: 'cross-block' },
  };
}

/** The first of python3, /usr/bin/python3 that imports numpy, or null. */
function findPython(): string | null {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(candidate, ['-c', 'import numpy'], { encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  return null;
}
const PYTHON = findPython();
const READER = resolve(__dirname, '../../../scripts/reference/lab_model.py');

let exported: SequenceModelFile | null = null;

describe('sequence trainer', () => {
  it('NextItNet and CpRec learn the synthetic sequences beyond the most-popular baseline', async () => {
    const ds = generateSyntheticSequences(data);
    expect(ds.split.validation.length).toBeGreaterThan(0);
    for (const method of ['none', 'cprec'] as const) {
      const events: SeqEngineEvent[] = [];
      const tensorsBefore = tf.memory().numTensors;
      const result = await runSequenceExperiment(config(method), ds, 'synthetic', {
        control: new RunControl(),
        backend: 'cpu',
        uncompressedTimingSteps: 1,
        onModelFile: (file) => {
          if (method === 'cprec') exported = file;
        },
        onEvent: (e) => {
          events.push(e);
        },
      });
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(result.evaluations.length).toBe(4);
      expect(result.test).not.toBeNull();
      expect(result.test!.mrr5).toBeGreaterThan(result.popularityTest.mrr5 * 1.3);
      expect(events.filter((e) => e.type === 'evaluation')).toHaveLength(4);
      expect(events.at(-1)).toEqual({ type: 'state', state: 'done' });
      if (method === 'cprec') {
        // The exported model, scored without tfjs, ranks the test split as the lab did.
        const scorer = new SequenceScorer(readSequenceModelFile(JSON.stringify(exported)));
        const acc = new RankingAccumulator();
        for (const row of ds.split.test) {
          const items = Array.from(
            ds.items.subarray(row * ds.maxLen, (row + 1) * ds.maxLen),
          ).filter((i) => i > 0);
          acc.add(scorer.rankOf(items.slice(0, -1), items[items.length - 1]));
        }
        const m = acc.result();
        expect(m.mrr5).toBeCloseTo(result.test!.mrr5, 2);
        expect(m.hr20).toBeCloseTo(result.test!.hr20, 2);
        // Shared kernels are stored once; tail tables at their own width.
        expect(Object.keys(exported!.tensors).filter((k) => k.startsWith('conv.W'))).toHaveLength(
          2,
        );
        expect(exported!.tensors['input.E1'].shape[1]).toBe(4);
        expect(result.compressionRatio).toBeGreaterThan(1.5);
        expect(result.uncompressedTiming).not.toBeNull();
        expect(result.fastTopK).not.toBeNull();
      }
    }
  }, 180_000);

  it('refuses broken sequence model files with a message; docs/sequence-model.schema.json describes the file', () => {
    expect(exported).not.toBeNull();
    const good = exported!;
    const schema = JSON.parse(
      readFileSync(resolve(__dirname, '../../../docs/sequence-model.schema.json'), 'utf8'),
    ) as Record<string, unknown>;
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
    expect(validate(JSON.parse(JSON.stringify(good))), JSON.stringify(validate.errors)).toBe(true);
    const noTokens = structuredClone(good) as unknown as Record<string, Record<string, unknown>>;
    delete noTokens.dataset.itemTokens;
    expect(validate(noTokens)).toBe(false);
    const badTensor = structuredClone(good);
    badTensor.tensors['conv.X0'] = badTensor.tensors['conv.W0'];
    expect(validate(badTensor)).toBe(false);
    const broken = (edit: (f: SequenceModelFile) => void) => {
      const f = structuredClone(good);
      edit(f);
      return () => readSequenceModelFile(JSON.stringify(f));
    };
    expect(broken((f) => delete f.tensors['conv.W1'])).toThrow(/tensor conv.W1 is missing/);
    expect(broken((f) => (f.tensors['softmax.H'].shape = [1, 2]))).toThrow(/softmax.H has shape/);
    expect(broken((f) => (f.architecture.sharing = 'none'))).toThrow(/kernelOf does not match/);
    expect(broken((f) => f.dataset.itemTokens.pop())).toThrow(/itemTokens must list/);
    expect(() => readSequenceModelFile('{"format": "something-else"}')).toThrow(
      /expected "recsys-lab-sequence-model"/,
    );
  });

  it.skipIf(!PYTHON)(
    `the Python reference reader ranks like the TypeScript scorer ${PYTHON ? `(${PYTHON})` : '(skipped: no python3 with numpy)'}`,
    () => {
      const file = exported!;
      const scorer = new SequenceScorer(readSequenceModelFile(JSON.stringify(file)));
      const ds = generateSyntheticSequences(data);
      const lines = Array.from(ds.split.test.subarray(0, 150), (row) =>
        Array.from(ds.items.subarray(row * ds.maxLen, (row + 1) * ds.maxLen), (id) =>
          id === 0 ? '-1' : ds.itemTokens[id - 1],
        ).join(','),
      );
      lines.push('unknown-token,item1', '');
      const dir = mkdtempSync(join(tmpdir(), 'lab-seq-'));
      try {
        writeFileSync(join(dir, 'm.json'), JSON.stringify(file));
        writeFileSync(join(dir, 's.txt'), `${lines.join('\n')}\n`);
        const r = spawnSync(
          PYTHON!,
          [
            READER,
            join(dir, 'm.json'),
            join(dir, 's.txt'),
            '--out',
            join(dir, 'o.csv'),
            '--k',
            '5',
          ],
          {
            encoding: 'utf8',
          },
        );
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const acc = new RankingAccumulator();
        for (const line of lines) {
          const { items } = scorer.parseLine(line);
          if (items.length >= 2)
            acc.add(scorer.rankOf(items.slice(0, -1), items[items.length - 1]));
        }
        const m = acc.result();
        expect(r.stdout).toContain(
          `(${m.count} sequences): MRR@5 ${m.mrr5.toFixed(4)} MRR@20 ${m.mrr20.toFixed(4)}`,
        );
        expect(r.stdout).toContain('skipped 1 tokens the model does not know');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('refuses a cut point outside the vocabulary with a message', async () => {
    const ds = generateSyntheticSequences(data);
    const bad = config('cprec');
    bad.cprec = { ...bad.cprec, cutPoints: [50, 500] };
    await expect(
      runSequenceExperiment(bad, ds, 'synthetic', {
        control: new RunControl(),
        backend: 'cpu',
        onEvent: () => {},
      }),
    ).rejects.toThrow(/Cut point 500 is outside the vocabulary/);
  });
});

describe('opening a sequence model file', () => {
  it('describes it and scores the test split by token, beside the most-popular baseline', () => {
    expect(exported).not.toBeNull();
    const model = readSequenceModelFile(JSON.stringify(exported));
    const card = sequenceCardOf(model, 'm.json', 123);
    expect(card.kind).toBe('sequence');
    expect(card.params).toBe(card.parts.reduce((a, p) => a + p.params, 0));
    expect(card.compressionRatio).toBeGreaterThan(1.5);
    const ds = generateSyntheticSequences(data);
    const evaluation = evaluateSequenceModel(model, ds);
    expect(evaluation.skippedSequences).toBe(0);
    expect(evaluation.unknownItems).toBe(0);
    expect(evaluation.test.mrr5).toBeCloseTo(exported!.metrics.test!.mrr5, 2);
    expect(evaluation.popularityTest.mrr5).toBeCloseTo(exported!.metrics.popularityTest!.mrr5, 10);
    // Other data with none of its items: refused with a message.
    const other = generateSyntheticSequences({ ...data, seed: 4 });
    other.itemTokens = other.itemTokens.map((t) => `x${t}`);
    expect(() => evaluateSequenceModel(model, other)).toThrow(/has two items this model knows/);
  });

  it('a file of the other task is refused with a message saying which task opens it', () => {
    expect(() => readSequenceModelFile('{"format": "recsys-lab-model", "version": 1}')).toThrow(
      /click-through model file/,
    );
    expect(() => readModelFile(JSON.stringify(exported))).toThrow(/sequence model file/);
  });
});
