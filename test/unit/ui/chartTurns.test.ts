import { describe, expect, it } from 'vitest';
import { chartGroupsToDraw, type ChartGroup } from '../../../src/state/chartTurns';

const live = { final: false, warmingUp: false };

describe('chartGroupsToDraw', () => {
  it('draws one group per publish while the run trains', () => {
    expect(chartGroupsToDraw(['loss', 'evaluations', 'method'], null, live)).toEqual(['loss']);
    expect(chartGroupsToDraw(['evaluations', 'method'], null, live)).toEqual(['evaluations']);
    expect(chartGroupsToDraw(['method'], 'method', live)).toEqual(['method']);
    expect(chartGroupsToDraw([], 'loss', live)).toEqual([]);
  });

  it('gives every group its turn when all of them always have new data', () => {
    // A small slice on a fast backend: each publish brings steps, an evaluation and the field
    // norms that follow it. No group may be starved.
    let last: ChartGroup | null = null;
    const drawn: ChartGroup[] = [];
    for (let publish = 0; publish < 6; publish++) {
      const now = chartGroupsToDraw(['method', 'loss', 'evaluations'], last, live);
      expect(now).toHaveLength(1);
      drawn.push(now[0]);
      last = now[0];
    }
    expect(drawn).toEqual(['loss', 'evaluations', 'method', 'loss', 'evaluations', 'method']);
  });

  it('takes the next group after the last one drawn, skipping groups with nothing new', () => {
    expect(chartGroupsToDraw(['loss', 'evaluations'], 'loss', live)).toEqual(['evaluations']);
    expect(chartGroupsToDraw(['loss', 'method'], 'loss', live)).toEqual(['method']);
    expect(chartGroupsToDraw(['loss', 'evaluations'], 'evaluations', live)).toEqual(['loss']);
  });

  it('draws nothing while warming up and everything in the final publish', () => {
    expect(chartGroupsToDraw(['loss', 'method'], null, { final: false, warmingUp: true })).toEqual(
      [],
    );
    expect(
      chartGroupsToDraw(['method', 'loss', 'evaluations'], 'loss', {
        final: true,
        warmingUp: true,
      }),
    ).toEqual(['loss', 'evaluations', 'method']);
  });
});
