/**
 * From provisional ids (order of first appearance) to the final per-field ids of the reference
 * preprocessing: values with count >= minCount get ids 0..K-1, ordered by count desc then token
 * (deterministic, unlike the official code's Python-set order, which depends on the hash seed);
 * all rarer values share one rare id K. As in the official code (data_loader/criteo.py), the
 * rare id exists only when some value is rare, so the field size is K or K + 1 - this is what
 * makes N = 2,525 on the 10k Criteo slice. `rareSlot: 'always'` reserves it anyway, so that
 * values unseen in training have a row when scoring new data.
 */
import type { FieldVocabulary } from '../dataset';

export type RareSlotPolicy = 'when-needed' | 'always';

export interface FieldSource {
  name: string;
  transform: FieldVocabulary['transform'];
  /** Provisional ids are 0..size-1. */
  size: number;
  /** The raw token of a provisional id (asked for the kept values only). */
  token(provisionalId: number): string;
}

/** A FieldSource over a token list (tokens[provisionalId]). */
export function fieldSourceOf(
  name: string,
  transform: FieldVocabulary['transform'],
  tokens: readonly string[],
): FieldSource {
  return { name, transform, size: tokens.length, token: (id) => tokens[id] };
}

export interface FieldEncodingStats {
  name: string;
  /** Distinct values present in the kept rows. */
  cardinalityBeforeMinCount: number;
  /** The field's size after min-count (kept values + the rare id if any). */
  cardinalityAfterMinCount: number;
  /** Distinct values merged into the rare id, and the rows that carry it. */
  rareValues: number;
  rareRows: number;
}

export interface EncodedFields {
  fieldDims: Int32Array;
  vocabularies: FieldVocabulary[];
  stats: FieldEncodingStats[];
}

/**
 * Rewrites `ids` (row-major [numRows, fields.length] provisional ids) in place into final ids
 * and returns the field sizes and vocabularies.
 */
export function encodeFields(
  ids: Int32Array,
  numRows: number,
  fields: readonly FieldSource[],
  minCount: number,
  rareSlot: RareSlotPolicy,
): EncodedFields {
  const m = fields.length;
  const counts = fields.map((f) => new Int32Array(f.size));
  for (let r = 0; r < numRows; r++) {
    const base = r * m;
    for (let f = 0; f < m; f++) counts[f][ids[base + f]]++;
  }

  const fieldDims = new Int32Array(m);
  const vocabularies: FieldVocabulary[] = [];
  const stats: FieldEncodingStats[] = [];
  const remaps: Int32Array[] = [];
  for (let f = 0; f < m; f++) {
    const count = counts[f];
    const kept: number[] = [];
    let present = 0;
    let rareValues = 0;
    let rareRows = 0;
    for (let p = 0; p < count.length; p++) {
      if (count[p] === 0) continue; // interned from a rejected or unsampled row only
      present++;
      if (count[p] >= minCount) kept.push(p);
      else {
        rareValues++;
        rareRows += count[p];
      }
    }
    // Strings for the kept values only: a field can have millions of rare ones.
    const keptTokens = kept.map((p) => fields[f].token(p));
    const order = kept.map((_, i) => i);
    order.sort(
      (i, j) => count[kept[j]] - count[kept[i]] || compareTokens(keptTokens[i], keptTokens[j]),
    );
    const hasRare = rareValues > 0 || rareSlot === 'always';
    const rareId = hasRare ? kept.length : null;
    const remap = new Int32Array(count.length).fill(rareId ?? 0);
    for (let i = 0; i < order.length; i++) remap[kept[order[i]]] = i;
    remaps.push(remap);
    fieldDims[f] = kept.length + (hasRare ? 1 : 0);
    vocabularies.push({
      name: fields[f].name,
      transform: fields[f].transform,
      tokens: order.map((i) => keptTokens[i]),
      rareId,
      minCount,
    });
    stats.push({
      name: fields[f].name,
      cardinalityBeforeMinCount: present,
      cardinalityAfterMinCount: fieldDims[f],
      rareValues,
      rareRows,
    });
  }

  for (let r = 0; r < numRows; r++) {
    const base = r * m;
    for (let f = 0; f < m; f++) ids[base + f] = remaps[f][ids[base + f]];
  }
  return { fieldDims, vocabularies, stats };
}

/** Code-unit order: locale-independent, so ids are the same in every browser. */
export function compareTokens(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Id of a raw token under a vocabulary, for scoring new rows. Unseen values go to the rare id;
 * a field without one (every training value was frequent) has no row for them, so they fall
 * back to id 0, the most frequent value.
 */
export function lookupToken(
  vocab: FieldVocabulary,
  index: ReadonlyMap<string, number>,
  token: string,
): number {
  return index.get(token) ?? vocab.rareId ?? 0;
}

/** token -> id map of a vocabulary (build once per field, then use lookupToken). */
export function vocabularyIndex(vocab: FieldVocabulary): Map<string, number> {
  const index = new Map<string, number>();
  vocab.tokens.forEach((t, i) => index.set(t, i));
  return index;
}
