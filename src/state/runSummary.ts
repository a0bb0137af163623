/** Figures of a finished run that the runs table, the Pareto chart and the run card share. */
import type { RunConfig, RunResult } from '../../workers/protocol';
import { methodSpecOf } from '../methods/catalog';

/**
 * The validation AUC of the model the run kept: its last phase's best evaluation, or the best of
 * the run's own evaluations when the phase reports none (-Infinity when the run never
 * evaluated). A snapshot retrained while the run was paused is not the run's model.
 */
export function bestValidationAuc(result: RunResult): number {
  return (
    result.phases.at(-1)?.bestEvaluation?.validationAuc ??
    Math.max(
      ...result.evaluations.filter((e) => e.pausedAt === undefined).map((e) => e.validationAuc),
    )
  );
}

/** The run's test AUC, NaN when it has no test split score (e.g. stopped before it). */
export function testAucOf(result: RunResult): number {
  return result.test?.auc ?? Number.NaN;
}

/** The method's options as "label = value", labelled as the form labels them. */
export function methodOptionsSummary(config: RunConfig): string {
  const spec = methodSpecOf(config.method.id);
  return Object.entries(config.method.options)
    .map(([key, value]) => {
      const label = spec?.options[key]?.label ?? key;
      return `${label} = ${Array.isArray(value) ? value.join(', ') : String(value)}`;
    })
    .join(' · ');
}

/** How long the run was asked to train: epochs, or a step budget. */
export function trainingBudget(config: RunConfig): string {
  const t = config.train;
  return t.maxSteps > 0 ? `${t.maxSteps} steps (≤ ${t.epochs} epochs)` : `${t.epochs} epochs`;
}
