import { createPublicKey, type KeyObject } from 'node:crypto';
import express from 'express';
import { canonicalJson, sha256Hex } from '../core/canonical.ts';
import { formatBRL } from '../core/money.ts';
import { verifyText, type SigningKey } from '../core/signing.ts';
import type { Store } from '../data/store.ts';
import { GENESIS_HASH, sealMessage } from '../refunds/cases.ts';
import { loadReceipt, verifyReceipt, type Receipt, type Verdict } from '../refunds/verify-receipt.ts';

/**
 * The customer's receipt, public: `GET /r/<receipt id>` (a page in pt-BR),
 * `GET /r/<receipt id>.json` (for third-party verification) and
 * `GET /r/public-key.pem`. The receipt id is 20 random base36 characters, so
 * the link works like a capability, as the WhatsApp confirmation sends it.
 *
 * The chain's records may hold personal data (the verification record holds
 * the order and the payer's payment; the guard decision quotes the
 * customer's message). A record's hash covers its whole body, so a redacted
 * body could not be verified: the public form carries every record's
 * `prev_hash` and `hash`, the bodies only of records whose fields are all on
 * the list below, and the seal. Anyone can then check the chain's links, the
 * disclosed bodies and the seal with the public key (`verifyPublicReceipt`).
 */

export const PUBLIC_RECEIPT_FORMAT = 'estorno-public-receipt-v1';

/** Records whose body is published, with every field they may carry; any other field withholds the body. */
const DISCLOSED: Record<string, readonly string[]> = {
  refund_requested: ['refund_id', 'status', 'rail', 'rail_refund_id', 'end_to_end_id', 'amount_cents', 'source'],
  refund_status: ['refund_id', 'status', 'rail', 'rail_refund_id', 'end_to_end_id', 'amount_cents', 'source'],
  credit_note: ['refund_id', 'ref', 'number', 'series', 'access_key'],
  notification: ['template', 'outbox_id', 'message_id', 'zaap_id'],
};

const STEP_LABELS: Record<string, string> = {
  complaint: 'Reclamação recebida',
  verification: 'Pedido e pagamento conferidos',
  guard_decision: 'Estorno autorizado dentro do limite',
  approval: 'Estorno aprovado pela equipe',
  refund_requested: 'Estorno solicitado via Pix',
  refund_status: 'Estorno concluído via Pix',
  credit_note: 'Nota fiscal de devolução emitida',
  notification: 'Confirmação enviada pelo WhatsApp',
  failure: 'Estorno não concluído',
};

export interface PublicRecord {
  seq: number;
  kind: string;
  at: string | null;
  prev_hash: string;
  hash: string;
  /** The exact canonical JSON the hash covers; absent when it may hold personal data. */
  body?: string;
}

export interface PublicReceipt {
  format: typeof PUBLIC_RECEIPT_FORMAT;
  receipt_id: string;
  summary: {
    order_number: string;
    amount_cents: number | null;
    refunded_at: string | null;
    status: 'open' | 'sealed' | 'failed';
    credit_note: { number: string | null; series: string | null; access_key: string | null } | null;
  };
  records: PublicRecord[];
  seal: Receipt['seal'];
  seal_message: string | null;
  public_key_url: string;
  withheld: string;
  /** The server's own check of the full chain (every body), for convenience: verify it yourself. */
  verification: Verdict;
}

interface Parsed {
  kind: string;
  at: string | null;
  data: Record<string, unknown>;
}

function parseBody(body: string): Parsed | null {
  try {
    const b = JSON.parse(body) as { kind?: unknown; at?: unknown; data?: unknown };
    return { kind: String(b.kind), at: typeof b.at === 'string' ? b.at : null, data: (b.data && typeof b.data === 'object' ? b.data : {}) as Record<string, unknown> };
  } catch {
    return null;
  }
}

function disclosable(kind: string, data: Record<string, unknown>): boolean {
  const allowed = DISCLOSED[kind];
  return allowed !== undefined && Object.keys(data).every((k) => allowed.includes(k));
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);

/** The public form of a receipt: hashes for every record, bodies only where no personal data can be. */
export async function publicReceipt(store: Store, id: string, key: { publicKey: KeyObject }, publicBaseUrl: string): Promise<PublicReceipt | null> {
  const found = await store.cases.get(id);
  const receipt = found ? await loadReceipt(store, id) : null;
  if (!found || !receipt) return null;
  const parsed = receipt.records.map((r) => parseBody(r.body));
  const last = (kind: string) => parsed.filter((p): p is Parsed => p?.kind === kind).at(-1);
  const settled = last('refund_status');
  const requested = last('refund_requested');
  const note = last('credit_note');
  const amount = settled?.data.amount_cents ?? requested?.data.amount_cents;
  return {
    format: PUBLIC_RECEIPT_FORMAT,
    receipt_id: id,
    summary: {
      order_number: found.order_number,
      amount_cents: Number.isInteger(amount) ? (amount as number) : null,
      refunded_at: settled?.at ?? null,
      status: found.status,
      credit_note: note ? { number: str(note.data.number), series: str(note.data.series), access_key: str(note.data.access_key) } : null,
    },
    records: receipt.records.map((r, i) => {
      const p = parsed[i];
      return { seq: r.seq, kind: r.kind, at: p?.at ?? null, prev_hash: r.prev_hash, hash: r.hash, ...(p && disclosable(r.kind, p.data) ? { body: r.body } : {}) };
    }),
    seal: receipt.seal,
    seal_message: receipt.seal ? sealMessage(id, receipt.seal.head_seq, receipt.seal.head_hash) : null,
    public_key_url: `${publicBaseUrl}/r/public-key.pem`,
    withheld:
      'Records without a body may hold personal data (the order and payment as verified, the customer\'s message), so only their hashes are public. ' +
      'The chain still verifies link by link (each prev_hash is the previous hash), every published body hashes to its record, and the seal signs the last hash.',
    verification: verifyReceipt(receipt, key.publicKey),
  };
}

/**
 * Verifies the public form with only the public key: sequence, links, the
 * bodies that are published (canonical, hashed, matching their record) and
 * the seal over the head. Withheld bodies are taken on their hash.
 */
export function verifyPublicReceipt(receipt: Pick<PublicReceipt, 'receipt_id' | 'records' | 'seal'>, publicKeyPem: string): Verdict {
  const publicKey = createPublicKey(publicKeyPem);
  let prev = GENESIS_HASH;
  for (const [i, r] of receipt.records.entries()) {
    const step = `record ${i + 1} (${r.kind})`;
    if (r.seq !== i + 1) return { valid: false, step, reason: `sequence ${r.seq} where ${i + 1} was expected` };
    if (r.prev_hash !== prev) return { valid: false, step, reason: 'prev_hash does not match the hash of the previous record' };
    if (!/^[0-9a-f]{64}$/.test(r.hash)) return { valid: false, step, reason: 'hash is not 64 hex characters' };
    if (r.body !== undefined) {
      let b: Record<string, unknown>;
      try {
        b = JSON.parse(r.body) as Record<string, unknown>;
      } catch {
        return { valid: false, step, reason: 'body is not JSON' };
      }
      if (canonicalJson(b) !== r.body) return { valid: false, step, reason: 'body is not in canonical form' };
      if (b.case_id !== receipt.receipt_id || b.seq !== r.seq || b.kind !== r.kind || b.prev_hash !== r.prev_hash) return { valid: false, step, reason: 'body does not match its record' };
      if (sha256Hex(r.body) !== r.hash) return { valid: false, step, reason: 'hash does not match the body' };
    }
    prev = r.hash;
  }
  if (!receipt.seal) return { valid: true, sealed: false, outcome: null, records: receipt.records.length };
  if (receipt.seal.head_seq !== receipt.records.length || receipt.seal.head_hash !== prev) return { valid: false, step: 'seal', reason: 'the seal does not cover the last record' };
  if (!verifyText(publicKey, sealMessage(receipt.receipt_id, receipt.seal.head_seq, receipt.seal.head_hash), receipt.seal.signature)) {
    return { valid: false, step: 'seal', reason: 'the signature does not verify with the receipt public key' };
  }
  return { valid: true, sealed: true, outcome: receipt.seal.outcome, records: receipt.records.length };
}

const RECEIPT_ID = /^rcp_[a-z0-9]{1,40}$/;
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const day = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'short', timeZone: 'America/Sao_Paulo' });
const hour = new Intl.DateTimeFormat('pt-BR', { timeStyle: 'short', timeZone: 'America/Sao_Paulo' });
/** "23/11/2026 às 10:52", Brasília time, as the customer reads it. */
const date = (iso: string | null) => (iso ? `${day.format(new Date(iso))} às ${hour.format(new Date(iso))}` : '—');
const accessKey = (k: string) => k.replace(/(\d{4})(?=\d)/g, '$1 ');

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)}</title>
<link rel="icon" href="/console/favicon.svg" type="image/svg+xml">
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:1.5rem auto;padding:0 1rem;color:#1d2a24;background:#f6f8f7}
main{background:#fff;border:1px solid #dde5e0;border-radius:12px;padding:1.25rem 1.5rem}
h1{font-size:1.35rem;margin:.2rem 0 1rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0}
dt{color:#5b6b63}dd{margin:0;font-weight:600;overflow-wrap:anywhere}.ok,.bad{padding:.6rem .8rem;border-radius:8px;margin:1rem 0}
.ok{background:#e5f5ec;color:#0b5e3c}.bad{background:#fdecea;color:#8a1c12}ol{padding-left:1.3rem}li{margin:.2rem 0}
code{font-size:.85em;color:#5b6b63}small{color:#5b6b63}
</style></head><body><main>${body}</main></body></html>`;
}

function receiptHtml(r: PublicReceipt): string {
  const s = r.summary;
  const v = r.verification;
  const status = s.status === 'failed' ? 'Estorno não concluído' : s.refunded_at ? 'Estorno concluído via Pix' : 'Estorno em andamento';
  const check = v.valid
    ? `<p class="ok">✔ Comprovante autêntico: os ${v.records} registros formam uma cadeia íntegra${v.sealed ? ' e o selo digital (assinatura Ed25519) confere' : '; o selo digital é aplicado quando o caso termina'}.</p>`
    : `<p class="bad">✖ Este comprovante não confere (${esc(v.step)}). Não o aceite como prova e fale com a loja.</p>`;
  const note = s.credit_note;
  return page(
    `Comprovante de estorno — pedido #${s.order_number}`,
    `<h1>Comprovante de estorno</h1>
<dl>
<dt>Situação</dt><dd>${status}</dd>
<dt>Valor</dt><dd>${s.amount_cents === null ? '—' : formatBRL(s.amount_cents)}</dd>
<dt>Pedido</dt><dd>#${esc(s.order_number)}</dd>
<dt>Data</dt><dd>${date(s.refunded_at ?? r.records[0]?.at ?? null)} (horário de Brasília)</dd>
<dt>Nota fiscal de devolução</dt><dd>${note?.number ? `nº ${esc(note.number)}${note.series ? `, série ${esc(note.series)}` : ''}` : 'ainda não emitida'}</dd>
${note?.access_key ? `<dt>Chave de acesso</dt><dd>${esc(accessKey(note.access_key))}</dd>` : ''}
<dt>Comprovante</dt><dd>${esc(r.receipt_id)}</dd>
</dl>
${check}
<h2>Etapas</h2>
<ol>${r.records.map((x) => `<li>${esc(STEP_LABELS[x.kind] ?? x.kind)} — ${date(x.at)} <code title="SHA-256">${x.hash.slice(0, 12)}…</code></li>`).join('')}</ol>
${r.seal ? `<p><small>Selado em ${date(r.seal.sealed_at)} com a chave ${esc(r.seal.key_id)}.</small></p>` : ''}
<p><small>Verificação independente: <a href="/r/${esc(r.receipt_id)}.json">comprovante em JSON</a> (hashes, registros sem dados pessoais e selo) e
<a href="/r/public-key.pem">chave pública</a>. Por privacidade, as etapas com dados pessoais aparecem só pelo hash.</small></p>`,
  );
}

/** The public receipt routes; `store` is read per request (a sandbox reset swaps the database). */
export function receiptPages(options: { store: () => Store; key: SigningKey; publicBaseUrl: string }): express.Router {
  const router = express.Router();
  router.get('/r/public-key.pem', (_req, res) => {
    res.type('application/x-pem-file').set('content-disposition', 'attachment; filename="estorno-receipt-public-key.pem"').send(options.key.publicKeyPem);
  });
  router.get('/r/:file', async (req, res) => {
    const file = req.params.file as string;
    const json = file.endsWith('.json');
    const id = json ? file.slice(0, -'.json'.length) : file;
    const receipt = RECEIPT_ID.test(id) ? await publicReceipt(options.store(), id, options.key, options.publicBaseUrl) : null;
    res.set('x-robots-tag', 'noindex').set('cache-control', 'no-cache');
    if (json) return void (receipt ? res.json(receipt) : res.status(404).json({ error: 'not_found' }));
    if (!receipt) return void res.status(404).type('html').send(page('Comprovante não encontrado', '<h1>Comprovante não encontrado</h1><p>Confira o link recebido pelo WhatsApp.</p>'));
    res.type('html').send(receiptHtml(receipt));
  });
  return router;
}
