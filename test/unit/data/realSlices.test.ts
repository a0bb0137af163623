/**
 * The real slices (../shared/data): exact row counts, label means and per-field cardinalities,
 * checked against a whole-file reference parse written here with plain split() (independent of
 * the streaming parser), against the official PEP run's anchors, and unchanged when the bytes
 * arrive in tiny chunks.
 */
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../workers/data/loadDataset';
import { validateIds } from '../../../workers/data/dataset';
import { HAVE_DATA, byteStreamOf, ctr, fileOf, readData, readText } from './helpers';

const CRITEO = 'criteo/criteo_dac_train_first10k.txt';
const AVAZU = 'avazu/avazu_train_first9k.csv';
const SEQ_ML1M = 'sequential/grec_ml1m_ratings_seq20_order.txt';
const SEQ_NEXTIT = 'sequential/nextitnet_user-filter-20000items-session5.csv';

/** Reference: cardinality per column before and after min-count, as in the official code. */
function referenceCardinalities(
  columns: string[][],
  minCount: number,
): { before: number[]; after: number[] } {
  const before: number[] = [];
  const after: number[] = [];
  for (const col of columns) {
    const counts = new Map<string, number>();
    for (const v of col) counts.set(v, (counts.get(v) ?? 0) + 1);
    const kept = [...counts.values()].filter((c) => c >= minCount).length;
    before.push(counts.size);
    after.push(kept + (kept < counts.size ? 1 : 0));
  }
  return { before, after };
}

/** convert_numeric_feature of the official data_loader/criteo.py. */
function pepNumeric(v: string): string {
  if (v === '') return 'NULL';
  const x = parseInt(v, 10);
  return x > 2 ? String(Math.floor(Math.log(x) ** 2)) : String(x - 2);
}

describe.skipIf(!HAVE_DATA)('real slices', () => {
  it('Criteo 10k: rows, label mean, cardinalities, field_dims = the official run (N = 2,525)', async () => {
    const lines = readText(CRITEO)
      .split('\n')
      .filter((l) => l.length > 0);
    const rows = lines.map((l) => l.split('\t'));
    const columns = Array.from({ length: 39 }, (_, f) =>
      rows.map((r) => (f < 13 ? pepNumeric(r[1 + f]) : r[1 + f])),
    );
    const ref = referenceCardinalities(columns, 10);
    const labelMean = rows.reduce((s, r) => s + Number(r[0]), 0) / rows.length;

    const r = await loadDataset([fileOf(CRITEO, readData(CRITEO))]);
    const ds = ctr(r);
    expect(r.report.format).toBe('criteo-tsv');
    expect(ds.numRows).toBe(10_000);
    expect(r.report.rowsRejected).toBe(0);
    // awk -F'\t' '{s+=$1} END {print s/NR}' -> 0.2182
    expect(r.report.labelMean).toBeCloseTo(0.2182, 10);
    expect(r.report.labelMean).toBeCloseTo(labelMean, 10);
    expect(r.report.fields.map((f) => f.cardinalityBeforeMinCount)).toEqual(ref.before);
    expect(r.report.fields.map((f) => f.cardinalityAfterMinCount)).toEqual(ref.after);

    const anchor = JSON.parse(readText('anchors/criteo10k_split_seed42.json')) as {
      field_dims: number[];
      N: number;
    };
    expect(Array.from(ds.fieldDims)).toEqual(anchor.field_dims);
    expect(ds.totalVocabulary).toBe(2525);
    expect(ds.numDense).toBe(13);
    expect(ds.dense?.length).toBe(10_000 * 13);
    validateIds(ds);
  });

  it('Criteo 10k: same partition of rows into ids as the official encoding, rare id last', async () => {
    // The official ids enumerate a Python set (hash-seed dependent), so ids can only match up to
    // a per-field relabelling: check that relabelling is a bijection, and that the rare id is
    // the last id in both.
    const anchorLines = readText('anchors/criteo10k_encoded_seed42split.csv')
      .trim()
      .split('\n')
      .slice(1);
    const ds = ctr(await loadDataset([fileOf(CRITEO, readData(CRITEO))]));
    const ourToTheirs = Array.from({ length: 39 }, () => new Map<number, number>());
    const theirsToOurs = Array.from({ length: 39 }, () => new Map<number, number>());
    let conflicts = 0;
    let labelMismatches = 0;
    for (const line of anchorLines) {
      const cells = line.split(',');
      const row = Number(cells[0]);
      if (ds.labels[row] !== Number(cells[2])) labelMismatches++;
      for (let f = 0; f < 39; f++) {
        const theirs = Number(cells[3 + f]);
        const ours = ds.ids[row * 39 + f];
        if ((ourToTheirs[f].get(ours) ?? theirs) !== theirs) conflicts++;
        if ((theirsToOurs[f].get(theirs) ?? ours) !== ours) conflicts++;
        ourToTheirs[f].set(ours, theirs);
        theirsToOurs[f].set(theirs, ours);
      }
    }
    expect(anchorLines.length).toBe(10_000);
    expect(labelMismatches).toBe(0);
    expect(conflicts).toBe(0);
    for (let f = 0; f < 39; f++) {
      const rare = ds.vocabularies![f].rareId;
      if (rare !== null) {
        expect(rare).toBe(ds.fieldDims[f] - 1);
        expect(ourToTheirs[f].get(rare)).toBe(ds.fieldDims[f] - 1);
      }
    }
    // Dense features are DLRM's log(x + 1), negatives and empties as 0.
    const first = readText(CRITEO).split('\n')[0].split('\t');
    for (let k = 0; k < 13; k++) {
      const v = first[1 + k] === '' ? 0 : Math.max(0, Number(first[1 + k]));
      expect(ds.dense![k]).toBeCloseTo(Math.log(v + 1), 5);
    }
  });

  it('Avazu 9k: 8,999 rows, 22 fields, label mean, cardinalities', async () => {
    const rows = readText(AVAZU)
      .split('\n')
      .filter((l) => l.length > 0)
      .slice(1)
      .map((l) => l.split(','));
    const columns = Array.from({ length: 22 }, (_, f) => rows.map((r) => r[2 + f]));
    const ref = referenceCardinalities(columns, 10);
    // awk -F, 'NR>1 {s+=$2; n++} END {print n, s}' -> 8999 1563
    const r = await loadDataset([fileOf(AVAZU, readData(AVAZU))]);
    const ds = ctr(r);
    expect(r.report.format).toBe('avazu-csv-header');
    expect(ds.numRows).toBe(8999);
    expect(ds.numFields).toBe(22);
    expect(ds.fieldNames[0]).toBe('hour');
    expect(r.report.labelMean).toBeCloseTo(1563 / 8999, 10);
    expect(r.report.fields.map((f) => f.cardinalityBeforeMinCount)).toEqual(ref.before);
    expect(Array.from(ds.fieldDims)).toEqual(ref.after);
    expect(ds.times![0]).toBe(14102100);
    validateIds(ds);
  });

  it('MovieLens 100K with side files: rating 3 dropped, PEP fields, label mean', async () => {
    const dir = 'movielens/ml-100k/';
    const names = ['u.data', 'u.user', 'u.item', 'README', 'u.genre'];
    const r = await loadDataset(names.map((n) => fileOf(dir + n, readData(dir + n))));
    const ds = ctr(r);
    // awk -F'\t' '$3 != 3 {n++; if ($3 > 3) p++} END {print n, p}' u.data -> 72855 55375
    expect(ds.numRows).toBe(72_855);
    expect(r.report.rowsFilteredOut).toBe(100_000 - 72_855);
    expect(r.report.labelMean).toBeCloseTo(55_375 / 72_855, 10);
    expect(r.report.rowsRejected).toBe(0);
    expect(ds.fieldNames.slice(0, 6)).toEqual([
      'timestamp',
      'age',
      'gender',
      'occupation',
      'zip',
      'release_year',
    ]);
    expect(ds.numFields).toBe(25);
    // Reference cardinalities from a plain join.
    const users = new Map(
      readText(dir + 'u.user')
        .trim()
        .split('\n')
        .map((l) => [l.split('|')[0], l.split('|')] as const),
    );
    const ratings = readText(dir + 'u.data')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .filter((c) => c[2] !== '3');
    const distinct = (f: (c: string[]) => string): number => new Set(ratings.map(f)).size;
    const minTime = Math.min(...ratings.map((c) => Number(c[3])));
    const byName = new Map(r.report.fields.map((f) => [f.name, f.cardinalityBeforeMinCount]));
    expect(byName.get('timestamp')).toBe(
      distinct((c) => pepNumeric(String(Number(c[3]) - minTime))),
    );
    expect(byName.get('gender')).toBe(distinct((c) => users.get(c[0])![2]));
    expect(byName.get('occupation')).toBe(distinct((c) => users.get(c[0])![3]));
    expect(byName.get('zip')).toBe(distinct((c) => users.get(c[0])![4]));
    expect(byName.get('age')).toBe(7);
    validateIds(ds);

    const withIds = ctr(
      await loadDataset(
        ['u.data', 'u.user'].map((n) => fileOf(dir + n, readData(dir + n))),
        { keepUserAndItemIds: true },
      ),
    );
    expect(withIds.fieldNames.slice(0, 3)).toEqual(['user_id', 'item_id', 'timestamp']);
    expect(withIds.fieldDims[0]).toBe(distinct((c) => c[0]));
    expect(withIds.fieldDims[1]).toBe(distinct((c) => c[1]));
  });

  it.each([
    // awk -F, '{for (i = 1; i <= NF; i++) if ($i != "-1" && $i != "") c[$i]++} END {print NR, length(c)}'
    [SEQ_ML1M, 25_242, 3589, 20],
    [SEQ_NEXTIT, 1804, 2794, 5],
  ])('sequences %s: count, vocabulary, frequency order', async (path, numSeq, numItems, maxLen) => {
    const r = await loadDataset([fileOf(path, readData(path))]);
    expect(r.kind).toBe('sequence');
    if (r.kind !== 'sequence') return;
    const ds = r.dataset;
    expect(ds.numSequences).toBe(numSeq);
    expect(ds.numItems).toBe(numItems);
    expect(ds.maxLen).toBe(maxLen);
    // Reference counts from a plain split.
    const lines = readText(path)
      .split('\n')
      .filter((l) => l.length > 0);
    const counts = new Map<string, number>();
    for (const l of lines)
      for (const t of l.split(','))
        if (t !== '-1' && t !== '') counts.set(t, (counts.get(t) ?? 0) + 1);
    for (let id = 1; id <= ds.numItems; id++) {
      expect(ds.itemFrequencies[id]).toBe(counts.get(ds.itemTokens[id - 1]));
      if (id > 1) expect(ds.itemFrequencies[id]).toBeLessThanOrEqual(ds.itemFrequencies[id - 1]);
    }
    // Row 1 of the ML-1M file starts with six -1 paddings: left padding is kept.
    const second = lines[1].split(',');
    const pads = second.filter((t) => t === '-1').length;
    for (let k = 0; k < maxLen; k++) {
      const id = ds.items[maxLen + k];
      if (k < pads) expect(id).toBe(0);
      else expect(ds.itemTokens[id - 1]).toBe(second[k]);
    }
    expect(ds.split.train.length + ds.split.test.length + ds.split.validation.length).toBe(numSeq);
  });

  it.each([CRITEO, AVAZU, SEQ_NEXTIT])(
    '%s: identical result from one chunk, from 1-7 byte chunks, and from a byte stream',
    async (path) => {
      const bytes = readData(path);
      const whole = await loadDataset([fileOf(path, bytes)]);
      const tiny = await loadDataset([fileOf(path, bytes, [1, 3, 2, 7, 5, 4])]);
      // A byte stream, as File.stream() is.
      const byob = await loadDataset([
        { name: path, stream: byteStreamOf(bytes, [65536, 3, 100_000]), size: bytes.length },
      ]);
      for (const other of [tiny, byob]) {
        expect(other.report.rowsKept).toBe(whole.report.rowsKept);
        expect(other.report.fields).toEqual(whole.report.fields);
        if (whole.kind === 'ctr' && other.kind === 'ctr') {
          expect(other.dataset.ids).toEqual(whole.dataset.ids);
          expect(other.dataset.labels).toEqual(whole.dataset.labels);
        } else if (whole.kind === 'sequence' && other.kind === 'sequence') {
          expect(other.dataset.items).toEqual(whole.dataset.items);
        }
      }
    },
  );

  it("Criteo: first N rows stops early; a seeded sample is reproducible with the file's label rate", async () => {
    const bytes = readData(CRITEO);
    const first = await loadDataset([fileOf(CRITEO, bytes, [65536])], {
      rows: { mode: 'first', count: 1000 },
    });
    expect(first.report.rowsKept).toBe(1000);
    expect(first.report.stoppedEarly).toBe(true);
    expect(first.report.bytesRead).toBeLessThan(bytes.length);

    const a = ctr(
      await loadDataset([fileOf(CRITEO, bytes)], {
        rows: { mode: 'sample', count: 2000, seed: 7 },
        minCount: 1,
      }),
    );
    const b = ctr(
      await loadDataset([fileOf(CRITEO, bytes)], {
        rows: { mode: 'sample', count: 2000, seed: 7 },
        minCount: 1,
      }),
    );
    expect(a.numRows).toBe(2000);
    expect(a.ids).toEqual(b.ids);
    const mean = a.labels.reduce((s, v) => s + v, 0) / a.numRows;
    expect(Math.abs(mean - 0.2182)).toBeLessThan(0.03);
  });
});
