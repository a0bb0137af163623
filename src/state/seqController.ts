/**
 * Drives the next-item task through the run controller's engine bridge: describes the sequences
 * the form names (debounced), trains NextItNet or CpRec, folds the run's events into the sequence
 * store (at most one update every PUBLISH_INTERVAL_MS), and pauses, resumes, stops and tunes it.
 * Each run is stored as it trains (in the run history's store, numbered with the click-through
 * runs), joins the runs table when it ends, and its model file is stored once it finishes.
 */
import * as Comlink from 'comlink';
import type { LoadedDatasetInfo } from '../../workers/datasetProtocol';
import type {
  SeqEngineEvent,
  SeqRunConfig,
  SeqRunResult,
  SeqSyntheticConfig,
} from '../../workers/sequence/seqProtocol';
import { EngineAbortError, EngineCrashError } from '../bridge/engineBridge';
import { isRunActive, useLabStore, type SeqHistoryRun } from './labStore';
import { runController } from './runController';
import { StepSeries } from './seriesBuffer';
import { emptySeqRun, useSeqStore, type SeqRunView } from './seqStore';
import { etaSeconds, StepRate } from './seqFigures';
import { defaultRunName, type StoredSeqRunRecord } from './runRecords';
import { runHistory, seqRecordOf } from './runHistory';
import { SEQ_MODEL_LABEL, seqMethodLabel, seqRunDatasetOf } from './seqRunSummary';

const CHART_POINTS = 200;
/** A run in progress is written to storage at most this often (and once more when it ends). */
const FLUSH_INTERVAL_MS = 2000;
/** Loss points of a run's stored curve. */
const STORED_LOSS_POINTS = 2000;
const PUBLISH_INTERVAL_MS = 500;
const PREVIEW_DEBOUNCE_MS = 300;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * What a preview is about: the synthetic settings, or the loaded file (another load of the same
 * file is another dataset in the worker, so its size and load time are part of the key).
 */
export function seqDataKey(
  source: SeqRunConfig['source'],
  data: SeqSyntheticConfig,
  loaded: LoadedDatasetInfo | null,
): string {
  if (source === 'synthetic') return `synthetic:${JSON.stringify(data)}`;
  return loaded ? `loaded:${loaded.name}:${loaded.bytesRead}:${loaded.seconds}` : 'loaded:none';
}

/** Whether either task's run holds the engine (previews and loads wait for it). */
export function anyRunActive(): boolean {
  return (
    isRunActive(useSeqStore.getState().run.state) || isRunActive(useLabStore.getState().run.state)
  );
}

class SeqController {
  private runId = 0;
  private abort: AbortController | null = null;
  private series = new StepSeries();
  private rate = new StepRate();
  private pending: Partial<SeqRunView> = {};
  private publishTimer: ReturnType<typeof setTimeout> | null = null;
  private lastPublish = 0;
  private lossChanged = false;
  private previewTimer: ReturnType<typeof setTimeout> | null = null;
  /** The data the latest preview request is about: older answers are dropped. */
  private previewKey = '';
  private flushTimer: ReturnType<typeof setInterval> | null = null;
  /** The run in progress as storage names it. */
  private live: {
    id: number;
    name: string;
    createdAt: number;
    startedAt: number;
    config: SeqRunConfig;
  } | null = null;

  /**
   * Asks the engine to describe the sequences `config` names (numItems, item frequencies, the
   * most-popular baseline), debounced; nothing while a run trains (it is asked again after).
   */
  preview(config: Pick<SeqRunConfig, 'source' | 'data'>, key: string): void {
    this.previewKey = key;
    if (this.previewTimer) clearTimeout(this.previewTimer);
    const current = useSeqStore.getState().preview;
    if (current?.key === key && current.summary) return;
    this.previewTimer = setTimeout(() => {
      this.previewTimer = null;
      if (anyRunActive() || this.previewKey !== key) return;
      runController.bridge
        .call((api) => api.previewSequences(config))
        .then(
          (summary) => ({ key, summary, error: null }),
          (err: unknown) => ({ key, summary: null, error: messageOf(err) }),
        )
        .then((preview) => {
          if (this.previewKey === key) useSeqStore.setState({ preview });
        })
        .catch(() => undefined);
    }, PREVIEW_DEBOUNCE_MS);
  }

  async train(config: SeqRunConfig): Promise<void> {
    // The Train button may lag a frame behind the run state: never start two runs.
    if (this.abort || anyRunActive()) return;
    const abort = new AbortController();
    this.abort = abort;
    // Ids are the run history's: above every stored run's (of either task).
    const id = await runHistory.nextId(this.runId);
    this.runId = id;
    this.series = new StepSeries();
    this.rate = new StepRate();
    this.pending = {};
    this.lossChanged = false;
    useSeqStore.setState({ run: { ...emptySeqRun(id), state: 'preparing', config } });
    this.startFlushing(id, config);
    const onEvent = Comlink.proxy((event: SeqEngineEvent) => this.onEvent(id, event));
    try {
      const result = await runController.bridge.call(
        (api) => api.trainSequences(config, onEvent),
        abort.signal,
      );
      if (id !== this.runId) return;
      this.publishNow({
        result,
        state: 'done',
        etaSeconds: null,
        msPerStep: result.timing.msPerStep,
        evaluations: result.evaluations,
      });
      this.endRun(id, result.stoppedEarly ? 'stopped' : 'finished', result, null);
    } catch (err) {
      if (id !== this.runId) return;
      const cancelled = err instanceof EngineAbortError;
      this.publishNow({
        state: cancelled ? 'idle' : 'failed',
        etaSeconds: null,
        error: cancelled ? null : messageOf(err),
      });
      this.endRun(id, cancelled ? 'stopped' : 'failed', null, cancelled ? null : messageOf(err));
      // A crash was already reported (with the restart) by the run controller.
      if (!cancelled && !(err instanceof EngineCrashError)) {
        useLabStore.getState().showBanner('error', `Training failed: ${messageOf(err)}`);
      }
    } finally {
      if (this.abort === abort) this.abort = null;
    }
  }

  /** Writes the run in progress to storage every FLUSH_INTERVAL_MS (status 'running'). */
  private startFlushing(id: number, config: SeqRunConfig): void {
    this.stopFlushing();
    this.live = {
      id,
      name: defaultRunName(
        id,
        SEQ_MODEL_LABEL,
        config.method === 'cprec' ? seqMethodLabel(config) : 'uncompressed',
      ),
      createdAt: Date.now(),
      startedAt: performance.now(),
      config,
    };
    let saved = '';
    this.flushTimer = setInterval(() => {
      if (this.live?.id !== id) return;
      // Nothing new (e.g. paused): no write.
      const progress = `${this.series.length}|${this.current('evaluations').length}`;
      if (progress === saved) return;
      saved = progress;
      runHistory.saveRunning(this.liveRecord('running', null, null));
    }, FLUSH_INTERVAL_MS);
  }

  private stopFlushing(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
  }

  /** The record of the run in progress as it stands (its curve and evaluations so far). */
  private liveRecord(
    status: StoredSeqRunRecord['status'],
    result: SeqRunResult | null,
    error: string | null,
  ): StoredSeqRunRecord {
    const live = this.live!;
    const run = useSeqStore.getState().run;
    const dataset = this.current('dataset');
    return seqRecordOf({
      id: live.id,
      name: live.name,
      status,
      createdAt: live.createdAt,
      // The learning rate changed while it ran is in the run's config.
      config: run.id === live.id && run.config ? run.config : live.config,
      dataset: dataset ? seqRunDatasetOf(dataset) : null,
      result,
      error,
      lossPoints: this.series.decimate(STORED_LOSS_POINTS),
      evaluations: result ? result.evaluations : this.current('evaluations'),
      stepsDone: result ? result.steps : this.series.lastStep,
      totalSteps: Math.max(this.current('totalSteps'), this.series.lastStep),
      seconds: (performance.now() - live.startedAt) / 1000,
    });
  }

  /**
   * A run ended: it joins the runs table, and its final record (with the model file of a run
   * with a result, exported from the engine right away) goes to storage.
   */
  private endRun(
    id: number,
    status: SeqHistoryRun['status'],
    result: SeqRunResult | null,
    error: string | null,
  ): void {
    this.stopFlushing();
    if (this.live?.id !== id) return;
    const record = this.liveRecord(status, result, error);
    this.live = null;
    const entry: SeqHistoryRun = {
      id,
      name: record.name,
      status,
      createdAt: record.createdAt,
      config: record.config,
      dataset: record.dataset,
      result,
      error,
      lossPoints: record.lossPoints,
      evaluations: record.evaluations,
      stepsDone: record.stepsDone,
      seconds: record.seconds,
      restored: false,
      saved: false,
      modelFileStored: false,
    };
    useLabStore.setState((s) => ({ seqHistory: [...s.seqHistory, entry] }));
    const modelFile = result
      ? runController.bridge.call((api) => api.exportSequenceRunFile()).catch(() => null)
      : undefined;
    void runHistory.saveFinal(record, modelFile);
  }

  pause(): void {
    void runController.bridge.call((api) => api.pause()).catch(() => undefined);
  }

  resume(): void {
    this.rate.reset();
    void runController.bridge.call((api) => api.resume()).catch(() => undefined);
  }

  stop(): void {
    void runController.bridge.call((api) => api.stop()).catch(() => undefined);
  }

  /**
   * Downloads the model file of the last finished sequence run (the engine keeps only that one;
   * a later run, or an engine restart, replaces or drops it).
   */
  async exportModel(fileName: string): Promise<void> {
    try {
      downloadText(await runController.bridge.call((api) => api.exportSequenceRun()), fileName);
    } catch (err) {
      useLabStore.getState().showBanner('error', `Export failed: ${messageOf(err)}`);
    }
  }

  /**
   * Downloads the model file of run `historyId` of the runs table: the stored file when there is
   * one (a restored run), else the engine's, when that run is the last it finished.
   */
  async exportRun(historyId: number, fileName: string): Promise<void> {
    try {
      const run = useLabStore.getState().seqHistory.find((r) => r.id === historyId);
      let text: string | null = null;
      if (run?.modelFileStored) text = await runHistory.modelFile(historyId);
      if (text === null) {
        const current = useSeqStore.getState().run;
        const held = !run?.restored && current.id === historyId && current.result !== null;
        if (!held) throw new Error('its model file is not stored');
        text = await runController.bridge.call((api) => api.exportSequenceRun());
      }
      downloadText(text, fileName);
    } catch (err) {
      useLabStore.getState().showBanner('error', `Export failed: ${messageOf(err)}`);
    }
  }

  /** Changes the learning rate of the run in progress (the one live setting of a sequence run). */
  async tuneLearningRate(value: number): Promise<void> {
    try {
      await runController.bridge.call((api) => api.tune({ 'train.learningRate': value }));
      useSeqStore.setState((s) =>
        s.run.config
          ? {
              run: {
                ...s.run,
                config: { ...s.run.config, train: { ...s.run.config.train, learningRate: value } },
              },
            }
          : {},
      );
    } catch (err) {
      useLabStore.getState().showBanner('error', `Could not change the setting: ${messageOf(err)}`);
    }
  }

  private onEvent(id: number, event: SeqEngineEvent): void {
    if (id !== this.runId) return;
    switch (event.type) {
      case 'state':
        if (event.state !== 'running') this.rate.reset();
        this.schedule({ state: event.state });
        break;
      case 'dataset':
        this.schedule({ dataset: event.summary });
        break;
      case 'architecture':
        this.schedule({
          architecture: {
            params: event.params,
            uncompressed: event.uncompressed,
            arch: event.arch,
          },
        });
        break;
      case 'progress': {
        const b = event.batch;
        this.series.append(b.steps, b.losses);
        this.lossChanged = true;
        let ms = 0;
        for (let i = 0; i < b.stepMs.length; i++) ms += b.stepMs[i];
        const stepsDone = this.series.lastStep;
        this.rate.add(performance.now(), stepsDone);
        this.schedule({
          stepsDone,
          totalSteps: b.totalSteps,
          epoch: b.epoch,
          msPerStep: b.stepMs.length > 0 ? ms / b.stepMs.length : 0,
          etaSeconds: etaSeconds(stepsDone, b.totalSteps, this.rate.perSecond()),
        });
        break;
      }
      case 'evaluation':
        this.schedule({ evaluations: [...this.current('evaluations'), event.evaluation] });
        break;
      case 'marker':
        this.schedule({
          markers: [...this.current('markers'), { step: event.step, label: event.label }],
        });
        break;
    }
  }

  /** A field of the run as the next publish will show it (pending first). */
  private current<K extends keyof SeqRunView>(key: K): SeqRunView[K] {
    return (this.pending[key] ?? useSeqStore.getState().run[key]) as SeqRunView[K];
  }

  /** Coalesces updates: one store update at most every PUBLISH_INTERVAL_MS. */
  private schedule(update: Partial<SeqRunView>): void {
    Object.assign(this.pending, update);
    if (this.publishTimer) return;
    const wait = Math.max(0, this.lastPublish + PUBLISH_INTERVAL_MS - performance.now());
    this.publishTimer = setTimeout(() => {
      this.publishTimer = null;
      this.publishNow({});
    }, wait);
  }

  private publishNow(update: Partial<SeqRunView>): void {
    if (this.publishTimer) {
      clearTimeout(this.publishTimer);
      this.publishTimer = null;
    }
    this.lastPublish = performance.now();
    const patch: Partial<SeqRunView> = { ...this.pending, ...update };
    this.pending = {};
    if (this.lossChanged) {
      this.lossChanged = false;
      patch.lossPoints = this.series.decimate(CHART_POINTS);
      patch.firstLoss = this.series.meanLoss('first', 20);
      patch.lastLoss = this.series.meanLoss('last', 20);
    }
    useSeqStore.setState((s) => ({ run: { ...s.run, ...patch } }));
  }
}

function downloadText(text: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const seqController = new SeqController();
