import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, subjects } from '../../events/index.ts';
import { DevMailbox } from '../../platform/devMailbox.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { projectedRun } from '../runs.ts';
import type { TestSystem } from '../system.ts';
import { registeredUser } from '../testUsers.ts';
import { openBrowserBed, type BrowserBed } from './browserBed.ts';

// Every page in real headless Chromium at a desktop's width and a phone's: nothing wider than the window, no serious
// or critical accessibility violation (axe-core), nothing logged as an error. CRA_SCREENSHOTS=<dir> keeps a picture
// of each page at each width, to look at.
const SCREENSHOTS = process.env.CRA_SCREENSHOTS;
const PASSWORD = 'a browser password';
const WIDTHS = [1280, 390] as const;
const axeSource = await import('node:fs').then((fs) =>
  fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'),
);

let system: TestSystem;
let browser: Browser;
let base: string;
let bed: BrowserBed;
let mailDir: string;
let alertId: string;
let mailId: string;

beforeAll(async () => {
  mailDir = await mkdtemp(join(tmpdir(), 'cra-pages-mailbox-'));
  const devMailbox = new DevMailbox(mailDir);
  // One user signs in for each test: more often than a minute's login budget allows.
  const plenty = { max: 10_000, timeWindowMs: 60_000 };
  bed = await openBrowserBed({ web: { devMailbox, rateLimits: { loginPerClient: plenty, loginPerUsername: plenty } } });
  ({ system, browser, base } = bed);
  await devMailbox.deliver({
    from: 'CRA <alerts@cra.test>',
    to: 'pat@example.test',
    subject: 'Verify your account',
    text: `Follow ${base}/verify?token=${'x'.repeat(120)} to finish registering.`,
    html: '',
    messageId: '<verify.pat@cra.test>',
  });
  mailId = (await devMailbox.list())[0]!.id;

  // Three weeks of runs, the alert set after the first: the pair crosses 1.08 up and back down, so it triggers twice.
  const userId = await registeredUser(system, 'pat', PASSWORD);
  const day = (i: number) => new Date(Date.UTC(2026, 9, 1 + i)).toISOString().slice(0, 10);
  await projectedRun(system.world, day(0), { USD: '1.0712', JPY: '161.2', GBP: '0.8712' });
  alertId = 'a0123456789abcdef0123456789abcdef';
  const set = await system.send('SetAlert', { userId, alertId, base: 'EUR', quote: 'USD', threshold: '1.08' });
  expect(set.ok).toBe(true);
  await system.send('SetAlert', {
    userId,
    alertId: 'a1123456789abcdef0123456789abcdef',
    base: 'GBP',
    quote: 'JPY',
    threshold: '187.5',
  });
  for (let i = 1; i < 21; i++) {
    const usd = (1.075 + 0.01 * Math.sin(i / 3)).toFixed(4);
    await projectedRun(system.world, day(i), { USD: usd, JPY: (161 + i / 7).toFixed(2), GBP: '0.8712' });
  }
  await system.smtp.waitFor((mails) => mails.filter((m) => m.to.startsWith('pat@')).length >= 2);
}, 120_000);

afterAll(async () => {
  await bed?.close();
  if (mailDir) await rm(mailDir, { recursive: true, force: true });
});

async function newPage(width: number): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A refused form's 422 is the answer the contract asks for; any other failed load (a 404 for an icon) is a fault.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 422/.test(m.text())) errors.push(m.text());
  });
  return { page, errors };
}

async function signIn(page: Page, username = 'pat') {
  await page.goto(`${base}/login`);
  await page.fill('#f-username', username);
  await page.fill('#f-password', PASSWORD);
  await page.click('form[action="/login"] button[type=submit]');
  await page.waitForURL(`${base}/alerts`);
}

/** Nothing wider than the window: no sideways scrolling, on the page or in any of its parts. */
const overflow = (page: Page) =>
  page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    return [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > width + 1 && e.getClientRects().length > 0)
      .map((e) => e.outerHTML.slice(0, 100));
  });

/** axe-core's serious and critical findings on the page as it is now. */
async function accessibilityFindings(page: Page): Promise<string[]> {
  // Evaluated through the driver, not a <script> tag: the strict CSP stays as it is.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: () => Promise<{ violations: AxeViolation[] }> } }).axe;
    type AxeViolation = { id: string; impact: string | null; nodes: { target: unknown[] }[] };
    return (await axe.run()).violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.map((n) => String(n.target[0])),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

async function look(page: Page, name: string, width: number) {
  expect(await overflow(page), `${name} at ${width} px`).toEqual([]);
  expect(await accessibilityFindings(page), `${name} at ${width} px`).toEqual([]);
  if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/${name}-${width}.png`, fullPage: true });
}

describe.each(WIDTHS)('every page at %i px', (width) => {
  it('signed out: fits, reads well to a screen reader, logs no error', async () => {
    const { page, errors } = await newPage(width);
    for (const [name, path] of [
      ['register', '/register'],
      ['login', '/login'],
      ['forgot', '/password/forgot'],
      ['resend', '/register/resend'],
      ['mailbox', '/dev/mailbox'],
      ['mail', `/dev/mailbox/${mailId}`],
    ] as const) {
      await page.goto(`${base}${path}`);
      await look(page, name, width);
    }
    // The first Tab reaches a link past the header, shown while focused; it takes the focus to the page.
    await page.goto(`${base}/login`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip-link');
    const skip = (await page.locator('.skip-link').boundingBox())!;
    expect(skip.y).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-username');
    // A refused form, its messages beside the fields.
    await page.goto(`${base}/register`);
    await page.click('main button[type=submit]');
    await expect.poll(() => page.locator('.field-error').count()).toBeGreaterThan(0);
    // The first field to fix has the focus, its message read with it.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-username');
    expect(await page.getAttribute('#f-username', 'aria-describedby')).toBe('f-username-error');
    await look(page, 'register-refused', width);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('signed in: fits, reads well to a screen reader, logs no error', async () => {
    const { page, errors } = await newPage(width);
    await signIn(page);
    for (const [name, path] of [
      ['alerts', '/alerts'],
      ['detail', `/alerts/${alertId}`],
      ['activity', '/activity'],
      ['account', '/account'],
      ['account-delete', '/account/delete'],
    ] as const) {
      await page.goto(`${base}${path}`);
      await look(page, name, width);
    }
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('draws the alert detail chart: axes, dates, the threshold line and the triggers', async () => {
    const { page } = await newPage(width);
    await signIn(page);
    await page.click(`#alert-${alertId} a[href="/alerts/${alertId}"]`);
    await page.waitForURL(`${base}/alerts/${alertId}`);
    const chart = page.locator('svg.detail-chart:visible');
    expect(await chart.count()).toBe(1);
    const box = (await chart.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(width);
    expect(box.height).toBeGreaterThan(150);
    expect(await chart.locator('.axis-title').allTextContents()).toEqual(['USD per 1 EUR', 'Date of the rates (UTC)']);
    expect((await chart.locator('.x-axis text').allTextContents()).some((t) => /^Oct \d\d$/.test(t))).toBe(true);
    const threshold = chart.locator('.guide.threshold line');
    expect(await threshold.count()).toBe(1);
    expect((await threshold.boundingBox())!.width).toBeGreaterThan(box.width / 2);
    expect(await chart.locator('path.trigger').count()).toBeGreaterThanOrEqual(2);
    // Labels are big enough to read: at least 9 CSS px on a phone.
    const label = (await chart.locator('.x-axis text').first().boundingBox())!;
    expect(label.height).toBeGreaterThanOrEqual(9);
    await page.context().close();
  }, 60_000);
});

describe('an address the mail server refused for good', () => {
  it('the alerts page says so at both widths, and its owner has the address tried again', async () => {
    // As the notifier records a digest's permanent refusal: the account's address as the read model holds it (sealed).
    const userId = await registeredUser(system, 'rae', PASSWORD);
    const { world } = system;
    const { rows } = await world.pool.query<{ email: string }>(
      `SELECT email FROM "${world.schema}".users WHERE user_id = $1`,
      [userId],
    );
    const subject = subjects.digest(world.ns, 1, userId);
    const refused = event('EmailUndeliverable', {
      userId,
      kind: 'alert-digest',
      reference: `1.${userId}`,
      attempt: 1,
      permanent: true,
      code: 550,
      detail: 'SMTP 550 5.1.1',
      email: rows[0]!.email,
      firstAttemptAt: new Date().toISOString(),
    });
    const at = new Date().toISOString();
    const { seq } = await world.store.append(subject, [refused], {
      expectedSeq: 0,
      msgId: `undeliverable-1.${userId}`,
      meta: { occurredAt: at, correlationId: 'run-1', causationId: 'run-1' },
    });
    expect(await waitForProjection(world.pool, world.schema, seq, 5_000)).toBe(true);
    for (const width of WIDTHS) {
      const { page, errors } = await newPage(width);
      await signIn(page, 'rae');
      expect(await page.textContent('#alert-emails-state')).toContain(
        'the mail server refused your address for good (SMTP 550 5.1.1)',
      );
      for (const target of [
        page.locator('#alert-emails a[href="/account/email"]'),
        page.locator('#alert-emails-toggle'),
      ]) {
        const box = (await target.boundingBox())!;
        expect(box.x + box.width).toBeLessThanOrEqual(width);
      }
      await look(page, 'alerts-refused', width);
      // The account page says so beside the address, and where to change it.
      await page.goto(`${base}/account`);
      expect(await page.textContent('#email-refused')).toContain('The mail server refused this address for good');
      await look(page, 'account-refused', width);
      await page.goto(`${base}/alerts`);
      if (width === 390) {
        await page.click('#alert-emails-toggle');
        await expect.poll(() => page.textContent('#alert-emails-state')).toBe('Alert emails are on.');
        expect(await page.evaluate(() => document.activeElement?.id)).toBe('alert-emails-toggle');
      }
      expect(errors).toEqual([]);
      await page.context().close();
    }
  }, 60_000);
});

describe('the alerts page on a phone (390 px)', () => {
  it('reaches every action inside the window, and Delete answers in place, read out and focused', async () => {
    const { page, errors } = await newPage(390);
    await signIn(page);
    const inside = async (selector: string) => {
      const target = page.locator(selector).first();
      await target.scrollIntoViewIfNeeded();
      const box = (await target.boundingBox())!;
      expect(box.x, selector).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, selector).toBeLessThanOrEqual(390);
      expect(box.height, selector).toBeGreaterThanOrEqual(24);
      expect(await target.isVisible(), selector).toBe(true);
    };
    for (const selector of [
      '#alerts button.danger',
      '#alerts a.pair-link',
      '#alerts details summary',
      '#alert-emails button',
      '#f-base',
      '#f-quote',
      '#f-threshold',
      '#new-alert button[type=submit]',
    ])
      await inside(selector);

    const rows = await page.locator('#alerts tbody tr').count();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('#alerts button.danger').last().click();
    await expect.poll(() => page.locator('#alerts tbody tr').count()).toBe(rows - 1);
    await expect.poll(() => page.locator('#alerts [role=status]').textContent()).toBe('Alert deleted.');
    // Focus is not lost on the page's body with the button that was pressed: it lands on the answer, read out.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Alert deleted.');

    await page.click('#alert-emails-toggle');
    await expect.poll(() => page.textContent('#alert-emails-state')).toContain('paused');
    // The form was swapped: its button is a new one, which has the focus back and is described by the new state.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('alert-emails-toggle');
    expect(await page.getAttribute('#alert-emails-toggle', 'aria-describedby')).toBe('alert-emails-state');
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);
});

describe('the alerts page on a phone without htmx', () => {
  it('asks before a delete on a page of its own that fits, then deletes', async () => {
    // htmx kept from loading (as when it fails to), so forms post as plain forms; axe still runs in the page.
    const context = await browser.newContext({ viewport: { width: 390, height: 900 } });
    await context.route('**/assets/htmx.min.js', (route) => route.abort());
    const page = await context.newPage();
    await signIn(page);
    const rows = await page.locator('#alerts tbody tr').count();
    await page.locator('#alerts button.danger').first().click();
    await expect.poll(() => page.textContent('h1')).toBe('Delete alert');
    await look(page, 'delete-confirm', 390);
    await page.click('main form button[type=submit]');
    await page.waitForURL(`${base}/alerts`);
    expect(await page.locator('#alerts tbody tr').count()).toBe(rows - 1);
    await context.close();
  }, 60_000);
});
