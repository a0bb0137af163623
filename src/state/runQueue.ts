/**
 * A queue of runs trained one after another (e.g. the dense model and four compressions of it on
 * the same data, for the Compare panel's Pareto chart). The queue knows nothing of the engine: a
 * runner trains one item and says how it ended (the lab's runner goes through the run controller,
 * so every run lands in the runs table; the unit test drives it with a fake).
 *
 * Cancel stops the runs after the one in progress (that one is ended with the form's Stop); a run
 * that fails, or that the runner refuses (an invalid config, another run holding the engine),
 * stops the queue, since the runs after it would most likely fail the same way.
 */

/** How one run of the queue ended. */
export type QueueOutcome = 'finished' | 'stopped' | 'failed' | 'refused';

export interface QueueItem {
  /** What the run is, as the progress line names it (e.g. "magnitude pruning"). */
  label: string;
}

export interface QueueRunner<T extends QueueItem> {
  /** Trains `item`; resolves when the run has ended (never rejects: a failure is an outcome). */
  run(item: T): Promise<{ outcome: QueueOutcome; message?: string }>;
}

/**
 * - 'idle': no queue;
 * - 'running': a run of the queue is in progress;
 * - 'done': every run ended (finished, or stopped with Stop and its partial result kept);
 * - 'cancelled': Cancel ended it before its last run;
 * - 'failed': a run failed or was refused, and the rest were not run.
 */
export type QueueStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

export interface QueueView {
  /** The queue's name (the preset that started it). */
  name: string;
  status: QueueStatus;
  labels: string[];
  /** Index of the run in progress, or of the last one that ran (-1 before the first). */
  current: number;
  /** How each run ended (null: not run, or still running). */
  outcomes: (QueueOutcome | null)[];
  /** Cancel was pressed: no run starts after the one in progress. */
  cancelRequested: boolean;
  /** Why the queue stopped early (a failed or refused run), if it did. */
  message: string | null;
}

export const IDLE_QUEUE: QueueView = {
  name: '',
  status: 'idle',
  labels: [],
  current: -1,
  outcomes: [],
  cancelRequested: false,
  message: null,
};

export class RunQueue<T extends QueueItem> {
  private view: QueueView = IDLE_QUEUE;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly runner: QueueRunner<T>) {}

  /** The queue as it stands (a new object after every change: React's useSyncExternalStore). */
  readonly getView = (): QueueView => this.view;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  get active(): boolean {
    return this.view.status === 'running';
  }

  /**
   * Trains `items` one after another; resolves with the final view when the queue has ended.
   * Refused (returns null, nothing runs) while another queue is running or when `items` is empty.
   */
  async start(name: string, items: readonly T[]): Promise<QueueView | null> {
    if (this.active || items.length === 0) return null;
    this.set({
      name,
      status: 'running',
      labels: items.map((i) => i.label),
      current: -1,
      outcomes: items.map(() => null),
      cancelRequested: false,
      message: null,
    });
    for (let i = 0; i < items.length; i++) {
      if (this.view.cancelRequested) {
        this.set({ status: 'cancelled' });
        return this.view;
      }
      this.set({ current: i });
      let ended: { outcome: QueueOutcome; message?: string };
      try {
        ended = await this.runner.run(items[i]);
      } catch (err) {
        ended = { outcome: 'failed', message: err instanceof Error ? err.message : String(err) };
      }
      const outcomes = [...this.view.outcomes];
      outcomes[i] = ended.outcome;
      this.set({ outcomes });
      if (ended.outcome === 'failed' || ended.outcome === 'refused') {
        const what = ended.outcome === 'failed' ? 'failed' : 'could not start';
        this.set({
          status: 'failed',
          message: `${items[i].label} ${what}${ended.message ? `: ${ended.message}` : ''}`,
        });
        return this.view;
      }
    }
    // Cancel pressed during the last run: nothing was left to cancel.
    this.set({ status: 'done' });
    return this.view;
  }

  /** No run starts after the one in progress (which goes on until it ends or Stop is pressed). */
  cancel(): void {
    if (this.active && !this.view.cancelRequested) this.set({ cancelRequested: true });
  }

  /** Forgets an ended queue (its progress line goes away). */
  dismiss(): void {
    if (!this.active && this.view.status !== 'idle') {
      this.view = IDLE_QUEUE;
      this.emit();
    }
  }

  private set(patch: Partial<QueueView>): void {
    this.view = { ...this.view, ...patch };
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

/** One line on the queue: "run 2 of 5: magnitude pruning", or how it ended. */
export function queueProgressText(view: QueueView): string {
  const total = view.labels.length;
  const ran = view.outcomes.filter((o) => o !== null).length;
  switch (view.status) {
    case 'idle':
      return '';
    case 'running': {
      const line = `run ${view.current + 1} of ${total}: ${view.labels[view.current] ?? ''}`;
      return view.cancelRequested ? `${line} (the runs after it are cancelled)` : line;
    }
    case 'done':
      return `${total} of ${total} runs ended: compare them in the runs table`;
    case 'cancelled':
      return `cancelled after run ${ran} of ${total}`;
    case 'failed':
      return `stopped at run ${view.current + 1} of ${total}: ${view.message ?? 'it failed'}`;
  }
}
