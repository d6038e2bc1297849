import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type EmbeddedNats } from '../../../platform/embedded.ts';
import { onExit } from './cleanup.ts';

/**
 * The embedded `nats-server -js` (its own store, a free loopback port, a password) in a directory of its own, which
 * the test may stop and start again: JetStream recovers its streams from disk.
 */
export type PrivateNats = EmbeddedNats & { destroy: () => Promise<void> };

/** `maxPayload`: the largest message the server takes (bytes; its default is 1 MB). */
export async function startPrivateNats(options: { maxPayload?: number } = {}): Promise<PrivateNats> {
  const dir = mkdtempSync(join(tmpdir(), 'cra-fault-nats-'));
  const forget = onExit(() => {
    try {
      process.kill(Number(readFileSync(join(dir, 'nats-server.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const nats = await startNatsServer(dir, undefined, undefined, options);
  return {
    ...nats,
    destroy: async () => {
      forget();
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
