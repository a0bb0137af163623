import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { chartNumber, test, waitForEngine, webGpuLaneOnly } from './lab';

/**
 * The next-item task through the form: NextItNet compressed by CpRec on small synthetic
 * sequences (600 sessions of 10 over 200 items, d 16, two residual blocks, two epochs), small
 * enough to train in about a minute on SwiftShader. Runs in the WebGPU lane (the backend the lab
 * targets; the model is the same in both).
 */
const SMALL_SEQUENCES: [string, string][] = [
  ['seq.data.numSequences', '600'],
  ['seq.data.numItems', '200'],
  ['seq.data.length', '10'],
  ['seq.train.embeddingDim', '16'],
  ['seq.train.dilations', '1-2-1-2'],
  ['seq.train.epochs', '2'],
  ['seq.train.batchSize', '64'],
];

async function openSequenceTask(page: Page): Promise<void> {
  await page.goto('/');
  await waitForEngine(page);
  await page.getByTestId('task-seq').click();
  await expect(page.getByTestId('task-seq')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('seq-form')).toBeVisible();
}

test('CpRec through the form: fewer parameters than NextItNet, then ranking metrics and a test card', async ({
  page,
}) => {
  webGpuLaneOnly('the model');
  test.setTimeout(300_000);
  await openSequenceTask(page);
  for (const [id, value] of SMALL_SEQUENCES) await page.getByTestId(`field-${id}`).fill(value);
  await page.getByTestId('field-seq.method').selectOption('cprec');
  await page.getByTestId('field-seq.cprec.cutPoints').fill('0.2, 0.5');
  await page.getByTestId('field-seq.cprec.sharing').selectOption('cross-block');
  await expect(page.getByTestId('seq-form-invalid')).toHaveCount(0);

  // The link reproduces the settings.
  await expect.poll(() => new URL(page.url()).searchParams.get('task')).toBe('seq');
  const url = new URL(page.url()).searchParams;
  expect(url.get('seqs')).toBe('600');
  expect(url.get('dil')).toBe('1-2-1-2');

  // Before training: CpRec is smaller than the uncompressed NextItNet over the same items, and
  // the frequency curve shows its block cuts at 20% and 50% of the vocabulary.
  const ratio = page.getByTestId('seq-compression-ratio');
  await expect(ratio).toHaveText(/x fewer parameters$/, { timeout: 60_000 });
  expect(Number.parseFloat((await ratio.textContent()) ?? '')).toBeGreaterThan(1);
  const bar = page.getByTestId('seq-param-bar');
  const params = Number(await bar.getAttribute('data-params'));
  const uncompressed = Number(await bar.getAttribute('data-uncompressed-params'));
  expect(params).toBeGreaterThan(0);
  expect(params).toBeLessThan(uncompressed);
  await expect(bar.locator('.recharts-bar-rectangle')).toHaveCount(6);
  const frequency = page.getByTestId('seq-frequency-chart');
  // The vocabulary is the items that occur (a few of the 200 may never be drawn).
  const items = Number(await frequency.getAttribute('data-items'));
  expect(items).toBeGreaterThan(150);
  expect(items).toBeLessThanOrEqual(200);
  await expect(frequency).toHaveAttribute(
    'data-cuts',
    `${Math.round(0.2 * items)},${Math.round(0.5 * items)}`,
  );
  await expect(frequency.locator('.recharts-reference-line')).toHaveCount(2);

  await page.getByTestId('seq-train-button').click();
  // Paused while it trains, the learning rate (the live setting) changes, then it goes on.
  const state = page.getByTestId('seq-run-state');
  await expect(state).toHaveText('running', { timeout: 120_000 });
  await page.getByTestId('seq-pause-button').click();
  await expect(state).toHaveText('paused');
  await page.getByTestId('field-seq.train.learningRate').fill('0.002');
  await page.getByTestId('seq-apply-live-button').click();
  await expect(page.getByTestId('seq-apply-live-button')).toHaveCount(0);
  await page.getByTestId('seq-resume-button').click();
  await expect(state).toHaveText(/running|stopping|done/);
  const ranking = page.getByTestId('seq-ranking-chart');
  await expect
    .poll(() => chartNumber(page, 'seq-ranking-chart', 'data-points'), { timeout: 240_000 })
    .toBeGreaterThanOrEqual(2);
  // One dot per evaluation on each drawn metric (MRR@20, HR@20, NDCG@20 by default).
  await expect
    .poll(() => ranking.locator('.recharts-line-dots .recharts-dot').count())
    .toBeGreaterThanOrEqual(2 * 3);
  const card = page.getByTestId('seq-result-card');
  await expect(card).toBeVisible({ timeout: 120_000 });
  await expect(state).toHaveText('done');
  for (const key of ['mrr5', 'mrr20', 'hr5', 'hr20', 'ndcg5', 'ndcg20']) {
    await expect(page.getByTestId(`seq-test-${key}`)).toHaveText(/^[01]\.\d{4}$/);
    await expect(page.getByTestId(`seq-popular-${key}`)).toHaveText(/^[01]\.\d{4}$/);
  }
  await expect(page.getByTestId('seq-result-ratio')).toHaveText(/x fewer parameters$/);
  await expect(page.getByTestId('seq-timing-chart')).toBeVisible();
  await expect.poll(() => chartNumber(page, 'seq-loss-chart', 'data-points')).toBeGreaterThan(5);
  // A next-item cross-entropy over ~200 items, not a step whose GPU work was thrown away (an L2
  // term over 20+ variables in one WebGPU AddN once read back 1e-8 here).
  const lastLoss = await chartNumber(page, 'seq-loss-chart', 'data-last-loss');
  expect(lastLoss).toBeGreaterThan(1);
  expect(lastLoss).toBeLessThan(10);
  // Two evaluations of a two-epoch run: the dashed popularity lines are drawn beside them, and
  // the learning-rate change is marked.
  await expect.poll(() => chartNumber(page, 'seq-ranking-chart', 'data-points')).toBe(2);
  await expect(ranking.locator('.recharts-reference-line')).toHaveCount(3 + 1);
  await expect(ranking.locator('.chart-markers')).toContainText('learning rate 0.002');
  // The finished run's model file downloads.
  const download = page.waitForEvent('download');
  await page.getByTestId('seq-export-button').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('run-nextitnet-cprec.json');
  const model = JSON.parse(readFileSync((await file.path())!, 'utf8')) as { format: string };
  expect(model.format).toBe('recsys-lab-sequence-model');
});

test('bad sequence settings are refused in the form, and named when they come from a link', async ({
  page,
}) => {
  webGpuLaneOnly('the model');
  await page.goto('/?task=seq&seqs=600&items=200&len=10&sepochs=0&cuts=50,500');
  await waitForEngine(page);
  await expect(page.getByTestId('task-seq')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('error-banner')).toContainText('sepochs=0');
  await expect(page.getByTestId('field-seq.train.epochs')).toHaveValue('5');
  // A cut point past the 200 items: architectureOf's message, inline, and no Train.
  const archError = page.getByTestId('error-seq.architecture');
  await expect(archError).toContainText('Cut point 500 is outside the vocabulary');
  await expect(page.getByTestId('seq-param-error')).toContainText('outside the vocabulary');
  const train = page.getByTestId('seq-train-button');
  await expect(train).toBeDisabled();
  await page.getByTestId('field-seq.cprec.cutPoints').fill('0.2, 0.5');
  await expect(archError).toHaveCount(0);
  await expect(train).toBeEnabled();
  // Dilations come in pairs (two convs per residual block); what was typed stays.
  const dilations = page.getByTestId('field-seq.train.dilations');
  await dilations.fill('1-2-4');
  await expect(page.getByTestId('error-seq.train.dilations')).toContainText('pairs');
  await expect(dilations).toHaveValue('1-2-4');
  await expect(train).toBeDisabled();
  await dilations.fill('1-2-4-8');
  await expect(train).toBeEnabled();
  // The other task's form is still there, unchanged.
  await page.getByTestId('task-ctr').click();
  await expect(page.getByTestId('field-train.model')).toHaveValue('deepfm');
  expect(new URL(page.url()).searchParams.get('task')).toBeNull();
});

test('loading an item-sequence file switches to the sequence task with the file as its data', async ({
  page,
}) => {
  webGpuLaneOnly('the model');
  const dir = mkdtempSync(join(tmpdir(), 'lab-cprec-'));
  try {
    // 300 sessions of 6 to 12 items over 150 items, seeded.
    let x = 12345;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    const lines: string[] = [];
    for (let s = 0; s < 300; s++) {
      const items = Array.from({ length: 6 + (next() % 7) }, () => 1 + (next() % 150));
      lines.push(items.join(','));
    }
    const file = join(dir, 'sessions.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);

    await page.goto('/');
    await waitForEngine(page);
    await expect(page.getByTestId('task-ctr')).toHaveAttribute('aria-pressed', 'true');
    await page.getByTestId('dataset-file-input').setInputFiles(file);
    await page.getByTestId('dataset-format-select').selectOption('sequences');
    await page.getByTestId('dataset-load-button').click();
    await expect(page.getByTestId('dataset-summary')).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId('task-seq')).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByTestId('field-seq.source')).toHaveValue('loaded');
    await expect(page.getByTestId('seq-loaded-name')).toContainText('sessions.csv');
    const items = Number(
      await page.getByTestId('seq-frequency-chart').getAttribute('data-items', { timeout: 60_000 }),
    );
    expect(items).toBeGreaterThan(100);
    expect(items).toBeLessThanOrEqual(150);
    await expect(page.getByTestId('seq-compression-ratio')).toHaveText(/x fewer parameters$/);
    expect(new URL(page.url()).searchParams.get('sdata')).toBe('loaded');
    // The click-through form keeps its synthetic slice: a sequence file is not click rows.
    await page.getByTestId('task-ctr').click();
    await expect(page.getByTestId('field-source')).toHaveValue('synthetic');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
