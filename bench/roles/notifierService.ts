// daily-run: one notifier instance as `cra start notifier` runs it (startNotifier: the durable consumer shared by every
// instance, pooled nodemailer to the SMTP server), in its own process.
import { createMailer, type Mailer } from '../../platform/mailer.ts';
import { linkSecret } from '../../platform/tokens.ts';
import type { RunOutcome } from '../../services/notifier/digests.ts';
import { startNotifier } from '../../services/notifier/main.ts';
import { benchLogger, connect, type Connected, type Place } from '../lib/world.ts';
import { MAIL_FROM, PUBLIC_URL } from './digestMailers.ts';

let connected: Connected | undefined;
let mailer: Mailer | undefined;
let notifier: ReturnType<typeof startNotifier> | undefined;
let notified: { seq: number; outcome: Omit<RunOutcome, 'parked'> & { parked: number } }[] = [];

export async function start(place: Place, smtpUrl: string, rootSecret: string, instanceId: string): Promise<void> {
  connected = await connect(place, `bench-${instanceId}`);
  const { store, ns, pool, personal } = connected;
  mailer = createMailer({ smtpUrl, from: MAIL_FROM });
  notifier = startNotifier({
    nc: connected.nc,
    store,
    personal,
    ns,
    pool,
    schema: place.schema,
    mailer,
    linkSecret: linkSecret(rootSecret),
    publicUrl: PUBLIC_URL,
    mailFrom: MAIL_FROM,
    logger: benchLogger(),
    instanceId,
    hooks: {
      onRun: (seq, { parked, ...outcome }) => notified.push({ seq, outcome: { ...outcome, parked: parked.length } }),
    },
  });
}

/** The runs this instance worked on since the last call (a run looked at again after a wait is there twice). */
export function runs(): typeof notified {
  const out = notified;
  notified = [];
  return out;
}

export async function stop(): Promise<void> {
  await notifier?.stop();
  mailer?.close();
  await connected?.close();
}
