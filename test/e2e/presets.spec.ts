import { expect, type Page } from '@playwright/test';
import { chartNumber, test, trainToCompletion, waitForEngine } from './lab';

/**
 * The presets menu: "CpRec quick demo" switches to the next-item task and fills its form;
 * "Quick demo" fills the click-through form and trains to a compressed model. The demo is sized
 * for wasm (or a real GPU): SwiftShader's emulated WebGPU takes ~0.4 s a step, so the page is
 * opened on wasm, as the header suggests on such an adapter. Runs in the WebGPU lane.
 */
async function applyPreset(page: Page, id: string): Promise<void> {
  const toggle = page.getByTestId('presets-toggle');
  const entry = page.getByTestId(`preset-${id}`);
  if (!(await entry.isVisible())) await toggle.click();
  await expect(entry).toBeVisible();
  await entry.click();
}

test('presets: CpRec quick demo fills the sequence form; Quick demo trains a compressed model', async ({
  page,
}, info) => {
  test.skip(info.project.name !== 'webgpu', 'runs in the WebGPU lane (the presets are the same)');
  test.setTimeout(180_000);
  await page.goto('/?backend=wasm');
  expect(await waitForEngine(page)).toBe('wasm');
  await expect(page.getByTestId('task-ctr')).toHaveAttribute('aria-pressed', 'true');

  // Every entry says what it sets up; the ones on a loaded file say what to load first.
  await page.getByTestId('presets-toggle').click();
  await expect(page.getByTestId('preset-entry-cprec-quick')).toContainText('3,000 synthetic');
  await expect(page.getByTestId('preset-needs-pep-criteo-paper')).toContainText(
    'criteo_dac_train_first10k.txt',
  );

  await applyPreset(page, 'cprec-quick');
  await expect(page.getByTestId('task-seq')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('seq-form')).toBeVisible();
  for (const [field, value] of [
    ['seq.source', 'synthetic'],
    ['seq.data.numSequences', '3000'],
    ['seq.data.numItems', '600'],
    ['seq.data.length', '12'],
    ['seq.train.embeddingDim', '32'],
    ['seq.train.epochs', '4'],
    ['seq.train.learningRate', '0.005'],
    ['seq.method', 'cprec'],
    ['seq.cprec.cutPoints', '0.2,0.5'],
    ['seq.cprec.factor', '4'],
    ['seq.cprec.sharing', 'cross-block'],
  ] as const) {
    await expect(page.getByTestId(`field-${field}`), field).toHaveValue(value);
  }
  await expect(page.getByTestId('seq-form-invalid')).toHaveCount(0);
  await expect(page.getByTestId('error-banner')).toContainText('Preset applied: CpRec quick demo');
  // The link reproduces it (and keeps the backend).
  await expect.poll(() => new URL(page.url()).searchParams.get('task')).toBe('seq');
  const seqUrl = new URL(page.url()).searchParams;
  expect(seqUrl.get('seqs')).toBe('3000');
  expect(seqUrl.get('backend')).toBe('wasm');

  // A data preset with nothing loaded: the form is set and the banner says what to load.
  await applyPreset(page, 'pep-criteo-paper');
  await expect(page.getByTestId('task-ctr')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('error-banner')).toContainText(
    'Load the Criteo slice (criteo_dac_train_first10k.txt) first',
  );
  await expect(page.getByTestId('field-source')).toHaveValue('loaded');
  await expect(page.getByTestId('field-train.embeddingDim')).toHaveValue('24');

  // Quick demo: PEP on a small synthetic DeepFM, trained to its 90% snapshot.
  await applyPreset(page, 'quick-demo');
  await expect(page.getByTestId('field-source')).toHaveValue('synthetic');
  await expect(page.getByTestId('field-method.id')).toHaveValue('pep');
  await expect(page.getByTestId('field-method.pep.targets')).toHaveValue('50,80,90');
  await expect(page.getByTestId('form-invalid')).toHaveCount(0);
  await expect.poll(() => new URL(page.url()).searchParams.get('method')).toBe('pep');
  const started = Date.now();
  await trainToCompletion(page, 150_000);
  info.annotations.push({ type: 'quick demo', description: `${(Date.now() - started) / 1000} s` });
  await expect(page.getByTestId('test-auc')).toHaveText(/^0\.\d{4}$/);
  expect(Number(await page.getByTestId('test-auc').textContent())).toBeGreaterThan(0.6);
  await expect(page.getByTestId('test-params')).toHaveText(/\d/);
  await expect(page.getByTestId('test-bytes')).toHaveText(/\d/);
  await expect(page.getByTestId('method-charts')).toHaveAttribute('data-method', 'pep');
  // Each snapshot (50, 80, 90%) and the dense table, retrained: points on the AUC chart.
  await expect
    .poll(() => chartNumber(page, 'method-chart-retrained', 'data-points'))
    .toBeGreaterThanOrEqual(4);
  await expect(page.getByTestId('run-history')).toContainText('PEP');
});

test('presets: the baselines queue trains its runs in turn through the run controller; Cancel and Stop end it', async ({
  page,
}, info) => {
  test.skip(info.project.name !== 'webgpu', 'runs in the WebGPU lane (the presets are the same)');
  test.setTimeout(120_000);
  await page.goto('/?backend=wasm');
  await waitForEngine(page);
  await applyPreset(page, 'baselines-vs-pep');
  const progress = page.getByTestId('queue-progress-text');
  await expect(progress).toHaveText('run 1 of 5: dense model');
  // The form shows the run in progress, and its other presets wait for the queue.
  await expect(page.getByTestId('field-method.id')).toHaveValue('none');
  await expect(page.getByTestId('field-train.embeddingDim')).toHaveValue('20');
  await expect(page.getByTestId('run-state')).toHaveText(/preparing|running/);
  await page.getByTestId('presets-toggle').click();
  await expect(page.getByTestId('preset-quick-demo')).toBeDisabled();
  await page.getByTestId('presets-toggle').click();

  // The dense run ends and lands in the runs table; the next one starts on its own.
  await expect(progress).toHaveText('run 2 of 5: magnitude pruning to 90% sparsity', {
    timeout: 90_000,
  });
  await expect(page.getByTestId('run-history')).toContainText('DeepFM, None (dense model)');
  await expect(page.getByTestId('field-method.id')).toHaveValue('magnitude');
  await expect(page.getByTestId('field-method.magnitude.sparsity')).toHaveValue('0.9');

  // Cancel: no run after this one; Stop ends this one (its partial result is kept).
  await page.getByTestId('queue-cancel').click();
  await expect(progress).toContainText('the runs after it are cancelled');
  await expect(page.getByTestId('stop-button')).toBeEnabled({ timeout: 30_000 });
  await page.getByTestId('stop-button').click();
  await expect(progress).toHaveText('cancelled after run 2 of 5', { timeout: 30_000 });
  await expect(page.getByTestId('queue-progress')).toHaveAttribute('data-status', 'cancelled');
  await expect(page.getByTestId('run-history')).toContainText('DeepFM, Magnitude pruning');
  await expect(page.getByTestId('run-history')).not.toContainText('Hashing trick');
  await page.getByTestId('queue-dismiss').click();
  await expect(page.getByTestId('queue-progress')).toHaveCount(0);
});
