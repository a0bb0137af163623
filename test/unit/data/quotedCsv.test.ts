/**
 * Quoted fields in generic CSV/TSV (RFC 4180): a quoted field may hold the delimiter and writes
 * a quote as "", and must close on its own line; rows that break this are rejected with their
 * reason and line number, the others load. Expected tokens are written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../workers/data/loadDataset';
import type { CtrDataset } from '../../../workers/data/dataset';
import { splitHeader, splitQuotedLine } from '../../../workers/data/formats/columnPlan';
import { peekFileColumns } from '../../../workers/engine/datasetStore';
import { ctr, fileOf } from './helpers';

/** Raw value of field f in row r, through the vocabulary (minCount 1: every value is kept). */
function valueAt(ds: CtrDataset, r: number, f: number): string {
  return ds.vocabularies![f].tokens[ds.ids[r * ds.numFields + f]];
}

const MAPPING = { label: 'clicked', categorical: ['city', 'note'], numeric: ['price'] };

describe('splitQuotedLine', () => {
  it('splits RFC 4180 fields on one line', () => {
    expect(splitQuotedLine('a,"b,c",d', ',')).toEqual(['a', 'b,c', 'd']);
    expect(splitQuotedLine('"say ""hi""",""', ',')).toEqual(['say "hi"', '']);
    expect(splitQuotedLine('5",x', ',')).toEqual(['5"', 'x']); // a quote inside an unquoted field
    expect(splitQuotedLine('a,', ',')).toEqual(['a', '']);
    expect(splitQuotedLine('"a\tb"\tc', '\t')).toEqual(['a\tb', 'c']);
    expect(splitQuotedLine('"open,x', ',')).toBe(null);
    expect(splitQuotedLine('"a"b,x', ',')).toBe(null);
  });

  it('header names keep a delimiter inside quotes', () => {
    expect(splitHeader('"city, state",price, "clicked" ', ',')).toEqual([
      'city, state',
      'price',
      'clicked',
    ]);
  });
});

describe('generic CSV with quoted fields', () => {
  const csv = [
    'city,price,clicked,note',
    '"Paris, FR",2.5,1,plain',
    'Lyon,"3",0,"say ""hi"""',
    '"Paris, FR",,"1",""',
    'Nice,4,0,5" screen',
    '"Lyon",1e1,1,"a ""quoted"", and, commas"',
  ].join('\r\n');

  it('unquotes and unescapes, the same from any chunking', async () => {
    for (const sizes of [[csv.length], [1], [2, 3, 1]]) {
      const r = await loadDataset([fileOf('shop.csv', csv, sizes)], {
        columns: MAPPING,
        minCount: 1,
      });
      const ds = ctr(r);
      expect(r.report.format).toBe('generic-csv');
      expect(r.report.rowsRejected).toBe(0);
      expect(ds.numRows).toBe(5);
      expect(ds.fieldNames).toEqual(['price', 'city', 'note']);
      expect(Array.from(ds.labels)).toEqual([1, 0, 1, 0, 1]);
      expect([0, 1, 2, 3, 4].map((row) => valueAt(ds, row, 1))).toEqual([
        'Paris, FR',
        'Lyon',
        'Paris, FR',
        'Nice',
        'Lyon',
      ]);
      expect([0, 1, 2, 3, 4].map((row) => valueAt(ds, row, 2))).toEqual([
        'plain',
        'say "hi"',
        '',
        '5" screen',
        'a "quoted", and, commas',
      ]);
      // Numbers inside quotes are numbers ("3" -> 3); an empty one is the NULL bucket.
      expect([0, 1, 2, 3, 4].map((row) => valueAt(ds, row, 0))).toEqual([
        '0', // floor(2.5) = 2 -> 2 - 2
        '1', // 3 -> floor(ln(3)^2)
        'NULL',
        '1', // 4 -> floor(ln(4)^2)
        '5', // 10 -> floor(ln(10)^2)
      ]);
      expect(ds.dense![1]).toBeCloseTo(Math.log(4), 6);
    }
  });

  it('a quoted field left open on its line, or text after a closing quote, is a rejected row', async () => {
    const lines = [
      'city,price,clicked,note', // 1
      'Lyon,1,0,ok', // 2
      '"Paris, FR,2,1,never closed', // 3: unterminated
      'Nice,3,1,"spans', // 4: a quoted field may not span lines...
      'two lines"', // 5: ...its second half is a row of one column
      '"Lyon"x,4,0,after quote', // 6: bad quoting
      'Nice,5,1,"closed" ', // 7: a space after the closing quote is text too
      'Nice,6,0,"fine"', // 8
    ];
    const r = await loadDataset([fileOf('bad.csv', lines.join('\n'), [4])], {
      columns: MAPPING,
      minCount: 1,
    });
    const ds = ctr(r);
    expect(ds.numRows).toBe(2);
    expect(valueAt(ds, 1, 2)).toBe('fine');
    const byReason = Object.fromEntries(
      r.report.rejections.map((x) => [x.reason, x.sampleLines.map((s) => s.line)]),
    );
    expect(byReason).toEqual({
      'unterminated-quote': [3, 4],
      'wrong-column-count': [5],
      'bad-quoting': [6, 7],
    });
    expect(r.report.rowsRejected).toBe(5);
  });

  it('TSV: a quoted field may hold a tab; the header may quote a name with a delimiter', async () => {
    const tsv = ['"where\tit is"\tclicked\tprice', '"a\tb"\t1\t7', 'c\t0\t"8"'].join('\n');
    const r = await loadDataset([fileOf('t.tsv', tsv)], {
      columns: { label: 'clicked', categorical: ['where\tit is'], numeric: ['price'] },
      minCount: 1,
    });
    const ds = ctr(r);
    expect(r.report.format).toBe('generic-tsv');
    expect(ds.numRows).toBe(2);
    expect(valueAt(ds, 0, 1)).toBe('a\tb');
    expect(valueAt(ds, 1, 1)).toBe('c');
  });

  it('Criteo layouts keep quotes as ordinary characters (they have no quoting)', async () => {
    const cells = ['1', ...Array.from({ length: 13 }, () => '1'), ...Array(26).fill('"q"')];
    const r = await loadDataset([fileOf('c.txt', cells.join('\t'))], { minCount: 1 });
    const ds = ctr(r);
    expect(r.report.format).toBe('criteo-tsv');
    expect(valueAt(ds, 0, 13)).toBe('"q"');
  });

  it('the column peek splits quoted sample rows the same way', async () => {
    const file = new File([csv], 'shop.csv');
    const peek = await peekFileColumns(file);
    expect(peek.header).toEqual(['city', 'price', 'clicked', 'note']);
    expect(peek.sampleRows[0]).toEqual(['Paris, FR', '2.5', '1', 'plain']);
    expect(peek.sampleRows[1]).toEqual(['Lyon', '3', '0', 'say "hi"']);
  });
});
