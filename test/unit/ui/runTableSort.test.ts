import { describe, expect, it } from 'vitest';
import { historyRunOf, seqHistoryRunOf } from '../../../src/state/runHistory';
import { sortAndFilterRuns, tableRuns, type TableRun } from '../../../src/state/runTable';
import { record } from './runFixtures';
import { finishedSeqRun, seqConfig, seqRecord } from './seqRunFixtures';

function rows(): TableRun[] {
  const ctrDone = historyRunOf(record({ id: 1, name: 'dense baseline' }), true);
  const ctrRunning = historyRunOf(
    record({ id: 2, name: 'pep try', status: 'interrupted', result: null }),
    true,
  );
  const seqA = finishedSeqRun(3, seqConfig(), 0.2);
  const seqB = seqHistoryRunOf(seqRecord({ id: 4, name: 'cprec small' }), true);
  return tableRuns([ctrDone, ctrRunning], [seqA, seqB]);
}

const ids = (rs: TableRun[]) => rs.map((r) => r.run.id);

describe('the runs table: sort and filter', () => {
  it('sorts by a column either way, runs without the figure last, ties by id', () => {
    const all = rows();
    expect(ids(sortAndFilterRuns(all, { key: 'id', descending: true }, ''))).toEqual([4, 3, 2, 1]);
    const byParams = sortAndFilterRuns(all, { key: 'params', descending: false }, '');
    expect(byParams.at(-1)!.run.id).toBe(2); // no result: no parameters
    const byParamsDown = sortAndFilterRuns(all, { key: 'params', descending: true }, '');
    expect(byParamsDown.at(-1)!.run.id).toBe(2);
    const byName = sortAndFilterRuns(all, { key: 'name', descending: false }, '');
    const names = byName.map((r) => r.run.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });

  it('filters by name, method, model, data or status, case-insensitively', () => {
    const all = rows();
    const sort = { key: 'id', descending: false } as const;
    expect(ids(sortAndFilterRuns(all, sort, 'PEP'))).toEqual([2]);
    expect(ids(sortAndFilterRuns(all, sort, 'interrupted'))).toEqual([2]);
    expect(ids(sortAndFilterRuns(all, sort, 'nextitnet'))).toEqual([3, 4]);
    expect(ids(sortAndFilterRuns(all, sort, '   '))).toEqual([1, 2, 3, 4]);
    expect(sortAndFilterRuns(all, sort, 'no such run')).toEqual([]);
  });
});
