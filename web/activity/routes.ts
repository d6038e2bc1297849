import type { FastifyInstance } from 'fastify';
import { tablesIn } from '../../platform/postgres.ts';
import { html } from '../../platform/html.ts';
import type { WebDeps } from '../deps.ts';
import { sendPage } from '../shared/respond.ts';
import { requireAccount } from '../shared/session.ts';

/** The user's own history, straight from the audit read model the projector builds from the log. */
export async function activityRoutes(app: FastifyInstance, deps: WebDeps) {
  app.get('/activity', { preHandler: requireAccount }, async (request, reply) => {
    const rows = await deps.pool.query<{ seq: number; type: string; summary: string; occurred_at: Date }>(
      `SELECT seq, type, summary, occurred_at FROM ${tablesIn(deps.schema)('activity')} WHERE user_id = $1 ORDER BY seq DESC, position DESC LIMIT 500`,
      [request.account!.userId],
    );
    const body = html`<h1>Activity</h1>
<p class="muted">Everything your account did, from the event log (newest first). Sequence numbers are positions in the audit log.</p>
${
  rows.rows.length === 0
    ? html`<p>Nothing yet.</p>`
    : html`<table><thead><tr><th>When (UTC)</th><th>What</th><th>Event</th><th>Log #</th></tr></thead><tbody>
${rows.rows.map((r) => html`<tr><td>${r.occurred_at.toISOString().replace('T', ' ').slice(0, 19)}</td><td>${r.summary}</td><td class="muted">${r.type}</td><td class="num">${r.seq}</td></tr>`)}
</tbody></table>`
}`;
    return sendPage(request, reply, { title: 'Activity', body });
  });
}
