// email-digest: digest emails/s of a run that triggers 10,000 users, to a local SMTP sink, against raw nodemailer sends
// of the same messages to the same sink.
import { event, subjects } from '../events/index.ts';
import { tablesIn } from '../platform/postgres.ts';
import { runProjector, migrateSchema } from '../services/projector/projector.ts';
import { spawnService, underLoad } from './lib/child.ts';
import { BENCH_SECRET, type BenchContext } from './lib/context.ts';
import { figure, memoryFigure, progress } from './lib/report.ts';
import { sealedPeople } from './lib/sealing.ts';
import { benchLogger, cleanUp, connect, newPlace, plainDecimal, seeded, type Connected } from './lib/world.ts';
import { NOTIFIER_CONCURRENCY } from './roles/digestMailers.ts';
import type * as MailersRole from './roles/digestMailers.ts';
import type * as SinkRole from './roles/smtpSink.ts';

/** Runs 1 and 2 of a EUR-based provider: each pair below moves between them. */
const RUN1 = { USD: '1.0800', GBP: '0.85000', JPY: '160.00', CHF: '0.95000' };
const RUN2 = { USD: '1.0900', GBP: '0.84000', JPY: '163.00', CHF: '0.96000' };
const MOVES = [
  { base: 'EUR', quote: 'USD', from: 1.08, to: 1.09 },
  { base: 'EUR', quote: 'GBP', from: 0.85, to: 0.84 },
  { base: 'EUR', quote: 'JPY', from: 160, to: 163 },
  { base: 'EUR', quote: 'CHF', from: 0.95, to: 0.96 },
];

/** Append the two runs to the log and let the projector put them in the read model; returns the second run's sequence. */
async function appendRuns(c: Connected, schema: string): Promise<{ seq: number; asOf: string }> {
  let last = { seq: 0, asOf: '' };
  for (const [asOf, rates] of [
    ['2026-11-02', RUN1],
    ['2026-11-03', RUN2],
  ] as const) {
    const id = `rates-${asOf}`;
    const { seq } = await c.store.append(
      subjects.rates(c.ns, 'frankfurter', asOf),
      [
        event('RatesFetched', {
          provider: 'frankfurter',
          base: 'EUR',
          asOf,
          fetchedAt: `${asOf}T16:05:00.000Z`,
          rates,
        }),
      ],
      {
        expectedSeq: 0,
        msgId: id,
        meta: { occurredAt: new Date().toISOString(), correlationId: id, causationId: id },
      },
    );
    last = { seq, asOf };
  }
  await runProjector({ store: c.store, pool: c.pool, schema, logger: benchLogger(), untilSeq: last.seq });
  return last;
}

/** `users` registered users, each with 1–3 alerts the run crosses and one it does not, straight into the read model. */
async function insertUsersAndAlerts(c: Connected, schema: string, users: number): Promise<number> {
  const t = tablesIn(schema);
  const random = seeded(31);
  const ids = Array.from({ length: users }, (_, i) => `u${String(i).padStart(32, '0')}`);
  // The notifier opens both sealed fields for every digest: that is part of what is measured.
  const sealed = await sealedPeople(
    c.personal,
    ids.map((userId, i) => ({ userId, username: `user${i + 1}`, email: `user${i + 1}@example.com` })),
  );
  await c.pool.query(
    `INSERT INTO ${t('users')} (user_id, username, email, status, registered_at, updated_seq)
     SELECT id, username, email, 'registered', '2026-11-01T00:00:00Z', 1
     FROM unnest($1::text[], $2::text[], $3::text[]) AS x(id, username, email)`,
    [ids, sealed.map((u) => u.username), sealed.map((u) => u.email)],
  );
  const alerts: { id: string; user: string; base: string; quote: string; threshold: string }[] = [];
  for (const [i, user] of ids.entries()) {
    const crossed = 1 + Math.floor(random() * 3);
    for (let k = 0; k <= crossed; k++) {
      const move = MOVES[Math.floor(random() * MOVES.length)]!;
      // Strictly between the two ratios (crossed), or beyond the current one (not crossed).
      const where = k < crossed ? 0.05 + random() * 0.9 : 1.5 + random();
      alerts.push({
        id: `a${i}x${k}`,
        user,
        base: move.base,
        quote: move.quote,
        threshold: plainDecimal(move.from + (move.to - move.from) * where, 6),
      });
    }
  }
  await c.pool.query(
    `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, threshold, threshold_text, set_seq, set_at, active_seq, armed_seq)
     SELECT id, u, b, q, th::numeric, th, 0, '2026-11-01T00:00:00Z', 0, 0 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(id, u, b, q, th)`,
    [
      alerts.map((a) => a.id),
      alerts.map((a) => a.user),
      alerts.map((a) => a.base),
      alerts.map((a) => a.quote),
      alerts.map((a) => a.threshold),
    ],
  );
  await c.pool.query(`ANALYZE ${t('alerts')}`);
  return alerts.length;
}

export async function emailDigest(ctx: BenchContext): Promise<void> {
  const users = ctx.quick ? 200 : 10_000;
  const place = newPlace(ctx, 'mail');
  const c = await connect(place, 'bench-mail-setup');
  const sink = await spawnService<typeof SinkRole>('smtp-sink', new URL('./roles/smtpSink.ts', import.meta.url));
  const notifier = await spawnService<typeof MailersRole>(
    'notifier',
    new URL('./roles/digestMailers.ts', import.meta.url),
  );
  const raw = await spawnService<typeof MailersRole>(
    'raw-nodemailer',
    new URL('./roles/digestMailers.ts', import.meta.url),
  );
  try {
    await migrateSchema(c.pool, place.schema);
    const run = await appendRuns(c, place.schema);
    const alertCount = await insertUsersAndAlerts(c, place.schema, users);
    const smtpUrl = await sink.call('start');
    await notifier.call('start', place, smtpUrl, BENCH_SECRET);
    await raw.call('start', place, smtpUrl, BENCH_SECRET);
    progress(`email-digest: ${users} users with ${alertCount} alerts; run ${run.seq} crosses some of each user's`);

    // Baseline: the same digests, rendered beforehand; a short warm-up first (JIT, the sink's connections).
    const prepared = await raw.call('prepare', place, run);
    if (prepared !== users) ctx.fail(`email-digest: the run crosses alerts of ${prepared} users, expected ${users}`);
    await raw.call('sendPrepared', smtpUrl, Math.min(500, prepared));
    await sink.call('take');
    const base = await raw.call('sendPrepared', smtpUrl);
    const baseReceived = await sink.call('take');
    if (baseReceived.length !== prepared)
      ctx.fail(`email-digest baseline: the sink received ${baseReceived.length} of ${prepared}`);
    const baseline = (base.sent / base.ms) * 1000;
    progress(`email-digest: raw nodemailer sent ${base.sent} in ${(base.ms / 1000).toFixed(1)} s`);

    const { result, memory } = await underLoad(notifier, () => notifier.call('notify', place, run));
    const received = await sink.call('take');
    const ours = (result.outcome.emailed / result.ms) * 1000;
    progress(
      `email-digest: the notifier's run emailed ${result.outcome.emailed} users (${result.outcome.triggered} triggers) in ${(result.ms / 1000).toFixed(1)} s`,
    );
    const recipients = new Set(received.map((r) => r.to));
    const ids = new Set(received.map((r) => r.messageId));
    if (
      result.outcome.emailed !== users ||
      received.length !== users ||
      recipients.size !== users ||
      ids.size !== users
    ) {
      ctx.fail(
        `email-digest: expected one digest to each of ${users} users; emailed ${result.outcome.emailed}, the sink got ${received.length} to ${recipients.size} recipients with ${ids.size} Message-IDs`,
      );
    }
    const recorded = await c.store.lastSeq();
    if (recorded !== run.seq + 2 * users)
      ctx.fail(
        `email-digest: the log holds ${recorded - run.seq} messages after the run, expected ${2 * users} (triggers and EmailSent per user)`,
      );

    ctx.emit(
      figure(
        'email-digest',
        ours,
        'emails/s',
        baseline,
        `one run triggering ${users} users (${result.outcome.triggered} alerts): notifyRun finds them, appends each user's AlertTriggered and EmailSent (expected sequence), renders and sends one digest each over pooled nodemailer (4 connections, ${NOTIFIER_CONCURRENCY} users at a time) to a local SMTP sink in its own process; baseline: raw nodemailer sendMail of the same ${prepared} digests, rendered beforehand, same transport options and concurrency, same sink; goal ratio >= 0.7`,
      ),
    );
    ctx.emit(memoryFigure('email-digest', 'notifier', memory));
  } finally {
    for (const p of [notifier, raw, sink]) await p.call('stop').catch(() => {});
    for (const p of [notifier, raw, sink]) await p.close();
    await c.close();
    await cleanUp(place);
  }
}
