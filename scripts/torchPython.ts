// The python3 that can import PyTorch (for the reference figures beside the lab's), or why none
// can: $PYTHON, then python3, then /usr/bin/python3.
import { spawnSync } from 'node:child_process';

/** The first interpreter that imports `modules` ("torch", "torch, numpy"), or the reasons. */
export function findTorchPython(modules = 'torch'): { python: string | null; why: string } {
  const tried: string[] = [];
  for (const python of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (!python) continue;
    const r = spawnSync(python, ['-c', `import ${modules}`], { encoding: 'utf8' });
    if (r.status === 0) return { python, why: '' };
    const reason = r.error
      ? r.error.message
      : (r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`);
    tried.push(`${python}: ${reason}`);
  }
  return { python: null, why: tried.join('; ') };
}
