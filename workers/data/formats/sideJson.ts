/**
 * JSON files loaded beside a data file: a fixed split as 0-based raw row numbers per split, and
 * the field sizes of a reference-encoded file. Key spellings accepted (those of the anchors):
 * - split: `train` / `val` or `valid` or `validation` / `test` (the DLRM run's split file), or
 *   `train_indices` / `valid_indices` / `test_indices_in_loader_order` or `test_indices` (the PEP
 *   run's criteo10k_split_seed42.json);
 * - sizes: `field_dims` (one whole number per field).
 * A raw row number counts the data lines of the data files from 0, header lines excluded and
 * every other line (also a malformed one) included: for a headerless Criteo file it is the
 * 0-based line number.
 */
import type { ChunkSource } from './lineReader';
import { DatasetLoadError } from './types';

export interface RowIndexSplit {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
  /** The JSON keys the three lists came from, e.g. "train/val/test". */
  keys: string;
}

export interface SideJson {
  name: string;
  split: RowIndexSplit | null;
  fieldDims: Int32Array | null;
}

const SPLIT_KEYS: [train: string, validation: string[], test: string[]][] = [
  ['train', ['val', 'valid', 'validation'], ['test']],
  [
    'train_indices',
    ['valid_indices', 'val_indices'],
    ['test_indices_in_loader_order', 'test_indices'],
  ],
];

/** A .json name, or a first non-blank character '{' (no data format starts with one). */
export function isJsonFile(name: string, head: Uint8Array): boolean {
  if (name.toLowerCase().endsWith('.json')) return true;
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < head.length && (head[i] === 32 || head[i] === 9 || head[i] === 10 || head[i] === 13))
    i++;
  return head[i] === 0x7b;
}

/** Parses a side JSON; throws 'bad-split-file' when it holds neither a split nor field_dims. */
export function parseSideJson(name: string, text: string): SideJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DatasetLoadError(
      'bad-split-file',
      `${name} is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DatasetLoadError('bad-split-file', `${name}: expected a JSON object`);
  }
  const obj = value as Record<string, unknown>;
  let split: RowIndexSplit | null = null;
  for (const [trainKey, validKeys, testKeys] of SPLIT_KEYS) {
    const validKey = validKeys.find((k) => k in obj);
    const testKey = testKeys.find((k) => k in obj);
    if (!(trainKey in obj) || validKey === undefined || testKey === undefined) continue;
    split = {
      train: wholeNumbers(name, trainKey, obj[trainKey], 0),
      validation: wholeNumbers(name, validKey, obj[validKey], 0),
      test: wholeNumbers(name, testKey, obj[testKey], 0),
      keys: `${trainKey}/${validKey}/${testKey}`,
    };
    break;
  }
  const fieldDims =
    'field_dims' in obj ? wholeNumbers(name, 'field_dims', obj.field_dims, 1) : null;
  if (!split && !fieldDims) {
    throw new DatasetLoadError(
      'bad-split-file',
      `${name} holds neither a split (train, val or valid, test: lists of 0-based row numbers) nor field_dims (keys seen: ${Object.keys(obj).slice(0, 8).join(', ') || 'none'})`,
    );
  }
  if (split) splitCodeOfRow(name, split); // refuses a row listed twice
  return { name, split, fieldDims };
}

function wholeNumbers(name: string, key: string, v: unknown, min: number): Int32Array {
  if (!Array.isArray(v))
    throw new DatasetLoadError('bad-split-file', `${name}: "${key}" is not a list`);
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > 0x7fffffff) {
      throw new DatasetLoadError(
        'bad-split-file',
        `${name}: "${key}"[${i}] is ${JSON.stringify(x)}, not a whole number >= ${min}`,
      );
    }
    out[i] = x;
  }
  return out;
}

/**
 * Per raw row: 1 + the split that lists it (1 train, 2 validation, 3 test), 0 when none does.
 * Throws 'bad-split-file' when a row is listed twice.
 */
export function splitCodeOfRow(name: string, split: RowIndexSplit): Uint8Array {
  const lists = [split.train, split.validation, split.test];
  let max = -1;
  for (const list of lists) for (let i = 0; i < list.length; i++) if (list[i] > max) max = list[i];
  const code = new Uint8Array(max + 1);
  const names = ['train', 'validation', 'test'];
  lists.forEach((list, s) => {
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      if (code[r] !== 0) {
        throw new DatasetLoadError(
          'bad-split-file',
          `${name}: row ${r} is listed twice (in ${names[code[r] - 1]} and in ${names[s]})`,
        );
      }
      code[r] = s + 1;
    }
  });
  return code;
}

/** Reads a whole (small) side file; refuses one over `maxBytes`. */
export async function readSmallText(
  reader: ChunkSource,
  name: string,
  maxBytes = 512 * 1024 * 1024,
): Promise<{ text: string; bytes: number }> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > maxBytes) {
        await reader.cancel();
        throw new DatasetLoadError(
          'bad-split-file',
          `${name} is over ${maxBytes / 1024 / 1024} MiB: too large for a split or field_dims file`,
        );
      }
      chunks.push(value.slice()); // a chunk is only valid until the next read()
    }
  } finally {
    reader.releaseLock();
  }
  const decoder = new TextDecoder('utf-8');
  let text = '';
  for (const c of chunks) text += decoder.decode(c, { stream: true });
  text += decoder.decode();
  return { text, bytes };
}
