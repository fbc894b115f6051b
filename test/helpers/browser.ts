import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * A headless Chromium for the browser tests with nothing installed by hand:
 * the binary comes from npm (`@sparticuz/chromium` ships it inside the
 * package). `CHROMIUM_PATH` picks another one; a system Chromium is the
 * fallback when the packaged one cannot start.
 */
const COMMON_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export async function launchBrowser(): Promise<Browser> {
  if (process.env.CHROMIUM_PATH) return chromium.launch({ executablePath: process.env.CHROMIUM_PATH, args: COMMON_ARGS, headless: true });
  let packaged: unknown;
  try {
    const sparticuz = (await import('@sparticuz/chromium')).default;
    // Not the package's own Lambda flags: `--single-process` dies on a second
    // browser context, and `--disable-web-security` would hide CSP mistakes.
    return await chromium.launch({ executablePath: await sparticuz.executablePath(), args: COMMON_ARGS, headless: true });
  } catch (error) {
    packaged = error;
  }
  const system = SYSTEM_CHROMIUM.find((p) => existsSync(p));
  if (!system) throw new Error(`no browser: @sparticuz/chromium failed (${packaged instanceof Error ? packaged.message : String(packaged)}) and no system Chromium was found`);
  return chromium.launch({ executablePath: system, args: COMMON_ARGS, headless: true });
}
