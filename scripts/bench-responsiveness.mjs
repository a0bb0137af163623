// Benchmark: main-thread long tasks (PerformanceObserver 'longtask') during a 30-second training
// run of the default DeepFM on the default synthetic slice, per backend, in headless Chromium.
//
//   npm run bench:responsiveness                  # webgpu, wasm, cpu
//   npm run bench:responsiveness -- --backends=webgpu --seconds=30
import {
  buildIfMissing,
  launchChromium,
  openLab,
  servePreview,
  cliArg,
  writeJsonIfAsked,
} from './labBrowser.mjs';

const backends = cliArg('backends', 'webgpu,wasm,cpu').split(',');
const seconds = Number(cliArg('seconds', '30'));

buildIfMissing();
const server = await servePreview(4181);
const browser = await launchChromium({ webgpu: true });
const rows = [];
try {
  for (const backend of backends) {
    const page = await openLab(browser, server.url, `?epochs=1000&backend=${backend}`);
    await page.getByTestId('dataset-panel').waitFor({ timeout: 60_000 });
    await page.evaluate(() => {
      window.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
      }).observe({ type: 'longtask' });
    });
    await page.getByTestId('train-button').click();
    await page
      .getByTestId('run-state')
      .filter({ hasText: 'running' })
      .waitFor({ timeout: 120_000 });
    const from = await page.evaluate(() => performance.now());
    await page.waitForTimeout(seconds * 1000);
    const to = await page.evaluate(() => performance.now());
    const steps = Number(await page.getByTestId('run-step').textContent());
    await page.getByTestId('stop-button').click();
    const tasks = (await page.evaluate(() => window.__longTasks)).filter(
      ([s]) => s >= from && s <= to,
    );
    const durations = tasks.map(([, d]) => d).sort((a, b) => b - a);
    const at = tasks.map(([s, d]) => `${((s - from) / 1000).toFixed(1)}s:${d.toFixed(0)}`);
    rows.push({
      backend,
      steps,
      count: tasks.length,
      longest: durations[0] ?? 0,
      over50: durations.filter((d) => d > 50).length,
    });
    console.error(
      `${backend}: ${steps} steps, long tasks ${JSON.stringify(durations)} (at ${at.join(' ')})`,
    );
    await page.close();
  }
} finally {
  await browser.close();
  server.stop();
}
writeJsonIfAsked({ seconds, rows });
console.log(
  `Default DeepFM on the default synthetic slice, ${seconds} s of training, main-thread long tasks (> 50 ms)`,
);
console.log('| backend | steps in the window | long tasks | longest (ms) |');
console.log('| --- | --- | --- | --- |');
for (const r of rows)
  console.log(`| ${r.backend} | ${r.steps} | ${r.count} | ${r.longest.toFixed(0)} |`);
