import { bucketToken } from '../formats/numbers';

const SMALL_MIN = -256;
const SMALL_MAX = 4096;

/**
 * Interns the bucket values of a numeric field (small integers) to provisional ids. Numbers key a
 * Map directly, so numeric columns cost no string work while streaming; tokens are written once
 * per distinct bucket.
 */
export class BucketTable {
  readonly tokens: string[] = [];
  private readonly ids = new Map<number, number>();
  /** Direct lookup for the buckets that occur almost always (small integers): id + 1, 0 = none. */
  private readonly small = new Int32Array(SMALL_MAX - SMALL_MIN);

  get size(): number {
    return this.tokens.length;
  }

  intern(bucket: number): number {
    if (bucket >= SMALL_MIN && bucket < SMALL_MAX) {
      const cached = this.small[bucket - SMALL_MIN];
      if (cached !== 0) return cached - 1;
    }
    let id = this.ids.get(bucket);
    if (id === undefined) {
      id = this.tokens.length;
      this.ids.set(bucket, id);
      this.tokens.push(bucketToken(bucket));
    }
    if (bucket >= SMALL_MIN && bucket < SMALL_MAX) this.small[bucket - SMALL_MIN] = id + 1;
    return id;
  }
}
