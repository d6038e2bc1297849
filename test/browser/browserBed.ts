import { chromium, type Browser } from 'playwright-core';
import { freePort } from '../../platform/embedded.ts';
import type { WebDeps } from '../../web/deps.ts';
import { startTestSystem, type TestSystem } from '../system.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** What the browser specs drive: the whole system listening on a free loopback port, and Debian's headless Chromium. */
export type BrowserBed = { system: TestSystem; browser: Browser; base: string; close: () => Promise<void> };

/**
 * Start the system on a port of its own (links in emails point there) and launch Chromium with the flags this
 * machine's closed network needs (no background connections, no QUIC, no component updates).
 */
export async function openBrowserBed(
  options: { notifier?: boolean; web?: Partial<Omit<WebDeps, 'personal'>> } = {},
): Promise<BrowserBed> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const system = await startTestSystem({
    publicUrl: base,
    ...(options.notifier === false ? { notifier: false } : {}),
    ...(options.web ? { web: options.web } : {}),
  });
  await system.app.listen({ port, host: '127.0.0.1' });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    system,
    browser,
    base,
    close: async () => {
      await browser.close();
      await system.close();
    },
  };
}
