/**
 * `npm run lab -- train` with a sequence config (`"task": "sequences"`): one NextItNet or CpRec
 * run on the synthetic sequences or an item-sequence file, with a progress line, the events in a
 * JSON-lines log, and the result in a JSON file.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { SequenceDataset } from '../workers/data/preprocess/sequenceDataset';
import { RunControl } from '../workers/engine/runControl';
import { runSequenceExperiment } from '../workers/sequence/seqTrainer';
import { generateSyntheticSequences } from '../workers/sequence/syntheticSequences';
import {
  validateSeqRunConfig,
  type RankingMetrics,
  type SeqEngineEvent,
  type SeqRunConfig,
} from '../workers/sequence/seqProtocol';
import type { SequenceModelFile } from '../workers/sequence/seqModelFile';
import { UsageError, wholeNumber, type ParsedFlags } from './args';
import { jsonReplacer, writeAtomically } from './files';
import { formatOf, loadFiles, startBackend, type NodeBackend } from './nodeEngine';

const metricsLine = (m: RankingMetrics) =>
  `MRR@5 ${m.mrr5.toFixed(4)} MRR@20 ${m.mrr20.toFixed(4)} HR@5 ${m.hr5.toFixed(4)} HR@20 ${m.hr20.toFixed(4)} NDCG@5 ${m.ndcg5.toFixed(4)} NDCG@20 ${m.ndcg20.toFixed(4)}`;

export async function trainSequencesCommand(
  path: string,
  json: Record<string, unknown>,
  flags: ParsedFlags,
): Promise<void> {
  const config = json as unknown as SeqRunConfig;
  const errors = validateSeqRunConfig(config);
  const keys = Object.keys(errors);
  if (keys.length > 0)
    throw new UsageError(
      `config ${path} is not valid:\n${keys.map((k) => `  ${k}: ${errors[k]}`).join('\n')}`,
    );
  const quiet = flags.has('quiet');
  const say = (text: string) => {
    if (!quiet) process.stderr.write(`${text}\n`);
  };
  const backendFlag = flags.get('backend') ?? 'wasm';
  if (backendFlag !== 'wasm' && backendFlag !== 'cpu')
    throw new UsageError(`--backend must be wasm or cpu, got "${backendFlag}"`);
  const dataPaths = flags.all('data');
  if (config.source === 'loaded' && dataPaths.length === 0)
    throw new UsageError(
      'the config trains on a loaded file ("source": "loaded"): give it with --data FILE',
    );
  if (config.source === 'synthetic' && dataPaths.length > 0)
    throw new UsageError(
      'the config trains on the synthetic sequences ("source": "synthetic"): drop --data, or set "source": "loaded"',
    );
  const { backend, note } = await startBackend(backendFlag as NodeBackend);
  if (note) say(note);
  let ds: SequenceDataset;
  if (config.source === 'synthetic') ds = generateSyntheticSequences(config.data);
  else {
    const format = formatOf(flags.get('format'));
    const rows = flags.get('rows');
    const loaded = await loadFiles(
      dataPaths,
      {
        ...(format ? { format } : {}),
        ...(rows !== undefined
          ? { rows: { mode: 'first' as const, count: wholeNumber(rows, 'rows', 1) } }
          : {}),
      },
      (m) => say(m),
    );
    if (loaded.kind !== 'sequence')
      throw new UsageError(
        `${dataPaths.join(', ')} holds click-through rows, which sequence models cannot train on`,
      );
    ds = loaded.dataset;
    const r = loaded.report;
    say(
      `loaded ${r.formatDescription}: ${r.rowsKept} sequences kept, ${r.rowsRejected} rejected${r.rejections.map((x) => ` (${x.count} ${x.reason})`).join('')}, ${ds.numItems} items; split ${ds.split.train.length}/${ds.split.validation.length}/${ds.split.test.length}`,
    );
    for (const n of r.notes) say(n);
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
  const control = new RunControl();
  const stop = () => {
    say('stopping after this step');
    process.off('SIGINT', stop);
    control.stop();
  };
  process.on('SIGINT', stop);
  let lastPrint = 0;
  const started = Date.now();
  try {
    let modelFile: SequenceModelFile | null = null;
    const result = await runSequenceExperiment(config, ds, config.source, {
      control,
      backend,
      onModelFile: (file) => {
        modelFile = file;
      },
      onEvent: async (e: SeqEngineEvent) => {
        if (log) await log.write(`${JSON.stringify(e, jsonReplacer)}\n`);
        if (e.type === 'architecture')
          say(
            `model: ${e.params.total.toLocaleString('en-US')} parameters (input ${e.params.input}, middle ${e.params.middle}, softmax ${e.params.softmax}); uncompressed ${e.uncompressed.total.toLocaleString('en-US')} (${(e.uncompressed.total / e.params.total).toFixed(2)}x)`,
          );
        else if (e.type === 'evaluation')
          say(
            `step ${e.evaluation.step} epoch ${e.evaluation.epoch.toFixed(2)} loss ${e.evaluation.trainLoss.toFixed(4)} validation ${metricsLine(e.evaluation.validation)}`,
          );
        else if (e.type === 'progress' && Date.now() - lastPrint > 5000) {
          lastPrint = Date.now();
          const b = e.batch;
          const n = b.steps.length;
          say(
            `step ${b.steps[n - 1]}/${b.totalSteps} loss ${b.losses[n - 1].toFixed(4)} ${b.stepMs[n - 1].toFixed(0)} ms/step`,
          );
        }
      },
    });
    if (result.test) say(`test (best validation weights): ${metricsLine(result.test)}`);
    say(`most popular item baseline:   ${metricsLine(result.popularityTest)}`);
    await writeAtomically(
      flags.get('out')!,
      `${JSON.stringify(
        {
          format: 'recsys-lab-sequence-run-result',
          version: 1,
          createdAt: new Date().toISOString(),
          config,
          dataset: {
            name: ds.name,
            numSequences: ds.numSequences,
            numItems: ds.numItems,
            maxLen: ds.maxLen,
          },
          engine: { backend, node: process.version, seconds: (Date.now() - started) / 1000 },
          result,
        },
        jsonReplacer,
        2,
      )}\n`,
    );
    const modelPath = flags.get('model-out');
    if (modelPath && modelFile) {
      await writeAtomically(modelPath, JSON.stringify(modelFile));
      say(`model written to ${modelPath}`);
    }
  } finally {
    process.off('SIGINT', stop);
    await log?.close();
  }
}
