import { describe, expect, it } from 'vitest';
import { methodChartInputs } from '../../../src/charts/methodChartInputs';
import { emptyRun } from '../../../src/state/labStore';
import type { RunView } from '../../../src/state/labStore';
import { UMEC_SPEC } from '../../../workers/methods/umec/spec';
import { evaluation } from './runFixtures';

/** The inputs of one UMEC chart, by id, for the run. */
function inputsOf(chartId: string, run: RunView) {
  const chart = UMEC_SPEC.charts.find((c) => c.id === chartId)!;
  const series = UMEC_SPEC.series.filter((s) => s.chart === chartId);
  return methodChartInputs(chart, series, run);
}

describe('methodChartInputs (what makes a method chart redraw)', () => {
  const run: RunView = {
    ...emptyRun(1),
    methodLines: { flops: [{ step: 1, value: 0.5 }] },
    evaluations: [evaluation(10)],
    methodVectors: { 'units-kept': { step: 1, values: [3], labels: ['fields'] } },
  };
  // A publish of new step series: a new methodLines object, the evaluations unchanged.
  const nextSteps: RunView = { ...run, methodLines: { flops: [{ step: 2, value: 0.4 }] } };
  // A publish of a new evaluation.
  const nextEvaluation: RunView = { ...run, evaluations: [evaluation(10), evaluation(20)] };

  it('gives a chart of evaluations only the same inputs when the step series move', () => {
    const before = inputsOf('accuracy', run);
    const after = inputsOf('accuracy', nextSteps);
    expect(after.lines).toBe(before.lines);
    expect(after.evaluations).toBe(before.evaluations);
    expect(inputsOf('accuracy', nextEvaluation).evaluations).not.toBe(before.evaluations);
  });

  it('gives a chart of step series the new lines, and the same inputs for a new evaluation', () => {
    expect(inputsOf('resource', nextSteps).lines).toBe(nextSteps.methodLines);
    const before = inputsOf('resource', run);
    const after = inputsOf('resource', nextEvaluation);
    expect(after.lines).toBe(before.lines);
    expect(after.evaluations).toBe(before.evaluations);
  });

  it('gives a bar chart its vectors and nothing of the lines', () => {
    const bars = inputsOf('units', run);
    expect(bars.allVectors).toBe(run.methodVectors);
    expect(inputsOf('units', nextSteps).lines).toBe(bars.lines);
    expect(bars.lines).toEqual({});
  });
});
