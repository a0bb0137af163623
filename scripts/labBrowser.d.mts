// Types of labBrowser.mjs for the TypeScript scripts (npm run bench).
import type { Browser, Page } from '@playwright/test';
import type { RunConfig, StepBenchmarkConfig, StepBenchmarkResult } from '../workers/protocol';
import type { SeqRunConfig } from '../workers/sequence/seqProtocol';

export const CHROMIUM_ARGS: string[];
export function buildIfMissing(): void;
export function servePreview(port: number): Promise<{ url: string; stop: () => void }>;
export function launchChromium(options: {
  webgpu: boolean;
  extraArgs?: string[];
}): Promise<Browser>;
export function openLab(browser: Browser, url: string, search: string): Promise<Page>;
export const DATA_DIR: string;
export function loadFilesInLab(page: Page, files: string[]): Promise<string | null>;
export const STEP_BENCH_MODEL: Pick<
  StepBenchmarkConfig,
  'model' | 'numFields' | 'embeddingDim' | 'mlpLayers' | 'batchSize'
>;
export function benchmarkStepsInLab(
  page: Page,
  config: StepBenchmarkConfig,
): Promise<StepBenchmarkResult>;
export function trainInLab(
  page: Page,
  config: RunConfig,
): Promise<{ losses: number[]; stepMs: number[]; result: unknown }>;
export function cliArg(name: string, fallback: string): string;
export function writeJsonIfAsked(data: unknown): void;
export type { SeqRunConfig };
