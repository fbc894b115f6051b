import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SANDBOX_CREDENTIALS } from '../../sandbox/credentials.ts';
import { fault, startTestEstorno, type TestEstorno } from '../helpers/estorno.ts';
import { ADMIN, login, seedUsers, type Session } from '../helpers/console.ts';

/**
 * The scenario suite as data (τ²-bench style): each `test/scenarios/*.json`
 * is a customer script, a seed (the sandbox's, plus setup steps), and the
 * expected end state — refunds at the rail, messages delivered, the
 * conversation's state, tools that must not be called. `expect` holds what
 * any model must achieve; `expect_scripted` adds the scripted model's exact
 * words. The same runner serves `npm test` (scripted model) and `npm run eval`.
 */

const MARINA = '5511987654321';

const step = z.union([
  z.object({ say: z.string(), phone: z.string().optional() }).strict(),
  z.object({ burst: z.array(z.string()).min(2), phone: z.string().optional() }).strict(),
  z.object({ media: z.record(z.string(), z.unknown()), phone: z.string().optional() }).strict(),
  z.object({ fault: z.object({ provider: z.string(), mode: z.string(), count: z.number().int() }).strict() }).strict(),
  z.object({ staff: z.enum(['takeover', 'handback', 'close']), phone: z.string().optional() }).strict(),
  z.object({ staff_message: z.string(), phone: z.string().optional() }).strict(),
  z.object({ staff_note: z.string(), phone: z.string().optional() }).strict(),
  z.object({ advance_ms: z.number().int().positive() }).strict(),
  z.object({ approve: z.string() }).strict(),
  z.object({ reject: z.object({ reason: z.string(), customer_message: z.string().optional() }).strict() }).strict(),
  z.object({ mandate: z.object({ action: z.enum(['revoke', 'pause', 'resume']), id: z.string() }).strict() }).strict(),
  z.object({ issue_mandate: z.object({ id: z.string(), agent_id: z.string(), per_refund_cap_cents: z.number().int(), window_cap_cents: z.number().int() }).strict() }).strict(),
  z.object({ script: z.array(z.object({ content: z.array(z.unknown()), stop_reason: z.string() })) }).strict(),
]);

const expectation = z
  .object({
    refunds_at_rail: z.array(z.number().int()).optional(),
    state: z.enum(['agent', 'waiting_for_staff', 'with_staff', 'closed']).optional(),
    handoff_reason: z.string().nullable().optional(),
    tools_not_called: z.array(z.string()).optional(),
    tools_called: z.array(z.string()).optional(),
    guard_refusals: z.array(z.string()).optional(),
    no_agent_messages_after_takeover: z.boolean().optional(),
    answered_after_handback: z.boolean().optional(),
    model_saw: z.array(z.string()).optional(),
    model_calls_max: z.number().int().optional(),
    messages_count: z.number().int().optional(),
    alerts: z.array(z.string()).optional(),
    readyz: z.enum(['ok', 'degraded']).optional(),
    transcript_has_media: z.boolean().optional(),
    said: z.array(z.string()).optional(),
    not_said: z.array(z.string()).optional(),
    last_said: z.string().optional(),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: z.string(),
    covers: z.array(z.string()).default([]),
    description: z.string(),
    phone: z.string().default(MARINA),
    steps: z.array(step).min(1),
    expect: expectation,
    expect_scripted: expectation.optional(),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;

const DIR = path.dirname(fileURLToPath(import.meta.url));

export function loadScenarios(dir = DIR): Scenario[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const parsed = scenarioSchema.safeParse(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
      if (!parsed.success) throw new Error(`${f}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return parsed.data;
    });
}

/** A fresh server for one scenario (nothing leaks between scenarios), with a clock the scenario moves forward. */
export interface ScenarioServer {
  e: TestEstorno;
  advance(ms: number): void;
  scripted: boolean;
  stop(): Promise<void>;
}

export async function startScenarioServer(env: Record<string, string> = {}): Promise<ScenarioServer> {
  let offset = 0;
  // A short debounce, as in production: a burst is one turn.
  const e = await startTestEstorno({ TURN_DEBOUNCE_MS: '30', ...env }, { now: () => new Date(Date.now() + offset) });
  return { e, advance: (ms) => void (offset += ms), scripted: e.modelKind === 'scripted', stop: () => e.stop() };
}

/** Runs one scenario on its own server (started with `env`) and stops it. */
export async function runScenarioFresh(s: Scenario, env: Record<string, string> = {}, hooks: { beforeSteps?: (e: TestEstorno) => void } = {}): Promise<ScenarioResult> {
  const server = await startScenarioServer(env);
  try {
    return await runScenario(server, s, hooks);
  } finally {
    await server.stop();
  }
}

export interface ScenarioResult {
  name: string;
  ok: boolean;
  failures: string[];
  transcript: string[];
}

export async function runScenario(server: ScenarioServer, s: Scenario, hooks: { beforeSteps?: (e: TestEstorno) => void } = {}): Promise<ScenarioResult> {
  const { e } = server;
  hooks.beforeSteps?.(e);
  await seedUsers(e);
  const admin: Session = await login(e, ADMIN);
  const conversationOf = async (phone: string) => await e.services.store.conversations.byChat(phone);
  const staffTexts: string[] = [];
  let takeoverAt: number | null = null;
  let handbackAt: number | null = null;
  for (const st of s.steps) {
    const phone = ('phone' in st && st.phone) || s.phone;
    if ('say' in st) await e.say(phone, st.say);
    else if ('burst' in st) {
      // Sent back to back, without waiting for answers: one burst.
      for (const text of st.burst) await e.say(phone, text);
    } else if ('media' in st) {
      const media = JSON.parse(JSON.stringify(st.media).replaceAll('{{media}}', `${e.url}/sandbox/media`)) as Record<string, unknown>;
      await sayRaw(e, phone, media);
    } else if ('fault' in st) await fault(e, st.fault.provider, st.fault.mode, st.fault.count);
    else if ('staff' in st) {
      const c = await conversationOf(phone);
      if (!c) throw new Error('no conversation to act on');
      if (st.staff === 'takeover') takeoverAt = (await e.outbox(phone)).length;
      const r = await admin.call('POST', `/api/conversations/${c.id}/${st.staff}`);
      if (r.status !== 200) throw new Error(`${st.staff}: ${r.status} ${JSON.stringify(r.body)}`);
      if (st.staff === 'handback') handbackAt = (await e.outbox(phone)).length;
    } else if ('staff_message' in st) {
      const c = (await conversationOf(phone))!;
      staffTexts.push(st.staff_message);
      const r = await admin.call('POST', `/api/conversations/${c.id}/messages`, { text: st.staff_message });
      if (r.status !== 201) throw new Error(`staff message: ${r.status} ${JSON.stringify(r.body)}`);
    } else if ('staff_note' in st) {
      const c = (await conversationOf(phone))!;
      const r = await admin.call('POST', `/api/conversations/${c.id}/notes`, { text: st.staff_note });
      if (r.status !== 201) throw new Error(`note: ${r.status}`);
    } else if ('advance_ms' in st) {
      // Time passes in steps, so that jobs due along the way run in order.
      const slices = Math.min(20, Math.ceil(st.advance_ms / 5_000));
      for (let i = 0; i < slices; i++) {
        server.advance(st.advance_ms / slices);
        e.workers.wake();
        await e.settle();
      }
    } else if ('approve' in st || 'reject' in st) {
      const [approval] = await e.services.store.approvals.list('pending');
      if (!approval) throw new Error('no pending approval');
      const r = 'approve' in st
        ? await admin.call('POST', `/api/approvals/${approval.id}/approve`, { reason: st.approve })
        : await admin.call('POST', `/api/approvals/${approval.id}/reject`, st.reject);
      if (r.status !== 200) throw new Error(`decision: ${r.status} ${JSON.stringify(r.body)}`);
    } else if ('mandate' in st) {
      const r = await admin.call('POST', `/api/mandates/${st.mandate.id}/${st.mandate.action}`, { reason: 'scenario' });
      if (r.status !== 200) throw new Error(`mandate: ${r.status} ${JSON.stringify(r.body)}`);
    } else if ('issue_mandate' in st) {
      const r = await admin.call('POST', '/api/mandates', st.issue_mandate);
      if (r.status !== 201) throw new Error(`issue: ${r.status} ${JSON.stringify(r.body)}`);
    } else if ('script' in st) await e.script(st.script);
    await e.settle();
  }
  await e.settle();
  await fetch(`${e.url}/sandbox/model/script`, { method: 'DELETE' });

  const outbox = await e.outbox(s.phone);
  const said = outbox.map((m) => m.message);
  const failures: string[] = [];
  const check = async (x: z.infer<typeof expectation>) => {
    const c = await conversationOf(s.phone);
    const store = e.services.store;
    if (x.refunds_at_rail) {
      return e.pixRefunds().then((rail) => {
        const got = rail.map((r) => r.amount_cents).sort((a, b) => a - b);
        const want = [...x.refunds_at_rail!].sort((a, b) => a - b);
        if (JSON.stringify(got) !== JSON.stringify(want)) failures.push(`refunds at the rail: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      }).then(() => rest(x, c, store));
    }
    return Promise.resolve(rest(x, c, store));
  };
  const rest = async (x: z.infer<typeof expectation>, c: Awaited<ReturnType<typeof conversationOf>>, store: TestEstorno['services']['store']) => {
    if (x.state && c?.state !== x.state) failures.push(`state ${c?.state}, expected ${x.state}`);
    if (x.handoff_reason !== undefined && (c?.handoff_reason ?? null) !== x.handoff_reason) failures.push(`handoff reason ${c?.handoff_reason}, expected ${x.handoff_reason}`);
    const tools = c ? (await store.turns.toolCalls(c.id)).map((t) => t.name) : [];
    for (const t of x.tools_not_called ?? []) if (tools.includes(t)) failures.push(`tool ${t} was called`);
    for (const t of x.tools_called ?? []) if (!tools.includes(t)) failures.push(`tool ${t} was not called`);
    const refusals = c ? (await store.guardDecisions.forConversation(c.id)).map((d) => d.reason) : [];
    for (const r of x.guard_refusals ?? []) if (!refusals.includes(r)) failures.push(`no guard refusal ${r} (got ${JSON.stringify(refusals)})`);
    if (x.no_agent_messages_after_takeover) {
      const after = said.slice(takeoverAt ?? said.length).filter((m) => !staffTexts.includes(m));
      if (after.length > 0) failures.push(`the service spoke after the takeover: ${JSON.stringify(after)}`);
    }
    if (x.answered_after_handback && said.length <= (handbackAt ?? said.length)) failures.push('nothing was said after the hand back');
    const requests = JSON.stringify(e.sandbox?.model.requests() ?? []);
    for (const m of x.model_saw ?? []) if (server.scripted && !requests.includes(m)) failures.push(`the model never saw ${JSON.stringify(m)}`);
    if (x.model_calls_max !== undefined && c && (await store.turns.modelCalls(c.id)).length > x.model_calls_max) failures.push(`${(await store.turns.modelCalls(c.id)).length} model calls, at most ${x.model_calls_max}`);
    if (x.messages_count !== undefined && said.length !== x.messages_count) failures.push(`${said.length} messages, expected ${x.messages_count}`);
    if (x.alerts) {
      const alerts = ((await admin.call('GET', '/api/alerts')).body as Array<{ kind: string }>).map((a) => a.kind);
      for (const a of x.alerts) if (!alerts.includes(a)) failures.push(`no alert ${a}`);
    }
    if (x.readyz) {
      const r = (await (await fetch(`${e.url}/readyz`)).json()) as { status: string };
      if (r.status !== x.readyz) failures.push(`readyz ${r.status}, expected ${x.readyz}`);
    }
    if (x.transcript_has_media && c) {
      const t = (await admin.call('GET', `/api/conversations/${c.id}`)).body as { entries: Array<{ media?: unknown }> };
      if (!t.entries.some((en) => en.media)) failures.push('the transcript shows no media');
    }
    const all = said.join('\n');
    for (const m of x.said ?? []) if (!all.includes(m)) failures.push(`never said ${JSON.stringify(m)}`);
    for (const m of x.not_said ?? []) if (all.includes(m)) failures.push(`said ${JSON.stringify(m)}`);
    if (x.last_said && !(said.at(-1) ?? '').includes(x.last_said)) failures.push(`last message ${JSON.stringify(said.at(-1))}, expected it to contain ${JSON.stringify(x.last_said)}`);
  };
  await check(s.expect);
  if (server.scripted && s.expect_scripted) await check(s.expect_scripted);
  return { name: s.name, ok: failures.length === 0, failures, transcript: said };
}

/** A Z-API ReceivedCallback with media parts (and no text unless given). */
async function sayRaw(e: TestEstorno, phone: string, parts: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${e.url}/webhooks/zapi/${e.webhookToken}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'ReceivedCallback', instanceId: SANDBOX_CREDENTIALS.zapi.instanceId, messageId: `SCN${Math.random().toString(16).slice(2).toUpperCase()}`,
      phone, fromMe: false, isGroup: false, momment: Date.now(), status: 'RECEIVED', senderName: 'Cliente', ...parts,
    }),
  });
  if (res.status !== 200) throw new Error(`media webhook: ${res.status} ${await res.text()}`);
}
