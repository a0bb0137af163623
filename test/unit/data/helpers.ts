/** Test helpers: where the real slices are, and streams built from bytes in chosen chunk sizes. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CtrDataset } from '../../../workers/data/dataset';
import type { InputFile, LoadResult } from '../../../workers/data/loadDataset';

/** RECSYS_DATA_DIR, or ../shared/data relative to the project root. */
export const DATA_DIR = resolve(
  process.env.RECSYS_DATA_DIR ?? resolve(__dirname, '../../../../shared/data'),
);
export const HAVE_DATA = existsSync(resolve(DATA_DIR, 'criteo/criteo_dac_train_first10k.txt'));
if (!HAVE_DATA) {
  console.warn(
    `[data tests] real dataset slices not found in ${DATA_DIR}: tests that need them are skipped (set RECSYS_DATA_DIR)`,
  );
}

export function readData(path: string): Uint8Array {
  return new Uint8Array(readFileSync(resolve(DATA_DIR, path)));
}

/** A real slice's file as UTF-8 text. */
export function readText(path: string): string {
  return readFileSync(resolve(DATA_DIR, path), 'utf8');
}

/** The CTR dataset of a load result (fails the test on a sequence result). */
export function ctr(r: LoadResult): CtrDataset {
  if (r.kind !== 'ctr') throw new Error('expected a CTR result');
  return r.dataset;
}

/**
 * A stream that delivers `bytes` in chunks whose sizes cycle through `sizes` (so boundaries fall
 * inside lines, CRLF pairs and multi-byte characters).
 */
export function streamOf(
  bytes: Uint8Array,
  sizes: number[] = [bytes.length || 1],
): ReadableStream<Uint8Array> {
  let off = 0;
  let k = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (off >= bytes.length) {
        controller.close();
        return;
      }
      const n = Math.max(1, sizes[k++ % sizes.length]);
      // Copies, as a real stream would hand out fresh buffers.
      controller.enqueue(bytes.slice(off, off + n));
      off += n;
    },
  });
}

/** As streamOf, but a byte stream (type 'bytes'), as File.stream() is in browsers. */
export function byteStreamOf(
  bytes: Uint8Array,
  sizes: number[] = [bytes.length || 1],
): ReadableStream<Uint8Array> {
  let off = 0;
  let k = 0;
  return new ReadableStream({
    type: 'bytes',
    pull(controller) {
      if (off >= bytes.length) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const n = Math.max(1, sizes[k++ % sizes.length]);
      controller.enqueue(bytes.slice(off, off + n));
      off += n;
    },
  });
}

export function fileOf(name: string, content: string | Uint8Array, sizes?: number[]): InputFile {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  return { name, stream: streamOf(bytes, sizes), size: bytes.length };
}

export function latin1Bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}
