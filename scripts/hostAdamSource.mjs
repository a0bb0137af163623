// The host Adam kernel's WebAssembly module compiled from its text (hostAdam.wat), as base64.
import fs from 'node:fs';
import path from 'node:path';
import wabtInit from 'wabt';

/** @param {string} root the repository's root */
export async function compileHostAdam(root) {
  const file = path.join(root, 'workers/embedding/hostAdam.wat');
  const wabt = await wabtInit();
  const parsed = wabt.parseWat(file, fs.readFileSync(file, 'utf8'), { simd: true });
  try {
    parsed.validate();
    return Buffer.from(parsed.toBinary({}).buffer).toString('base64');
  } finally {
    parsed.destroy();
  }
}
