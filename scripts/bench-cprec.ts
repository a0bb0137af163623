/**
 * CpRec on the ML-1M sequence slice (../shared/data/sequential): NextItNet uncompressed and
 * CpRec with every sharing scheme, with and without frequency blocks, over several seeds.
 * Node, tfjs-wasm. Prints one JSON line per run, then a markdown table of means ± sd. Not a test.
 *
 *   npm run bench:cprec
 *   npm run bench:cprec -- --seeds=1 --epochs=2 --schemes=none,cross-block --blocks=on
 *   npm run bench:cprec -- --data=synthetic
 *   npm run bench:cprec -- --order=seed   (seed 1 of every configuration first, then seed 2...)
 */
import { join } from 'node:path';
import { loadFiles, startBackend } from '../cli/nodeEngine';
import { RunControl } from '../workers/engine/runControl';
import type { SequenceDataset } from '../workers/data/preprocess/sequenceDataset';
import { generateSyntheticSequences } from '../workers/sequence/syntheticSequences';
import { runSequenceExperiment } from '../workers/sequence/seqTrainer';
import {
  DEFAULT_CPREC,
  DEFAULT_SEQ_DATA,
  DEFAULT_SEQ_TRAIN,
  SHARING_SCHEMES,
  type SeqRunConfig,
  type SeqRunResult,
  type SharingScheme,
} from '../workers/sequence/seqProtocol';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const DATA_DIR = process.env.RECSYS_DATA_DIR ?? join(import.meta.dirname, '../../shared/data');
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const schemes = arg('schemes', SHARING_SCHEMES.join(',')).split(',') as SharingScheme[];
const blocksArg = arg('blocks', 'off,on').split(',');
const cuts = arg('cuts', '0.2,0.5').split(',').map(Number);
const epochs = Number(arg('epochs', '8'));
const dim = Number(arg('dim', '64'));
const data = arg('data', 'ml1m');
const patience = Number(arg('patience', '2'));
/** 'config': every seed of a configuration, then the next; 'seed': seed 1 of every configuration first. */
const order = arg('order', 'config');

const { backend } = await startBackend(arg('backend', 'wasm') as 'wasm' | 'cpu');
let ds: SequenceDataset;
if (data === 'synthetic') ds = generateSyntheticSequences(DEFAULT_SEQ_DATA);
else {
  const loaded = await loadFiles(
    [join(DATA_DIR, 'sequential/grec_ml1m_ratings_seq20_order.txt')],
    { split: { train: 0.7, validation: 0.1, test: 0.2, mode: 'random', seed: 42 } },
    () => {},
  );
  if (loaded.kind !== 'sequence') throw new Error('expected sequences');
  ds = loaded.dataset;
}
process.stderr.write(
  `${ds.name}: ${ds.numSequences} sequences, ${ds.numItems} items, split ${ds.split.train.length}/${ds.split.validation.length}/${ds.split.test.length}; backend ${backend}\n`,
);

interface Row {
  label: string;
  result: SeqRunResult;
}
const rows: Row[] = [];
const configs: { label: string; config: Omit<SeqRunConfig, 'train'> }[] = [];
for (const blocks of blocksArg) {
  for (const sharing of schemes) {
    const isPlain = blocks === 'off' && sharing === 'none';
    configs.push({
      label: isPlain
        ? 'NextItNet (uncompressed)'
        : `CpRec ${blocks === 'on' ? `${cuts.length + 1} blocks` : '1 block'}, ${sharing}`,
      config: {
        source: 'loaded',
        data: DEFAULT_SEQ_DATA,
        method: isPlain ? 'none' : 'cprec',
        cprec: { ...DEFAULT_CPREC, cutPoints: blocks === 'on' ? cuts : [], sharing },
      },
    });
  }
}
const jobs =
  order === 'seed'
    ? seeds.flatMap((seed) => configs.map((c) => ({ ...c, seed })))
    : configs.flatMap((c) => seeds.map((seed) => ({ ...c, seed })));
for (const { label, config, seed } of jobs) {
  const full: SeqRunConfig = {
    ...config,
    train: {
      ...DEFAULT_SEQ_TRAIN,
      embeddingDim: dim,
      epochs,
      seed,
      earlyStoppingPatience: patience,
    },
  };
  let lastLog = 0;
  const result = await runSequenceExperiment(full, ds, 'loaded', {
    control: new RunControl(),
    backend,
    onEvent: (e) => {
      if (e.type === 'evaluation') {
        process.stderr.write(
          `  ${label} seed ${seed}: step ${e.evaluation.step} loss ${e.evaluation.trainLoss.toFixed(3)} valid MRR@5 ${e.evaluation.validation.mrr5.toFixed(4)} (${e.evaluation.seconds.toFixed(0)} s)\n`,
        );
      } else if (e.type === 'progress' && Date.now() - lastLog > 30000) {
        lastLog = Date.now();
        const n = e.batch.steps.length;
        process.stderr.write(
          `    step ${e.batch.steps[n - 1]}/${e.batch.totalSteps} loss ${e.batch.losses[n - 1].toFixed(3)} ${e.batch.stepMs[n - 1].toFixed(0)} ms\n`,
        );
      }
    },
  });
  rows.push({ label, result });
  console.log(
    JSON.stringify({
      label,
      seed,
      params: result.params.total,
      ratio: result.compressionRatio,
      test: result.test,
      best: result.best && { step: result.best.step, validation: result.best.validation },
      popularity: result.popularityTest,
      timing: result.timing,
      uncompressedTiming: result.uncompressedTiming,
      fastTopK: result.fastTopK,
      steps: result.steps,
      seconds: result.seconds,
    }),
  );
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};
const fmt = (xs: number[]) =>
  xs.length > 1 ? `${mean(xs).toFixed(4)} ± ${sd(xs).toFixed(4)}` : mean(xs).toFixed(4);
console.log(
  `\n${ds.name}, d=${dim}, dilations ${DEFAULT_SEQ_TRAIN.dilations.join('-')}, batch ${DEFAULT_SEQ_TRAIN.batchSize}, Adam ${DEFAULT_SEQ_TRAIN.learningRate}, up to ${epochs} epochs (patience ${patience}), seeds ${seeds.join(',')}, ${backend}\n`,
);
console.log(
  '| model | params | ratio | MRR@5 | MRR@20 | HR@5 | HR@20 | NDCG@5 | NDCG@20 | ms/step | inference ms / 1k seqs |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
const pop = rows[0]?.result.popularityTest;
if (pop)
  console.log(
    `| most popular (baseline) | 0 | | ${pop.mrr5.toFixed(4)} | ${pop.mrr20.toFixed(4)} | ${pop.hr5.toFixed(4)} | ${pop.hr20.toFixed(4)} | ${pop.ndcg5.toFixed(4)} | ${pop.ndcg20.toFixed(4)} | | |`,
  );
for (const { label } of configs) {
  const rs = rows.filter((r) => r.label === label).map((r) => r.result);
  const m = (k: 'mrr5' | 'mrr20' | 'hr5' | 'hr20' | 'ndcg5' | 'ndcg20') =>
    fmt(rs.map((r) => r.test?.[k] ?? NaN));
  console.log(
    `| ${label} | ${rs[0].params.total.toLocaleString('en-US')} | ${rs[0].compressionRatio.toFixed(2)}x | ${m('mrr5')} | ${m('mrr20')} | ${m('hr5')} | ${m('hr20')} | ${m('ndcg5')} | ${m('ndcg20')} | ${mean(rs.map((r) => r.timing.msPerStep)).toFixed(0)} | ${mean(rs.map((r) => r.timing.inferenceMsPer1000)).toFixed(0)} |`,
  );
}
