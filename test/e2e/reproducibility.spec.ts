import { expect, type Page } from '@playwright/test';
import type { ModelKind, RunConfig, RunResult } from '../../workers/protocol';
import { DEFAULT_TRAIN_CONFIG } from '../../workers/protocol';
import { test, waitForEngine } from './lab';

/** A slice and models small enough for SwiftShader; dropout and BatchNorm on, as in real runs. */
function tinyConfig(model: ModelKind): RunConfig {
  return {
    source: 'synthetic',
    data: { seed: 3, numRows: 400, numFields: 6, maxCardinality: 200 },
    train: {
      ...DEFAULT_TRAIN_CONFIG,
      model,
      embeddingDim: 4,
      mlpLayers: [8],
      dropout: 0.2,
      batchNorm: true,
      epochs: 1,
      batchSize: 32,
      learningRate: 0.01,
      seed: 5,
    },
    method: { id: 'none', options: {} },
  };
}

const MODELS: ModelKind[] = ['fm', 'deepfm', 'widedeep', 'autoint', 'dlrm'];

interface LabHooks {
  __lab: {
    trainCollectingLosses(config: RunConfig): Promise<{ losses: number[]; result: RunResult }>;
  };
}

async function firstLosses(page: Page, backend: string): Promise<Record<string, number[]>> {
  await page.goto(`/?backend=${backend}`);
  expect(await waitForEngine(page)).toBe(backend);
  const out: Record<string, number[]> = {};
  for (const model of MODELS) {
    const { losses, result } = await page.evaluate(
      (config) => (window as unknown as LabHooks).__lab.trainCollectingLosses(config),
      tinyConfig(model),
    );
    expect(result.steps).toBe(10);
    // Every step's loss has arrived by the time the result does (the worker awaits its last event).
    expect(losses).toHaveLength(10);
    out[model] = losses.slice(0, 5);
  }
  return out;
}

test("every model's first losses agree between the lane's GPU backend and cpu (1e-3 relative)", async ({
  browser,
}, info) => {
  test.setTimeout(300_000);
  const gpuBackend = info.project.name === 'webgpu' ? 'webgpu' : 'webgl';
  const gpuPage = await browser.newPage();
  const gpu = await firstLosses(gpuPage, gpuBackend);
  await gpuPage.close();
  const cpuPage = await browser.newPage();
  const cpu = await firstLosses(cpuPage, 'cpu');
  await cpuPage.close();
  let worst = 0;
  for (const model of MODELS) {
    expect(gpu[model]).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      const rel = Math.abs(gpu[model][i] - cpu[model][i]) / Math.abs(cpu[model][i]);
      worst = Math.max(worst, rel);
      expect(rel, `${model} step ${i + 1}: ${gpu[model][i]} vs ${cpu[model][i]}`).toBeLessThan(
        1e-3,
      );
    }
  }
  info.annotations.push({
    type: 'largest relative difference',
    description: `${worst.toExponential(2)} (${gpuBackend} vs cpu, 5 models x 5 steps)`,
  });
});
