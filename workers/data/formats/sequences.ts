/**
 * Parser for item sequences: one sequence per line, comma-separated tokens (ids or strings);
 * '-1' and empty tokens are padding and dropped; a line left with one item is rejected ('single-item'). Tokens are interned as they stream in.
 */
import { GrowableInt32 } from '../preprocess/growable';
import type { ParsedSequences } from '../preprocess/sequenceDataset';
import { TokenTable } from '../preprocess/tokenTable';
import type { RejectReason } from './types';

export class SequenceParser {
  private readonly table = new TokenTable(4096);
  private readonly itemIds = new GrowableInt32(1 << 16);
  private readonly offsets = new GrowableInt32(1 << 12);

  constructor() {
    this.offsets.push(0);
  }

  get numSequences(): number {
    return this.offsets.length - 1;
  }

  parseLine(text: string, start: number, end: number): RejectReason | null {
    if (end === start) return 'empty-line';
    const before = this.itemIds.length;
    let pos = start;
    for (;;) {
      let comma = text.indexOf(',', pos);
      if (comma < 0 || comma > end) comma = end;
      let a = pos;
      let b = comma;
      // Tolerate spaces around tokens ("1, 2, 3").
      while (a < b && text.charCodeAt(a) === 32) a++;
      while (b > a && text.charCodeAt(b - 1) === 32) b--;
      const isPadding =
        a === b || (b - a === 2 && text.charCodeAt(a) === 45 && text.charCodeAt(a + 1) === 49);
      if (!isPadding) this.itemIds.push(this.table.intern(text, a, b));
      if (comma === end) break;
      pos = comma + 1;
    }
    if (this.itemIds.length === before) return 'empty-sequence';
    if (this.itemIds.length === before + 1) {
      // One item has no next item to learn or to rank: nothing a sequence model can use.
      this.itemIds.length = before;
      return 'single-item';
    }
    this.offsets.push(this.itemIds.length);
    return null;
  }

  result(): ParsedSequences {
    return { tokens: this.table.tokens, itemIds: this.itemIds, offsets: this.offsets };
  }
}
