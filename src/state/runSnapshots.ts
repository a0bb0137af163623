/**
 * The snapshots a run took (PEP: one at each target sparsity), read from its result for the run
 * card's list (or, while it trains, from the snapshot events), and the file name a snapshot's
 * model file downloads as.
 */
import type { RunResult, SnapshotInfo } from '../../workers/protocol';

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
  /** Mean embedding size (stored entries) of each field's features; [] when not recorded. */
  fieldSizes: number[];
  fieldNames: string[];
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
  const fieldNames =
    typeof r.fieldNames === 'string' && r.fieldNames ? r.fieldNames.split(',') : [];
  // Fields in a row, snapshot after snapshot (absent from runs of earlier lab versions).
  const sizes = numbers(r.snapshotFieldSizes);
  const snapshots = labels.split(',');
  const fields = sizes.length === fieldNames.length * snapshots.length ? fieldNames.length : 0;
  return snapshots.map((label, i) => {
    const fieldSizes = fields > 0 ? sizes.slice(i * fields, (i + 1) * fields) : [];
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
      fieldSizes,
      fieldNames: fields > 0 ? fieldNames : [],
    };
  });
}

/**
 * The snapshots of a run in progress, from its snapshot events in order: a snapshot is sent when
 * taken, and again when its retrained model replaces it (then its figures at the snapshot stay,
 * and the retrained AUCs are added).
 */
export function liveSnapshotRows(events: readonly SnapshotInfo[]): SnapshotRow[] {
  const rows: SnapshotRow[] = [];
  for (const e of events) {
    const at = e.number - 1;
    const taken = rows[at];
    if (e.retrained && taken) {
      rows[at] = {
        ...taken,
        retrained: true,
        retrainedValidationAuc: e.validationAuc ?? Number.NaN,
        testAuc: e.testAuc ?? Number.NaN,
      };
      continue;
    }
    rows[at] = {
      number: e.number,
      label: e.label,
      step: e.step,
      nonZeros: e.nonZeros,
      sparsity: e.entries > 0 ? 1 - e.nonZeros / e.entries : Number.NaN,
      validationAuc: e.retrained ? Number.NaN : (e.validationAuc ?? Number.NaN),
      retrained: e.retrained,
      retrainedValidationAuc: e.retrained ? (e.validationAuc ?? Number.NaN) : Number.NaN,
      testAuc: e.testAuc ?? Number.NaN,
      fieldSizes: e.fieldSizes,
      fieldNames: e.fieldNames,
    };
  }
  return rows.filter(Boolean);
}

/** `model-pep-run3-snapshot2-90pct.json`: the run, the snapshot's number and its target. */
export function snapshotFileName(methodId: string, run: number, row: SnapshotRow): string {
  const target = row.label
    .replace(/%/g, 'pct')
    .replace(/[^A-Za-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `model-${methodId}-run${run}-snapshot${row.number}${target ? `-${target}` : ''}.json`;
}
