/**
 * Fixed splits from the input: the PEP reference encoding (anchors/criteo10k_encoded_seed42split
 * .csv, ids and split column used verbatim, field sizes from the reference's field_dims) and a
 * JSON of raw row numbers per split beside a raw file (anchors/criteo10k_dlrm_split_seed123.json).
 * Expected figures are computed here from the files with plain split() / JSON.parse, independent
 * of the loader.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../workers/rng';
import {
  buildReferenceDataset,
  DatasetLoadError,
  loadDataset,
} from '../../../workers/data/loadDataset';
import { validateIds } from '../../../workers/data/dataset';
import { HAVE_DATA, ctr, fileOf, readData, readText } from './helpers';

const CRITEO = 'criteo/criteo_dac_train_first10k.txt';
const ENCODED = 'anchors/criteo10k_encoded_seed42split.csv';
const PEP_JSON = 'anchors/criteo10k_split_seed42.json';
const DLRM_JSON = 'anchors/criteo10k_dlrm_split_seed123.json';

async function loadError(promise: Promise<unknown>): Promise<DatasetLoadError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetLoadError);
  return err as DatasetLoadError;
}

/** A Criteo DAC line: label, 13 integers (some empty), 26 hashed categoricals. */
function criteoLine(rng: Rng): string {
  const cells = [String(rng.int(2))];
  for (let i = 0; i < 13; i++) cells.push(rng.next() < 0.2 ? '' : String(rng.int(50)));
  for (let i = 0; i < 26; i++) cells.push((0x10000000 + rng.int(20)).toString(16));
  return cells.join('\t');
}

const REF_HEADER = [
  'row',
  'split',
  'label',
  ...Array.from({ length: 13 }, (_, i) => `I${i + 1}`),
  ...Array.from({ length: 26 }, (_, i) => `C${i + 1}`),
].join(',');

/** A reference-encoded row: every field id = `id` unless overridden. */
function refRow(row: number, split: string, label: number, id = 1, at?: [number, number]): string {
  const ids = Array.from({ length: 39 }, () => id);
  if (at) ids[at[0]] = at[1];
  return [row, split, label, ...ids].join(',');
}

describe.skipIf(!HAVE_DATA)('PEP reference encoding (real anchors)', () => {
  const csvLines = HAVE_DATA ? readText(ENCODED).trim().split('\n') : [];
  const cells = csvLines.slice(1).map((l) => l.split(','));
  const anchor = HAVE_DATA
    ? (JSON.parse(readText(PEP_JSON)) as { field_dims: number[]; N: number })
    : { field_dims: [], N: 0 };

  it('encoded CSV + its JSON: 10,000 rows, split 8000/1000/1000 from the split column, field_dims, N = 2,525', async () => {
    // A split setting is given on purpose: the file's split column must win.
    const r = await loadDataset(
      [
        fileOf(ENCODED, readData(ENCODED), [4093, 17, 65536]),
        fileOf(PEP_JSON, readData(PEP_JSON), [1000]),
      ],
      { split: { train: 0.5, validation: 0.25, test: 0.25, mode: 'random', seed: 1 } },
    );
    const ds = ctr(r);
    expect(r.report.format).toBe('criteo-reference-encoded');
    expect(r.report.rowsRejected).toBe(0);
    expect(ds.numRows).toBe(10_000);
    expect(r.report.split).toMatchObject({
      mode: 'file',
      train: 8000,
      validation: 1000,
      test: 1000,
      unlisted: 0,
    });
    expect(r.report.split.from).toContain('split column');
    expect(r.report.notes.join('\n')).toMatch(/split setting is not used/);
    expect(r.report.files.map((f) => [f.name, f.role])).toEqual([
      [ENCODED, 'data'],
      [PEP_JSON, 'field-dims'],
    ]);
    expect(Array.from(ds.fieldDims)).toEqual(anchor.field_dims);
    expect(ds.totalVocabulary).toBe(2525);
    expect(anchor.N).toBe(2525);
    expect(r.report.fields.map((f) => f.cardinalityAfterMinCount)).toEqual(anchor.field_dims);
    expect(ds.numDense).toBe(0);
    validateIds(ds);

    // Ids verbatim, labels, and the split lists in file order, against a plain parse.
    const expectedSplit: Record<string, number[]> = { train: [], valid: [], test: [] };
    let mismatches = 0;
    cells.forEach((c, row) => {
      expect(Number(c[0])).toBe(row);
      expectedSplit[c[1]].push(row);
      if (ds.labels[row] !== Number(c[2])) mismatches++;
      for (let f = 0; f < 39; f++) if (ds.ids[row * 39 + f] !== Number(c[3 + f])) mismatches++;
    });
    expect(mismatches).toBe(0);
    expect(Array.from(ds.split.train)).toEqual(expectedSplit.train);
    expect(Array.from(ds.split.validation)).toEqual(expectedSplit.valid);
    expect(Array.from(ds.split.test)).toEqual(expectedSplit.test);

    // Label mean of the train rows: awk -F, '$2 == "train" {s += $3; n++} END {print s / n}'
    const trainMean = ds.split.train.reduce((s, row) => s + ds.labels[row], 0) / 8000;
    expect(trainMean).toBeCloseTo(1757 / 8000, 12);
    const plainTrainMean =
      cells.filter((c) => c[1] === 'train').reduce((s, c) => s + Number(c[2]), 0) / 8000;
    expect(trainMean).toBeCloseTo(plainTrainMean, 12);

    // The vocabulary maps each id to itself.
    const c5 = ds.vocabularies![17];
    expect(c5.name).toBe('C5');
    expect(c5.transform).toBe('id');
    expect(c5.tokens.length).toBe(anchor.field_dims[17]);
    expect(c5.tokens[7]).toBe('7');
    expect(c5.rareId).toBe(null);
  });

  it('without the JSON: field sizes = largest id + 1 (equal to field_dims on this slice)', async () => {
    const r = await loadDataset([fileOf(ENCODED, readData(ENCODED))]);
    const ds = ctr(r);
    const maxPlusOne = Array.from(
      { length: 39 },
      (_, f) => Math.max(...cells.map((c) => Number(c[3 + f]))) + 1,
    );
    expect(Array.from(ds.fieldDims)).toEqual(maxPlusOne);
    expect(Array.from(ds.fieldDims)).toEqual(anchor.field_dims);
    expect(r.report.notes.join('\n')).toMatch(/largest id \+ 1/);
  });

  it('buildReferenceDataset (strings / bytes, no streams) gives the same dataset as the loader', async () => {
    const loaded = ctr(
      await loadDataset([fileOf(ENCODED, readData(ENCODED)), fileOf(PEP_JSON, readData(PEP_JSON))]),
    );
    const fromBytes = buildReferenceDataset(readData(ENCODED), readData(PEP_JSON));
    const fromText = buildReferenceDataset(readText(ENCODED), readText(PEP_JSON), 'ref');
    for (const built of [fromBytes, fromText]) {
      expect(built.numRows).toBe(10_000);
      expect(built.ids).toEqual(loaded.ids);
      expect(built.labels).toEqual(loaded.labels);
      expect(built.fieldDims).toEqual(loaded.fieldDims);
      expect(built.fieldOffsets).toEqual(loaded.fieldOffsets);
      expect(built.split).toEqual(loaded.split);
      expect(built.totalVocabulary).toBe(2525);
      validateIds(built);
    }
    expect(fromText.name).toBe('ref');
  });

  it('raw Criteo + the DLRM row-number JSON: split 8000/1000/1000 in the JSON order', async () => {
    const split = JSON.parse(readText(DLRM_JSON)) as {
      train: number[];
      val: number[];
      test: number[];
    };
    const r = await loadDataset([
      fileOf(CRITEO, readData(CRITEO), [65536]),
      fileOf(DLRM_JSON, readData(DLRM_JSON)),
    ]);
    const ds = ctr(r);
    expect(r.report.format).toBe('criteo-tsv');
    expect(ds.numRows).toBe(10_000);
    expect(r.report.split).toMatchObject({
      mode: 'file',
      train: 8000,
      validation: 1000,
      test: 1000,
      unlisted: 0,
      listedRejected: 0,
      listedNotLoaded: 0,
    });
    expect(r.report.split.from).toContain('train/val/test');
    // Every raw row is loaded, so dataset row = raw row number.
    expect(Array.from(ds.split.train)).toEqual(split.train);
    expect(Array.from(ds.split.validation)).toEqual(split.val);
    expect(Array.from(ds.split.test)).toEqual(split.test);
    // The encoding is the raw loader's (min count 10), untouched by the split file.
    expect(ds.totalVocabulary).toBe(2525);
    expect(r.report.files.map((f) => f.role)).toEqual(['data', 'split-indices']);
    const rawLabels = readText(CRITEO)
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => Number(l.split('\t')[0]));
    expect(ds.split.test.reduce((s, row) => s + ds.labels[row], 0)).toBe(
      split.test.reduce((s, row) => s + rawLabels[row], 0),
    );
  });

  it('raw Criteo + the PEP JSON (train_indices / valid_indices / test_indices_in_loader_order)', async () => {
    const json = JSON.parse(readText(PEP_JSON)) as {
      train_indices: number[];
      test_indices_in_loader_order: number[];
    };
    const r = await loadDataset([
      fileOf(CRITEO, readData(CRITEO)),
      fileOf(PEP_JSON, readData(PEP_JSON)),
    ]);
    const ds = ctr(r);
    expect(r.report.split).toMatchObject({
      mode: 'file',
      train: 8000,
      validation: 1000,
      test: 1000,
    });
    expect(Array.from(ds.split.train)).toEqual(json.train_indices);
    expect(Array.from(ds.split.test)).toEqual(json.test_indices_in_loader_order);
    // The raw loader's field sizes match the reference's field_dims: said in the notes.
    expect(r.report.notes.join('\n')).toMatch(/field_dims of .* equal the field sizes found here/);
  });
});

describe('row-number split files on small inputs', () => {
  const rng = new Rng(11);
  const lines = Array.from({ length: 10 }, () => criteoLine(rng));
  lines[2] = '1\t2\t3'; // raw row 2 is malformed

  it('listed-but-rejected, unlisted and never-loaded rows are counted; split lists follow the JSON', async () => {
    const json = JSON.stringify({ train: [5, 0, 1, 2], val: [4, 3], test: [6, 12] });
    const r = await loadDataset(
      [fileOf('t.txt', lines.join('\n') + '\n', [7]), fileOf('split.json', json)],
      { minCount: 1 },
    );
    const ds = ctr(r);
    // Rows 7, 8, 9 are listed nowhere: dropped. Row 2 was rejected; row 12 does not exist.
    expect(ds.numRows).toBe(6);
    expect(r.report.rowsKept).toBe(6);
    expect(r.report.split).toMatchObject({
      mode: 'file',
      train: 3,
      validation: 2,
      test: 1,
      unlisted: 3,
      listedRejected: 1,
      listedNotLoaded: 1,
    });
    // Kept rows are raw rows 0, 1, 3, 4, 5, 6 -> dataset rows 0..5.
    expect(Array.from(ds.split.train)).toEqual([4, 0, 1]);
    expect(Array.from(ds.split.validation)).toEqual([3, 2]);
    expect(Array.from(ds.split.test)).toEqual([5]);
    const labelOf = (raw: number) => Number(lines[raw].split('\t')[0]);
    expect(Array.from(ds.labels)).toEqual([0, 1, 3, 4, 5, 6].map(labelOf));
    const notes = r.report.notes.join('\n');
    expect(notes).toMatch(/3 valid rows listed in no split were dropped/);
    expect(notes).toMatch(/1 rows listed in split.json were rejected .*rows 2\b/);
    expect(notes).toMatch(/1 rows listed in split.json were not loaded/);
    validateIds(ds);
  });

  it('row numbers skip the header line of a headed file, and count across parts', async () => {
    const header = [
      'Label',
      ...Array.from({ length: 13 }, (_, i) => `I${i + 1}`),
      ...Array.from({ length: 26 }, (_, i) => `C${i + 1}`),
    ].join(',');
    const good = lines.filter((_, i) => i !== 2).map((l) => l.replace(/\t/g, ','));
    const partA = [header, ...good.slice(0, 4)].join('\r\n');
    const partB = [header, ...good.slice(4)].join('\n');
    const json = JSON.stringify({ train: [0, 1, 2, 3, 4, 5, 6], val: [7], test: [8] });
    const r = await loadDataset([
      fileOf('a.csv', partA, [5]),
      fileOf('b.csv', partB),
      fileOf('s.json', json),
    ]);
    const ds = ctr(r);
    expect(r.report.format).toBe('criteo-csv-header');
    expect(r.report.split).toMatchObject({ train: 7, validation: 1, test: 1, unlisted: 0 });
    expect(ds.labels[ds.split.validation[0]]).toBe(Number(good[7].split(',')[0]));
    expect(ds.labels[ds.split.test[0]]).toBe(Number(good[8].split(',')[0]));
  });

  it('bad split files are whole-input errors that say what is wrong', async () => {
    const data = () => fileOf('t.txt', lines.join('\n'));
    const twice = await loadError(
      loadDataset([data(), fileOf('s.json', '{"train":[0,1],"val":[1],"test":[3]}')]),
    );
    expect(twice.code).toBe('bad-split-file');
    expect(twice.message).toMatch(/row 1 is listed twice \(in train and in validation\)/);
    const notJson = await loadError(loadDataset([data(), fileOf('s.json', '{"train": [0,')]));
    expect(notJson.code).toBe('bad-split-file');
    expect(notJson.message).toMatch(/not valid JSON/);
    const noKeys = await loadError(loadDataset([data(), fileOf('s.json', '{"rows": [0]}')]));
    expect(noKeys.message).toMatch(/neither a split .* nor field_dims \(keys seen: rows\)/);
    const negative = await loadError(
      loadDataset([data(), fileOf('s.json', '{"train":[-1],"val":[],"test":[]}')]),
    );
    expect(negative.message).toMatch(/"train"\[0\] is -1/);
    const alone = await loadError(loadDataset([fileOf('s.json', '{"field_dims":[3]}')]));
    expect(alone.code).toBe('missing-file');
    const nothingListed = await loadError(
      loadDataset([data(), fileOf('s.json', '{"train":[50],"val":[],"test":[]}')]),
    );
    expect(nothingListed.message).toMatch(/none of the rows listed/);
    const movielens = await loadError(
      loadDataset([fileOf('u.data', '1\t1\t5\t100\n'), fileOf('s.json', '{"field_dims":[3]}')]),
    );
    expect(movielens.message).toMatch(/not with MovieLens/);
  });
});

describe('reference-encoded files on small inputs', () => {
  it('ids >= field_dims and unknown split names are rejected rows with their reason', async () => {
    const csv = [
      REF_HEADER,
      refRow(0, 'train', 1),
      refRow(1, 'valid', 0, 1, [20, 4]), // C8 id 4 >= its size 4
      refRow(2, 'test', 0),
      refRow(3, 'holdout', 1), // bad split name
      refRow(4, 'train', 0, 3),
    ].join('\n');
    const dims = JSON.stringify({ field_dims: Array.from({ length: 39 }, () => 4) });
    const r = await loadDataset([fileOf('enc.csv', csv), fileOf('dims.json', dims)]);
    const ds = ctr(r);
    expect(r.report.format).toBe('criteo-reference-encoded');
    expect(ds.numRows).toBe(3);
    expect(Object.fromEntries(r.report.rejections.map((x) => [x.reason, x.sampleLines]))).toEqual({
      'id-out-of-range': [{ file: 'enc.csv', line: 3 }],
      'bad-split': [{ file: 'enc.csv', line: 5 }],
    });
    expect(r.report.notes.join('\n')).toMatch(/first: C8 id 4, field size 4/);
    expect(Array.from(ds.split.train)).toEqual([0, 2]);
    expect(Array.from(ds.split.validation)).toEqual([]);
    expect(Array.from(ds.split.test)).toEqual([1]);
    expect(ds.totalVocabulary).toBe(39 * 4);
    // The standalone builder refuses a reference file with malformed rows.
    expect(() => buildReferenceDataset(csv, dims)).toThrow(/2 malformed rows: .*id-out-of-range/);
    // Without field_dims, sizes are the largest id + 1; nothing is out of range.
    const free = ctr(await loadDataset([fileOf('enc.csv', csv)], {}));
    expect(free.numRows).toBe(4);
    expect(free.fieldDims[20]).toBe(5);
    expect(free.fieldDims[0]).toBe(4);
  });

  it('field_dims of the wrong length, a split-only JSON, and a forced format on a raw file are refused', async () => {
    const csv = [REF_HEADER, refRow(0, 'train', 1)].join('\n');
    const short = await loadError(
      loadDataset([fileOf('enc.csv', csv), fileOf('d.json', '{"field_dims":[2,2]}')]),
    );
    expect(short.message).toMatch(/field_dims has 2 sizes, the file has 39 fields/);
    const splitOnly = await loadError(
      loadDataset([fileOf('enc.csv', csv), fileOf('s.json', '{"train":[0],"val":[],"test":[]}')]),
    );
    expect(splitOnly.message).toMatch(/holds no field_dims; .* its own split column/);
    const raw = await loadError(
      loadDataset([fileOf('raw.txt', criteoLine(new Rng(1)))], {
        format: 'criteo-reference-encoded',
      }),
    );
    expect(raw.code).toBe('bad-mapping');
    expect(raw.message).toMatch(/row,split,label,I1..I13,C1..C26/);
  });
});
