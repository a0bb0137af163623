/** The run card's list of snapshots, read from a PEP result, and their download names. */
import { describe, expect, it } from 'vitest';
import { snapshotFileName, snapshotRows } from '../../../src/state/runSnapshots';
import { result } from './runFixtures';

function pepResult() {
  const r = result();
  r.method = { id: 'pep', label: 'PEP (learnable embedding sizes)' };
  r.methodResult = {
    snapshotLabels: '50%,80%,90%',
    snapshotSteps: [9, 14, 57],
    snapshotNonZeros: [500, 200, 100],
    snapshotValidationAuc: [0.7, 0.69, 0.66],
    snapshotRetrainedValidationAuc: [Number.NaN, Number.NaN, 0.71],
    snapshotTestAuc: [Number.NaN, Number.NaN, 0.72],
    tableEntries: 1000,
  };
  return r;
}

describe('snapshots of a run', () => {
  it('lists each snapshot with its figures and whether it was retrained', () => {
    const rows = snapshotRows(pepResult());
    expect(rows.map((r) => [r.number, r.label, r.step, r.retrained])).toEqual([
      [1, '50%', 9, false],
      [2, '80%', 14, false],
      [3, '90%', 57, true],
    ]);
    expect(rows[2].sparsity).toBeCloseTo(0.9, 12);
    expect(rows[2].testAuc).toBe(0.72);
    expect(rows[0].retrainedValidationAuc).toBeNaN();
  });

  it('reads a record that went through JSON (NaN as null) and results without snapshots', () => {
    const stored = JSON.parse(JSON.stringify(pepResult())) as ReturnType<typeof result>;
    expect(snapshotRows(stored).map((r) => r.retrained)).toEqual([false, false, true]);
    // A run of an earlier lab version: its retrains listed by label only.
    const older = pepResult();
    delete older.methodResult.snapshotRetrainedValidationAuc;
    delete older.methodResult.snapshotTestAuc;
    older.methodResult.retrainedLabels = 'dense,90%';
    older.methodResult.retrainedValidationAuc = [0.73, 0.71];
    older.methodResult.retrainedTestAuc = [0.74, 0.72];
    const rows = snapshotRows(older);
    expect(rows.map((r) => r.retrained)).toEqual([false, false, true]);
    expect(rows[2].testAuc).toBe(0.72);
    expect(rows[2].retrainedValidationAuc).toBe(0.71);
    delete older.methodResult.retrainedLabels;
    expect(snapshotRows(older).map((r) => r.retrained)).toEqual([false, false, false]);
    expect(snapshotRows(result())).toEqual([]);
    const none = pepResult();
    none.methodResult.snapshotLabels = '';
    expect(snapshotRows(none)).toEqual([]);
  });

  it('names the file after the run, the snapshot and its target', () => {
    const rows = snapshotRows(pepResult());
    expect(snapshotFileName('pep', 3, rows[2])).toBe('model-pep-run3-snapshot3-90pct.json');
    expect(snapshotFileName('pep', 3, { ...rows[0], label: '5000 non-zeros' })).toBe(
      'model-pep-run3-snapshot1-5000-non-zeros.json',
    );
  });
});
