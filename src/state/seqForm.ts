/**
 * The next-item (sequence) form as the user typed it, derived from the sequence option tables
 * (workers/sequence/seqProtocol.ts) as runForm.ts derives the click-through form: strings, so
 * nothing typed is lost while it is invalid; every field maps to the config and to a URL
 * parameter. The lab's task ('ctr' or 'seq') is in the URL as `task=seq`.
 *
 * Form keys: 'seq.source', 'seq.data.<key>', 'seq.train.<key>', 'seq.method', 'seq.cprec.<key>'.
 */
import {
  checkOption,
  choiceOption,
  optionFromText,
  optionText,
  type OptionSpec,
  type OptionTable,
  type OptionValue,
} from '../../workers/options';
import {
  CPREC_OPTIONS,
  DEFAULT_SEQ_RUN,
  SEQ_DATA_OPTIONS,
  SEQ_METHODS,
  SEQ_TRAIN_OPTIONS,
  validateSeqRunConfig,
  type SeqMethodId,
  type SeqRunConfig,
} from '../../workers/sequence/seqProtocol';
import { FORM_FIELDS, METHOD_FIELD, methodFields } from './runForm';
import { METHOD_CATALOG } from '../methods/catalog';

/** The lab's two tasks: click-through ranking (the CTR form) and next-item recommendation. */
export type LabTask = 'ctr' | 'seq';

export const TASK_PARAM = 'task';

export type SeqSection = 'source' | 'data' | 'train' | 'method' | 'cprec';

export interface SeqFormField {
  /** Form key, also the key of validation errors. */
  id: string;
  /** URL query parameter. */
  param: string;
  option: OptionSpec;
  section: SeqSection;
}

export type SeqForm = Record<string, string>;
export type SeqFormErrors = Record<string, string>;

export const SEQ_SOURCE_OPTION = choiceOption({
  label: 'Data',
  help: 'The built-in synthetic sequences, or the item-sequence file loaded above',
  param: 'sdata',
  default: DEFAULT_SEQ_RUN.source,
  choices: [
    { value: 'synthetic', label: 'Synthetic sequences' },
    { value: 'loaded', label: 'Loaded sequence file' },
  ],
});

export const SEQ_METHOD_OPTION = choiceOption<SeqMethodId>({
  label: 'Method',
  help: 'The uncompressed NextItNet, or NextItNet compressed by CpRec',
  param: 'smethod',
  default: DEFAULT_SEQ_RUN.method,
  choices: SEQ_METHODS.map((m) => ({ value: m.id, label: m.label })),
});

function fieldsOf(table: OptionTable, section: 'data' | 'train' | 'cprec'): SeqFormField[] {
  return Object.entries(table).map(([key, option]) => ({
    id: `seq.${section}.${key}`,
    param: option.param,
    option,
    section,
  }));
}

export const SEQ_SOURCE_FIELD: SeqFormField = {
  id: 'seq.source',
  param: SEQ_SOURCE_OPTION.param,
  option: SEQ_SOURCE_OPTION,
  section: 'source',
};
export const SEQ_DATA_FIELDS = fieldsOf(SEQ_DATA_OPTIONS, 'data');
export const SEQ_TRAIN_FIELDS = fieldsOf(SEQ_TRAIN_OPTIONS, 'train');
export const SEQ_METHOD_FIELD: SeqFormField = {
  id: 'seq.method',
  param: SEQ_METHOD_OPTION.param,
  option: SEQ_METHOD_OPTION,
  section: 'method',
};
export const CPREC_FIELDS = fieldsOf(CPREC_OPTIONS, 'cprec');

/** Every field of the sequence form, in the form's order. */
export const SEQ_FORM_FIELDS: readonly SeqFormField[] = [
  SEQ_SOURCE_FIELD,
  ...SEQ_DATA_FIELDS,
  ...SEQ_TRAIN_FIELDS,
  SEQ_METHOD_FIELD,
  ...CPREC_FIELDS,
];

/** The key of a section's option in the config ('seq.train.epochs' -> 'epochs'). */
function keyOf(field: SeqFormField): string {
  return field.id.slice(`seq.${field.section}.`.length);
}

/** The form showing `config`. */
export function seqFormFromConfig(config: SeqRunConfig): SeqForm {
  const form: SeqForm = { 'seq.source': config.source, 'seq.method': config.method };
  const sections = {
    data: config.data,
    train: config.train,
    cprec: config.cprec,
  } as unknown as Record<'data' | 'train' | 'cprec', Record<string, OptionValue>>;
  for (const f of SEQ_FORM_FIELDS) {
    if (f.section === 'data' || f.section === 'train' || f.section === 'cprec') {
      form[f.id] = optionText(f.option, sections[f.section][keyOf(f)]);
    }
  }
  return form;
}

export const DEFAULT_SEQ_FORM: SeqForm = seqFormFromConfig(DEFAULT_SEQ_RUN);

/** Whether a field is shown (and checked) for the form's data source and method. */
export function seqFieldVisible(field: SeqFormField, form: SeqForm): boolean {
  if (field.section === 'data') return form['seq.source'] === 'synthetic';
  if (field.section === 'cprec') return form['seq.method'] === 'cprec';
  return true;
}

/**
 * The config the form describes and every problem with it (by form key). Hidden fields (the
 * synthetic settings of a loaded file, CpRec's options without CpRec) are not checked: an invalid
 * one gives its default to the config.
 */
export function seqConfigFromForm(form: SeqForm): { config: SeqRunConfig; errors: SeqFormErrors } {
  const errors: SeqFormErrors = {};
  const sections: Record<'data' | 'train' | 'cprec', Record<string, OptionValue>> = {
    data: { ...DEFAULT_SEQ_RUN.data },
    train: { ...DEFAULT_SEQ_RUN.train },
    cprec: { ...DEFAULT_SEQ_RUN.cprec },
  };
  const read = (f: SeqFormField): OptionValue | null => {
    const value = optionFromText(f.option, form[f.id] ?? '');
    const message = checkOption(value, f.option);
    if (!message) return value;
    if (seqFieldVisible(f, form)) errors[f.id] = message;
    return null;
  };
  const source = read(SEQ_SOURCE_FIELD) ?? DEFAULT_SEQ_RUN.source;
  const method = read(SEQ_METHOD_FIELD) ?? DEFAULT_SEQ_RUN.method;
  for (const f of SEQ_FORM_FIELDS) {
    if (f.section !== 'data' && f.section !== 'train' && f.section !== 'cprec') continue;
    const value = read(f);
    if (value !== null) sections[f.section][keyOf(f)] = value;
  }
  const config: SeqRunConfig = {
    source: source as SeqRunConfig['source'],
    data: sections.data as SeqRunConfig['data'],
    train: sections.train as SeqRunConfig['train'],
    method: method as SeqMethodId,
    cprec: sections.cprec as SeqRunConfig['cprec'],
  };
  // Checks that span fields (dilations in pairs) come from the shared validation.
  for (const [key, message] of Object.entries(validateSeqRunConfig(config))) {
    if (!message) continue;
    const formKey =
      key === 'method.id' ? 'seq.method' : key === 'config' ? 'seq.source' : `seq.${key}`;
    if (!errors[formKey]) errors[formKey] = message;
  }
  return { config, errors };
}

/** The task a URL names (`task=seq`); anything else is the click-through task. */
export function taskFromUrl(search: string): { task: LabTask; notice: string | null } {
  const value = new URLSearchParams(search).get(TASK_PARAM);
  if (value === null || value === 'ctr') return { task: 'ctr', notice: null };
  if (value === 'seq') return { task: 'seq', notice: null };
  return {
    task: 'ctr',
    notice: `${TASK_PARAM}=${value}: unknown task (ctr | seq); the click-through task is used`,
  };
}

/**
 * Reads the sequence form from a URL query string. Unknown parameters are ignored; values that
 * are not valid keep the default and are named in `notices`.
 */
export function seqFormFromUrl(
  search: string,
  base: SeqForm = DEFAULT_SEQ_FORM,
): { form: SeqForm; notices: string[] } {
  const params = new URLSearchParams(search);
  const form = { ...base };
  const notices: string[] = [];
  for (const f of SEQ_FORM_FIELDS) {
    const v = params.get(f.param);
    if (v === null) continue;
    const message = checkOption(optionFromText(f.option, v), f.option);
    if (message) notices.push(`${f.param}=${v}: ${message}; the default is used`);
    else form[f.id] = v;
  }
  return { form, notices };
}

/** The URL parameters of the click-through form (base fields and every method's options). */
function ctrParams(): string[] {
  return [
    ...FORM_FIELDS.map((f) => f.param),
    METHOD_FIELD.param,
    ...METHOD_CATALOG.flatMap((spec) => methodFields(spec).map((f) => f.param)),
  ];
}

/** The query without any parameter of the sequence form (and without `task`). */
export function withoutSeqParams(search: string): string {
  const params = new URLSearchParams(search);
  params.delete(TASK_PARAM);
  for (const f of SEQ_FORM_FIELDS) params.delete(f.param);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/**
 * The query of the sequence task: `task=seq` and the sequence fields that differ from the
 * defaults; the click-through form's parameters are dropped (a few share a name, e.g. `slr`),
 * other parameters (`backend`) are kept.
 */
export function urlFromSeqForm(form: SeqForm, currentSearch: string): string {
  const params = new URLSearchParams(currentSearch);
  for (const p of ctrParams()) params.delete(p);
  params.set(TASK_PARAM, 'seq');
  for (const f of SEQ_FORM_FIELDS) {
    const value = form[f.id];
    if (value === undefined || value === DEFAULT_SEQ_FORM[f.id]) params.delete(f.param);
    else params.set(f.param, value);
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}
