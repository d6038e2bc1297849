import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects, type DomainEvent } from '../../events/index.ts';
import { isSealed } from '../../platform/personalData/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { projectedRun } from '../runs.ts';
import { startTestSystem, type TestSystem } from '../system.ts';
import { registeredBrowser } from '../testUsers.ts';

// Email under the same delivery rules as webhooks (docs/design.md §10): a real SMTP sink refuses one address for good
// (550) and greylists another (451 twice, then takes it). The retry policy is shortened so backoff shows in seconds.
const POLICY = { baseMs: 400, capMs: 5_000, giveUpAfterMs: 60_000 };

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({ mailRetry: POLICY });
});
afterAll(async () => system?.close());

const PASSWORD = 'a long password 9';
const BOUNCE = 'bounce@example.test';
const GREY = 'greylisted@example.test';

/** What a digest's own subject in the log holds, by event type. */
async function digestEvents(runSeq: number, userId: string): Promise<DomainEvent[]> {
  const { history } = await system.world.store.load(subjects.digest(system.world.ns, runSeq, userId));
  return history.flatMap((h) => h.events);
}

async function settled() {
  await waitForProjection(system.world.pool, system.world.schema, await system.world.store.lastSeq(), 5_000);
}

describe('a mail server that refuses an address for good, and one that greylists', () => {
  it('tries the refused one once and pauses its alert emails, saying so; retries the other with backoff and delivers it once', async () => {
    const bounce = await registeredBrowser(system, 'bounce', PASSWORD);
    const grey = await registeredBrowser(system, 'greylisted', PASSWORD);
    // Their verification emails go first: the replies below meet the digests.
    await system.smtp.waitFor((all) => [BOUNCE, GREY].every((to) => all.some((m) => m.to === to)));
    await projectedRun(system.world, '2027-02-01', { USD: '1.08' });
    for (const [user, alertId] of [
      [bounce, 'bounceEURUSD'],
      [grey, 'greyEURUSD'],
    ] as const)
      expect(
        (await system.send('SetAlert', { userId: user.userId, alertId, base: 'EUR', quote: 'USD', threshold: '1.1' }))
          .ok,
      ).toBe(true);
    system.smtp.answerRecipient(BOUNCE, [550]);
    system.smtp.answerRecipient(GREY, [451, 451, 250]);
    const tried = system.smtp.recipients.length;

    const run = await projectedRun(system.world, '2027-02-02', { USD: '1.12' });
    const [digest] = (
      await system.smtp.waitFor((all) => all.some((m) => m.to === GREY && /EUR\/USD/.test(m.subject)))
    ).filter((m) => m.to === GREY && /EUR\/USD/.test(m.subject));
    expect(digest?.messageId).toBe(`<digest.${run}.${grey.userId}@cra.test>`);

    // Greylisted: two refusals for now, each backed off longer than the one before, then taken; recorded so.
    const greyTries = system.smtp.recipients.slice(tried).filter((r) => r.address === GREY);
    expect(greyTries.map((r) => r.code)).toEqual([451, 451, 250]);
    const [first, second, third] = greyTries.map((r) => r.at);
    expect(second! - first!).toBeGreaterThanOrEqual(POLICY.baseMs / 2);
    expect(third! - second!).toBeGreaterThanOrEqual(POLICY.baseMs);
    const greyLog = await digestEvents(run, grey.userId);
    expect(greyLog.filter((e) => e.type === 'EmailDeferred').map((e) => e.data)).toMatchObject([
      { attempt: 1, code: 451, detail: 'SMTP 451 4.7.1' },
      { attempt: 2, code: 451, detail: 'SMTP 451 4.7.1' },
    ]);
    expect(greyLog.filter((e) => e.type === 'EmailSent')).toHaveLength(1);
    expect(system.smtp.received.filter((m) => m.messageId === digest!.messageId)).toHaveLength(1);

    // Refused for good: one attempt, never again, recorded with the address sealed and the server's words left out.
    await new Promise((r) => setTimeout(r, 2 * POLICY.baseMs));
    expect(system.smtp.recipients.slice(tried).filter((r) => r.address === BOUNCE)).toHaveLength(1);
    const refusal = (await digestEvents(run, bounce.userId)).find((e) => e.type === 'EmailUndeliverable');
    expect(refusal?.data).toMatchObject({ attempt: 1, permanent: true, code: 550, detail: 'SMTP 550 5.1.1' });
    expect(refusal?.type === 'EmailUndeliverable' && isSealed(refusal.data.email)).toBe(true);
    expect(JSON.stringify(refusal)).not.toContain(BOUNCE);

    // The alerts page says so, and the Activity page; the greylisted account's emails stay on.
    await settled();
    const page = (await bounce.browser.get('/alerts')).body;
    expect(page).toContain('the mail server refused your address for good (SMTP 550 5.1.1)');
    expect(page).toContain('Try this address again');
    expect((await bounce.browser.get('/account/email')).body).toContain(
      'The mail server refused this address for good (SMTP 550 5.1.1)',
    );
    expect((await grey.browser.get('/account')).body).not.toContain('email-refused');
    expect((await grey.browser.get('/alerts')).body).toContain('Alert emails are <strong>on</strong>');
    expect((await bounce.browser.get('/activity')).body).toContain(
      'Email not delivered: alert digest, the mail server refused it for good (SMTP 550 5.1.1): alert emails to your address are paused',
    );

    // The next run: no attempt at the refused address, the other's digest as usual.
    const next = await projectedRun(system.world, '2027-02-03', { USD: '1.07' });
    await system.smtp.waitFor((all) => all.some((m) => m.messageId === `<digest.${next}.${grey.userId}@cra.test>`));
    await new Promise((r) => setTimeout(r, 500));
    expect(system.smtp.recipients.slice(tried).filter((r) => r.address === BOUNCE)).toHaveLength(1);
    expect(await digestEvents(next, bounce.userId)).toEqual([
      expect.objectContaining({ type: 'AlertTriggered' }),
      expect.objectContaining({ type: 'EmailClaimed' }),
    ]);

    // Its owner has the address tried again: alert emails are on, and the next digest goes (the mailbox works now).
    system.smtp.answerRecipient(BOUNCE, [250]);
    expect((await bounce.browser.post('/alerts/emails', { paused: 'no', retry: 'yes' })).status).toBe(303);
    expect((await bounce.browser.get('/alerts')).body).toContain('Alert emails are <strong>on</strong>');
    const again = await projectedRun(system.world, '2027-02-04', { USD: '1.13' });
    await system.smtp.waitFor((all) => all.some((m) => m.messageId === `<digest.${again}.${bounce.userId}@cra.test>`));
  });
});
