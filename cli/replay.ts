import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { rebuildReadModels, verifyReadModels } from '../services/projector/rebuild.ts';
import { openConnections } from './connect.ts';
import { findInfrastructure } from './runtime.ts';

function progressBar(label: string) {
  let lastDraw = 0;
  return (applied: number, total: number) => {
    const now = Date.now();
    if (now - lastDraw < 200 && applied < total) return;
    lastDraw = now;
    const share = total === 0 ? 1 : applied / total;
    const filled = Math.round(share * 30);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${applied}/${total}`);
    if (applied >= total) process.stderr.write('\n');
  };
}

/** `cra replay [--verify]`: rebuild the read models from the log, or rebuild beside them and compare. */
export async function replayCommand(config: Config, logger: Logger, options: { verify: boolean }): Promise<number> {
  const conn = await openConnections(config, await findInfrastructure(config), logger, 'cra-replay');
  try {
    if (options.verify) {
      const { seq, differences } = await verifyReadModels({ ...conn, logger, onProgress: progressBar('verify') });
      if (differences.length === 0) {
        process.stdout.write(`read models match a replay of the log up to sequence ${seq}\n`);
        return 0;
      }
      for (const d of differences) {
        process.stdout.write(
          `DIFFERENT ${d.table}: ${d.onlyInLive} row(s) only in the live read model, ${d.onlyInRebuilt} only in the replay; e.g. ${JSON.stringify(d.sample[0])}\n`,
        );
      }
      return 1;
    }
    const seq = await rebuildReadModels({ ...conn, logger, onProgress: progressBar('replay') });
    process.stdout.write(`read models rebuilt from the log up to sequence ${seq}\n`);
    return 0;
  } finally {
    await conn.close();
  }
}
