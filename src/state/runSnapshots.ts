/**
 * The snapshots a run took (PEP: one at each target sparsity), read from its result for the run
 * card's list, and the file name a snapshot's model file downloads as.
 */
import type { RunResult } from '../../workers/protocol';

export interface SnapshotRow {
  /** Numbered from 1, in the order the run took them (exportRun's `snapshot`). */
  number: number;
  /** The target it was taken at, e.g. "90%" or "5000 non-zeros". */
  label: string;
  step: number;
  nonZeros: number;
  /** Share of the table's entries pruned, or NaN when the run did not say how many it has. */
  sparsity: number;
  /** Validation AUC measured at the snapshot, before any retrain. */
  validationAuc: number;
  /** Whether the run retrained it (its model file is then the retrained model). */
  retrained: boolean;
  /** The retrained model's best validation AUC and test AUC; NaN when not retrained. */
  retrainedValidationAuc: number;
  testAuc: number;
}

function numbers(value: unknown): number[] {
  // NaN comes back as null from a record that went through JSON.
  return Array.isArray(value) ? value.map((v) => (typeof v === 'number' ? v : Number.NaN)) : [];
}

/** The snapshots of a run's result, or [] when it took none (or its method takes none). */
export function snapshotRows(result: RunResult): SnapshotRow[] {
  const r = result.methodResult;
  const labels = typeof r.snapshotLabels === 'string' && r.snapshotLabels ? r.snapshotLabels : '';
  if (!labels) return [];
  const steps = numbers(r.snapshotSteps);
  const nonZeros = numbers(r.snapshotNonZeros);
  const validation = numbers(r.snapshotValidationAuc);
  let retrainedValidation = numbers(r.snapshotRetrainedValidationAuc);
  let test = numbers(r.snapshotTestAuc);
  if (r.snapshotRetrainedValidationAuc === undefined && typeof r.retrainedLabels === 'string') {
    // A run of an earlier lab version: its retrains are listed by label ('dense' included).
    const retrainedLabels = r.retrainedLabels.split(',');
    const byLabel = (values: unknown) => {
      const list = numbers(values);
      return labels.split(',').map((label) => {
        const at = retrainedLabels.indexOf(label);
        return at < 0 ? Number.NaN : (list[at] ?? Number.NaN);
      });
    };
    retrainedValidation = byLabel(r.retrainedValidationAuc);
    test = byLabel(r.retrainedTestAuc);
  }
  const entries = typeof r.tableEntries === 'number' ? r.tableEntries : Number.NaN;
  return labels.split(',').map((label, i) => {
    const retrainedValidationAuc = retrainedValidation[i] ?? Number.NaN;
    return {
      number: i + 1,
      label,
      step: steps[i] ?? Number.NaN,
      nonZeros: nonZeros[i] ?? Number.NaN,
      sparsity: 1 - (nonZeros[i] ?? Number.NaN) / entries,
      validationAuc: validation[i] ?? Number.NaN,
      retrained: Number.isFinite(retrainedValidationAuc),
      retrainedValidationAuc,
      testAuc: test[i] ?? Number.NaN,
    };
  });
}

/** `model-pep-run3-snapshot2-90pct.json`: the run, the snapshot's number and its target. */
export function snapshotFileName(methodId: string, run: number, row: SnapshotRow): string {
  const target = row.label
    .replace(/%/g, 'pct')
    .replace(/[^A-Za-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `model-${methodId}-run${run}-snapshot${row.number}${target ? `-${target}` : ''}.json`;
}
