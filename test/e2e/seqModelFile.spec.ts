import { readFile, writeFile } from 'node:fs/promises';
import { expect } from '@playwright/test';
import { test, waitForEngine } from './lab';

// About the page, not the backend: trains on wasm (see labBackend in lab.ts).
test.use({ labBackend: 'wasm' });

/**
 * A sequence model file in the Model files panel: a tiny CpRec (400 sessions of 8 over 100 items,
 * d 8, one residual block, one epoch, blocks cut at 20% and 50% of the items) trains, exports,
 * and after a reload opens from the file alone (routed to the sequence reader without being
 * asked), shows its card, and scores the same synthetic sequences to the test MRR@20 the run
 * reported. A broken file is refused with the reason while the opened model's card stays.
 * WebGPU lane only (the model is the same in both).
 */
const TINY_CPREC =
  '/?task=seq&seqs=400&items=100&len=8&sdim=8&dil=1-2&sepochs=1&smethod=cprec&cuts=0.2,0.5&factor=2';

test('train CpRec, export, reload, open the sequence model file, evaluate: the same test MRR@20', async ({
  page,
}, info) => {
  test.skip(info.project.name !== 'webgpu', 'runs in the WebGPU lane (the model is the same)');
  test.setTimeout(300_000);
  await page.goto(TINY_CPREC);
  await waitForEngine(page);
  await expect(page.getByTestId('task-seq')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('seq-form-invalid')).toHaveCount(0);
  // The panel is there in the next-item task too.
  await expect(page.getByTestId('model-file-panel')).toBeVisible();

  await page.getByTestId('seq-train-button').click();
  await expect(page.getByTestId('seq-result-card')).toBeVisible({ timeout: 180_000 });
  const testMrr = (await page.getByTestId('seq-test-mrr20').textContent()) ?? '';
  expect(testMrr).toMatch(/^[01]\.\d{4}$/);
  const download = page.waitForEvent('download');
  await page.getByTestId('seq-export-button').click();
  const path = (await (await download).path())!;
  const file = JSON.parse(await readFile(path, 'utf8')) as {
    format: string;
    tensors: Record<string, unknown>;
  };
  expect(file.format).toBe('recsys-lab-sequence-model');

  // A new page: nothing of the run is left in the engine, only the file.
  await page.reload();
  await waitForEngine(page);
  await page.getByTestId('model-file-input').setInputFiles(path);
  const card = page.getByTestId('model-file-card');
  await expect(card).toHaveAttribute('data-kind', 'sequence');
  await expect(page.getByTestId('model-file-method')).toHaveText('CpRec (cross-block)');
  await expect(page.getByTestId('model-file-seq-ratio')).toHaveText(/x fewer parameters$/);
  expect(Number(await card.getAttribute('data-params'))).toBeLessThan(
    Number(await card.getAttribute('data-uncompressed-params')),
  );
  await expect(page.getByTestId('model-file-seq-blocks')).toContainText('at d 4');
  for (const part of ['input', 'middle', 'softmax'])
    expect(
      Number(await page.getByTestId(`model-file-part-${part}`).getAttribute('data-params')),
    ).toBeGreaterThan(0);
  // The metrics stored in the file are the run's.
  await expect(page.getByTestId('model-file-seq-test-mrr20')).toHaveText(testMrr);
  await expect(page.getByTestId('model-file-seq-popular-mrr20')).toHaveText(/^[01]\.\d{4}$/);

  // Scored again on the same synthetic sequences: the same test MRR@20.
  await page.getByTestId('model-file-evaluate').click();
  const evaluated = page.getByTestId('model-file-seq-eval-mrr20');
  await expect(evaluated).toHaveText(/^[01]\.\d{4}$/, { timeout: 60_000 });
  expect(Math.abs(Number(await evaluated.textContent()) - Number(testMrr))).toBeLessThanOrEqual(
    0.0005,
  );
  await expect(page.getByTestId('model-file-seq-eval-popular-mrr20')).toHaveText(/^[01]\.\d{4}$/);
  await expect(page.getByTestId('model-file-error')).toHaveCount(0);

  // A broken file (a tensor removed) is refused with the reason; the opened model stays.
  delete file.tensors['softmax.H'];
  const broken = info.outputPath('broken-cprec.json');
  await writeFile(broken, JSON.stringify(file));
  await page.getByTestId('model-file-input').setInputFiles(broken);
  await expect(page.getByTestId('model-file-error')).toContainText(
    'broken-cprec.json: tensor softmax.H is missing',
  );
  await expect(card).toHaveAttribute('data-kind', 'sequence');
  await expect(page.getByTestId('model-file-method')).toHaveText('CpRec (cross-block)');
  // The engine still holds it too: evaluating again scores it, and the message goes.
  const first = (await evaluated.textContent()) ?? '';
  await page.getByTestId('model-file-evaluate').click();
  await expect(page.getByTestId('model-file-error')).toHaveCount(0);
  await expect(evaluated).toHaveText(first);
});
