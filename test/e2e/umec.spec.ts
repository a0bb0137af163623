import { expect } from '@playwright/test';
import { chartNumber, test, waitForEngine } from './lab';

/**
 * UMEC on the small synthetic slice, DLRM with an 8 x 4 input and one hidden layer of 16: two
 * dense epochs, then the primal-dual solver towards a FLOPs budget of 0.5, changed to 0.4 while
 * it runs; then the hard prune and one fine-tune epoch. Fields are scored by the held-out score
 * (its importance chart is drawn).
 */
const UMEC_RUN =
  '/?rows=3000&fields=8&card=3000&dim=4&mlp=16&epochs=3&batch=64&dropout=0&bn=false' +
  '&model=dlrm&opt=sgd&eopt=sgd&lr=0.1&method=umec&budget=0.5&denseep=2&solveep=30&ftep=1&slr=0.001&fscore=held-out';

test('UMEC through the form: the resource reaches the budget changed mid-run, a field is dropped', async ({
  page,
}, info) => {
  test.skip(
    info.project.name !== 'webgpu',
    'runs in the WebGPU lane (the method is the same in both)',
  );
  test.setTimeout(300_000);
  await page.goto(UMEC_RUN);
  await waitForEngine(page);
  await expect(page.getByTestId('field-method.id')).toHaveValue('umec');
  await expect(page.getByTestId('field-method.umec.budget')).toHaveValue('0.5');
  await page.getByTestId('train-button').click();
  // Once the solver runs (the pruned shares are charted from its first step), lower the budget.
  await expect
    .poll(() => chartNumber(page, 'method-chart-pruned', 'data-points'), { timeout: 120_000 })
    .toBeGreaterThan(0);
  // Paused so that the change lands while the solver still works towards 0.5.
  await page.getByTestId('pause-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('paused');
  await page.getByTestId('field-method.umec.budget').fill('0.4');
  await page.getByTestId('apply-live-button').click();
  await page.getByTestId('resume-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 240_000 });
  const resource = page.getByTestId('method-chart-resource');
  // The change is marked on the charts, and the hard prune lands under the new budget.
  await expect(resource).toContainText('Budget 0.5 → 0.4');
  // Charts draw the run's last data in their turns, after the state reads done.
  await expect(resource).toContainText(/hard prune: \d+ of 8 input groups/);
  const prune = (await resource.textContent()) ?? '';
  const match = /hard prune: (\d+) of 8 input groups.*?FLOPs ratio ([\d.]+)/.exec(prune);
  expect(match, prune).not.toBeNull();
  expect(Number(match![2])).toBeLessThanOrEqual(0.4);
  expect(Number(match![2])).toBeGreaterThan(0.3);
  // At least one field was dropped: it is drawn as dropped on the group-norm bars.
  expect(Number(match![1])).toBeLessThan(8);
  await expect.poll(() => chartNumber(page, 'method-chart-group-norms', 'data-points')).toBe(8);
  await expect
    .poll(() => chartNumber(page, 'method-chart-field-importance', 'data-points'))
    .toBe(8);
  await expect
    .poll(() => chartNumber(page, 'method-chart-resource', 'data-points'))
    .toBeGreaterThan(20);
  await expect(page.getByTestId('run-history')).toContainText('UMEC');
});
