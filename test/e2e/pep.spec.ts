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
  await expect
    .poll(() => chartNumber(page, 'method-chart-sparsity', 'data-points'))
    .toBeGreaterThan(10);
  await expect.poll(() => chartNumber(page, 'method-chart-sizes', 'data-points')).toBe(5); // sizes 0..4
  await expect.poll(() => chartNumber(page, 'method-chart-field-sizes', 'data-points')).toBe(8);
  // The snapshot at 50% was taken and retrained: its point is on the AUC-vs-non-zeros chart.
  await expect
    .poll(() => chartNumber(page, 'method-chart-retrained', 'data-points'))
    .toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('run-history')).toContainText('PEP');
  const sparsity = page.getByTestId('method-chart-sparsity');
  await expect(sparsity).toContainText('snapshot 50%');
  // A marker line on the plot for each marker listed under it (the lines are drawn again only
  // when their props change, src/charts/stableReference.ts: markers added during the run appear).
  const listed = await sparsity.locator('.chart-markers li').count();
  expect(listed).toBeGreaterThanOrEqual(1);
  await expect(sparsity.locator('.recharts-reference-line')).toHaveCount(listed);

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

/**
 * PEP with a first target reached within a few steps and a second one never reached: pruning
 * runs its whole step budget, which leaves time to pause it after the first snapshot.
 */
const RETRAIN_NOW_RUN = `${TINY_RUN.replace('epochs=3', 'epochs=30')}&steps=1000&eupd=exact&method=pep&sinit=-8&gk=6&slr=0.05&targets=50,99.9&retrain=none&rtepochs=1`;

test.describe('PEP: pause, look at a snapshot, retrain it, come back', () => {
  // About the page's flow, not the backend: trains on wasm in the WebGPU lane (see lab.ts);
  // the retrain itself runs on WebGPU in the test above.
  test.use({ labBackend: 'wasm' });

  test('pause during pruning, open a snapshot’s sizes, retrain it now, resume to the end', async ({
    page,
  }, info) => {
    test.skip(
      info.project.name !== 'webgpu',
      'runs in the WebGPU lane (the flow is the same in both)',
    );
    await page.goto(RETRAIN_NOW_RUN);
    await waitForEngine(page);
    await page.getByTestId('train-button').click();
    // The first snapshot is listed while pruning goes on; Retrain now waits for a pause.
    await expect(page.getByTestId('live-snapshot-row-1')).toContainText('50%', {
      timeout: 120_000,
    });
    await expect(page.getByTestId('retrain-now-1')).toBeDisabled();
    await page.getByTestId('pause-button').click();
    await expect(page.getByTestId('run-state')).toHaveText('paused');
    const stepAtPause = await page.getByTestId('run-step').textContent();
    expect(Number(stepAtPause)).toBeLessThan(1000);

    // Its sizes: one bar per field.
    await page.getByTestId('live-snapshot-sizes-button-1').click();
    await expect(page.getByTestId('live-snapshot-sizes-1')).toHaveAttribute('data-points', '8');

    // Retrain it now: its validation AUC streams as a line of its own, its point lands on the
    // retrained chart, the snapshot is marked retrained; the run stays paused where it was.
    await page.getByTestId('retrain-now-1').click();
    await expect(page.getByTestId('live-snapshot-retrained-1')).toHaveText('yes', {
      timeout: 120_000,
    });
    await expect(page.getByTestId('method-chart-retrained')).toHaveAttribute('data-points', '2');
    await expect(page.getByTestId('auc-chart')).toContainText(
      `retrain-1 while paused at step ${stepAtPause}`,
    );
    await expect(page.getByTestId('run-state')).toHaveText('paused');
    await expect(page.getByTestId('run-step')).toHaveText(stepAtPause!);
    await expect(page.getByTestId('retrain-now-1')).toBeDisabled();

    // Come back: pruning goes on from the same step to the end of its budget.
    await page.getByTestId('resume-button').click();
    await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 120_000 });
    expect(Number(await page.getByTestId('run-step').textContent())).toBe(1000);
    await expect(page.getByTestId('live-snapshot-retrained-1')).toHaveText('yes');
    await expect.poll(() => chartNumber(page, 'method-chart-retrained', 'data-points')).toBe(2);

    // The snapshot's Export is the model retrained while paused.
    const download = page.waitForEvent('download');
    await page.getByTestId('live-export-snapshot-1').click();
    const file = JSON.parse(await readFile((await (await download).path())!, 'utf8'));
    expect(file.compression.plan.snapshot).toBe(1);
    expect(file.compression.plan.retrained).toBe(1);
    expect(file.compression.plan.retrainPausedAt).toBe(Number(stepAtPause));
  });
});
