import { expect } from '@playwright/test';
import { chartNumber, LANE_BACKEND, test, TINY_RUN, trainToCompletion, waitForEngine } from './lab';

test('the engine starts the backend the URL names and shows it in the header', async ({
  page,
}, info) => {
  await page.goto(TINY_RUN);
  expect(await waitForEngine(page)).toBe(LANE_BACKEND[info.project.name]);
  await expect(page.getByTestId('backend-select')).toHaveValue(LANE_BACKEND[info.project.name]);
  await expect(page.getByTestId('adapter-description')).not.toHaveText('…');
  await expect(page.getByTestId('memory-tensors')).toHaveText(/^\d+$/);
});

test('a tiny DeepFM trains: charts fill, loss falls, AUC above chance', async ({ page }) => {
  await page.goto(TINY_RUN);
  await waitForEngine(page);
  await trainToCompletion(page);
  await expect.poll(() => chartNumber(page, 'loss-chart', 'data-points')).toBeGreaterThan(10);
  const first = await chartNumber(page, 'loss-chart', 'data-first-loss');
  const last = await chartNumber(page, 'loss-chart', 'data-last-loss');
  expect(last).toBeLessThan(first);
  await expect.poll(() => chartNumber(page, 'auc-chart', 'data-points')).toBe(3);
  await expect.poll(() => chartNumber(page, 'auc-chart', 'data-last-auc')).toBeGreaterThan(0.55);
  await expect(page.getByTestId('test-auc')).toHaveText(/^0\.\d{4}$/);
  await expect(page.getByTestId('dataset-panel')).toBeVisible();
  await expect(page.getByTestId('run-history')).toContainText('deepfm');
});

test('the model summary shows parameters per part and FLOPs before training', async ({ page }) => {
  await page.goto(TINY_RUN);
  await waitForEngine(page);
  const card = page.getByTestId('model-summary');
  await expect(card).toContainText('DeepFM');
  const params = async (part: string) =>
    Number(await page.getByTestId(`model-part-${part}`).getAttribute('data-params'));
  await expect(page.getByTestId('model-part-mlp')).toBeVisible();
  // One 4-wide embedding row and one linear weight per feature value, plus the global bias.
  const embedding = await params('embedding');
  const linear = await params('linear');
  expect(embedding).toBeGreaterThan(1000);
  expect(embedding).toBe(4 * (linear - 1));
  // 8 fields x 4 dims into 16 hidden units, BatchNorm's scale and shift, one output unit.
  expect(await params('mlp')).toBe(32 * 16 + 16 + 2 * 16 + 16 + 1);
  await expect(page.getByTestId('model-flops')).toHaveText(/\d/);
  await page.getByLabel('Model').selectOption('fm');
  await expect(card).toContainText('FM');
  await expect(page.getByTestId('model-part-mlp')).toHaveCount(0);
  expect(await params('embedding')).toBe(embedding);
});

test('the backend can be switched between runs, and a run trains on the new one', async ({
  page,
}, info) => {
  await page.goto(TINY_RUN);
  const first = await waitForEngine(page);
  if (info.project.name === 'webgpu') {
    // SwiftShader: the header says the adapter is an emulation and offers wasm.
    await expect(page.getByTestId('software-adapter-hint')).toBeVisible();
  }
  await page.getByTestId('backend-select').selectOption('cpu');
  await expect(page.getByTestId('backend-name')).toHaveText('cpu');
  await expect(page.getByTestId('adapter-description')).toHaveText('plain JavaScript');
  expect(new URL(page.url()).searchParams.get('backend')).toBe('cpu');
  await trainToCompletion(page);
  await expect(page.getByTestId('test-auc')).toHaveText(/^0\.\d{4}$/);
  await page.getByTestId('backend-select').selectOption(first);
  await expect(page.getByTestId('backend-name')).toHaveText(first);
});

test('invalid hyperparameters are refused in the form', async ({ page }) => {
  await page.goto(TINY_RUN);
  await waitForEngine(page);
  const train = page.getByTestId('train-button');
  await expect(train).toBeEnabled();
  for (const [field, value] of [
    ['train.learningRate', '-0.1'],
    ['train.batchSize', '0'],
    ['train.dropout', 'NaN'],
  ] as const) {
    const input = page.getByTestId(`field-${field}`);
    const before = await input.inputValue();
    await input.fill(value);
    await expect(page.getByTestId(`error-${field}`)).toBeVisible();
    await expect(train).toBeDisabled();
    // What the user typed stays in the field (nothing is silently reset).
    await expect(input).toHaveValue(value);
    await input.fill(before);
    await expect(page.getByTestId(`error-${field}`)).toHaveCount(0);
  }
  await expect(train).toBeEnabled();
});

test('pause, resume and stop', async ({ page }) => {
  await page.goto(TINY_RUN.replace('epochs=3', 'epochs=50'));
  await waitForEngine(page);
  await page.getByTestId('train-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('running', { timeout: 60_000 });
  await page.getByTestId('pause-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  const stepAtPause = Number(await page.getByTestId('run-step').textContent());
  await page.waitForTimeout(1500);
  expect(Number(await page.getByTestId('run-step').textContent())).toBe(stepAtPause);
  await page.getByTestId('resume-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('running');
  await expect
    .poll(async () => Number(await page.getByTestId('run-step').textContent()))
    .toBeGreaterThan(stepAtPause);
  await page.getByTestId('stop-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 60_000 });
});

test('a worker crash shows a banner and the lab recovers', async ({ page }) => {
  await page.goto(TINY_RUN);
  await waitForEngine(page);
  await page.evaluate(() =>
    (window as unknown as { __lab: { simulateCrash(): Promise<void> } }).__lab.simulateCrash(),
  );
  await expect(page.getByTestId('error-banner')).toContainText('crashed');
  await waitForEngine(page);
  await trainToCompletion(page);
});
