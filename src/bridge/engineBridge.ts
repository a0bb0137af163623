/**
 * The one owner of the engine worker (after Squoosh's WorkerBridge): starts it lazily, makes
 * every call cancellable with an AbortSignal, and on abort or a fatal error terminates the worker
 * so that the next call starts a fresh one.
 */
import * as Comlink from 'comlink';
import type { BackendName, EngineInfo, LabEngineApi } from '../../workers/protocol';
import { pageDrawing } from './pageDrawing';

export class EngineAbortError extends Error {
  constructor() {
    super('The call was cancelled and the engine was restarted');
    this.name = 'AbortError';
  }
}

export class EngineCrashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineCrashError';
  }
}

export interface EngineBridgeOptions {
  forceBackend: BackendName | null;
  /** Threads of the wasm backend (null: every core). */
  wasmThreads?: number | null;
  /** Called when a started engine reports its backend. */
  onReady(info: EngineInfo): void;
  /** Called when the worker crashed or was lost; the bridge has already terminated it. */
  onFatal(message: string): void;
  /** Creates the worker; injectable for tests. */
  createWorker?: () => Worker;
}

interface LiveEngine {
  worker: Worker;
  api: Comlink.Remote<LabEngineApi>;
  ready: Promise<EngineInfo>;
  /** Rejecters of the calls in flight on this worker. */
  inFlight: Set<(err: Error) => void>;
}

export class EngineBridge {
  private live: LiveEngine | null = null;
  private generation = 0;

  constructor(private readonly options: EngineBridgeOptions) {}

  /** The backend a restarted engine forces (null = walk the default order). */
  setForcedBackend(name: BackendName | null): void {
    this.options.forceBackend = name;
  }

  /** Starts the worker if needed and resolves with its engine info. */
  start(): Promise<EngineInfo> {
    return this.ensure().ready;
  }

  get isRunning(): boolean {
    return this.live !== null;
  }

  /**
   * Runs `fn` against the engine. If `signal` aborts first, the worker is terminated and the
   * promise rejects with EngineAbortError; if the worker dies, it rejects with EngineCrashError.
   */
  async call<T>(
    fn: (api: Comlink.Remote<LabEngineApi>) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) throw new EngineAbortError();
    const engine = this.ensure();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = () => {
        settled = true;
        engine.inFlight.delete(fail);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (err: Error) => {
        if (settled) return;
        settle();
        reject(err);
      };
      const onAbort = () => {
        fail(new EngineAbortError());
        this.terminate();
      };
      engine.inFlight.add(fail);
      signal?.addEventListener('abort', onAbort, { once: true });
      engine.ready
        .then(() => fn(engine.api))
        .then(
          (value) => {
            if (settled) return;
            settle();
            resolve(value);
          },
          (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))),
        );
    });
  }

  /** Terminates the worker (if any); calls in flight reject. The next call starts a fresh one. */
  terminate(reason = 'The engine was restarted'): void {
    const engine = this.live;
    if (!engine) return;
    this.live = null;
    engine.api[Comlink.releaseProxy]();
    engine.worker.terminate();
    for (const fail of [...engine.inFlight]) fail(new EngineCrashError(reason));
  }

  /** A fatal error from inside the engine (device loss, crash): terminate, report, restart. */
  fail(message: string): void {
    this.terminate(message);
    this.options.onFatal(message);
    // Start a fresh engine right away so the header shows a live backend again.
    this.start().catch(() => undefined);
  }

  private ensure(): LiveEngine {
    if (this.live) return this.live;
    const generation = ++this.generation;
    const worker = this.options.createWorker
      ? this.options.createWorker()
      : new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), {
          type: 'module',
          name: 'lab-engine',
        });
    const api = Comlink.wrap<LabEngineApi>(worker);
    const engine: LiveEngine = {
      worker,
      api,
      ready: Promise.resolve(null as never),
      inFlight: new Set(),
    };
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      if (generation !== this.generation) return;
      this.fail(`The engine crashed: ${event.message || 'unknown error in the worker'}`);
    });
    const onDeviceLost = Comlink.proxy((message: string) => {
      if (generation === this.generation) this.fail(message);
    });
    engine.ready = api
      .init(
        this.options.forceBackend,
        onDeviceLost,
        this.options.wasmThreads ?? null,
        pageDrawing.buffer,
      )
      .then((info) => {
        if (generation === this.generation) this.options.onReady(info);
        return info;
      });
    // A failed init is reported through the calls that await it; keep it from going unhandled.
    engine.ready.catch(() => undefined);
    this.live = engine;
    return engine;
  }
}
