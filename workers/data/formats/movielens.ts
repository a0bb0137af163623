/**
 * MovieLens 100K / 1M as CTR data, the way the reference PEP code builds it
 * (data_loader/movielens.py): ratings of 3 are dropped, label = rating > 3, and the fields are
 * the rating time (bucketed like Criteo numerics after subtracting the earliest time) plus the
 * user's and item's side attributes when the side files are present:
 * - 100K: age (binned into the 1M age groups), gender, occupation, zip; release year and the 19
 *   genre flags;
 * - 1M: gender, age, occupation, zip; year (from the title) and the genre combination.
 * The reference uses no user or item id fields; `keepIds` adds them (and they are always added
 * when there is no side file, as the time alone is not a model).
 */
import { BucketTable } from '../preprocess/bucketTable';
import { CtrRowStore } from '../preprocess/ctrRowStore';
import type { RowSelection } from '../preprocess/rowSampling';
import { TokenTable } from '../preprocess/tokenTable';
import { fieldSourceOf, type FieldSource } from '../preprocess/vocabulary';
import type { MovieLensFormatId } from './detect';
import { criteoBucket, EMPTY_NUMBER, parseNumberRange } from './numbers';
import type { RejectReason } from './types';

const GENRES_100K = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  'Children',
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

/** Token used for every side field of a user or item missing from its side file (a left join). */
export const MISSING_TOKEN = '<missing>';

/** Attributes per user or item id, from u.user / u.item / users.dat / movies.dat. */
export interface SideTable {
  fieldNames: string[];
  rows: Map<string, string[]>;
}

export function sideFieldNames(format: MovieLensFormatId, role: 'users' | 'items'): string[] {
  if (role === 'users')
    return format === 'movielens-100k'
      ? ['age', 'gender', 'occupation', 'zip']
      : ['gender', 'age', 'occupation', 'zip'];
  return format === 'movielens-100k'
    ? ['release_year', ...GENRES_100K.map((g) => `genre_${g}`)]
    : ['year', 'genres'];
}

/** Parses one side-file line into the table; returns a reason when the line is unusable. */
export function parseSideLine(
  format: MovieLensFormatId,
  role: 'users' | 'items',
  line: string,
  table: SideTable,
): RejectReason | null {
  if (line.length === 0) return 'empty-line';
  const cols = format === 'movielens-100k' ? line.split('|') : line.split('::');
  if (role === 'users') {
    if (cols.length !== 5) return 'wrong-column-count';
    if (format === 'movielens-100k') {
      const age = Number(cols[1]);
      if (!Number.isFinite(age)) return 'bad-number';
      table.rows.set(cols[0], [ageGroup100k(age), cols[2], cols[3], cols[4]]);
    } else {
      table.rows.set(cols[0], [cols[1], cols[2], cols[3], cols[4]]);
    }
    return null;
  }
  if (format === 'movielens-100k') {
    if (cols.length !== 24) return 'wrong-column-count';
    // "01-Jan-1995" -> "1995"; a missing date is 0, as the reference's fillna(0).
    const date = cols[2];
    const year =
      date === '' ? '0' : String(parseInt(date.slice(date.lastIndexOf('-') + 1), 10) || 0);
    table.rows.set(cols[0], [year, ...cols.slice(5)]);
    return null;
  }
  if (cols.length !== 3) return 'wrong-column-count';
  const title = cols[1].trim();
  const year = title.endsWith(')') ? title.slice(-5, -1) : MISSING_TOKEN;
  const genres = cols[2].split('|').sort().join('|');
  table.rows.set(cols[0], [year, genres]);
  return null;
}

/** pd.cut(age, [0, 17, 24, 34, 44, 49, 55, 100]) with right-closed bins, as the reference. */
function ageGroup100k(age: number): string {
  const edges = [17, 24, 34, 44, 49, 55, 100];
  const labels = ['under 18', '18-24', '25-34', '35-44', '45-49', '50-55', '56+'];
  if (!(age > 0)) return MISSING_TOKEN;
  for (let i = 0; i < edges.length; i++) if (age <= edges[i]) return labels[i];
  return MISSING_TOKEN;
}

/** Streams the ratings table: user, item, rating, time. */
export class RatingsParser {
  readonly users = new TokenTable(4096);
  readonly items = new TokenTable(4096);
  readonly store: CtrRowStore;
  /** Ratings of 3, dropped by the CTR convention (not an input error). */
  neutralDropped = 0;
  private readonly delimiter: string;

  constructor(format: MovieLensFormatId, selection: RowSelection, expectedRows: number) {
    this.delimiter = format === 'movielens-100k' ? '\t' : '::';
    this.store = new CtrRowStore(2, 0, true, selection, expectedRows);
  }

  parseLine(text: string, start: number, end: number): RejectReason | null {
    if (end === start) return 'empty-line';
    const d = this.delimiter;
    const a = text.indexOf(d, start);
    const b = a < 0 || a >= end ? -1 : text.indexOf(d, a + d.length);
    const c = b < 0 || b >= end ? -1 : text.indexOf(d, b + d.length);
    if (c < 0 || c >= end) return 'wrong-column-count';
    const extra = text.indexOf(d, c + d.length);
    if (extra >= 0 && extra < end) return 'wrong-column-count';
    const rating = parseNumberRange(text, b + d.length, c);
    if (Number.isNaN(rating) || rating === EMPTY_NUMBER || rating <= 0 || rating > 5)
      return 'bad-rating';
    const time = parseNumberRange(text, c + d.length, end);
    if (Number.isNaN(time) || time === EMPTY_NUMBER) return 'bad-number';
    if (a === start || b === a + d.length) return 'wrong-column-count'; // empty user or item
    if (rating === 3) {
      this.neutralDropped++;
      return null;
    }
    const store = this.store;
    store.beginRow();
    store.idsBuffer[store.idsAt] = this.users.intern(text, start, a);
    store.idsBuffer[store.idsAt + 1] = this.items.intern(text, a + d.length, b);
    store.commit(rating > 3 ? 1 : 0, time);
    return null;
  }
}

export interface MovieLensFields {
  numRows: number;
  /** Row-major provisional ids [numRows, fields.length]. */
  ids: Int32Array;
  labels: Float32Array;
  times: Float64Array;
  fields: FieldSource[];
}

/** Joins ratings with the side tables into provisional field ids. */
export function assembleMovieLensFields(
  ratings: RatingsParser,
  users: SideTable | null,
  items: SideTable | null,
  keepIds: boolean,
): MovieLensFields {
  const rows = ratings.store.finish();
  const n = rows.numRows;
  const times = rows.times as Float64Array;
  const fields: FieldSource[] = [];
  const columns: ((r: number) => number)[] = [];

  if (keepIds || (!users && !items)) {
    fields.push(fieldSourceOf('user_id', 'identity', ratings.users.tokens));
    columns.push((r) => rows.ids[r * 2]);
    fields.push(fieldSourceOf('item_id', 'identity', ratings.items.tokens));
    columns.push((r) => rows.ids[r * 2 + 1]);
  }

  let minTime = Number.POSITIVE_INFINITY;
  for (let r = 0; r < n; r++) minTime = Math.min(minTime, times[r]);
  const timeTable = new BucketTable();
  const timeIds = new Int32Array(n);
  for (let r = 0; r < n; r++) timeIds[r] = timeTable.intern(criteoBucket(times[r] - minTime));
  fields.push(fieldSourceOf('timestamp', 'derived', timeTable.tokens));
  columns.push((r) => timeIds[r]);

  const addSide = (side: SideTable, keys: TokenTable, idColumn: 0 | 1): void => {
    const width = side.fieldNames.length;
    const tables = side.fieldNames.map(() => new TokenTable());
    // Side tokens per distinct user (or item) once, then per rating row by lookup.
    const perKey = new Int32Array(keys.size * width);
    for (let k = 0; k < keys.size; k++) {
      const attrs = side.rows.get(keys.tokens[k]);
      for (let j = 0; j < width; j++)
        perKey[k * width + j] = tables[j].internString(attrs ? attrs[j] : MISSING_TOKEN);
    }
    side.fieldNames.forEach((name, j) => {
      fields.push(fieldSourceOf(name, 'derived', tables[j].tokens));
      columns.push((r) => perKey[rows.ids[r * 2 + idColumn] * width + j]);
    });
  };
  if (users) addSide(users, ratings.users, 0);
  if (items) addSide(items, ratings.items, 1);

  const m = fields.length;
  const ids = new Int32Array(n * m);
  for (let f = 0; f < m; f++) {
    const col = columns[f];
    for (let r = 0; r < n; r++) ids[r * m + f] = col(r);
  }
  return { numRows: n, ids, labels: rows.labels, times, fields };
}
