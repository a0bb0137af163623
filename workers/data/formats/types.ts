/** Types shared by the parsers, the preprocessing steps and the entry point. */
import type { DatasetRejectReason } from '../../datasetProtocol';

export interface InputFile {
  name: string;
  stream: ReadableStream<Uint8Array>;
  /** Bytes, when known (File.size), for progress fractions. */
  size?: number;
}

export type LoadPhase = 'detecting' | 'parsing' | 'encoding' | 'splitting';

export interface LoadProgress {
  phase: LoadPhase;
  file: string;
  /** Bytes consumed so far over all files. */
  bytesRead: number;
  /** Sum of the known file sizes, or null when some size is unknown. */
  totalBytes: number | null;
  rowsParsed: number;
  rowsRejected: number;
}

export type ProgressCallback = (p: LoadProgress) => void;

/**
 * Why a line was not turned into a row: the contract's list (workers/datasetProtocol.ts), where
 * each reason is explained.
 */
export type RejectReason = DatasetRejectReason;

/** Whole-input failures: nothing usable can come out of the input as given. */
export type LoadErrorCode =
  | 'empty-input'
  | 'binary-file'
  | 'undetectable-format'
  | 'missing-file'
  | 'bad-mapping'
  /** A split / field_dims JSON that cannot be used (malformed, duplicate rows, wrong size). */
  | 'bad-split-file'
  | 'no-valid-rows'
  /** buildReferenceDataset: the reference file has malformed rows (the loader would skip them). */
  | 'rejected-rows';

export class DatasetLoadError extends Error {
  constructor(
    readonly code: LoadErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DatasetLoadError';
  }
}

/** Throws the signal's reason (an AbortError) when cancelled. Called between chunks. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw signal.reason instanceof Error
    ? signal.reason
    : new DOMException('Load cancelled', 'AbortError');
}
