/**
 * The dataset the user loaded from files, kept in the worker (its typed arrays never cross to
 * the main thread). One at a time: loading another replaces it.
 */
import type { CtrDataset } from '../data/dataset';
import type { SequenceDataset } from '../data/loadDataset';

export type ActiveDataset =
  { kind: 'ctr'; dataset: CtrDataset } | { kind: 'sequence'; dataset: SequenceDataset };

let active: ActiveDataset | null = null;

export function setActiveDataset(next: ActiveDataset | null): void {
  active = next;
}

export function activeDataset(): ActiveDataset | null {
  return active;
}

/** The loaded CTR dataset, or a clear error saying why there is none. */
export function activeCtrDataset(): CtrDataset {
  if (!active)
    throw new Error('No dataset is loaded: load a file first, or choose the synthetic slice');
  if (active.kind !== 'ctr') {
    throw new Error(
      'The loaded file holds item sequences, which ranking (CTR) models cannot train on',
    );
  }
  return active.dataset;
}
