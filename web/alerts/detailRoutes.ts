import type { FastifyInstance } from 'fastify';
import { AggregateId, subjects } from '../../events/index.ts';
import type { WebDeps } from '../deps.ts';
import { sendRefusal } from '../shared/refusals.ts';
import { sendPage } from '../shared/respond.ts';
import { requireAccount } from '../shared/session.ts';
import { alertHistory } from './alertHistory.ts';
import { detailAlertOf, detailTriggers, pairRuns } from './detailQueries.ts';
import { alertDetailPage } from './detailViews.ts';
import { currentRatio } from './queries.ts';

/**
 * An alert's detail page, for its owner only: anyone else's alert, like an unknown one, is a 404. The alert's own
 * events come from its subject in the log (one direct read: its whole story, including event types the read models
 * fold away); its pair's runs, triggers and emails from the read models (one query each, whatever their number).
 */
export async function alertDetailRoutes(app: FastifyInstance, deps: WebDeps) {
  const { pool, schema, log } = deps;
  app.get('/alerts/:id', { preHandler: requireAccount }, async (request, reply) => {
    const { userId } = request.account!;
    const id = AggregateId.safeParse((request.params as Record<string, unknown>).id);
    const alert = id.success ? await detailAlertOf(pool, schema, userId, id.data) : undefined;
    if (!alert) return sendRefusal(request, reply, { ok: false, error: 'NOT_FOUND', message: 'No such alert' });
    // One query after another, never in parallel: embedded Postgres (PGlite) serves a single session.
    const runs = await pairRuns(pool, schema, alert.base, alert.quote);
    const triggers = await detailTriggers(pool, schema, userId, alert.alertId);
    const logged = (await log.load(subjects.alert(log.ns, alert.alertId))).history;
    const now = runs.at(-1);
    return sendPage(request, reply, {
      title: `${alert.base}/${alert.quote} alert`,
      body: alertDetailPage({
        alert,
        current: now && currentRatio(alert.threshold, now.rb, now.rq, now.asOf, now.runSeq, now.ratio),
        chart: {
          base: alert.base,
          quote: alert.quote,
          points: runs,
          guide: { kind: 'threshold', value: alert.threshold },
          triggers: triggers.flatMap((t) =>
            t.asOf ? [{ asOf: t.asOf, ratio: t.currentRatio, direction: t.direction }] : [],
          ),
        },
        history: alertHistory(logged, triggers, { userId, threshold: alert.threshold }),
        triggerCount: triggers.length,
      }),
    });
  });
}
