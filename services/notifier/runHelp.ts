import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { subjects, type Namespace } from '../../events/index.ts';
import type { Logger } from '../../platform/logger.ts';

/** What an instance announces when it takes a run from the log: the run, and who took it. */
const RunTaken = z.object({ seq: z.number().int().positive(), asOf: z.string().min(1).max(64), by: z.string().min(1) });
export type RunTaken = z.infer<typeof RunTaken>;

/**
 * A run's message goes to one instance of the durable consumer; a day's run is thousands of digests, so that instance
 * says so on a core NATS subject and every other instance helps from the other end of the run (digests.ts
 * `helping`). The announcement is best-effort: lost, the taker simply sends every digest itself.
 */
export function announceRunTaken(nc: NatsConnection, ns: Namespace, run: RunTaken): void {
  nc.publish(subjects.runsTaken(ns), JSON.stringify(run));
}

/** Help with every run another instance announces, one run at a time per run, never our own. */
export function helpWithRunsTaken(
  nc: NatsConnection,
  ns: Namespace,
  me: string,
  help: (run: { seq: number; asOf: string }) => Promise<void>,
  logger: Logger,
): { stop: () => Promise<void> } {
  const helping = new Map<number, Promise<void>>();
  const subscription: Subscription = nc.subscribe(subjects.runsTaken(ns), {
    callback: (error, msg) => {
      if (error) return;
      const notice = RunTaken.safeParse(
        (() => {
          try {
            return msg.json();
          } catch {
            return undefined;
          }
        })(),
      );
      if (!notice.success) {
        logger.warn(
          { subject: msg.subject, reason: notice.error.message },
          'ignored an announcement of a run it cannot read',
        );
        return;
      }
      const { seq, asOf, by } = notice.data;
      if (by === me || helping.has(seq)) return;
      helping.set(
        seq,
        help({ seq, asOf })
          .catch((err: unknown) => logger.warn({ err, seq }, 'stopped helping with a run; its taker sends the rest'))
          .finally(() => helping.delete(seq)),
      );
    },
  });
  return {
    stop: async () => {
      subscription.unsubscribe();
      await Promise.all(helping.values());
    },
  };
}
