/** The roles the synthetic generator gives its fields, and their colours in every chart. */
import type { DatasetSummary } from '../../workers/protocol';
import { seriesColor } from './chartProps';

export const ROLE_COLORS = {
  informative: seriesColor('#1f5fa8'),
  noise: seriesColor('#b0b7c3'),
  redundant: seriesColor('#c2571a'),
} as const;

export type FieldRole = keyof typeof ROLE_COLORS;

export function roleOfField(summary: DatasetSummary, field: number): FieldRole {
  if (summary.noiseFields.includes(field)) return 'noise';
  if (summary.redundantFields.some((r) => r.field === field)) return 'redundant';
  return 'informative';
}

/**
 * Whether a chart's bars are the synthetic slice's fields, in order (their labels are the
 * fields' names): only then do the generator's roles colour them.
 */
export function barsAreFields(
  dataset: DatasetSummary | null,
  labels: ArrayLike<string>,
): dataset is DatasetSummary {
  if (!dataset || dataset.source !== 'synthetic' || labels.length !== dataset.numFields) {
    return false;
  }
  return dataset.fieldNames.every((n, f) => n === labels[f]);
}
