/**
 * `npm run lab -- score`: scores raw rows with a model file, with the scorer the lab ships (no
 * tfjs): rows as they appear in the source file (Criteo, Avazu, CSV), or rows of ids for models
 * trained on data without raw values. Prints AUC, logloss and rows/s when the rows have labels;
 * --out writes one probability per row.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { readModelFile, ModelFileError } from '../workers/export/readModel';
import { logloss, rocAuc } from '../workers/metrics/classification';
import { ModelScorer } from '../workers/scorer/modelScorer';
import { RowEncoder } from '../workers/scorer/rowEncoder';
import { helpText, parseFlags, UsageError, wholeNumber } from './args';
import { SCORE_FLAGS, SCORE_SUMMARY } from './scoreFlags';
import { SEQUENCE_MODEL_FORMAT } from '../workers/sequence/seqModelFile';
import { writeAtomically } from './files';

export async function scoreCommand(argv: string[]): Promise<void> {
  const help = argv.includes('--help');
  const flags = parseFlags(
    argv,
    SCORE_FLAGS.map((f) => (help ? { ...f, required: false } : f)),
    'score',
  );
  if (flags.has('help')) {
    process.stdout.write(helpText('score', SCORE_SUMMARY, SCORE_FLAGS));
    return;
  }
  const modelPath = flags.get('model')!;
  let text: string;
  try {
    text = await readFile(modelPath, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read model ${modelPath}: ${err instanceof Error ? err.message : err}`,
    );
  }
  let isSequenceModel = false;
  try {
    isSequenceModel = (JSON.parse(text) as { format?: unknown }).format === SEQUENCE_MODEL_FORMAT;
  } catch {
    // Not JSON: the model reader below says so.
  }
  if (isSequenceModel) {
    await (await import('./scoreSequences')).scoreSequencesCommand(modelPath, text, flags);
    return;
  }
  let scorer: ModelScorer;
  try {
    scorer = new ModelScorer(readModelFile(text));
  } catch (err) {
    if (err instanceof ModelFileError) throw new UsageError(`${modelPath}: ${err.message}`);
    throw err;
  }
  const format = flags.get('format') ?? 'auto';
  if (format !== 'auto' && format !== 'ids') {
    throw new UsageError(`--format must be auto or ids, got "${format}"`);
  }
  const dataset = scorer.model.file.dataset;
  let encoder: RowEncoder;
  try {
    encoder = new RowEncoder(format === 'ids' ? { ...dataset, input: { kind: 'ids' } } : dataset);
  } catch (err) {
    throw new UsageError(`${modelPath}: ${err instanceof Error ? err.message : err}`);
  }
  const limit =
    flags.get('rows') !== undefined ? wholeNumber(flags.get('rows')!, 'rows', 1) : Infinity;
  const dataPath = flags.get('data')!;
  const stream = createReadStream(dataPath);
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) =>
      reject(
        new UsageError(
          `cannot read data file ${dataPath}: ${err.message.replace(/^[A-Z]+: /, '')}`,
        ),
      ),
    );
  });
  await opened;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const probabilities: number[] = [];
  const labels: number[] = [];
  const rowsWithLabel: number[] = [];
  const rejected = new Map<string, { count: number; firstLine: number }>();
  const scratch = new Float64Array(scorer.numFields * scorer.dim);
  let lineNo = 0;
  const started = performance.now();
  for await (const line of lines) {
    lineNo++;
    if (probabilities.length >= limit) break;
    if (line.trim() === '') continue;
    if (encoder.wantsHeader) {
      const problem = encoder.useHeader(line);
      if (problem) throw new UsageError(`${dataPath}:${lineNo}: ${problem}`);
      continue;
    }
    const row = encoder.encode(line);
    if (typeof row === 'string') {
      const seen = rejected.get(row) ?? { count: 0, firstLine: lineNo };
      seen.count++;
      rejected.set(row, seen);
      continue;
    }
    const p = scorer.probability(row.ids, row.dense, scratch);
    probabilities.push(p);
    if (row.label !== null) {
      labels.push(row.label);
      rowsWithLabel.push(probabilities.length - 1);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const n = probabilities.length;
  if (n === 0) {
    const why = [...rejected].map(([r, s]) => `${s.count} x ${r} (first at line ${s.firstLine})`);
    throw new UsageError(
      `${dataPath}: no row could be scored${why.length ? `: ${why.join('; ')}` : ''}`,
    );
  }
  const lines_: string[] = [
    `scored ${n} rows in ${seconds.toFixed(2)} s (${Math.round(n / seconds).toLocaleString('en')} rows/s, reading and parsing included)`,
  ];
  for (const [reason, s] of rejected) {
    lines_.push(`skipped ${s.count} rows: ${reason} (first at line ${s.firstLine})`);
  }
  if (labels.length > 0) {
    const scored = Float64Array.from(rowsWithLabel, (i) => probabilities[i]);
    const y = Float32Array.from(labels);
    lines_.push(
      `AUC ${rocAuc(scored, y).toFixed(6)}, logloss ${logloss(scored, y).toFixed(6)} (${labels.length} labelled rows)`,
    );
  }
  process.stderr.write(`${lines_.join('\n')}\n`);
  const out = flags.get('out');
  if (out) {
    const labelled = new Map(rowsWithLabel.map((i, k) => [i, labels[k]]));
    const body = probabilities
      .map((p, i) => `${i},${p}${labelled.has(i) ? `,${labelled.get(i)}` : ''}`)
      .join('\n');
    await writeAtomically(out, `row,probability${labels.length > 0 ? ',label' : ''}\n${body}\n`);
  }
}
