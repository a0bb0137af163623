/**
 * The single entry point of dataset loading: files in (streams, e.g. File.stream()), a compact
 * CtrDataset or SequenceDataset out, plus a report of what was detected, kept and rejected.
 * Runs in the worker: no DOM, no tfjs; every file is streamed once, never held as one string.
 */
import type { DatasetSplitInfo } from '../datasetProtocol';
import { type CtrDataset, type CtrSplit, fieldOffsetsOf, type RawLayout } from './dataset';
import { createDelimitedCtrParser, type DelimitedCtrParser } from './formats/delimitedCtr';
import {
  baseName,
  describeFormat,
  detectFile,
  isLatin1File,
  isMovieLensName,
  type Detection,
  type FormatId,
  type MovieLensRole,
} from './formats/detect';
import {
  readByteLines,
  readLines,
  type ChunkSource,
  type LineReaderOptions,
  type LineReaderResult,
} from './formats/lineReader';
import {
  finishReferenceEncoded,
  ReferenceEncodedParser,
  referenceNotes,
} from './formats/referenceEncoded';
import { isJsonFile, parseSideJson, readSmallText, type SideJson } from './formats/sideJson';
import {
  assembleMovieLensFields,
  parseSideLine,
  RatingsParser,
  sideFieldNames,
  type SideTable,
} from './formats/movielens';
import { peekStream } from './formats/peek';
import { RejectionLog, type RejectionSummary } from './formats/rejections';
import { SequenceParser } from './formats/sequences';
import {
  DatasetLoadError,
  throwIfAborted,
  type InputFile,
  type LoadPhase,
  type ProgressCallback,
  type RejectReason,
} from './formats/types';
import type { ColumnMapping, ColumnPlan } from './formats/columnPlan';
import { CtrRowStore, type CtrRows } from './preprocess/ctrRowStore';
import { GrowableInt32 } from './preprocess/growable';
import { applyRowIndexSplit } from './preprocess/indexSplit';
import type { RowSelection } from './preprocess/rowSampling';
import { buildSequenceDataset, type SequenceDataset } from './preprocess/sequenceDataset';
import { DEFAULT_SPLIT, splitRows, type SplitOptions } from './preprocess/split';
import {
  encodeFields,
  type EncodedFields,
  type FieldEncodingStats,
  type FieldSource,
  type RareSlotPolicy,
} from './preprocess/vocabulary';

export type { CtrDataset, FieldVocabulary } from './dataset';
export type { SequenceDataset } from './preprocess/sequenceDataset';
export type { ColumnMapping } from './formats/columnPlan';
export type { FormatId } from './formats/detect';
export type {
  InputFile,
  LoadProgress,
  ProgressCallback,
  RejectReason,
  LoadErrorCode,
} from './formats/types';
export type { RejectionSummary } from './formats/rejections';
export type { RowIndexSplit, SideJson } from './formats/sideJson';
export { buildReferenceDataset } from './formats/referenceEncoded';
export type { RowSelection } from './preprocess/rowSampling';
export type { SplitOptions } from './preprocess/split';
export type { FieldEncodingStats, RareSlotPolicy } from './preprocess/vocabulary';
export { DatasetLoadError } from './formats/types';
export { lookupToken, vocabularyIndex } from './preprocess/vocabulary';

export interface LoadOptions {
  /** Force a format instead of detecting it. */
  format?: FormatId;
  /** Generic CSV/TSV with a header: which columns are the label and the fields. */
  columns?: ColumnMapping;
  /** Values seen fewer times share one rare id per field. Default 10 (the reference's), 1 for MovieLens (the reference applies none there). */
  minCount?: number;
  /** 'when-needed' (default, as the reference: a rare id only if some value is rare) or 'always'. */
  rareSlot?: RareSlotPolicy;
  /** Rows (CTR) or sequences to keep. Default all. */
  rows?: RowSelection;
  /** Default 80/10/10 random with seed 42 for CTR; 70/10/20 random for sequences (CpRec tests on 20%). */
  split?: Partial<SplitOptions>;
  /** MovieLens: add user id and item id fields (the reference uses side attributes only). */
  keepUserAndItemIds?: boolean;
  /** Sequences: row width; longer sequences keep their most recent items. */
  maxSequenceLength?: number;
  /** Lines longer than this (characters) are rejected as 'line-too-long'. Default 1 MiB. */
  maxLineLength?: number;
  /** Dataset name; default the first data file's name. */
  name?: string;
}

export interface FileReport {
  name: string;
  /** 'split-indices' / 'field-dims': a side JSON used for the split / for the field sizes. */
  role: 'data' | Exclude<MovieLensRole, 'ignored'> | 'split-indices' | 'field-dims' | 'ignored';
  bytes: number;
  lines: number;
}

/** How the rows were split (the contract's DatasetSplitInfo, explained there). */
export type SplitReport = DatasetSplitInfo;

export interface LoadReport {
  format: FormatId;
  formatDescription: string;
  files: FileReport[];
  /** Rows (sequences) in the dataset. */
  rowsKept: number;
  /** Valid rows read before row selection (first N / sample). */
  rowsValid: number;
  rowsRejected: number;
  rejections: RejectionSummary[];
  /** Rows dropped by a convention, not for being malformed (MovieLens rating 3). */
  rowsFilteredOut: number;
  filterRule: string | null;
  /** True when reading stopped early because the first N rows were in. */
  stoppedEarly: boolean;
  /** Mean click label (CTR); null for sequences. */
  labelMean: number | null;
  /** Per field: cardinality before and after min-count (CTR). */
  fields: FieldEncodingStats[];
  minCount: number;
  split: SplitReport;
  bytesRead: number;
  seconds: number;
  notes: string[];
}

export type LoadResult =
  | { kind: 'ctr'; dataset: CtrDataset; report: LoadReport }
  | { kind: 'sequence'; dataset: SequenceDataset; report: LoadReport };

/** A line that is neither a row nor an error: a header, or a row a convention drops. */
const NOT_A_ROW = 'not-a-row';

interface PreparedFile {
  file: InputFile;
  detection: Detection;
  source: ChunkSource;
  /** Bytes per line in the head, to size buffers from the file size. */
  headBytesPerLine: number;
}

/** Parses line `lineNo` (1-based) held in line[start, end): a row, not a row, or a rejection. */
type LineParser<B> = (
  line: B,
  start: number,
  end: number,
  lineNo: number,
) => RejectReason | null | typeof NOT_A_ROW;

/** readLines (decoded text) or readByteLines (undecoded bytes). */
type LineReader<B> = (
  source: ChunkSource,
  onLine: (line: B, start: number, end: number, lineNo: number) => boolean,
  options: LineReaderOptions,
) => Promise<LineReaderResult>;

/** Shared state of one load: progress, rejections, bytes. */
class LoadContext {
  readonly rejections = new RejectionLog(5);
  readonly files: FileReport[] = [];
  readonly notes: string[] = [];
  bytesRead = 0;
  rowsParsed = 0;
  /** Header lines and rows dropped by a convention (MovieLens rating 3). */
  linesNotRows = 0;
  private lastReport = 0;
  readonly totalBytes: number | null;

  constructor(
    inputs: InputFile[],
    readonly options: LoadOptions,
    private readonly onProgress: ProgressCallback | undefined,
    readonly signal: AbortSignal | undefined,
  ) {
    this.totalBytes = inputs.every((f) => f.size !== undefined)
      ? inputs.reduce((s, f) => s + (f.size ?? 0), 0)
      : null;
  }

  progress(phase: LoadPhase, file: string, force = false): void {
    if (!this.onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastReport < 50) return;
    this.lastReport = now;
    this.onProgress({
      phase,
      file,
      bytesRead: this.bytesRead,
      totalBytes: this.totalBytes,
      rowsParsed: this.rowsParsed,
      rowsRejected: this.rejections.total,
    });
  }

  /**
   * Streams one file's lines to `parse` as decoded text; rejected lines are logged against the
   * file (and passed to `onRejected`, by 1-based line number, also those the line reader
   * rejects itself).
   */
  readFile(
    prepared: PreparedFile,
    role: FileReport['role'],
    parse: LineParser<string>,
    shouldStop?: () => boolean,
    onRejected?: (lineNo: number) => void,
  ): Promise<boolean> {
    return this.read(readLines, prepared, role, parse, shouldStop, onRejected);
  }

  /** readFile for parsers of undecoded bytes (delimited CTR text). */
  readFileBytes(
    prepared: PreparedFile,
    role: FileReport['role'],
    parse: LineParser<Uint8Array>,
    shouldStop?: () => boolean,
    onRejected?: (lineNo: number) => void,
  ): Promise<boolean> {
    return this.read(readByteLines, prepared, role, parse, shouldStop, onRejected);
  }

  private async read<B>(
    reader: LineReader<B>,
    prepared: PreparedFile,
    role: FileReport['role'],
    parse: LineParser<B>,
    shouldStop: () => boolean = () => false,
    onRejected?: (lineNo: number) => void,
  ): Promise<boolean> {
    const name = prepared.file.name;
    const result = await reader(
      prepared.source,
      (line, start, end, lineNo) => {
        this.countLine(parse(line, start, end, lineNo), name, lineNo, onRejected);
        return !shouldStop();
      },
      this.readerOptions(name, onRejected),
    );
    this.files.push({ name, role, bytes: result.bytes, lines: result.lines });
    this.progress('parsing', name, true);
    return result.stoppedEarly;
  }

  /** Tallies one parsed line: a row, a line that is not a row (a header), or a rejection. */
  private countLine(
    reason: RejectReason | null | typeof NOT_A_ROW,
    name: string,
    lineNo: number,
    onRejected?: (lineNo: number) => void,
  ): void {
    if (reason === null) this.rowsParsed++;
    else if (reason === NOT_A_ROW) this.linesNotRows++;
    else {
      this.rejections.add(reason, name, lineNo);
      onRejected?.(lineNo);
    }
  }

  private readerOptions(name: string, onRejected?: (lineNo: number) => void): LineReaderOptions {
    return {
      encoding: isLatin1File(name) ? 'iso-8859-1' : 'utf-8',
      maxLineLength: this.options.maxLineLength,
      signal: this.signal,
      onBytes: (n) => {
        this.bytesRead += n;
        this.progress('parsing', name);
      },
      onReject: (reason, lineNo) => {
        this.rejections.add(reason, name, lineNo);
        onRejected?.(lineNo);
      },
    };
  }
}

/**
 * Loads a dataset from one or more files. Several files of one CTR or sequence format are read
 * as consecutive parts; MovieLens files (ratings plus optional side files) arrive together.
 * Throws DatasetLoadError for whole-input failures and the signal's AbortError on cancel.
 */
export async function loadDataset(
  inputs: InputFile[],
  options: LoadOptions = {},
  onProgress?: ProgressCallback,
  signal?: AbortSignal,
): Promise<LoadResult> {
  const started = Date.now();
  if (inputs.length === 0) throw new DatasetLoadError('empty-input', 'no file given');
  const ctx = new LoadContext(inputs, options, onProgress, signal);
  ctx.progress('detecting', inputs[0].name, true);

  const prepared: PreparedFile[] = [];
  const sides: SideFile[] = [];
  const inMovieLensSet = inputs.some((f) => isMovieLensName(f.name));
  for (const file of inputs) {
    throwIfAborted(signal);
    const peeked = await peekStream(file.stream);
    if (isJsonFile(file.name, peeked.head)) {
      // A split or field_dims file: small, read whole now.
      const { text, bytes } = await readSmallText(peeked.source, file.name);
      ctx.bytesRead += bytes;
      sides.push({
        json: parseSideJson(file.name, text),
        bytes,
        lines: countLines(text),
      });
      continue;
    }
    const detection = detectFile(file.name, peeked.head, peeked.complete, {
      format: options.format,
      columns: options.columns,
      inMovieLensSet,
    });
    const newlines = countNewlines(peeked.head);
    prepared.push({
      file,
      detection,
      source: peeked.source,
      headBytesPerLine: newlines > 0 ? peeked.head.length / newlines : peeked.head.length,
    });
  }

  if (prepared.length === 0) {
    throw new DatasetLoadError(
      'missing-file',
      `only JSON files given (${sides.map((s) => s.json.name).join(', ')}): a split or field_dims file goes with the data file it describes`,
    );
  }
  const families = new Set(prepared.map((p) => p.detection.family));
  if (families.size > 1) {
    const seen = prepared.map((p) => `${p.file.name}: ${p.detection.format}`).join(', ');
    throw new DatasetLoadError(
      'undetectable-format',
      `the files are of different formats (${seen})`,
    );
  }
  const first = prepared[0].detection;
  const sideSet = sideFilesOf(sides, first.family);
  let result: LoadResult;
  if (first.family === 'movielens') result = await loadMovieLens(prepared, ctx);
  else if (first.family === 'sequences') result = await loadSequences(prepared, ctx);
  else if (first.family === 'reference-encoded')
    result = await loadReferenceEncoded(prepared, ctx, sideSet);
  else result = await loadDelimitedCtr(prepared, ctx, sideSet);
  for (const side of sides) {
    ctx.files.push({
      name: side.json.name,
      role:
        side.json === sideSet.split
          ? 'split-indices'
          : side.json === sideSet.fieldDims
            ? 'field-dims'
            : 'ignored',
      bytes: side.bytes,
      lines: side.lines,
    });
  }
  result.report.seconds = (Date.now() - started) / 1000;
  return result;
}

interface SideFile {
  json: SideJson;
  bytes: number;
  lines: number;
}

/** The side JSONs of a load: the one giving the split and the one giving field_dims. */
interface SideSet {
  split: SideJson | null;
  fieldDims: SideJson | null;
}

function sideFilesOf(sides: SideFile[], family: Detection['family']): SideSet {
  if (sides.length === 0) return { split: null, fieldDims: null };
  const names = sides.map((s) => s.json.name).join(', ');
  if (family === 'movielens' || family === 'sequences') {
    throw new DatasetLoadError(
      'bad-split-file',
      `${names}: a split or field_dims JSON goes with Criteo, Avazu or CSV files, not with ${family === 'movielens' ? 'MovieLens' : 'sequence'} files`,
    );
  }
  const withSplit = sides.filter((s) => s.json.split);
  const withDims = sides.filter((s) => s.json.fieldDims);
  if (family === 'reference-encoded') {
    // The encoded file has its own split column: a JSON can only give the field sizes.
    const useless = sides.find((s) => !s.json.fieldDims);
    if (useless) {
      throw new DatasetLoadError(
        'bad-split-file',
        `${useless.json.name} holds no field_dims; a reference-encoded file takes its split from its own split column`,
      );
    }
    if (withDims.length > 1)
      throw new DatasetLoadError('bad-split-file', `several field_dims files: ${names}`);
    return { split: null, fieldDims: withDims[0].json };
  }
  if (withSplit.length > 1)
    throw new DatasetLoadError('bad-split-file', `several split files: ${names}`);
  if (withSplit.length === 0 && withDims.length > 1)
    throw new DatasetLoadError('bad-split-file', `several field_dims files: ${names}`);
  const split = withSplit[0]?.json ?? null;
  return { split, fieldDims: split ? null : (withDims[0]?.json ?? null) };
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.length > 0 && !text.endsWith('\n') ? n + 1 : n;
}

async function loadReferenceEncoded(
  prepared: PreparedFile[],
  ctx: LoadContext,
  sides: SideSet,
): Promise<LoadResult> {
  const first = prepared[0].detection;
  if (first.family !== 'reference-encoded') throw new Error('unreachable');
  const dimsFile = sides.fieldDims;
  const parser = new ReferenceEncodedParser(
    first.plan,
    dimsFile?.fieldDims ?? null,
    ctx.options.rows ?? { mode: 'all' },
    estimateRows(prepared),
    dimsFile?.split ?? null,
  );
  let stoppedEarly = false;
  for (const p of prepared) {
    if (parser.store.sampler.done) break;
    stoppedEarly = await ctx.readFile(
      p,
      'data',
      (text, start, end, lineNo) => (lineNo === 1 ? NOT_A_ROW : parser.parseLine(text, start, end)),
      () => parser.store.sampler.done,
    );
  }
  throwIfAborted(ctx.signal);
  if (parser.store.kept === 0) throw new DatasetLoadError('no-valid-rows', noRowsMessage(ctx));
  const r = finishReferenceEncoded(parser, dimsFile ? `field_dims of ${dimsFile.name}` : null);
  const dataName = prepared.map((p) => p.file.name).join(', ');
  ctx.notes.push(
    ...referenceNotes(parser, r),
    `split from the split column of ${dataName} (train / valid / test); the split setting is not used`,
  );
  return assembleCtr(ctx, {
    format: 'criteo-reference-encoded',
    rowsValid: parser.store.sampler.seen,
    stoppedEarly,
    numRows: r.numRows,
    ids: r.ids,
    labels: r.labels,
    dense: null,
    numDense: 0,
    times: null,
    fieldNames: r.fieldNames,
    encoded: { fieldDims: r.fieldDims, vocabularies: r.vocabularies, stats: r.stats },
    minCount: 1,
    filteredOut: 0,
    filterRule: null,
    split: r.split,
    splitReport: splitReportOf('file', r.split, { from: `the split column of ${dataName}` }),
  });
}

/** A split report with nothing listed or dropped: sizes from `split`, the rest from `extra`. */
function splitReportOf(
  mode: SplitReport['mode'],
  split: { train: ArrayLike<number>; validation: ArrayLike<number>; test: ArrayLike<number> },
  extra: Partial<SplitReport> = {},
): SplitReport {
  return {
    mode,
    orderedBy: null,
    from: null,
    train: split.train.length,
    validation: split.validation.length,
    test: split.test.length,
    unlisted: 0,
    listedRejected: 0,
    listedNotLoaded: 0,
    ...extra,
  };
}

async function loadDelimitedCtr(
  prepared: PreparedFile[],
  ctx: LoadContext,
  sides: SideSet,
): Promise<LoadResult> {
  const first = prepared[0].detection;
  if (first.family !== 'delimited-ctr') throw new Error('unreachable');
  for (const p of prepared) {
    if (p.detection.family !== 'delimited-ctr' || p.detection.format !== first.format) {
      throw new DatasetLoadError(
        'undetectable-format',
        `${p.file.name} is ${p.detection.format}, not ${first.format} like the first file`,
      );
    }
  }
  const parser: DelimitedCtrParser = createDelimitedCtrParser(
    first.plan,
    isLatin1File(prepared[0].file.name) ? 'iso-8859-1' : 'utf-8',
  );
  const selection = ctx.options.rows ?? { mode: 'all' };
  const splitFile = sides.split;
  const store = new CtrRowStore(
    first.plan.fields.length,
    parser.numDense,
    first.plan.timeColumn !== null,
    selection,
    estimateRows(prepared),
    // With a row-number split, each row's tag is its raw row number.
    splitFile !== null,
  );
  // Raw row numbers (0-based data lines over all parts, header lines excluded) of the rejected
  // lines, to tell a listed row that was rejected from one never read.
  const rejectedRaw = new GrowableInt32(16);
  let rawBase = 0;
  let stoppedEarly = false;
  for (const p of prepared) {
    if (store.sampler.done) break;
    const plan = p.detection.family === 'delimited-ctr' ? p.detection.plan : first.plan;
    // Each part has its own header line.
    const headerLines = plan.hasHeader ? 1 : 0;
    const base = rawBase - 1 - headerLines;
    stoppedEarly = await ctx.readFileBytes(
      p,
      'data',
      (bytes, start, end, lineNo) => {
        if (lineNo <= headerLines) return NOT_A_ROW;
        store.tag = base + lineNo;
        return parser.parseLine(bytes, start, end, store);
      },
      () => store.sampler.done,
      splitFile
        ? (lineNo) => {
            if (lineNo > headerLines) rejectedRaw.push(base + lineNo);
          }
        : undefined,
    );
    rawBase += Math.max(0, (ctx.files.at(-1)?.lines ?? 0) - headerLines);
  }
  throwIfAborted(ctx.signal);
  let rows: CtrRows = store.finish();
  let fixed: { split: CtrSplit; report: SplitReport } | null = null;
  if (splitFile?.split) {
    const applied = applyRowIndexSplit(
      rows,
      first.plan.fields.length,
      parser.numDense,
      splitFile.split,
      rejectedRaw.toArray(),
    );
    if (applied.rows.numRows === 0 && rows.numRows > 0) {
      throw new DatasetLoadError(
        'bad-split-file',
        `none of the rows listed in ${splitFile.name} is among the ${rows.numRows} rows loaded (${applied.listedRejected} rejected, ${applied.listedNotLoaded} not loaded): row numbers count the data lines from 0, header excluded`,
      );
    }
    rows = applied.rows;
    fixed = {
      split: applied.split,
      report: splitReportOf('file', applied.split, {
        from: `the row numbers in ${splitFile.name} (${splitFile.split.keys})`,
        unlisted: applied.unlisted,
        listedRejected: applied.listedRejected,
        listedNotLoaded: applied.listedNotLoaded,
      }),
    };
    ctx.notes.push(
      `split from the row numbers in ${splitFile.name} (${splitFile.split.keys}, 0-based data rows); the split setting is not used`,
    );
    if (applied.unlisted > 0)
      ctx.notes.push(`${applied.unlisted} valid rows listed in no split were dropped`);
    if (applied.listedRejected > 0) {
      ctx.notes.push(
        `${applied.listedRejected} rows listed in ${splitFile.name} were rejected as malformed, so they are missing from their split (0-based rows ${applied.rejectedSample.join(', ')}${applied.listedRejected > applied.rejectedSample.length ? ', …' : ''}; see the rejected rows)`,
      );
    }
    if (applied.listedNotLoaded > 0) {
      ctx.notes.push(
        `${applied.listedNotLoaded} rows listed in ${splitFile.name} were not loaded (${stoppedEarly ? 'after the first N rows' : 'past the end of the data'})`,
      );
    }
  }
  const result = finishCtr(ctx, {
    format: first.format,
    rowsValid: store.sampler.seen,
    stoppedEarly,
    numRows: rows.numRows,
    ids: rows.ids,
    labels: rows.labels,
    dense: rows.dense,
    numDense: parser.numDense,
    times: rows.times,
    timeName: first.plan.timeColumnName,
    fields: parser.fieldSources(),
    rawLayout: rawLayoutOf(first.plan),
    defaultMinCount: 10,
    filteredOut: 0,
    filterRule: null,
    fixedSplit: fixed,
  });
  const dims = sides.fieldDims ?? (splitFile?.fieldDims ? splitFile : null);
  if (dims?.fieldDims && result.kind === 'ctr') {
    ctx.notes.push(compareFieldDims(dims.name, dims.fieldDims, result.dataset));
  }
  return result;
}

/** How a side file's field_dims compare with the sizes this load found. */
function compareFieldDims(name: string, theirs: Int32Array, ds: CtrDataset): string {
  if (theirs.length !== ds.numFields)
    return `field_dims of ${name} has ${theirs.length} sizes, the data ${ds.numFields} fields: not used`;
  const differ = ds.fieldNames.filter((_, f) => theirs[f] !== ds.fieldDims[f]);
  const total = theirs.reduce((s, d) => s + d, 0);
  return differ.length === 0
    ? `field_dims of ${name} equal the field sizes found here (N = ${total.toLocaleString('en-US')})`
    : `field_dims of ${name} differ from the field sizes found here in ${differ.length} fields (${differ.slice(0, 5).join(', ')}${differ.length > 5 ? ', …' : ''}; N = ${total.toLocaleString('en-US')} there, ${ds.totalVocabulary.toLocaleString('en-US')} here): not used for raw files`;
}

async function loadMovieLens(prepared: PreparedFile[], ctx: LoadContext): Promise<LoadResult> {
  const byRole = (role: MovieLensRole): PreparedFile[] =>
    prepared.filter((p) => p.detection.family === 'movielens' && p.detection.role === role);
  const ratingsFiles = byRole('ratings');
  if (ratingsFiles.length === 0) {
    throw new DatasetLoadError(
      'missing-file',
      'MovieLens needs its ratings file (u.data or ratings.dat)',
    );
  }
  const first = ratingsFiles[0].detection;
  if (first.family !== 'movielens') throw new Error('unreachable');
  const format = first.format;
  for (const p of prepared) {
    if (
      p.detection.format !== format &&
      p.detection.family === 'movielens' &&
      p.detection.role !== 'ignored'
    ) {
      throw new DatasetLoadError(
        'undetectable-format',
        `${p.file.name} belongs to ${p.detection.format}, the ratings to ${format}`,
      );
    }
  }
  for (const p of byRole('ignored')) {
    ctx.files.push({ name: p.file.name, role: 'ignored', bytes: 0, lines: 0 });
    await p.source.cancel();
    p.source.releaseLock();
  }

  // Side files first: rating rows are joined against them.
  const readSide = async (role: 'users' | 'items'): Promise<SideTable | null> => {
    const files = byRole(role);
    if (files.length === 0) return null;
    const table: SideTable = { fieldNames: sideFieldNames(format, role), rows: new Map() };
    for (const p of files) {
      await ctx.readFile(p, role, (text, start, end) =>
        parseSideLine(format, role, text.substring(start, end), table),
      );
    }
    return table;
  };
  const users = await readSide('users');
  const items = await readSide('items');

  const selection = ctx.options.rows ?? { mode: 'all' };
  const ratings = new RatingsParser(format, selection, estimateRows(ratingsFiles));
  let stoppedEarly = false;
  for (const p of ratingsFiles) {
    if (ratings.store.sampler.done) break;
    stoppedEarly = await ctx.readFile(
      p,
      'ratings',
      (text, start, end) => {
        const dropped = ratings.neutralDropped;
        const reason = ratings.parseLine(text, start, end);
        return ratings.neutralDropped !== dropped ? NOT_A_ROW : reason;
      },
      () => ratings.store.sampler.done,
    );
  }
  const keepIds = ctx.options.keepUserAndItemIds ?? false;
  if (!users && !items)
    ctx.notes.push('no side file (users / items): user id and item id are the fields');
  const fields = assembleMovieLensFields(ratings, users, items, keepIds);
  return finishCtr(ctx, {
    format,
    rowsValid: ratings.store.sampler.seen,
    stoppedEarly,
    numRows: fields.numRows,
    ids: fields.ids,
    labels: fields.labels,
    dense: null,
    numDense: 0,
    times: fields.times,
    timeName: 'timestamp',
    fields: fields.fields,
    defaultMinCount: 1,
    filteredOut: ratings.neutralDropped,
    filterRule: 'rating 3 dropped; label = rating > 3 (PEP convention)',
  });
}

interface CollectedCtr {
  format: FormatId;
  rowsValid: number;
  stoppedEarly: boolean;
  numRows: number;
  ids: Int32Array;
  labels: Float32Array;
  dense: Float32Array | null;
  numDense: number;
  times: Float64Array | null;
  timeName: string | null;
  fields: FieldSource[];
  defaultMinCount: number;
  filteredOut: number;
  filterRule: string | null;
  /** A split the input gave (row-number JSON) instead of the split options. */
  fixedSplit?: { split: CtrSplit; report: SplitReport } | null;
  /** The raw layout of a delimited file (for exported models to read raw rows). */
  rawLayout?: RawLayout | null;
}

/** Where a delimited file's fields, dense features and label are (kept with the dataset). */
function rawLayoutOf(plan: ColumnPlan): RawLayout {
  const numeric = plan.fields.filter((f) => f.kind === 'numeric');
  return {
    delimiter: plan.delimiter,
    hasHeader: plan.hasHeader,
    quoted: plan.quoted,
    labelColumn: plan.labelColumn,
    numColumns: plan.numColumns,
    header: plan.header ?? null,
    fieldColumns: Object.fromEntries(plan.fields.map((f) => [f.name, f.column])),
    denseColumns: numeric.map((f) => f.column),
    denseNames: numeric.map((f) => f.name),
  };
}

/** Vocabulary, remap, split and report: the steps every CTR format shares. */
function finishCtr(ctx: LoadContext, c: CollectedCtr): LoadResult {
  throwIfAborted(ctx.signal);
  if (c.numRows === 0) {
    throw new DatasetLoadError('no-valid-rows', noRowsMessage(ctx));
  }
  const lastFile = ctx.files.at(-1)?.name ?? '';
  ctx.progress('encoding', lastFile, true);
  const minCount = ctx.options.minCount ?? c.defaultMinCount;
  const encoded = encodeFields(
    c.ids,
    c.numRows,
    c.fields,
    minCount,
    ctx.options.rareSlot ?? 'when-needed',
  );
  ctx.progress('splitting', lastFile, true);
  let split: CtrSplit;
  let splitReport: SplitReport;
  if (c.fixedSplit) {
    split = c.fixedSplit.split;
    splitReport = c.fixedSplit.report;
  } else {
    const splitOptions: SplitOptions = { ...DEFAULT_SPLIT, ...ctx.options.split };
    split = splitRows(c.numRows, splitOptions, c.times);
    splitReport = splitReportOf(splitOptions.mode, split, {
      orderedBy: splitOptions.mode === 'ordered' ? (c.times ? c.timeName : 'file order') : null,
    });
  }
  return assembleCtr(ctx, {
    ...c,
    fieldNames: c.fields.map((f) => f.name),
    encoded,
    minCount,
    split,
    splitReport,
  });
}

interface AssembledCtr {
  format: FormatId;
  rowsValid: number;
  stoppedEarly: boolean;
  numRows: number;
  ids: Int32Array;
  labels: Float32Array;
  dense: Float32Array | null;
  numDense: number;
  times: Float64Array | null;
  fieldNames: string[];
  encoded: EncodedFields;
  minCount: number;
  filteredOut: number;
  filterRule: string | null;
  split: CtrSplit;
  splitReport: SplitReport;
  rawLayout?: RawLayout | null;
}

/** The dataset and its report from final ids and a split. */
function assembleCtr(ctx: LoadContext, c: AssembledCtr): LoadResult {
  const { encoded, split, minCount } = c;
  const lastFile = ctx.files.at(-1)?.name ?? '';
  let labelSum = 0;
  for (let i = 0; i < c.numRows; i++) labelSum += c.labels[i];
  const totalVocabulary = encoded.fieldDims.reduce((s, d) => s + d, 0);
  const dataset: CtrDataset = {
    name:
      ctx.options.name ??
      baseName(ctx.files.find((f) => f.role === 'data' || f.role === 'ratings')?.name ?? lastFile),
    numRows: c.numRows,
    numFields: c.fieldNames.length,
    fieldNames: c.fieldNames,
    fieldDims: encoded.fieldDims,
    fieldOffsets: fieldOffsetsOf(encoded.fieldDims),
    totalVocabulary,
    ids: c.ids,
    labels: c.labels,
    split,
    numDense: c.numDense,
    dense: c.dense,
    vocabularies: encoded.vocabularies,
    times: c.times,
    rawLayout: c.rawLayout ?? null,
  };
  const report = baseReport(ctx, c.format, c.numRows, c.rowsValid, c.stoppedEarly);
  report.labelMean = labelSum / c.numRows;
  report.fields = encoded.stats;
  report.minCount = minCount;
  report.rowsFilteredOut = c.filteredOut;
  report.filterRule = c.filterRule;
  report.split = c.splitReport;
  return { kind: 'ctr', dataset, report };
}

async function loadSequences(prepared: PreparedFile[], ctx: LoadContext): Promise<LoadResult> {
  const parser = new SequenceParser();
  const selection = ctx.options.rows ?? { mode: 'all' };
  // 'first N' can stop reading; a sample needs every line.
  const done = (): boolean => selection.mode === 'first' && parser.numSequences >= selection.count;
  let stoppedEarly = false;
  for (const p of prepared) {
    if (done()) break;
    stoppedEarly = await ctx.readFile(
      p,
      'data',
      (text, start, end) => parser.parseLine(text, start, end),
      done,
    );
  }
  throwIfAborted(ctx.signal);
  const valid = parser.numSequences;
  if (valid === 0) throw new DatasetLoadError('no-valid-rows', noRowsMessage(ctx));
  const split = {
    train: 0.7,
    validation: 0.1,
    test: 0.2,
    mode: 'random' as const,
    seed: 42,
    ...ctx.options.split,
  };
  const dataset = buildSequenceDataset(parser.result(), {
    name: ctx.options.name ?? baseName(prepared[0].file.name),
    selection,
    maxLength: ctx.options.maxSequenceLength,
    split,
  });
  if (dataset.truncated > 0)
    ctx.notes.push(
      `${dataset.truncated} sequences were longer than ${dataset.maxLen} items: their most recent ${dataset.maxLen} were kept`,
    );
  const report = baseReport(ctx, 'sequences', dataset.numSequences, valid, stoppedEarly);
  report.split = splitReportOf(split.mode, dataset.split, {
    orderedBy: split.mode === 'ordered' ? 'file order' : null,
  });
  report.fields = [
    {
      name: 'item',
      cardinalityBeforeMinCount: dataset.numItems,
      cardinalityAfterMinCount: dataset.numItems,
      rareValues: 0,
      rareRows: 0,
    },
  ];
  report.minCount = 1;
  return { kind: 'sequence', dataset, report };
}

function baseReport(
  ctx: LoadContext,
  format: FormatId,
  rowsKept: number,
  rowsValid: number,
  stoppedEarly: boolean,
): LoadReport {
  return {
    format,
    formatDescription: describeFormat(format),
    files: ctx.files,
    rowsKept,
    rowsValid,
    rowsRejected: ctx.rejections.total,
    rejections: ctx.rejections.summary(),
    rowsFilteredOut: 0,
    filterRule: null,
    stoppedEarly,
    labelMean: null,
    fields: [],
    minCount: 1,
    split: splitReportOf('random', { train: [], validation: [], test: [] }),
    bytesRead: ctx.bytesRead,
    seconds: 0,
    notes: ctx.notes,
  };
}

function noRowsMessage(ctx: LoadContext): string {
  const reasons = ctx.rejections
    .summary()
    .map(
      (r) =>
        `${r.count} ${r.reason} (first at ${r.sampleLines.map((s) => `${s.file}:${s.line}`).join(', ')})`,
    )
    .join('; ');
  return `no valid rows${reasons ? `: ${reasons}` : ''}`;
}

function countNewlines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) n++;
  return n;
}

/** Rows expected from file sizes (when known), so buffers are sized once instead of grown. */
function estimateRows(files: PreparedFile[]): number {
  let rows = 0;
  for (const p of files) {
    if (p.file.size === undefined) return 1024;
    rows += p.file.size / Math.max(1, p.headBytesPerLine);
  }
  return Math.ceil(rows * 1.02) + 16;
}
