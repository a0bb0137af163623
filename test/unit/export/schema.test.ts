/**
 * docs/model.schema.json describes the model files the lab writes: a freshly exported file of
 * every embedding encoding and every architecture validates against it (Ajv, draft 2020-12), and
 * files with a wrong structure do not.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import Ajv2020 from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { RunControl } from '../../../workers/engine/runControl';
import { runExperiment } from '../../../workers/engine/trainer';
import { exportRun } from '../../../workers/export/exportRun';
import type { ModelFile } from '../../../workers/export/modelFormat';
import { methodById } from '../../../workers/methods/registry';
import { defaultsOf, type OptionValue } from '../../../workers/options';
import { DEFAULT_TRAIN_CONFIG, type ModelKind } from '../../../workers/protocol';

const schema = JSON.parse(
  readFileSync(resolve(__dirname, '../../../docs/model.schema.json'), 'utf8'),
) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);

const ds = generateSyntheticCtr({ seed: 6, numRows: 1500, numFields: 5, maxCardinality: 300 });

/** A parsed JSON file, edited freely to break it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const QUICK: Record<string, Record<string, OptionValue>> = {
  magnitude: { fineTuneEpochs: 1, sparsity: 0.7 },
  qr: { threshold: 20 },
};

/** Every embedding encoding and every architecture, in six tiny runs. */
const CASES: { method: string; model: ModelKind; kind: ModelFile['embedding']['kind'] }[] = [
  { method: 'none', model: 'fm', kind: 'dense' },
  { method: 'magnitude', model: 'deepfm', kind: 'pruned' },
  { method: 'hashing', model: 'widedeep', kind: 'hashed' },
  { method: 'qr', model: 'dlrm', kind: 'qr' },
  { method: 'mixed-dim', model: 'deepfm', kind: 'mixed-dim' },
  { method: 'none', model: 'autoint', kind: 'dense' },
];

async function exported(method: string, model: ModelKind): Promise<ModelFile> {
  const { spec } = methodById(method);
  const { kept } = await runExperiment(
    ds,
    {
      ...DEFAULT_TRAIN_CONFIG,
      model,
      embeddingDim: 8,
      mlpLayers: [8],
      batchSize: 64,
      epochs: 1,
      maxSteps: 10,
      learningRate: 0.01,
    },
    { id: method, options: { ...defaultsOf(spec.options), ...QUICK[method] } },
    new RunControl(),
    () => {},
  );
  try {
    // Through text, as a file on disk would be read.
    return JSON.parse(JSON.stringify(await exportRun(kept))) as ModelFile;
  } finally {
    kept.dispose();
  }
}

function errorsOf(file: unknown): string {
  return validate(file)
    ? ''
    : ajv.errorsText(validate.errors, { separator: '\n', dataVar: 'file' });
}

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});

describe('docs/model.schema.json', () => {
  const files = new Map<string, ModelFile>();

  for (const { method, model, kind } of CASES) {
    it(`accepts a freshly exported ${kind} embedding on ${model} (${method})`, async () => {
      const file = await exported(method, model);
      expect(file.embedding.kind).toBe(kind);
      expect(file.architecture.model).toBe(model);
      expect(errorsOf(file)).toBe('');
      files.set(`${method}/${model}`, file);
    });
  }

  const edited = (key: string, edit: (f: Json) => void): unknown => {
    const file = files.get(key);
    if (!file) throw new Error(`the export ${key} did not run`);
    const copy = JSON.parse(JSON.stringify(file)) as Json;
    edit(copy);
    return copy;
  };

  it('rejects files with a wrong structure, naming where', () => {
    const broken: [string, string, (f: Json) => void, RegExp][] = [
      ['none/fm', 'no tensors', (f) => delete f.tensors, /must have required property 'tensors'/],
      [
        'none/fm',
        'another format',
        (f) => (f.format = 'onnx'),
        /file\/format must be equal to constant/,
      ],
      ['none/fm', 'a newer version', (f) => (f.version = 2), /file\/version/],
      [
        'none/fm',
        'an unknown model',
        (f) => (f.architecture.model = 'gbdt'),
        /file\/architecture\/model/,
      ],
      [
        'none/fm',
        'an FM with an MLP',
        (f) => (f.architecture.mlp = { hidden: [], output: null }),
        /file\/architecture/,
      ],
      [
        'none/fm',
        'an unknown embedding kind',
        (f) => (f.embedding.kind = 'magic'),
        /file\/embedding\/kind/,
      ],
      [
        'none/fm',
        'a float64 tensor',
        (f) => (f.tensors.linear.dtype = 'float64'),
        /file\/tensors\/linear\/dtype/,
      ],
      [
        'none/fm',
        'a tensor of 5 dimensions',
        (f) => (f.tensors.linear.shape = [1, 1, 1, 1, 540]),
        /file\/tensors\/linear\/shape/,
      ],
      [
        'none/fm',
        'data that is not base64',
        (f) => (f.tensors.bias.data = 'AAAA!!!!'),
        /file\/tensors\/bias\/data/,
      ],
      [
        'none/fm',
        'an unknown transform',
        (f) => (f.dataset.fields[0].transform = 'lowercase'),
        /file\/dataset\/fields\/0\/transform/,
      ],
      [
        'none/fm',
        'a field without rows',
        (f) => delete f.dataset.fields[1].rows,
        /file\/dataset\/fields\/1 must have required property 'rows'/,
      ],
      [
        'magnitude/deepfm',
        'a pruned embedding without masks',
        (f) => delete f.embedding.masks,
        /file\/embedding/,
      ],
      [
        'hashing/widedeep',
        'a hash with a = 0',
        (f) => (f.embedding.fields[0].a = 0),
        /file\/embedding\/fields\/0\/a/,
      ],
      [
        'qr/dlrm',
        'an unknown QR operation',
        (f) => (f.embedding.operation = 'concat'),
        /file\/embedding\/operation/,
      ],
      [
        'qr/dlrm',
        'a DLRM without a top MLP',
        (f) => (f.architecture.top = []),
        /file\/architecture\/top/,
      ],
      [
        'mixed-dim/deepfm',
        'a projection that is not a name',
        (f) => (f.embedding.fields[1].projection = 3),
        /file\/embedding\/fields\/1\/projection/,
      ],
      [
        'none/autoint',
        'attention without heads',
        (f) => delete f.architecture.numHeads,
        /numHeads/,
      ],
    ];
    for (const [key, what, edit, where] of broken) {
      const errors = errorsOf(edited(key, edit));
      expect(errors, what).not.toBe('');
      expect(errors, what).toMatch(where);
    }
  });
});
