import { describe, expect, it } from 'vitest';
import { sameReferenceProps } from '../../../src/charts/stableReference';

describe('sameReferenceProps (when a chart redraws its marker lines again)', () => {
  const label = (value: string) => ({ value, position: 'insideTopLeft', fontSize: 10 });

  it('treats a label written inline on each render as the same label', () => {
    expect(
      sameReferenceProps(
        { x: 120, stroke: 'red', label: label('1') },
        { x: 120, stroke: 'red', label: label('1') },
      ),
    ).toBe(true);
  });

  it('sees a moved line, a changed label and an added or removed prop', () => {
    const base = { x: 120, stroke: 'red', label: label('1') };
    expect(sameReferenceProps(base, { ...base, x: 121 })).toBe(false);
    expect(sameReferenceProps(base, { ...base, label: label('2') })).toBe(false);
    expect(sameReferenceProps(base, { ...base, strokeDasharray: '4 3' })).toBe(false);
    const withoutStroke = { x: base.x, label: base.label };
    expect(sameReferenceProps(base, withoutStroke)).toBe(false);
    expect(sameReferenceProps(withoutStroke, { ...withoutStroke, stroke: undefined })).toBe(false);
  });

  it('compares one level deep only: a nested object or an element is compared by identity', () => {
    const nested = { value: '1', style: { fill: 'red' } };
    expect(sameReferenceProps({ label: nested }, { label: { ...nested } })).toBe(true);
    expect(
      sameReferenceProps(
        { label: { value: '1', style: { fill: 'red' } } },
        { label: { value: '1', style: { fill: 'red' } } },
      ),
    ).toBe(false);
    const fn = () => null;
    expect(sameReferenceProps({ shape: fn }, { shape: fn })).toBe(true);
    expect(sameReferenceProps({ shape: fn }, { shape: () => null })).toBe(false);
  });

  it('counts NaN as equal to NaN (Object.is)', () => {
    expect(sameReferenceProps({ y: Number.NaN }, { y: Number.NaN })).toBe(true);
  });
});
