/**
 * The run form as the user typed it (strings, so nothing typed is lost while it is invalid),
 * derived from the option tables (workers/options.ts): the synthetic slice's settings, the
 * training settings and every method's options. Each field maps to the config and to a short URL
 * parameter; the form keeps the options of every method, so switching methods loses nothing.
 *
 * Form keys: 'source', 'data.<key>', 'train.<key>', 'method.id' and 'method.<id>.<key>'.
 */
import {
  checkOption,
  defaultsOf,
  optionFromText,
  optionText,
  rangeText,
  type OptionSpec,
  type OptionTable,
  type OptionValue,
} from '../../workers/options';
import {
  DATA_OPTIONS,
  DEFAULT_DATA_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  NO_METHOD,
  TRAIN_OPTIONS,
  isBackendName,
  validateRunConfig,
  type BackendName,
  type ConfigErrors,
  type DataSource,
  type ModelKind,
  type RunConfig,
} from '../../workers/protocol';
import type { MethodPreset, MethodSpec } from '../../workers/methods/methodSpec';
import { METHOD_CATALOG, methodSpecOf } from '../methods/catalog';

export interface FormField {
  /** Form key, also the key of validation errors. */
  id: string;
  /** URL query parameter. */
  param: string;
  option: OptionSpec;
  /** The form section: 'data', 'train' or 'method'. */
  section: 'source' | 'data' | 'train' | 'method';
}

const SOURCE_OPTION: OptionSpec = {
  kind: 'choice',
  label: 'Data',
  help: 'The built-in synthetic slice, or the file loaded above',
  param: 'source',
  default: 'synthetic',
  choices: [
    { value: 'synthetic', label: 'Synthetic slice' },
    { value: 'loaded', label: 'Loaded file' },
  ],
};

function fieldsOf(table: OptionTable, section: 'data' | 'train'): FormField[] {
  return Object.entries(table).map(([key, option]) => ({
    id: `${section}.${key}`,
    param: option.param,
    option,
    section,
  }));
}

/** The fields that are always there: data source, synthetic slice, model and training. */
export const FORM_FIELDS: FormField[] = [
  { id: 'source', param: 'source', option: SOURCE_OPTION, section: 'source' },
  ...fieldsOf(DATA_OPTIONS, 'data'),
  ...fieldsOf(TRAIN_OPTIONS, 'train'),
];

export const METHOD_FIELD: FormField = {
  id: 'method.id',
  param: 'method',
  section: 'method',
  option: {
    kind: 'choice',
    label: 'Method',
    help: 'How the model is compressed (none = the dense reference)',
    param: 'method',
    default: NO_METHOD.id,
    choices: METHOD_CATALOG.map((m) => ({ value: m.id, label: m.label })),
  },
};

const methodFieldsOf = new WeakMap<MethodSpec, readonly FormField[]>();

/**
 * The option fields of one method: the same array of the same objects at every call, so that a
 * form field drawn from them re-renders only when its own value, lock or error changes.
 */
export function methodFields(spec: MethodSpec): readonly FormField[] {
  let fields = methodFieldsOf.get(spec);
  if (!fields) {
    fields = Object.entries(spec.options).map(([key, option]) => ({
      id: `method.${spec.id}.${key}`,
      param: option.param,
      option,
      section: 'method',
    }));
    methodFieldsOf.set(spec, fields);
  }
  return fields;
}

/** Short display names of the models. */
export const MODEL_LABELS: Record<ModelKind, string> = {
  deepfm: 'DeepFM',
  fm: 'FM',
  widedeep: 'Wide & Deep',
  autoint: 'AutoInt',
  dlrm: 'DLRM',
};

export type RunForm = Record<string, string>;

export const DEFAULT_RUN_CONFIG: RunConfig = {
  source: 'synthetic',
  data: DEFAULT_DATA_CONFIG,
  train: DEFAULT_TRAIN_CONFIG,
  method: NO_METHOD,
};

/** One line under a field: what it does and its valid range. */
export function fieldHelp(field: FormField): string {
  return `${field.option.help} (${rangeText(field.option)})`;
}

/** The form showing `config`; the options of methods other than its own are their defaults. */
export function formFromConfig(config: RunConfig): RunForm {
  const form: RunForm = { source: config.source, 'method.id': config.method.id };
  for (const f of FORM_FIELDS) {
    if (f.section === 'data' || f.section === 'train') {
      const key = f.id.slice(f.section.length + 1);
      const values = config[f.section] as unknown as Record<string, OptionValue>;
      form[f.id] = optionText(f.option, values[key]);
    }
  }
  for (const spec of METHOD_CATALOG) {
    const values = spec.id === config.method.id ? config.method.options : defaultsOf(spec.options);
    for (const f of methodFields(spec)) {
      const key = f.id.slice(`method.${spec.id}.`.length);
      form[f.id] = optionText(f.option, values[key] ?? f.option.default);
    }
  }
  return form;
}

/** The config the form describes and every problem with it (by form key). */
export function configFromForm(form: RunForm): { config: RunConfig; errors: ConfigErrors } {
  const errors: ConfigErrors = {};
  const read = (f: FormField): OptionValue => {
    const value = optionFromText(f.option, form[f.id] ?? '');
    const message = checkOption(value, f.option);
    if (message) errors[f.id] = message;
    return value;
  };
  const data: Record<string, OptionValue> = { ...DEFAULT_DATA_CONFIG };
  const train: Record<string, OptionValue> = { ...DEFAULT_TRAIN_CONFIG };
  for (const f of FORM_FIELDS) {
    if (f.section === 'data') data[f.id.slice(5)] = read(f);
    if (f.section === 'train') train[f.id.slice(6)] = read(f);
  }
  const source = read(FORM_FIELDS[0]) as DataSource;
  const methodId = form['method.id'] ?? NO_METHOD.id;
  const spec = methodSpecOf(methodId);
  const options: Record<string, OptionValue> = {};
  if (spec) {
    for (const f of methodFields(spec)) options[f.id.slice(`method.${spec.id}.`.length)] = read(f);
  }
  const config: RunConfig = {
    source,
    data: data as RunConfig['data'],
    train: train as RunConfig['train'],
    method: { id: methodId, options },
  };
  // Checks that span fields (batch vs rows, d' < d...) come from the shared validation; its
  // method keys ('method.<option>') map to this form's 'method.<id>.<option>'.
  for (const [key, message] of Object.entries(validateRunConfig(config, METHOD_CATALOG))) {
    const formKey =
      key.startsWith('method.') && key !== 'method.id' && spec
        ? `method.${spec.id}.${key.slice(7)}`
        : key;
    if (!errors[formKey]) errors[formKey] = message;
  }
  return { config, errors };
}

/**
 * Reads the form from a URL query string. Unknown parameters are ignored; values that are not
 * valid keep the default and are named in `notices`.
 */
export function formFromUrl(search: string, base: RunForm): { form: RunForm; notices: string[] } {
  const params = new URLSearchParams(search);
  const form = { ...base };
  const notices: string[] = [];
  const take = (f: FormField) => {
    const v = params.get(f.param);
    if (v === null) return;
    const message = checkOption(optionFromText(f.option, v), f.option);
    if (message) notices.push(`${f.param}=${v}: ${message}; the default is used`);
    else form[f.id] = v;
  };
  for (const f of FORM_FIELDS) take(f);
  take(METHOD_FIELD);
  const spec = methodSpecOf(form['method.id']);
  if (spec) for (const f of methodFields(spec)) take(f);
  return { form, notices };
}

/** Writes the fields that differ from the defaults into the query (keeps other parameters). */
export function urlFromForm(form: RunForm, currentSearch: string): string {
  const params = new URLSearchParams(currentSearch);
  const defaults = formFromConfig(DEFAULT_RUN_CONFIG);
  const write = (f: FormField) => {
    if (form[f.id] === undefined || form[f.id] === defaults[f.id]) params.delete(f.param);
    else params.set(f.param, form[f.id]);
  };
  for (const f of FORM_FIELDS) write(f);
  // Only the chosen method's options are in the URL (other methods may reuse a name).
  for (const spec of METHOD_CATALOG) for (const f of methodFields(spec)) params.delete(f.param);
  write(METHOD_FIELD);
  const spec = methodSpecOf(form['method.id']);
  if (spec) for (const f of methodFields(spec)) write(f);
  const s = params.toString();
  return s ? `?${s}` : '';
}

export function forcedBackendFromUrl(search: string): BackendName | null {
  const v = new URLSearchParams(search).get('backend');
  return isBackendName(v) ? v : null;
}

/** `threads=N` in the URL: the wasm backend's thread count (default: every core). */
export function wasmThreadsFromUrl(search: string): number | null {
  const v = Number(new URLSearchParams(search).get('threads') ?? NaN);
  return Number.isInteger(v) && v >= 1 && v <= 64 ? v : null;
}

/**
 * Reads a config file (as "download config" writes it, or as the headless runner reads it) into
 * a form. Values are taken as they are, so that invalid ones show next to their fields; what is
 * not a setting at all is returned as problems.
 */
export function formFromConfigFile(json: unknown): { form: RunForm | null; problems: string[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { form: null, problems: ['The file is not a run config (expected a JSON object)'] };
  }
  const raw = json as Record<string, unknown>;
  const problems: string[] = [];
  const form = formFromConfig(DEFAULT_RUN_CONFIG);
  const section = (name: 'data' | 'train', table: OptionTable) => {
    const values = raw[name];
    if (values === undefined) return;
    if (typeof values !== 'object' || values === null) {
      problems.push(`"${name}" must be an object`);
      return;
    }
    for (const [key, value] of Object.entries(values)) {
      const option = Object.hasOwn(table, key) ? table[key] : null;
      if (!option) problems.push(`unknown setting ${name}.${key}`);
      else form[`${name}.${key}`] = textOf(option, value);
    }
  };
  if (raw.source !== undefined) form['source'] = String(raw.source);
  section('data', DATA_OPTIONS);
  section('train', TRAIN_OPTIONS);
  const method = raw.method as { id?: unknown; options?: unknown } | undefined;
  if (method !== undefined) {
    const spec = typeof method?.id === 'string' ? methodSpecOf(method.id) : null;
    if (!spec) {
      problems.push(`unknown compression method "${String(method?.id)}"`);
    } else {
      form['method.id'] = spec.id;
      const options = (method.options ?? {}) as Record<string, unknown>;
      for (const [key, value] of Object.entries(options)) {
        const option = Object.hasOwn(spec.options, key) ? spec.options[key] : null;
        if (!option) problems.push(`unknown option "${key}" of ${spec.label}`);
        else form[`method.${spec.id}.${key}`] = textOf(option, value);
      }
    }
  }
  for (const key of Object.keys(raw)) {
    if (!['source', 'data', 'train', 'method'].includes(key)) problems.push(`unknown key "${key}"`);
  }
  return { form, problems };
}

function textOf(option: OptionSpec, value: unknown): string {
  if (option.kind === 'numbers' && Array.isArray(value))
    return optionText(option, value as number[]);
  return String(value);
}

/** The form after a method preset: its data, training settings and options over `form`. */
export function formWithPreset(form: RunForm, spec: MethodSpec, preset: MethodPreset): RunForm {
  const next: RunForm = { ...form, 'method.id': spec.id };
  if (preset.source) next['source'] = preset.source;
  const put = (prefix: string, table: OptionTable, values: Record<string, unknown> | undefined) => {
    for (const [key, value] of Object.entries(values ?? {})) {
      if (Object.hasOwn(table, key)) next[`${prefix}${key}`] = textOf(table[key], value);
    }
  };
  put('data.', DATA_OPTIONS, preset.data);
  put('train.', TRAIN_OPTIONS, preset.train);
  put(`method.${spec.id}.`, spec.options, preset.options);
  return next;
}
