import { describe, expect, it } from 'vitest';
import { centsToDecimalString, formatBRL, reaisToCents } from '../../../core/money.ts';

describe('money', () => {
  it('parses reais from Omie numbers and strings into exact cents', () => {
    expect(reaisToCents(186)).toBe(18600);
    expect(reaisToCents(75.5)).toBe(7550);
    expect(reaisToCents('0.07')).toBe(7);
    expect(reaisToCents(0.1 + 0.2 === 0.3 ? 0.3 : 0.3)).toBe(30);
    expect(reaisToCents('2400.00')).toBe(240000);
  });

  it('refuses what it cannot represent exactly instead of rounding', () => {
    expect(() => reaisToCents(1.005)).toThrow(RangeError);
    expect(() => reaisToCents(-1)).toThrow(RangeError);
    expect(() => reaisToCents('1e3')).toThrow(RangeError);
    expect(() => reaisToCents(0.1 + 0.2)).toThrow(RangeError); // 0.30000000000000004
    expect(() => reaisToCents(Number.NaN)).toThrow(RangeError);
  });

  it('renders API Pix valor strings with two decimals', () => {
    expect(centsToDecimalString(789)).toBe('7.89');
    expect(centsToDecimalString(18600)).toBe('186.00');
    expect(centsToDecimalString(5)).toBe('0.05');
    expect(() => centsToDecimalString(1.5)).toThrow(RangeError);
  });

  it('formats BRL for customers in pt-BR', () => {
    expect(formatBRL(18600)).toBe('R$ 186,00');
    expect(formatBRL(240000)).toBe('R$ 2.400,00');
  });
});
