/**
 * Interns the raw tokens of one field: raw string -> provisional id (0, 1, 2... in order of first
 * appearance). Lookups take the token as a range of a larger string (the decoded chunk), so a
 * token seen before costs a hash and a compare but no string allocation - on Criteo text this is
 * most of the parse time. Open addressing over an Int32Array; only distinct tokens are stored.
 */
const EMPTY = -1;

/** FNV-1a: h = FNV_OFFSET; for each code unit c: h = Math.imul(h ^ c, FNV_PRIME). */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

export class TokenTable {
  /** tokens[provisionalId] = the raw token. */
  readonly tokens: string[] = [];
  private slots: Int32Array;
  private hashes: Int32Array;
  private mask: number;

  constructor(initialSlots = 256) {
    let size = 16;
    while (size < initialSlots * 2) size <<= 1;
    this.slots = new Int32Array(size).fill(EMPTY);
    this.hashes = new Int32Array(16);
    this.mask = size - 1;
  }

  get size(): number {
    return this.tokens.length;
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
    const { slots, mask, tokens, hashes } = this;
    let s = h & mask;
    for (;;) {
      const id = slots[s];
      if (id === EMPTY) break;
      if (hashes[id] === h) {
        const t = tokens[id];
        // startsWith is a native compare; cheaper than a charCodeAt loop in JS.
        if (t.length === len && text.startsWith(t, start)) return id;
      }
      s = (s + 1) & mask;
    }
    return this.insertAt(s, h, ownedCopy(text, start, end));
  }

  /** Provisional id of a whole string (side tables, header-derived tokens). */
  internString(token: string): number {
    return this.intern(token, 0, token.length);
  }

  private insertAt(slot: number, hash: number, token: string): number {
    const id = this.tokens.length;
    this.tokens.push(token);
    if (id >= this.hashes.length) {
      const next = new Int32Array(this.hashes.length * 2);
      next.set(this.hashes);
      this.hashes = next;
    }
    this.hashes[id] = hash;
    this.slots[slot] = id;
    // Keep the load factor under 1/2 so that probe chains stay short.
    if (this.tokens.length * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const size = this.slots.length * 2;
    const slots = new Int32Array(size).fill(EMPTY);
    const mask = size - 1;
    for (let id = 0; id < this.tokens.length; id++) {
      let s = this.hashes[id] & mask;
      while (slots[s] !== EMPTY) s = (s + 1) & mask;
      slots[s] = id;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/**
 * A substring that does not keep the whole decoded chunk alive: V8 represents substrings of 13+
 * characters as views into their parent, which would pin every chunk that introduced a distinct
 * token. Concatenation followed by slice forces a fresh flat string.
 */
function ownedCopy(text: string, start: number, end: number): string {
  if (end - start < 13) return text.substring(start, end);
  return (' ' + text.substring(start, end)).slice(1);
}
