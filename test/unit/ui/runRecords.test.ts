import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_CONFIG } from '../../../workers/protocol';
import {
  boundEvaluations,
  downsampleLoss,
  MAX_STORED_LOSS_POINTS,
  nextRunId,
  recordBytes,
  restoredRecord,
  skippedNotice,
  storageSummaryText,
  totalStoredBytes,
  utf8Bytes,
  validateRunRecord,
} from '../../../src/state/runRecords';
import type { SeriesPoint } from '../../../src/state/seriesBuffer';
import { record, result } from './runFixtures';

const reasonOf = (value: unknown, key?: unknown) => {
  const check = validateRunRecord(value, key);
  return check.ok ? null : check.reason;
};

describe('validateRunRecord', () => {
  it('accepts a whole record, and one stored while running without a result', () => {
    const check = validateRunRecord(record(), 3);
    expect(check.ok).toBe(true);
    if (check.ok) expect(check.record).toEqual(record());
    expect(validateRunRecord(record({ status: 'running', result: null }), 3).ok).toBe(true);
    expect(validateRunRecord(record({ status: 'failed', result: null, error: 'x' })).ok).toBe(true);
  });

  it('survives a round trip through JSON-like cloning (NaN kept by structured clone)', () => {
    const copy = structuredClone(record());
    expect(validateRunRecord(copy, 3).ok).toBe(true);
  });

  it('gives missing settings their defaults, but refuses settings of the wrong type or range', () => {
    const r = record();
    const train: Record<string, unknown> = { ...r.config.train };
    delete train.seed;
    const check = validateRunRecord({ ...r, config: { ...r.config, train } }, 3);
    expect(check.ok && check.record.config.train.seed).toBe(DEFAULT_TRAIN_CONFIG.seed);
    expect(
      reasonOf({ ...r, config: { ...r.config, train: { ...r.config.train, embeddingDim: 'x' } } }),
    ).toMatch(/^record #3: config\.train\.embeddingDim/);
    expect(
      reasonOf({ ...r, config: { ...r.config, train: { ...r.config.train, model: 'gpt' } } }),
    ).toMatch(/config\.train\.model.*unknown choice "gpt"/);
    expect(reasonOf({ ...r, config: { ...r.config, source: 'disk' } })).toMatch(/config\.source/);
    expect(reasonOf({ ...r, config: 'nope' })).toBe('record #3: config must be an object');
    expect(
      reasonOf({ ...r, config: { ...r.config, method: { id: 'pep', options: { a: {} } } } }),
    ).toMatch(/config\.method\.options/);
  });

  it('names the first field that does not fit', () => {
    expect(reasonOf(null, 5)).toBe('record #5: not an object');
    expect(reasonOf(record({ status: 'exploded' as never }), 3)).toBe(
      'record #3: unknown status "exploded"',
    );
    expect(reasonOf(record({ name: 5 as never }), 3)).toBe('record #3: name must be text');
    expect(reasonOf(record({ id: 0 }), 0)).toMatch(/id must be a positive whole number/);
    expect(reasonOf(record(), 4)).toBe('record #4: id does not match its storage key');
    expect(reasonOf({ ...record(), version: 2 })).toBe('record #3: unknown record version 2');
    expect(reasonOf(record({ result: null }))).toBe(
      'record #3: a finished run must have its result',
    );
    expect(reasonOf(record({ createdAt: Number.NaN }))).toMatch(/createdAt/);
    expect(reasonOf(record({ lossPoints: [{ step: 1, loss: '0.5' }] as never }))).toBe(
      'record #3: lossPoints[0].loss has the wrong type',
    );
    expect(reasonOf(record({ evaluations: {} as never }))).toBe(
      'record #3: evaluations must be a list',
    );
    expect(reasonOf(record({ modelFileBytes: -1 }))).toMatch(/modelFileBytes/);
    expect(reasonOf('text', 'k')).toBe('record "k": not an object');
  });

  it('checks the result deeply', () => {
    const bad = (patch: Record<string, unknown>) =>
      reasonOf(record({ result: { ...result(), ...patch } as never }));
    expect(bad({ steps: '20' })).toBe('record #3: result.steps has the wrong type');
    expect(bad({ method: { id: 'none' } })).toBe(
      'record #3: result.method.label has the wrong type',
    );
    expect(bad({ test: { auc: 0.7 } })).toMatch(/result\.test\.logloss/);
    expect(bad({ model: { ...result().model, parts: [{ part: 1 }] } })).toMatch(
      /result\.model\.parts\[0\]\.part/,
    );
    expect(bad({ evaluations: [{ step: 1 }] })).toMatch(/result\.evaluations\[0\]/);
    expect(bad({ phases: 'none' })).toBe('record #3: result.phases must be a list');
  });

  it('cuts over-long series down to their bounds', () => {
    const lossPoints = Array.from({ length: 5000 }, (_, i) => ({
      step: i + 1,
      loss: 1,
      smoothed: 1,
    }));
    const check = validateRunRecord(record({ lossPoints }), 3);
    expect(check.ok && check.record.lossPoints.length).toBeLessThanOrEqual(MAX_STORED_LOSS_POINTS);
  });
});

describe('downsampleLoss', () => {
  const points = (n: number): SeriesPoint[] =>
    Array.from({ length: n }, (_, i) => ({ step: i + 1, loss: i, smoothed: 10 * i }));

  it('keeps short series as they are', () => {
    expect(downsampleLoss(points(5), 10)).toEqual(points(5));
    expect(downsampleLoss([], 10)).toEqual([]);
  });

  it('averages buckets, keeps each bucket’s last step and moving average, and the last step', () => {
    const out = downsampleLoss(points(10), 5);
    expect(out).toEqual([
      { step: 2, loss: 0.5, smoothed: 10 },
      { step: 4, loss: 2.5, smoothed: 30 },
      { step: 6, loss: 4.5, smoothed: 50 },
      { step: 8, loss: 6.5, smoothed: 70 },
      { step: 10, loss: 8.5, smoothed: 90 },
    ]);
  });

  it('never returns more than the bound', () => {
    for (const n of [2001, 2500, 3999, 10_007, 100_000]) {
      const out = downsampleLoss(points(n), 2000);
      expect(out.length).toBeLessThanOrEqual(2000);
      expect(out.length).toBeGreaterThan(900);
      expect(out.at(-1)!.step).toBe(n);
    }
  });
});

describe('boundEvaluations', () => {
  it('keeps the first and last and spreads the rest evenly', () => {
    const xs = Array.from({ length: 11 }, (_, i) => i);
    expect(boundEvaluations(xs, 3)).toEqual([0, 5, 10]);
    expect(boundEvaluations(xs, 20)).toEqual(xs);
    expect(boundEvaluations(xs, 1)).toEqual([10]);
    expect(boundEvaluations([], 1)).toEqual([]);
  });
});

describe('size accounting', () => {
  it('counts UTF-8 bytes as TextEncoder does', () => {
    for (const s of ['', 'abc', 'd′ = 2', 'é', '€', '😀 ok', 'lone \ud800 surrogate']) {
      expect(utf8Bytes(s)).toBe(new TextEncoder().encode(s).length);
    }
  });

  it('a record takes its JSON form plus its model file', () => {
    const r = record();
    const json = utf8Bytes(JSON.stringify(r));
    expect(recordBytes(r)).toBe(json);
    const withFile = record({ modelFileBytes: 12_345 });
    expect(recordBytes(withFile)).toBe(utf8Bytes(JSON.stringify(withFile)) + 12_345);
  });

  it('sums the stored sizes and says it in a line', () => {
    expect(totalStoredBytes(new Map())).toBe(0);
    expect(
      totalStoredBytes(
        new Map([
          [1, 1000],
          [2, 258_000],
        ]),
      ),
    ).toBe(259_000);
    expect(storageSummaryText(0, 0)).toBe('No runs stored');
    expect(storageSummaryText(1, 2048)).toBe('1 run stored, 2.0 KB');
    expect(storageSummaryText(3, 1.2 * 1024 * 1024)).toBe('3 runs stored, 1.2 MB');
  });
});

describe('nextRunId', () => {
  it('counts from 1 when nothing is stored', () => {
    expect(nextRunId(0, [])).toBe(1);
    expect(nextRunId(1, [])).toBe(2);
  });

  it('goes above every stored id and the page’s own', () => {
    expect(nextRunId(0, [3, 1, 2])).toBe(4);
    expect(nextRunId(7, [3, 1, 2])).toBe(8);
    expect(nextRunId(2, [5])).toBe(6);
  });

  it('ignores keys that are not run ids', () => {
    expect(nextRunId(0, ['x', -4, 2.5, Number.NaN, 2])).toBe(3);
  });
});

describe('on load', () => {
  it('a record still running becomes interrupted, with its curve', () => {
    const running = record({ status: 'running', result: null });
    const { record: r, changed } = restoredRecord(running);
    expect(changed).toBe(true);
    expect(r.status).toBe('interrupted');
    expect(r.lossPoints).toEqual(running.lossPoints);
    expect(restoredRecord(record()).changed).toBe(false);
  });

  it('the skipped notice says how many and why', () => {
    expect(skippedNotice([])).toBe('');
    expect(skippedNotice(['record #7: unknown status "x"'])).toBe(
      '1 stored run record was skipped because it is not valid: record #7: unknown status "x"',
    );
    expect(skippedNotice(['a', 'b', 'c', 'd', 'e'])).toBe(
      '5 stored run records were skipped because they are not valid: a; b; c; and 2 more',
    );
  });
});
