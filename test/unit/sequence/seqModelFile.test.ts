/**
 * Reading an untrusted sequence model file (recsys-lab-sequence-model), as the click-through
 * model file's reader is tested (test/unit/export/modelFile.test.ts): a file that is not JSON or
 * is truncated, of another format or a newer version, base64 of the wrong length, arrays whose
 * length disagrees with what is declared, huge declared sizes (refused before anything is
 * allocated), `__proto__` / `constructor` keys, and ids out of range are refused with a
 * SequenceModelFileError (or, for ids given to the scorer, a RangeError) naming the problem.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_TENSOR_ELEMENTS } from '../../../workers/export/modelFormat';
import { RunControl } from '../../../workers/engine/runControl';
import { SequenceScorer } from '../../../workers/scorer/sequenceScorer';
import {
  readSequenceModelFile,
  SequenceModelFileError,
  type SequenceModelFile,
} from '../../../workers/sequence/seqModelFile';
import { DEFAULT_CPREC, DEFAULT_SEQ_TRAIN } from '../../../workers/sequence/seqProtocol';
import { runSequenceExperiment } from '../../../workers/sequence/seqTrainer';
import { generateSyntheticSequences } from '../../../workers/sequence/syntheticSequences';

/** A parsed file, edited freely to break it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let valid: SequenceModelFile;
let text = '';

beforeAll(async () => {
  await tf.setBackend('cpu');
  // A tiny CpRec run (two blocks, shared kernels): the file the lab writes.
  const data = { seed: 5, numSequences: 300, numItems: 40, length: 6 };
  let file: SequenceModelFile | null = null;
  await runSequenceExperiment(
    {
      source: 'synthetic',
      data,
      train: {
        ...DEFAULT_SEQ_TRAIN,
        embeddingDim: 8,
        dilations: [1, 2],
        epochs: 1,
        batchSize: 64,
        learningRate: 0.005,
      },
      method: 'cprec',
      cprec: { ...DEFAULT_CPREC, cutPoints: [0.25], sharing: 'cross-layer' },
    },
    generateSyntheticSequences(data),
    'synthetic',
    {
      control: new RunControl(),
      backend: 'cpu',
      uncompressedTimingSteps: 1,
      onModelFile: (f) => {
        file = f;
      },
      onEvent: () => {},
    },
  );
  if (!file) throw new Error('the run wrote no model file');
  valid = file;
  text = JSON.stringify(valid);
}, 120_000);

function refuse(content: string, message: RegExp): void {
  let error: unknown = null;
  try {
    readSequenceModelFile(content);
  } catch (e) {
    error = e;
  }
  expect(error, `accepted; expected ${String(message)}`).toBeInstanceOf(SequenceModelFileError);
  expect(String((error as Error).message)).toMatch(message);
}

function edited(edit: (f: Json) => void): string {
  const copy = JSON.parse(text) as Json;
  edit(copy);
  return JSON.stringify(copy);
}

describe('reading an untrusted sequence model file', () => {
  it('reads the file it wrote', () => {
    const model = readSequenceModelFile(text);
    expect(model.arch.cuts).toEqual([10, 40]);
    expect(model.arch.blockDims).toEqual([8, 2]);
    expect(model.weights.get('input.E1')?.length).toBe(30 * 2);
    expect(new SequenceScorer(model).rankOf([1, 2, 3], 4)).toBeGreaterThanOrEqual(0);
  });

  it('refuses what is not JSON, a truncated file, and JSON of another format or a newer version', () => {
    refuse('this is not json', /not JSON/);
    refuse(text.slice(0, text.length / 2), /not JSON.*truncated/);
    refuse('[1, 2, 3]', /not a JSON object/);
    refuse('null', /not a JSON object/);
    refuse(
      JSON.stringify({ format: 'something-else', version: 1 }),
      /expected "recsys-lab-sequence-model": not a RecSys Compression Lab sequence model file/,
    );
    refuse(JSON.stringify({ format: 'recsys-lab-model', version: 1 }), /click-through model file/);
    refuse(
      edited((f) => (f.version = 2)),
      /written by a newer lab \(format version 2\); this lab reads version 1/,
    );
    refuse(
      edited((f) => (f.version = '1')),
      /version must be a whole number from 1, got "1"/,
    );
    refuse(
      edited((f) => delete f.architecture),
      /architecture must be an object/,
    );
  });

  it('refuses base64 of the wrong length and data that disagrees with the declared shape', () => {
    refuse(
      edited((f) => (f.tensors['softmax.H'].data = f.tensors['softmax.H'].data.slice(0, -4))),
      /tensor softmax\.H: its data holds \d+ base64 characters, \d+ expected for shape \[8,11\] float32/,
    );
    refuse(
      edited((f) => (f.tensors['softmax.H'].data = `!!!!${f.tensors['softmax.H'].data.slice(4)}`)),
      /tensor softmax\.H is not valid base64/,
    );
    refuse(
      edited((f) => (f.tensors['conv.b0'].data = 12)),
      /tensor conv\.b0: its data must be a base64 string/,
    );
    refuse(
      edited((f) => (f.tensors['input.E1'].shape = [31, 2])),
      /tensor input\.E1 has shape \[31,2\], expected \[30,2\]/,
    );
    refuse(
      edited((f) => (f.tensors['input.E1'].dtype = 'uint8')),
      /tensor input\.E1 must be float32, got "uint8"/,
    );
    refuse(
      edited((f) => delete f.tensors['softmax.Q1']),
      /tensor softmax\.Q1 is missing/,
    );
    refuse(
      edited((f) => (f.tensors = [])),
      /tensors must be an object/,
    );
  });

  it('refuses arrays whose length disagrees with the architecture', () => {
    refuse(
      edited((f) => f.dataset.itemTokens.pop()),
      /dataset\.itemTokens must list the 40 items of the architecture, it lists 39/,
    );
    refuse(
      edited((f) => f.architecture.blockDims.push(2)),
      /blockDims needs one dimension per block: 3 for 2 blocks/,
    );
    refuse(
      edited((f) => f.architecture.kernelOf.pop()),
      /kernelOf does not match the sharing scheme "cross-layer"/,
    );
    refuse(
      edited((f) => f.architecture.dilations.push(4)),
      /dilations must come in pairs/,
    );
    refuse(
      edited((f) => (f.architecture.cuts = [40, 10])),
      /cuts must increase/,
    );
    refuse(
      edited((f) => (f.dataset.itemTokens[3] = 7)),
      /dataset\.itemTokens must be a list of strings/,
    );
    refuse(
      edited((f) => (f.dataset.paddingTokens = '-1')),
      /dataset\.paddingTokens must be a list of strings/,
    );
  });

  it('refuses huge declared sizes before allocating anything', () => {
    const before = process.memoryUsage().arrayBuffers;
    // A tensor declared huge: its shape is not the architecture's.
    refuse(
      edited((f) => (f.tensors['softmax.H'].shape = [MAX_TENSOR_ELEMENTS, 4])),
      /tensor softmax\.H has shape \[\d+,4\], expected \[8,11\]/,
    );
    // An architecture declared huge: its kernels would be [3 * 2^20, 2^20].
    refuse(
      edited((f) => {
        f.architecture.dim = 2 ** 20;
        f.architecture.blockDims[0] = 2 ** 20;
      }),
      /the architecture declares tensor conv\.W0 of shape \[3145728,1048576\], \d+ elements: more than the \d+ allowed/,
    );
    // What a scorer would allocate per history.
    refuse(
      edited((f) => (f.dataset.maxLen = 1e12)),
      /dataset\.maxLen 1000000000000 of dim 8: more than the \d+ elements allowed/,
    );
    refuse(
      edited((f) => (f.dataset.maxLen = 1e300)),
      /dataset\.maxLen must be a whole number of at least 2/,
    );
    refuse(
      edited((f) => (f.architecture.cuts = [10, 1e300])),
      /architecture\.cuts must be a non-empty list of positive whole numbers/,
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses __proto__ and constructor keys', () => {
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

  it('refuses ids out of range: in the file (vocabulary, blocks, kernels) and given to the scorer', () => {
    refuse(
      edited((f) => (f.dataset.itemTokens[5] = f.dataset.itemTokens[4])),
      /dataset\.itemTokens lists ".*" twice/,
    );
    refuse(
      edited((f) => (f.architecture.kernelOf = [0, 7])),
      /kernelOf does not match/,
    );
    refuse(
      edited((f) => (f.architecture.blockDims = [4, 4])),
      /blockDims\[0\] is 4: the head block is dim \(8\) wide/,
    );
    refuse(
      edited((f) => (f.architecture.blockDims = [8, 16])),
      /blockDims must not exceed dim \(8\)/,
    );
    refuse(
      edited((f) => (f.architecture.sharing = 'magic')),
      /sharing "magic" is unknown/,
    );
    refuse(
      edited((f) => delete f.architecture.layerNormEps),
      /architecture\.layerNormEps must be a finite number/,
    );
    // What the model card reads.
    refuse(
      edited((f) => (f.metrics.test.mrr5 = 'high')),
      /metrics\.test\.mrr5 must be a finite number/,
    );
    refuse(
      edited((f) => delete f.compression.plan.parameters),
      /compression\.plan\.parameters must be an object/,
    );
    // An item id outside 1..V given to the scorer is refused, not read past the tables.
    const scorer = new SequenceScorer(readSequenceModelFile(text));
    expect(() => scorer.rankOf([1, 2], 41)).toThrow(
      /target item 41 is outside the model's item ids 1 to 40/,
    );
    expect(() => scorer.rankOf([0, 2], 3)).toThrow(/history item 0 is outside/);
    expect(() => scorer.topK([1.5], 3)).toThrow(/history item 1\.5 is outside/);
    // Raw tokens never give such ids: unknown ones are skipped and counted.
    expect(scorer.parseLine(`${valid.dataset.itemTokens[0]},not-an-item,-1,`)).toEqual({
      items: [1],
      unknown: 1,
    });
  });
});
