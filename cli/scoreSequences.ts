/**
 * `npm run lab -- score` with a sequence model file: for each line of item tokens, the rank of its
 * last item after the ones before it (MRR, HR and NDCG at 5 and 20 over all lines that have one),
 * and with --out the top-k next items after the whole line. No tfjs.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { readSequenceModelFile, SequenceModelFileError } from '../workers/sequence/seqModelFile';
import { RankingAccumulator } from '../workers/sequence/rankingMetrics';
import { SequenceScorer } from '../workers/scorer/sequenceScorer';
import { UsageError, wholeNumber, type ParsedFlags } from './args';
import { writeAtomically } from './files';

function csvField(token: string): string {
  return /[",\n]/.test(token) ? `"${token.replace(/"/g, '""')}"` : token;
}

export async function scoreSequencesCommand(
  modelPath: string,
  text: string,
  flags: ParsedFlags,
): Promise<void> {
  let scorer: SequenceScorer;
  try {
    scorer = new SequenceScorer(readSequenceModelFile(text));
  } catch (err) {
    if (err instanceof SequenceModelFileError) throw new UsageError(`${modelPath}: ${err.message}`);
    throw err;
  }
  const format = flags.get('format') ?? 'auto';
  if (format !== 'auto')
    throw new UsageError(
      `--format: a sequence model reads comma-separated item tokens (auto), got "${format}"`,
    );
  const k = flags.get('k') !== undefined ? wholeNumber(flags.get('k')!, 'k', 1) : 20;
  const limit =
    flags.get('rows') !== undefined ? wholeNumber(flags.get('rows')!, 'rows', 1) : Infinity;
  const dataPath = flags.get('data')!;
  const stream = createReadStream(dataPath);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err) =>
      reject(
        new UsageError(
          `cannot read data file ${dataPath}: ${err.message.replace(/^[A-Z]+: /, '')}`,
        ),
      ),
    );
  });
  const wantOut = flags.get('out') !== undefined;
  const acc = new RankingAccumulator();
  const out: string[] = [];
  const skipped = { empty: 0, noItems: 0 };
  let unknownTokens = 0;
  let linesWithUnknown = 0;
  let scored = 0;
  let lineNo = 0;
  const started = performance.now();
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    lineNo++;
    if (scored >= limit) break;
    if (line.trim() === '') {
      skipped.empty++;
      continue;
    }
    const { items, unknown } = scorer.parseLine(line);
    unknownTokens += unknown;
    if (unknown > 0) linesWithUnknown++;
    if (items.length === 0) {
      skipped.noItems++;
      continue;
    }
    scored++;
    if (items.length >= 2) acc.add(scorer.rankOf(items.slice(0, -1), items[items.length - 1]));
    if (wantOut) {
      const top = scorer.topK(items, k);
      out.push(`${lineNo},${top.ids.map((id) => csvField(scorer.tokenOf(id))).join(' ')}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (scored === 0) throw new UsageError(`${dataPath}: no line holds an item this model knows`);
  const m = acc.result();
  const report = [
    `scored ${scored} sequences in ${seconds.toFixed(2)} s (${Math.round(scored / seconds).toLocaleString('en')} sequences/s)`,
  ];
  if (unknownTokens > 0)
    report.push(
      `skipped ${unknownTokens} tokens the model does not know, in ${linesWithUnknown} lines`,
    );
  if (skipped.empty > 0) report.push(`skipped ${skipped.empty} empty lines`);
  if (skipped.noItems > 0) report.push(`skipped ${skipped.noItems} lines with no known item`);
  if (m.count > 0)
    report.push(
      `last item ranked over all ${scorer.model.arch.numItems} items (${m.count} sequences): MRR@5 ${m.mrr5.toFixed(4)} MRR@20 ${m.mrr20.toFixed(4)} HR@5 ${m.hr5.toFixed(4)} HR@20 ${m.hr20.toFixed(4)} NDCG@5 ${m.ndcg5.toFixed(4)} NDCG@20 ${m.ndcg20.toFixed(4)}`,
    );
  process.stderr.write(`${report.join('\n')}\n`);
  if (wantOut) await writeAtomically(flags.get('out')!, `line,next_items\n${out.join('\n')}\n`);
}
