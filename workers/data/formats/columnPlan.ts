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
  labelColumn: number;
  fields: PlannedField[];
  /** Column parsed as a number for time-ordered splits (it may also be a field). */
  timeColumn: number | null;
  timeColumnName: string | null;
}

export const CRITEO_INT_NAMES = Array.from({ length: 13 }, (_, i) => `I${i + 1}`);
export const CRITEO_CAT_NAMES = Array.from({ length: 26 }, (_, i) => `C${i + 1}`);

/** Criteo without a header: label, I1..I13, C1..C26. */
export function criteoPlan(delimiter: string): ColumnPlan {
  return {
    delimiter,
    numColumns: 40,
    hasHeader: false,
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
    labelColumn: label,
    fields,
    timeColumn: null,
    timeColumnName: null,
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
    labelColumn: 1,
    fields: AVAZU_COLUMNS.slice(2).map((name, i): PlannedField => ({
      name,
      column: 2 + i,
      kind: 'categorical',
    })),
    timeColumn: 2,
    timeColumnName: 'hour',
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
    labelColumn: need(at, mapping.label),
    fields,
    timeColumn: mapping.time !== undefined ? need(at, mapping.time) : null,
    timeColumnName: mapping.time ?? null,
  };
}

/** Header names, unquoted and trimmed (quoted fields are otherwise not supported). */
export function splitHeader(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((h) => h.trim().replace(/^"(.*)"$/, '$1'));
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
