import { expect } from '@playwright/test';
import { test, TINY_RUN, trainToCompletion, waitForEngine, webGpuLaneOnly } from './lab';

// About the page, not the backend: trains on wasm (see labBackend in lab.ts).
test.use({ labBackend: 'wasm' });

test('two finished runs of different sizes: Pareto chart with its front, a click opens a run', async ({
  page,
}) => {
  webGpuLaneOnly('the comparison');
  await page.goto(TINY_RUN);
  await waitForEngine(page);
  // Run #1: the dense model. No Compare panel with a single finished run.
  await trainToCompletion(page);
  await expect(page.getByTestId('history-row-1')).toContainText('None (dense model)');
  await expect(page.getByTestId('compare-panel')).toHaveCount(0);

  // Run #2: the same model with every field at dimension 2 instead of 4 (a smaller model).
  await page.getByTestId('field-method.id').selectOption('uniform-dim');
  await page.getByTestId('field-method.uniform-dim.dim').fill('2');
  await trainToCompletion(page);
  await expect(page.getByTestId('history-row-2')).toContainText('Smaller uniform dimension');

  const chart = page.getByTestId('pareto-chart');
  await expect(chart).toHaveAttribute('data-points', '2');
  await expect(chart).toHaveAttribute('data-excluded', '0');
  await expect(page.getByTestId('pareto-point-1')).toBeVisible();
  await expect(page.getByTestId('pareto-point-2')).toBeVisible();

  // The front: the smaller run is always on it; the dense run only when its test AUC is higher.
  const params = async (id: number) =>
    parseCount(await page.getByTestId(`history-params-${id}`).textContent());
  expect(await params(2)).toBeLessThan(await params(1));
  const auc = async (id: number) =>
    Number(await page.getByTestId(`history-test-auc-${id}`).textContent());
  const [auc1, auc2] = [await auc(1), await auc(2)];
  await expect(page.getByTestId('pareto-point-2')).toHaveAttribute('data-on-front', 'true');
  if (auc1 !== auc2) {
    const denseOnFront = auc1 > auc2;
    await expect(chart).toHaveAttribute('data-front', denseOnFront ? '2,1' : '2');
    await expect(page.getByTestId('pareto-point-1')).toHaveAttribute(
      'data-on-front',
      String(denseOnFront),
    );
  }
  // The front is drawn: a staircase with at least one step.
  const line = chart.getByTestId('pareto-front-line');
  await expect(line).toHaveAttribute('d', /^M[\d.]+,[\d.]+H[\d.]+/);

  // Clicking a point opens its run: the card shows its number and the table's test AUC.
  await page.getByTestId('pareto-point-1').click();
  const detail = page.getByTestId('run-detail');
  await expect(page.getByTestId('run-detail-title')).toHaveText('Run #1');
  await expect(page.getByTestId('run-detail-test-auc')).toHaveText(
    (await page.getByTestId('history-test-auc-1').textContent()) ?? '',
  );
  await expect(page.getByTestId('run-detail-method')).toHaveText('None (dense model)');
  await expect(detail.getByTestId('run-detail-curve').locator('.chart-card')).toHaveAttribute(
    'data-points',
    '3',
  );
  await expect(page.getByTestId('history-row-1')).toHaveAttribute('data-selected', 'true');
  await expect(page.getByTestId('pareto-point-1')).toHaveAttribute('data-selected', 'true');

  // The list under the chart opens a run as well.
  await page.getByTestId('pareto-open-2').click();
  await expect(page.getByTestId('run-detail-title')).toHaveText('Run #2');
  await expect(page.getByTestId('run-detail-test-auc')).toHaveText(
    (await page.getByTestId('history-test-auc-2').textContent()) ?? '',
  );
  await expect(page.getByTestId('run-detail-options')).toContainText('Dimension d′ = 2');
  await expect(page.getByTestId('history-row-2')).toHaveAttribute('data-selected', 'true');
  await expect(page.getByTestId('history-row-1')).toHaveAttribute('data-selected', 'false');

  // Another size axis keeps both runs on the chart.
  await page.getByTestId('pareto-axis').selectOption('bytes');
  await expect(chart).toHaveAttribute('data-axis', 'bytes');
  await expect(chart).toHaveAttribute('data-points', '2');
  await expect(page.getByTestId('pareto-point-1')).toBeVisible();

  // Runs ticked in the table overlay their validation curves.
  await page.getByTestId('compare-run-1').check();
  await page.getByTestId('compare-run-2').check();
  await expect(page.getByTestId('compare-curves')).toHaveAttribute('data-runs', '2');
  await expect(page.getByTestId('compare-curves')).toHaveAttribute('data-points', '6');
});

/** A count as the table formats it (formatCount): 1234, 12.3k or 1.23M. */
function parseCount(text: string | null): number {
  const m = /^([\d.]+)([kM]?)$/.exec((text ?? '').trim());
  if (!m) throw new Error(`not a count: ${text}`);
  return Number(m[1]) * (m[2] === 'M' ? 1e6 : m[2] === 'k' ? 1e3 : 1);
}
