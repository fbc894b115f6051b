import { describe, expect, it } from 'vitest';
import { isValidCpf, maskPhone, normalizePhone, parseChatId, phoneFromParts, samePhone } from '../../../core/phone.ts';

describe('phone normalisation', () => {
  it('normalises Z-API numbers and Omie parts to 55 + DDD + number', () => {
    expect(normalizePhone('5511987654321')).toBe('5511987654321');
    expect(normalizePhone('+55 (11) 98765-4321')).toBe('5511987654321');
    expect(phoneFromParts('11', '98765-4321')).toBe('5511987654321');
    expect(phoneFromParts('21', '3333 4444')).toBe('552133334444');
  });

  it('rejects what is not a Brazilian number', () => {
    expect(normalizePhone('120363019502650977-group')).toBeNull();
    expect(normalizePhone('14155552671')).toBeNull();
    expect(normalizePhone('123')).toBeNull();
  });

  it('keeps @lid chats apart: they cannot be mapped to a number', () => {
    expect(parseChatId('65998849469@lid')).toEqual({ kind: 'lid', lid: '65998849469@lid' });
    expect(parseChatId('5511987654321')).toEqual({ kind: 'phone', phone: '5511987654321' });
    expect(parseChatId('120363019502650977-group')).toBeNull();
  });

  it('matches a mobile number with and without the ninth digit', () => {
    expect(samePhone('5511987654321', '551187654321')).toBe(true);
    expect(samePhone('551187654321', '5511987654321')).toBe(true);
    expect(samePhone('5511987654321', '5521987654321')).toBe(false);
  });

  it('never matches a mobile with the landline that shares its last eight digits', () => {
    // 11 9 3333-4444 is a mobile; 11 3333-4444 is a landline, not its legacy form.
    expect(samePhone('5511933334444', '551133334444')).toBe(false);
    expect(samePhone('551133334444', '5511933334444')).toBe(false);
    expect(samePhone('5511955554444', '551155554444')).toBe(false);
    expect(samePhone('5511977774444', '551177774444')).toBe(true);
  });

  it('masks all but the last four digits for display', () => {
    expect(maskPhone('5511987654321')).toBe('*********4321');
  });

  it('validates CPF check digits and refuses repeated digits', () => {
    expect(isValidCpf('529.982.247-25')).toBe(true);
    expect(isValidCpf('52998224724')).toBe(false);
    expect(isValidCpf('111.111.111-11')).toBe(false);
  });
});
