import type { Request, Response } from 'express';

/**
 * `GET /sandbox`: what the sandbox offers, as a small page for people and as
 * JSON for programs (`Accept: application/json` or `?format=json`). The routes
 * are the sandbox contract (docs/contract.md); the emulators speak the
 * providers' own wire formats under their prefixes.
 */

export interface SandboxRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  what: string;
}

export const SANDBOX_ROUTES: readonly SandboxRoute[] = [
  { method: 'GET', path: '/sandbox/zapi/outbox', what: 'every message the service sent through the Z-API emulator, oldest first (?phone= filters)' },
  { method: 'GET', path: '/sandbox/pix/refunds', what: 'refunds the emulated Pix rail (Trio) received' },
  { method: 'GET', path: '/sandbox/fiscal/notes', what: 'credit notes the emulated fiscal API (Focus NFe) issued' },
  { method: 'POST', path: '/sandbox/model/script', what: 'queue exact model responses: {responses: [{content, stop_reason}]}; DELETE clears the queue' },
  { method: 'POST', path: '/sandbox/faults', what: 'make the next n calls to an emulator fail: {provider, mode, count}' },
  { method: 'POST', path: '/sandbox/reset', what: 'back to the seed data, empty queues (the service database is archived, not deleted)' },
];

export const SANDBOX_EMULATORS: ReadonlyArray<{ provider: string; path: string }> = [
  { provider: 'Z-API (WhatsApp)', path: '/sandbox/zapi/instances/:id/token/:token/send-text' },
  { provider: 'Omie (ERP)', path: '/sandbox/omie/api/v1/…' },
  { provider: 'Trio (Pix)', path: '/sandbox/trio/banking/cashin/…' },
  { provider: 'Focus NFe (credit notes)', path: '/sandbox/focus/v2/nfe' },
  { provider: 'Anthropic Messages API (scripted model)', path: '/sandbox/anthropic/v1/messages' },
];

const SEED = [
  ['8421', 'Marina Souza, 5511987654321', 'R$ 186,00, Pix, yesterday', 'the happy path'],
  ['8422', 'Marina Souza', 'R$ 2.400,00, Pix', 'over the per-refund cap: staff approval'],
  ['8423', 'Marina Souza', 'R$ 320,00, card', 'no card rail: handoff'],
  ['8424', 'Marina Souza', 'R$ 150,00, Pix', 'R$ 100,00 left to refund'],
  ['8425', 'Marina Souza', 'R$ 90,00, Pix, 120 days ago', 'past the 90-day Pix window'],
  ['9001', 'João Pereira, 5521912345678', 'R$ 75,50, Pix', "another customer's order"],
] as const;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The handler for GET /sandbox (mounted beside the sandbox router). */
export function sandboxIndex() {
  return (req: Request, res: Response): void => {
    const wantsJson = req.query.format === 'json' || req.accepts(['html', 'json']) === 'json';
    if (wantsJson) return void res.json({ sandbox: true, routes: SANDBOX_ROUTES, emulators: SANDBOX_EMULATORS, seed_orders: SEED.map(([order, buyer, paid, note]) => ({ order, buyer, paid, note })) });
    const row = (r: SandboxRoute) => `<tr><td>${r.method}</td><td>${r.method === 'GET' ? `<a href="${esc(r.path)}">${esc(r.path)}</a>` : esc(r.path)}</td><td>${esc(r.what)}</td></tr>`;
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Estorno sandbox</title><link rel="icon" href="/console/favicon.svg" type="image/svg+xml">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2a24}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #dde5e0;vertical-align:top}code{background:#eef3f0;padding:0 .25rem}</style>
</head><body>
<h1>Estorno sandbox</h1>
<p>Every provider without credentials is emulated on this server. Talk to the agent as a customer with <code>npm run chat</code>; watch it in the <a href="/console/">console</a>. The same list as JSON: <a href="/sandbox?format=json">/sandbox?format=json</a>.</p>
<h2>Controls</h2>
<table><tr><th>method</th><th>route</th><th>what</th></tr>${SANDBOX_ROUTES.map(row).join('')}</table>
<h2>Emulators (the providers' own wire formats)</h2>
<table>${SANDBOX_EMULATORS.map((e) => `<tr><td>${esc(e.provider)}</td><td><code>${esc(e.path)}</code></td></tr>`).join('')}</table>
<h2>Seed orders</h2>
<table><tr><th>order</th><th>buyer (WhatsApp)</th><th>paid</th><th>note</th></tr>${SEED.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>
</body></html>`);
  };
}
