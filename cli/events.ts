import { decodeEvents, EventDecodeError } from '../events/index.ts';
import type { EventStore } from '../platform/eventStore/index.ts';
import { revealedData, type PersonalData } from '../platform/personalData/index.ts';

const userIdOf = (data: object): string | undefined =>
  'userId' in data && typeof data.userId === 'string' ? data.userId : undefined;

/**
 * `cra events`: the log, decoded, one line per event, personal fields opened with their person's key (an erased
 * person's read as erased); parked (unreadable) messages are shown as such.
 */
export async function printEvents(
  store: EventStore,
  personal: PersonalData,
  options: { since: number; userId?: string; out: (line: string) => void },
): Promise<number> {
  let printed = 0;
  for await (const raw of store.read({ fromSeq: options.since })) {
    let decoded;
    try {
      decoded = decodeEvents(raw.headers, raw.body);
    } catch (error) {
      if (!(error instanceof EventDecodeError)) throw error;
      if (!options.userId) options.out(`${raw.seq}\t-\tPARKED\t${raw.subject}\t${error.message}`);
      continue;
    }
    for (const e of decoded.events) {
      if (options.userId && userIdOf(e.data) !== options.userId) continue;
      // Secrets stay out: hashes, nonces, and a channel's signing secret (shown to its owner once, when it was made).
      const { passwordHash: _p, tokenHash: _t, tokenNonce: _n, secret: _s, ...shown } = await revealedData(personal, e);
      options.out(`${raw.seq}\t${decoded.meta.occurredAt}\t${e.type}\t${raw.subject}\t${JSON.stringify(shown)}`);
      printed++;
    }
  }
  return printed;
}
