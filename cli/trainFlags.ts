/** The flags of `npm run lab -- train` (apart from its code, so --help loads no tfjs). */
import type { FlagSpec } from './args';

export const TRAIN_FLAGS: FlagSpec[] = [
  {
    name: 'config',
    value: 'FILE',
    help: 'run config JSON (as the lab\'s "Download config" writes it)',
    required: true,
  },
  {
    name: 'data',
    value: 'FILE',
    help: 'data file (Criteo, Avazu, MovieLens, CSV...); side files such as a split JSON too',
    repeatable: true,
  },
  {
    name: 'format',
    value: 'F',
    help: 'the data layout, instead of detecting it: auto | criteo-tsv | avazu-csv-header | ...',
  },
  {
    name: 'split',
    value: 'FILE',
    help: 'JSON with the train / validation / test row numbers of the data file',
  },
  { name: 'rows', value: 'N', help: 'read only the first N rows of the data' },
  {
    name: 'min-count',
    value: 'N',
    help: 'values seen fewer times share one rare id per field (default 10)',
  },
  {
    name: 'out',
    value: 'FILE',
    help: 'where the result JSON is written (final metrics, what the method produced)',
    required: true,
  },
  {
    name: 'model-out',
    value: 'FILE',
    help: 'also write the trained model file (JSON, as the lab exports it; scored by `lab score`)',
  },
  {
    name: 'snapshot',
    value: 'N|all',
    help: 'with --model-out: write snapshot N of the run (PEP, from 1: retrained, or as it was when not retrained) instead of the final model; all: the final model and every snapshot k beside it as <model-out>.snapshot-k.json',
  },
  {
    name: 'log',
    value: 'FILE',
    help: "every event the lab's UI would receive, one JSON object per line",
  },
  { name: 'backend', value: 'B', help: 'wasm (default; cpu when wasm cannot start) or cpu' },
  { name: 'quiet', value: null, help: 'no progress line' },
  { name: 'help', value: null, help: 'this text' },
];

export const TRAIN_SUMMARY =
  "Trains one run with the lab's engine: the model and compression method of the config, on the\n" +
  'synthetic slice (config "source": "synthetic") or on --data (config "source": "loaded").\n' +
  'A config with "task": "sequences" trains NextItNet / CpRec on item sequences instead.\n' +
  'Exit codes: 0 done, 2 bad input (flags, config, data file), 1 anything else.';
