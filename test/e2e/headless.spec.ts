/**
 * The headless runner (npm run lab -- train) runs the lab's engine: the same config, seed and
 * data give the same losses and metrics in Node as in the lab's worker.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { expect, type Page } from '@playwright/test';
import type { EngineEvent, RunConfig, RunResult } from '../../workers/protocol';
import { DEFAULT_TRAIN_CONFIG } from '../../workers/protocol';
import { test, waitForEngine } from './lab';

const CONFIG: RunConfig = {
  source: 'synthetic',
  data: { seed: 11, numRows: 1200, numFields: 6, maxCardinality: 500 },
  train: {
    ...DEFAULT_TRAIN_CONFIG,
    model: 'deepfm',
    embeddingDim: 4,
    mlpLayers: [8],
    epochs: 2,
    batchSize: 64,
    learningRate: 0.01,
    seed: 3,
  },
  method: { id: 'magnitude', options: { sparsity: 0.7, scope: 'global', fineTuneEpochs: 1 } },
};

interface RunRecord {
  losses: number[];
  result: RunResult;
}

async function inBrowser(page: Page, backend: string): Promise<RunRecord> {
  await page.goto(`/?backend=${backend}`);
  expect(await waitForEngine(page)).toBe(backend);
  return page.evaluate(
    (config) =>
      (
        window as unknown as {
          __lab: { trainCollectingLosses(c: RunConfig): Promise<RunRecord> };
        }
      ).__lab.trainCollectingLosses(config),
    CONFIG,
  );
}

async function inNode(dir: string, backend: string): Promise<RunRecord> {
  const config = `${dir}/config.json`;
  const out = `${dir}/result-${backend}.json`;
  const log = `${dir}/events-${backend}.jsonl`;
  await writeFile(config, JSON.stringify(CONFIG));
  const args = ['tsx', 'cli/lab.ts', 'train', '--config', config, '--out', out];
  args.push('--log', log, '--backend', backend, '--quiet');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('npx', args, { stdio: 'inherit' });
    child.on('exit', resolve);
  });
  expect(code).toBe(0);
  const losses: number[] = [];
  for (const line of (await readFile(log, 'utf8')).trim().split('\n')) {
    const event = JSON.parse(line) as EngineEvent;
    if (event.type === 'progress') losses.push(...(event.batch.losses as unknown as number[]));
  }
  const { result } = JSON.parse(await readFile(out, 'utf8')) as { result: RunResult };
  return { losses, result };
}

test('Node and the browser agree: cpu to 1e-6, wasm within 1e-3 AUC', async ({ page }, info) => {
  test.skip(
    info.project.name !== 'webgpu',
    'runs once (the backends it compares are the same in both lanes)',
  );
  test.setTimeout(300_000);
  const dir = info.outputDir;
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  for (const backend of ['cpu', 'wasm']) {
    const browser = await inBrowser(page, backend);
    const node = await inNode(dir, backend);
    expect(node.losses.length).toBe(browser.losses.length);
    expect(node.result.steps).toBe(browser.result.steps);
    const b = browser.result;
    const n = node.result;
    if (backend === 'cpu') {
      node.losses.forEach((loss, i) =>
        expect(Math.abs(loss - browser.losses[i]), `step ${i + 1}`).toBeLessThan(1e-6),
      );
      n.evaluations.forEach((e, i) =>
        expect(Math.abs(e.validationAuc - b.evaluations[i].validationAuc)).toBeLessThan(1e-6),
      );
      expect(Math.abs(n.test!.auc - b.test!.auc)).toBeLessThan(1e-6);
      expect(Math.abs(n.test!.logloss - b.test!.logloss)).toBeLessThan(1e-6);
      expect(n.methodResult.sparsity).toBe(b.methodResult.sparsity);
    } else {
      expect(Math.abs(n.test!.auc - b.test!.auc)).toBeLessThan(1e-3);
    }
    info.annotations.push({
      type: `${backend}: test AUC node vs browser`,
      description: `${n.test!.auc.toFixed(6)} vs ${b.test!.auc.toFixed(6)}`,
    });
  }
});
