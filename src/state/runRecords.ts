/**
 * The stored form of a run (run history that survives a reload) and the pure rules around it:
 * validation of what comes back from storage, bounds on the stored series, size accounting and
 * run-id assignment. No IndexedDB, no React, no tfjs here, so the unit tests run it in Node.
 */
import {
  DATA_OPTIONS,
  DEFAULT_DATA_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  TRAIN_OPTIONS,
  type EvaluationMetrics,
  type RunConfig,
  type RunResult,
} from '../../workers/protocol';
import { checkOption, type OptionTable, type OptionValue } from '../../workers/options';
import {
  CPREC_OPTIONS,
  DEFAULT_SEQ_RUN,
  RANKING_METRIC_KEYS,
  SEQ_DATA_OPTIONS,
  SEQ_TRAIN_OPTIONS,
  SHARING_SCHEMES,
  validateSeqRunConfig,
  type RankingMetrics,
  type SeqEvaluation,
  type SeqRunConfig,
  type SeqRunResult,
} from '../../workers/sequence/seqProtocol';
import type { SeriesPoint } from './seriesBuffer';
import { formatBytes } from '../format';

/** How a stored run ended; 'running' is only ever stored while the run goes on. */
export type StoredRunStatus = 'running' | 'finished' | 'stopped' | 'interrupted' | 'failed';
/** The status a run shows in the runs table (a 'running' record found on load is interrupted). */
export type RunStatus = Exclude<StoredRunStatus, 'running'>;

export const RECORD_VERSION = 1;
/** Loss points kept per stored run (the curve is redrawn from them after a reload). */
export const MAX_STORED_LOSS_POINTS = 2000;
/** Evaluations kept per stored run. */
export const MAX_STORED_EVALUATIONS = 2000;
/** Longest run name kept. */
export const MAX_NAME_LENGTH = 120;

/** The lab's two tasks, as a record names them. */
export type RunTask = 'ctr' | 'seq';

export interface StoredRunRecord {
  version: typeof RECORD_VERSION;
  /** A click-through run; absent in records written before sequence runs were stored. */
  task?: 'ctr';
  id: number;
  name: string;
  status: StoredRunStatus;
  /** When the run started (ms since the epoch). */
  createdAt: number;
  /** When the record was written last (ms since the epoch). */
  updatedAt: number;
  config: RunConfig;
  /** The run's result: present when it finished (or was stopped by the user after a result). */
  result: RunResult | null;
  /** Why it failed, when it did. */
  error: string | null;
  /** The loss curve, decimated (at most MAX_STORED_LOSS_POINTS points). */
  lossPoints: SeriesPoint[];
  evaluations: EvaluationMetrics[];
  /** Steps done when the record was written. */
  stepsDone: number;
  totalSteps: number;
  /** UTF-8 bytes of the model file stored beside the record (0: none stored). */
  modelFileBytes: number;
  /** Wall-clock seconds from the start to the last write (absent in older records). */
  seconds?: number;
}

/** What a sequence run's record keeps of the data it trained on (not the frequency curve). */
export interface SeqRunDataset {
  source: 'synthetic' | 'loaded';
  name: string;
  numSequences: number;
  maxLen: number;
  numItems: number;
  /** The most-popular-item baseline on the test split. */
  popularityTest: RankingMetrics;
}

/** The stored form of a next-item run (NextItNet or CpRec), in the same store as CTR runs. */
export interface StoredSeqRunRecord extends Omit<
  StoredRunRecord,
  'task' | 'config' | 'result' | 'evaluations'
> {
  task: 'seq';
  config: SeqRunConfig;
  /** The data it trained on, once the engine described it. */
  dataset: SeqRunDataset | null;
  result: SeqRunResult | null;
  /** Validation ranking metrics at each evaluation. */
  evaluations: SeqEvaluation[];
}

/** Any stored run: click-through or next-item. */
export type AnyRunRecord = StoredRunRecord | StoredSeqRunRecord;

export function isSeqRecord(record: AnyRunRecord): record is StoredSeqRunRecord {
  return record.task === 'seq';
}

export type RecordCheck = { ok: true; record: AnyRunRecord } | { ok: false; reason: string };

const STATUSES: readonly StoredRunStatus[] = [
  'running',
  'finished',
  'stopped',
  'interrupted',
  'failed',
];

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isNumberOrNull = (v: unknown) => v === null || isNumber(v);
const isStringOrNull = (v: unknown) => v === null || typeof v === 'string';

/** Thrown inside validation with the path of the first field that does not fit. */
class Invalid extends Error {}

function need(condition: boolean, message: string): void {
  if (!condition) throw new Invalid(message);
}

function checkFields(
  value: unknown,
  path: string,
  fields: Record<string, (v: unknown) => boolean>,
) {
  need(isObject(value), `${path} must be an object`);
  const obj = value as Obj;
  for (const [key, ok] of Object.entries(fields)) {
    need(ok(obj[key]), `${path}.${key} has the wrong type`);
  }
}

function checkEvaluation(value: unknown, path: string): void {
  checkFields(value, path, {
    phase: (v) => typeof v === 'string',
    epoch: isNumber,
    step: isNumber,
    validationAuc: isNumber,
    validationLogloss: isNumber,
    trainLoss: isNumber,
    testAuc: isNumberOrNull,
    seconds: isNumber,
    method: (v) => isObject(v) && Object.values(v).every(isNumber),
  });
}

function checkEvaluations(value: unknown, path: string): void {
  need(Array.isArray(value), `${path} must be a list`);
  (value as unknown[]).forEach((e, i) => checkEvaluation(e, `${path}[${i}]`));
}

function checkTest(value: unknown, path: string): void {
  if (value === null) return;
  checkFields(value, path, {
    auc: isNumber,
    logloss: isNumber,
    accuracy: isNumber,
    calibration: isNumber,
    meanPerBatchAuc: isNumber,
  });
}

/** The settings of one config section: present values checked, missing ones the default. */
function checkSection(
  value: unknown,
  path: string,
  table: OptionTable,
  defaults: Record<string, OptionValue>,
): Record<string, OptionValue> {
  need(isObject(value), `${path} must be an object`);
  const obj = value as Obj;
  const out: Record<string, OptionValue> = { ...defaults };
  for (const [key, spec] of Object.entries(table)) {
    if (obj[key] === undefined) continue;
    const problem = checkOption(obj[key], spec);
    need(problem === null, `${path}.${key}: ${problem}`);
    out[key] = obj[key] as OptionValue;
  }
  return out;
}

function isOptionValue(v: unknown): boolean {
  return (
    typeof v === 'number' ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (Array.isArray(v) && v.every(isNumber))
  );
}

function checkConfig(value: unknown): RunConfig {
  need(isObject(value), 'config must be an object');
  const c = value as Obj;
  need(
    c.source === 'synthetic' || c.source === 'loaded',
    'config.source must be synthetic or loaded',
  );
  const data = checkSection(c.data, 'config.data', DATA_OPTIONS, DEFAULT_DATA_CONFIG);
  const train = checkSection(
    c.train,
    'config.train',
    TRAIN_OPTIONS,
    DEFAULT_TRAIN_CONFIG as unknown as Record<string, OptionValue>,
  );
  need(isObject(c.method), 'config.method must be an object');
  const method = c.method as Obj;
  need(typeof method.id === 'string', 'config.method.id must be a string');
  need(
    isObject(method.options) && Object.values(method.options).every(isOptionValue),
    'config.method.options must hold settings',
  );
  return {
    source: c.source as RunConfig['source'],
    data: data as RunConfig['data'],
    train: train as unknown as RunConfig['train'],
    method: { id: method.id as string, options: method.options as Record<string, OptionValue> },
  };
}

function checkResult(value: unknown): void {
  checkFields(value, 'result', {
    runId: isNumber,
    stoppedEarly: (v) => typeof v === 'boolean',
    stopReason: isStringOrNull,
    bestEpoch: isNumberOrNull,
    bestStep: isNumberOrNull,
    stoppedByPatience: (v) => typeof v === 'boolean',
    steps: isNumber,
    bayesTestAuc: isNumberOrNull,
    msPerStep: isNumber,
    methodResult: isObject,
  });
  const r = value as Obj;
  checkFields(r.method, 'result.method', {
    id: (v) => typeof v === 'string',
    label: (v) => typeof v === 'string',
  });
  checkEvaluations(r.evaluations, 'result.evaluations');
  checkTest(r.test, 'result.test');
  need(Array.isArray(r.phases), 'result.phases must be a list');
  (r.phases as unknown[]).forEach((p, i) => {
    const path = `result.phases[${i}]`;
    checkFields(p, path, {
      id: (v) => typeof v === 'string',
      label: (v) => typeof v === 'string',
      steps: isNumber,
      endReason: isStringOrNull,
      skipped: isStringOrNull,
    });
    const phase = p as Obj;
    if (phase.bestEvaluation !== null)
      checkEvaluation(phase.bestEvaluation, `${path}.bestEvaluation`);
    checkTest(phase.test, `${path}.test`);
  });
  checkFields(r.model, 'result.model', {
    totalParams: isNumber,
    totalBytes: isNumber,
    denseEmbeddingParams: isNumber,
    flopsPerExample: isNumber,
    parts: Array.isArray,
  });
  ((r.model as Obj).parts as unknown[]).forEach((p, i) =>
    checkFields(p, `result.model.parts[${i}]`, {
      part: (v) => typeof v === 'string',
      params: isNumber,
      bytes: isNumber,
    }),
  );
}

function isNumberList(v: unknown): boolean {
  return Array.isArray(v) && v.every(isNumber);
}

function checkRankingMetrics(value: unknown, path: string): void {
  const fields: Record<string, (v: unknown) => boolean> = { count: isNumber };
  for (const k of RANKING_METRIC_KEYS) fields[k] = isNumber;
  checkFields(value, path, fields);
}

function checkSeqEvaluation(value: unknown, path: string): void {
  checkFields(value, path, {
    step: isNumber,
    epoch: isNumber,
    trainLoss: isNumber,
    seconds: isNumber,
  });
  checkRankingMetrics((value as Obj).validation, `${path}.validation`);
}

function checkSeqEvaluations(value: unknown, path: string): void {
  need(Array.isArray(value), `${path} must be a list`);
  (value as unknown[]).forEach((e, i) => checkSeqEvaluation(e, `${path}[${i}]`));
}

function checkSeqConfig(value: unknown): SeqRunConfig {
  need(isObject(value), 'config must be an object');
  const c = value as Obj;
  need(
    c.source === 'synthetic' || c.source === 'loaded',
    'config.source must be synthetic or loaded',
  );
  need(c.method === 'none' || c.method === 'cprec', 'config.method must be none or cprec');
  const section = (key: 'data' | 'train' | 'cprec', table: OptionTable) =>
    checkSection(
      c[key],
      `config.${key}`,
      table,
      DEFAULT_SEQ_RUN[key] as unknown as Record<string, OptionValue>,
    );
  const config = {
    source: c.source,
    data: section('data', SEQ_DATA_OPTIONS),
    train: section('train', SEQ_TRAIN_OPTIONS),
    method: c.method,
    cprec: section('cprec', CPREC_OPTIONS),
  } as unknown as SeqRunConfig;
  // What spans fields (dilations in pairs), as the engine checks it.
  const problem = Object.entries(validateSeqRunConfig(config)).find(([, m]) => m);
  need(!problem, `config.${problem?.[0]}: ${problem?.[1]}`);
  return config;
}

function checkTiming(value: unknown, path: string): void {
  checkFields(value, path, { msPerStep: isNumber, inferenceMsPer1000: isNumber });
}

function checkParamCounts(value: unknown, path: string): void {
  checkFields(value, path, {
    input: isNumber,
    middle: isNumber,
    softmax: isNumber,
    total: isNumber,
    distinctKernels: isNumber,
  });
}

function checkSeqResult(value: unknown): void {
  checkFields(value, 'result', {
    method: (v) => v === 'none' || v === 'cprec',
    backend: (v) => typeof v === 'string',
    compressionRatio: isNumber,
    steps: isNumber,
    stoppedEarly: (v) => typeof v === 'boolean',
    stopReason: isStringOrNull,
    seconds: isNumber,
  });
  const r = value as Obj;
  checkFields(r.arch, 'result.arch', {
    numItems: isNumber,
    dim: isNumber,
    dilations: isNumberList,
    cuts: isNumberList,
    blockDims: isNumberList,
    sharing: (v) => SHARING_SCHEMES.includes(v as (typeof SHARING_SCHEMES)[number]),
  });
  checkParamCounts(r.params, 'result.params');
  checkParamCounts(r.uncompressedParams, 'result.uncompressedParams');
  checkSeqEvaluations(r.evaluations, 'result.evaluations');
  if (r.best !== null) checkSeqEvaluation(r.best, 'result.best');
  if (r.test !== null) checkRankingMetrics(r.test, 'result.test');
  checkRankingMetrics(r.popularityTest, 'result.popularityTest');
  checkTiming(r.timing, 'result.timing');
  if (r.uncompressedTiming !== null) checkTiming(r.uncompressedTiming, 'result.uncompressedTiming');
  if (r.fastTopK !== null)
    checkFields(r.fastTopK, 'result.fastTopK', {
      msPer1000: isNumber,
      blocksExpandedShare: isNumber,
    });
}

function checkSeqDataset(value: unknown): SeqRunDataset | null {
  if (value === null) return null;
  checkFields(value, 'dataset', {
    source: (v) => v === 'synthetic' || v === 'loaded',
    name: (v) => typeof v === 'string',
    numSequences: isNumber,
    maxLen: isNumber,
    numItems: isNumber,
  });
  const d = value as Obj;
  checkRankingMetrics(d.popularityTest, 'dataset.popularityTest');
  return {
    source: d.source as SeqRunDataset['source'],
    name: d.name as string,
    numSequences: d.numSequences as number,
    maxLen: d.maxLen as number,
    numItems: d.numItems as number,
    popularityTest: d.popularityTest as RankingMetrics,
  };
}

/** How a stored key is named in a notice. */
function keyName(key: unknown): string {
  return typeof key === 'number' ? `#${key}` : (JSON.stringify(key) ?? String(key));
}

/**
 * Checks a value read back from storage: every field's shape and type (the config's settings
 * against the option tables, missing settings taking their defaults). `key` is the storage key
 * it was found under (named in the reason). Over-long series are cut down to their bounds. A
 * record without a task is a click-through run (records written before sequence runs were
 * stored); `task: 'seq'` is a next-item run, checked against the sequence option tables.
 */
export function validateRunRecord(value: unknown, key?: unknown): RecordCheck {
  const name = keyName(key ?? (isObject(value) ? value.id : undefined));
  try {
    need(isObject(value), 'not an object');
    const v = value as Obj;
    need(v.version === RECORD_VERSION, `unknown record version ${String(v.version)}`);
    need(
      v.task === undefined || v.task === 'ctr' || v.task === 'seq',
      `unknown task ${JSON.stringify(v.task)}`,
    );
    need(
      isNumber(v.id) && Number.isInteger(v.id) && v.id > 0,
      'id must be a positive whole number',
    );
    need(key === undefined || key === v.id, 'id does not match its storage key');
    need(typeof v.name === 'string', 'name must be text');
    need(
      STATUSES.includes(v.status as StoredRunStatus),
      `unknown status ${JSON.stringify(v.status)}`,
    );
    need(isNumber(v.createdAt) && Number.isFinite(v.createdAt), 'createdAt must be a time');
    need(isNumber(v.updatedAt) && Number.isFinite(v.updatedAt), 'updatedAt must be a time');
    const seq = v.task === 'seq';
    const config = seq ? checkSeqConfig(v.config) : checkConfig(v.config);
    const dataset = seq ? checkSeqDataset(v.dataset) : null;
    if (v.result !== null) {
      if (seq) checkSeqResult(v.result);
      else checkResult(v.result);
    }
    need(v.result !== null || v.status !== 'finished', 'a finished run must have its result');
    need(isStringOrNull(v.error), 'error must be text or null');
    need(Array.isArray(v.lossPoints), 'lossPoints must be a list');
    (v.lossPoints as unknown[]).forEach((p, i) =>
      checkFields(p, `lossPoints[${i}]`, { step: isNumber, loss: isNumber, smoothed: isNumber }),
    );
    if (seq) checkSeqEvaluations(v.evaluations, 'evaluations');
    else checkEvaluations(v.evaluations, 'evaluations');
    need(isNumber(v.stepsDone) && v.stepsDone >= 0, 'stepsDone must be a count');
    need(isNumber(v.totalSteps) && v.totalSteps >= 0, 'totalSteps must be a count');
    need(
      isNumber(v.modelFileBytes) && Number.isInteger(v.modelFileBytes) && v.modelFileBytes >= 0,
      'modelFileBytes must be a byte count',
    );
    need(v.seconds === undefined || isNumber(v.seconds), 'seconds must be a number');
    const common = {
      version: RECORD_VERSION as typeof RECORD_VERSION,
      id: v.id as number,
      name: (v.name as string).slice(0, MAX_NAME_LENGTH),
      status: v.status as StoredRunStatus,
      createdAt: v.createdAt as number,
      updatedAt: v.updatedAt as number,
      error: v.error as string | null,
      lossPoints: downsampleLoss(v.lossPoints as SeriesPoint[], MAX_STORED_LOSS_POINTS),
      stepsDone: v.stepsDone as number,
      totalSteps: v.totalSteps as number,
      modelFileBytes: v.modelFileBytes as number,
      ...(v.seconds === undefined ? {} : { seconds: v.seconds as number }),
    };
    const record: AnyRunRecord = seq
      ? {
          ...common,
          task: 'seq',
          config: config as SeqRunConfig,
          dataset,
          result: v.result as SeqRunResult | null,
          evaluations: boundEvaluations(v.evaluations as SeqEvaluation[], MAX_STORED_EVALUATIONS),
        }
      : {
          ...common,
          ...(v.task === 'ctr' ? { task: 'ctr' as const } : {}),
          config: config as RunConfig,
          result: v.result as RunResult | null,
          evaluations: boundEvaluations(
            v.evaluations as EvaluationMetrics[],
            MAX_STORED_EVALUATIONS,
          ),
        };
    return { ok: true, record };
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    return { ok: false, reason: `record ${name}: ${err.message}` };
  }
}

/**
 * At most `max` loss points: consecutive buckets averaged (the step and the moving average of
 * each bucket's last point), as the live chart decimates. The first and last steps stay.
 */
export function downsampleLoss(points: readonly SeriesPoint[], max: number): SeriesPoint[] {
  const n = points.length;
  if (n <= max) return [...points];
  const bucket = Math.ceil(n / Math.max(1, max));
  const out: SeriesPoint[] = [];
  for (let start = 0; start < n; start += bucket) {
    const end = Math.min(n, start + bucket);
    let sum = 0;
    for (let i = start; i < end; i++) sum += points[i].loss;
    out.push({
      step: points[end - 1].step,
      loss: sum / (end - start),
      smoothed: points[end - 1].smoothed,
    });
  }
  return out;
}

/** At most `max` evaluations, evenly spread over the run, the first and the last kept. */
export function boundEvaluations<T>(evaluations: readonly T[], max: number): T[] {
  const n = evaluations.length;
  if (n <= max) return [...evaluations];
  if (max <= 1) return n > 0 ? [evaluations[n - 1]] : [];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(evaluations[Math.round((i * (n - 1)) / (max - 1))]);
  return out;
}

/** A record found 'running' on load: the page that ran it is gone, so it was interrupted. */
export function restoredRecord<R extends AnyRunRecord>(
  record: R,
): {
  record: R;
  changed: boolean;
} {
  if (record.status !== 'running') return { record, changed: false };
  return { record: { ...record, status: 'interrupted' }, changed: true };
}

/** UTF-8 bytes of `text`, without encoding it (model files run to many megabytes). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** What a record takes in storage: its JSON form plus the model file stored beside it. */
export function recordBytes(record: AnyRunRecord): number {
  return utf8Bytes(JSON.stringify(record)) + record.modelFileBytes;
}

/** The sum over the stored records (by id) of their sizes. */
export function totalStoredBytes(sizes: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const b of sizes.values()) total += b;
  return total;
}

/** "3 runs stored, 1.2 MB" (the line above the runs table). */
export function storageSummaryText(runs: number, bytes: number): string {
  if (runs === 0) return 'No runs stored';
  return `${runs} run${runs === 1 ? '' : 's'} stored, ${formatBytes(bytes)}`;
}

/**
 * The id of the next run: above every id this page used (`current`) and every id in storage,
 * so a new run never overwrites a stored one. With nothing stored, runs count from 1.
 */
export function nextRunId(current: number, storedIds: Iterable<unknown>): number {
  let max = Math.max(0, Math.floor(current));
  for (const id of storedIds) {
    if (typeof id === 'number' && Number.isInteger(id) && id > max) max = id;
  }
  return max + 1;
}

/** The notice for records skipped on load: how many, and why (the first few reasons). */
export function skippedNotice(reasons: readonly string[], shown = 3): string {
  const n = reasons.length;
  if (n === 0) return '';
  const head = `${n} stored run record${n === 1 ? ' was' : 's were'} skipped because ${n === 1 ? 'it is' : 'they are'} not valid`;
  const listed = reasons.slice(0, shown).join('; ');
  const more = n > shown ? `; and ${n - shown} more` : '';
  return `${head}: ${listed}${more}`;
}

/** The name a run gets before the user renames it. */
export function defaultRunName(id: number, modelLabel: string, methodLabel: string): string {
  return `Run ${id}: ${modelLabel}, ${methodLabel}`;
}
