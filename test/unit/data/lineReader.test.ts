/** The streaming line splitter: chunk boundaries anywhere, CRLF, UTF-8, caps, NUL bytes. */
import { describe, expect, it } from 'vitest';
import { readLines } from '../../../workers/data/formats/lineReader';
import { streamOf } from './helpers';

async function collect(bytes: Uint8Array, sizes: number[], maxLineLength?: number) {
  const lines: string[] = [];
  const rejected: [string, number][] = [];
  const result = await readLines(
    streamOf(bytes, sizes),
    (t, s, e) => void lines.push(t.substring(s, e)),
    {
      maxLineLength,
      onReject: (reason, n) => rejected.push([reason, n]),
    },
  );
  return { lines, rejected, result };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('readLines', () => {
  const sample = 'a\tb\r\nπ😀é,x\r\n\r\nlast line without newline €';
  const expected = ['a\tb', 'π😀é,x', '', 'last line without newline €'];

  it.each([[[1]], [[2]], [[3]], [[1, 2, 5]], [[1000]]])(
    'chunk sizes %j give the same lines',
    async (sizes) => {
      const { lines, result } = await collect(enc(sample), sizes);
      expect(lines).toEqual(expected);
      expect(result.lines).toBe(4);
      expect(result.bytes).toBe(enc(sample).length);
    },
  );

  it('rejects an over-long line without keeping it, and goes on', async () => {
    const long = 'x'.repeat(5000);
    for (const sizes of [[7], [100], [100_000]]) {
      const { lines, rejected } = await collect(enc(`ok1\n${long}\nok2\n${long}`), sizes, 1000);
      expect(lines).toEqual(['ok1', 'ok2']);
      expect(rejected).toEqual([
        ['line-too-long', 2],
        ['line-too-long', 4],
      ]);
    }
  });

  it('a 50 MB single line is rejected as too long with bounded memory', async () => {
    const chunk = new Uint8Array(1 << 20).fill(65); // 1 MiB of 'A'
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 50) {
          c.enqueue(enc('\n1\t2\n'));
          c.close();
        } else {
          c.enqueue(chunk);
          sent++;
        }
      },
    });
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const lines: string[] = [];
    const rejected: string[] = [];
    await readLines(stream, (t, s, e) => void lines.push(t.substring(s, e)), {
      onBytes: () => void (peak = Math.max(peak, process.memoryUsage().heapUsed)),
      onReject: (r) => rejected.push(r),
    });
    expect(rejected).toEqual(['line-too-long']);
    expect(lines).toEqual(['1\t2']);
    // Never more than the 1 MiB cap plus a chunk or two is held (a kept line would be 50+ MB).
    expect(peak - before).toBeLessThan(20 * (1 << 20));
  });

  it('lines with NUL bytes are rejected as binary content', async () => {
    const { lines, rejected } = await collect(enc('a\nb\u0000c\nd'), [1]);
    expect(lines).toEqual(['a', 'd']);
    expect(rejected).toEqual([['binary-content', 2]]);
  });

  it('Latin-1 decoding', async () => {
    const bytes = Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a]); // "café\n" in ISO-8859-1
    const lines: string[] = [];
    await readLines(streamOf(bytes, [1]), (t, s, e) => void lines.push(t.substring(s, e)), {
      encoding: 'iso-8859-1',
    });
    expect(lines).toEqual(['café']);
  });

  it('stops early and cancels the stream when the handler says so', async () => {
    let cancelled = false;
    let n = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(enc(`${n++}\n`)),
      cancel: () => void (cancelled = true),
    });
    const res = await readLines(stream, (_t, _s, _e, lineNo) => lineNo < 10);
    expect(res.stoppedEarly).toBe(true);
    expect(res.lines).toBe(10);
    expect(cancelled).toBe(true);
  });

  it('an aborted signal stops reading with an AbortError', async () => {
    const ctrl = new AbortController();
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(enc('1\t2\n')) });
    let seen = 0;
    const p = readLines(stream, () => void (++seen === 100 && ctrl.abort()), {
      signal: ctrl.signal,
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});
