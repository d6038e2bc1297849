import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountErasedEmail,
  alertDigestEmail,
  emailChangedEmail,
  emailChangeEmail,
  passwordResetEmail,
  verificationEmail,
  type Email,
} from '../../services/notifier/emails.ts';
import { html } from '../../platform/html.ts';
import { page } from '../../web/shared/layout.ts';
import { expectMarkupEscaped, hostileText } from './hostileInput.ts';

// Every email and every page shell escapes whatever text it is given; subjects stay one line.
const link = fc
  .tuple(fc.constantFrom('http://localhost:7007', 'https://cra.example'), hostileText)
  .map(([base, token]) => `${base}/verify?token=${encodeURIComponent(Buffer.from(token, 'utf8').toString('utf8'))}`);

function expectSafeEmail(email: Email) {
  expectMarkupEscaped(email.html, `email "${email.subject}"`);
  expect(email.subject).not.toMatch(/[\r\n]/);
  for (const value of Object.values(email.headers)) expect(value).not.toMatch(/[\r\n]/);
  // Links are http(s) and quoted attribute values cannot be broken out of.
  for (const href of email.html.matchAll(/href="([^"]*)"/g)) expect(href[1]).toMatch(/^https?:\/\/[^\s<>"']+$/);
}

describe('markup in emails and pages', () => {
  it('verification and reset emails escape any username and link', () => {
    fc.assert(
      fc.property(hostileText, link, (username, url) => {
        expectSafeEmail(verificationEmail({ username, link: url }));
        expectSafeEmail(passwordResetEmail({ username, link: url }));
      }),
      { numRuns: 300 },
    );
  });

  it('the emails of a change of address escape any username, address and link', () => {
    fc.assert(
      fc.property(hostileText, hostileText, link, (username, email, url) => {
        expectSafeEmail(emailChangeEmail({ username, email, link: url }));
        expectSafeEmail(emailChangedEmail({ username, email, accountLink: url }));
      }),
      { numRuns: 300 },
    );
  });

  it('the erasure confirmation escapes any username, and carries no link at all', () => {
    fc.assert(
      fc.property(
        hostileText,
        fc.constantFrom('owner', 'operator') as fc.Arbitrary<'owner' | 'operator'>,
        (username, by) => {
          const email = accountErasedEmail({ username, by });
          expectSafeEmail(email);
          expect(email.html).not.toContain('href=');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a digest escapes any username, pair, threshold and run, and its subject stays one line', () => {
    const trigger = fc.record({
      pair: hostileText,
      threshold: hostileText,
      previousRatio: fc.constantFrom('1.0799', '150', '0.00000012'),
      currentRatio: fc.constantFrom('1.0801', '149.5', '0.00000013'),
      direction: fc.constantFrom('up', 'down') as fc.Arbitrary<'up' | 'down'>,
    });
    fc.assert(
      fc.property(
        hostileText,
        hostileText,
        fc.array(trigger, { minLength: 1, maxLength: 3 }),
        (username, asOf, triggers) => {
          // Thresholds are decimals by the time they reach an email; a hostile one is still only text.
          const decimal = triggers.map((t) => ({
            ...t,
            threshold: /^\d+(\.\d+)?$/.test(t.threshold) ? t.threshold : '1.08',
          }));
          expectSafeEmail(
            alertDigestEmail({
              username,
              asOf,
              alertsUrl: 'http://localhost:7007/alerts',
              unsubscribeUrl: 'http://localhost:7007/unsubscribe?token=u1.abc',
              triggers: decimal,
            }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('every page escapes its title, its user name and its body text', () => {
    fc.assert(
      fc.property(hostileText, hostileText, hostileText, (title, username, text) => {
        expectMarkupEscaped(
          page(title, { csrfToken: text, user: { username } }, html`<p>${text}</p>`).value,
          'the page shell',
        );
      }),
      { numRuns: 300 },
    );
  });
});
