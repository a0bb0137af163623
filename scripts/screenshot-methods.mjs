// Screenshots of the compression views for the README and docs, taken in headless Chromium
// against the built app, through the UI as a user would (wasm backend: on this machine's
// software GPU the same runs take many times longer):
// - docs/screenshot-pep.png: PEP's quick demo preset on a synthetic slice (snapshots at 50, 80
//   and 90%, each retrained): the method's charts;
// - docs/screenshot-umec.png: UMEC's quick demo preset (a synthetic DLRM with planted noise
//   fields, FLOPs budget 0.4, the held-out field score): the method's charts;
// - docs/screenshot-compare.png: the dense model and two compressed ones of the same slice on the
//   Compare runs panel (size against test AUC, the Pareto front, one run opened).
// - docs/screenshot-cprec.png: CpRec (3 blocks, cross-block sharing) on the synthetic sequences:
//   the whole next-item dashboard (parameters by part, block cuts, loss, ranking metrics, result).
// Prints each run's test AUC and parameters as the page shows them.
//
//   node scripts/screenshot-methods.mjs [--scenes=pep,umec,compare,cprec] [--backend=wasm]
import { buildIfMissing, launchChromium, openLab, servePreview, cliArg } from './labBrowser.mjs';

const backend = cliArg('backend', 'wasm');
const scenes = cliArg('scenes', 'pep,umec,compare,cprec').split(',');

/** The PEP quick demo's slice and model (the preset's), so the compare scene reuses them. */
const QUICK = 'rows=20000&fields=8&card=3000&dseed=7&model=deepfm&dim=8&mlp=64,32';
/** Small synthetic sequences and NextItNet, compressed by CpRec with the lab's default options. */
const CPREC = 'task=seq&seqs=3000&items=600&len=12&sdim=32&sepochs=4&slr=0.005&smethod=cprec';

async function train(page, timeout = 1_200_000) {
  await page.getByTestId('train-button').click();
  await page
    .getByTestId('run-state')
    .filter({ hasText: /^(done|failed)$/ })
    .waitFor({ timeout });
  const state = await page.getByTestId('run-state').textContent();
  if (state !== 'done') throw new Error(`the run ended ${state}`);
  await page.waitForTimeout(1500);
}

async function applyPreset(page, presetId) {
  await page.getByTestId('method-preset').selectOption(presetId);
}

async function shoot(page, testId, path) {
  const target = page.getByTestId(testId);
  await target.scrollIntoViewIfNeeded();
  await page.waitForTimeout(800);
  await target.screenshot({ path });
  console.log(`screenshot: ${path}`);
}

async function historyFigures(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid^="history-row-"]')].map((r) => r.textContent),
  );
}

buildIfMissing();
const server = await servePreview(4181);
const browser = await launchChromium({ webgpu: true });
try {
  if (scenes.includes('cprec')) {
    const page = await openLab(browser, server.url, `?backend=${backend}&${CPREC}`);
    await page.getByTestId('seq-compression-ratio').waitFor({ timeout: 60_000 });
    await page.getByTestId('seq-train-button').click();
    await page.getByTestId('seq-result-card').waitFor({ timeout: 1_200_000 });
    await page.waitForTimeout(1500);
    const figures = await page.getByTestId('seq-test-metrics').textContent();
    console.log(`cprec: ${await page.getByTestId('seq-result-ratio').textContent()}; ${figures}`);
    await shoot(page, 'seq-dashboard', 'docs/screenshot-cprec.png');
    await page.close();
  }
  if (scenes.includes('pep')) {
    const page = await openLab(browser, server.url, `?backend=${backend}&method=pep`);
    await applyPreset(page, 'pep-quick');
    await train(page);
    await shoot(page, 'method-charts', 'docs/screenshot-pep.png');
    console.log(JSON.stringify(await historyFigures(page)));
    await page.close();
  }
  if (scenes.includes('umec')) {
    const page = await openLab(browser, server.url, `?backend=${backend}&method=umec`);
    await applyPreset(page, 'umec-quick');
    await train(page);
    await shoot(page, 'method-charts', 'docs/screenshot-umec.png');
    console.log(JSON.stringify(await historyFigures(page)));
    await page.close();
  }
  if (scenes.includes('compare')) {
    const base = `?backend=${backend}&${QUICK}&epochs=4&batch=256&lr=0.003`;
    const page = await openLab(browser, server.url, `${base}&method=none`);
    await train(page);
    await page.getByTestId('field-method.id').selectOption('uniform-dim');
    await page.getByTestId('field-method.uniform-dim.dim').fill('2');
    await train(page);
    await page.getByTestId('field-method.id').selectOption('magnitude');
    await train(page);
    for (const id of [1, 2, 3]) await page.getByTestId(`compare-run-${id}`).check();
    await page.getByTestId('pareto-point-1').click();
    await page.waitForTimeout(800);
    await shoot(page, 'compare-panel', 'docs/screenshot-compare.png');
    console.log(JSON.stringify(await historyFigures(page)));
    await page.close();
  }
} finally {
  await browser.close();
  server.stop();
}
