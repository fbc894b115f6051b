import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MARINA } from '../../sandbox/seed.ts';
import { startTestEstorno, type TestEstorno } from '../helpers/estorno.ts';
import { ADMIN, STAFF, seedUsers } from '../helpers/console.ts';
import { launchBrowser } from '../helpers/browser.ts';

/**
 * The console in real Chromium (from npm, `@sparticuz/chromium`, driven by playwright-core).
 * Screenshots of each screen go to test-artifacts/screenshots/. playwright-core
 * launches each browser with a fresh temporary profile of its own (it refuses a
 * --user-data-dir argument to launch()), so no state carries between runs.
 */
const SHOTS = path.resolve('test-artifacts/screenshots');

describe('the console in a real browser', () => {
  let e: TestEstorno;
  let browser: Browser;
  const dialogs: string[] = [];
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

  async function open(who: { email: string; password: string }): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    // The console never opens native dialogs (it uses <dialog> forms): any alert/confirm/prompt is an XSS that fired.
    page.on('dialog', async (d) => {
      dialogs.push(`${d.type()}:${d.message()}`);
      await d.dismiss();
    });
    await page.goto(`${e.url}/console/`);
    await page.fill('input[name=email]', who.email);
    await page.fill('input[name=password]', who.password);
    await page.click('#login-form button');
    await page.waitForSelector('#tabs:not([hidden])');
    return page;
  }

  afterAll(() => {
    expect(dialogs).toEqual([]);
  });

  it('shows staff a sandbox conversation appearing live, without a reload', async () => {
    const page = await open(STAFF);
    await page.screenshot({ path: path.join(SHOTS, '01-staff-conversations-empty.png') });
    await e.say(MARINA.whatsapp, 'o pedido 8421 veio errado, quero meu dinheiro de volta');
    await page.waitForSelector('#conversation-list li:has-text("4321")', { timeout: 10_000 });
    await page.click('#conversation-list li:has-text("4321")');
    await page.waitForSelector('#transcript li.agent:has-text("R$ 186,00")');
    await page.screenshot({ path: path.join(SHOTS, '02-staff-transcript-live.png') });
    await page.context().close();
  });

  it('approves an over-cap refund and sees it settle and seal', async () => {
    await e.say(MARINA.whatsapp, 'o pedido 8422 chegou quebrado, quero estorno');
    await e.settle();
    await e.say(MARINA.whatsapp, 'sim');
    await e.settle();
    const page = await open(STAFF);
    await page.click('#tabs button[data-tab=approvals]');
    const row = page.locator('#approval-rows tr:has-text("#8422")');
    await row.waitFor();
    expect((await row.textContent())?.replace(/\u00a0/g, ' ')).toContain('R$ 2.400,00');
    await page.screenshot({ path: path.join(SHOTS, '03-approval-queue.png') });
    await row.locator('input').fill('cliente antiga, cadeira chegou quebrada');
    await row.locator('button.approve').click();
    await page.waitForSelector('#approval-rows td.hint');
    await e.settle();
    const refund = e.services.store.payments.refundsForConversation(e.services.store.conversations.byChat(MARINA.whatsapp)!.id).find((r) => r.order_number === '8422')!;
    expect(refund).toMatchObject({ status: 'settled', authorized_by: `staff:${STAFF.email}` });
    await page.click('#tabs button[data-tab=conversations]');
    await page.click('#conversation-list li:has-text("4321")');
    await page.waitForSelector(`#transcript li.refund:has-text("${refund.id}") .badge.settled`);
    await page.waitForSelector(`#transcript li.approval:has-text("${STAFF.email}"):has-text("cliente antiga, cadeira chegou quebrada") .badge.approved`);
    await page.waitForSelector(`#receipts-of-conversation p:has-text("${refund.case_id}") .badge.sealed`);
    await page.waitForSelector(`#receipts-of-conversation p:has-text("${refund.case_id}") .badge.valid`);
    await page.screenshot({ path: path.join(SHOTS, '04-refund-settled-and-sealed.png') });
    await page.click('#tabs button[data-tab=receipts]');
    await page.fill('#receipt-form input', refund.case_id!);
    await page.click('#receipt-form button');
    await page.waitForSelector('#receipt-result .badge.valid');
    await page.screenshot({ path: path.join(SHOTS, '05-receipt-verified.png') });
    await page.click('#tabs button[data-tab=stats]');
    // Today's bar carries its label (count and settled amount); the approvers' mandate shows its R$ 2.400,00 used.
    expect((await page.locator('#chart-days svg text.value').last().textContent())?.replace(/\u00a0/g, ' ')).toMatch(/^\d+ · R\$ [\d.]+,\d\d$/);
    expect((await page.locator('#chart-caps svg').textContent())?.replace(/\u00a0/g, ' ')).toContain('cm_staff_approvals (active)R$ 2.400,00 of R$ 50.000,00');
    expect(await page.locator('#chart-latency svg text.value').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, '06-pictures.png') });
    await page.context().close();
  });

  it('lets staff take a conversation over, reply through WhatsApp, see the customer live, and hand it back', async () => {
    const page = await open(STAFF);
    await page.click('#conversation-list li:has-text("4321")');
    await page.click('#takeover');
    await page.waitForSelector('#reply-form:not([hidden])');
    const modelCalls = e.sandbox!.model.requests().length;
    await page.fill('#reply-form input[name=text]', 'Oi Marina, aqui é o Sergio da equipe. Já vi seu pedido.');
    await page.click('#reply-form button');
    await page.waitForSelector('#transcript li.staff:has-text("aqui é o Sergio")');
    await e.settle();
    expect((await e.outbox(MARINA.whatsapp)).at(-1)?.message).toBe('Oi Marina, aqui é o Sergio da equipe. Já vi seu pedido.');
    // Let the reply's own live update pass, so that what shows the customer's next message is the page watching, not luck.
    await page.waitForTimeout(500);
    await e.say(MARINA.whatsapp, 'obrigada, Sergio!');
    await page.waitForSelector('#transcript li.customer:has-text("obrigada, Sergio!")', { timeout: 10_000 });
    await e.settle();
    expect(e.sandbox!.model.requests()).toHaveLength(modelCalls);
    await page.screenshot({ path: path.join(SHOTS, '10-staff-takeover.png') });
    await page.click('#handback');
    await page.waitForSelector('#takeover:not([hidden])');
    expect(e.services.store.conversations.byChat(MARINA.whatsapp)!.mode).toBe('agent');
    await page.context().close();
  });

  it('lets an admin change caps (re-signed) and add and disable a user', async () => {
    const page = await open(ADMIN);
    await page.click('#tabs button[data-tab=admin]');
    await page.locator('#mandate-rows tr[data-mandate=cm_support] button.caps').click();
    await page.fill('dialog.ask input[name=per]', '600,00');
    await page.fill('dialog.ask input[name=window]', '2.500,00');
    await page.click('dialog.ask button[type=submit]');
    await page.waitForSelector('#mandate-rows tr[data-mandate=cm_support]:has-text("v2")');
    expect(JSON.parse(e.services.store.mandates.latest('cm_support')!.document)).toMatchObject({ version: 2, per_refund_cap_cents: 60_000, window_cap_cents: 250_000, issued_by: ADMIN.email });
    expect((await page.locator('#mandate-rows tr[data-mandate=cm_support]').textContent())?.replace(/\u00a0/g, ' ')).toContain('R$ 2.500,00');
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
    await page.screenshot({ path: path.join(SHOTS, '11-admin-mandates-and-users.png') });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect((await fetch(`${e.url}/api/me`, { headers: { cookie } })).status).toBe(401);
    await page.context().close();
  });

  it('lets an admin edit the prompt, and the next turn uses the new version', async () => {
    const page = await open(ADMIN);
    await page.click('#tabs button[data-tab=admin]');
    await page.waitForSelector('#prompt-form textarea');
    const text = 'Você é a assistente da Loja Browser. Responda sempre em português, com no máximo duas frases.';
    await page.fill('#prompt-form textarea', text);
    await page.fill('#prompt-form input[name=note]', 'mais curto');
    await page.click('#prompt-form button');
    await page.waitForSelector('#prompt-versions li:has-text("(current)")');
    await page.click('#prompt-versions li:has-text("(current)")');
    await page.waitForSelector('#prompt-diff .add');
    await page.screenshot({ path: path.join(SHOTS, '07-admin-prompt-versions.png') });
    await e.say('5511911112222', 'oi, tudo bem?');
    await e.settle();
    expect((e.sandbox!.model.requests().at(-1) as { system: Array<{ text: string }> }).system[0]!.text).toBe(text);
    await page.context().close();
  });

  it('lets an admin revoke a mandate, and the next proposal is refused', async () => {
    const page = await open(ADMIN);
    await page.click('#tabs button[data-tab=admin]');
    const row = page.locator('#mandate-rows tr[data-mandate=cm_support]');
    await row.waitFor();
    await row.locator('button.revoke').click();
    await page.fill('dialog.ask input[name=reason]', 'revoked in the browser test');
    await page.screenshot({ path: path.join(SHOTS, '08a-admin-revoke-reason.png') });
    await page.click('dialog.ask button[type=submit]');
    await page.waitForSelector('#mandate-rows tr[data-mandate=cm_support] .badge.revoked');
    expect(e.services.store.mandates.events('cm_support').at(-1)).toMatchObject({ status: 'revoked', actor: ADMIN.email, reason: 'revoked in the browser test' });
    await page.screenshot({ path: path.join(SHOTS, '08-admin-mandate-revoked.png') });
    await e.say(MARINA.whatsapp, 'o pedido 8424 veio com defeito');
    await e.settle();
    await e.say(MARINA.whatsapp, 'sim');
    await e.settle();
    const calls = e.services.store.turns.toolCalls(e.services.store.conversations.byChat(MARINA.whatsapp)!.id).filter((t) => t.name === 'pay_refund');
    expect(calls.at(-1)).toMatchObject({ outcome: 'refused', reason: 'mandate_inactive' });
    await page.context().close();
  });

  it('shows hostile customer text inert', async () => {
    const attacker = '5511933334444';
    const payloads = ['<script>alert("xss-script")</script>', '<img src=x onerror="alert(\'xss-img\')">', '[clique aqui](javascript:alert("xss-link")) <a href="javascript:alert(1)">link</a>'];
    for (const p of payloads) await e.say(attacker, p);
    await e.settle();
    const page = await open(STAFF);
    await page.click('#conversation-list li:has-text("4444")');
    await page.waitForSelector('#transcript li.customer');
    const texts = await page.locator('#transcript li.customer').allTextContents();
    const shown = texts.join('\n');
    for (const p of payloads) expect(shown).toContain(p);
    // Each customer bubble holds its meta line and text, nothing else; no image, script or link exists anywhere in the page.
    expect(await page.locator('#transcript li.customer > :not(span.meta)').count()).toBe(0);
    expect(await page.locator('img, script:not([src="/console/app.js"]), a[href^="javascript:"]').count()).toBe(0);
    await page.waitForTimeout(300);
    expect(dialogs.filter((d) => d.startsWith('alert'))).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, '09-xss-inert.png') });
    await page.context().close();
  });
});
