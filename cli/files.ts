/** File helpers of the headless runner (no tfjs: the score command loads without it). */
import { rename, writeFile } from 'node:fs/promises';

/** Writes `text` to `path` through a temporary file and a rename: never half a file. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
