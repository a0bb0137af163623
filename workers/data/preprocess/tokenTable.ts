/**
 * Interns the raw tokens of one field: raw string -> provisional id (0, 1, 2... in order of first
 * appearance). Lookups take the token as a range of a larger string (the decoded chunk), so a
 * token seen before costs a hash and a compare but no string allocation - on Criteo text this is
 * most of the parse time, and with large vocabularies it is bound by cache misses. So: open
 * addressing over one Int32Array of 4-int slots (id, hash, and the token itself packed into two
 * ints when it is at most 8 characters in 1..255, as Criteo's hashed values are), so that a
 * lookup usually costs one cache miss; longer tokens are compared against a flat UTF-16 pool of
 * all tokens' characters (no string object per token while streaming: millions of distinct
 * values would otherwise be millions of small heap objects). Strings are built once, on demand.
 */
const EMPTY = -1;

/** FNV-1a: h = FNV_OFFSET; for each code unit c: h = Math.imul(h ^ c, FNV_PRIME). */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/** Ints per slot: id * 2 + (1 when the token is packed inline), hash, packed chars 0-3, 4-7. */
const SLOT = 4;

export class TokenTable {
  /** Slot s is slots[SLOT * s ..]; its first int is EMPTY when the slot is free. */
  private slots: Int32Array;
  private mask: number;
  /** Code units of all tokens, back to back; token id spans pool[starts[id], starts[id + 1]). */
  private pool: Uint16Array;
  private poolLength = 0;
  private starts: Int32Array;
  private count = 0;
  /** Tokens already turned into strings (a prefix of the ids). */
  private readonly strings: string[] = [];

  constructor(initialSlots = 256) {
    let size = 16;
    while (size < initialSlots * 2) size <<= 1;
    this.slots = new Int32Array(SLOT * size).fill(EMPTY);
    this.mask = size - 1;
    this.pool = new Uint16Array(Math.max(64, initialSlots * 8));
    this.starts = new Int32Array(Math.max(16, initialSlots) + 1);
  }

  get size(): number {
    return this.count;
  }

  /** tokens[provisionalId] = the raw token (built on first use after new tokens arrived). */
  get tokens(): string[] {
    const strings = this.strings;
    for (let id = strings.length; id < this.count; id++) strings.push(this.tokenAt(id));
    return strings;
  }

  /** Provisional id of text[start, end), inserting it when new. */
  intern(text: string, start: number, end: number): number {
    let h = FNV_OFFSET;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
    return this.internHashed(text, start, end, h);
  }

  /**
   * As intern, with the token's hash already computed (FNV-1a over its UTF-16 code units, see
   * FNV_OFFSET / FNV_PRIME) by a caller that scans the characters anyway.
   */
  internHashed(text: string, start: number, end: number, h: number): number {
    const len = end - start;
    // Pack tokens of 1..8 characters in 1..255 into two ints; zero padding cannot be confused
    // with a character, so equal packed words mean equal tokens.
    let w0 = 0;
    let w1 = 0;
    let inline = len <= 8 ? 1 : 0;
    for (let k = 0; k < len && inline === 1; k++) {
      const c = text.charCodeAt(start + k);
      if (c === 0 || c > 255) inline = 0;
      else if (k < 4) w0 |= c << (8 * k);
      else w1 |= c << (8 * (k - 4));
    }
    const { slots, mask } = this;
    let s = h & mask;
    for (;;) {
      const at = SLOT * s;
      const tag = slots[at];
      if (tag === EMPTY) break;
      if (slots[at + 1] === h && (tag & 1) === inline) {
        if (inline === 1) {
          if (slots[at + 2] === w0 && slots[at + 3] === w1) return tag >> 1;
        } else if (this.poolEquals(tag >> 1, text, start, len)) {
          return tag >> 1;
        }
      }
      s = (s + 1) & mask;
    }
    return this.insertAt(s, h, text, start, end, inline, w0, w1);
  }

  private poolEquals(id: number, text: string, start: number, len: number): boolean {
    const from = this.starts[id];
    if (this.starts[id + 1] - from !== len) return false;
    const pool = this.pool;
    for (let k = 0; k < len; k++) if (pool[from + k] !== text.charCodeAt(start + k)) return false;
    return true;
  }

  /** Provisional id of a whole string (side tables, header-derived tokens). */
  internString(token: string): number {
    return this.intern(token, 0, token.length);
  }

  private tokenAt(id: number): string {
    const from = this.starts[id];
    const to = this.starts[id + 1];
    // fromCharCode over a small subarray; chunks keep the argument list short for long tokens.
    let out = '';
    for (let i = from; i < to; i += 4096) {
      out += String.fromCharCode.apply(
        null,
        this.pool.subarray(i, Math.min(to, i + 4096)) as unknown as number[],
      );
    }
    return out;
  }

  private insertAt(
    slot: number,
    hash: number,
    text: string,
    start: number,
    end: number,
    inline: number,
    w0: number,
    w1: number,
  ): number {
    const id = this.count;
    const len = end - start;
    if (this.poolLength + len > this.pool.length) {
      const next = new Uint16Array(Math.max(this.pool.length * 2, this.poolLength + len));
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
    for (let i = start; i < end; i++) pool[p++] = text.charCodeAt(i);
    this.poolLength = p;
    this.starts[id + 1] = p;
    this.count = id + 1;
    const at = SLOT * slot;
    this.slots[at] = id * 2 + inline;
    this.slots[at + 1] = hash;
    this.slots[at + 2] = w0;
    this.slots[at + 3] = w1;
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
      if (old[from] === EMPTY) continue;
      let t = old[from + 1] & mask;
      while (slots[SLOT * t] !== EMPTY) t = (t + 1) & mask;
      const to = SLOT * t;
      for (let k = 0; k < SLOT; k++) slots[to + k] = old[from + k];
    }
    this.slots = slots;
    this.mask = mask;
  }
}
