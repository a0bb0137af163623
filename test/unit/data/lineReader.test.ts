/**
 * The streaming line splitters, on decoded text (readLines) and on bytes (readByteLines): chunk
 * boundaries anywhere, CRLF, UTF-8, caps, NUL bytes - both must see the same lines.
 */
import { describe, expect, it } from 'vitest';
import {
  readByteLines,
  readLines,
  type LineReaderOptions,
  type LineReaderResult,
} from '../../../workers/data/formats/lineReader';
import { peekStream } from '../../../workers/data/formats/peek';
import { loadDataset } from '../../../workers/data/loadDataset';
import { byteStreamOf, fileOf, streamOf } from './helpers';

type LineSink = (line: string, lineNo: number) => boolean | void;

/** Either reader with lines handed over as strings. */
type Reader = (
  stream: ReadableStream<Uint8Array>,
  onLine: LineSink,
  options?: LineReaderOptions,
) => Promise<LineReaderResult>;

const textReader: Reader = (stream, onLine, options) =>
  readLines(stream, (t, s, e, n) => onLine(t.substring(s, e), n), options);

const byteReader: Reader = (stream, onLine, options) => {
  const decoder = new TextDecoder(options?.encoding ?? 'utf-8', { ignoreBOM: true });
  return readByteLines(
    stream,
    (b, s, e, n) => onLine(decoder.decode(b.subarray(s, e)), n),
    options,
  );
};

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe.each([
  ['readLines', textReader],
  ['readByteLines', byteReader],
])('%s', (_name, readLines: Reader) => {
  async function collect(bytes: Uint8Array, sizes: number[], maxLineLength?: number) {
    const lines: string[] = [];
    const rejected: [string, number][] = [];
    const result = await readLines(streamOf(bytes, sizes), (line) => void lines.push(line), {
      maxLineLength,
      onReject: (reason, n) => rejected.push([reason, n]),
    });
    return { lines, rejected, result };
  }

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
    await readLines(stream, (line) => void lines.push(line), {
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
    await readLines(streamOf(bytes, [1]), (line) => void lines.push(line), {
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
    const res = await readLines(stream, (_line, lineNo) => lineNo < 10);
    expect(res.stoppedEarly).toBe(true);
    expect(res.lines).toBe(10);
    expect(cancelled).toBe(true);
  });

  it('a UTF-8 byte order mark is skipped at the start only, also when split over chunks', async () => {
    const bom = [0xef, 0xbb, 0xbf];
    const bytes = Uint8Array.from([...bom, ...enc('a\n'), ...bom, ...enc('b')]);
    for (const sizes of [[1], [2], [4], [100]]) {
      const { lines } = await collect(bytes, sizes);
      expect(lines).toEqual(['a', '\uFEFFb']);
    }
    // The start of a BOM that is not one is kept as text.
    const { lines } = await collect(Uint8Array.from([0xef, 0xbb, 0x41, 0x0a]), [1]);
    expect(lines).toEqual(['\uFFFDA']);
    expect((await collect(Uint8Array.from([0xef]), [1])).lines).toEqual(['\uFFFD']);
  });

  it('the length cap counts UTF-16 code units, not bytes', async () => {
    // 'é' is 2 bytes and 1 code unit, '😀' 4 bytes and 2 code units.
    const line = 'é'.repeat(600) + '😀'.repeat(200); // 1,000 code units, 2,000 bytes
    for (const sizes of [[7], [1000], [10_000]]) {
      const { lines, rejected } = await collect(enc(`${line}\n${line}x\nend`), sizes, 999);
      expect(lines).toEqual([line, 'end']);
      expect(rejected).toEqual([['line-too-long', 2]]);
    }
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

describe('peekStream', () => {
  const data = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7919) & 0xff);

  async function drain(peeked: Awaited<ReturnType<typeof peekStream>>): Promise<Uint8Array> {
    const out: number[] = [];
    for (;;) {
      const { done, value } = await peeked.source.read();
      if (done) break;
      out.push(...value);
    }
    return Uint8Array.from(out);
  }

  it('gives the head, then the whole stream from its first byte (plain and byte streams)', async () => {
    for (const stream of [streamOf(data, [999]), byteStreamOf(data, [5000, 1, 70_000])]) {
      const peeked = await peekStream(stream, 4096);
      expect(peeked.head).toEqual(data.subarray(0, 4096));
      expect(peeked.complete).toBe(false);
      expect(await drain(peeked)).toEqual(data);
    }
  });

  it('a stream shorter than the peek is complete after it', async () => {
    const short = await peekStream(streamOf(data.subarray(0, 10), [3]), 4096);
    expect(short.complete).toBe(true);
    expect(short.head).toEqual(data.subarray(0, 10));
    expect(await drain(short)).toEqual(data.subarray(0, 10));
  });
});

describe('consumed chunks are freed at the next read (ArrayBuffer.prototype.transfer)', () => {
  type Transferable = ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  const proto = ArrayBuffer.prototype as Transferable;
  const native = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'transfer');
  /** Node 20 lacks transfer(): a stand-in that detaches the buffer, as browsers do. */
  function withTransfer<T>(run: () => Promise<T>): Promise<T> {
    if (!native) {
      Object.defineProperty(ArrayBuffer.prototype, 'transfer', {
        configurable: true,
        value(this: ArrayBuffer, length: number): ArrayBuffer {
          structuredClone(this, { transfer: [this] });
          return new ArrayBuffer(length);
        },
      });
    }
    return run().finally(() => {
      if (!native) delete proto.transfer;
    });
  }

  it('the previous chunk is detached once the next is read', async () => {
    const data = Uint8Array.from({ length: 10_000 }, (_, i) => i & 0xff);
    await withTransfer(async () => {
      const peeked = await peekStream(streamOf(data, [3000]), 1000);
      const first = await peeked.source.read();
      expect(first.value?.byteLength).toBe(3000);
      await peeked.source.read();
      expect(first.value?.buffer.byteLength).toBe(0); // freed
    });
  });

  it('loads give the same rows when every consumed chunk is freed (tiny chunks, BOM, JSON)', async () => {
    const rows = Array.from({ length: 300 }, (_, r) =>
      [
        r % 2,
        ...Array.from({ length: 13 }, (_, k) => (r * k) % 7),
        ...Array(26).fill(`c${r % 9}`),
      ].join('\t'),
    );
    const text = `\uFEFF${rows.join('\r\n')}\n`;
    const json = JSON.stringify({ train: [...Array(200).keys()], val: [200], test: [201, 202] });
    const load = () =>
      loadDataset([fileOf('t.txt', text, [1, 2, 5, 64]), fileOf('s.json', json, [7])], {
        minCount: 1,
      });
    const plain = await load();
    const freed = await withTransfer(load);
    expect(freed.report.rowsKept).toBe(203);
    expect(freed.report.rowsRejected).toBe(0);
    expect(freed.report.fields).toEqual(plain.report.fields);
    expect(freed.report.split).toEqual(plain.report.split);
    if (freed.kind === 'ctr' && plain.kind === 'ctr') {
      expect(freed.dataset.ids).toEqual(plain.dataset.ids);
      expect(freed.dataset.labels).toEqual(plain.dataset.labels);
    }
  });
});
