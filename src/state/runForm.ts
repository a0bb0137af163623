/**
 * The run form as the user typed it (strings, so nothing typed is lost while it is invalid),
 * one typed property table that maps each field to the config and to a short URL parameter,
 * and the conversion to a validated RunConfig.
 */
import {
  DATA_PARAM_SPECS,
  DEFAULT_DATA_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  TRAIN_PARAM_SPECS,
  formatLayerList,
  isBackendName,
  parseLayerList,
  validateRunConfig,
  type BackendName,
  type ConfigErrors,
  type ModelKind,
  type RunConfig,
} from '../../workers/protocol';

export type FieldKind = 'number' | 'layers' | 'choice' | 'flag';

export interface FormField {
  /** `data.<key>` or `train.<key>`: also the key of validation errors. */
  id: string;
  /** URL query parameter. */
  param: string;
  label: string;
  kind: FieldKind;
  choices?: { value: string; label: string }[];
  help?: string;
}

export const FORM_FIELDS: FormField[] = [
  {
    id: 'source',
    param: 'source',
    label: 'Data',
    kind: 'choice',
    choices: [
      { value: 'synthetic', label: 'Synthetic slice' },
      { value: 'loaded', label: 'Loaded file' },
    ],
  },
  { id: 'data.numRows', param: 'rows', label: DATA_PARAM_SPECS.numRows.label, kind: 'number' },
  {
    id: 'data.numFields',
    param: 'fields',
    label: DATA_PARAM_SPECS.numFields.label,
    kind: 'number',
  },
  {
    id: 'data.maxCardinality',
    param: 'card',
    label: DATA_PARAM_SPECS.maxCardinality.label,
    kind: 'number',
  },
  { id: 'data.seed', param: 'dseed', label: DATA_PARAM_SPECS.seed.label, kind: 'number' },
  {
    id: 'train.model',
    param: 'model',
    label: 'Model',
    kind: 'choice',
    choices: [
      { value: 'deepfm', label: 'DeepFM' },
      { value: 'fm', label: 'FM' },
      { value: 'widedeep', label: 'Wide & Deep' },
      { value: 'autoint', label: 'AutoInt (+DNN)' },
      { value: 'dlrm', label: 'DLRM (MLP = top MLP)' },
    ],
  },
  {
    id: 'train.embeddingDim',
    param: 'dim',
    label: TRAIN_PARAM_SPECS.embeddingDim.label,
    kind: 'number',
  },
  {
    id: 'train.mlpLayers',
    param: 'mlp',
    label: 'MLP layers',
    kind: 'layers',
    help: 'Hidden sizes, e.g. 400-400-400',
  },
  { id: 'train.dropout', param: 'dropout', label: TRAIN_PARAM_SPECS.dropout.label, kind: 'number' },
  { id: 'train.batchNorm', param: 'bn', label: 'Batch norm', kind: 'flag' },
  { id: 'train.epochs', param: 'epochs', label: TRAIN_PARAM_SPECS.epochs.label, kind: 'number' },
  {
    id: 'train.maxSteps',
    param: 'steps',
    label: TRAIN_PARAM_SPECS.maxSteps.label,
    kind: 'number',
    help: '0 = every epoch; otherwise stop after this many steps',
  },
  {
    id: 'train.batchSize',
    param: 'batch',
    label: TRAIN_PARAM_SPECS.batchSize.label,
    kind: 'number',
  },
  {
    id: 'train.learningRate',
    param: 'lr',
    label: TRAIN_PARAM_SPECS.learningRate.label,
    kind: 'number',
  },
  {
    id: 'train.weightDecay',
    param: 'wd',
    label: TRAIN_PARAM_SPECS.weightDecay.label,
    kind: 'number',
  },
  {
    id: 'train.denseOptimizer',
    param: 'opt',
    label: 'Optimizer (dense)',
    kind: 'choice',
    choices: [
      { value: 'adam', label: 'Adam (torch: decay in gradient)' },
      { value: 'adamw', label: 'AdamW (decoupled decay)' },
      { value: 'sgd', label: 'SGD' },
    ],
  },
  {
    id: 'train.momentum',
    param: 'momentum',
    label: TRAIN_PARAM_SPECS.momentum.label,
    kind: 'number',
  },
  {
    id: 'train.gradClipNorm',
    param: 'clip',
    label: TRAIN_PARAM_SPECS.gradClipNorm.label,
    kind: 'number',
    help: '0 = off',
  },
  {
    id: 'train.lrSchedule',
    param: 'sched',
    label: 'LR schedule',
    kind: 'choice',
    choices: [
      { value: 'constant', label: 'constant' },
      { value: 'step', label: 'step (halve each epoch)' },
      { value: 'cosine', label: 'cosine to 0' },
    ],
  },
  {
    id: 'train.evalEverySteps',
    param: 'evalsteps',
    label: TRAIN_PARAM_SPECS.evalEverySteps.label,
    kind: 'number',
    help: '0 = at the end of each epoch',
  },
  {
    id: 'train.testAtEachEvaluation',
    param: 'testeach',
    label: 'Also score test at each evaluation',
    kind: 'flag',
    help: 'for comparing with papers that pick the best epoch on test; never used to select',
  },
  {
    id: 'train.earlyStoppingPatience',
    param: 'patience',
    label: TRAIN_PARAM_SPECS.earlyStoppingPatience.label,
    kind: 'number',
    help: '0 = off',
  },
  {
    id: 'train.embeddingOptimizer',
    param: 'eopt',
    label: 'Embedding optimizer',
    kind: 'choice',
    choices: [
      { value: 'adam', label: 'Adam (sparse rows)' },
      { value: 'rowwise-adagrad', label: 'Row-wise Adagrad' },
      { value: 'sgd', label: 'SGD (UMEC DLRM)' },
    ],
  },
  {
    id: 'train.embeddingUpdate',
    param: 'eupd',
    label: 'Embedding update',
    kind: 'choice',
    choices: [
      { value: 'lazy', label: 'lazy: batch rows only (fast)' },
      { value: 'exact', label: 'exact: every row, as dense torch Adam' },
    ],
  },
  { id: 'train.seed', param: 'seed', label: TRAIN_PARAM_SPECS.seed.label, kind: 'number' },
];

/** Short display names of the models. */
export const MODEL_LABELS: Record<ModelKind, string> = {
  deepfm: 'DeepFM',
  fm: 'FM',
  widedeep: 'Wide & Deep',
  autoint: 'AutoInt',
  dlrm: 'DLRM',
};

export type RunForm = Record<string, string>;

function read(config: RunConfig, id: string): unknown {
  if (!id.includes('.')) return (config as unknown as Record<string, unknown>)[id];
  const [section, key] = id.split('.') as ['data' | 'train', string];
  return (config[section] as unknown as Record<string, unknown>)[key];
}

export function formFromConfig(config: RunConfig): RunForm {
  const form: RunForm = {};
  for (const f of FORM_FIELDS) {
    const v = read(config, f.id);
    form[f.id] = f.kind === 'layers' ? formatLayerList(v as number[]) : String(v);
  }
  return form;
}

export const DEFAULT_RUN_CONFIG: RunConfig = {
  source: 'synthetic',
  data: DEFAULT_DATA_CONFIG,
  train: DEFAULT_TRAIN_CONFIG,
};

/** Strict number parse: '' and junk give NaN (Number('') would give 0). */
function parseNumber(text: string): number {
  const t = text.trim();
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number.NaN;
  return Number(t);
}

export function configFromForm(form: RunForm): { config: RunConfig; errors: ConfigErrors } {
  const data: Record<string, unknown> = { ...DEFAULT_DATA_CONFIG };
  const train: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG };
  const top: Record<string, unknown> = {};
  const errors: ConfigErrors = {};
  for (const f of FORM_FIELDS) {
    const [section, key] = f.id.includes('.') ? f.id.split('.') : ['', f.id];
    const target = section === 'data' ? data : section === 'train' ? train : top;
    const text = form[f.id] ?? '';
    if (f.kind === 'number') target[key] = parseNumber(text);
    else if (f.kind === 'layers') target[key] = parseLayerList(text);
    else if (f.kind === 'flag') target[key] = text === 'true';
    else {
      if (!f.choices?.some((c) => c.value === text))
        errors[f.id] = `${f.label}: unknown choice "${text}"`;
      target[key] = text;
    }
  }
  const config = { ...top, data, train } as unknown as RunConfig;
  return { config, errors: { ...validateRunConfig(config), ...errors } };
}

/** Reads the form from a URL query string; unknown or missing parameters keep the defaults. */
export function formFromUrl(search: string, base: RunForm): RunForm {
  const params = new URLSearchParams(search);
  const form = { ...base };
  for (const f of FORM_FIELDS) {
    const v = params.get(f.param);
    if (v !== null) form[f.id] = v;
  }
  return form;
}

/** Writes the fields that differ from the defaults into the query (keeps other parameters). */
export function urlFromForm(form: RunForm, currentSearch: string): string {
  const params = new URLSearchParams(currentSearch);
  const defaults = formFromConfig(DEFAULT_RUN_CONFIG);
  for (const f of FORM_FIELDS) {
    if (form[f.id] === defaults[f.id]) params.delete(f.param);
    else params.set(f.param, form[f.id]);
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export function forcedBackendFromUrl(search: string): BackendName | null {
  const v = new URLSearchParams(search).get('backend');
  return isBackendName(v) ? v : null;
}
