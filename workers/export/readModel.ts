/**
 * Reads a model file safely: it is untrusted input. Everything is checked before it is used or
 * allocated: the envelope (format, version), every field's type, every tensor's declared size
 * (refused above the limits before decoding), base64 lengths, shapes against the architecture,
 * ids and offsets against the table sizes, and keys such as `__proto__`. A problem gives a
 * ModelFileError naming it; nothing else is touched.
 */
import {
  MAX_TENSOR_ELEMENTS,
  MAX_TOTAL_ELEMENTS,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type Architecture,
  type DenseRef,
  type EmbeddingEncoding,
  type EncodedTensor,
  type MlpRef,
  type ModelFile,
} from './modelFormat';
import { base64Length, bytesPerElement, decodeTensor } from './tensorCodec';

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface DecodedModel {
  file: ModelFile;
  tensors: Map<string, Float32Array | Uint8Array | Int32Array>;
  /** Global rows of the embedding: the sum of the fields' rows. */
  numRows: number;
}

function fail(message: string): never {
  throw new ModelFileError(message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (!isObject(v)) fail(`${path} must be an object`);
  return v;
}

function num(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${path} must be a finite number`);
  return v;
}

function int(v: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = num(v, path);
  if (!Number.isInteger(n) || n < min || n > max) {
    fail(`${path} must be a whole number from ${min} to ${max}, got ${n}`);
  }
  return n;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(`${path} must be a string`);
  return v;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(`${path} must be an array`);
  return v;
}

/** Parses the text, refusing keys that could reach an object's prototype. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new ModelFileError(`the file contains a "${key}" key`);
      return value;
    });
  } catch (err) {
    if (err instanceof ModelFileError) throw err;
    fail(
      `not JSON (${err instanceof Error ? err.message : String(err)}): a truncated or damaged file?`,
    );
  }
}

function checkTensors(raw: unknown): Map<string, EncodedTensor> {
  const tensors = obj(raw, 'tensors');
  const out = new Map<string, EncodedTensor>();
  let total = 0;
  for (const [name, value] of Object.entries(tensors)) {
    const path = `tensors.${name}`;
    const t = obj(value, path);
    const dtype = str(t.dtype, `${path}.dtype`);
    if (dtype !== 'float32' && dtype !== 'uint8' && dtype !== 'int32') {
      fail(`${path}.dtype must be float32, uint8 or int32, got "${dtype}"`);
    }
    const shape = arr(t.shape, `${path}.shape`).map((d, i) =>
      int(d, `${path}.shape[${i}]`, 0, MAX_TENSOR_ELEMENTS),
    );
    if (shape.length > 4) fail(`${path} has ${shape.length} dimensions (at most 4)`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (size > MAX_TENSOR_ELEMENTS) {
      fail(`${path} declares ${size} elements, more than the ${MAX_TENSOR_ELEMENTS} allowed`);
    }
    total += size;
    if (total > MAX_TOTAL_ELEMENTS) {
      fail(`the tensors declare more than ${MAX_TOTAL_ELEMENTS} elements in all`);
    }
    const data = str(t.data, `${path}.data`);
    const expected = base64Length(size * bytesPerElement(dtype));
    if (data.length !== expected) {
      fail(
        `${path}: its data holds ${data.length} base64 characters, ${expected} expected for shape [${shape}] ${dtype}`,
      );
    }
    out.set(name, { dtype, shape, data });
  }
  return out;
}

/** Checks the references of the architecture and the embedding against the tensors' shapes. */
class RefChecker {
  constructor(private readonly tensors: Map<string, EncodedTensor>) {}

  tensor(ref: unknown, path: string, shape: (number | null)[], dtype = 'float32'): EncodedTensor {
    const name = str(ref, path);
    const t = this.tensors.get(name);
    if (!t) fail(`${path} names the tensor "${name}", which the file does not hold`);
    if (t.dtype !== dtype) fail(`${path}: tensor "${name}" is ${t.dtype}, ${dtype} expected`);
    const bad =
      t.shape.length !== shape.length || shape.some((d, i) => d !== null && t.shape[i] !== d);
    if (bad) {
      fail(
        `${path}: tensor "${name}" has shape [${t.shape}], expected [${shape.map((d) => d ?? '*')}]`,
      );
    }
    return t;
  }

  /** A Linear of `inputs` inputs; returns its output width. */
  dense(raw: unknown, path: string, inputs: number): number {
    const d = obj(raw, path) as unknown as DenseRef;
    const w = this.tensor(d.weight, `${path}.weight`, [inputs, null]);
    this.tensor(d.bias, `${path}.bias`, [w.shape[1]]);
    return w.shape[1];
  }

  mlp(raw: unknown, path: string, inputs: number): number {
    const m = obj(raw, path) as unknown as MlpRef;
    let width = inputs;
    arr(m.hidden, `${path}.hidden`).forEach((layer, i) => {
      const l = obj(layer, `${path}.hidden[${i}]`);
      width = this.dense(l.linear, `${path}.hidden[${i}].linear`, width);
      if (l.norm !== null) {
        const n = obj(l.norm, `${path}.hidden[${i}].norm`);
        for (const key of ['gamma', 'beta', 'runningMean', 'runningVar']) {
          this.tensor(n[key], `${path}.hidden[${i}].norm.${key}`, [width]);
        }
        num(n.eps, `${path}.hidden[${i}].norm.eps`);
      }
    });
    if (m.output === null) fail(`${path}.output is missing: the MLP must end in its output layer`);
    return this.dense(m.output, `${path}.output`, width);
  }
}

function checkArchitecture(raw: unknown, c: RefChecker, numRows: number, numFields: number): void {
  const a = obj(raw, 'architecture') as unknown as Architecture;
  const fields = int(a.numFields, 'architecture.numFields', 1);
  if (fields !== numFields)
    fail(`architecture.numFields is ${fields}, the dataset has ${numFields} fields`);
  const d = int(a.embeddingDim, 'architecture.embeddingDim', 1, 4096);
  const flat = fields * d;
  const one = (width: number, path: string) => {
    if (width !== 1) fail(`${path} must end in one output (the logit), it has ${width}`);
  };
  switch (a.model) {
    case 'fm':
    case 'deepfm':
    case 'widedeep':
      c.tensor(a.linear, 'architecture.linear', [numRows]);
      c.tensor(a.bias, 'architecture.bias', [1]);
      if (a.model === 'fm') {
        if (a.mlp !== null) fail('architecture.mlp must be null for FM');
      } else {
        one(c.mlp(a.mlp, 'architecture.mlp', flat), 'architecture.mlp');
      }
      return;
    case 'autoint': {
      const e = int(a.attentionDim, 'architecture.attentionDim', 1, 4096);
      const heads = int(a.numHeads, 'architecture.numHeads', 1, e);
      if (e % heads !== 0)
        fail(`architecture.attentionDim ${e} is not divisible by numHeads ${heads}`);
      if (c.dense(a.attentionEmbedding, 'architecture.attentionEmbedding', d) !== e) {
        fail('architecture.attentionEmbedding must project to attentionDim');
      }
      arr(a.layers, 'architecture.layers').forEach((layer, i) => {
        const l = obj(layer, `architecture.layers[${i}]`);
        if (c.dense(l.inProj, `architecture.layers[${i}].inProj`, e) !== 3 * e) {
          fail(`architecture.layers[${i}].inProj must project to 3 x attentionDim`);
        }
        if (c.dense(l.outProj, `architecture.layers[${i}].outProj`, e) !== e) {
          fail(`architecture.layers[${i}].outProj must project to attentionDim`);
        }
      });
      if (a.residual !== null && c.dense(a.residual, 'architecture.residual', d) !== e) {
        fail('architecture.residual must project to attentionDim');
      }
      one(c.dense(a.output, 'architecture.output', fields * e), 'architecture.output');
      if (a.mlp !== null) one(c.mlp(a.mlp, 'architecture.mlp', flat), 'architecture.mlp');
      return;
    }
    case 'dlrm': {
      const numDense = int(a.numDense, 'architecture.numDense', 0, 4096);
      let width = numDense;
      arr(a.bottom, 'architecture.bottom').forEach((l, i) => {
        width = c.dense(l, `architecture.bottom[${i}]`, width);
      });
      if (numDense > 0 && width !== d) fail('architecture.bottom must end at embeddingDim');
      let top = (numDense > 0 ? d : 0) + flat;
      arr(a.top, 'architecture.top').forEach((l, i) => {
        top = c.dense(l, `architecture.top[${i}]`, top);
      });
      one(top, 'architecture.top');
      return;
    }
    default:
      fail(
        `architecture.model "${String((a as { model: unknown }).model)}" is not a model this reader knows`,
      );
  }
}

function popcount8(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

function checkEmbedding(
  raw: unknown,
  c: RefChecker,
  tensors: Map<string, Float32Array | Uint8Array | Int32Array>,
  fieldRows: number[],
  dim: number,
): void {
  const e = obj(raw, 'embedding') as unknown as EmbeddingEncoding;
  const n = fieldRows.reduce((a, b) => a + b, 0);
  if (int(e.dim, 'embedding.dim', 1, 4096) !== dim) {
    fail(`embedding.dim is ${e.dim}, the architecture's embeddingDim is ${dim}`);
  }
  const m = fieldRows.length;
  const perField = (list: unknown, path: string) => {
    const items = arr(list, path);
    if (items.length !== m)
      fail(`${path} has ${items.length} entries, one per field (${m}) expected`);
    return items.map((x, i) => obj(x, `${path}[${i}]`));
  };
  switch (e.kind) {
    case 'dense':
      c.tensor(e.table, 'embedding.table', [n, dim]);
      return;
    case 'pruned': {
      const bytes = Math.ceil(dim / 8);
      c.tensor(e.masks, 'embedding.masks', [n, bytes], 'uint8');
      const values = c.tensor(e.values, 'embedding.values', [null]);
      const masks = tensors.get(e.masks) as Uint8Array;
      let stored = 0;
      for (let i = 0; i < masks.length; i++) stored += popcount8(masks[i]);
      if (stored !== values.shape[0]) {
        fail(`embedding.values holds ${values.shape[0]} entries, the masks mark ${stored}`);
      }
      if (dim % 8 !== 0) {
        const spare = 0xff << (dim % 8);
        for (let r = 0; r < n; r++) {
          if (masks[r * bytes + bytes - 1] & spare)
            fail(`embedding.masks row ${r} marks entries past dim ${dim}`);
        }
      }
      return;
    }
    case 'hashed': {
      const t = c.tensor(e.table, 'embedding.table', [null, dim]);
      perField(e.fields, 'embedding.fields').forEach((f, i) => {
        const p = `embedding.fields[${i}]`;
        int(f.a, `${p}.a`, 1, 2147483646);
        int(f.b, `${p}.b`, 0, 2147483646);
        const buckets = int(f.buckets, `${p}.buckets`, 1);
        const offset = int(f.offset, `${p}.offset`, 0);
        if (offset + buckets > t.shape[0])
          fail(`${p}: rows ${offset}..${offset + buckets - 1} are outside the table`);
      });
      return;
    }
    case 'qr': {
      const q = c.tensor(e.quotient, 'embedding.quotient', [null, dim]);
      const r = c.tensor(e.remainder, 'embedding.remainder', [null, dim]);
      const collisions = int(e.collisions, 'embedding.collisions', 2);
      if (e.operation !== 'mult' && e.operation !== 'add')
        fail('embedding.operation must be mult or add');
      perField(e.fields, 'embedding.fields').forEach((f, i) => {
        const p = `embedding.fields[${i}]`;
        const qOffset = int(f.qOffset, `${p}.qOffset`);
        if (typeof f.compressed !== 'boolean') fail(`${p}.compressed must be true or false`);
        const qRows = f.compressed ? Math.ceil(fieldRows[i] / collisions) : fieldRows[i];
        if (qOffset + qRows > q.shape[0]) fail(`${p}: quotient rows beyond the table`);
        if (f.compressed) {
          const rOffset = int(f.rOffset, `${p}.rOffset`);
          if (rOffset + collisions > r.shape[0]) fail(`${p}: remainder rows beyond the table`);
        }
      });
      return;
    }
    case 'mixed-dim':
      perField(e.fields, 'embedding.fields').forEach((f, i) => {
        const p = `embedding.fields[${i}]`;
        const t = c.tensor(f.table, `${p}.table`, [fieldRows[i], null]);
        const df = t.shape[1];
        if (df < 1 || df > dim) fail(`${p}: width ${df} is outside 1..${dim}`);
        if (df < dim) c.tensor(f.projection, `${p}.projection`, [df, dim]);
        else if (f.projection !== null) fail(`${p}: a field of full width has no projection`);
      });
      return;
    default:
      fail(
        `embedding.kind "${String((e as { kind: unknown }).kind)}" is not an encoding this reader knows`,
      );
  }
}

function checkDataset(raw: unknown): number[] {
  const ds = obj(raw, 'dataset');
  str(ds.name, 'dataset.name');
  const input = obj(ds.input, 'dataset.input');
  let numColumns = Infinity;
  if (input.kind === 'delimited') {
    const delimiter = str(input.delimiter, 'dataset.input.delimiter');
    if (delimiter.length !== 1) fail('dataset.input.delimiter must be one character');
    numColumns = int(input.numColumns, 'dataset.input.numColumns', 1, 100000);
    const label = int(input.labelColumn, 'dataset.input.labelColumn', 0, numColumns - 1);
    void label;
    if (typeof input.hasHeader !== 'boolean' || typeof input.quoted !== 'boolean') {
      fail('dataset.input.hasHeader and quoted must be true or false');
    }
    if (input.header !== null) {
      const header = arr(input.header, 'dataset.input.header');
      header.forEach((h, i) => str(h, `dataset.input.header[${i}]`));
    }
  } else if (input.kind !== 'ids') {
    fail(`dataset.input.kind must be "delimited" or "ids", got "${String(input.kind)}"`);
  }
  let offset = 0;
  const rows = arr(ds.fields, 'dataset.fields').map((raw, i) => {
    const p = `dataset.fields[${i}]`;
    const f = obj(raw, p);
    str(f.name, `${p}.name`);
    const n = int(f.rows, `${p}.rows`, 1);
    if (int(f.offset, `${p}.offset`) !== offset)
      fail(`${p}.offset must be ${offset} (the fields' rows follow each other)`);
    offset += n;
    const transform = f.transform;
    if (!['identity', 'criteo-bucket', 'derived', 'id'].includes(String(transform))) {
      fail(`${p}.transform "${String(transform)}" is not one this reader knows`);
    }
    if (f.tokens !== null) {
      const tokens = arr(f.tokens, `${p}.tokens`);
      if (tokens.length > n) fail(`${p} has ${tokens.length} tokens for ${n} ids`);
      tokens.forEach((t, k) => str(t, `${p}.tokens[${k}]`));
    }
    if (f.rareId !== null) int(f.rareId, `${p}.rareId`, 0, n - 1);
    int(f.minCount, `${p}.minCount`, 1);
    if (f.column !== null) int(f.column, `${p}.column`, 0, numColumns - 1);
    return n;
  });
  if (rows.length === 0) fail('dataset.fields is empty');
  if (ds.dense !== null) {
    const dense = obj(ds.dense, 'dataset.dense');
    const names = arr(dense.names, 'dataset.dense.names');
    const columns = arr(dense.columns, 'dataset.dense.columns');
    if (names.length !== columns.length) fail('dataset.dense.names and columns differ in length');
    columns.forEach((c, i) => int(c, `dataset.dense.columns[${i}]`, 0, numColumns - 1));
  }
  return rows;
}

/** Parses and checks a model file; throws ModelFileError naming the first problem found. */
export function readModelFile(text: string): DecodedModel {
  const raw = parseJson(text);
  if (!isObject(raw)) fail('not a model file: the JSON is not an object');
  if (raw.format === 'recsys-lab-sequence-model') {
    fail(
      'a sequence model file (NextItNet / CpRec): open it in the next-item task, which scores item sequences',
    );
  }
  if (raw.format !== MODEL_FORMAT) {
    fail(`not a RecSys Compression Lab model file (format: ${JSON.stringify(raw.format ?? null)})`);
  }
  const version = int(raw.version, 'version', 1);
  if (version > MODEL_FORMAT_VERSION) {
    fail(
      `written by a newer lab (format version ${version}); this reader knows version ${MODEL_FORMAT_VERSION}`,
    );
  }
  str(raw.createdAt, 'createdAt');
  str(raw.labVersion, 'labVersion');
  const fieldRows = checkDataset(raw.dataset);
  const encoded = checkTensors(raw.tensors);
  const checker = new RefChecker(encoded);
  const numRows = fieldRows.reduce((a, b) => a + b, 0);
  const architecture = obj(raw.architecture, 'architecture');
  checkArchitecture(architecture, checker, numRows, fieldRows.length);
  const decoded = new Map<string, Float32Array | Uint8Array | Int32Array>();
  for (const [name, t] of encoded) {
    try {
      decoded.set(name, decodeTensor(t));
    } catch (err) {
      fail(`tensors.${name} ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  checkEmbedding(raw.embedding, checker, decoded, fieldRows, architecture.embeddingDim as number);
  obj(raw.compression, 'compression');
  obj(raw.metrics, 'metrics');
  return { file: raw as unknown as ModelFile, tensors: decoded, numRows };
}
