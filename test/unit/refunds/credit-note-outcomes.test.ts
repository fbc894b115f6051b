import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../../core/errors.ts';
import { MARINA } from '../../../sandbox/seed.ts';
import { Workers } from '../../../server/workers.ts';
import { proposeRefund } from '../../../refunds/guard.ts';
import { applyRailRefund, executeRefund } from '../../../refunds/refund-flow.ts';
import { jobKeys, JobKinds } from '../../../core/keys.ts';
import type { CreditNote } from '../../../providers/types.ts';
import { testServices } from '../../helpers/services.ts';

/**
 * A credit note SEFAZ rejects or denies ends its job: the case goes to staff
 * and the customer hears the truth. A note still processing comes back with
 * backoff, but no job retries forever: after its last attempt it is `dead`.
 */
async function settledRefund(fiscal: () => Promise<CreditNote>, options: { maxAttempts?: number } = {}) {
  let clock = Date.now();
  const t = await testServices({ now: () => new Date(clock) });
  t.services.fiscal = { issueCreditNote: fiscal, getCreditNote: async () => null };
  const conversation = await t.store.conversations.ensure(MARINA.whatsapp, MARINA.whatsapp, new Date(clock).toISOString());
  const decision = await proposeRefund(t.services, { id: 'support-agent', mandateId: await t.services.agentMandateId(), conversation, toolUseId: 'toolu_1' }, { orderNumber: '8421', amountCents: 18600, reason: 'defeito' });
  if (!decision.ok) throw new Error(decision.reason);
  await executeRefund(t.services, decision.refund.id);
  await applyRailRefund(t.services, decision.refund.id, { amountCents: 18600, status: 'settled', endToEndId: 'D'.padEnd(32, '1') }, 'test');
  const workers = new Workers(t.services, () => {}, options);
  const run = async () => {
    workers.wake();
    await workers.idle();
  };
  return { ...t, conversation, refundId: decision.refund.id, caseId: decision.caseId, run, advance: (ms: number) => void (clock += ms), workers };
}

describe('credit note outcomes', () => {
  it('erro_autorizacao ends the job, puts the case before staff and tells the customer honestly', async () => {
    const t = await settledRefund(async () => ({ ref: 'x', status: 'rejected', message: 'Rejeição 327: CFOP inválido' }));
    await t.run();
    expect(await t.store.jobs.byKey(jobKeys.creditNote(t.refundId))).toMatchObject({ status: 'done' });
    expect(await t.store.creditNotes.forRefund(t.refundId)).toMatchObject({ status: 'rejected', message: 'Rejeição 327: CFOP inválido' });
    expect((await t.store.conversations.get(t.conversation.id))?.mode).toBe('staff');
    const failure = (await t.store.cases.records(t.caseId)).map((r) => JSON.parse(r.body)).find((r) => r.kind === 'failure');
    expect(failure?.data).toMatchObject({ stage: 'credit_note', status: 'rejected' });
    const messages = await t.store.database.all('SELECT template, text FROM outbox WHERE conversation_id = ?', t.conversation.id) as Array<{ template: string; text: string }>;
    expect(messages.map((m) => m.template)).toEqual(['credit_note_failed']);
    expect(messages[0]!.text).toContain('R$ 186,00');
    expect(messages[0]!.text).toContain('nota fiscal de devolução não foi autorizada');
  });

  it('denegado and a Focus refusal of the note itself (422 erro_validacao_schema) end the job the same way', async () => {
    const denied = await settledRefund(async () => ({ ref: 'x', status: 'denied', message: 'Uso Denegado' }));
    await denied.run();
    expect((await denied.store.creditNotes.forRefund(denied.refundId))?.status).toBe('denied');
    const invalid = await settledRefund(async () => {
      throw new ProviderError('fiscal', 'rejected', 'Erro na validação do Schema XML', { status: 422, code: 'erro_validacao_schema' });
    });
    await invalid.run();
    expect((await invalid.store.jobs.byKey(jobKeys.creditNote(invalid.refundId)))?.status).toBe('done');
    expect(await invalid.store.creditNotes.forRefund(invalid.refundId)).toMatchObject({ status: 'rejected', message: expect.stringContaining('erro_validacao_schema') });
  });

  it('a note still processing is retried with backoff, and after the last attempt the job is dead and listed for staff', async () => {
    let calls = 0;
    const t = await settledRefund(async () => (calls++, { ref: 'x', status: 'processing' }), { maxAttempts: 3 });
    await t.run();
    expect(await t.store.jobs.byKey(jobKeys.creditNote(t.refundId))).toMatchObject({ status: 'pending', attempts: 1 });
    for (let i = 0; i < 5; i++) {
      t.advance(10 * 60_000);
      await t.run();
    }
    expect(calls).toBe(3);
    expect(await t.store.jobs.byKey(jobKeys.creditNote(t.refundId))).toMatchObject({ status: 'dead', attempts: 3 });
    expect((await t.store.jobs.dead()).map((j) => j.key)).toContain(jobKeys.creditNote(t.refundId));
    // Staff now hold the conversation, and the case says why.
    expect((await t.store.conversations.get(t.conversation.id))?.mode).toBe('staff');
    const failure = (await t.store.cases.records(t.caseId)).map((r) => JSON.parse(r.body)).find((r) => r.kind === 'failure');
    expect(failure?.data).toMatchObject({ stage: JobKinds.creditNote, reason: 'given up after the last attempt' });
    await t.workers.stop();
  });
});
