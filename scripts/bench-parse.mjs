// Benchmark: parse throughput and worker memory of a dataset load, in headless Chromium against
// the built app, through the real file input. Not a test: it prints a markdown table.
//
//   npm run bench:parse                      # 200 MB Criteo-format file
//   npm run bench:parse -- --mb=400 --runs=3 # bigger file, best and median of 3 loads
//
// The input is generated into the temp folder from the real 10k Criteo slice (RECSYS_DATA_DIR or
// ../shared/data): copy r > 0 of the slice rewrites ~30% of its hashed categorical values with a
// seeded function of (value, r), so vocabularies keep growing with the file while labels, integer
// columns and the values' skew stay those of the real rows.
//
// Memory: the worker's heap is sampled every ~20 ms over CDP (browser session ->
// Target.attachToTarget on the engine worker -> Runtime.getHeapUsage, whose `usedSize` is the V8
// heap and `backingStorageSize` the ArrayBuffer backing stores, i.e. the typed arrays).
// performance.memory does not exist in workers, and measureUserAgentSpecificMemory needs
// cross-origin isolation, which the lab does not have.
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildIfMissing,
  cliArg,
  DATA_DIR,
  launchChromium,
  openLab,
  servePreview,
  writeJsonIfAsked,
} from './labBrowser.mjs';

const targetMb = Number(cliArg('mb', '200'));
const runs = Number(cliArg('runs', '1'));
/** --profile: CPU-profile the worker during the (first) load and print the top functions. */
const profile = process.argv.includes('--profile');
const slicePath = join(DATA_DIR, 'criteo/criteo_dac_train_first10k.txt');
if (!existsSync(slicePath)) {
  console.error(`Criteo slice not found at ${slicePath}: set RECSYS_DATA_DIR`);
  process.exit(1);
}

/** mulberry32: a small seeded generator, so the file is the same on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function generate(path, bytesWanted) {
  const lines = readFileSync(slicePath, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const rows = lines.map((l) => l.split('\t'));
  const out = createWriteStream(path);
  const random = rng(42);
  let written = 0;
  let lineCount = 0;
  for (let copy = 0; written < bytesWanted; copy++) {
    const salt = Math.imul(copy, 0x9e3779b1) >>> 0;
    const parts = [];
    for (const cols of rows) {
      const c = copy === 0 ? cols : cols.slice();
      if (copy > 0) {
        for (let k = 14; k < 40; k++) {
          if (c[k] && random() < 0.3) {
            c[k] = ((parseInt(c[k], 16) ^ salt) >>> 0).toString(16).padStart(8, '0');
          }
        }
      }
      parts.push(c.join('\t'));
    }
    const chunk = `${parts.join('\n')}\n`;
    written += Buffer.byteLength(chunk);
    lineCount += parts.length;
    if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
  return lineCount;
}

const filePath = join(tmpdir(), `lab-bench-criteo-${targetMb}mb.txt`);
if (!existsSync(filePath) || statSync(filePath).size < targetMb * 1e6) {
  const t = Date.now();
  const n = await generate(filePath, targetMb * 1e6);
  console.error(`generated ${filePath}: ${n} rows in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}
const fileBytes = statSync(filePath).size;

/** CDP access to the engine worker through a browser-level session. */
async function attachToWorker(browser) {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const target = targetInfos.find((t) => t.type === 'worker' && t.url.includes('engine.worker'));
  if (!target) throw new Error('engine worker target not found');
  const { sessionId } = await cdp.send('Target.attachToTarget', {
    targetId: target.targetId,
    flatten: false,
  });
  let nextId = 1;
  const pending = new Map();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    if (e.sessionId !== sessionId) return;
    const msg = JSON.parse(e.message);
    pending.get(msg.id)?.(msg);
    pending.delete(msg.id);
  });
  const send = (method, params = {}) =>
    new Promise((res, rej) => {
      const id = nextId++;
      pending.set(id, (msg) => (msg.error ? rej(new Error(msg.error.message)) : res(msg.result)));
      cdp
        .send('Target.sendMessageToTarget', {
          sessionId,
          message: JSON.stringify({ id, method, params }),
        })
        .catch(rej);
    });
  const heap = async () => {
    const u = await send('Runtime.getHeapUsage');
    return {
      js: u.usedSize,
      buffers: u.backingStorageSize ?? 0,
      total: u.usedSize + (u.backingStorageSize ?? 0),
    };
  };
  return { heap, send, gc: () => send('HeapProfiler.collectGarbage'), detach: () => cdp.detach() };
}

const mb = (b) => (b / 1e6).toFixed(1);

/** Self time per function of a CDP CPU profile, largest first. */
function printProfile(p) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  p.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.error('worker CPU profile, self time:');
  for (const [key, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.error(
      `  ${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`,
    );
  }
}

buildIfMissing();
const server = await servePreview(4176);
const browser = await launchChromium({ webgpu: false });
const results = [];
try {
  for (let run = 0; run < runs; run++) {
    const page = await openLab(browser, server.url, '');
    const worker = await attachToWorker(browser);
    await worker.gc();
    const before = await worker.heap();
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const h = await worker.heap().catch(() => null);
        if (h && h.total > peak.total) peak = h;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    if (profile && run === 0) {
      await worker.send('Profiler.enable');
      await worker.send('Profiler.setSamplingInterval', { interval: 500 });
      await worker.send('Profiler.start');
    }
    await page.getByTestId('dataset-file-input').setInputFiles(filePath);
    const started = Date.now();
    await page.getByTestId('dataset-load-button').click();
    const summary = page.locator(
      `[data-testid="dataset-summary"][data-name="${filePath.split('/').pop()}"]`,
    );
    await summary.waitFor({ timeout: 600_000 });
    const wallSeconds = (Date.now() - started) / 1000;
    sampling = false;
    await sampler;
    const attr = async (name) => Number(await summary.getAttribute(`data-${name}`));
    const rows = await attr('rows');
    const fields = await attr('fields');
    const dense = await attr('dense');
    const workerSeconds = await attr('seconds');
    const bytes = await attr('bytes');
    const error = await page.getByTestId('dataset-error').count();
    if (error > 0) throw new Error(await page.getByTestId('dataset-error').textContent());
    if (profile && run === 0) printProfile((await worker.send('Profiler.stop')).profile);
    await worker.gc();
    const retained = await worker.heap();
    // ids (Int32 per field) + labels (Float32) + dense (Float32 per dense column) + split (Int32).
    const typedBytes = rows * (4 * fields + 4 + 4 * dense + 4);
    const vocabulary = await page.getByTestId('dataset-vocabulary').textContent();
    results.push({
      rows,
      bytes,
      workerSeconds,
      wallSeconds,
      before,
      peak,
      retained,
      typedBytes,
      vocabulary,
    });
    console.error(
      `run ${run + 1}: ${mb(bytes)} MB in ${workerSeconds.toFixed(2)} s (worker), ${wallSeconds.toFixed(2)} s (wall); peak ${mb(peak.total - before.total)} MB over baseline`,
    );
    await worker.detach();
    await page.close();
  }
} finally {
  await browser.close();
  server.stop();
}

const byThroughput = [...results].sort((a, b) => a.workerSeconds - b.workerSeconds);
const median = byThroughput[Math.floor(byThroughput.length / 2)];
const r = median;
writeJsonIfAsked({
  fileBytes,
  rows: r.rows,
  vocabulary: r.vocabulary,
  workerSeconds: r.workerSeconds,
  wallSeconds: r.wallSeconds,
  mbPerSecond: r.bytes / 1e6 / r.workerSeconds,
  wallMbPerSecond: r.bytes / 1e6 / r.wallSeconds,
  peakOverBaselineBytes: r.peak.total - r.before.total,
  typedBytes: r.typedBytes,
});
console.log(
  `Criteo-format file ${mb(fileBytes)} MB, ${r.rows.toLocaleString('en-US')} rows (${r.vocabulary}); headless Chromium ${runs > 1 ? `median of ${runs} loads` : 'one load'}`,
);
console.log('| measure | value |');
console.log('| --- | --- |');
console.log(
  `| parse throughput, worker-reported load time | ${(r.bytes / 1e6 / r.workerSeconds).toFixed(1)} MB/s (${r.workerSeconds.toFixed(2)} s) |`,
);
console.log(
  `| parse throughput, wall time click → summary | ${(r.bytes / 1e6 / r.wallSeconds).toFixed(1)} MB/s (${r.wallSeconds.toFixed(2)} s) |`,
);
console.log(`| typed arrays of the result (ids, labels, dense, split) | ${mb(r.typedBytes)} MB |`);
console.log(`| worker heap before the load (JS + ArrayBuffers) | ${mb(r.before.total)} MB |`);
console.log(
  `| worker peak during the load, over that baseline | ${mb(r.peak.total - r.before.total)} MB (JS ${mb(r.peak.js - r.before.js)} + buffers ${mb(r.peak.buffers - r.before.buffers)}) = ${((r.peak.total - r.before.total) / r.typedBytes).toFixed(2)}x the typed arrays |`,
);
console.log(
  `| worker retained after GC, over baseline | ${mb(r.retained.total - r.before.total)} MB = ${((r.retained.total - r.before.total) / r.typedBytes).toFixed(2)}x the typed arrays |`,
);
