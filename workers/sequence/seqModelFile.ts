/**
 * The lab's sequence model file (NextItNet, plain or compressed by CpRec): one JSON document
 * that carries the item vocabulary, the architecture, the compression plan, every weight
 * (base64 float32, each shared kernel once, each block's table at its own width) and the
 * metrics, so that a scorer with no tfjs ranks next items for raw item sequences elsewhere
 * (docs/model-format.md, "Sequence models").
 *
 * tfjs-free: the worker writes it, the scorer, the command line and the tests read it.
 */
import type { EncodedTensor } from '../export/modelFormat';
import { decodeTensor } from '../export/tensorCodec';
import {
  kernelAssignment,
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

function positiveInts(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x) && x > 0))
    fail(`${what} must be a non-empty list of positive whole numbers`);
  return v as number[];
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

/** Parses and checks a sequence model file; a bad file is refused with a message saying why. */
export function readSequenceModelFile(text: string): DecodedSequenceModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(`not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof json !== 'object' || json === null) fail('not a JSON object');
  const file = json as SequenceModelFile;
  if ((file.format as string) === 'recsys-lab-model')
    fail('a click-through model file: open it in the click-through task, which scores rows');
  if (file.format !== SEQUENCE_MODEL_FORMAT)
    fail(`format is "${String(file.format)}", expected "${SEQUENCE_MODEL_FORMAT}"`);
  if (file.version !== SEQUENCE_MODEL_VERSION)
    fail(
      `version ${String(file.version)} is not supported (this lab reads version ${SEQUENCE_MODEL_VERSION})`,
    );
  const a = file.architecture;
  if (typeof a !== 'object' || a === null || a.model !== 'nextitnet')
    fail('architecture.model must be "nextitnet"');
  if (!Number.isInteger(a.dim) || a.dim < 1)
    fail('architecture.dim must be a positive whole number');
  positiveInts(a.dilations, 'architecture.dilations');
  if (a.dilations.length % 2 !== 0)
    fail('architecture.dilations must come in pairs (two convs per block)');
  positiveInts(a.cuts, 'architecture.cuts');
  positiveInts(a.blockDims, 'architecture.blockDims');
  if (a.blockDims.length !== a.cuts.length)
    fail('architecture.blockDims needs one dimension per block');
  for (let k = 1; k < a.cuts.length; k++)
    if (a.cuts[k] <= a.cuts[k - 1]) fail('architecture.cuts must increase');
  if (!SHARING_SCHEMES.includes(a.sharing))
    fail(`architecture.sharing "${String(a.sharing)}" is unknown`);
  const expectedKernels = kernelAssignment(a.dilations.length, a.sharing);
  if (!Array.isArray(a.kernelOf) || a.kernelOf.join() !== expectedKernels.join())
    fail(`architecture.kernelOf does not match the sharing scheme "${a.sharing}"`);
  const ds = file.dataset;
  const numItems = a.cuts[a.cuts.length - 1];
  if (
    typeof ds !== 'object' ||
    ds === null ||
    !Array.isArray(ds.itemTokens) ||
    ds.itemTokens.length !== numItems
  )
    fail(`dataset.itemTokens must list the ${numItems} items of the architecture`);
  if (!Number.isInteger(ds.maxLen) || ds.maxLen < 2)
    fail('dataset.maxLen must be a whole number of at least 2');
  if (typeof file.tensors !== 'object' || file.tensors === null) fail('tensors is missing');
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of expectedShapes(a)) {
    const t = file.tensors[name];
    if (!t) fail(`tensor ${name} is missing`);
    if (t.dtype !== 'float32') fail(`tensor ${name} must be float32`);
    if (!Array.isArray(t.shape) || t.shape.join() !== shape.join())
      fail(`tensor ${name} has shape [${String(t.shape)}], expected [${shape}]`);
    let values: Float32Array;
    try {
      values = decodeTensor(t) as Float32Array;
    } catch (err) {
      fail(`tensor ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    weights.set(name, values);
  }
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
