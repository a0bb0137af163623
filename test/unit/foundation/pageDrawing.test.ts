import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PageDrawingFlag } from '../../../src/bridge/pageDrawing';
import {
  HEARTBEAT_MODULUS,
  PAGE_ASKS,
  PAGE_DRAWS,
  PAGE_IDLE,
  giveWayToPage,
  loopStopped,
  watchPageDrawing,
} from '../../../workers/engine/pageDrawing';
import { RunControl } from '../../../workers/engine/runControl';

describe('the page drawing flag', () => {
  afterEach(() => watchPageDrawing(null));

  it('does not wait without a flag, or while the page is not drawing', () => {
    expect(giveWayToPage(1_000)).toBe(0);
    const page = new PageDrawingFlag(true);
    watchPageDrawing(page.buffer);
    expect(page.drawing).toBe(false);
    expect(giveWayToPage(1_000)).toBe(0);
  });

  it('does not wait where waiting would not free a core (training on a GPU)', () => {
    const page = new PageDrawingFlag(true);
    let onCpu = false;
    watchPageDrawing(page.buffer, () => onCpu);
    page.set(true);
    expect(giveWayToPage(1_000)).toBe(0);
    onCpu = true;
    expect(giveWayToPage(20)).toBeGreaterThanOrEqual(19);
  });

  it('lowers the flag when the page is hidden, and keeps it down meanwhile', () => {
    const page = Object.assign(new EventTarget(), { hidden: false });
    vi.stubGlobal('document', page);
    try {
      const flag = new PageDrawingFlag(true);
      flag.set(true);
      expect(flag.drawing).toBe(true);
      page.hidden = true;
      page.dispatchEvent(new Event('visibilitychange'));
      expect(flag.drawing).toBe(false); // no frame would come to lower it
      flag.set(true);
      expect(flag.drawing).toBe(false);
      page.hidden = false;
      flag.set(true);
      expect(flag.drawing).toBe(true);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('has no flag on a page without shared memory', () => {
    const page = new PageDrawingFlag(false);
    expect(page.buffer).toBeNull();
    page.set(true); // nothing to raise, nothing thrown
    expect(page.drawing).toBe(false);
  });

  it('waits while the page draws, at most the bound', () => {
    const page = new PageDrawingFlag(true);
    watchPageDrawing(page.buffer);
    page.set(true);
    const waited = giveWayToPage(30);
    expect(waited).toBeGreaterThanOrEqual(29);
    expect(waited).toBeLessThan(1_000);
  });

  it('goes on as soon as the page has drawn (another thread lowers the flag)', async () => {
    const page = new PageDrawingFlag(true);
    watchPageDrawing(page.buffer);
    page.set(true);
    // The page's side, on another thread: lowers the flag after 50 ms and wakes the waiter.
    const other = new Worker(
      `const { workerData } = require('node:worker_threads');
       const view = new Int32Array(workerData);
       setTimeout(() => { Atomics.store(view, 0, 0); Atomics.notify(view, 0); }, 50);`,
      { eval: true, workerData: page.buffer },
    );
    try {
      const waited = giveWayToPage(20_000);
      expect(waited).toBeGreaterThan(10);
      expect(waited).toBeLessThan(10_000); // woken, not timed out
      expect(page.drawing).toBe(false);
    } finally {
      await other.terminate();
    }
  });

  it('grants an asked turn at the step boundary, and beats only where waiting helps', () => {
    const page = new PageDrawingFlag(true);
    const view = new Int32Array(page.buffer as SharedArrayBuffer);
    let onCpu = false;
    watchPageDrawing(page.buffer, () => onCpu);
    expect(page.trainingGivesWay).toBe(false); // no step boundary yet
    giveWayToPage(10);
    expect(page.trainingGivesWay).toBe(false); // a GPU's loop does not beat
    onCpu = true;
    expect(giveWayToPage(10)).toBe(0); // nothing asked: no wait
    expect(page.trainingGivesWay).toBe(true);
    page.set(true);
    expect(Atomics.load(view, 0)).toBe(PAGE_ASKS);
    expect(giveWayToPage(10)).toBeGreaterThanOrEqual(9);
    expect(Atomics.load(view, 0)).toBe(PAGE_DRAWS);
    page.set(false);
    expect(Atomics.load(view, 0)).toBe(PAGE_IDLE);
    // A beat from long ago (a paused or finished run) is not a loop to wait for.
    Atomics.store(view, 1, (Date.now() - 5_000) % HEARTBEAT_MODULUS);
    expect(page.trainingGivesWay).toBe(false);
  });

  it('draws at once when no loop gives way', () => {
    const page = new PageDrawingFlag(true);
    page.set(true);
    let drawn = 0;
    page.whenGranted(() => drawn++);
    expect(drawn).toBe(1);
    const isolated = new PageDrawingFlag(false);
    isolated.whenGranted(() => drawn++);
    expect(drawn).toBe(2);
  });

  it('draws once the loop stops at its step boundary (another thread), or after the bound', async () => {
    const page = new PageDrawingFlag(true);
    const view = new Int32Array(page.buffer as SharedArrayBuffer);
    watchPageDrawing(page.buffer);
    giveWayToPage(); // a step boundary: the loop beats
    page.set(true);
    // The loop's side, on another thread: mid-step for 60 ms, then at its boundary it grants
    // the turn and waits for the page.
    const loop = new Worker(
      `const { workerData } = require('node:worker_threads');
       const view = new Int32Array(workerData);
       setTimeout(() => {
         Atomics.compareExchange(view, 0, ${PAGE_ASKS}, ${PAGE_DRAWS});
         Atomics.notify(view, 0);
       }, 60);`,
      { eval: true, workerData: page.buffer },
    );
    try {
      const start = performance.now();
      const grantedAfter = await new Promise<number>((resolve) => {
        page.whenGranted(() => resolve(performance.now() - start), 20_000);
      });
      expect(grantedAfter).toBeGreaterThan(30);
      expect(grantedAfter).toBeLessThan(10_000); // woken by the grant, not timed out
      expect(Atomics.load(view, 0)).toBe(PAGE_DRAWS);
    } finally {
      await loop.terminate();
    }
    // Nobody grants: the page draws after its bound.
    page.set(true);
    const start = performance.now();
    const after = await new Promise<number>((resolve) => {
      page.whenGranted(() => resolve(performance.now() - start), 40);
    });
    expect(after).toBeGreaterThanOrEqual(35);
    // A cancelled wait never draws.
    page.set(true);
    let drawn = false;
    const cancel = page.whenGranted(() => (drawn = true), 20);
    cancel();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(drawn).toBe(false);
  });

  it('stops beating when the loop stops: a finished or paused run never delays a chart', async () => {
    const page = new PageDrawingFlag(true);
    watchPageDrawing(page.buffer);
    giveWayToPage();
    expect(page.trainingGivesWay).toBe(true);
    loopStopped(); // the run ended
    expect(page.trainingGivesWay).toBe(false);
    let drawn = 0;
    page.set(true);
    page.whenGranted(() => drawn++);
    expect(drawn).toBe(1); // at once
    giveWayToPage(0); // the next run's first step boundary
    expect(page.trainingGivesWay).toBe(true);
    const control = new RunControl();
    control.pause();
    const parked = control.waitWhilePaused();
    expect(page.trainingGivesWay).toBe(false); // paused
    control.resume();
    await parked;
  });
});
