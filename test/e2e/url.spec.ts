/**
 * Shareable state: a configured run's URL, opened in a fresh browser context (no storage, no
 * history), shows the same configuration; a URL with bad values shows a notice naming them and
 * the defaults in their place.
 */
import { expect } from '@playwright/test';
import { test, waitForEngine } from './lab';

test('a copied URL opens the same configuration in a fresh context', async ({ page, browser }) => {
  await page.goto('/');
  await waitForEngine(page);
  await page.getByLabel('Model').selectOption('fm');
  await page.getByLabel('Epochs', { exact: true }).fill('7');
  await page.getByLabel('Batch size', { exact: true }).fill('128');
  await page.getByLabel('Method').selectOption('pep');
  await expect.poll(() => new URL(page.url()).searchParams.get('method')).toBe('pep');
  const url = page.url();
  expect(new URL(url).searchParams.get('epochs')).toBe('7');

  const fresh = await browser.newContext();
  try {
    const other = await fresh.newPage();
    await other.goto(url);
    await waitForEngine(other);
    await expect(other.getByLabel('Model')).toHaveValue('fm');
    await expect(other.getByLabel('Epochs', { exact: true })).toHaveValue('7');
    await expect(other.getByLabel('Batch size', { exact: true })).toHaveValue('128');
    await expect(other.getByLabel('Method')).toHaveValue('pep');
    await expect(other.getByTestId('error-banner')).toHaveCount(0);
  } finally {
    await fresh.close();
  }
});

test('a URL with bad values shows a notice naming them and uses the defaults', async ({ page }) => {
  await page.goto('/?model=nope&epochs=-3&lr=abc');
  await waitForEngine(page);
  const banner = page.getByTestId('error-banner');
  await expect(banner).toContainText('Some link settings were not valid');
  await expect(banner).toContainText('model=nope');
  await expect(banner).toContainText('epochs=-3');
  await expect(banner).toContainText('lr=abc');
  await expect(page.getByLabel('Model')).toHaveValue('deepfm');
  await expect(page.getByLabel('Epochs', { exact: true })).toHaveValue('4');
  await expect(page.getByRole('textbox', { name: /^Learning rate/ })).toHaveValue('0.003');
});
