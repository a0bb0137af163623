/**
 * The lab's default backend, "auto", and multi-threaded wasm, in the built app. This spec opens
 * the lab without a backend in the URL (Playwright's own `test`, not the lane fixture of lab.ts).
 */
import { expect, test } from '@playwright/test';
import { TINY_RUN, trainToCompletion, waitForEngine } from './lab';

test('the built app is cross-origin isolated and wasm runs one thread per core', async ({
  page,
}) => {
  const blobWorkers: string[] = [];
  page.on('worker', (w) => {
    if (w.url().startsWith('blob:')) blobWorkers.push(w.url());
  });
  await page.goto('/?backend=wasm');
  expect(await waitForEngine(page)).toBe('wasm');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const threads = Math.min(8, cores);
  // The thread count is tfjs-wasm's own (its C++ pool), read back after it started.
  await expect(page.getByTestId('adapter-description')).toHaveText(
    `wasm SIMD, ${threads} thread${threads === 1 ? '' : 's'}`,
  );
  // The threaded binary's helper threads are workers the engine worker starts from blobs; they
  // only start when its glue code survived the production build.
  await expect.poll(() => blobWorkers.length).toBeGreaterThanOrEqual(threads - 1);
  const engine = page.workers().find((w) => w.url().includes('engine.worker'));
  expect(engine, 'the engine worker').toBeTruthy();
  expect(await engine!.evaluate(() => self.crossOriginIsolated)).toBe(true);
  await trainToCompletion(page);
  await expect(page.getByTestId('test-auc')).toHaveText(/^0\.\d{4}$/);

  // `threads=1` in the URL asks for one.
  await page.goto('/?backend=wasm&threads=1');
  expect(await waitForEngine(page)).toBe('wasm');
  await expect(page.getByTestId('adapter-description')).toHaveText('wasm SIMD, 1 thread');
});

test('auto times the backends on the first run of a model, trains on the fastest and remembers it', async ({
  page,
}, info) => {
  test.setTimeout(300_000);
  await page.goto(TINY_RUN);
  // No WebGPU adapter, or only an emulated one (SwiftShader here): auto starts on wasm.
  expect(await waitForEngine(page)).toBe('wasm');
  await expect(page.getByTestId('backend-select')).toHaveValue('auto');

  await page.getByTestId('train-button').click();
  await expect(page.getByTestId('backend-measuring')).toContainText('measuring wasm');
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 240_000 });

  const table = page.getByTestId('backend-calibration');
  await expect(table).toBeVisible();
  await table.locator('summary').click();
  const chosen = (await page.getByTestId('calibration-chosen').textContent()) ?? '';
  await expect(page.getByTestId('backend-name')).toHaveText(chosen);
  // The chosen backend is the measured one with the fewest ms per step.
  const measured: Record<string, number> = {};
  for (const backend of ['wasm', 'webgpu', 'webgl', 'cpu']) {
    const row = page.getByTestId(`calibration-row-${backend}`);
    await expect(row).toHaveCount(1);
    const ms = Number(await row.locator('td').nth(1).textContent());
    if (Number.isFinite(ms)) measured[backend] = ms;
  }
  expect(Object.keys(measured)).toContain('wasm');
  const fastest = Object.entries(measured).sort((a, b) => a[1] - b[1])[0][0];
  expect(chosen).toBe(fastest);
  if (info.project.name === 'webgpu') {
    await expect(page.getByTestId('calibration-row-webgpu')).toContainText('software adapter');
  } else {
    await expect(page.getByTestId('calibration-row-webgpu')).toContainText('failed');
    // Why it failed is written in the row, not only in a tooltip.
    await expect(page.getByTestId('calibration-note-webgpu')).not.toBeEmpty();
  }

  // A second run of the same model after a reload uses the remembered choice: no measuring.
  await page.reload();
  await waitForEngine(page);
  await page.getByTestId('train-button').click();
  await expect(page.getByTestId('backend-calibration')).toContainText('(remembered)');
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 120_000 });
  await expect(page.getByTestId('backend-name')).toHaveText(chosen);

  // "measure again" forgets it; forcing a backend leaves auto and puts it in the URL.
  await page.getByTestId('backend-calibration').locator('summary').click();
  await page.getByRole('button', { name: 'measure again' }).click();
  await expect(page.getByTestId('backend-calibration')).toHaveCount(0);
  await page.getByTestId('backend-select').selectOption('cpu');
  await expect(page.getByTestId('backend-name')).toHaveText('cpu');
  // The URL follows the form's state a moment later (it raced the backend's name once in CI).
  const backendParam = () => new URL(page.url()).searchParams.get('backend');
  await expect.poll(backendParam).toBe('cpu');
  await page.getByTestId('backend-select').selectOption('auto');
  await expect.poll(backendParam).toBeNull();
});
