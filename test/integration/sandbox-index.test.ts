import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_ROUTES } from '../../sandbox/index-page.ts';
import { startTestEstorno, type TestEstorno } from '../helpers/estorno.ts';

describe('what a newcomer opens in a browser', () => {
  let e: TestEstorno;
  beforeAll(async () => {
    e = await startTestEstorno();
  });
  afterAll(async () => {
    await e.stop();
  });

  it('GET /sandbox (the banner prints it) lists the sandbox routes as a page, and as JSON for programs', async () => {
    const page = await fetch(`${e.url}/sandbox`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    for (const r of SANDBOX_ROUTES) expect(html).toContain(r.path);
    expect(html).toContain('<a href="/sandbox/zapi/outbox">');
    expect(html).toContain('8421');

    for (const init of [{ headers: { accept: 'application/json' } }, {}]) {
      const url = 'headers' in init ? `${e.url}/sandbox` : `${e.url}/sandbox?format=json`;
      const json = (await (await fetch(url, init)).json()) as { routes: Array<{ method: string; path: string }> };
      expect(json.routes.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['GET /sandbox/zapi/outbox', 'POST /sandbox/reset', 'POST /sandbox/faults']));
    }
  });

  it('every GET route the sandbox index lists answers 200', async () => {
    for (const r of SANDBOX_ROUTES.filter((x) => x.method === 'GET')) expect((await fetch(`${e.url}${r.path}`)).status, r.path).toBe(200);
  });

  it('a favicon: /favicon.ico answers with the SVG icon, and the console and receipt pages link it', async () => {
    const ico = await fetch(`${e.url}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get('content-type')).toContain('image/svg+xml');
    expect(await ico.text()).toContain('<svg');
    expect((await fetch(`${e.url}/console/favicon.svg`)).status).toBe(200);
    expect(await (await fetch(`${e.url}/console/`)).text()).toContain('<link rel="icon" href="/console/favicon.svg" type="image/svg+xml">');
    expect(await (await fetch(`${e.url}/r/rcp_nothing`)).text()).toContain('href="/console/favicon.svg"');
  });
});
