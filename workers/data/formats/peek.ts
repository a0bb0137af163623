/**
 * Reads the first bytes of a stream for format detection and gives back a stream that replays
 * them followed by the rest, so the file is still read only once.
 */
export interface PeekedStream {
  head: Uint8Array;
  /** True when the whole stream fit in `head`. */
  complete: boolean;
  stream: ReadableStream<Uint8Array>;
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
  const replayed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (replay < chunks.length) {
        controller.enqueue(chunks[replay]);
        chunks[replay++] = EMPTY; // let the peeked chunk be collected once consumed
        return;
      }
      if (complete) {
        controller.close();
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
  return { head, complete, stream: replayed };
}

const EMPTY = new Uint8Array(0);
