import { finished } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Work a request starts only once its answer has gone out, so the answer takes as long whatever the work finds (an
 * account or none: no enumeration by timing). A failure is logged, since the answer can no longer tell it;
 * closing the app waits for the work in flight.
 */
export function workAfterAnswer(app: FastifyInstance) {
  const inFlight = new Set<Promise<void>>();
  app.addHook('onClose', async () => {
    await Promise.allSettled([...inFlight]);
  });
  return (request: FastifyRequest, reply: FastifyReply, work: () => Promise<void>) => {
    const done = new Promise<void>((resolve) => {
      // Sent, or the client went away: either way the answer no longer waits for the work.
      finished(reply.raw, () => {
        work()
          .catch((error: unknown) => request.log.error({ err: error }, 'work after the answer failed'))
          .finally(resolve);
      });
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
}
