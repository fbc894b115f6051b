import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { templates } from '../../../prompts/templates.ts';

/** Words that would assume the customer's gender ("você será avisado"): participles and adjectives about them. */
const GENDERED = /\b(avisad|atendid|cadastrad|bem-vind|interessad|notificad|convidad|obrigad|sozinh|tranquil[oa]|preocupad|satisfeit)[oa]s?\b/i;

const sample = { amountCents: 18600, orderNumber: '8421', receiptId: 'rcp_x', publicBaseUrl: 'https://loja.example', creditNoteNumber: '1', creditNoteSeries: '1', creditNoteAccessKey: '3'.repeat(44), reason: 'fora do prazo' };

describe('customer templates', () => {
  it.each(Object.keys(templates))('%s is gender-neutral', (name) => {
    const text = (templates[name as keyof typeof templates] as (p: typeof sample) => string)(sample);
    expect(text).not.toMatch(GENDERED);
  });

  it("the scripted model's own sentences are gender-neutral too (what sandbox customers read)", () => {
    const source = readFileSync(new URL('../../../sandbox/scripted-model/policy.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(GENDERED);
    expect(source).toContain('avisaremos você');
  });

  it('refund_done links the public receipt page and names the credit note and its access key', () => {
    expect(templates.refund_done(sample)).toBe(
      '✅ Seu estorno de R$ 186,00 referente ao pedido #8421 foi concluído via Pix, na mesma conta que fez o pagamento.\n' +
        'Nota fiscal de devolução: nº 1, série 1.\n' +
        `Chave de acesso: ${'3'.repeat(44)}\n` +
        'Comprovante: https://loja.example/r/rcp_x',
    );
  });
});
