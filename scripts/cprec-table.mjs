// Merges the JSON lines that `npm run bench:cprec` prints (one per run; runs may be split across
// processes) into one markdown table: mean ± sd over seeds per configuration, the MRR@5 change
// against the uncompressed NextItNet, and the most-popular baseline.
//
//   node scripts/cprec-table.mjs run1.out run2.out ...
import { readFileSync } from 'node:fs';

const runs = process.argv
  .slice(2)
  .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));
if (runs.length === 0) throw new Error('no runs: give the output files of npm run bench:cprec');

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1));
const fmt = (xs) =>
  xs.length > 1 ? `${mean(xs).toFixed(4)} ± ${sd(xs).toFixed(4)}` : xs[0].toFixed(4);

const byLabel = new Map();
for (const r of runs) {
  if (!byLabel.has(r.label)) byLabel.set(r.label, []);
  byLabel.get(r.label).push(r);
}
const plain = byLabel.get('NextItNet (uncompressed)');
const plainMrr5 = plain ? mean(plain.map((r) => r.test.mrr5)) : null;
const order = [...byLabel.keys()].sort((a, b) => {
  const rank = (l) => (l.startsWith('NextItNet') ? 0 : l.includes('1 block') ? 1 : 2);
  return rank(a) - rank(b) || a.localeCompare(b);
});
console.log(
  '| model | seeds | params | ratio | MRR@5 | vs uncompressed | MRR@20 | HR@5 | HR@20 | NDCG@5 | NDCG@20 | ms/step | inference ms / 1k seqs |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
const pop = runs[0].popularity;
const p = (k) => pop[k].toFixed(4);
console.log(
  `| most popular item (baseline) | | 0 | | ${p('mrr5')} | | ${p('mrr20')} | ${p('hr5')} | ${p('hr20')} | ${p('ndcg5')} | ${p('ndcg20')} | | |`,
);
for (const label of order) {
  const rs = byLabel.get(label);
  const m = (k) => fmt(rs.map((r) => r.test[k]));
  const rel =
    plainMrr5 && label !== 'NextItNet (uncompressed)'
      ? `${((100 * (mean(rs.map((r) => r.test.mrr5)) - plainMrr5)) / plainMrr5).toFixed(1)}%`
      : '';
  console.log(
    `| ${label} | ${rs.map((r) => r.seed).join(',')} | ${rs[0].params.toLocaleString('en-US')} | ${rs[0].ratio.toFixed(2)}x | ${m('mrr5')} | ${rel} | ${m('mrr20')} | ${m('hr5')} | ${m('hr20')} | ${m('ndcg5')} | ${m('ndcg20')} | ${mean(rs.map((r) => r.timing.msPerStep)).toFixed(0)} | ${mean(rs.map((r) => r.timing.inferenceMsPer1000)).toFixed(0)} |`,
  );
}
