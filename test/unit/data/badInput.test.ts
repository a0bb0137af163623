/**
 * Bad input is counted, never silently dropped and never fatal for the good rows: every line
 * ends up either as a row or under a rejection reason (with its line number). Whole-input
 * failures (empty, binary, unrecognisable) raise a DatasetLoadError with a code.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../workers/rng';
import { DatasetLoadError, loadDataset, type LoadReport } from '../../../workers/data/loadDataset';
import { fileOf } from './helpers';

/** A valid Criteo DAC line (tab-separated label, 13 ints, 26 hex categoricals). */
function criteoLine(rng: Rng): string[] {
  const cells = [String(rng.int(2))];
  for (let i = 0; i < 13; i++) cells.push(rng.next() < 0.2 ? '' : String(rng.int(50) - 3));
  for (let i = 0; i < 26; i++)
    cells.push(rng.next() < 0.1 ? '' : (0x10000000 + rng.int(40)).toString(16));
  return cells;
}

function rejectedBy(report: LoadReport): Record<string, number> {
  return Object.fromEntries(report.rejections.map((r) => [r.reason, r.count]));
}

async function expectLoadError(
  promise: Promise<unknown>,
  code: string,
  message: RegExp,
): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetLoadError);
  expect((err as DatasetLoadError).code).toBe(code);
  expect((err as DatasetLoadError).message).toMatch(message);
}

describe('bad input', () => {
  it('each kind of bad line is counted with its line numbers; good lines still load', async () => {
    const rng = new Rng(1);
    const good = (): string => criteoLine(rng).join('\t');
    const lines = [good(), good()];
    const short = criteoLine(rng).slice(0, 30).join('\t'); // line 3
    const long = [...criteoLine(rng), 'extra'].join('\t'); // line 4
    const nonNumeric = criteoLine(rng);
    nonNumeric[3] = '12abc'; // line 5
    const badLabel = criteoLine(rng);
    badLabel[0] = 'yes'; // line 6
    lines.push(
      short,
      long,
      nonNumeric.join('\t'),
      badLabel.join('\t'),
      '',
      good(),
      'x'.repeat(3000),
      good(),
    );
    const r = await loadDataset([fileOf('t.txt', lines.join('\n'), [13])], {
      maxLineLength: 2000,
      minCount: 1,
    });
    expect(r.report.rowsKept).toBe(4);
    expect(r.report.rowsRejected).toBe(6);
    expect(rejectedBy(r.report)).toEqual({
      'wrong-column-count': 2,
      'bad-number': 1,
      'bad-label': 1,
      'empty-line': 1,
      'line-too-long': 1,
    });
    const at = (reason: string): number[] =>
      r.report.rejections.find((x) => x.reason === reason)!.sampleLines.map((s) => s.line);
    expect(at('wrong-column-count')).toEqual([3, 4]);
    expect(at('bad-number')).toEqual([5]);
    expect(at('bad-label')).toEqual([6]);
    expect(at('empty-line')).toEqual([7]);
    expect(at('line-too-long')).toEqual([9]);
  });

  it('keeps only the first 5 line numbers per reason', async () => {
    const rng = new Rng(2);
    const lines = [criteoLine(rng).join('\t')];
    for (let i = 0; i < 20; i++) lines.push('1\t2\t3');
    const r = await loadDataset([fileOf('t.txt', lines.join('\n'))]);
    const entry = r.report.rejections[0];
    expect(entry.count).toBe(20);
    expect(entry.sampleLines.map((s) => s.line)).toEqual([2, 3, 4, 5, 6]);
  });

  it('fuzz: thousands of corrupted lines, each either a row or a rejection of the expected reason', async () => {
    const rng = new Rng(99);
    const lines: string[] = [criteoLine(rng).join('\t')];
    const expected: Record<string, number> = {};
    let expectedRows = 1;
    const expect_ = (reason: string | null): void => {
      if (reason === null) expectedRows++;
      else expected[reason] = (expected[reason] ?? 0) + 1;
    };
    for (let i = 0; i < 5000; i++) {
      const cells = criteoLine(rng);
      const kind = rng.int(9);
      let line: string;
      switch (kind) {
        case 0: // a column lost
          cells.splice(1 + rng.int(39), 1);
          line = cells.join('\t');
          expect_('wrong-column-count');
          break;
        case 1: // a column too many
          cells.splice(rng.int(40), 0, 'zz');
          line = cells.join('\t');
          expect_('wrong-column-count');
          break;
        case 2: // garbage in an integer column
          cells[1 + rng.int(13)] = ['abc', '1.2.3', '-', '0x10', '1e', '--3'][rng.int(6)];
          line = cells.join('\t');
          expect_('bad-number');
          break;
        case 3:
          cells[0] = ['2', '-1', 'click', '0.5', ''][rng.int(5)];
          line = cells.join('\t');
          expect_('bad-label');
          break;
        case 4: // a NUL byte somewhere
          line = cells.join('\t');
          {
            const at = rng.int(line.length);
            line = line.slice(0, at) + '\u0000' + line.slice(at);
          }
          expect_('binary-content');
          break;
        case 5:
          line = '';
          expect_('empty-line');
          break;
        case 6: // odd but valid categoricals (non-ASCII, spaces, quotes)
          cells[14 + rng.int(26)] = ['é€', 'a b', '"q"', '😀', ' '][rng.int(5)];
          line = cells.join('\t');
          expect_(null);
          break;
        case 7: // CRLF ending: valid
          line = cells.join('\t') + '\r';
          expect_(null);
          break;
        default:
          line = cells.join('\t');
          expect_(null);
      }
      lines.push(line);
    }
    const content = lines.join('\n') + '\n';
    for (const sizes of [[content.length], [1, 2, 3, 5, 8, 13]]) {
      const r = await loadDataset([fileOf('fuzz.txt', content, sizes)], { minCount: 1 });
      expect(r.report.rowsKept + r.report.rowsRejected).toBe(lines.length);
      expect(r.report.rowsKept).toBe(expectedRows);
      expect(rejectedBy(r.report)).toEqual(expected);
      expect(r.report.files[0].lines).toBe(lines.length);
    }
  });

  it('an empty file, a blank file, no files', async () => {
    await expectLoadError(loadDataset([fileOf('empty.txt', '')]), 'empty-input', /empty/);
    await expectLoadError(loadDataset([fileOf('blank.txt', '\n\n\r\n')]), 'empty-input', /blank/);
    await expectLoadError(loadDataset([]), 'empty-input', /no file/);
  });

  it('a binary file: NUL bytes, or mostly invalid UTF-8', async () => {
    const rng = new Rng(5);
    const floats = new Uint8Array(Float32Array.from({ length: 1024 }, (_, i) => i).buffer);
    await expectLoadError(
      loadDataset([fileOf('data.bin', floats)]),
      'binary-file',
      /not a text file \(\d{3,} NUL bytes/,
    );
    const random = Uint8Array.from({ length: 4096 }, () => rng.int(256));
    await expectLoadError(
      loadDataset([fileOf('data.gz', random)]),
      'binary-file',
      /not a text file/,
    );
    const invalid = Uint8Array.from({ length: 4096 }, (_, i) =>
      i % 7 === 6 ? 10 : 0x80 + rng.int(64),
    );
    await expectLoadError(
      loadDataset([fileOf('data.csv', invalid)]),
      'binary-file',
      /\d+ invalid UTF-8/,
    );
  });

  it('an unrecognisable file says what it saw; a headed CSV asks for a column mapping', async () => {
    await expectLoadError(
      loadDataset([fileOf('notes.txt', 'hello world\nthis is prose\n')]),
      'undetectable-format',
      /not a recognised format.*hello world/,
    );
    await expectLoadError(
      loadDataset([fileOf('table.csv', 'clicked,country,price\n1,fr,2.5\n0,de,3.0\n')]),
      'undetectable-format',
      /column mapping/,
    );
  });

  it('a file with no valid row at all', async () => {
    const rng = new Rng(3);
    const header = criteoLine(rng);
    header[0] = '1';
    const bad = criteoLine(rng);
    bad[2] = 'NaN?';
    await expectLoadError(
      loadDataset([fileOf('t.txt', `${bad.join('\t')}\n${bad.join('\t')}\n`)]),
      'no-valid-rows',
      /2 bad-number/,
    );
  });
});
