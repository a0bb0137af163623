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

export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: LineHandler,
  options: LineReaderOptions = {},
): Promise<LineReaderResult> {
  const maxLen = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const decoder = new TextDecoder(options.encoding ?? 'utf-8');
  const reader = stream.getReader();
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

  try {
    for (;;) {
      throwIfAborted(options.signal);
      const { done, value } = await reader.read();
      if (done) break;
      result.bytes += value.byteLength;
      consume(decoder.decode(value, { stream: true }));
      options.onBytes?.(value.byteLength);
      if (stop) {
        result.stoppedEarly = true;
        await reader.cancel();
        return result;
      }
    }
    consume(decoder.decode());
    // A last line without a final newline.
    if (!stop && !skipping && carry.length > 0) {
      const line = carry;
      carry = '';
      emit(line, 0, line.length, carryHasNul);
    }
    return result;
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  } finally {
    reader.releaseLock();
  }
}
