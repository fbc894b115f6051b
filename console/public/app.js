// Estorno console. Plain DOM: every piece of data goes in through textContent,
// never innerHTML, so customer text shows inert whatever it holds.

const $ = (sel) => document.querySelector(sel);
const brl = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
const money = (cents) => (Number.isInteger(cents) ? brl.format(cents / 100) : '—');
/** "1.500,50" or "1500.50" or "500" reais → integer cents, by string arithmetic (no floats on money). */
function reaisToCents(text) {
  const t = String(text).trim().replace(/\s|R\$/g, '');
  const m = /^(\d{1,3}(?:\.\d{3})*|\d+)(?:[,.](\d{1,2}))?$/.exec(t);
  if (!m) throw new Error(`not an amount: ${text}`);
  return Number(m[1].replace(/\./g, '')) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}
const when = (iso) => (iso ? new Date(iso).toLocaleString('pt-BR') : '');
let me = null;
let openConversation = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const badge = (text) => el('span', { class: `badge ${String(text)}` }, String(text));

function toast(message) {
  const t = $('#toast');
  t.textContent = message;
  t.classList.add('show');
  setTimeout(() => t.classList.remove('show'), 2500);
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

// --- Login ---
function showLogin() {
  me = null;
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
    start();
  } catch (error) {
    $('#login-error').textContent = error.message;
  }
});

function start() {
  $('#login').hidden = true;
  $('#tabs').hidden = false;
  for (const b of document.querySelectorAll('[data-admin]')) b.hidden = me.role !== 'admin';
  $('#who').replaceChildren(el('span', {}, `${me.name} (${me.role})`), el('button', { class: 'secondary', id: 'logout', onclick: logout }, 'Log out'));
  show('conversations');
  live();
}
async function logout() {
  await post('/logout').catch(() => {});
  source?.close();
  showLogin();
}

// --- Tabs ---
for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => show(b.dataset.tab));
function show(tab) {
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab);
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== tab;
  ({ conversations: loadConversations, approvals: loadApprovals, stats: loadStats, admin: loadAdmin, receipts: () => {} })[tab]?.();
}

// --- Live updates ---
let source = null;
let refreshTimer = null;
function live() {
  source?.close();
  source = new EventSource('/api/events');
  source.onopen = () => ($('#live').textContent = '● live');
  source.onerror = () => ($('#live').textContent = '○ reconnecting');
  const refresh = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      if (!$('#conversations').hidden) loadConversations();
      if (!$('#approvals').hidden) loadApprovals();
      if (openConversation) loadTranscript(openConversation);
      countApprovals();
    }, 150);
  };
  for (const type of ['message_in', 'message_out', 'turn', 'tool_call', 'guard_decision', 'refund', 'credit_note', 'approval_requested', 'approval_decided', 'handoff', 'mode', 'model_call']) source.addEventListener(type, refresh);
  countApprovals();
}
async function countApprovals() {
  const pending = await api('/approvals?status=pending').catch(() => []);
  $('#approval-count').textContent = pending.length ? String(pending.length) : '';
}

// --- Conversations and transcripts ---
async function loadConversations() {
  const list = await api('/conversations');
  $('#conversation-list').replaceChildren(
    ...list.map((c) =>
      el('li', { class: c.id === openConversation ? 'selected' : '', 'data-id': c.id, onclick: () => loadTranscript(c.id) },
        el('strong', {}, c.who), ' ', c.mode === 'staff' ? badge('staff') : '', c.pending_approvals ? badge('pending') : '',
        el('small', {}, `last message ${when(c.last_in ?? c.updated_at)}${c.open_refunds ? ` · ${c.open_refunds} refund(s) in progress` : ''}`)),
    ),
  );
}

function entryView(e) {
  switch (e.kind) {
    case 'customer':
      return el('li', { class: 'customer' }, el('span', { class: 'meta' }, `customer · ${when(e.at)}`), e.text ?? '');
    case 'agent':
    case 'staff':
      return el('li', { class: e.kind }, el('span', { class: 'meta' }, `${e.kind}${e.template ? ` (${e.template})` : ''} · ${e.status} · ${when(e.at)}`), e.text);
    case 'tool':
      return el('li', { class: 'tool' }, `tool ${e.name} ${JSON.stringify(e.input)} → `, badge(e.outcome ?? 'running'), e.reason ? ` ${e.reason}` : '');
    case 'guard':
      return el('li', { class: 'guard' }, `guard: `, badge(e.decision), e.reason ? ` ${e.reason}` : '', ` · order ${e.order ?? '?'} · ${money(e.amount_cents)}${e.mandate ? ` · ${e.mandate}` : ''}${e.approval_id ? ` · approval ${e.approval_id}` : ''}`);
    case 'refund':
      return el('li', { class: 'refund' }, `refund ${e.refund_id} · order ${e.order} · ${money(e.amount_cents)} · `, badge(e.status), ` · by ${e.authorized_by}${e.receipt_id ? ` · receipt ${e.receipt_id}` : ''}${e.failure ? ` · ${e.failure}` : ''}`);
    default:
      return el('li', {}, JSON.stringify(e));
  }
}

async function loadTranscript(id) {
  openConversation = id;
  for (const li of document.querySelectorAll('#conversation-list li')) li.classList.toggle('selected', li.dataset.id === id);
  const t = await api(`/conversations/${encodeURIComponent(id)}`);
  $('#transcript-title').textContent = `${t.who} · ${t.mode === 'staff' ? 'taken over by staff' : 'agent'}`;
  $('#transcript').replaceChildren(...t.entries.map(entryView));
  $('#transcript').scrollTop = $('#transcript').scrollHeight;
  $('#takeover').hidden = t.mode === 'staff';
  $('#handback').hidden = t.mode !== 'staff';
  $('#reply-form').hidden = t.mode !== 'staff';
  $('#receipts-of-conversation').replaceChildren(
    ...t.receipts.map((r) => el('p', { class: 'receipt' }, `receipt ${r.id} (order ${r.order}): `, badge(r.status), ' ', badge(r.verification?.valid ? 'valid' : 'invalid'), r.verification?.valid ? '' : ` ${r.verification?.step}: ${r.verification?.reason}`)),
  );
}
$('#takeover').addEventListener('click', async () => { await post(`/conversations/${openConversation}/takeover`); toast('You have the conversation; the agent is paused.'); loadTranscript(openConversation); });
$('#handback').addEventListener('click', async () => { await post(`/conversations/${openConversation}/handback`); toast('Handed back to the agent.'); loadTranscript(openConversation); });
$('#reply-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  await post(`/conversations/${openConversation}/messages`, { text: input.value }).then(() => { input.value = ''; loadTranscript(openConversation); }, (e) => toast(e.message));
});

// --- Approvals ---
async function loadApprovals() {
  const rows = await api('/approvals?status=pending');
  $('#approval-rows').replaceChildren(
    ...(rows.length === 0 ? [el('tr', {}, el('td', { colspan: 6, class: 'hint' }, 'Nothing waiting for approval.'))] : []),
    ...rows.map((a) => {
      const reason = el('input', { placeholder: 'reason (required)', 'aria-label': 'reason' });
      const decide = (what) => async () => {
        try {
          const r = await post(`/approvals/${a.id}/${what}`, { reason: reason.value });
          toast(what === 'approve' ? `Approved: refund ${r.refundId} ${r.refundStatus}` : 'Rejected; the customer is told.');
          loadApprovals();
        } catch (e) { toast(e.message); }
      };
      return el('tr', { 'data-approval': a.id }, el('td', {}, when(a.requested_at)), el('td', {}, `#${a.order_number}`), el('td', {}, money(a.amount_cents)), el('td', {}, a.guard_reason), el('td', {}, a.reason),
        el('td', { class: 'row' }, reason, el('button', { onclick: decide('approve'), class: 'approve' }, 'Approve'), el('button', { class: 'danger reject', onclick: decide('reject') }, 'Reject')));
    }),
  );
}

// --- Receipts ---
$('#receipt-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const id = event.target.elements.id.value.trim();
  try {
    const r = await api(`/receipts/${encodeURIComponent(id)}`);
    $('#receipt-result').replaceChildren(
      el('p', {}, badge(r.verification.valid ? 'valid' : 'invalid'), ' ', r.verification.valid ? `${r.verification.records} records, ${r.verification.sealed ? `sealed (${r.verification.outcome})` : 'not sealed yet'}` : `${r.verification.step}: ${r.verification.reason}`),
      el('ol', {}, ...r.records.map((rec) => el('li', {}, el('strong', {}, rec.kind), ` ${rec.hash.slice(0, 16)}…`))),
      r.seal ? el('p', { class: 'hint' }, `signature ${r.seal.signature.slice(0, 24)}… key ${r.key_id}`) : '',
    );
  } catch (e) {
    $('#receipt-result').replaceChildren(el('p', { class: 'error' }, e.message));
  }
});

// --- Pictures (inline SVG built with DOM calls) ---
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}
function bars(data, { label, value, format, color = '#0f766e', max }) {
  const w = 420, h = 180, pad = 28;
  const top = Math.max(max ?? 0, ...data.map(value), 1);
  const bw = data.length ? (w - pad * 2) / data.length : 0;
  const root = svg('svg', { viewBox: `0 0 ${w} ${h}`, width: '100%', role: 'img' });
  root.append(svg('line', { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: '#e3e6ee' }));
  data.forEach((d, i) => {
    const bh = ((h - pad * 2) * value(d)) / top;
    root.append(svg('rect', { x: pad + i * bw + 3, y: h - pad - bh, width: Math.max(2, bw - 6), height: bh, fill: typeof color === 'function' ? color(d) : color, rx: 3 }));
    root.append(svg('text', { x: pad + i * bw + bw / 2, y: h - pad + 14, 'text-anchor': 'middle' }, label(d)));
    root.append(svg('text', { x: pad + i * bw + bw / 2, y: h - pad - bh - 4, 'text-anchor': 'middle' }, format(d)));
  });
  if (!data.length) root.append(svg('text', { x: w / 2, y: h / 2, 'text-anchor': 'middle' }, 'no data yet'));
  return root;
}
async function loadStats() {
  const s = await api('/stats');
  $('#chart-days').replaceChildren(bars(s.refunds_per_day, { label: (d) => d.day.slice(5), value: (d) => d.refunds, format: (d) => String(d.refunds) }));
  $('#chart-caps').replaceChildren(bars(s.mandates, { label: (d) => d.id, value: (d) => (d.window_cap_cents ? d.window_used_cents / d.window_cap_cents : 0), max: 1, format: (d) => `${money(d.window_used_cents)} / ${money(d.window_cap_cents)}`, color: (d) => (d.window_used_cents / Math.max(1, d.window_cap_cents) > 0.8 ? '#b54708' : '#0f766e') }));
  $('#chart-latency').replaceChildren(bars(s.complaint_to_refund.histogram, { label: (d) => (d.le === null ? `>${d.from}` : `≤${d.le}`), value: (d) => d.count, format: (d) => String(d.count) }));
}

// --- Admin: prompt versions, mandates, users ---
async function loadAdmin() {
  if (me.role !== 'admin') return;
  const [prompts, mandates, users] = await Promise.all([api('/prompts'), api('/mandates'), api('/users')]);
  $('#prompt-form').elements.text.value = prompts.current.text;
  $('#prompt-versions').replaceChildren(
    ...prompts.versions.map((v, i) =>
      el('li', { onclick: () => showDiff(v.id) }, el('strong', {}, `v${v.id}${i === 0 ? ' (current)' : ''}`), ` by ${v.author}`, el('small', {}, `${when(v.created_at)}${v.note ? ` — ${v.note}` : ''}`),
        i > 0 ? el('button', { class: 'secondary', onclick: async (e) => { e.stopPropagation(); await post(`/prompts/${v.id}/rollback`); toast(`Rolled back to v${v.id}`); loadAdmin(); } }, 'Roll back to this') : '')),
    el('li', {}, el('small', {}, 'v0: the shipped default'), el('button', { class: 'secondary', onclick: async () => { await post('/prompts/0/rollback'); toast('Rolled back to the default'); loadAdmin(); } }, 'Roll back to default')),
  );
  $('#mandate-rows').replaceChildren(
    ...mandates.map((m) => {
      const act = (action) => async () => {
        const reason = prompt(`Reason to ${action} ${m.id}?`);
        if (!reason) return;
        try { await post(`/mandates/${m.id}/${action}`, { reason }); toast(`${m.id}: ${action}d`); loadAdmin(); } catch (e) { toast(e.message); }
      };
      const caps = async () => {
        const per = prompt(`New per-refund cap for ${m.id} in R$`, String(money(m.document?.per_refund_cap_cents ?? 0).replace(/[^\d.,]/g, '')));
        if (per === null) return;
        try {
          const cents = reaisToCents(per); await api(`/mandates/${m.id}/caps`, { method: 'PUT', body: JSON.stringify({ per_refund_cap_cents: cents }) }); toast(`${m.id} re-signed`); loadAdmin(); } catch (e) { toast(e.message); }
      };
      return el('tr', { 'data-mandate': m.id }, el('td', {}, `${m.id} v${m.version}`), el('td', {}, m.agent_id), el('td', {}, badge(m.status)),
        el('td', {}, money(m.document?.per_refund_cap_cents)), el('td', {}, money(m.document?.window_cap_cents)), el('td', {}, money(m.window_used_cents)),
        el('td', {}, badge(m.verifies ? 'valid' : 'invalid')),
        el('td', { class: 'row' }, m.status === 'active' ? el('button', { class: 'secondary', onclick: act('pause') }, 'Pause') : '', m.status === 'paused' ? el('button', { class: 'secondary', onclick: act('resume') }, 'Resume') : '',
          m.status !== 'revoked' ? el('button', { class: 'danger revoke', onclick: act('revoke') }, 'Revoke') : '', m.status !== 'revoked' ? el('button', { class: 'secondary', onclick: caps }, 'Change caps') : ''));
    }),
  );
  $('#user-list').replaceChildren(...users.map((u) => el('li', {}, el('strong', {}, u.name), ` ${u.email} `, badge(u.role), u.active ? '' : badge('disabled'))));
}
async function showDiff(id) {
  const d = await api(`/prompts/${id}/diff`);
  $('#prompt-diff').replaceChildren(...d.diff.map((l) => el('div', { class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : '' }, `${l.op} ${l.text}`)));
}
$('#prompt-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target.elements;
  try { const v = await post('/prompts', { text: f.text.value, note: f.note.value || undefined }); toast(`Saved as v${v.id}; the next turn uses it.`); f.note.value = ''; loadAdmin(); } catch (e) { toast(e.message); }
});
$('#mandate-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target.elements;
  try { await post('/mandates', { id: f.id.value, agent_id: f.agent_id.value, per_refund_cap_cents: reaisToCents(f.per_refund.value), window_cap_cents: reaisToCents(f.window_cap.value) }); toast('Mandate issued and signed'); event.target.reset(); loadAdmin(); } catch (e) { toast(e.message); }
});
$('#user-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = event.target.elements;
  try { await post('/users', { email: f.email.value, name: f.name.value, role: f.role.value, password: f.password.value }); toast('User added'); event.target.reset(); loadAdmin(); } catch (e) { toast(e.message); }
});

// --- Boot: an existing session goes straight in ---
api('/me').then((user) => { me = user; start(); }, showLogin);
