import { describe, expect, it } from 'vitest';
import { DEFAULT_SEQ_TRAIN } from '../../../workers/sequence/seqProtocol';
import {
  isSeqRecord,
  restoredRecord,
  validateRunRecord,
  type StoredSeqRunRecord,
} from '../../../src/state/runRecords';
import { seqHistoryRunOf, seqRecordOf } from '../../../src/state/runHistory';
import { record } from './runFixtures';
import { seqRecord, seqResult } from './seqRunFixtures';

const reasonOf = (value: unknown, key?: unknown) => {
  const check = validateRunRecord(value, key);
  return check.ok ? null : check.reason;
};

describe('validateRunRecord of next-item runs', () => {
  it('accepts a whole sequence record, and one stored while running without a result', () => {
    const check = validateRunRecord(seqRecord(), 4);
    expect(check.ok).toBe(true);
    if (check.ok) {
      expect(check.record).toEqual(seqRecord());
      expect(isSeqRecord(check.record)).toBe(true);
    }
    const running = seqRecord({ status: 'running', result: null, dataset: null });
    expect(validateRunRecord(running, 4).ok).toBe(true);
    expect(validateRunRecord(structuredClone(seqRecord()), 4).ok).toBe(true);
  });

  it('still loads click-through records without a task (written before sequence runs were stored)', () => {
    const old = record();
    expect('task' in old).toBe(false);
    const check = validateRunRecord(old, 3);
    expect(check.ok && isSeqRecord(check.record)).toBe(false);
    expect(check.ok && check.record).toEqual(old);
    const tagged = validateRunRecord({ ...old, task: 'ctr' }, 3);
    expect(tagged.ok && tagged.record.task).toBe('ctr');
  });

  it('refuses an unknown task, and a sequence record checked as a click-through one', () => {
    expect(reasonOf({ ...seqRecord(), task: 'audio' }, 4)).toBe('record #4: unknown task "audio"');
    // Without its task, a sequence config is not a click-through config.
    const untagged: Record<string, unknown> = { ...seqRecord() };
    delete untagged.task;
    expect(reasonOf(untagged, 4)).toMatch(/^record #4: config\./);
  });

  it('checks the config against the sequence option tables, missing settings taking defaults', () => {
    const r = seqRecord();
    const train: Record<string, unknown> = { ...r.config.train };
    delete train.seed;
    const check = validateRunRecord({ ...r, config: { ...r.config, train } }, 4);
    expect(check.ok && check.record.config.train.seed).toBe(DEFAULT_SEQ_TRAIN.seed);
    const withTrain = (patch: Record<string, unknown>) => ({
      ...r,
      config: { ...r.config, train: { ...r.config.train, ...patch } },
    });
    expect(reasonOf(withTrain({ embeddingDim: 2 }), 4)).toMatch(
      /^record #4: config\.train\.embeddingDim/,
    );
    expect(reasonOf(withTrain({ dilations: [1, 2, 4] }), 4)).toMatch(
      /config\.train\.dilations: Dilations come in pairs/,
    );
    expect(reasonOf({ ...r, config: { ...r.config, method: 'pep' } }, 4)).toBe(
      'record #4: config.method must be none or cprec',
    );
    expect(
      reasonOf({ ...r, config: { ...r.config, cprec: { ...r.config.cprec, sharing: 'all' } } }, 4),
    ).toMatch(/config\.cprec\.sharing/);
  });

  it('checks the result, the dataset and the evaluations deeply', () => {
    const bad = (patch: Record<string, unknown>) =>
      reasonOf(seqRecord({ result: { ...seqResult(), ...patch } as never }), 4);
    expect(bad({ steps: '8' })).toBe('record #4: result.steps has the wrong type');
    expect(bad({ test: { mrr20: 0.1 } })).toMatch(/^record #4: result\.test\.(count|mrr5)/);
    expect(bad({ arch: { ...seqResult().arch, sharing: 'all' } })).toBe(
      'record #4: result.arch.sharing has the wrong type',
    );
    expect(bad({ timing: { msPerStep: 1 } })).toMatch(/result\.timing\.inferenceMsPer1000/);
    expect(bad({ evaluations: [{ step: 1 }] })).toMatch(/result\.evaluations\[0\]/);
    expect(bad({ best: { step: 1 } })).toMatch(/result\.best/);
    expect(bad({ popularityTest: null })).toMatch(/result\.popularityTest must be an object/);
    expect(reasonOf(seqRecord({ result: null }), 4)).toBe(
      'record #4: a finished run must have its result',
    );
    expect(reasonOf(seqRecord({ dataset: { name: 'x' } as never }), 4)).toMatch(
      /^record #4: dataset\.source/,
    );
    expect(reasonOf(seqRecord({ evaluations: [{ step: 1, validation: {} }] as never }), 4)).toMatch(
      /^record #4: evaluations\[0\]\./,
    );
    expect(reasonOf(seqRecord({ seconds: 'long' as never }), 4)).toBe(
      'record #4: seconds must be a number',
    );
  });

  it('marks a sequence run found running as interrupted, keeping its curve', () => {
    const running = seqRecord({ status: 'running', result: null });
    const { record: restored, changed } = restoredRecord(running);
    expect(changed).toBe(true);
    expect(restored.status).toBe('interrupted');
    expect(restored.task).toBe('seq');
    const run = seqHistoryRunOf(restored, true);
    expect(run.status).toBe('interrupted');
    expect(run.lossPoints).toHaveLength(2);
    expect(run.evaluations).toHaveLength(2);
    expect(run.modelFileStored).toBe(false);
  });

  it('round-trips a run of the table through its record', () => {
    const stored: StoredSeqRunRecord = seqRecord({ modelFileBytes: 1234 });
    const run = seqHistoryRunOf(stored, true);
    expect(run.modelFileStored).toBe(true);
    const again = seqRecordOf({ ...run, status: 'finished', totalSteps: 8 }, 1234);
    const check = validateRunRecord(again, 4);
    expect(check.ok).toBe(true);
    expect({ ...again, updatedAt: stored.updatedAt }).toEqual(stored);
  });
});
