/**
 * Learning-rate schedules as torch.optim.lr_scheduler's closed forms (`_get_closed_form_lr`),
 * so that the rate at step t does not depend on how the schedule was stepped before.
 * `t` counts scheduler steps (torch's `last_epoch`): per epoch or per batch, as the caller chooses.
 */

export type LearningRateSchedule =
  | { kind: 'constant' }
  /** StepLR: lr0 * gamma^floor(t / stepSize). */
  | { kind: 'step'; stepSize: number; gamma: number }
  /** ExponentialLR (the PEP code's scheduler, gamma 1 by default): lr0 * gamma^t. */
  | { kind: 'exponential'; gamma: number }
  /** CosineAnnealingLR: etaMin + (lr0 - etaMin) * (1 + cos(pi * t / tMax)) / 2. */
  | { kind: 'cosine'; tMax: number; etaMin: number };

export function learningRateAt(schedule: LearningRateSchedule, baseLr: number, t: number): number {
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'step':
      if (!(schedule.stepSize >= 1)) throw new Error('step schedule: stepSize must be >= 1');
      return baseLr * schedule.gamma ** Math.floor(t / schedule.stepSize);
    case 'exponential':
      return baseLr * schedule.gamma ** t;
    case 'cosine':
      if (!(schedule.tMax > 0)) throw new Error('cosine schedule: tMax must be > 0');
      // Past tMax the closed form keeps following the cosine (rises again), as torch's does.
      return (
        schedule.etaMin +
        ((baseLr - schedule.etaMin) * (1 + Math.cos((Math.PI * t) / schedule.tMax))) / 2
      );
  }
}
