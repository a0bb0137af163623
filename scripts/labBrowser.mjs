// Shared by the benchmark and screenshot scripts: build the app if needed, serve the built copy
// with `vite preview`, and start Debian's Chromium through Playwright (no browser download).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { chromium } from '@playwright/test';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export function buildIfMissing() {
  if (existsSync('dist/index.html') && !process.argv.includes('--rebuild')) return;
  const r = spawnSync('npx', ['vite', 'build'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('vite build failed');
}

export async function servePreview(port) {
  const server = spawn(
    'npx',
    ['vite', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    // Its own process group, so that stopping it also stops the vite process npx started.
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  const stop = () => {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  // A script that fails (no Chromium, a page error) must not leave the server running: it
  // would hold the script's output pipe open and keep the shell waiting.
  process.once('exit', stop);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url);
      if (res.ok) return { url, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  stop();
  throw new Error(`vite preview did not answer on ${url}`);
}

export async function launchChromium({ webgpu, extraArgs = [] }) {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath} (install Debian's chromium or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({
    executablePath,
    args: [...CHROMIUM_ARGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : []), ...extraArgs],
  });
}

export async function openLab(browser, url, search) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${url}/${search}`);
  await page
    .getByTestId('engine-status')
    .filter({ hasText: 'engine ready' })
    .waitFor({ timeout: 120_000 });
  return page;
}

/** The real data slices (never copied into the repository): RECSYS_DATA_DIR or ../shared/data. */
export const DATA_DIR = process.env.RECSYS_DATA_DIR ?? '../shared/data';

/** Loads files through the lab's file input, as a user would, and waits for the summary. */
export async function loadFilesInLab(page, files) {
  await page.getByTestId('dataset-file-input').setInputFiles(files);
  await page.getByTestId('dataset-load-button').click();
  await page.getByTestId('dataset-progress').waitFor({ state: 'detached', timeout: 300_000 });
  const error = page.getByTestId('dataset-error');
  if ((await error.count()) > 0) throw new Error(`loading failed: ${await error.textContent()}`);
  return page.getByTestId('dataset-rows-kept').getAttribute('data-count');
}

/**
 * The model the step-time benchmarks (vocab, PEP's overhead) time: DeepFM with 26 fields, d=16,
 * MLP 64-32, batch 256.
 */
export const STEP_BENCH_MODEL = {
  model: 'deepfm',
  numFields: 26,
  embeddingDim: 16,
  mlpLayers: [64, 32],
  batchSize: 256,
};

/** Times training steps in the page's engine (window.__lab.benchmarkSteps). */
export async function benchmarkStepsInLab(page, config) {
  return page.evaluate((cfg) => window.__lab.benchmarkSteps(cfg), config);
}

/** Trains with `config` in the page's engine; returns every step's loss and ms, and the result. */
export async function trainInLab(page, config) {
  return page.evaluate((cfg) => window.__lab.trainCollectingLosses(cfg), config);
}

/** `--name=value` from the command line, or `fallback`. */
export function cliArg(name, fallback) {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

/** Writes `data` as JSON to the file `--json=FILE` names, when it is given (npm run bench). */
export function writeJsonIfAsked(data) {
  const file = cliArg('json', '');
  if (file) writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
