/**
 * Reads the first bytes of a stream for format detection and gives back a chunk source that
 * replays them followed by the rest, so the file is still read only once. The source hands out
 * the underlying reader's chunks directly: no second stream layered on the first, whose
 * per-chunk promise machinery cost about 6% of a 200 MB load in Chromium.
 *
 * A chunk is only valid until the next read(): the source then frees its memory at once
 * (ArrayBuffer.prototype.transfer(0)) when the chunk spans its whole buffer, as File.stream()'s
 * do. Without that, a fast parse left the collector little reason to run, and the consumed 64 KiB
 * chunks of a 200 MB file piled up to several hundred MB at the peak. (A BYOB reader into
 * recycled buffers would avoid the garbage altogether, but in Chromium's engine worker its reads
 * of a File's stream intermittently never resolved.)
 */
import type { ChunkSource } from './lineReader';

export interface PeekedStream {
  head: Uint8Array;
  /** True when the whole stream fit in `head`. */
  complete: boolean;
  /** The whole stream, from its first byte; a chunk is valid until the next read(). */
  source: ChunkSource;
}

export async function peekStream(
  stream: ReadableStream<Uint8Array>,
  minBytes = 64 * 1024,
): Promise<PeekedStream> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let complete = false;
  while (total < minBytes) {
    const { done, value } = await reader.read();
    if (done) {
      complete = true;
      break;
    }
    if (value.byteLength === 0) continue;
    chunks.push(value);
    total += value.byteLength;
  }
  const head = new Uint8Array(Math.min(total, minBytes));
  let off = 0;
  for (const c of chunks) {
    if (off >= head.length) break;
    const n = Math.min(c.byteLength, head.length - off);
    head.set(c.subarray(0, n), off);
    off += n;
  }
  let replay = 0;
  // The chunk handed out last: the consumer is done with it at the next read().
  let last: Uint8Array | null = null;
  const handOut = (
    result: ReadableStreamReadResult<Uint8Array>,
  ): ReadableStreamReadResult<Uint8Array> => {
    last = result.done ? null : result.value;
    return result;
  };
  const source: ChunkSource = {
    read: () => {
      if (last) release(last);
      last = null;
      if (replay < chunks.length) {
        const value = chunks[replay];
        chunks[replay++] = EMPTY;
        return Promise.resolve(handOut({ done: false, value }));
      }
      if (complete) return Promise.resolve({ done: true, value: undefined });
      return reader.read().then(handOut);
    },
    cancel: (reason?: unknown) => {
      chunks.length = 0;
      return complete ? Promise.resolve() : reader.cancel(reason);
    },
    releaseLock: () => reader.releaseLock(),
  };
  return { head, complete, source };
}

const EMPTY = new Uint8Array(0);

/**
 * Frees a consumed chunk's memory now rather than at the next collection, when the chunk is its
 * whole buffer (a view into a larger or shared buffer is left alone).
 */
function release(chunk: Uint8Array): void {
  const buffer = chunk.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (
    typeof buffer.transfer === 'function' &&
    chunk.byteOffset === 0 &&
    chunk.byteLength === buffer.byteLength &&
    buffer.byteLength > 0
  ) {
    buffer.transfer(0);
  }
}
