// Estorno console: one page, plain DOM, no framework and no build step.
// Every piece of data goes in through textContent / setAttribute, never
// innerHTML, so customer text shows inert whatever it holds.

const $ = (sel) => document.querySelector(sel);
const brl = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
const money = (cents) => (Number.isInteger(cents) ? brl.format(cents / 100) : '—');
const when = (iso) => (iso ? new Date(iso).toLocaleString('pt-BR') : '');

/** "1.500,50", "1500.50", "R$ 500" → integer cents, by string arithmetic (no floats on money). */
function reaisToCents(text) {
  const t = String(text).trim().replace(/\s|R\$/g, '');
  const m = /^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$/.exec(t) ?? /^(\d+)(?:\.(\d{1,2}))?$/.exec(t);
  if (!m) throw new Error(`not an amount in reais: ${text}`);
  return Number(m[1].replace(/\./g, '')) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}
const centsToReais = (cents) => (Number.isInteger(cents) ? `${Math.trunc(cents / 100)},${String(cents % 100).padStart(2, '0')}` : '');

let me = null;
let openConversation = null;

/** createElement with attributes, listeners (`on…`) and children (strings become text nodes). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== '') node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const badge = (text, kind = text) => el('span', { class: `badge ${String(kind)}` }, String(text));

function toast(message) {
  const t = $('#toast');
  t.textContent = message;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 3000);
}

/**
 * A small modal form (native <dialog>): resolves with the field values, or
 * null when cancelled. Used for reasons and caps instead of window.prompt.
 */
function ask(title, fields, { confirm = 'OK', danger = false, note } = {}) {
  return new Promise((resolve) => {
    const inputs = fields.map((f) => el('input', { name: f.name, value: f.value ?? '', placeholder: f.placeholder ?? '', required: f.required !== false, inputmode: f.inputmode }));
    const form = el('form', { method: 'dialog' },
      el('h2', {}, title),
      note ? el('p', { class: 'hint' }, note) : '',
      ...fields.map((f, i) => el('label', {}, f.label, inputs[i])),
      el('div', { class: 'row end' },
        el('button', { type: 'button', class: 'secondary', value: 'cancel', onclick: () => dialog.close('cancel') }, 'Cancel'),
        el('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : '' }, confirm)));
    const dialog = el('dialog', { class: 'ask' }, form);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      dialog.close('ok');
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'ok' ? Object.fromEntries(fields.map((f, i) => [f.name, inputs[i].value.trim()])) : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

async function api(path, options = {}) {
  const res = await fetch(`/api${path}`, {
    ...options,
    headers: { 'content-type': 'application/json', ...(me ? { 'x-csrf-token': me.csrf } : {}), ...(options.headers ?? {}) },
    credentials: 'same-origin',
  });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (res.status === 401 && path !== '/login') showLogin();
  if (!res.ok) throw new Error(body?.message ?? body?.error ?? `HTTP ${res.status}`);
  return body;
}
const post = (path, body) => api(path, { method: 'POST', body: JSON.stringify(body ?? {}) });
/** Runs an action, showing its failure as a toast instead of an unhandled rejection. */
const attempt = (fn) => async (...args) => {
  try {
    await fn(...args);
  } catch (e) {
    toast(e.message);
  }
};

// --- Login ---
function showLogin() {
  me = null;
  source?.close();
  $('#login').hidden = false;
  $('#tabs').hidden = true;
  for (const s of document.querySelectorAll('.tab')) s.hidden = true;
  $('#who').replaceChildren();
}
$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    me = await post('/login', { email: form.get('email'), password: form.get('password') });
    event.target.reset();
    $('#login-error').textContent = '';
    start();
  } catch (error) {
    $('#login-error').textContent = error.message;
  }
});

function start() {
  $('#login').hidden = true;
  $('#tabs').hidden = false;
  for (const b of document.querySelectorAll('[data-admin]')) b.hidden = me.role !== 'admin';
  $('#who').replaceChildren(el('span', {}, me.name, ' ', badge(me.role)), el('button', { class: 'secondary', id: 'logout', onclick: logout }, 'Log out'));
  show('conversations');
  live();
}
async function logout() {
  await post('/logout').catch(() => {});
  openConversation = null;
  showLogin();
}

// --- Tabs ---
for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => show(b.dataset.tab));
function show(tab) {
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab);
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== tab;
  const load = { conversations: loadConversations, approvals: loadApprovals, stats: loadStats, admin: loadAdmin }[tab];
  load?.().catch((e) => toast(e.message));
}

// --- Live updates (server-sent events carry ids and kinds; the page re-fetches what changed) ---
let source = null;
let refreshTimer = null;
function live() {
  source?.close();
  source = new EventSource('/api/events');
  source.onopen = () => ($('#live').textContent = '● live');
  source.onerror = () => ($('#live').textContent = '○ reconnecting');
  const refresh = (event) => {
    let data = {};
    try {
      data = JSON.parse(event.data);
    } catch {
      // a heartbeat or an empty frame
    }
    clearTimeout(refreshTimer);
    // Events come in bursts (a turn is several); one re-fetch per burst.
    refreshTimer = setTimeout(() => {
      if (!$('#conversations').hidden) loadConversations().catch(() => {});
      if (!$('#approvals').hidden) loadApprovals().catch(() => {});
      if (!$('#admin').hidden && (event.type === 'mandate' || event.type === 'prompt')) loadAdmin().catch(() => {});
      if (openConversation && (!data.conversationId || data.conversationId === openConversation)) loadTranscript(openConversation).catch(() => {});
      countApprovals();
    }, 150);
  };
  for (const type of ['message_in', 'message_out', 'turn', 'tool_call', 'guard_decision', 'refund', 'credit_note', 'approval_requested', 'approval_decided', 'handoff', 'mode', 'model_call', 'mandate', 'prompt', 'note']) source.addEventListener(type, refresh);
  countApprovals();
}
async function countApprovals() {
  const pending = await api('/approvals?status=pending').catch(() => []);
  $('#approval-count').textContent = pending.length ? String(pending.length) : '';
}
// While staff have a conversation no turn runs, so a customer's new message may raise no event: look every few seconds.
setInterval(() => {
  if (me && openConversation && !$('#conversations').hidden && $('#reply-form').hidden === false) loadTranscript(openConversation).catch(() => {});
}, 4000);

// --- Conversations and transcripts ---
const REASONS = { card_payment: 'card payment', outside_window: 'past the Pix window', mandate_inactive: 'mandate inactive', model_unavailable: 'model unavailable', not_understood: 'not understood', customer_asked: 'customer asked', media_needs_person: 'media to look at', job_failed: 'job failed', payment_unverified: 'payment not confirmed' };
const stateBadge = (c) => c.state === 'waiting_for_staff'
  ? badge(`waiting · ${REASONS[c.handoff_reason] ?? c.handoff_reason ?? '?'}`, 'pending')
  : c.state === 'with_staff' ? badge('with staff', 'staff') : c.state === 'closed' ? badge('closed') : '';
const waitingLine = (c) => (c.state === 'waiting_for_staff' ? el('small', {}, `waiting for a person since ${when(c.waiting_since)}`) : '');
async function loadAlerts() {
  const alerts = await api('/alerts');
  let box = $('#alerts');
  if (!box) {
    box = el('div', { id: 'alerts', role: 'status' });
    $('#conversation-list').before(box);
  }
  box.replaceChildren(...alerts.map((a) => el('p', { class: a.severity === 'critical' ? 'error' : 'hint' }, a.message)));
}
async function loadConversations() {
  loadAlerts().catch(() => {});
  const list = await api('/conversations');
  if (list.length === 0) {
    $('#conversation-list').replaceChildren(el('li', { class: 'empty' }, 'No conversations yet. They appear here, live, as customers write on WhatsApp.'));
    return;
  }
  $('#conversation-list').replaceChildren(
    ...list.map((c) =>
      el('li', { class: c.id === openConversation ? 'selected' : '', 'data-id': c.id, onclick: () => loadTranscript(c.id).catch((e) => toast(e.message)) },
        el('strong', {}, c.who), ' ', stateBadge(c), waitingLine(c), c.pending_approvals ? badge(`${c.pending_approvals} to approve`, 'pending') : '',
        el('small', {}, `last message ${when(c.last_in ?? c.updated_at)}${c.open_refunds ? ` · ${c.open_refunds} refund(s) in progress` : ''}`)),
    ),
  );
}

const receiptLink = (id) => el('a', { href: '#', class: 'receipt-link', onclick: (e) => { e.preventDefault(); openReceipt(id); } }, id);

function entryView(e) {
  switch (e.kind) {
    case 'customer':
      return el('li', { class: 'customer' }, el('span', { class: 'meta' }, `customer · ${when(e.at)}`),
        e.media ? el('span', { class: 'media' }, `[${e.media.kind}${e.media.fileName ? `: ${e.media.fileName}` : ''}${e.media.seconds ? `, ${e.media.seconds} s` : ''}] `, e.media.url ? el('a', { href: e.media.url, target: '_blank', rel: 'noopener noreferrer' }, 'open') : '', ' ') : '',
        e.text ?? '');
    case 'note':
      return el('li', { class: 'staff note' }, el('span', { class: 'meta' }, `internal note by ${e.author} · ${when(e.at)}`), e.text);
    case 'agent':
    case 'staff':
      return el('li', { class: e.kind }, el('span', { class: 'meta' }, `${e.kind}${e.template ? ` (${e.template})` : ''} · ${e.status} · ${when(e.at)}`), e.text);
    case 'tool':
      return el('li', { class: 'tool' }, el('span', { class: 'meta' }, `tool call · ${when(e.at)}`), `${e.name} ${JSON.stringify(e.input)} → `, badge(e.outcome ?? 'running'), e.reason ? ` ${e.reason}` : '');
    case 'guard':
      return el('li', { class: 'guard' }, el('span', { class: 'meta' }, `guard decision · ${when(e.at)}`), badge(e.decision), e.reason ? ` ${e.reason}` : '',
        ` · order ${e.order ?? '?'} · ${money(e.amount_cents)}${e.mandate ? ` · mandate ${e.mandate}` : ''}${e.approval_id ? ` · approval ${e.approval_id}` : ''}`);
    case 'approval':
      return el('li', { class: 'approval' }, el('span', { class: 'meta' }, `staff decision · ${when(e.at)}`), `approval ${e.approval_id} · order ${e.order} · ${money(e.amount_cents)} · `, badge(e.status),
        ` by ${e.decided_by}: `, el('q', {}, e.decision_reason ?? ''));
    case 'refund':
      return el('li', { class: 'refund' }, el('span', { class: 'meta' }, `refund · ${when(e.at)}`), `${e.refund_id} · order ${e.order} · ${money(e.amount_cents)} · `, badge(e.status),
        ` · by ${e.authorized_by}`, e.receipt_id ? ' · receipt ' : '', e.receipt_id ? receiptLink(e.receipt_id) : '', e.failure ? ` · ${e.failure}` : '');
    default:
      return el('li', {}, JSON.stringify(e));
  }
}

async function loadTranscript(id) {
  openConversation = id;
  for (const li of document.querySelectorAll('#conversation-list li')) li.classList.toggle('selected', li.dataset.id === id);
  const t = await api(`/conversations/${encodeURIComponent(id)}`);
  if (openConversation !== id) return; // another conversation was picked meanwhile
  $('#transcript-title').textContent = t.who;
  $('#transcript-mode').replaceChildren(t.state === 'agent' ? badge('agent answering', 'active') : t.state === 'with_staff' ? badge('taken over: the agent is paused', 'staff') : stateBadge(t), ' ', waitingLine(t));
  const list = $('#transcript');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...t.entries.map(entryView));
  if (atBottom || list.dataset.id !== id) list.scrollTop = list.scrollHeight;
  list.dataset.id = id;
  $('#takeover').hidden = t.state === 'with_staff';
  $('#handback').hidden = t.mode !== 'staff';
  $('#reply-form').hidden = t.mode !== 'staff';
  $('#note-form').hidden = false;
  $('#close-conversation').hidden = t.state === 'closed';
  $('#receipts-of-conversation').replaceChildren(
    ...t.receipts.map((r) =>
      el('p', { class: 'receipt', 'data-receipt': r.id }, 'receipt ', receiptLink(r.id), ` (order ${r.order}) `, badge(r.status), ' ',
        badge(r.verification?.valid ? 'chain and signature valid' : 'invalid', r.verification?.valid ? 'valid' : 'invalid'),
        r.verification?.valid ? '' : ` ${r.verification?.step}: ${r.verification?.reason}`)),
  );
}
$('#takeover').addEventListener('click', attempt(async () => {
  await post(`/conversations/${encodeURIComponent(openConversation)}/takeover`);
  toast('You have the conversation; the agent is paused for this customer.');
  await loadTranscript(openConversation);
}));
$('#handback').addEventListener('click', attempt(async () => {
  await post(`/conversations/${encodeURIComponent(openConversation)}/handback`);
  toast('Handed back to the agent.');
  await loadTranscript(openConversation);
}));
$('#close-conversation').addEventListener('click', attempt(async () => {
  await post(`/conversations/${encodeURIComponent(openConversation)}/close`);
  toast('Conversation closed; the next customer message goes to the agent.');
  await loadTranscript(openConversation);
}));
$('#note-form').addEventListener('submit', attempt(async (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  await post(`/conversations/${encodeURIComponent(openConversation)}/notes`, { text: input.value });
  input.value = '';
  await loadTranscript(openConversation);
}));
$('#reply-form').addEventListener('submit', attempt(async (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  await post(`/conversations/${encodeURIComponent(openConversation)}/messages`, { text: input.value });
  input.value = '';
  await loadTranscript(openConversation);
}));

// --- Approvals ---
async function loadApprovals() {
  const rows = await api('/approvals?status=pending');
  $('#approval-rows').replaceChildren(
    ...(rows.length === 0 ? [el('tr', {}, el('td', { colspan: 6, class: 'hint empty' }, 'Nothing waiting for approval.'))] : []),
    ...rows.map((a) => {
      const reason = el('input', { placeholder: 'internal reason (required, never sent)', 'aria-label': 'reason', class: 'reason' });
      const decide = (what) => attempt(async () => {
        if (!reason.value.trim()) {
          reason.focus();
          throw new Error('Write the reason for your decision first.');
        }
        // A rejection tells the customer a template, plus a message written for them if staff write one; the reason stays internal.
        let customerMessage = '';
        if (what === 'reject') {
          const answer = await ask('Reject this refund', [{ name: 'message', label: 'Message to the customer (optional)', placeholder: 'e.g. podemos oferecer uma troca', required: false }],
            { confirm: 'Reject', danger: true, note: 'The customer gets a short message saying the team could not approve it, plus what you write here. Your reason is kept internal.' });
          if (!answer) return;
          customerMessage = answer.message;
        }
        const r = await post(`/approvals/${encodeURIComponent(a.id)}/${what}`, { reason: reason.value, ...(customerMessage ? { customer_message: customerMessage } : {}) });
        toast(what === 'approve' ? `Approved: refund ${r.refundId} is ${r.refundStatus}.` : 'Rejected; the customer is told.');
        await loadApprovals();
        countApprovals();
      });
      const openIt = () => {
        show('conversations');
        loadTranscript(a.conversation_id).catch((e) => toast(e.message));
      };
      return el('tr', { 'data-approval': a.id },
        el('td', {}, when(a.requested_at), el('small', { class: 'hint block' }, `expires ${when(a.expires_at)}`)),
        el('td', {}, `#${a.order_number}`, el('br'), el('a', { href: '#', onclick: (e) => { e.preventDefault(); openIt(); } }, 'conversation')),
        el('td', { class: 'amount' }, money(a.amount_cents)), el('td', {}, badge(a.guard_reason, 'pending')), el('td', { class: 'quote' }, a.reason),
        el('td', {}, el('div', { class: 'row' }, reason, el('button', { onclick: decide('approve'), class: 'approve' }, 'Approve'), el('button', { class: 'danger reject', onclick: decide('reject') }, 'Reject'))));
    }),
  );
}

// --- Receipts ---
function openReceipt(id) {
  show('receipts');
  $('#receipt-form').elements.id.value = id;
  verifyReceipt(id);
}
async function verifyReceipt(id) {
  try {
    const r = await api(`/receipts/${encodeURIComponent(id)}`);
    const v = r.verification;
    $('#receipt-result').replaceChildren(
      el('p', {}, badge(v.valid ? 'valid' : 'invalid'), ' ',
        v.valid ? `${v.records} records chained, ${v.sealed ? `sealed (${v.outcome}) and the signature checks with key ${r.key_id}` : 'not sealed yet'}` : `${v.step}: ${v.reason}`),
      el('ol', { class: 'records' }, ...r.records.map((rec) => el('li', {}, el('strong', {}, rec.kind), el('code', {}, ` ${rec.hash.slice(0, 16)}…`)))),
      r.seal ? el('p', { class: 'hint' }, `seal over record ${r.seal.head_seq} at ${when(r.seal.sealed_at)} · signature ${r.seal.signature.slice(0, 24)}…`) : '',
      el('p', { class: 'hint' }, 'Anyone can check it offline: npm run verify -- ', el('code', {}, r.id), ' · public key at ', el('a', { href: '/api/receipts/public-key' }, '/api/receipts/public-key')),
    );
  } catch (e) {
    $('#receipt-result').replaceChildren(el('p', { class: 'error' }, e.message));
  }
}
$('#receipt-form').addEventListener('submit', (event) => {
  event.preventDefault();
  verifyReceipt(event.target.elements.id.value.trim());
});

// --- Pictures (inline SVG built with DOM calls) ---
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}
/** Vertical bars with a label under each and its value over it. */
function bars(data, { label, value, format, color = '#0f766e', title }) {
  const w = 440, h = 190, pad = 26;
  const top = Math.max(...data.map(value), 1);
  const bw = data.length ? (w - pad * 2) / data.length : 0;
  const root = svg('svg', { viewBox: `0 0 ${w} ${h}`, width: '100%', role: 'img', 'aria-label': title });
  root.append(svg('line', { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: '#cfd4de' }));
  data.forEach((d, i) => {
    const bh = ((h - pad * 2) * value(d)) / top;
    const x = pad + i * bw;
    const bar = svg('rect', { x: x + 2, y: h - pad - bh, width: Math.max(2, bw - 4), height: Math.max(bh, value(d) > 0 ? 1 : 0), fill: color, rx: 2 });
    bar.append(svg('title', {}, `${label(d)}: ${format(d)}`));
    root.append(bar);
    root.append(svg('text', { x: x + bw / 2, y: h - pad + 14, 'text-anchor': 'middle' }, label(d)));
    if (value(d) > 0) root.append(svg('text', { x: x + bw / 2, y: h - pad - bh - 4, 'text-anchor': 'middle', class: 'value' }, format(d)));
  });
  return root;
}
/** One horizontal gauge per mandate: used / cap over its rolling window. */
function gauges(rows) {
  const w = 400, rowH = 48, h = Math.max(rows.length * rowH + 8, 60);
  const root = svg('svg', { viewBox: `0 0 ${w} ${h}`, width: '100%', role: 'img', 'aria-label': 'cap usage per mandate', class: 'gauges' });
  if (rows.length === 0) root.append(svg('text', { x: w / 2, y: h / 2, 'text-anchor': 'middle' }, 'no mandates'));
  rows.forEach((m, i) => {
    const y = 6 + i * rowH;
    const share = m.window_cap_cents ? Math.min(1, m.window_used_cents / m.window_cap_cents) : 0;
    root.append(svg('text', { x: 0, y: y + 11 }, `${m.id} (${m.status})`));
    root.append(svg('text', { x: w, y: y + 11, 'text-anchor': 'end', class: 'figure' }, `${money(m.window_used_cents)} of ${money(m.window_cap_cents)} · ${Math.round(share * 100)}%`));
    root.append(svg('rect', { x: 0, y: y + 18, width: w, height: 14, rx: 7, fill: '#eef0f5' }));
    root.append(svg('rect', { x: 0, y: y + 18, width: Math.max(share > 0 ? 6 : 0, w * share), height: 14, rx: 7, fill: share > 0.8 ? '#b54708' : '#0f766e', class: 'used' }));
  });
  return root;
}
async function loadStats() {
  const s = await api('/stats');
  const total = s.refunds_per_day.reduce((n, d) => n + d.refunds, 0);
  const settled = s.refunds_per_day.reduce((n, d) => n + d.settled_cents, 0);
  $('#days-summary').textContent = `${total} refund(s) in 14 days, ${money(settled)} settled`;
  $('#chart-days').replaceChildren(bars(s.refunds_per_day, { title: 'refunds per day', label: (d) => d.day.slice(8, 10), value: (d) => d.refunds, format: (d) => `${d.refunds} · ${money(d.settled_cents)}` }));
  $('#chart-caps').replaceChildren(gauges(s.mandates));
  $('#latency-summary').textContent = `${s.complaint_to_refund.count} settled refund(s), seconds from the complaint to the money back`;
  $('#chart-latency').replaceChildren(bars(s.complaint_to_refund.histogram, { title: 'complaint to refund', label: (d) => (d.le === null ? `>${d.from}` : `≤${d.le}`), value: (d) => d.count, format: (d) => String(d.count), color: '#3b5bdb' }));
}

// --- Admin: prompt versions, mandates, users ---
async function loadAdmin() {
  if (me.role !== 'admin') return;
  const [prompts, mandates, users] = await Promise.all([api('/prompts'), api('/mandates'), api('/users')]);
  const form = $('#prompt-form');
  // Do not throw away what an admin is typing when a live update reloads the tab.
  if (document.activeElement !== form.elements.text) form.elements.text.value = prompts.current.text;
  $('#prompt-current').textContent = (prompts.versions.length ? `in use: v${prompts.current.id} by ${prompts.current.author}, ${when(prompts.current.created_at)}` : 'in use: the shipped default (v0)') +
    (prompts.model_note ? ` · model: ${prompts.model}. ${prompts.model_note}` : ` · model: ${prompts.model ?? 'claude'}`);
  $('#prompt-versions').replaceChildren(
    ...prompts.versions.map((v, i) =>
      el('li', { 'data-version': v.id, onclick: () => showDiff(v.id) }, el('strong', {}, `v${v.id}${i === 0 ? ' (current)' : ''}`), ` by ${v.author}`,
        el('small', {}, `${when(v.created_at)}${v.note ? ` — ${v.note}` : ''} · click for the diff`), evalBadge(v.eval),
        i > 0 ? el('button', { class: 'secondary small', onclick: attempt(async (e) => { e.stopPropagation(); await post(`/prompts/${v.id}/rollback`); toast(`Rolled back to v${v.id} (as a new version)`); await loadAdmin(); }) }, 'Roll back to this') : '')),
    el('li', { class: 'static' }, el('small', {}, 'v0: the shipped default (prompts/system.md)'), evalBadge(prompts.default_eval),
      prompts.versions.length ? el('button', { class: 'secondary small', onclick: attempt(async () => { await post('/prompts/0/rollback'); toast('Rolled back to the default (as a new version)'); await loadAdmin(); }) }, 'Roll back to default') : ''),
  );
  $('#mandate-rows').replaceChildren(...mandates.map(mandateRow));
  $('#user-rows').replaceChildren(
    ...users.map((u) =>
      el('tr', { 'data-user': u.email }, el('td', {}, u.name), el('td', {}, u.email), el('td', {}, badge(u.role)), el('td', {}, badge(u.active ? 'active' : 'disabled')),
        el('td', {}, u.id === me.id ? el('small', { class: 'hint' }, 'you') : el('button', { class: u.active ? 'secondary small disable' : 'secondary small enable', onclick: attempt(async () => {
          await post(`/users/${u.id}/${u.active ? 'disable' : 'enable'}`);
          toast(`${u.email} ${u.active ? 'disabled; their sessions ended' : 'enabled'}`);
          await loadAdmin();
        }) }, u.active ? 'Disable' : 'Enable')))),
  );
}

function mandateRow(m) {
  const act = (action) => attempt(async () => {
    const answer = await ask(`${action[0].toUpperCase()}${action.slice(1)} ${m.id}`, [{ name: 'reason', label: 'Reason (kept in the audit trail)' }], {
      confirm: action[0].toUpperCase() + action.slice(1), danger: action === 'revoke',
      note: action === 'revoke' ? 'A revoked mandate cannot be resumed: the next refund under it is refused. Issue a new one to start over.' : undefined,
    });
    if (!answer) return;
    await post(`/mandates/${encodeURIComponent(m.id)}/${action}`, { reason: answer.reason });
    toast(`${m.id}: ${action === 'resume' ? 'resumed' : `${action}d`}`);
    await loadAdmin();
  });
  const caps = attempt(async () => {
    const answer = await ask(`Change caps of ${m.id}`, [
      { name: 'per', label: 'Per refund (R$)', value: centsToReais(m.document?.per_refund_cap_cents), inputmode: 'decimal' },
      { name: 'window', label: `Per rolling ${Math.round((m.document?.window_seconds ?? 86400) / 3600)} h (R$)`, value: centsToReais(m.document?.window_cap_cents), inputmode: 'decimal' },
    ], { confirm: 'Re-sign', note: 'A new version is signed; the old one stays for the audit trail.' });
    if (!answer) return;
    await api(`/mandates/${encodeURIComponent(m.id)}/caps`, { method: 'PUT', body: JSON.stringify({ per_refund_cap_cents: reaisToCents(answer.per), window_cap_cents: reaisToCents(answer.window) }) });
    toast(`${m.id} re-signed with the new caps`);
    await loadAdmin();
  });
  const alive = m.status !== 'revoked';
  return el('tr', { 'data-mandate': m.id },
    el('td', {}, el('strong', {}, m.id), ` v${m.version}`, el('small', { class: 'hint block' }, `by ${m.document?.issued_by ?? '?'}, ${when(m.document?.issued_at)}`)),
    el('td', {}, m.agent_id), el('td', {}, badge(m.status)),
    el('td', { class: 'amount' }, money(m.document?.per_refund_cap_cents)), el('td', { class: 'amount' }, money(m.document?.window_cap_cents)), el('td', { class: 'amount' }, money(m.window_used_cents)),
    el('td', {}, badge(m.verifies ? 'signature ok' : 'bad signature', m.verifies ? 'valid' : 'invalid')),
    el('td', {}, el('div', { class: 'row' },
      m.status === 'active' ? el('button', { class: 'secondary small pause', onclick: act('pause') }, 'Pause') : '',
      m.status === 'paused' ? el('button', { class: 'secondary small resume', onclick: act('resume') }, 'Resume') : '',
      alive ? el('button', { class: 'secondary small caps', onclick: caps }, 'Change caps') : '',
      alive ? el('button', { class: 'danger small revoke', onclick: act('revoke') }, 'Revoke') : '')));
}

/** The last `npm run eval` of a version: pass^k over how many scenarios, on which model. */
function evalBadge(ev) {
  if (!ev) return el('small', { class: 'hint' }, ' · not evaluated (npm run eval)');
  return badge(`eval pass^${ev.k} ${ev.pass_k.toFixed(2)} · ${ev.passed_all}/${ev.scenarios} · ${ev.model} · ${when(ev.created_at)}`, ev.pass_k === 1 ? 'valid' : 'pending');
}

async function showDiff(id) {
  const d = await api(`/prompts/${id}/diff`);
  $('#prompt-diff-title').textContent = `v${d.id} by ${d.author}, ${when(d.created_at)}${d.note ? ` — ${d.note}` : ''} (against the version before it)`;
  $('#prompt-diff').replaceChildren(...d.diff.map((l) => el('div', { class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same' }, `${l.op} ${l.text}`)));
}
$('#prompt-form').addEventListener('submit', attempt(async (event) => {
  event.preventDefault();
  const f = event.target.elements;
  const body = { text: f.text.value, note: f.note.value || undefined };
  let v;
  try {
    v = await post('/prompts', body);
  } catch (e) {
    // Its last eval passed fewer scenarios than the current version's: publish only when the admin confirms.
    if (!/pass\^/.test(e.message)) throw e;
    const sure = await ask('Publish a prompt that evaluated worse?', [], { confirm: 'Publish anyway', danger: true, note: e.message });
    if (!sure) return;
    v = await post('/prompts', { ...body, confirm: true });
  }
  toast(`Saved as v${v.id}; the next turn uses it.`);
  f.note.value = '';
  f.text.blur();
  await loadAdmin();
}));
$('#mandate-form').addEventListener('submit', attempt(async (event) => {
  event.preventDefault();
  const f = event.target.elements;
  await post('/mandates', { id: f.id.value, agent_id: f.agent_id.value, per_refund_cap_cents: reaisToCents(f.per_refund.value), window_cap_cents: reaisToCents(f.window_cap.value) });
  toast(`Mandate ${f.id.value} issued and signed`);
  event.target.reset();
  await loadAdmin();
}));
$('#user-form').addEventListener('submit', attempt(async (event) => {
  event.preventDefault();
  const f = event.target.elements;
  const u = await post('/users', { email: f.email.value, name: f.name.value, role: f.role.value, ...(f.password.value ? { password: f.password.value } : {}) });
  event.target.reset();
  await loadAdmin();
  if (u.password) await ask(`${u.email} added`, [{ name: 'password', label: 'Their password (shown once; hand it over privately)', value: u.password }], { confirm: 'Done' });
  else toast('User added');
}));

// --- Boot: an existing session goes straight in ---
api('/me').then((user) => { me = user; start(); }, showLogin);
