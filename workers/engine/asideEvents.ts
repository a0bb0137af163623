/**
 * What a phase run aside while the run is paused (PEP's "Retrain now", see RunControl.runAside)
 * shows of itself on the run's charts: its evaluations (marked with the step the run was paused
 * at), its markers (at that step), its points (PEP's retrained chart), the snapshots it keeps,
 * and its progress as 'aside' events. Its per-step series, vectors and histograms are not sent:
 * on the step axis they would interleave with the run's own, which resumes from the same step.
 */
import type { AsideProgress, EngineEvent } from '../protocol';

export function asideEvents(
  emit: (event: EngineEvent) => void,
  progress: AsideProgress,
): (event: EngineEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'progress': {
        const steps = event.batch.steps;
        if (steps.length > 0) progress.stepsDone = steps[steps.length - 1] - progress.pausedAt;
        emit({ type: 'aside', aside: { ...progress } });
        break;
      }
      case 'evaluation':
      case 'marker':
      case 'method-points':
      case 'snapshot':
      case 'aside':
        emit(event);
        break;
      default:
        // The phase, state, test, vector and histogram events are the run's own.
        break;
    }
  };
}
