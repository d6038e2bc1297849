import type { FastifyInstance } from 'fastify';
import type { WebDeps } from '../deps.ts';
import { sendPage } from '../shared/respond.ts';
import { requireAccount } from '../shared/session.ts';
import { activityOf } from './queries.ts';
import { activityPage } from './views.ts';

/** The user's own history, straight from the audit read model the projector builds from the log. */
export async function activityRoutes(app: FastifyInstance, deps: WebDeps) {
  app.get('/activity', { preHandler: requireAccount }, async (request, reply) => {
    const lines = await activityOf(deps.pool, deps.schema, request.account!.userId);
    return sendPage(request, reply, { title: 'Activity', body: activityPage(lines) });
  });
}
