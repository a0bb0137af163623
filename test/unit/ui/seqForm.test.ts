import { describe, expect, it } from 'vitest';
import { DEFAULT_SEQ_RUN } from '../../../workers/sequence/seqProtocol';
import {
  DEFAULT_SEQ_FORM,
  SEQ_FORM_FIELDS,
  TASK_PARAM,
  seqConfigFromForm,
  seqFormFromConfig,
  seqFormFromUrl,
  taskFromUrl,
  urlFromSeqForm,
  withoutSeqParams,
} from '../../../src/state/seqForm';
import { FORM_FIELDS, METHOD_FIELD } from '../../../src/state/runForm';

describe('the sequence form', () => {
  it('shows the default config and reads it back without problems', () => {
    const { config, errors } = seqConfigFromForm(DEFAULT_SEQ_FORM);
    expect(errors).toEqual({});
    expect(config).toEqual(DEFAULT_SEQ_RUN);
    expect(seqFormFromConfig(config)).toEqual(DEFAULT_SEQ_FORM);
  });

  it('has URL parameters of its own', () => {
    const params = SEQ_FORM_FIELDS.map((f) => f.param);
    expect(new Set(params).size).toBe(params.length);
    const ctr = new Set([...FORM_FIELDS.map((f) => f.param), METHOD_FIELD.param, TASK_PARAM]);
    expect(params.filter((p) => ctr.has(p))).toEqual([]);
  });

  it('names invalid fields, and checks hidden ones only when they are shown', () => {
    const form = {
      ...DEFAULT_SEQ_FORM,
      'seq.data.numItems': '5',
      'seq.train.batchSize': 'abc',
      'seq.cprec.factor': '0',
    };
    const { errors } = seqConfigFromForm(form);
    expect(Object.keys(errors).sort()).toEqual([
      'seq.cprec.factor',
      'seq.data.numItems',
      'seq.train.batchSize',
    ]);
    // A loaded file has no synthetic settings; the plain NextItNet no CpRec options.
    const hidden = seqConfigFromForm({ ...form, 'seq.source': 'loaded', 'seq.method': 'none' });
    expect(Object.keys(hidden.errors)).toEqual(['seq.train.batchSize']);
    expect(hidden.config.data.numItems).toBe(DEFAULT_SEQ_RUN.data.numItems);
    expect(hidden.config.cprec.factor).toBe(DEFAULT_SEQ_RUN.cprec.factor);
  });

  it('reports the shared validation under the field (dilations come in pairs)', () => {
    const { errors } = seqConfigFromForm({ ...DEFAULT_SEQ_FORM, 'seq.train.dilations': '1-2-4' });
    expect(errors['seq.train.dilations']).toMatch(/pairs/);
  });

  it('reads an empty cut list as one block', () => {
    const { config, errors } = seqConfigFromForm({
      ...DEFAULT_SEQ_FORM,
      'seq.cprec.cutPoints': '',
    });
    expect(errors).toEqual({});
    expect(config.cprec.cutPoints).toEqual([]);
  });
});

describe('the sequence task in the URL', () => {
  it('writes task=seq and the settings that differ, without the click-through ones', () => {
    const form = {
      ...DEFAULT_SEQ_FORM,
      'seq.data.numSequences': '600',
      'seq.train.dilations': '1-2-1-2',
      'seq.cprec.cutPoints': '0.2,0.5',
    };
    const search = urlFromSeqForm(form, '?model=fm&method=pep&slr=0.5&backend=wasm');
    const params = new URLSearchParams(search);
    expect(params.get(TASK_PARAM)).toBe('seq');
    expect(params.get('seqs')).toBe('600');
    expect(params.get('dil')).toBe('1-2-1-2');
    // The default cut points are not written; the backend stays.
    expect(params.has('cuts')).toBe(false);
    expect(params.get('backend')).toBe('wasm');
    expect(params.has('model')).toBe(false);
    expect(params.has('method')).toBe(false);
    // PEP's `slr` is gone; the sequence learning rate is the default, so not written either.
    expect(params.has('slr')).toBe(false);
    const back = seqFormFromUrl(search);
    expect(back.notices).toEqual([]);
    expect(back.form).toEqual(form);
  });

  it('keeps the default of an invalid value and names it', () => {
    const { form, notices } = seqFormFromUrl('?task=seq&sepochs=0&items=300&smethod=pq');
    expect(form['seq.train.epochs']).toBe(DEFAULT_SEQ_FORM['seq.train.epochs']);
    expect(form['seq.method']).toBe(DEFAULT_SEQ_FORM['seq.method']);
    expect(form['seq.data.numItems']).toBe('300');
    expect(notices).toHaveLength(2);
    expect(notices[0]).toMatch(/^sepochs=0: .*default is used$/);
  });

  it('reads the task, and drops the sequence settings for the click-through task', () => {
    expect(taskFromUrl('?task=seq')).toEqual({ task: 'seq', notice: null });
    expect(taskFromUrl('?model=fm')).toEqual({ task: 'ctr', notice: null });
    expect(taskFromUrl('?task=cv').notice).toMatch(/unknown task/);
    expect(withoutSeqParams('?task=seq&seqs=600&cuts=0.1&backend=cpu')).toBe('?backend=cpu');
  });
});
