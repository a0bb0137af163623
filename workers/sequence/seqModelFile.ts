/**
 * The lab's sequence model file (NextItNet, plain or compressed by CpRec): one JSON document
 * that carries the item vocabulary, the architecture, the compression plan, every weight
 * (base64 float32, each shared kernel once, each block's table at its own width) and the
 * metrics, so that a scorer with no tfjs ranks next items for raw item sequences elsewhere
 * (docs/model-format.md, "Sequence models").
 *
 * tfjs-free: the worker writes it, the scorer, the command line and the tests read it.
 */
import { MAX_TENSOR_ELEMENTS, MAX_TOTAL_ELEMENTS, type EncodedTensor } from '../export/modelFormat';
import { base64Length, decodeTensor } from '../export/tensorCodec';
import {
  kernelAssignment,
  RANKING_METRIC_KEYS,
  SHARING_SCHEMES,
  type RankingMetrics,
  type SeqArchitecture,
} from './seqProtocol';

export const SEQUENCE_MODEL_FORMAT = 'recsys-lab-sequence-model';
export const SEQUENCE_MODEL_VERSION = 1;

export interface SequenceModelFile {
  format: typeof SEQUENCE_MODEL_FORMAT;
  version: number;
  createdAt: string;
  labVersion: string;
  dataset: {
    name: string;
    /** itemTokens[id - 1] = the raw token of item id; ids are frequency ranks (1 = most frequent). */
    itemTokens: string[];
    /** Sequences were left-padded (or cut to their most recent items) to this many items. */
    maxLen: number;
    /** Tokens that mean "no item" in a raw line (left padding), besides empty ones. */
    paddingTokens: string[];
  };
  architecture: {
    model: 'nextitnet';
    dim: number;
    /** One per conv; convs 2b and 2b+1 form residual block b. */
    dilations: number[];
    /** Rank boundaries of the blocks; the last is the number of items. */
    cuts: number[];
    blockDims: number[];
    sharing: (typeof SHARING_SCHEMES)[number];
    /** kernelOf[c] = the distinct kernel conv c uses (tensors conv.W{k}, conv.b{k}). */
    kernelOf: number[];
    layerNormEps: number;
  };
  compression: {
    method: 'none' | 'cprec';
    label: string;
    options: Record<string, number | string | number[]>;
    plan: {
      parameters: { input: number; middle: number; softmax: number; total: number };
      uncompressedParameters: { input: number; middle: number; softmax: number; total: number };
      compressionRatio: number;
      distinctKernels: number;
    };
  };
  /**
   * input.E{k} [size_k, d_k], input.P{k} [d_k, d] (k >= 1); conv.W{j} [3d, d] (rows 0..d-1 read
   * x[t-2r], d..2d-1 x[t-r], 2d..3d-1 x[t]) and conv.b{j} [d]; ln.gamma{c}, ln.beta{c} [d];
   * softmax.H [d, c1 + K - 1]; softmax.b [V] (one block only: the full softmax's bias);
   * softmax.Q{k} [d, d_k], softmax.F{k} [d_k, size_k].
   */
  tensors: Record<string, EncodedTensor>;
  metrics: {
    validation: RankingMetrics | null;
    test: RankingMetrics | null;
    popularityTest: RankingMetrics | null;
    parameters: number;
    weightBytes: number;
    uncompressedWeightBytes: number;
  };
  config: unknown;
}

export class SequenceModelFileError extends Error {
  override name = 'SequenceModelFileError';
}

/** A checked, decoded sequence model: the file and its weights as Float32Arrays. */
export interface DecodedSequenceModel {
  file: SequenceModelFile;
  arch: SeqArchitecture;
  weights: Map<string, Float32Array>;
}

function fail(message: string): never {
  throw new SequenceModelFileError(message);
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (!isObject(v)) fail(`${path} must be an object`);
  return v;
}

function wholeNumber(v: unknown, path: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    fail(`${path} must be a whole number of at least ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function finiteNumber(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${path} must be a finite number`);
  return v;
}

function positiveInts(v: unknown, what: string): number[] {
  if (
    !Array.isArray(v) ||
    v.length === 0 ||
    !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x > 0)
  )
    fail(`${what} must be a non-empty list of positive whole numbers`);
  return v as number[];
}

function strings(v: unknown, path: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    fail(`${path} must be a list of strings`);
  return v as string[];
}

/** Parses the text, refusing keys that could reach an object's prototype. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) fail(`the file contains a "${key}" key`);
      return value;
    });
  } catch (err) {
    if (err instanceof SequenceModelFileError) throw err;
    fail(
      `not JSON (${err instanceof Error ? err.message : String(err)}): a truncated or damaged file?`,
    );
  }
}

/** Expected shape of every tensor of an architecture. */
export function expectedShapes(a: SequenceModelFile['architecture']): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const { dim: d, cuts, blockDims } = a;
  const K = cuts.length;
  for (let k = 0; k < K; k++) {
    const size = cuts[k] - (k === 0 ? 0 : cuts[k - 1]);
    shapes.set(`input.E${k}`, [size, blockDims[k]]);
    if (k > 0) {
      shapes.set(`input.P${k}`, [blockDims[k], d]);
      shapes.set(`softmax.Q${k}`, [d, blockDims[k]]);
      shapes.set(`softmax.F${k}`, [blockDims[k], size]);
    }
  }
  const distinct = new Set(a.kernelOf).size;
  for (let j = 0; j < distinct; j++) {
    shapes.set(`conv.W${j}`, [3 * d, d]);
    shapes.set(`conv.b${j}`, [d]);
  }
  for (let c = 0; c < a.dilations.length; c++) {
    shapes.set(`ln.gamma${c}`, [d]);
    shapes.set(`ln.beta${c}`, [d]);
  }
  shapes.set('softmax.H', [d, cuts[0] + K - 1]);
  if (K === 1) shapes.set('softmax.b', [cuts[0]]);
  return shapes;
}

function checkArchitecture(raw: unknown): SequenceModelFile['architecture'] {
  const a = obj(raw, 'architecture');
  if (a.model !== 'nextitnet') fail('architecture.model must be "nextitnet"');
  const dim = wholeNumber(a.dim, 'architecture.dim', 1);
  const dilations = positiveInts(a.dilations, 'architecture.dilations');
  if (dilations.length % 2 !== 0)
    fail('architecture.dilations must come in pairs (two convs per block)');
  const cuts = positiveInts(a.cuts, 'architecture.cuts');
  const blockDims = positiveInts(a.blockDims, 'architecture.blockDims');
  if (blockDims.length !== cuts.length)
    fail(
      `architecture.blockDims needs one dimension per block: ${blockDims.length} for ${cuts.length} blocks`,
    );
  for (let k = 1; k < cuts.length; k++)
    if (cuts[k] <= cuts[k - 1]) fail('architecture.cuts must increase');
  if (blockDims[0] !== dim)
    fail(`architecture.blockDims[0] is ${blockDims[0]}: the head block is dim (${dim}) wide`);
  if (blockDims.some((b) => b > dim))
    fail(`architecture.blockDims must not exceed dim (${dim}): [${blockDims.join(', ')}]`);
  const sharing = a.sharing as SequenceModelFile['architecture']['sharing'];
  if (!SHARING_SCHEMES.includes(sharing))
    fail(`architecture.sharing "${String(a.sharing)}" is unknown`);
  const expectedKernels = kernelAssignment(dilations.length, sharing);
  if (!Array.isArray(a.kernelOf) || a.kernelOf.join() !== expectedKernels.join())
    fail(`architecture.kernelOf does not match the sharing scheme "${sharing}"`);
  const layerNormEps = finiteNumber(a.layerNormEps, 'architecture.layerNormEps');
  if (layerNormEps <= 0) fail('architecture.layerNormEps must be above 0');
  return {
    model: 'nextitnet',
    dim,
    dilations,
    cuts,
    blockDims,
    sharing,
    kernelOf: expectedKernels,
    layerNormEps,
  };
}

function checkMetrics(raw: unknown, path: string): void {
  if (raw === null) return;
  const m = obj(raw, path);
  for (const key of RANKING_METRIC_KEYS) finiteNumber(m[key], `${path}.${key}`);
  wholeNumber(m.count, `${path}.count`, 0);
}

/** What the card reads: the compression plan's parameter counts and the stored metrics. */
function checkDescription(file: Record<string, unknown>): void {
  const c = obj(file.compression, 'compression');
  if (c.method !== 'none' && c.method !== 'cprec')
    fail(`compression.method must be "none" or "cprec", got ${JSON.stringify(c.method)}`);
  if (typeof c.label !== 'string') fail('compression.label must be a string');
  const plan = obj(c.plan, 'compression.plan');
  for (const key of ['parameters', 'uncompressedParameters']) {
    const counts = obj(plan[key], `compression.plan.${key}`);
    for (const part of ['input', 'middle', 'softmax', 'total'])
      wholeNumber(counts[part], `compression.plan.${key}.${part}`, 0);
  }
  finiteNumber(plan.compressionRatio, 'compression.plan.compressionRatio');
  const metrics = obj(file.metrics, 'metrics');
  for (const key of ['validation', 'test', 'popularityTest'])
    checkMetrics(metrics[key], `metrics.${key}`);
}

/**
 * Parses and checks a sequence model file: it is untrusted input. Everything is checked before
 * it is used or allocated (the envelope, the architecture, the vocabulary against the blocks,
 * every tensor's declared size against the limits and its shape against the architecture, base64
 * lengths, keys such as `__proto__`); a bad file is refused with a message naming the problem.
 */
export function readSequenceModelFile(text: string): DecodedSequenceModel {
  const json = parseJson(text);
  if (!isObject(json)) fail('not a JSON object: not a RecSys Compression Lab model file');
  if (json.format === 'recsys-lab-model')
    fail('a click-through model file: open it in the click-through task, which scores rows');
  if (json.format !== SEQUENCE_MODEL_FORMAT)
    fail(
      `format is "${String(json.format)}", expected "${SEQUENCE_MODEL_FORMAT}": not a RecSys Compression Lab sequence model file`,
    );
  const version = json.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    fail(`version must be a whole number from 1, got ${JSON.stringify(version)}`);
  if (version > SEQUENCE_MODEL_VERSION)
    fail(
      `written by a newer lab (format version ${version}); this lab reads version ${SEQUENCE_MODEL_VERSION}`,
    );
  const a = checkArchitecture(json.architecture);
  const ds = obj(json.dataset, 'dataset');
  const numItems = a.cuts[a.cuts.length - 1];
  if (!Array.isArray(ds.itemTokens) || ds.itemTokens.length !== numItems)
    fail(
      `dataset.itemTokens must list the ${numItems} items of the architecture${
        Array.isArray(ds.itemTokens) ? `, it lists ${ds.itemTokens.length}` : ''
      }`,
    );
  const itemTokens = strings(ds.itemTokens, 'dataset.itemTokens');
  const seen = new Set<string>();
  for (const t of itemTokens) {
    if (seen.has(t)) fail(`dataset.itemTokens lists "${t}" twice`);
    seen.add(t);
  }
  const maxLen = wholeNumber(ds.maxLen, 'dataset.maxLen', 2);
  if (ds.paddingTokens !== undefined) strings(ds.paddingTokens, 'dataset.paddingTokens');
  // What a scorer allocates beside the tensors: the input rows and each conv's output.
  if ((numItems + 1) * a.dim > MAX_TENSOR_ELEMENTS || maxLen * a.dim > MAX_TENSOR_ELEMENTS)
    fail(
      `the architecture declares ${numItems} items and dataset.maxLen ${maxLen} of dim ${a.dim}: more than the ${MAX_TENSOR_ELEMENTS} elements allowed`,
    );
  checkDescription(json);
  const tensors = obj(json.tensors, 'tensors');
  // The sizes the architecture declares, checked before anything is looked at or decoded.
  const shapes = expectedShapes(a);
  let total = 0;
  for (const [name, shape] of shapes) {
    const size = shape.reduce((x, y) => x * y, 1);
    if (size > MAX_TENSOR_ELEMENTS)
      fail(
        `the architecture declares tensor ${name} of shape [${shape}], ${size} elements: more than the ${MAX_TENSOR_ELEMENTS} allowed`,
      );
    total += size;
    if (total > MAX_TOTAL_ELEMENTS)
      fail(`the architecture declares more than ${MAX_TOTAL_ELEMENTS} tensor elements in all`);
  }
  for (const [name, shape] of shapes) {
    const path = `tensor ${name}`;
    if (!Object.hasOwn(tensors, name)) fail(`${path} is missing`);
    const t = obj(tensors[name], path);
    if (t.dtype !== 'float32') fail(`${path} must be float32, got ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || t.shape.join() !== shape.join())
      fail(`${path} has shape [${String(t.shape)}], expected [${shape}]`);
    if (typeof t.data !== 'string') fail(`${path}: its data must be a base64 string`);
    const expected = base64Length(4 * shape.reduce((x, y) => x * y, 1));
    if (t.data.length !== expected)
      fail(
        `${path}: its data holds ${t.data.length} base64 characters, ${expected} expected for shape [${shape}] float32`,
      );
  }
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const t = tensors[name] as unknown as EncodedTensor;
    try {
      weights.set(name, decodeTensor({ dtype: 'float32', shape, data: t.data }) as Float32Array);
    } catch (err) {
      fail(`tensor ${name} ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const file = json as unknown as SequenceModelFile;
  return {
    file,
    weights,
    arch: {
      numItems,
      dim: a.dim,
      dilations: a.dilations,
      cuts: a.cuts,
      blockDims: a.blockDims,
      sharing: a.sharing,
    },
  };
}
