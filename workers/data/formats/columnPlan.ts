/**
 * A column plan says how the columns of one delimited CTR file become a label, fields, dense
 * features and a time value. Criteo, Avazu and generic CSV/TSV are all plans for the same
 * parser (delimitedCtr.ts).
 */
import { DatasetLoadError } from './types';

export type FieldKind =
  /** Raw text is the token. */
  | 'categorical'
  /** A number: bucketed as the Criteo reference does, and also a dense log(x+1) feature. */
  | 'numeric';

export interface PlannedField {
  name: string;
  column: number;
  kind: FieldKind;
}

export interface ColumnPlan {
  delimiter: string;
  numColumns: number;
  hasHeader: boolean;
  /**
   * Fields may be quoted as in RFC 4180 (`"a,b"`, `""` for a quote inside), each on its own
   * line: generic CSV/TSV. The Criteo and Avazu layouts have no quoting.
   */
  quoted: boolean;
  labelColumn: number;
  fields: PlannedField[];
  /** Column parsed as a number for time-ordered splits (it may also be a field). */
  timeColumn: number | null;
  timeColumnName: string | null;
  /** The header's column names, when the file has one. */
  header?: string[];
}

export const CRITEO_INT_NAMES = Array.from({ length: 13 }, (_, i) => `I${i + 1}`);
export const CRITEO_CAT_NAMES = Array.from({ length: 26 }, (_, i) => `C${i + 1}`);

/** Criteo without a header: label, I1..I13, C1..C26. */
export function criteoPlan(delimiter: string): ColumnPlan {
  return {
    delimiter,
    numColumns: 40,
    hasHeader: false,
    quoted: false,
    labelColumn: 0,
    fields: [
      ...CRITEO_INT_NAMES.map((name, i): PlannedField => ({
        name,
        column: 1 + i,
        kind: 'numeric',
      })),
      ...CRITEO_CAT_NAMES.map((name, i): PlannedField => ({
        name,
        column: 14 + i,
        kind: 'categorical',
      })),
    ],
    timeColumn: null,
    timeColumnName: null,
  };
}

/** Criteo with a header (Kaggle `Id,Label,I1..` or `label,I1..`): columns found by name. */
export function criteoPlanFromHeader(delimiter: string, header: string[]): ColumnPlan {
  const at = indexByName(header);
  const label = at.get('label') ?? at.get('click');
  if (label === undefined)
    throw new DatasetLoadError('bad-mapping', 'Criteo header has no Label column');
  const fields: PlannedField[] = [];
  for (const name of CRITEO_INT_NAMES)
    fields.push({ name, column: need(at, name), kind: 'numeric' });
  for (const name of CRITEO_CAT_NAMES)
    fields.push({ name, column: need(at, name), kind: 'categorical' });
  return {
    delimiter,
    numColumns: header.length,
    hasHeader: true,
    quoted: false,
    labelColumn: label,
    fields,
    timeColumn: null,
    timeColumnName: null,
    header,
  };
}

/**
 * The official PEP code's encoding of Criteo saved as CSV (anchors/criteo10k_encoded_seed42split
 * .csv): `row` (0-based line of the raw file), `split` (train / valid / test), `label`, then
 * I1..I13 and C1..C26 already as per-field ids. Columns are found by name.
 */
export interface ReferencePlan {
  delimiter: string;
  numColumns: number;
  rowColumn: number;
  splitColumn: number;
  labelColumn: number;
  /** Column of each of the 39 fields, I1..I13 then C1..C26. */
  fieldColumns: number[];
  fieldNames: string[];
}

/** True when a header names the columns of a reference-encoded file. */
export function looksLikeReferenceHeader(header: string[]): boolean {
  const lower = new Set(header.map((h) => h.toLowerCase()));
  return (
    lower.has('row') &&
    lower.has('split') &&
    lower.has('label') &&
    [...CRITEO_INT_NAMES, ...CRITEO_CAT_NAMES].every((n) => lower.has(n.toLowerCase()))
  );
}

export function referencePlan(delimiter: string, header: string[]): ReferencePlan {
  const at = indexByName(header);
  const fieldNames = [...CRITEO_INT_NAMES, ...CRITEO_CAT_NAMES];
  return {
    delimiter,
    numColumns: header.length,
    rowColumn: need(at, 'row'),
    splitColumn: need(at, 'split'),
    labelColumn: need(at, 'label'),
    fieldColumns: fieldNames.map((n) => need(at, n)),
    fieldNames,
  };
}

export const AVAZU_COLUMNS = [
  'id',
  'click',
  'hour',
  'C1',
  'banner_pos',
  'site_id',
  'site_domain',
  'site_category',
  'app_id',
  'app_domain',
  'app_category',
  'device_id',
  'device_ip',
  'device_model',
  'device_type',
  'device_conn_type',
  'C14',
  'C15',
  'C16',
  'C17',
  'C18',
  'C19',
  'C20',
  'C21',
];

/** Avazu train: as the reference, id and click are dropped and the other 22 columns are fields. */
export function avazuPlan(hasHeader: boolean): ColumnPlan {
  return {
    delimiter: ',',
    numColumns: 24,
    hasHeader,
    quoted: false,
    labelColumn: 1,
    fields: AVAZU_COLUMNS.slice(2).map((name, i): PlannedField => ({
      name,
      column: 2 + i,
      kind: 'categorical',
    })),
    timeColumn: 2,
    timeColumnName: 'hour',
    ...(hasHeader ? { header: [...AVAZU_COLUMNS] } : {}),
  };
}

/** Which columns of a generic CSV/TSV with a header are the label, fields and time. */
export interface ColumnMapping {
  label: string;
  categorical: string[];
  numeric?: string[];
  time?: string;
}

export function genericPlan(
  delimiter: string,
  header: string[],
  mapping: ColumnMapping,
): ColumnPlan {
  const at = indexByName(header);
  const fields: PlannedField[] = [
    ...(mapping.numeric ?? []).map((name): PlannedField => ({
      name,
      column: need(at, name),
      kind: 'numeric',
    })),
    ...mapping.categorical.map((name): PlannedField => ({
      name,
      column: need(at, name),
      kind: 'categorical',
    })),
  ];
  if (fields.length === 0)
    throw new DatasetLoadError('bad-mapping', 'the column mapping names no feature columns');
  return {
    delimiter,
    numColumns: header.length,
    hasHeader: true,
    quoted: true,
    labelColumn: need(at, mapping.label),
    fields,
    timeColumn: mapping.time !== undefined ? need(at, mapping.time) : null,
    timeColumnName: mapping.time ?? null,
    header,
  };
}

/**
 * Header names: the line split as RFC 4180 CSV (see splitQuotedLine), each name trimmed (and
 * unquoted when the quotes were inside spaces).
 */
export function splitHeader(line: string, delimiter: string): string[] {
  return (splitQuotedLine(line, delimiter) ?? line.split(delimiter)).map((h) =>
    h.trim().replace(/^"(.*)"$/, '$1'),
  );
}

/**
 * One line split as RFC 4180 CSV: a field that starts with `"` runs to the closing `"`, may hold
 * the delimiter, and writes a quote as `""`; a quote inside an unquoted field is an ordinary
 * character. Returns null when a quoted field is not closed on the line or has text after its
 * closing quote.
 */
export function splitQuotedLine(line: string, delimiter: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line.startsWith('"', i)) {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        value += line.slice(i, q);
        if (line.startsWith('"', q + 1)) {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < line.length && !line.startsWith(delimiter, i)) return null;
      out.push(value);
    } else {
      const d = line.indexOf(delimiter, i);
      const stop = d < 0 ? line.length : d;
      out.push(line.slice(i, stop));
      i = stop;
    }
    if (i >= line.length) return out;
    i += delimiter.length;
  }
}

function indexByName(header: string[]): Map<string, number> {
  const at = new Map<string, number>();
  header.forEach((h, i) => {
    if (!at.has(h)) at.set(h, i);
    const lower = h.toLowerCase();
    if (!at.has(lower)) at.set(lower, i);
  });
  return at;
}

function need(at: Map<string, number>, name: string): number {
  const i = at.get(name) ?? at.get(name.toLowerCase());
  if (i === undefined)
    throw new DatasetLoadError('bad-mapping', `column "${name}" is not in the header`);
  return i;
}
