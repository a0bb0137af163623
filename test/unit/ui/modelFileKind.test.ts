import { describe, expect, it } from 'vitest';
import {
  isSequenceFileRefusal,
  MODEL_FILE_HEAD_BYTES,
  modelFileKindOf,
  sniffModelFile,
} from '../../../src/state/modelFileKind';

describe('model file routing', () => {
  it('reads the kind from the format the exporters write first', () => {
    expect(modelFileKindOf('{"format":"recsys-lab-sequence-model","version":1,')).toBe('seq');
    expect(modelFileKindOf('{"format":"recsys-lab-model","version":1,"createdAt"')).toBe('ctr');
    expect(modelFileKindOf('{\n  "format" : "recsys-lab-sequence-model",\n')).toBe('seq');
  });

  it('says nothing when the head names neither format', () => {
    expect(modelFileKindOf('these are my notes')).toBeNull();
    expect(modelFileKindOf('{"format":"keras","version":3}')).toBeNull();
    expect(modelFileKindOf('{"version":1,"tensors":{')).toBeNull();
    expect(modelFileKindOf('{"format":"recsys-lab-sequence-mod')).toBeNull();
  });

  it('sniffs the first bytes of a file only', async () => {
    const seq = JSON.stringify({ format: 'recsys-lab-sequence-model', version: 1 });
    expect(await sniffModelFile(new Blob([seq]))).toBe('seq');
    const late = `{"padding":"${'x'.repeat(MODEL_FILE_HEAD_BYTES)}","format":"recsys-lab-model"}`;
    expect(await sniffModelFile(new Blob([late]))).toBeNull();
  });

  it("recognises the click-through reader's refusal of a sequence model file", () => {
    expect(
      isSequenceFileRefusal(
        'run.json: a sequence model file (NextItNet / CpRec): open it in the next-item task, which scores item sequences',
      ),
    ).toBe(true);
    expect(isSequenceFileRefusal('run.json: not JSON (Unexpected token)')).toBe(false);
  });
});
