import { readFile } from 'node:fs/promises';
import { expect } from '@playwright/test';
import {
  chartNumber,
  test,
  TINY_RUN,
  trainToCompletion,
  waitForEngine,
  webGpuLaneOnly,
} from './lab';

// About the page, not the backend: trains on wasm (see labBackend in lab.ts).
test.use({ labBackend: 'wasm' });

test('a baseline picked in the form trains, and its method charts fill', async ({ page }) => {
  webGpuLaneOnly('the method form');
  await page.goto(TINY_RUN);
  await waitForEngine(page);
  await page.getByTestId('field-method.id').selectOption('magnitude');
  await expect(page.getByTestId('method-summary')).toContainText('smallest |v|');
  await page.getByTestId('field-method.magnitude.sparsity').fill('0.8');
  await page.getByTestId('field-method.magnitude.fineTuneEpochs').fill('1');
  expect(new URL(page.url()).searchParams.get('method')).toBe('magnitude');
  expect(new URL(page.url()).searchParams.get('sparsity')).toBe('0.8');
  // The model card already shows the dense reference the method starts from.
  await expect(page.getByTestId('model-part-embedding')).toBeVisible();
  await trainToCompletion(page);
  await expect(page.getByTestId('method-charts')).toHaveAttribute('data-method', 'magnitude');
  await expect
    .poll(() => chartNumber(page, 'method-chart-sparsity', 'data-points'))
    .toBeGreaterThan(10);
  await expect.poll(() => chartNumber(page, 'method-chart-kept', 'data-points')).toBe(8);
  await expect
    .poll(() => chartNumber(page, 'method-chart-magnitudes', 'data-points'))
    .toBeGreaterThan(5);
  await expect(page.getByTestId('run-phase')).toContainText('2/2');
  await expect(page.getByTestId('run-history')).toContainText('Magnitude pruning');
  // The finished run keeps its model in the worker: the header counts it and can free it.
  await expect(page.getByTestId('kept-runs-bytes')).toHaveAttribute('data-count', '1');
  await page.getByTestId('kept-runs').locator('summary').click();
  await page.getByTestId('kept-runs').getByRole('button', { name: 'free' }).click();
  await expect(page.getByTestId('kept-runs-bytes')).toHaveAttribute('data-count', '0');
});

test('a method option out of range is refused in the form, and what was typed stays', async ({
  page,
}) => {
  webGpuLaneOnly('the method form');
  await page.goto(`${TINY_RUN}&method=hashing`);
  await waitForEngine(page);
  const input = page.getByTestId('field-method.hashing.fraction');
  await input.fill('1.5');
  await expect(page.getByTestId('error-method.hashing.fraction')).toContainText('at most 1');
  await expect(page.getByTestId('train-button')).toBeDisabled();
  await expect(input).toHaveValue('1.5');
  // Switching methods and back keeps the typed value.
  await page.getByTestId('field-method.id').selectOption('qr');
  await page.getByTestId('field-method.id').selectOption('hashing');
  await expect(page.getByTestId('field-method.hashing.fraction')).toHaveValue('1.5');
});

test('a downloaded config opens again, and a bad one marks its fields', async ({ page }, info) => {
  webGpuLaneOnly('the method form');
  await page.goto(`${TINY_RUN}&method=qr&qrc=8`);
  await waitForEngine(page);
  const download = page.waitForEvent('download');
  await page.getByTestId('download-config').click();
  const path = await (await download).path();
  const config = JSON.parse(await readFile(path, 'utf8'));
  expect(config.method).toEqual({
    id: 'qr',
    options: { collisions: 8, operation: 'mult', threshold: 200 },
  });
  expect(config.train.embeddingDim).toBe(4);

  await page.goto('/');
  await waitForEngine(page);
  const bad = { ...config, train: { ...config.train, batchSize: 0, learningRate: 0.02 } };
  const file = info.outputPath('bad-config.json');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, JSON.stringify(bad));
  await page.getByTestId('open-config-input').setInputFiles(file);
  await expect(page.getByTestId('field-method.id')).toHaveValue('qr');
  await expect(page.getByTestId('field-method.qr.collisions')).toHaveValue('8');
  await expect(page.getByTestId('field-train.learningRate')).toHaveValue('0.02');
  await expect(page.getByTestId('error-train.batchSize')).toBeVisible();
  await expect(page.getByTestId('train-button')).toBeDisabled();
});
