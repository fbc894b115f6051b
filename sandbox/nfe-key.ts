/**
 * Builds a 44-digit NF-e access key with a valid check digit (PROVIDERS.md §5.1):
 * cUF(2) AAMM(4) CNPJ(14) mod(2) serie(3) nNF(9) tpEmis(1) cNF(8) cDV(1).
 */
export function nfeAccessKey(parts: { uf: string; yymm: string; cnpj: string; series: number; number: number; code: number }): string {
  const body =
    parts.uf.padStart(2, '0') +
    parts.yymm +
    parts.cnpj.padStart(14, '0') +
    '55' +
    String(parts.series).padStart(3, '0') +
    String(parts.number).padStart(9, '0') +
    '1' +
    String(parts.code).padStart(8, '0');
  return body + String(nfeCheckDigit(body));
}

/** Mod 11 with weights 2..9 cycling from the right; remainder 0 or 1 gives 0. */
export function nfeCheckDigit(body43: string): number {
  let sum = 0;
  let weight = 2;
  for (let i = body43.length - 1; i >= 0; i--) {
    sum += Number(body43[i]) * weight;
    weight = weight === 9 ? 2 : weight + 1;
  }
  const r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}

export function isValidNfeKey(key: string): boolean {
  return /^\d{44}$/.test(key) && nfeCheckDigit(key.slice(0, 43)) === Number(key[43]);
}
