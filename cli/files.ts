/** File helpers of the headless runner (no tfjs: the score command loads without it). */
import { rename, writeFile } from 'node:fs/promises';

/** Typed arrays become plain arrays and non-finite numbers strings, so that output is plain JSON. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>);
  }
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/** Writes `text` to `path` through a temporary file and a rename: never half a file. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
