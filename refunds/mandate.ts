import { z } from 'zod';
import { canonicalJson } from '../core/canonical.ts';
import { signText, verifyText, type SigningKey } from '../core/signing.ts';
import type { Store } from '../data/store.ts';
import type { MandateRow } from '../data/mandates.ts';

/**
 * A mandate: a signed, revocable, per-agent spend cap (DESIGN invariant 4).
 * The document is canonical JSON signed with Ed25519; the key lives outside
 * the database, so a cap raised by hand in SQLite fails verification.
 */
export const mandateDocument = z
  .object({
    id: z.string().regex(/^[a-z0-9_]{1,64}$/),
    version: z.number().int().min(1),
    agent_id: z.string().min(1).max(64),
    per_refund_cap_cents: z.number().int().min(0),
    window_cap_cents: z.number().int().min(0),
    window_seconds: z.number().int().min(60),
    not_before: z.iso.datetime(),
    expires_at: z.iso.datetime(),
    issued_by: z.string().min(1),
    issued_at: z.iso.datetime(),
  })
  .strict();

export type MandateDocument = z.infer<typeof mandateDocument>;

export type MandateStatus = 'active' | 'paused' | 'revoked' | 'expired';
const STATUSES: readonly string[] = ['active', 'paused', 'revoked'];

export type MandateCheck =
  | { ok: true; mandate: MandateDocument; signature: string; keyId: string }
  | { ok: false; reason: 'mandate_missing' | 'mandate_unreadable' | 'bad_signature' | 'mandate_inactive'; detail: string; status?: string };

export function signMandate(key: SigningKey, doc: MandateDocument): MandateRow {
  const document = canonicalJson(doc);
  return {
    id: doc.id,
    version: doc.version,
    agent_id: doc.agent_id,
    document,
    signature: signText(key, document),
    key_id: key.keyId,
    created_at: doc.issued_at,
  };
}

/** Issues a new mandate, or a new version of one (caps change = re-sign), and marks it active. */
export async function issueMandate(
  store: Store,
  key: SigningKey,
  input: Omit<MandateDocument, 'version' | 'issued_at' | 'not_before' | 'expires_at'> & { not_before?: string; expires_at?: string },
  now: Date,
): Promise<MandateDocument> {
  return await store.tx(async () => {
    const previous = await store.mandates.latest(input.id);
    const doc = mandateDocument.parse({
      ...input,
      version: previous ? previous.version + 1 : 1,
      not_before: input.not_before ?? now.toISOString(),
      expires_at: input.expires_at ?? new Date(now.getTime() + 365 * 86_400_000).toISOString(),
      issued_at: now.toISOString(),
    });
    await store.mandates.insertVersion(signMandate(key, doc));
    if (!previous) await store.mandates.addEvent(doc.id, 'active', input.issued_by, 'issued', now.toISOString());
    return doc;
  });
}

/**
 * Reads the mandate afresh and verifies it: signature over the stored bytes,
 * the document's own shape, status (newest event) and validity period.
 * Anything it cannot read is refused: fail closed (invariant 10).
 */
export async function checkMandate(store: Store, key: Pick<SigningKey, 'publicKey'>, mandateId: string, now: Date): Promise<MandateCheck> {
  const row = await store.mandates.latest(mandateId);
  if (!row) return { ok: false, reason: 'mandate_missing', detail: `no mandate ${mandateId}` };
  if (!verifyText(key.publicKey, row.document, row.signature)) {
    return { ok: false, reason: 'bad_signature', detail: `mandate ${mandateId} v${row.version}: signature does not verify` };
  }
  let doc: MandateDocument;
  try {
    doc = mandateDocument.parse(JSON.parse(row.document));
  } catch {
    return { ok: false, reason: 'mandate_unreadable', detail: `mandate ${mandateId} v${row.version}: document unreadable` };
  }
  if (doc.id !== row.id || doc.version !== row.version || doc.agent_id !== row.agent_id) {
    return { ok: false, reason: 'bad_signature', detail: `mandate ${mandateId}: row does not match its signed document` };
  }
  const status = (await store.mandates.currentStatus(mandateId))?.status;
  if (status === undefined || !STATUSES.includes(status)) {
    return { ok: false, reason: 'mandate_unreadable', detail: `mandate ${mandateId}: status ${String(status)} unreadable` };
  }
  if (status !== 'active') return { ok: false, reason: 'mandate_inactive', detail: `mandate ${mandateId} is ${status}`, status };
  const t = now.getTime();
  if (t < Date.parse(doc.not_before)) return { ok: false, reason: 'mandate_inactive', detail: `mandate ${mandateId} not valid before ${doc.not_before}`, status: 'not_yet_valid' };
  if (t >= Date.parse(doc.expires_at)) return { ok: false, reason: 'mandate_inactive', detail: `mandate ${mandateId} expired at ${doc.expires_at}`, status: 'expired' };
  return { ok: true, mandate: doc, signature: row.signature, keyId: row.key_id };
}

/** The sandbox's default mandate (CONTRACT.md): R$ 500,00 per refund, R$ 2.000,00 per rolling 24 h. */
export const DEFAULT_MANDATE = {
  id: 'cm_support',
  agent_id: 'support-agent',
  per_refund_cap_cents: 50_000,
  window_cap_cents: 200_000,
  window_seconds: 86_400,
  issued_by: 'sandbox',
} as const;

/** The mandate approvals execute under: staff approvals get a larger cap. */
export const APPROVER_MANDATE = {
  id: 'cm_staff_approvals',
  agent_id: 'staff-approver',
  per_refund_cap_cents: 1_000_000,
  window_cap_cents: 5_000_000,
  window_seconds: 86_400,
  issued_by: 'sandbox',
} as const;

export type MandateAction = 'pause' | 'resume' | 'revoke';

/**
 * Pause, resume or revoke: a status event, read afresh by the guard at every
 * execution, so it bites on the very next proposal. A revoked mandate stays revoked.
 */
export async function setMandateStatus(store: Store, mandateId: string, action: MandateAction, actor: string, reason: string | null, now: Date): Promise<{ ok: true; status: string } | { ok: false; error: string }> {
  return await store.tx(async () => {
    if (!await store.mandates.latest(mandateId)) return { ok: false as const, error: `no mandate ${mandateId}` };
    const current = (await store.mandates.currentStatus(mandateId))?.status;
    if (current === 'revoked') return { ok: false as const, error: `mandate ${mandateId} is revoked; issue a new one` };
    const status = action === 'pause' ? 'paused' : action === 'resume' ? 'active' : 'revoked';
    if (action === 'resume' && current !== 'paused') return { ok: false as const, error: `mandate ${mandateId} is ${current}, not paused` };
    await store.mandates.addEvent(mandateId, status, actor, reason, now.toISOString());
    return { ok: true as const, status };
  });
}

/** Changes caps: a new version, re-signed; the old versions stay for the audit trail. */
export async function changeCaps(
  store: Store,
  key: SigningKey,
  mandateId: string,
  caps: Partial<Pick<MandateDocument, 'per_refund_cap_cents' | 'window_cap_cents' | 'window_seconds' | 'expires_at'>>,
  actor: string,
  now: Date,
): Promise<{ ok: true; mandate: MandateDocument } | { ok: false; error: string }> {
  const row = await store.mandates.latest(mandateId);
  if (!row) return { ok: false, error: `no mandate ${mandateId}` };
  if (!verifyText(key.publicKey, row.document, row.signature)) return { ok: false, error: `mandate ${mandateId} does not verify; refusing to build on it` };
  if ((await store.mandates.currentStatus(mandateId))?.status === 'revoked') return { ok: false, error: `mandate ${mandateId} is revoked` };
  const current = mandateDocument.parse(JSON.parse(row.document));
  const { version: _v, issued_at: _i, not_before: _n, issued_by: _b, ...rest } = current;
  const mandate = await issueMandate(store, key, { ...rest, ...caps, issued_by: actor, not_before: current.not_before, expires_at: caps.expires_at ?? current.expires_at }, now);
  return { ok: true, mandate };
}

/** Every mandate with its newest version, status and verification, for the console and the CLI. */
export async function listMandates(store: Store, key: Pick<SigningKey, 'publicKey'>, now: Date) {
  return Promise.all((await store.mandates.ids()).map(async (id) => {
    const row = await store.mandates.latest(id) as MandateRow;
    const check = await checkMandate(store, key, id, now);
    let document: unknown = null;
    try {
      document = JSON.parse(row.document);
    } catch {
      document = null;
    }
    return {
      id,
      version: row.version,
      agent_id: row.agent_id,
      status: (await store.mandates.currentStatus(id))?.status ?? 'unknown',
      verifies: check.ok || (check.reason !== 'bad_signature' && check.reason !== 'mandate_unreadable'),
      usable: check.ok,
      refusal: check.ok ? null : check.reason,
      document,
      signature: row.signature,
      key_id: row.key_id,
      versions: (await store.mandates.versions(id)).length,
    };
  }));
}

/** The agent id the signed mandate was issued to (its newest version); null when there is no such mandate. */
export async function mandateAgentOf(store: Store, mandateId: string): Promise<string | null> {
  return (await store.mandates.latest(mandateId))?.agent_id ?? null;
}

/**
 * The mandate an agent proposes under: the newest one issued to its agent id
 * that verifies and is active now. Revoking one and issuing another for the
 * same agent therefore restores refunds at the next proposal. Null when the
 * agent holds no usable mandate.
 */
export async function activeMandateFor(store: Store, key: Pick<SigningKey, 'publicKey'>, agentId: string, now: Date): Promise<string | null> {
  const rows: MandateRow[] = [];
  for (const id of await store.mandates.ids()) rows.push((await store.mandates.latest(id)) as MandateRow);
  const held = rows.filter((row) => row.agent_id === agentId).sort((a, b) => b.created_at.localeCompare(a.created_at));
  for (const row of held) if ((await checkMandate(store, key, row.id, now)).ok) return row.id;
  return null;
}

/** The agent id the support agent proposes under (CONTRACT.md's default mandate). */
export const SUPPORT_AGENT_ID = DEFAULT_MANDATE.agent_id;
