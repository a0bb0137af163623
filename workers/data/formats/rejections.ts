import type { RejectReason } from './types';

export interface RejectionSummary {
  reason: RejectReason;
  count: number;
  /** 1-based line numbers (within `file`) of the first few lines rejected for this reason. */
  sampleLines: { file: string; line: number }[];
}

/** Counts rejected lines per reason and keeps the first few line numbers of each. */
export class RejectionLog {
  private readonly byReason = new Map<RejectReason, RejectionSummary>();
  total = 0;

  constructor(private readonly samplesPerReason = 5) {}

  add(reason: RejectReason, file: string, line: number): void {
    this.total++;
    let entry = this.byReason.get(reason);
    if (!entry) {
      entry = { reason, count: 0, sampleLines: [] };
      this.byReason.set(reason, entry);
    }
    entry.count++;
    if (entry.sampleLines.length < this.samplesPerReason) entry.sampleLines.push({ file, line });
  }

  summary(): RejectionSummary[] {
    return [...this.byReason.values()].sort((a, b) => b.count - a.count);
  }
}
