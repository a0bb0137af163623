import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PageDrawingFlag } from '../../../src/bridge/pageDrawing';
import { giveWayToPage, watchPageDrawing } from '../../../workers/engine/pageDrawing';

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
});
