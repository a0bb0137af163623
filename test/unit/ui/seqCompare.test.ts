import { describe, expect, it } from 'vitest';
import {
  architectureOf,
  seqParamCounts,
  uncompressedOf,
} from '../../../workers/sequence/seqProtocol';
import {
  compareTaskOf,
  ctrCompareRuns,
  paretoPointsOf,
  seqCompareRuns,
  seqCurveLines,
  seqQuality,
} from '../../../src/state/compareRuns';
import { paretoFront } from '../../../src/state/pareto';
import { ctrRunFigures, seqRunFigures, tableRuns } from '../../../src/state/runTable';
import { historyRunOf, seqHistoryRunOf } from '../../../src/state/runHistory';
import {
  seqFlopsPerSequence,
  seqMethodKey,
  seqMethodLabel,
} from '../../../src/state/seqRunSummary';
import type { FinishedRun } from '../../../src/state/labStore';
import { record } from './runFixtures';
import { finishedSeqRun, seqConfig, seqRecord } from './seqRunFixtures';

describe('sequence runs on the Pareto chart', () => {
  const dense = finishedSeqRun(1, seqConfig('none'), 0.11);
  // One residual block: cross-layer sharing makes its two convs one kernel (cross-block does not).
  const shared = finishedSeqRun(2, seqConfig('cprec', 'cross-layer'), 0.1);
  const worse = finishedSeqRun(3, seqConfig('cprec', 'none'), 0.09);

  it('plots parameters, float32 bytes and FLOPs against the chosen test metric', () => {
    const runs = seqCompareRuns([dense, shared], 'mrr20');
    expect(runs.map((r) => r.quality)).toEqual([0.11, 0.1]);
    expect(runs[0].sizes.params).toBe(dense.result.params.total);
    expect(runs[0].sizes.bytes).toBe(4 * dense.result.params.total);
    expect(runs[0].sizes.flops).toBe(seqFlopsPerSequence(dense.result.arch, 8));
    expect(runs.map((r) => r.methodLabel)).toEqual(['NextItNet', 'CpRec (cross-layer)']);
    expect(runs.map((r) => r.methodId)).toEqual(['nextitnet', 'cprec-cross-layer']);
    const hr = seqCompareRuns([dense], 'hr20');
    expect(hr[0].quality).toBeCloseTo(0.33, 10);
    expect(seqQuality('ndcg20').label).toBe('test NDCG@20');
  });

  it('draws the front: the smaller CpRec and the better NextItNet, not the dominated CpRec', () => {
    expect(shared.result.params.total).toBeLessThan(dense.result.params.total);
    expect(worse.result.params.total).toBeGreaterThan(shared.result.params.total);
    const points = paretoPointsOf(seqCompareRuns([dense, shared, worse], 'mrr20'), 'params');
    const { front, excluded } = paretoFront(points);
    expect(excluded).toBe(0);
    expect(front.map((p) => p.id)).toEqual([2, 1]);
  });

  it('leaves out a run without test metrics, or without its data length for FLOPs', () => {
    const untested = { ...shared, id: 5, result: { ...shared.result, test: null } };
    const noData = { ...dense, id: 6, dataset: null };
    const runs = seqCompareRuns([untested, noData, worse], 'mrr20');
    expect(paretoFront(paretoPointsOf(runs, 'params')).excluded).toBe(1);
    expect(paretoFront(paretoPointsOf(runs, 'flops')).excluded).toBe(2);
  });

  it('overlays validation curves of the chosen metric by step', () => {
    const [line] = seqCurveLines([shared], 'mrr20');
    expect(line.name).toBe('#2 CpRec (cross-layer)');
    expect(line.data).toEqual([
      { step: 4, value: 0.08 },
      { step: 8, value: 0.1 },
    ]);
    expect(seqCurveLines([shared], 'hr20')[0].data[1].value).toBeCloseTo(0.3, 10);
  });

  it('never mixes tasks: click-through runs keep their test AUC', () => {
    const ctr = historyRunOf(record(), true) as FinishedRun;
    expect(ctrCompareRuns([ctr])[0]).toMatchObject({ quality: 0.71, sizes: { params: 100 } });
  });
});

describe('compareTaskOf', () => {
  it('compares the task on screen, else the other, else the one picked', () => {
    expect(compareTaskOf('seq', null, { ctr: 3, seq: 2 })).toBe('seq');
    expect(compareTaskOf('ctr', null, { ctr: 3, seq: 2 })).toBe('ctr');
    expect(compareTaskOf('ctr', 'seq', { ctr: 3, seq: 2 })).toBe('seq');
    expect(compareTaskOf('seq', null, { ctr: 2, seq: 1 })).toBe('ctr');
    expect(compareTaskOf('ctr', 'seq', { ctr: 2, seq: 1 })).toBe('ctr');
    expect(compareTaskOf('ctr', null, { ctr: 1, seq: 1 })).toBeNull();
  });
});

describe('FLOPs per sequence', () => {
  it('counts the convs over every position and the softmax over every item', () => {
    const arch = architectureOf(seqConfig('none'), 100);
    // 2 convs of 3·8·8 at 8 positions, then 8·100 scores.
    expect(seqFlopsPerSequence(arch, 8)).toBe(2 * (2 * 3 * 64 * 8 + 8 * 100));
    const cprec = architectureOf(seqConfig('cprec'), 100);
    expect(cprec.cuts).toEqual([20, 50, 100]);
    expect(cprec.blockDims).toEqual([8, 4, 2]);
    // Head: 20 items + 2 clusters at d 8; tails: 8·4 + 4·30 and 8·2 + 2·50.
    const softmax = 8 * 22 + (32 + 120) + (16 + 100);
    expect(seqFlopsPerSequence(cprec, 8)).toBe(2 * (2 * 3 * 64 * 8 + softmax));
    expect(seqFlopsPerSequence(cprec, 8)).toBeLessThan(
      seqFlopsPerSequence(uncompressedOf(cprec), 8),
    );
    expect(seqParamCounts(cprec).total).toBeLessThan(seqParamCounts(uncompressedOf(cprec)).total);
  });
});

describe('the runs table', () => {
  it('lists both tasks by id, each in its own terms', () => {
    const ctr = historyRunOf(record(), true);
    const seq = seqHistoryRunOf(seqRecord(), true);
    const rows = tableRuns([ctr], [seq]);
    expect(rows.map((r) => [r.task, r.run.id])).toEqual([
      ['ctr', 3],
      ['seq', 4],
    ]);
    const f = seqRunFigures(seq);
    expect(f).toMatchObject({
      method: 'CpRec (cross-block)',
      model: 'NextItNet',
      data: 'synthetic sequences (seed 7)',
      metric: 'MRR@20',
      bestValidation: 0.1,
      test: 0.12,
      seconds: 21,
      msPerStep: 12.5,
    });
    expect(f.bytes).toBe(4 * (f.params ?? 0));
    expect(f.flops).toBeGreaterThan(0);
    expect(ctrRunFigures(ctr)).toMatchObject({ metric: 'AUC', test: 0.71, bestValidation: 0.72 });
  });

  it('shows an interrupted sequence run with its best validation so far and no size', () => {
    const seq = seqHistoryRunOf(seqRecord({ status: 'running', result: null }), true);
    const f = seqRunFigures(seq);
    expect(seq.status).toBe('interrupted');
    expect(f).toMatchObject({ params: null, bytes: null, flops: null, test: null, seconds: 22 });
    expect(f.bestValidation).toBe(0.1);
    expect(f.steps).toBe(8);
  });

  it('labels the method with its sharing', () => {
    expect(seqMethodLabel(seqConfig('none'))).toBe('NextItNet');
    expect(seqMethodLabel(seqConfig('cprec', 'adjacent-layer'))).toBe('CpRec (adjacent-layer)');
    expect(seqMethodKey(seqConfig('cprec', 'none'))).toBe('cprec-none');
  });
});
