/**
 * The UI state of the next-item task (NextItNet and CpRec on item sequences): which task the lab
 * shows, the sequence form, the engine's description of the data it names, and the run in
 * progress. Kept apart from the click-through store (labStore.ts), whose state it never touches.
 */
import { create } from 'zustand';
import type { RunState } from '../../workers/protocol';
import type {
  SeqArchitecture,
  SeqDatasetSummary,
  SeqEvaluation,
  SeqParamCounts,
  SeqRunConfig,
  SeqRunResult,
} from '../../workers/sequence/seqProtocol';
import type { SeriesPoint } from './seriesBuffer';
import {
  DEFAULT_SEQ_FORM,
  seqFormFromUrl,
  taskFromUrl,
  type LabTask,
  type SeqForm,
} from './seqForm';

/** What the engine said about the sequences the form names (asked again when they change). */
export interface SeqPreview {
  /** The data the answer is about (see seqDataKey). */
  key: string;
  summary: SeqDatasetSummary | null;
  error: string | null;
}

export interface SeqRunView {
  id: number;
  state: RunState;
  config: SeqRunConfig | null;
  dataset: SeqDatasetSummary | null;
  architecture: {
    params: SeqParamCounts;
    uncompressed: SeqParamCounts;
    arch: SeqArchitecture;
  } | null;
  lossPoints: SeriesPoint[];
  firstLoss: number;
  lastLoss: number;
  stepsDone: number;
  totalSteps: number;
  epoch: number;
  msPerStep: number;
  /** Seconds left at the recent pace (null until known). */
  etaSeconds: number | null;
  evaluations: SeqEvaluation[];
  /** Settings changed while training (the learning rate). */
  markers: { step: number; label: string }[];
  result: SeqRunResult | null;
  error: string | null;
}

export function emptySeqRun(id: number): SeqRunView {
  return {
    id,
    state: 'idle',
    config: null,
    dataset: null,
    architecture: null,
    lossPoints: [],
    firstLoss: Number.NaN,
    lastLoss: Number.NaN,
    stepsDone: 0,
    totalSteps: 0,
    epoch: 0,
    msPerStep: 0,
    etaSeconds: null,
    evaluations: [],
    markers: [],
    result: null,
    error: null,
  };
}

export interface SeqState {
  task: LabTask;
  form: SeqForm;
  /** URL values that were not valid (the defaults were used instead). */
  urlNotices: string[];
  preview: SeqPreview | null;
  run: SeqRunView;
  setTask(task: LabTask): void;
  setForm(id: string, value: string): void;
  resetForm(): void;
}

function initialFromUrl(): { task: LabTask; form: SeqForm; notices: string[] } {
  const search = typeof location === 'undefined' ? '' : location.search;
  const { task, notice } = taskFromUrl(search);
  // The sequence settings are read only for the sequence task: a few of their parameter names
  // are also a compression method's (e.g. `slr`).
  const { form, notices } =
    task === 'seq' ? seqFormFromUrl(search) : { form: DEFAULT_SEQ_FORM, notices: [] };
  return { task, form, notices: notice ? [notice, ...notices] : notices };
}

const initial = initialFromUrl();

export const useSeqStore = create<SeqState>()((set) => ({
  task: initial.task,
  form: initial.form,
  urlNotices: initial.notices,
  preview: null,
  run: emptySeqRun(0),
  setTask: (task) => set({ task }),
  setForm: (id, value) => set((s) => ({ form: { ...s.form, [id]: value } })),
  resetForm: () => set({ form: DEFAULT_SEQ_FORM }),
}));
