import { readFile } from 'node:fs/promises';
import { expect } from '@playwright/test';
import { chartNumber, readStoredRuns, test, waitForEngine, webGpuLaneOnly } from './lab';

// About the page, not the backend: trains on wasm (see labBackend in lab.ts).
test.use({ labBackend: 'wasm' });

/**
 * Next-item runs in the run history and in Compare: a tiny NextItNet and a tiny CpRec (400
 * sessions of 8 over 100 items, d 8, one residual block, one epoch: seconds each on wasm)
 * are stored as they train, listed in the Runs table, compared on test MRR@20 against their size,
 * and still listed and exported after a reload. WebGPU lane only (the page is the same in both).
 */
const TINY_SEQ = '/?task=seq&seqs=400&items=100&len=8&sdim=8&dil=1-2&sepochs=1&smethod=none';

test('sequence runs are stored, listed, compared on MRR@20, and exported after a reload', async ({
  page,
}) => {
  webGpuLaneOnly('the model');
  test.setTimeout(420_000);
  await page.goto(TINY_SEQ);
  await waitForEngine(page);
  await expect(page.getByTestId('task-seq')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('seq-form-invalid')).toHaveCount(0);

  // Run #1: the uncompressed NextItNet.
  await page.getByTestId('seq-train-button').click();
  const row1 = page.getByTestId('history-row-1');
  await expect(row1).toHaveAttribute('data-status', 'finished', { timeout: 180_000 });
  await expect(row1).toHaveAttribute('data-task', 'seq');
  await expect(page.getByTestId('history-method-1')).toHaveText('NextItNet');
  await expect(row1).toHaveAttribute('data-model-file', 'stored', { timeout: 60_000 });
  // No comparison with a single finished run.
  await expect(page.getByTestId('compare-panel')).toHaveCount(0);

  // Run #2: CpRec with its one block's two convs sharing a kernel (a smaller model).
  await page.getByTestId('field-seq.method').selectOption('cprec');
  await page.getByTestId('field-seq.cprec.factor').fill('2');
  await page.getByTestId('field-seq.cprec.sharing').selectOption('cross-layer');
  await expect(page.getByTestId('seq-form-invalid')).toHaveCount(0);
  await page.getByTestId('seq-train-button').click();
  const row2 = page.getByTestId('history-row-2');
  await expect(row2).toHaveAttribute('data-status', 'finished', { timeout: 180_000 });
  await expect(page.getByTestId('history-method-2')).toHaveText('CpRec (cross-layer)');
  await expect(row2).toHaveAttribute('data-model-file', 'stored', { timeout: 60_000 });
  const params = async (id: number) =>
    Number(
      (await page.getByTestId(`history-params-${id}`).textContent())?.replace(/k$/, 'e3') ?? '',
    );
  expect(await params(2)).toBeLessThan(await params(1));
  const testMrr = await page.getByTestId('history-test-mrr20-2').textContent();
  expect(testMrr).toMatch(/^[01]\.\d{4}$/);
  await expect(page.getByTestId('history-best-val-2')).toHaveText(/^[01]\.\d{4}$/);

  // Compare: the two next-item runs on parameters against test MRR@20, with their front.
  const panel = page.getByTestId('compare-panel');
  await expect(panel).toHaveAttribute('data-task', 'seq');
  const chart = page.getByTestId('pareto-chart');
  await expect(chart).toHaveAttribute('data-points', '2');
  await expect(chart).toHaveAttribute('data-quality', 'test MRR@20');
  await expect(page.getByTestId('pareto-point-2')).toHaveAttribute('data-on-front', 'true');
  await expect(chart.getByTestId('pareto-front-line')).toHaveAttribute('d', /^M[\d.]+,[\d.]+/);
  await page.getByTestId('compare-metric').selectOption('hr20');
  await expect(chart).toHaveAttribute('data-quality', 'test HR@20');
  await page.getByTestId('compare-run-1').check();
  await page.getByTestId('compare-run-2').check();
  const curves = page.getByTestId('compare-curves');
  await expect(curves).toHaveAttribute('data-runs', '2');
  await expect(curves).toHaveAttribute('data-points', '2');

  // The records are in IndexedDB as next-item runs.
  const stored = await readStoredRuns(page);
  expect(stored.map((r) => [r.id, r.task, r.status])).toEqual([
    [1, 'seq', 'finished'],
    [2, 'seq', 'finished'],
  ]);

  await page.reload();
  await expect(row1).toHaveAttribute('data-status', 'finished');
  await expect(row2).toHaveAttribute('data-status', 'finished');
  await expect(page.getByTestId('history-test-mrr20-2')).toHaveText(testMrr!);
  await expect(page.getByTestId('storage-usage')).toContainText('2 runs stored');
  // Export reads the stored file (the new engine holds no sequence model).
  const download = page.waitForEvent('download');
  await page.getByTestId('export-stored-2').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('model-nextitnet-cprec-run2.json');
  const model = JSON.parse(await readFile((await file.path())!, 'utf8')) as { format: string };
  expect(model.format).toBe('recsys-lab-sequence-model');

  // A click on its point opens the run's card: settings, test metrics, curves.
  await page.getByTestId('pareto-point-2').click();
  await expect(page.getByTestId('run-detail-title')).toHaveText('Run #2');
  await expect(page.getByTestId('run-detail-method')).toHaveText('CpRec (cross-layer)');
  await expect(page.getByTestId('run-detail-test-mrr20')).toHaveText(testMrr!);
  await expect(page.getByTestId('run-detail-ranking')).toHaveAttribute('data-points', '1');
  await expect.poll(() => chartNumber(page, 'run-detail-loss', 'data-points')).toBeGreaterThan(0);
  await expect(row2).toHaveAttribute('data-selected', 'true');

  // The runs are listed in the click-through task too; duplicate and edit brings the settings
  // back into the next-item form and shows that task.
  await page.getByTestId('task-ctr').click();
  await expect(row2).toBeVisible();
  await page.getByTestId('duplicate-run-2').click();
  await expect(page.getByTestId('task-seq')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('field-seq.method')).toHaveValue('cprec');
  await expect(page.getByTestId('field-seq.cprec.sharing')).toHaveValue('cross-layer');
  await expect(page.getByTestId('field-seq.train.embeddingDim')).toHaveValue('8');

  await page.getByTestId('delete-run-1').click();
  await expect(row1).toHaveCount(0);
  await expect.poll(async () => (await readStoredRuns(page)).map((r) => r.id)).toEqual([2]);
});

test('a sequence run cut off by a reload is listed as interrupted, with its curve', async ({
  page,
}) => {
  webGpuLaneOnly('the model');
  test.setTimeout(240_000);
  await page.goto(TINY_SEQ.replace('sepochs=1', 'sepochs=1000'));
  await waitForEngine(page);
  await page.getByTestId('seq-train-button').click();
  await expect(page.getByTestId('seq-run-state')).toHaveText('running', { timeout: 120_000 });
  // Saved while it goes (every ~2 s): wait for a save with loss points in it.
  await expect
    .poll(
      async () => {
        const [record] = await readStoredRuns(page);
        return record?.status === 'running' ? (record.lossPoints as unknown[]).length : 0;
      },
      { timeout: 30_000 },
    )
    .toBeGreaterThan(0);
  await page.reload();
  const row = page.getByTestId('history-row-1');
  await expect(row).toHaveAttribute('data-status', 'interrupted');
  await expect(row).toHaveAttribute('data-task', 'seq');
  await page.getByTestId('history-open-1').click();
  await expect(page.getByTestId('run-detail-status')).toHaveText('interrupted');
  await expect.poll(() => chartNumber(page, 'run-detail-loss', 'data-points')).toBeGreaterThan(0);
  await expect.poll(async () => (await readStoredRuns(page))[0]?.status).toBe('interrupted');
});
