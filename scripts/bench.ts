// The lab's speed on this machine in one command, written to docs/bench.json and docs/bench.md.
// Not a test. Sections (each can be chosen with --only):
//
// - training: samples/s of every model with and without its compression method (FM, DeepFM,
//   Wide&Deep, AutoInt: none / PEP; DLRM: none / UMEC) on the real Criteo slice, and NextItNet /
//   CpRec on the ML-1M sequences, on each backend, in headless Chromium against the built app;
// - vocab: ms per step at a total vocabulary of 10k, 100k and 1M (DeepFM, 26 fields, d=16);
// - first-point: seconds from pressing Train (default DeepFM, synthetic slice, backend "auto",
//   nothing remembered) to the first step on the run's counter and to the loss chart's first
//   point, and auto's pick; then the same again with the choice remembered;
// - responsiveness: main-thread long tasks while training (bench-responsiveness.mjs);
// - parse: loading a Criteo-format file in the worker, MB/s (bench-parse.mjs);
// - scorer: raw rows scored per second by the Node scorer, beside PyTorch (bench-scorer.ts);
// - torch: PyTorch's training samples/s for the same models on this machine
//   (scripts/reference/torch_train_bench.py), when `import torch` works.
//
//   npm run bench
//   npm run bench -- --only=training,vocab --backends=wasm --steps=4
//   npm run bench -- --out=/tmp/bench        # writes /tmp/bench.json and /tmp/bench.md
//   npm run bench -- --only=vocab --backends=wasm --merge   # redoes wasm's vocab figures only
//
// Each section is independent: one that fails is recorded with its error and the others still
// run. About 40 minutes on a 2-core machine with the default backends (wasm, webgpu); AutoInt on
// an emulated GPU (SwiftShader) takes minutes a step and is skipped there unless --all.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import {
  benchmarkStepsInLab,
  buildIfMissing,
  cliArg,
  DATA_DIR,
  launchChromium,
  loadFilesInLab,
  openLab,
  servePreview,
  STEP_BENCH_MODEL,
  trainInLab,
} from './labBrowser.mjs';
import { paperRunConfig } from './paperConfigs.mjs';
import { findTorchPython } from './torchPython';
import { defaultsOf } from '../workers/options';
import { PEP_SPEC } from '../workers/methods/pep/spec';
import { UMEC_SPEC } from '../workers/methods/umec/spec';
import {
  DEFAULT_CPREC,
  DEFAULT_SEQ_DATA,
  DEFAULT_SEQ_TRAIN,
  type SeqRunConfig,
} from '../workers/sequence/seqProtocol';
import type { ModelKind, RunConfig } from '../workers/protocol';

const SECTIONS = [
  'training',
  'vocab',
  'first-point',
  'responsiveness',
  'parse',
  'scorer',
  'torch',
] as const;
type Section = (typeof SECTIONS)[number];
const only = cliArg('only', SECTIONS.join(',')).split(',') as Section[];
for (const s of only) {
  if (!SECTIONS.includes(s))
    throw new Error(`--only: unknown section ${s} (${SECTIONS.join(', ')})`);
}
const backends = cliArg('backends', 'wasm,webgpu').split(',');
const steps = Number(cliArg('steps', '6'));
const warmup = Number(cliArg('warmup', '2'));
const all = process.argv.includes('--all');
const ALL_MODELS = ['fm', 'deepfm', 'widedeep', 'autoint', 'dlrm', 'nextitnet'];
/** The training section's models. */
const models = cliArg('models', ALL_MODELS.join(',')).split(',');
const out = cliArg('out', 'docs/bench');
const merge = process.argv.includes('--merge');

const CRITEO = join(DATA_DIR, 'criteo/criteo_dac_train_first10k.txt');
const SEQUENCES = join(DATA_DIR, 'sequential/grec_ml1m_ratings_seq20_order.txt');
const ANCHORS = join(DATA_DIR, 'anchors/criteo10k_encoded_seed42split.csv');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  chromium?: string;
  /** Per backend page: what the engine reports. */
  backends: Record<string, { adapter: string }>;
}

interface TrainingRow {
  backend: string;
  model: string;
  method: string;
  data: string;
  batch: number;
  /** Timed steps (after `warmup` untimed ones). */
  steps: number;
  warmup: number;
  msPerStep: number;
  samplesPerSec: number;
}

/** A run that wrote a section: when, at which code, and (per-backend sections) what it timed. */
interface Provenance {
  date: string;
  commit: string;
  command: string;
  backends?: string[];
  models?: string[];
  /** The Chromium the run measured in (figures move with its version). */
  chromium?: string;
}

/** This machine's Chromium, e.g. "150.0.7871.100" (undefined when it cannot be asked). */
function chromiumVersion(): string | undefined {
  const run = spawnSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version'], {
    encoding: 'utf8',
  });
  return /Chromium ([\d.]+)/.exec(run.stdout ?? '')?.[1];
}
const chromium = chromiumVersion();

const report: {
  date: string;
  commit: string;
  command: string;
  machine: Machine;
  training?: TrainingRow[];
  /** msPerStep: the median of `rounds` (absent in runs written before rounds were taken). */
  vocab?: { backend: string; vocabulary: number; msPerStep: number; rounds?: number[] }[];
  firstPoint?: {
    firstRun: FirstPoint;
    remembered: FirstPoint;
  };
  responsiveness?: unknown;
  parse?: unknown;
  scorer?: unknown;
  torch?: { blas: string; rows: Record<string, unknown>[] } | { skipped: string };
  errors: Record<string, string>;
  /** Which run wrote each section (a --merge run keeps the sections it did not run). */
  provenance: Partial<Record<Section, Provenance[]>>;
} = {
  date: new Date().toISOString(),
  commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim(),
  command: [
    'npm run bench',
    ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
  ].join(' '),
  machine: {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    chromium,
    backends: {},
  },
  errors: {},
  provenance: {},
};
for (const name of only) {
  report.provenance[name] = [
    {
      date: report.date,
      commit: report.commit,
      command: report.command,
      backends,
      models,
      chromium,
    },
  ];
}

/** The report's field that holds each section. */
const FIELD_OF: Record<Section, keyof typeof report> = {
  training: 'training',
  vocab: 'vocab',
  'first-point': 'firstPoint',
  responsiveness: 'responsiveness',
  parse: 'parse',
  scorer: 'scorer',
  torch: 'torch',
};

/**
 * --merge: starts from the previous report. The sections this run does not redo keep their
 * figures; the per-backend ones it redoes (training, vocab) keep the rows of other backends.
 */
function startFromPrevious(): void {
  if (!merge || !existsSync(`${out}.json`)) return;
  const previous = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as typeof report;
  // A section's runs: a list (a single run in reports written before lists).
  for (const [name, p] of Object.entries(previous.provenance ?? {})) {
    // Runs recorded before each named its Chromium ran in the report's last one.
    previous.provenance[name as Section] = (Array.isArray(p) ? p : [p]).map((run) => ({
      ...run,
      chromium: run.chromium ?? previous.machine.chromium,
    }));
  }
  const target = report as unknown as Record<string, unknown>;
  const source = previous as unknown as Record<string, unknown>;
  // The rows this run does not redo: other backends', and other models' (training).
  const otherBackends = <T extends { backend: string; model?: string }>(rows: T[] | undefined) =>
    (rows ?? []).filter(
      (r) => !backends.includes(r.backend) || (r.model !== undefined && !models.includes(r.model)),
    );
  for (const name of ['training', 'vocab'] as const) {
    if (!only.includes(name)) continue;
    const rows = otherBackends(previous[name] as { backend: string }[] | undefined);
    if (rows.length === 0) continue;
    target[name] = rows;
    // A previous run stays named unless this one redid everything it timed.
    const redone = (p: Provenance) =>
      p.backends !== undefined &&
      p.backends.every((b) => backends.includes(b)) &&
      (name === 'vocab' || (p.models ?? ALL_MODELS).every((m) => models.includes(m)));
    report.provenance[name] = [
      ...(previous.provenance?.[name] ?? []).filter((p) => !redone(p)),
      ...(report.provenance[name] ?? []),
    ];
  }
  for (const name of SECTIONS) {
    if (only.includes(name)) continue;
    const field = FIELD_OF[name];
    if (source[field] !== undefined) target[field] = source[field];
    if (previous.provenance?.[name]) report.provenance[name] = previous.provenance[name];
    if (previous.errors?.[name]) report.errors[name] = previous.errors[name];
  }
  report.machine.backends = { ...previous.machine.backends };
}
startFromPrevious();

/** Writes the report as it stands (after every section: a long run that stops keeps the rest). */
function save(): void {
  writeFileSync(`${out}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${out}.md`, markdown());
}

async function section(name: Section, run: () => Promise<void>): Promise<void> {
  if (!only.includes(name)) return;
  const started = Date.now();
  console.error(`== ${name}`);
  try {
    await run();
  } catch (err) {
    report.errors[name] = err instanceof Error ? err.message : String(err);
    console.error(`${name} failed: ${report.errors[name]}`);
  }
  console.error(`== ${name}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  save();
}

/**
 * The method of a timing run: its spec's defaults, with only the phase that does the method's
 * work per step: PEP's pruning (no retrain); UMEC's solver for one epoch (no dense start, no
 * fine-tune: those are plain steps of the model, and UMEC's phases have their own budgets).
 */
function methodConfig(method: string): RunConfig['method'] {
  if (method === 'pep') {
    return { id: 'pep', options: { ...defaultsOf(PEP_SPEC.options), retrain: 'none' } };
  }
  if (method === 'umec') {
    return {
      id: 'umec',
      options: {
        ...defaultsOf(UMEC_SPEC.options),
        denseEpochs: 0,
        solveEpochs: 1,
        fineTuneEpochs: 0,
      },
    };
  }
  return { id: 'none', options: {} };
}

const CTR_JOBS: { model: ModelKind; methods: string[] }[] = [
  { model: 'fm', methods: ['none', 'pep'] },
  { model: 'deepfm', methods: ['none', 'pep'] },
  { model: 'widedeep', methods: ['none', 'pep'] },
  { model: 'autoint', methods: ['none', 'pep'] },
  { model: 'dlrm', methods: ['none', 'umec'] },
];

async function backendFacts(page: Page): Promise<{ adapter: string }> {
  // The wasm backend's description names its threads ("wasm SIMD, 2 threads").
  return { adapter: ((await page.getByTestId('adapter-description').textContent()) ?? '').trim() };
}

/** Timed steps after the warm-up ones: fewer on an emulated GPU (seconds a step there). */
function stepsOn(backend: string): { timed: number; warm: number } {
  const software = /swiftshader|software|llvmpipe/i.test(
    report.machine.backends[backend]?.adapter ?? '',
  );
  return software && backend !== 'wasm' && backend !== 'cpu'
    ? { timed: Math.min(steps, 3), warm: Math.min(warmup, 1) }
    : { timed: steps, warm: warmup };
}

async function timeCtr(page: Page, backend: string, rows: TrainingRow[]): Promise<void> {
  if (!CTR_JOBS.some((j) => models.includes(j.model))) return;
  await loadFilesInLab(page, [CRITEO]);
  const software = /swiftshader|software|llvmpipe/i.test(
    report.machine.backends[backend]?.adapter ?? '',
  );
  const { timed, warm } = stepsOn(backend);
  for (const { model, methods } of CTR_JOBS) {
    if (!models.includes(model)) continue;
    if (model === 'autoint' && backend !== 'wasm' && software && !all) {
      console.error(
        `  ${backend} ${model}: skipped (minutes a step on an emulated GPU; --all runs it)`,
      );
      continue;
    }
    for (const method of methods) {
      const config: RunConfig = {
        ...paperRunConfig(model, {
          maxSteps: warm + timed,
          gradClipNorm: 0,
          embeddingUpdate: 'lazy',
        }),
        method: methodConfig(method),
      };
      const { stepMs } = await trainInLab(page, config);
      const ms = median(stepMs.slice(warm));
      const batch = config.train.batchSize;
      rows.push({
        backend,
        model,
        method,
        data: 'Criteo slice',
        batch,
        steps: timed,
        warmup: warm,
        msPerStep: ms,
        samplesPerSec: (batch * 1000) / ms,
      });
      console.error(`  ${backend} ${model} ${method}: ${ms.toFixed(0)} ms/step`);
    }
  }
}

async function timeSequences(page: Page, backend: string, rows: TrainingRow[]): Promise<void> {
  if (!models.includes('nextitnet')) return;
  await loadFilesInLab(page, [SEQUENCES]);
  const { timed, warm } = stepsOn(backend);
  for (const method of ['none', 'cprec'] as const) {
    const config: SeqRunConfig = {
      source: 'loaded',
      data: DEFAULT_SEQ_DATA,
      train: { ...DEFAULT_SEQ_TRAIN, epochs: 1, maxSteps: warm + timed, seed: 1 },
      method,
      cprec: { ...DEFAULT_CPREC, cutPoints: [0.2, 0.5], sharing: 'cross-block' },
    };
    const { stepMs } = await page.evaluate(
      (cfg) =>
        (
          window as unknown as {
            __lab: {
              trainSequencesCollectingLosses(c: SeqRunConfig): Promise<{ stepMs: number[] }>;
            };
          }
        ).__lab.trainSequencesCollectingLosses(cfg),
      config,
    );
    const ms = median(stepMs.slice(warm));
    const batch = config.train.batchSize;
    rows.push({
      backend,
      model: 'nextitnet',
      method,
      data: 'ML-1M sequences',
      batch,
      steps: timed,
      warmup: warm,
      msPerStep: ms,
      samplesPerSec: (batch * 1000) / ms,
    });
    console.error(`  ${backend} nextitnet ${method}: ${ms.toFixed(0)} ms/step`);
  }
}

/** The vocabulary section's warm-up and timed steps per measurement. */
const VOCAB_WARMUP_STEPS = 5;
// The median of 10 steps moved by a third between two runs of the command on 2 cores.
const VOCAB_TIMED_STEPS = 40;
/**
 * Rounds over the three vocabularies, each reported as the median of its rounds. On webgl
 * (SwiftShader) one vocabulary's median step moved between 135 and 313 ms from one measurement
 * to the next in the same page, so a single round could put either end of that in the ratio.
 */
const VOCAB_ROUNDS = 3;
const VOCABULARIES = [10_000, 100_000, 1_000_000];

async function timeVocabularies(page: Page, backend: string): Promise<void> {
  const timeAt = (totalVocabulary: number) =>
    benchmarkStepsInLab(page, {
      ...STEP_BENCH_MODEL,
      warmupSteps: VOCAB_WARMUP_STEPS,
      steps: VOCAB_TIMED_STEPS,
      seed: 1,
      totalVocabulary,
      embeddingUpdate: 'lazy',
    });
  // An untimed round first: the first model of this shape in a page ran 40-60% slower than the
  // same one timed again later (15 warm-up steps did not close the gap), which made 10k, timed
  // first, look slower than 100k.
  await timeAt(10_000);
  const rounds = new Map<number, number[]>(VOCABULARIES.map((v) => [v, []]));
  for (let round = 0; round < VOCAB_ROUNDS; round++) {
    for (const totalVocabulary of VOCABULARIES) {
      const r = await timeAt(totalVocabulary);
      rounds.get(totalVocabulary)?.push(r.medianMs);
      console.error(
        `  ${backend} vocabulary ${totalVocabulary}, round ${round + 1}: ${r.medianMs.toFixed(1)} ms/step`,
      );
    }
  }
  for (const [vocabulary, ms] of rounds) {
    (report.vocab ??= []).push({ backend, vocabulary, msPerStep: median(ms), rounds: ms });
  }
}

/** Seconds from a click on Train to the first step on the run's chart, and the backend used. */
/** Seconds from the click on Train to the first step counted and to the loss chart's first point. */
interface FirstPoint {
  firstStepSeconds: number;
  seconds: number;
  backend: string;
}

async function firstChartPoint(page: Page): Promise<FirstPoint> {
  // The previous run's state, step and chart stay on the page until the new run replaces them.
  const previous = await page.evaluate(
    () => document.querySelector('[data-testid="run-state"]')?.textContent ?? null,
  );
  const started = Date.now();
  await page.getByTestId('train-button').click();
  if (previous !== null) {
    await page.waitForFunction(
      (old) => document.querySelector('[data-testid="run-state"]')?.textContent !== old,
      previous,
      { timeout: 300_000, polling: 20 },
    );
  }
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="run-step"]')?.textContent ?? '0') >= 1,
    undefined,
    { timeout: 300_000, polling: 20 },
  );
  const firstStepSeconds = (Date.now() - started) / 1000;
  await page.waitForFunction(
    () =>
      Number(document.querySelector('[data-testid="loss-chart"]')?.getAttribute('data-points')) > 0,
    undefined,
    { timeout: 300_000, polling: 20 },
  );
  const seconds = (Date.now() - started) / 1000;
  const backend = ((await page.getByTestId('backend-name').textContent()) ?? '').trim();
  // The default run is short: on a fast backend it may be over by the time its chart is drawn.
  const stop = page.getByTestId('stop-button');
  if (await stop.isEnabled()) await stop.click();
  await page.getByTestId('train-button').waitFor({ state: 'visible' });
  await page.waitForFunction(
    () => !(document.querySelector('[data-testid="train-button"]') as HTMLButtonElement)?.disabled,
  );
  return { firstStepSeconds, seconds, backend };
}

function runScript(command: string, args: string[]): unknown {
  const file = join(tmpdir(), `bench-${process.pid}-${Date.now()}.json`);
  const r = spawnSync(command, [...args, `--json=${file}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`${[command, ...args].join(' ')} exited ${r.status}`);
  const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  rmSync(file, { force: true });
  return data;
}

/** Cardinality of each field of the encoded Criteo slice (13 bucketized dense, 26 categorical). */
function anchorFieldDims(): number[] | null {
  if (!existsSync(ANCHORS)) return null;
  const lines = readFileSync(ANCHORS, 'utf8').trim().split('\n').slice(1);
  const dims = new Array<number>(39).fill(1);
  for (const line of lines) {
    const cells = line.split(',');
    for (let f = 0; f < 39; f++) dims[f] = Math.max(dims[f], Number(cells[3 + f]) + 1);
  }
  return dims;
}

buildIfMissing();
const browserSections: Section[] = ['training', 'vocab', 'first-point'];
if (browserSections.some((s) => only.includes(s))) {
  const server = await servePreview(4183);
  const browser = await launchChromium({ webgpu: true });
  report.machine.chromium = browser.version();
  try {
    for (const backend of backends) {
      if (!only.includes('training') && !only.includes('vocab')) break;
      const page = await openLab(browser, server.url, `?backend=${backend}`);
      const active = await page.getByTestId('backend-name').textContent();
      if (active !== backend) {
        report.errors[`backend ${backend}`] = `asked for ${backend}, the engine runs ${active}`;
        await page.close();
        continue;
      }
      report.machine.backends[backend] = await backendFacts(page);
      await section('training', async () => {
        const rows = (report.training ??= []);
        await timeCtr(page, backend, rows);
        await timeSequences(page, backend, rows);
      });
      await section('vocab', () => timeVocabularies(page, backend));
      await page.close();
    }
    await section('first-point', async () => {
      // A fresh profile: no backend choice remembered, so auto measures first.
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await context.newPage();
      await page.goto(`${server.url}/`);
      await page
        .getByTestId('engine-status')
        .filter({ hasText: 'engine ready' })
        .waitFor({ timeout: 120_000 });
      const firstRun = await firstChartPoint(page);
      const remembered = await firstChartPoint(page);
      report.firstPoint = { firstRun, remembered };
      console.error(
        `  first run: step ${firstRun.firstStepSeconds} s, chart ${firstRun.seconds} s on ${firstRun.backend}; ` +
          `then ${remembered.firstStepSeconds} s, ${remembered.seconds} s`,
      );
      await context.close();
    });
  } finally {
    await browser.close();
    server.stop();
  }
}

await section('responsiveness', async () => {
  report.responsiveness = runScript('node', [
    'scripts/bench-responsiveness.mjs',
    `--backends=${backends.join(',')}`,
    '--seconds=20',
  ]);
});
await section('parse', async () => {
  report.parse = runScript('node', ['scripts/bench-parse.mjs', '--mb=100']);
});
await section('scorer', async () => {
  report.scorer = runScript('npx', ['tsx', 'scripts/bench-scorer.ts', '--reps=3']);
});
await section('torch', async () => {
  const { python } = findTorchPython();
  if (!python) {
    report.torch = {
      skipped: 'no python3 with torch (apt-get install -y python3-torch libopenblas0-pthread)',
    };
    return;
  }
  const dims = anchorFieldDims();
  const r = spawnSync(
    python,
    [
      'scripts/reference/torch_train_bench.py',
      // Steps of milliseconds: more of them, so that the median settles.
      '--steps=20',
      '--warmup=5',
      ...(dims ? [`--field-dims=${dims.join(',')}`] : []),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`torch_train_bench.py: ${r.stderr}`);
  let blas = 'unknown';
  try {
    blas = realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3');
  } catch {
    // another layout
  }
  report.torch = {
    blas,
    rows: r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
});

save();
console.error(`wrote ${out}.json and ${out}.md`);

function markdown(): string {
  const m = report.machine;
  const n = (x: number, digits = 0) =>
    x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const runs = new Map<string, string[]>();
  for (const [name, list] of Object.entries(report.provenance)) {
    for (const p of list) {
      const key =
        `\`${p.command}\` on ${p.date.slice(0, 10)} at commit ${p.commit}` +
        (p.chromium ? ` (Chromium ${p.chromium})` : '');
      runs.set(key, [...(runs.get(key) ?? []), name]);
    }
  }
  const lines: string[] = [
    '# Benchmark run',
    '',
    ...[...runs].map(([key, names]) => `Written by ${key}: ${names.join(', ')}.`),
    '',
    // Chromium (headless) is named per run above: the figures move with its version.
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}.`,
    '',
  ];
  for (const [b, facts] of Object.entries(m.backends))
    lines.push(`- ${b}: ${facts.adapter || '-'}`);
  if (report.training?.length) {
    const torchRows =
      report.torch && 'rows' in report.torch
        ? new Map(report.torch.rows.map((r) => [r.model as string, r]))
        : null;
    const bs = [...new Set(report.training.map((r) => r.backend))].sort();
    lines.push(
      '',
      '## Training samples/s',
      '',
      `Samples/s = batch / the median step time (in brackets) of the timed steps after the warm-up ones (${bs
        .map((b) => {
          const r = report.training?.find((x) => x.backend === b);
          return `${b}: ${r?.steps} after ${r?.warmup}`;
        })
        .join(
          ', ',
        )}). Models with their papers' Criteo settings (bench:models), lazy embedding updates. PEP and UMEC with their defaults, timed in the phase that does their work: PEP's pruning; one epoch of UMEC's solver, every step of it. NextItNet's samples are sequences of 20 items. ` +
        (report.firstPoint ? `Auto picked ${report.firstPoint.firstRun.backend} here. ` : '') +
        (torchRows
          ? 'PyTorch: the same model, batch and optimizer on the same machine (torch section).'
          : ''),
      '',
      `| model | method | data | batch | ${bs.join(' | ')}${torchRows ? ' | PyTorch' : ''} |`,
      `|---|---|---|---:|${bs.map(() => '---:').join('|')}|${torchRows ? '---:|' : ''}`,
    );
    // In the order of the jobs (models, then none before the method), whatever order runs came in.
    const order = [...CTR_JOBS.map((j) => j.model as string), 'nextitnet'];
    const keys = [
      ...new Set(report.training.map((r) => `${r.model}|${r.method}|${r.data}|${r.batch}`)),
    ].sort((a, b) => {
      const [ma, xa] = a.split('|');
      const [mb, xb] = b.split('|');
      return order.indexOf(ma) - order.indexOf(mb) || (xa === 'none' ? -1 : xb === 'none' ? 1 : 0);
    });
    for (const key of keys) {
      const [model, method, data, batch] = key.split('|');
      const cells = bs.map((b) => {
        const r = report.training?.find(
          (x) => x.backend === b && x.model === model && x.method === method,
        );
        return r ? `${n(r.samplesPerSec)} (${n(r.msPerStep)} ms)` : '-';
      });
      const t = torchRows && method === 'none' ? torchRows.get(model) : undefined;
      const torchCell = torchRows
        ? ` | ${t ? `${n(t.samplesPerSec as number)} (${n(t.msPerStep as number)} ms)` : '-'}`
        : '';
      lines.push(
        `| ${model} | ${method} | ${data} | ${batch} | ${cells.join(' | ')}${torchCell} |`,
      );
    }
  }
  if (report.vocab?.length) {
    const bs = [...new Set(report.vocab.map((r) => r.backend))].sort();
    lines.push(
      '',
      '## Step time against the vocabulary',
      '',
      `DeepFM, 26 fields, d=16, MLP 64-32, batch 256, lazy updates, Zipf-like ids. Each measurement is the median of ${VOCAB_TIMED_STEPS} steps after ${VOCAB_WARMUP_STEPS}; each backend first runs an untimed round at 10k, then ${VOCAB_ROUNDS} rounds over the three sizes. A cell gives the median of the rounds, with their range in brackets.`,
      '',
      '| backend | 10k (ms) | 100k (ms) | 1M (ms) | 1M / 10k |',
      '|---|---:|---:|---:|---:|',
    );
    for (const b of bs) {
      const at = (v: number) => report.vocab?.find((r) => r.backend === b && r.vocabulary === v);
      const [a, c, e] = [at(10_000), at(100_000), at(1_000_000)];
      const cell = (r: (typeof report.vocab)[number] | undefined) => {
        if (!r) return '-';
        if (!r.rounds || r.rounds.length < 2) return n(r.msPerStep, 1);
        return `${n(r.msPerStep, 1)} (${n(Math.min(...r.rounds), 1)}-${n(Math.max(...r.rounds), 1)})`;
      };
      lines.push(
        `| ${b} | ${cell(a)} | ${cell(c)} | ${cell(e)} | ${a && e ? `${n(e.msPerStep / a.msPerStep, 2)}x` : '-'} |`,
      );
    }
  }
  if (report.firstPoint) {
    const f = report.firstPoint;
    lines.push(
      '',
      '## Time to the first chart point',
      '',
      'Default DeepFM on the default synthetic slice, backend auto, seconds from the click on Train ' +
        'to the first step on the run counter and to the first point of the loss chart (charts ' +
        'start drawing 2.5 s into a run, when its busiest seconds are over).',
      '',
      '| run | first step | first chart point | backend |',
      '|---|---:|---:|---|',
      `| first run of the model (auto measures the backends) | ${n(f.firstRun.firstStepSeconds ?? Number.NaN, 1)} | ${n(f.firstRun.seconds, 1)} | ${f.firstRun.backend} |`,
      `| next run (the choice remembered) | ${n(f.remembered.firstStepSeconds ?? Number.NaN, 1)} | ${n(f.remembered.seconds, 1)} | ${f.remembered.backend} |`,
    );
  }
  const resp = report.responsiveness as
    | {
        seconds: number;
        rows: { backend: string; steps: number; count: number; longest: number }[];
      }
    | undefined;
  if (resp) {
    lines.push(
      '',
      `## Main-thread long tasks (${resp.seconds} s of training, default DeepFM)`,
      '',
      '| backend | steps | tasks over 50 ms | longest (ms) |',
      '|---|---:|---:|---:|',
      ...resp.rows.map((r) => `| ${r.backend} | ${r.steps} | ${r.count} | ${n(r.longest)} |`),
    );
  }
  const parse = report.parse as
    { fileBytes: number; rows: number; mbPerSecond: number; wallMbPerSecond: number } | undefined;
  if (parse) {
    lines.push(
      '',
      '## Parsing',
      '',
      `A Criteo-format file of ${n(parse.fileBytes / 1e6)} MB (${n(parse.rows)} rows) loaded in the worker: ` +
        `${n(parse.mbPerSecond, 1)} MB/s (worker time), ${n(parse.wallMbPerSecond, 1)} MB/s (click to summary).`,
    );
  }
  const scorer = report.scorer as
    | { rows: { label: string; endToEnd: number; torch: Record<string, number> | null }[] }
    | undefined;
  if (scorer) {
    lines.push(
      '',
      '## Scoring raw rows (Node scorer, one thread)',
      '',
      'Raw Criteo lines to probabilities, rows/s. Python: the reference reader (lab_model.py) parses and encodes, then PyTorch scores in batches of 1024, one thread.',
      '',
      '| model | Node scorer | Python + PyTorch |',
      '|---|---:|---:|',
      ...scorer.rows.map(
        (r) => `| ${r.label} | ${n(r.endToEnd)} | ${r.torch ? n(r.torch.endToEnd1024) : '-'} |`,
      ),
    );
  }
  if (report.torch) {
    lines.push('', '## PyTorch on this machine', '');
    if ('skipped' in report.torch) lines.push(`Skipped: ${report.torch.skipped}.`);
    else {
      const t0 = report.torch.rows[0];
      lines.push(
        `torch ${String(t0?.torch)}, ${String(t0?.threads)} threads, BLAS ${report.torch.blas}.`,
        '',
        '| model | batch | samples/s | ms/step |',
        '|---|---:|---:|---:|',
        ...report.torch.rows.map(
          (r) =>
            `| ${String(r.model)} | ${String(r.batch)} | ${n(r.samplesPerSec as number)} | ${n(r.msPerStep as number, 1)} |`,
        ),
      );
    }
  }
  const errors = Object.entries(report.errors);
  if (errors.length) {
    lines.push('', '## Failed', '', ...errors.map(([k, v]) => `- ${k}: ${v}`));
  }
  return `${lines.join('\n')}\n`;
}
