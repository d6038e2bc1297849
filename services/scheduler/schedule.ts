import { Cron } from 'croner';
import type { Logger } from '../../platform/logger.ts';

export type ScheduleOptions = {
  /** RATES_SCHEDULE, e.g. "0 17 * * *" (5 fields; a 6th leading field counts seconds). */
  cron: string;
  run: () => Promise<unknown>;
  logger: Logger;
};

/**
 * Call `run` on the cron schedule, one run at a time (a tick while a run is busy is skipped). A failed run
 * is logged and the schedule goes on. The returned stop ends the schedule and waits for a busy run.
 */
export function startSchedule({ cron, run, logger }: ScheduleOptions): () => Promise<void> {
  let busy: Promise<void> = Promise.resolve();
  const runLogged = async () => {
    try {
      await run();
    } catch (error) {
      logger.error(
        { err: error, cron },
        `scheduled rates run failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  const job = new Cron(
    cron,
    { protect: () => logger.warn({ cron }, 'previous rates run still busy: skipping this tick') },
    () => {
      busy = runLogged();
      return busy;
    },
  );
  logger.info({ cron, nextRun: job.nextRun()?.toISOString() }, 'rates schedule started');
  return async () => {
    job.stop();
    await busy;
  };
}
