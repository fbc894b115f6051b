// Estorno console: one page, plain DOM and ES modules, no framework and no
// build step. Every piece of data goes in through textContent / setAttribute,
// never innerHTML, so customer text shows inert whatever it holds.

import { LANGS, currentLang, day, duration, money, number, setLang, shortWhen, t, translatePage, when } from './i18n.js';
import { barsHorizontal, barsVertical, gauges } from './charts.js';

const $ = (sel) => document.querySelector(sel);

/** "1.500,50", "1500.50", "R$ 500" → integer cents, by string arithmetic (no floats on money). */
function reaisToCents(text) {
  const v = String(text).trim().replace(/\s|R\$/g, '');
  const m = /^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$/.exec(v) ?? /^(\d+)(?:\.(\d{1,2}))?$/.exec(v);
  if (!m) throw new Error(`not an amount in reais: ${text}`);
  return Number(m[1].replace(/\./g, '')) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}
const centsToReais = (cents) => (Number.isInteger(cents) ? `${Math.trunc(cents / 100)},${String(cents % 100).padStart(2, '0')}` : '');

let me = null;
let openConversation = null;
let openThread = null;

/** createElement with attributes, listeners (`on…`) and children (strings become text nodes). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== '' && c !== false) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const badge = (text, kind = text) => el('span', { class: `badge ${String(kind)}` }, String(text));
const td = (label, ...children) => el('td', { 'data-label': label }, ...children);

function toast(message) {
  const box = $('#toast');
  box.textContent = message;
  box.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove('show'), 3500);
}

/**
 * A small modal form (native <dialog>): resolves with the field values, or
 * null when cancelled. Used for reasons, caps and confirmations, never window.prompt.
 */
function ask(title, fields, { confirm = t('ok'), danger = false, note, cancel = true } = {}) {
  return new Promise((resolve) => {
    const inputs = fields.map((f) => (f.multiline
      ? el('textarea', { name: f.name, rows: 3, placeholder: f.placeholder ?? '', required: f.required !== false })
      : el('input', { name: f.name, value: f.value ?? '', placeholder: f.placeholder ?? '', required: f.required !== false, inputmode: f.inputmode })));
    fields.forEach((f, i) => { if (f.multiline && f.value) inputs[i].value = f.value; });
    const form = el('form', { method: 'dialog' },
      el('h2', {}, title),
      note ? el('p', { class: 'hint' }, note) : '',
      ...fields.map((f, i) => el('label', {}, f.label, inputs[i])),
      el('div', { class: 'row end' },
        cancel ? el('button', { type: 'button', class: 'secondary', value: 'cancel', onclick: () => dialog.close('cancel') }, t('cancel')) : '',
        el('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : '' }, confirm)));
    const dialog = el('dialog', { class: 'ask', 'aria-label': title }, form);
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
  return (await apiWithHeaders(path, options)).body;
}
/** The answer's body and headers (a list's next-page cursor is a header). */
async function apiWithHeaders(path, options = {}) {
  const res = await fetch(path.startsWith('/readyz') ? path : `/api${path}`, {
    ...options,
    headers: { 'content-type': 'application/json', ...(me ? { 'x-csrf-token': me.csrf } : {}), ...(options.headers ?? {}) },
    credentials: 'same-origin',
  });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (res.status === 401 && path !== '/login') showLogin();
  if (!res.ok && !path.startsWith('/readyz')) {
    // Known refusals in the staff's language; anything else as the server said it.
    const code = body?.error;
    const key = `err.${code}`;
    const error = new Error(code && t(key) !== key ? t(key) : (body?.message ?? code ?? `HTTP ${res.status}`));
    error.code = code;
    error.detail = body?.message;
    throw error;
  }
  return { body, headers: res.headers };
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

// --- Language ---
const langSelect = $('#lang');
langSelect.replaceChildren(...LANGS.map(([code, name]) => el('option', { value: code }, name)));
langSelect.value = currentLang();
langSelect.addEventListener('change', () => {
  setLang(langSelect.value);
  translatePage();
  fillStaticOptions();
  if (me) {
    renderWho();
    const tab = document.querySelector('#tabs button.active')?.dataset.tab ?? 'conversations';
    show(tab);
    if (openConversation) loadTranscript(openConversation).catch(() => {});
    loadBanner().catch(() => {});
  }
});
translatePage();

// --- Login ---
function showLogin() {
  me = null;
  source?.close();
  $('#login').hidden = false;
  $('#tabs').hidden = true;
  $('#banner').hidden = true;
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
    me = null;
    $('#login-error').textContent = error.code === 'too_many_attempts' ? error.message : t('login.bad');
  }
});

function renderWho() {
  const on = notifyEnabled();
  $('#who').replaceChildren(
    el('button', { type: 'button', id: 'notify', class: `secondary small${on ? ' on' : ''}`, 'aria-pressed': String(on), title: on ? t('notify.on') : t('notify.off'), onclick: toggleNotify },
      el('span', { class: `dot${on ? ' on' : ''}`, 'aria-hidden': 'true' }), t('notify.toggle')),
    el('span', { class: 'me' }, me.name, ' ', badge(t(`role.${me.role}`), me.role)),
    el('button', { type: 'button', class: 'secondary small', id: 'logout', onclick: logout }, t('logout')));
}
function start() {
  $('#login').hidden = true;
  $('#tabs').hidden = false;
  for (const b of document.querySelectorAll('[data-admin]')) b.hidden = me.role !== 'admin';
  renderWho();
  fillStaticOptions();
  loadPeople().catch(() => {});
  show('conversations');
  live();
  loadBanner().catch(() => {});
}
async function logout() {
  await post('/logout').catch(() => {});
  openConversation = null;
  drawnThread = null;
  showLogin();
}

// --- Tabs ---
for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => show(b.dataset.tab));
function show(tab) {
  for (const b of document.querySelectorAll('#tabs button')) {
    b.classList.toggle('active', b.dataset.tab === tab);
    if (b.dataset.tab === tab) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== tab;
  const load = { conversations: loadConversations, approvals: loadApprovals, stats: loadStats, admin: loadAdmin }[tab];
  load?.().catch((e) => toast(e.message));
}

// --- Alerts: the agent's mandate, the model and the providers, the queue ---
async function loadBanner() {
  const [alerts, ready] = await Promise.all([api('/alerts'), api('/readyz').catch(() => null)]);
  const items = [];
  for (const a of alerts) {
    if (a.kind === 'agent_mandate_inactive') items.push(el('p', { class: 'alert critical', 'data-kind': a.kind }, el('strong', {}, '!'), t('alert.mandate')));
    else if (a.kind === 'model_degraded') items.push(el('p', { class: 'alert critical', 'data-kind': a.kind }, el('strong', {}, '!'), t('alert.model', { error: a.message?.match(/\(([^)]*)\)/)?.[1] ?? '?' })));
    else if (a.kind === 'waiting_for_staff') {
      items.push(el('p', { class: 'alert warning', 'data-kind': a.kind }, t('alert.waiting', { count: number(a.count) }), ' ',
        el('button', { type: 'button', class: 'secondary small', onclick: () => showQueue() }, t('alert.show_queue'))));
    }
  }
  if (ready && typeof ready === 'object') {
    if (ready.model?.status === 'degraded' && !alerts.some((a) => a.kind === 'model_degraded')) items.push(el('p', { class: 'alert critical', 'data-kind': 'model_degraded' }, el('strong', {}, '!'), t('alert.model', { error: ready.model.error ?? '?' })));
    for (const [name, p] of Object.entries(ready.providers ?? {})) {
      if (p.status === 'degraded') items.push(el('p', { class: 'alert warning', 'data-kind': 'provider_degraded' }, t('alert.provider', { name, error: p.error ?? '?' })));
    }
  }
  // The tab's title counts who waits, for staff working in another tab.
  const waiting = alerts.find((a) => a.kind === 'waiting_for_staff')?.count ?? 0;
  document.title = waiting ? `(${waiting}) ${t('app.title')}` : t('app.title');
  // Redrawn only when it says something new: a role=alert region is read out again on every change.
  const banner = $('#banner');
  const said = items.map((i) => `${i.dataset.kind}:${i.textContent}`).join('|');
  if (banner.dataset.said !== said) {
    banner.replaceChildren(...items);
    banner.dataset.said = said;
  }
  banner.hidden = items.length === 0 || !me;
}
function showQueue() {
  show('conversations');
  const f = $('#inbox-filters').elements;
  f.state.value = 'waiting_for_staff';
  loadConversations().catch((e) => toast(e.message));
}

// --- Browser notifications and a sound when someone starts waiting (opt-in) ---
const notifyEnabled = () => {
  try {
    return localStorage.getItem('estorno.notify') === '1';
  } catch {
    return false;
  }
};
let audio = null;
async function toggleNotify() {
  const on = !notifyEnabled();
  try {
    localStorage.setItem('estorno.notify', on ? '1' : '0');
  } catch {
    // kept for this page only
  }
  if (on) {
    // Created on the click: browsers only let a page play sound after a gesture.
    audio ??= new AudioContext();
    await audio.resume().catch(() => {});
    if ('Notification' in window && Notification.permission === 'default') await Notification.requestPermission().catch(() => 'denied');
    toast('Notification' in window && Notification.permission === 'denied' ? t('notify.denied') : t('notify.on'));
  } else toast(t('notify.off'));
  renderWho();
}
function chime() {
  if (!audio) return;
  const now = audio.currentTime;
  for (const [i, f] of [880, 660].entries()) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = f;
    gain.gain.setValueAtTime(0.0001, now + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.16);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + i * 0.18);
    osc.stop(now + i * 0.18 + 0.17);
  }
}
/** A conversation started waiting: sound, and a notification naming only the reason (no customer data leaves the page). */
function announceWaiting(reason) {
  if (!notifyEnabled()) return;
  try {
    chime();
  } catch {
    // no audio device: the notification still goes
  }
  if ('Notification' in window && Notification.permission === 'granted') {
    try {
      new Notification(t('notify.title'), { body: t('notify.body', { reason: t(`reason.${reason ?? 'unknown'}`) }), tag: 'estorno-waiting' });
    } catch {
      // some browsers allow notifications only from a service worker
    }
  }
}

// --- Live updates (server-sent events carry ids and kinds; the page re-fetches what changed) ---
let source = null;
let refreshTimer = null;
function live() {
  source?.close();
  $('#live').textContent = t('live.connecting');
  source = new EventSource('/api/events');
  source.onopen = () => ($('#live').textContent = t('live.on'));
  source.onerror = () => ($('#live').textContent = t('live.off'));
  // Events come in bursts (a turn is several): what the burst touched is gathered, and re-fetched once.
  let types = new Set();
  let conversations = new Set();
  const refresh = (event) => {
    let data = {};
    try {
      data = JSON.parse(event.data);
    } catch {
      // a heartbeat or an empty frame
    }
    if (event.type === 'handoff') announceWaiting(data.reason);
    types.add(event.type);
    conversations.add(data.conversationId ?? '*');
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      const touched = types;
      const ids = conversations;
      types = new Set();
      conversations = new Set();
      const any = (...kinds) => kinds.some((k) => touched.has(k));
      if (!$('#conversations').hidden) loadConversations({ keep: true }).catch(() => {});
      if (!$('#approvals').hidden && any('approval_requested', 'approval_decided', 'refund')) loadApprovals().catch(() => {});
      if (!$('#admin').hidden && any('mandate', 'prompt', 'canned')) loadAdmin().catch(() => {});
      if (openConversation && (ids.has('*') || ids.has(openConversation))) {
        loadTranscript(openConversation).catch(() => {});
        if (any('refund', 'approval_decided', 'customer', 'mode')) loadPanel(openConversation).catch(() => {});
      }
      if (openConversation && any('canned', 'customer')) loadCanned(openConversation).catch(() => {});
      if (any('mandate', 'handoff', 'mode', 'model_call', 'turn', 'message_in')) loadBanner().catch(() => {});
      countApprovals();
    }, 150);
  };
  for (const type of ['message_in', 'message_out', 'turn', 'tool_call', 'guard_decision', 'refund', 'credit_note', 'approval_requested', 'approval_decided', 'handoff', 'mode', 'model_call', 'mandate', 'prompt', 'note', 'assign', 'customer', 'canned', 'resync']) source.addEventListener(type, refresh);
  countApprovals();
}
async function countApprovals() {
  const pending = await api('/approvals?status=pending').catch(() => []);
  $('#approval-count').textContent = pending.length ? String(pending.length) : '';
}
// While staff have a conversation no turn runs, so a customer's new message may raise no event: look every few seconds.
// Waiting times grow by themselves: the list is redrawn every half minute.
setInterval(() => {
  if (me && openConversation && !$('#conversations').hidden && openThread?.mode === 'staff') loadTranscript(openConversation).catch(() => {});
}, 4000);
setInterval(() => {
  if (me && !$('#conversations').hidden) loadConversations({ keep: true }).catch(() => {});
}, 30_000);
// A failing model or provider raises no event of its own (the turn just parks): the readiness report is polled.
setInterval(() => {
  if (me) loadBanner().catch(() => {});
}, 10_000);

// --- Inbox: filters, search, pages ---
let people = [];
async function loadPeople() {
  people = await api('/people');
  fillStaticOptions();
}
function fillStaticOptions() {
  const f = $('#inbox-filters').elements;
  const keepState = f.state.value;
  f.state.replaceChildren(el('option', { value: '' }, t('inbox.any')), ...['waiting_for_staff', 'with_staff', 'agent', 'closed'].map((s) => el('option', { value: s }, t(`state.${s}`))));
  f.state.value = keepState;
  const keepAssignee = f.assignee.value;
  f.assignee.replaceChildren(el('option', { value: '' }, t('inbox.anyone')), el('option', { value: 'me' }, t('inbox.me')), el('option', { value: 'none' }, t('inbox.none')),
    ...people.filter((p) => p.id !== me?.id).map((p) => el('option', { value: String(p.id) }, p.name)));
  f.assignee.value = keepAssignee;
}
let pageCursor = null;
let shown = 0;
let searchTimer = null;
$('#inbox-filters').addEventListener('input', (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => loadConversations().catch((err) => toast(err.message)), e.target.name === 'q' ? 250 : 0);
});
$('#inbox-filters').addEventListener('submit', (e) => {
  e.preventDefault();
  loadConversations().catch((err) => toast(err.message));
});
$('#inbox-filters').addEventListener('reset', () => setTimeout(() => loadConversations().catch(() => {}), 0));
function inboxQuery(extra = {}) {
  const f = $('#inbox-filters').elements;
  const params = new URLSearchParams();
  for (const name of ['q', 'state', 'assignee', 'from', 'to']) if (f[name].value.trim()) params.set(name, f[name].value.trim());
  for (const [k, v] of Object.entries(extra)) params.set(k, String(v));
  return params.toString();
}
/** First page (or, with `keep`, as many rows as are shown now), or the next page with `more`. */
let listSeq = 0;
async function loadConversations({ keep = false, more = false } = {}) {
  const limit = keep ? Math.min(200, Math.max(50, shown)) : 50;
  // Loads overlap (live updates, typing): only the newest one draws.
  const seq = ++listSeq;
  const answer = await apiWithHeaders(`/conversations?${inboxQuery(more && pageCursor ? { cursor: pageCursor, limit: 50 } : { limit })}`);
  if (seq !== listSeq) return;
  const page = { items: answer.body, next_cursor: answer.headers.get('x-next-cursor') };
  const list = $('#conversation-list');
  const focused = document.activeElement?.closest?.('#conversation-list li')?.dataset.id;
  const rows = page.items.map(conversationItem);
  if (more) {
    list.append(...withSections(page.items, rows, list.lastElementChild?.dataset.bucket ?? null));
  } else if (page.items.length === 0) {
    const filtered = inboxQuery() !== '';
    list.replaceChildren(el('li', { class: 'empty' }, filtered ? t('inbox.nothing') : t('inbox.empty')));
  } else list.replaceChildren(...withSections(page.items, rows, null));
  shown = list.querySelectorAll('li[data-id]').length;
  pageCursor = page.next_cursor;
  $('#more').hidden = !pageCursor;
  if (focused) list.querySelector(`li[data-id="${CSS.escape(focused)}"] button`)?.focus();
}
$('#more').addEventListener('click', attempt(() => loadConversations({ more: true })));
/** Section headings between the queue and the rest. */
function withSections(items, rows, lastBucket) {
  const out = [];
  let bucket = lastBucket;
  items.forEach((c, i) => {
    const b = c.state === 'waiting_for_staff' ? 'queue' : 'others';
    if (b !== bucket) out.push(el('li', { class: `section ${b}`, role: 'presentation' }, el('h3', {}, b === 'queue' ? t('inbox.queue') : t('inbox.others'))));
    bucket = b;
    rows[i].dataset.bucket = b;
    out.push(rows[i]);
  });
  return out;
}
const stateLabel = (c) => (c.state === 'waiting_for_staff'
  ? `${t('state.waiting_for_staff')} · ${t(`reason.${c.handoff_reason ?? 'unknown'}`)}`
  : t(`state.${c.state}`));
const STATE_CLASS = { agent: 'active', waiting_for_staff: 'pending', with_staff: 'staff', closed: 'closed' };
function preview(last) {
  if (!last) return '';
  const who = t(`from.${last.from}`);
  const text = last.text ?? (last.media ? `[${t(`media.${last.media}`)}]` : '');
  return `${who}${text}`.replace(/\s+/g, ' ').slice(0, 140);
}
function conversationItem(c) {
  const waitingFor = c.state === 'waiting_for_staff' && c.waiting_seconds !== null ? t('waiting.for', { duration: duration(c.waiting_seconds) }) : '';
  const open = () => openConversationView(c.id);
  return el('li', { 'data-id': c.id, class: `${c.id === openConversation ? 'selected' : ''} ${c.state}` },
    el('button', { type: 'button', class: 'conv', onclick: open, 'aria-current': c.id === openConversation ? 'true' : undefined },
      el('span', { class: 'line' }, el('strong', { class: 'name' }, c.name ?? c.phone),
        c.unread ? el('span', { class: 'unread', 'aria-label': t('inbox.unread', { count: c.unread }) }, String(c.unread)) : '',
        el('time', { datetime: c.last_message?.at ?? c.activity_at }, shortWhen(c.last_message?.at ?? c.activity_at))),
      c.name ? el('span', { class: 'line' }, el('span', { class: 'phone' }, c.phone)) : '',
      el('span', { class: 'preview' }, preview(c.last_message)),
      el('span', { class: 'line tags' },
        badge(stateLabel(c), STATE_CLASS[c.state]),
        waitingFor ? el('span', { class: 'waiting' }, waitingFor) : '',
        c.pending_approvals ? badge(t('inbox.to_approve', { count: c.pending_approvals }), 'pending') : '',
        c.assignee ? el('span', { class: 'assignee' }, t('inbox.assigned_to', { name: c.assignee.name })) : '')));
}
// Arrow keys move between conversations; "/" jumps to search.
$('#conversation-list').addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
  const buttons = [...document.querySelectorAll('#conversation-list button.conv')];
  const i = buttons.indexOf(document.activeElement);
  const next = buttons[Math.max(0, Math.min(buttons.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
  if (next) {
    e.preventDefault();
    next.focus();
  }
});
document.addEventListener('keydown', (e) => {
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName ?? '');
  if (e.key === '/' && !typing && me && !$('#conversations').hidden) {
    e.preventDefault();
    $('#inbox-filters').elements.q.focus();
  }
  if (e.key === 'Escape' && document.body.classList.contains('reading') && !document.querySelector('dialog[open]')) closeConversationView();
});

// --- A conversation: transcript, actions, composer, customer panel ---
function openConversationView(id) {
  document.body.classList.add('reading');
  $('#erp-body').replaceChildren();
  loadTranscript(id).then(() => $('#transcript-title').focus?.()).catch((e) => toast(e.message));
}
function closeConversationView() {
  document.body.classList.remove('reading');
  const id = openConversation;
  document.querySelector(`#conversation-list li[data-id="${CSS.escape(id ?? '')}"] button`)?.focus();
}
$('#back').addEventListener('click', closeConversationView);
$('#transcript-title').setAttribute('tabindex', '-1');

const receiptLink = (id) => el('a', { href: '#', class: 'receipt-link', onclick: (e) => { e.preventDefault(); openReceipt(id); } }, id);
const statusText = (s) => t(`status.${s}`);
/** Payments are recorded per rail provider (Trio, BCB): staff think of them as Pix. */
const railName = (rail) => (['trio', 'bcb', 'pix'].includes(rail) ? 'Pix' : rail);
const methodName = (m) => (m ? t(`method.${m}`) : '?');

function entryView(e) {
  const meta = (text) => el('span', { class: 'meta' }, `${text} · ${when(e.at)}`);
  switch (e.kind) {
    case 'customer':
      return el('li', { class: 'customer' }, meta(t('entry.customer')),
        e.media ? el('span', { class: 'media' }, `[${t(`media.${e.media.kind}`) ?? e.media.kind}${e.media.fileName ? `: ${e.media.fileName}` : ''}${e.media.seconds ? `, ${e.media.seconds} s` : ''}] `, e.media.url ? el('a', { href: e.media.url, target: '_blank', rel: 'noopener noreferrer' }, t('entry.open')) : '', ' ') : '',
        e.text ?? '');
    case 'note':
      return el('li', { class: 'note' }, meta(t('entry.note', { name: e.author_name ?? e.author })), e.text);
    case 'staff':
      return el('li', { class: 'staff' }, meta(`${e.sent_by_name ? t('entry.staff', { name: e.sent_by_name }) : t('entry.staff_unknown')} · ${statusText(e.status)}`), e.text);
    case 'agent':
      return el('li', { class: 'agent' }, meta(`${t('entry.agent')}${e.template ? ` (${e.template})` : ''} · ${statusText(e.status)}`), e.text);
    case 'tool':
      return el('li', { class: 'tool' }, meta(t('entry.tool')), `${e.name} ${JSON.stringify(e.input)} → `, badge(e.outcome ?? 'running'), e.reason ? ` ${e.reason}` : '');
    case 'guard':
      return el('li', { class: 'guard' }, meta(t('entry.guard')), badge(e.decision), e.reason ? ` ${e.reason}` : '',
        ` · ${t('entry.order', { order: e.order ?? '?' })} · ${money(e.amount_cents)}${e.mandate ? ` · ${e.mandate}` : ''}${e.approval_id ? ` · ${e.approval_id}` : ''}`);
    case 'approval':
      return el('li', { class: 'approval' }, meta(t('entry.approval')), `${e.approval_id} · ${t('entry.order', { order: e.order })} · ${money(e.amount_cents)} · `, badge(e.status),
        ` ${t('entry.by', { name: e.decided_by })}: `, el('q', {}, e.decision_reason ?? ''));
    case 'refund':
      return el('li', { class: 'refund' }, meta(t('entry.refund')), `${e.refund_id} · ${t('entry.order', { order: e.order })} · ${money(e.amount_cents)} · `, badge(e.status),
        ` · ${t('entry.by', { name: e.authorized_by })}`, e.receipt_id ? ` · ${t('entry.receipt')} ` : '', e.receipt_id ? receiptLink(e.receipt_id) : '', e.failure ? ` · ${e.failure}` : '');
    default:
      return el('li', {}, JSON.stringify(e));
  }
}

let threadSeq = 0;
/** The conversation whose canned replies and customer panel are shown. */
let drawnThread = null;
async function loadTranscript(id) {
  openConversation = id;
  for (const li of document.querySelectorAll('#conversation-list li[data-id]')) li.classList.toggle('selected', li.dataset.id === id);
  const seq = ++threadSeq;
  const c = await api(`/conversations/${encodeURIComponent(id)}`);
  // Another conversation was picked meanwhile, or a newer load of this one is on its way.
  if (openConversation !== id || seq !== threadSeq) return;
  openThread = c;
  $('#transcript-title').textContent = c.name ?? c.phone;
  $('#transcript-phone').textContent = c.name ? c.phone : '';
  const waited = c.state === 'waiting_for_staff' && c.waiting_since ? ` · ${t('waiting.for', { duration: duration((Date.now() - Date.parse(c.waiting_since)) / 1000) })}` : '';
  $('#transcript-mode').replaceChildren(badge(`${stateLabel(c)}${waited}`, STATE_CLASS[c.state]));
  const list = $('#transcript');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...c.entries.map(entryView));
  if (atBottom || list.dataset.id !== id) list.scrollTop = list.scrollHeight;
  list.dataset.id = id;
  $('#thread-actions').hidden = false;
  $('#takeover').hidden = c.state === 'with_staff' || c.state === 'closed';
  $('#handback').hidden = c.mode !== 'staff';
  $('#close').hidden = c.state === 'closed';
  $('#reopen').hidden = c.state !== 'closed';
  const assignee = $('#assignee');
  assignee.replaceChildren(el('option', { value: '' }, t('conv.nobody')), ...people.map((p) => el('option', { value: String(p.id) }, p.id === me.id ? `${p.name} (${t('admin.user.you')})` : p.name)));
  assignee.value = c.assignee ? String(c.assignee.id) : '';
  $('#composer').hidden = false;
  updateComposer();
  $('#receipts-of-conversation').replaceChildren(
    ...c.receipts.map((r) =>
      el('p', { class: 'receipt', 'data-receipt': r.id }, `${t('entry.receipt')} `, receiptLink(r.id), ` (${t('entry.order', { order: r.order })}) `, badge(r.status), ' ',
        badge(r.verification?.valid ? t('receipt.valid') : t('receipt.invalid'), r.verification?.valid ? 'valid' : 'invalid'),
        r.verification?.valid ? '' : ` ${r.verification?.step}: ${r.verification?.reason}`)),
  );
  const switching = drawnThread !== id;
  drawnThread = id;
  if (switching) {
    loadCanned(id).catch(() => {});
    loadPanel(id).catch(() => {});
  }
  if (switching || document.querySelector(`#conversation-list li[data-id="${CSS.escape(id)}"] .unread`)) {
    post(`/conversations/${encodeURIComponent(id)}/read`).then(() => loadConversations({ keep: true })).catch(() => {});
  }
}
const conversationAction = (action, message) => attempt(async () => {
  await post(`/conversations/${encodeURIComponent(openConversation)}/${action}`);
  toast(t(message));
  await loadTranscript(openConversation);
  loadConversations({ keep: true }).catch(() => {});
  loadBanner().catch(() => {});
});
$('#takeover').addEventListener('click', conversationAction('takeover', 'conv.taken'));
$('#handback').addEventListener('click', conversationAction('handback', 'conv.handed'));
$('#close').addEventListener('click', conversationAction('close', 'conv.closed'));
$('#reopen').addEventListener('click', conversationAction('reopen', 'conv.reopened'));
$('#assignee').addEventListener('change', attempt(async (e) => {
  const value = e.target.value;
  await post(`/conversations/${encodeURIComponent(openConversation)}/assign`, { user_id: value ? Number(value) : null });
  toast(t('conv.assigned', { name: value ? e.target.selectedOptions[0].textContent : t('conv.nobody') }));
  loadConversations({ keep: true }).catch(() => {});
}));

// Composer: a reply to the customer (only while staff hold the chat) or an internal note (always).
const composer = $('#composer');
function updateComposer() {
  const kind = composer.elements.kind.value;
  const canReply = openThread?.mode === 'staff';
  const text = composer.elements.text;
  text.placeholder = kind === 'note' ? t('compose.note.placeholder') : t('compose.reply.placeholder');
  composer.classList.toggle('noting', kind === 'note');
  $('#compose-send').textContent = kind === 'note' ? t('compose.save_note') : t('compose.send');
  $('#compose-send').disabled = kind === 'reply' && !canReply;
  $('#compose-hint').textContent = kind === 'reply' && !canReply ? t('compose.need_takeover') : '';
}
for (const r of composer.querySelectorAll('input[name=kind]')) r.addEventListener('change', updateComposer);
composer.addEventListener('submit', attempt(async (event) => {
  event.preventDefault();
  const text = composer.elements.text;
  const kind = composer.elements.kind.value;
  if (kind === 'note') {
    await post(`/conversations/${encodeURIComponent(openConversation)}/notes`, { text: text.value });
    toast(t('compose.note_saved'));
  } else await post(`/conversations/${encodeURIComponent(openConversation)}/messages`, { text: text.value });
  text.value = '';
  await loadTranscript(openConversation);
}));
composer.elements.text.addEventListener('keydown', (e) => {
  // Ctrl/Cmd+Enter sends, as in most chat tools.
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) composer.requestSubmit();
});
let canned = [];
async function loadCanned(id) {
  canned = await api(`/conversations/${encodeURIComponent(id)}/canned-replies`);
  $('#canned').replaceChildren(el('option', { value: '' }, t('compose.canned.pick')), ...canned.map((c) => el('option', { value: String(c.id) }, c.title)));
}
$('#canned').addEventListener('change', (e) => {
  const c = canned.find((x) => String(x.id) === e.target.value);
  e.target.value = '';
  if (!c) return;
  composer.elements.kind.value = 'reply';
  updateComposer();
  const text = composer.elements.text;
  text.value = c.text;
  text.focus();
  if (c.missing.length) {
    // The first unfilled variable is selected, ready to be typed over.
    const at = c.text.indexOf(`{${c.missing[0]}}`);
    text.setSelectionRange(at, at + c.missing[0].length + 2);
    toast(t('compose.missing', { names: c.missing.map((m) => `{${m}}`).join(', ') }));
  }
});

async function loadPanel(id) {
  const p = await api(`/conversations/${encodeURIComponent(id)}/customer`);
  if (openConversation !== id) return;
  $('#customer-panel').hidden = false;
  const section = (title, rows) => el('section', {}, el('h3', {}, title), rows.length ? el('ul', { class: 'plain' }, ...rows) : el('p', { class: 'hint' }, t('panel.none')));
  $('#panel-body').replaceChildren(
    p.customer_code ? el('p', { class: 'hint' }, t('panel.code', { code: p.customer_code })) : '',
    section(t('panel.payments'), p.payments.map((x) => el('li', {}, el('strong', {}, `#${x.order_number}`), ' ', t('panel.paid', { amount: money(x.amount_cents), rail: railName(x.rail), date: day(x.paid_at) })))),
    section(t('panel.refunds'), p.refunds.map((r) => el('li', {}, el('strong', {}, `#${r.order_number}`), ` ${money(r.amount_cents)} `, badge(r.status), ` · ${day(r.created_at)}`))),
    section(t('panel.receipts'), p.receipts.map((r) => el('li', {}, receiptLink(r.id), ` #${r.order_number} `, badge(r.status)))),
    section(t('panel.previous'), [
      ...p.conversations.map((c) => el('li', {}, el('a', { href: '#', onclick: (e) => { e.preventDefault(); openConversationView(c.id); } }, day(c.activity_at)), ' ', badge(t(`state.${c.state}`), STATE_CLASS[c.state]))),
      ...p.closed_cycles.map((c) => el('li', { class: 'hint' }, `${t('panel.closed_cycles')}: ${when(c.at)}`)),
    ]),
  );
}
$('#erp').addEventListener('click', async () => {
  const id = openConversation;
  const box = $('#erp-body');
  box.replaceChildren(el('p', { class: 'hint' }, t('panel.erp_loading')));
  try {
    const r = await api(`/conversations/${encodeURIComponent(id)}/customer/erp`);
    if (openConversation !== id) return;
    box.replaceChildren(
      r.customer ? el('p', {}, el('strong', {}, r.customer.name), ` · ${t('panel.code', { code: r.customer.code })}`) : el('p', { class: 'hint' }, t('panel.none')),
      el('h3', {}, t('panel.erp_orders')),
      el('ul', { class: 'plain' }, ...r.orders.map((o) => el('li', {}, el('strong', {}, `#${o.order_number}`), ` ${money(o.total_cents)} · ${methodName(o.method)} · ${day(o.placed_at)}`,
        el('small', { class: 'block hint' }, o.items.map((i) => `${i.quantity}× ${i.description}`).join('; '))))),
    );
  } catch {
    box.replaceChildren(el('p', { class: 'error' }, t('panel.erp_failed')));
  }
});

// --- Approvals with their context and a confirmation naming the amount ---
async function loadApprovals() {
  const rows = await api('/approvals?status=pending');
  const box = $('#approval-list');
  const open = new Set([...box.querySelectorAll('article.expanded')].map((a) => a.dataset.approval));
  box.replaceChildren(...(rows.length === 0 ? [el('p', { class: 'hint empty' }, t('appr.empty'))] : rows.map(approvalCard)));
  for (const id of open) box.querySelector(`article[data-approval="${CSS.escape(id)}"] button.context`)?.click();
}
const guardReason = (r) => {
  const key = `appr.guard.${r}`;
  const text = t(key);
  return text === key ? r : text;
};
function approvalCard(a) {
  const detail = el('div', { class: 'context' });
  const toggle = el('button', { type: 'button', class: 'secondary context', 'aria-expanded': 'false', onclick: attempt(async () => {
    const article = toggle.closest('article');
    if (article.classList.contains('expanded')) {
      article.classList.remove('expanded');
      toggle.setAttribute('aria-expanded', 'false');
      detail.replaceChildren();
      return;
    }
    const ctx = await api(`/approvals/${encodeURIComponent(a.id)}`);
    article.classList.add('expanded');
    toggle.setAttribute('aria-expanded', 'true');
    detail.replaceChildren(...approvalContext(a, ctx));
    // The excerpt opens on its newest messages, the ones right before the request.
    const mini = detail.querySelector('.transcript.mini');
    if (mini) mini.scrollTop = mini.scrollHeight;
  }) }, t('appr.open'));
  return el('article', { class: 'approval card', 'data-approval': a.id },
    el('div', { class: 'approval-head' },
      el('div', {}, el('h3', {}, a.customer_name ?? a.phone), el('small', { class: 'hint' }, a.customer_name ? a.phone : '')),
      el('div', { class: 'amount big' }, money(a.amount_cents)),
    ),
    el('dl', { class: 'facts' },
      el('dt', {}, t('appr.order')), el('dd', {}, `#${a.order_number}`),
      el('dt', {}, t('appr.why')), el('dd', {}, badge(guardReason(a.guard_reason), 'pending')),
      el('dt', {}, t('appr.agent_reason')), el('dd', { class: 'quote' }, a.reason)),
    el('p', { class: 'hint' }, t('appr.requested', { date: when(a.requested_at), expires: when(a.expires_at) }), ' · ',
      el('a', { href: '#', onclick: (e) => { e.preventDefault(); show('conversations'); openConversationView(a.conversation_id); } }, t('appr.conversation'))),
    toggle, detail);
}
function approvalContext(a, ctx) {
  const reason = el('textarea', { rows: 2, class: 'reason', name: 'reason', required: true, maxlength: 500 });
  const forCustomer = el('textarea', { rows: 2, class: 'customer-message', name: 'customer_message', maxlength: 1000 });
  const name = ctx.customer.name ?? ctx.customer.phone;
  const rail = ctx.payment ? railName(ctx.payment.rail) : methodName(ctx.order?.method);
  const approve = attempt(async () => {
    if (!reason.value.trim()) {
      reason.focus();
      throw new Error(t('appr.need_reason'));
    }
    const amount = money(a.amount_cents);
    const ok = await ask(t('appr.confirm_title', { amount }), [], { confirm: t('appr.confirm', { amount }), note: t('appr.confirm_note', { amount, name, order: a.order_number, rail }) });
    if (!ok) return;
    const r = await post(`/approvals/${encodeURIComponent(a.id)}/approve`, { reason: reason.value, amount_cents: a.amount_cents });
    toast(t('appr.approved', { id: r.refundId, status: t(`refund.${r.refundStatus}`) }));
    await loadApprovals();
    countApprovals();
  });
  const reject = attempt(async () => {
    if (!reason.value.trim()) {
      reason.focus();
      throw new Error(t('appr.need_reason'));
    }
    const ok = await ask(t('appr.reject_title', { amount: money(a.amount_cents) }), [], { confirm: t('appr.reject'), danger: true, note: t('appr.reject_note', { extra: forCustomer.value.trim() ? t('appr.reject_extra') : '' }) });
    if (!ok) return;
    await post(`/approvals/${encodeURIComponent(a.id)}/reject`, { reason: reason.value, ...(forCustomer.value.trim() ? { customer_message: forCustomer.value } : {}) });
    toast(t('appr.rejected'));
    await loadApprovals();
    countApprovals();
  });
  return [
    el('div', { class: 'context-grid' },
      el('section', {}, el('h4', {}, t('appr.items')),
        ctx.order ? el('ul', { class: 'plain' }, ...ctx.order.items.map((i) => el('li', {}, `${i.quantity}× ${i.description} · ${money(i.totalCents)}`))) : el('p', { class: 'hint' }, t('appr.erp_failed')),
        el('h4', {}, t('appr.payment')),
        ctx.payment ? el('p', {}, t('panel.paid', { amount: money(ctx.payment.amount_cents), rail: railName(ctx.payment.rail), date: day(ctx.payment.paid_at) }), el('br'), t('appr.refunded', { amount: money(ctx.payment.refunded_cents) })) : el('p', { class: 'hint' }, '—')),
      el('section', {}, el('h4', {}, t('appr.history')),
        ctx.refund_history.length ? el('ul', { class: 'plain' }, ...ctx.refund_history.map((r) => el('li', {}, `#${r.order_number} ${money(r.amount_cents)} `, badge(r.status), ` · ${day(r.created_at)} · `, el('q', {}, r.reason)))) : el('p', { class: 'hint' }, t('appr.no_history'))),
      el('section', { class: 'excerpt' }, el('h4', {}, t('appr.excerpt')),
        el('ol', { class: 'transcript mini' }, ...ctx.excerpt.map((m) => el('li', { class: m.who === 'customer' ? 'customer' : m.who === 'staff' ? 'staff' : 'agent' },
          el('span', { class: 'meta' }, `${m.who === 'customer' ? t('entry.customer') : m.who === 'staff' ? t('entry.staff', { name: m.sent_by ?? '' }) : t('entry.agent')} · ${when(m.at)}`), m.text ?? ''))))),
    el('div', { class: 'decide' },
      el('label', {}, t('appr.reason'), reason),
      el('label', {}, t('appr.customer_message'), forCustomer),
      el('div', { class: 'row' },
        el('button', { type: 'button', class: 'approve', onclick: approve }, t('appr.approve', { amount: money(a.amount_cents) })),
        el('button', { type: 'button', class: 'danger reject', onclick: reject }, t('appr.reject')))),
  ];
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
      el('p', {}, badge(v.valid ? t('receipt.valid') : t('receipt.invalid'), v.valid ? 'valid' : 'invalid'), ' ',
        v.valid ? t('rcpt.ok', { records: v.records, sealed: v.sealed ? t('rcpt.sealed', { outcome: v.outcome, key: r.key_id }) : t('rcpt.unsealed') }) : `${v.step}: ${v.reason}`),
      el('ol', { class: 'records' }, ...r.records.map((rec) => el('li', {}, el('strong', {}, rec.kind), el('code', {}, ` ${rec.hash.slice(0, 16)}…`)))),
      r.seal ? el('p', { class: 'hint' }, `${when(r.seal.sealed_at)} · ${r.seal.signature.slice(0, 24)}…`) : '',
      el('p', { class: 'hint' }, t('rcpt.offline'), el('code', {}, r.id), ' · ', el('a', { href: '/api/receipts/public-key' }, t('rcpt.key'))),
    );
  } catch (e) {
    $('#receipt-result').replaceChildren(el('p', { class: 'error' }, e.message));
  }
}
$('#receipt-form').addEventListener('submit', (event) => {
  event.preventDefault();
  verifyReceipt(event.target.elements.id.value.trim());
});

// --- Pictures (inline SVG built with DOM calls; see charts.js) ---
let lastStats = null;
async function loadStats() {
  lastStats = await api('/stats');
  drawStats();
}
function drawStats() {
  const s = lastStats;
  if (!s) return;
  const width = (id) => Math.max(280, Math.floor($(id).clientWidth || 480));
  const total = s.refunds_per_day.reduce((n, d) => n + d.refunds, 0);
  const settled = s.refunds_per_day.reduce((n, d) => n + d.settled_cents, 0);
  $('#days-summary').textContent = t('stats.days.summary', { count: number(total), amount: money(settled) });
  $('#chart-days').replaceChildren(barsVertical(s.refunds_per_day, {
    width: width('#chart-days'), title: t('stats.days'), yTitle: t('stats.days.y'), xTitle: t('stats.days.x'),
    label: (d) => d.day.slice(8, 10), value: (d) => d.refunds, valueText: (d) => number(d.refunds), tooltip: (d) => `${day(`${d.day}T12:00:00Z`)}: ${number(d.refunds)} · ${money(d.settled_cents)}`,
  }));
  const bucketLabel = (d) => (d.le === null ? `>${duration(d.from)}` : `≤${duration(d.le)}`);
  const lat = s.complaint_to_refund;
  $('#latency-summary').textContent = t('stats.latency.summary', { p50: duration(lat.p50), p95: duration(lat.p95), count: number(lat.count) });
  $('#chart-latency').replaceChildren(barsVertical(lat.histogram, {
    width: width('#chart-latency'), title: t('stats.latency'), yTitle: t('stats.latency.y'), xTitle: t('stats.latency.x'), color: '#3b5bdb',
    label: bucketLabel, value: (d) => d.count, valueText: (d) => number(d.count), tooltip: (d) => `${bucketLabel(d)}: ${number(d.count)}`,
  }));
  $('#chart-reasons').replaceChildren(barsHorizontal(s.refunds_by_reason, {
    width: width('#chart-reasons'), title: t('stats.reasons'), empty: t('stats.none'),
    label: (d) => (d.reason === 'other' ? t('stats.other') : d.reason), value: (d) => d.refunds, valueText: (d) => `${number(d.refunds)} · ${money(d.amount_cents)}`,
  }));
  $('#chart-handoffs').replaceChildren(barsHorizontal(s.handoffs_by_reason, {
    width: width('#chart-handoffs'), title: t('stats.handoffs'), empty: t('stats.none'), color: '#b54708',
    label: (d) => t(`reason.${d.reason}`), value: (d) => d.count, valueText: (d) => number(d.count),
  }));
  const w = s.waiting;
  $('#waiting-summary').textContent = t('stats.waiting.summary', { p50: duration(w.p50), p95: duration(w.p95), count: number(w.count), still: number(w.still_waiting) });
  $('#chart-waiting').replaceChildren(barsVertical(w.histogram, {
    width: width('#chart-waiting'), title: t('stats.waiting'), yTitle: t('stats.waiting.y'), xTitle: t('stats.waiting.x'), color: '#b54708',
    label: bucketLabel, value: (d) => d.count, valueText: (d) => number(d.count), tooltip: (d) => `${bucketLabel(d)}: ${number(d.count)}`,
  }));
  $('#chart-caps').replaceChildren(gauges(s.mandates, {
    width: width('#chart-caps'), title: t('stats.caps'),
    label: (m) => `${m.id} (${t(m.status)})`, figure: (m, pct) => t('stats.caps.of', { used: money(m.window_used_cents), cap: money(m.window_cap_cents), pct }),
  }));
}
let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => { if (!$('#stats').hidden) drawStats(); }, 200);
});

// --- Admin: prompt versions, mandates, canned replies, users ---
async function loadAdmin() {
  if (me.role !== 'admin') return;
  const [prompts, mandates, users, cannedList] = await Promise.all([api('/prompts'), api('/mandates'), api('/users'), api('/canned-replies')]);
  const form = $('#prompt-form');
  // Do not throw away what an admin is typing when a live update reloads the tab.
  if (document.activeElement !== form.elements.text) form.elements.text.value = prompts.current.text;
  $('#prompt-current').textContent = (prompts.versions.length ? t('prompt.in_use', { id: prompts.current.id, author: prompts.current.author, date: when(prompts.current.created_at) }) : t('prompt.default')) +
    ` · ${t('prompt.model', { model: prompts.model === 'scripted model' ? t('prompt.scripted') : (prompts.model ?? 'claude') })}${prompts.model_note ? `. ${t('prompt.scripted_note')}` : ''}`;
  $('#prompt-versions').replaceChildren(
    ...prompts.versions.map((v, i) =>
      el('li', { 'data-version': v.id },
        el('button', { type: 'button', class: 'link', onclick: () => showDiff(v.id).catch((e) => toast(e.message)) }, el('strong', {}, `v${v.id}${i === 0 ? ` ${t('current')}` : ''}`), ` · ${v.author}`),
        el('small', {}, `${when(v.created_at)}${v.note ? ` — ${v.note}` : ''} · ${t('prompt.click')}`), evalBadge(v.eval),
        i > 0 ? el('button', { type: 'button', class: 'secondary small', onclick: attempt(async () => { await post(`/prompts/${v.id}/rollback`); toast(t('prompt.rolled', { id: v.id })); await loadAdmin(); }) }, t('rollback')) : '')),
    el('li', { class: 'static' }, el('small', {}, t('prompt.v0')), evalBadge(prompts.default_eval),
      prompts.versions.length ? el('button', { type: 'button', class: 'secondary small', onclick: attempt(async () => { await post('/prompts/0/rollback'); toast(t('prompt.rolled', { id: 0 })); await loadAdmin(); }) }, t('rollback.default')) : ''),
  );
  $('#mandate-rows').replaceChildren(...mandates.map(mandateRow));
  $('#canned-hint').textContent = t('admin.canned.hint', { vars: cannedList.variables.map((v) => `{${v}}`).join(', ') });
  $('#canned-rows').replaceChildren(...cannedList.items.map((c) => el('li', { 'data-canned': c.id, class: 'static' },
    el('strong', {}, c.title), el('small', {}, c.body),
    el('div', { class: 'row' },
      el('button', { type: 'button', class: 'secondary small', onclick: attempt(async () => {
        const answer = await ask(t('admin.canned.edit'), [{ name: 'title', label: t('admin.canned.title'), value: c.title }, { name: 'body', label: t('admin.canned.body'), value: c.body, multiline: true }], { confirm: t('ok') });
        if (!answer) return;
        await api(`/canned-replies/${c.id}`, { method: 'PUT', body: JSON.stringify(answer) });
        toast(t('admin.canned.saved'));
        await loadAdmin();
      }) }, t('admin.canned.edit')),
      el('button', { type: 'button', class: 'secondary small', onclick: attempt(async () => {
        await api(`/canned-replies/${c.id}`, { method: 'PUT', body: JSON.stringify({ archived: true }) });
        await loadAdmin();
      }) }, t('admin.canned.archive'))))));
  $('#user-rows').replaceChildren(
    ...users.map((u) =>
      el('tr', { 'data-user': u.email }, td(t('admin.user.name'), u.name), td(t('admin.user.email'), u.email), td(t('admin.user.role'), badge(t(`role.${u.role}`), u.role)), td(t('admin.status'), badge(u.active ? t('active') : t('disabled'), u.active ? 'active' : 'disabled')),
        td(t('admin.actions'), u.id === me.id ? el('small', { class: 'hint' }, t('admin.user.you')) : el('button', { type: 'button', class: u.active ? 'secondary small disable' : 'secondary small enable', onclick: attempt(async () => {
          await post(`/users/${u.id}/${u.active ? 'disable' : 'enable'}`);
          await loadAdmin();
        }) }, u.active ? t('admin.user.disable') : t('admin.user.enable'))))),
  );
}

function mandateRow(m) {
  const label = { pause: t('admin.pause'), resume: t('admin.resume'), revoke: t('admin.revoke') };
  const act = (action) => attempt(async () => {
    const answer = await ask(`${label[action]} ${m.id}`, [{ name: 'reason', label: t('admin.reason') }], {
      confirm: label[action], danger: action === 'revoke', note: action === 'revoke' ? t('admin.revoke.note') : undefined,
    });
    if (!answer) return;
    await post(`/mandates/${encodeURIComponent(m.id)}/${action}`, { reason: answer.reason });
    toast(`${m.id}: ${label[action]}`);
    await loadAdmin();
    loadBanner().catch(() => {});
  });
  const caps = attempt(async () => {
    const answer = await ask(`${t('admin.caps')} · ${m.id}`, [
      { name: 'per', label: `${t('admin.per_refund')} (R$)`, value: centsToReais(m.document?.per_refund_cap_cents), inputmode: 'decimal' },
      { name: 'window', label: `${t('admin.window_cap')} · ${Math.round((m.document?.window_seconds ?? 86400) / 3600)} h (R$)`, value: centsToReais(m.document?.window_cap_cents), inputmode: 'decimal' },
    ], { confirm: t('admin.resign'), note: t('admin.caps.note') });
    if (!answer) return;
    await api(`/mandates/${encodeURIComponent(m.id)}/caps`, { method: 'PUT', body: JSON.stringify({ per_refund_cap_cents: reaisToCents(answer.per), window_cap_cents: reaisToCents(answer.window) }) });
    toast(`${m.id}: ${t('admin.resign')}`);
    await loadAdmin();
  });
  const alive = m.status !== 'revoked';
  return el('tr', { 'data-mandate': m.id },
    td(t('admin.mandate'), el('strong', {}, m.id), ` v${m.version}`, el('small', { class: 'hint block' }, `${m.document?.issued_by ?? '?'}, ${when(m.document?.issued_at)}`)),
    td(t('admin.agent'), m.agent_id), td(t('admin.status'), badge(t(m.status), m.status)),
    el('td', { class: 'amount', 'data-label': t('admin.per_refund') }, money(m.document?.per_refund_cap_cents)), el('td', { class: 'amount', 'data-label': t('admin.window_cap') }, money(m.document?.window_cap_cents)), el('td', { class: 'amount', 'data-label': t('admin.used') }, money(m.window_used_cents)),
    td(t('admin.signature'), badge(m.verifies ? t('signature_ok') : t('signature_bad'), m.verifies ? 'valid' : 'invalid')),
    td(t('admin.actions'), el('div', { class: 'row' },
      m.status === 'active' ? el('button', { type: 'button', class: 'secondary small pause', onclick: act('pause') }, label.pause) : '',
      m.status === 'paused' ? el('button', { type: 'button', class: 'secondary small resume', onclick: act('resume') }, label.resume) : '',
      alive ? el('button', { type: 'button', class: 'secondary small caps', onclick: caps }, t('admin.caps')) : '',
      alive ? el('button', { type: 'button', class: 'danger small revoke', onclick: act('revoke') }, label.revoke) : '')));
}

/** The last `npm run eval` of a version: pass^k over how many scenarios, on which model. */
function evalBadge(ev) {
  if (!ev) return el('small', { class: 'hint' }, t('eval.none'));
  return badge(t('eval.badge', { k: ev.k, pass: number(ev.pass_k), passed: ev.passed_all, total: ev.scenarios, model: ev.model, date: when(ev.created_at) }), ev.pass_k === 1 ? 'valid' : 'pending');
}

async function showDiff(id) {
  const d = await api(`/prompts/${id}/diff`);
  $('#prompt-diff-title').textContent = t('prompt.diff_title', { id: d.id, author: d.author, date: when(d.created_at), note: d.note ? ` — ${d.note}` : '' });
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
    if (e.code !== 'lower_pass_rate') throw e;
    const sure = await ask(t('eval.worse_title'), [], { confirm: t('eval.publish_anyway'), danger: true, note: e.detail });
    if (!sure) return;
    v = await post('/prompts', { ...body, confirm: true });
  }
  toast(t('prompt.saved', { id: v.id }));
  f.note.value = '';
  f.text.blur();
  await loadAdmin();
}));
$('#mandate-form').addEventListener('submit', attempt(async (event) => {
  event.preventDefault();
  const f = event.target.elements;
  await post('/mandates', { id: f.id.value, agent_id: f.agent_id.value, per_refund_cap_cents: reaisToCents(f.per_refund.value), window_cap_cents: reaisToCents(f.window_cap.value) });
  toast(`${f.id.value} ✓`);
  event.target.reset();
  await loadAdmin();
  loadBanner().catch(() => {});
}));
$('#canned-form').addEventListener('submit', attempt(async (event) => {
  event.preventDefault();
  const f = event.target.elements;
  await post('/canned-replies', { title: f.title.value, body: f.body.value });
  toast(t('admin.canned.saved'));
  event.target.reset();
  await loadAdmin();
}));
$('#user-form').addEventListener('submit', attempt(async (event) => {
  event.preventDefault();
  const f = event.target.elements;
  const u = await post('/users', { email: f.email.value, name: f.name.value, role: f.role.value, ...(f.password.value ? { password: f.password.value } : {}) });
  event.target.reset();
  await loadAdmin();
  loadPeople().catch(() => {});
  if (u.password) await ask(u.email, [{ name: 'password', label: t('admin.user.shown_once'), value: u.password }], { confirm: t('done'), cancel: false });
  else toast(t('admin.user.added'));
}));

// --- Boot: an existing session goes straight in ---
api('/me').then((user) => { me = user; start(); }, showLogin);
