/**
 * The engine in Node: the same tfjs code as the lab's worker, on the wasm backend (cpu when wasm
 * cannot start), and data files read from paths with the lab's own loader.
 */
import { openAsBlob } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DATASET_FORMATS, type DatasetFormatId } from '../workers/datasetProtocol';
import {
  DatasetLoadError,
  loadDataset,
  type InputFile,
  type LoadOptions,
  type LoadResult,
} from '../workers/data/loadDataset';
import { UsageError } from './args';

export type NodeBackend = 'wasm' | 'cpu';

/** Starts `preferred` (wasm by default); falls back to cpu with a note when wasm cannot start. */
export async function startBackend(
  preferred: NodeBackend,
): Promise<{ backend: NodeBackend; note: string | null }> {
  // tfjs's "install the node backend" hint is not for the lab: it runs the browser's backends.
  tf.env().set('IS_NODE', true);
  tf.env().set('PROD', true);
  if (preferred === 'wasm') {
    try {
      if (await tf.setBackend('wasm')) return { backend: 'wasm', note: null };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await tf.setBackend('cpu');
      return { backend: 'cpu', note: `wasm did not start (${reason}); running on cpu` };
    }
    await tf.setBackend('cpu');
    return { backend: 'cpu', note: 'wasm did not start; running on cpu' };
  }
  await tf.setBackend('cpu');
  return { backend: 'cpu', note: null };
}

export function formatOf(text: string | undefined): DatasetFormatId | undefined {
  if (text === undefined || text === 'auto') return undefined;
  if (!(DATASET_FORMATS as readonly string[]).includes(text)) {
    throw new UsageError(
      `--format: unknown format "${text}" (one of auto, ${DATASET_FORMATS.join(', ')})`,
    );
  }
  return text as DatasetFormatId;
}

/** Opens each path as a stream for the loader; a missing or unreadable file is a usage error. */
export async function inputFiles(paths: string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const path of paths) {
    try {
      await access(path, constants.R_OK);
      const info = await stat(path);
      if (!info.isFile()) throw new Error('not a regular file');
      const blob = await openAsBlob(path);
      out.push({
        name: basename(path),
        stream: blob.stream() as ReadableStream<Uint8Array>,
        size: info.size,
      });
    } catch (err) {
      const reason = err instanceof Error ? err.message.replace(/^[A-Z]+: /, '') : String(err);
      throw new UsageError(`cannot read data file ${path}: ${reason}`);
    }
  }
  return out;
}

/** Loads data files with the lab's loader; whole-input failures are usage errors. */
export async function loadFiles(
  paths: string[],
  options: LoadOptions,
  onProgress: (message: string) => void,
): Promise<LoadResult> {
  const inputs = await inputFiles(paths);
  let last = 0;
  try {
    return await loadDataset(inputs, options, (p) => {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      const pct = p.totalBytes ? ` ${((100 * p.bytesRead) / p.totalBytes).toFixed(0)}%` : '';
      onProgress(`loading ${p.file}: ${p.phase}${pct}, ${p.rowsParsed} rows`);
    });
  } catch (err) {
    if (err instanceof DatasetLoadError)
      throw new UsageError(`${paths.join(', ')}: ${err.message}`);
    throw err;
  }
}
