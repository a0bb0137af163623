/**
 * TokenTable for tokens given as byte ranges (the delimited CTR parsers read undecoded bytes):
 * raw token -> provisional id (0, 1, 2... in order of first appearance), with no string and no
 * allocation per token while streaming. Open addressing over one Int32Array of 3-int slots: the
 * id, then the token itself packed into two ints when it is at most 8 bytes (as Criteo's hashed
 * values are; the words are compared directly, and the hash is recomputed from them when the
 * table grows), or else its hash, compared before the bytes in the pool. A lookup usually costs
 * one cache miss, and the table costs 12 bytes per slot. Strings are built on demand, only for
 * the ids asked for (the vocabulary needs the kept values, not the millions of rare ones).
 *
 * A token's identity is its decoded text, as when the parsers read decoded strings: valid UTF-8
 * (and every Latin-1 byte string) decodes one-to-one, and a token with invalid UTF-8 is interned
 * under the UTF-8 of its decoded text (U+FFFD for each bad sequence), so two byte strings that
 * decode alike share one id.
 */
import { FNV_OFFSET, FNV_PRIME } from './tokenTable';

const EMPTY = -1;
/** Ints per slot: id * 2 + (1 when the token is packed inline), then packed bytes 0-3 and 4-7
 * (inline) or the hash and 0 (longer tokens). */
const SLOT = 3;

export class ByteTokenTable {
  private slots: Int32Array;
  private mask: number;
  /** Bytes of all tokens, back to back; token id spans pool[starts[id], starts[id + 1]). */
  private pool: Uint8Array;
  private poolLength = 0;
  private starts: Int32Array;
  private count = 0;
  private readonly utf8: boolean;
  private readonly decoder: TextDecoder;
  private strict: TextDecoder | null = null;
  private encoder: TextEncoder | null = null;

  constructor(encoding = 'utf-8', initialSlots = 1024) {
    let size = 16;
    while (size < initialSlots * 2) size <<= 1;
    this.slots = new Int32Array(SLOT * size).fill(EMPTY);
    this.mask = size - 1;
    this.pool = new Uint8Array(Math.max(64, initialSlots * 8));
    this.starts = new Int32Array(Math.max(16, initialSlots) + 1);
    // ignoreBOM: a token that starts with U+FEFF keeps it (the stream's BOM is skipped before).
    this.decoder = new TextDecoder(encoding, { ignoreBOM: true });
    this.utf8 = this.decoder.encoding === 'utf-8';
  }

  get size(): number {
    return this.count;
  }

  /** Provisional id of bytes[start, end), inserting it when new. */
  intern(bytes: Uint8Array, start: number, end: number): number {
    const len = end - start;
    // Pack tokens of 0..8 non-zero bytes into two ints; zero padding cannot be confused with a
    // byte (lines holding NUL are rejected before parsing), so equal words mean equal tokens,
    // and the words are all the hash needs (no pass over the bytes with a serial hash).
    let w0 = 0;
    let w1 = 0;
    let inline = 0;
    let h: number;
    if (len <= 8) {
      inline = 1;
      const mid = len < 4 ? len : 4;
      for (let k = 0; k < mid; k++) w0 |= bytes[start + k] << (8 * k);
      for (let k = 4; k < len; k++) w1 |= bytes[start + k] << (8 * (k - 4));
      h = wordsHash(w0, w1);
    } else {
      h = FNV_OFFSET;
      for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], FNV_PRIME);
      w0 = h;
    }
    const slots = this.slots;
    const mask = this.mask;
    if (mask < 0) throw new Error('ByteTokenTable: intern() after freeIndex()');
    let s = h & mask;
    for (;;) {
      const at = SLOT * s;
      const tag = slots[at];
      if (tag === EMPTY) break;
      if (slots[at + 1] === w0 && slots[at + 2] === w1 && (tag & 1) === inline) {
        if (inline === 1 || this.poolEquals(tag >> 1, bytes, start, len)) return tag >> 1;
      }
      s = (s + 1) & mask;
    }
    if (this.utf8 && !isAscii(bytes, start, end) && !this.isValidUtf8(bytes, start, end)) {
      // Intern the decoded text's UTF-8 instead, so that it shares an id with equal text.
      const canonical = (this.encoder ??= new TextEncoder()).encode(
        this.decoder.decode(bytes.subarray(start, end)),
      );
      return this.intern(canonical, 0, canonical.length);
    }
    return this.insertAt(s, bytes, start, end, inline, w0, w1);
  }

  /**
   * Drops the hash index (most of the table's memory) once no more tokens will be interned;
   * `token()` still works, `intern()` throws.
   */
  freeIndex(): void {
    this.slots = new Int32Array(0);
    this.mask = -1;
  }

  /** The token of a provisional id as text. */
  token(id: number): string {
    const from = this.starts[id];
    const to = this.starts[id + 1];
    const pool = this.pool;
    if (to - from <= 16 && isAscii(pool, from, to)) {
      let s = '';
      for (let i = from; i < to; i++) s += String.fromCharCode(pool[i]);
      return s;
    }
    return this.decoder.decode(pool.subarray(from, to));
  }

  private isValidUtf8(bytes: Uint8Array, start: number, end: number): boolean {
    this.strict ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    try {
      this.strict.decode(bytes.subarray(start, end));
      return true;
    } catch {
      return false;
    }
  }

  private poolEquals(id: number, bytes: Uint8Array, start: number, len: number): boolean {
    const from = this.starts[id];
    if (this.starts[id + 1] - from !== len) return false;
    const pool = this.pool;
    for (let k = 0; k < len; k++) if (pool[from + k] !== bytes[start + k]) return false;
    return true;
  }

  private insertAt(
    slot: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    inline: number,
    w0: number,
    w1: number,
  ): number {
    const id = this.count;
    const len = end - start;
    if (this.poolLength + len > this.pool.length) {
      const next = new Uint8Array(Math.max(this.pool.length * 2, this.poolLength + len));
      next.set(this.pool.subarray(0, this.poolLength));
      this.pool = next;
    }
    if (id + 2 > this.starts.length) {
      const next = new Int32Array(this.starts.length * 2);
      next.set(this.starts);
      this.starts = next;
    }
    const pool = this.pool;
    let p = this.poolLength;
    for (let i = start; i < end; i++) pool[p++] = bytes[i];
    this.poolLength = p;
    this.starts[id + 1] = p;
    this.count = id + 1;
    const at = SLOT * slot;
    const slots = this.slots;
    slots[at] = id * 2 + inline;
    slots[at + 1] = w0;
    slots[at + 2] = w1;
    // Keep the load factor under 1/2 so that probe chains stay short.
    if (this.count * 2 > this.mask + 1) this.rehash();
    return id;
  }

  private rehash(): void {
    const size = (this.mask + 1) * 2;
    const slots = new Int32Array(SLOT * size).fill(EMPTY);
    const mask = size - 1;
    const old = this.slots;
    for (let from = 0; from < old.length; from += SLOT) {
      const tag = old[from];
      if (tag === EMPTY) continue;
      const h = (tag & 1) === 1 ? wordsHash(old[from + 1], old[from + 2]) : old[from + 1];
      let t = h & mask;
      while (slots[SLOT * t] !== EMPTY) t = (t + 1) & mask;
      const to = SLOT * t;
      slots[to] = tag;
      slots[to + 1] = old[from + 1];
      slots[to + 2] = old[from + 2];
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** murmur3's finaliser over two words: the hash of a token packed inline. */
function wordsHash(w0: number, w1: number): number {
  let h = Math.imul(w0, 0xcc9e2d51) ^ w1;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] >= 0x80) return false;
  return true;
}
