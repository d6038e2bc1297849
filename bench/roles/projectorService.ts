// The projector in its own process: as `cra replay` runs a rebuild, or following the log as `cra start projector` does.
import { startProjector } from '../../services/projector/main.ts';
import { rebuildReadModels } from '../../services/projector/rebuild.ts';
import { readCheckpoint } from '../../services/projector/projector.ts';
import { tablesIn } from '../../platform/postgres.ts';
import { benchLogger, connect, type Connected, type Place } from '../lib/world.ts';

let connected: Connected | undefined;
let following: ReturnType<typeof startProjector> | undefined;

export async function start(place: Place): Promise<void> {
  connected = await connect(place, 'bench-projector');
}

/** A full rebuild of every read model from sequence 1 (new schema, replay, swap); ms taken and what it produced. */
export async function rebuild(
  place: Place,
): Promise<{ ms: number; untilSeq: number; checkpoint: number; counts: Record<string, number> }> {
  const { store, pool } = connected!;
  const started = performance.now();
  const untilSeq = await rebuildReadModels({ store, pool, schema: place.schema, logger: benchLogger() });
  const ms = performance.now() - started;
  const t = tablesIn(place.schema);
  const counts: Record<string, number> = {};
  for (const [name, sql] of Object.entries({
    registered: `SELECT count(*)::int AS n FROM ${t('users')} WHERE status = 'registered'`,
    alerts: `SELECT count(*)::int AS n FROM ${t('alerts')}`,
    deletedAlerts: `SELECT count(*)::int AS n FROM ${t('alerts')} WHERE deleted_seq IS NOT NULL`,
    sessions: `SELECT count(*)::int AS n FROM ${t('sessions')}`,
    closedSessions: `SELECT count(*)::int AS n FROM ${t('sessions')} WHERE closed_at IS NOT NULL`,
    runs: `SELECT count(*)::int AS n FROM ${t('rate_runs')}`,
    triggers: `SELECT count(*)::int AS n FROM ${t('alert_triggers')}`,
    emails: `SELECT count(*)::int AS n FROM ${t('emails_sent')}`,
    parked: `SELECT count(*)::int AS n FROM ${t('parked_events')}`,
  })) {
    counts[name] = (await pool.query<{ n: number }>(sql)).rows[0]!.n;
  }
  return { ms, untilSeq, checkpoint: await readCheckpoint(pool, place.schema), counts };
}

/** Follow the log into the read models from their checkpoint until stopped, as the projector service does. */
export function follow(place: Place): void {
  const { store, pool } = connected!;
  following = startProjector({ store, pool, schema: place.schema, logger: benchLogger() });
}

export async function stop(): Promise<void> {
  await following?.stop();
  await connected?.close();
}
