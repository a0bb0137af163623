import { readFile } from 'node:fs/promises';
import { expect } from '@playwright/test';
import {
  chartNumber,
  putStoredRun,
  readStoredRuns,
  test,
  TINY_RUN,
  trainToCompletion,
  waitForEngine,
  webGpuLaneOnly,
} from './lab';

// About the page, not the backend: trains on wasm (see labBackend in lab.ts).
test.use({ labBackend: 'wasm' });

// Each test gets a fresh browser context, so storage starts empty and runs count from 1.

test('a run cut off by a reload is listed as interrupted, with its curve up to the last save', async ({
  page,
}) => {
  webGpuLaneOnly('the run history');
  // Long enough on wasm (a few ms a step) to still be running when the page reloads.
  await page.goto(TINY_RUN.replace('epochs=3', 'epochs=1000'));
  await waitForEngine(page);
  expect(await readStoredRuns(page)).toEqual([]);
  await page.getByTestId('train-button').click();
  await expect
    .poll(() => chartNumber(page, 'loss-chart', 'data-points'), { timeout: 60_000 })
    .toBeGreaterThan(0);
  // The run is saved while it goes (every ~2 s): wait for a save with loss points in it.
  await expect
    .poll(
      async () => {
        const [record] = await readStoredRuns(page);
        return record?.status === 'running' ? (record.lossPoints as unknown[]).length : 0;
      },
      { timeout: 20_000 },
    )
    .toBeGreaterThan(0);
  await expect(page.getByTestId('run-state')).toHaveText('running');
  // A long run shows how long it has left.
  await expect(page.getByTestId('run-eta')).toHaveText(/^\d+ (s|min \d\d s)$|^\d+ h \d\d min$/);

  await page.reload();
  const row = page.getByTestId('history-row-1');
  await expect(row).toHaveAttribute('data-status', 'interrupted');
  await expect(page.getByTestId('run-status-1')).toHaveText('interrupted');
  await expect(page.getByTestId('storage-usage')).toContainText('1 run stored');
  // Its curve, as far as it was saved.
  await page.getByTestId('history-open-1').click();
  await expect(page.getByTestId('run-detail-status')).toHaveText('interrupted');
  await expect.poll(() => chartNumber(page, 'run-detail-loss', 'data-points')).toBeGreaterThan(0);
  // Storage says so too, for the next load.
  await expect.poll(async () => (await readStoredRuns(page))[0]?.status).toBe('interrupted');

  // A new run after the reload takes the next id: the stored run is not overwritten. (Enter
  // submits the form: the model card redrawn after the edit may scroll the page under a click.)
  await page.getByTestId('run-detail-close').click();
  await waitForEngine(page);
  await page.getByTestId('field-train.epochs').fill('1');
  await page.getByTestId('field-train.epochs').press('Enter');
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 180_000 });
  await expect(page.getByTestId('history-row-2')).toHaveAttribute('data-status', 'finished');
  await expect(row).toHaveAttribute('data-status', 'interrupted');
});

test('a finished run survives a reload and exports its stored model file; a corrupt record is skipped with a notice', async ({
  page,
}) => {
  webGpuLaneOnly('the run history');
  await page.goto(TINY_RUN);
  await waitForEngine(page);
  await trainToCompletion(page);
  const row = page.getByTestId('history-row-1');
  // The record and, right after it, the model file exported from the engine are stored.
  await expect(row).toHaveAttribute('data-model-file', 'stored', { timeout: 60_000 });
  const testAuc = await page.getByTestId('history-test-auc-1').textContent();

  await page.reload();
  await expect(row).toHaveAttribute('data-status', 'finished');
  await expect(page.getByTestId('history-test-auc-1')).toHaveText(testAuc!);
  await expect(page.getByTestId('storage-usage')).toContainText(/1 run stored, [\d.]+ (KB|MB)/);
  // Export reads the stored file (the new engine holds no model of the run).
  const download = page.waitForEvent('download');
  await page.getByTestId('export-stored-1').click();
  const file = JSON.parse(await readFile((await (await download).path())!, 'utf8'));
  expect(file.format).toBe('recsys-lab-model');

  // Rename: kept across a reload.
  await page.getByTestId('rename-run-1').click();
  await page.getByTestId('rename-input-1').fill('dense baseline');
  await page.getByTestId('rename-input-1').press('Enter');
  await expect(page.getByTestId('run-name-1')).toHaveText('dense baseline');
  await expect.poll(async () => (await readStoredRuns(page))[0]?.name).toBe('dense baseline');

  // Records that are not valid (written straight into IndexedDB) are skipped with a notice; a
  // valid one written beside them (a smaller copy of run 1) is restored with run 1.
  const [stored] = await readStoredRuns(page);
  const storedResult = stored.result as { model: { totalParams: number } };
  await putStoredRun(page, {
    ...stored,
    id: 5,
    name: 'a smaller copy',
    modelFileBytes: 0,
    result: {
      ...storedResult,
      model: { ...storedResult.model, totalParams: Math.round(storedResult.model.totalParams / 2) },
    },
  });
  await putStoredRun(page, { id: 7, version: 1, name: 'broken', status: 'exploded' });
  await putStoredRun(page, { id: 8, version: 1, name: 5 });
  await page.reload();
  const notice = page.getByTestId('storage-skipped-notice');
  await expect(notice).toContainText('2 stored run records were skipped');
  await expect(notice).toContainText('record #7: unknown status "exploded"');
  await expect(notice).toContainText('record #8: name must be text');
  await expect(row).toHaveAttribute('data-status', 'finished');
  await expect(page.getByTestId('run-name-1')).toHaveText('dense baseline');
  await expect(page.getByTestId('run-name-5')).toHaveText('a smaller copy');
  await expect(page.getByTestId('history-row-7')).toHaveCount(0);
  await expect(page.getByTestId('storage-usage')).toContainText('2 runs stored');
  // Restored finished runs are compared on the Pareto chart; a click opens one.
  const chart = page.getByTestId('pareto-chart');
  await expect(chart).toHaveAttribute('data-points', '2');
  await expect(page.getByTestId('pareto-point-5')).toHaveAttribute('data-on-front', 'true');
  await page.getByTestId('pareto-point-5').click();
  await expect(page.getByTestId('run-detail-title')).toHaveText('Run #5');
  await expect(page.getByTestId('run-detail-status')).toHaveText('finished');
  await page.getByTestId('remove-skipped').click();
  await expect(notice).toHaveCount(0);
  await expect.poll(async () => (await readStoredRuns(page)).length).toBe(2);

  // Duplicate and edit loads the run's settings into the form.
  await page.getByTestId('field-train.embeddingDim').fill('8');
  await page.getByTestId('duplicate-run-1').click();
  await expect(page.getByTestId('field-train.embeddingDim')).toHaveValue('4');

  // Delete frees what was stored; Delete all (confirmed) frees the rest.
  await page.getByTestId('delete-run-1').click();
  await expect(row).toHaveCount(0);
  await expect.poll(async () => (await readStoredRuns(page)).map((r) => r.id)).toEqual([5]);
  await expect(page.getByTestId('storage-usage')).toContainText('1 run stored');
  await page.getByTestId('delete-all-runs').click();
  await page.getByTestId('delete-all-confirm').click();
  await expect(page.getByTestId('run-history')).toHaveCount(0);
  await expect.poll(async () => (await readStoredRuns(page)).length).toBe(0);
});

test('without storage, runs go on in memory and a banner says so once', async ({ page }) => {
  webGpuLaneOnly('the run history');
  await page.addInitScript(() => {
    Object.defineProperty(window, 'indexedDB', { get: () => undefined });
  });
  await page.goto(TINY_RUN.replace('epochs=3', 'epochs=1'));
  await expect(page.getByTestId('error-banner')).toContainText('cannot be stored');
  await waitForEngine(page);
  await trainToCompletion(page);
  await expect(page.getByTestId('history-row-1')).toHaveAttribute('data-status', 'finished');
  await expect(page.getByTestId('history-row-1')).toHaveAttribute('data-saved', 'false');
  await expect(page.getByTestId('storage-unavailable')).toBeVisible();
});
