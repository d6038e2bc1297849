import { userIdFor } from '../events/index.ts';
import { commandClient } from '../platform/commandClient.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { waitForProjection } from '../platform/projectionWait.ts';
import { openConnections } from './connect.ts';
import { findInfrastructure } from './runtime.ts';

/**
 * `cra erase --user NAME`: an operator erases an account, pending or registered, without its password. The running
 * command service decides it (EraseAccount → AccountErased), as it does the owner's own deletion; the projector drops
 * the account's rows and the notifier sends the confirmation to the address it had. Exit 0 once erased, 1 otherwise.
 */
export async function eraseCommand(config: Config, logger: Logger, username: string): Promise<number> {
  const conn = await openConnections(config, await findInfrastructure(config), logger, 'cra-erase');
  try {
    const reply = await commandClient(conn.nc, conn.ns)('EraseAccount', {
      userId: userIdFor(username, conn.personal.userIdKey),
    });
    if (!reply.ok) {
      process.stderr.write(
        reply.error === 'NOT_FOUND'
          ? `cra: no account named "${username}": nothing was erased\n`
          : `cra: erasing "${username}" failed: ${reply.message}\n`,
      );
      return 1;
    }
    const projected = await waitForProjection(conn.pool, conn.schema, reply.seq, 10_000);
    process.stdout.write(
      `erased ${username}: AccountErased at sequence ${reply.seq}; ${
        projected
          ? 'no read model holds a row of it any more'
          : 'the read models drop its rows once the projector reaches that sequence'
      }; the confirmation email goes to the address it had\n`,
    );
    return 0;
  } finally {
    await conn.close();
  }
}
