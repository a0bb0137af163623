import { describe, expect, it } from 'vitest';
import {
  queueProgressText,
  RunQueue,
  type QueueItem,
  type QueueOutcome,
  type QueueRunner,
} from '../../../src/state/runQueue';

/**
 * A fake run controller: each run waits until the test ends it, so the test can look at the
 * queue while a run is in progress (as the lab's runner waits for runController.train).
 */
class FakeController implements QueueRunner<QueueItem> {
  readonly started: string[] = [];
  private pending: ((ended: { outcome: QueueOutcome; message?: string }) => void) | null = null;
  private waiting: (() => void)[] = [];

  run(item: QueueItem): Promise<{ outcome: QueueOutcome; message?: string }> {
    this.started.push(item.label);
    const started = new Promise<{ outcome: QueueOutcome; message?: string }>((resolve) => {
      this.pending = resolve;
    });
    for (const w of this.waiting.splice(0)) w();
    return started;
  }

  /** Resolves once a run is in progress (now, or when the queue starts the next one). */
  async running(): Promise<void> {
    if (this.pending) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Ends the run in progress as `outcome`. */
  async end(outcome: QueueOutcome = 'finished', message?: string): Promise<void> {
    await this.running();
    const resolve = this.pending!;
    this.pending = null;
    resolve({ outcome, message });
    // Let the queue take the outcome and start the next run.
    await new Promise((r) => setTimeout(r, 0));
  }
}

const items = (...labels: string[]): QueueItem[] => labels.map((label) => ({ label }));

describe('the run queue', () => {
  it('runs its items one after another and says which one is in progress', async () => {
    const fake = new FakeController();
    const queue = new RunQueue(fake);
    const changes: string[] = [];
    queue.subscribe(() => changes.push(queue.getView().status));
    expect(queueProgressText(queue.getView())).toBe('');

    const done = queue.start('Baselines', items('dense model', 'magnitude pruning', 'hashing'));
    await fake.running();
    expect(fake.started).toEqual(['dense model']);
    expect(queue.active).toBe(true);
    expect(queueProgressText(queue.getView())).toBe('run 1 of 3: dense model');

    await fake.end();
    expect(fake.started).toEqual(['dense model', 'magnitude pruning']);
    const view = queue.getView();
    expect(view.current).toBe(1);
    expect(view.outcomes).toEqual(['finished', null, null]);
    expect(queueProgressText(view)).toBe('run 2 of 3: magnitude pruning');

    // A run ended with Stop keeps its partial result: the queue goes on.
    await fake.end('stopped');
    await fake.end();
    const final = await done;
    expect(final?.status).toBe('done');
    expect(final?.outcomes).toEqual(['finished', 'stopped', 'finished']);
    expect(queueProgressText(final!)).toMatch(/^3 of 3 runs ended/);
    expect(queue.active).toBe(false);
    expect(changes[0]).toBe('running');
    expect(changes.at(-1)).toBe('done');
  });

  it('Cancel lets the run in progress end and starts no other', async () => {
    const fake = new FakeController();
    const queue = new RunQueue(fake);
    const done = queue.start('Baselines', items('a', 'b', 'c', 'd'));
    await fake.end();
    await fake.running();
    queue.cancel();
    expect(queue.getView().cancelRequested).toBe(true);
    expect(queue.getView().status).toBe('running');
    expect(queueProgressText(queue.getView())).toBe(
      'run 2 of 4: b (the runs after it are cancelled)',
    );
    await fake.end();
    const final = await done;
    expect(fake.started).toEqual(['a', 'b']);
    expect(final?.status).toBe('cancelled');
    expect(final?.outcomes).toEqual(['finished', 'finished', null, null]);
    expect(queueProgressText(final!)).toBe('cancelled after run 2 of 4');
  });

  it('Cancel during the last run leaves nothing to cancel: the queue is done', async () => {
    const fake = new FakeController();
    const queue = new RunQueue(fake);
    const done = queue.start('q', items('a'));
    await fake.running();
    queue.cancel();
    await fake.end();
    expect((await done)?.status).toBe('done');
  });

  it('stops at a run that fails, is refused or throws, and names it', async () => {
    for (const [outcome, text] of [
      ['failed', 'stopped at run 2 of 3: b failed: the engine crashed'],
      ['refused', 'stopped at run 2 of 3: b could not start: the engine crashed'],
    ] as const) {
      const fake = new FakeController();
      const queue = new RunQueue(fake);
      const done = queue.start('q', items('a', 'b', 'c'));
      await fake.end();
      await fake.end(outcome, 'the engine crashed');
      const final = await done;
      expect(fake.started).toEqual(['a', 'b']);
      expect(final?.status).toBe('failed');
      expect(final?.outcomes).toEqual(['finished', outcome, null]);
      expect(queueProgressText(final!)).toBe(text);
    }
    const throwing = new RunQueue<QueueItem>({
      run: () => Promise.reject(new Error('no worker')),
    });
    const final = await throwing.start('q', items('a', 'b'));
    expect(final?.status).toBe('failed');
    expect(final?.message).toBe('a failed: no worker');
  });

  it('refuses a second queue while one runs, and an empty one', async () => {
    const fake = new FakeController();
    const queue = new RunQueue(fake);
    expect(await queue.start('empty', [])).toBeNull();
    expect(queue.getView().status).toBe('idle');
    const done = queue.start('first', items('a'));
    await fake.running();
    expect(await queue.start('second', items('x', 'y'))).toBeNull();
    expect(queue.getView().name).toBe('first');
    // Dismiss is for an ended queue only.
    queue.dismiss();
    expect(queue.getView().status).toBe('running');
    await fake.end();
    await done;
    queue.dismiss();
    expect(queue.getView().status).toBe('idle');
    expect(fake.started).toEqual(['a']);
  });

  it('gives a new view object on every change and none otherwise (useSyncExternalStore)', async () => {
    const fake = new FakeController();
    const queue = new RunQueue(fake);
    const before = queue.getView();
    expect(queue.getView()).toBe(before);
    let calls = 0;
    const unsubscribe = queue.subscribe(() => calls++);
    const done = queue.start('q', items('a'));
    await fake.running();
    expect(queue.getView()).not.toBe(before);
    const during = queue.getView();
    expect(queue.getView()).toBe(during);
    unsubscribe();
    const counted = calls;
    await fake.end();
    await done;
    expect(calls).toBe(counted);
  });
});
