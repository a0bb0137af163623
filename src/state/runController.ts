/**
 * Drives runs: owns the EngineBridge, turns engine events into store updates (at most once per
 * animation frame), and keeps the UI consistent when the engine crashes or its device is lost.
 */
import * as Comlink from 'comlink';
import type {
  BackendName,
  EngineEvent,
  ImportedModelCard,
  MemoryInfo,
  RunConfig,
  SyntheticDataConfig,
} from '../../workers/protocol';
import type { SeqRunConfig } from '../../workers/sequence/seqProtocol';
import type { OptionValue } from '../../workers/options';
import { EngineAbortError, EngineBridge, EngineCrashError } from '../bridge/engineBridge';
import { etaSeconds, StepRate } from './seqFigures';
import { StepSeries, ValueSeries, type ValuePoint } from './seriesBuffer';
import {
  emptyRun,
  isRunActive,
  useLabStore,
  type HistoryRun,
  type LabState,
  type RunView,
} from './labStore';
import { forcedBackendFromUrl, MODEL_LABELS, wasmThreadsFromUrl } from './runForm';
import { choiceKey, forgetChoice, rememberChoice, rememberedChoice } from './backendChoice';
import { defaultRunName, type StoredRunRecord } from './runRecords';
import { recordOf, runHistory } from './runHistory';
import { methodSpecOf } from '../methods/catalog';
import { isSequenceFileRefusal, sniffModelFile } from './modelFileKind';
import { chartGroupsToDraw, type ChartGroup } from './chartTurns';

const CHART_POINTS = 200;
/**
 * Points per series of a method's line charts: they draw up to six series each (PEP's
 * thresholds), and recharts' work at every redraw grows with the points. 120 still give a point
 * every 3 px of a plot about 380 px wide.
 */
const METHOD_CHART_POINTS = 120;
const MEMORY_POLL_MS = 1000;
const PUBLISH_INTERVAL_MS = 500;
const PREVIEW_DEBOUNCE_MS = 400;
const FIRST_CHART_DRAW_MS = 2500;
/**
 * The run's fields each chart group draws from, besides the loss group's (which publishNow
 * computes from the step series when that group's turn comes).
 */
const CHART_GROUP_FIELDS: readonly [ChartGroup, readonly (keyof RunView)[]][] = [
  ['evaluations', ['evaluations']],
  ['method', ['methodVectors', 'methodPoints', 'methodHistograms']],
];
/** A run in progress is written to storage at most this often (and once more when it ends). */
const FLUSH_INTERVAL_MS = 2000;
/** Loss points of a run's stored curve. */
const STORED_LOSS_POINTS = 2000;

/**
 * Runs the latest scheduled action PREVIEW_DEBOUNCE_MS after the last call, unless a run is
 * active by then (previews must not compete with training; they are asked for again after).
 */
class IdleDebounce {
  private timer: ReturnType<typeof setTimeout> | null = null;

  schedule(action: () => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!isRunActive(useLabStore.getState().run.state)) action();
    }, PREVIEW_DEBOUNCE_MS);
  }
}

class RunController {
  readonly bridge: EngineBridge;
  private series = new StepSeries();
  private rate = new StepRate();
  /** The method's step series of the current run, by id. */
  private methodSeries = new Map<string, ValueSeries>();
  private methodSeriesChanged = false;
  private pending: Partial<RunView> = {};
  private frameRequested = false;
  private lastPublish = 0;
  private latestMemory: MemoryInfo | null = null;
  private readonly previewDebounce = new IdleDebounce();
  private readonly describeDebounce = new IdleDebounce();
  /** The last step whose loss the chart shows (-1: none yet). */
  private publishedLossStep = -1;
  /** The group of charts the last publish drew (see chartTurns.ts). */
  private lastChartGroup: ChartGroup | null = null;
  private runStartedAt = 0;
  private runId = 0;
  private abort: AbortController | null = null;
  private memoryTimer: ReturnType<typeof setInterval> | null = null;
  private flushTimer: ReturnType<typeof setInterval> | null = null;
  /** The run in progress as storage names it. */
  private live: { id: number; name: string; createdAt: number; config: RunConfig } | null = null;

  constructor() {
    this.bridge = new EngineBridge({
      forceBackend: forcedBackendFromUrl(location.search),
      wasmThreads: wasmThreadsFromUrl(location.search),
      onReady: (info) => {
        useLabStore.setState({ engineStatus: 'ready', engineInfo: info });
        // A new engine holds no models of earlier runs.
        void this.refreshKeptRuns();
      },
      onFatal: (message) => this.onEngineFatal(message),
    });
  }

  startEngine(): void {
    useLabStore.setState({ engineStatus: 'starting' });
    this.bridge.start().catch((err: unknown) => {
      useLabStore.setState({ engineStatus: 'failed' });
      useLabStore.getState().showBanner('error', `The engine could not start: ${messageOf(err)}`);
    });
    if (!this.memoryTimer) {
      this.memoryTimer = setInterval(() => void this.pollMemory(), MEMORY_POLL_MS);
    }
  }

  private async pollMemory(): Promise<void> {
    if (!this.bridge.isRunning || useLabStore.getState().engineStatus !== 'ready') return;
    // While a run streams progress, its events carry the memory figures.
    const { state } = useLabStore.getState().run;
    if (state === 'running' || state === 'preparing') return;
    try {
      const memory = await this.bridge.call((api) => api.memory());
      useLabStore.setState({ memory });
    } catch {
      // A dead engine is reported by onFatal; nothing to add here.
    }
  }

  /**
   * Moves the engine to another backend between runs (the loaded dataset stays in the worker),
   * and remembers the choice in the URL and for engine restarts.
   */
  async switchBackend(name: BackendName): Promise<void> {
    try {
      const info = await this.bridge.call((api) => api.switchBackend(name));
      this.bridge.setForcedBackend(name);
      setBackendParam(name);
      useLabStore.setState((s) => ({
        engineInfo: info,
        backendChoice: { ...s.backendChoice, mode: name, measuring: null },
      }));
      void this.pollMemory();
    } catch (err) {
      useLabStore
        .getState()
        .showBanner('error', `Could not switch to the ${name} backend: ${messageOf(err)}`);
    }
  }

  /**
   * Back to "auto": the next run uses the remembered measurement of its model, or measures every
   * backend first. The engine stays where it is until then.
   */
  setAutoBackend(): void {
    this.bridge.setForcedBackend(null);
    setBackendParam(null);
    useLabStore.setState((s) => ({ backendChoice: { ...s.backendChoice, mode: 'auto' } }));
  }

  /** Forgets the measurement shown, so that the next run of that model measures again. */
  measureBackendsAgain(): void {
    const current = useLabStore.getState().backendChoice.calibration;
    if (current) forgetChoice(localStorage, choiceKey(current.shapeKey, cores()));
    useLabStore.setState((s) => ({ backendChoice: { ...s.backendChoice, calibration: null } }));
  }

  /**
   * "auto": puts the engine on the backend measured fastest for this model (remembered per model
   * shape, or measured now). A failed measurement leaves the engine where it was, with a notice.
   */
  private async chooseBackendFor(config: RunConfig, signal: AbortSignal): Promise<void> {
    if (useLabStore.getState().backendChoice.mode !== 'auto') return;
    const shapeKey = await this.bridge.call((api) => api.backendShapeKey(config), signal);
    const key = choiceKey(shapeKey, cores());
    const remembered = rememberedChoice(localStorage, key);
    if (remembered) {
      const current = useLabStore.getState().engineInfo?.backend;
      const info =
        current === remembered.chosen
          ? useLabStore.getState().engineInfo
          : await this.bridge.call((api) => api.switchBackend(remembered.chosen), signal);
      useLabStore.setState((s) => ({
        engineInfo: info,
        backendChoice: {
          ...s.backendChoice,
          calibration: { ...remembered, remembered: true },
          measuring: null,
        },
      }));
      return;
    }
    const onProgress = Comlink.proxy((message: string) =>
      useLabStore.setState((s) => ({ backendChoice: { ...s.backendChoice, measuring: message } })),
    );
    try {
      const { calibration, engine } = await this.bridge.call(
        (api) => api.calibrateBackends(config, onProgress),
        signal,
      );
      rememberChoice(localStorage, key, calibration);
      useLabStore.setState((s) => ({
        engineInfo: engine,
        backendChoice: {
          ...s.backendChoice,
          calibration: { ...calibration, remembered: false },
          measuring: null,
        },
      }));
    } catch (err) {
      useLabStore.setState((s) => ({ backendChoice: { ...s.backendChoice, measuring: null } }));
      if (err instanceof EngineAbortError || err instanceof EngineCrashError) throw err;
      useLabStore
        .getState()
        .showBanner(
          'info',
          `Could not measure the backends (${messageOf(err)}); training on ${useLabStore.getState().engineInfo?.backend ?? 'the current backend'}`,
        );
    }
  }

  /** Trains `config`, starting from the weights of kept run `startFromRunId` when given. */
  async train(config: RunConfig, startFromRunId: number | null = null): Promise<void> {
    // The form's Train button may lag a frame behind the run state: never start two runs.
    if (this.abort) return;
    const abort = new AbortController();
    this.abort = abort;
    // Ids stay unique across reloads: above every stored run's id (from 1 when none is stored).
    const id = await runHistory.nextId(this.runId);
    this.runId = id;
    this.series = new StepSeries();
    this.rate = new StepRate();
    this.methodSeries = new Map();
    this.methodSeriesChanged = false;
    this.publishedLossStep = this.series.lastStep;
    this.lastChartGroup = null;
    this.pending = {};
    this.runStartedAt = performance.now();
    useLabStore.setState({ run: { ...emptyRun(id), state: 'preparing', config } });
    this.startFlushing(id, config);
    const onEvent = Comlink.proxy((event: EngineEvent) => this.onEvent(id, event));
    try {
      await this.chooseBackendFor(config, abort.signal);
      const result = await this.bridge.call(
        (api) => api.train(config, onEvent, startFromRunId),
        abort.signal,
      );
      if (id !== this.runId) return;
      this.publishNow(
        { result, state: 'done', msPerStep: result.msPerStep, etaSeconds: null },
        true,
      );
      this.endRun(id, result.stoppedEarly ? 'stopped' : 'finished', result, null);
      void this.refreshKeptRuns();
    } catch (err) {
      if (id !== this.runId) return;
      const cancelled = err instanceof EngineAbortError;
      this.publishNow(
        {
          state: cancelled ? 'idle' : 'failed',
          error: cancelled ? null : messageOf(err),
        },
        true,
      );
      this.endRun(id, cancelled ? 'stopped' : 'failed', null, cancelled ? null : messageOf(err));
      // A crash was already reported (with the restart) by onEngineFatal.
      if (!cancelled && !(err instanceof EngineCrashError)) {
        useLabStore.getState().showBanner('error', `Training failed: ${messageOf(err)}`);
      }
    } finally {
      if (this.abort === abort) this.abort = null;
    }
  }

  /** Writes the run in progress to storage every FLUSH_INTERVAL_MS (status 'running'). */
  private startFlushing(id: number, config: RunConfig): void {
    this.stopFlushing();
    const spec = methodSpecOf(config.method.id);
    this.live = {
      id,
      name: defaultRunName(id, MODEL_LABELS[config.train.model], spec?.label ?? config.method.id),
      createdAt: Date.now(),
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
    status: StoredRunRecord['status'],
    result: HistoryRun['result'],
    error: string | null,
  ): StoredRunRecord {
    const live = this.live!;
    const run = useLabStore.getState().run;
    return recordOf({
      id: live.id,
      name: live.name,
      status,
      createdAt: live.createdAt,
      // Live settings changed while it ran are in the run's config.
      config: run.id === live.id && run.config ? run.config : live.config,
      result,
      error,
      lossPoints: this.series.decimate(STORED_LOSS_POINTS),
      evaluations: result ? result.evaluations : this.current('evaluations'),
      stepsDone: this.series.lastStep,
      totalSteps: Math.max(this.current('totalSteps'), this.series.lastStep),
      seconds: (performance.now() - this.runStartedAt) / 1000,
    });
  }

  /**
   * A run ended: it joins the runs table, and its final record (with the model file of a run
   * with a result, exported from the engine right away) goes to storage.
   */
  private endRun(
    id: number,
    status: HistoryRun['status'],
    result: HistoryRun['result'],
    error: string | null,
  ): void {
    this.stopFlushing();
    if (this.live?.id !== id) return;
    const record = this.liveRecord(status, result, error);
    this.live = null;
    const entry: HistoryRun = {
      id,
      name: record.name,
      status,
      createdAt: record.createdAt,
      config: record.config,
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
    useLabStore.setState((s) => ({ history: [...s.history, entry] }));
    const modelFile = result
      ? this.bridge.call((api) => api.exportRunFile(result.runId)).catch(() => null)
      : undefined;
    void runHistory.saveFinal(record, modelFile);
  }

  /**
   * Describes the synthetic slice the form currently names (debounced), so its panel is drawn
   * before Train is pressed and the run itself starts with every chart already mounted.
   */
  previewData(config: SyntheticDataConfig): void {
    this.previewDebounce.schedule(() => {
      this.bridge
        .call((api) => api.previewSyntheticData(config))
        .then((summary) => {
          if (useLabStore.getState().dataPreview?.name !== summary.name) {
            useLabStore.setState({ dataPreview: summary });
          }
        })
        .catch(() => undefined); // invalid settings are already shown in the form
    });
  }

  /**
   * Describes the model Train would build (debounced): parameters per part and FLOPs per
   * example. The caller asks again when another file is loaded, so the preview follows it.
   */
  describeModel(config: RunConfig, modelLabel: string): void {
    this.describeDebounce.schedule(() => {
      this.bridge
        .call((api) => api.describeModel(config))
        .then(
          (summary) => ({ modelLabel, summary, error: null }),
          (err: unknown) => ({ modelLabel, summary: null, error: messageOf(err) }),
        )
        .then((modelPreview) => useLabStore.setState({ modelPreview }))
        .catch(() => undefined);
    });
  }

  pause(): void {
    void this.bridge.call((api) => api.pause()).catch(() => undefined);
  }

  /** Changes live settings of the run in progress; the worker refuses what is not live. */
  async tune(changes: Record<string, OptionValue>): Promise<void> {
    try {
      await this.bridge.call((api) => api.tune(changes));
      // The running config now holds the new values (the form no longer differs from it).
      useLabStore.setState((s) => {
        const config = s.run.config;
        if (!config) return {};
        const train = { ...config.train } as Record<string, unknown>;
        const options = { ...config.method.options };
        for (const [key, value] of Object.entries(changes)) {
          const [section, name] = key.split('.');
          if (section === 'train') train[name] = value;
          else options[name] = value;
        }
        return {
          run: {
            ...s.run,
            config: {
              ...config,
              train: train as RunConfig['train'],
              method: { ...config.method, options },
            },
          },
        };
      });
    } catch (err) {
      useLabStore.getState().showBanner('error', `Could not change the setting: ${messageOf(err)}`);
    }
  }

  /** The finished runs whose models the worker holds, and what they take. */
  async refreshKeptRuns(): Promise<void> {
    try {
      const keptRuns = await this.bridge.call((api) => api.keptRuns());
      useLabStore.setState({ keptRuns });
      void this.pollMemory();
    } catch {
      // A dead engine is reported by onFatal (and holds nothing any more).
    }
  }

  /**
   * Downloads the model file of a run in the table: the stored file when there is one (a
   * restored run, whose model the engine does not hold), else the engine's kept model.
   */
  async exportRun(runId: number, fileName: string, historyId: number | null = null): Promise<void> {
    try {
      const run =
        historyId === null ? null : useLabStore.getState().history.find((r) => r.id === historyId);
      let text: string | null = null;
      if (run?.modelFileStored) text = await runHistory.modelFile(run.id);
      if (text === null) {
        if (run?.restored) throw new Error('its model file is not stored');
        text = await this.bridge.call((api) => api.exportRun(runId));
      }
      downloadText(text, fileName);
    } catch (err) {
      useLabStore.getState().showBanner('error', `Export failed: ${messageOf(err)}`);
    }
  }

  /** Downloads snapshot `snapshot` (from 1) of a run whose model the engine still holds. */
  async exportSnapshot(runId: number, snapshot: number, fileName: string): Promise<void> {
    try {
      downloadText(await this.bridge.call((api) => api.exportRun(runId, { snapshot })), fileName);
    } catch (err) {
      useLabStore.getState().showBanner('error', `Export failed: ${messageOf(err)}`);
    }
  }

  /** Deletes a run from the table and storage, and frees the model the engine holds of it. */
  async deleteRun(historyId: number): Promise<void> {
    const run = useLabStore.getState().history.find((r) => r.id === historyId);
    await runHistory.remove(historyId);
    if (run?.result && !run.restored && this.isKept(run.result.runId)) {
      await this.discardRun(run.result.runId);
    }
  }

  /** Deletes every run of the table and everything stored; frees the engine's models of them. */
  async deleteAllRuns(): Promise<void> {
    const kept = useLabStore
      .getState()
      .history.filter((r) => r.result && !r.restored && this.isKept(r.result.runId))
      .map((r) => r.result!.runId);
    await runHistory.removeAll();
    for (const runId of kept) await this.discardRun(runId);
  }

  private isKept(runId: number): boolean {
    return useLabStore.getState().keptRuns.some((k) => k.runId === runId);
  }

  /**
   * Opens a model file in the worker with the reader its kind needs: a sequence model file
   * (NextItNet / CpRec) when its first bytes say so, or when the click-through reader refuses it
   * as one; else the click-through reader. A bad file keeps the one opened before.
   */
  async openModelFile(file: File): Promise<void> {
    const set = (patch: Partial<LabState['modelFile']>) =>
      useLabStore.setState((s) => ({ modelFile: { ...s.modelFile, ...patch } }));
    set({ busy: true, error: null });
    const openSequence = async () => {
      const seqCard = await this.bridge.call((api) => api.openSequenceModelFile(file));
      set({ kind: 'seq', seqCard, seqEvaluation: null, seqEvaluatedOn: '', busy: false });
    };
    try {
      if ((await sniffModelFile(file)) === 'seq') {
        await openSequence();
        return;
      }
      let card: ImportedModelCard;
      try {
        card = await this.bridge.call((api) => api.openModelFile(file));
      } catch (err) {
        if (!isSequenceFileRefusal(messageOf(err))) throw err;
        await openSequence();
        return;
      }
      set({ kind: 'ctr', card, evaluation: null, busy: false });
    } catch (err) {
      set({ busy: false, error: messageOf(err) });
    }
  }

  /** Scores the test split of the form's data (synthetic or loaded) with the opened model file. */
  async evaluateModelFile(config: Pick<RunConfig, 'source' | 'data'>): Promise<void> {
    const set = (patch: Partial<LabState['modelFile']>) =>
      useLabStore.setState((s) => ({ modelFile: { ...s.modelFile, ...patch } }));
    set({ busy: true, error: null });
    try {
      const evaluation = await this.bridge.call((api) => api.evaluateModelFile(config));
      set({ evaluation, busy: false });
    } catch (err) {
      set({ busy: false, error: messageOf(err) });
    }
  }

  /**
   * Ranks the last item of every test sequence of the sequence form's data (synthetic or the
   * loaded file) with the opened sequence model file; `dataLabel` names that data in the panel.
   * A failure (data with none of the model's items) is shown and the card stays.
   */
  async evaluateSequenceModelFile(
    config: Pick<SeqRunConfig, 'source' | 'data'>,
    dataLabel: string,
  ): Promise<void> {
    const set = (patch: Partial<LabState['modelFile']>) =>
      useLabStore.setState((s) => ({ modelFile: { ...s.modelFile, ...patch } }));
    set({ busy: true, error: null });
    try {
      const seqEvaluation = await this.bridge.call((api) => api.evaluateSequenceModelFile(config));
      set({ seqEvaluation, seqEvaluatedOn: dataLabel, busy: false });
    } catch (err) {
      set({ busy: false, error: messageOf(err) });
    }
  }

  /** Frees the model a finished run left in the worker. */
  async discardRun(runId: number): Promise<void> {
    await this.bridge.call((api) => api.discardRun(runId)).catch(() => undefined);
    await this.refreshKeptRuns();
  }

  resume(): void {
    void this.bridge.call((api) => api.resume()).catch(() => undefined);
  }

  /**
   * Retrains snapshot `snapshot` (from 1) of the paused run now, on a model of its own; its
   * progress and result arrive as the run's events. Stop stops it (the run stays paused).
   */
  async retrainSnapshotNow(snapshot: number): Promise<void> {
    try {
      await this.bridge.call((api) => api.retrainSnapshotNow(snapshot));
    } catch (err) {
      if (err instanceof EngineAbortError || err instanceof EngineCrashError) return;
      useLabStore.getState().showBanner('error', `Retrain now failed: ${messageOf(err)}`);
    }
  }

  stop(): void {
    void this.bridge.call((api) => api.stop()).catch(() => undefined);
  }

  /** Cancels the run at once by terminating the engine (used when Stop does not answer). */
  cancel(): void {
    this.abort?.abort();
  }

  private onEvent(id: number, event: EngineEvent): void {
    if (id !== this.runId) return;
    switch (event.type) {
      case 'progress': {
        const b = event.batch;
        this.series.append(b.steps, b.losses);
        for (const [seriesId, values] of Object.entries(b.series)) {
          let buffer = this.methodSeries.get(seriesId);
          if (!buffer) {
            buffer = new ValueSeries();
            this.methodSeries.set(seriesId, buffer);
          }
          buffer.append(b.steps, values);
          this.methodSeriesChanged = true;
        }
        let ms = 0;
        for (let i = 0; i < b.stepMs.length; i++) ms += b.stepMs[i];
        this.latestMemory = b.memory;
        this.rate.add(performance.now(), this.series.lastStep);
        this.schedule({
          stepsDone: this.series.lastStep,
          totalSteps: b.totalSteps,
          etaSeconds: etaSeconds(this.series.lastStep, b.totalSteps, this.rate.perSecond()),
          epoch: b.epoch,
          msPerStep: b.stepMs.length > 0 ? ms / b.stepMs.length : 0,
        });
        break;
      }
      case 'evaluation':
        this.schedule({ evaluations: [...this.currentEvaluations(), event.metrics] });
        break;
      case 'dataset':
        this.schedule({ dataset: event.summary });
        if (
          event.summary.source === 'synthetic' &&
          useLabStore.getState().dataPreview?.name !== event.summary.name
        ) {
          useLabStore.setState({ dataPreview: event.summary });
        }
        break;
      case 'state':
        this.schedule({ state: event.state });
        break;
      case 'test':
        this.schedule({ test: event.metrics });
        break;
      case 'phase':
        this.schedule({ phases: [...this.current('phases'), event.phase] });
        break;
      case 'marker':
        this.schedule({
          markers: [...this.current('markers'), { step: event.step, label: event.label }],
        });
        break;
      case 'snapshot':
        this.schedule({ snapshots: [...this.current('snapshots'), event.snapshot] });
        break;
      case 'aside':
        this.schedule({ aside: event.aside });
        break;
      case 'method-vector':
        this.schedule({
          methodVectors: {
            ...this.current('methodVectors'),
            [event.series]: {
              step: event.step,
              values: Array.from(event.values),
              labels: event.labels,
            },
          },
        });
        break;
      case 'method-points':
        this.schedule({
          methodPoints: { ...this.current('methodPoints'), [event.series]: event.points },
        });
        break;
      case 'method-histogram':
        this.schedule({
          methodHistograms: {
            ...this.current('methodHistograms'),
            [event.series]: {
              step: event.step,
              edges: Array.from(event.edges),
              counts: Array.from(event.counts),
            },
          },
        });
        break;
    }
  }

  /** A field of the run as the next publish will show it (pending first). */
  private current<K extends keyof RunView>(key: K): RunView[K] {
    return (this.pending[key] ?? useLabStore.getState().run[key]) as RunView[K];
  }

  private currentEvaluations() {
    return this.current('evaluations');
  }

  /**
   * Coalesces updates: one store update at most every PUBLISH_INTERVAL_MS, so that re-rendering
   * the charts never crowds the main thread.
   */
  private schedule(update: Partial<RunView>): void {
    Object.assign(this.pending, update);
    if (this.frameRequested) return;
    this.frameRequested = true;
    const now = performance.now();
    let wait = Math.max(0, this.lastPublish + PUBLISH_INTERVAL_MS - now);
    // The publish that may draw a run's first charts comes as its first seconds end (see
    // FIRST_CHART_DRAW_MS), not up to an interval later.
    const chartsFrom = this.runStartedAt + FIRST_CHART_DRAW_MS + 1;
    if (chartsFrom > now) wait = Math.min(wait, chartsFrom - now);
    // A plain task, not a requestAnimationFrame callback: work done in rAF shares its task with
    // the frame's style, layout and paint, which made the longest main-thread tasks longer.
    setTimeout(() => {
      this.frameRequested = false;
      this.publishNow({});
    }, wait);
  }

  /**
   * Publishes what is pending. Each publish redraws one group of charts at most (the loss, the
   * evaluations, the method's vectors and points: see chartTurns.ts); a group with new data that
   * is not drawn now keeps it pending, and another publish follows one interval later. During a
   * run's first seconds no chart is drawn (see FIRST_CHART_DRAW_MS below). The step counter, the
   * run state and everything else go out in every publish.
   */
  private publishNow(update: Partial<RunView>, final = false): void {
    this.lastPublish = performance.now();
    const patch = { ...this.pending, ...update };
    this.pending = {};
    const memory = this.latestMemory;
    this.latestMemory = null;
    const lossChanged = this.series.lastStep !== this.publishedLossStep;
    const changed: ChartGroup[] = [];
    if (lossChanged || this.methodSeriesChanged) changed.push('loss');
    for (const [group, fields] of CHART_GROUP_FIELDS) {
      if (fields.some((field) => patch[field] !== undefined)) changed.push(group);
    }
    const draw = chartGroupsToDraw(changed, this.lastChartGroup, {
      final,
      // The first seconds of a run are the busiest (WebGPU compiles its shaders on the CPU here,
      // a fast backend evaluates within a second): the charts' first drawings wait until they
      // are over.
      warmingUp: performance.now() - this.runStartedAt < FIRST_CHART_DRAW_MS,
    });
    if (draw.length > 0) this.lastChartGroup = draw[draw.length - 1];
    // What waits goes back to pending (where later events find it, see `current`).
    const held = patch as Record<string, unknown>;
    const waiting = this.pending as Record<string, unknown>;
    for (const [group, fields] of CHART_GROUP_FIELDS) {
      if (draw.includes(group)) continue;
      for (const field of fields) {
        if (held[field] === undefined) continue;
        waiting[field] = held[field];
        delete held[field];
      }
    }
    const loss: Partial<RunView> = {};
    if (draw.includes('loss')) {
      if (lossChanged) {
        loss.lossPoints = this.series.decimate(CHART_POINTS);
        loss.firstLoss = this.series.meanLoss('first', 20);
        loss.lastLoss = this.series.meanLoss('last', 20);
        this.publishedLossStep = this.series.lastStep;
      }
      if (this.methodSeriesChanged) {
        const methodLines: Record<string, ValuePoint[]> = {};
        for (const [seriesId, buffer] of this.methodSeries) {
          methodLines[seriesId] = buffer.decimate(METHOD_CHART_POINTS);
        }
        loss.methodLines = methodLines;
        this.methodSeriesChanged = false;
      }
    }
    useLabStore.setState((s) => ({
      memory: memory ?? s.memory,
      run: { ...s.run, ...patch, ...loss },
    }));
    if (draw.length < changed.length) this.schedule({});
  }

  private onEngineFatal(message: string): void {
    useLabStore.setState({ engineStatus: 'restarting', engineInfo: null, memory: null });
    const { run } = useLabStore.getState();
    if (isRunActive(run.state)) {
      this.publishNow({ state: 'failed', error: message, etaSeconds: null }, true);
    }
    useLabStore
      .getState()
      .showBanner(
        'error',
        `${message}. The engine was restarted; your settings and finished runs are kept — press Train to run again.`,
      );
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

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const runController = new RunController();
// The stored runs fill the runs table as the page loads.
void runHistory.load();

/** Writes (or removes, for auto) the URL's backend parameter. */
function setBackendParam(name: BackendName | null): void {
  const params = new URLSearchParams(location.search);
  if (name) params.set('backend', name);
  else params.delete('backend');
  const search = params.toString();
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}`);
}

function cores(): number {
  return navigator.hardwareConcurrency || 1;
}
