import { expect } from '@playwright/test';
import { test, TINY_RUN, trainToCompletion, waitForEngine } from './lab';

test.describe('WebGPU only', () => {
  test('device loss is reported and the engine restarts on WebGPU', async ({ page }, info) => {
    test.skip(info.project.name !== 'webgpu', 'device loss can only happen in the WebGPU lane');
    await page.goto(TINY_RUN);
    expect(await waitForEngine(page)).toBe('webgpu');
    const lost = await page.evaluate(() =>
      (
        window as unknown as { __lab: { simulateDeviceLoss(): Promise<boolean> } }
      ).__lab.simulateDeviceLoss(),
    );
    expect(lost).toBe(true);
    await expect(page.getByTestId('error-banner')).toContainText('device lost');
    expect(await waitForEngine(page)).toBe('webgpu');
    await trainToCompletion(page);
  });
});
