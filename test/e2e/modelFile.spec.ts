import { readFile, writeFile } from 'node:fs/promises';
import { expect } from '@playwright/test';
import { test, TINY_RUN, trainToCompletion, waitForEngine, webGpuLaneOnly } from './lab';

// About the page, not the backend: trains on wasm (see labBackend in lab.ts).
test.use({ labBackend: 'wasm' });

test('train, export, reload, open the model file, evaluate: the same test AUC', async ({
  page,
}, info) => {
  webGpuLaneOnly('the model file');
  test.setTimeout(240_000);
  const url = `${TINY_RUN}&method=magnitude&sparsity=0.8&ftepochs=1`;
  await page.goto(url);
  await waitForEngine(page);
  await trainToCompletion(page);
  const testAuc = await page.getByTestId('test-auc').textContent();
  const runId = await page
    .locator('[data-testid^="export-run-"]')
    .first()
    .getAttribute('data-testid');
  const download = page.waitForEvent('download');
  await page.getByTestId(runId!).first().click();
  const path = await (await download).path();
  const file = JSON.parse(await readFile(path, 'utf8'));
  expect(file.format).toBe('recsys-lab-model');
  expect(file.embedding.kind).toBe('pruned');

  // A new page: nothing of the run is left in the engine, only the file.
  await page.goto(url);
  await waitForEngine(page);
  await page.getByTestId('model-file-input').setInputFiles(path);
  await expect(page.getByTestId('model-file-card')).toBeVisible();
  await expect(page.getByTestId('model-file-method')).toHaveText('Magnitude pruning');
  await expect(page.getByTestId('model-file-test-auc')).toHaveText(testAuc!);
  await page.getByTestId('model-file-evaluate').click();
  await expect(page.getByTestId('model-file-eval-auc')).toHaveText(testAuc!);

  // Bad files are refused with the reason; the model opened before stays.
  const bad = async (name: string, content: string, reason: RegExp) => {
    const p = info.outputPath(name);
    await writeFile(p, content);
    await page.getByTestId('model-file-input').setInputFiles(p);
    await expect(page.getByTestId('model-file-error')).toContainText(reason);
    await expect(page.getByTestId('model-file-method')).toHaveText('Magnitude pruning');
  };
  const text = JSON.stringify(file);
  await bad('notes.json', 'these are my notes', /not JSON/);
  await bad('other.json', JSON.stringify({ format: 'keras', version: 3 }), /not a RecSys/);
  await bad('truncated.json', text.slice(0, Math.floor(text.length / 2)), /truncated/);
});
