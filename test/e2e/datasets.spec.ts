/**
 * Loading real dataset slices through the built app's file input: row counts, format, rejected
 * rows with their line numbers, fixed splits from the reference run's files, cancel, and
 * training on the loaded file.
 *
 * Lanes: parsing runs in the worker without tfjs, so it behaves the same with or without WebGPU;
 * the loading tests run in the 'fallback' lane only, and the one that trains on a loaded file
 * runs in the 'webgpu' lane only (the backend the lab targets). This halves the CI time.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { test, trainToCompletion, waitForEngine } from './lab';

const DATA_DIR = resolve(process.env.RECSYS_DATA_DIR ?? resolve(process.cwd(), '../shared/data'));
const CRITEO = join(DATA_DIR, 'criteo/criteo_dac_train_first10k.txt');
const AVAZU = join(DATA_DIR, 'avazu/avazu_train_first9k.csv');
const ML100K = ['u.data', 'u.user', 'u.item'].map((f) => join(DATA_DIR, 'movielens/ml-100k', f));
const SEQ_ML1M = join(DATA_DIR, 'sequential/grec_ml1m_ratings_seq20_order.txt');
const SEQ_SESSIONS = join(DATA_DIR, 'sequential/nextitnet_user-filter-20000items-session5.csv');
const ENCODED = join(DATA_DIR, 'anchors/criteo10k_encoded_seed42split.csv');
const PEP_JSON = join(DATA_DIR, 'anchors/criteo10k_split_seed42.json');
const DLRM_JSON = join(DATA_DIR, 'anchors/criteo10k_dlrm_split_seed123.json');
const HAVE_DATA = existsSync(CRITEO);

const LOAD_LANE = 'fallback';
const TRAIN_LANE = 'webgpu';

let tmp = '';
test.beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lab-datasets-'));
});
test.afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function needData(): void {
  test.skip(
    !HAVE_DATA,
    `real dataset slices not found in ${DATA_DIR} (set RECSYS_DATA_DIR to the folder with criteo/, avazu/, movielens/, sequential/)`,
  );
}

function loadLaneOnly(): void {
  test.skip(
    test.info().project.name !== LOAD_LANE,
    `parsing runs in the worker without tfjs, so it is the same in every lane: loading tests run in the '${LOAD_LANE}' lane only`,
  );
}

async function openLab(page: Page, search = '/'): Promise<void> {
  await page.goto(search);
  await waitForEngine(page);
}

async function loadFiles(page: Page, files: string[]): Promise<void> {
  await page.getByTestId('dataset-file-input').setInputFiles(files);
  await page.getByTestId('dataset-load-button').click();
  await expect(page.getByTestId('dataset-progress')).toHaveCount(0, { timeout: 120_000 });
}

async function expectCount(page: Page, testId: string, n: number): Promise<void> {
  const cell = page.getByTestId(testId);
  await expect(cell).toHaveAttribute('data-count', String(n));
  await expect(cell).toHaveText(n.toLocaleString('en-US'));
}

test.describe('loading real slices', () => {
  test.beforeEach(() => {
    loadLaneOnly();
    needData();
  });

  test('Criteo 10k: 10,000 rows, 39 fields, run source switches to the loaded file', async ({
    page,
  }) => {
    await openLab(page);
    await loadFiles(page, [CRITEO]);
    await expect(page.getByTestId('dataset-error')).toHaveCount(0);
    await expect(page.getByTestId('dataset-format')).toHaveAttribute('data-format', 'criteo-tsv');
    await expectCount(page, 'dataset-rows-kept', 10_000);
    await expectCount(page, 'dataset-rows-rejected', 0);
    await expect(page.getByTestId('dataset-label-mean')).toHaveText(/^0\.2\d{3}$/);
    await expect(page.getByTestId('dataset-split')).toContainText(
      'train 8,000 · validation 1,000 · test 1,000',
    );
    // The reference run's feature count on this slice (min count 10): N = 2,525.
    await expect(page.getByTestId('dataset-vocabulary')).toContainText('2,525 features');
    await expect(page.getByTestId('dataset-cardinality-chart')).toHaveAttribute(
      'data-fields',
      '39',
    );
    await expect(
      page.getByTestId('dataset-cardinality-chart').locator('svg').first(),
    ).toBeVisible();
    await expect(page.getByTestId('field-source')).toHaveValue('loaded');
  });

  test('the PEP reference encoding (encoded CSV + its JSON) and a row-number split file fix the split', async ({
    page,
  }) => {
    await openLab(page);
    await loadFiles(page, [ENCODED, PEP_JSON]);
    await expect(page.getByTestId('dataset-error')).toHaveCount(0);
    await expect(page.getByTestId('dataset-format')).toHaveAttribute(
      'data-format',
      'criteo-reference-encoded',
    );
    await expect(page.getByTestId('dataset-name')).toHaveText('criteo10k_encoded_seed42split.csv');
    await expectCount(page, 'dataset-rows-kept', 10_000);
    await expectCount(page, 'dataset-rows-rejected', 0);
    const split = page.getByTestId('dataset-split');
    await expect(split).toHaveAttribute('data-mode', 'file');
    await expect(split).toContainText('train 8,000 · validation 1,000 · test 1,000');
    await expect(page.getByTestId('dataset-split-source')).toContainText(
      'split column of criteo10k_encoded_seed42split.csv',
    );
    await expect(page.getByTestId('dataset-vocabulary')).toContainText(
      '2,525 features as encoded by the reference',
    );
    await expect(page.getByTestId('dataset-summary')).toContainText(
      'criteo10k_split_seed42.json (field-dims)',
    );
    await expect(page.getByTestId('field-source')).toHaveValue('loaded');

    // The raw slice with the DLRM run's row numbers: the same split sizes, from the JSON.
    await loadFiles(page, [CRITEO, DLRM_JSON]);
    await expect(page.getByTestId('dataset-format')).toHaveAttribute('data-format', 'criteo-tsv');
    await expect(split).toContainText('train 8,000 · validation 1,000 · test 1,000');
    await expect(page.getByTestId('dataset-split-source')).toContainText(
      'row numbers in criteo10k_dlrm_split_seed123.json (train/val/test)',
    );
    await expect(page.getByTestId('dataset-vocabulary')).toContainText('2,525 features');
  });

  test('Avazu 9k: 8,999 rows with the header detected', async ({ page }) => {
    await openLab(page);
    await loadFiles(page, [AVAZU]);
    await expect(page.getByTestId('dataset-format')).toHaveAttribute(
      'data-format',
      'avazu-csv-header',
    );
    await expectCount(page, 'dataset-rows-kept', 8_999);
    await expectCount(page, 'dataset-rows-rejected', 0);
    await expect(page.getByTestId('dataset-cardinality-chart')).toHaveAttribute(
      'data-fields',
      '22',
    );
  });

  test('MovieLens 100K from u.data + u.user + u.item: 72,855 rows after dropping rating 3', async ({
    page,
  }) => {
    await openLab(page);
    await loadFiles(page, ML100K);
    await expect(page.getByTestId('dataset-format')).toHaveAttribute(
      'data-format',
      'movielens-100k',
    );
    await expectCount(page, 'dataset-rows-kept', 72_855);
    await expectCount(page, 'dataset-rows-filtered', 100_000 - 72_855);
    await expectCount(page, 'dataset-rows-rejected', 0);
    await expect(page.getByTestId('dataset-summary')).toContainText('u.item (items)');
  });

  test('both sequence files: 25,242 and 1,804 sequences', async ({ page }) => {
    await openLab(page);
    await loadFiles(page, [SEQ_ML1M]);
    await expect(page.getByTestId('dataset-format')).toHaveAttribute('data-format', 'sequences');
    await expectCount(page, 'dataset-rows-kept', 25_242);
    await expectCount(page, 'dataset-rows-rejected', 0);
    await loadFiles(page, [SEQ_SESSIONS]);
    await expect(page.getByTestId('dataset-name')).toHaveText(
      'nextitnet_user-filter-20000items-session5.csv',
    );
    await expectCount(page, 'dataset-rows-kept', 1_804);
    await expectCount(page, 'dataset-rows-rejected', 0);
    // Sequences are not click-through rows: the lab switches to the sequence task with the file
    // as its data, and the click-through form keeps its synthetic source.
    await expect(page.getByTestId('field-seq.source')).toHaveValue('loaded');
    await page.getByTestId('task-ctr').click();
    await expect(page.getByTestId('field-source')).toHaveValue('synthetic');
  });
});

test.describe('bad input', () => {
  test.beforeEach(() => {
    loadLaneOnly();
    needData();
  });

  test('a binary file gets a clear message and the loaded dataset is kept', async ({ page }) => {
    const binary = join(tmp, 'model.bin');
    const bytes = new Uint8Array(4096);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      bytes[i] = i % 7 === 0 ? 0 : x >>> 24;
    }
    writeFileSync(binary, bytes);

    await openLab(page);
    await loadFiles(page, [CRITEO]);
    await expectCount(page, 'dataset-rows-kept', 10_000);
    await loadFiles(page, [binary]);
    const error = page.getByTestId('dataset-error');
    await expect(error).toHaveAttribute('data-kind', 'invalid');
    await expect(error).toContainText('model.bin is not a text file');
    await expect(error).toContainText('is kept');
    // The previous dataset is still the one shown and used; the engine did not restart.
    await expect(page.getByTestId('dataset-name')).toHaveText('criteo_dac_train_first10k.txt');
    await expectCount(page, 'dataset-rows-kept', 10_000);
    await expect(page.getByTestId('engine-status')).toHaveText('engine ready');
    await expect(page.getByTestId('field-source')).toHaveValue('loaded');
  });

  test('corrupted Criteo lines are counted per reason with their line numbers', async ({
    page,
  }) => {
    const lines = readFileSync(CRITEO, 'utf8').split('\n').slice(0, 2000);
    const cols = (i: number) => lines[i - 1].split('\t');
    const corrupt = (lineNo: number, edit: (c: string[]) => string[]) => {
      lines[lineNo - 1] = edit(cols(lineNo)).join('\t');
    };
    corrupt(5, (c) => c.slice(0, 30)); // wrong-column-count
    corrupt(77, (c) => [...c, 'extra']); // wrong-column-count
    corrupt(10, (c) => ['yes', ...c.slice(1)]); // bad-label
    corrupt(1500, (c) => [c[0], 'abc', ...c.slice(2)]); // bad-number (I1)
    lines[999] = ''; // empty-line at 1000
    const file = join(tmp, 'criteo_corrupted.txt');
    writeFileSync(file, `${lines.join('\n')}\n`);

    await openLab(page);
    await loadFiles(page, [file]);
    await expect(page.getByTestId('dataset-error')).toHaveCount(0);
    await expectCount(page, 'dataset-rows-kept', 1995);
    await expectCount(page, 'dataset-rows-rejected', 5);
    const table = page.getByTestId('dataset-rejections');
    const row = (reason: string) => table.getByTestId(`dataset-rejection-${reason}`);
    await expect(row('wrong-column-count')).toContainText(
      'criteo_corrupted.txt:5, criteo_corrupted.txt:77',
    );
    await expect(row('wrong-column-count').locator('td').nth(1)).toHaveText('2');
    await expect(row('bad-label')).toContainText('criteo_corrupted.txt:10');
    await expect(row('bad-number')).toContainText('criteo_corrupted.txt:1500');
    await expect(row('empty-line')).toContainText('criteo_corrupted.txt:1000');
  });

  test('a CSV with a header needs a column mapping, which the mapping step provides', async ({
    page,
  }) => {
    const rows = ['id,color,size,price,clicked'];
    for (let i = 0; i < 400; i++) {
      const color = ['red', 'green', 'blue'][i % 3];
      rows.push(
        `${i},${color},${['S', 'M', 'L', 'XL'][i % 4]},${(i % 50) + 0.5},${i % 3 === 0 ? 1 : 0}`,
      );
    }
    const file = join(tmp, 'shop.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);

    await openLab(page);
    await loadFiles(page, [file]);
    await expect(page.getByTestId('dataset-error')).toContainText('column mapping');
    await page.getByTestId('dataset-map-columns-button').click();
    await expect(page.getByTestId('dataset-column-mapping')).toBeVisible();
    // Guessed: 'clicked' is the label, 'id' ignored, the rest categorical; make price numeric.
    await expect(page.getByTestId('dataset-column-role-4')).toHaveValue('label');
    await expect(page.getByTestId('dataset-column-role-0')).toHaveValue('ignore');
    await page.getByTestId('dataset-column-role-3').selectOption('numeric');
    await page.getByTestId('dataset-minCount').fill('1');
    await page.getByTestId('dataset-load-button').click();
    await expect(page.getByTestId('dataset-summary')).toBeVisible();
    await expect(page.getByTestId('dataset-format')).toHaveAttribute('data-format', 'generic-csv');
    await expectCount(page, 'dataset-rows-kept', 400);
    await expect(page.getByTestId('dataset-label-mean')).toHaveText('0.3350');
    await expect(page.getByTestId('dataset-cardinality-chart')).toHaveAttribute('data-fields', '3');
  });

  test('cancelling a long load keeps the worker and the dataset loaded before', async ({
    page,
  }) => {
    // ~60 MB of Criteo text: long enough to still be parsing when Cancel is pressed.
    const slice = readFileSync(CRITEO);
    const big = join(tmp, 'criteo_big.txt');
    writeFileSync(big, Buffer.concat(Array.from({ length: 25 }, () => slice)));

    await openLab(page);
    await loadFiles(page, [CRITEO]);
    await expectCount(page, 'dataset-rows-kept', 10_000);
    await page.getByTestId('dataset-file-input').setInputFiles([big]);
    await page.getByTestId('dataset-load-button').click();
    await expect(page.getByTestId('dataset-progress')).toBeVisible();
    await expect
      .poll(async () =>
        Number((await page.getByTestId('dataset-progress-rows').textContent())?.replace(/,/g, '')),
      )
      .toBeGreaterThan(0);
    await page.getByTestId('dataset-cancel-button').click();
    const error = page.getByTestId('dataset-error');
    await expect(error).toHaveAttribute('data-kind', 'cancelled', { timeout: 30_000 });
    await expect(error).toContainText('criteo_dac_train_first10k.txt');
    await expect(page.getByTestId('dataset-name')).toHaveText('criteo_dac_train_first10k.txt');
    await expectCount(page, 'dataset-rows-kept', 10_000);
    await expect(page.getByTestId('engine-status')).toHaveText('engine ready');
  });
});

test('a tiny FM trains on the loaded Criteo slice', async ({ page }, info) => {
  test.skip(
    info.project.name !== TRAIN_LANE,
    `training on a loaded file runs in the '${TRAIN_LANE}' lane only (the backend the lab targets); the loading itself is covered in '${LOAD_LANE}'`,
  );
  needData();
  await openLab(page, '/?model=fm&dim=4&epochs=1&batch=256&lr=0.01');
  await loadFiles(page, [CRITEO]);
  await expectCount(page, 'dataset-rows-kept', 10_000);
  await expect(page.getByTestId('field-source')).toHaveValue('loaded');
  await trainToCompletion(page);
  await expect(page.getByTestId('test-auc')).toHaveText(/^0\.\d{4}$/);
  await expect(page.getByTestId('run-history')).toContainText('fm');
  // The loaded dataset is still there for the next run.
  await expectCount(page, 'dataset-rows-kept', 10_000);
});
