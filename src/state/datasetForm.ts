/**
 * The dataset load form as typed (strings, so nothing typed is lost while it is invalid), the
 * column-mapping step for CSV/TSV files with a header, and the conversion to the worker's
 * DatasetLoadOptions with a message for every field that is wrong.
 */
import type {
  ColumnPeek,
  DatasetColumnMapping,
  DatasetFormatChoice,
  DatasetLoadOptions,
} from '../../workers/datasetProtocol';

export const FORMAT_CHOICES: { value: DatasetFormatChoice; label: string }[] = [
  { value: 'auto', label: 'Detect from the files' },
  { value: 'criteo-tsv', label: 'Criteo (tab-separated)' },
  { value: 'criteo-csv', label: 'Criteo (comma-separated)' },
  { value: 'criteo-kaggle-csv', label: 'Criteo Kaggle CSV (Id, Label, …)' },
  { value: 'criteo-csv-header', label: 'Criteo CSV with a header' },
  { value: 'avazu-csv-header', label: 'Avazu CSV with a header' },
  { value: 'avazu-csv', label: 'Avazu CSV without a header' },
  {
    value: 'criteo-reference-encoded',
    label: 'Criteo, PEP reference encoding (row, split, label, I1..C26 ids)',
  },
  { value: 'movielens-100k', label: 'MovieLens 100K (u.data, u.user, u.item)' },
  { value: 'movielens-1m', label: 'MovieLens 1M (ratings.dat, users.dat, movies.dat)' },
  { value: 'sequences', label: 'Item sequences' },
  { value: 'generic-csv', label: 'CSV/TSV with a header (map the columns)' },
];

export type RowsMode = 'all' | 'first' | 'sample';

export interface DatasetForm {
  format: DatasetFormatChoice;
  rowsMode: RowsMode;
  rowsCount: string;
  sampleSeed: string;
  /** Blank = the format's default (10 for Criteo/Avazu, 1 for MovieLens). */
  minCount: string;
  customSplit: boolean;
  splitTrain: string;
  splitValidation: string;
  splitTest: string;
  splitMode: 'random' | 'ordered';
  splitSeed: string;
  keepUserAndItemIds: boolean;
}

export const DEFAULT_DATASET_FORM: DatasetForm = {
  format: 'auto',
  rowsMode: 'all',
  rowsCount: '10000',
  sampleSeed: '1',
  minCount: '',
  customSplit: false,
  splitTrain: '0.8',
  splitValidation: '0.1',
  splitTest: '0.1',
  splitMode: 'random',
  splitSeed: '42',
  keepUserAndItemIds: false,
};

/** What one column of a mapped CSV/TSV becomes. */
export type ColumnRole = 'ignore' | 'label' | 'categorical' | 'numeric' | 'time';

export const COLUMN_ROLES: { value: ColumnRole; label: string }[] = [
  { value: 'ignore', label: 'ignore' },
  { value: 'label', label: 'label (0/1)' },
  { value: 'categorical', label: 'categorical field' },
  { value: 'numeric', label: 'numeric field' },
  { value: 'time', label: 'time (ordered split)' },
];

/** A first guess: a column named like a label is the label, every other column categorical. */
export function guessColumnRoles(peek: ColumnPeek): ColumnRole[] {
  const labelAt = peek.header.findIndex((h) => /^(label|click|clicked|target|y)$/i.test(h));
  const label = labelAt >= 0 ? labelAt : 0;
  return peek.header.map((h, i) =>
    i === label ? 'label' : /^(id|row_?id|index)$/i.test(h) ? 'ignore' : 'categorical',
  );
}

export function mappingFromRoles(
  header: string[],
  roles: ColumnRole[],
): { mapping: DatasetColumnMapping | null; error: string | null } {
  const labels = header.filter((_, i) => roles[i] === 'label');
  const times = header.filter((_, i) => roles[i] === 'time');
  const categorical = header.filter((_, i) => roles[i] === 'categorical');
  const numeric = header.filter((_, i) => roles[i] === 'numeric');
  const duplicate = header.find((h, i) => roles[i] !== 'ignore' && header.indexOf(h) !== i);
  if (labels.length !== 1) return { mapping: null, error: 'Mark exactly one column as the label' };
  if (times.length > 1) return { mapping: null, error: 'Mark at most one column as time' };
  if (categorical.length + numeric.length === 0)
    return { mapping: null, error: 'Mark at least one column as a field' };
  if (duplicate !== undefined)
    return { mapping: null, error: `The header names "${duplicate}" twice: ignore one of them` };
  return {
    mapping: { label: labels[0], categorical, numeric, time: times[0] ?? null },
    error: null,
  };
}

export type DatasetFormErrors = Partial<Record<keyof DatasetForm | 'columns', string>>;

function parseNumber(text: string): number {
  const t = text.trim();
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number.NaN;
  return Number(t);
}

function wholeNumber(text: string, label: string, min: number): [number, string | null] {
  const v = parseNumber(text);
  if (!Number.isInteger(v)) return [v, `${label} must be a whole number`];
  if (v < min) return [v, `${label} must be at least ${min}`];
  if (v > 2 ** 31 - 1) return [v, `${label} is too large`];
  return [v, null];
}

/** Converts the form (and the mapping, for generic CSV) into load options, or field errors. */
export function loadOptionsFromForm(
  form: DatasetForm,
  mapping: DatasetColumnMapping | null,
  mappingError: string | null,
): { options: DatasetLoadOptions; errors: DatasetFormErrors } {
  const errors: DatasetFormErrors = {};
  const check = (key: keyof DatasetForm, [v, err]: [number, string | null]): number => {
    if (err) errors[key] = err;
    return v;
  };
  let rows: DatasetLoadOptions['rows'] = { mode: 'all' };
  if (form.rowsMode !== 'all') {
    const count = check('rowsCount', wholeNumber(form.rowsCount, 'Rows', 1));
    rows =
      form.rowsMode === 'first'
        ? { mode: 'first', count }
        : {
            mode: 'sample',
            count,
            seed: check('sampleSeed', wholeNumber(form.sampleSeed, 'Sample seed', 0)),
          };
  }
  const minCount =
    form.minCount.trim() === ''
      ? null
      : check('minCount', wholeNumber(form.minCount, 'Min count', 1));
  let split: DatasetLoadOptions['split'] = null;
  if (form.customSplit) {
    const ratio = (key: 'splitTrain' | 'splitValidation' | 'splitTest', label: string) => {
      const v = parseNumber(form[key]);
      if (!Number.isFinite(v) || v < 0) errors[key] = `${label} share must be a number ≥ 0`;
      return v;
    };
    const train = ratio('splitTrain', 'Train');
    const validation = ratio('splitValidation', 'Validation');
    const test = ratio('splitTest', 'Test');
    if (!errors.splitTrain && train <= 0) errors.splitTrain = 'Train share must be positive';
    split = {
      train,
      validation,
      test,
      mode: form.splitMode,
      seed: check('splitSeed', wholeNumber(form.splitSeed, 'Split seed', 0)),
    };
  }
  const generic = form.format === 'generic-csv' || form.format === 'generic-tsv';
  if (generic && !mapping) errors.columns = mappingError ?? 'Map the columns of the file';
  return {
    options: {
      format: form.format,
      minCount,
      rows,
      split,
      keepUserAndItemIds: form.keepUserAndItemIds,
      columns: generic ? mapping : null,
    },
    errors,
  };
}
