/**
 * Streaming line splitter: decodes a byte stream chunk by chunk (TextDecoder with stream: true,
 * so multi-byte characters split across chunks decode correctly) and hands each line to a
 * callback as a range of a string, without building a string per line when the line lies inside
 * one decoded chunk. Handles LF and CRLF (also a CR/LF pair split across chunks) and a missing
 * final newline. A line longer than `maxLineLength` is never accumulated: its bytes are skipped
 * up to the next newline and it is reported once as too long.
 */
import { throwIfAborted } from './types';

export interface LineReaderOptions {
  /** 'utf-8' (default) or 'iso-8859-1' (MovieLens u.item, movies.dat). */
  encoding?: string;
  /** Lines longer than this (in UTF-16 code units) are reported, not kept. Default 1 MiB. */
  maxLineLength?: number;
  signal?: AbortSignal;
  /** Called after each chunk with the bytes of that chunk. */
  onBytes?: (bytes: number) => void;
  /** Lines the reader itself rejects (over the cap, or holding NUL bytes: binary garbage). */
  onReject?: (reason: 'line-too-long' | 'binary-content', lineNo: number) => void;
}

/**
 * Receives line `lineNo` (1-based) as text[start, end) without its line ending. Return false to
 * stop reading (e.g. the first N rows are in); the rest of the stream is cancelled.
 */
export type LineHandler = (
  text: string,
  start: number,
  end: number,
  lineNo: number,
) => boolean | void;

export interface LineReaderResult {
  /** All lines seen, including those passed to onReject instead of the handler. */
  lines: number;
  bytes: number;
  stoppedEarly: boolean;
}

export const DEFAULT_MAX_LINE_LENGTH = 1 << 20;

/**
 * Where the readers pull chunks from: a stream's reader, or a peeked stream's replay (whose
 * chunks are only valid until the next read(): the readers copy what they keep).
 */
export interface ChunkSource {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

function sourceOf(input: ReadableStream<Uint8Array> | ChunkSource): ChunkSource {
  return input instanceof ReadableStream ? input.getReader() : input;
}

export async function readLines(
  stream: ReadableStream<Uint8Array> | ChunkSource,
  onLine: LineHandler,
  options: LineReaderOptions = {},
): Promise<LineReaderResult> {
  const maxLen = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const decoder = new TextDecoder(options.encoding ?? 'utf-8');
  const reader = sourceOf(stream);
  const result: LineReaderResult = { lines: 0, bytes: 0, stoppedEarly: false };
  // The unfinished last line of the previous chunk(s).
  let carry = '';
  // True while skipping the rest of a line that went over the cap.
  let skipping = false;
  let stop = false;

  const emit = (text: string, start: number, end: number, hasNul: boolean): void => {
    result.lines++;
    if (hasNul) {
      options.onReject?.('binary-content', result.lines);
      return;
    }
    if (end > start && text.charCodeAt(end - 1) === 13) end--; // CR of CRLF
    if (onLine(text, start, end, result.lines) === false) stop = true;
  };
  const tooLong = (): void => {
    result.lines++;
    options.onReject?.('line-too-long', result.lines);
  };
  // A NUL in the unfinished line kept in `carry`.
  let carryHasNul = false;

  const consume = (text: string): void => {
    let pos = 0;
    // One search per chunk (not per line) keeps the NUL check linear.
    let nul = text.indexOf('\0');
    while (!stop) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break;
      while (nul >= 0 && nul < pos) nul = text.indexOf('\0', pos);
      const hasNul = nul >= 0 && nul < nl;
      if (skipping) {
        skipping = false;
      } else if (carry.length > 0) {
        if (carry.length + (nl - pos) > maxLen + 1) tooLong();
        else {
          const line = carry + text.substring(pos, nl);
          emit(line, 0, line.length, hasNul || carryHasNul);
        }
        carry = '';
        carryHasNul = false;
      } else if (nl - pos > maxLen + 1) {
        tooLong();
      } else {
        emit(text, pos, nl, hasNul);
      }
      pos = nl + 1;
    }
    if (stop || skipping || pos >= text.length) return;
    // Unfinished line: keep it unless it is already over the cap (+1 leaves room for a CR).
    if (carry.length + (text.length - pos) > maxLen + 1) {
      tooLong();
      carry = '';
      carryHasNul = false;
      skipping = true;
    } else {
      if (nul >= 0 && nul < pos) nul = text.indexOf('\0', pos);
      if (nul >= pos) carryHasNul = true;
      carry = carry.length > 0 ? carry + text.substring(pos) : text.substring(pos);
    }
  };

  return pumpChunks(
    reader,
    options,
    result,
    (chunk) => consume(decoder.decode(chunk, { stream: true })),
    () => stop,
    () => {
      consume(decoder.decode());
      // A last line without a final newline.
      if (!stop && !skipping && carry.length > 0) {
        const line = carry;
        carry = '';
        emit(line, 0, line.length, carryHasNul);
      }
    },
  );
}

/**
 * The read loop both readers share: feeds each chunk to `onChunk`, counts bytes, honours the
 * abort signal, cancels the rest of the stream once `stopped()`, and calls `onEnd` after the
 * last chunk. The reader's lock is released whatever happens.
 */
async function pumpChunks(
  reader: ChunkSource,
  options: LineReaderOptions,
  result: LineReaderResult,
  onChunk: (chunk: Uint8Array) => void,
  stopped: () => boolean,
  onEnd: () => void,
): Promise<LineReaderResult> {
  try {
    for (;;) {
      throwIfAborted(options.signal);
      const { done, value } = await reader.read();
      if (done) break;
      result.bytes += value.byteLength;
      onChunk(value);
      options.onBytes?.(value.byteLength);
      if (stopped()) {
        result.stoppedEarly = true;
        await reader.cancel();
        return result;
      }
    }
    onEnd();
    return result;
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  } finally {
    reader.releaseLock();
  }
}

/**
 * Receives line `lineNo` (1-based) as bytes[start, end) without its line ending. `bytes` is
 * only valid during the call (it is the stream's chunk or a reused buffer).
 */
export type ByteLineHandler = (
  bytes: Uint8Array,
  start: number,
  end: number,
  lineNo: number,
) => boolean | void;

/**
 * readLines for formats whose delimiters are ASCII (delimited CTR text): the same lines, line
 * numbers, rejections and caps, but each line is handed over as a byte range of the chunk it
 * lies in, never decoded (UTF-8 and Latin-1 never use bytes under 0x80 inside a multi-byte
 * character, so '\n', '\r', delimiters and quotes are found in the bytes directly). A line that
 * spans chunks is copied into one reused buffer. A UTF-8 BOM at the start is skipped, as
 * TextDecoder does; `maxLineLength` counts UTF-16 code units, as readLines does.
 */
export async function readByteLines(
  stream: ReadableStream<Uint8Array> | ChunkSource,
  onLine: ByteLineHandler,
  options: LineReaderOptions = {},
): Promise<LineReaderResult> {
  const maxLen = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const utf8 = (options.encoding ?? 'utf-8').toLowerCase().replace('_', '-') === 'utf-8';
  const reader = sourceOf(stream);
  const result: LineReaderResult = { lines: 0, bytes: 0, stoppedEarly: false };
  // The unfinished last line of the previous chunk(s), and its length in UTF-16 code units.
  let carry = new Uint8Array(4096);
  let carryLen = 0;
  let carryUnits = 0;
  let carryHasNul = false;
  let skipping = false;
  let stop = false;
  // Bytes of a possible BOM held back until 3 bytes are known.
  let bomPending = utf8;
  let held: Uint8Array | null = null;

  const emit = (bytes: Uint8Array, start: number, end: number, hasNul: boolean): void => {
    result.lines++;
    if (hasNul) {
      options.onReject?.('binary-content', result.lines);
      return;
    }
    if (end > start && bytes[end - 1] === 13) end--; // CR of CRLF
    if (onLine(bytes, start, end, result.lines) === false) stop = true;
  };
  const tooLong = (): void => {
    result.lines++;
    options.onReject?.('line-too-long', result.lines);
  };
  /** UTF-16 code units of bytes[start, end) once decoded (exact for valid text). */
  const units = (bytes: Uint8Array, start: number, end: number): number => {
    if (!utf8) return end - start;
    let n = 0;
    for (let i = start; i < end; i++) {
      const b = bytes[i];
      if ((b & 0xc0) !== 0x80) n += b >= 0xf0 ? 2 : 1;
    }
    return n;
  };
  const appendCarry = (bytes: Uint8Array, start: number, end: number): void => {
    const need = carryLen + (end - start);
    if (need > carry.length) {
      const next = new Uint8Array(Math.max(need, carry.length * 2));
      next.set(carry.subarray(0, carryLen));
      carry = next;
    }
    carry.set(bytes.subarray(start, end), carryLen);
    carryLen = need;
  };
  const cap = maxLen + 1; // +1 leaves room for a CR

  const consume = (bytes: Uint8Array): void => {
    const n = bytes.length;
    let pos = 0;
    // One search per chunk (not per line) keeps the NUL check linear.
    let nul = bytes.indexOf(0);
    while (!stop) {
      const nl = bytes.indexOf(10, pos);
      if (nl < 0) break;
      while (nul >= 0 && nul < pos) nul = bytes.indexOf(0, pos);
      const hasNul = nul >= 0 && nul < nl;
      if (skipping) {
        skipping = false;
      } else if (carryLen > 0) {
        if (carryLen + (nl - pos) > cap && carryUnits + units(bytes, pos, nl) > cap) tooLong();
        else {
          appendCarry(bytes, pos, nl);
          emit(carry, 0, carryLen, hasNul || carryHasNul);
        }
        carryLen = 0;
        carryUnits = 0;
        carryHasNul = false;
      } else if (nl - pos > cap && units(bytes, pos, nl) > cap) {
        tooLong();
      } else {
        emit(bytes, pos, nl, hasNul);
      }
      pos = nl + 1;
    }
    if (stop || skipping || pos >= n) return;
    // Unfinished line: keep it unless it is already over the cap.
    const tailUnits = units(bytes, pos, n);
    if (carryUnits + tailUnits > cap) {
      tooLong();
      carryLen = 0;
      carryUnits = 0;
      carryHasNul = false;
      skipping = true;
    } else {
      if (nul >= 0 && nul < pos) nul = bytes.indexOf(0, pos);
      if (nul >= pos) carryHasNul = true;
      appendCarry(bytes, pos, n);
      carryUnits += tailUnits;
    }
  };

  /** Strips a UTF-8 BOM at the very start, even when it arrives split over chunks. */
  const feed = (value: Uint8Array): void => {
    if (!bomPending) {
      consume(value);
      return;
    }
    let head = value;
    if (held) {
      head = new Uint8Array(held.length + value.length);
      head.set(held);
      head.set(value, held.length);
      held = null;
    }
    const bom = [0xef, 0xbb, 0xbf];
    let k = 0;
    while (k < 3 && k < head.length && head[k] === bom[k]) k++;
    if (k === head.length && k < 3) {
      held = head.slice(); // all of it may still be a BOM (a copy: the chunk is not ours to keep)
      return;
    }
    bomPending = false;
    consume(k === 3 ? head.subarray(3) : head);
  };

  return pumpChunks(
    reader,
    options,
    result,
    (chunk) => {
      if (chunk.byteLength > 0) feed(chunk);
    },
    () => stop,
    () => {
      if (held) {
        bomPending = false;
        consume(held);
      }
      // A last line without a final newline.
      if (!stop && !skipping && carryLen > 0) {
        const len = carryLen;
        carryLen = 0;
        emit(carry, 0, len, carryHasNul);
      }
    },
  );
}
