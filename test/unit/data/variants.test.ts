/**
 * Format variants and detection, vocabulary order, splits, progress and cancellation, on small
 * inputs written in the test.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../workers/rng';
import { loadDataset, lookupToken, vocabularyIndex } from '../../../workers/data/loadDataset';
import { criteoBucket } from '../../../workers/data/formats/numbers';
import { ctr, fileOf, latin1Bytes } from './helpers';

/** Criteo rows as cell arrays: label, I1..I13 (some empty or negative), C1..C26. */
function criteoRows(n: number, seed: number): string[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => [
    String(rng.int(2)),
    ...Array.from({ length: 13 }, () => (rng.next() < 0.15 ? '' : String(rng.int(300) - 3))),
    ...Array.from({ length: 26 }, () =>
      rng.next() < 0.1 ? '' : (0xa0000000 + rng.int(30)).toString(16),
    ),
  ]);
}

const HEADER = [
  'Label',
  ...Array.from({ length: 13 }, (_, i) => `I${i + 1}`),
  ...Array.from({ length: 26 }, (_, i) => `C${i + 1}`),
];

describe('Criteo variants', () => {
  const rows = criteoRows(400, 1);
  const tsv = rows.map((r) => r.join('\t')).join('\n');

  it('Kaggle CSV (Id column, CRLF) and float-written CSV with header give the same dataset as TSV', async () => {
    const base = ctr(await loadDataset([fileOf('train.txt', tsv)]));
    const kaggle =
      ['Id,' + HEADER.join(','), ...rows.map((r, i) => `${10_000_000 + i},${r.join(',')}`)].join(
        '\r\n',
      ) + '\r\n';
    const k = await loadDataset([fileOf('train.csv', kaggle, [5, 1, 2])]);
    expect(k.report.format).toBe('criteo-kaggle-csv');
    expect(k.report.rowsRejected).toBe(0);
    expect(ctr(k).ids).toEqual(base.ids);
    expect(ctr(k).fieldDims).toEqual(base.fieldDims);

    const floats = [
      HEADER.join(','),
      ...rows.map((r) => r.map((v, i) => (i >= 1 && i <= 13 && v !== '' ? `${v}.0` : v)).join(',')),
    ].join('\n');
    const f = await loadDataset([fileOf('criteo.csv', floats)]);
    expect(f.report.format).toBe('criteo-csv-header');
    expect(ctr(f).ids).toEqual(base.ids);
    expect(ctr(f).dense).toEqual(base.dense);
  });

  it('numeric bucketing is the official convert_numeric_feature', () => {
    // Printed by python3: [str(int(math.log(v) ** 2)) if v > 2 else str(v - 2) for v in ...]
    expect([-5, 0, 1, 2, 3, 4, 5, 10, 100, 1000, 65_535, 65_536, 1e9].map(criteoBucket)).toEqual([
      -7, -2, -1, 0, 1, 1, 2, 5, 21, 47, 122, 122, 429,
    ]);
  });

  it('vocabulary: ids by count desc then token; one rare id last; raw values score through the vocabulary', async () => {
    const lines: string[] = [];
    const put = (c: string, times: number): void => {
      for (let i = 0; i < times; i++) {
        const r = criteoRows(1, lines.length)[0];
        r[14] = c;
        lines.push(r.join('\t'));
      }
    };
    put('bb', 12);
    put('aa', 12);
    put('cc', 30);
    put('rare1', 3);
    put('rare2', 9);
    const ds = ctr(await loadDataset([fileOf('x.txt', lines.join('\n'))]));
    const c1 = ds.vocabularies![13];
    expect(c1.name).toBe('C1');
    expect(c1.tokens).toEqual(['cc', 'aa', 'bb']);
    expect(c1.rareId).toBe(3);
    expect(ds.fieldDims[13]).toBe(4);
    const index = vocabularyIndex(c1);
    expect(lookupToken(c1, index, 'aa')).toBe(1);
    expect(lookupToken(c1, index, 'never seen')).toBe(3);
    expect(ds.ids[(lines.length - 1) * 39 + 13]).toBe(3);

    const always = ctr(
      await loadDataset([fileOf('x.txt', lines.slice(0, 54).join('\n'))], { rareSlot: 'always' }),
    );
    expect(always.vocabularies![13].rareId).toBe(3);
    const whenNeeded = ctr(await loadDataset([fileOf('x.txt', lines.slice(0, 54).join('\n'))]));
    expect(whenNeeded.vocabularies![13].rareId).toBe(null);
    expect(whenNeeded.fieldDims[13]).toBe(3);
  });
});

describe('tokens are their decoded text', () => {
  it('invalid UTF-8 that decodes alike shares an id; a U+FEFF inside the file stays in its token', async () => {
    const enc = new TextEncoder();
    const line = (c1: number[]): number[] => [
      ...enc.encode(['1', ...Array(13).fill('2'), ''].join('\t')),
      ...c1,
      ...enc.encode(Array(26).fill('\tz').join('').slice(2)),
      10,
    ];
    const bytes = Uint8Array.from([
      ...line([0xff]),
      ...line([0xfe]),
      ...line([0xef, 0xbb, 0xbf, 0x78]),
      ...line([0x78]),
    ]);
    for (const sizes of [[bytes.length], [1], [3, 5]]) {
      const r = await loadDataset([fileOf('odd.txt', bytes, sizes)], { minCount: 1 });
      const ds = ctr(r);
      expect(r.report.rowsRejected).toBe(0);
      const c1 = ds.vocabularies![13];
      expect(c1.tokens).toEqual(['\uFFFD', 'x', '\uFEFFx']);
      expect([0, 1, 2, 3].map((row) => ds.ids[row * 39 + 13])).toEqual([0, 0, 2, 1]);
    }
  });
});

describe('Avazu', () => {
  const header =
    'id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,C17,C18,C19,C20,C21';
  const rng = new Rng(4);
  const rows = Array.from({ length: 300 }, (_, i) =>
    [
      `${1e18 + i}`,
      String(rng.int(2)),
      String(14102100 + (i % 24)),
      ...Array.from({ length: 21 }, () => String(rng.int(15))),
    ].join(','),
  );

  it('with and without header: same rows; time-ordered split by hour', async () => {
    const a = await loadDataset([fileOf('train.csv', [header, ...rows].join('\n'))], {
      split: { mode: 'ordered' },
    });
    const b = await loadDataset([fileOf('train', rows.join('\n'))], { split: { mode: 'ordered' } });
    expect(a.report.format).toBe('avazu-csv-header');
    expect(b.report.format).toBe('avazu-csv');
    expect(ctr(b).ids).toEqual(ctr(a).ids);
    expect(a.report.split).toMatchObject({
      mode: 'ordered',
      orderedBy: 'hour',
      train: 240,
      validation: 30,
      test: 30,
    });
    const ds = ctr(a);
    const maxTrainHour = Math.max(...Array.from(ds.split.train, (r) => ds.times![r]));
    const minTestHour = Math.min(...Array.from(ds.split.test, (r) => ds.times![r]));
    expect(maxTrainHour).toBeLessThanOrEqual(minTestHour);
  });

  it('random split: ratios, seed-reproducible, a partition of the rows', async () => {
    const load = (seed: number) =>
      loadDataset([fileOf('train.csv', [header, ...rows].join('\n'))], {
        split: { seed, train: 0.7, validation: 0.2, test: 0.1 },
      });
    const a = ctr(await load(1));
    const b = ctr(await load(1));
    const c = ctr(await load(2));
    expect([a.split.train.length, a.split.validation.length, a.split.test.length]).toEqual([
      210, 60, 30,
    ]);
    expect(a.split.test).toEqual(b.split.test);
    expect(a.split.test).not.toEqual(c.split.test);
    const all = [...a.split.train, ...a.split.validation, ...a.split.test].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});

describe('MovieLens', () => {
  it('1M: ratings.dat, users.dat, movies.dat (Latin-1), :: separated', async () => {
    const ratings = [
      '1::10::5::978300760',
      '1::20::3::978300761',
      '2::10::1::978300762',
      '2::30::4::978302109',
      '3::99::2::978301968',
    ].join('\n');
    const users = ['1::F::1::10::48067', '2::M::56::16::70072'].join('\n');
    const movies = latin1Bytes(
      [
        '10::Toy Story (1995)::Animation|Comedy',
        '20::Café (1990)::Drama',
        '30::Heat (1995)::Comedy|Animation',
      ].join('\n'),
    );
    const r = await loadDataset([
      fileOf('ml-1m/ratings.dat', ratings),
      fileOf('ml-1m/users.dat', users),
      fileOf('ml-1m/movies.dat', movies),
    ]);
    const ds = ctr(r);
    expect(r.report.format).toBe('movielens-1m');
    expect(ds.numRows).toBe(4);
    expect(r.report.rowsFilteredOut).toBe(1);
    expect(Array.from(ds.labels)).toEqual([1, 0, 1, 0]);
    expect(ds.fieldNames).toEqual([
      'timestamp',
      'gender',
      'age',
      'occupation',
      'zip',
      'year',
      'genres',
    ]);
    const genres = ds.vocabularies![6];
    // Movies 10 and 30 have the same genre set: one value (2 rows) vs movie 99 unknown ('<missing>').
    expect(genres.tokens[0]).toBe('Animation|Comedy');
    expect(ds.fieldDims[6]).toBe(2);
  });

  it('100K u.item is decoded as Latin-1; ratings without side files use user and item ids', async () => {
    const item = latin1Bytes(
      `1|Café Society (1995)|01-Jan-1995||http://x|${Array(19).fill(0).join('|')}\n`,
    );
    const data = '1\t1\t5\t100\n2\t1\t1\t200\n';
    const r = await loadDataset([fileOf('u.data', data), fileOf('u.item', item)]);
    expect(ctr(r).vocabularies![1].tokens).toEqual(['1995']);
    const bare = ctr(await loadDataset([fileOf('u.data', data)]));
    expect(bare.fieldNames).toEqual(['user_id', 'item_id', 'timestamp']);
    expect(Array.from(bare.fieldDims)).toEqual([2, 1, 2]);
  });

  it('a side file alone is an error that names the missing ratings file', async () => {
    await expect(
      loadDataset([fileOf('u.user', '1|24|M|technician|85711\n')]),
    ).rejects.toMatchObject({ code: 'missing-file' });
  });
});

describe('generic CSV/TSV with a column mapping, sequences edge cases, progress, cancel', () => {
  it('maps label, categorical and numeric columns by name', async () => {
    const csv = 'country,price,clicked,device\nfr,2.5,1,ios\nde,3,0,android\nfr,,1,ios\n';
    const r = await loadDataset([fileOf('t.csv', csv)], {
      columns: { label: 'clicked', categorical: ['country', 'device'], numeric: ['price'] },
      minCount: 1,
    });
    const ds = ctr(r);
    expect(r.report.format).toBe('generic-csv');
    expect(ds.fieldNames).toEqual(['price', 'country', 'device']);
    expect(ds.numDense).toBe(1);
    expect(Array.from(ds.labels)).toEqual([1, 0, 1]);
    expect(ds.vocabularies![0].tokens).toContain('NULL');
    await expect(
      loadDataset([fileOf('t.csv', csv)], { columns: { label: 'nope', categorical: ['country'] } }),
    ).rejects.toMatchObject({
      code: 'bad-mapping',
    });
  });

  it('sequences: string tokens, empty and -1 padding, single items rejected, a max length that keeps the latest items', async () => {
    const text = 'a,b,c\n-1,-1,b,c\n,,c,a\n-1,-1\nb,a,b,a,c\n-1,b\n';
    const r = await loadDataset([fileOf('s.txt', text)], { maxSequenceLength: 3 });
    expect(r.kind).toBe('sequence');
    if (r.kind !== 'sequence') return;
    const ds = r.dataset;
    expect(ds.numSequences).toBe(4);
    expect(r.report.rejections).toEqual([
      { reason: 'empty-sequence', count: 1, sampleLines: [{ file: 's.txt', line: 4 }] },
      { reason: 'single-item', count: 1, sampleLines: [{ file: 's.txt', line: 6 }] },
    ]);
    expect(ds.itemTokens).toEqual(['a', 'b', 'c']); // a:4, b:4, c:4 (ties -> token order)
    expect(Array.from(ds.itemFrequencies)).toEqual([0, 4, 4, 4]);
    // a,b,c | b,c left-padded | c,a left-padded | the last 3 of b,a,b,a,c
    expect(Array.from(ds.items)).toEqual([1, 2, 3, 0, 2, 3, 0, 3, 1, 2, 1, 3]);
    expect(Array.from(ds.lengths)).toEqual([3, 2, 2, 3]);
    expect(ds.truncated).toBe(1);
    expect(r.report.notes).toContain(
      '1 sequences were longer than 3 items: their most recent 3 were kept',
    );
  });

  it('reports progress and stops on abort', async () => {
    const rows = criteoRows(3000, 9)
      .map((r) => r.join('\t'))
      .join('\n');
    const seen: number[] = [];
    const r = await loadDataset([fileOf('t.txt', rows, [4096])], {}, (p) => seen.push(p.bytesRead));
    expect(seen.at(-1)).toBe(r.report.bytesRead);
    expect(r.report.bytesRead).toBe(new TextEncoder().encode(rows).length);
    const ctrl = new AbortController();
    const p = loadDataset(
      [fileOf('t.txt', rows, [1024])],
      {},
      (e) => {
        if (e.bytesRead > 20_000) ctrl.abort();
      },
      ctrl.signal,
    );
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});
