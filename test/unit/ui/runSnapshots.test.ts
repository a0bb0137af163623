/** The run card's list of snapshots, read from a PEP result, and their download names. */
import { describe, expect, it } from 'vitest';
import type { SnapshotInfo } from '../../../workers/protocol';
import { liveSnapshotRows, snapshotFileName, snapshotRows } from '../../../src/state/runSnapshots';
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
    fieldNames: 'F1,F2',
    snapshotFieldSizes: [4, 1, 2, 0.5, 1, 0],
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

  it("gives each snapshot its fields' mean sizes, when the run recorded them", () => {
    const rows = snapshotRows(pepResult());
    expect(rows.map((r) => r.fieldSizes)).toEqual([
      [4, 1],
      [2, 0.5],
      [1, 0],
    ]);
    expect(rows[1].fieldNames).toEqual(['F1', 'F2']);
    // A run of an earlier lab version (or sizes that do not fit the names): none.
    for (const change of [
      { snapshotFieldSizes: undefined, fieldNames: undefined },
      { fieldNames: 'F1,F2,F3' },
    ]) {
      const r = pepResult();
      Object.assign(r.methodResult, change);
      for (const key of Object.keys(change)) {
        if (r.methodResult[key] === undefined) delete r.methodResult[key];
      }
      expect(snapshotRows(r).map((row) => [row.fieldSizes, row.fieldNames])).toEqual([
        [[], []],
        [[], []],
        [[], []],
      ]);
    }
  });

  it('lists the snapshots of a run in progress from its events, a retrained one updated', () => {
    const taken = (number: number, label: string, nonZeros: number): SnapshotInfo => ({
      number,
      label,
      step: 10 * number,
      retrained: false,
      nonZeros,
      entries: 1000,
      validationAuc: 0.7,
      testAuc: null,
      fieldSizes: [3, 1],
      fieldNames: ['F1', 'F2'],
    });
    const retrained: SnapshotInfo = {
      ...taken(1, '50%', 498),
      step: 73,
      retrained: true,
      validationAuc: 0.74,
      testAuc: 0.75,
    };
    const rows = liveSnapshotRows([taken(1, '50%', 500), taken(2, '80%', 200), retrained]);
    expect(rows.map((r) => [r.number, r.label, r.step, r.nonZeros, r.retrained])).toEqual([
      [1, '50%', 10, 500, true],
      [2, '80%', 20, 200, false],
    ]);
    // Its figures at the snapshot stay; the retrained AUCs are added.
    expect(rows[0].validationAuc).toBe(0.7);
    expect(rows[0].retrainedValidationAuc).toBe(0.74);
    expect(rows[0].testAuc).toBe(0.75);
    expect(rows[0].sparsity).toBeCloseTo(0.5, 12);
    expect(rows[1].retrainedValidationAuc).toBeNaN();
    expect(rows[1].fieldSizes).toEqual([3, 1]);
    expect(liveSnapshotRows([])).toEqual([]);
  });

  it('names the file after the run, the snapshot and its target', () => {
    const rows = snapshotRows(pepResult());
    expect(snapshotFileName('pep', 3, rows[2])).toBe('model-pep-run3-snapshot3-90pct.json');
    expect(snapshotFileName('pep', 3, { ...rows[0], label: '5000 non-zeros' })).toBe(
      'model-pep-run3-snapshot1-5000-non-zeros.json',
    );
  });
});
