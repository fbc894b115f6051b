import { describe, expect, it } from 'vitest';
import { MARINA } from '../../sandbox/seed.ts';
import { sseFrame } from '../../console/api.ts';
import { startTestEstorno } from '../helpers/estorno.ts';
import { STAFF, login, seedUsers } from '../helpers/console.ts';

describe('GET /api/events', () => {
  it('streams what changed as server-sent events, with ids and kinds but no customer text or phone', async () => {
    const e = await startTestEstorno();
    await seedUsers(e);
    const staff = await login(e, STAFF);
    const controller = new AbortController();
    const res = await fetch(`${e.url}/api/events`, { headers: { cookie: staff.cookie }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    let stream = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body!) stream += decoder.decode(chunk as Uint8Array, { stream: true });
      } catch {
        // aborted below
      }
    })();
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8421 veio errado, segredo-do-cliente');
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    await reading;
    const conversationId = (await e.services.store.conversations.byChat(MARINA.whatsapp))!.id;
    const events = [...stream.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({ type: m[1], data: JSON.parse(m[2]!) as Record<string, unknown> }));
    expect(events.map((x) => x.type)).toEqual(expect.arrayContaining(['model_call', 'tool_call', 'guard_decision', 'refund', 'message_out', 'turn']));
    expect(events.find((x) => x.type === 'guard_decision')!.data).toMatchObject({ conversationId, decision: 'allowed' });
    for (const forbidden of ['segredo-do-cliente', 'veio errado', MARINA.whatsapp, '987654321', 'R$']) expect(stream).not.toContain(forbidden);
    await e.stop();
  });

  it('keeps only known scalar fields of an event', () => {
    const frame = sseFrame({ type: 'message_in', conversationId: 'cv_1', text: '<script>alert(1)</script>', phone: '5511987654321', reason: 'over_per_refund_cap', nested: { a: 1 } });
    expect(frame).toBe('event: message_in\ndata: {"type":"message_in","conversationId":"cv_1","reason":"over_per_refund_cap"}\n\n');
    expect(sseFrame({ type: 'x\ndata: injected' })).toMatch(/^event: message\n/);
  });
});

describe('GET /api/stats', () => {
  it('counts refunds per day, cap usage per mandate, and times each refund from its own complaint', async () => {
    // The days are UTC days and the second complaint comes two hours later: run late in the UTC day,
    // the clock starts just after the next midnight (only forward — leases and jobs compare with it), so both refunds share a day.
    const intoDay = Date.now() % 86_400_000;
    const startMs = intoDay > 20 * 3_600_000 ? 86_400_000 - intoDay + 3_600_000 : 0;
    let offsetMs = startMs;
    const e = await startTestEstorno({}, { now: () => new Date(Date.now() + offsetMs) });
    await seedUsers(e);
    const staff = await login(e, STAFF);
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8421 veio errado');
    // Two hours later the same customer complains about another order: that refund is timed from the new complaint.
    offsetMs = startMs + 2 * 3_600_000;
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8424 também veio com defeito');
    const refunds = await e.services.store.refunds.forConversation((await e.services.store.conversations.byChat(MARINA.whatsapp))!.id);
    expect(refunds.map((r) => [r.order_number, r.status])).toEqual([['8421', 'settled'], ['8424', 'settled']]);

    const stats = (await staff.call('GET', '/api/stats')).body;
    expect(stats.refunds_per_day).toHaveLength(14);
    const today = new Date(Date.now() + offsetMs).toISOString().slice(0, 10);
    expect(stats.refunds_per_day.at(-1)).toEqual({ day: today, refunds: 2, settled_cents: 18_600 + 10_000 });
    expect(stats.refunds_per_day.slice(0, -1).every((d: { refunds: number }) => d.refunds === 0)).toBe(true);
    expect(stats.mandates.find((m: { id: string }) => m.id === 'cm_support')).toMatchObject({ status: 'active', window_cap_cents: 200_000, window_used_cents: 28_600 });
    expect(stats.complaint_to_refund.count).toBe(2);
    const buckets = stats.complaint_to_refund.histogram as Array<{ from: number; le: number | null; count: number }>;
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(2);
    // Both refunds took seconds; none is counted from the first complaint two hours earlier.
    expect(buckets.filter((b) => b.le !== null && b.le <= 60).reduce((n, b) => n + b.count, 0)).toBe(2);
    await e.stop();
  });
});
