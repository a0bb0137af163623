import { expect } from '@playwright/test';
import type { OwnKernelCheck } from '../../workers/protocol';
import { test, waitForEngine } from './lab';

interface LabHooks {
  __lab: { checkOwnKernels(): Promise<OwnKernelCheck[]> };
}

test("the lab's own kernels equal the tfjs kernels (and JavaScript loops) they replace on the lane's GPU backend", async ({
  browser,
}, info) => {
  test.setTimeout(180_000);
  const backend = info.project.name === 'webgpu' ? 'webgpu' : 'webgl';
  const page = await browser.newPage();
  await page.goto(`/?backend=${backend}`);
  expect(await waitForEngine(page)).toBe(backend);
  const checks = await page.evaluate(() => (window as unknown as LabHooks).__lab.checkOwnKernels());
  const kernels = new Set(checks.map((c) => c.kernel));
  const hostAdam = 'host Adam (WebAssembly SIMD)';
  expect([...kernels].sort()).toEqual(
    backend === 'webgpu'
      ? ['Mean', 'Sum', hostAdam, 'segment sum (gather gradient)']
      : [hostAdam, 'segment sum (gather gradient)'],
  );
  for (const c of checks) {
    // The host Adam kernel must be there (not 'not available here') and equal bit for bit.
    if (c.kernel === hostAdam) expect(c.relativeDiff, c.case).toBe(0);
    else expect(c.relativeDiff, `${c.kernel}, ${c.case}`).toBeLessThan(1e-5);
  }
  info.annotations.push({
    type: 'largest relative difference',
    description: `${Math.max(...checks.map((c) => c.relativeDiff)).toExponential(2)} (${checks.length} cases on ${backend})`,
  });
  await page.close();
});
