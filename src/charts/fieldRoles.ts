/** The roles the synthetic generator gives its fields, and their colours in every chart. */
import type { DatasetSummary } from '../../workers/protocol';

export const ROLE_COLORS = {
  informative: '#1f5fa8',
  noise: '#b0b7c3',
  redundant: '#c2571a',
} as const;

export type FieldRole = keyof typeof ROLE_COLORS;

export function roleOfField(summary: DatasetSummary, field: number): FieldRole {
  if (summary.noiseFields.includes(field)) return 'noise';
  if (summary.redundantFields.some((r) => r.field === field)) return 'redundant';
  return 'informative';
}
