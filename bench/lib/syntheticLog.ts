import { createHash, randomUUID } from 'node:crypto';
import { event, subjects, type DomainEvent, type Namespace } from '../../events/index.ts';
import { CURRENCIES, plainDecimal, seeded } from './world.ts';
import { testUserId } from '../../test/personalKeys.ts';

/** One message of the log: the events one append stores together. */
export type LogMessage = { subject: string; events: DomainEvent[]; occurredAt: string };

/** What the log should project to, to check a rebuild produced every row. */
export type LogTotals = {
  events: number;
  messages: number;
  registered: number;
  alerts: number;
  deletedAlerts: number;
  sessions: number;
  closedSessions: number;
  runs: number;
  triggers: number;
  emails: number;
};

const ARGON = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const DAY = 86_400_000;

/**
 * A plausible production log of about `targetEvents` events, in log order: people register and verify, log in and
 * out, set and delete alerts, pause emails; a daily RatesFetched run is followed by the digests it caused (the
 * triggers of one user in one message, then its EmailSent). Deterministic for a seed, except session ids.
 */
export function* syntheticLog(ns: Namespace, targetEvents: number, seed = 7): Generator<LogMessage, LogTotals> {
  const random = seeded(seed);
  const codes = Object.keys(CURRENCIES);
  const totals: LogTotals = {
    events: 0,
    messages: 0,
    registered: 0,
    alerts: 0,
    deletedAlerts: 0,
    sessions: 0,
    closedSessions: 0,
    runs: 0,
    triggers: 0,
    emails: 0,
  };
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const at = () => new Date((clock += 1_000)).toISOString();
  const tokenHash = createHash('sha256').update('bench').digest('hex');
  const nonce = 'n'.repeat(22);

  type Alert = { alertId: string; base: string; quote: string; threshold: string };
  type Life = { userId: string; username: string; email: string; script: (() => LogMessage | undefined)[] };
  const usersWithAlerts: { userId: string; alerts: Alert[] }[] = [];
  let nextUser = 0;
  let nextAlert = 0;

  const message = (subject: string, events: DomainEvent[]): LogMessage => ({ subject, events, occurredAt: at() });
  const pair = () => {
    const base = codes[Math.floor(random() * codes.length)]!;
    let quote = codes[Math.floor(random() * codes.length)]!;
    if (quote === base) quote = base === 'EUR' ? 'USD' : 'EUR';
    return { base, quote };
  };

  function newLife(): Life {
    const username = `user${nextUser++}`;
    const userId = testUserId(username);
    const email = `${username}@example.com`;
    const script: Life['script'] = [];
    script.push(() =>
      message(subjects.user(ns, userId), [
        event('RegistrationRequested', {
          userId,
          username,
          email,
          passwordHash: ARGON,
          tokenNonce: nonce,
          tokenHash,
          expiresAt: new Date(clock + DAY).toISOString(),
        }),
      ]),
    );
    script.push(() => {
      totals.registered++;
      return message(subjects.user(ns, userId), [event('UserRegistered', { userId, username, email })]);
    });
    const mine: Alert[] = [];
    const logins = 1 + Math.floor(random() * 4);
    const alerts = 1 + Math.floor(random() * 12);
    for (let i = 0; i < Math.max(logins, alerts); i++) {
      if (i < logins) {
        const sessionId = randomUUID();
        script.push(() => {
          totals.sessions++;
          return message(subjects.user(ns, userId), [
            event('UserLoggedIn', { userId, sessionId, expiresAt: new Date(clock + 7 * DAY).toISOString() }),
          ]);
        });
        if (random() < 0.6) {
          script.push(() => {
            totals.closedSessions++;
            return message(subjects.user(ns, userId), [event('UserLoggedOut', { userId, sessionId })]);
          });
        }
      }
      if (i < alerts) {
        const { base, quote } = pair();
        const alert: Alert = {
          alertId: `a${nextAlert++}`,
          base,
          quote,
          threshold: plainDecimal((CURRENCIES[quote]! / CURRENCIES[base]!) * (0.95 + random() * 0.1), 5),
        };
        script.push(() => {
          totals.alerts++;
          mine.push(alert);
          return message(subjects.alert(ns, alert.alertId), [event('AlertSet', { ...alert, userId })]);
        });
        if (random() < 0.1) {
          script.push(() => {
            const index = mine.indexOf(alert);
            if (index < 0) return undefined;
            mine.splice(index, 1);
            totals.deletedAlerts++;
            return message(subjects.alert(ns, alert.alertId), [
              event('AlertDeleted', { alertId: alert.alertId, userId }),
            ]);
          });
        }
      }
    }
    if (random() < 0.03)
      script.push(() => message(subjects.user(ns, userId), [event('AlertEmailsPaused', { userId })]));
    usersWithAlerts.push({ userId, alerts: mine });
    return { userId, username, email, script };
  }

  const lives: Life[] = Array.from({ length: 200 }, newLife);
  let seq = 0;
  const RUN_EVERY = 2_000;
  let sinceRun = 0;
  const pending: LogMessage[] = [];

  const emit = function* (m: LogMessage) {
    seq++;
    totals.messages++;
    totals.events += m.events.length;
    yield m;
  };

  while (totals.events < targetEvents) {
    if (pending.length > 0) {
      yield* emit(pending.shift()!);
      continue;
    }
    if (sinceRun >= RUN_EVERY) {
      sinceRun = 0;
      totals.runs++;
      const runIndex = totals.runs;
      const rates = Object.fromEntries(
        codes.filter((c) => c !== 'EUR').map((c) => [c, plainDecimal(CURRENCIES[c]! * (0.97 + random() * 0.06), 6)]),
      );
      yield* emit(
        message(subjects.rates(ns, 'frankfurter', `run-${String(runIndex).padStart(6, '0')}`), [
          event('RatesFetched', {
            provider: 'frankfurter',
            base: 'EUR',
            asOf: `run-${String(runIndex).padStart(6, '0')}`,
            fetchedAt: at(),
            rates,
          }),
        ]),
      );
      const runSeq = seq;
      // The digests of this run: a few users whose alerts it crossed, one digest each.
      const digested = new Set<string>();
      for (let d = 0; d < 20; d++) {
        const user = usersWithAlerts[Math.floor(random() * usersWithAlerts.length)]!;
        if (user.alerts.length === 0 || digested.has(user.userId)) continue;
        digested.add(user.userId);
        const crossed = user.alerts.slice(0, 1 + Math.floor(random() * Math.min(3, user.alerts.length)));
        const subject = subjects.digest(ns, runSeq, user.userId);
        totals.triggers += crossed.length;
        totals.emails++;
        pending.push(
          message(
            subject,
            crossed.map((a) => {
              const up = random() < 0.5;
              return event('AlertTriggered', {
                alertId: a.alertId,
                userId: user.userId,
                runSeq,
                base: a.base,
                quote: a.quote,
                threshold: a.threshold,
                previousRatio: up ? '0.5' : '1.5',
                currentRatio: up ? '1.5' : '0.5',
                direction: up ? 'up' : 'down',
              });
            }),
          ),
          message(subject, [
            event('EmailSent', {
              userId: user.userId,
              kind: 'alert-digest',
              messageId: `<digest.${runSeq}.${user.userId}@bench.test>`,
              reference: `${runSeq}.${user.userId}`,
            }),
          ]),
        );
      }
      continue;
    }
    const slot = Math.floor(random() * lives.length);
    const life = lives[slot]!;
    const step = life.script.shift();
    if (!step) {
      lives[slot] = newLife();
      continue;
    }
    const m = step();
    if (!m) continue;
    sinceRun += m.events.length;
    yield* emit(m);
  }
  return totals;
}
