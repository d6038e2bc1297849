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
import { changeBand } from '../../events/ratio.ts';
import type { AlertRule } from '../../events/index.ts';
import type { ChartGuide } from './detailChart.ts';
import type { PairRun } from './detailQueries.ts';

/**
 * What the chart measures the ratio against: the threshold, or for a change alert the band of ±percent around the
 * ratio `runs` runs before the latest (the one the next run is compared with, docs/design.md §4b).
 */
function guideOf(rule: AlertRule, runs: readonly PairRun[]): ChartGuide {
  if (rule.kind === 'threshold') return { kind: 'threshold', value: rule.threshold };
  const over = rule.runs === 1 ? 'the run before' : `${rule.runs} runs before`;
  const earlier = runs.at(-1 - rule.runs);
  if (!earlier) return { kind: 'none', label: `a ${rule.percent} % change over ${over}: not enough runs yet` };
  return { kind: 'band', ...changeBand(earlier.ratio, rule.percent), label: `±${rule.percent} % of the ratio ${over}` };
}

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
          guide: guideOf(alert.rule, runs),
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
