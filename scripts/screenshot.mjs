// Trains the default DeepFM on the default synthetic slice in headless Chromium with WebGPU,
// saves a screenshot of the running app for the README (docs/screenshot.png), and prints the
// figures: validation AUC per epoch, test AUC, and the Bayes AUC the generator implies.
// `--scheme=dark` draws the page in the dark theme (as with a system set to dark), e.g. for
// docs/screenshot-dark.png:
//
//   node scripts/screenshot.mjs [--backend=webgpu|auto|...] [--search='?epochs=4'] [--scheme=light|dark]
//   node scripts/screenshot.mjs --backend=wasm --scheme=dark --out=docs/screenshot-dark.png
import { buildIfMissing, launchChromium, openLab, servePreview, cliArg } from './labBrowser.mjs';

const backend = cliArg('backend', 'webgpu');
const search = cliArg('search', '');
const out = cliArg('out', 'docs/screenshot.png');
const scheme = cliArg('scheme', 'light');
if (scheme !== 'light' && scheme !== 'dark') throw new Error(`--scheme=${scheme}: light or dark`);

buildIfMissing();
const server = await servePreview(4180);
const browser = await launchChromium({ webgpu: true });
try {
  const sep = search.includes('?') ? '&' : '?';
  // 'auto': no backend in the URL, as a user opens the lab (the first run measures the backends).
  const page = await openLab(
    browser,
    server.url,
    backend === 'auto' ? search : `${search}${sep}backend=${backend}`,
  );
  await page.emulateMedia({ colorScheme: scheme });
  await page.getByTestId('dataset-panel').waitFor({ timeout: 60_000 });
  const started = Date.now();
  await page.getByTestId('train-button').click();
  await page
    .getByTestId('run-state')
    .filter({ hasText: /^(done|failed)$/ })
    .waitFor({ timeout: 1_800_000 });
  const seconds = (Date.now() - started) / 1000;
  await page.waitForTimeout(1500);
  await page.screenshot({ path: out, fullPage: true });
  const figures = await page.evaluate(() => ({
    backend: document.querySelector('[data-testid="backend-name"]')?.textContent,
    state: document.querySelector('[data-testid="run-state"]')?.textContent,
    bayes: document.querySelector('[data-testid="bayes-auc"]')?.textContent,
    testAuc: document.querySelector('[data-testid="test-auc"]')?.textContent,
    lastValAuc: document.querySelector('[data-testid="latest-auc"]')?.textContent,
    steps: document.querySelector('[data-testid="run-step"]')?.textContent,
    url: location.href,
  }));
  console.log(JSON.stringify({ ...figures, scheme, seconds }, null, 2));
  console.log(`screenshot: ${out}`);
} finally {
  await browser.close();
  server.stop();
}
