import { alertRule, type AlertRule, type EventData } from '../../events/index.ts';
import { changePercent, formatRatio } from '../../events/ratio.ts';
import { html, type Html } from '../../platform/html.ts';
import type { Direction } from './crossing.ts';

/** A rendered email, ready for nodemailer's sendMail({ subject, text, html, headers }). */
export type Email = { subject: string; text: string; html: string; headers: Record<string, string> };

export type EmailKind = EventData<'EmailSent'>['kind'];

const PRODUCT = 'Currency Ratio Alerter';

// Automated mail: tells mail servers and vacation responders not to auto-reply (RFC 3834).
export const AUTOMATED = { 'Auto-Submitted': 'auto-generated' } as const;

export function page(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #222; max-width: 40em">
${body}
<p style="color: #666; font-size: small">${PRODUCT}</p>
</body></html>
`.value;
}

/** Links in emails are http(s) only, normalised by the URL parser (no quotes, spaces or angle brackets left). */
export function safeUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new Error(`refusing a ${parsed.protocol} link in an email`);
  return parsed.href;
}

/** Subjects are one line whatever the data. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

// ---- the emails ----

export function verificationEmail({ username, link }: { username: string; link: string }): Email {
  const url = safeUrl(link);
  const subject = `Confirm your ${PRODUCT} registration`;
  const text = [
    `Hello ${username},`,
    '',
    'Follow this link to finish registering your account:',
    '',
    url,
    '',
    'The link works for 24 hours. If you did not register, ignore this email and nothing will be created.',
    '',
  ].join('\n');
  const body = html`<p>Hello ${username},</p>
<p>Follow this link to finish registering your account:</p>
<p><a href="${url}">Confirm my registration</a></p>
<p>The link works for 24 hours. If you did not register, ignore this email and nothing will be created.</p>`;
  return { subject, text, html: page(subject, body), headers: { ...AUTOMATED } };
}

export function passwordResetEmail({ username, link }: { username: string; link: string }): Email {
  const url = safeUrl(link);
  const subject = `Reset your ${PRODUCT} password`;
  const text = [
    `Hello ${username},`,
    '',
    'Follow this link to choose a new password:',
    '',
    url,
    '',
    'If you did not ask for this, ignore this email: your password stays as it is.',
    '',
  ].join('\n');
  const body = html`<p>Hello ${username},</p>
<p>Follow this link to choose a new password:</p>
<p><a href="${url}">Choose a new password</a></p>
<p>If you did not ask for this, ignore this email: your password stays as it is.</p>`;
  return { subject, text, html: page(subject, body), headers: { ...AUTOMATED } };
}

export function emailChangeEmail({ username, link, email }: { username: string; link: string; email: string }): Email {
  const url = safeUrl(link);
  const subject = `Confirm your new ${PRODUCT} email address`;
  const text = [
    `Hello ${username},`,
    '',
    `Follow this link to make ${email} the email address of your account:`,
    '',
    url,
    '',
    'The link works for 24 hours. Until you follow it, every email keeps going to your current address.',
    'If you did not ask for this, ignore this email and nothing will change.',
    '',
  ].join('\n');
  const body = html`<p>Hello ${username},</p>
<p>Follow this link to make ${email} the email address of your account:</p>
<p><a href="${url}">Use this address</a></p>
<p>The link works for 24 hours. Until you follow it, every email keeps going to your current address.
If you did not ask for this, ignore this email and nothing will change.</p>`;
  return { subject, text, html: page(subject, body), headers: { ...AUTOMATED } };
}

/**
 * To the previous address, once the change is done: the one warning the owner gets should it not have been them.
 * Whoever did it knew the password, and reset links now go to the new address: so the way back is to log in, change
 * the address back (`accountLink`), then reset the password.
 */
export function emailChangedEmail({
  username,
  email,
  accountLink,
}: {
  username: string;
  email: string;
  accountLink: string;
}): Email {
  const url = safeUrl(accountLink);
  const subject = `Your ${PRODUCT} email address was changed`;
  const text = [
    `Hello ${username},`,
    '',
    `The email address of your account was changed to ${email}. Alert emails and password reset links go there from now on, not here.`,
    '',
    'If this was not you, someone who knows your password did it: log in, change the address back, then reset your password.',
    '',
    url,
    '',
  ].join('\n');
  const body = html`<p>Hello ${username},</p>
<p>The email address of your account was changed to ${email}. Alert emails and password reset links go there from now on, not here.</p>
<p>If this was not you, someone who knows your password did it: <a href="${url}">log in, change the address back</a>, then reset your password.</p>`;
  return { subject, text, html: page(subject, body), headers: { ...AUTOMATED } };
}

/**
 * The last email to an address: its account was erased (AccountErased). It carries no link: there is nothing left to
 * follow, and a link in an unexpected email is what phishing looks like.
 */
export function accountErasedEmail({ username, by }: { username: string; by: 'owner' | 'operator' }): Email {
  const subject = `Your ${PRODUCT} account was deleted`;
  const how =
    by === 'owner' ? 'Your account was deleted, as you asked.' : "Your account was deleted by the service's operator.";
  const what =
    'Everything it held was erased with it: your username, this email address, your password, your alerts and their history, and your sessions.';
  const last =
    'This is the last email this address gets from us. The username is free again: registering later makes a new account.';
  const text = [`Hello ${username},`, '', how, '', what, '', last, ''].join('\n');
  const body = html`<p>Hello ${username},</p>
<p>${how}</p>
<p>${what}</p>
<p>${last}</p>`;
  return { subject, text, html: page(subject, body), headers: { ...AUTOMATED } };
}

/**
 * One triggered alert in a digest, as AlertTriggered recorded it: ratios are QUOTE per 1 BASE; its rule (absent
 * fields: a threshold, either way, every time, as triggers recorded before kinds) and which way the ratio went.
 */
export type DigestTrigger = {
  pair: string;
  kind?: AlertRule['kind'];
  threshold?: string;
  percent?: string;
  runs?: number;
  alertDirection?: AlertRule['direction'];
  repeat?: AlertRule['repeat'];
  previousRatio: string;
  currentRatio: string;
  direction: Direction;
};

const going: Record<Direction, string> = { up: 'going up', down: 'going down' };
const arrow: Record<Direction, string> = { up: '↑', down: '↓' };

const ruleOf = (t: DigestTrigger) =>
  alertRule({
    kind: t.kind,
    threshold: t.threshold,
    percent: t.percent,
    runs: t.runs,
    direction: t.alertDirection,
    repeat: t.repeat,
  });

const runsOf = (runs: number) => `${runs} ${runs === 1 ? 'run' : 'runs'}`;

/** What the ratio did, in the alert's own terms: "crossed 1.08 going up", "moved 1.23 % going down over 3 runs". */
function whatHappened(t: DigestTrigger, rule: AlertRule): string {
  if (rule.kind === 'threshold') return `crossed ${rule.threshold} ${going[t.direction]}`;
  return `moved ${changePercent(t.previousRatio, t.currentRatio)} % ${going[t.direction]} over ${runsOf(rule.runs)}`;
}

/** The alert's kind and direction, as the digest names them: "1.08", "1.08, upward only, once", "1.5 % over 3 runs". */
function alertCell(rule: AlertRule): string {
  const what = rule.kind === 'threshold' ? rule.threshold : `${rule.percent} % over ${runsOf(rule.runs)}`;
  const direction = rule.direction === 'either' ? '' : `, ${rule.direction === 'up' ? 'upward' : 'downward'} only`;
  return `${what}${direction}${rule.repeat === 'once' ? ', once' : ''}`;
}

/** The rule in words after the line, where it is more than "a threshold, either way, every time". */
function ruleNote(rule: AlertRule): string {
  const parts = [
    ...(rule.kind === 'change' ? [`a change of at least ${rule.percent} %`] : []),
    ...(rule.direction === 'either' ? [] : [`${rule.direction === 'up' ? 'upward' : 'downward'} only`]),
    ...(rule.repeat === 'once' ? ['once: it is done until you re-arm it'] : []),
  ];
  return parts.length === 0 ? '' : ` (your alert: ${parts.join(', ')})`;
}

function shown(trigger: DigestTrigger) {
  // Enough digits that "was" and "now" sit visibly on their side of the threshold.
  return {
    was: formatRatio(trigger.previousRatio, 6, trigger.threshold),
    now: formatRatio(trigger.currentRatio, 6, trigger.threshold),
  };
}

/** Longest subject a digest names its threshold in (RFC 5322's recommended line); past it, the subject summarises. */
export const MAX_SUBJECT_LENGTH = 78;

/** One line, never long whatever the threshold: a header line must stay within 998 characters (RFC 5322 §2.1.1). */
function digestSubject(first: DigestTrigger, count: number): string {
  if (count > 1) return `${count} of your currency alerts triggered`;
  const rule = ruleOf(first);
  const detailed = oneLine(`${first.pair} ${whatHappened(first, rule)}`);
  return detailed.length <= MAX_SUBJECT_LENGTH
    ? detailed
    : oneLine(
        `${first.pair} ${rule.kind === 'threshold' ? 'crossed your threshold' : 'moved'} ${going[first.direction]}`,
      ).slice(0, MAX_SUBJECT_LENGTH);
}

/** The one email per user per run listing every alert of theirs the run triggered (docs/design.md §4). */
export function alertDigestEmail(input: {
  username: string;
  alertsUrl: string;
  unsubscribeUrl: string;
  triggers: readonly DigestTrigger[];
  asOf: string;
}): Email {
  const { username, triggers, asOf } = input;
  const first = triggers[0];
  if (!first) throw new Error('an alert digest needs at least one triggered alert');
  const alertsUrl = safeUrl(input.alertsUrl);
  const unsubscribeUrl = safeUrl(input.unsubscribeUrl);
  const subject = digestSubject(first, triggers.length);
  const onlyThresholds = triggers.every((t) => ruleOf(t).kind === 'threshold');
  const intro =
    triggers.length === 1
      ? onlyThresholds
        ? `The rates of ${asOf} moved one of your alerts across its threshold:`
        : `The rates of ${asOf} triggered one of your alerts:`
      : onlyThresholds
        ? `The rates of ${asOf} moved these alerts of yours across their thresholds:`
        : `The rates of ${asOf} triggered these alerts of yours:`;
  const text = [
    `Hello ${username},`,
    '',
    intro,
    '',
    ...triggers.map((t) => {
      const { was, now } = shown(t);
      const rule = ruleOf(t);
      return `- ${t.pair} ${whatHappened(t, rule)}: was ${was}, now ${now}${ruleNote(rule)}`;
    }),
    '',
    `Your alerts: ${alertsUrl}`,
    '',
    `To stop alert emails, unsubscribe: ${unsubscribeUrl}`,
    '',
  ].join('\n');
  const rows = triggers.map((t) => {
    const { was, now } = shown(t);
    const rule = ruleOf(t);
    const moved = rule.kind === 'change' ? `${changePercent(t.previousRatio, t.currentRatio)} % ` : '';
    return html`<tr><td>${t.pair}</td><td>${alertCell(rule)}</td><td>${arrow[t.direction]} ${moved}${going[t.direction]}</td><td>${was}</td><td>${now}</td></tr>
`;
  });
  const body = html`<p>Hello ${username},</p>
<p>${intro}</p>
<table cellpadding="6" style="border-collapse: collapse; text-align: left">
<thead><tr><th>Pair</th><th>Alert</th><th>Direction</th><th>Was</th><th>Now</th></tr></thead>
<tbody>
${rows}</tbody>
</table>
<p><a href="${alertsUrl}">See your alerts</a></p>
<p style="font-size: small">To stop alert emails, <a href="${unsubscribeUrl}">unsubscribe</a>.</p>`;
  return {
    subject,
    text,
    html: page(subject, body),
    headers: {
      ...AUTOMATED,
      // One-click unsubscribe (RFC 8058): mail clients POST "List-Unsubscribe=One-Click" to the URL.
      'List-Unsubscribe': `<${unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

// ---- Message-ID ----

const kindToken: Record<EmailKind, string> = {
  verification: 'verify',
  'password-reset': 'reset',
  'email-change': 'email-change',
  'email-changed': 'email-changed',
  'alert-digest': 'digest',
  'account-erased': 'erased',
  'channel-paused': 'channel-paused',
};
const utf8 = new TextEncoder();
const DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * The reference as an RFC 5322 dot-atom, reversibly: letters, digits, "_" and "-" stay, a dot stays where a
 * dot-atom allows one, every other byte becomes =XX (so distinct references never share a Message-ID).
 */
function dotAtom(reference: string): string {
  let out = '';
  const chars = [...reference];
  chars.forEach((c, i) => {
    const dotAllowed = c === '.' && i > 0 && i < chars.length - 1 && !out.endsWith('.');
    if (/^[A-Za-z0-9_-]$/.test(c) || dotAllowed) out += c;
    else for (const byte of utf8.encode(c)) out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  });
  return out;
}

/**
 * A deterministic Message-ID (RFC 5322 msg-id), e.g. <digest.123.u1@example.com> for the digest of run 123 to
 * user u1, so a resend after a crash is recognisably the same mail. The reference is visible: never a secret.
 */
export function messageIdFor(kind: EmailKind, reference: string, domain: string): string {
  if (reference === '') throw new Error('a Message-ID needs a reference');
  if (!DOMAIN.test(domain)) throw new Error(`"${domain}" is not a domain for a Message-ID`);
  return `<${kindToken[kind]}.${dotAtom(reference)}@${domain}>`;
}

/** The domain of a sender address such as `CRA <alerts@example.com>`, for messageIdFor. */
export function mailDomainOf(from: string): string {
  const domain = /@([^@<>\s]+)>?\s*$/.exec(from)?.[1];
  if (!domain || !DOMAIN.test(domain)) throw new Error(`cannot find a domain in the sender address "${from}"`);
  return domain;
}
