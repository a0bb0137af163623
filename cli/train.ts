/**
 * `npm run lab -- train`: one run of the lab's engine from a config file (the JSON the lab's
 * "Download config" writes), on the synthetic slice or on data files, with a progress line, every
 * event the UI would receive in a JSON-lines log, and the result in a JSON file.
 */
import { readFile, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { generateSyntheticCtr } from '../workers/data/synthetic';
import type { CtrDataset } from '../workers/data/dataset';
import type { LoadOptions } from '../workers/data/loadDataset';
import { summarizeCtr } from '../workers/engine/datasetSummary';
import { RunControl } from '../workers/engine/runControl';
import { runExperiment } from '../workers/engine/trainer';
import { exportRun, snapshotOfRun } from '../workers/export/exportRun';
import type { KeptRun } from '../workers/engine/keptRuns';
import { METHOD_SPECS } from '../workers/methods/registry';
import {
  validateRunConfig,
  type DatasetSummary,
  type EngineEvent,
  type RunConfig,
} from '../workers/protocol';
import { helpText, parseFlags, UsageError, wholeNumber, type ParsedFlags } from './args';
import { TRAIN_FLAGS, TRAIN_SUMMARY } from './trainFlags';
import { formatOf, loadFiles, startBackend, type NodeBackend } from './nodeEngine';
import { jsonReplacer, writeAtomically } from './files';
import { ProgressLine } from './progressLine';

/** Reads the config JSON: a CTR run config, or a sequence one (`"task": "sequences"`). */
async function readJsonConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config ${path}: ${err instanceof Error ? err.message : err}`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config ${path} is not JSON: ${err instanceof Error ? err.message : err}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new UsageError(
      `config ${path} must be a JSON object with source, data, train and method`,
    );
  }
  return config as Record<string, unknown>;
}

/** `--snapshot`: a snapshot number (from 1), 'all', or absent. */
function snapshotFlag(flags: ParsedFlags): number | 'all' | null {
  const value = flags.get('snapshot');
  if (value === undefined) return null;
  if (!flags.has('model-out')) {
    throw new UsageError(
      '--snapshot says which model --model-out writes: give --model-out FILE too',
    );
  }
  return value === 'all' ? 'all' : wholeNumber(value, 'snapshot', 1);
}

/** Where `--snapshot all` writes snapshot k: beside the model file, `model.snapshot-k.json`. */
export function snapshotPath(modelOut: string, k: number): string {
  const stem = modelOut.endsWith('.json') ? modelOut.slice(0, -'.json'.length) : modelOut;
  return `${stem}.snapshot-${k}.json`;
}

/**
 * Writes the model file(s) `--model-out` and `--snapshot` ask for. Returns why a snapshot asked
 * for cannot be written (the run did not take it), or null.
 */
async function writeModelFiles(
  kept: KeptRun,
  modelOut: string,
  snapshot: number | 'all' | null,
  progress: ProgressLine,
): Promise<string | null> {
  if (typeof snapshot === 'number') {
    try {
      snapshotOfRun(kept, snapshot);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    await writeAtomically(modelOut, JSON.stringify(await exportRun(kept, { snapshot })));
    progress.note(`wrote snapshot ${snapshot} to ${modelOut}`);
    return null;
  }
  await writeAtomically(modelOut, JSON.stringify(await exportRun(kept)));
  if (snapshot === 'all') {
    for (let k = 1; k <= kept.snapshots.length; k++) {
      const path = snapshotPath(modelOut, k);
      await writeAtomically(path, JSON.stringify(await exportRun(kept, { snapshot: k })));
      progress.note(`wrote snapshot ${k} (${kept.snapshots[k - 1].label}) to ${path}`);
    }
    if (kept.snapshots.length === 0) progress.note('the run took no snapshots');
  }
  return null;
}

function checkCtrConfig(path: string, config: Record<string, unknown>): RunConfig {
  const errors = validateRunConfig(config as unknown as RunConfig, METHOD_SPECS);
  const keys = Object.keys(errors);
  if (keys.length > 0) {
    throw new UsageError(
      `config ${path} is not valid:\n${keys.map((k) => `  ${k}: ${errors[k]}`).join('\n')}`,
    );
  }
  return config as unknown as RunConfig;
}

export async function trainCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(
    argv,
    TRAIN_FLAGS.map((f) => (argv.includes('--help') ? { ...f, required: false } : f)),
    'train',
  );
  if (flags.has('help')) {
    process.stdout.write(helpText('train', TRAIN_SUMMARY, TRAIN_FLAGS));
    return;
  }
  const json = await readJsonConfig(flags.get('config')!);
  if (json.task === 'sequences') {
    if (flags.has('snapshot')) {
      throw new UsageError('--snapshot: a sequence run (NextItNet / CpRec) takes no snapshots');
    }
    await (
      await import('./trainSequences')
    ).trainSequencesCommand(flags.get('config')!, json, flags);
    return;
  }
  const config = checkCtrConfig(flags.get('config')!, json);
  const outPath = flags.get('out')!;
  const snapshot = snapshotFlag(flags);
  const backendFlag = flags.get('backend') ?? 'wasm';
  if (backendFlag !== 'wasm' && backendFlag !== 'cpu') {
    throw new UsageError(`--backend must be wasm or cpu, got "${backendFlag}"`);
  }
  const dataPaths = [...flags.all('data'), ...flags.all('split')];
  if (config.source === 'loaded' && flags.all('data').length === 0) {
    throw new UsageError(
      'the config trains on a loaded file ("source": "loaded"): give it with --data FILE',
    );
  }
  if (config.source === 'synthetic' && dataPaths.length > 0) {
    throw new UsageError(
      'the config trains on the synthetic slice ("source": "synthetic"): drop --data, or set "source": "loaded"',
    );
  }
  const progress = new ProgressLine(flags.has('quiet'));
  const { backend, note } = await startBackend(backendFlag as NodeBackend);
  if (note) progress.note(note);

  let dataset: CtrDataset;
  let summary: DatasetSummary;
  let bayesTestAuc: number | null = null;
  if (config.source === 'synthetic') {
    const synthetic = generateSyntheticCtr(config.data);
    dataset = synthetic;
    bayesTestAuc = synthetic.bayesTestAuc;
    summary = summarizeCtr(synthetic, synthetic);
  } else {
    const options: LoadOptions = {};
    const format = formatOf(flags.get('format'));
    if (format) options.format = format;
    const rows = flags.get('rows');
    if (rows !== undefined) options.rows = { mode: 'first', count: wholeNumber(rows, 'rows', 1) };
    const minCount = flags.get('min-count');
    if (minCount !== undefined) options.minCount = wholeNumber(minCount, 'min-count', 1);
    const loaded = await loadFiles(dataPaths, options, (m) => progress.status(m));
    if (loaded.kind !== 'ctr') {
      throw new UsageError(
        `${dataPaths.join(', ')} holds item sequences, which ranking (CTR) models cannot train on`,
      );
    }
    dataset = loaded.dataset;
    summary = summarizeCtr(dataset, null);
    const r = loaded.report;
    progress.note(
      `loaded ${r.formatDescription}: ${r.rowsKept} rows kept, ${r.rowsRejected} rejected, ${dataset.numFields} fields, ${dataset.totalVocabulary} features; split ${dataset.split.train.length}/${dataset.split.validation.length}/${dataset.split.test.length}`,
    );
  }
  if (config.train.batchSize > dataset.split.train.length) {
    throw new UsageError(
      `train.batchSize ${config.train.batchSize} is larger than the ${dataset.split.train.length} training rows`,
    );
  }

  let log: FileHandle | null = null;
  const logPath = flags.get('log');
  if (logPath) {
    try {
      log = await open(logPath, 'w');
    } catch (err) {
      throw new UsageError(
        `cannot write --log ${logPath}: ${err instanceof Error ? err.message : err}`,
      );
    }
  }
  let pendingLog: string[] = [];
  const emit = (event: EngineEvent) => {
    progress.event(event);
    if (log) pendingLog.push(JSON.stringify(event, jsonReplacer));
  };
  const flushLog = async () => {
    if (!log || pendingLog.length === 0) return;
    const lines = `${pendingLog.join('\n')}\n`;
    pendingLog = [];
    await log.write(lines);
  };
  const control = new RunControl();
  const stop = () => {
    progress.note('stopping after this step (Ctrl-C again to quit at once)');
    process.off('SIGINT', stop);
    control.stop();
  };
  process.on('SIGINT', stop);
  const logTimer = setInterval(() => void flushLog(), 1000);
  emit({ type: 'dataset', summary });
  const started = Date.now();
  try {
    const { result, kept } = await runExperiment(
      dataset,
      config.train,
      config.method,
      control,
      emit,
      {
        progressEverySteps: 25,
        progressEveryMs: 250,
        bayesTestAuc,
      },
    );
    const modelOut = flags.get('model-out');
    let missingSnapshot: string | null = null;
    try {
      if (modelOut) missingSnapshot = await writeModelFiles(kept, modelOut, snapshot, progress);
    } finally {
      kept.dispose();
    }
    emit({ type: 'state', state: 'done' });
    progress.done(result);
    await writeAtomically(
      outPath,
      `${JSON.stringify(
        {
          format: 'recsys-lab-run-result',
          version: 1,
          createdAt: new Date().toISOString(),
          config,
          dataset: summary,
          engine: { backend, node: process.version, seconds: (Date.now() - started) / 1000 },
          result,
        },
        jsonReplacer,
        2,
      )}\n`,
    );
    if (missingSnapshot) {
      throw new UsageError(
        `--snapshot ${String(snapshot)}: ${missingSnapshot}; no model file written (the result is in ${outPath})`,
      );
    }
  } finally {
    clearInterval(logTimer);
    process.off('SIGINT', stop);
    await flushLog();
    await log?.close();
  }
}
