/** Helpers shared by the end-to-end specs. */
import { expect, type Page } from '@playwright/test';

/** A model small enough to train in seconds on SwiftShader. */
export const TINY_RUN =
  '/?rows=3000&fields=8&card=3000&dim=4&mlp=16&epochs=3&batch=64&lr=0.01&dropout=0';

export async function waitForEngine(page: Page): Promise<string> {
  await expect(page.getByTestId('engine-status')).toHaveText('engine ready', { timeout: 60_000 });
  return (await page.getByTestId('backend-name').textContent()) ?? '';
}

export async function trainToCompletion(page: Page, timeout = 180_000): Promise<void> {
  await page.getByTestId('train-button').click();
  await expect(page.getByTestId('run-state')).toHaveText('done', { timeout });
}

export async function chartNumber(page: Page, testId: string, attribute: string): Promise<number> {
  const v = await page.getByTestId(testId).getAttribute(attribute);
  return Number(v);
}
