import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { Username, userIdFor } from '../events/index.ts';
import { findInfrastructure, NotRunningError } from './runtime.ts';
import { openConnections } from './connect.ts';
import { printEvents } from './events.ts';
import { startCommand } from './start.ts';
import { replayCommand } from './replay.ts';
import { fetchRatesCommand } from './fetchRates.ts';
import { eraseCommand } from './erase.ts';
import { copyLogCommand } from './copyLog.ts';

const usage = `usage: cra <command>
  start [web command projector notifier scheduler]   run the services (all when none is named)
  fetch-rates                                         fetch rates now and append RatesFetched
  replay [--verify]                                   rebuild the read models from the log (--verify: compare only)
  events [--user NAME] [--since SEQ]                  print the log, decoded
  erase --user NAME                                   erase an account and everything of it (no undo)
  copy-log --from STREAM                              copy a log written before sealing into CRA_NAMESPACE's new stream`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'cra' });
  switch (command) {
    case 'start':
      return startCommand(config, rest, logger);
    case 'fetch-rates':
      return fetchRatesCommand(config, logger);
    case 'replay': {
      const { values } = parseArgs({ args: rest, options: { verify: { type: 'boolean', default: false } } });
      return replayCommand(config, logger, { verify: values.verify ?? false });
    }
    case 'events': {
      const { values } = parseArgs({
        args: rest,
        options: { user: { type: 'string' }, since: { type: 'string', default: '1' } },
      });
      const since = Number(values.since);
      if (!Number.isInteger(since) || since < 1) throw new UsageError('--since takes a sequence number from 1');
      const conn = await openConnections(config, await findInfrastructure(config), logger, 'cra-events');
      try {
        const userId = values.user ? userIdFor(values.user, conn.personal.userIdKey) : undefined;
        await printEvents(conn.store, conn.personal, {
          since,
          ...(userId ? { userId } : {}),
          out: (line) => process.stdout.write(`${line}\n`),
        });
      } finally {
        await conn.close();
      }
      return 0;
    }
    case 'erase': {
      const { values } = parseArgs({ args: rest, options: { user: { type: 'string' } } });
      if (values.user === undefined) throw new UsageError('erase takes --user NAME');
      const username = Username.safeParse(values.user);
      if (!username.success)
        throw new UsageError(`--user "${values.user}" is not a username: ${username.error.issues[0]!.message}`);
      return eraseCommand(config, logger, username.data);
    }
    case 'copy-log': {
      const { values } = parseArgs({ args: rest, options: { from: { type: 'string' } } });
      if (values.from === undefined)
        throw new UsageError('copy-log takes --from STREAM (the old stream, e.g. CRA_EVENTS)');
      return copyLogCommand(config, logger, values.from);
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof NotRunningError) {
      process.stderr.write(`cra: ${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof UsageError) {
      process.stderr.write(`cra: ${error.message}\n${usage}\n`);
      process.exit(2);
    }
    process.stderr.write(`cra: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
