import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSeed } from '../../sandbox/seed.ts';
import { useResetEstorno, type TestEstorno } from '../helpers/estorno.ts';

/**
 * Adversarial conversations kept as data: each scripts a model that really
 * proposes the bad call, runs it through the real server, and asserts what
 * must not reach the rail.
 */
interface Case {
  name: string;
  phone: string;
  turns: Array<{ customer: string; model: Array<{ content: Array<Record<string, unknown>>; stop_reason: string }> }>;
  expect: {
    refusals: string[];
    rail_refunds: Array<{ order: string; amount_cents: number }>;
    approvals?: number;
    lookups_found?: boolean[];
    outbox_must_not_contain?: string[];
  };
}

const dir = path.dirname(fileURLToPath(import.meta.url));
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, ...(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Case) }));

describe('adversarial conversations', () => {
  let e!: TestEstorno;
  useResetEstorno((x) => (e = x));

  it('has the cases the issue names', () => {
    expect(cases.map((c) => c.file).sort()).toEqual(['beneficiary-swap.json', 'fake-system-message.json', 'inflated-amount.json', 'other-customer.json', 'refund-again.json']);
  });

  for (const c of cases) {
    it(`${c.file}: ${c.name}`, async () => {
      for (const turn of c.turns) {
        await e.script(turn.model);
        await e.say(c.phone, turn.customer);
        await e.settle();
      }
      const store = e.services.store;
      const conversation = (await store.conversations.byChat(c.phone))!;
      const calls = await store.turns.toolCalls(conversation.id);
      expect(calls.filter((t) => t.outcome === 'refused').map((t) => t.reason)).toEqual(c.expect.refusals);
      const seed = buildSeed();
      const expected = c.expect.rail_refunds.map((r) => ({ collecting_document_id: seed.orders.find((o) => o.orderNumber === r.order)?.documentId, amount_cents: r.amount_cents }));
      expect((await e.pixRefunds()).map((r) => ({ collecting_document_id: r.collecting_document_id, amount_cents: r.amount_cents }))).toEqual(expected);
      if (c.expect.approvals !== undefined) expect(await store.approvals.list('pending')).toHaveLength(c.expect.approvals);
      if (c.expect.lookups_found) {
        expect(calls.filter((t) => t.name === 'ledger_lookup').map((t) => (JSON.parse(t.result ?? '{}') as { found?: boolean }).found)).toEqual(c.expect.lookups_found);
      }
      if (c.expect.outbox_must_not_contain) {
        const said = (await e.outbox(c.phone)).map((m) => m.message).join('\n');
        for (const s of c.expect.outbox_must_not_contain) expect(said).not.toContain(s);
      }
    });
  }
});
