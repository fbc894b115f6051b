import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOAO, MARINA } from '../../sandbox/seed.ts';
import { startTestEstorno, type TestEstorno } from '../helpers/estorno.ts';
import { ADMIN, STAFF, seedUsers } from '../helpers/console.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { promptSha256 } from '../../data/evals.ts';
import { DEFAULT_SYSTEM_PROMPT } from '../../agent/prompt.ts';

/**
 * The console in real Chromium (from npm, `@sparticuz/chromium`, driven by playwright-core),
 * at 1280 and 390 px wide. Screenshots of each screen go to test-artifacts/screenshots/
 * (committed: they are the pictures). playwright-core launches each browser with
 * a fresh temporary profile of its own, so no state carries between runs.
 */
const SHOTS = path.resolve('test-artifacts/screenshots');
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const nbsp = (s: string | null) => (s ?? '').replace(/\u00a0|\u202f/g, ' ');

describe('the console in a real browser', () => {
  let e: TestEstorno;
  let browser: Browser;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    e = await startTestEstorno();
    await seedUsers(e);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await e?.stop();
  });

  async function open(who: { email: string; password: string }, viewport = DESKTOP): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: 'pt-BR', timezoneId: 'America/Sao_Paulo' });
    const page = await context.newPage();
    // The console never opens native dialogs (it uses <dialog> forms): any alert/confirm/prompt is an XSS that fired.
    page.on('dialog', async (d) => {
      dialogs.push(`${d.type()}:${d.message()}`);
      await d.dismiss();
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Notifications recorded instead of shown: the test reads what the page would have said.
    await page.addInitScript({ content: `
      window.__notifications = [];
      window.Notification = function (title, options) { window.__notifications.push(title + '|' + ((options && options.body) || '')); };
      window.Notification.permission = 'granted';
      window.Notification.requestPermission = function () { return Promise.resolve('granted'); };
    ` });
    await page.goto(`${e.url}/console/`);
    await page.fill('input[name=email]', who.email);
    await page.fill('input[name=password]', who.password);
    await page.click('#login-form button');
    await page.waitForSelector('#tabs:not([hidden])');
    return page;
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, name) });
  const noSidewaysScroll = async (page: Page) => {
    const { scroll, width } = await page.evaluate<{ scroll: number; width: number }>('({ scroll: document.documentElement.scrollWidth, width: window.innerWidth })');
    expect(scroll).toBeLessThanOrEqual(width);
  };

  /** Chart labels that stick out of their picture (none should). */
  const clippedLabels = (page: Page) => page.evaluate<string[]>(`[...document.querySelectorAll('#stats svg text')].filter((t) => {
      const svg = t.closest('svg').getBoundingClientRect();
      const r = t.getBoundingClientRect();
      return r.width > 0 && (r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1 || r.bottom > svg.bottom + 1);
    }).map((t) => t.textContent)`);

  afterAll(() => {
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('speaks pt-BR by default (dates and money too), and English when chosen', async () => {
    const page = await open(STAFF);
    expect(await page.getAttribute('html', 'lang')).toBe('pt-BR');
    expect(await page.locator('#tabs button[data-tab=conversations]').textContent()).toBe('Conversas');
    expect(await page.locator('#tabs button[data-tab=approvals] .long').textContent()).toBe('Aprovações');
    expect(await page.locator('#inbox-filters input[name=q]').getAttribute('placeholder')).toBe('Nome, final do telefone, pedido ou recibo');
    await page.waitForSelector('#conversation-list li.empty:has-text("Nenhuma conversa ainda")');
    await shot(page, '01-inbox-empty-pt-BR-1280.png');
    await page.selectOption('#lang', 'en');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('#tabs button[data-tab=conversations]').textContent()).toBe('Conversations');
    await page.waitForSelector('#conversation-list li.empty:has-text("No conversations yet")');
    await page.selectOption('#lang', 'pt-BR');
    expect(await page.locator('#tabs button[data-tab=stats]').textContent()).toBe('Gráficos');
    await page.context().close();
  });

  it('shows a conversation appearing live with the customer name, and finds it by order number', async () => {
    const page = await open(STAFF);
    await e.say(JOAO.whatsapp, 'oi, tudo bem?');
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado, quero meu dinheiro de volta');
    await e.settle();
    // The ERP's name arrives in the background and the list redraws by itself.
    const marina = page.locator('#conversation-list li[data-id]:has-text("Marina Souza")');
    await marina.waitFor({ timeout: 10_000 });
    expect(nbsp(await marina.textContent())).toContain('(11) •••••-4321');
    expect(nbsp(await marina.locator('.preview').textContent())).toMatch(/^Agente: Encontrei seu pedido #8421/);
    expect(await marina.locator('.unread').textContent()).toBe('1');
    await page.fill('#inbox-filters input[name=q]', '8421');
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#conversation-list li[data-id]').length === 1);
    expect(await page.locator('#conversation-list li[data-id]').textContent()).toContain('Marina Souza');
    await shot(page, '02-search-by-order-1280.png');
    await marina.locator('button.conv').click();
    await page.waitForSelector('#transcript li.agent:has-text("R$ 186,00")');
    expect(await page.locator('#transcript-title').textContent()).toBe('Marina Souza');
    // Replying needs the conversation taken from the agent; the composer says so instead of failing.
    expect(await page.isDisabled('#compose-send')).toBe(true);
    expect(await page.locator('#compose-hint').textContent()).toBe('Para responder, clique em Atender: o agente pausa para este cliente.');
    await page.waitForSelector('#customer-panel:not([hidden]) #panel-body');
    await page.click('#erp');
    await page.waitForSelector('#erp-body li:has-text("#8422")');
    await shot(page, '03-transcript-and-customer-1280.png');
    await page.context().close();
  });

  it('puts a handoff first in the waiting queue with its reason, raises the banner, and notifies staff who opted in', async () => {
    const page = await open(STAFF);
    await page.click('#notify');
    expect(await page.getAttribute('#notify', 'aria-pressed')).toBe('true');
    await page.waitForTimeout(300);
    await e.say(MARINA.whatsapp, 'e o pedido 8423? paguei no cartão, quero estorno');
    await e.settle();
    const first = page.locator('#conversation-list li[data-id]').first();
    await page.waitForSelector('#conversation-list li.section.queue + li[data-id]:has-text("Marina Souza")', { timeout: 10_000 });
    expect(nbsp(await first.textContent())).toContain('Esperando pessoa · pagamento com cartão');
    expect(nbsp(await first.locator('.waiting').textContent())).toMatch(/^esperando há \d+ s$/);

    await page.waitForSelector('#banner:not([hidden]) .alert[data-kind=waiting_for_staff]:has-text("1 conversa(s) esperando uma pessoa")');
    await page.waitForFunction(() => (globalThis as any).__notifications.length > 0);
    expect(await page.evaluate<string[]>('window.__notifications')).toEqual(['Cliente esperando atendimento|Motivo: pagamento com cartão']);
    await shot(page, '04-waiting-queue-and-banner-1280.png');
    await page.click('#banner button');
    await page.waitForFunction(() => [...(globalThis as any).document.querySelectorAll('#conversation-list li[data-id]')].every((li: any) => li.classList.contains('waiting_for_staff')));
    await page.context().close();
  });

  it('lets staff assign to themselves, write an internal note, and answer with a canned reply that names the customer and the order', async () => {
    const page = await open(STAFF);
    await page.locator('#conversation-list li[data-id]:has-text("Marina Souza") button.conv').click();
    await page.waitForSelector('#thread-actions:not([hidden])');
    const staffId = String((await e.services.store.users.byEmail(STAFF.email))!.id);
    await page.selectOption('#assignee', staffId);
    await page.waitForSelector('#conversation-list li[data-id]:has-text("Marina Souza") .assignee:has-text("Sergio Staff")');
    const before = (await e.outbox(MARINA.whatsapp)).length;
    await page.check('#composer input[value=note]');
    await page.fill('#composer textarea', 'Cliente antiga; conferir o cartão com o financeiro.');
    await page.click('#compose-send');
    await page.waitForSelector('#transcript li.note:has-text("nota interna · Sergio Staff"):has-text("conferir o cartão")');
    await page.check('#composer input[value=reply]');
    await page.click('#takeover');
    await page.waitForSelector('#handback:not([hidden])');
    await page.selectOption('#canned', { label: 'Pedido em análise' });
    expect(await page.inputValue('#composer textarea')).toBe('Marina, estou analisando o pedido 8423 e te retorno em instantes.');
    await page.click('#compose-send');
    await page.waitForSelector('#transcript li.staff:has-text("equipe · Sergio Staff"):has-text("estou analisando o pedido 8423")');
    await e.settle();
    expect((await e.outbox(MARINA.whatsapp)).slice(before).map((m) => m.message)).toEqual(['Marina, estou analisando o pedido 8423 e te retorno em instantes.']);
    expect(await e.services.store.conversations.byChat(MARINA.whatsapp)).toMatchObject({ state: 'with_staff', assignee_id: Number(staffId) });
    await shot(page, '05-assign-note-canned-reply-1280.png');
    await page.click('#handback');
    await page.waitForSelector('#takeover:not([hidden])');
    await page.context().close();
  });

  it('shows an approval with its context and moves money only after a confirmation naming the amount', async () => {
    await e.complainAndConfirm(MARINA.whatsapp, 'o pedido 8422 chegou quebrado, quero estorno');
    const page = await open(STAFF);
    await page.click('#tabs button[data-tab=approvals]');
    const card = page.locator('#approval-list article:has-text("#8422")');
    await card.waitFor();
    expect(nbsp(await card.textContent())).toContain('R$ 2.400,00');
    expect(await card.locator('h3').textContent()).toBe('Marina Souza');
    await card.locator('button.context').click();
    await card.locator('.context-grid').waitFor();
    expect(nbsp(await card.locator('.context-grid').textContent())).toMatch(/Itens do pedido.*R\$/);
    expect(await card.locator('.excerpt li.customer:has-text("8422")').count()).toBeGreaterThan(0);
    await card.locator('textarea.reason').fill('cliente antiga, cadeira chegou quebrada');
    await card.locator('button.approve').click();
    const dialog = page.locator('dialog.ask');
    await dialog.waitFor();
    expect(nbsp(await dialog.textContent())).toContain('Confirmar estorno de R$ 2.400,00');
    expect(nbsp(await dialog.locator('button[type=submit]').textContent())).toBe('Estornar R$ 2.400,00');
    await shot(page, '06-approval-confirmation-1280.png');
    // Nothing moved while the confirmation is open.
    expect((await e.pixRefunds()).some((r) => r.amount_cents === 240_000)).toBe(false);
    await dialog.locator('button[type=submit]').click();
    await page.waitForSelector('#approval-list p.empty');
    await e.settle();
    const refund = (await e.services.store.refunds.forConversation((await e.services.store.conversations.byChat(MARINA.whatsapp))!.id)).find((r) => r.order_number === '8422')!;
    expect(refund).toMatchObject({ status: 'settled', authorized_by: `staff:${STAFF.email}` });
    await page.click('#tabs button[data-tab=conversations]');
    await page.locator('#conversation-list li[data-id]:has-text("Marina Souza") button.conv').click();
    await page.waitForSelector(`#transcript li.refund:has-text("${refund.id}") .badge.settled`);
    await page.waitForSelector(`#transcript li.approval:has-text("${STAFF.email}"):has-text("cliente antiga, cadeira chegou quebrada") .badge.approved`);
    await page.waitForSelector(`#receipts-of-conversation p:has-text("${refund.case_id}") .badge.sealed`);
    await page.click('#tabs button[data-tab=receipts]');
    await page.fill('#receipt-form input', refund.case_id!);
    await page.click('#receipt-form button');
    await page.waitForSelector('#receipt-result .badge.valid');
    await shot(page, '07-receipt-verified-1280.png');
    await page.click('#tabs button[data-tab=stats]');
    await page.waitForSelector('#chart-handoffs svg text.label');
    // Axes and units: every vertical chart has a y axis title and tick values; labels are inside the picture.
    for (const id of ['#chart-days', '#chart-latency', '#chart-waiting']) expect(await page.locator(`${id} svg text.axis-title`).count(), id).toBe(2);
    const handoffLabels = await page.locator('#chart-handoffs svg text.label').allTextContents();
    expect(handoffLabels, JSON.stringify(handoffLabels)).toContain('pagamento com cartão');
    expect(nbsp(await page.locator('#latency-summary').textContent())).toMatch(/^p50 \d+ s · p95 \d+ s · \d+ estorno/);
    expect(nbsp(await page.locator('#chart-caps svg').textContent())).toContain('cm_staff_approvals (ativo)R$ 2.400,00 de R$ 50.000,00');
    expect(await clippedLabels(page)).toEqual([]);
    await shot(page, '08-pictures-1280.png');
    await page.context().close();
  });

  it('can be worked from the keyboard: "/" to search, arrows through the list, Enter to open, focus visible', async () => {
    const page = await open(STAFF);
    await page.locator('#conversation-list li[data-id]').first().waitFor();
    await page.keyboard.press('/');
    expect(await page.evaluate<string>('document.activeElement.name')).toBe('q');
    await page.keyboard.type('4321');
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#conversation-list li[data-id]').length === 1);
    await page.keyboard.press('Escape');
    await page.fill('#inbox-filters input[name=q]', '');
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#conversation-list li[data-id]').length === 2);
    await page.focus('#conversation-list li[data-id] button.conv');
    await page.keyboard.press('ArrowDown');
    const second = await page.evaluate<string>("document.activeElement.closest('li').dataset.id");
    expect(second).toBe(await page.locator('#conversation-list li[data-id]').nth(1).getAttribute('data-id'));
    // The focused item is outlined, not only coloured.
    expect(await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#thread-actions:not([hidden])');
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('transcript-title');
    await page.context().close();
  });

  it('works at 390 px: list and conversation as two screens, tabs that fit, no sideways scroll', async () => {
    const page = await open(STAFF, PHONE);
    await noSidewaysScroll(page);
    const tabs = await page.locator('#tabs button:visible').evaluateAll((bs) => bs.map((b) => b.getBoundingClientRect().right));
    expect(Math.max(...tabs)).toBeLessThanOrEqual(390);
    await page.locator('#conversation-list li[data-id]:has-text("Marina Souza")').waitFor();
    expect(await page.isVisible('#transcript-pane')).toBe(false);
    await shot(page, '11-inbox-390.png');
    await page.locator('#conversation-list li[data-id]:has-text("Marina Souza") button.conv').click();
    await page.waitForSelector('#transcript li.refund');
    expect(await page.isVisible('#conversation-list')).toBe(false);
    await noSidewaysScroll(page);
    await shot(page, '12-transcript-390.png');
    await page.click('#back');
    await page.waitForSelector('#conversation-list', { state: 'visible' });
    await page.click('#tabs button[data-tab=stats]');
    await page.waitForSelector('#chart-days svg');
    await noSidewaysScroll(page);
    expect(await clippedLabels(page)).toEqual([]);
    await shot(page, '13-pictures-390.png');
    await page.context().close();
    const admin = await open(ADMIN, PHONE);
    await admin.click('#tabs button[data-tab=admin]');
    await admin.waitForSelector('#mandate-rows tr[data-mandate=cm_support]');
    await noSidewaysScroll(admin);
    await admin.locator('#mandate-rows').scrollIntoViewIfNeeded();
    await shot(admin, '14-admin-mandates-390.png');
    await admin.context().close();
  });

  it('lets an admin change caps (re-signed) and add and disable a user', async () => {
    const page = await open(ADMIN);
    await page.click('#tabs button[data-tab=admin]');
    await page.locator('#mandate-rows tr[data-mandate=cm_support] button.caps').click();
    await page.fill('dialog.ask input[name=per]', '600,00');
    await page.fill('dialog.ask input[name=window]', '2.500,00');
    await page.click('dialog.ask button[type=submit]');
    await page.waitForSelector('#mandate-rows tr[data-mandate=cm_support]:has-text("v2")');
    expect(JSON.parse((await e.services.store.mandates.latest('cm_support'))!.document)).toMatchObject({ version: 2, per_refund_cap_cents: 60_000, window_cap_cents: 250_000, issued_by: ADMIN.email });
    expect(nbsp(await page.locator('#mandate-rows tr[data-mandate=cm_support]').textContent())).toContain('R$ 2.500,00');
    await page.fill('#user-form input[name=email]', 'nova@loja.test');
    await page.fill('#user-form input[name=name]', 'Nova Atendente');
    await page.click('#user-form button');
    const password = await page.locator('dialog.ask input[name=password]').inputValue();
    expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    await page.click('dialog.ask button[type=submit]');
    const login = await fetch(`${e.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'nova@loja.test', password }) });
    expect(login.status).toBe(200);
    await page.locator('#user-rows tr[data-user="nova@loja.test"] button.disable').click();
    await page.waitForSelector('#user-rows tr[data-user="nova@loja.test"] .badge.disabled');
    await page.locator('#mandate-rows').scrollIntoViewIfNeeded();
    await shot(page, '09-admin-mandates-and-users-1280.png');
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect((await fetch(`${e.url}/api/me`, { headers: { cookie } })).status).toBe(401);
    await page.context().close();
  });

  it('lets an admin add a canned reply that staff then find in the composer', async () => {
    const admin = await open(ADMIN);
    await admin.click('#tabs button[data-tab=admin]');
    await admin.fill('#canned-form input[name=title]', 'Prazo do Pix');
    await admin.fill('#canned-form textarea[name=body]', 'Oi {primeiro_nome}, o Pix do pedido {pedido} cai em instantes.');
    await admin.click('#canned-form button');
    await admin.waitForSelector('#canned-rows li:has-text("Prazo do Pix")');
    await admin.context().close();
    expect((await e.services.store.consoleWork.cannedReplies()).find((c) => c.title === 'Prazo do Pix')).toMatchObject({ created_by: ADMIN.email });
  });

  it('lets an admin edit the prompt, and the next turn uses the new version', async () => {
    const page = await open(ADMIN);
    await page.click('#tabs button[data-tab=admin]');
    await page.waitForSelector('#prompt-form textarea');
    await page.waitForSelector('#prompt-current:has-text("modelo: modelo roteirizado")');
    const text = 'Você é a assistente da Loja Browser. Responda sempre em português, com no máximo duas frases.';
    await page.fill('#prompt-form textarea', text);
    await page.fill('#prompt-form input[name=note]', 'mais curto');
    // Its last eval passed fewer scenarios than the shipped prompt's: publishing asks first.
    const run = async (t: string, passK: number) => await e.services.store.evals.record({ prompt_sha256: promptSha256(t), prompt_label: 'x', model: 'scripted model', k: 1, scenarios: 40, passed_all: Math.round(40 * passK), pass_k: passK, pass_1: passK, created_at: new Date().toISOString() });
    await run(DEFAULT_SYSTEM_PROMPT, 1);
    await run(text, 0.5);
    await page.click('#prompt-form button');
    await page.waitForSelector('dialog.ask:has-text("Publicar um prompt que avaliou pior?")');
    expect(await e.services.store.prompts.list()).toHaveLength(0);
    await page.click('dialog.ask button[type=submit]');
    await page.waitForSelector('#prompt-versions li:has-text("(atual)")');
    await page.click('#prompt-versions li:has-text("(atual)") button.link');
    await page.waitForSelector('#prompt-diff .add');
    await shot(page, '10-admin-prompt-versions-1280.png');
    await e.say('5511911112222', 'oi, tudo bem?');
    await e.settle();
    expect((e.sandbox!.model.requests().at(-1) as { system: Array<{ text: string }> }).system[0]!.text).toBe(text);
    await page.context().close();
  });

  it('shows every console user a banner when the agent has no active mandate, and the next proposal is refused', async () => {
    const staff = await open(STAFF);
    expect(await staff.locator('#banner .alert[data-kind=agent_mandate_inactive]').count()).toBe(0);
    const page = await open(ADMIN);
    await page.click('#tabs button[data-tab=admin]');
    const row = page.locator('#mandate-rows tr[data-mandate=cm_support]');
    await row.waitFor();
    await row.locator('button.revoke').click();
    await page.fill('dialog.ask input[name=reason]', 'revoked in the browser test');
    await page.click('dialog.ask button[type=submit]');
    await page.waitForSelector('#mandate-rows tr[data-mandate=cm_support] .badge.revoked');
    expect((await e.services.store.mandates.events('cm_support')).at(-1)).toMatchObject({ status: 'revoked', actor: ADMIN.email, reason: 'revoked in the browser test' });
    await page.waitForSelector('#banner .alert.critical[data-kind=agent_mandate_inactive]:has-text("O agente está sem mandato ativo")');
    // Staff see it live, without a reload.
    await staff.waitForSelector('#banner .alert.critical[data-kind=agent_mandate_inactive]', { timeout: 10_000 });
    await shot(staff, '15-mandate-alert-1280.png');
    await staff.context().close();
    await e.say(JOAO.whatsapp, 'o pedido 9001 veio com defeito');
    await e.settle();
    await e.say(JOAO.whatsapp, 'sim');
    await e.settle();
    const calls = (await e.services.store.turns.toolCalls((await e.services.store.conversations.byChat(JOAO.whatsapp))!.id)).filter((t) => t.name === 'pay_refund');
    expect(calls.at(-1)).toMatchObject({ outcome: 'refused', reason: 'mandate_inactive' });
    const phone = await open(STAFF, PHONE);
    await phone.waitForSelector('#banner .alert.critical[data-kind=agent_mandate_inactive]');
    await noSidewaysScroll(phone);
    await shot(phone, '16-mandate-alert-390.png');
    await phone.context().close();
    await page.context().close();
  });

  it('shows hostile customer text inert', async () => {
    const attacker = '5511933334444';
    const payloads = ['<script>alert("xss-script")</script>', '<img src=x onerror="alert(\'xss-img\')">', '[clique aqui](javascript:alert("xss-link")) <a href="javascript:alert(1)">link</a>'];
    for (const p of payloads) await e.say(attacker, p);
    await e.settle();
    const page = await open(STAFF);
    await page.locator('#conversation-list li[data-id]:has-text("4444") button.conv').click();
    await page.waitForSelector('#transcript li.customer');
    const texts = await page.locator('#transcript li.customer').allTextContents();
    const shown = texts.join('\n');
    for (const p of payloads) expect(shown).toContain(p);
    // Each customer bubble holds its meta line and text, nothing else; no image, script or link exists anywhere in the page.
    expect(await page.locator('#transcript li.customer > :not(span.meta)').count()).toBe(0);
    expect(await page.locator('img, script:not([src="/console/app.js"]), a[href^="javascript:"]').count()).toBe(0);
    await page.waitForTimeout(300);
    expect(dialogs.filter((d) => d.startsWith('alert'))).toEqual([]);
    await page.context().close();
  });

  it('warns staff when the model is failing, from the readiness report', async () => {
    const page = await open(STAFF);
    await fetch(`${e.url}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider: 'model', mode: 'http500', count: 3 }) });
    await e.say('5511955556666', 'oi, preciso de ajuda');
    await page.waitForSelector('#banner .alert.critical[data-kind=model_degraded]:has-text("O modelo está com falhas")', { timeout: 20_000 });
    await shot(page, '17-model-degraded-alert-1280.png');
    await page.context().close();
  });

  it('pages through a long inbox with "Carregar mais"', async () => {
    const store = e.services.store;
    await store.tx(async () => {
      const insert = "INSERT INTO conversations (id, chat_id, phone, mode, created_at, updated_at) VALUES (?, ?, ?, 'agent', ?, ?)";
      for (let i = 0; i < 70; i++) {
        const phone = `55119800${String(i).padStart(5, '0')}`;
        await store.database.run(insert, `cv_page${i}`, phone, phone, new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString());
      }
    });
    const page = await open(STAFF);
    await page.waitForSelector('#more:not([hidden])');
    const before = await page.locator('#conversation-list li[data-id]').count();
    expect(before).toBe(50);
    await page.click('#more');
    await page.waitForFunction((n) => (globalThis as any).document.querySelectorAll('#conversation-list li[data-id]').length > n, before);
    const ids = await page.locator('#conversation-list li[data-id]').evaluateAll((lis) => lis.map((li) => (li as any).dataset.id as string));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe((await store.database.one<{ n: number }>('SELECT COUNT(*) AS n FROM conversations'))!.n);
    expect(await page.isHidden('#more')).toBe(true);
    await page.context().close();
  });
});
