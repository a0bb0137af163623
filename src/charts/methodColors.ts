/**
 * One colour per compression method (as seriesColor gives it: a lighter shade on the dark theme), in the form's order, shared by the compare charts; the
 * next-item runs' methods (NextItNet, and CpRec by its sharing) take the same palette in order.
 */
import { METHOD_CATALOG } from '../methods/catalog';
import { SHARING_SCHEMES } from '../../workers/sequence/seqProtocol';
import { seriesColor } from './chartProps';

const SEQ_METHOD_KEYS = ['nextitnet', ...SHARING_SCHEMES.map((s) => `cprec-${s}`)];

const METHOD_COLORS = [
  '#1f5fa8',
  '#c2571a',
  '#2e7d32',
  '#8e44ad',
  '#b3261e',
  '#00838f',
  '#8a5a00',
  '#5b6675',
  '#d81b60',
];

export function methodColor(methodId: string): string {
  const seq = SEQ_METHOD_KEYS.indexOf(methodId);
  const i = seq >= 0 ? seq : METHOD_CATALOG.findIndex((m) => m.id === methodId);
  return seriesColor(METHOD_COLORS[(i < 0 ? METHOD_COLORS.length - 1 : i) % METHOD_COLORS.length]);
}
