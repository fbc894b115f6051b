import { describe, expect, it } from 'vitest';
import { maskPhoneForStaff } from '../../console/http.ts';
import { searchKey } from '../../data/console-work.ts';
import { histogram, percentile } from '../../console/api.ts';

describe('console helpers', () => {
  it('shows staff only the area code and the last four digits of a phone', () => {
    expect(maskPhoneForStaff('5511987654321')).toBe('(11) •••••-4321');
    expect(maskPhoneForStaff('552133334444')).toBe('(21) ••••-4444');
    expect(maskPhoneForStaff(null)).toBe('WhatsApp @lid');
  });

  it('compares names without case or accents', () => {
    expect(searchKey('  João Conceição ')).toBe('joao conceicao');
  });

  it('takes nearest-rank percentiles and buckets waits by their own edges', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([4, 1, 3, 2], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 95)).toBe(100);
    expect(histogram([30, 61, 7200], [60, 3600]).map((b) => b.count)).toEqual([1, 1, 1]);
  });
});
