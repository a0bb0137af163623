/**
 * Which reader a model file goes to: the click-through one (format recsys-lab-model) or the
 * sequence one (format recsys-lab-sequence-model, NextItNet / CpRec). The Model files panel reads
 * the first bytes of the file on the main thread and looks for the format; when they do not say
 * (keys reordered, a file that is not the lab's), the click-through reader tries it and its
 * refusal of a sequence file sends it on to the sequence reader. Pure: no React, no engine.
 */

/** The formats as the engine's readers name them (workers/export, workers/sequence). */
export const CTR_MODEL_FORMAT = 'recsys-lab-model';
export const SEQUENCE_MODEL_FORMAT = 'recsys-lab-sequence-model';

/** Bytes read from the start of a file to find its format (the exporters write it first). */
export const MODEL_FILE_HEAD_BYTES = 300;

export type ModelFileKind = 'ctr' | 'seq';

/** The kind the head of a file names in its "format" field, or null when it names neither. */
export function modelFileKindOf(head: string): ModelFileKind | null {
  const match = /"format"\s*:\s*"([^"\\]*)"/.exec(head);
  if (!match) return null;
  if (match[1] === SEQUENCE_MODEL_FORMAT) return 'seq';
  if (match[1] === CTR_MODEL_FORMAT) return 'ctr';
  return null;
}

/** Whether the click-through reader refused a file for being a sequence model file. */
export function isSequenceFileRefusal(message: string): boolean {
  return message.includes('a sequence model file (NextItNet / CpRec)');
}

/** The kind the first MODEL_FILE_HEAD_BYTES of `file` name (null when unreadable or neither). */
export async function sniffModelFile(file: Blob): Promise<ModelFileKind | null> {
  try {
    return modelFileKindOf(await file.slice(0, MODEL_FILE_HEAD_BYTES).text());
  } catch {
    return null;
  }
}
