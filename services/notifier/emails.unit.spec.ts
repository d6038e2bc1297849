import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../platform/html.ts';
import {
  alertDigestEmail,
  emailChangedEmail,
  emailChangeEmail,
  mailDomainOf,
  MAX_SUBJECT_LENGTH,
  messageIdFor,
  passwordResetEmail,
  verificationEmail,
  type DigestTrigger,
} from './emails.ts';

const hostile = '<script>alert("x")</script>&\'';

describe.each([
  ['verificationEmail', verificationEmail, /registration/i],
  ['passwordResetEmail', passwordResetEmail, /password/i],
] as const)('%s', (_name, template, subjectWords) => {
  const link = 'https://cra.example/verify?token=abc&x=1';

  it('greets the user and carries the link in both parts', () => {
    const email = template({ username: 'alice', link });
    expect(email.subject).toMatch(subjectWords);
    expect(email.text).toContain('Hello alice,');
    expect(email.text).toContain(link);
    expect(email.html).toContain('<a href="https://cra.example/verify?token=abc&amp;x=1">');
    expect(email.headers).toEqual({ 'Auto-Submitted': 'auto-generated' });
  });

  it('escapes a hostile username in the HTML part', () => {
    const email = template({ username: hostile, link });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;,');
    expect(email.text).toContain(`Hello ${hostile},`);
  });

  it('escapes as the web pages do (platform/html.ts), the backtick included', () => {
    const email = template({ username: `${hostile}\``, link });
    expect(email.html).toContain(`Hello ${escapeHtml(`${hostile}\``)},`);
    expect(email.html).toContain('&#96;');
  });

  it('refuses a link that is not http(s)', () => {
    expect(() => template({ username: 'alice', link: 'javascript:alert(1)' })).toThrow(/javascript/);
    expect(() => template({ username: 'alice', link: 'not a url' })).toThrow();
  });
});

describe('the emails of a change of address', () => {
  const link = 'https://cra.example/account/email/confirm?token=abc&x=1';
  const hostileAddress = '"<b>x</b>"@example.com';

  it('asks the new address to confirm, naming it, with the link in both parts', () => {
    const email = emailChangeEmail({ username: 'alice', link, email: 'alice@new.example' });
    expect(email.subject).toMatch(/confirm.*email address/i);
    expect(email.text).toContain('Hello alice,');
    expect(email.text).toContain('make alice@new.example the email address');
    expect(email.text).toContain(link);
    expect(email.html).toContain('<a href="https://cra.example/account/email/confirm?token=abc&amp;x=1">');
    expect(email.headers).toEqual({ 'Auto-Submitted': 'auto-generated' });
  });

  it('tells the previous address where the account went, and how to take it back', () => {
    const email = emailChangedEmail({
      username: 'alice',
      email: 'alice@new.example',
      accountLink: 'https://cra.example/account/email',
    });
    expect(email.subject).toMatch(/email address was changed/i);
    expect(email.text).toContain('was changed to alice@new.example');
    expect(email.text).toMatch(/If this was not you.*reset your password/);
    expect(email.text).toContain('https://cra.example/account/email');
    expect(email.html).toContain('<a href="https://cra.example/account/email">');
  });

  it('escapes a hostile username and address in the HTML part, and refuses a link that is not http(s)', () => {
    const asked = emailChangeEmail({ username: hostile, link, email: hostileAddress });
    const told = emailChangedEmail({ username: hostile, email: hostileAddress, accountLink: 'https://cra.example/a' });
    for (const email of [asked, told]) {
      expect(email.html).not.toContain('<script>');
      expect(email.html).not.toContain('<b>');
      expect(email.html).toContain(escapeHtml(hostileAddress));
    }
    expect(() => emailChangeEmail({ username: 'a', link: 'javascript:alert(1)', email: 'a@b.example' })).toThrow();
    expect(() => emailChangedEmail({ username: 'a', email: 'a@b.example', accountLink: 'data:text/html,x' })).toThrow();
  });
});

describe('alertDigestEmail', () => {
  const up: DigestTrigger = {
    pair: 'EUR/USD',
    threshold: '1.08',
    previousRatio: '1.0799999999',
    currentRatio: '1.0825391',
    direction: 'up',
  };
  const down: DigestTrigger = {
    pair: 'USD/JPY',
    threshold: '150',
    previousRatio: '151.234567',
    currentRatio: '149.5',
    direction: 'down',
  };
  const digest = (triggers: DigestTrigger[], username = 'alice') =>
    alertDigestEmail({
      username,
      alertsUrl: 'https://cra.example/alerts',
      unsubscribeUrl: 'https://cra.example/unsubscribe?u=u1&sig=abc',
      triggers,
      asOf: '2026-11-02',
    });

  it('lists every triggered alert with pair, threshold, direction and both ratios', () => {
    const email = digest([up, down]);
    expect(email.subject).toBe('2 of your currency alerts triggered');
    expect(email.text).toContain('The rates of 2026-11-02 moved these alerts of yours across their thresholds:');
    expect(email.text).toContain('- EUR/USD crossed 1.08 going up: was 1.0799999999, now 1.08254');
    expect(email.text).toContain('- USD/JPY crossed 150 going down: was 151.235, now 149.5');
    expect(email.html).toContain(
      '<tr><td>EUR/USD</td><td>1.08</td><td>↑ going up</td><td>1.0799999999</td><td>1.08254</td></tr>',
    );
    expect(email.html).toContain(
      '<tr><td>USD/JPY</td><td>150</td><td>↓ going down</td><td>151.235</td><td>149.5</td></tr>',
    );
    expect(email.html).toContain('<a href="https://cra.example/alerts">See your alerts</a>');
    expect(email.text).toContain('Your alerts: https://cra.example/alerts');
  });

  it('names the pair in the subject when one alert triggered', () => {
    const email = digest([down]);
    expect(email.subject).toBe('USD/JPY crossed 150 going down');
    expect(email.text).toContain('moved one of your alerts across its threshold');
  });

  it('offers one-click unsubscribe (RFC 8058) and a visible unsubscribe link', () => {
    const email = digest([up]);
    expect(email.headers).toEqual({
      'Auto-Submitted': 'auto-generated',
      'List-Unsubscribe': '<https://cra.example/unsubscribe?u=u1&sig=abc>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(email.html).toContain('<a href="https://cra.example/unsubscribe?u=u1&amp;sig=abc">unsubscribe</a>');
    expect(email.text).toContain('unsubscribe: https://cra.example/unsubscribe?u=u1&sig=abc');
  });

  it('escapes user data in the HTML part', () => {
    const email = digest([{ ...up, pair: '<b>EUR</b>/USD' }], hostile);
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<b>');
    expect(email.html).toContain('&lt;b&gt;EUR&lt;/b&gt;/USD');
    expect(email.html).toContain('Hello &lt;script&gt;');
  });

  it('summarises a subject that naming the threshold would make long', () => {
    const longest = `0.${'0'.repeat(20)}123456789012345678`;
    expect(digest([{ ...up, threshold: longest }]).subject).toBe(`EUR/USD crossed ${longest} going up`);
    const huge = digest([{ ...up, threshold: `${'0'.repeat(60_000)}1.11` }]);
    expect(huge.subject).toBe('EUR/USD crossed your threshold going up');
    expect(huge.text).toContain(`crossed ${'0'.repeat(60_000)}1.11 going up`);
    expect(digest([{ ...up, pair: 'X'.repeat(500) }]).subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
  });

  it('names the kind and direction of each alert: a change by its move, a one-way or once alert by its rule', () => {
    const change: DigestTrigger = {
      pair: 'GBP/JPY',
      kind: 'change',
      percent: '1.5',
      runs: 3,
      alertDirection: 'either',
      repeat: 'every',
      previousRatio: '190',
      currentRatio: '193.04',
      direction: 'up',
    };
    const onceDown: DigestTrigger = { ...down, kind: 'threshold', alertDirection: 'down', repeat: 'once' };
    const email = digest([change, onceDown]);
    expect(email.text).toContain('The rates of 2026-11-02 triggered these alerts of yours:');
    expect(email.text).toContain(
      '- GBP/JPY moved 1.6 % going up over 3 runs: was 190, now 193.04 (your alert: a change of at least 1.5 %)',
    );
    expect(email.text).toContain(
      '- USD/JPY crossed 150 going down: was 151.235, now 149.5 (your alert: downward only, once: it is done until you re-arm it)',
    );
    expect(email.html).toContain('<td>1.5 % over 3 runs</td><td>↑ 1.6 % going up</td>');
    expect(email.html).toContain('<td>150, downward only, once</td><td>↓ going down</td>');
    expect(digest([change]).subject).toBe('GBP/JPY moved 1.6 % going up over 3 runs');
  });

  it('keeps the subject on one line and refuses an empty digest', () => {
    expect(digest([{ ...up, pair: 'EUR/USD\r\nBcc: x@y' }]).subject).toBe('EUR/USD Bcc: x@y crossed 1.08 going up');
    expect(() => digest([])).toThrow(/at least one/);
  });
});

describe('messageIdFor', () => {
  // RFC 5322 msg-id with a dot-atom left side and a domain right side.
  const atext = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
  const msgId = new RegExp(`^<${atext}(\\.${atext})*@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*>$`);

  it('is deterministic, so a resend after a crash is the same mail', () => {
    expect(messageIdFor('alert-digest', '123.u1', 'example.com')).toBe('<digest.123.u1@example.com>');
    expect(messageIdFor('account-erased', 'u1.42', 'example.com')).toBe('<erased.u1.42@example.com>');
    expect(messageIdFor('alert-digest', '123.u1', 'example.com')).toBe(
      messageIdFor('alert-digest', '123.u1', 'example.com'),
    );
    expect(messageIdFor('verification', 'u-42', 'localhost')).toBe('<verify.u-42@localhost>');
    expect(messageIdFor('password-reset', 'u-42', 'localhost')).toBe('<reset.u-42@localhost>');
    expect(messageIdFor('email-change', 'u-42.n1', 'localhost')).toBe('<email-change.u-42.n1@localhost>');
    expect(messageIdFor('email-changed', 'u-42.7', 'localhost')).toBe('<email-changed.u-42.7@localhost>');
  });

  it('differs for different kinds and references', () => {
    const ids = new Set([
      messageIdFor('alert-digest', '123.u1', 'example.com'),
      messageIdFor('alert-digest', '124.u1', 'example.com'),
      messageIdFor('alert-digest', '123.u2', 'example.com'),
      messageIdFor('verification', '123.u1', 'example.com'),
      messageIdFor('alert-digest', '123=2Eu1', 'example.com'),
      messageIdFor('alert-digest', '123..u1', 'example.com'),
    ]);
    expect(ids.size).toBe(6);
  });

  it('turns any reference into a valid msg-id', () => {
    for (const reference of ['123.u1', '.lead', 'trail.', 'a..b', 'with space', 'x@y>z', 'ü€', '=', '.']) {
      const id = messageIdFor('alert-digest', reference, 'mail.example.com');
      expect(id, reference).toMatch(msgId);
    }
    expect(messageIdFor('alert-digest', 'a b@c', 'example.com')).toBe('<digest.a=20b=40c@example.com>');
  });

  it('refuses an empty reference or a bad domain', () => {
    expect(() => messageIdFor('alert-digest', '', 'example.com')).toThrow(/reference/);
    expect(() => messageIdFor('alert-digest', 'r', 'exa mple.com')).toThrow(/domain/);
    expect(() => messageIdFor('alert-digest', 'r', 'example.com>')).toThrow(/domain/);
  });
});

describe('mailDomainOf', () => {
  it('finds the domain of a sender address', () => {
    expect(mailDomainOf('CRA <alerts@localhost>')).toBe('localhost');
    expect(mailDomainOf('alerts@mail.example.com')).toBe('mail.example.com');
    expect(() => mailDomainOf('nobody')).toThrow(/domain/);
  });
});
