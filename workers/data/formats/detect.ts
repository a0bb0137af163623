/**
 * Format detection from a file's name and first bytes. Returns the parser family, the variant
 * (reported to the user) and, for delimited CTR text, the column plan. Whole-file problems
 * (empty, binary, nothing recognisable) are thrown as DatasetLoadError with a message that says
 * what was seen.
 */
import {
  avazuPlan,
  criteoPlan,
  criteoPlanFromHeader,
  genericPlan,
  looksLikeReferenceHeader,
  referencePlan,
  splitHeader,
  type ColumnMapping,
  type ColumnPlan,
  type ReferencePlan,
} from './columnPlan';
import { DatasetLoadError } from './types';

export type CtrFormatId =
  | 'criteo-tsv'
  | 'criteo-csv'
  | 'criteo-kaggle-csv'
  | 'criteo-csv-header'
  | 'avazu-csv-header'
  | 'avazu-csv'
  | 'generic-csv'
  | 'generic-tsv';
export type MovieLensFormatId = 'movielens-100k' | 'movielens-1m';
export type FormatId = CtrFormatId | 'criteo-reference-encoded' | MovieLensFormatId | 'sequences';

/** What one MovieLens file is. */
export type MovieLensRole = 'ratings' | 'users' | 'items' | 'ignored';

export type Detection =
  | { family: 'delimited-ctr'; format: CtrFormatId; plan: ColumnPlan; description: string }
  | {
      family: 'reference-encoded';
      format: 'criteo-reference-encoded';
      plan: ReferencePlan;
      description: string;
    }
  | { family: 'movielens'; format: MovieLensFormatId; role: MovieLensRole; description: string }
  | { family: 'sequences'; format: 'sequences'; description: string };

export interface DetectOptions {
  /** Skip detection of the layout (the file is still checked for being empty or binary). */
  format?: FormatId;
  /** Required for generic CSV/TSV with a header. */
  columns?: ColumnMapping;
  /** Another file of the set has a MovieLens name: README, u.genre... are then ignored. */
  inMovieLensSet?: boolean;
}

export function isMovieLensName(name: string): boolean {
  return baseName(name).toLowerCase() in MOVIELENS_NAMES;
}

const DESCRIPTIONS: Record<FormatId, string> = {
  'criteo-tsv': 'Criteo DAC raw (tab-separated, no header: label, I1..I13, C1..C26)',
  'criteo-csv': 'Criteo DAC (comma-separated, no header)',
  'criteo-kaggle-csv': 'Criteo Kaggle CSV (header Id,Label,I1..C26)',
  'criteo-csv-header': 'Criteo CSV with a header (integers may be written as floats)',
  'avazu-csv-header': 'Avazu CSV with header (id, click, hour, ... C21)',
  'avazu-csv': 'Avazu CSV without header',
  'generic-csv': 'CSV with a header and a column mapping',
  'generic-tsv': 'TSV with a header and a column mapping',
  'criteo-reference-encoded':
    'Criteo, PEP reference encoding (row, split, label, I1..C26 as per-field ids; split from the file)',
  'movielens-100k': 'MovieLens 100K (u.data, u.user, u.item)',
  'movielens-1m': 'MovieLens 1M (ratings.dat, users.dat, movies.dat)',
  sequences: 'item sequences (one per line, comma-separated, -1 or empty = padding)',
};

export function describeFormat(format: FormatId): string {
  return DESCRIPTIONS[format];
}

/** Known MovieLens file names (lower case) and what they hold. */
const MOVIELENS_NAMES: Record<string, { format: MovieLensFormatId; role: MovieLensRole }> = {
  'u.data': { format: 'movielens-100k', role: 'ratings' },
  'u.user': { format: 'movielens-100k', role: 'users' },
  'u.item': { format: 'movielens-100k', role: 'items' },
  'ratings.dat': { format: 'movielens-1m', role: 'ratings' },
  'users.dat': { format: 'movielens-1m', role: 'users' },
  'movies.dat': { format: 'movielens-1m', role: 'items' },
};
/** Other files of the MovieLens archives, accepted and ignored when dropped with the rest. */
const MOVIELENS_EXTRAS =
  /^(readme(\.txt)?|u\.(genre|info|occupation)|u[1-5a-b]?\.(base|test)|allbut\.pl|mku\.sh)$/i;

export function baseName(name: string): string {
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  return name.slice(slash + 1);
}

/** Files known to be ISO-8859-1 rather than UTF-8. */
export function isLatin1File(name: string): boolean {
  const b = baseName(name).toLowerCase();
  return b === 'u.item' || b === 'movies.dat' || b === 'users.dat';
}

export function detectFile(
  name: string,
  head: Uint8Array,
  complete: boolean,
  options: DetectOptions = {},
): Detection {
  const base = baseName(name).toLowerCase();
  if (head.length === 0) throw new DatasetLoadError('empty-input', `${name} is empty`);
  const known = MOVIELENS_NAMES[base];
  if (
    !known &&
    MOVIELENS_EXTRAS.test(base) &&
    (options.inMovieLensSet || options.format?.startsWith('movielens'))
  ) {
    const format: MovieLensFormatId =
      options.format === 'movielens-1m' ? 'movielens-1m' : 'movielens-100k';
    return { family: 'movielens', format, role: 'ignored', description: 'ignored' };
  }
  checkNotBinary(name, head, isLatin1File(name));
  if (known && (!options.format || options.format === known.format)) {
    return {
      family: 'movielens',
      format: known.format,
      role: known.role,
      description: describeFormat(known.format),
    };
  }

  const lines = headLines(head, complete, isLatin1File(name) ? 'iso-8859-1' : 'utf-8');
  if (lines.length === 0)
    throw new DatasetLoadError('empty-input', `${name} holds only blank lines`);
  const first = lines[0];
  const delimiter = guessDelimiter(first);
  const header = splitHeader(first, delimiter);
  const lower = new Set(header.map((h) => h.toLowerCase()));
  const cols = first.split(delimiter);
  const forced = options.format;

  const ctr = (format: CtrFormatId, plan: ColumnPlan): Detection => ({
    family: 'delimited-ctr',
    format,
    plan,
    description: describeFormat(format),
  });

  if (forced === 'sequences')
    return { family: 'sequences', format: 'sequences', description: describeFormat('sequences') };
  if (forced === 'generic-csv' || forced === 'generic-tsv' || (!forced && options.columns)) {
    if (!options.columns)
      throw new DatasetLoadError('bad-mapping', `${forced} needs a column mapping`);
    return ctr(
      delimiter === '\t' ? 'generic-tsv' : 'generic-csv',
      genericPlan(delimiter, header, options.columns),
    );
  }
  if (forced === 'criteo-reference-encoded' || (!forced && looksLikeReferenceHeader(header))) {
    if (!looksLikeReferenceHeader(header)) {
      throw new DatasetLoadError(
        'bad-mapping',
        `${name}: a reference-encoded file starts with the header row,split,label,I1..I13,C1..C26; its first line is "${first.slice(0, 120)}"`,
      );
    }
    return {
      family: 'reference-encoded',
      format: 'criteo-reference-encoded',
      plan: referencePlan(delimiter, header),
      description: describeFormat('criteo-reference-encoded'),
    };
  }
  const looksCriteoHeader =
    lower.has('i1') && lower.has('c26') && (lower.has('label') || lower.has('click'));
  if (
    looksCriteoHeader &&
    (!forced || forced === 'criteo-kaggle-csv' || forced === 'criteo-csv-header')
  ) {
    return ctr(
      lower.has('id') ? 'criteo-kaggle-csv' : 'criteo-csv-header',
      criteoPlanFromHeader(delimiter, header),
    );
  }
  if (forced === 'criteo-tsv') return ctr('criteo-tsv', criteoPlan('\t'));
  if (forced === 'criteo-csv') return ctr('criteo-csv', criteoPlan(','));
  const looksAvazuHeader = lower.has('click') && lower.has('hour');
  if (forced === 'avazu-csv-header' || (!forced && looksAvazuHeader))
    return ctr('avazu-csv-header', avazuPlan(true));
  if (forced === 'avazu-csv') return ctr('avazu-csv', avazuPlan(false));
  if (forced?.startsWith('movielens')) {
    // Under an unknown name a MovieLens file can only be the ratings table.
    return {
      family: 'movielens',
      format: forced as MovieLensFormatId,
      role: 'ratings',
      description: describeFormat(forced),
    };
  }

  const isBinaryLabel = (s: string | undefined): boolean => s === '0' || s === '1';
  if (cols.length === 40 && isBinaryLabel(cols[0]) && (delimiter === '\t' || delimiter === ',')) {
    return delimiter === '\t'
      ? ctr('criteo-tsv', criteoPlan('\t'))
      : ctr('criteo-csv', criteoPlan(','));
  }
  if (
    delimiter === ',' &&
    cols.length === 24 &&
    isBinaryLabel(cols[1]) &&
    /^\d{8}$/.test(cols[2])
  ) {
    return ctr('avazu-csv', avazuPlan(false));
  }
  if (cols.length === 4 && cols.every(isInteger) && (delimiter === '\t' || delimiter === '::')) {
    const format: MovieLensFormatId = delimiter === '\t' ? 'movielens-100k' : 'movielens-1m';
    return { family: 'movielens', format, role: 'ratings', description: describeFormat(format) };
  }
  if (delimiter === ',' && looksLikeSequences(lines)) {
    return { family: 'sequences', format: 'sequences', description: describeFormat('sequences') };
  }
  const seen = `first line has ${cols.length} ${delimiterName(delimiter)}-separated columns: "${first.slice(0, 120)}"`;
  if (looksLikeHeader(lines)) {
    throw new DatasetLoadError(
      'undetectable-format',
      `${name}: looks like a table with a header (${seen}); give a column mapping {label, categorical, numeric} to load it`,
    );
  }
  throw new DatasetLoadError(
    'undetectable-format',
    `${name}: not a recognised format (Criteo, Avazu, MovieLens, sequences, or CSV/TSV with a column mapping); ${seen}`,
  );
}

/**
 * Many NUL bytes, or many invalid UTF-8 sequences, mean the file is not text. Densities, not
 * single bytes: a text file with a few corrupted lines still loads (those lines are rejected one
 * by one), and a Latin-1 file has some invalid UTF-8 (accented letters) by nature.
 */
function checkNotBinary(name: string, head: Uint8Array, latin1: boolean): void {
  let nul = 0;
  for (let i = 0; i < head.length; i++) if (head[i] === 0) nul++;
  let invalid = 0;
  if (!latin1) {
    const text = new TextDecoder('utf-8').decode(head, { stream: true });
    for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) invalid++;
  }
  const manyNul = nul > 0 && nul >= head.length * 0.01;
  const manyInvalid = invalid > 16 && invalid > head.length * 0.02;
  if (manyNul || manyInvalid) {
    throw new DatasetLoadError(
      'binary-file',
      `${name} is not a text file (${nul} NUL bytes and ${invalid} invalid UTF-8 sequences in its first ${head.length} bytes)`,
    );
  }
}

/** Complete non-blank lines of the head (the last, partial line too when nothing else). */
function headLines(head: Uint8Array, complete: boolean, encoding: string): string[] {
  const text = new TextDecoder(encoding).decode(head, { stream: !complete });
  const parts = text.split('\n');
  if (!complete && parts.length > 1) parts.pop();
  return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.length > 0);
}

export function guessDelimiter(line: string): string {
  const count = (d: string): number => line.split(d).length - 1;
  const candidates = ['\t', ',', '::', '|', ';'];
  let best = ',';
  let bestCount = 0;
  for (const d of candidates) {
    const n = count(d);
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

function delimiterName(d: string): string {
  return d === '\t' ? 'tab' : d === ',' ? 'comma' : `"${d}"`;
}

function isInteger(s: string): boolean {
  return /^-?\d+$/.test(s);
}

/** Token shapes of a line, to tell a header line from data lines. */
function shapeSignature(line: string): string {
  const shapes = new Set<string>();
  for (const t of line.split(/[,\t|;]/)) {
    if (t === '' || t === '-1') continue;
    shapes.add(tokenShape(t));
  }
  return [...shapes].sort().join('+');
}

function tokenShape(t: string): string {
  if (/^-?\d+$/.test(t)) return 'int';
  if (/^-?\d*\.\d+$/.test(t)) return 'float';
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t)) return 'uuid';
  if (/^[0-9a-f]+$/i.test(t)) return 'hex';
  return 'word';
}

/** A first line of words above data lines without words is a header. */
function looksLikeHeader(lines: string[]): boolean {
  return (
    lines.length > 1 &&
    shapeSignature(lines[0]).includes('word') &&
    !shapeSignature(lines[1]).includes('word')
  );
}

/**
 * Comma-separated tokens, at least two on some line, no header, and no column that is clearly
 * a 0/1 label or a float (a CTR table without a mapping must not load as sequences).
 */
function looksLikeSequences(lines: string[]): boolean {
  const sample = lines.slice(0, 50);
  if (!sample.some((l) => l.split(',').length >= 2)) return false;
  if (looksLikeHeader(sample)) return false;
  return !sample.some((l) => shapeSignature(l).includes('float'));
}
