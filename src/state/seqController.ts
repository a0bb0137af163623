/**
 * Drives the next-item task through the run controller's engine bridge: describes the sequences
 * the form names (debounced), trains NextItNet or CpRec, folds the run's events into the sequence
 * store (at most one update every PUBLISH_INTERVAL_MS), and pauses, resumes, stops and tunes it.
 */
import * as Comlink from 'comlink';
import type { LoadedDatasetInfo } from '../../workers/datasetProtocol';
import type {
  SeqEngineEvent,
  SeqRunConfig,
  SeqSyntheticConfig,
} from '../../workers/sequence/seqProtocol';
import { EngineAbortError, EngineCrashError } from '../bridge/engineBridge';
import { isRunActive, useLabStore } from './labStore';
import { runController } from './runController';
import { StepSeries } from './seriesBuffer';
import { emptySeqRun, useSeqStore, type SeqRunView } from './seqStore';
import { etaSeconds, StepRate } from './seqFigures';

const CHART_POINTS = 200;
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
    const id = ++this.runId;
    this.series = new StepSeries();
    this.rate = new StepRate();
    this.pending = {};
    this.lossChanged = false;
    useSeqStore.setState({ run: { ...emptySeqRun(id), state: 'preparing', config } });
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
    } catch (err) {
      if (id !== this.runId) return;
      const cancelled = err instanceof EngineAbortError;
      this.publishNow({
        state: cancelled ? 'idle' : 'failed',
        etaSeconds: null,
        error: cancelled ? null : messageOf(err),
      });
      // A crash was already reported (with the restart) by the run controller.
      if (!cancelled && !(err instanceof EngineCrashError)) {
        useLabStore.getState().showBanner('error', `Training failed: ${messageOf(err)}`);
      }
    } finally {
      if (this.abort === abort) this.abort = null;
    }
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
      const text = await runController.bridge.call((api) => api.exportSequenceRun());
      const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
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

export const seqController = new SeqController();
