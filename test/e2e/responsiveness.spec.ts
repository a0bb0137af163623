import { expect } from '@playwright/test';
import { test, TINY_RUN, waitForEngine } from './lab';

interface LongTask {
  start: number;
  duration: number;
}

/**
 * The main thread must stay responsive while the worker trains: charts stream for 30 s of the
 * default DeepFM and no main-thread task may come near the length of a synchronous re-render
 * storm (before the charts were moved to transitions, tasks of 160-200 ms were seen here).
 *
 * The strict 50 ms figure is measured by `npm run bench:responsiveness` and reported in
 * docs/benchmarks.md rather than asserted: on this 2-core machine the SwiftShader "GPU" and the
 * training worker take both cores, so a render of ~15 ms of CPU can span 50-60 ms of wall time,
 * and a test on that margin would fail by chance.
 */
const LONGEST_ALLOWED_TASK_MS = 150;

test('the main thread stays responsive during a 30-second training run', async ({ page }, info) => {
  test.skip(info.project.name !== 'webgpu', 'measured once, in the WebGPU lane');
  await page.addInitScript(() => {
    const store: LongTask[] = [];
    (window as unknown as { __longTasks: LongTask[] }).__longTasks = store;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) store.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto('/?epochs=100');
  await waitForEngine(page);
  // As a user would: the slice's panel is drawn before Train is pressed.
  await expect(page.getByTestId('dataset-panel')).toBeVisible();
  await page.waitForTimeout(1000);
  await page.getByTestId('train-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('running', { timeout: 120_000 });
  const start = await page.evaluate(() => performance.now());
  await page.waitForTimeout(30_000);
  const end = await page.evaluate(() => performance.now());
  const steps = Number(await page.getByTestId('run-step').textContent());
  await page.getByTestId('stop-button').click();
  const tasks = await page.evaluate(
    ([from, to]) =>
      (window as unknown as { __longTasks: LongTask[] }).__longTasks.filter(
        (t) => t.start >= from && t.start <= to,
      ),
    [start, end],
  );
  const worst = tasks.reduce((m, t) => Math.max(m, t.duration), 0);
  console.log(
    `30 s of training: ${steps} steps, ${tasks.length} long tasks, longest ${worst.toFixed(0)} ms`,
    JSON.stringify(tasks.map((t) => [Math.round(t.start - start), t.duration])),
  );
  expect(steps).toBeGreaterThan(5);
  expect(worst).toBeLessThanOrEqual(LONGEST_ALLOWED_TASK_MS);
});

for (const backend of ['wasm', 'webgpu']) {
  test(`charts draw in turns the training loop grants between two steps (${backend})`, async ({
    page,
  }, info) => {
    test.skip(
      backend === 'webgpu' && info.project.name !== 'webgpu',
      'WebGPU is only in the WebGPU lane',
    );
    test.skip(
      backend === 'wasm' && info.project.name !== 'webgpu',
      'measured once, in the WebGPU lane (the page is the same in both)',
    );
    await page.addInitScript(() => {
      const waits: number[] = [];
      (window as unknown as { __grants: number[] }).__grants = waits;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          if (e.name === 'chart-turn-granted') {
            waits.push((e as PerformanceMark).detail.waitedMs as number);
          }
        }
      }).observe({ type: 'mark' });
    });
    // The emulated GPU gives way too: its threads compute on the CPU.
    await page.goto(`${TINY_RUN.replace('epochs=3', 'epochs=200')}&backend=${backend}`);
    await waitForEngine(page);
    await page.getByTestId('train-button').click();
    await expect(page.getByTestId('run-state')).toHaveText('running', { timeout: 120_000 });
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { __grants: number[] }).__grants), {
        timeout: 60_000,
      })
      .not.toHaveLength(0);
    const waits = await page.evaluate(() => (window as unknown as { __grants: number[] }).__grants);
    await page.getByTestId('stop-button').click();
    // Granted at a step boundary: within the page's bound, not at it.
    for (const w of waits) expect(w).toBeLessThan(400);
  });
}
