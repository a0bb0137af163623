import { readFile } from 'node:fs/promises';
import { expect } from '@playwright/test';
import { chartNumber, test, TINY_RUN, trainToCompletion, waitForEngine } from './lab';

/** PEP on the tiny synthetic slice: thresholds that start low and learn fast, one target. */
const PEP_RUN = `${TINY_RUN}&eupd=exact&method=pep&sinit=-8&gk=6&slr=0.05&targets=50&retrain=last&rtepochs=1`;

test('PEP through the form: sparsity rises, sizes appear, the retrained snapshot is plotted', async ({
  page,
}, info) => {
  test.skip(
    info.project.name !== 'webgpu',
    'runs in the WebGPU lane (the method is the same in both)',
  );
  test.setTimeout(300_000);
  await page.goto(PEP_RUN);
  await waitForEngine(page);
  await expect(page.getByTestId('field-method.id')).toHaveValue('pep');
  await expect(page.getByTestId('field-method.pep.targets')).toHaveValue('50');
  await trainToCompletion(page, 280_000);
  await expect(page.getByTestId('method-charts')).toHaveAttribute('data-method', 'pep');
  // The sparsity line over steps, the histogram of sizes and the sizes per field.
  expect(await chartNumber(page, 'method-chart-sparsity', 'data-points')).toBeGreaterThan(10);
  expect(await chartNumber(page, 'method-chart-sizes', 'data-points')).toBe(5); // sizes 0..4
  expect(await chartNumber(page, 'method-chart-field-sizes', 'data-points')).toBe(8);
  // The snapshot at 50% was taken and retrained: its point is on the AUC-vs-non-zeros chart.
  expect(await chartNumber(page, 'method-chart-retrained', 'data-points')).toBeGreaterThanOrEqual(
    2,
  );
  await expect(page.getByTestId('run-history')).toContainText('PEP');
  const sparsity = page.getByTestId('method-chart-sparsity');
  await expect(sparsity).toContainText('snapshot 50%');

  // The run's card lists the snapshot; its Export downloads a model file of its own: the
  // retrained model of that snapshot, with a pruned table.
  await page.getByTestId('history-open-1').click();
  await expect(page.getByTestId('run-snapshots')).toBeVisible();
  await expect(page.getByTestId('snapshot-row-1')).toContainText('50%');
  const download = page.waitForEvent('download');
  await page.locator('[data-testid^="export-snapshot-"][data-testid$="-1"]').click();
  const file = JSON.parse(await readFile((await (await download).path())!, 'utf8'));
  expect(file.format).toBe('recsys-lab-model');
  expect(file.embedding.kind).toBe('pruned');
  expect(file.compression.plan.snapshot).toBe(1);
  expect(file.compression.label).toContain('snapshot 1');
});
