import { describe, expect, it } from 'vitest';
import {
  MAX_SETTLE_MS,
  MAX_TURN_MS,
  MIN_TURN_INTERVAL_MS,
  RedrawQueue,
  type Scheduler,
} from '../../../src/charts/redrawQueue';

const FRAME_MS = 16;

/**
 * A scheduler driven by hand: `tick()` runs the tasks due by then (one frame from now by
 * default), each on its own, in time order. A task after the next frames is due 16 ms on, one
 * after the next frame's callbacks 8 ms on.
 */
function manualClock() {
  let now = 0;
  let seq = 0;
  const tasks: { at: number; seq: number; run: () => void }[] = [];
  const later = (run: () => void, ms: number) => {
    const task = { at: now + ms, seq: seq++, run };
    tasks.push(task);
    return () => {
      const i = tasks.indexOf(task);
      if (i >= 0) tasks.splice(i, 1);
    };
  };
  const schedule: Scheduler = {
    later,
    afterFrame: (run) => later(run, FRAME_MS),
    afterNextFrame: (run) => later(run, FRAME_MS / 2),
    now: () => now,
  };
  return {
    schedule,
    get now() {
      return now;
    },
    /** Runs the tasks due by `until` (one frame from now by default); false when none was. */
    tick(until = now + FRAME_MS): boolean {
      let ran = false;
      for (;;) {
        tasks.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = tasks[0];
        if (!next || next.at > until) return ran;
        tasks.shift();
        now = Math.max(now, next.at);
        next.run();
        ran = true;
      }
    },
  };
}

describe('RedrawQueue', () => {
  it('starts one redraw per task, the next only after the previous one is done', () => {
    const clock = manualClock();
    const queue = new RedrawQueue(clock.schedule);
    const a = {};
    const b = {};
    const drawn: string[] = [];
    queue.request(a, () => drawn.push('a'));
    queue.request(b, () => drawn.push('b'));
    expect(drawn).toEqual([]); // never in the requesting task
    expect(clock.tick()).toBe(true);
    expect(drawn).toEqual(['a']);
    // b waits while a has not reported its commit.
    expect(clock.tick()).toBe(false);
    queue.done(a);
    expect(drawn).toEqual(['a']); // not in a's task either
    expect(clock.tick()).toBe(true);
    expect(drawn).toEqual(['a', 'b']);
  });

  it('keeps one place per chart, with its latest redraw', () => {
    const clock = manualClock();
    const queue = new RedrawQueue(clock.schedule);
    const a = {};
    const b = {};
    const drawn: string[] = [];
    queue.request(a, () => drawn.push('a1'));
    queue.request(b, () => drawn.push('b1'));
    queue.request(a, () => drawn.push('a2'));
    expect(queue.pending).toEqual([a, b]);
    clock.tick();
    queue.done(a);
    clock.tick();
    expect(drawn).toEqual(['a2', 'b1']);
  });

  it('ends a turn that never reports back after MAX_TURN_MS', () => {
    const clock = manualClock();
    const queue = new RedrawQueue(clock.schedule);
    const drawn: string[] = [];
    queue.request({}, () => drawn.push('silent'));
    queue.request({}, () => drawn.push('next'));
    clock.tick();
    expect(clock.tick(FRAME_MS + MAX_TURN_MS - 1)).toBe(false);
    expect(clock.tick(FRAME_MS + MAX_TURN_MS)).toBe(true); // the turn's end
    expect(drawn).toEqual(['silent']);
    expect(clock.tick()).toBe(true); // the next redraw, after a frame
    expect(drawn).toEqual(['silent', 'next']);
  });

  it('drops a cancelled chart, waiting or drawing', () => {
    const clock = manualClock();
    const queue = new RedrawQueue(clock.schedule);
    const a = {};
    const b = {};
    const c = {};
    const drawn: string[] = [];
    queue.request(a, () => drawn.push('a'));
    queue.request(b, () => drawn.push('b'));
    queue.request(c, () => drawn.push('c'));
    queue.cancel(b);
    clock.tick();
    queue.cancel(a); // unmounted while drawing: its turn ends
    clock.tick();
    expect(drawn).toEqual(['a', 'c']);
    expect(queue.pending).toEqual([]);
  });

  it('ignores a done from a chart whose turn it is not', () => {
    const clock = manualClock();
    const queue = new RedrawQueue(clock.schedule);
    const a = {};
    const drawn: string[] = [];
    queue.request(a, () => drawn.push('a'));
    queue.request({}, () => drawn.push('b'));
    clock.tick();
    queue.done({});
    expect(clock.tick()).toBe(false);
    expect(drawn).toEqual(['a']);
  });

  it('says the page draws from the start of a turn until the frame after its end', () => {
    const clock = manualClock();
    const states: boolean[] = [];
    const queue = new RedrawQueue(clock.schedule, (drawing) => states.push(drawing));
    const a = {};
    const b = {};
    queue.request(a, () => undefined);
    queue.request(b, () => undefined);
    expect(states).toEqual([]); // nothing draws before the turn starts
    clock.tick();
    expect(states).toEqual([true]);
    queue.done(a);
    expect(states).toEqual([true]); // recharts finishes in the next frame
    clock.tick(); // that frame, then b's turn
    expect(states).toEqual([true, false, true]);
    queue.done(b);
    clock.tick();
    expect(states).toEqual([true, false, true, false]);
    // A turn that never reports back ends the drawing too.
    queue.request(a, () => undefined);
    clock.tick();
    clock.tick(1_000);
    expect(states).toEqual([true, false, true, false, true, false]);
  });

  it('stops saying the page draws after MAX_SETTLE_MS when no frame comes', () => {
    let now = 0;
    const timers: { at: number; run: () => void }[] = [];
    const later = (run: () => void, ms: number) => {
      const timer = { at: now + ms, run };
      timers.push(timer);
      return () => void timers.splice(timers.indexOf(timer) >>> 0, 1);
    };
    // A hidden tab: frames never come, timers do.
    const frames: (() => void)[] = [];
    const states: boolean[] = [];
    const queue = new RedrawQueue(
      {
        later,
        afterFrame: (run) => later(run, 0),
        afterNextFrame: (run) => (frames.push(run), () => undefined),
        now: () => now,
      },
      (drawing) => states.push(drawing),
    );
    const a = {};
    queue.request(a, () => undefined);
    timers.shift()!.run(); // the turn starts
    queue.done(a);
    expect(states).toEqual([true]);
    now = MAX_SETTLE_MS;
    const settle = timers.find((t) => t.at === MAX_SETTLE_MS)!;
    settle.run();
    expect(states).toEqual([true, false]);
  });

  it('starts turns MIN_TURN_INTERVAL_MS apart while a run trains, back to back otherwise', () => {
    const clock = manualClock();
    let training = true;
    const starts: number[] = [];
    const queue = new RedrawQueue(
      clock.schedule,
      () => undefined,
      (draw) => (draw(), () => undefined),
      () => training,
    );
    const charts = [{}, {}, {}];
    for (const c of charts) {
      queue.request(c, () => {
        starts.push(clock.now);
        queue.done(c); // drawn at once
      });
    }
    clock.tick(10 * MIN_TURN_INTERVAL_MS);
    expect(starts).toHaveLength(3);
    // The interval, then the frames every turn waits for.
    expect(starts[1] - starts[0]).toBe(MIN_TURN_INTERVAL_MS + FRAME_MS);
    expect(starts[2] - starts[1]).toBe(MIN_TURN_INTERVAL_MS + FRAME_MS);
    // A chart whose data changes twice while it waits is drawn once, with the latest.
    const drawn: string[] = [];
    const [a, b] = charts;
    queue.request(a, () => (drawn.push('a1'), queue.done(a)));
    queue.request(b, () => (drawn.push('b1'), queue.done(b)));
    queue.request(b, () => (drawn.push('b2'), queue.done(b)));
    clock.tick(clock.now + 10 * MIN_TURN_INTERVAL_MS);
    expect(drawn).toEqual(['a1', 'b2']);
    // No run: the next turn starts after the frames only.
    training = false;
    const from = clock.now;
    starts.length = 0;
    for (const c of charts) {
      queue.request(c, () => {
        starts.push(clock.now);
        queue.done(c);
      });
    }
    clock.tick(from + 10 * MIN_TURN_INTERVAL_MS);
    expect(starts).toEqual([from + FRAME_MS, from + 2 * FRAME_MS, from + 3 * FRAME_MS]);
  });

  it('draws a turn when the training loop grants it, timing the turn from then', () => {
    const clock = manualClock();
    const states: boolean[] = [];
    let grant: (() => void) | null = null;
    const queue = new RedrawQueue(
      clock.schedule,
      (drawing) => states.push(drawing),
      (draw) => {
        grant = draw;
        return () => (grant = null);
      },
    );
    const drawn: string[] = [];
    queue.request({}, () => drawn.push('a'));
    queue.request({}, () => drawn.push('b'));
    clock.tick();
    expect(states).toEqual([true]); // asked for the cores
    expect(drawn).toEqual([]); // the loop is mid-step
    expect(clock.tick(FRAME_MS + 2 * MAX_TURN_MS)).toBe(false); // no turn ends before it draws
    const at = 3 * MAX_TURN_MS;
    clock.schedule.later(() => undefined, at - FRAME_MS); // the clock moves on
    clock.tick(at);
    (grant as unknown as () => void)();
    expect(drawn).toEqual(['a']);
    expect(clock.tick(at + MAX_TURN_MS - 1)).toBe(false);
    expect(clock.tick(at + MAX_TURN_MS)).toBe(true); // MAX_TURN_MS after the grant
  });

  it('drops a chart cancelled while its turn waits for the grant', () => {
    const clock = manualClock();
    let grant: (() => void) | null = null;
    let cancelled = 0;
    const queue = new RedrawQueue(
      clock.schedule,
      () => undefined,
      (draw) => {
        grant = draw;
        return () => cancelled++;
      },
    );
    const a = {};
    const drawn: string[] = [];
    queue.request(a, () => drawn.push('a'));
    queue.request({}, () => drawn.push('b'));
    clock.tick();
    const grantA = grant as unknown as () => void;
    queue.cancel(a);
    expect(cancelled).toBe(1);
    grantA(); // a late grant for the dropped turn draws nothing
    expect(drawn).toEqual([]);
    clock.tick();
    (grant as unknown as () => void)();
    expect(drawn).toEqual(['b']);
  });
});
