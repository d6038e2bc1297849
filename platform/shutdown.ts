import closeWithGrace from 'close-with-grace';
import type { Logger } from './logger.ts';

export type Closer = () => Promise<unknown>;

/** Close everything in reverse order of opening on SIGTERM/SIGINT, within a deadline. */
export function closeOnSignal(logger: Logger, closers: Closer[], delayMs = 10_000): void {
  closeWithGrace({ delay: delayMs }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down');
    for (const close of [...closers].reverse()) {
      await close().catch((error: unknown) => logger.warn({ err: error }, 'error while closing'));
    }
  });
}
