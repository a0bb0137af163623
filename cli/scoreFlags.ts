/** The flags of `npm run lab -- score`. */
import type { FlagSpec } from './args';

export const SCORE_FLAGS: FlagSpec[] = [
  {
    name: 'model',
    value: 'FILE',
    help: 'the model file (JSON, as the lab exports it)',
    required: true,
  },
  {
    name: 'data',
    value: 'FILE',
    help: "rows to score, as the model's training data was laid out",
    required: true,
  },
  {
    name: 'format',
    value: 'F',
    help: "auto (the model's own raw layout, default) or ids (label,id_1,...,id_M)",
  },
  {
    name: 'out',
    value: 'FILE',
    help: 'write the probabilities, one per row (CSV: row,probability[,label])',
  },
  { name: 'rows', value: 'N', help: 'score only the first N rows' },
  {
    name: 'k',
    value: 'N',
    help: 'sequence models: how many next items --out lists per sequence (default 20)',
  },
  { name: 'help', value: null, help: 'this text' },
];

export const SCORE_SUMMARY =
  'Scores raw rows with a model file, without tfjs: prints AUC, logloss and rows/s when the rows\n' +
  'carry labels. Rows that cannot be read are counted by reason and skipped.\n' +
  "A sequence model (NextItNet / CpRec) ranks each line's last item after the ones before it\n" +
  '(MRR, HR and NDCG at 5 and 20) and --out lists the top-k next items after the whole line.\n' +
  'Exit codes: 0 done, 2 bad input (flags, model file, data file), 1 anything else.';
