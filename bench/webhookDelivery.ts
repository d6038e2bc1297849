// webhook-delivery: signed json webhooks/s of a run's digests to N users' channels, delivered by the webhook deliverer
// (claim, sign, POST, record, as its consumer does per digest message) to a local receiver, against raw POSTs of the
// same bodies with the same client to the same receiver.
import { event, subjects } from '../events/index.ts';
import { tablesIn } from '../platform/postgres.ts';
import { READ_MODELS_CHECKPOINT } from '../platform/projectionWait.ts';
import { migrateSchema } from '../services/projector/projector.ts';
import { spawnService, underLoad } from './lib/child.ts';
import type { BenchContext } from './lib/context.ts';
import { figure, memoryFigure, progress } from './lib/report.ts';
import { cleanUp, connect, newPlace, type Connected, type Place } from './lib/world.ts';
import type * as DeliverersRole from './roles/webhookDeliverers.ts';
import type * as ReceiverRole from './roles/webhookReceiver.ts';

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

/**
 * A run and, per user, a json channel to the receiver (sealed URL and secret straight into the read model, as the
 * projector leaves them) and the digest's opening message in the log (its trigger and the email's claim, as the
 * notifier records it). The read models' checkpoint is set past them all, as a caught-up projector leaves it.
 */
async function prepare(c: Connected, place: Place, users: number, receiverUrl: string): Promise<number> {
  const t = tablesIn(place.schema);
  const meta = (id: string) => ({ occurredAt: new Date().toISOString(), correlationId: id, causationId: id });
  const asOf = '2026-11-03';
  const run = await c.store.append(
    subjects.rates(c.ns, 'frankfurter', asOf),
    [
      event('RatesFetched', {
        provider: 'frankfurter',
        base: 'EUR',
        asOf,
        fetchedAt: `${asOf}T16:05:00.000Z`,
        rates: { USD: '1.09' },
      }),
    ],
    { expectedSeq: 0, msgId: 'run', meta: meta('run') },
  );
  await c.pool.query(
    `INSERT INTO ${t('rate_runs')} (run_seq, provider, base, as_of, fetched_at) VALUES ($1, 'frankfurter', 'EUR', $2, now())`,
    [run.seq, asOf],
  );
  const ids = Array.from({ length: users }, (_, i) => `u${String(i).padStart(32, '0')}`);
  const sealed: { url: string; secret: string }[] = [];
  for (let from = 0; from < ids.length; from += 200)
    sealed.push(
      ...(await Promise.all(
        ids.slice(from, from + 200).map(async (id) => ({
          url: await c.personal.seal(id, 'webhook-url', `${receiverUrl}/${id}`),
          secret: await c.personal.seal(id, 'webhook-secret', SECRET),
        })),
      )),
    );
  await c.pool.query(
    `INSERT INTO ${t('channels')} (channel_id, user_id, url, format, secret, status, added_seq, added_at, updated_seq)
     SELECT 'c' || id, id, url, 'json', secret, 'active', 0, now(), 0 FROM unnest($1::text[], $2::text[], $3::text[]) AS x(id, url, secret)`,
    [ids, sealed.map((s) => s.url), sealed.map((s) => s.secret)],
  );
  let last = run.seq;
  for (let from = 0; from < ids.length; from += 100) {
    const appended = await Promise.all(
      ids.slice(from, from + 100).map((userId) =>
        c.store.append(
          subjects.digest(c.ns, run.seq, userId),
          [
            event('AlertTriggered', {
              alertId: `a${userId}`,
              userId,
              runSeq: run.seq,
              base: 'EUR',
              quote: 'USD',
              threshold: '1.085',
              previousRatio: '1.08',
              currentRatio: '1.09',
              direction: 'up',
            }),
            event('EmailClaimed', {
              userId,
              kind: 'alert-digest',
              reference: `${run.seq}.${userId}`,
              claimedBy: 'bench',
              until: new Date(Date.now() + 120_000).toISOString(),
            }),
          ],
          { expectedSeq: 0, msgId: `digest-${userId}`, meta: meta(`run-${run.seq}`) },
        ),
      ),
    );
    last = Math.max(last, ...appended.map((a) => a.seq));
  }
  await c.pool.query(
    `INSERT INTO ${t('checkpoints')} (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = $2`,
    [READ_MODELS_CHECKPOINT, last],
  );
  return run.seq;
}

export async function webhookDelivery(ctx: BenchContext): Promise<void> {
  const users = ctx.quick ? 100 : 2_000;
  const place = newPlace(ctx, 'hook');
  const c = await connect(place, 'bench-hook-setup');
  const receiver = await spawnService<typeof ReceiverRole>(
    'receiver',
    new URL('./roles/webhookReceiver.ts', import.meta.url),
  );
  const deliverer = await spawnService<typeof DeliverersRole>(
    'webhooks',
    new URL('./roles/webhookDeliverers.ts', import.meta.url),
  );
  const raw = await spawnService<typeof DeliverersRole>(
    'raw-posts',
    new URL('./roles/webhookDeliverers.ts', import.meta.url),
  );
  try {
    await migrateSchema(c.pool, place.schema);
    const receiverUrl = await receiver.call('start');
    const runSeq = await prepare(c, place, users, receiverUrl);
    await deliverer.call('start', place);
    await raw.call('start', place);
    progress(`webhook-delivery: ${users} users with a json channel each; run ${runSeq} triggers one alert of each`);

    // Baseline: the same bodies, signed, POSTed with the same agent; a warm-up first (JIT, connections).
    const urls = Array.from({ length: users }, (_, i) => `${receiverUrl}/raw${i}`);
    await raw.call('rawPosts', urls.slice(0, Math.min(200, users)), SECRET, runSeq);
    await receiver.call('take');
    const base = await raw.call('rawPosts', urls, SECRET, runSeq);
    const baseReceived = await receiver.call('take');
    if (base.ok !== users || baseReceived.length !== users)
      ctx.fail(
        `webhook-delivery baseline: ${base.ok} of ${users} answered 2xx, the receiver got ${baseReceived.length}`,
      );
    const baseline = (users / base.ms) * 1000;
    progress(`webhook-delivery: raw POSTs sent ${users} in ${(base.ms / 1000).toFixed(1)} s`);

    const { result, memory } = await underLoad(deliverer, () => deliverer.call('deliver', place, runSeq));
    const received = await receiver.call('take');
    const ours = (users / result.ms) * 1000;
    progress(`webhook-delivery: the deliverer delivered ${result.acked} digests in ${(result.ms / 1000).toFixed(1)} s`);
    const ids = new Set(received.map((r) => r.webhookId));
    if (result.messages !== users || received.length !== users || ids.size !== users)
      ctx.fail(
        `webhook-delivery: expected one delivery to each of ${users} channels; ${result.messages} digests read, the receiver got ${received.length} with ${ids.size} webhook ids`,
      );
    const delivered = await c.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${tablesIn(place.schema)('channels')}`,
    );
    if (delivered.rows[0]!.n !== users)
      ctx.fail(`webhook-delivery: ${delivered.rows[0]!.n} channels in the read model`);
    const recorded = (await c.store.lastSeq()) - runSeq - users;
    // Per delivery: its claim and its attempt, each one append on the delivery's subject.
    if (recorded !== 2 * users)
      ctx.fail(
        `webhook-delivery: the log holds ${recorded} delivery messages, expected ${2 * users} (claim and attempt each)`,
      );

    ctx.emit(
      figure(
        'webhook-delivery',
        ours,
        'webhooks/s',
        baseline,
        `one run's digests to ${users} users' json channels: the deliverer (handleWebhookMessage per digest message, 32 at a time, 8 per host) reads each user's channels, opens the sealed URL and secret, claims the delivery on its own subject, signs (Standard Webhooks, with its library), POSTs through the guarded undici agent to a local receiver in its own process and records the attempt; baseline: the same signed bodies POSTed with the same agent, 32 in flight, same receiver; goal ratio >= 0.5`,
      ),
    );
    ctx.emit(memoryFigure('webhook-delivery', 'webhook deliverer', memory));
  } finally {
    for (const p of [deliverer, raw, receiver]) await p.call('stop').catch(() => {});
    for (const p of [deliverer, raw, receiver]) await p.close();
    await c.close();
    await cleanUp(place);
  }
}
